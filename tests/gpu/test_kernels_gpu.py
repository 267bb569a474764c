"""chainrule.cuda.kernels: the fused optimizer steps equal the NumPy optimizers, and the guard stops updates."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.cuda import kernels


def trajectory(optimizer_of, device, steps=6):
    """θ after ``steps`` updates from fixed gradients, on ``device`` (fused kernels on the GPU)."""
    model = cr.Sequential(cr.Linear(7, 5, dtype="float64"), cr.ReLU(), cr.Linear(5, 3, dtype="float64"), seed=0)
    model.to(device)
    optimizer = optimizer_of(model)
    flat = model.flat_parameters()
    rng = np.random.default_rng(1)
    gradients = [rng.normal(size=flat.grad.shape) for _ in range(steps)]
    if device == "cpu":
        for g in gradients:
            flat.grad[...] = g
            optimizer.step()
        return flat.theta.copy()
    return fused_steps(optimizer, gradients)


def fused_steps(optimizer, gradients, stretches=None):
    """θ, as NumPy, after one fused step per gradient on the GPU (over all of θ, or ``stretches``),
    the scalars written before each step as the training loop writes them."""
    import cupy
    flat = optimizer.model.flat_parameters()
    update = kernels.fused_update(optimizer, flat, stretches or [(slice(0, flat.theta.size), 0)])
    assert update is not None
    hyper, status = kernels.new_hyper(), cupy.zeros(2, dtype=cupy.int64)
    for g in gradients:
        flat.grad[...] = cupy.asarray(g)
        kernels.set_hyper(hyper, optimizer, optimizer.current_lr, optimizer.t + 1)
        optimizer.t += 1
        update(hyper, status)
    return cupy.asnumpy(flat.theta)


OPTIMIZERS = {
    "sgd": lambda m: cr.SGD(m, lr=0.1),
    "sgd+decay": lambda m: cr.SGD(m, lr=0.1, weight_decay=0.01),
    "momentum": lambda m: cr.SGD(m, lr=0.05, momentum=0.9),
    "nesterov+decay": lambda m: cr.SGD(m, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
    "adam": lambda m: cr.Adam(m, lr=0.01),
    "adam+decay+schedule": lambda m: cr.Adam(m, lr=0.01, weight_decay=0.1, schedule=cr.CosineDecay(10)),
    "adamw": lambda m: cr.AdamW(m, lr=0.01, weight_decay=0.05),
    # ε added to √v (scikit-learn's form), one near √v̂, where the two forms part
    "adam+eps_on_v": lambda m: cr.Adam(m, lr=0.01, eps=1e-2, eps_added_to="sqrt_v"),
    "adamw+eps_on_v": lambda m: cr.AdamW(m, lr=0.01, eps=1e-2, weight_decay=0.05, eps_added_to="sqrt_v"),
    "rmsprop": lambda m: cr.RMSProp(m, lr=0.01),
    "rmsprop+decay+schedule": lambda m: cr.RMSProp(m, lr=0.01, rho=0.9, weight_decay=0.1, schedule=cr.StepDecay(2)),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_fused_step_equals_the_numpy_optimizer(cupy, name):
    cpu = trajectory(OPTIMIZERS[name], "cpu")
    gpu = trajectory(OPTIMIZERS[name], "cuda")
    np.testing.assert_allclose(gpu, cpu, rtol=1e-12, atol=1e-14)


def test_a_subclass_with_its_own_rule_or_penalty_has_no_fused_kernel(cupy):
    class Halved(cr.SGD):
        def rule(self, theta, grad, lr, vectors):
            scale, direction = super().rule(theta, grad, lr, vectors)
            return scale / 2, direction

    class L1(cr.SGD):
        def regularized(self, theta, grad, vectors):
            return grad + self.weight_decay * cupy.sign(theta)
    model = cr.Sequential(cr.Linear(2, 2, dtype="float64")).to("cuda")
    flat = model.flat_parameters()
    whole = [(slice(0, flat.theta.size), 0)]
    assert kernels.fused_update(Halved(model, lr=0.1, momentum=0.9), flat, whole) is None
    assert kernels.fused_update(L1(model, lr=0.1, weight_decay=0.1), flat, whole) is None
    assert kernels.fused_update(cr.SGD(model, lr=0.1, momentum=0.9), flat, whole) is not None


def test_set_hyper_writes_the_optimizers_current_scalars(cupy):
    model = cr.Sequential(cr.Linear(2, 2, dtype="float64")).to("cuda")
    hyper = kernels.new_hyper()
    adam = cr.Adam(model, beta1=0.8, beta2=0.99, eps=1e-6)
    kernels.set_hyper(hyper, adam, 0.5, 7)
    assert cupy.asnumpy(hyper).tolist() == [0.5, 7.0, 0.8, 0.99, 1e-6]
    sgd = cr.SGD(model, momentum=0.9, nesterov=True)
    sgd.momentum = 0.5
    kernels.set_hyper(hyper, sgd, 0.1, 1)
    assert cupy.asnumpy(hyper).tolist() == [0.1, 1.0, 0.5, 1.0, 0.0]
    kernels.set_hyper(hyper, cr.RMSProp(model, rho=0.7, eps=1e-7), 0.2, 3)
    assert cupy.asnumpy(hyper).tolist() == [0.2, 3.0, 0.7, 1e-7, 0.0]


def test_stretches_step_only_their_parameters_with_their_own_step_counts(cupy):
    # Stretch 0.W/0.b frozen; 2.W/2.b an Adam stretch that missed 3 steps (its t is 3 less).
    def run(device):
        model = cr.Sequential(cr.Linear(4, 3, dtype="float64"), cr.ReLU(), cr.Linear(3, 2, dtype="float64"),
                              seed=0).to(device)
        optimizer = cr.Adam(model, lr=0.01, weight_decay=0.1)
        flat = model.flat_parameters()
        model[2].trainable = False
        for _ in range(3):  # the last layer misses these 3 steps while the first trains (Optimizer.step on CuPy)
            flat.grad[...] = 1.0
            optimizer.step()
        model[0].trainable, model[2].trainable = False, True
        rng = np.random.default_rng(2)
        gradients = [rng.normal(size=flat.grad.shape) for _ in range(4)]
        if device == "cpu":
            for g in gradients:
                flat.grad[...] = g
                optimizer.step()
            return flat.theta.copy(), optimizer.missed
        frozen, stretches = optimizer.stretches(flat, flat.trainable_runs())
        assert frozen == ("0.W", "0.b") and [missed for _, missed in stretches] == [3]
        return fused_steps(optimizer, gradients, stretches), optimizer.missed

    (theta, missed), (cpu_theta, _) = run("cuda"), run("cpu")
    assert missed == {"2.W": 3, "2.b": 3}  # the setup's count (Optimizer.step on CuPy): the stretch's missed
    np.testing.assert_allclose(theta, cpu_theta, rtol=1e-12, atol=1e-14)


def test_the_guard_stops_every_update_after_a_non_finite_loss(cupy):
    model = cr.Sequential(cr.Linear(3, 2, dtype="float64"), seed=0).to("cuda")
    optimizer = cr.SGD(model, lr=0.1, momentum=0.9)
    flat = model.flat_parameters()
    update = kernels.fused_update(optimizer, flat, [(slice(0, flat.theta.size), 0)])
    hyper, status = kernels.new_hyper(), cupy.zeros(2, dtype=cupy.int64)
    kernels.set_hyper(hyper, optimizer, 0.1, 1)
    flat.grad[...] = 1.0
    for loss in (0.5, 0.25):
        kernels.guard(cupy.asarray(loss), kernels.sum_of_squares(flat.grad), status)
        update(hyper, status)
    after_two = cupy.asnumpy(flat.theta)
    velocity = cupy.asnumpy(optimizer.state["velocity"])
    kernels.guard(cupy.asarray(float("nan")), kernels.sum_of_squares(flat.grad), status)
    update(hyper, status)
    kernels.guard(cupy.asarray(0.1), kernels.sum_of_squares(flat.grad), status)  # finite again: still stopped
    update(hyper, status)
    assert cupy.asnumpy(status).tolist() == [1, 2]
    np.testing.assert_array_equal(cupy.asnumpy(flat.theta), after_two)
    np.testing.assert_array_equal(cupy.asnumpy(optimizer.state["velocity"]), velocity)  # the state stops too


def test_an_infinite_gradient_trips_the_guard(cupy):
    grad = cupy.ones(10, dtype=cupy.float32)
    grad[3] = cupy.inf
    status = cupy.zeros(2, dtype=cupy.int64)
    kernels.guard(cupy.asarray(1.0), kernels.sum_of_squares(grad), status)
    assert cupy.asnumpy(status).tolist() == [2, 0]  # 2: the gradient (1: the loss)


def test_sum_of_squares(cupy):
    x = np.random.default_rng(0).normal(size=1001)
    assert float(kernels.sum_of_squares(cupy.asarray(x))) == pytest.approx(float(x @ x), rel=1e-12)


def test_float32_adam_squares_a_scaled_gradient_as_the_cpu_does(cupy):
    # g² overflows float32 above 1.8e19; (√(1 − β₂) g)² only above 5.8e20: v stays finite, as on the CPU.
    def run(device):
        model = cr.Sequential(cr.Linear(3, 2, dtype="float32"), seed=0).to(device)
        optimizer = cr.Adam(model, lr=0.01)
        flat = model.flat_parameters()
        g = np.full(flat.grad.shape, 1e20, dtype=np.float32)
        g[::2] = -3e20
        if device == "cpu":
            for _ in range(3):
                flat.grad[...] = g
                optimizer.step()
            return flat.theta.copy(), optimizer.state["v"].copy()
        return fused_steps(optimizer, [g] * 3), cupy.asnumpy(optimizer.state["v"])

    (theta, v), (cpu_theta, cpu_v) = run("cuda"), run("cpu")
    assert np.isfinite(v).all() and np.isfinite(theta).all()
    np.testing.assert_allclose(v, cpu_v, rtol=1e-6)
    np.testing.assert_allclose(theta, cpu_theta, rtol=1e-5, atol=1e-6)


def test_the_norm_kernel_sums_in_float64_as_the_cpus_record(cupy):
    from chainrule.backend import norm
    rng = np.random.default_rng(0)
    for values in (np.full(300, 1e-25, np.float32), np.full(200, 1e20, np.float32), rng.normal(size=1000)):
        found = kernels.norm(cupy.asarray(values))
        assert found.dtype == np.float64 and found.shape == ()
        assert float(found) == pytest.approx(norm(values), rel=1e-6)
