"""activation_layer and mlp (chainrule.layers): building layers and networks from names."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.layers import ACTIVATIONS


@pytest.mark.parametrize("name, kind", [
    ("relu", cr.ReLU), ("leaky_relu", cr.LeakyReLU), ("sigmoid", cr.Sigmoid), ("logistic", cr.Sigmoid),
    ("tanh", cr.Tanh), ("gelu", cr.GELU), ("identity", cr.Identity), ("softmax", cr.Softmax),
])
def test_activation_layer(name, kind):
    first, second = cr.activation_layer(name), cr.activation_layer(name)
    assert type(first) is kind
    assert first is not second  # a new layer each time


def test_unknown_activation_lists_the_known_names():
    with pytest.raises(cr.HyperparameterError, match="activation: unknown name 'nope'; expected one of relu, "):
        cr.activation_layer("nope")


def test_mlp_structure():
    model = cr.mlp([64, 128, 64, 10], seed=0)
    kinds = [type(layer) for layer in model.layers]
    assert kinds == [cr.Linear, cr.ReLU, cr.Linear, cr.ReLU, cr.Linear]
    assert [(layer.n_in, layer.n_out) for layer in model.layers[::2]] == [(64, 128), (128, 64), (64, 10)]
    assert list(model.params) == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert model.dtype == np.float32
    assert model(np.zeros((3, 64))).shape == (3, 10)


def test_mlp_activation_and_dtype():
    model = cr.mlp([3, 5, 2], "tanh", dtype="float64")
    assert [type(layer) for layer in model.layers] == [cr.Linear, cr.Tanh, cr.Linear]
    assert model.dtype == np.float64


def test_mlp_seed_is_reproducible():
    a, b = cr.mlp([4, 6, 2], seed=3), cr.mlp([4, 6, 2], seed=3)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])


def test_mlp_unknown_activation():
    with pytest.raises(cr.HyperparameterError, match="activation: unknown name 'nope'"):
        cr.mlp([3, 4, 2], activation="nope")


@pytest.mark.parametrize("sizes", [[], [3]])
def test_mlp_needs_two_sizes(sizes):
    with pytest.raises(cr.HyperparameterError, match="sizes: expected at least an input and an output width"):
        cr.mlp(sizes)


def test_mlp_names_activations_of_the_wrong_count_cut():
    """The list of names went whole into the message."""
    with pytest.raises(cr.HyperparameterError, match=r"^activation: expected 2 names, one per hidden layer, got 3: "
                                                     r"\['relu', '" + "x" * 50 + r"\.\.\.$"):
        cr.mlp([3, 4, 4, 2], activation=["relu", "x" * 100_000, "tanh"])


def test_mlp_names_a_single_size_too_large_to_write():
    """The list's repr raised ValueError inside the message."""
    with pytest.raises(cr.HyperparameterError, match=r"output width, got <list holding an int of more than"):
        cr.mlp([10 ** 5000])


def test_mlp_invalid_width():
    with pytest.raises(cr.HyperparameterError, match=r"sizes\[1\]: expected an integer >= 1, got 0"):
        cr.mlp([3, 0, 2])


def test_every_activation_is_known_by_name():
    assert set(ACTIVATIONS) == {"relu", "leaky_relu", "sigmoid", "logistic", "tanh", "gelu", "identity", "softmax"}


@pytest.mark.parametrize("name", [["relu"], {"relu": 1}, None, 3])
def test_a_name_that_is_not_a_string_is_rejected(name):
    with pytest.raises(cr.HyperparameterError, match="activation: unknown name"):
        cr.activation_layer(name)


@pytest.mark.parametrize("name, shown", [("x" * 100_000, "'" + "x" * 59 + "..."),
                                         (10 ** 5000, "<an int of 16,610 bits>")], ids=["long", "huge_int"])
@pytest.mark.parametrize("build, argument", [(cr.activation_layer, "activation"),
                                             (lambda name: cr.mlp([3, 4, 4, 2], activation=["relu", name]),
                                              r"activation\[1\]")], ids=["activation_layer", "mlp"])
