"""SGD inside ``stepping``: the velocity kept as u = v / s takes the steps of v ← μ v + g, and
``state["velocity"]`` is v again wherever it is read."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.optimizers import sgd
from tests.harness import VelocityNormSGD, tiny_model, weights_and_bias, write_grads

RNG = np.random.default_rng(0)
GRADS = [(RNG.standard_normal(2), float(RNG.standard_normal())) for _ in range(40)]


def trajectory(make, grads, *, stepping: bool, between=None):
    """(optimizer, weights after each step): ``grads`` written into tiny_model, one step each,
    inside ``stepping`` or not; ``between(optimizer, step)`` runs after every step."""
    model = tiny_model()
    optimizer = make(model)
    path = []
    context = optimizer.stepping() if stepping else _nothing()
    with context:
        for step, (gW, gb) in enumerate(grads):
            write_grads(model, gW, gb)
            optimizer.step(check_finite=True)
            path.append(weights_and_bias(model))
            if between is not None:
                between(optimizer, step)
    return optimizer, path


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def assert_same_path(scaled, plain):
    for (W, b), (W_plain, b_plain) in zip(scaled, plain, strict=True):
        np.testing.assert_allclose(W, W_plain, rtol=1e-12, atol=1e-14)
        assert b == pytest.approx(b_plain, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
@pytest.mark.parametrize("rescale_below", [sgd.RESCALE_BELOW, 0.5])  # 0.5: back to s = 1 every few steps
def test_the_scaled_velocity_takes_the_steps_of_the_velocity(monkeypatch, weight_decay, rescale_below):
    monkeypatch.setattr(sgd, "RESCALE_BELOW", rescale_below)

    def make(model):
        return cr.SGD(model, lr=0.1, momentum=0.9, weight_decay=weight_decay)

    scaled_optimizer, scaled = trajectory(make, GRADS, stepping=True)
    plain_optimizer, plain = trajectory(make, GRADS, stepping=False)
    assert_same_path(scaled, plain)
    assert scaled_optimizer._scale == 1.0  # v again once the context ends
    np.testing.assert_allclose(scaled_optimizer.state["velocity"], plain_optimizer.state["velocity"], rtol=1e-12)


def test_the_velocity_is_scaled_inside_and_given_back_by_state_dict_and_on_an_error():
    seen = []

    def look(optimizer, step):
        if step == 4:
            assert optimizer._scale == pytest.approx(0.9 ** 5)  # held as u = v / s meanwhile
            seen.append(optimizer.state_dict()["state"]["velocity"])  # v, and v stays in the state
            assert optimizer._scale == 1.0
        if step == 9:
            raise KeyError("stop")

    make = lambda model: cr.SGD(model, lr=0.1, momentum=0.9)  # noqa: E731
    with pytest.raises(KeyError):
        trajectory(make, GRADS, stepping=True, between=look)
    plain, _ = trajectory(make, GRADS[:5], stepping=False)
    np.testing.assert_allclose(seen[0], plain.state["velocity"], rtol=1e-12)

    model = tiny_model()
    optimizer = make(model)
    with pytest.raises(KeyError), optimizer.stepping():
        for gW, gb in GRADS[:3]:
            write_grads(model, gW, gb)
            optimizer.step()
        raise KeyError("stop")
    assert optimizer._scale == 1.0 and not optimizer._scaling  # an error ends it too
    _, steps = trajectory(make, GRADS[:3], stepping=False)
    model_after = tiny_model()
    optimizer_after = make(model_after)
    for gW, gb in GRADS[:3]:
        write_grads(model_after, gW, gb)
        optimizer_after.step()
    np.testing.assert_allclose(optimizer.state["velocity"], optimizer_after.state["velocity"], rtol=1e-12)


def test_a_refused_step_inside_starts_the_velocity_afresh():
    model = tiny_model()
    optimizer = cr.SGD(model, lr=0.1, momentum=0.9)
    with optimizer.stepping():
        for gW, gb in GRADS[:3]:
            write_grads(model, gW, gb)
            assert optimizer.step(check_finite=True)
        write_grads(model, [np.nan, 0.0], 0.0)
        assert not optimizer.step(check_finite=True)  # refused: the state starts afresh
        assert optimizer._scale == 1.0 and not optimizer.state["velocity"].any()
        write_grads(model, [0.1, -0.2], 0.3)
        assert optimizer.step(check_finite=True)
    np.testing.assert_allclose(optimizer.state["velocity"], [0.1, -0.2, 0.3], rtol=1e-12)  # v = g after the reset


@pytest.mark.parametrize("case", ["nesterov", "momentum changed"])
def test_nesterov_and_a_changed_momentum_inside_take_the_same_steps(case):
    def make(model):
        return cr.SGD(model, lr=0.1, momentum=0.9, nesterov=case == "nesterov")

    def change(optimizer, step):
        if case == "momentum changed" and step == 6:
            optimizer.momentum = 0.5
        if case == "nesterov" and step == 6:
            optimizer.nesterov = False

    scaled_optimizer, scaled = trajectory(make, GRADS[:15], stepping=True, between=change)
    _, plain = trajectory(make, GRADS[:15], stepping=False, between=change)
    assert_same_path(scaled, plain)
    assert scaled_optimizer._scale == 1.0


def test_a_frozen_layer_inside_stepping_keeps_its_velocity():
    def run(stepping):
        model = cr.Sequential(cr.Linear(3, 4, dtype="float64"), cr.ReLU(), cr.Linear(4, 2, dtype="float64"), seed=0)
        optimizer = cr.SGD(model, lr=0.1, momentum=0.9)
        rng = np.random.default_rng(1)
        with optimizer.stepping() if stepping else _nothing():
            for step in range(12):
                if step == 5:
                    model[0].trainable = False
                if step == 9:
                    model[0].trainable = True
                for name, grad in model.grads.items():
                    grad[...] = rng.standard_normal(grad.shape)
                optimizer.step(check_finite=True)
        return optimizer, model

    (scaled, scaled_model), (plain, plain_model) = run(True), run(False)
    for name in plain_model.params:
        np.testing.assert_allclose(scaled_model.params[name], plain_model.params[name], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(scaled.state["velocity"], plain.state["velocity"], rtol=1e-12, atol=1e-14)


def test_fit_trains_as_the_unscaled_velocity_would(monkeypatch):
    X = np.random.default_rng(2).standard_normal((256, 5))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)

    scaled_steps = []

    def fit(stepping):
        if not stepping:  # the base class's context: nothing kept scaled
            monkeypatch.setattr(cr.SGD, "stepping", cr.optimizers.Optimizer.stepping)
        else:  # counted, to know that fit took this path
            step = cr.SGD._scaled_step
            monkeypatch.setattr(cr.SGD, "_scaled_step", lambda self, *args: scaled_steps.append(1) or step(self, *args))
        model = cr.mlp([5, 8, 2], seed=0, dtype="float64")
        optimizer = cr.SGD(model, lr=0.05, momentum=0.9)
        cr.fit(model, X, y, optimizer=optimizer, epochs=3, batch_size=16, seed=0, verbose=0)
        monkeypatch.undo()
        return model, optimizer

    (scaled_model, scaled), (plain_model, plain) = fit(True), fit(False)
    assert len(scaled_steps) == 3 * 16  # every step of the 3 epochs of 16 batches
    for name in plain_model.params:
        np.testing.assert_allclose(scaled_model.params[name], plain_model.params[name], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(scaled.state["velocity"], plain.state["velocity"], rtol=1e-9, atol=1e-12)
    assert scaled._scale == 1.0


@pytest.mark.parametrize("momentum", [0.99, 0.9, 0.5, 0.3, 1e-3, 1e-7])
def test_the_scale_never_falls_below_rescale_below(momentum):
    """u = v / s is at most 1/RESCALE_BELOW times v whatever μ: s is made 1 again before μ s
    would fall below RESCALE_BELOW, and a μ below SCALED_FROM steps v itself."""
    scales = []

    def make(model):
        return cr.SGD(model, lr=0.1, momentum=momentum)

    scaled_optimizer, scaled = trajectory(make, GRADS, stepping=True,
                                          between=lambda optimizer, step: scales.append(optimizer._scale))
    _, plain = trajectory(make, GRADS, stepping=False)
    assert min(scales) >= sgd.RESCALE_BELOW
    assert (min(scales) < 1.0) == (momentum >= sgd.SCALED_FROM)  # scaled from SCALED_FROM on
    assert_same_path(scaled, plain)


def test_a_huge_float32_gradient_is_stepped_as_the_velocity_steps_it():
    """u and g / s are at most 100 times v and g: float32 gradients near 1e34 (a velocity near
    1e35) at a tiny lr are taken as the plain velocity takes them over 160 steps (with a floor
    of 1e-6, s fell to 1e-6 after 131 steps at μ = 0.9, and u overflowed)."""
    grads = GRADS * 4

    def run(stepping):
        model = cr.Sequential(cr.Linear(2, 1, dtype="float32"), seed=0)
        optimizer = cr.SGD(model, lr=1e-35, momentum=0.9)
        taken = []
        with optimizer.stepping() if stepping else _nothing():
            for gW, gb in grads:
                model.grads["0.W"][...] = (np.reshape(np.abs(gW), (2, 1)) + 1.0) * 1e34
                model.grads["0.b"][...] = (abs(gb) + 1.0) * 1e34
                taken.append(optimizer.step(check_finite=True))
        return taken, model.params["0.W"].copy(), optimizer.state["velocity"].copy()

    (taken, W, velocity), (plain_taken, plain_W, plain_velocity) = run(True), run(False)
    assert taken == plain_taken == [True] * len(grads)
    np.testing.assert_allclose(W, plain_W, rtol=1e-5)
    np.testing.assert_allclose(velocity, plain_velocity, rtol=1e-5)


@pytest.mark.parametrize("dtype, momentum, size", [("float64", 1e-300, 1e9), ("float32", 1e-39, 1.0),
                                                   ("float32", 1e-20, 1e18)])
def test_a_tiny_momentum_takes_every_step_the_velocity_takes(dtype, momentum, size):
    """g / s for a momentum near the dtype's smallest value would overflow to inf (or NaN) and
    the guard would refuse steps that the unscaled velocity takes."""
    def run(stepping):
        model = cr.Sequential(cr.Linear(2, 1, dtype=dtype), seed=0)
        optimizer = cr.SGD(model, lr=0.1 / size, momentum=momentum)
        taken = []
        with optimizer.stepping() if stepping else _nothing():
            for gW, gb in GRADS[:6]:
                model.grads["0.W"][...] = np.reshape(gW, (2, 1)) * size
                model.grads["0.b"][...] = gb * size
                taken.append(optimizer.step(check_finite=True))
        return taken, model.params["0.W"].copy(), optimizer.state["velocity"].copy()

    (taken, W, velocity), (plain_taken, plain_W, plain_velocity) = run(True), run(False)
    assert taken == plain_taken == [True] * 6
    np.testing.assert_array_equal(W, plain_W)
    assert not np.array_equal(W, cr.Sequential(cr.Linear(2, 1, dtype=dtype), seed=0).params["0.W"])  # stepped
    np.testing.assert_allclose(velocity, plain_velocity, rtol=1e-6)
    assert np.isfinite(velocity).all()


class ClippedSGD(cr.SGD):
    """A subclass whose rule clips the direction that SGD's rule returns."""

    def rule(self, theta, grad, lr, vectors):
        scale, direction = super().rule(theta, grad, lr, vectors)
        return scale, np.clip(direction, -0.5, 0.5, out=vectors.work)


