"""chainrule.torch_interchange: state dicts in torch.nn's names and layout, both ways.

The round trips through NumPy always run; those through torch itself skip, with the reason,
when torch (``torch==2.13.0``, the bench extra) is not installed.
"""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import DTypeError, HyperparameterError, ModelFileError, NonFiniteError, ShapeError
from chainrule.torch_interchange import from_state_dict, to_state_dict

NEEDS_TORCH = "PyTorch interchange tests need torch: pip install torch==2.13.0"
DTYPES = ["float32", "float64"]
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


def _models():
    """Architectures (factory(dtype, seed)) of every layer type, nested and residual composites."""
    def nested(d, seed):
        return cr.Sequential(
            cr.Linear(3, 6, dtype=d), cr.GELU(),
            cr.Sequential(cr.Residual(cr.Sequential(cr.Linear(6, 6, dtype=d), cr.Sigmoid())), cr.LeakyReLU(0.1)),
            cr.Residual(cr.Residual(cr.Linear(6, 6, dtype=d))), cr.Identity(), cr.Tanh(),
            cr.Linear(6, 2, dtype=d), cr.Softmax(), seed=seed,
        )
    return {
        "Linear": lambda d, seed: cr.Linear(3, 4, seed=seed, dtype=d),
        "mlp": lambda d, seed: cr.mlp([3, 8, 4, 2], "relu", seed=seed, dtype=d),
        "nested": nested,
        "parameterless": lambda d, seed: cr.Sequential(cr.ReLU(), cr.Residual(cr.Tanh())),
    }


MODELS = _models()


def randomize(model, seed):
    """Every parameter N(0, 1), biases included (Linear starts them at 0)."""
    rng = np.random.default_rng(seed)
    for array in model.params.values():
        array[...] = rng.normal(size=array.shape)
    return model


def inputs(dtype, n_samples=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n_samples, 3)).astype(dtype)


# -- NumPy round trips (no torch needed) ------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", MODELS)
def test_round_trip(name, dtype):
    source = randomize(MODELS[name](dtype, 0), 1)
    target = MODELS[name](dtype, 2)
    assert from_state_dict(to_state_dict(source), target) is target
    for key, array in source.params.items():
        np.testing.assert_array_equal(target.params[key], array)
    np.testing.assert_array_equal(target(inputs(dtype)), source(inputs(dtype)))


def test_names_and_layout():
    model = randomize(MODELS["nested"]("float32", 0), 1)
    state = to_state_dict(model)
    assert list(state) == ["0.weight", "0.bias", "2.0.f.0.weight", "2.0.f.0.bias", "3.f.f.weight", "3.f.f.bias",
                           "6.weight", "6.bias"]
    np.testing.assert_array_equal(state["2.0.f.0.weight"], model.params["2.0.f.0.W"].T)  # (out, in) = Wᵀ
    np.testing.assert_array_equal(state["6.bias"], model.params["6.b"])
    assert state["6.weight"].shape == (2, 6) and state["6.weight"].flags.c_contiguous
    assert list(to_state_dict(cr.Linear(2, 3))) == ["weight", "bias"]  # a lone Linear is torch's nn.Linear
    assert to_state_dict(MODELS["parameterless"]("float32", 0)) == {}


def test_to_state_dict_returns_copies():
    model = cr.mlp([3, 4, 2], seed=0)
    before = model.params["0.b"].copy()
    for array in to_state_dict(model).values():
        array += 1
    np.testing.assert_array_equal(model.params["0.b"], before)


def test_loads_in_place_into_the_flat_buffer():
    model = cr.mlp([3, 4, 2], seed=0)
    flat = model.flat_parameters()
    state = to_state_dict(randomize(cr.mlp([3, 4, 2], seed=0), 5))
    from_state_dict(state, model)
    assert model.flat_parameters() is flat  # the optimizer's views still hold the weights
    np.testing.assert_array_equal(flat.theta[flat.slices["2.W"]], state["2.weight"].T.ravel())


def test_casts_to_the_model_dtype_and_accepts_lists_and_tensor_likes():
    source = randomize(cr.mlp([3, 4, 2], seed=0, dtype="float64"), 1)
    target = cr.mlp([3, 4, 2], seed=3)

    class TensorLike:
        """Duck-types a torch.Tensor on another device: detach() -> cpu() -> numpy()."""

        def __init__(self, array):
            self.array = array

        def detach(self):
            return self

        def cpu(self):
            return self

        def numpy(self):
            return self.array

    state = to_state_dict(source)
    state = {"0.weight": state["0.weight"].tolist(), "0.bias": TensorLike(state["0.bias"]),
             "2.weight": TensorLike(state["2.weight"]), "2.bias": state["2.bias"].astype(np.int64)}
    from_state_dict(state, target)
    assert target.dtype == np.float32
    np.testing.assert_allclose(target.params["0.W"], source.params["0.W"], rtol=1e-7)
    np.testing.assert_array_equal(target.params["2.b"], source.params["2.b"].astype(np.int64))


