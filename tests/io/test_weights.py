"""chainrule.io.weights: save_weights/load_weights round trips, and every bad file refused
with the model left as it was."""

import json
import os
import pickle
import re

import numpy as np
import pytest
import safetensors.numpy
from safetensors import safe_open

import chainrule as cr
from chainrule.data.preprocessing import Preprocessor
from chainrule.errors import ChainruleWarning, HyperparameterError, ModelFileError
from chainrule.io import from_config, load_weights, save, save_weights, to_config
from tests.harness import Scale

X = np.random.default_rng(0).normal(size=(5, 4))


def custom_model(seed, dtype="float32"):
    return cr.Sequential(cr.Linear(4, 4, dtype=dtype), Scale(4, dtype), cr.Tanh(),
                         cr.Sequential(cr.Linear(4, 3, dtype=dtype)), seed=seed)


def snapshot(model):
    return {name: array.copy() for name, array in model.params.items()}


def assert_refused(model, path, match, error=ModelFileError):
    """load_weights raises ``error`` matching ``match`` and leaves every parameter as it was."""
    before = snapshot(model)
    with pytest.raises(error, match=match):
        load_weights(model, path)
    after = model.params
    assert list(after) == list(before)
    for name, array in before.items():
        assert after[name].dtype == array.dtype
        np.testing.assert_array_equal(after[name], array)


def write_safetensors(path, header, body=b""):
    """A safetensors file with exactly this header (a dict made JSON) and body."""
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + body)


@pytest.fixture
def saved(tmp_path):
    """The weights of mlp([4, 6, 3], seed=0) in a weights file, and the path."""
    path = tmp_path / "w.safetensors"
    save_weights(cr.mlp([4, 6, 3], "tanh", seed=0), path)
    return path


# -- round trips -------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mlp_round_trip_into_a_model_with_another_seed(tmp_path, dtype):
    source = cr.mlp([4, 6, 6, 3], "relu", seed=0, dtype=dtype)
    save_weights(source, tmp_path / "w")
    target = cr.mlp([4, 6, 6, 3], "relu", seed=1, dtype=dtype)
    assert not np.array_equal(target(X), source(X))
    assert load_weights(target, tmp_path / "w") is target
    for name, array in source.params.items():
        assert target.params[name].dtype == array.dtype
        np.testing.assert_array_equal(target.params[name], array)
    np.testing.assert_array_equal(target(X), source(X))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_custom_layer_round_trip(tmp_path, dtype):
    source = custom_model(seed=0, dtype=dtype)
    with pytest.raises(ModelFileError, match="Scale"):  # what save_weights is for
        save(source, tmp_path / "model")
    save_weights(source, tmp_path / "w")
    target = load_weights(custom_model(seed=1, dtype=dtype), tmp_path / "w")
    np.testing.assert_array_equal(target.params["1.a"], source.params["1.a"])
    np.testing.assert_array_equal(target(X), source(X))


def test_file_is_plain_safetensors_named_by_path(tmp_path):
    model = custom_model(seed=0)
    save_weights(model, tmp_path / "w")
    with safe_open(tmp_path / "w", framework="np") as file:
        assert file.metadata() == {"format": "chainrule-weights", "format_version": "1", "dtype": "float32"}
        assert sorted(file.keys()) == sorted(model.params) == ["0.W", "0.b", "1.a", "3.0.W", "3.0.b"]
    tensors = safetensors.numpy.load_file(tmp_path / "w")
    np.testing.assert_array_equal(tensors["3.0.W"], model.params["3.0.W"])


def test_model_without_parameters_round_trips(tmp_path):
    save_weights(cr.Sequential(cr.ReLU()), tmp_path / "w")
    with safe_open(tmp_path / "w", framework="np") as file:
        assert file.metadata()["dtype"] == "none"
    load_weights(cr.Sequential(cr.Tanh()), tmp_path / "w")


