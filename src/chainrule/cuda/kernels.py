"""Fused CUDA kernels for the GPU training step: one pass over the flat buffer where NumPy takes several.

On the CPU an optimizer step is a handful of vectorized passes over θ (chainrule.optimizers);
on a GPU each pass is a kernel launch, and a small network's step is bound by launches, not
arithmetic. These kernels do the same arithmetic in one launch each, element by element:

- ``guard``: the divergence guard. Reads the batch loss L and Σg² and, while no step has
  diverged, counts the step as applied; once L or Σg² is not finite it sets the sticky
  ``status[0]`` and every later update is skipped, so θ keeps its last finite values
  without the host having to look (the loop reads ``status`` once an epoch).
- ``sgd`` / ``sgd_momentum``: g = ∂L/∂θ + λθ;  v ← μv + g;  θ ← θ − η v  (or η(g + μv), Nesterov).
- ``adam``: g as above (AdamW: g = ∂L/∂θ and θ ← θ − ηλθ);  m ← β₁m + (1−β₁)g;
  v ← β₂v + (1−β₂)g²;  θ ← θ − η/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + ε).
- ``apply_step``: θ ← θ − scale · direction for an optimizer without a fused kernel (RMSProp).

The learning rate η and the step count t are read from a device vector ``hyper`` = [η, t]
written before each step, not baked into the launch, so a captured CUDA graph replays with
the current schedule. The kernels compute the NumPy code's formulas (the CPU's BLAS calls and
AdamW's decay may group a product differently), so results agree with the CPU to rounding
(tests/gpu checks a relative 1e-12 in float64).

CuPy is reached through chainrule.backend; the kernels are compiled at their first use.
"""

from __future__ import annotations

import functools

from ..backend import module_for
from ..optimizers import SGD, Adam


@functools.cache
def _compiled() -> dict:
    cupy = module_for("cuda")
    elementwise = cupy.ElementwiseKernel
    return {
        "hyper": elementwise(
            "float64 lr, float64 t", "float64 hyper",
            "hyper = (i == 0) ? lr : t;",
            "chainrule_hyper"),
        "sum_of_squares": cupy.ReductionKernel(
            "T x", "T total", "x * x", "a + b", "total = a", "0",
            "chainrule_sum_of_squares"),
        "guard": elementwise(
            "float64 loss, T squares", "raw int64 status",
            """
            if (status[0] == 0) {
                if (isfinite(loss) && isfinite((double)squares)) status[1] += 1;  // applied
                else status[0] = 1;                                             // diverged: stop
            }
            """,
            "chainrule_guard"),
        "sgd": elementwise(
            "T grad, T decay, raw float64 hyper, raw int64 status", "T theta",
            """
            if (status[0] == 0) {
                T g = grad + decay * theta;
                theta = theta - (T)hyper[0] * g;
            }
            """,
            "chainrule_sgd"),
        "sgd_momentum": elementwise(
            "T grad, T decay, raw float64 hyper, raw int64 status, T mu, bool nesterov", "T theta, T v",
            """
            if (status[0] == 0) {
                T g = grad + decay * theta;
                v = mu * v + g;
                T direction = nesterov ? g + mu * v : v;
                theta = theta - (T)hyper[0] * direction;
            }
            """,
            "chainrule_sgd_momentum"),
        "adam": elementwise(
            "T grad, T decay, raw float64 hyper, raw int64 status, float64 beta1, float64 beta2, "
            "float64 eps, bool decoupled",
            "T theta, T m, T v",
            """
            if (status[0] == 0) {
                double lr = hyper[0], t = hyper[1];
                T g = decoupled ? grad : grad + decay * theta;
                m = (T)beta1 * m + (T)(1.0 - beta1) * g;
                T scaled = g * (T)sqrt(1.0 - beta2);  // √(1 − β₂) g, scaled before squaring as on the CPU
                v = (T)beta2 * v + scaled * scaled;
                T root = sqrt(v) * (T)(1.0 / sqrt(1.0 - pow(beta2, t))) + (T)eps;  // √v̂ + ε
                T step = m / root * (T)(lr / (1.0 - pow(beta1, t)));                // η m̂ / (√v̂ + ε)
                if (decoupled) step += theta * decay * (T)lr;                       // + ηλθ (AdamW)
                theta = theta - step;
            }
            """,
            "chainrule_adam"),
        "apply_step": elementwise(
            "T direction, float64 scale, raw int64 status", "T theta",
            "if (status[0] == 0) theta = theta - (T)scale * direction;",
            "chainrule_apply_step"),
    }


def set_hyper(hyper, lr: float, t: int) -> None:
    """Write [η, t] into the device vector ``hyper`` (one launch; no transfer)."""
    _compiled()["hyper"](float(lr), float(t), hyper)


def sum_of_squares(x):
    """Σ x² as a 0-d array on the device, in x's dtype (so it overflows where the CPU's dot does)."""
    return _compiled()["sum_of_squares"](x)


def guard(loss, squares, status) -> None:
    """Count the step as applied in ``status[1]``, or set ``status[0]`` if L or Σg² is not finite."""
    _compiled()["guard"](loss, squares, status)


def fused_update(optimizer):
    """``update(flat, hyper, status)`` doing ``optimizer``'s step in one kernel, or None if it has none."""
    kernels = _compiled()
    state = optimizer.state
    if isinstance(optimizer, Adam):
        def update(flat, hyper, status):
            kernels["adam"](flat.grad, optimizer._decay, hyper, status, optimizer.beta1, optimizer.beta2,
                            optimizer.eps, optimizer.decoupled, flat.theta, state["m"], state["v"])
        return update
    if isinstance(optimizer, SGD) and optimizer.momentum:
        def update(flat, hyper, status):
            kernels["sgd_momentum"](flat.grad, optimizer._decay, hyper, status, optimizer.momentum,
                                    optimizer.nesterov, flat.theta, state["velocity"])
        return update
    if isinstance(optimizer, SGD):
        def update(flat, hyper, status):
            kernels["sgd"](flat.grad, optimizer._decay, hyper, status, flat.theta)
        return update
    return None


def apply_step(scale: float, direction, status, theta) -> None:
    """θ ← θ − scale · direction unless a step has diverged (for optimizers without a fused kernel)."""
    _compiled()["apply_step"](direction, float(scale), status, theta)
