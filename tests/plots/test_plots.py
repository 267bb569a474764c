"""chainrule.plots: every figure is a valid PNG of the expected size, written atomically."""

import logging
import os
import subprocess
import sys
import warnings

import matplotlib.image
import numpy
import pytest
from sklearn.datasets import load_diabetes, load_iris

import chainrule as cr
from chainrule import plots
from chainrule.plots import DPI, NOTHING_POSITIVE, PANEL_SIZE, compare_gradient_flow, plot_gradient_flow, plot_history
from chainrule.training import History
from tests.harness import assert_tick_labels_do_not_overlap, capture_figures, suptitle

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

    directory = tmp_path / "a directory.png"
    directory.mkdir()
    with pytest.raises(cr.DataError, match="a directory.png: cannot write"):
        plot(directory)
    assert list(directory.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["a directory.png"]


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


def test_a_long_run_name_is_quoted_cut(tmp_path):
    name = "run" * 100
    with pytest.raises(cr.DataError, match=rf"run '{name[:59]}\.\.\. has no gradient norms"):
        compare_gradient_flow({"trained": classification_history(), name: History()}, tmp_path / "compare.png")
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


def test_matplotlibs_warnings_about_a_folder_it_cannot_write_are_dropped_and_no_other(tmp_path):
    """Importing the plots printed matplotlib's two warnings about its cache folder (HOME a file here, where
    ~/.cache/matplotlib cannot be made) and its advice to set MPLCONFIGDIR. A bad line of a matplotlibrc
    (read from the current folder) is still said, and the logger keeps no filter once the import is over."""
    (tmp_path / "home").write_text("")
    (tmp_path / "matplotlibrc").write_text("lines.linewidth: thick\n")
    code = "import logging, chainrule.plots\nassert not logging.getLogger('matplotlib').filters\n"
    environment = {**{key: value for key, value in os.environ.items()
                      if key not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")},
                   "HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Bad value in file" in done.stderr and "lines.linewidth" in done.stderr
    assert "MPLCONFIGDIR" not in done.stderr and "mkdir" not in done.stderr and "writable" not in done.stderr


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


def lines_by_label(axes) -> dict:
    return {line.get_label(): line for line in axes.get_lines()}


def test_a_shorter_series_is_drawn_at_the_last_epochs(tmp_path, drawn):
    """A run without validation resumed for 2 epochs with it (from a checkpoint older than fit's
    validation check): validation is at epochs 4-5, not 1-2."""
    history = History(metrics={"loss": [1.0, 0.8, 0.6, 0.5, 0.4], "val_loss": [0.7, 0.6]},
                      grad_norms={"0": [0.1, 0.2, 0.3, 0.4, 0.5], "2": [0.3, 0.4]}, epochs=5)
    plot_history(history, tmp_path / "history.png")
    lines = lines_by_label(drawn[0].axes[0])
    assert list(lines["training"].get_xdata()) == [1, 2, 3, 4, 5]
    assert list(lines["validation"].get_xdata()) == [4, 5]
    plot_gradient_flow(history, tmp_path / "flow.png")
    lines = lines_by_label(drawn[1].axes[0])
    assert list(lines["0"].get_xdata()) == [1, 2, 3, 4, 5] and list(lines["2"].get_xdata()) == [4, 5]


def test_without_an_epoch_count_the_longest_series_ends_the_run(tmp_path, drawn):
    plot_history(History(metrics={"loss": [1.0, 0.5, 0.3, 0.2], "val_loss": [0.6, 0.4]}), tmp_path / "history.png")
    assert list(lines_by_label(drawn[0].axes[0])["validation"].get_xdata()) == [3, 4]


@pytest.mark.parametrize("bad", [0.0, float("nan"), float("inf")])
def test_no_positive_norm_at_all_draws_a_note_instead_of_raising(tmp_path, drawn, bad):
    history = History(grad_norms={"0": [bad] * 3, "2": [bad] * 3}, initial_grad_norms={"0": bad, "2": bad})
    plot_gradient_flow(history, tmp_path / "flow.png")
    assert_png(tmp_path / "flow.png", n_panels=2)
    for axes in drawn[0].axes:
        assert [text.get_text() for text in axes.texts] == [NOTHING_POSITIVE]
    (tmp_path / "flow.png").unlink()
    compare_gradient_flow({"dead": history}, tmp_path / "compare.png")
    assert_png(tmp_path / "compare.png", n_panels=1)
    assert [text.get_text() for text in drawn[1].axes[0].texts] == [NOTHING_POSITIVE]


def test_zero_norms_are_gaps_and_their_epochs_and_layers_stay_on_the_axis(tmp_path, drawn):
    history = History(grad_norms={"0": [0.0, 0.0, 0.0], "2": [1e-2, 2e-2, 0.0]}, initial_grad_norms={"0": 0.0, "2": 1e-2})
    plot_gradient_flow(history, tmp_path / "flow.png")
    per_epoch, profile = drawn[0].axes
    assert per_epoch.get_yscale() == "log" and len(per_epoch.texts) == 0
    low, high = per_epoch.get_xlim()
    assert low < 1 and high > 3  # epoch 3, where every norm is 0, is still shown
    low, high = profile.get_xlim()
    assert low < 1 < 2 < high  # so is layer "0" at depth 1


@pytest.mark.parametrize("suffix, signature", [
    (".png", PNG_SIGNATURE), (".PNG", PNG_SIGNATURE), (".pdf", b"%PDF"), (".svg", b"<?xml"),
    (".eps", b"%!PS"), (".jpg", b"\xff\xd8\xff"), (".jpeg", b"\xff\xd8\xff"),
])
def test_the_suffix_picks_the_format(tmp_path, suffix, signature):
    target = tmp_path / ("history" + suffix)
    plot_history(classification_history(), target)
    assert target.read_bytes().startswith(signature)


def test_an_eps_figure_has_nothing_transparent_that_postscript_would_draw_opaque(tmp_path, caplog):
    # the grid's alpha and the legend's frame were partly transparent: PostScript has no transparency, so
    # matplotlib logged "partially transparent artists will be rendered opaque" on stderr for every figure, and drew
    # the grid at full strength
    history = classification_history()
    history.best_epoch, history.partial_last_epoch = 2, True
    history.grad_norms["2"][1] = float("nan")
    with caplog.at_level(logging.WARNING):
        plot_history(history, tmp_path / "history.eps")
        plot_gradient_flow(history, tmp_path / "flow.eps")
        compare_gradient_flow({"run": history}, tmp_path / "compare.eps")
    assert caplog.records == []
    assert (tmp_path / "compare.eps").read_bytes().startswith(b"%!PS")


@pytest.mark.parametrize("name", ["history.gif", "history.txt"])
def test_an_unknown_suffix_raises_naming_the_path(tmp_path, name):
    for plot in (plot_history, plot_gradient_flow, lambda history, path: compare_gradient_flow({"run": history}, path)):
        with pytest.raises(cr.HyperparameterError, match=f"^path: '.*{name}': cannot tell the image format from the "
                                                         f"suffix '{name[-4:]}'; expected one of .png, .pdf, .svg"):
            plot(classification_history(), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_no_suffix_means_png(tmp_path):
    # So a stream such as /dev/stdout, which has no suffix, can take a plot.
    for plot in (plot_history, plot_gradient_flow, lambda history, path: compare_gradient_flow({"run": history}, path)):
        target = tmp_path / "history"
        plot(classification_history(), target)
        assert target.read_bytes().startswith(PNG_SIGNATURE)


def tick_labels(axis) -> list[str]:
    return [label.get_text() for label in axis.get_ticklabels()]


def test_runs_of_different_layers_are_numbered_by_depth(tmp_path, drawn):
    deep = History(initial_grad_norms={str(2 * depth): 10.0 ** -depth for depth in range(30)})
    shallow = History(initial_grad_norms={"0": 0.5, "2": 0.8})
    compare_gradient_flow({"deep": deep, "shallow": shallow}, tmp_path / "compare.png")
    axes = drawn[0].axes[0]
    assert tick_labels(axes.xaxis) == [str(depth) for depth in [*range(1, 28, 2), 30]]  # the deepest run's last
    assert axes.get_xlim()[1] > 30

    compare_gradient_flow({"one": shallow, "two": History(initial_grad_norms={"0": 0.1, "2": 0.2})}, tmp_path / "same.png")
    assert tick_labels(drawn[1].axes[0].xaxis) == ["0", "2"]  # the same layers: named by path


def test_a_deep_profile_names_its_layers_as_the_legend_does(tmp_path, drawn):
    layers = [str(2 * depth) for depth in range(30)]
    history = History(grad_norms={layer: [1.0, 2.0] for layer in layers},
                      initial_grad_norms={layer: 10.0 ** -depth for depth, layer in enumerate(layers)})
    plot_gradient_flow(history, tmp_path / "flow.png")
    per_epoch, profile = drawn[0].axes
    legend = [text.get_text() for text in per_epoch.get_legend().get_texts()]
    assert len(per_epoch.get_lines()) == 30  # a line for every layer
    named = tick_labels(profile.xaxis)
    # every second layer and the last, by its path, on the axis and in the legend
    assert named == legend == [*layers[:28:2], layers[-1]]
    assert list(profile.get_xticks()) == [*range(1, 28, 2), 30]  # at its depth


def test_one_epoch_has_whole_number_epoch_ticks(tmp_path, drawn):
    history = classification_history(epochs=1)
    plot_history(history, tmp_path / "history.png")
    plot_gradient_flow(history, tmp_path / "flow.png")
    for axes in (*drawn[0].axes, drawn[1].axes[0]):
        low, high = axes.get_xlim()
        shown = [tick for tick in axes.get_xticks() if low <= tick <= high]
        assert shown == [1]


@pytest.mark.parametrize("call, error, message", [
    (lambda path: plot_history({"loss": [1.0]}, path), cr.DataError,
     "history: expected a chainrule History .* got dict"),
    (lambda path: plot_gradient_flow(None, path), cr.DataError,
     "history: expected a chainrule History .* got NoneType"),
    (lambda path: plot_history(classification_history(), None), cr.HyperparameterError,
     "path: expected a file name .* got NoneType"),
    (lambda path: plot_gradient_flow(classification_history(), 3), cr.HyperparameterError,
     "path: expected a file name .* got int"),
    (lambda path: compare_gradient_flow([classification_history()], path), cr.DataError,
     "histories: expected a dict of run name -> History, got list"),
    (lambda path: compare_gradient_flow({"a": {"loss": [1.0]}}, path), cr.DataError,
     r"histories\['a'\]: expected a chainrule History"),
])
def test_bad_arguments_raise_errors_naming_them(tmp_path, call, error, message):
    # The history plotted is the data (DataError); the path an argument's value (HyperparameterError).
    with pytest.raises(cr.ChainruleError, match=message) as refused:
        call(tmp_path / "figure.png")
    assert type(refused.value) is error
    assert list(tmp_path.iterdir()) == []


def history_of_losses(losses: list, val_losses: list | None = None) -> History:
    metrics = {"loss": losses} if val_losses is None else {"loss": losses, "val_loss": val_losses}
    return History(metrics=metrics, epochs=len(losses))


@pytest.mark.parametrize("losses, val_losses, yscale", [
    ([2.0, 0.1, 0.01, 0.001], None, "log"),  # over three decades: on a linear axis the last epochs look flat
    ([2.0, 1.0, 0.5, 0.03], None, "linear"),  # under two decades
    ([2.0, 1.0, 0.5, 0.03], [2.5, 1.2, 0.1, 0.01], "log"),  # validation counts too
    ([2.0, 0.1, 0.001, 0.0], None, "linear"),  # a loss of 0 has no place on a log axis
])
def test_a_loss_spanning_more_than_two_decades_is_drawn_on_a_log_axis(tmp_path, drawn, losses, val_losses, yscale):
    plot_history(history_of_losses(losses, val_losses), tmp_path / "history.png")
    assert drawn[0].axes[0].get_yscale() == yscale


def test_log_loss_overrides_the_rule_and_applies_to_the_loss_only(tmp_path, drawn):
    history = classification_history()  # loss 2.0 -> 0.5: linear by the rule
    plot_history(history, tmp_path / "log.png", log_loss=True)
    assert [axes.get_yscale() for axes in drawn[0].axes] == ["log", "linear"]  # loss, accuracy
    spanning = history_of_losses([2.0, 0.1, 0.001, 0.0])
    plot_history(spanning, tmp_path / "forced.png", log_loss=True)
    line = lines_by_label(drawn[1].axes[0])["training"]
    assert drawn[1].axes[0].get_yscale() == "log" and numpy.isnan(line.get_ydata()[-1])  # the 0 is a gap
    plot_history(history_of_losses([2.0, 0.1, 0.01, 0.001]), tmp_path / "linear.png", log_loss=False)
    assert drawn[2].axes[0].get_yscale() == "linear"


def test_a_numpy_bool_log_loss_is_taken_as_best_restored_takes_one(tmp_path, drawn):
    # it was refused with DataError ("expected True, False or None"), where every other flag takes it
    plot_history(classification_history(), tmp_path / "log.png", log_loss=numpy.True_)
    plot_history(history_of_losses([2.0, 0.1, 0.01, 0.001]), tmp_path / "linear.png", log_loss=numpy.False_)
    assert [figure.axes[0].get_yscale() for figure in drawn] == ["log", "linear"]


@pytest.mark.parametrize("bad", ["yes", 1, 0.0])
def test_a_log_loss_that_is_not_a_bool_or_none_is_a_hyperparameter_error(tmp_path, bad):
    with pytest.raises(cr.HyperparameterError, match=f"log_loss: expected True, False or None .* got {bad!r}"):
        plot_history(classification_history(), tmp_path / "history.png", log_loss=bad)
    assert list(tmp_path.iterdir()) == []


def test_given_the_model_the_gradient_flow_names_each_layers_type(tmp_path, drawn):
    model = cr.Sequential(cr.Linear(4, 8), cr.Tanh(), cr.Linear(8, 8), cr.ReLU(), cr.Linear(8, 3), seed=0)
    plot_gradient_flow(classification_history(), tmp_path / "flow.png", model=model)
    per_epoch, profile = drawn[0].axes
    names = ["0 Linear", "2 Linear", "4 Linear"]
    assert [text.get_text() for text in per_epoch.get_legend().get_texts()] == names
    assert tick_labels(profile.xaxis) == names
    plot_gradient_flow(classification_history(), tmp_path / "paths.png")  # without a model: paths alone
    assert tick_labels(drawn[1].axes[1].xaxis) == ["0", "2", "4"]


def test_a_lone_layer_is_named_model_as_fit_records_it(tmp_path, drawn):
    history = History(grad_norms={"model": [0.5, 0.4]}, initial_grad_norms={"model": 0.5}, epochs=2)
    plot_gradient_flow(history, tmp_path / "flow.png", model=cr.Linear(3, 2))
    assert tick_labels(drawn[0].axes[1].xaxis) == ["model Linear"]


@pytest.mark.parametrize("model, message", [
    (cr.Sequential(cr.Linear(4, 3)), "model: has no layer '2', which the history records; pass the model the history"),
    ({"0": "Linear"}, "model: expected the chainrule Layer the history was recorded from, got dict"),
])
def test_a_model_that_does_not_fit_the_history_is_a_hyperparameter_error(tmp_path, model, message):
    with pytest.raises(cr.HyperparameterError, match=message):
        plot_gradient_flow(classification_history(), tmp_path / "flow.png", model=model)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n_layers", [3, 10, 16, 40])
def test_layer_names_on_the_depth_axis_do_not_overlap(tmp_path, drawn, n_layers):
    # Residual blocks give long names ("3.f.0 Linear") once plot_gradient_flow has the model.
    blocks = [cr.Residual(cr.Sequential(cr.Linear(4, 4), cr.Tanh())) for _ in range(n_layers - 1)]
    model = cr.Sequential(*blocks, cr.Linear(4, 3), seed=0)
    paths = [prefix.removesuffix(".") for prefix, layer in model.walk() if isinstance(layer, cr.Linear)]
    history = History(grad_norms={path: [1.0, 2.0] for path in paths},
                      initial_grad_norms={path: 2.0 ** -depth for depth, path in enumerate(paths)}, epochs=2)
    plot_gradient_flow(history, tmp_path / "flow.png", model=model)
    assert_tick_labels_do_not_overlap(drawn[0].axes[1])


NAN, INF = float("nan"), float("inf")


def non_finite_marks(axes) -> list:
    """The epochs (or depths) that the red crosses on ``axes``'s top edge mark as NaN/inf."""
    marks = [line for line in axes.get_lines() if line.get_label() == plots.NON_FINITE_LABEL]
    if not marks:
        return []
    assert len(marks) == 1, "one set of crosses per panel"
    top_edge = axes.transAxes.transform((0, 1))[1]
    for x, y in zip(marks[0].get_xdata(), marks[0].get_ydata()):
        assert marks[0].get_transform().transform((x, y))[1] == pytest.approx(top_edge)  # on the top edge, any scale
    return list(marks[0].get_xdata())


def legend_texts(axes) -> list[str]:
    return [text.get_text() for text in axes.get_legend().get_texts()]


def test_a_diverged_epoch_is_marked_not_silently_dropped(tmp_path, drawn):
    history = History(metrics={"loss": [2.0, 1.0, 0.5, NAN], "val_loss": [2.1, 1.2, INF, NAN],
                               "accuracy": [0.3, 0.5, 0.6, 0.7]}, epochs=4)
    plot_history(history, tmp_path / "history.png")
    loss, accuracy = drawn[0].axes
    assert non_finite_marks(loss) == [3, 4]  # validation at 3 and 4, training at 4
    assert "NaN/inf (diverged)" in legend_texts(loss)
    assert non_finite_marks(accuracy) == [] and "NaN/inf (diverged)" not in legend_texts(accuracy)
    lines = lines_by_label(loss)  # the finite points are drawn as before
    assert list(lines["training"].get_xdata()) == [1, 2, 3, 4]
    assert lines["training"].get_ydata()[:3].tolist() == [2.0, 1.0, 0.5]
    assert loss.get_ylim()[1] < 2.5  # the crosses do not stretch the axis


def test_a_diverged_loss_on_a_log_axis_is_marked_and_ignored_by_the_log_rule(tmp_path, drawn):
    plot_history(history_of_losses([2.0, 0.1, 0.01, 0.001, INF]), tmp_path / "inf.png")
    assert drawn[0].axes[0].get_yscale() == "log" and non_finite_marks(drawn[0].axes[0]) == [5]
    plot_history(history_of_losses([2.0, 0.1, 0.01, 0.001, -INF]), tmp_path / "minus_inf.png")
    assert drawn[1].axes[0].get_yscale() == "log" and non_finite_marks(drawn[1].axes[0]) == [5]
    plot_history(history_of_losses([2.0, 0.1, 0.01, 0.001, 0.0]), tmp_path / "zero.png")
    assert non_finite_marks(drawn[2].axes[0]) == []  # a loss of 0 is not a divergence


def test_a_history_whose_every_loss_is_nan_plots_without_warnings(tmp_path, drawn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_history(history_of_losses([NAN, NAN, INF], [NAN, NAN, NAN]), tmp_path / "history.png")
    assert_png(tmp_path / "history.png", n_panels=1)
    axes = drawn[0].axes[0]
    assert non_finite_marks(axes) == [1, 2, 3]
    assert [text.get_text() for text in axes.texts] == [plots.NOTHING_FINITE]
    assert all(numpy.isfinite(axes.get_ylim())) and axes.get_yscale() == "linear"
    low, high = axes.get_xlim()
    assert low < 1 and high > 3


def test_non_finite_gradient_norms_are_marked_and_zero_norms_are_gaps(tmp_path, drawn):
    history = History(grad_norms={"0": [1e-3, 1e-2, INF, 0.0], "2": [0.1, 0.0, 0.2, NAN]},
                      initial_grad_norms={"0": 0.0, "2": INF, "4": 0.5}, epochs=4)
    plot_gradient_flow(history, tmp_path / "flow.png")
    per_epoch, profile = drawn[0].axes
    assert non_finite_marks(per_epoch) == [3, 4]  # not epoch 2, where a norm is 0
    assert non_finite_marks(profile) == [2]  # layer "2" at depth 2; layer "0" (norm 0) is not diverged
    # a norm of 0 is marked apart, on the bottom edge (tests/plots/test_gradient_flow.py)
    assert legend_texts(profile) == ["NaN/inf (diverged)", "0 or below 2.2e-308 (vanished)"]
    assert {"NaN/inf (diverged)", "0 or below 2.2e-308 (vanished)"} <= set(legend_texts(per_epoch))
    assert numpy.isnan(lines_by_label(per_epoch)["2"].get_ydata()[1])  # the 0 is still a gap


def test_finite_runs_get_no_marks(tmp_path, drawn):
    plot_history(classification_history(), tmp_path / "history.png")
    plot_gradient_flow(classification_history(), tmp_path / "flow.png")
    for axes in (*drawn[0].axes, *drawn[1].axes):
        assert non_finite_marks(axes) == []


@pytest.mark.parametrize("restored, label", [(True, "best epoch (restored)"), (False, "best epoch"),
                                             (numpy.True_, "best epoch (restored)")])  # a NumPy bool, as every flag
def test_the_best_epoch_is_a_dotted_line_on_every_panel(tmp_path, drawn, restored, label):
    history = regression_history()
    history.best_epoch = 3
    plot_history(history, tmp_path / "history.png", best_restored=restored)
    for axes in drawn[0].axes:
        line = lines_by_label(axes)[label]
        assert list(line.get_xdata()) == [3, 3] and line.get_linestyle() == ":"
        assert label in [text.get_text() for text in axes.get_legend().get_texts()]


def test_a_best_epoch_that_numpy_computed_is_drawn(tmp_path, drawn):
    # np.argmin(val_loss) + 1, a NumPy integer, was refused: "expected None or an epoch of the run, 1 to 4, got 3"
    history = regression_history()
    history.best_epoch = numpy.argmin(history["val_loss"][:3]) + 1
    plot_history(history, tmp_path / "history.png")
    assert list(lines_by_label(drawn[0].axes[0])["best epoch"].get_xdata()) == [3, 3]


def test_without_a_best_epoch_there_is_no_best_epoch_line(tmp_path, drawn):
    plot_history(regression_history(), tmp_path / "history.png")
    for axes in drawn[0].axes:
        assert not {"best epoch", "best epoch (restored)"} & set(lines_by_label(axes))


@pytest.mark.parametrize("best_epoch", [0, 5, 2.0, "3"])
def test_a_best_epoch_outside_the_run_is_a_data_error(tmp_path, best_epoch):
    history = regression_history()  # 4 epochs
    history.best_epoch = best_epoch
    with pytest.raises(cr.DataError, match=r"history.best_epoch: expected None or an epoch of the run, 1 to 4"):
        plot_history(history, tmp_path / "history.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("epochs", [35, 100])
def test_a_long_run_has_no_epoch_0_tick(tmp_path, drawn, epochs):
    history = History(metrics={"loss": [1.0 / epoch for epoch in range(1, epochs + 1)], "r2": [0.5] * epochs,
                               "mae": [0.3] * epochs}, grad_norms={"0": [0.5] * epochs}, epochs=epochs)
    plot_history(history, tmp_path / "history.png")
    plot_gradient_flow(history, tmp_path / "flow.png")
    for axes in (*drawn[0].axes, drawn[1].axes[0]):
        low, high = axes.get_xlim()
        shown = [tick for tick in axes.get_xticks() if low <= tick <= high]
        assert min(shown) >= 1 and high > epochs  # epochs count from 1; the last one is on the axis


@pytest.mark.parametrize("call", [
    lambda path: plot_history(classification_history(), path, title=3),
    lambda path: plot_gradient_flow(classification_history(), path, title=["run"]),
    lambda path: compare_gradient_flow({"run": classification_history()}, path, title=b"run"),
])
def test_a_title_that_is_not_a_str_is_a_hyperparameter_error(tmp_path, call):
    with pytest.raises(cr.HyperparameterError, match=r"title: expected a str or None \(the default title\), got "):
        call(tmp_path / "figure.png")
    assert list(tmp_path.iterdir()) == []


def test_best_restored_must_be_a_bool(tmp_path):
    with pytest.raises(cr.HyperparameterError, match="best_restored: expected True or False, got 'yes'"):
        plot_history(classification_history(), tmp_path / "history.png", best_restored="yes")


def test_the_loss_panel_comes_first_whatever_the_order_of_the_metrics(tmp_path, monkeypatch):
    figures = capture_figures(monkeypatch)
    history = History(metrics={"accuracy": [0.5, 0.7], "val_loss": [1.2, 0.9], "loss": [1.0, 0.8]}, epochs=2)
    plot_history(history, tmp_path / "history.png")
    assert [axes.get_title() for axes in figures[0].axes] == ["loss", "accuracy"]


NOT_DRAWABLE = "run\udcff"  # os.fsdecode's lone surrogate for a byte that is not UTF-8, which no font can draw
SHOWN = "run\\udcff"


@pytest.mark.parametrize("plot, texts", [
    (lambda path: plot_history(History(metrics={"loss": [1.0, 0.5], NOT_DRAWABLE: [1.0, 2.0]}, epochs=2), path),
     lambda figure: [figure.axes[1].get_title(), figure.axes[1].get_ylabel()]),
    (lambda path: plot_history(History(metrics={"loss": [1.0, 0.5]}, epochs=2), path, title=NOT_DRAWABLE),
     lambda figure: [suptitle(figure)]),
    (lambda path: plot_gradient_flow(History(grad_norms={NOT_DRAWABLE: [1.0, 2.0]},
                                             initial_grad_norms={NOT_DRAWABLE: 1.0}, epochs=2), path,
                                     title=NOT_DRAWABLE),
     lambda figure: [suptitle(figure), figure.axes[0].get_legend().get_texts()[0].get_text(),
                     figure.axes[1].get_xticklabels()[0].get_text()]),
    (lambda path: compare_gradient_flow({NOT_DRAWABLE: History(initial_grad_norms={NOT_DRAWABLE: 1.0})}, path,
                                        title=NOT_DRAWABLE),
     lambda figure: [suptitle(figure), figure.axes[0].get_legend().get_texts()[0].get_text()[:9],
                     figure.axes[0].get_xticklabels()[0].get_text()]),
])
def test_a_character_no_font_can_draw_is_drawn_as_its_escape(tmp_path, drawn, plot, texts):
    # a lone surrogate in a title, a metric's name, a layer's path or a run's name (a folder's name read with
    # os.fsdecode) made matplotlib raise a bare TypeError from set_text() as the figure was saved
    plot(tmp_path / "plot.png")
    assert set(texts(drawn[0])) == {SHOWN}
    assert (tmp_path / "plot.png").is_file()


def _compare(history, path, **options):
    return compare_gradient_flow({"run": history}, path, **options)


@pytest.mark.parametrize("plot", [plot_history, plot_gradient_flow, _compare])
@pytest.mark.parametrize("options, name", [
    ({"title": 3}, "title"), ({"path": 3}, "path"), ({"path": "out/"}, "path"), ({"path": "plot.gif"}, "path"),
])
def test_every_plot_refuses_an_argument_of_the_wrong_value_as_a_hyperparameter_error_naming_it(tmp_path, plot,
                                                                                               options, name):
    # The rule of chainrule.errors: an argument's value is a HyperparameterError (as cr.fit's lr or model), what the
    # history holds a DataError. A bad path was a DataError while a bad title was a HyperparameterError.
    options = {"path": tmp_path / "plot.png", **options}
    path = options.pop("path")
    with pytest.raises(cr.ChainruleError, match=f"^{name}: ") as refused:
        plot(classification_history(), path, **options)
    assert type(refused.value) is cr.HyperparameterError
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("plot", [plot_history, plot_gradient_flow, _compare])
def test_every_plot_refuses_what_the_history_holds_as_a_data_error(tmp_path, plot):
    with pytest.raises(cr.DataError, match="expected a list or 1-D array of numbers|expected a number"):
        plot(History(metrics={"loss": "abc"}, grad_norms={"0": "abc"}, initial_grad_norms={"0": "abc"}),
             tmp_path / "plot.png")