def test_the_name_in_an_unknown_activation_error_is_quoted_and_cut(build, argument, name, shown):
    """The whole name went into the message, and an int too large for repr raised ValueError."""
    with pytest.raises(cr.HyperparameterError, match=rf"^{argument}: unknown name {re.escape(shown)}; ") as caught:
        build(name)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("name", [{"relu": 1}, None, 3])  # a list is mlp's one name per hidden layer
def test_mlp_refuses_an_activation_that_is_neither_a_name_nor_a_list(name):
    with pytest.raises(cr.HyperparameterError, match="activation: unknown name"):
        cr.mlp([2, 3, 1], name)


@pytest.mark.parametrize("sizes, message", [
    ([4, 6.0, 3], r"sizes\[1\]: expected an integer >= 1, got 6.0"),
    ([4, 3, 0], r"sizes\[2\]: expected an integer >= 1, got 0"),
    ([4, True, 3], r"sizes\[1\]: expected an integer >= 1, got True"),
    (5, "sizes: expected a list of layer widths, got int"),
    # a set or a dict's keys built a network of other widths, in another order, without a word
    ({3, 10}, r"sizes: expected a list of layer widths in order, got set \{"),
    ({784: "x", 10: "y"}, r"sizes: expected a list of layer widths in order, got dict \{784: 'x', 10: 'y'\}"),
    ("784", "sizes: expected a list of layer widths in order, got str '784'"),
])
def test_mlp_names_a_bad_width_by_its_position(sizes, message):
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.mlp(sizes)


# -- mlp's options: an activation per hidden layer, init, output_activation -----------------


def assert_same_model(model, reference):
    assert repr(model) == repr(reference)
    assert list(model.params) == list(reference.params)
    for name in reference.params:
        np.testing.assert_array_equal(model.params[name], reference.params[name])


@pytest.mark.parametrize("activation, dtype", [("relu", "float32"), ("tanh", "float64")])
def test_mlp_defaults_build_the_hand_built_sequential(activation, dtype):
    kind = type(cr.activation_layer(activation))
    reference = cr.Sequential(cr.Linear(4, 8, dtype=dtype), kind(), cr.Linear(8, 6, dtype=dtype), kind(),
                              cr.Linear(6, 3, dtype=dtype), seed=0)
    assert_same_model(cr.mlp([4, 8, 6, 3], activation, seed=0, dtype=dtype), reference)


@pytest.mark.parametrize("activation", [["tanh", "relu"], ("tanh", "relu")])
def test_mlp_takes_one_activation_per_hidden_layer(activation):
    reference = cr.Sequential(cr.Linear(4, 8), cr.Tanh(), cr.Linear(8, 6), cr.ReLU(), cr.Linear(6, 3), seed=0)
    model = cr.mlp([4, 8, 6, 3], activation, seed=0)
    assert_same_model(model, reference)
    # "auto" follows each layer's own activation: Glorot before Tanh, He before ReLU.
    assert [layer.resolved_init for layer in model.layers[::2]] == ["glorot_uniform", "he_normal", "glorot_uniform"]


def test_mlp_without_hidden_layers_takes_an_empty_list():
    assert_same_model(cr.mlp([4, 3], [], seed=0), cr.mlp([4, 3], seed=0))


@pytest.mark.parametrize("sizes, activation, message", [
    ([4, 8, 6, 3], ["relu"], r"activation: expected 2 names, one per hidden layer, got 1: \['relu'\]"),
    ([4, 3], ["relu"], r"activation: expected 0 names, one per hidden layer, got 1"),
    ([4, 3, 2], ["relu", "tanh"], r"^activation: expected 1 name, one per hidden layer, got 2"),  # was "1 names"
    ([4, 8, 6, 3], ["relu", "nope"], r"activation\[1\]: unknown name 'nope'; expected one of relu, "),
    ([4, 8, 6, 3], ["relu", None], r"activation\[1\]: unknown name None"),
])
def test_mlp_names_a_bad_list_of_activations(sizes, activation, message):
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.mlp(sizes, activation)


