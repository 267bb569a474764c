"""chainrule.io.model_file: save/load round trips, and every damaged file refused."""

import functools
import json
import os
import pickle
import warnings

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors import safe_open

import chainrule as cr
from chainrule.data.preprocessing import Preprocessor
from chainrule.errors import HyperparameterError, ModelFileError, ModelFileWarning
from chainrule.io import load, read, save
from chainrule.io import architecture
from chainrule.io.contents_digest import FIELD as DIGEST_FIELD
from chainrule.io.metadata import MAX_NESTING

DTYPES = ["float32", "float64"]


def nested_lists(levels):
    """An empty list inside ``levels`` lists: ``levels + 1`` levels of lists."""
    return functools.reduce(lambda inner, _: [inner], range(levels), [])


def _models():
    """One small model per layer type, plus nested composites; name -> factory(dtype)."""
    activations = {name: (lambda d, name=name: cr.Sequential(cr.Linear(3, 4, dtype=d), getattr(cr, name)(), seed=1))
                   for name in ("Identity", "ReLU", "Sigmoid", "Tanh", "GELU", "Softmax")}
    return {
        **activations,
        "Linear": lambda d: cr.Linear(3, 4, init="lecun_normal", seed=2, dtype=d),
        "LeakyReLU": lambda d: cr.Sequential(cr.Linear(3, 4, dtype=d), cr.LeakyReLU(0.3), seed=3),
        "Residual": lambda d: cr.Residual(cr.Sequential(cr.Linear(3, 3, dtype=d), cr.Tanh(), seed=4)),
        "nested": lambda d: cr.Sequential(
            cr.Linear(3, 6, dtype=d), cr.ReLU(),
            cr.Sequential(cr.Residual(cr.Sequential(cr.Linear(6, 6, dtype=d), cr.Sigmoid())), cr.Tanh()),
            cr.Residual(cr.Residual(cr.Linear(6, 6, dtype=d))),
            cr.Linear(6, 2, init="zeros", dtype=d), cr.Softmax(), seed=5,
        ),
        "parameterless": lambda d: cr.Sequential(cr.ReLU(), cr.Residual(cr.Tanh())),
        "empty": lambda d: cr.Sequential(),
    }


MODELS = _models()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", MODELS)
def test_round_trip_gives_identical_outputs(tmp_path, name, dtype):
    model = MODELS[name](dtype)
    path = tmp_path / "model.safetensors"
    save(model, path)
    loaded = load(path)
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(dtype)
    assert repr(loaded) == repr(model)
    assert loaded.dtype == model.dtype
    assert loaded(X).dtype == model(X).dtype
    np.testing.assert_array_equal(loaded(X), model(X))
    assert list(loaded.params) == list(model.params)
    for array in loaded.params.values():
        assert array.flags.writeable
    # The loaded model is an independent, trainable model: its buffer flattens and updates.
    flat = loaded.flat_parameters()
    flat.theta += 1
    assert all(np.all(loaded.params[key] == model.params[key] + 1) for key in model.params)


