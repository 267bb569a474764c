"""chainrule.io.metadata: model metadata comes back from a model file as it was, or is refused by key path."""

import functools
import os
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import ModelFileError

MAX_NESTING = 100  # the depth usage.md states (chainrule.io.metadata.MAX_NESTING)
X_IRIS = np.random.default_rng(0).normal(size=(30, 4))
Y_IRIS = np.arange(30) % 3


@pytest.mark.parametrize("metadata, where, key", [
    ({1: "int key"}, "metadata", "1 (int)"),
    ({None: "none key"}, "metadata", "None (NoneType)"),
    ({2.5: "float key"}, "metadata", "2.5 (float)"),
    ({"1": "str key", 1: "int key"}, "metadata", "1 (int)"),  # one of the two values was lost
    ({"a": [{"b": 1}, {1: "deep"}]}, "metadata['a'][1]", "1 (int)"),
])
def test_a_key_that_is_not_a_string_is_refused_naming_its_path_and_nothing_is_written(tmp_path, metadata, where, key):
    """cr.save wrote it as a string ({1: ..., None: ...} came back as {'1': ..., 'null': ...})."""
    refused_on_save(tmp_path, metadata, f"{where} has the key {key}, which JSON would give back as a string "
                                         f"(1 as '1'); use string keys")


def test_a_tuple_is_refused_naming_its_path_as_in_a_callbacks_state(tmp_path):
    """cr.save wrote it as a list; a callback's checkpoint state refuses a tuple too."""
    model = cr.mlp([4, 3], seed=0)
    model.metadata = {"runs": [[1, 2], (3, 4)]}
    with pytest.raises(ModelFileError, match=r"^.*m.safetensors: cannot save: metadata\['runs'\]\[1\] is a tuple, "
                                             r"which JSON would give back as a list; use a list$"):
        cr.save(model, tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == []


def test_a_long_key_in_the_path_of_a_refused_value_is_cut_and_says_so(tmp_path):
    """The key was cut at 60 characters without "...", as if it ended there."""
    model = cr.mlp([4, 3], seed=0)
    model.metadata = {"x" * 100_000: (3, 4)}
    with pytest.raises(ModelFileError, match=r"cannot save: metadata\['" + "x" * 59 + r"\.\.\.\] is a tuple"):
        cr.save(model, tmp_path / "m.safetensors")


def test_a_checkpointed_fit_refuses_such_metadata_before_it_trains(tmp_path):
    model = cr.mlp([4, 8, 3], seed=0)
    model.metadata = {"hidden": (8,)}
    theta = model.flat_parameters().theta.copy()
    with pytest.raises(ModelFileError, match=r"^checkpoint: .*run.ckpt: cannot save: metadata\['hidden'\] is a tuple"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=2, checkpoint=tmp_path / "run.ckpt", verbose=0)
    np.testing.assert_array_equal(model.flat_parameters().theta, theta)
    assert os.listdir(tmp_path) == []


def test_metadata_of_string_keys_lists_and_numpy_values_comes_back_as_written(tmp_path):
    model = cr.mlp([4, 3], seed=0)
    model.metadata = {"run": {"tags": ["a", "b"], "sizes": [[1, 2], []], "none": None, "ok": True},
                      "accuracy": np.float32(0.5), "curve": np.array([1.0, 0.5])}
    cr.save(model, tmp_path / "m.safetensors")
    loaded = cr.load(tmp_path / "m.safetensors").metadata
    assert loaded == {"run": {"tags": ["a", "b"], "sizes": [[1, 2], []], "none": None, "ok": True},
                      "accuracy": 0.5, "curve": [1.0, 0.5], "chainrule_version": cr.__version__, "dtype": "float32"}


@pytest.mark.parametrize("metadata, found", [(None, "NoneType None"), ([1], "list [1]"), ("notes", "str 'notes'")])
def test_metadata_that_is_not_a_dict_is_refused(tmp_path, metadata, found):
    """cr.save raised a raw TypeError ('NoneType' object is not a mapping)."""
    refused_on_save(tmp_path, metadata, f"metadata: expected a dict of JSON values by string key, got {found}")


def nested(levels: int) -> list:
    """A list holding a list ... ``levels`` lists in all, the innermost empty."""
    return functools.reduce(lambda inner, _: [inner], range(levels - 1), [])


def test_metadata_nested_deeper_than_the_limit_is_refused_and_at_the_limit_comes_back(tmp_path):
    """Nested 2000 deep, cr.save raised a raw RecursionError."""
    model = cr.mlp([4, 3], seed=0)
    for levels in (MAX_NESTING, 2000):
        model.metadata = {"notes": nested(levels)}  # the metadata is a level of its own
        with pytest.raises(ModelFileError, match=r"^.*m.safetensors: cannot save: metadata\['notes'\]\[0\].*\.\.\.: "
                                                 rf"dicts and lists nested more than {MAX_NESTING} deep; "
                                                 rf"metadata may nest them {MAX_NESTING} deep at most$"):
            cr.save(model, tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == []
    model.metadata = {"notes": nested(MAX_NESTING - 1)}
    cr.save(model, tmp_path / "m.safetensors")
    assert cr.load(tmp_path / "m.safetensors").metadata["notes"] == nested(MAX_NESTING - 1)


def refused_on_save(tmp_path, metadata, refusal: str) -> None:
    """cr.save of a model holding ``metadata`` raises ModelFileError naming the file and saying
    ``refusal``, and writes nothing."""
    model = cr.mlp([4, 3], seed=0)
    model.metadata = metadata
    message = f"{tmp_path / 'm.safetensors'}: cannot save: {refusal}"
    with pytest.raises(ModelFileError, match=f"^{re.escape(message)}$"):
        cr.save(model, tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == []
