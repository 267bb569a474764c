"""chainrule export MODEL --onnx OUT: the line it prints says what the graph's outputs hold."""

import numpy
import pytest

import chainrule as cr

from .helpers import call, iris_features

pytest.importorskip("onnx")


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


def test_a_regressor_output_is_called_outputs(tmp_path, capsys):
    assert call(capsys, "train", "--data", "diabetes", "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots",
                "--out", tmp_path / "run")[0] == 0
    code, out, _ = call(capsys, "export", tmp_path / "run" / "model.safetensors", "--onnx", tmp_path / "m.onnx")
    assert code == 0 and out.rstrip("\n").endswith("-> Y (batch, 1) outputs"), out
