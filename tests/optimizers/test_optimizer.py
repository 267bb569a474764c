"""The optimizer contract: shared hyperparameter checks, get_optimizer, state, the flat buffer."""

import functools
import math

import numpy as np
import pytest

import chainrule as cr
from tests.harness import TINY_GRADS, Scale, normal, tiny_grid, tiny_model, weights_and_bias, write_grads

OPTIMIZERS = [cr.SGD, cr.Adam, cr.AdamW, cr.RMSProp]


@pytest.mark.parametrize("kind", OPTIMIZERS)
@pytest.mark.parametrize("lr", [0, -0.1])
def test_lr_must_be_positive(kind, lr):
    with pytest.raises(cr.HyperparameterError, match=f"lr: expected a number > 0, got {lr}"):
        kind(tiny_model(), lr=lr)


@pytest.mark.parametrize("kind", OPTIMIZERS)
@pytest.mark.parametrize("lr", [float("nan"), float("inf"), "0.1", True, None])
def test_lr_must_be_a_finite_number(kind, lr):
    with pytest.raises(cr.HyperparameterError, match="lr: expected a finite real number"):
        kind(tiny_model(), lr=lr)


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_negative_weight_decay(kind):
    with pytest.raises(cr.HyperparameterError, match="weight_decay: expected a number >= 0, got -1"):
        kind(tiny_model(), lr=0.1, weight_decay=-1)


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_a_weight_decay_past_the_parameters_dtype_is_refused(kind):
    """λ = 1e39 on float32 parameters made a decay vector of inf, and the first step diverged
    with advice to lower the learning rate."""
    model = cr.mlp([3, 4, 2], seed=0)  # float32
    with pytest.raises(cr.HyperparameterError, match=r"^weight_decay: 1e\+39 is past float32's largest number "
                                                     r"3\.40282e\+38, .*expected at most 3\.40282e\+38$"):
        kind(model, lr=0.1, weight_decay=1e39)
    optimizer = kind(model.astype("float64"), lr=0.1, weight_decay=1e39)  # a float64 one holds it
    with pytest.raises(cr.HyperparameterError, match=r"^weight_decay: expected a finite real number"):
        optimizer.weight_decay = 10 ** 400
    assert optimizer.weight_decay == 1e39


def test_schedule_must_be_callable():
    with pytest.raises(cr.HyperparameterError, match="schedule: expected a callable of the step count, got 0.5"):
        cr.SGD(tiny_model(), lr=0.1, schedule=0.5)


def test_model_must_be_a_layer():
    with pytest.raises(cr.HyperparameterError, match="model: expected a chainrule Layer, got list"):
        cr.Adam([np.zeros(3)], lr=0.1)


@pytest.mark.parametrize("name, kind", [("sgd", cr.SGD), ("rmsprop", cr.RMSProp), ("adam", cr.Adam),
                                        ("adamw", cr.AdamW)])
def test_get_optimizer_by_name(name, kind):
    optimizer = cr.get_optimizer(name, tiny_model(), lr=0.05)
    assert type(optimizer) is kind
    assert optimizer.lr == 0.05


def test_get_optimizer_passes_hyperparameters_and_optimizers_through():
    model = tiny_model()
    optimizer = cr.get_optimizer("sgd", model, lr=0.1, momentum=0.5, nesterov=True)
    assert (optimizer.momentum, optimizer.nesterov) == (0.5, True)
    assert cr.get_optimizer(optimizer, model) is optimizer


def test_get_optimizer_refuses_an_optimizer_made_for_another_model():
    """It was handed back as it was, still stepping the first model."""
    optimizer = cr.SGD(tiny_model(), lr=0.1)
    with pytest.raises(cr.HyperparameterError, match=r"^optimizer: it was made for another model; pass "
                                                     r"cr\.SGD\(model, \.\.\.\) for this one$"):
        cr.get_optimizer(optimizer, tiny_model())


