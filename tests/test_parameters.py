"""The flat parameter buffer: every parameter and gradient a view into one vector."""

import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
from tests.harness import normal


def build():
    return cr.Sequential(cr.Linear(3, 4), cr.Tanh(), cr.Residual(cr.Sequential(cr.Linear(4, 4), cr.ReLU())),
                         cr.Linear(4, 2), seed=0)


def assert_backed_by(model, flat):
    """Every parameter and gradient of ``model`` is a view into ``flat.theta`` / ``flat.grad``."""
    for name, array in model.params.items():
        assert np.shares_memory(array, flat.theta), name
        assert np.shares_memory(model.grads[name], flat.grad), name
        np.testing.assert_array_equal(flat.theta[flat.slices[name]], array.ravel())


def test_layout():
    model = build()
    flat = model.flat_parameters()
    assert flat.names == list(model.params) == ["0.W", "0.b", "2.f.0.W", "2.f.0.b", "3.W", "3.b"]
    assert flat.theta.shape == flat.grad.shape == (model.n_parameters,) == (12 + 4 + 16 + 4 + 8 + 2,)
    assert flat.theta.dtype == np.float32
    assert flat.slices["0.b"] == slice(12, 16)
    # Weight decay applies to the weights, not the biases.
    decay_mask = flat.decay_mask()
    assert decay_mask.shape == flat.theta.shape and decay_mask.dtype == flat.theta.dtype
    np.testing.assert_array_equal(decay_mask[flat.slices["0.W"]], 1)
    np.testing.assert_array_equal(decay_mask[flat.slices["0.b"]], 0)
    assert decay_mask.sum() == 12 + 16 + 8
    assert_backed_by(model, flat)


def test_views_go_both_ways():
    model = build()
    flat = model.flat_parameters()
    flat.theta[flat.slices["3.b"]] = [1.0, 2.0]
    np.testing.assert_array_equal(model.params["3.b"], [1.0, 2.0])
    model.params["0.W"][0, 0] = 7.0
    assert flat.theta[0] == 7.0
    X = normal(0, 2, 3)
    model(X)
    model.backward(np.ones((2, 2), dtype=np.float32))
    np.testing.assert_array_equal(flat.grad[flat.slices["3.b"]], [2.0, 2.0])  # db = Σ_n dY


def test_values_survive_flattening():
    model = build()
    before = {name: array.copy() for name, array in model.params.items()}
    model.flat_parameters()
    for name, array in model.params.items():
        np.testing.assert_array_equal(array, before[name])


def test_built_once():
    model = build()
    assert model.flat_parameters() is model.flat_parameters()


def test_gradients_computed_before_flattening_are_kept():
    model = build()
    model(normal(0, 3, 3))
    model.backward(np.ones((3, 2), dtype=np.float32))
    grads = {name: array.copy() for name, array in model.grads.items()}
    flat = model.flat_parameters()
    for name in grads:
        np.testing.assert_array_equal(flat.grad[flat.slices[name]], grads[name].ravel())


@pytest.mark.parametrize("duplicate", [copy.deepcopy, lambda model: pickle.loads(pickle.dumps(model))],
                         ids=["deepcopy", "pickle"])
def test_a_copy_is_flattened_anew(duplicate):
    model = build()
    original_flat = model.flat_parameters()
    twin = duplicate(model)
    twin_flat = twin.flat_parameters()
    assert twin_flat.theta is not original_flat.theta
    assert_backed_by(twin, twin_flat)
    for name in model.params:
        np.testing.assert_array_equal(twin.params[name], model.params[name])
    # An optimizer on the copy moves the copy, and only the copy.
    before = model.params["0.W"].copy()
    optimizer = cr.SGD(twin, lr=1.0)
    twin.grads["0.W"][...] = 1.0
    optimizer.step()
    np.testing.assert_array_equal(twin.params["0.W"], before - 1.0)
    np.testing.assert_array_equal(model.params["0.W"], before)