class ClippedUpdateSGD(cr.SGD):
    """A subclass whose update clips the direction that SGD's update returns."""

    def update(self, theta, grad, lr):
        scale, direction = super().update(theta, grad, lr)
        return scale, np.clip(direction, -0.5, 0.5, out=self._work)


def clipped_on_the_instance(model):
    """An SGD whose rule, set on the instance, clips the direction of SGD's rule."""
    optimizer = cr.SGD(model, lr=0.1, momentum=0.9)

    def rule(theta, grad, lr, vectors):
        scale, direction = cr.SGD.rule(optimizer, theta, grad, lr, vectors)
        return scale, np.clip(direction, -0.5, 0.5, out=vectors.work)

    optimizer.rule = rule
    return optimizer


@pytest.mark.parametrize("subclass", [ClippedSGD, ClippedUpdateSGD, clipped_on_the_instance])
def test_a_subclass_with_its_own_rule_or_update_gets_the_velocity_itself(subclass):
    """Inside ``stepping`` a subclass that reads what SGD's rule or update returns must see
    (η, v), not (η s, u): clipping u clips another vector."""
    grads = [(np.multiply(gW, 3.0), 3.0 * gb) for gW, gb in GRADS[:20]]

    def make(model):
        return subclass(model, lr=0.1, momentum=0.9) if isinstance(subclass, type) else subclass(model)

    scaled_optimizer, scaled = trajectory(make, grads, stepping=True)
    _, plain = trajectory(make, grads, stepping=False)
    assert_same_path(scaled, plain)


