"""chainrule.plots: every figure is a valid PNG of the expected size, written atomically."""

import os
import subprocess
import sys

import matplotlib.image
import numpy
import pytest
from sklearn.datasets import load_diabetes, load_iris

import chainrule as cr
from chainrule.plots import DPI, PANEL_SIZE, compare_gradient_flow, plot_gradient_flow, plot_history
from chainrule.training import History

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PANEL_PIXELS = (round(PANEL_SIZE[1] * DPI), round(PANEL_SIZE[0] * DPI))  # (height, width)


def classification_history(validation: bool = True, epochs: int = 4) -> History:
    metrics = {"loss": numpy.linspace(2.0, 0.5, epochs).tolist(), "accuracy": numpy.linspace(0.3, 0.9, epochs).tolist()}
    if validation:
        metrics.update(val_loss=numpy.linspace(2.1, 0.7, epochs).tolist(), val_accuracy=numpy.linspace(0.2, 0.8, epochs).tolist())
    layers = ["0", "2", "4"]
    return History(
        metrics=metrics,
        grad_norms={layer: (10.0 ** -(4 - 2 * depth) * numpy.linspace(1, 2, epochs)).tolist() for depth, layer in enumerate(layers)},
        initial_grad_norms={layer: 10.0 ** -(4 - 2 * depth) for depth, layer in enumerate(layers)},
        epochs=epochs,
    )


def regression_history(validation: bool = True, epochs: int = 4) -> History:
    metrics = {"loss": [1.0, 0.6, 0.4, 0.3][:epochs], "r2": [0.1, 0.4, 0.6, 0.7][:epochs], "mae": [0.9, 0.7, 0.5, 0.4][:epochs]}
    if validation:
        metrics.update(val_loss=[1.1, 0.8, 0.6, 0.5][:epochs], val_r2=[0.0, 0.3, 0.5, 0.55][:epochs],
                       val_mae=[1.0, 0.8, 0.6, 0.55][:epochs])
    return History(metrics=metrics, grad_norms={"0": [0.5] * epochs, "2": [0.8] * epochs},
                   initial_grad_norms={"0": 0.4, "2": 0.9}, epochs=epochs)


