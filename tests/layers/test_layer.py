"""The layer contract: the checked entry point ``layer(X)``, paths, params/grads, dtype."""

import copy
import pickle
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.layers.layer import SET_BY_LAYER_INIT, is_set_up
from tests.harness import normal


def small_model():
    return cr.Sequential(cr.Linear(3, 4), cr.Tanh(), cr.Sequential(cr.Linear(4, 2), cr.Sigmoid()), seed=0)


@pytest.mark.parametrize("shape", [(5,), (2, 3, 1), ()])
def test_wrong_rank(shape):
    message = (r"X \(input of Sequential\): expected a 2-d array \(n_samples, n_features\), "
               rf"got shape {re.escape(str(shape))}")
    with pytest.raises(cr.ShapeError, match=message):
        small_model()(np.zeros(shape))


@pytest.mark.parametrize("bad, shown", [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_non_finite_input_names_the_position(bad, shown):
    X = np.ones((4, 3))
    X[2, 1] = bad
    with pytest.raises(cr.NonFiniteError, match=rf"X \(input of Sequential\): expected finite values, found {shown} "
                                                 r"at index \(2, 1\) \(1 non-finite value in all\)"):
        small_model()(X)


def test_non_finite_input_to_a_layer_without_parameters():
    X = np.zeros((2, 2))
    X[0, 0] = np.nan
    with pytest.raises(cr.NonFiniteError, match=r"X \(input of ReLU\)"):
        cr.ReLU()(X)


def test_non_numeric_input():
    with pytest.raises(cr.DTypeError, match=r"X \(input of Sequential\): expected real numbers, got dtype <U1"):
        small_model()(np.array([["a", "b", "c"]]))


def test_ragged_input():
    with pytest.raises(cr.ShapeError, match="expected a rectangular array"):
        small_model()([[1.0, 2.0, 3.0], [1.0]])


def test_lists_and_integers_are_converted_to_the_model_dtype():
    model = small_model()
    from_list = model([[1, 2, 3]])
    assert from_list.dtype == np.float32
    np.testing.assert_array_equal(from_list, model(np.array([[1.0, 2.0, 3.0]], dtype=np.float32)))


def test_float64_input_is_cast_to_a_float32_model():
    model = small_model()
    assert model(normal(0, 2, 3)).dtype == np.float32


def test_a_layer_without_parameters_keeps_the_input_float_dtype():
    assert cr.Tanh()(np.zeros((1, 2))).dtype == np.float64
    assert cr.Tanh()(np.zeros((1, 2), dtype=np.float32)).dtype == np.float32
    assert cr.Tanh()(np.zeros((1, 2), dtype=np.int64)).dtype == np.float32


def test_paths_and_describe():
    model = small_model()
    assert [prefix for prefix, _ in model.walk()] == ["", "0.", "1.", "2.", "2.0.", "2.1."]
    assert model[2][0].path == "2.0"
    assert model[2][0].describe() == "layer '2.0' (Linear)"
    assert model.describe() == "Sequential"
    assert list(model.params) == ["0.W", "0.b", "2.0.W", "2.0.b"]
    assert list(model.grads) == list(model.params)


def test_params_are_writable_views_of_the_model():
    model = small_model()
    X = normal(0, 2, 3)
    model.params["2.0.W"][...] = 0
    model.params["2.0.b"][...] = 10
    np.testing.assert_allclose(model(X), 1 / (1 + np.exp(-10.0)), rtol=1e-6)


def test_n_parameters_and_dtype():
    model = small_model()
    assert model.n_parameters == 3 * 4 + 4 + 4 * 2 + 2
    assert model.dtype == np.float32
    assert cr.ReLU().dtype is None


def test_parameter_facts_give_dtype_device_and_the_first_parameter_layer_from_one_walk():
    first = cr.Linear(5, 5)
    model = cr.Sequential(cr.ReLU(), cr.Residual(cr.Sequential(first, cr.Tanh())), cr.Linear(5, 2))
    walks = []
    model.walk = lambda prefix="": walks.append(prefix) or cr.Layer.walk(model, prefix)  # the root's walks only
    dtype, device, holder = model.parameter_facts()
    assert (dtype, device, holder) == (np.float32, "cpu", first) and len(walks) == 1
    assert model.astype("float64").parameter_facts()[0] == np.float64
    assert cr.Sequential(cr.ReLU(), cr.Tanh()).parameter_facts() == (None, "cpu", None)
    first.own_params["W"] = first.own_params["W"].astype(np.float32)  # one float32 array among float64 ones
    with pytest.raises(cr.DTypeError, match=r"share one dtype; got float32: '1\.f\.0\.W'; float64: '1\.f\.0\.b'"):
        model.parameter_facts()


def test_astype():
    model = small_model()
    before = {name: array.copy() for name, array in model.params.items()}
    assert model.astype("float64") is model
    for name, array in model.params.items():
        assert array.dtype == np.float64
        assert model.grads[name].dtype == np.float64
        np.testing.assert_array_equal(array, before[name])
    with pytest.raises(cr.HyperparameterError, match="dtype: expected one of 'float32', 'float64'; got 'int32'"):
        model.astype("int32")


def test_initialize_is_reproducible():
    a, b = small_model(), small_model()
    b.initialize(seed=1)
    assert not np.array_equal(a.params["0.W"], b.params["0.W"])
    assert b.initialize(seed=0) is b
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])


