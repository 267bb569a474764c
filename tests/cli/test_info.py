"""chainrule info MODEL: the layer table, the parameter count, the preprocessing and the
training summary of a model file; one-line errors for damaged files."""

import json
import warnings

import numpy
import pytest
import safetensors.numpy
from safetensors import safe_open

import chainrule as cr
from chainrule.cli.info import class_list
from chainrule.errors import ModelFileWarning

from .helpers import assert_one_line_error, call


def test_info_describes_a_trained_model(iris_run, capsys):
    code, out, err = call(capsys, "info", iris_run / "model.safetensors")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["path", "layer", "parameters", "count"]
    assert lines[1].split()[:2] == ["0", "Linear(4,"] and lines[1].split()[-1] == "80"
    assert lines[2].split() == ["1", "ReLU()", "-", "0"]
    assert lines[3].split()[-1] == "51"
    assert "131 parameters, float32" in lines
    assert f"written by: chainrule {cr.__version__}" in lines
    assert "inputs: 4 features, standardized; 3 classes: setosa, versicolor, virginica" in lines
    summary = {line.split(": ", 1)[0]: json.loads(line.split(": ", 1)[1])
               for line in lines if line.startswith(("training: ", "data: ", "test: "))}
    assert summary["training"]["epochs"] == 40 and summary["training"]["stop_reason"] == "completed"
    assert summary["data"]["label"] == "species" and summary["data"]["n_test"] == 30
    assert set(summary["test"]) == {"loss", "accuracy"}


def test_info_lists_the_first_12_feature_names_of_a_wide_data_set(tmp_path, capsys):
    # a model of a 784-column CSV (MNIST's) printed all 784 names on its data line
    model = cr.mlp([30, 2], seed=0)
    names = [f"pixel{i}" for i in range(30)]
    model.metadata["data"] = {"name": "wide.csv", "features": names, "label": "digit"}
    cr.save(model, tmp_path / "model.safetensors")
    code, out, _ = call(capsys, "info", tmp_path / "model.safetensors")
    (line,) = [line for line in out.splitlines() if line.startswith("data: ")]
    assert code == 0 and json.loads(line.removeprefix("data: ")) == {
        "name": "wide.csv", "features": [*names[:12], "... (18 more)"], "label": "digit"}
    code, out, _ = call(capsys, "info", tmp_path / "model.safetensors", "--json")
    assert code == 0 and json.loads(out)["metadata"]["data"]["features"] == names  # whole in JSON


def test_info_json(iris_run, capsys):
    code, out, _ = call(capsys, "info", iris_run / "model.safetensors", "--json")
    assert code == 0
    described = json.loads(out)
    assert described["n_parameters"] == 131 and described["dtype"] == "float32"
    assert [layer["path"] for layer in described["layers"]] == ["0", "1", "2"]
    assert described["layers"][0]["parameters"] == {"W": [4, 16], "b": [16]}
    assert described["preprocessing"]["classes"] == ["setosa", "versicolor", "virginica"]
    assert described["metadata"]["config"]["hidden"] == "16"


def test_info_on_a_model_saved_from_python(tmp_path, capsys):
    model = cr.Sequential(cr.Linear(3, 2), cr.Residual(cr.Sequential(cr.Linear(2, 2), cr.Tanh())), seed=0)
    cr.save(model, tmp_path / "model.safetensors")
    code, out, _ = call(capsys, "info", tmp_path / "model.safetensors")
    assert code == 0
    assert f"{model.n_parameters:,} parameters, float32" in out
    assert "1.f.0" in out  # nested layers by path
    assert "inputs:" not in out and "training:" not in out