def test_nesting_a_flattened_model_re_flattens_the_outer_one():
    inner = cr.Sequential(cr.Linear(2, 3), cr.Tanh(), seed=0)
    inner_flat = inner.flat_parameters()
    values = {name: array.copy() for name, array in inner.params.items()}
    outer = cr.Sequential(inner, cr.Linear(3, 1), seed=None)
    outer_flat = outer.flat_parameters()
    assert outer_flat.names == ["0.0.W", "0.0.b", "1.W", "1.b"]
    assert outer_flat.theta is not inner_flat.theta
    assert_backed_by(outer, outer_flat)
    np.testing.assert_array_equal(outer.params["0.0.W"], values["0.W"])
    # Steps on the outer model move the inner model's layers, which it shares.
    optimizer = cr.SGD(outer, lr=1.0)
    outer.grads["0.0.W"][...] = 1.0
    optimizer.step()
    np.testing.assert_array_equal(inner.params["0.W"], values["0.W"] - 1.0)


def test_outer_optimizer_survives_the_inner_model_re_flattening():
    inner = cr.Sequential(cr.Linear(2, 3), cr.Tanh(), seed=0)
    outer = cr.Sequential(inner, cr.Linear(3, 1))
    optimizer = cr.SGD(outer, lr=1.0)
    inner.flat_parameters()  # takes the layers back into a buffer of the inner model's own
    before = inner.params["0.W"].copy()
    outer.grads["0.0.W"][...] = 1.0
    optimizer.step()  # re-flattens the outer model and updates the same layers
    np.testing.assert_array_equal(inner.params["0.W"], before - 1.0)


def test_a_parameter_rebound_by_hand_is_picked_up():
    model = build()
    model.flat_parameters()
    model[0].own_params["b"] = np.full(4, 3.0, dtype=np.float32)
    flat = model.flat_parameters()
    np.testing.assert_array_equal(flat.theta[flat.slices["0.b"]], 3.0)
    assert_backed_by(model, flat)


def test_astype_re_flattens_in_the_new_dtype():
    model = build()
    model.flat_parameters()
    model.astype("float64")
    flat = model.flat_parameters()
    assert flat.theta.dtype == flat.grad.dtype == np.float64
    assert_backed_by(model, flat)


def test_a_layer_used_twice_is_rejected():
    shared = cr.Linear(3, 3)
    message = "layer '2' is the same object as layer '0'; .* use a separate layer instead"
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.Sequential(shared, cr.Tanh(), shared)


def test_a_layer_added_twice_after_construction_is_rejected_by_flatten():
    shared = cr.Linear(3, 3)
    model = cr.Sequential(shared, cr.Tanh())
    model.layers.append(shared)
    message = "layer '2' is the same object as layer '0'; .* use a separate layer instead"
    with pytest.raises(cr.HyperparameterError, match=message):
        model.flat_parameters()
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.Adam(model)


def test_an_activation_added_twice_after_construction_is_rejected_by_flatten():
    relu = cr.ReLU()
    model = cr.Sequential(cr.Linear(3, 3), relu, cr.Linear(3, 3))
    model.layers.append(relu)
    with pytest.raises(cr.HyperparameterError, match="layer '3' is the same object as layer '1'"):
        model.flat_parameters()


def test_a_block_used_twice_is_rejected_with_nested_paths():
    block = cr.Sequential(cr.Linear(3, 3), cr.Tanh())
    with pytest.raises(cr.HyperparameterError, match="layer '1' is the same object as layer '0'"):
        cr.Sequential(block, block)
    other = cr.Sequential(block.layers[1], cr.Linear(3, 3))
    with pytest.raises(cr.HyperparameterError, match="layer '1.0' is the same object as layer '0.1'"):
        cr.Sequential(block, other)


def test_mixed_dtypes_are_rejected():
    model = cr.Sequential(cr.Linear(2, 2), cr.Tanh(), cr.Linear(2, 1, dtype="float64"))
    message = (r"all parameters of a model must share one dtype; got float32: '0.W', '0.b'; float64: '2.W', "
               r"'2.b' \(make them one with model.astype\('float32'\) or model.astype\('float64'\)\)")
    with pytest.raises(cr.DTypeError, match=message):
        model.flat_parameters()
    model.astype("float32")
    assert model.flat_parameters().theta.dtype == np.float32