def test_base_layer_must_be_subclassed():
    with pytest.raises(NotImplementedError, match="Layer does not implement forward"):
        cr.Layer().forward(np.zeros((1, 1)))
    with pytest.raises(NotImplementedError, match="Layer does not implement backward"):
        cr.Layer().backward(np.zeros((1, 1)))


@given(shape=st.lists(st.integers(0, 4), max_size=3))
def test_no_raw_numpy_error_escapes_for_any_input_shape(shape):
    model = small_model()
    X = np.random.default_rng(0).normal(size=shape)
    try:
        Y = model(X)
    except cr.ShapeError:
        return  # a wrong rank or width, reported by chainrule
    assert X.shape[1:] == (3,)
    assert Y.shape == (X.shape[0], 2)


def test_buffers_are_reused_only_inside_reusing_buffers():
    layer = cr.Linear(3, 4)
    like = np.zeros((8, 3), np.float32)
    assert layer.buffer("Z", (8, 4), like) is not layer.buffer("Z", (8, 4), like)
    with layer.reusing_buffers():
        first = layer.buffer("Z", (8, 4), like)
        assert first.shape == (8, 4) and first.dtype == np.float32
        assert np.shares_memory(layer.buffer("Z", (8, 4), like), first)  # the next step: the same memory
        last_batch = layer.buffer("Z", (5, 4), like)  # a smaller last batch: its first rows
        assert last_batch.shape == (5, 4) and np.shares_memory(last_batch, first)
        assert np.shares_memory(layer.buffer("Z", (8, 4), like), first)
        mask = layer.buffer("mask", (8, 4), like, dtype=bool)
        assert mask.dtype == bool and not np.shares_memory(mask, first)
        wider = layer.buffer("Z", (8, 6), like)  # another shape: new memory
        assert wider.shape == (8, 6) and not np.shares_memory(wider, first)
        as_float64 = layer.buffer("Z", (8, 6), like.astype(np.float64))  # another dtype: new memory
        assert as_float64.dtype == np.float64 and not np.shares_memory(as_float64, wider)
    after = layer.buffer("Z", (8, 6), like.astype(np.float64))
    assert after.dtype == np.float64 and not np.shares_memory(after, as_float64)


@pytest.mark.parametrize("make", [cr.ReLU, cr.Tanh, cr.GELU, cr.Identity])
def test_ragged_input_to_a_layer_without_parameters(make):
    with pytest.raises(cr.ShapeError, match=r"X \(input of \w+\): expected a rectangular array"):
        make()([[1.0, 2.0], [1.0]])


def every_layer():
    return [cr.Linear(3, 3), cr.ReLU(), cr.LeakyReLU(), cr.Sigmoid(), cr.Tanh(), cr.GELU(), cr.Softmax(),
            cr.Identity(), cr.Sequential(cr.Linear(3, 3), cr.ReLU()), cr.Residual(cr.Tanh())]


@pytest.mark.parametrize("layer", every_layer(), ids=lambda layer: type(layer).__name__)
def test_backward_before_forward_is_a_state_error_saying_call_forward_first(layer):
    # It used to be a ShapeError, though no shape is wrong: the calls are out of order.
    with pytest.raises(cr.StateError, match="call forward first"):
        layer.backward(np.ones((2, 3), dtype=np.float32))