def test_writes_into_the_models_arrays_so_the_flat_buffer_stays_valid(tmp_path):
    source = cr.mlp([4, 6, 3], seed=0)
    save_weights(source, tmp_path / "w")
    target = cr.mlp([4, 6, 3], seed=1)
    flat = target.flat_parameters()
    load_weights(target, tmp_path / "w")
    assert target.flat_parameters() is flat
    np.testing.assert_array_equal(flat.theta, source.flat_parameters().theta)


def test_loads_into_a_model_whose_parameters_were_never_drawn(tmp_path):
    source = cr.mlp([4, 6, 3], seed=0)
    save_weights(source, tmp_path / "w")
    target = from_config(to_config(source), "float32", draw=False)  # all zeros, no draw
    load_weights(target, tmp_path / "w")
    np.testing.assert_array_equal(target(X), source(X))


def test_model_file_and_checkpoint_as_source_extras_ignored(tmp_path):
    source = cr.mlp([4, 6, 3], seed=0)
    save(source, tmp_path / "model", extra_tensors={"optimizer.m": np.ones(7, dtype=np.float32),
                                                    "optimizer.t": np.array([3], dtype=np.int64)},
         extra_json={"epoch": 2})
    target = load_weights(cr.mlp([4, 6, 3], seed=1), tmp_path / "model")
    assert sorted(target.params) == ["0.W", "0.b", "2.W", "2.b"]
    np.testing.assert_array_equal(target(X), source(X))


def test_model_file_of_another_architecture_is_refused(tmp_path):
    save(cr.mlp([4, 6, 3], seed=0), tmp_path / "model", extra_tensors={"optimizer.m": np.ones(2)})
    assert_refused(cr.mlp([4, 6, 6, 3], seed=1), tmp_path / "model", r"missing parameters .*'4\.W'")


# -- dtype: cast to the model's, as PyTorch's load_state_dict ---------------------------

def test_float64_file_into_float32_model_is_rounded_and_the_model_keeps_its_dtype(tmp_path):
    source = cr.mlp([4, 6, 3], seed=0, dtype="float64")
    save_weights(source, tmp_path / "w")
    target = load_weights(cr.mlp([4, 6, 3], seed=1), tmp_path / "w")
    assert target.dtype == np.float32
    for name, array in source.params.items():
        np.testing.assert_array_equal(target.params[name], array.astype(np.float32))


def test_float32_file_into_float64_model_is_exact(tmp_path):
    source = cr.mlp([4, 6, 3], seed=0)
    save_weights(source, tmp_path / "w")
    target = load_weights(cr.mlp([4, 6, 3], seed=1, dtype="float64"), tmp_path / "w")
    assert target.dtype == np.float64
    for name, array in source.params.items():
        np.testing.assert_array_equal(target.params[name], array.astype(np.float64))


def test_float64_value_that_overflows_a_float32_model_is_refused(tmp_path):
    source = cr.mlp([4, 6, 3], seed=0, dtype="float64")
    source.params["2.b"][1] = 1e300
    save_weights(source, tmp_path / "w")
    assert_refused(cr.mlp([4, 6, 3], seed=1), tmp_path / "w", r"parameter '2\.b'.*overflows float32")


def test_a_finite_value_too_large_for_float32_is_not_called_non_finite(tmp_path):
    source = cr.mlp([4, 6, 3], seed=0, dtype="float64")
    source.params["2.b"][1] = 1e300
    save_weights(source, tmp_path / "w")
    assert_refused(cr.mlp([4, 6, 3], seed=1), tmp_path / "w",
                   r"found 1e\+300 at index \(1,\), which overflows float32, whose largest finite value is "
                   r"3\.40282e\+38 \(1 value out of float32's range\)$")


def test_tensor_of_another_dtype_is_refused(tmp_path):
    write_safetensors(tmp_path / "w", {
        "__metadata__": {"format": "chainrule-weights", "format_version": "1", "dtype": "float16"},
        "W": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]},
        "b": {"dtype": "F16", "shape": [2], "data_offsets": [8, 12]},
    }, bytes(12))
    assert_refused(cr.Linear(2, 2, seed=0), tmp_path / "w", r"parameter 'W' has dtype 'F16'.*expected one of F32, F64")


# -- refused files, the model unchanged --------------------------------------------------

def test_missing_file(tmp_path):
    assert_refused(cr.mlp([4, 6, 3], seed=0), tmp_path / "nope", "nope: no such weights file")


def test_directory(tmp_path):
    assert_refused(cr.mlp([4, 6, 3], seed=0), tmp_path, "is a directory, not a weights file")


def test_pickle_is_refused_and_never_run(tmp_path):
    (tmp_path / "w").write_bytes(pickle.dumps({"0.W": np.zeros((4, 6))}, protocol=4))
    assert_refused(cr.mlp([4, 6, 3], seed=0), tmp_path / "w", "looks like a Python pickle")


@pytest.mark.parametrize("content", [b"", b"abc", b"not a safetensors file at all, just text"])
def test_not_safetensors(tmp_path, content):
    (tmp_path / "w").write_bytes(content)
    assert_refused(cr.mlp([4, 6, 3], seed=0), tmp_path / "w", "not a chainrule weights file, or a damaged one")


def test_header_length_larger_than_the_file(saved):
    data = saved.read_bytes()
    saved.write_bytes((2**62).to_bytes(8, "little") + data[8:])
    assert_refused(cr.mlp([4, 6, 3], seed=1), saved, f"header length of {2**62} bytes, but only")


@pytest.mark.parametrize("cut", [1, 40])
def test_truncated_file(saved, cut):
    saved.write_bytes(saved.read_bytes()[:-cut])
    assert_refused(cr.mlp([4, 6, 3], seed=1), saved, "truncated weights file: its tensors need")


def test_offsets_that_do_not_span_the_tensor(tmp_path):
    write_safetensors(tmp_path / "w", {
        "__metadata__": {"format": "chainrule-weights", "format_version": "1", "dtype": "float32"},
        "W": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 4]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
    }, bytes(12))
    assert_refused(cr.Linear(2, 2, seed=0), tmp_path / "w", r"tensor 'W': its data_offsets \[0, 4\] span 4 bytes")


@pytest.mark.parametrize("metadata", [None, {"format": "pt"}])
def test_safetensors_file_of_another_program_with_the_models_names_loads(tmp_path, metadata):
    source = cr.mlp([4, 6, 3], seed=0)
    safetensors.numpy.save_file(dict(source.params), tmp_path / "w", metadata=metadata)
    target = load_weights(cr.mlp([4, 6, 3], seed=1), tmp_path / "w")
    np.testing.assert_array_equal(target(X), source(X))


def test_safetensors_file_of_another_program_is_checked_as_a_weights_file(tmp_path):
    params = dict(cr.mlp([4, 6, 3], seed=0).params)
    safetensors.numpy.save_file({**params, "0.W": np.zeros((4, 5), np.float32)}, tmp_path / "w")
    assert_refused(cr.mlp([4, 6, 3], seed=1), tmp_path / "w", r"parameter '0\.W' has shape \[4, 5\] in the file")
    safetensors.numpy.save_file({**params, "2.b": np.array([0, np.nan, 0], np.float32)}, tmp_path / "w")
    assert_refused(cr.mlp([4, 6, 3], seed=1), tmp_path / "w", r"parameter '2\.b': expected finite values")
    safetensors.numpy.save_file({"0.W": params["0.W"]}, tmp_path / "w")
    assert_refused(cr.mlp([4, 6, 3], seed=1), tmp_path / "w", r"missing parameters .*'0\.b', '2\.W', '2\.b'")


def test_pytorch_state_dict_names_get_a_hint_that_works(tmp_path):
    source = cr.mlp([4, 6, 3], seed=0)
    path = tmp_path / "torch.safetensors"
    safetensors.numpy.save_file(cr.to_state_dict(source), path, metadata={"format": "pt"})
    assert_refused(cr.mlp([4, 6, 3], seed=1), path,
                   r"unexpected parameters .*'0\.weight'.*; the file's names look like PyTorch's: for a PyTorch "
                   r"state_dict use cr\.from_state_dict\(safetensors\.numpy\.load_file\(path\), model\)")
    target = cr.from_state_dict(safetensors.numpy.load_file(path), cr.mlp([4, 6, 3], seed=1))
    np.testing.assert_allclose(target(X), source(X), rtol=1e-6)


