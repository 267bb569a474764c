"""RMSProp (Tieleman & Hinton 2012): divide each step by a running RMS of the gradient."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy

from ..backend import Array, axpby, get_array_module, underflow_allowed
from ..checks import in_unit_interval
from ..layers.layer import Layer
from .epsilon import WithEpsilon
from .optimizer import Optimizer, Vectors


class RMSProp(WithEpsilon, Optimizer):
    r"""θ ← θ − η g / (√v + ε) with v a running mean of g².

    With g = ∂L/∂θ (+ λθ on the weights), ρ = ``rho``::

        v ← ρ v + (1 − ρ) g²            (v₀ = 0)
        θ ← θ − η g / (√v + ε)

    This is PyTorch's ``RMSprop`` (its ``alpha`` is our ρ) without momentum or centring. ε
    (``eps``) must be at least the smallest normal number of the model's dtype (1.2e-38 in
    float32), else HyperparameterError: a smaller ε rounds to 0 there and 0 / 0 makes NaN.

    (1 − ρ) g² is computed as (√(1 − ρ) g)², scaled before squaring as PyTorch scales it, so
    that it is finite for |g| up to √(max / (1 − ρ)), max the dtype's largest value: 1.8e20 in
    float32 with ρ = 0.99 (g · g alone would overflow from 1.8e19). Beyond that, as in PyTorch,
    v becomes inf for that element and stays inf, so its steps g / (√v + ε) are 0 from then on
    while the other elements train; the step is finite, so ``step(check_finite=True)`` does
    not refuse it (telling would cost a pass over v at every step). A gradient that is itself
    NaN or inf makes the step NaN, which it refuses.

    Reference: T. Tieleman and G. Hinton, Lecture 6.5 of "Neural Networks for Machine
    Learning", Coursera, 2012.
    """

    def __init__(self, model: Layer, lr: float = 1e-3, *, rho: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, schedule: Callable[[int], float] | None = None) -> None:
        super().__init__(model, lr, weight_decay=weight_decay, schedule=schedule)
        self.rho = rho  # each checked by its setter
        self.eps = eps
        self.state["v"] = get_array_module(self._work).zeros_like(self._work)

    # ρ and ε may be changed between steps (see Optimizer). The step reads the private
    # attributes, so that it does no more work than before they were properties.

    @property
    def rho(self) -> float:
        """ρ, the decay of the running mean of g², in [0, 1); a new value outside raises
        HyperparameterError naming rho and leaves it as it was."""
        return self._rho

    @rho.setter
    def rho(self, value) -> None:
        self._rho = in_unit_interval(value, "rho")

    def rule(self, theta: Array, grad: Array, lr: float, vectors: Vectors) -> tuple[float, Array]:
        """v ← ρ v + (1 − ρ) g², Δθ = η g / (√v + ε), with g = ∂L/∂θ (+ λθ on the weights)."""
        xp = get_array_module(theta)
        work = vectors.work
        g = self.regularized(theta, grad, vectors)  # g = ∂L/∂θ (+ λθ)
        v = vectors.state["v"]
        # A product or quotient that underflows is its right value: no error under a caller's
        # numpy.seterr(all="raise") (backend.underflow_allowed), nor a numpy.errstate at every step.
        # √(1 − ρ) g, scaled before squaring, as PyTorch does
        underflow_allowed(xp.multiply, g, math.sqrt(1 - self._rho), work)
        with numpy.errstate(over="ignore", under="ignore"):  # beyond, v is inf and that element's step 0
            xp.square(work, out=work)  # (1 − ρ) g², finite for |g| up to √(max / (1 − ρ)) (1.8e20 in float32)
        axpby(1, work, self._rho, v, work=work)  # v ← ρ v + (1 − ρ) g²
        xp.sqrt(v, out=work)  # √v
        work += self._eps  # √v + ε
        underflow_allowed(xp.divide, g, work, work)  # g / (√v + ε)
        return lr, work  # Δθ = η g / (√v + ε)

    def __repr__(self) -> str:
        return self.described(rho=self.rho, eps=self.eps)