def test_preprocessor_metadata_and_paths(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.choice(["cat", "dog", "eel"], size=20)
    model = cr.mlp([3, 5, 3], "tanh", seed=0, dtype="float64")
    model.preprocessor = Preprocessor.fit(X, y, "classification")
    model.metadata = {"epochs": 7, "val_accuracy": np.float32(0.875), "history": {"loss": np.array([1.0, 0.5])}}
    save(model, str(tmp_path / "m.safetensors"))
    loaded = load(os.fspath(tmp_path / "m.safetensors"))
    assert isinstance(loaded.preprocessor, Preprocessor)
    assert loaded.preprocessor.classes == ["cat", "dog", "eel"]
    np.testing.assert_array_equal(loaded.preprocessor.mean, model.preprocessor.mean)
    np.testing.assert_array_equal(loaded.preprocessor.scale, model.preprocessor.scale)
    assert loaded.metadata == {
        "epochs": 7, "val_accuracy": 0.875, "history": {"loss": [1.0, 0.5]},
        "chainrule_version": cr.__version__, "dtype": "float64",
    }
    assert model.metadata["epochs"] == 7 and "chainrule_version" not in model.metadata  # caller's dict untouched
    assert load(tmp_path / "m.safetensors").preprocessor is not None


def test_model_without_preprocessor_loads_with_none(tmp_path):
    save(cr.Linear(2, 2), tmp_path / "m")
    loaded = load(tmp_path / "m")
    assert loaded.preprocessor is None
    assert loaded.metadata == {"chainrule_version": cr.__version__, "dtype": "float32"}


def test_file_is_plain_safetensors_with_chainrule_metadata(tmp_path):
    save(cr.Sequential(cr.Linear(2, 3), cr.ReLU(), cr.Linear(3, 1)), tmp_path / "m")
    with safe_open(tmp_path / "m", "np") as file:
        assert sorted(file.keys()) == ["0.W", "0.b", "2.W", "2.b"]
        document = json.loads(file.metadata()["chainrule"])
    assert document["format"] == "chainrule-model" and document["format_version"] == 1
    assert document["architecture"]["layers"][1] == {"type": "ReLU"}


def test_extra_tensors_and_json_round_trip(tmp_path):
    model = cr.mlp([2, 4, 1], seed=0)
    m = np.arange(model.n_parameters, dtype=np.float32)
    state = {"epoch": 3, "rng": np.random.default_rng(1).bit_generator.state, "schedule": None}
    save(model, tmp_path / "ckpt", extra_tensors={"optimizer.m": m, "optimizer.t": np.array(5, dtype=np.int64)},
         extra_json=state)
    loaded, tensors, extra = read(tmp_path / "ckpt")
    assert sorted(tensors) == ["optimizer.m", "optimizer.t"]
    np.testing.assert_array_equal(tensors["optimizer.m"], m)
    assert tensors["optimizer.t"].shape == () and tensors["optimizer.t"] == 5
    assert extra == state  # 128-bit RNG state integers survive JSON
    assert sorted(load(tmp_path / "ckpt").params) == sorted(model.params)


@pytest.mark.parametrize("extra_tensors, extra_json, message", [
    ({"W": np.zeros(2)}, None, "extra tensor 'W' has the name of a model parameter"),
    ({"": np.zeros(2)}, None, "extra tensor name '' is not allowed"),
    ({"__metadata__": np.zeros(2)}, None, "extra tensor name '__metadata__'"),
    # its repr raised ValueError inside the message
    pytest.param({10 ** 5000: np.zeros(2)}, None, "extra tensor name <an int of 16,610 bits> is not allowed",
                 id="huge int name"),
    (None, [1, 2], "extra_json must be a dict"),
    ([("a", np.zeros(2))], None, "extra_tensors must be a dict of arrays by name, got list"),  # an AttributeError
    # a RecursionError in the JSON encoder before Python 3.13, which wrote it
    (None, {"deep": nested_lists(2000)},
     rf"extra_json\['deep'\]\[0\].*\.\.\.: dicts and lists nested more than {MAX_NESTING} deep; extra_json may "
     rf"nest them {MAX_NESTING} deep at most$"),
    (None, {"deep": nested_lists(MAX_NESTING - 1)}, rf"dicts and lists nested more than {MAX_NESTING} deep"),
    (None, {"loss": float("nan")}, "not plain JSON"),
    (None, {"callback": print}, "not plain JSON"),
    ({"z": np.zeros(2, np.complex64)}, None, "extra tensor 'z' has dtype complex64"),
    # JSON gave them back changed (as model metadata is refused): 1 as '1', a tuple as a list
    (None, {1: "a"}, r"cannot save: extra_json has the key 1 \(int\), which JSON would give back as a string"),
    (None, {"runs": [{None: 0}]}, r"cannot save: extra_json\['runs'\]\[0\] has the key None \(NoneType\)"),
    (None, {"shape": (2, 3)}, r"cannot save: extra_json\['shape'\] is a tuple, which JSON would give back as a list"),
])
def test_bad_extras_are_refused_and_nothing_is_written(tmp_path, extra_tensors, extra_json, message):
    with pytest.raises(ModelFileError, match=message):
        save(cr.Linear(2, 2), tmp_path / "m", extra_tensors=extra_tensors, extra_json=extra_json)
    assert os.listdir(tmp_path) == []


def test_extra_json_nested_to_the_limit_comes_back(tmp_path):
    """extra_json is the first level: {"deep": nested_lists(MAX_NESTING - 2)} nests MAX_NESTING deep."""
    extra_json = {"deep": nested_lists(MAX_NESTING - 2)}
    save(cr.Linear(2, 2), tmp_path / "m", extra_json=extra_json)
    assert read(tmp_path / "m")[2] == extra_json


@pytest.mark.parametrize("field", ["metadata", "extra_json"])
@pytest.mark.parametrize("levels", [MAX_NESTING - 1, 500])
def test_a_file_nesting_deeper_than_save_writes_is_refused_when_read(saved, field, levels):
    """A file written by hand, or before MAX_NESTING, loaded and then could not be saved again."""
    tensors, document = _contents(saved)
    document.pop(DIGEST_FIELD, None)  # a digest of the file as saved would refuse it first
    document[field]["deep"] = nested_lists(levels)  # the field, its dict's list and ``levels`` more
    _rewrite(saved, tensors, document)
    for reader in (load, read):
        with pytest.raises(ModelFileError, match=rf"^{saved}: {field}\['deep'\]\[0\].*\.\.\.: dicts and lists nested "
                                                 rf"more than {MAX_NESTING} deep; {field} may nest them "
                                                 rf"{MAX_NESTING} deep at most$"):
            reader(saved)
    document[field]["deep"] = nested_lists(MAX_NESTING - 2)  # MAX_NESTING deep: what save writes
    _rewrite(saved, tensors, document)
    model, _, extra_json = read(saved)
    assert (model.metadata if field == "metadata" else extra_json)["deep"] == nested_lists(MAX_NESTING - 2)


def test_a_file_nesting_past_the_json_readers_reach_is_named_so(saved):
    """It was "not valid JSON (maximum recursion depth exceeded ...)": valid JSON, only deeper than Python reads."""
    tensors, document = _contents(saved)
    document.pop(DIGEST_FIELD, None)
    text = json.dumps(document).replace('"extra_json": {}', '"extra_json": {"deep": ' + "[" * 10**5 + "]" * 10**5 + "}")
    saved.write_bytes(safetensors.numpy.save(tensors, metadata={"chainrule": text}))
    with pytest.raises(ModelFileError, match=r"damaged chainrule metadata: its JSON nests dicts and lists deeper than "
                                             r"Python's JSON reader goes \(past its recursion limit\); chainrule "
                                             r"writes none so deep$"):
        load(saved)


def test_unsupported_layer_is_refused(tmp_path):
    class Custom(cr.ReLU):
        pass

    with pytest.raises(ModelFileError, match=r"m: cannot save layer '1' \(Custom\)"):
        save(cr.Sequential(cr.Linear(2, 2), Custom()), tmp_path / "m")
    assert os.listdir(tmp_path) == []


def test_mixed_dtypes_are_refused(tmp_path):
    model = cr.Sequential(cr.Linear(2, 2), cr.Linear(2, 2, dtype="float64"))
    with pytest.raises(ModelFileError, match="must all be float32 or all float64; got 0.W: float32, 0.b: float32, 1.W: float64"):
        save(model, tmp_path / "m")


def test_unwritable_path_raises_and_keeps_the_old_file(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        save(cr.Linear(2, 2), tmp_path / "missing" / "m")
    save(cr.Linear(2, 2, seed=0), tmp_path / "m")
    before = (tmp_path / "m").read_bytes()
    with pytest.raises(ModelFileError):
        save(cr.Sequential(cr.Linear(2, 2), cr.Linear(2, 2, dtype="float64")), tmp_path / "m")
    assert (tmp_path / "m").read_bytes() == before


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5),
       activation=st.sampled_from(sorted(cr.layers.ACTIVATIONS)), dtype=st.sampled_from(DTYPES))
def test_round_trip_of_random_mlps(tmp_path_factory, sizes, activation, dtype):
    model = cr.mlp(sizes, activation, seed=0, dtype=dtype)
    path = tmp_path_factory.mktemp("mlp") / "m"
    save(model, path)
    X = np.linspace(-2, 2, 4 * sizes[0]).reshape(4, sizes[0])
    np.testing.assert_array_equal(load(path)(X), model(X))


# -- damaged, tampered and foreign files ----------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    """A saved float32 model: Linear(3, 4), ReLU, Linear(4, 2)."""
    path = tmp_path / "model.safetensors"
    save(cr.Sequential(cr.Linear(3, 4), cr.ReLU(), cr.Linear(4, 2), seed=0), path)
    return path


def _contents(path):
    """(tensors, chainrule document) of a saved file."""
    with safe_open(path, "np") as file:
        document = json.loads(file.metadata()["chainrule"])
    return safetensors.numpy.load(path.read_bytes()), document


def _rewrite(path, tensors, document):
    """Replace ``path`` with a well-formed safetensors file holding ``tensors`` and ``document``."""
    path.write_bytes(safetensors.numpy.save(tensors, metadata={"chainrule": json.dumps(document)}))


def test_untouched_rewrite_still_loads(saved):
    # The tampering helpers themselves produce loadable files; only the change breaks them.
    _rewrite(saved, *_contents(saved))
    assert sorted(load(saved).params) == ["0.W", "0.b", "2.W", "2.b"]


