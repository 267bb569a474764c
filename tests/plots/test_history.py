"""chainrule.plots.history: what plot_history accepts as a History's metric series."""

import json
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import plots
from chainrule.cli.json_output import json_text
from chainrule.plots import plot_gradient_flow, plot_history
from chainrule.training import History


def marked_epochs(axes) -> list:
    """The epochs that the red "NaN/inf (diverged)" crosses of ``axes`` mark."""
    return [x for line in axes.get_lines() if line.get_label() == plots.NON_FINITE_LABEL for x in line.get_xdata()]


def test_a_diverged_value_read_back_from_metrics_json_is_marked_as_diverged(tmp_path, drawn):
    # metrics.json writes inf as null; History.from_json used to keep the None, and the plot
    # then died with a TypeError from float(None).
    history = History(metrics={"loss": [1.0, 0.5], "val_loss": [math.inf, 0.3]}, epochs=2)
    metrics = json.loads(json_text({"history": history.to_json()}))
    plot_history(History.from_json(metrics["history"]), tmp_path / "history.png")
    assert marked_epochs(drawn[0].axes[0]) == [1]


def test_numpy_arrays_of_numbers_are_plotted_as_lists_are(tmp_path, drawn):
    as_lists = History(metrics={"loss": [1.0, 0.5, math.nan], "accuracy": [0, 1, 1]}, epochs=3)
    as_arrays = History(metrics={"loss": np.array([1.0, 0.5, np.nan], dtype=np.float32),
                                 "accuracy": np.array([0, 1, 1])}, epochs=3)
    plot_history(as_lists, tmp_path / "lists.png")
    plot_history(as_arrays, tmp_path / "arrays.png")
    assert len(drawn[0].axes) == len(drawn[1].axes) == 2  # loss, accuracy
    for from_lists, from_arrays in zip(drawn[0].axes, drawn[1].axes):
        assert [line.get_label() for line in from_lists.get_lines()] == [line.get_label() for line in
                                                                        from_arrays.get_lines()]
        for line, same in zip(from_lists.get_lines(), from_arrays.get_lines()):
            np.testing.assert_array_equal(line.get_xdata(), same.get_xdata())
            np.testing.assert_array_equal(line.get_ydata(), same.get_ydata())
    assert marked_epochs(drawn[1].axes[0]) == [3]


EXPECTED_NUMBERS = "expected numbers (one per epoch; NaN or inf for a diverged one)"


@pytest.mark.parametrize("metrics, message", [
    ({"loss": [1.0, "0.5"]}, f"history.metrics['loss']: {EXPECTED_NUMBERS}, got '0.5' (str) as value 2 of 2"),
    ({"loss": [1.0, 0.5], "val_loss": np.array(["a", "b"])},
     f"history.metrics['val_loss']: {EXPECTED_NUMBERS}, got {np.str_('a')!r} (str_) as value 1 of 2"),
    ({"loss": [1.0, None]}, f"history.metrics['loss']: {EXPECTED_NUMBERS}, got None (NoneType) as value 2 of 2"),
    ({"loss": [1.0, True]}, f"history.metrics['loss']: {EXPECTED_NUMBERS}, got True (bool) as value 2 of 2"),
    ({"loss": [1.0, [1.0]]}, f"history.metrics['loss']: {EXPECTED_NUMBERS}, got [1.0] (list) as value 2 of 2"),
    ({"loss": [10**400]}, f"history.metrics['loss']: {EXPECTED_NUMBERS}, got 1{'0' * 59}... (int) as value 1 of 1"),
    ({"loss": 0.5}, "history.metrics['loss']: expected a list or 1-D array of numbers (one per epoch), got float"),
    ({"loss": np.ones((2, 1))},
     "history.metrics['loss']: expected a list or 1-D array of numbers (one per epoch), got ndarray of shape (2, 1)"),
    ({1: [1.0]}, "history.metrics[1]: expected a metric name (a str), got int"),
    ([[1.0, 0.5]], "history.metrics: expected a dict of metric name to its values per epoch, got list"),
])
def test_a_series_that_is_not_numbers_is_a_data_error_naming_it(tmp_path, metrics, message):
    with pytest.raises(cr.errors.DataError) as raised:
        plot_history(History(metrics=metrics), tmp_path / "history.png")
    assert str(raised.value) == message
    assert not (tmp_path / "history.png").exists()