@pytest.mark.parametrize("init", ["he_uniform", "xavier_normal", "zeros"])
def test_mlp_passes_init_to_every_linear(init):
    model = cr.mlp([4, 8, 6, 3], init=init, seed=0)
    reference = cr.Sequential(cr.Linear(4, 8, init=init), cr.ReLU(), cr.Linear(8, 6, init=init), cr.ReLU(),
                              cr.Linear(6, 3, init=init), seed=0)
    assert_same_model(model, reference)
    assert all(layer.init == init for layer in model.layers[::2])


@pytest.mark.parametrize("init, message", [
    ("nope", "init: unknown initializer 'nope'; expected one of "),
    (["he_normal"], r"init: expected an initializer name, got \['he_normal'\]"),
    (None, "init: expected an initializer name, got None"),
])
def test_mlp_refuses_a_bad_init(init, message):
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.mlp([4, 8, 3], init=init)


def test_mlp_output_activation_follows_the_last_linear():
    model = cr.mlp([4, 8, 1], output_activation="sigmoid", seed=0)
    reference = cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 1), cr.Sigmoid(), seed=0)
    assert_same_model(model, reference)
    Y = model(np.random.default_rng(0).normal(size=(20, 4)).astype("float32") * 10)
    assert np.all((Y > 0) & (Y < 1))


def test_mlp_output_activation_sets_the_last_linears_auto_init():
    assert cr.mlp([4, 8, 3], output_activation="relu", seed=0).layers[2].resolved_init == "he_normal"


@pytest.mark.parametrize("name", ["nope", 3, ["sigmoid"]])
def test_mlp_refuses_an_unknown_output_activation(name):
    with pytest.raises(cr.HyperparameterError, match="output_activation: unknown name"):
        cr.mlp([4, 8, 3], output_activation=name)


def test_mlp_with_a_sigmoid_output_fits_targets_in_the_unit_interval():
    X = np.random.default_rng(0).normal(size=(64, 3))
    y = 1 / (1 + np.exp(-X.sum(axis=1)))  # float targets in (0, 1): the default loss is MSE
    model = cr.mlp([3, 8, 1], output_activation="sigmoid", seed=0)
    history = cr.fit(model, X, y, epochs=30, lr=0.05, optimizer="adam", verbose=0)
    assert history["loss"][-1] < history["loss"][0] / 4
    assert np.all((cr.predict(model, X) > 0) & (cr.predict(model, X) < 1))


def test_mlp_with_every_option_saves_loads_and_exports(tmp_path):
    model = cr.mlp([3, 8, 6, 2], ["gelu", "leaky_relu"], init="he_uniform", output_activation="softmax",
                   seed=0, dtype="float64")
    X = np.random.default_rng(1).normal(size=(5, 3))
    cr.save(model, tmp_path / "model.safetensors")
    loaded = cr.load(tmp_path / "model.safetensors")
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded(X), model(X))
    onnx = pytest.importorskip("onnx", reason="the ONNX part needs the optional onnx package")
    from chainrule.onnx_export import to_onnx

    proto = to_onnx(loaded, tmp_path / "model.onnx")
    assert [node.op_type for node in proto.graph.node][-1] == "Softmax"
    onnx.checker.check_model(proto)
    ort = pytest.importorskip("onnxruntime", reason="the ONNX part needs the optional onnxruntime package")
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["Y"], {"X": X})[0], model(X), rtol=1e-7, atol=1e-7)


def test_mlp_takes_widths_from_any_ordered_sequence():
    for sizes in ((3, 4, 2), np.array([3, 4, 2]), range(3, 1, -1)):
        widths = [layer.n_out for layer in cr.mlp(sizes, seed=0).layers if isinstance(layer, cr.Linear)]
        assert widths == list(sizes)[1:]
