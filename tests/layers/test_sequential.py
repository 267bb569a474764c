"""Sequential: forward through each layer; backward through each layer in reverse."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from tests.harness import (
    assert_gradients, assert_keeps_float32, batch_sizes, hidden_widths, normal, randomize_biases, regression_targets,
    seeds, widths,
)

ACTIVATIONS = ["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "identity", "softmax"]


@given(seed=seeds, n_samples=batch_sizes, n_in=widths, hidden=hidden_widths, n_out=widths,
       activation=st.sampled_from(ACTIVATIONS))
def test_gradcheck_one_hidden_layer(seed, n_samples, n_in, hidden, n_out, activation):
    model = randomize_biases(cr.mlp([n_in, hidden, n_out], activation, seed=seed, dtype="float64"), seed + 2)
    assert_gradients(model, normal(seed, n_samples, n_in), regression_targets(seed + 1, n_samples, n_out))


# Two hidden softmax or LeakyReLU(0.01) layers can shrink a gradient to ~1e-4 of the loss, below
# what central differences resolve to 1e-6 relative; both are checked with one hidden layer above.
@given(seed=seeds, n_samples=batch_sizes, n_in=widths, hidden=st.lists(hidden_widths, min_size=2, max_size=2),
       n_out=widths, activation=st.sampled_from(["relu", "sigmoid", "tanh", "gelu", "identity"]))
def test_gradcheck_two_hidden_layers(seed, n_samples, n_in, hidden, n_out, activation):
    model = randomize_biases(cr.mlp([n_in, *hidden, n_out], activation, seed=seed, dtype="float64"), seed + 2)
    assert_gradients(model, normal(seed, n_samples, n_in), regression_targets(seed + 1, n_samples, n_out))


@given(seed=seeds, n_samples=batch_sizes, n_in=widths, hidden=hidden_widths, n_classes=st.integers(2, 8))
def test_gradcheck_deep_nested_blocks(seed, n_samples, n_in, hidden, n_classes):
    model = cr.Sequential(
        cr.Sequential(cr.Linear(n_in, hidden, dtype="float64"), cr.Tanh()),
        cr.Residual(cr.Sequential(cr.Linear(hidden, hidden, dtype="float64"), cr.Sigmoid(),
                                  cr.Linear(hidden, hidden, dtype="float64"))),
        cr.Sequential(cr.Residual(cr.Sequential(cr.Linear(hidden, hidden, dtype="float64"), cr.GELU(),
                                                cr.Linear(hidden, hidden, dtype="float64"))), cr.LeakyReLU(0.1)),
        cr.Sequential(cr.Sequential(cr.Linear(hidden, n_classes, dtype="float64"))),
        seed=seed,
    )
    randomize_biases(model, seed + 2)
    labels = np.random.default_rng(seed + 1).integers(0, n_classes, size=n_samples)
    assert_gradients(model, normal(seed, n_samples, n_in), labels, cr.SoftmaxCrossEntropy())


def test_nested_parameter_names():
    model = cr.Sequential(
        cr.Sequential(cr.Linear(2, 3), cr.Tanh()),
        cr.Residual(cr.Sequential(cr.Linear(3, 3), cr.Sigmoid(), cr.Linear(3, 3))),
        cr.Linear(3, 1),
    )
    assert list(model.params) == ["0.0.W", "0.0.b", "1.f.0.W", "1.f.0.b", "1.f.2.W", "1.f.2.b", "2.W", "2.b"]
    assert model[1].f[2].path == "1.f.2"


def test_backward_is_the_chain_rule_by_hand():
    model = cr.Sequential(cr.Linear(2, 3, dtype="float64"), cr.Tanh(), cr.Linear(3, 1, dtype="float64"), seed=0)
    W1, b1, W2, b2 = (model.params[name].copy() for name in ["0.W", "0.b", "2.W", "2.b"])
    X = normal(1, 4, 2)
    Z = X @ W1 + b1
    H = np.tanh(Z)
    np.testing.assert_allclose(model(X), H @ W2 + b2)
    dY = normal(2, 4, 1)
    dX = model.backward(dY)
    dH = dY @ W2.T  # ∂L/∂h = ∂L/∂y · w
    dZ = dH * (1 - H**2)  # ∂L/∂z = ∂L/∂h · tanh'(z)
    np.testing.assert_allclose(model.grads["2.W"], H.T @ dY)
    np.testing.assert_allclose(model.grads["2.b"], dY.sum(axis=0))
    np.testing.assert_allclose(model.grads["0.W"], X.T @ dZ)
    np.testing.assert_allclose(model.grads["0.b"], dZ.sum(axis=0))
    np.testing.assert_allclose(dX, dZ @ W1.T)


def test_no_input_grad_still_fills_every_grad():
    model = cr.Sequential(cr.Linear(2, 3, dtype="float64"), cr.Tanh(), cr.Linear(3, 1, dtype="float64"), seed=0)
    X, dY = normal(1, 4, 2), normal(2, 4, 1)
    model(X)
    model.backward(dY)
    expected = {name: grad.copy() for name, grad in model.grads.items()}
    for grad in model.grads.values():
        grad[...] = 0
    assert model.backward(dY, input_grad=False) is None
    for name, grad in model.grads.items():
        np.testing.assert_array_equal(grad, expected[name])


def test_empty_sequential_is_the_identity():
    model = cr.Sequential()
    X = normal(0, 2, 3)
    np.testing.assert_array_equal(model(X), X)
    np.testing.assert_array_equal(model.backward(X), X)
    assert model.backward(X, input_grad=False) is None


def test_an_empty_sequential_is_shown_on_one_line():
    """Its repr was "Sequential(\\n\\n)"; a non-empty one keeps a line per layer."""
    assert repr(cr.Sequential()) == "Sequential()"
    assert repr(cr.Sequential(cr.ReLU(), cr.Sequential())) == "Sequential(\n  ReLU(),\n  Sequential()\n)"


def test_seed_reproduces_the_whole_model():
    def build(seed):
        return cr.Sequential(cr.Linear(3, 4), cr.ReLU(), cr.Residual(cr.Linear(4, 4)), cr.Linear(4, 2), seed=seed)

    a, b, c = build(7), build(7), build(8)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    assert not np.array_equal(a.params["0.W"], c.params["0.W"])


def test_len_and_indexing():
    first = cr.Linear(2, 2)
    model = cr.Sequential(first, cr.ReLU())
    assert len(model) == 2
    assert model[0] is first
    assert isinstance(model[1], cr.ReLU)


def test_rejects_non_layers():
    with pytest.raises(cr.HyperparameterError, match="Sequential: argument 1 must be a chainrule Layer, got ufunc"):
        cr.Sequential(cr.Linear(2, 2), np.tanh)


def test_a_layer_class_or_a_list_of_layers_is_refused_saying_what_was_meant():
    """They read 'got type' and 'got list': a PyTorch user's nn.ReLU without its call, a Keras user's list."""
    with pytest.raises(cr.HyperparameterError, match=r"^Sequential: argument 1 must be a chainrule Layer, got the "
                                                     r"class ReLU; a layer is an instance of it: ReLU\(...\)$"):
        cr.Sequential(cr.Linear(2, 2), cr.ReLU)
    with pytest.raises(cr.HyperparameterError, match=r"^Sequential: argument 0 must be a chainrule Layer, got a list "
                                                     r"of layers; pass the layers themselves: Sequential\(\*layers\)$"):
        cr.Sequential([cr.Linear(2, 2), cr.ReLU()])
    model = cr.mlp([4, 8, 3], seed=0)
    with pytest.raises(cr.HyperparameterError, match=r"^Sequential\[1\]: expected a chainrule Layer, got the class "
                                                     r"Tanh"):
        model[1] = cr.Tanh
    with pytest.raises(cr.HyperparameterError, match=r"^Sequential: its layer '3' must be a chainrule Layer, got the "
                                                     r"class Tanh; "):
        model.layers.append(cr.Tanh)
    assert len(model) == 3  # the append was undone
    with pytest.raises(cr.HyperparameterError, match=r"^Residual: f must be a chainrule Layer, got the class Tanh; "):
        cr.Residual(cr.Tanh)


@pytest.mark.parametrize("seed", [-1, 0.5, "seed"])
def test_invalid_seed(seed):
    with pytest.raises(cr.HyperparameterError, match="seed: expected"):
        cr.Sequential(cr.Linear(2, 2), seed=seed)


def test_wrong_width_deep_inside_names_the_path():
    model = cr.Sequential(cr.Linear(3, 3), cr.Residual(cr.Sequential(cr.Linear(3, 3), cr.Tanh(), cr.Linear(2, 3))))
    message = r"layer '1.f.2' \(Linear\): expected input of shape \(n_samples, 2\), got \(1, 3\)"
    with pytest.raises(cr.ShapeError, match=message):
        model(np.zeros((1, 3)))


def test_keeps_float32():
    model = cr.Sequential(cr.Linear(3, 4), cr.GELU(), cr.Residual(cr.Linear(4, 4)), cr.Softmax(), seed=0)
    assert_keeps_float32(model, normal(0, 5, 3))


@pytest.mark.parametrize("make", [cr.ReLU, cr.Tanh, cr.Sigmoid, cr.GELU, cr.Identity, lambda: cr.Linear(6, 6)])
def test_a_layer_object_used_twice_is_rejected(make):
    shared = make()
    with pytest.raises(cr.HyperparameterError, match="layer '3' is the same object as layer '1'"):
        cr.Sequential(cr.Linear(4, 6), shared, cr.Linear(6, 6), shared, cr.Linear(6, 3))


def test_a_layer_used_in_a_nested_block_and_outside_is_rejected():
    relu = cr.ReLU()
    with pytest.raises(cr.HyperparameterError, match="layer '2.1' is the same object as layer '1'"):
        cr.Sequential(cr.Linear(4, 6), relu, cr.Sequential(cr.Linear(6, 6), relu))


def test_a_layer_between_two_linears_leaves_a_direct_callers_input_alone():
    model = cr.Sequential(cr.Linear(4, 6), cr.ReLU(), cr.Linear(6, 6), cr.Tanh(), cr.Linear(6, 3), seed=0)
    X = np.random.default_rng(0).normal(size=(3, 6)).astype(np.float32)
    original = X.copy()
    for index in (1, 3):
        model[index](X)
        np.testing.assert_array_equal(X, original)


def test_a_layer_moved_to_the_front_of_a_new_sequential_leaves_the_input_alone():
    model = cr.Sequential(cr.Linear(4, 6), cr.ReLU(), cr.Linear(6, 3), seed=0)
    X = np.random.default_rng(0).normal(size=(3, 6)).astype(np.float32)
    original = X.copy()
    tail = cr.Sequential(*model.layers[1:])
    assert not tail.in_place(0)
    tail.forward(X)  # even the unchecked forward: the layer is first now
    np.testing.assert_array_equal(X, original)


def test_inplace_is_set_only_between_two_linear_layers():
    model = cr.Sequential(cr.ReLU(), cr.Linear(4, 4), cr.Tanh(), cr.Linear(4, 4), cr.Sigmoid(), cr.Identity(),
                          cr.Linear(4, 4), cr.ReLU())
    assert [model.in_place(index) for index in range(len(model))] == [False, False, True] + [False] * 5
    moved = cr.Sequential(cr.Linear(4, 4), model[2])
    assert not moved.in_place(1)


class LoggedReLU(cr.ReLU):
    """A subclass overriding forward the PyTorch way, without the inplace keyword."""

    def forward(self, X):
        self.last_mean = float(X.mean())
        return super().forward(X)


class MyTanh(cr.Tanh):
    def backward(self, dY, input_grad=True):
        return super().backward(dY, input_grad)


class MyGELU(cr.GELU):
    def forward(self, X, inplace=False):
        return super().forward(X, inplace)


@pytest.mark.parametrize("make, base", [(LoggedReLU, cr.ReLU), (MyTanh, cr.Tanh)])
def test_a_subclass_overriding_forward_or_backward_without_inplace_does_not_work_in_place(make, base):
    """Sequential passed inplace=True to such a layer: a TypeError from model(X), fit and gradcheck."""
    assert base.works_in_place and not make.works_in_place
    model = cr.Sequential(cr.Linear(4, 6), make(), cr.Linear(6, 3), seed=0)
    reference = cr.Sequential(cr.Linear(4, 6), base(), cr.Linear(6, 3), seed=0)
    assert not model.in_place(1)
    X = normal(0, 5, 4)
    np.testing.assert_array_equal(model(X), reference(X))
    y = np.arange(5) % 3
    cr.fit(model, X, y, epochs=1, verbose=0)
    assert cr.gradcheck(model, X, y, "cross_entropy").passed()


def test_a_subclass_taking_inplace_still_works_in_place():
    assert MyGELU.works_in_place
    assert cr.Sequential(cr.Linear(4, 6), MyGELU(), cr.Linear(6, 3), seed=0).in_place(1)


def test_a_class_setting_works_in_place_without_taking_inplace_is_refused_by_name():
    with pytest.raises(cr.HyperparameterError, match=r"^Doubled: works_in_place is True, so forward and backward "
                                                     r"must take the keyword inplace .*; accept it or set "
                                                     r"works_in_place = False$"):
        class Doubled(cr.Layer):
            works_in_place = True

            def forward(self, X, inplace=False):
                return 2 * X

            def backward(self, dY, input_grad=True):
                return 2 * dY if input_grad else None


def test_an_activation_after_another_keeps_its_input_and_the_gradients_are_right():
    """Tanh's input here is Sigmoid's output Y, which Sigmoid's backward reads: were Tanh (before a
    Linear) to run in place, it would overwrite Y with tanh(Y) and Sigmoid's gradient would be wrong."""
    model = randomize_biases(cr.Sequential(cr.Linear(3, 4), cr.Sigmoid(), cr.Tanh(), cr.Linear(4, 2), seed=0), 1)
    assert not model.in_place(2)
    assert_gradients(model, normal(0, 5, 3), regression_targets(1, 5, 2))


def test_weights_are_those_of_earlier_versions():
    # Pinned from chainrule before the wasted redraws were skipped: same seeds, same weights.
    seeded = cr.Sequential(cr.Linear(3, 2), cr.ReLU(), cr.Linear(2, 2), cr.Tanh(), seed=0)
    np.testing.assert_array_equal(seeded.params["0.W"], np.array(
        [[0.10265829414129257, -0.1078631728887558], [0.5229029059410095, 0.08565058559179306],
         [-0.43737220764160156, 0.295241117477417]], dtype=np.float32))
    np.testing.assert_array_equal(seeded.params["2.W"], np.array(
        [[0.26120322942733765, 0.5621494650840759], [0.10685896873474121, 1.065705418586731]], dtype=np.float32))
    per_layer = cr.Sequential(cr.Linear(3, 2, seed=1), cr.ReLU(), cr.Linear(2, 2, seed=2))
    np.testing.assert_array_equal(per_layer.params["0.W"], np.array(
        [[0.28216829895973206, 0.6708484292030334], [0.26980075240135193, -1.0640233755111694],
         [0.7392199635505676, 0.36446329951286316]], dtype=np.float32))
    np.testing.assert_array_equal(per_layer.params["2.W"], np.array(
        [[-0.583928644657135, -0.49359387159347534], [0.7696927189826965, -0.9995977282524109]], dtype=np.float32))