def assert_png(path, n_panels: int) -> None:
    """``path`` is a PNG of ``n_panels`` side by side, and the directory holds nothing else."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (PANEL_PIXELS[0], PANEL_PIXELS[1] * n_panels)
    assert image.size > 0
    assert sorted(os.listdir(path.parent)) == [path.name], "a temporary file was left behind"


@pytest.mark.parametrize("validation", [True, False])
def test_plot_history_classification(tmp_path, validation):
    target = tmp_path / "history.png"
    assert plot_history(classification_history(validation), target) == target
    assert_png(target, n_panels=2)  # loss, accuracy


@pytest.mark.parametrize("validation", [True, False])
def test_plot_history_regression(tmp_path, validation):
    target = tmp_path / "history.png"
    plot_history(regression_history(validation), str(target), title="diabetes")
    assert_png(target, n_panels=3)  # loss, R², MAE


def test_plot_history_single_epoch(tmp_path):
    target = tmp_path / "history.png"
    plot_history(classification_history(epochs=1), target)
    assert_png(target, n_panels=2)


@pytest.mark.parametrize("make", [classification_history, regression_history])
def test_plot_gradient_flow(tmp_path, make):
    target = tmp_path / "flow.png"
    assert plot_gradient_flow(make(), target, title="run") == target
    assert_png(target, n_panels=2)  # per epoch, and at initialization


def test_plot_gradient_flow_without_initial_norms(tmp_path):
    history = classification_history()
    history.initial_grad_norms = {}
    target = tmp_path / "flow.png"
    plot_gradient_flow(history, target)
    assert_png(target, n_panels=1)


def test_plot_gradient_flow_zero_and_nonfinite_norms(tmp_path):
    """A dead layer (norm 0) or a diverged one cannot sit on a log axis: it is left out, not an error."""
    history = History(grad_norms={"0": [0.0, 1e-3], "2": [float("inf"), 0.5]}, initial_grad_norms={"0": 0.0, "2": 0.5})
    target = tmp_path / "flow.png"
    plot_gradient_flow(history, target)
    assert_png(target, n_panels=2)


def test_compare_gradient_flow(tmp_path):
    target = tmp_path / "compare.png"
    runs = {"sigmoid": classification_history(), "relu": regression_history(validation=False)}
    assert compare_gradient_flow(runs, target, title="two runs") == target
    assert_png(target, n_panels=1)


def test_overwrites_an_existing_file(tmp_path):
    target = tmp_path / "history.png"
    target.write_bytes(b"old")
    plot_history(classification_history(), target)
    assert_png(target, n_panels=2)


@pytest.mark.parametrize("plot", [
    lambda path: plot_history(classification_history(), path),
    lambda path: plot_gradient_flow(classification_history(), path),
    lambda path: compare_gradient_flow({"run": classification_history()}, path),
])
def test_unwritable_path_raises_and_leaves_nothing(tmp_path, plot):
    missing = tmp_path / "no such directory" / "figure.png"
    with pytest.raises(cr.DataError, match="no such directory"):
        plot(missing)
    assert list(tmp_path.iterdir()) == []

    directory = tmp_path / "a directory"
    directory.mkdir()
    with pytest.raises(cr.DataError, match="a directory"):
        plot(directory)
    assert list(directory.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["a directory"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a user that permissions apply to")
def test_read_only_directory_raises(tmp_path):
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(0o555)
    try:
        with pytest.raises(cr.DataError, match="read-only"):
            plot_history(classification_history(), directory / "history.png")
        assert list(directory.iterdir()) == []
    finally:
        directory.chmod(0o755)


def test_nothing_to_plot_raises(tmp_path):
    with pytest.raises(cr.DataError, match="no metrics"):
        plot_history(History(), tmp_path / "history.png")
    with pytest.raises(cr.DataError, match="no gradient norms"):
        plot_gradient_flow(History(metrics={"loss": [1.0]}), tmp_path / "flow.png")
    with pytest.raises(cr.DataError, match="no histories"):
        compare_gradient_flow({}, tmp_path / "compare.png")
    with pytest.raises(cr.DataError, match="'untrained'"):
        compare_gradient_flow({"trained": classification_history(), "untrained": History()}, tmp_path / "compare.png")
    assert list(tmp_path.iterdir()) == []


def test_pyplot_is_never_imported(tmp_path):
    """The module draws on Figure + Agg: no global pyplot state, no display needed."""
    code = (
        "import sys\n"
        "from chainrule.plots import plot_history\n"
        "from chainrule.training import History\n"
        "plot_history(History(metrics={'loss': [1.0, 0.5]}), sys.argv[1])\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    env = {**os.environ, "MPLBACKEND": "", "DISPLAY": ""}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "history.png")], check=True, env=env, timeout=120)


def test_histories_from_fit(tmp_path):
    """Real histories from tiny networks: classification with validation, regression without."""
    X, y = load_iris(return_X_y=True)
    model = cr.Sequential(cr.Linear(4, 8), cr.Tanh(), cr.Linear(8, 3), seed=0)
    classified = cr.fit(model, X, y, epochs=3, batch_size=16, validation=0.2, standardize=True, verbose=0, seed=0)
    plot_history(classified, tmp_path / "history.png")
    assert_png(tmp_path / "history.png", n_panels=2)

    X, y = load_diabetes(return_X_y=True)
    model = cr.Sequential(cr.Linear(10, 8), cr.ReLU(), cr.Linear(8, 1), seed=0)
    regressed = cr.fit(model, X, y / y.std(), epochs=3, batch_size=32, standardize=True, verbose=0, seed=0)
    (tmp_path / "history.png").unlink()
    plot_history(regressed, tmp_path / "history.png")
    assert_png(tmp_path / "history.png", n_panels=3)

    (tmp_path / "history.png").unlink()
    plot_gradient_flow(classified, tmp_path / "flow.png")
    assert_png(tmp_path / "flow.png", n_panels=2)
    (tmp_path / "flow.png").unlink()
    compare_gradient_flow({"iris": classified, "diabetes": regressed}, tmp_path / "compare.png")
    assert_png(tmp_path / "compare.png", n_panels=1)
