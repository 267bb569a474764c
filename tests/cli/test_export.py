"""chainrule export MODEL --onnx OUT: the line it prints says what the graph's outputs hold; an
estimator's file gives the estimator's graph."""

import os
import subprocess
import sys
import warnings

import numpy
import pytest

import chainrule as cr
from chainrule.cli import export
from chainrule.errors import HyperparameterError
from chainrule.io import read, save
from chainrule.sklearn import MLPClassifier, MLPRegressor

from .helpers import assert_one_line_error, call, iris_features, run_bound_by_permissions

onnx = pytest.importorskip("onnx")


@pytest.mark.parametrize(("options", "kind"), [([], "logits"), (["--probabilities"], "probabilities")])
def test_the_printed_line_says_whether_y_holds_logits_or_probabilities(iris_run, tmp_path, capsys, options, kind):
    code, out, err = call(capsys, "export", iris_run / "model.safetensors", "--onnx", tmp_path / "m.onnx", *options)
    assert (code, err) == (0, "")
    assert out.rstrip("\n").endswith(f"-> Y (batch, 3) {kind}, label (batch)"), out


@pytest.mark.parametrize("options", [[], ["--probabilities"], ["--no-preprocessing"]])
def test_the_label_output_holds_the_species_predict_gives(iris_run, tmp_path, capsys, options):
    onnxruntime = pytest.importorskip("onnxruntime")
    model = cr.load(iris_run / "model.safetensors")
    X = iris_features()[0].astype(model.dtype)
    assert call(capsys, "export", iris_run / "model.safetensors", "--onnx", tmp_path / "m.onnx", *options)[0] == 0
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    inputs = model.preprocessor.transform(X, model.dtype) if options == ["--no-preprocessing"] else X
    label = session.run(["label"], {"X": inputs})[0]
    numpy.testing.assert_array_equal(label, cr.predict(model, X))
    assert set(label) == {"setosa", "versicolor", "virginica"}


@pytest.mark.parametrize("kind", ["multilabel", "classification without classes"])
def test_the_scores_of_a_classifier_without_classes_are_called_logits(tmp_path, capsys, kind):
    """A multi-label model's graph (0/1 columns: no classes) and a classifier's without classes were said to output
    "outputs", as a regressor's, although --probabilities turns their Y into probabilities."""
    X = numpy.random.default_rng(0).normal(size=(40, 3))
    model = cr.mlp([3, 4, 2], seed=0)
    if kind == "multilabel":
        cr.fit(model, X, (X[:, :2] > 0).astype(int), loss="binary_cross_entropy", epochs=1, verbose=0)
    else:
        model.preprocessor = cr.Preprocessor(3, task="classification")
    cr.save(model, tmp_path / "model.safetensors")
    code, out, err = call(capsys, "export", tmp_path / "model.safetensors", "--onnx", tmp_path / "m.onnx")
    label = "" if kind == "multilabel" else ", label (batch)"
    assert (code, err) == (0, "") and out.rstrip("\n").endswith(f"-> Y (batch, 2) logits{label}"), out


def test_a_regressor_output_is_called_outputs(tmp_path, capsys):
    assert call(capsys, "train", "--data", "diabetes", "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots",
                "--out", tmp_path / "run")[0] == 0
    code, out, _ = call(capsys, "export", tmp_path / "run" / "model.safetensors", "--onnx", tmp_path / "m.onnx")
    assert code == 0 and out.rstrip("\n").endswith("-> Y (batch, 1) outputs"), out


@pytest.mark.parametrize("options, kind", [([], "outputs"), (["--no-preprocessing"], "standardized targets")])
def test_a_regressor_of_standardized_targets_says_what_y_holds(tmp_path, capsys, options, kind):
    # Without its preprocessing the graph answers t, not y: the line said "outputs" all the same
    assert call(capsys, "train", "--data", "diabetes", "--hidden", "4", "--epochs", "1", "--standardize-targets",
                "--quiet", "--no-plots", "--out", tmp_path / "run")[0] == 0
    code, out, _ = call(capsys, "export", tmp_path / "run" / "model.safetensors", "--onnx", tmp_path / "m.onnx",
                        *options)
    assert code == 0 and out.rstrip("\n").endswith(f"-> Y (batch, 1) {kind}"), out


@pytest.fixture(scope="module")
def binary_estimator_file(tmp_path_factory):
    """(path, estimator, X) of a saved binary MLPClassifier with string labels."""
    X, _ = iris_features()
    y = numpy.where(X[:, 2] > 3.0, "long", "short")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = MLPClassifier((8,), max_iter=30, learning_rate_init=0.02, random_state=0).fit(X, y)
    path = tmp_path_factory.mktemp("estimator") / "binary.safetensors"
    estimator.save(path)
    return path, estimator, X


@pytest.mark.parametrize("options", [[], ["--probabilities"], ["--no-preprocessing"]])
def test_an_estimator_file_exports_the_estimators_label_and_probabilities(binary_estimator_file, tmp_path, capsys,
                                                                          options):
    """A binary estimator used to export only its logit "Y"; the options change nothing for an estimator."""
    onnxruntime = pytest.importorskip("onnxruntime")
    path, estimator, X = binary_estimator_file
    code, out, err = call(capsys, "export", path, "--onnx", tmp_path / "m.onnx", *options)
    assert (code, err) == (0, "")
    assert out.rstrip("\n").endswith("X (batch, 4) -> label (batch), probabilities (batch, 2)"), out
    assert (tmp_path / "m.onnx").read_bytes() == estimator.to_onnx(tmp_path / "direct.onnx").SerializeToString()
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    label, probabilities = session.run(["label", "probabilities"], {"X": X.astype(numpy.float32)})
    numpy.testing.assert_array_equal(label, estimator.predict(X))
    numpy.testing.assert_allclose(probabilities, estimator.predict_proba(X), rtol=0, atol=1e-6)


def test_a_regressor_estimator_file_exports_y_as_predict_shapes_it(tmp_path, capsys):
    X, _ = iris_features()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, X[:, 0]).save(tmp_path / "regressor.safetensors")
    code, out, _ = call(capsys, "export", tmp_path / "regressor.safetensors", "--onnx", tmp_path / "m.onnx")
    assert code == 0 and out.rstrip("\n").endswith("-> Y (batch)"), out
    # as predict --proba refuses it: a regressor has no class probabilities
    code, _, err = call(capsys, "export", tmp_path / "regressor.safetensors", "--onnx", tmp_path / "p.onnx",
                        "--probabilities")
    assert_one_line_error(code, err, "--probabilities: the model is a regressor, which has no class probabilities")
    assert not (tmp_path / "p.onnx").exists()


def test_an_unknown_estimator_in_a_file_is_named(binary_estimator_file, tmp_path, capsys):
    model, tensors, extra_json = read(binary_estimator_file[0])
    model.metadata["sklearn"]["estimator"] = "SVC"
    save(model, tmp_path / "svc.safetensors", extra_tensors=tensors, extra_json=extra_json)
    code, _, err = call(capsys, "export", tmp_path / "svc.safetensors", "--onnx", tmp_path / "m.onnx")
    assert code == 2 and "svc.safetensors: sklearn.estimator: expected one of MLPClassifier, MLPRegressor, got 'SVC'" in err
    assert not (tmp_path / "m.onnx").exists()


def test_an_opset_out_of_range_is_named_as_the_option(iris_run, tmp_path, capsys):
    code, out, err = call(capsys, "export", iris_run / "model.safetensors", "--onnx", tmp_path / "m.onnx",
                          "--opset", "12")
    assert_one_line_error(code, err, "--opset: expected an integer in [13, ", "got 12")
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("opset", ["x", "17.0", "12", "1000"])
def test_an_opset_that_is_no_integer_is_told_the_range_one_out_of_range_is(iris_run, tmp_path, capsys, opset):
    """'x' was told "expected an integer >= 13", 12 "expected an integer in [13, 28]": the parser's wording did
    not know the newest opset, which needs onnx imported."""
    code, out, err = call(capsys, "export", iris_run / "model.safetensors", "--onnx", tmp_path / "m.onnx",
                          "--opset", opset)
    got = repr(opset) if not opset.isdigit() else opset
    assert (code, out, err) == (2, "", f"chainrule: error: --opset: expected an integer in "
                                       f"[13, {onnx.defs.onnx_opset_version()}], got {got}\n")


def test_an_opset_that_is_no_integer_without_onnx_is_told_the_least(tmp_path, capsys, monkeypatch):
    def no_onnx():
        raise HyperparameterError("ONNX export needs the onnx package, which is not installed")
    monkeypatch.setattr(export, "_import_onnx", no_onnx)
    code, out, err = call(capsys, "export", tmp_path / "m.safetensors", "--onnx", tmp_path / "m.onnx", "--opset", "x")
    assert (code, out, err) == (2, "", "chainrule: error: --opset: expected an integer >= 13, got 'x'\n")


def test_probabilities_of_a_regressor_are_refused_naming_the_option(tmp_path, capsys):
    assert call(capsys, "train", "--data", "diabetes", "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots",
                "--out", tmp_path / "run")[0] == 0
    code, _, err = call(capsys, "export", tmp_path / "run" / "model.safetensors", "--onnx", tmp_path / "m.onnx",
                        "--probabilities")
    line = assert_one_line_error(code, err, "--probabilities: the model's outputs are not class scores")
    assert "probabilities=True" not in line
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("onnx, refusal", [
    ("", "expected a file name, got ''"),
    ("out/", "expected a file name, got 'out/', which names a directory"),  # was written as a file named 'out'
])
def test_an_onnx_path_that_names_no_file_is_refused_naming_the_option(tmp_path, capsys, monkeypatch, onnx, refusal):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "model.safetensors"
    cr.save(cr.mlp([3, 4, 2], seed=0), path)
    code, out, err = call(capsys, "export", path, "--onnx", onnx)
    assert_one_line_error(code, err, f"--onnx: {refusal}")
    assert out == "" and list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("where", ["a directory", "in a missing folder"])