def test_a_seed_draws_each_weight_once_after_the_layers_own_draw(monkeypatch):
    # Sequential(seed=...) redraws everything, so "auto" must not redraw first: one replay of
    # the layer's own draw (to warn if its weights changed since), then the seeded draw.
    import chainrule.layers.linear as linear_module

    draws = []
    real = linear_module.get_initializer

    def counting(name):
        initializer = real(name)
        return lambda shape, rng: draws.append(name) or initializer(shape, rng)

    monkeypatch.setattr(linear_module, "get_initializer", counting)
    layer = cr.Linear(4, 3)
    draws.clear()
    cr.Sequential(layer, cr.ReLU(), seed=0)
    assert draws == ["glorot_uniform", "he_normal"]


def test_a_bad_seed_leaves_the_layers_as_they_were():
    layer = cr.Linear(4, 3, seed=0)
    with pytest.raises(cr.HyperparameterError, match="seed: expected"):
        cr.Sequential(layer, cr.ReLU(), seed=-1)
    # Still the plain Glorot layer: nesting it properly now gives the He draw of its seed.
    assert layer.resolved_init == "glorot_uniform"
    cr.Sequential(layer, cr.ReLU())
    np.testing.assert_array_equal(layer.own_params["W"], cr.Linear(4, 3, seed=0, init="he_normal").own_params["W"])


@pytest.mark.parametrize("activation", [cr.ReLU, cr.Tanh, cr.GELU])
def test_a_layer_that_ran_in_place_leaves_its_input_alone_everywhere_else(activation):
    act = activation()
    second = cr.Sequential(cr.Linear(4, 6), cr.Sequential(act), cr.Linear(6, 3), seed=0)  # nested: first there
    first = cr.Sequential(cr.Linear(4, 6), act, cr.Linear(6, 3), seed=0)  # the layer's latest model
    X = normal(0, 3, 6)
    original = X.copy()
    first.forward(normal(1, 3, 4))
    for run in (act.forward, second[1].forward):
        run(X)  # on its own (a root), and in the block it is also part of
        np.testing.assert_array_equal(X, original)
    dY = normal(2, 3, 6)
    given = dY.copy()
    act.forward(X)
    act.backward(given)
    np.testing.assert_array_equal(given, dY)
    cr.Sequential(cr.Identity(), act).forward(X)  # after a layer that returns its input
    np.testing.assert_array_equal(X, original)


