"""LayerList and LayerAttribute: a composite's layers changed by hand are named by their new paths."""

import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
from tests.harness import assert_gradients, normal, randomize_biases, regression_targets

X4 = np.zeros((2, 4), dtype=np.float32)


def paths(model):
    return [layer.path for _, layer in model.walk()]


def test_a_linear_appended_by_hand_is_named_by_its_path_as_its_parameters_are(tmp_path):
    model = cr.mlp([4, 8, 3], seed=0)
    model.layers.append(cr.Linear(5, 2, seed=1))  # takes 5 features, gets 3: its error must say where it is
    assert paths(model) == ["", "0", "1", "2", "3"]
    assert sorted(model.params) == ["0.W", "0.b", "2.W", "2.b", "3.W", "3.b"]
    with pytest.raises(cr.ShapeError, match=r"^layer '3' \(Linear\): expected input of shape \(n_samples, 5\)"):
        model(X4)
    with pytest.raises(cr.ShapeError, match=r"^layer '3' \(Linear\)"):
        model.forward(X4)  # the unchecked path too: renamed at the append, not at a call
    with pytest.raises(cr.ShapeError, match=r"^layer '3' \(Linear\)"):
        cr.fit(model, np.zeros((8, 4)), np.arange(8) % 3, epochs=1, verbose=0)


@pytest.mark.parametrize("change", [
    lambda layers: layers.insert(0, cr.Linear(4, 4, seed=2)),
    lambda layers: layers.__setitem__(slice(0, 0), [cr.Linear(4, 4, seed=2)]),
])
def test_a_layer_inserted_in_front_renames_every_layer_after_it(change):
    model = cr.mlp([4, 8, 3], seed=0)
    last = model[2]
    change(model.layers)
    assert paths(model) == ["", "0", "1", "2", "3"] and last.describe() == "layer '3' (Linear)"
    assert sorted(model.params) == ["0.W", "0.b", "1.W", "1.b", "3.W", "3.b"]


@pytest.mark.parametrize("change, kept", [
    (lambda layers: layers.pop(0), ["ReLU", "Linear"]),
    (lambda layers: layers.remove(layers[1]), ["Linear", "Linear"]),
    (lambda layers: layers.__delitem__(slice(0, 2)), ["Linear"]),
    (lambda layers: layers.reverse(), ["Linear", "ReLU", "Linear"]),
    (lambda layers: layers.sort(key=lambda layer: type(layer).__name__, reverse=True), ["ReLU", "Linear", "Linear"]),
    (lambda layers: layers.extend([cr.Tanh()]), ["Linear", "ReLU", "Linear", "Tanh"]),
    (lambda layers: layers.__iadd__([cr.Tanh()]), ["Linear", "ReLU", "Linear", "Tanh"]),
    (lambda layers: layers.clear(), []),
])
def test_every_change_in_place_renames_the_layers(change, kept):
    model = cr.Sequential(cr.Linear(4, 4, seed=0), cr.ReLU(), cr.Linear(4, 3, seed=1))
    change(model.layers)
    assert [type(layer).__name__ for layer in model.layers] == kept
    assert [layer.path for layer in model.layers] == [str(index) for index in range(len(kept))]


def test_the_paths_follow_a_change_inside_a_nested_block_and_an_assignment():
    inner = cr.Sequential(cr.Linear(4, 4, seed=0), cr.Tanh())
    model = cr.Sequential(cr.Linear(4, 4, seed=1), cr.Residual(inner), cr.Linear(4, 3, seed=2))
    inner.layers.append(cr.Linear(4, 4, seed=3))
    assert inner.layers[-1].path == "1.f.2" and "1.f.2.W" in model.params
    model.layers = [model[1], model[0], model[2]]  # the whole list assigned
    assert type(model.layers).__name__ == "LayerList"
    assert [layer.path for layer in model.layers] == ["0", "1", "2"] and inner.layers[0].path == "0.f.0"
    block = model[0]
    block.f = cr.Sequential(cr.Tanh(), cr.Linear(4, 4, seed=4))  # a Residual's f assigned by hand
    assert block.f[1].path == "0.f.1" and "0.f.1.W" in model.params


def test_something_other_than_a_layer_is_refused_and_the_list_is_left_as_it_was():
    model = cr.mlp([4, 8, 3], seed=0)
    with pytest.raises(cr.HyperparameterError, match=r"^Sequential: its layer '3' must be a chainrule Layer, got "
                                                     r"ufunc"):
        model.layers.append(np.tanh)
    assert len(model) == 3
    block = cr.Residual(cr.Tanh())
    with pytest.raises(cr.HyperparameterError, match=r"^Residual: its layer 'f' must be a chainrule Layer, got str"):
        block.f = "tanh"
    assert isinstance(block.f, cr.Tanh)


def test_an_extend_whose_iterable_fails_midway_leaves_the_list_as_it_was():
    # list.extend keeps what the iterable gave before it raised: those (a non-Layer too) stayed in the
    # model, unchecked and unnamed (path '')
    def layers_then_error(*given):
        yield from given
        raise ValueError("no more layers")

    model = cr.mlp([4, 8, 3], seed=0)
    for change in (lambda: model.layers.extend(layers_then_error(cr.Tanh(), "tanh")),
                   lambda: model.layers.__iadd__(layers_then_error(cr.Tanh()))):
        with pytest.raises(ValueError, match="no more layers"):
            change()
        assert len(model) == 3 and paths(model) == ["", "0", "1", "2"]