def test_names_of_another_model_get_no_pytorch_hint(saved):
    with pytest.raises(ModelFileError) as error:
        load_weights(cr.mlp([4, 6, 6, 3], seed=1), saved)
    assert "PyTorch" not in str(error.value)


@pytest.mark.parametrize("version, shown, why", [
    ("2", "'2'", "a newer format: upgrade chainrule to load it"),
    ("0", "'0'", "not a version any chainrule writes"),
    ("1.0", "'1.0'", "not a version any chainrule writes"),
    # too long for int(): refused as the others, and cut with "..." (it was cut at 20 characters without)
    ("9" * 5000, "'" + "9" * 19 + "...", "not a version any chainrule writes"),
])
def test_other_format_version(tmp_path, version, shown, why):
    safetensors.numpy.save_file({"W": np.zeros((2, 2), np.float32), "b": np.zeros(2, np.float32)}, tmp_path / "w",
                                metadata={"format": "chainrule-weights", "format_version": version, "dtype": "float32"})
    assert_refused(cr.Linear(2, 2, seed=0), tmp_path / "w",
                   rf"format version {re.escape(shown)}; this chainrule \(.*\) reads version '1' \({why}\)$")


def test_missing_parameter(saved):
    assert_refused(cr.Sequential(cr.Linear(4, 6), cr.Tanh(), cr.Linear(6, 3), Scale(3), seed=1), saved,
                   r"missing parameters \(the model has them, the file does not\): '3\.a'$")


def test_unexpected_parameter(saved):
    assert_refused(cr.Sequential(cr.Linear(4, 6), cr.Tanh(), seed=1), saved,
                   r"unexpected parameters \(the file has them, the model does not\): '2\.W', '2\.b'$")


def test_missing_and_unexpected_are_listed_together(saved):
    assert_refused(cr.Sequential(cr.Linear(4, 6), cr.Linear(6, 3), seed=1), saved,
                   r"missing parameters .*: '1\.W', '1\.b'; unexpected parameters .*: '2\.W', '2\.b'")


def test_wrong_shape(saved):
    assert_refused(cr.mlp([4, 6, 5], "tanh", seed=1), saved,
                   r"parameter '2\.W' has shape \[6, 3\] in the file; the model's is \[6, 5\]")


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_value(tmp_path, value):
    tensors = dict(cr.mlp([4, 6, 3], seed=0).params)
    tensors["2.W"][1, 2] = value
    safetensors.numpy.save_file(tensors, tmp_path / "w",
                                metadata={"format": "chainrule-weights", "format_version": "1", "dtype": "float32"})
    assert_refused(cr.mlp([4, 6, 3], seed=1), tmp_path / "w",
                   rf"parameter '2\.W': expected finite values, found {value} at index \(1, 2\)")


def test_not_a_model(saved):
    with pytest.raises(HyperparameterError, match="model: expected a chainrule Layer, got dict"):
        load_weights({"0.W": 1}, saved)
    with pytest.raises(HyperparameterError, match="model: expected a chainrule Layer, got str"):
        save_weights("w", saved)


def test_layer_that_skipped_layer_init_is_named(tmp_path):
    class Broken(cr.Layer):
        def __init__(self):  # forgets super().__init__()
            pass

    with pytest.raises(HyperparameterError, match=r"the model \(Broken\) was not set up as a Layer"):
        save_weights(Broken(), tmp_path / "w")
    assert not (tmp_path / "w").exists()


# -- saving ------------------------------------------------------------------------------

def test_mixed_dtypes_are_refused_and_nothing_is_written(tmp_path):
    model = cr.Sequential(cr.Linear(2, 2), cr.Linear(2, 2, dtype="float64"))
    with pytest.raises(ModelFileError, match="must all be float32 or all float64; got 0.W: float32"):
        save_weights(model, tmp_path / "w")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def disk_full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(ModelFileError, match="No space left on device"):
        save_weights(cr.mlp([4, 6, 3], seed=0), tmp_path / "w")
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary one