def test_a_custom_layer_that_skipped_layer_init_is_refused_by_name():
    class Forgetful(cr.Layer):
        def __init__(self):  # no super().__init__(): no own_params, so model.params would fail later
            self.width = 3

        def forward(self, X):
            return X

    with pytest.raises(cr.HyperparameterError, match=r"Sequential: argument 1 \(Forgetful\) was not set up as a "
                                                     r"Layer: its __init__ must call super\(\).__init__\(\)"):
        cr.Sequential(cr.Linear(3, 3), Forgetful())
    with pytest.raises(cr.HyperparameterError, match=r"Residual: f \(Forgetful\) was not set up as a Layer"):
        cr.Residual(Forgetful())


def test_a_custom_layer_whose_backward_takes_no_input_grad_is_refused_by_name():
    class OneArgument(cr.Layer):
        def forward(self, X):
            return X

        def backward(self, dY):
            return dY

    with pytest.raises(cr.HyperparameterError, match=r"Sequential: argument 0 \(OneArgument\): backward must take "
                                                     r"\(dY, input_grad=True\)"):
        cr.Sequential(OneArgument(), cr.Linear(3, 3))


def test_the_check_of_backward_follows_what_each_layer_calls_whatever_its_class_was_found_to_take(monkeypatch):
    """The answer for a class's backward is kept per function (inspect.signature once a class, not
    once a layer); a backward set on one instance is still checked as itself."""
    import inspect
    from dataclasses import dataclass

    first, second = cr.Identity(), cr.Identity()
    second.backward = lambda dY: dY  # takes no input_grad, on this instance alone
    cr.Sequential(first, cr.Linear(3, 3))  # the class's backward: found to take it, and kept so
    inspected, signature = [], inspect.signature
    monkeypatch.setattr(inspect, "signature", lambda function: inspected.append(function) or signature(function))
    cr.Sequential(*[cr.Identity() for _ in range(50)], cr.Linear(3, 3))
    assert inspected == []  # the classes' answers kept: no layer's backward inspected again
    with pytest.raises(cr.HyperparameterError, match=r"Sequential: argument 0 \(Identity\): backward must take"):
        cr.Sequential(second, cr.Linear(3, 3))

    @dataclass
    class Backward:  # a callable that cannot be hashed (a dataclass with eq), which no cache may hold
        scale: float = 1.0

        def __call__(self, dY, input_grad=True):
            return dY * self.scale

    third = cr.Identity()
    third.backward = Backward()
    assert len(cr.Sequential(third, cr.Identity(), cr.Linear(3, 3))) == 3


def test_a_slice_is_a_sequential_of_the_same_layer_objects():
    model = cr.Sequential(cr.Linear(3, 4), cr.ReLU(), cr.Linear(4, 4), cr.Tanh(), cr.Linear(4, 2), seed=0)
    weights = {name: array.copy() for name, array in model.params.items()}
    base = model[:-1]
    assert isinstance(base, cr.Sequential) and len(base) == 4
    assert all(a is b for a, b in zip(base.layers, model.layers[:-1]))
    assert [layer.path for layer in model.layers] == ["0", "1", "2", "3", "4"]  # paths kept, nothing redrawn
    assert all(np.array_equal(model.params[name], value) for name, value in weights.items())
    assert model[1:3].layers == model.layers[1:3] and model[::2].layers == model.layers[::2]
    assert model[-1] is model.layers[-1] and model[np.int64(0)] is model.layers[0]


def test_freezing_a_slice_freezes_those_layers_of_the_model():
    model = cr.Sequential(cr.Linear(3, 4), cr.ReLU(), cr.Linear(4, 2), seed=0)
    model[:-1].trainable = False
    assert model.frozen_parameters == ["0.W", "0.b"]


@pytest.mark.parametrize("index", ["0", 1.0, None, True])
def test_a_bad_index_type_is_refused(index):
    model = cr.Sequential(cr.Linear(3, 4), cr.ReLU())
    with pytest.raises(cr.HyperparameterError, match="Sequential index: expected an int or a slice"):
        model[index]


def test_an_index_out_of_range_is_an_index_error():
    model = cr.Sequential(cr.Linear(3, 4), cr.ReLU())
    message = r"^Sequential index {}: out of range for its 2 layers$"
    with pytest.raises(IndexError, match=message.format(2)):
        model[2]
    with pytest.raises(IndexError, match=message.format(-3)):
        model[-3] = cr.ReLU()
    with pytest.raises(IndexError, match=message.format(7)):
        del model[7]
    assert [type(layer).__name__ for layer in model] == ["Linear", "ReLU"]  # iteration stops there
    assert model[-1] is model.layers[1]


def test_training_the_model_after_training_a_slice_updates_the_shared_layers():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = cr.Sequential(cr.Linear(3, 8), cr.ReLU(), cr.Linear(8, 2), seed=0)
    model_flat = model.flat_parameters()
    base = model[:-1]
    optimizer = cr.SGD(base, lr=0.1)  # rebinds the base's layers to a buffer of the slice's own
    out = base.forward(X)
    base.backward(np.ones_like(out) / len(out), input_grad=False)
    optimizer.step()
    assert not model_flat.is_current([(layer, name) for _, layer in model.walk() for name in layer.own_params])
    trained_by_slice = model.params["0.W"].copy()
    assert not np.array_equal(trained_by_slice, model_flat.theta[model_flat.slices["0.W"]].reshape(3, 8))
    np.testing.assert_array_equal(model.flat_parameters().theta[:24].reshape(3, 8), trained_by_slice)
    cr.fit(model, X, y, epochs=2, verbose=0)
    flat = model.flat_parameters()
    assert flat is not model_flat  # rebuilt with the values the slice trained
    assert model.params["0.W"] is model[0].params["W"] and base.params["0.W"] is model.params["0.W"]
    assert not np.array_equal(model.params["0.W"], trained_by_slice)
    assert np.shares_memory(model.params["0.W"], flat.theta)


