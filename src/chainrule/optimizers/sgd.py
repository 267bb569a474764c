"""Stochastic gradient descent, with momentum and Nesterov's look-ahead."""

from __future__ import annotations

from collections.abc import Callable

from ..backend import Array, axpby, get_array_module
from ..checks import in_unit_interval, is_bool
from ..errors import HyperparameterError
from ..layers.layer import Layer
from .optimizer import Optimizer, Vectors


class SGD(Optimizer):
    r"""θ ← θ − η g, with optional momentum (Polyak 1964) and Nesterov momentum.

    With g = ∂L/∂θ + λθ (λ = ``weight_decay``, weights only), μ = ``momentum``, η = lr::

        v ← μ v + g                   (velocity, v₀ = 0)
        θ ← θ − η v                   classical momentum
        θ ← θ − η (g + μ v)           Nesterov

    This is PyTorch's formulation (η outside the velocity); with μ = 0 it is plain SGD.

    Examples
    --------
    >>> import chainrule as cr
    >>> model = cr.Sequential(cr.Linear(2, 1), seed=0)
    >>> opt = cr.SGD(model, lr=0.1, momentum=0.9, nesterov=True)
    """

    def __init__(self, model: Layer, lr: float = 0.01, *, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, schedule: Callable[[int], float] | None = None) -> None:
        super().__init__(model, lr, weight_decay=weight_decay, schedule=schedule)
        self._momentum = in_unit_interval(momentum, "momentum")
        self.nesterov = nesterov  # checked by its setter
        if self.momentum:
            self.state["velocity"] = get_array_module(self._work).zeros_like(self._work)

    @property
    def momentum(self) -> float:
        """μ. It may be changed between steps to another value in (0, 1), but not turned on
        or off (the velocity is kept only with momentum): HyperparameterError naming momentum."""
        return self._momentum

    @momentum.setter
    def momentum(self, value) -> None:
        value = in_unit_interval(value, "momentum")
        if bool(value) != bool(self._momentum):
            raise HyperparameterError(f"momentum: cannot be turned {'on' if value else 'off'} after construction "
                                      f"(it was {self._momentum}; the velocity exists only with momentum); "
                                      f"make a new SGD")
        self._momentum = value

    @property
    def nesterov(self) -> bool:
        """Whether the step is Nesterov's look-ahead. It may be changed between steps while
        momentum > 0; turning it on without momentum raises HyperparameterError naming nesterov."""
        return self._nesterov

    @nesterov.setter
    def nesterov(self, value) -> None:
        if not is_bool(value):  # "no" or 1 would pass an if silently
            raise HyperparameterError(f"nesterov: expected True or False, got {value!r}")
        if value and not self._momentum:
            raise HyperparameterError("nesterov: Nesterov momentum needs momentum > 0")
        self._nesterov = bool(value)

    def rule(self, theta: Array, grad: Array, lr: float, vectors: Vectors) -> tuple[float, Array]:
        # Reads the private attributes: the properties would add a call each, at every step.
        momentum = self._momentum
        g = self.regularized(theta, grad, vectors)
        if not momentum:
            return lr, g  # Δθ = η g
        v, work = vectors.state["velocity"], vectors.work
        axpby(1.0, g, momentum, v)  # v ← μ v + g
        if not self._nesterov:
            return lr, v  # Δθ = η v
        get_array_module(v).multiply(v, momentum, out=work)  # μ v
        work += g  # g + μ v
        return lr, work  # Δθ = η (g + μ v)

    def __repr__(self) -> str:
        return self.described(momentum=self.momentum, nesterov=self.nesterov)