def test_a_title_that_is_not_valid_mathtext_is_a_hyperparameter_error(tmp_path):
    # A malformed formula between a pair of '$' raised matplotlib's raw ValueError on rendering.
    with pytest.raises(cr.HyperparameterError, match=r"title: 'a \$x\^\$ b' is not valid mathtext"):
        plot_history(History(metrics={"loss": [1.0]}, epochs=1), tmp_path / "history.png", title="a $x^$ b")
    assert list(tmp_path.iterdir()) == []


def test_a_finite_value_near_the_float64_limit_is_drawn_scaled_on_a_linear_panel(tmp_path, drawn):
    # matplotlib's linear axis overflowed on it: a bare ValueError "arange: cannot compute length" at the save.
    history = History(metrics={"loss": [1.0, 1.7e308], "mae": [-1.7e308, 1.7e308], "accuracy": [0.5, 0.75]})
    path = plot_history(history, tmp_path / "history.png", log_loss=False)
    assert path.read_bytes()[:4] == b"\x89PNG"
    loss, mae, accuracy = drawn[0].axes
    assert (loss.get_ylabel(), mae.get_ylabel(), accuracy.get_ylabel()) == (
        "loss (× 1e308)", "mean absolute error (× 1e308)", "accuracy")
    np.testing.assert_allclose(loss.get_lines()[0].get_ydata(), [1e-308, 1.7])
    np.testing.assert_array_equal(accuracy.get_lines()[0].get_ydata(), [0.5, 0.75])


@pytest.mark.parametrize("log_loss", [None, True])
def test_a_loss_past_what_a_log_axis_spans_is_drawn_on_a_linear_axis_that_holds_it(tmp_path, drawn, log_loss):
    # matplotlib's log axis overflowed in its margin and fell back to limits 1 to 10: 1e300 was off the panel.
    history = History(metrics={"loss": [1.0, 1e300]})
    plot_history(history, tmp_path / "history.png", log_loss=log_loss)
    axes = drawn[0].axes[0]
    bottom, top = axes.get_ylim()
    assert axes.get_yscale() == "linear" and bottom <= 1.0 and 1e300 <= top < math.inf


def partial_epoch_spans(axes) -> list:
    """The (left, right) epochs of each patch of ``axes`` labelled as a part of an epoch."""
    return [tuple(np.round(_x_span(patch), 6)) for patch in axes.patches
            if patch.get_label() == plots.PARTIAL_EPOCH_LABEL]


def _x_span(patch) -> np.ndarray:
    """[left, right] of ``patch`` in data x: axvspan's Rectangle (matplotlib 3.9 on) or Polygon (before)."""
    x = patch.get_patch_transform().transform(patch.get_path().vertices)[:, 0]
    return np.array([x.min(), x.max()])


@pytest.mark.parametrize("partial, spans", [(True, [(2.5, 3.5)]), (False, [])])
def test_an_epoch_cut_short_by_ctrl_c_is_shaded_on_every_panel(tmp_path, drawn, partial, spans):
    # its values, from the batches that ran, were drawn as any epoch's, though a run stopped early in its last epoch
    # often shows a jump there
    history = History(metrics={"loss": [1.0, 0.5, 0.9], "accuracy": [0.5, 0.7, 0.2]},
                      grad_norms={"0": [1.0, 0.8, 3.0]}, initial_grad_norms={"0": 1.0}, epochs=3,
                      partial_last_epoch=partial)
    plot_history(history, tmp_path / "history.png")
    plot_gradient_flow(history, tmp_path / "flow.png")
    panels = [*drawn[0].axes, drawn[1].axes[0]]
    assert [partial_epoch_spans(axes) for axes in panels] == [spans] * 3
    for axes in panels:
        assert (plots.PARTIAL_EPOCH_LABEL in [text.get_text() for text in axes.get_legend().get_texts()]) == partial