def test_an_item_can_be_replaced_as_in_pytorch_without_a_redraw():
    model = cr.mlp([4, 8, 3], seed=0)
    head = cr.Linear(8, 5, seed=1)
    drawn = head.params["W"].copy()
    model[-1] = head
    assert model[2] is head and head.path == "2"
    np.testing.assert_array_equal(model.params["2.W"], drawn)
    assert model(np.zeros((2, 4), dtype=np.float32)).shape == (2, 5)


@pytest.mark.parametrize("value, match", [("relu", "expected a chainrule Layer, got str"),
                                          (None, "expected a chainrule Layer, got NoneType")])
def test_an_item_must_be_a_layer(value, match):
    model = cr.mlp([4, 8, 3], seed=0)
    with pytest.raises(cr.HyperparameterError, match=match):
        model[0] = value


def test_an_item_already_in_the_model_is_refused_and_the_model_is_unchanged():
    model = cr.mlp([4, 8, 3], seed=0)
    first = model[0]
    with pytest.raises(cr.HyperparameterError, match="same object"):
        model[2] = first
    assert model[2] is not first and isinstance(model[2], cr.Linear)


def test_items_can_be_deleted_and_the_paths_follow():
    model = cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 8), cr.ReLU(), cr.Linear(8, 3), seed=0)
    del model[1:3]
    assert [layer.path for layer in model.layers] == ["0", "1", "2"]
    assert sorted(model.params) == ["0.W", "0.b", "2.W", "2.b"]
    with pytest.raises(cr.HyperparameterError, match="expected an int or a slice, got str"):
        del model["0"]


def test_a_seed_over_trained_weights_warns_naming_the_layers():
    model = cr.mlp([4, 8, 8, 3], seed=0)
    model.params["2.W"][0, 0] += 1  # as training changes them
    with pytest.warns(cr.ChainruleWarning) as caught:
        cr.Sequential(model[0], cr.Sequential(model[2], model[3]), cr.Linear(8, 3), seed=1)
    first, second = (str(warning.message) for warning in caught)
    assert re.search(r"the weights of layer '1.0', changed since drawn .* without seed=", first)
    assert "also those of layer '0', already in another model" in second  # model's first layer, still as drawn


def test_a_seed_over_loaded_weights_warns(tmp_path):
    cr.save(cr.mlp([4, 8, 3], seed=0), tmp_path / "m.safetensors")
    loaded = cr.load(tmp_path / "m.safetensors")
    with pytest.warns(cr.ChainruleWarning, match=r"layer '0'"):
        cr.Sequential(*loaded.layers[:-1], cr.Linear(8, 5), seed=1)


def test_a_seed_over_freshly_drawn_layers_does_not_warn(recwarn):
    cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 3, init="he_normal"), seed=0)
    cr.mlp([4, 8, 3], ["tanh"], seed=0)
    assert not [w for w in recwarn if issubclass(w.category, cr.ChainruleWarning)]


def test_a_dx_of_the_wrong_shape_is_blamed_on_the_layer_that_returned_it():
    """The error named the Linear below, whose dY it became, not the custom layer that returned it."""
    class BadShape(cr.layers.layer.Layer):
        def forward(self, X):
            return X

        def backward(self, dY, input_grad=True):
            return dY[:, 0] if input_grad else None

    model = cr.Sequential(cr.Linear(3, 3), BadShape(), cr.Linear(3, 2), seed=0)
    model.forward(np.ones((4, 3), np.float32))
    with pytest.raises(cr.ShapeError, match=r"^layer '0' \(Linear\): dY must have the shape of the last forward's "
                                            r"output, \(4, 3\); got \(4,\), which layer '1' \(BadShape\) returned "
                                            r"as its ∂L/∂x$"):
        model.backward(np.ones((4, 2), np.float32))


def test_a_dx_of_the_wrong_shape_into_a_block_is_blamed_on_the_layer_above_it():
    class BadShape(cr.layers.layer.Layer):
        def forward(self, X):
            return X

        def backward(self, dY, input_grad=True):
            return dY[:, :1] if input_grad else None

    model = cr.Sequential(cr.Sequential(cr.Linear(3, 3), cr.ReLU(), cr.Linear(3, 3)), BadShape(), seed=0)
    model.forward(np.ones((4, 3), np.float32))
    with pytest.raises(cr.ShapeError, match=r"^layer '0.2' \(Linear\): dY must have .* got \(4, 1\), which layer "
                                            r"'1' \(BadShape\) returned as its ∂L/∂x$"):
        model.backward(np.ones((4, 3), np.float32))


class Upcasting(cr.layers.layer.Layer):
    """A layer of one's own that computes in float64: float32 in, float64 out.

    NumPy 2 does this to ``X * np.sqrt(2.0)`` (a NumPy float64 number); NumPy 1 kept float32 there (value-based
    casting), so the upcast is spelled out to make the same layer on both.
    """

    def forward(self, X):
        return X.astype(np.float64) * np.sqrt(2.0)

    def backward(self, dY, input_grad=True):
        return dY.astype(np.float64) * np.sqrt(2.0) if input_grad else None


