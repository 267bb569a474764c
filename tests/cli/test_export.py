"""chainrule export MODEL --onnx OUT: the line it prints says what the graph's output holds."""

import pytest

from .helpers import call

pytest.importorskip("onnx")


@pytest.mark.parametrize(("options", "kind"), [([], "logits"), (["--probabilities"], "probabilities")])
def test_the_printed_line_says_whether_y_holds_logits_or_probabilities(iris_run, tmp_path, capsys, options, kind):
    code, out, err = call(capsys, "export", iris_run / "model.safetensors", "--onnx", tmp_path / "m.onnx", *options)
    assert (code, err) == (0, "")
    assert out.rstrip("\n").endswith(f"-> Y (batch, 3) {kind}"), out


def test_a_regressor_output_is_called_outputs(tmp_path, capsys):
    assert call(capsys, "train", "--data", "diabetes", "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots",
                "--out", tmp_path / "run")[0] == 0
    code, out, _ = call(capsys, "export", tmp_path / "run" / "model.safetensors", "--onnx", tmp_path / "m.onnx")
    assert code == 0 and out.rstrip("\n").endswith("-> Y (batch, 1) outputs"), out
