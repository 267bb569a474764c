"""activation_layer and mlp (chainrule.layers): building layers and networks from names."""

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


def test_mlp_invalid_width():
    with pytest.raises(cr.HyperparameterError, match=r"sizes\[1\]: expected an integer >= 1, got 0"):
        cr.mlp([3, 0, 2])


def test_every_activation_is_known_by_name():
    assert set(ACTIVATIONS) == {"relu", "leaky_relu", "sigmoid", "logistic", "tanh", "gelu", "identity", "softmax"}


@pytest.mark.parametrize("name", [["relu"], {"relu": 1}, None, 3])
def test_a_name_that_is_not_a_string_is_rejected(name):
    with pytest.raises(cr.HyperparameterError, match="activation: unknown name"):
        cr.activation_layer(name)
    with pytest.raises(cr.HyperparameterError, match="activation: unknown name"):
        cr.mlp([2, 3, 1], name)


@pytest.mark.parametrize("sizes, message", [
    ([4, 6.0, 3], r"sizes\[1\]: expected an integer >= 1, got 6.0"),
    ([4, 3, 0], r"sizes\[2\]: expected an integer >= 1, got 0"),
    ([4, True, 3], r"sizes\[1\]: expected an integer >= 1, got True"),
    (5, "sizes: expected a list of layer widths, got int"),
])
def test_mlp_names_a_bad_width_by_its_position(sizes, message):
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.mlp(sizes)