# -- bad input: refused, naming the key, with the model untouched -----------------------------

def _bad(state, key, value):
    return {**state, key: value}


@pytest.mark.parametrize("change, error, message", [
    (lambda s: {k: v for k, v in s.items() if k != "2.bias"}, ShapeError, "missing key '2.bias'"),
    (lambda s: _bad(s, "4.weight", np.zeros((2, 2))), ShapeError, "unexpected key '4.weight'"),
    (lambda s: _bad(s, "0.weight", np.zeros((4, 4))), ShapeError,
     r"state_dict\['0.weight'\]: expected shape \(4, 3\) for layer '0' \(Linear\), got \(4, 4\)$"),
    (lambda s: _bad(s, "0.weight", np.zeros((3, 4))), ShapeError, r"got \(3, 4\) \(chainrule's own \(n_in, n_out\) layout"),
    (lambda s: _bad(s, "2.bias", np.zeros((1, 2))), ShapeError, r"state_dict\['2.bias'\]: expected shape \(2,\)"),
    (lambda s: _bad(s, "2.bias", np.array(["a", "b"])), DTypeError, r"state_dict\['2.bias'\]: expected real numbers"),
    (lambda s: _bad(s, "2.bias", [[1.0], [2.0, 3.0]]), DTypeError, r"state_dict\['2.bias'\]: cannot read it"),
    (lambda s: _bad(s, "2.bias", np.array([0.0, np.nan])), NonFiniteError, r"state_dict\['2.bias'\]"),
    (lambda s: _bad(s, "0.weight", np.full((4, 3), 1e300)), NonFiniteError,
     r"state_dict\['0.weight'\]: expected finite values, found 1e\+300 at index \(0, 0\), which overflows float32"),
    (lambda s: list(s.items()), HyperparameterError, "state_dict: expected a mapping"),
])
def test_bad_state_dict_is_refused_and_model_unchanged(change, error, message):
    model = cr.mlp([3, 4, 2], seed=0)
    before = {key: array.copy() for key, array in model.params.items()}
    state = to_state_dict(randomize(cr.mlp([3, 4, 2]), 1))
    with pytest.raises(error, match=message):
        from_state_dict(change(state), model)
    for key, array in model.params.items():
        np.testing.assert_array_equal(array, before[key])


def test_a_diverged_model_is_not_handed_to_torch():
    model = cr.mlp([3, 4, 2], seed=0)
    model.params["2.b"][1] = np.inf
    with pytest.raises(NonFiniteError, match=r"^parameter '2.b' \(a diverged model\?\): expected finite values"):
        to_state_dict(model)


def test_large_finite_values_load_into_a_float64_model():
    model = cr.mlp([3, 4, 2], seed=0, dtype="float64")
    state = to_state_dict(model)
    state["0.weight"] = np.full((4, 3), 1e300)
    from_state_dict(state, model)
    assert (model.params["0.W"] == 1e300).all()


def test_not_a_model():
    with pytest.raises(HyperparameterError, match="^model: expected a chainrule Layer, got dict$"):
        from_state_dict({}, {})


def test_swapped_arguments_are_named_as_such():
    """from_state_dict(model, state), torch's order (model.load_state_dict(state)), said only: a dict is no Layer."""
    model = cr.mlp([3, 4, 2], seed=0)
    with pytest.raises(HyperparameterError, match=r"^model: expected a chainrule Layer, got dict; the arguments are "
                                                  r"from_state_dict\(state_dict, model\), in that order$"):
        from_state_dict(model, to_state_dict(model))


class Scale(cr.Layer):
    """A user's own layer with a parameter torch.nn has no layout for."""

    def __init__(self):
        super().__init__()
        self.own_params = {"s": np.ones(3, dtype=np.float32)}
        self.own_grads = {"s": np.zeros(3, dtype=np.float32)}

    def forward(self, X):
        return X * self.own_params["s"]


def test_layer_without_a_torch_layout_is_named():
    model = cr.Sequential(cr.Linear(3, 3), cr.Residual(Scale()))
    with pytest.raises(ModelFileError, match=r"layer '1.f' \(Scale\).*\(s\)"):
        to_state_dict(model)
    with pytest.raises(ModelFileError, match=r"layer '1.f' \(Scale\)"):
        from_state_dict({}, model)