class Exploit:
    """Unpickling this would create a marker file (and could as easily run anything)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_pickle_renamed_is_refused_and_never_run(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps({"0.W": Exploit(marker)}, protocol=protocol))
    # The test's own pickle really would run the payload ...
    pickle.loads(path.read_bytes())
    assert marker.exists()
    marker.unlink()
    # ... and load does not.
    with pytest.raises(ModelFileError, match="not a chainrule model file"):
        load(path)
    assert not marker.exists()


def test_pickle_is_named_as_such(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(np.zeros(3), protocol=4))
    with pytest.raises(ModelFileError, match="looks like a Python pickle"):
        load(path)


def test_zip_archive_is_named_as_such(tmp_path):
    path = tmp_path / "model.safetensors"
    np.savez(tmp_path / "weights.npz", W=np.zeros(3))
    path.write_bytes((tmp_path / "weights.npz").read_bytes())
    with pytest.raises(ModelFileError, match="zip archive"):
        load(path)


def test_a_text_file_is_named_as_such(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x0,x1,label\n1.5,2,yes\n")
    with pytest.raises(ModelFileError, match=r"; it starts with text \('x0,x1,la'\), like a CSV or other text file$"):
        load(path)
    path.write_bytes(b"x0,x1\x00\x00\x00")  # not text: no hint
    with pytest.raises(ModelFileError) as raised:
        load(path)
    assert "starts with text" not in str(raised.value)


@pytest.mark.parametrize("delta", [1000, 2**40, 2**63])
def test_header_length_longer_than_file(saved, delta):
    data = saved.read_bytes()
    length = int.from_bytes(data[:8], "little")
    saved.write_bytes(((length + delta) % 2**64).to_bytes(8, "little") + data[8:])
    with pytest.raises(ModelFileError, match="header length of .* but only .* bytes follow"):
        load(saved)


@pytest.mark.parametrize("delta", [1, 3, 9])
def test_header_length_reaching_into_the_tensor_data(saved, delta):
    data = saved.read_bytes()
    length = int.from_bytes(data[:8], "little")
    saved.write_bytes((length + delta).to_bytes(8, "little") + data[8:])
    with pytest.raises(ModelFileError, match="not valid JSON|damaged tensor data|truncated"):
        load(saved)


@pytest.mark.parametrize("delta", [1, 7, 40])
def test_header_length_shorter_than_header(saved, delta):
    data = saved.read_bytes()
    length = int.from_bytes(data[:8], "little")
    saved.write_bytes((length - delta).to_bytes(8, "little") + data[8:])
    with pytest.raises(ModelFileError, match="not valid JSON|damaged|truncated"):
        load(saved)


@pytest.mark.parametrize("keep", [0, 3, 8, 20, "header", "minus1", "half"])
def test_truncated_file(saved, keep):
    data = saved.read_bytes()
    header_end = 8 + int.from_bytes(data[:8], "little")
    cut = {"header": header_end, "minus1": len(data) - 1, "half": (header_end + len(data)) // 2}.get(keep, keep)
    saved.write_bytes(data[:cut])
    with pytest.raises(ModelFileError, match=str(saved.name)):
        load(saved)


def test_truncated_data_says_so(saved):
    saved.write_bytes(saved.read_bytes()[:-4])
    with pytest.raises(ModelFileError, match="truncated model file"):
        load(saved)


def test_trailing_bytes_are_refused(saved):
    saved.write_bytes(saved.read_bytes() + b"\0" * 16)
    with pytest.raises(ModelFileError, match="damaged tensor data"):
        load(saved)


@pytest.mark.parametrize("header", [b"\xff\xfe garbage", b"{not json}", b"[1, 2, 3]", b'{"a": NaN}', b"[" * 100000],
                         ids=["not-utf8", "not-json", "a-list", "nan", "deeply-nested"])
def test_header_that_is_not_a_json_object(tmp_path, header):
    path = tmp_path / "m"
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    with pytest.raises(ModelFileError, match="not a chainrule model file"):
        load(path)


def test_garbage_bytes_in_header_of_saved_file(saved):
    data = bytearray(saved.read_bytes())
    data[9:20] = b"\x00" * 11
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load(saved)


def test_foreign_safetensors_file(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(safetensors.numpy.save({"weight": np.zeros((2, 2), np.float32)}, metadata={"format": "pt"}))
    with pytest.raises(ModelFileError, match="not a chainrule model file.*without chainrule's"):
        load(path)
    path.write_bytes(safetensors.numpy.save({"weight": np.zeros((2, 2), np.float32)}))
    with pytest.raises(ModelFileError, match="not a chainrule model file"):
        load(path)


@pytest.mark.parametrize("text, message", [
    ("{oops", "damaged chainrule metadata: not valid JSON"),
    ('{"format": "keras"}', "not a chainrule model file: its metadata has no format"),
    ("[]", "not a chainrule model file"),
])
def test_chainrule_metadata_damaged_or_foreign(saved, text, message):
    tensors, _ = _contents(saved)
    saved.write_bytes(safetensors.numpy.save(tensors, metadata={"chainrule": text}))
    with pytest.raises(ModelFileError, match=message):
        load(saved)


@pytest.mark.parametrize("field, value, message", [
    ("format_version", 2, "format version 2"),
    ("format_version", "1", "format_version: expected an integer, got '1'"),
    ("dtype", "float16", "dtype: expected one of float32, float64, got 'float16'"),
    # it was put whole into the message; and a metadata field, cut at 60 characters without "..."
    pytest.param("dtype", "x" * 100_000, "dtype: expected one of float32, float64, got '" + "x" * 59 + r"\.\.\.$",
                 id="dtype-long"),
    pytest.param("metadata", "x" * 100_000, "metadata: expected a JSON object, got '" + "x" * 59 + r"\.\.\.$",
                 id="metadata-long"),
    ("dtype", None, "dtype: null, but the architecture has parameters"),
    ("metadata", [], "metadata: expected a JSON object"),
    ("extra_json", "x", "extra_json: expected a JSON object"),
    ("preprocessor", [1], "preprocessor: expected a JSON object or null"),
    ("preprocessor", {"n_features": 3}, "malformed saved preprocessing"),
    ("extra_tensors", {"opt": {"dtype": "float32"}}, "extra_tensors.opt: expected"),
    ("code", "__import__('os').system('echo hi')", "unexpected field 'code' in chainrule's metadata"),
])
def test_bad_document_fields(saved, field, value, message):
    tensors, document = _contents(saved)
    document[field] = value
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match=message):
        load(saved)


@pytest.mark.parametrize("written, by", [("0.1.0", "chainrule '0.1.0'"), (None, "a chainrule that records no version")])
@pytest.mark.parametrize("version, direction", [
    (0, "an older format that this chainrule \\(.*\\) cannot read \\(it reads version 1\\); "
        "load the file with the chainrule that wrote it$"),
    (2, "a newer format than this chainrule \\(.*\\) reads \\(version 1\\); upgrade chainrule to load it$"),
])
def test_other_format_version_is_refused_saying_which_way(saved, version, direction, written, by):
    tensors, document = _contents(saved)
    document["format_version"] = version
    if written is None:
        del document["metadata"]["chainrule_version"]
    else:
        document["metadata"]["chainrule_version"] = written
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match=f"model file format version {version}, written by {by}: {direction}"):
        load(saved)


NEWER = "99.0.0"  # a release after this one


def _written_by(path, version, change=lambda document: None):
    """Make the file at ``path`` say that chainrule ``version`` wrote it (None: no version), then apply ``change``."""
    tensors, document = _contents(path)
    if version is None:
        del document["metadata"]["chainrule_version"]
    else:
        document["metadata"]["chainrule_version"] = version
    change(document)
    _rewrite(path, tensors, document)


def _unknown_layer(document):
    document["architecture"]["layers"][1] = {"type": "Conv2d"}


def _unknown_task(document):
    document["preprocessor"] = {**Preprocessor(3, "regression").to_json(), "task": "ranking"}


@pytest.mark.parametrize("change, refusal", [
    (lambda document: document.update(new_field=1), "unexpected field 'new_field' in chainrule's metadata"),
    (lambda document: document.update(dtype="bfloat16"), "dtype: expected one of float32, float64, got 'bfloat16'"),
    (_unknown_layer, "Conv2d"),
    (_unknown_task, "preprocessing.task: expected one of .*; got 'ranking'"),
], ids=["field", "dtype", "layer", "preprocessor"])
def test_refusal_a_newer_release_may_explain_names_it(saved, change, refusal):
    _written_by(saved, NEWER, change)
    with pytest.raises(ModelFileError, match=f"{refusal}.*\\(the file was written by chainrule '{NEWER}'; "
                                              f"this is chainrule {cr.__version__}: upgrade chainrule to read it\\)$"):
        load(saved)


@pytest.mark.parametrize("version", ["0.0.1", "not-a-version"])
def test_refusal_names_an_older_or_unparsable_release_without_advising_an_upgrade(saved, version):
    _written_by(saved, version, lambda document: document.update(new_field=1))
    with pytest.raises(ModelFileError, match=f"\\(the file was written by chainrule '{version}'; "
                                              f"this is chainrule {cr.__version__}\\)$"):
        load(saved)


@pytest.mark.parametrize("version", [cr.__version__, None])
def test_refusal_names_no_release_when_it_is_this_one_or_unrecorded(saved, version):
    _written_by(saved, version, lambda document: document.update(new_field=1))
    with pytest.raises(ModelFileError, match="unexpected field 'new_field' in chainrule's metadata: "
                                              "not one this chainrule \\(.*\\) writes or reads$"):
        load(saved)


def test_a_file_from_a_newer_release_loads_with_a_warning(saved):
    expected = load(saved)
    _written_by(saved, NEWER)
    with pytest.warns(ModelFileWarning, match=f"written by chainrule '{NEWER}', newer than this chainrule "
                                              f"\\({cr.__version__}\\); it loads") as caught:
        model = load(saved)
    assert len(caught) == 1 and caught[0].filename == __file__  # points at the caller of cr.load
    assert isinstance(caught[0].message, UserWarning)
    for name, array in expected.params.items():
        np.testing.assert_array_equal(model.params[name], array)


def test_a_long_release_is_quoted_in_part_in_the_warning(saved):
    _written_by(saved, NEWER + "x" * 400_000)
    with pytest.warns(ModelFileWarning, match=f"written by chainrule '{NEWER}x+\\.\\.\\., newer") as caught:
        load(saved)
    assert len(str(caught[0].message)) < 1000


@pytest.mark.parametrize("version", [None, "not-a-version", "0.0.1", cr.__version__, 5,
                                     pytest.param("9" * 5000, id="9...9"),
                                     pytest.param("1." + "9" * 5000, id="1.9...9")])
def test_a_missing_unparsable_older_or_same_release_loads_silently(saved, version):
    _written_by(saved, version)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sorted(load(saved).params) == ["0.W", "0.b", "2.W", "2.b"]


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_save_refuses_a_non_finite_parameter_naming_it(tmp_path, value):
    model = cr.Sequential(cr.Linear(3, 4), cr.ReLU(), cr.Linear(4, 2), seed=0)
    model.params["2.b"][1] = value
    path = tmp_path / "model.safetensors"
    with pytest.raises(ModelFileError, match=f"{path}: cannot save: parameter '2.b': expected finite values, "
                                             f"found {value!r} at index \\(1,\\)"):
        save(model, path)
    assert not path.exists()


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_load_refuses_a_file_holding_a_non_finite_parameter(saved, value):
    tensors, document = _contents(saved)
    tensors["2.W"][3, 1] = value
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match=f"{saved}: parameter '2.W': expected finite values, found {value!r} "
                                              f"at index \\(3, 1\\).*does not load a diverged model"):
        read(saved)


def test_extra_tensors_may_hold_non_finite_values(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    save(cr.Linear(2, 2, seed=0), path, extra_tensors={"state": np.array([np.nan, np.inf])})
    _, extras, _ = read(path)
    np.testing.assert_array_equal(extras["state"], [np.nan, np.inf])


def test_missing_document_field(saved):
    tensors, document = _contents(saved)
    del document["architecture"]
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match="missing field 'architecture'"):
        load(saved)


def test_missing_tensor(saved):
    tensors, document = _contents(saved)
    del tensors["2.b"]
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match="missing tensor '2.b'"):
        load(saved)


def test_extra_tensor(saved):
    tensors, document = _contents(saved)
    tensors["backdoor"] = np.ones(3, np.float32)
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match="unexpected tensor 'backdoor'"):
        load(saved)


def test_declared_extra_tensor_missing(saved):
    tensors, document = _contents(saved)
    document["extra_tensors"] = {"optimizer.m": {"dtype": "float32", "shape": [3]}}
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match="missing tensor 'optimizer.m'"):
        read(saved)


def test_extra_tensor_differs_from_its_declaration(saved):
    tensors, document = _contents(saved)
    tensors["optimizer.m"] = np.zeros(4, np.float64)
    document["extra_tensors"] = {"optimizer.m": {"dtype": "float32", "shape": [4]}}
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match="tensor 'optimizer.m' has dtype 'F64' and shape \\[4\\] in the header"):
        read(saved)


@pytest.mark.parametrize("dtype, code", [("float16", "F16"), ("float64", "F64"), ("int32", "I32"), ("uint8", "U8")])
def test_wrong_dtype(saved, dtype, code):
    tensors, document = _contents(saved)
    tensors["0.W"] = tensors["0.W"].astype(dtype)
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match=f"tensor '0.W' has dtype '{code}', expected 'F32'"):
        load(saved)


def test_a_long_dtype_in_the_header_is_cut(saved):
    """A crafted header's dtype went whole into the message (100,000 characters)."""
    _rewrite_header(saved, lambda header: header["0.W"].update(dtype="X" * 100_000))
    with pytest.raises(ModelFileError, match=r"tensor '0.W' has dtype '" + "X" * 19 + r"\.\.\., expected 'F32' "):
        load(saved)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4, 1), (12,), (3, 5)])