def test_get_optimizer_refuses_hyperparameters_beside_an_optimizer_object():
    """lr=0.5 was ignored without a word: the optimizer steps with its own lr, as cr.fit says when refusing it."""
    model = tiny_model()
    optimizer = cr.SGD(model, lr=0.1)
    with pytest.raises(cr.HyperparameterError, match=r"^lr, momentum: the optimizer given has its own "
                                                     r"hyperparameters, SGD\(lr=0\.1, .*; pass lr, momentum to the "
                                                     r"optimizer, or lr, momentum with an optimizer name$"):
        cr.get_optimizer(optimizer, model, lr=0.5, momentum=0.9)
    assert optimizer.lr == 0.1


@pytest.mark.parametrize("name, shown", [(["adam"], r"list \['adam'\]"), ({}, r"dict \{\}"), (None, "NoneType None"),
                                         (cr.SGD, r"type <class 'chainrule\.optimizers\.sgd\.SGD'>")])
def test_get_optimizer_refuses_what_is_no_name_nor_optimizer_naming_optimizer(name, shown):
    """A list or a dict raised a raw TypeError (unhashable type), from get_optimizer and from cr.fit."""
    expected = (r"^optimizer: expected an optimizer made for the model \(cr\.Adam\(model, \.\.\.\)\) or one of the "
                r"names sgd, rmsprop, adam, adamw; got " + shown + "$")
    with pytest.raises(cr.HyperparameterError, match=expected):
        cr.get_optimizer(name, tiny_model())
    X, y = normal(0, 8, 2), np.linspace(0, 1, 8)
    with pytest.raises(cr.HyperparameterError, match=expected):
        cr.fit(tiny_model(), X, y, epochs=1, verbose=0, optimizer=name)


def test_unknown_optimizer_name():
    with pytest.raises(cr.HyperparameterError, match="optimizer: unknown name 'lbfgs'; expected one of sgd, rmsprop"):
        cr.get_optimizer("lbfgs", tiny_model())


def test_get_optimizer_names_a_keyword_the_optimizer_does_not_take():
    with pytest.raises(cr.HyperparameterError, match=r"^momentum: not an argument of Adam; it takes "
                                                     r"lr, beta1, beta2, eps, weight_decay, schedule, eps_added_to$"):
        cr.get_optimizer("adam", tiny_model(), momentum=0.9)


@pytest.mark.parametrize("make, message", [
    (lambda model: cr.RMSProp(model, alpha=0.9), r"^alpha: not an argument of RMSProp; it takes lr, rho, eps, "
                                                 r"weight_decay, schedule \(did you mean 'rho'\?\)$"),
    (lambda model: cr.Adam(model, betas=(0.9, 0.99)), r"^betas: .* \(did you mean beta1 and beta2, PyTorch's "),
    (lambda model: cr.SGD(model, learning_rate=0.1), r"^learning_rate: not an argument of SGD; .* 'lr'\?\)$"),
    (lambda model: cr.AdamW(model, weight_decy=0.1), r"^weight_decy: not an argument of AdamW; .*'weight_decay'"),
    (lambda model: cr.get_optimizer("rmsprop", model, alpha=0.9), r"^alpha: .*did you mean 'rho'"),
])
def test_a_constructor_names_a_keyword_it_does_not_take_with_chainrules_name(make, message):
    """Another library's name in the constructor (where a port types it first) was a bare TypeError."""
    with pytest.raises(cr.HyperparameterError, match=message):
        make(tiny_model())


@pytest.mark.parametrize("keyword, shown", [("x" * 200, "'" + "x" * 59 + "..."), ("a b", "'a b'")],
                         ids=["long", "space"])
def test_a_constructor_quotes_and_cuts_a_keyword_that_is_no_name(keyword, shown):
    """A keyword given through **{...} went whole and bare into the line (200 characters of it), where cr.fit's
    same message quoted and cut it: both are now one helper's."""
    for make in (cr.SGD, lambda model, **keywords: cr.fit(model, [[0.0]], [0.0], **keywords)):
        with pytest.raises(cr.HyperparameterError) as caught:
            make(tiny_model(), **{keyword: 1})
        assert str(caught.value).startswith(f"{shown}: not an argument of ")


def test_a_type_error_inside_a_constructor_is_not_taken_for_a_wrong_keyword():
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        cr.SGD()