# -- through torch itself ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason=NEEDS_TORCH)


def torch_module(torch, layer):
    """The torch.nn module that computes what ``layer`` computes (same child names)."""
    nn = torch.nn

    class Residual(nn.Module):
        """x + f(x): torch.nn has none; the child's name "f" is chainrule's."""

        def __init__(self, f):
            super().__init__()
            self.f = f

        def forward(self, x):
            return x + self.f(x)

    if isinstance(layer, cr.Sequential):
        return nn.Sequential(*(torch_module(torch, child) for child in layer.layers))
    if isinstance(layer, cr.Residual):
        return Residual(torch_module(torch, layer.f))
    if isinstance(layer, cr.Linear):
        return nn.Linear(layer.n_in, layer.n_out)
    if isinstance(layer, cr.LeakyReLU):
        return nn.LeakyReLU(layer.alpha)
    if isinstance(layer, cr.GELU):
        return nn.GELU(approximate="tanh")
    if isinstance(layer, cr.Softmax):
        return nn.Softmax(dim=-1)
    return {cr.ReLU: nn.ReLU, cr.Sigmoid: nn.Sigmoid, cr.Tanh: nn.Tanh, cr.Identity: nn.Identity}[type(layer)]()


def torch_outputs(torch, module, X):
    with torch.no_grad():
        return module(torch.from_numpy(X)).numpy()


def test_plain_torch_sequential_loads_chainrule_weights(torch):
    model = randomize(cr.Sequential(cr.Linear(3, 8), cr.ReLU(), cr.Linear(8, 8), cr.Tanh(), cr.Linear(8, 2)), 0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8), torch.nn.Tanh(),
                                 torch.nn.Linear(8, 2))
    module.load_state_dict({key: torch.from_numpy(array) for key, array in to_state_dict(model).items()})
    X = inputs("float32", 16)
    np.testing.assert_allclose(torch_outputs(torch, module, X), model(X), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", MODELS)
def test_chainrule_to_torch(torch, name, dtype):
    model = randomize(MODELS[name](dtype, 0), 1)
    module = torch_module(torch, model).to(getattr(torch, dtype))
    module.load_state_dict({key: torch.from_numpy(array) for key, array in to_state_dict(model).items()})
    X = inputs(dtype, 16)
    np.testing.assert_allclose(torch_outputs(torch, module, X), model(X), rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", MODELS)
def test_torch_to_chainrule(torch, name, dtype):
    model = MODELS[name](dtype, 0)
    generator = torch.Generator().manual_seed(0)  # not torch's global seed, which later tests would inherit
    module = torch_module(torch, model).to(getattr(torch, dtype))
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.normal_(generator=generator)
    from_state_dict(module.state_dict(), model)
    X = inputs(dtype, 16)
    np.testing.assert_allclose(model(X), torch_outputs(torch, module, X), rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])
    assert to_state_dict(model).keys() == module.state_dict().keys()


def test_parameters_that_require_grad_and_float64_tensors(torch):
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 2)).double()
    model = from_state_dict(dict(module.named_parameters()), cr.mlp([3, 4, 2], "sigmoid"))
    X = inputs("float64")
    np.testing.assert_allclose(model(X), torch_outputs(torch, module, X), rtol=1e-5, atol=1e-5)