def test_wrong_shape(saved, shape):
    tensors, document = _contents(saved)
    tensors["0.W"] = np.zeros(shape, np.float32)
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match=r"tensor '0.W' has shape .*, expected \[3, 4\] from the architecture"):
        load(saved)


def test_architecture_and_tensors_changed_together_must_still_agree(saved):
    # Widening a layer in the architecture alone is caught by the shapes ...
    tensors, document = _contents(saved)
    document["architecture"]["layers"][2]["n_out"] = 5
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match="tensor '2.W' has shape \\[4, 2\\], expected \\[4, 5\\]"):
        load(saved)


@pytest.mark.parametrize("layer_type", ["Conv2d", "os.system", "builtins.eval", "subprocess.Popen"])
def test_unknown_layer_type_in_architecture(saved, layer_type):
    tensors, document = _contents(saved)
    document["architecture"]["layers"][1] = {"type": layer_type}
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match=rf"architecture\.layers\[1\]\.type: unknown layer type '{layer_type}'"):
        load(saved)


def test_absurd_width_in_architecture(saved):
    tensors, document = _contents(saved)
    document["architecture"]["layers"][0]["n_out"] = 2**40
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match=r"architecture\.layers\[0\]\.n_out: expected an integer in \[1, 2\*\*31\]"):
        load(saved)