def test_a_dx_of_the_wrong_dtype_is_blamed_on_the_layer_that_returned_it():
    """The error named the Linear below and told to convert dY, not the custom layer that upcast it."""
    model = cr.Sequential(cr.Linear(3, 3), Upcasting(), cr.Linear(3, 2), seed=0)
    Y = model.forward(np.ones((4, 3), np.float32))
    assert Y.dtype == np.float64
    with pytest.raises(cr.DTypeError, match=r"^layer '0' \(Linear\): dY must have the dtype of the last forward's "
                                            r"output, float32; got float64, which layer '1' \(Upcasting\) returned "
                                            r"as its ∂L/∂x: a layer's forward returns its input's dtype, and its "
                                            r"backward returns ∂L/∂x in it$"):
        model.backward(np.ones_like(Y))


class ForgotReturn(cr.layers.layer.Layer):
    """A forward of one's own without its ``return``: it gives None to the layer above."""

    def forward(self, X):
        self._Y = X * 2.0

    def backward(self, dY, input_grad=True):
        return dY * 2.0 if input_grad else None


class ReturnsTuple(cr.layers.layer.Layer):
    def forward(self, X):
        return X, X

    def backward(self, dY, input_grad=True):
        return dY if input_grad else None


@pytest.mark.parametrize("above", [lambda: cr.Linear(3, 2), cr.Tanh, cr.ReLU, cr.Sigmoid, cr.GELU])
def test_a_forward_that_returned_none_is_named_not_the_layer_that_received_it(above):
    """The layer above failed inside on the None (AttributeError: 'NoneType' object has no attribute 'ndim')."""
    model = cr.Sequential(cr.Linear(3, 3), ForgotReturn(), above(), seed=0)
    with pytest.raises(cr.DTypeError, match=r"^layer '1' \(ForgotReturn\): forward returned None, which layer '2' "
                                            r"\(\w+\) cannot take; a layer's forward returns an array \(n_samples, "
                                            r"n_outputs\) in its input's dtype \(did it forget its return\?\)$"):
        model(np.ones((4, 3)))


def test_a_forward_that_returned_a_tuple_inside_a_block_is_named_by_its_path():
    model = cr.Sequential(cr.Sequential(cr.Linear(3, 3), ReturnsTuple()), cr.Linear(3, 2), seed=0)
    X = np.ones((4, 3))
    for call in (model, lambda X: cr.predict(model, X), lambda X: cr.fit(model, X, np.arange(4) % 2, verbose=0),
                 lambda X: cr.gradcheck(model, X, np.arange(4) % 2)):
        with pytest.raises(cr.DTypeError, match=r"^layer '0.1' \(ReturnsTuple\): forward returned tuple, which "
                                                r"layer '1' \(Linear\) cannot take; .* input's dtype$"):
            call(X)


def test_a_block_given_none_by_the_layer_below_it_names_that_layer():
    """The block's own first layer fails on the None: its DTypeError (a TypeError) would tell the user to call the
    model with an array; the model around it names the layer that returned None instead."""
    model = cr.Sequential(cr.Linear(3, 3), ForgotReturn(), cr.Sequential(cr.Linear(3, 2), cr.Tanh()), seed=0)
    with pytest.raises(cr.DTypeError, match=r"^layer '1' \(ForgotReturn\): forward returned None, which layer '2' "
                                            r"\(Sequential\) cannot take; .*\(did it forget its return\?\)$"):
        model(np.ones((4, 3)))


@pytest.mark.parametrize("make, name, got", [
    (lambda: cr.Sequential(cr.Linear(3, 3), ForgotReturn(), seed=0), "layer '1' (ForgotReturn)", "None"),
    (lambda: cr.Sequential(cr.Linear(3, 3), cr.Sequential(cr.Tanh(), ForgotReturn()), seed=0),
     "layer '1.1' (ForgotReturn)", "None"),
    (lambda: cr.Sequential(cr.Linear(3, 3), ReturnsTuple(), seed=0), "layer '1' (ReturnsTuple)", "tuple"),
    (ForgotReturn, "ForgotReturn", "None"),
])
def test_the_last_layers_forward_that_returned_no_array_is_named_by_the_models_call(make, name, got):
    """model(X) returned None (or the tuple) without a word where the last layer's forward forgot its return;
    cr.predict and cr.fit named that layer, and so does model(X) now (a layer called on its own too)."""
    hint = r" \(did it forget its return\?\)" if got == "None" else ""
    with pytest.raises(cr.DTypeError, match=rf"^{re.escape(name)}: forward returned {got}; a layer's forward returns "
                                            rf"an array \(n_samples, n_outputs\) in its input's dtype{hint}$"):
        make()(np.ones((4, 3)))


def test_forward_given_a_list_says_that_it_converts_nothing():
    with pytest.raises(cr.DTypeError, match=r"^layer '0' \(Linear\): forward takes an array in the model's dtype "
                                            r"and converts nothing; got list: call the model, model\(X\), which "
                                            r"converts$"):
        cr.mlp([3, 4, 2], seed=0).forward([[1.0, 2.0, 3.0]])


def test_a_layers_own_attribute_error_on_an_array_is_left_alone():
    class Broken(cr.layers.layer.Layer):
        def forward(self, X):
            return X.no_such_attribute

    with pytest.raises(AttributeError, match="no_such_attribute"):
        cr.Sequential(cr.Linear(3, 3), Broken(), seed=0)(np.ones((4, 3)))


@pytest.mark.parametrize("activation", [cr.ReLU, cr.Tanh, cr.GELU])
def test_an_activation_below_a_layer_that_passes_dy_through_leaves_the_callers_dy_alone(activation):
    # In place only between two Linear layers: an Identity above returns the caller's dY itself.
    model = cr.Sequential(cr.Linear(3, 4, dtype="float64"), activation(), cr.Identity(), seed=0)
    dY = normal(1, 5, 4)
    held = dY.copy()
    model.forward(normal(0, 5, 3))
    model.backward(held)
    np.testing.assert_array_equal(held, dY)