def test_bfloat16_tensor_is_refused(torch):
    state = {key: torch.from_numpy(array) for key, array in to_state_dict(cr.mlp([3, 4, 2])).items()}
    state["2.bias"] = state["2.bias"].to(torch.bfloat16)
    with pytest.raises(DTypeError, match=r"state_dict\['2.bias'\]: cannot read it as a NumPy array.*tensor.float\(\)"):
        from_state_dict(state, cr.mlp([3, 4, 2]))


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's: CSR tensors in beta, quantizing deprecated
@pytest.mark.parametrize("convert, remedy", [
    (lambda torch, t: t.to(device="meta"), r"a meta tensor holds no values, only a shape and dtype; pass the state "
                                           r"dict of a module whose weights were loaded or initialized"),
    (lambda torch, t: torch.nn.LazyLinear(4).weight, r"an uninitialized parameter of a lazy module "
                                                     r"\(torch\.nn\.LazyLinear\) holds no values yet; run the module "
                                                     r"on a batch first"),
    (lambda torch, t: torch.nested.nested_tensor([t[0], t[1, :2]]),
     r"a nested tensor holds tensors of several shapes; pass one tensor of the parameter's shape"),
    (lambda torch, t: t.to_sparse(), r"convert it to a dense tensor first \(tensor\.to_dense\(\)\)"),
    (lambda torch, t: t.to_sparse_csr(), r"convert it to a dense tensor first \(tensor\.to_dense\(\)\)"),
    (lambda torch, t: torch.quantize_per_tensor(t, 0.1, 0, torch.qint8),
     r"convert it to float32 first \(tensor\.dequantize\(\)\)"),
], ids=["meta", "lazy", "nested", "sparse_coo", "sparse_csr", "quantized"])
def test_an_unreadable_tensor_is_refused_with_the_remedy_that_fits_it(torch, convert, remedy):
    """Every one was told to convert it with tensor.float(), which keeps a meta tensor on meta (it has no data),
    fails on a lazy module's uninitialized parameter and on a nested tensor, keeps a sparse one sparse and fails on a
    quantized one."""
    model = cr.mlp([3, 4, 2], seed=0)
    state = {key: torch.from_numpy(array) for key, array in to_state_dict(model).items()}
    state["0.weight"] = convert(torch, state["0.weight"])
    with pytest.raises(DTypeError, match=rf"^state_dict\['0\.weight'\]: cannot read it as a NumPy array \(.*\); "
                                         rf"{remedy}"):
        from_state_dict(state, model)


def test_a_view_with_its_negative_bit_set_is_read_with_its_values(torch):
    """z.conj().imag (a real view of negated values, its negative bit set) was refused, told to call tensor.float(),
    which keeps the bit: NumPy cannot read such a view until it is resolved."""
    model = cr.mlp([3, 4, 2], seed=0)
    state = {key: torch.from_numpy(array) for key, array in to_state_dict(model).items()}
    bias = torch.tensor([1.5, -2.0])
    state["2.bias"] = torch.complex(torch.zeros(2), -bias).conj().imag
    assert state["2.bias"].is_neg()
    from_state_dict(state, model)
    np.testing.assert_array_equal(model.params["2.b"], [1.5, -2.0])


def test_a_conjugated_complex_tensor_is_refused_as_complex(torch):
    """It was told to call tensor.float(), which drops the imaginary part: a complex tensor is no weight."""
    model = cr.mlp([3, 4, 2], seed=0)
    state = {key: torch.from_numpy(array) for key, array in to_state_dict(model).items()}
    state["2.bias"] = torch.tensor([1 + 1j, 2 - 1j]).conj()
    with pytest.raises(DTypeError, match=r"^state_dict\['2.bias'\]: expected real numbers, got dtype complex64$"):
        from_state_dict(state, model)


def test_missing_keys_are_shown_beside_the_keys_the_state_dict_holds_instead():
    """A torch module with named children (fc1, fc2) was refused naming only the model's keys."""
    model = cr.mlp([3, 4, 2], seed=0)
    named = {key.replace("0.", "fc1.").replace("2.", "fc2."): array for key, array in to_state_dict(model).items()}
    with pytest.raises(ShapeError, match=r"^state_dict: missing key '0.weight' \(4 missing in all; "
                                         r"the model's keys are '0.weight', '0.bias', '2.weight', '2.bias'; "
                                         r"the state dict's other keys are 'fc1.weight', 'fc1.bias', "
                                         r"'fc2.weight', 'fc2.bias'\)$"):
        from_state_dict(named, model)


@pytest.mark.parametrize("prefix", ["net.", "module.", "_orig_mod.encoder."])
def test_keys_under_one_common_prefix_are_refused_with_the_line_that_strips_it(prefix):
    """'net.0.weight' (a torch model wrapped in another module) or DataParallel's 'module.0.weight' listed both key
    sets but did not say that the prefix was all that differed."""
    model = cr.mlp([3, 4, 2], seed=0)
    before = {name: array.copy() for name, array in model.params.items()}
    wrapped = {prefix + key: array for key, array in to_state_dict(model).items()}
    with pytest.raises(ShapeError, match=re.escape(
            f"'{prefix}2.bias'); every key of the state dict is one of the model's after the prefix '{prefix}' "
            f"(a torch module wrapped in another, or DataParallel's 'module.'): strip it, "
            f"{{k.removeprefix('{prefix}'): v for k, v in sd.items()}}") + "$"):
        from_state_dict(wrapped, model)
    assert all((model.params[name] == array).all() for name, array in before.items())
    from_state_dict({k.removeprefix(prefix): v for k, v in wrapped.items()}, model)  # the line it gives works