def _claim_huge_first_layer(path, width: int, W_offsets, b_offsets=None) -> None:
    """Make the architecture and header of ``path`` claim a ``width`` x ``width`` first layer,
    with the given data_offsets for its W (and b, if given); no weight bytes are added. The
    last layer is dropped: it does not take ``width`` features."""
    document = _contents(path)[1]
    document["architecture"]["layers"][0] = {"type": "Linear", "n_in": width, "n_out": width, "init": "auto"}
    del document["architecture"]["layers"][2]

    def claim(header):
        header["__metadata__"]["chainrule"] = json.dumps(document)
        del header["2.W"], header["2.b"]
        header["0.W"]["shape"], header["0.W"]["data_offsets"] = [width, width], W_offsets
        header["0.b"]["shape"] = [width]
        if b_offsets is not None:
            header["0.b"]["data_offsets"] = b_offsets
    _rewrite_header(path, claim)


def test_huge_layer_matching_a_lying_header_is_caught_before_allocating(saved):
    # Architecture and header both claim a 2**31 x 2**31 layer, offsets and all: the data cannot be there.
    huge = 2**31
    _claim_huge_first_layer(saved, huge, [0, 4 * huge * huge], [4 * huge * huge, 4 * huge * huge + 4 * huge])
    with pytest.raises(ModelFileError, match="truncated model file"):
        load(saved)


@pytest.mark.parametrize("offsets, found", [
    ([0, 4], "its data_offsets \\[0, 4\\] span 4 bytes; its dtype F32 and shape \\[131072, 131072\\] need 68719476736"),
    ([8, 4], "data_offsets \\[8, 4\\]: expected \\[begin, end\\], 0 <= begin <= end"),
    ([0, "4"], "data_offsets \\[0, '4'\\]: expected"),
])
def test_offsets_that_do_not_hold_a_huge_layer_are_caught_before_allocating(saved, offsets, found):
    # A tiny file whose architecture and header claim a 2**17 x 2**17 layer (64 GiB) but whose
    # offsets give it a few bytes: refused from the header, before any array is made.
    _claim_huge_first_layer(saved, 2**17, offsets)
    with pytest.raises(ModelFileError, match=f"tensor '0.W': .*{found}"):
        load(saved)


@pytest.mark.parametrize("content", [b"", b"\x00" * 7])
def test_empty_or_tiny_file(tmp_path, content):
    (tmp_path / "m").write_bytes(content)
    with pytest.raises(ModelFileError, match=f"only {len(content)} bytes long"):
        load(tmp_path / "m")


def test_nonexistent_path(tmp_path):
    with pytest.raises(ModelFileError, match="nowhere.safetensors: no such model file"):
        load(tmp_path / "nowhere.safetensors")


def test_directory_path(tmp_path):
    with pytest.raises(ModelFileError, match="is a directory"):
        load(tmp_path)


def test_model_file_error_is_a_value_error(tmp_path):
    with pytest.raises(ValueError):
        load(tmp_path / "nowhere")


def _rewrite_header(path, change):
    """Apply ``change`` to the safetensors JSON header of ``path``, keeping the tensor bytes."""
    data = path.read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    change(header)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + data[8 + length:])


@pytest.mark.parametrize("dtype, shape", [("BF16", [8]), ("F8_E4M3", [16]), ("F8_E5M2", [16]), ("F16", [8]), ("F32", [2, 2])])
def test_extra_tensor_header_must_match_its_declaration(tmp_path, dtype, shape):
    # 16 bytes of float32 relabelled in the header: safetensors would read them as another type (or fail with a KeyError).
    path = tmp_path / "model.safetensors"
    save(cr.Linear(2, 2), path, extra_tensors={"opt": np.zeros(4, np.float32)})

    def relabel(header):
        header["opt"]["dtype"], header["opt"]["shape"] = dtype, shape
    _rewrite_header(path, relabel)
    with pytest.raises(ModelFileError, match=f"tensor 'opt' has dtype '{dtype}' and shape .* in the header"):
        read(path)


def test_extra_tensor_declared_with_a_negative_dimension(saved):
    tensors, document = _contents(saved)
    tensors["opt"] = np.zeros(4, np.float32)
    document["extra_tensors"] = {"opt": {"dtype": "float32", "shape": [-2, -2]}}
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match=r"extra_tensors.opt: expected .*\[int >= 0, \.\.\.\]\}, got .*-2, -2"):
        read(saved)


def test_extra_tensor_of_a_dtype_chainrule_never_writes(saved):
    tensors, document = _contents(saved)
    tensors["opt"] = np.zeros(4, np.float32)
    document["extra_tensors"] = {"opt": {"dtype": "bfloat16", "shape": [4]}}
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match="extra_tensors.opt: dtype 'bfloat16' is not one chainrule writes"):
        read(saved)


@pytest.mark.parametrize("layers", [
    [cr.Linear(3, 2)],
    [cr.ReLU(), cr.Linear(3, 2)],
    [cr.Residual(cr.Sequential(cr.Linear(3, 3), cr.Tanh())), cr.Linear(3, 2)],
])
def test_preprocessor_must_match_the_network_input_width(tmp_path, layers):
    path = tmp_path / "model.safetensors"
    model = cr.Sequential(*layers, seed=0)
    model.preprocessor = Preprocessor.fit(np.zeros((4, 3)), np.zeros(4), "regression")
    save(model, path)
    assert load(path).preprocessor.n_features == 3
    other = Preprocessor.fit(np.zeros((4, 7)), np.zeros(4), "regression")
    tensors, document = _contents(path)
    document["preprocessor"] = other.to_json()
    _rewrite(path, tensors, document)
    with pytest.raises(ModelFileError, match="preprocessor.n_features: expected 3 .*input width.*, got 7"):
        load(path)


def test_save_refuses_a_preprocessor_of_another_input_width(tmp_path):
    """save wrote the file, which load then refused."""
    path = tmp_path / "model.safetensors"
    model = cr.Sequential(cr.Linear(3, 2), seed=0)
    model.preprocessor = Preprocessor.fit(np.zeros((4, 7)), np.zeros(4), "regression")
    with pytest.raises(ModelFileError, match="model.safetensors: preprocessor.n_features: expected 3 .*, got 7"):
        save(model, path)
    assert not path.exists()