def test_an_onnx_path_that_cannot_be_written_is_refused_naming_the_option(tmp_path, capsys, where):
    """It was refused by the write at the end, naming the path alone ("m.onnx: cannot write ...")."""
    path = tmp_path / "model.safetensors"
    cr.save(cr.mlp([3, 4, 2], seed=0), path)
    (tmp_path / "folder").mkdir()
    target = tmp_path / "folder" if where == "a directory" else tmp_path / "missing" / "m.onnx"
    code, out, err = call(capsys, "export", path, "--onnx", target)
    reason = ("it is a directory, not a file" if where == "a directory"
              else f"directory {str(tmp_path / 'missing')!r} does not exist")
    assert_one_line_error(code, err, f"--onnx: {target}: cannot write ({reason})")
    assert out == "" and sorted(tmp_path.iterdir()) == [tmp_path / "folder", path]


def test_a_read_only_output_file_is_refused_and_kept(iris_run, tmp_path):
    """The atomic write renamed the graph onto a file made read-only; a shell redirection refuses it."""
    output = tmp_path / "model.onnx"
    output.write_text("keep me")
    output.chmod(0o444)
    done = run_bound_by_permissions("export", iris_run / "model.safetensors", "--onnx", output)
    assert_one_line_error(done.returncode, done.stderr, f"--onnx: {output}: cannot write: the file is read-only")
    assert output.read_text() == "keep me" and done.stdout == ""


@pytest.mark.parametrize("target", ["-", "/dev/stdout"])
def test_a_graph_written_to_stdout_is_the_graph_alone_and_the_line_goes_to_stderr(iris_run, target):
    # --onnx /dev/stdout | ... ended the graph's bytes with the "wrote ..." line (INVALID_PROTOBUF); '-' made a file "-"
    result = subprocess.run([sys.executable, "-m", "chainrule", "export", str(iris_run / "model.safetensors"), "--onnx",
                             target], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    proto = onnx.load_from_string(result.stdout)
    assert [output.name for output in proto.graph.output] == ["Y", "label"]
    assert result.stderr.decode().startswith(f"wrote {'stdout' if target == '-' else target}: ONNX opset 17")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_graph_that_stdout_cannot_take_names_stdout_as_the_user_did(tmp_path):
    # "--onnx -" to a full disk said "/dev/stdout: cannot write", a path the user never gave
    path = tmp_path / "model.safetensors"
    cr.save(cr.mlp([3, 4, 2], seed=0), path)
    with open("/dev/full", "wb") as full:
        result = subprocess.run([sys.executable, "-m", "chainrule", "export", str(path), "--onnx", "-"], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr == "chainrule: error: --onnx: stdout: cannot write (No space left on device)\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("kind", ["network", "estimator"])
def test_a_write_that_fails_late_names_the_option(binary_estimator_file, tmp_path, capsys, kind):
    """A full disk, found by the write alone after check_writable passed, said "/dev/full: cannot write (...)"
    without the option that gave the path, where the checks before the work name it."""
    path = binary_estimator_file[0]
    if kind == "network":
        path = tmp_path / "model.safetensors"
        cr.save(cr.mlp([3, 4, 2], seed=0), path)
    code, out, err = call(capsys, "export", path, "--onnx", "/dev/full")
    assert_one_line_error(code, err)
    assert err == "chainrule: error: --onnx: /dev/full: cannot write (No space left on device)\n"


def test_a_rename_that_fails_names_the_option(tmp_path, capsys, monkeypatch):
    # a folder made read-only between the check and the write: its rename fails; the line named the path alone
    path = tmp_path / "model.safetensors"
    cr.save(cr.mlp([3, 4, 2], seed=0), path)

    def refused(source, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refused)
    code, out, err = call(capsys, "export", path, "--onnx", tmp_path / "m.onnx")
    assert_one_line_error(code, err, f"--onnx: {tmp_path / 'm.onnx'}: cannot write (permission denied in directory ")
    assert sorted(tmp_path.iterdir()) == [path]  # the temporary file removed


def test_a_stdout_that_is_the_model_file_is_refused_naming_the_option_as_given(tmp_path):
    # "--onnx -" with stdout opened on the model file said "--onnx /dev/stdout: that is the model file"
    path = tmp_path / "model.safetensors"
    cr.save(cr.mlp([3, 4, 2], seed=0), path)
    with open(path, "r+b") as model_file:
        result = subprocess.run([sys.executable, "-m", "chainrule", "export", str(path), "--onnx", "-"],
                                stdout=model_file, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("chainrule: error: --onnx -: that is the model file")
    assert cr.load(path).n_parameters == 26  # not overwritten