def test_a_subclass_with_its_own_step_reads_the_velocity_itself():
    def make(model):
        return VelocityNormSGD(model, lr=0.1, momentum=0.9)

    scaled_optimizer, scaled = trajectory(make, GRADS, stepping=True)
    plain_optimizer, plain = trajectory(make, GRADS, stepping=False)
    assert_same_path(scaled, plain)
    np.testing.assert_allclose(scaled_optimizer.norms, plain_optimizer.norms, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_tiny_velocity_given_back_raises_no_underflow_error_under_numpy_seterr_raise(dtype):
    """When ``stepping`` ends, v = s u of a velocity near the smallest normal number (gradients of 0.3 times it)
    is a subnormal number, the right value: under a caller's numpy.seterr(all="raise") the end of the block
    raised FloatingPointError, which ``step`` outside it does not; now both give NumPy's default's velocity."""
    with np.errstate(under="ignore"):
        gradient = np.finfo(dtype).smallest_normal * np.asarray(0.3, dtype=dtype)
    velocities = []
    for errstate in ({"under": "ignore"}, {"all": "raise"}):
        model = cr.Sequential(cr.Linear(2, 2, dtype=dtype, seed=0))
        optimizer = cr.SGD(model, lr=0.1, momentum=0.9)
        with np.errstate(**errstate), optimizer.stepping():
            for _ in range(3):
                for grad in model.grads.values():
                    grad[...] = gradient
                optimizer.step()
        velocities.append(optimizer.state["velocity"].copy())
    assert 0 < velocities[0][0] < np.finfo(dtype).smallest_normal  # the case: a subnormal velocity
    np.testing.assert_array_equal(velocities[1], velocities[0])