@pytest.mark.parametrize("spoil, message", [
    (lambda p: p.classes.__setitem__(2, p.classes[0]), r"preprocessor\.classes: expected at least 2 distinct labels"),
    (lambda p: p.scale.__setitem__(0, 0.0), r"preprocessor\.scale\[0\]: expected a finite number > 0"),
])
def test_save_checks_every_field_of_a_preprocessor_changed_in_place_since_predict(tmp_path, spoil, message):
    # predict remembers the fields it checked; save wrote what load then refused.
    X, y = np.random.default_rng(0).normal(size=(30, 3)), np.arange(30) % 3
    model = cr.mlp([3, 4, 3], seed=0)
    cr.fit(model, X, y, epochs=1, standardize=True, verbose=0)
    cr.predict(model, X)
    spoil(model.preprocessor)
    with pytest.raises(ModelFileError, match=f"model.safetensors: {message}"):
        save(model, tmp_path / "model.safetensors")
    assert not (tmp_path / "model.safetensors").exists()


SURROGATE = b"caf\xe9".decode("utf-8", "surrogateescape")  # "caf\udce9", as os.listdir gives a non-UTF-8 name

# Named preprocessing.<field> when load reads them, preprocessor.<field> when save checks them.
INCOHERENT_PREPROCESSORS = [
    ({"classes": ["a", "b", SURROGATE]},
     r"preprocess(?:or|ing)\.classes: the label 'caf\\udce9' is not text that UTF-8"),
    ({"feature_names": ["x", "y", SURROGATE]},
     r"preprocess(?:or|ing)\.feature_names: the feature name 'caf\\udce9' is not"),
    ({"task": "regression"}, r"preprocess(?:or|ing)\.classes: expected none for a regression"),
    ({"classes": [1, "1", 2]},
     r"preprocess(?:or|ing)\.classes: labels must be all numbers, all strings or all booleans"),
    ({"scale": np.array([1.0, 1e-320, 1.0])}, r"preprocessing\.scale: every scale must be > 0, at least|"
                                              r"preprocessor\.scale\[1\]: expected a finite number > 0, at least"),
]
INCOHERENT_IDS = ["label", "feature-name", "regression-classes", "mixed-classes", "subnormal-scale"]


def _incoherent_classifier(change):
    model = cr.Sequential(cr.Linear(3, 3), seed=0)
    model.preprocessor = Preprocessor(3, "classification", np.zeros(3), np.ones(3), ["a", "b", "c"])
    for key, value in change.items():
        setattr(model.preprocessor, key, value)
    return model


@pytest.mark.parametrize("change, message", INCOHERENT_PREPROCESSORS, ids=INCOHERENT_IDS)
def test_load_refuses_a_preprocessor_fit_never_makes_naming_the_field(tmp_path, change, message):
    """Each loaded: a label that predict -o could not write, a regression with classes that info
    listed, labels 1 and "1" both written "1", standardized inputs of inf."""
    model = _incoherent_classifier(change)
    preprocessor, model.preprocessor = model.preprocessor, None
    path = tmp_path / "model.safetensors"
    save(model, path)
    tensors, document = _contents(path)
    document["preprocessor"] = preprocessor.to_json()
    _rewrite(path, tensors, document)
    with pytest.raises(ModelFileError, match=f"model.safetensors: ({message})"):
        load(path)


@pytest.mark.parametrize("change, message", INCOHERENT_PREPROCESSORS, ids=INCOHERENT_IDS)
def test_save_refuses_a_preprocessor_fit_never_makes_naming_the_field(tmp_path, change, message):
    path = tmp_path / "model.safetensors"
    with pytest.raises(ModelFileError, match=f"model.safetensors: ({message})"):
        save(_incoherent_classifier(change), path)
    assert not path.exists()


def test_load_draws_no_random_weights(saved, monkeypatch):
    # The file's weights replace whatever the layers hold, so drawing them first is wasted.
    import chainrule.layers.linear as linear_module

    expected = {name: array.copy() for name, array in load(saved).params.items()}

    def no_draw(name):
        raise AssertionError(f"load drew random {name} weights")

    monkeypatch.setattr(linear_module, "get_initializer", no_draw)
    loaded = load(saved)
    for name, array in expected.items():
        np.testing.assert_array_equal(loaded.params[name], array)
        assert loaded.params[name].flags.c_contiguous and loaded.params[name].flags.writeable
    assert [layer.resolved_init for layer in loaded.layers[::2]] == ["he_normal", "glorot_uniform"]


def test_a_file_replaced_after_its_header_was_checked_is_refused(saved, monkeypatch):
    import chainrule.io.model_file as model_file

    real_read_header = model_file.read_header

    def read_header_then_replace(path, *args):
        header = real_read_header(path, *args)
        save(cr.Sequential(cr.Linear(3, 5), cr.ReLU(), cr.Linear(5, 2), seed=0), path)
        return header

    monkeypatch.setattr(model_file, "read_header", read_header_then_replace)
    with pytest.raises(ModelFileError, match=r"tensor '0.W' has dtype float32 and shape \[3, 5\], expected float32 "
                                             r"and \[3, 4\] \(was the file replaced while being read\?\)"):
        load(saved)


def test_loads_with_a_safetensors_that_only_memory_maps(saved, monkeypatch):
    # safetensors before 0.8 has no ``backend`` argument; chainrule asks for safetensors>=0.4.
    import chainrule.io.safetensors_file as safetensors_file

    real_safe_open = safetensors_file.safe_open

    def old_safe_open(path, framework, **options):
        if options:
            raise TypeError(f"safe_open() got an unexpected keyword argument {next(iter(options))!r}")
        return real_safe_open(path, framework)

    monkeypatch.setattr(safetensors_file, "safe_open", old_safe_open)
    model = cr.Sequential(cr.Linear(3, 4), cr.ReLU(), cr.Linear(4, 2), seed=0)
    save(model, saved, extra_tensors={"optimizer.m": np.arange(4, dtype=np.int64)})
    loaded, extras, _ = read(saved)
    for name, array in model.params.items():
        np.testing.assert_array_equal(loaded.params[name], array)
    np.testing.assert_array_equal(extras["optimizer.m"], np.arange(4))
    assert extras["optimizer.m"].dtype == np.int64


def test_a_weights_file_is_named_as_such_with_what_to_do(tmp_path):
    path = tmp_path / "w.safetensors"
    cr.save_weights(cr.mlp([4, 6, 3], seed=0), path)
    with pytest.raises(ModelFileError, match=rf"^{path}: a weights file from cr\.save_weights: it holds no "
                                             r"architecture; build the model in code and call "
                                             r"cr\.load_weights\(model, path\)$"):
        load(path)


