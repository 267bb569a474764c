"""Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy

from ..backend import Array, axpby, axpy, get_array_module, underflow_allowed
from ..checks import in_unit_interval
from ..errors import HyperparameterError, quoted
from ..layers.layer import Layer
from .epsilon import WithEpsilon, smallest_epsilon
from .optimizer import Optimizer, Vectors


class Adam(WithEpsilon, Optimizer):
    r"""Adaptive moment estimation.

    With g = ∂L/∂θ (+ λθ on the weights when ``weight_decay`` > 0), at step t = 1, 2, ...::

        m ← β₁ m + (1 − β₁) g             first moment (mean of g)
        v ← β₂ v + (1 − β₂) g²            second moment (uncentred variance of g)
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)   bias correction (m₀ = v₀ = 0)
        θ ← θ − η m̂ / (√v̂ + ε)

    ``eps_added_to`` names where ε goes: "sqrt_v_hat" (the default) adds it to the bias-corrected
    √v̂, as above, as PyTorch does; "sqrt_v" adds it to √v, the uncorrected second moment, as
    scikit-learn's ``AdamOptimizer`` and TensorFlow/Keras do (Kingma and Ba's "ε̂", the form they
    give just before their section 2.1)::

        θ ← θ − η_t m / (√v + ε),   η_t = η √(1 − β₂ᵗ) / (1 − β₁ᵗ)
          = θ − η m̂ / (√v̂ + ε / √(1 − β₂ᵗ))

    So "sqrt_v" is "sqrt_v_hat" with ε replaced by ε / √(1 − β₂ᵗ): about 32 ε at the first step
    (β₂ = 0.999), tending to ε as t grows; the two differ only where √v̂ is near ε (saturated
    units, unscaled inputs). chainrule's scikit-learn estimators use "sqrt_v", so that they step as
    scikit-learn's MLP. It is fixed when the optimizer is made (the GPU's fused step is compiled
    for one form); ``repr`` shows it when it is "sqrt_v".

    t is each parameter's own count of steps, as in PyTorch: the optimizer's step count less the
    steps the parameter missed while its layer was frozen (``missed``), so the bias correction
    starts afresh for a layer first trained after some steps. A schedule reads the optimizer's
    step count.

    ε (``eps``) must be at least the smallest normal number of the model's dtype (1.2e-38 in
    float32), else HyperparameterError: a smaller ε rounds to 0 there and 0 / 0 makes NaN. The step
    folds both bias corrections into its scale, η √(1 − β₂ᵗ) / (1 − β₁ᵗ) · m / (√v + ε √(1 − β₂ᵗ)), one
    pass over θ fewer; for an ε so near that smallest number that ε √(1 − β₂ᵗ) is subnormal, it forms
    √v̂ + ε as written, so the step is the rule's (and PyTorch's) for every ε accepted.

    (1 − β₂) g² is computed as (√(1 − β₂) g)², scaled before squaring as PyTorch scales it, so
    that it is finite for |g| up to √(max / (1 − β₂)), max the dtype's largest value: 5.8e20 in
    float32 with β₂ = 0.999 (g · g alone would overflow from 1.8e19). Beyond that, as in
    PyTorch, v becomes inf for that element and stays inf, so its steps m̂ / (√v̂ + ε) are 0 from
    then on while the other elements train; the step is finite, so ``step(check_finite=True)``
    does not refuse it (telling would cost a pass over v at every step). A gradient that is
    itself NaN or inf makes the step NaN, which it refuses.

    Reference: D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    """

    decoupled = False  # AdamW decays θ directly instead of adding λθ to g
    counts_steps = True  # the bias correction reads each parameter's own step count
    #: where ε goes (see the class docstring); the class's value for an Adam pickled before the option existed
    _eps_added_to = "sqrt_v_hat"

    def __init__(self, model: Layer, lr: float = 1e-3, *, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.0,
                 schedule: Callable[[int], float] | None = None, eps_added_to: str = "sqrt_v_hat") -> None:
        super().__init__(model, lr, weight_decay=weight_decay, schedule=schedule)
        self.beta1 = beta1  # each checked by its setter
        self.beta2 = beta2
        self.eps = eps
        self._eps_added_to = eps_form(eps_added_to)
        xp = get_array_module(self._work)
        self.state["m"] = xp.zeros_like(self._work)
        self.state["v"] = xp.zeros_like(self._work)

    # β₁, β₂ and ε may be changed between steps (see Optimizer). The step reads the private
    # attributes, so that it does no more work than before they were properties.

    @property
    def beta1(self) -> float:
        """β₁, the decay of the first moment, in [0, 1); a new value outside raises
        HyperparameterError naming beta1 and leaves it as it was."""
        return self._beta1

    @beta1.setter
    def beta1(self, value) -> None:
        self._beta1 = in_unit_interval(value, "beta1")

    @property
    def beta2(self) -> float:
        """β₂, the decay of the second moment, in [0, 1); a new value outside raises
        HyperparameterError naming beta2 and leaves it as it was."""
        return self._beta2

    @beta2.setter
    def beta2(self, value) -> None:
        self._beta2 = in_unit_interval(value, "beta2")

    @property
    def eps_added_to(self) -> str:
        """Where ε goes: "sqrt_v_hat" (√v̂ + ε, PyTorch's) or "sqrt_v" (√v + ε, scikit-learn's and
        TensorFlow's); fixed when the optimizer is made: setting another raises HyperparameterError
        (the GPU's fused step, captured into a CUDA graph, would not see it)."""
        return self._eps_added_to

    @eps_added_to.setter
    def eps_added_to(self, value) -> None:
        if eps_form(value) == self._eps_added_to:  # the form it has: nothing changes
            return
        raise HyperparameterError(f"eps_added_to: fixed when {type(self).__name__} is made (now "
                                  f"{self._eps_added_to!r}); make a new {type(self).__name__}(model, ..., "
                                  f"eps_added_to={quoted(value)}) and load this one's state_dict() into it")

    def rule(self, theta: Array, grad: Array, lr: float, vectors: Vectors) -> tuple[float, Array]:
        """m ← β₁ m + (1 − β₁) g, v ← β₂ v + (1 − β₂) g², Δθ = η m̂ / (√v̂ + ε) with m̂ = m / (1 − β₁ᵗ) and
        v̂ = v / (1 − β₂ᵗ) (with ``eps_added_to="sqrt_v"``, Δθ = η √(1 − β₂ᵗ) / (1 − β₁ᵗ) · m / (√v + ε)); g holds
        λθ for Adam, while AdamW adds η λθ to Δθ instead."""
        xp = get_array_module(theta)
        work, work2 = vectors.work, vectors.work2
        beta1, beta2 = self._beta1, self._beta2
        t = vectors.t  # these parameters' own step count, this step included
        g = grad if self.decoupled else self.regularized(theta, grad, vectors)  # g (+ λθ for Adam)
        m, v = vectors.state["m"], vectors.state["v"]
        axpby(1 - beta1, g, beta1, m, work=work)  # m ← β₁ m + (1 − β₁) g
        # A product or quotient that underflows is its right value: no error under a caller's
        # numpy.seterr(all="raise") (backend.underflow_allowed), nor a numpy.errstate at every step.
        # √(1 − β₂) g, scaled before squaring, as PyTorch does
        underflow_allowed(xp.multiply, g, math.sqrt(1 - beta2), work)
        with numpy.errstate(over="ignore", under="ignore"):  # beyond, v is inf and that element's step 0
            xp.square(work, out=work)  # (1 − β₂) g², finite for |g| ≤ √(max / (1 − β₂)) (5.8e20 in float32)
        axpby(1, work, beta2, v, work=work)  # v ← β₂ v + (1 − β₂) g²
        correction1 = 1 - beta1**t  # 1 − β₁ᵗ, the bias correction of m
        root2 = math.sqrt(1 - beta2**t)  # √(1 − β₂ᵗ), that of √v
        # m̂ / (√v̂ + ε) = m / (√v + ε √(1 − β₂ᵗ)) · √(1 − β₂ᵗ) / (1 − β₁ᵗ): both corrections go into the
        # scale, sparing a pass over θ. Where ε √(1 − β₂ᵗ) is subnormal (ε below 1/√(1 − β₂ᵗ) times the
        # dtype's smallest normal number, see .epsilon), which some hardware flushes to 0 (0 / 0 = NaN for
        # a zero gradient), √v̂ + ε is formed as written instead, one pass more: the same step.
        # With ε on √v (eps_added_to="sqrt_v"), m / (√v + ε) · √(1 − β₂ᵗ) / (1 − β₁ᵗ) is the rule as written.
        on_v = self._eps_added_to == "sqrt_v"
        eps = self._eps if on_v else self._eps * root2  # ε, or ε √(1 − β₂ᵗ)
        fold = root2  # √(1 − β₂ᵗ), carried by the scale (1 where √v̂ is formed below)
        xp.sqrt(v, out=work)  # √v
        if not on_v and eps < smallest_epsilon(work.dtype):
            eps, fold = self._eps, 1.0
            work *= 1 / root2  # √v̂
        work += eps  # √v + ε √(1 − β₂ᵗ), √v̂ + ε, or √v + ε
        underflow_allowed(xp.divide, m, work, work)  # m / (√v + ε √(1 − β₂ᵗ)), m / (√v̂ + ε), or m / (√v + ε)
        if self.decoupled and self._weight_decay:
            underflow_allowed(xp.multiply, theta, vectors.decay, work2)  # λθ on the weights
            axpy(correction1 / fold, work2, work, work=work2)  # ... + λθ (1 − β₁ᵗ) / √(1 − β₂ᵗ), or (1 − β₁ᵗ)
        return lr * fold / correction1, work  # Δθ = η m̂ / (√v̂ + ε), or its sqrt_v form (+ η λ θ for AdamW)

    def __repr__(self) -> str:
        form = {} if self.eps_added_to == "sqrt_v_hat" else {"eps_added_to": self.eps_added_to}
        return self.described(beta1=self.beta1, beta2=self.beta2, eps=self.eps, **form)


#: Adam's ``eps_added_to`` values: where ε goes
EPS_FORMS = ("sqrt_v_hat", "sqrt_v")


def eps_form(value) -> str:
    """``value`` as Adam's ``eps_added_to``, one of :data:`EPS_FORMS`, else HyperparameterError naming it."""
    if not isinstance(value, str) or value not in EPS_FORMS:
        raise HyperparameterError(f"eps_added_to: expected one of {', '.join(map(repr, EPS_FORMS))} (ε added to √v̂, "
                                  f"PyTorch's, or to √v, scikit-learn's), got {quoted(value)}")
    return value


class AdamW(Adam):
    r"""Adam with decoupled weight decay: θ ← θ − η λ θ − η m̂ / (√v̂ + ε), m̂ and v̂ from ∂L/∂θ alone.

    Decaying θ directly, instead of adding λθ to g, keeps the decay from being rescaled by
    Adam's per-parameter step sizes (λ applies to the weights, not the biases).

    Reference: I. Loshchilov and F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
    """

    decoupled = True

    def __init__(self, model: Layer, lr: float = 1e-3, *, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.01,
                 schedule: Callable[[int], float] | None = None, eps_added_to: str = "sqrt_v_hat") -> None:
        super().__init__(model, lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                         schedule=schedule, eps_added_to=eps_added_to)