def test_gradients_from_before_the_optimizer_are_used():
    model = cr.Sequential(cr.Linear(3, 2), cr.Tanh(), cr.Linear(2, 1), seed=0)
    X = normal(0, 4, 3)
    _, dY = cr.MSE()(model(X), np.ones(4))
    model.backward(dY)  # before any optimizer (or flat buffer) exists
    before = {name: array.copy() for name, array in model.params.items()}
    grads = {name: array.copy() for name, array in model.grads.items()}
    assert all(np.any(grad != 0) for grad in grads.values())
    cr.SGD(model, lr=0.5).step()
    for name, array in model.params.items():
        np.testing.assert_allclose(array, before[name] - np.float32(0.5) * grads[name], rtol=1e-6)


def test_step_updates_every_layer_of_a_deep_model():
    model = cr.Sequential(cr.Linear(3, 4), cr.ReLU(), cr.Residual(cr.Sequential(cr.Linear(4, 4), cr.Tanh())),
                          cr.Linear(4, 2), seed=0)
    optimizer = cr.SGD(model, lr=0.1)
    before = {name: array.copy() for name, array in model.params.items()}
    for grad in model.grads.values():
        grad[...] = 1
    optimizer.step()
    for name, array in model.params.items():
        np.testing.assert_allclose(array, before[name] - np.float32(0.1), rtol=1e-6, err_msg=name)


def test_state_dict_round_trip_continues_identically():
    model = tiny_model()
    optimizer = cr.Adam(model, lr=0.1)
    for gW, gb in TINY_GRADS[:2]:
        write_grads(model, gW, gb)
        optimizer.step()
    saved = optimizer.state_dict()
    assert saved["t"] == 2

    twin = tiny_model()
    twin.params["0.W"][...] = model.params["0.W"]
    twin.params["0.b"][...] = model.params["0.b"]
    restored = cr.Adam(twin, lr=0.1)
    restored.load_state_dict(saved)
    for m, opt in [(model, optimizer), (twin, restored)]:
        write_grads(m, *TINY_GRADS[2])
        opt.step()
    assert weights_and_bias(twin) == weights_and_bias(model)


def test_state_dict_is_a_copy():
    model = tiny_model()
    optimizer = cr.RMSProp(model, lr=0.1)
    saved = optimizer.state_dict()
    write_grads(model, *TINY_GRADS[0])
    optimizer.step()
    assert not saved["state"]["v"].any()


def test_step_after_the_model_grew():
    model = tiny_model()
    optimizer = cr.SGD(model, lr=0.1)
    model.layers.append(cr.Linear(1, 1, dtype="float64"))
    with pytest.raises(cr.ShapeError, match="SGD: the model now has 5 parameters, the optimizer was made for 3"):
        optimizer.step()


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_weight_decay_follows_the_weights_after_layers_are_replaced_at_the_same_size(kind):
    """λ stayed where the buffer the optimizer was made with had its weights: after [Linear(2, 2), Scale(2)]
    became [Scale(2), Linear(2, 2)] (8 parameters either way) it decayed Scale's a and half of W."""
    model = cr.Sequential(cr.Linear(2, 2, dtype="float64", seed=0), Scale(2, "float64"))
    optimizer = kind(model, lr=0.1, weight_decay=0.5)
    model[0], model[1] = Scale(2, "float64"), cr.Linear(2, 2, dtype="float64", seed=1)
    model.params["1.b"] = [1.0, -1.0]
    Y = model.forward(np.zeros((1, 2)))
    model.backward(np.zeros_like(Y))  # no gradient: only the decay λW moves θ
    before = {name: array.copy() for name, array in model.params.items()}
    optimizer.step()
    after = model.params
    np.testing.assert_array_equal(after["0.a"], before["0.a"])  # not decayed: Scale's decayed is empty
    np.testing.assert_array_equal(after["1.b"], before["1.b"])  # biases are not decayed
    assert (np.sign(after["1.W"] - before["1.W"]) == -np.sign(before["1.W"])).all()  # every weight decayed


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_step_after_the_model_changed_dtype(kind):
    model = cr.mlp([2, 3, 1], seed=0)  # float32
    optimizer = kind(model, lr=0.1)
    model.astype("float64")
    before = model.flat_parameters().theta.copy()
    message = f"{kind.__name__}: the model's parameters are now float64, the optimizer was made for float32; make a new"
    with pytest.raises(cr.DTypeError, match=message):
        optimizer.step()
    np.testing.assert_array_equal(model.flat_parameters().theta, before)
    assert optimizer.t == 0


