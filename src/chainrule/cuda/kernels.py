"""Fused CUDA kernels for the GPU training step: one pass over the flat buffer where NumPy takes several.

On the CPU an optimizer step is a handful of vectorized passes over θ (chainrule.optimizers);
on a GPU each pass is a kernel launch, and a small network's step is bound by launches, not
arithmetic. These kernels do the same arithmetic in one launch each, element by element:

- ``guard``: the divergence guard. Reads the batch loss L and Σg² and, while no step has
  diverged, counts the step as applied; once L (``status[0]`` = 1) or Σg² (2) is not finite
  it sets the sticky ``status[0]`` and every later update is skipped, so θ and the fused
  optimizers' state keep their last values without the host having to look (the loop reads
  ``status`` once an epoch).
- ``sgd`` / ``sgd_momentum``: g = ∂L/∂θ + λθ;  v ← μv + g;  θ ← θ − η v  (or η(g + μv), Nesterov).
- ``adam``: g as above (AdamW: g = ∂L/∂θ and θ ← θ − ηλθ);  m ← β₁m + (1−β₁)g;
  v ← β₂v + (1−β₂)g²;  θ ← θ − η/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + ε), with t the parameters'
  own step count (the optimizer's t less the steps they missed while frozen); with Adam's
  ``eps_added_to="sqrt_v"`` (the launch's bool ``eps_on_v``, fixed as the optimizer's form is),
  θ ← θ − η/(1−β₁ᵗ) · m / ((√v + ε) / √(1−β₂ᵗ)).
- ``rmsprop``: g as above;  v ← ρv + (1−ρ)g²;  θ ← θ − η g / (√v + ε).
- ``apply_step``: θ ← θ − scale · direction for an optimizer without a fused kernel (one of
  another class, or a subclass with its own ``rule``, ``update``, ``regularized`` or ``vectors``,
  or an optimizer given one on the instance).
- ``norm``: ‖g‖ of a layer's gradient for the gradient-flow record, squared and summed in
  float64 as ``chainrule.backend.norm`` records it on the CPU.

The scalars of a step are read from a device vector ``hyper`` = [η, t, s₁, s₂, s₃], written
before each step (:func:`set_hyper`), not baked into the launch: a captured CUDA graph replays
with the current schedule and with β₁, β₂, ε, ρ, μ and nesterov as they are now. (1 − β₂) g²
and (1 − ρ) g² are squares of √(1 − β₂) g and √(1 − ρ) g, as on the CPU.

A model with frozen layers, or an Adam whose parameters missed steps while frozen, is stepped
stretch by stretch (:meth:`chainrule.optimizers.Optimizer.stretches`): one launch per stretch
of trainable parameters with the same step count, frozen parameters and their state left alone.

The kernels compute the NumPy code's formulas (the CPU's BLAS calls and Adam's folded bias
corrections may group a product differently), so results agree with the CPU to rounding
(tests/gpu checks a relative 1e-12 in float64).

CuPy is reached through chainrule.backend; the kernels are compiled at their first use.
"""

from __future__ import annotations

import functools

from ..backend import module_for
from ..errors import HyperparameterError
from ..optimizers import SGD, Adam, Optimizer, RMSProp

HYPER_SIZE = 5  # [η, t, s₁, s₂, s₃]: see set_hyper
LOSS_NOT_FINITE, GRADIENT_NOT_FINITE = 1, 2  # the guard's status[0] once a step diverged (0 before)