@pytest.mark.parametrize("version, line", [
    ("99.0.0", "written by: chainrule 99.0.0"),
    (None, "written by: chainrule (version not recorded)"),
    ("9" * 5000, "written by: chainrule '" + "9" * 79 + "..."),  # it printed all 5,000 (and cr.load raised)
    ("0.0\x1b[2J", "written by: chainrule '0.0\\x1b[2J'"),  # an escape sequence (clear the screen) is not sent
])
def test_info_names_the_release_that_wrote_the_file(tmp_path, capsys, version, line):
    path = tmp_path / "model.safetensors"
    cr.save(cr.Linear(3, 2, seed=0), path)
    with safe_open(path, "np") as file:
        document = json.loads(file.metadata()["chainrule"])
    document["metadata"].pop("chainrule_version")
    if version is not None:
        document["metadata"]["chainrule_version"] = version
    path.write_bytes(safetensors.numpy.save(safetensors.numpy.load(path.read_bytes()),
                                            metadata={"chainrule": json.dumps(document)}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, out, _ = call(capsys, "info", path)
    assert code == 0 and line in out.splitlines()
    assert [type(warning.message) for warning in caught] == ([ModelFileWarning] if version == "99.0.0" else [])


@pytest.mark.parametrize("damage", [
    lambda data: data[:len(data) // 3],
    lambda data: (len(data) * 2).to_bytes(8, "little") + data[8:],  # a header that lies about its length
    lambda data: data.replace(b"chainrule-model", b"someone-elses"),
    lambda data: b"\x80\x04\x95" + bytes(32),
], ids=["truncated", "lying header", "foreign", "pickle"])
def test_a_damaged_model_file_is_refused(iris_run, tmp_path, capsys, damage):
    path = tmp_path / "model.safetensors"
    path.write_bytes(damage((iris_run / "model.safetensors").read_bytes()))
    code, out, err = call(capsys, "info", path)
    assert_one_line_error(code, err, str(path))
    assert out == ""


@pytest.mark.parametrize("command", ["info", "evaluate", "predict"])
@pytest.mark.parametrize("name", ["model.onnx", "model.bin"])
def test_an_onnx_file_is_named_as_such(iris_run, iris_csv, tmp_path, capsys, command, name):
    # "not a chainrule model file, or a damaged one: its first 8 bytes give a header length of 7593465221286594568..."
    pytest.importorskip("onnx")
    path = tmp_path / name
    assert call(capsys, "export", iris_run / "model.safetensors", "--onnx", path)[0] == 0
    code, out, err = call(capsys, command, path, *([iris_csv] if command != "info" else []))
    line = assert_one_line_error(code, err, f"{path}: an ONNX model (as chainrule export --onnx writes), not a "
                                            f"chainrule model file; run it with an ONNX runtime")
    assert "header length" not in line and out == ""


def test_a_missing_model_file_is_refused(tmp_path, capsys):
    code, _, err = call(capsys, "info", tmp_path / "none.safetensors")
    assert_one_line_error(code, err, "none.safetensors")


def test_a_long_class_list_ends_with_the_count_left_out():
    assert class_list(range(14)) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ... (2 more)"
    assert class_list(range(12)) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"


def test_class_names_with_a_comma_are_quoted(tmp_path, capsys):
    X = numpy.random.default_rng(0).normal(size=(30, 2))
    y = numpy.array(["setosa", "virginica,x", "versicolor"])[numpy.arange(30) % 3]
    model = cr.Sequential(cr.Linear(2, 3), seed=0)
    cr.fit(model, X, y, epochs=1, verbose=0)
    cr.save(model, tmp_path / "model.safetensors")
    code, out, _ = call(capsys, "info", tmp_path / "model.safetensors")
    assert code == 0
    assert "3 classes: 'setosa', 'versicolor', 'virginica,x'" in out


def test_class_names_a_terminal_would_act_on_or_too_long_are_quoted_and_cut():
    assert class_list(["a", "b\x1b[31m"]) == "'a', 'b\\x1b[31m'"
    assert class_list(["a", "b\nc"]) == "'a', 'b\\nc'"
    assert class_list(["a", "x" * 200]) == "a, '" + "x" * 79 + "..."


def test_one_class_past_the_listed_ones_is_counted_not_listed():
    assert class_list(range(13)) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ... (1 more)"
    assert class_list(range(12)) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"