def test_auto_init_follows_the_data_into_a_nested_block():
    # The next layer the data passes through decides, wherever it sits.
    before_block = cr.Sequential(cr.Linear(6, 6, seed=4), cr.Sequential(cr.ReLU(), cr.Linear(6, 2)))
    assert before_block[0].resolved_init == "he_normal"
    np.testing.assert_array_equal(before_block[0].own_params["W"],
                                  cr.Linear(6, 6, seed=4, init="he_normal").own_params["W"])


def test_auto_init_of_a_blocks_last_linear_follows_the_data_out_of_the_block():
    model = cr.Sequential(cr.Sequential(cr.Linear(6, 6, seed=4)), cr.ReLU(), cr.Linear(6, 2))
    assert model[0][0].resolved_init == "he_normal"
    np.testing.assert_array_equal(model[0][0].own_params["W"],
                                  cr.Linear(6, 6, seed=4, init="he_normal").own_params["W"])


def test_a_seeded_model_of_nested_blocks_draws_as_its_flat_equivalent():
    def block():
        return cr.Sequential(cr.Linear(6, 6), cr.ReLU(), cr.Linear(6, 6))
    nested = cr.Sequential(block(), cr.ReLU(), cr.Linear(6, 2), seed=0)
    flat = cr.Sequential(cr.Linear(6, 6), cr.ReLU(), cr.Linear(6, 6), cr.ReLU(), cr.Linear(6, 2), seed=0)
    assert nested[0][2].resolved_init == "he_normal"
    for array, expected in zip(nested.params.values(), flat.params.values()):
        np.testing.assert_array_equal(array, expected)


def test_auto_init_does_not_look_across_a_residual():
    # Before a Residual the data also skips f; after one it is x + f(x), not f's output: Glorot both ways.
    before = cr.Sequential(cr.Linear(6, 6), cr.Residual(cr.Sequential(cr.ReLU(), cr.Linear(6, 6))))
    inside = cr.Sequential(cr.Residual(cr.Sequential(cr.Linear(6, 6), cr.ReLU(), cr.Linear(6, 6))), cr.ReLU())
    assert before[0].resolved_init == "glorot_uniform"
    assert inside[0].f[2].resolved_init == "glorot_uniform"


def test_the_in_place_decision_follows_a_change_to_the_layers_after_a_forward():
    """The decisions are kept from one forward to the next (Sequential.in_place_flags): a model whose
    activation is no longer between two Linear layers leaves the caller's input alone, forward and backward."""
    model = cr.Sequential(cr.Linear(6, 6), cr.ReLU(), cr.Linear(6, 3), seed=0)
    model.forward(normal(0, 3, 6))
    model.backward(normal(1, 3, 3))
    assert model.in_place_flags() == (False, True, False)
    model[0] = cr.Identity()  # the ReLU's input is now the caller's X
    X = normal(2, 3, 6)
    original = X.copy()
    model.forward(X)
    np.testing.assert_array_equal(X, original)
    model[2] = cr.Identity()  # and its dY is now the caller's
    model.forward(X)
    dY = normal(3, 3, 6)
    given = dY.copy()
    model.backward(given)
    np.testing.assert_array_equal(given, dY)
    assert model.in_place_flags() == (False, False, False)


class _Scale(cr.Layer):
    """X times a factor; as a value object, == to any _Scale of the same factor (a class may define __eq__)."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, X):
        return X * self.factor

    def backward(self, dY, input_grad=True):
        return dY * self.factor

    def __eq__(self, other):
        return isinstance(other, _Scale) and other.factor == self.factor

    __hash__ = cr.Layer.__hash__


class _ScaleInPlace(_Scale):
    works_in_place = True

    def forward(self, X, inplace=False):
        return _multiply(X, self.factor, inplace)

    def backward(self, dY, input_grad=True, inplace=False):
        return _multiply(dY, self.factor, inplace)


def _multiply(X, factor, inplace):
    return np.multiply(X, factor, out=X if inplace else None)


def test_the_in_place_decision_follows_a_layer_replaced_by_one_that_compares_equal():
    """in_place_flags compared the layers with a list's !=, which calls a layer class's __eq__: a layer that works
    in place, replaced by an equal one that does not, kept its flag and was given inplace=True (TypeError)."""
    model = cr.Sequential(cr.Linear(6, 6), _ScaleInPlace(2.0), cr.Linear(6, 3), seed=0)
    X = normal(0, 3, 6)
    model.forward(X)
    assert model.in_place_flags() == (False, True, False)
    model[1] = _Scale(2.0)
    assert model[1] == _ScaleInPlace(2.0)
    assert model.in_place_flags() == (False, False, False)
    given = X.copy()
    Y = model.forward(given)  # _Scale.forward takes no inplace: a TypeError with the flag kept
    np.testing.assert_array_equal(Y, model[2].forward(2.0 * model[0].forward(X)))
    dY = np.ones_like(Y)
    model.backward(dY)


def test_append_insert_and_extend_as_in_pytorch():
    """PyTorch's nn.Sequential has them; model.append(layer) raised AttributeError."""
    model = cr.mlp([3, 4], seed=0)
    assert model.append(cr.ReLU()) is model
    assert model.extend([cr.Linear(4, 2)]) is model
    assert model.insert(1, cr.Identity()) is model and model.insert(-1, cr.Tanh()) is model
    assert [type(layer).__name__ for layer in model] == ["Linear", "Identity", "ReLU", "Tanh", "Linear"]
    assert sorted(model.params) == ["0.W", "0.b", "4.W", "4.b"]  # the paths follow
    assert cr.fit(model, np.ones((4, 3)), [0, 1, 0, 1], epochs=1, verbose=0).epochs == 1