def test_a_layer_shared_by_two_models_is_named_by_its_path_in_the_model_called():
    first = cr.mlp([4, 8, 3], seed=0)
    second = cr.Sequential(cr.Linear(4, 4, seed=1), *first.layers)  # the same layer objects, one place later
    wrong = np.zeros((2, 5), dtype=np.float32)  # not ∂L/∂h of the last layer's (2, 3) output
    for model, path in ((first, "2"), (second, "3"), (first, "2")):
        model(X4)
        with pytest.raises(cr.ShapeError, match=rf"^layer '{path}' \(Linear\): dY must have the shape"):
            model.backward(wrong)


def test_models_that_share_nothing_are_not_walked_again_when_another_is_built_or_cut(monkeypatch):
    # Every model built (and every slice cut) counted as a renaming: calling model(X) then walked
    # and renamed the whole model again, after any other model was made.
    first = cr.mlp([4, 8, 3], seed=0)
    first(X4)
    walks = []
    set_path = cr.Layer.set_path
    monkeypatch.setattr(cr.Layer, "set_path", lambda layer, path: walks.append(layer) or set_path(layer, path))
    for seed in range(3):
        second = cr.mlp([4, 6, 3], seed=seed)
        second(X4), first[0:2], first(X4)
    assert first not in walks
    assert paths(first) == ["", "0", "1", "2"]


def test_fit_names_a_shared_layer_by_its_path_in_the_model_trained():
    class Flat(cr.Layer):
        """Returns a vector: fit's check of the outputs names it."""

        def forward(self, X):
            return X[:, 0]

        def backward(self, dY, input_grad=True):
            return None

    odd = Flat()
    first = cr.Sequential(cr.Linear(4, 3, seed=0), odd)
    cr.Sequential(cr.Linear(4, 4, seed=1), cr.ReLU(), cr.Linear(4, 4, seed=2), odd)  # names it "3"
    assert odd.path == "3"
    with pytest.raises(cr.ShapeError, match=r"layer '1' \(Flat\)"):
        cr.fit(first, np.zeros((8, 4)), np.arange(8) % 3, epochs=1, verbose=0)


def test_a_copy_has_a_list_of_its_own_that_renames_its_own_layers():
    model = cr.mlp([4, 8, 3], seed=0)
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert paths(twin) == paths(model)
        twin.layers.insert(0, cr.Linear(4, 4, seed=1))
        assert [layer.path for layer in twin.layers] == ["0", "1", "2", "3"]
        assert len(model) == 3 and [layer.path for layer in model.layers] == ["0", "1", "2"]
    shallow = copy.copy(model)  # the same layer objects in a list of its own
    shallow.layers.insert(0, cr.Linear(4, 4, seed=1))
    assert len(model) == 3 and model[0].path == "1"  # named by the model that changed last
    model(X4)
    assert [layer.path for layer in model.layers] == ["0", "1", "2"]  # and by the model called


def test_a_slice_keeps_the_paths_of_the_model_it_was_cut_from():
    model = cr.mlp([4, 8, 8, 3], seed=0)
    part = model[2:]
    with pytest.raises(cr.ShapeError, match=r"^layer '2' \(Linear\)"):
        part(np.zeros((2, 5), dtype=np.float32))
    assert sorted(part.params) == ["0.W", "0.b", "2.W", "2.b"]  # numbered from 0, as PyTorch's slices
    assert [layer.path for layer in copy.deepcopy(part).layers] == ["2", "3", "4"]


def test_onnx_names_a_shared_layers_initializers_as_the_models_params(tmp_path):
    pytest.importorskip("onnx")
    first = cr.mlp([4, 8, 3], seed=0)
    cr.Sequential(first[2], cr.ReLU(), cr.Linear(3, 3, seed=1))  # the head, shared: "0" in that model
    proto = cr.to_onnx(first, tmp_path / "first.onnx")
    assert sorted(tensor.name for tensor in proto.graph.initializer) == sorted(first.params)


def in_place_block(model):
    """A Linear and a ReLU put between the Tanh and the last Linear: both activations then sit between
    two Linear layers, so the Sequential lets them overwrite their input."""
    model.layers[2:2] = [cr.Linear(6, 6, seed=1), cr.ReLU()]
    assert model.in_place_flags() == (False, True, False, True, False)
    return model


def replaced_activation(model):
    model[1] = cr.GELU()
    assert model.in_place_flags() == (False, True, False)
    return model


def removed_activation(model):
    del model.layers[1]
    return model


@pytest.mark.parametrize("change, n_in, n_out", [
    (lambda model: (model.layers.append(cr.Linear(3, 2, seed=1)), model)[1], 4, 2),
    (lambda model: (model.layers.insert(0, cr.Linear(4, 4, seed=1)), model)[1], 4, 3),
    (in_place_block, 4, 3),
    (replaced_activation, 4, 3),
    (removed_activation, 4, 3),
    (lambda model: model[1:], 6, 3),
], ids=["append", "insert in front", "slice assignment making in-place layers", "setitem", "del", "a slice"])
def test_gradcheck_after_the_layers_are_changed_by_hand(change, n_in, n_out):
    """Backward follows the layers as changed (and the in-place permissions worked out again), in
    backward outside a training loop and as cr.fit runs it; a slice's backward is its layers'."""
    model = randomize_biases(change(cr.Sequential(cr.Linear(4, 6), cr.Tanh(), cr.Linear(6, 3), seed=0)), 2)
    assert_gradients(model, normal(0, 5, n_in), regression_targets(1, 5, n_out))