@pytest.mark.parametrize("plot", [plot_history, plot_gradient_flow])
def test_a_partial_last_epoch_that_is_not_a_bool_is_a_data_error(tmp_path, plot):
    history = History(metrics={"loss": [1.0]}, grad_norms={"0": [1.0]}, epochs=1, partial_last_epoch="no")
    with pytest.raises(cr.DataError, match=r"^history\.partial_last_epoch: expected True or False, got 'no'$"):
        plot(history, tmp_path / "plot.png")
    assert not (tmp_path / "plot.png").exists()


@pytest.mark.parametrize("epochs", ["abc", "5", 2.7, float("nan"), float("inf"), True, -3, 2 ** 53 + 1])
@pytest.mark.parametrize("plot", [plot_history, plot_gradient_flow])
def test_an_epoch_count_that_is_not_a_whole_number_of_epochs_is_a_data_error(tmp_path, plot, epochs):
    # it went through int(): 'abc' and NaN raised a bare ValueError, inf an OverflowError, and '5', 2.7, True and -3
    # were taken as counts
    history = History(metrics={"loss": [1.0, 0.5]}, grad_norms={"0": [1.0, 2.0]}, initial_grad_norms={"0": 1.0},
                      epochs=epochs)
    with pytest.raises(cr.DataError, match=r"^history\.epochs: expected a whole number of epochs from 0 to "
                                           r"9007199254740992, or None, got .+ \((str|float|bool|int)\)$"):
        plot(history, tmp_path / "plot.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("epochs", [None, 0, 2, np.int64(2), 2 ** 53])
def test_an_epoch_count_that_is_a_whole_number_or_none_is_drawn(tmp_path, epochs):
    history = History(metrics={"loss": [1.0, 0.5]}, grad_norms={"0": [1.0, 2.0]}, initial_grad_norms={"0": 1.0},
                      epochs=epochs)
    plot_history(history, tmp_path / "history.png")
    plot_gradient_flow(history, tmp_path / "flow.png")
    assert (tmp_path / "history.png").is_file() and (tmp_path / "flow.png").is_file()


def test_a_metric_name_is_drawn_as_it_is_not_as_mathtext(tmp_path, drawn):
    # a series of one's own (History.append) named with a pair of '$' was read as matplotlib's math when the figure
    # was saved: a bare ValueError for "price_$5_to_$10", whose math does not parse
    history = History(metrics={"loss": [1.0, 0.5], "price_$5_to_$10": [1.0, 2.0], "val_price_$5_to_$10": [1.5, 2.5]},
                      epochs=2)
    plot_history(history, tmp_path / "history.png")
    panel = drawn[0].axes[1]
    assert panel.get_title() == panel.get_ylabel() == "price_$5_to_$10"
    assert (tmp_path / "history.png").is_file()


@pytest.mark.parametrize("partial, validation", [(False, False), (True, True)])
def test_each_panels_legend_lies_below_it_never_over_its_curves(tmp_path, drawn, partial, validation):
    # Placed inside the panel where matplotlib found room ("best"), and opaque, the legend hid the rise of the
    # accuracy over the first epochs in the history.png of the quickstart's `chainrule train` (0.78 at epoch 1,
    # 1 from epoch 7): the part of a curve that changes most
    metrics = {"loss": [0.85 * 0.6 ** epoch + 0.006 for epoch in range(55)],
               "accuracy": [0.78, 0.96, 0.985] + [1.0] * 52}
    if validation:
        metrics.update(val_loss=[value * 2 for value in metrics["loss"]], val_accuracy=metrics["accuracy"])
    history = History(metrics=metrics, epochs=55, best_epoch=45, partial_last_epoch=partial)
    plot_history(history, tmp_path / "history.png", best_restored=True)
    figure = drawn[0]
    figure.canvas.draw()
    for axes in figure.axes:
        legend, panel = axes.get_legend().get_window_extent(), axes.get_window_extent()
        assert legend.y1 <= panel.y0  # below the panel's area, where no curve is drawn
        assert 0 <= legend.x0 and legend.x1 <= figure.bbox.x1 and 0 <= legend.y0  # whole, within the figure
        assert panel.height >= 0.6 * figure.bbox.height  # the legend's rows take the figure's height, not the panel's