def test_failed_overwrite_keeps_the_old_file(saved, monkeypatch):
    before = saved.read_bytes()

    def refuse(source, destination):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ModelFileError, match="cannot write"):
        save_weights(cr.mlp([4, 6, 3], seed=5), saved)
    assert saved.read_bytes() == before
    assert list(saved.parent.iterdir()) == [saved]


@pytest.mark.parametrize("value", [np.nan, -np.inf])
def test_non_finite_parameter_is_refused_and_nothing_is_written(saved, value):
    before = saved.read_bytes()
    model = custom_model(seed=0)
    model.params["1.a"][2] = value
    with pytest.raises(ModelFileError, match=rf"cannot save: parameter '1\.a': expected finite values, found "
                                             rf"{value} at index \(2,\).*\(a diverged model\?\)"):
        save_weights(model, saved)
    assert saved.read_bytes() == before
    assert list(saved.parent.iterdir()) == [saved]


class Odd(cr.Layer):
    """A layer of the user's own whose parameter has the name safetensors keeps for its metadata."""

    def __init__(self):
        super().__init__()
        self.own_params["__metadata__"] = np.ones(2, dtype=np.float32)
        self.own_grads["__metadata__"] = np.zeros(2, dtype=np.float32)


def test_parameter_named_like_the_safetensors_metadata_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match=r"cannot save: the model's parameter '__metadata__' has the name "
                                             r"safetensors keeps for the file's metadata"):
        save_weights(Odd(), tmp_path / "w")
    assert list(tmp_path.iterdir()) == []
    save_weights(cr.Sequential(Odd()), tmp_path / "w")  # nested, it is "0.__metadata__": no clash
    np.testing.assert_array_equal(load_weights(cr.Sequential(Odd()), tmp_path / "w").params["0.__metadata__"], 1)


# -- the path argument ---------------------------------------------------------------------

@pytest.mark.parametrize("path, found", [(None, "NoneType None"), (5, "int 5"), (True, "bool True"),
                                         (b"w.safetensors", "bytes b'w.safetensors'")])
def test_path_that_is_not_a_file_path(path, found):
    message = rf"path: expected a file path \(str or os\.PathLike\), got {found}"
    with pytest.raises(HyperparameterError, match=message):
        save_weights(cr.mlp([4, 6, 3], seed=0), path)
    with pytest.raises(HyperparameterError, match=message):
        load_weights(cr.mlp([4, 6, 3], seed=0), path)


@pytest.mark.parametrize("name, found", [("w/", "'w/', which names a directory"),
                                         ("a\0b", r"'a\\x00b', which holds a NUL byte")])