def test_the_mixed_dtypes_message_lists_at_most_twelve_names_of_a_dtype():
    model = cr.Sequential(*[cr.Linear(2, 2) for _ in range(7)], cr.Linear(2, 1, dtype="float64"))
    with pytest.raises(cr.DTypeError, match=r"got float32: '0.W', .*, '5.b', \.\.\. \(14 in all\); float64: '7.W', "
                                            r"'7.b' \(make them one"):
        model.flat_parameters()


# -- the layer contract: each own_params name has its own_grads array of the same shape and dtype ----
class Scale(cr.Layer):
    """h = a ⊙ x, a custom layer holding the arrays it is given as ``own_params["a"]`` and,
    unless ``da`` is None, ``own_grads["a"]``."""

    def __init__(self, a, da):
        super().__init__()
        self.own_params["a"] = a
        if da is not None:
            self.own_grads["a"] = da

    def forward(self, X):
        self._X = X
        return X * self.own_params["a"]

    def backward(self, dY, input_grad=True):
        np.sum(dY * self._X, axis=0, out=self.own_grads["a"])
        return dY * self.own_params["a"] if input_grad else None


def ones(*shape, dtype=np.float32):
    return np.ones(shape, dtype=dtype)


BROKEN_CONTRACTS = [
    (ones(3), None, r"layer '1' \(Scale\): own_params\['a'\] has no gradient array own_grads\['a'\]; make it in "
                    r"__init__ \(zeros of the parameter's shape and dtype\) and write ∂L/∂a into it in backward"),
    (ones(3), ones(4), r"layer '1' \(Scale\): own_params\['a'\] is a NumPy array of shape \(3,\), float32 but "
                       r"own_grads\['a'\] is a NumPy array of shape \(4,\), float32; make the gradient zeros of the "
                       r"parameter's shape and dtype"),
    (ones(4), ones(2, 2), r"own_params\['a'\] is a NumPy array of shape \(4,\), float32 but own_grads\['a'\] is a "
                          r"NumPy array of shape \(2, 2\), float32"),
    (ones(3), ones(3, dtype=np.float64), r"own_grads\['a'\] is a NumPy array of shape \(3,\), float64"),
    (ones(3), [0.0, 0.0, 0.0], r"own_params\['a'\] is a NumPy array of shape \(3,\), float32 but own_grads\['a'\] "
                               r"is a list;"),
    ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0], r"layer '1' \(Scale\): own_params\['a'\] is a list, not an array"),
    # integer or boolean parameters failed at the first step with NumPy's own errors
    (ones(3, dtype=np.int64), ones(3, dtype=np.int64),
     r"layer '1' \(Scale\): own_params\['a'\] has dtype int64; a parameter is float32 or float64"),
    (ones(3, dtype=bool), ones(3, dtype=bool), r"own_params\['a'\] has dtype bool; a parameter is float32 or"),
    (ones(3, dtype=np.float16), ones(3, dtype=np.float16), r"own_params\['a'\] has dtype float16; a parameter"),
    (ones(3, dtype=">f4"), ones(3, dtype=">f4"), r"own_params\['a'\] has dtype >f4; a parameter is float32 or "
                                                  r"float64 \(in the machine's byte order\)"),
]


def scale_model(a, da):
    return cr.Sequential(cr.Linear(3, 3), Scale(a, da), cr.Linear(3, 2), seed=0)


@pytest.mark.parametrize("a, da, message", BROKEN_CONTRACTS)
def test_a_layer_breaking_the_contract_is_refused_by_flatten_naming_layer_and_parameter(a, da, message):
    with pytest.raises(cr.HyperparameterError, match=message):
        scale_model(a, da).flat_parameters()