@functools.cache
def _compiled() -> dict:
    cupy = module_for("cuda")
    elementwise = cupy.ElementwiseKernel
    return {
        "hyper": elementwise(
            "float64 lr, float64 t, float64 s1, float64 s2, float64 s3", "float64 hyper",
            "hyper = i == 0 ? lr : i == 1 ? t : i == 2 ? s1 : i == 3 ? s2 : s3;",
            "chainrule_hyper"),
        "sum_of_squares": cupy.ReductionKernel(
            "T x", "T total", "x * x", "a + b", "total = a", "0",
            "chainrule_sum_of_squares"),
        "norm": cupy.ReductionKernel(
            "T x", "float64 total", "(double)x * (double)x", "a + b", "total = sqrt(a)", "0",
            "chainrule_norm", reduce_type="float64"),
        "guard": elementwise(
            "float64 loss, T squares", "raw int64 status",
            """
            if (status[0] == 0) {
                if (!isfinite(loss)) status[0] = 1;                      // diverged: stop (the loss)
                else if (!isfinite((double)squares)) status[0] = 2;      // diverged: stop (the gradient)
                else status[1] += 1;                                     // applied
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
        "sgd_momentum": elementwise(  # hyper = [η, t, μ, nesterov, -]
            "T grad, T decay, raw float64 hyper, raw int64 status", "T theta, T v",
            """
            if (status[0] == 0) {
                T mu = (T)hyper[2];
                T g = grad + decay * theta;
                v = mu * v + g;
                T direction = hyper[3] != 0.0 ? g + mu * v : v;
                theta = theta - (T)hyper[0] * direction;
            }
            """,
            "chainrule_sgd_momentum"),
        "adam": elementwise(  # hyper = [η, t, β₁, β₂, ε]
            "T grad, T decay, raw float64 hyper, raw int64 status, float64 missed, bool decoupled, bool eps_on_v",
            "T theta, T m, T v",
            """
            if (status[0] == 0) {
                double lr = hyper[0], t = hyper[1] - missed, beta1 = hyper[2], beta2 = hyper[3];
                T g = decoupled ? grad : grad + decay * theta;
                m = (T)beta1 * m + (T)(1.0 - beta1) * g;
                T scaled = g * (T)sqrt(1.0 - beta2);  // √(1 − β₂) g, scaled before squaring as on the CPU
                v = (T)beta2 * v + scaled * scaled;
                T correction2 = (T)(1.0 / sqrt(1.0 - pow(beta2, t)));  // 1 / √(1 − β₂ᵗ)
                T root = eps_on_v ? (sqrt(v) + (T)hyper[4]) * correction2    // (√v + ε) / √(1 − β₂ᵗ)
                                  : sqrt(v) * correction2 + (T)hyper[4];     // √v̂ + ε
                T step = m / root * (T)(lr / (1.0 - pow(beta1, t)));  // η m̂ / (√v̂ + ε), or ε / √(1 − β₂ᵗ) there
                if (decoupled) step += theta * decay * (T)lr;                             // + ηλθ (AdamW)
                theta = theta - step;
            }
            """,
            "chainrule_adam"),
        "rmsprop": elementwise(  # hyper = [η, t, ρ, ε, -]
            "T grad, T decay, raw float64 hyper, raw int64 status", "T theta, T v",
            """
            if (status[0] == 0) {
                double rho = hyper[2];
                T g = grad + decay * theta;
                T scaled = g * (T)sqrt(1.0 - rho);  // √(1 − ρ) g, scaled before squaring as on the CPU
                v = (T)rho * v + scaled * scaled;
                theta = theta - (T)hyper[0] * (g / (sqrt(v) + (T)hyper[3]));
            }
            """,
            "chainrule_rmsprop"),
        "apply_step": elementwise(
            "T direction, float64 scale, raw int64 status", "T theta",
            "if (status[0] == 0) theta = theta - (T)scale * direction;",
            "chainrule_apply_step"),
    }


def new_hyper():
    """The device vector of a step's scalars, [η, t, s₁, s₂, s₃] (see :func:`set_hyper`)."""
    cupy = module_for("cuda")
    return cupy.zeros(HYPER_SIZE, dtype=cupy.float64)


def set_hyper(hyper, optimizer: Optimizer, lr: float, t: int) -> None:
    """Write [η, t, s₁, s₂, s₃] into the device vector ``hyper`` (one launch; no transfer):
    η and t of the next step, and ``optimizer``'s scalars as they are now (:func:`scalars`)."""
    _compiled()["hyper"](float(lr), float(t), *scalars(optimizer), hyper)


def scalars(optimizer: Optimizer) -> tuple[float, float, float]:
    """(s₁, s₂, s₃) of ``optimizer``'s fused kernel: SGD (μ, nesterov, 0), Adam and AdamW
    (β₁, β₂, ε), RMSProp (ρ, ε, 0); zeros for an optimizer without one."""
    kind = _fused_kind(optimizer)
    if kind == "adam":
        return optimizer.beta1, optimizer.beta2, optimizer.eps
    if kind == "rmsprop":
        return optimizer.rho, optimizer.eps, 0.0
    if kind is not None:
        return optimizer.momentum, float(optimizer.nesterov), 0.0
    return 0.0, 0.0, 0.0


def sum_of_squares(x):
    """Σ x² as a 0-d array on the device, in x's dtype (so it overflows where the CPU's dot does)."""
    return _compiled()["sum_of_squares"](x)


def norm(x):
    """‖x‖ = √(Σ x²) as a 0-d float64 array on the device, each square taken and summed in float64: as
    ``chainrule.backend.norm`` on the CPU, a float32 gradient of 1e-25 (whose squares vanish in
    float32) or of 1e20 (whose squares overflow) has its norm, not 0 or inf. One pass, no copy."""
    return _compiled()["norm"](x)


def guard(loss, squares, status) -> None:
    """Count the step as applied in ``status[1]``, or set ``status[0]`` to 1 if L is not finite,
    2 if Σg² is not (a gradient holding NaN or Inf, or so large that its squares overflow)."""
    _compiled()["guard"](loss, squares, status)


# The methods whose code the kernels replace: an optimizer with its own (its class's, or one set on the
# instance, as ``optimizer.rule = ...``) steps through that code instead.
OWN_CODE = frozenset({"rule", "update", "regularized", "vectors"})


def _fused_kind(optimizer: Optimizer) -> str | None:
    """The name of ``optimizer``'s fused kernel, or None: a subclass with its own ``rule``,
    ``update``, ``regularized`` or ``vectors``, or an optimizer given one on the instance, steps
    through its code (:func:`apply_step`), which the kernels would not run (an instance's own
    rule was skipped on the GPU where the CPU runs it). Decided once per class (``set_hyper``
    asks at every step), the instance's attributes looked up each time."""
    if not OWN_CODE.isdisjoint(vars(optimizer)):
        return None
    return _fused_kind_of(type(optimizer))


def unfused_name(optimizer: Optimizer) -> str:
    """How an error names ``optimizer`` when it has no fused kernel: its class, and the methods
    given on the instance if that is why ("SGD with its own rule set on the instance")."""
    own = sorted(OWN_CODE.intersection(vars(optimizer)))
    name = type(optimizer).__name__
    return f"{name} with its own {' and '.join(own)} set on the instance" if own else name


def check_own_step(optimizer) -> None:
    """HyperparameterError for an ``optimizer`` whose ``step`` is not ``Optimizer.step``: one its
    class overrides (no built-in optimizer does), or one set on the instance.

    The GPU's loop never calls ``step``: it queues each step without waiting for the device, so it
    does ``step``'s work itself (the plan of stretches, ``rule`` or ``update``, the guard on the
    device) or runs a fused kernel, and a ``step`` of one's own would silently not run, the model
    trained otherwise than on the CPU. Its ``rule`` and ``update`` do run (:func:`_fused_kind`
    leaves the kernels to them), so the error says to override those. ``fit`` asks before anything
    moves to the GPU, so that a refused optimizer and its model stay where they were. Anything
    but an Optimizer (a name: a built-in is made) passes."""
    if not isinstance(optimizer, Optimizer):
        return
    name = type(optimizer).__name__
    if "step" in vars(optimizer):
        whose = f"{name} with its own step set on the instance"
    elif type(optimizer).step is not Optimizer.step:
        whose = f"{name} overrides step"
    else:
        return
    raise HyperparameterError(
        f"optimizer: {whose}, which the GPU's training loop never calls (it runs the update rule itself, queued "
        f"without waiting for the device); override rule(theta, grad, lr, vectors) or update(theta, grad, lr) "
        f"instead, which it runs, or train with device='cpu'")


@functools.cache
def _fused_kind_of(cls: type) -> str | None:
    if any(getattr(cls, name) is not getattr(Optimizer, name) for name in OWN_CODE - {"rule"}):
        return None
    for base, kind in ((Adam, "adam"), (RMSProp, "rmsprop"), (SGD, "sgd")):
        if issubclass(cls, base):
            return kind if cls.rule is base.rule else None
    return None


def fused_update(optimizer: Optimizer, flat, stretches: list):
    """``update(hyper, status)`` doing ``optimizer``'s step on ``flat`` (the model's
    FlatParameters) with one kernel launch per stretch ``(slice, missed)`` of trainable
    parameters, or None if it has no fused kernel. The views of θ, ∂L/∂θ, λ and the state are
    taken here, once: the vectors keep their addresses for the whole ``fit``."""
    kind = _fused_kind(optimizer)
    if kind is None:
        return None
    if kind == "sgd" and optimizer.momentum:
        kind = "sgd_momentum"
    kernel, state, decay = _compiled()[kind], optimizer.state, optimizer._decay
    views = [(flat.grad[where], decay[where], flat.theta[where], {name: array[where] for name, array in state.items()},
              float(missed)) for where, missed in stretches]
    if kind == "adam":
        decoupled, eps_on_v = optimizer.decoupled, optimizer.eps_added_to == "sqrt_v"  # both fixed when it is made

        def update(hyper, status):
            for grad, decay_part, theta, part, missed in views:
                kernel(grad, decay_part, hyper, status, missed, decoupled, eps_on_v, theta, part["m"], part["v"])
        return update
    if kind == "sgd":
        def update(hyper, status):
            for grad, decay_part, theta, _, _ in views:
                kernel(grad, decay_part, hyper, status, theta)
        return update
    name = "velocity" if kind == "sgd_momentum" else "v"

    def update(hyper, status):
        for grad, decay_part, theta, part, _ in views:
            kernel(grad, decay_part, hyper, status, theta, part[name])
    return update


def apply_step(scale: float, direction, status, theta) -> None:
    """θ ← θ − scale · direction unless a step has diverged (for optimizers without a fused kernel)."""
    _compiled()["apply_step"](direction, float(scale), status, theta)
