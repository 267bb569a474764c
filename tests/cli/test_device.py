"""--device of train, evaluate and predict: cpu by default, cuda refused in one line (exit 2)
where CuPy or a GPU is missing, any other name refused by the parser."""


import pytest

import chainrule.backend
from chainrule.cli.main import build_parser
from chainrule.cli.config import tomllib  # the standard library's, or tomli on Python 3.10

from .helpers import assert_one_line_error, call


@pytest.fixture
def without_cupy(monkeypatch):
    """As if CuPy were not installed, also on a machine where it is."""
    monkeypatch.setattr(chainrule.backend, "_cupy", lambda: None)


@pytest.fixture
def without_gpu(monkeypatch):
    """As if CuPy were installed on a machine without a GPU."""
    monkeypatch.setattr(chainrule.backend, "_cupy", lambda: object())
    monkeypatch.setattr("chainrule.cli.device.cuda_available", lambda: False)


def test_the_device_is_cpu_unless_given():
    parser = build_parser()
    assert parser.parse_args(["train"]).device is None  # left to --config, then TrainConfig's "cpu"
    assert parser.parse_args(["evaluate", "m", "d"]).device == "cpu"
    assert parser.parse_args(["predict", "m", "d", "--device", "cuda"]).device == "cuda"


def test_train_on_the_cpu_says_so_in_config_toml(tmp_path, capsys):
    code, _, err = call(capsys, "train", "--data", "iris", "--epochs", "1", "--device", "cpu", "--quiet",
                        "--no-plots", "--out", tmp_path / "run")
    assert code == 0, err
    assert tomllib.loads((tmp_path / "run" / "config.toml").read_text())["device"] == "cpu"


@pytest.mark.parametrize("command", [["train", "--data", "iris"], ["evaluate", "m", "iris"], ["predict", "m", "iris"]])
def test_an_unknown_device_is_refused_by_the_parser(tmp_path, capsys, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    code, _, err = call(capsys, *command, "--device", "tpu")
    assert_one_line_error(code, err, "argument --device: invalid choice: 'tpu'")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_device_in_a_config_file_is_refused(tmp_path, capsys):
    (tmp_path / "run.toml").write_text('device = "tpu"\n')
    code, _, err = call(capsys, "train", "--config", tmp_path / "run.toml", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "run.toml: key 'device': expected one of 'cpu', 'cuda'; got 'tpu'")
    assert not (tmp_path / "run").exists()


def test_train_on_cuda_without_cupy_says_how_to_install_it(tmp_path, capsys, without_cupy):
    code, _, err = call(capsys, "train", "--data", "iris", "--device", "cuda", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "--device", "CuPy", "pip install 'chainrule[cuda]'")
    assert not (tmp_path / "run").exists()


def test_train_on_cuda_without_a_gpu_says_so(tmp_path, capsys, without_gpu):
    code, _, err = call(capsys, "train", "--data", "iris", "--device", "cuda", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "--device", "CuPy sees none")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_evaluate_and_predict_on_cuda_without_cupy_say_how_to_install_it(iris_run, iris_csv, capsys, without_cupy,
                                                                         command):
    code, out, err = call(capsys, command, iris_run / "model.safetensors", iris_csv, "--device", "cuda")
    assert_one_line_error(code, err, "--device", "CuPy", "pip install 'chainrule[cuda]'")
    assert out == ""


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_evaluate_and_predict_on_the_cpu_are_the_default(iris_run, iris_csv, capsys, command):
    default = call(capsys, command, iris_run / "model.safetensors", iris_csv)
    assert default[0] == 0, default[2]
    assert call(capsys, command, iris_run / "model.safetensors", iris_csv, "--device", "cpu") == default