@pytest.mark.parametrize("layer", every_layer(), ids=lambda layer: type(layer).__name__)
@pytest.mark.parametrize("shape", [(1, 3), (3,), (4, 3), (2, 1)])
def test_a_dY_of_another_shape_is_a_shape_error_never_broadcast(layer, shape):
    # A (1, 3) or (3,) dY used to broadcast over the batch into a wrong (2, 3) gradient.
    model = cr.Sequential(cr.Identity(), layer)  # gives the layer a path to be named by
    model.forward(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(cr.ShapeError, match=rf"layer '1[.0-9f]*' \(\w+\): dY must have the shape of the last "
                                            rf"forward's output, \(2, 3\); got {re.escape(str(shape))}"):
        model.backward(np.ones(shape, dtype=np.float32))


@pytest.mark.parametrize("layer", every_layer(), ids=lambda layer: type(layer).__name__)
@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_a_dY_of_another_dtype_is_a_dtype_error(layer, dtype):
    layer.forward(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(cr.DTypeError, match=rf"dY must have the dtype of the last forward's output, float32; "
                                            rf"got {np.dtype(dtype).name}"):
        layer.backward(np.ones((2, 3), dtype=dtype))


def test_a_list_dY_is_a_shape_error():
    layer = cr.ReLU()
    layer.forward(np.ones((2, 3)))
    with pytest.raises(cr.ShapeError, match=r"ReLU: dY must have the shape .* \(2, 3\); got list"):
        layer.backward([[1.0] * 3] * 2)


# -- model.params / model.grads: assignments write into the model's arrays ---------------------------
def test_assigning_a_parameter_writes_it_into_the_model():
    model = cr.Sequential(cr.Linear(4, 3), cr.ReLU(), cr.Linear(3, 2), seed=0)
    theta = model.flat_parameters().theta
    model.params["0.W"] = np.zeros((4, 3), dtype=np.float32)
    assert not model.params["0.W"].any() and not model.layers[0].own_params["W"].any()
    assert model.flat_parameters().theta is theta  # the same buffer, now holding the zeros
    model.params.update({"2.b": np.ones(2, dtype=np.float32)})
    assert np.array_equal(model.forward(np.zeros((1, 4), dtype=np.float32)), [[1.0, 1.0]])


def test_assigning_a_gradient_writes_it_where_the_optimizer_reads():
    model = cr.Sequential(cr.Linear(2, 1), seed=0)
    before = model.params["0.b"].copy()
    model.grads["0.b"] = np.ones(1, dtype=np.float32)
    cr.SGD(model, lr=0.5).step()
    assert np.array_equal(model.params["0.b"], before - 0.5)


def test_assigning_an_unknown_name_or_another_shape_is_refused_by_name():
    model = cr.Sequential(cr.Linear(2, 1), seed=0)
    with pytest.raises(cr.MissingKeyError, match="params: the model has no parameter '1.W'; it has '0.W', '0.b'"):
        model.params["1.W"] = np.zeros((2, 1))
    with pytest.raises(cr.ShapeError, match=r"grads\['0.W'\]: expected shape \(2, 1\), got \(1, 2\)"):
        model.grads["0.W"] = np.zeros((1, 2))


# -- a user's own layer (the summary tests in test_summary.py use it too) -----------------------------
class Scale(cr.Layer):
    """A user's own leaf layer with one parameter: h = s x, s of shape (n_features,)."""

    def __init__(self, n_features):
        super().__init__()
        self.own_params["s"] = np.ones(n_features, dtype=np.float32)
        self.own_grads["s"] = np.zeros(n_features, dtype=np.float32)

    def forward(self, X):
        self._X = X
        return X * self.own_params["s"]

    def backward(self, dY, input_grad=True):
        self.own_grads["s"][...] = (dY * self._X).sum(axis=0)
        return dY * self.own_params["s"] if input_grad else None


# -- the layer contract and one dtype per model -------------------------------------------------------
def test_astype_and_to_refuse_a_parameter_without_its_gradient_before_converting_anything():
    scale = Scale(4)
    del scale.own_grads["s"]
    model = cr.Sequential(cr.Linear(3, 4), scale, seed=0)
    message = (r"layer '1' \(Scale\): own_params\['s'\] has no gradient array own_grads\['s'\]; make it in "
               r"__init__ \(zeros of the parameter's shape and dtype\) and write ∂L/∂s into it in backward")
    with pytest.raises(cr.HyperparameterError, match=message):
        model.astype("float64")
    assert model.params["0.W"].dtype == np.float32  # nothing converted
    with pytest.raises(cr.HyperparameterError, match=message):
        model.to("cpu")


def test_astype_refuses_a_gradient_of_another_shape():
    scale = Scale(4)
    scale.own_grads["s"] = np.zeros(5, dtype=np.float32)
    with pytest.raises(cr.HyperparameterError, match=r"^Scale: own_params\['s'\] is a NumPy array of shape \(4,\), "
                                                     r"float32 but own_grads\['s'\] is a NumPy array of shape \(5,\)"):
        scale.astype("float64")


def test_a_model_with_two_dtypes_has_no_dtype_but_shows_both():
    scale = Scale(4).astype("float64")
    model = cr.Sequential(cr.Linear(3, 4), scale, seed=0)
    message = (r"all parameters of a model must share one dtype; got float32: '0.W', '0.b'; float64: '1.s' "
               r"\(make them one with model.astype\('float32'\) or model.astype\('float64'\)\)")
    with pytest.raises(cr.DTypeError, match=message):
        model.dtype
    with pytest.raises(cr.DTypeError, match=message):
        model(np.ones((2, 3), dtype=np.float32))
    assert repr(model) == "Sequential(\n  Linear(3, 4, init='auto'),\n  Scale()\n)"
    assert model.summary().splitlines()[-2:] == ["20 parameters, mixed dtypes: 16 float32, 4 float64",
                                                 "trainable: 20, non-trainable: 0"]
    assert model.astype("float32").dtype == np.float32
    assert model(np.ones((2, 3))).dtype == np.float32


@pytest.mark.parametrize("decayed, message", [
    ({"S"}, r"layer '1' \(Scale\): decayed names 'S', which is not one of its own parameters \('s'\); weight "
            r"decay would not apply to it"),
    ("s", r"layer '1' \(Scale\): decayed must be a set of names of its own parameters \(frozenset\(\{'W'\}\)\), "
          r"got str 's'"),
    # its repr raised ValueError inside the message
    pytest.param(10 ** 5000, r"layer '1' \(Scale\): decayed must be a set of .*, got int <an int of 16,610 bits>$",
                 id="huge int"),
    pytest.param({10 ** 5000}, r"layer '1' \(Scale\): decayed names <an int of 16,610 bits>, which is not one of",
                 id="huge int name"),
])
def test_decayed_naming_no_parameter_or_a_str_is_refused_by_name_until_corrected(decayed, message):
    """A typo in decayed left the parameter without weight decay, silently."""
    scale = Scale(4)
    scale.decayed = decayed
    model = cr.Sequential(cr.Linear(3, 4), scale, seed=0)
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.SGD(model, lr=0.1, weight_decay=0.5)
    with pytest.raises(cr.HyperparameterError, match=message):  # still refused: the buffer built is not kept
        model.flat_parameters()
    scale.decayed = frozenset({"s"})
    optimizer = cr.SGD(model, lr=0.1, weight_decay=0.5)
    optimizer.step()  # gradients are 0: only weight decay moves s, from 1 to 1 - 0.1 * 0.5
    np.testing.assert_allclose(model.params["1.s"], np.full(4, 0.95, np.float32))


def test_a_layer_that_skipped_super_init_says_so_wherever_it_is_used():
    """fit, model(X), summary() and gradcheck raised AttributeErrors such as "'NoSuper' object has
    no attribute 'preprocessor'"."""
    class NoSuper(cr.layers.layer.Layer):
        def __init__(self):
            self.own_params = {"a": np.ones(3, np.float32)}

        def forward(self, X):
            return X * self.own_params["a"]

        def backward(self, dY, input_grad=True):
            return dY

    X, y = np.ones((4, 3), np.float32), np.arange(4) % 2
    message = r"NoSuper\) was not set up as a Layer: its __init__ must call super\(\).__init__\(\) first"
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.fit(NoSuper(), X, y, loss="cross_entropy", epochs=1, verbose=0)
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.gradcheck(NoSuper(), X, y, "cross_entropy")
    for use in (lambda layer: layer(X), lambda layer: layer.summary()):
        with pytest.raises(AttributeError, match=r"NoSuper has no '\w+': it was not set up as a Layer; its __init__ "
                                                 r"must call super\(\).__init__\(\) first"):
            use(NoSuper())
    assert not hasattr(NoSuper(), "preprocessor") and getattr(NoSuper(), "metadata", None) is None

    class Bare(cr.layers.layer.Layer):
        def __init__(self):
            pass

    for name in ("params", "grads", "dtype", "n_parameters"):  # properties: their own error, not "no attribute"
        with pytest.raises(AttributeError, match=r"Bare has no '\w+': it was not set up as a Layer"):
            getattr(Bare(), name)


def chainrule_layer_classes() -> set:
    """Layer and every subclass of it defined in chainrule (not in the tests)."""
    found, pending = set(), [cr.layers.layer.Layer]
    while pending:
        kind = pending.pop()
        if kind.__module__.startswith("chainrule.") and kind not in found:
            found.add(kind)
            pending += kind.__subclasses__()
    return found


def test_no_layer_class_of_chainrule_has_a_getattr_and_a_custom_ones_super_call_is_still_an_attribute_error():
    """A __getattr__ anywhere in a class's MRO, even one that only raises, puts every attribute read of its
    instances on CPython's slow path (docs/design.md, "A layer of your own"): Layer has none, as object has none.
    So PyTorch's ``return super().__getattr__(name)`` in a layer of one's own raises Python's own AttributeError
    ("'super' object has no attribute '__getattr__'"), which hasattr and getattr's default still take."""
    kinds = chainrule_layer_classes()
    assert {cr.Linear, cr.Sequential, cr.GELU, cr.Sigmoid, cr.LeakyReLU} <= kinds  # every one, not a list of some
    for kind in kinds:
        assert not any("__getattr__" in vars(base) for base in kind.__mro__), kind

    class Ported(cr.Linear):
        def __getattr__(self, name):
            return super().__getattr__(name)

    layer = Ported(2, 3)
    assert not hasattr(layer, "missing") and getattr(layer, "missing", 7) == 7 and layer.n_in == 2


def test_what_a_layer_sets_before_super_init_is_refused_not_lost():
    """super().__init__() replaced them: the layer's parameters were gone (a KeyError in forward) and a
    Linear subclass's decayed was back to {'W'}, without a word."""
    class Late(cr.layers.layer.Layer):
        def __init__(self):
            self.own_params = {"a": np.ones(3, np.float32)}
            self.own_grads = {"a": np.zeros(3, np.float32)}
            super().__init__()

    class DecayingBiases(cr.Linear):
        def __init__(self, *args, **kwargs):
            self.decayed = frozenset({"W", "b"})
            super().__init__(*args, **kwargs)

    with pytest.raises(cr.HyperparameterError, match=r"^Late: own_grads, own_params set before super\(\).__init__\(\), "
                                                     r"which would replace them; call super\(\).__init__\(\) first"):
        Late()
    with pytest.raises(cr.HyperparameterError, match=r"^DecayingBiases: decayed set before super\(\).__init__\(\), "
                                                     r"which would replace it"):
        DecayingBiases(2, 3)
    layer = cr.Linear(2, 3)
    layer.__init__(2, 4)  # a layer set up before may be set up again
    assert layer.params["W"].shape == (2, 4)


class TorchStyle(cr.layers.layer.Layer):
    """A layer written as PyTorch's autograd.Function is: backward(grad_output), without input_grad."""

    def __init__(self):
        super().__init__()
        self.own_params["w"] = np.ones((3, 2), np.float32)
        self.own_grads["w"] = np.zeros((3, 2), np.float32)

    def forward(self, x):
        self.x = x
        return x @ self.own_params["w"]

    def backward(self, grad_output):
        self.own_grads["w"][...] = self.x.T @ grad_output
        return grad_output @ self.own_params["w"].T


@pytest.mark.parametrize("model, name", [(TorchStyle(), r"model \(TorchStyle\)"),
                                         (cr.Sequential(cr.Linear(3, 3), cr.Tanh()), r"layer '2' \(TorchStyle\)")])
def test_a_backward_without_input_grad_is_refused_by_fit_and_gradcheck_naming_the_layer(model, name):
    """As the whole model (or appended to a Sequential's layers), fit and gradcheck raised Python's TypeError
    "backward() got an unexpected keyword argument 'input_grad'"; a Sequential refuses it when built."""
    if isinstance(model, cr.Sequential):
        model.layers.append(TorchStyle())
    X, y = np.ones((4, 3), np.float32), np.arange(4) % 2
    message = rf"^{name}: backward must take \(dY, input_grad=True\), as Layer.backward does"
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.fit(model, X, y, epochs=1, verbose=0)
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.gradcheck(model, X, y)


def test_a_new_reusing_buffers_starts_with_new_memory():
    layer = cr.Linear(3, 4)
    like = np.zeros((8, 3), np.float32)
    with layer.reusing_buffers():
        first = layer.buffer("Z", (8, 4), like)
    with layer.reusing_buffers():  # the batch-sized memory of the last fit was let go
        assert not np.shares_memory(layer.buffer("Z", (8, 4), like), first)


def test_a_layer_holding_what_layer_init_sets_elsewhere_than_its_dict_is_set_up():
    """is_set_up looks in the layer's __dict__ first, then attribute by attribute."""
    class ClassLevel(cr.layers.layer.Layer):
        def __init__(self):
            pass

    assert is_set_up(cr.ReLU()) and not is_set_up(ClassLevel())
    for name in SET_BY_LAYER_INIT:
        setattr(ClassLevel, name, None)  # found by hasattr, not in the instance's __dict__
    assert is_set_up(ClassLevel())


def test_a_layer_holding_itself_is_refused_rather_than_walked_forever():
    model = cr.Sequential(cr.Linear(2, 2, seed=0), cr.ReLU())
    message = r"Sequential: layers nested more than 1000 deep .* does a layer hold itself"
    with pytest.raises(cr.StateError, match=message):
        model.layers.append(model)  # by hand: the constructor refuses a layer twice
    assert len(model) == 2 and [layer.path for layer in model] == ["0", "1"]  # undone, nothing renamed
    part = model[:]
    part.layers.append(part)  # a slice's list renames nothing, so nothing refuses this before a walk
    with pytest.raises(cr.StateError, match=message):
        part.dtype
    deep = cr.Identity()
    for _ in range(49):
        deep = cr.Sequential(deep)
    assert len(list(deep.walk())) == 50  # a deep model that does not hold itself is walked whole


def test_walk_follows_nesting_limit_levels_and_refuses_one_more(monkeypatch):
    monkeypatch.setattr("chainrule.layers.layer.NESTING_LIMIT", 3)
    deep = cr.Sequential(cr.Sequential(cr.Sequential(cr.Identity())))  # the Identity 3 levels inside
    assert len(list(deep.walk())) == 4
    with pytest.raises(cr.StateError, match="layers nested more than 3 deep"):
        list(cr.Sequential(deep).walk())


def test_calling_a_model_inside_reusing_buffers_answers_an_array_of_the_callers_own():
    """A callback of fit that called model(A), then model(B), found B's outputs in its first
    answer: both were the last Linear layer's buffer."""
    model = cr.mlp([3, 4, 2], seed=0)
    A, B = np.ones((5, 3)), np.zeros((5, 3))
    with model.reusing_buffers():
        first = model(A)
        expected = first.copy()
        model(B)
    np.testing.assert_array_equal(first, expected)


@pytest.mark.parametrize("copied", [copy.copy, copy.deepcopy, lambda model: pickle.loads(pickle.dumps(model))])
def test_a_copy_made_inside_reusing_buffers_answers_new_arrays(copied):
    """A callback of fit keeping copy.deepcopy(model) got a model still reusing its buffers:
    each forward answered the same array, overwritten by the next."""
    model = cr.mlp([3, 4, 2], seed=0)
    A, B = np.ones((5, 3)), np.zeros((5, 3))
    with model.reusing_buffers():
        model.forward(A)
        kept = copied(model)
    assert not any(layer.reuse_buffers or layer._buffers for _, layer in kept.walk())
    first = kept.forward(A)
    expected = first.copy()
    kept.forward(B)
    np.testing.assert_array_equal(first, expected)


@pytest.mark.parametrize("make", [
    lambda: cr.Linear(3, 3, seed=0), cr.ReLU, cr.LeakyReLU, cr.Sigmoid, cr.Tanh, cr.GELU, cr.Softmax,
    lambda: cr.Residual(cr.Sequential(cr.Linear(3, 3, seed=0), cr.ReLU())),
], ids=["Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "Residual"])
def test_every_built_in_layer_writes_its_output_and_dx_into_buffers_inside_reusing_buffers(make):
    """Until 2026-11-30 Softmax's forward and backward, Residual's x + f(x) and dY + f.backward(dY),
    and a ReLU called out of place (not between two Linear layers) made new arrays at every step."""
    layer = make()
    rng = np.random.default_rng(0)
    X, dY = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)
    expected = layer.forward(X), layer.backward(dY)
    with layer.reusing_buffers():
        Y, dX = layer.forward(X), layer.backward(dY)
        np.testing.assert_array_equal(Y, expected[0])
        np.testing.assert_array_equal(dX, expected[1])
        assert np.shares_memory(layer.forward(X * 2), Y) and np.shares_memory(layer.backward(dY * 2), dX)
