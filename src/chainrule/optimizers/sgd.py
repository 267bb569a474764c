"""Stochastic gradient descent, with momentum and Nesterov's look-ahead."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy

from ..backend import Array, axpby, axpy, get_array_module, underflow_allowed
from ..checks import flag, in_unit_interval
from ..errors import HyperparameterError
from ..layers.layer import Layer
from .optimizer import Optimizer, Vectors


# Inside ``stepping`` the velocity is held as u = v / s with s >= RESCALE_BELOW: u is made v again
# (s = 1) before s · μ would fall below it, so that u and g / s are at most 100 times v and g
# (the plain velocity's range in float32 up to 3.4e36, not 3.4e38; a floor of 1e-6 left only
# 3.4e32). One pass of 106 µs over 535,818 float32 every 43 steps at μ = 0.9.
RESCALE_BELOW = 1e-2
# The least μ kept scaled: below it u would be made v again every few steps (every 6 at 0.5),
# and the velocity itself is stepped (a μ below RESCALE_BELOW could not be scaled at all).
SCALED_FROM = 0.5
# Methods that, overridden by a subclass or set on an instance, keep the velocity unscaled.
OWN_CODE = frozenset({"rule", "update", "step"})


class SGD(Optimizer):
    r"""θ ← θ − η g, with optional momentum (Polyak 1964) and Nesterov momentum.

    With g = ∂L/∂θ + λθ (λ = ``weight_decay``, weights only), μ = ``momentum``, η = lr::

        v ← μ v + g                   (velocity, v₀ = 0)
        θ ← θ − η v                   classical momentum
        θ ← θ − η (g + μ v)           Nesterov

    This is PyTorch's formulation (η outside the velocity); with μ = 0 it is plain SGD.

    Inside :meth:`stepping` (each epoch of ``fit``), classical momentum on the CPU keeps the
    velocity as u = v / s with s ← μ s at every step, so that v ← μ v + g is one threaded BLAS
    pass, u ← u + g / s, where ``axpby`` runs on one core; Δθ = η s u. ``state["velocity"]``
    holds v again when the context ends (and whenever ``state_dict``, ``to`` or a reset reads
    it), equal to the unscaled update up to float32 rounding (docs/cpu_speed.md). Nesterov,
    μ < 0.5 (``SCALED_FROM``) and a subclass that overrides ``rule``, ``update`` or ``step``
    (or an instance given its own) step the velocity v itself throughout.

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

    _scale = 1.0  # s: the velocity is s · state["velocity"] (1 outside ``stepping``)
    _scaling = False  # inside ``stepping``

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
        flag(value, "nesterov")
        if value and not self._momentum:
            raise HyperparameterError("nesterov: Nesterov momentum needs momentum > 0")
        self._nesterov = bool(value)

    def rule(self, theta: Array, grad: Array, lr: float, vectors: Vectors) -> tuple[float, Array]:
        """Δθ = η g; with momentum v ← μ v + g and Δθ = η v, or Δθ = η (g + μ v) for Nesterov."""
        # Reads the private attributes: the properties would add a call each, at every step.
        momentum = self._momentum
        g = self.regularized(theta, grad, vectors)
        if not momentum:
            return lr, g  # Δθ = η g
        v, work = vectors.state["velocity"], vectors.work
        if (self._scaling and not self._nesterov and momentum >= SCALED_FROM and vectors.state is self.state
                and type(v) is numpy.ndarray):
            return self._scaled_step(g, v, momentum, lr, work)  # all of θ at once, on the CPU
        self._unscale()  # a stretch (frozen layers), Nesterov or μ < SCALED_FROM: the velocity itself
        axpby(1.0, g, momentum, v)  # v ← μ v + g
        if not self._nesterov:
            return lr, v  # Δθ = η v
        underflow_allowed(get_array_module(v).multiply, v, momentum, work)  # μ v
        work += g  # g + μ v
        return lr, work  # Δθ = η (g + μ v)

    def _scaled_step(self, g: Array, u: Array, momentum: float, lr: float, work: Array) -> tuple[float, Array]:
        """v ← μ v + g with v = s u: s ← μ s, then u ← u + g / s, one axpy (threaded in
        OpenBLAS, where axpby is not: the optimizer's three BLAS calls took 223 µs against 443
        on 535,818 float32, 2 threads, Intel Xeon); Δθ = η v = (η s) u. s stays at least
        RESCALE_BELOW: u is first made v again (s = 1) when μ s would fall below it."""
        scale = self._scale * momentum
        if scale < RESCALE_BELOW:  # μ >= SCALED_FROM > RESCALE_BELOW here, so from s = 1 the new s is μ
            self._unscale()
            scale = momentum
        axpy(1.0 / scale, g, u, work=work)
        self.__dict__["_scale"] = scale  # without __setattr__'s check, as t
        return lr * scale, u

    def _unscale(self) -> None:
        """The velocity back to v = s u, s = 1 (nothing when s is 1)."""
        if self._scale != 1.0:
            velocity = self.state["velocity"]
            scale = velocity.dtype.type(self._scale)
            underflow_allowed(get_array_module(velocity).multiply, velocity, scale, velocity)  # s u
            self.__dict__["_scale"] = 1.0

    @contextlib.contextmanager
    def stepping(self):
        # A subclass's own rule, update or step (or one set on the instance) may read or change
        # the velocity or the direction: it gets v, never u.
        own_code = (type(self).rule is not SGD.rule or type(self).update is not Optimizer.update
                    or type(self).step is not Optimizer.step or not OWN_CODE.isdisjoint(vars(self)))
        self.__dict__["_scaling"] = not own_code
        try:
            yield
        finally:
            self.__dict__["_scaling"] = False
            self._unscale()

    def reset_state(self) -> None:
        self.__dict__["_scale"] = 1.0  # the velocity is zeroed: v = u = 0
        super().reset_state()

    def state_dict(self) -> dict:
        self._unscale()
        return super().state_dict()

    def load_state_dict(self, saved: dict) -> None:
        super().load_state_dict(saved)
        self.__dict__["_scale"] = 1.0  # the velocity is the one loaded

    def to(self, device: str) -> "SGD":
        self._unscale()
        return super().to(device)

    def __repr__(self) -> str:
        return self.described(momentum=self.momentum, nesterov=self.nesterov)