@pytest.mark.parametrize("keys", [
    ["net.0.weight", "net.0.bias", "net.2.weight", "other.2.bias"],  # two prefixes
    ["net.0.weight", "net.0.bias", "net.2.weight", "net.extra"],  # a key that is none of the model's
    ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"],  # named children: no prefix makes the model's keys
    # '1' before the model's keys: indices 10 and 12 of a larger Sequential, not a module wrapped in another
    ["10.weight", "10.bias", "12.weight", "12.bias"],
    # the first layer under 'net.': stripped, the model's 2.weight and 2.bias are missing still
    ["net.0.weight", "net.0.bias"],
])
def test_keys_that_no_one_prefix_makes_the_models_are_refused_without_that_advice(keys):
    model = cr.mlp([3, 4, 2], seed=0)
    with pytest.raises(ShapeError, match="missing key") as refused:
        from_state_dict({key: np.zeros(2) for key in keys}, model)
    assert "removeprefix" not in str(refused.value)


def test_a_lone_layers_keys_under_a_prefix_are_told_the_whole_prefix():
    model = cr.Linear(3, 2, seed=0)
    wrapped = {"net.0." + key: array for key, array in to_state_dict(model).items()}
    with pytest.raises(ShapeError, match=re.escape("{k.removeprefix('net.0.'): v for k, v in sd.items()}")):
        from_state_dict(wrapped, model)


def test_the_keys_a_state_dict_holds_instead_are_listed_quoted_and_cut():
    """A key holding ', ' read as two, and a state dict of a large module was listed whole."""
    model = cr.mlp([3, 4, 2], seed=0)
    other = {f"block.{i}, x": np.zeros(2) for i in range(500)}
    with pytest.raises(ShapeError, match=r"; the state dict's other keys are 'block.0, x', 'block.1, x', .*"
                                         r"'block.11, x', \.\.\. \(500 in all\)\)$"):
        from_state_dict(other, model)


def test_the_models_own_keys_are_listed_quoted_and_cut():
    """The model's keys were listed whole and unquoted: a model of 300 Linear layers gave a message of 600 keys."""
    model = cr.mlp([2] * 301, seed=0)
    state = to_state_dict(model)
    missing = {key: value for key, value in state.items() if key != "0.bias"}
    with pytest.raises(ShapeError, match=r"the model's keys are '0.weight', '0.bias', '2.weight', .*, \.\.\. "
                                         r"\(600 in all\)\)$") as missed:
        from_state_dict(missing, model)
    with pytest.raises(ShapeError, match=r"\(its keys are '0.weight', '0.bias', .*, \.\.\. \(600 in all\)\)$") as extra:
        from_state_dict({**state, "x": np.zeros(2)}, model)
    assert len(str(missed.value)) < 400 and len(str(extra.value)) < 400


@pytest.mark.parametrize("key, shown", [
    ("x" * 100_000, "'" + "x" * 59 + "..."),
    (10 ** 5000, "<an int of 16,610 bits>"),
], ids=["long", "huge_int"])
def test_an_unexpected_key_is_quoted_and_cut(key, shown):
    """It was put whole into the message (100,000 characters), and an int too large for repr raised ValueError."""
    model = cr.mlp([3, 4, 2], seed=0)
    with pytest.raises(ShapeError, match=rf"^state_dict: unexpected key {re.escape(shown)}: not a parameter") as caught:
        from_state_dict({**to_state_dict(model), key: np.zeros(2)}, model)
    assert len(str(caught.value)) < 300

def test_a_ragged_list_is_not_told_to_call_tensor_float():
    """A nested list has no float(): the message said to convert it with tensor.float()."""
    model = cr.mlp([3, 4, 2], seed=0)
    with pytest.raises(DTypeError, match=r"^state_dict\['2.bias'\]: cannot read it as a NumPy array \(.*\); "
                                         r"expected an array, a tensor or nested lists of numbers in one "
                                         r"rectangular shape$"):
        from_state_dict(_bad(to_state_dict(model), "2.bias", [[1.0], [2.0, 3.0]]), model)


def test_a_boolean_tensor_is_refused_as_not_real_numbers():
    model = cr.mlp([3, 4, 2], seed=0)
    state = to_state_dict(model)
    with pytest.raises(DTypeError, match=r"state_dict\['2.bias'\]: expected real numbers, got dtype bool"):
        from_state_dict(_bad(state, "2.bias", np.array([True, False])), model)


def test_to_state_dict_of_what_is_not_a_layer_is_refused():
    with pytest.raises(HyperparameterError, match=r"^model: expected a chainrule Layer, got str$"):
        to_state_dict("model.safetensors")