VARIANTS = [
    lambda model: cr.SGD(model, lr=0.1),
    lambda model: cr.SGD(model, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda model: cr.SGD(model, lr=0.1, momentum=0.9, nesterov=True),
    lambda model: cr.Adam(model, lr=0.01, weight_decay=0.01),
    lambda model: cr.AdamW(model, lr=0.01),
    lambda model: cr.RMSProp(model, lr=0.01, weight_decay=0.01),
]


@pytest.mark.parametrize("make", VARIANTS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_steps_through_numpys_blas_equal_the_ufunc_steps(make, dtype, monkeypatch):
    # The optimizers' vector updates run through NumPy's BLAS where it is reachable and through
    # ufuncs elsewhere (chainrule.backend.axpy/axpby): the two take the same steps, to rounding.
    from chainrule import cpu_blas

    if not cpu_blas.available():
        pytest.skip("NumPy's BLAS is not reachable here")
    thetas = []
    for routines in (cpu_blas._routines, lambda: None):
        monkeypatch.setattr(cpu_blas, "_routines", routines)
        model = cr.mlp([300, 40, 3], seed=0, dtype=dtype)
        optimizer = make(model)
        flat = model.flat_parameters()
        rng = np.random.default_rng(0)
        for _ in range(5):
            flat.grad[...] = rng.standard_normal(flat.grad.size)
            assert optimizer.step(check_finite=True)
        thetas.append(flat.theta.copy())
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(thetas[0], thetas[1], rtol=tolerance, atol=tolerance)
    assert not np.array_equal(thetas[0], cr.mlp([300, 40, 3], seed=0, dtype=dtype).flat_parameters().theta)


def test_a_step_given_the_flat_buffer_equals_a_step_that_fetches_it():
    # A training loop hands step() the buffer it fetched once an epoch; the step must be the same.
    thetas = []
    for given in (False, True):
        model = cr.mlp([5, 4, 2], seed=0)
        optimizer = cr.SGD(model, lr=0.1, momentum=0.9)
        flat = model.flat_parameters()
        for step in range(3):
            flat.grad[...] = np.linspace(-1, 1, flat.grad.size) * (step + 1)
            assert optimizer.step(flat=flat if given else None)
        thetas.append(flat.theta.copy())
    np.testing.assert_array_equal(thetas[0], thetas[1])
    assert not np.array_equal(thetas[0], cr.mlp([5, 4, 2], seed=0).flat_parameters().theta)


def test_the_guard_refuses_a_step_that_is_not_finite_or_too_large_for_the_dtype(blas_or_not):
    model = cr.mlp([5, 4, 2], seed=0)
    optimizer = cr.SGD(model, lr=1.0)
    flat = model.flat_parameters()
    before = flat.theta.copy()
    for bad in (np.nan, np.inf):
        flat.grad[...] = 0.5
        flat.grad[3] = bad
        assert not optimizer.step(check_finite=True)
        np.testing.assert_array_equal(flat.theta, before)
    flat.grad[...] = 1e18  # every value and its sum finite, but ‖Δθ‖₁ = 3.4e19 is beyond √3.4e38 = 1.8e19
    assert not optimizer.step(check_finite=True)
    np.testing.assert_array_equal(flat.theta, before)
    flat.grad[...] = 0.5
    assert optimizer.step(check_finite=True)
    np.testing.assert_allclose(flat.theta, before - 0.5)


class NanScaleSGD(cr.SGD):
    """A user-written rule whose scale is NaN while its direction is finite."""

    def update(self, theta, grad, lr):
        return float("nan"), grad


def test_the_guard_refuses_a_step_whose_scale_is_nan():
    # ‖Δθ‖₁ = scale · Σ|direction|: the old test `scale * size > limit` was False for a NaN scale.
    model = cr.mlp([5, 4, 2], seed=0)
    optimizer = NanScaleSGD(model, lr=1.0)
    flat = model.flat_parameters()
    before = flat.theta.copy()
    flat.grad[...] = 0.5
    assert not optimizer.step(check_finite=True)
    np.testing.assert_array_equal(flat.theta, before)


def test_a_refused_step_still_counts_keeps_theta_and_starts_the_state_afresh():
    model = cr.mlp([5, 4, 2], seed=0)
    optimizer = cr.SGD(model, lr=1.0, momentum=0.9)
    flat = model.flat_parameters()
    before = flat.theta.copy()
    flat.grad[...] = 0.5
    assert optimizer.step(check_finite=True)
    flat.grad[...] = np.inf
    assert not optimizer.step(check_finite=True)  # the velocity took in inf: it was NaN/inf from then on
    np.testing.assert_array_equal(flat.theta, before - 0.5)
    assert optimizer.t == 2
    assert not optimizer.state["velocity"].any()
    assert optimizer.missed == dict.fromkeys(flat.names, 2)


@pytest.mark.parametrize("bad", [-1.0, 0.0, float("nan"), "0.1", None])
def test_changing_lr_between_steps_is_checked(bad):
    optimizer = cr.SGD(tiny_model(), lr=0.1)
    optimizer.lr = 0.05  # allowed: a learning-rate callback does this
    assert optimizer.current_lr == 0.05
    with pytest.raises(cr.HyperparameterError, match="lr: expected"):
        optimizer.lr = bad
    assert optimizer.lr == 0.05


def test_a_schedule_that_overflows_is_named_not_a_raw_overflow():
    optimizer = cr.SGD(tiny_model(), lr=0.1, schedule=cr.ExponentialDecay(2.0))
    optimizer.t = 5000  # 2.0 ** 5000 overflows Python's float
    with pytest.raises(cr.HyperparameterError, match="schedule: .* at step t=5000; expected a finite factor"):
        optimizer.current_lr


@pytest.mark.parametrize("factor, shown", [(10 ** 400, r"1000000000\d{50}\.\.\."),
                                           (2 ** 20000, "<an int of 20,001 bits>")], ids=["10**400", "2**20000"])
def test_an_int_factor_too_large_for_a_float_is_named_not_a_raw_overflow(factor, shown):
    """float(10**400) raised a raw OverflowError from current_lr and from cr.fit (2**20000, of more digits than
    Python converts to text, would have raised ValueError from the message)."""
    model = tiny_model()
    optimizer = cr.SGD(model, lr=0.1, schedule=lambda t: factor)
    expected = rf"^schedule: .* returned {shown} at step t=0; expected a finite factor >= 0 \(lr × factor = 0\.1 × "
    with pytest.raises(cr.HyperparameterError, match=expected):
        optimizer.current_lr
    with pytest.raises(cr.HyperparameterError, match=expected):
        cr.fit(model, normal(0, 8, 2), np.linspace(0, 1, 8), epochs=1, verbose=0, optimizer=optimizer)


def test_a_schedule_returning_no_factor_is_named_cut():
    """Its repr went whole into the message: a partial holding a long argument made a message that long."""
    optimizer = cr.SGD(tiny_model(), lr=0.1, schedule=functools.partial(lambda t, note: math.nan, note="x" * 100_000))
    with pytest.raises(cr.HyperparameterError, match=r"^schedule: functools\.partial\(<function \S+\.\.\. returned "
                                                     r"nan at step t=0;") as caught:
        optimizer.current_lr
    assert len(str(caught.value)) < 300


def test_momentum_may_change_but_not_be_turned_on_or_off():
    plain, heavy = cr.SGD(tiny_model(), lr=0.1), cr.SGD(tiny_model(), lr=0.1, momentum=0.9)
    heavy.momentum = 0.5
    assert heavy.momentum == 0.5
    with pytest.raises(cr.HyperparameterError, match="momentum: cannot be turned on after construction"):
        plain.momentum = 0.9  # used to be a raw KeyError 'velocity' at the next step
    with pytest.raises(cr.HyperparameterError, match="momentum: cannot be turned off"):
        heavy.momentum = 0.0
    with pytest.raises(cr.HyperparameterError, match="momentum: expected"):
        heavy.momentum = 1.5
    assert plain.momentum == 0.0 and heavy.momentum == 0.5


def two_layers(seed=0):
    return cr.Sequential(cr.Linear(4, 5), cr.Tanh(), cr.Linear(5, 3), seed=seed)


def test_state_dict_carries_the_steps_missed_while_frozen_and_a_reload_continues_identically():
    model = two_layers()
    flat = model.flat_parameters()
    optimizer = cr.Adam(model, lr=0.1)
    model[2].trainable = False
    for step in range(3):
        flat.grad[...] = normal(step, flat.grad.size)
        optimizer.step()
    model[2].trainable = True
    saved = optimizer.state_dict()
    assert saved["t"] == 3 and saved["missed"] == {"2.W": 3, "2.b": 3}

    twin = two_layers()
    twin.flat_parameters().theta[...] = flat.theta
    restored = cr.Adam(twin, lr=0.1)
    restored.load_state_dict(saved)
    assert restored.missed == saved["missed"]
    for m, opt in [(model, optimizer), (twin, restored)]:
        m.flat_parameters().grad[...] = normal(9, flat.grad.size)
        opt.step()
    np.testing.assert_array_equal(twin.flat_parameters().theta, flat.theta)


def test_a_state_loaded_into_a_used_optimizer_steps_with_its_own_missed_counts():
    """The stretches are planned once for the missed counts of then: going back to a state saved
    while layer 0 had missed 1 step, after it missed 3, steps as a fresh optimizer loading it does."""
    model = two_layers()
    flat = model.flat_parameters()
    optimizer = cr.Adam(model, lr=0.1)
    model[0].trainable = False
    flat.grad[...] = normal(0, flat.grad.size)
    optimizer.step()
    saved = optimizer.state_dict()
    assert saved["missed"] == {"0.W": 1, "0.b": 1}
    for step in (1, 2):
        flat.grad[...] = normal(step, flat.grad.size)
        optimizer.step()
    model[0].trainable = True
    flat.grad[...] = normal(3, flat.grad.size)
    optimizer.step()  # planned with 0.W and 0.b 3 steps behind
    optimizer.load_state_dict(saved)

    twin = two_layers()
    twin.flat_parameters().theta[...] = flat.theta
    fresh = cr.Adam(twin, lr=0.1)
    fresh.load_state_dict(saved)
    for m, opt in [(model, optimizer), (twin, fresh)]:
        m.flat_parameters().grad[...] = normal(9, flat.grad.size)
        opt.step()
    np.testing.assert_array_equal(flat.theta, twin.flat_parameters().theta)


def test_with_layers_frozen_the_guard_refuses_a_finite_step_too_large_for_the_dtype():
    """Stepped stretch by stretch, ‖Δθ‖₁ is summed over the trainable parameters (18 here, of 43)
    and refused above √ of the dtype's largest value (1.8e19 in float32), as for the whole of θ."""
    model = two_layers()
    model[0].trainable = False
    flat = model.flat_parameters()
    optimizer = cr.SGD(model, lr=1.0, momentum=0.9)
    before = flat.theta.copy()
    flat.grad[...] = 2e18  # ‖Δθ‖₁ = 18 × 2e18 = 3.6e19, every value and the sum finite
    assert not optimizer.step(check_finite=True)
    np.testing.assert_array_equal(flat.theta, before)
    assert not optimizer.state["velocity"].any()  # started afresh
    flat.grad[...] = 5e17  # 18 × 5e17 = 9e18 is within; the 43 of θ (2.2e19) would not be
    assert optimizer.step(check_finite=True)
    assert not np.array_equal(flat.theta, before)


@pytest.mark.parametrize("make", [lambda model: cr.SGD(model, lr=0.01, momentum=0.9), lambda model: cr.RMSProp(model)])
def test_a_rule_without_step_counts_steps_all_of_theta_at_once_after_unfreezing(make):
    """Once a layer had missed steps, SGD and RMSProp, whose rules never read t, were stepped
    parameter run by parameter run for the optimizer's life (23 → 323 µs a step on 40 layers)."""
    model = two_layers()
    optimizer = make(model)
    calls = []
    rule = optimizer.rule
    optimizer.rule = lambda theta, grad, lr, vectors: calls.append(theta.size) or rule(theta, grad, lr, vectors)
    model.flat_parameters().grad[...] = 1.0
    model[0].trainable = False
    optimizer.step()
    model[0].trainable = True
    calls.clear()
    optimizer.step()
    assert calls == [model.flat_parameters().theta.size] and optimizer.missed


def test_the_repr_names_every_hyperparameter_a_run_records():
    """metadata["training"]["optimizer"] and `chainrule info` show it: weight decay and the schedule included."""
    model = cr.mlp([4, 8, 3], seed=0)
    assert repr(cr.Adam(model, weight_decay=1e-3)) == (
        "Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.001)")
    assert repr(cr.SGD(model, lr=0.3, momentum=0.9, schedule=cr.StepDecay(5))) == (
        "SGD(lr=0.3, momentum=0.9, nesterov=False, weight_decay=0.0, schedule=StepDecay(5, gamma=0.1))")
    assert repr(cr.RMSProp(model, rho=0.9)) == "RMSProp(lr=0.001, rho=0.9, eps=1e-08, weight_decay=0.0)"
    assert repr(cr.AdamW(model, weight_decay=0.05)).startswith("AdamW(lr=0.001, beta1=0.9")

    class Plain(cr.Optimizer):
        pass
    assert repr(Plain(model, lr=0.1, weight_decay=0.2)) == "Plain(lr=0.1, weight_decay=0.2)"
    # a function's repr holds its address, which would differ from run to run: its name instead
    assert repr(cr.SGD(model, schedule=lambda t: 0.5)).endswith(".<locals>.<lambda>)")

    def halving(t):
        return 0.5 ** t
    assert repr(cr.SGD(model, schedule=halving)).endswith(
        "schedule=test_the_repr_names_every_hyperparameter_a_run_records.<locals>.halving)")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make", [
    lambda model: cr.SGD(model, lr=0.1),
    lambda model: cr.SGD(model, lr=0.1, momentum=0.9, weight_decay=0.3),
    lambda model: cr.SGD(model, lr=0.1, momentum=0.5, nesterov=True),
    lambda model: cr.Adam(model, weight_decay=0.3),
    lambda model: cr.AdamW(model),
    lambda model: cr.RMSProp(model, weight_decay=0.3),
], ids=["sgd", "sgd-momentum-decay", "nesterov", "adam-decay", "adamw", "rmsprop-decay"])
def test_tiny_gradients_and_parameters_raise_no_underflow_error_under_numpy_seterr_raise(make, dtype):
    """λθ, μ v, (1 − β₂) g², m / (√v + ε) and the like of gradients and weights near the smallest normal number are
    subnormal numbers or 0, the right values: under a caller's numpy.seterr(all="raise") ``step`` raised
    FloatingPointError on them; now it takes the steps NumPy's default takes, bit for bit."""
    X, dY = tiny_grid(dtype)
    with np.errstate(under="ignore"):
        gradients = [dY * dY.dtype.type(0.5**step) for step in range(3)]
    trajectories = []
    for errstate in ({"under": "ignore"}, {"all": "raise"}):
        model = cr.Sequential(cr.Linear(X.shape[1], X.shape[1], dtype=dtype))
        model.params["0.W"] = X
        optimizer = make(model)
        with np.errstate(**errstate):
            for gradient in gradients:
                model.grads["0.W"][...] = gradient
                model.grads["0.b"][...] = gradient[0]
                optimizer.step()
        trajectories.append([model.params["0.W"].copy(), model.params["0.b"].copy()])
    for found, expected in zip(trajectories[1], trajectories[0]):
        np.testing.assert_array_equal(found, expected)