def test_a_model_built_by_append_initializes_auto_linear_layers_as_the_constructor_does():
    """A Linear appended before its ReLU kept the Glorot draw it took as the last layer: 'auto' means He before the
    ReLU family in Sequential(...), but not in Sequential().append(...).append(...)."""
    he = cr.Linear(3, 4, seed=1, init="he_normal").own_params["W"]
    built = cr.Sequential(cr.Linear(3, 4, seed=1), cr.ReLU(), cr.Linear(4, 2, seed=2))
    appended = cr.Sequential().append(cr.Linear(3, 4, seed=1)).append(cr.ReLU()).append(cr.Linear(4, 2, seed=2))
    inserted = cr.Sequential(cr.Linear(3, 4, seed=1), cr.Linear(4, 2, seed=2)).insert(1, cr.ReLU())
    in_block = cr.Sequential(cr.Linear(3, 4, seed=1)).append(cr.Sequential(cr.ReLU(), cr.Linear(4, 2, seed=2)))
    for model in (built, appended, inserted, in_block):
        np.testing.assert_array_equal(model[0].own_params["W"], he)
    np.testing.assert_array_equal(appended[2].own_params["W"], built[2].own_params["W"])
    # Weights that are not the layer's to redraw stay: run forward, in another model too, in a slice's original
    ran = cr.Sequential(cr.Linear(3, 4, seed=1))
    ran(np.ones((1, 3)))
    shared = cr.Sequential(cr.Linear(3, 4, seed=1))
    cr.Sequential(shared[0])
    original = cr.Sequential(cr.Linear(3, 4, seed=1), cr.Linear(4, 2, seed=2))
    glorot = original[0].own_params["W"].copy()
    for model in (ran, shared, original[:1]):
        model.append(cr.ReLU())
        np.testing.assert_array_equal(model[0].own_params["W"], glorot)


def test_replacing_or_deleting_a_layer_initializes_auto_linear_layers_as_the_constructor_does():
    """model[1] = ReLU() in place of a Sigmoid left the Linear before it with its Glorot draw, and del model[1] of
    the ReLU left its He draw, where Sequential(...) of the layers that remain draws the other."""
    def made(*layers):  # fresh layers, seeded each: the constructor's draws are those to compare with
        kinds = {"L1": lambda: cr.Linear(3, 4, seed=1), "L2": lambda: cr.Linear(4, 2, seed=2),
                 "L3": lambda: cr.Linear(4, 4, seed=3), "relu": cr.ReLU, "sigmoid": cr.Sigmoid}
        return cr.Sequential(*(kinds[layer]() for layer in layers))

    def check(model, *layers):
        built = made(*layers)
        assert [type(layer) for layer in model.layers] == [type(layer) for layer in built.layers]
        for layer, expected in zip(model.layers, built.layers):
            if isinstance(layer, cr.Linear):
                assert layer.auto_init == expected.auto_init
                np.testing.assert_array_equal(layer.own_params["W"], expected.own_params["W"])

    model = made("L1", "sigmoid", "L2")
    model[1] = cr.ReLU()
    check(model, "L1", "relu", "L2")
    model[1] = cr.Sigmoid()
    check(model, "L1", "sigmoid", "L2")
    model = made("L1", "sigmoid", "sigmoid", "relu")
    model[2] = cr.Linear(4, 4, seed=3)  # a Linear put in takes what follows it too
    check(model, "L1", "sigmoid", "L3", "relu")
    for layers, index, remaining in [(("L1", "relu", "L2"), 1, ("L1", "L2")),
                                     (("L1", "relu", "relu", "L2"), slice(1, 3), ("L1", "L2")),
                                     (("L1", "relu", "L3", "relu"), -1, ("L1", "relu", "L3"))]:  # L3 now last
        model = made(*layers)
        del model[index]
        check(model, *remaining)
    # Weights that are not the layer's to redraw stay: run forward, in another model too, in a slice's original
    ran = made("L1", "sigmoid")
    ran(np.ones((1, 3)))
    shared = made("L1", "sigmoid")
    cr.Sequential(shared[0])
    original = made("L1", "sigmoid", "L2")
    for model in (ran, shared, original[:2]):
        glorot = model[0].own_params["W"].copy()
        model[1] = cr.ReLU()
        np.testing.assert_array_equal(model[0].own_params["W"], glorot)
    assert isinstance(original[1], cr.Sigmoid)
    ran = made("L1", "relu", "L2")
    ran(np.ones((1, 3)))
    he = ran[0].own_params["W"].copy()
    del ran[1]
    np.testing.assert_array_equal(ran[0].own_params["W"], he)


@pytest.mark.parametrize("add, error, message, layers", [
    (lambda model: model.append(model[0]), cr.HyperparameterError, "layer '3' is the same object as layer '0'", 3),
    (lambda model: model.append(cr.ReLU), cr.HyperparameterError,
     r"^Sequential: a layer added must be a chainrule Layer, got the class ReLU", 3),
    (lambda model: model.insert(4, cr.ReLU()), IndexError, r"^Sequential index 4: out of range for inserting into its "
                                                           r"3 layers \(from -3 to 3\)$", 3),
    (lambda model: model.insert("0", cr.ReLU()), cr.HyperparameterError, "^Sequential index: expected an int, got str",
     3),
    (lambda model: model.extend([cr.ReLU(), "relu"]), cr.HyperparameterError, "got str", 4),  # the ReLU is added
    (lambda model: model.extend(cr.ReLU()), cr.HyperparameterError, r"^Sequential.extend: expected an iterable of "
     r"layers \(a list, a tuple, a Sequential\), got ReLU; add one layer with model.append\(layer\)$", 3),
    (lambda model: model.extend(None), cr.HyperparameterError, r"^Sequential.extend: .*, got NoneType$", 3),
])
def test_a_layer_refused_by_append_or_insert_leaves_the_model_as_it_was(add, error, message, layers):
    model = cr.mlp([3, 4, 2], seed=0)
    with pytest.raises(error, match=message):
        add(model)
    assert [type(layer).__name__ for layer in model][:3] == ["Linear", "ReLU", "Linear"]
    assert len(model) == layers