def test_a_path_naming_a_directory_or_holding_a_nul_byte_is_refused(tmp_path, monkeypatch, name, found):
    """'w/' wrote a file named 'w'; a NUL byte raised a raw ValueError (embedded null byte)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HyperparameterError, match=rf"^path: expected a file (name|path), got {found}"):
        save_weights(cr.mlp([4, 6, 3], seed=0), name)
    with pytest.raises(HyperparameterError, match=rf"^path: expected a file (name|path), got {found}"):
        load_weights(cr.mlp([4, 6, 3], seed=0), name)
    assert list(tmp_path.iterdir()) == []


def test_a_file_this_user_may_not_write_is_refused_and_kept(tmp_path, monkeypatch):
    """save_weights replaced a chmod 444 file (the CLI's -o refuses it); os.access says so to a plain user,
    not to root, so it is made to (tests/io/test_atomic.py runs the real one)."""
    save_weights(cr.mlp([4, 6, 3], seed=0), tmp_path / "w")
    before = (tmp_path / "w").read_bytes()
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(ModelFileError, match=r"w: cannot write: the file is read-only \(no write permission\)"):
        save_weights(cr.mlp([4, 6, 3], seed=1), tmp_path / "w")
    assert (tmp_path / "w").read_bytes() == before and os.listdir(tmp_path) == ["w"]


def test_an_int_path_is_not_taken_as_a_descriptor_and_closed(saved):
    with open(saved, "rb") as file:
        with pytest.raises(HyperparameterError, match="got int"):
            load_weights(cr.mlp([4, 6, 3], seed=1), file.fileno())
        assert file.read(8) == saved.read_bytes()[:8]  # the descriptor is still open


# -- a model file's preprocessor is not loaded -------------------------------------------

def model_file_with_preprocessor(path):
    rng = np.random.default_rng(1)
    model = cr.mlp([4, 6, 3], seed=0)
    model.preprocessor = Preprocessor.fit(rng.normal(5, 3, size=(20, 4)), rng.integers(0, 3, 20), "classification")
    save(model, path)
    return model


def test_model_file_with_a_preprocessor_warns_that_it_is_not_loaded(tmp_path):
    model_file_with_preprocessor(tmp_path / "model")
    target = cr.mlp([4, 6, 3], seed=1)
    with pytest.warns(ChainruleWarning, match=r"model: the file's preprocessor \(its standardization of the inputs "
                                              r"and its class labels\) is not loaded: .*; load a model file with "
                                              r"cr\.load\(path\)$"):
        load_weights(target, tmp_path / "model")
    assert target.preprocessor is None


def test_no_warning_when_the_model_has_a_preprocessor_or_the_file_none(tmp_path, recwarn):
    source = model_file_with_preprocessor(tmp_path / "model")
    target = cr.mlp([4, 6, 3], seed=1)
    target.preprocessor = source.preprocessor
    load_weights(target, tmp_path / "model")
    assert target.preprocessor is source.preprocessor
    save(cr.mlp([4, 6, 3], seed=0), tmp_path / "plain")
    load_weights(cr.mlp([4, 6, 3], seed=1), tmp_path / "plain")
    save_weights(cr.mlp([4, 6, 3], seed=0), tmp_path / "w")
    load_weights(cr.mlp([4, 6, 3], seed=1), tmp_path / "w")
    assert not [warning for warning in recwarn if issubclass(warning.category, ChainruleWarning)]


# -- fine-tuning with a new head (load_weights's docstring) ------------------------------

def test_fine_tuning_recipe_keeps_the_loaded_layers_and_trains_a_new_head(tmp_path):
    pretrained = cr.mlp([4, 6, 3], seed=0)
    save_weights(pretrained, tmp_path / "w")
    model = cr.mlp([4, 6, 3], seed=1)
    load_weights(model, tmp_path / "w")
    model = cr.Sequential(*model.layers[:-1], cr.Linear(6, 5, seed=2))
    assert [layer.path for layer in model.layers] == ["0", "1", "2"]
    np.testing.assert_array_equal(model.params["0.W"], pretrained.params["0.W"])
    assert model.params["2.W"].shape == (6, 5)
    cr.fit(model, X, np.array([0, 1, 2, 3, 4]), epochs=1, verbose=0)
    assert model(X).shape == (5, 5)


@pytest.mark.parametrize("dtype", [[], ["F32"], {}])
def test_a_dtype_that_is_not_a_string_is_refused_naming_the_parameter(tmp_path, dtype):
    write_safetensors(tmp_path / "w", {
        "W": {"dtype": dtype, "shape": [2, 2], "data_offsets": [0, 16]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]},
    }, bytes(24))
    assert_refused(cr.Linear(2, 2, seed=0), tmp_path / "w", r"w: parameter 'W' has dtype .* expected one of F32, F64")


def test_a_file_of_pytorch_biases_alone_gets_the_pytorch_hint(tmp_path):
    path = tmp_path / "biases.safetensors"
    state = cr.to_state_dict(cr.mlp([4, 6, 3], seed=0))
    biases = {name: array for name, array in state.items() if name.endswith(".bias")}
    safetensors.numpy.save_file(biases, path)
    assert_refused(cr.mlp([4, 6, 3], seed=1), path, r"unexpected parameters .*'0\.bias'.*; the file's names look like "
                                                    r"PyTorch's")