@pytest.mark.parametrize("use", ["fit", "call", "summary", "dtype"])
def test_a_parameter_that_is_no_array_is_named_wherever_the_model_is_first_used(use):
    """fit, model(X) and summary() read the parameters' dtype before any flatten: a bare
    AttributeError ('list' object has no attribute 'dtype')."""
    model = scale_model([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    X, y = normal(0, 16, 3).astype(np.float32), np.arange(16) % 2
    act = {"fit": lambda: cr.fit(model, X, y, loss="cross_entropy", epochs=1, verbose=0), "call": lambda: model(X),
           "summary": model.summary, "dtype": lambda: model.dtype}[use]
    with pytest.raises(cr.HyperparameterError, match=r"layer '1' \(Scale\): own_params\['a'\] is a list, not an array"):
        act()


@pytest.mark.parametrize("use", ["params", "grads", "n_parameters", "n_trainable_parameters", "frozen_parameters",
                                 "flat_parameters", "save_weights"])
def test_a_parameter_named_by_no_str_is_refused_naming_layer_and_name(use, tmp_path):
    """An int name crashed params (and fit, save_weights) with a raw TypeError ("0." + 0)."""
    model = cr.Sequential(cr.Linear(3, 3), Scale(ones(3), np.zeros(3, np.float32)), seed=0)
    scale = model[1]
    scale.own_params[0], scale.own_grads[0] = scale.own_params.pop("a"), scale.own_grads.pop("a")
    act = {"flat_parameters": model.flat_parameters, "save_weights": lambda: cr.save_weights(model, tmp_path / "w")}
    with pytest.raises(cr.HyperparameterError, match=r"^layer '1' \(Scale\): own_params\[0\]: a parameter's name is "
                                                     r"a str \('W'\), got int 0; params, grads and model files"):
        act[use]() if use in act else getattr(model, use)


@pytest.mark.parametrize("use", ["n_parameters", "n_trainable_parameters", "params", "grads"])
def test_a_parameter_that_is_no_array_is_named_when_counted_or_listed(use):
    """n_parameters and n_trainable_parameters raised a raw AttributeError ('list' object has no attribute
    'size'), where summary() named the layer; params and grads listed the list."""
    model = scale_model([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    with pytest.raises(cr.HyperparameterError, match=r"^layer '1' \(Scale\): own_params\['a'\] is a list, not an "
                                                     r"array"):
        getattr(model, use)


class Holder(cr.Layer):
    """A composite whose child is named "0" and whose own parameter is named "0.W": two parameters at
    the path "0.W"."""

    def __init__(self):
        super().__init__()
        self.inner = cr.Linear(4, 4, seed=0)
        self.own_params["0.W"] = ones(4, 4)
        self.own_grads["0.W"] = np.zeros((4, 4), np.float32)

    def children(self):
        return [("0", self.inner)]

    def forward(self, X):
        return self.inner.forward(X) @ self.own_params["0.W"]

    def backward(self, dY, input_grad=True):
        return dY


@pytest.mark.parametrize("use, arrays", [("params", "own_params"), ("grads", "own_grads"),
                                         ("n_parameters", "own_params"), ("flat_parameters", "own_params"),
                                         ("save_weights", "own_params"), ("fit", "own_params")])
def test_two_parameters_at_one_path_are_refused_naming_both(use, arrays, tmp_path):
    """params showed one of the two (n_parameters 20 of the 36 numbers held), the flat buffer's names held "0.W"
    twice, and save_weights wrote one of them."""
    model = cr.Sequential(cr.Linear(4, 4), Holder(), seed=0)
    act = {"flat_parameters": model.flat_parameters, "save_weights": lambda: cr.save_weights(model, tmp_path / "w"),
           "fit": lambda: cr.fit(model, normal(0, 8, 4), np.arange(8) % 4, epochs=1, verbose=0)}
    expected = (rf"^model: two parameters have the path '1\.0\.W': {arrays}\['0\.W'\] of layer '1' \(Holder\) and "
                rf"{arrays}\['W'\] of layer '1\.0' \(Linear\); rename one of them")
    with pytest.raises(cr.HyperparameterError, match=expected):
        act[use]() if use in act else getattr(model, use)
    assert not (tmp_path / "w").exists()


def test_a_composite_s_own_parameter_may_share_a_name_with_a_child_s_at_another_path():
    holder = Holder()
    holder.own_params["W"] = holder.own_params.pop("0.W")  # "W" beside the child's "0.W": no clash
    holder.own_grads["W"] = holder.own_grads.pop("0.W")
    assert list(holder.params) == ["W", "0.W", "0.b"] and holder.n_parameters == 16 + 16 + 4


def test_a_gradient_array_without_its_parameter_is_refused():
    model = scale_model(ones(3), np.zeros(3, np.float32))
    model[1].own_grads["b"] = np.zeros(3, np.float32)
    with pytest.raises(cr.HyperparameterError, match=r"layer '1' \(Scale\): own_grads\['b'\] is the gradient of no "
                                                     r"parameter: own_params has no 'b'"):
        model.flat_parameters()


def test_the_contract_is_checked_again_when_the_buffer_is_rebuilt():
    model = scale_model(ones(3), np.zeros(3, np.float32))
    model.flat_parameters()
    model[1].own_params["a"] = ones(4)  # rebound by hand: the next flatten rebuilds
    with pytest.raises(cr.HyperparameterError, match=r"own_params\['a'\] is a NumPy array of shape \(4,\), float32 "
                                                     r"but own_grads\['a'\] is a NumPy array of shape \(3,\)"):
        model.flat_parameters()


def test_fit_refuses_a_parameter_it_could_never_train_and_trains_a_correct_one():
    X, y = normal(0, 16, 3).astype(np.float32), np.arange(16) % 2
    with pytest.raises(cr.HyperparameterError, match=r"layer '1' \(Scale\): own_params\['a'\] has no gradient"):
        cr.fit(scale_model(ones(3), None), X, y, loss="cross_entropy", epochs=1, verbose=0)
    model = scale_model(ones(3), np.zeros(3, np.float32))
    cr.fit(model, X, y, loss="cross_entropy", epochs=2, verbose=0)
    assert not np.allclose(model.params["1.a"], 1.0)


def test_fit_refuses_mixed_dtypes_naming_the_parameters_and_astype():
    X, y = normal(0, 16, 3).astype(np.float32), np.arange(16) % 2
    model = scale_model(ones(3, dtype=np.float64), np.zeros(3))
    with pytest.raises(cr.DTypeError, match=r"got float32: '0.W', '0.b', '2.W', '2.b'; float64: '1.a' \(make them "
                                            r"one with model.astype"):
        cr.fit(model, X, y, loss="cross_entropy", epochs=1, verbose=0)


def test_a_model_without_parameters():
    flat = cr.Sequential(cr.ReLU(), cr.Tanh()).flat_parameters()
    assert flat.theta.size == 0 and flat.names == []


# -- model.params / model.grads (ArraysByPath): fixed names, checked values ----------------------
def test_reading_an_unknown_name_lists_the_names_and_still_works_as_a_dict():
    params = cr.Sequential(cr.Linear(2, 1), seed=0).params
    with pytest.raises(cr.MissingKeyError, match=r"^params: the model has no parameter '1.W'; it has '0.W', '0.b'$"):
        params["1.W"]
    assert "1.W" not in params and params.get("1.W") is None and "0.W" in params
    with pytest.raises(cr.MissingKeyError, match="grads: the model has no parameter 'W'"):
        cr.Sequential(cr.Linear(2, 1), seed=0).grads["W"]


def test_or_assign_writes_into_the_model():
    model = cr.Sequential(cr.Linear(2, 1), seed=0)
    params = model.params
    params |= {"0.b": np.array([3.0], dtype=np.float32)}
    assert model.layers[0].own_params["b"][0] == 3.0
    with pytest.raises(cr.MissingKeyError, match="no parameter 'nope'"):
        params |= {"nope": np.zeros(1)}


@pytest.mark.parametrize("change", [
    lambda p: p.__delitem__("0.W"), lambda p: p.pop("0.W"), lambda p: p.popitem(),
    lambda p: p.setdefault("0.c", np.zeros(1)), lambda p: p.clear(),
], ids=["del", "pop", "popitem", "setdefault", "clear"])
def test_adding_or_removing_names_is_refused(change):
    model = cr.Sequential(cr.Linear(2, 1), seed=0)
    params = model.params
    with pytest.raises(cr.StateError, match=r"params: the names are fixed by the model; assign to an existing name"):
        change(params)
    assert list(params) == ["0.W", "0.b"] == list(model.params)


@pytest.mark.parametrize("value, error, message", [
    ("hello", cr.DTypeError, r"params\['0.W'\]: expected real numbers, got dtype <U5"),
    (np.array([["a"], ["b"]], dtype=object), cr.DTypeError, r"params\['0.W'\]: expected real numbers, got dtype object"),
    ([[1.0], [np.nan]], cr.NonFiniteError, r"params\['0.W'\]: expected finite values, found nan at index \(1, 0\)"),
    (np.array([[np.inf], [0.0]]), cr.NonFiniteError, r"params\['0.W'\]: expected finite values, found inf"),
    (np.array([[1e39], [0.0]]), cr.NonFiniteError, r"params\['0.W'\]: .* 1e\+39 .* which overflows float32"),
    (0.0, cr.ShapeError, r"params\['0.W'\]: expected shape \(2, 1\), got \(\)"),  # no broadcasting
    ([[1.0], [2.0, 3.0]], cr.ShapeError, r"params\['0.W'\]: expected an array of shape \(2, 1\), got list"),
])
def test_a_value_that_is_not_a_finite_real_array_of_the_shape_is_refused_by_name(value, error, message):
    model = cr.Sequential(cr.Linear(2, 1), seed=0)
    before = model.params["0.W"].copy()
    with pytest.raises(error, match=message):
        model.params["0.W"] = value
    np.testing.assert_array_equal(model.params["0.W"], before)


def test_an_update_with_one_bad_value_changes_nothing():
    model = cr.Sequential(cr.Linear(2, 1), seed=0)
    before = {name: array.copy() for name, array in model.params.items()}
    with pytest.raises(cr.NonFiniteError, match=r"params\['0.b'\]"):
        model.params.update({"0.W": np.zeros((2, 1), dtype=np.float32), "0.b": np.array([np.nan], dtype=np.float32)})
    for name, array in model.params.items():
        np.testing.assert_array_equal(array, before[name])


def test_integer_and_list_values_are_written():
    model = cr.Sequential(cr.Linear(2, 1), seed=0)
    model.params["0.W"] = [[1], [2]]
    model.grads["0.b"] = np.array([1])
    np.testing.assert_array_equal(model.params["0.W"], [[1.0], [2.0]])
    assert model.params["0.W"].dtype == np.float32 and model.grads["0.b"][0] == 1.0


def test_a_copy_of_params_is_a_plain_dict_of_the_weights_as_they_are():
    model = cr.mlp([3, 4, 2], seed=0)
    kept = copy.deepcopy(model.params)  # PyTorch's copy.deepcopy(model.state_dict())
    assert type(kept) is dict and set(kept) == set(model.params)
    assert all(np.array_equal(kept[name], model.params[name]) for name in kept)
    model.params["0.W"][...] = 0
    assert not np.array_equal(kept["0.W"], model.params["0.W"])  # independent of the model
    assert type(pickle.loads(pickle.dumps(model.grads))) is dict


def test_update_with_something_that_is_no_mapping_names_it():
    with pytest.raises(cr.HyperparameterError, match=r"^params.update: expected a mapping of names to arrays"):
        cr.mlp([3, 2], seed=0).params.update(5)


def test_a_rebuilt_buffer_makes_the_model_ask_again_what_is_trainable():
    # A layer appended by hand to a nested block's list (no setter counts that) is trained once
    # the buffer is rebuilt, although the block held nothing trainable before.
    added = cr.Linear(3, 3, dtype="float64", seed=1)
    inner = cr.Sequential(cr.Tanh())
    model = cr.Sequential(cr.Residual(inner), cr.Linear(3, 1, dtype="float64"), seed=0)
    X, dY = normal(0, 4, 3), normal(1, 4, 1)
    model.forward(X)
    model.backward(dY, input_grad=False)  # the block is not called: nothing in it to train
    inner.layers.append(added)
    model.flat_parameters()
    model.forward(X)
    model.backward(dY, input_grad=False)
    assert np.abs(added.own_grads["W"]).sum() > 0


def test_decay_mask_into_a_used_vector_overwrites_every_element():
    flat = cr.Sequential(cr.Linear(3, 2), cr.ReLU(), cr.Linear(2, 1), seed=0).flat_parameters()
    out = np.full_like(flat.theta, 7.0)
    assert flat.decay_mask(out=out, value=0.5) is out
    np.testing.assert_array_equal(out, 0.5 * flat.decay_mask())


class Tagged(np.ndarray):
    """An ndarray subclass: not the plain NumPy arrays of the one-pass check."""


def test_arrays_of_an_ndarray_subclass_pass_the_layer_contract_as_before():
    layer = cr.Linear(3, 2, seed=0)
    for held in (layer.own_params, layer.own_grads):
        held["b"] = held["b"].view(Tagged)
    cr.parameters.check_own_arrays(layer)
    layer.own_grads["b"] = np.zeros(2, np.float64).view(Tagged)
    with pytest.raises(cr.HyperparameterError, match=r"own_params\['b'\] is a NumPy array of shape \(2,\), float32 "
                                                     r"but own_grads\['b'\] is a NumPy array of shape \(2,\), float64"):
        cr.parameters.check_own_arrays(layer)


def test_parameters_too_many_for_the_memory_are_counted_with_the_bytes_not_a_raw_memory_error():
    # Each layer holds a read-only broadcast view (no memory of its own); θ would need 4e18 bytes,
    # more than any address space, so NumPy refuses at once and nothing is touched
    huge = np.broadcast_to(np.float32(0), (10**9, 10**9))
    model = cr.Sequential(cr.Linear(2, 3), Scale(huge, huge), seed=0)
    with pytest.raises(cr.TooLargeError, match=(
            r"^model: its 1,000,000,000,000,000,009 parameters are too many: θ and ∂L/∂θ in float32 need "
            r"8,000,000,000,000 MB, more memory than could be allocated \(the largest parameters: 1.a "
            r"\(1000000000, 1000000000\), 0.W \(2, 3\), 0.b \(3,\)\); choose smaller layers$")):
        model.flat_parameters()


def test_an_array_taken_after_the_buffer_is_built_stays_the_models_and_one_taken_before_is_a_copy():
    # As docs/design.md ("The flat parameter buffer") says: building the buffer moves the parameters.
    model = cr.mlp([4, 8, 3], seed=0)
    before = model.params["0.W"]
    cr.SGD(model, lr=0.5)
    after = model.params["0.W"]
    assert np.shares_memory(after, model.flat_parameters().theta)
    assert not np.shares_memory(before, model.flat_parameters().theta)
    after[...] = 0
    assert not model.params["0.W"].any()


@pytest.mark.parametrize("dtype, native", [(">f8", np.float64), ("<f4", np.float32), (">f4", np.float32)])
def test_a_dtype_of_either_byte_order_makes_a_model_of_native_floats(dtype, native):
    """">f8" made big-endian parameters: fit then refused its own dY (of native float64)."""
    X, y = normal(0, 10, 2), np.arange(10) % 2
    for model in (cr.mlp([2, 3, 2], seed=0, dtype=dtype), cr.mlp([2, 3, 2], seed=0).astype(dtype)):
        assert model.dtype == np.dtype(native) and all(p.dtype == np.dtype(native) for p in model.params.values())
        cr.fit(model, X, y, epochs=1, verbose=0)


@pytest.mark.parametrize("dtype", [np.float16, ">f8"])
def test_astype_converts_parameters_of_another_dtype_which_training_refuses(dtype):
    # astype checked the contract with the dtype rule first: it refused what it is there to convert
    model = scale_model(ones(3, dtype=dtype), ones(3, dtype=dtype))
    with pytest.raises(cr.HyperparameterError, match="a parameter is float32 or float64"):
        model.flat_parameters()
    model.astype("float64")
    assert model.dtype == np.float64 and model.flat_parameters().theta.dtype == np.float64
    assert cr.gradcheck(scale_model(ones(3, dtype=dtype), ones(3, dtype=dtype)), normal(0, 4, 3),
                        np.arange(4) % 2).passed()


def test_the_buffer_renames_its_parameters_when_their_layers_move():
    # A layer without parameters put in before them leaves the views in place: the same buffer,
    # its names and slices those of the paths now (they kept "0.W" after the insert).
    model = cr.Sequential(cr.Linear(3, 4), cr.ReLU(), cr.Linear(4, 2), seed=0)
    flat = model.flat_parameters()
    theta = flat.theta
    model.layers.insert(0, cr.Identity())
    renamed = model.flat_parameters()
    assert renamed is flat and renamed.theta is theta
    assert renamed.names == list(model.params) == ["1.W", "1.b", "3.W", "3.b"]
    assert renamed.slices["3.W"] == slice(16, 24)
    del model.layers[0]
    assert model.flat_parameters().names == list(model.params) == ["0.W", "0.b", "2.W", "2.b"]


def test_frozen_names_follow_the_layers_flags_and_paths():
    model = cr.Sequential(cr.Linear(3, 4), cr.ReLU(), cr.Linear(4, 2), seed=0)
    model[0].trainable = False
    assert model.flat_parameters().frozen_names() == model.frozen_parameters == ["0.W", "0.b"]
    model.layers.insert(1, cr.Identity())
    model[0].trainable, model[3].trainable = True, False
    assert model.flat_parameters().frozen_names() == model.frozen_parameters == ["3.W", "3.b"]


def tied(how: str) -> cr.Sequential:
    """An encoder and a decoder whose weights are tied the PyTorch way: one array (or a view of it) in both."""
    encoder, decoder = cr.Linear(3, 3, seed=0), cr.Linear(3, 3, seed=1)
    if how == "same array":
        decoder.own_params["W"], decoder.own_grads["W"] = encoder.own_params["W"], encoder.own_grads["W"]
    elif how == "transposed view":
        decoder.own_params["W"] = encoder.own_params["W"].T
    else:  # "gradient": each its own parameter, one gradient array
        decoder.own_grads["W"] = encoder.own_grads["W"]
    return cr.Sequential(encoder, cr.Tanh(), decoder)


@pytest.mark.parametrize("how, kind", [("same array", "own_params"), ("transposed view", "own_params"),
                                       ("gradient", "own_grads")])
def test_tied_weights_are_refused_naming_both_parameters(how, kind):
    """The flat buffer copied each into a place of its own: after the first step the two were untied
    without a word, each trained on its own use's gradient (a shared gradient array held the last backward's)."""
    message = (rf"^model: {kind}\['2.W'\] shares its memory with {kind}\['0.W'\]; the flat parameter buffer gives "
               r"each parameter and gradient a place of its own, so tied weights would be untied at the first step")
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.SGD(tied(how), lr=0.1)
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.fit(tied(how), np.ones((4, 3)), np.ones((4, 3)), epochs=1, verbose=0)
    model = tied(how)
    with pytest.raises(cr.HyperparameterError, match=message):
        model.astype("float64")  # converted apart, they would be untied too
    assert model.dtype == np.float32


def test_weights_tied_after_the_buffer_was_built_are_refused_when_it_is_built_again():
    model = cr.Sequential(cr.Linear(3, 3, seed=0), cr.Tanh(), cr.Linear(3, 3, seed=1))
    optimizer = cr.SGD(model, lr=0.1)
    model[2].own_params["W"] = model[0].own_params["W"]  # a view into θ, held by layer '0' too
    with pytest.raises(cr.HyperparameterError, match=r"own_params\['2.W'\] shares its memory with "
                                                     r"own_params\['0.W'\]"):
        optimizer.step()


def test_the_views_into_a_buffer_built_before_are_no_tied_weights():
    model = cr.mlp([3, 4, 2], seed=0)
    model.flat_parameters()
    model.layers.append(cr.Linear(2, 2))  # built again from the views into the first θ, and the new arrays
    assert model.flat_parameters().names == ["0.W", "0.b", "2.W", "2.b", "3.W", "3.b"]
    model.astype("float64")


class View(cr.Layer):
    """A layer whose one parameter is the array it is given (a view into another's memory)."""

    def __init__(self, W):
        super().__init__()
        self.own_params["W"], self.own_grads["W"] = W, np.zeros_like(W)

    def forward(self, X):
        return X

    def backward(self, dY, input_grad=True):
        return dY


def test_a_strided_view_tied_past_another_interleaved_with_it_is_refused():
    """Column 0 of one matrix held by two layers, column 1 by a third: the two spans of column 0 straddle column
    1's, which shares no element with either, and only the span reaching furthest was compared."""
    memory = np.zeros((4, 4), dtype=np.float32)
    model = cr.Sequential(View(memory[:, 0]), View(memory[:, 1]), View(memory[1:, 0]))
    with pytest.raises(cr.HyperparameterError, match=r"own_params\['2.W'\] shares its memory with own_params\['0.W'\]"):
        model.flat_parameters()
    cr.Sequential(View(memory[:, 0]), View(memory[:, 1]), View(memory[:, 2])).flat_parameters()  # interleaved, apart