def test_foreign_safetensors_file_message_names_the_metadata_once(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(safetensors.numpy.save({"weight": np.zeros((2, 2), np.float32)}))
    with pytest.raises(ModelFileError) as error:
        load(path)
    assert str(error.value) == (f"{path}: not a chainrule model file: a safetensors file without chainrule's "
                                f"metadata (written by another program?)")


@pytest.mark.parametrize("path, found", [(None, "NoneType None"), (5, "int 5"), (False, "bool False"),
                                         (b"model.safetensors", "bytes b'model.safetensors'")])
def test_path_that_is_not_a_file_path(path, found):
    message = rf"^path: expected a file path \(str or os\.PathLike\), got {found}$"
    with pytest.raises(HyperparameterError, match=message):
        save(cr.Linear(2, 2, seed=0), path)
    with pytest.raises(HyperparameterError, match=message):
        load(path)
    with pytest.raises(HyperparameterError, match=message):
        read(path)


@pytest.mark.parametrize("name, found", [("m/", "'m/', which names a directory"),
                                         ("a\0b", r"'a\\x00b', which holds a NUL byte")])
def test_a_path_naming_a_directory_or_holding_a_nul_byte_is_refused(tmp_path, monkeypatch, name, found):
    """'m/' wrote a file named 'm'; a NUL byte raised a raw ValueError (embedded null byte)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HyperparameterError, match=rf"^path: expected a file (name|path), got {found}"):
        save(cr.Linear(2, 2, seed=0), name)
    for reader in (load, read):
        with pytest.raises(HyperparameterError, match=rf"^path: expected a file (name|path), got {found}"):
            reader(name)
    assert list(tmp_path.iterdir()) == []


def test_a_file_this_user_may_not_write_is_refused_and_kept(tmp_path, monkeypatch):
    """cr.save replaced a chmod 444 file (the CLI's -o refuses it); os.access says so to a plain user, not
    to root, so it is made to (tests/io/test_atomic.py runs the real one)."""
    save(cr.Linear(2, 2, seed=0), tmp_path / "m")
    before = (tmp_path / "m").read_bytes()
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(ModelFileError, match=r"m: cannot write: the file is read-only \(no write permission\); make "
                                             r"it writable \(chmod u\+w\) or write to another file$"):
        save(cr.Linear(2, 2, seed=1), tmp_path / "m")
    assert (tmp_path / "m").read_bytes() == before and os.listdir(tmp_path) == ["m"]


def test_an_int_path_is_not_taken_as_a_descriptor_and_closed(saved):
    with open(saved, "rb") as file:
        with pytest.raises(HyperparameterError, match="got int"):
            load(file.fileno())
        assert file.read(8) == saved.read_bytes()[:8]  # the descriptor is still open


def test_an_extra_tensor_with_a_parameter_name_is_refused(saved):
    """extra_tensors["0.W"] loaded silently: the one tensor was both a weight and an extra."""
    tensors, document = _contents(saved)
    document["extra_tensors"] = {"0.W": {"dtype": "float32", "shape": [3, 4]}}
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match=r"model.safetensors: extra_tensors: '0.W' has the name of a model param"):
        read(saved)


def _classifier(outputs: int, classes: list, out_activation=None):
    model = cr.Sequential(cr.Linear(3, outputs), *([out_activation] if out_activation else []), seed=0)
    model.preprocessor = Preprocessor(n_features=3, task="classification", classes=classes)
    return model


def _classifier_file(path, outputs: int, classes: list, out_activation=None):
    save(_classifier(outputs, classes, out_activation), path)
    return path


def _crafted_classifier_file(path, outputs: int, classes: list):
    """A file whose preprocessor holds ``classes`` whatever the outputs (save refuses such a model)."""
    model = _classifier(outputs, classes)
    preprocessor, model.preprocessor = model.preprocessor, None
    save(model, path)
    tensors, document = _contents(path)
    document["preprocessor"] = preprocessor.to_json()
    _rewrite(path, tensors, document)
    return path


BAD_CLASSES = [
    (10, [0, 1, 2], "expected 10 classes, one per output of the network, got 3"),
    (10, list(range(10**6)), "expected 10 classes, one per output of the network, got 1,000,000"),
    (1, ["a", "b", "c"], r"expected 2 classes for the network's one output \(or 1\), got 3"),
]


@pytest.mark.parametrize("outputs, classes, expected", BAD_CLASSES)
def test_classes_that_are_not_the_outputs_are_refused_at_load(tmp_path, outputs, classes, expected):
    """They loaded; predict then failed with a message naming neither the file nor the field."""
    path = _crafted_classifier_file(tmp_path / "model.safetensors", outputs, classes)
    with pytest.raises(ModelFileError, match=f"model.safetensors: preprocessor.classes: {expected}"):
        load(path)


@pytest.mark.parametrize("outputs, classes, expected", BAD_CLASSES)
def test_classes_that_are_not_the_outputs_are_refused_at_save(tmp_path, outputs, classes, expected):
    """save wrote the file, which load then refused."""
    path = tmp_path / "model.safetensors"
    with pytest.raises(ModelFileError, match=f"model.safetensors: preprocessor.classes: {expected}"):
        save(_classifier(outputs, classes), path)
    assert not path.exists()


def test_save_refuses_more_layers_than_load_takes(tmp_path, monkeypatch):
    """save wrote the file, which load then refused (the limit is lowered: 100,000 layers take seconds to build)."""
    monkeypatch.setattr(architecture, "MAX_LAYERS", 5)
    path = tmp_path / "model.safetensors"
    model = cr.Sequential(cr.Linear(3, 3), cr.ReLU(), cr.Sequential(cr.Linear(3, 2), cr.Tanh()), seed=0)
    with pytest.raises(ModelFileError, match=r"model.safetensors: cannot save: architecture.layers\[2\].layers\[1\]: "
                                             r"more than 5 layers in all \(this is layer 6\)"):
        save(model, path)
    assert not path.exists()
    save(cr.Sequential(cr.Linear(3, 3), cr.ReLU(), cr.Sequential(cr.Linear(3, 2)), seed=0), path)
    assert len(load(path).layers) == 3


@pytest.mark.parametrize("model, where", [
    (cr.Sequential(cr.Linear(4, 3), cr.ReLU(), cr.Linear(5, 2)), r"architecture\.layers\[2\]\.n_in: expected 3"),
    (cr.Sequential(cr.Linear(4, 4), cr.Residual(cr.Linear(4, 5))), r"architecture\.layers\[1\]\.f: gives 5 features"),
], ids=["sequential", "residual"])
def test_save_refuses_layers_that_do_not_chain(tmp_path, model, where):
    """save wrote the model, which failed only at its first prediction, with a ShapeError naming no file."""
    path = tmp_path / "model.safetensors"
    with pytest.raises(ModelFileError, match=f"model.safetensors: cannot save: {where}"):
        save(model, path)
    assert not path.exists()


def test_load_refuses_layers_that_do_not_chain_naming_the_file_and_layer(saved):
    tensors, document = _contents(saved)
    document["architecture"]["layers"][2]["n_in"] = 5
    tensors["2.W"] = np.zeros((5, 2), np.float32)
    _rewrite(saved, tensors, document)
    with pytest.raises(ModelFileError, match=r"model.safetensors: architecture\.layers\[2\]\.n_in: expected 4, the "
                                             r"width that reaches layer '2' \(the output of the layers before it\), "
                                             r"got 5$"):
        load(saved)


@pytest.mark.parametrize("outputs, classes, out_activation", [
    (3, ["a", "b", "c"], cr.Softmax()), (1, [0, 1], cr.Sigmoid()), (2, [True, False], None),
])
def test_classes_naming_the_outputs_load(tmp_path, outputs, classes, out_activation):
    path = _classifier_file(tmp_path / "model.safetensors", outputs, classes, out_activation)
    assert load(path).preprocessor.classes == classes


def test_two_classes_fit_one_output_or_two_but_not_three(tmp_path):
    # Two labels stand for one logistic output; a network of three outputs needs three.
    for outputs in (1, 2):
        load(_crafted_classifier_file(tmp_path / f"{outputs}.safetensors", outputs, ["a", "b"]))
    path = _crafted_classifier_file(tmp_path / "model.safetensors", 3, ["a", "b"])
    with pytest.raises(ModelFileError, match="model.safetensors: preprocessor.classes: expected 3 classes, one per "
                                             "output of the network, got 2"):
        load(path)


def test_parameters_of_one_dtype_a_model_file_cannot_hold_are_refused_and_nothing_is_written(tmp_path):
    # All float16: one dtype, but not one load reads back.
    model = cr.Linear(2, 2, seed=0)
    for name in list(model.own_params):
        model.own_params[name] = model.own_params[name].astype(np.float16)
    path = tmp_path / "model.safetensors"
    with pytest.raises(ModelFileError, match="model.safetensors: cannot save: parameters must all be float32 or all "
                                             "float64; got W: float16, b: float16"):
        save(model, path)
    assert not path.exists()


def _regressor(standardize_targets):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = np.c_[X @ [1.0, 2.0, 3.0] * 100 + 1e6, X[:, 0]]
    model = cr.mlp([3, 4, 2], seed=0)
    cr.fit(model, X, y, epochs=2, standardize=True, standardize_targets=standardize_targets, verbose=0)
    return model, X


def test_a_target_standardization_round_trips(tmp_path):
    model, X = _regressor(True)
    save(model, tmp_path / "model.safetensors")
    loaded = load(tmp_path / "model.safetensors")
    assert np.array_equal(loaded.preprocessor.target_mean, model.preprocessor.target_mean)
    assert np.array_equal(loaded.preprocessor.target_scale, model.preprocessor.target_scale)
    assert np.array_equal(cr.predict(loaded, X), cr.predict(model, X))


def test_a_model_without_target_standardization_saves_the_same_bytes_as_before(tmp_path):
    save(_regressor(None)[0], tmp_path / "none.safetensors")
    save(_regressor(False)[0], tmp_path / "false.safetensors")
    assert (tmp_path / "none.safetensors").read_bytes() == (tmp_path / "false.safetensors").read_bytes()
    preprocessing = _contents(tmp_path / "none.safetensors")[1]["preprocessor"]
    assert sorted(preprocessing) == ["classes", "feature_names", "mean", "n_features", "scale", "task"]


def test_a_target_standardization_of_another_width_than_the_outputs_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    model = _regressor(True)[0]
    save(model, path)
    tensors, document = _contents(path)
    document["preprocessor"].update(target_mean=[0.0] * 3, target_scale=[1.0] * 3)
    _rewrite(path, tensors, document)
    with pytest.raises(ModelFileError, match="preprocessor.target_mean: expected 2 values, one per output"):
        load(path)
    model.preprocessor.target_scale = np.ones(3)
    with pytest.raises(ModelFileError, match="preprocessor.target_scale: expected 2 values, one per output"):
        save(model, tmp_path / "other.safetensors")


def test_save_with_its_arguments_swapped_says_so(tmp_path):
    model = cr.Sequential(cr.Linear(4, 3), seed=0)
    path = str(tmp_path / "model.safetensors")
    with pytest.raises(HyperparameterError, match=r"^model: expected a chainrule Layer, got str; save takes the "
                                                  r"model first, then the path$"):
        save(path, model)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("spoil, field", [
    (lambda model: model.preprocessor.scale.__setitem__(0, 0.0), r"preprocessor\.scale\[0\]: expected a finite "
                                                                  r"number > 0 \(one per feature\), got 0\.0"),
    (lambda model: setattr(model.preprocessor, "mean", np.zeros(2)), r"preprocessor\.mean: expected a NumPy array "
                                                                      r"of 3 real numbers, one per feature"),
    (lambda model: setattr(model, "preprocessor", "standardize"), r"preprocessor: expected a chainrule "
                                                                   r"Preprocessor \(or None\), got str"),
])
def test_save_refuses_a_preprocessor_that_cannot_prepare_rows_and_writes_nothing(tmp_path, spoil, field):
    """A scale of 0 was written, and load then refused the file; a str raised AttributeError."""
    model = _regressor(False)[0]
    spoil(model)
    path = tmp_path / "model.safetensors"
    with pytest.raises(ModelFileError, match=f"model.safetensors: {field}"):
        save(model, path)
    assert not path.exists()


def test_a_binary_classifier_of_one_sigmoid_output_predicts_its_labels_after_loading(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    model = cr.mlp([3, 4, 1], seed=0)
    cr.fit(model, X, X[:, 0] > 0, loss="binary_cross_entropy", epochs=5, verbose=0)
    save(model, tmp_path / "model.safetensors")
    loaded = load(tmp_path / "model.safetensors")
    assert loaded.preprocessor.classes == [False, True]
    predicted = cr.predict(loaded, X)
    assert predicted.dtype == bool and predicted.shape == (60,)
    assert np.array_equal(predicted, cr.predict(model, X))


def test_a_file_of_one_sigmoid_output_without_classes_predicts_0_1_rows_as_before(tmp_path):
    """Files from before the binary classes, and 0/1 columns, keep their (n, 1) rows."""
    model = cr.mlp([3, 1], seed=0)
    model.preprocessor = Preprocessor(3, task="multilabel")
    save(model, tmp_path / "model.safetensors")
    predicted = cr.predict(load(tmp_path / "model.safetensors"), np.ones((4, 3)))
    assert predicted.shape == (4, 1) and predicted.dtype.kind == "i"


def test_a_metadata_number_beyond_a_float_is_refused(saved):
    """1e309 loaded as infinity (metadata, class labels), and the model could not be saved again."""
    tensors, document = _contents(saved)
    text = json.dumps({**document, "metadata": {"epochs": 1}}).replace('"epochs": 1', '"epochs": 1e309')
    saved.write_bytes(safetensors.numpy.save(tensors, metadata={"chainrule": text}))
    with pytest.raises(ModelFileError, match=r"damaged chainrule metadata: not valid JSON \(the number '1e309' is "
                                             r"beyond a float's range\)"):
        load(saved)


def test_a_shape_of_a_million_dimensions_is_quoted_in_part(saved):
    """The message held the whole shape: 3 MB on one line of the CLI."""
    text = saved.read_bytes()
    length = int.from_bytes(text[:8], "little")
    header = json.loads(text[8:8 + length])
    header["0.W"]["shape"] = [1] * 1_000_000
    header_bytes = json.dumps(header).encode()
    saved.write_bytes(len(header_bytes).to_bytes(8, "little") + header_bytes + text[8 + length:])
    with pytest.raises(ModelFileError, match=r"tensor '0.W' has shape \[1, 1, .*\.\.\., expected \[3, 4\]") as caught:
        load(saved)
    assert len(str(caught.value)) < 300
