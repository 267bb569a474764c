"""chainrule.plots.gradient_flow: what the gradient flow figures accept as a History's gradient
norms, and how they name the layers and runs."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.plots import compare_gradient_flow, plot_gradient_flow
from chainrule.training import History
from tests.harness import assert_tick_labels_do_not_overlap, suptitle

METRICS = {"loss": [1.0, 0.5]}
VANISHED = "0 or below 2.2e-308 (vanished)"  # the legend entry of the triangles, cr.plots.VANISHED_LABEL


@pytest.mark.parametrize("grad_norms, message", [
    ({"0": [1.0, None]}, r"history.grad_norms\['0'\]: expected numbers .* got None \(NoneType\) as value 2 of 2"),
    ({"0": [1.0, "x"]}, r"history.grad_norms\['0'\]: expected numbers .* got 'x' \(str\) as value 2 of 2"),
    ({"0": [True, 2.0]}, r"history.grad_norms\['0'\]: expected numbers .* got True \(bool\) as value 1 of 2"),
    ({"0": "12"}, r"history.grad_norms\['0'\]: expected a list or 1-D array of numbers .* got str"),
    ({"0": 1.0}, r"history.grad_norms\['0'\]: expected a list or 1-D array of numbers .* got float"),
    ({"0": np.ones((2, 2))}, r"history.grad_norms\['0'\]: expected a list .* got ndarray of shape \(2, 2\)"),
    ({0: [1.0, 2.0]}, r"history.grad_norms\[0\]: expected a layer path \(a str\), got int"),
    ([1.0, 2.0], r"history.grad_norms: expected a dict of layer path to its values per epoch, got list"),
])
def test_gradient_norms_that_are_not_series_of_numbers_are_a_data_error_naming_them(tmp_path, grad_norms, message):
    # Such a History (built by hand) died with a TypeError, ValueError or AttributeError from
    # float() or len(), or had a str drawn as its characters.
    history = History(metrics=METRICS, grad_norms=grad_norms, epochs=2)
    with pytest.raises(cr.DataError, match=message):
        plot_gradient_flow(history, tmp_path / "flow.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("initial, message", [
    (None, r"got None \(NoneType\)"),
    ([1.0], r"got \[1.0\] \(list\)"),
    ("1", r"got '1' \(str\)"),
    pytest.param(10 ** 400, r"got 1000.* \(int\)", id="an int beyond float"),
])
def test_initial_norms_that_are_not_numbers_are_a_data_error_naming_them(tmp_path, initial, message):
    history = History(metrics=METRICS, initial_grad_norms={"0": 0.5, "2": initial}, epochs=2)
    with pytest.raises(cr.DataError, match=r"history.initial_grad_norms\['2'\]: expected a number .*" + message):
        plot_gradient_flow(history, tmp_path / "flow.png")
    with pytest.raises(cr.DataError, match=r"histories\['run'\].initial_grad_norms\['2'\]: expected a number"):
        compare_gradient_flow({"run": history}, tmp_path / "compare.png")
    assert list(tmp_path.iterdir()) == []


def test_gradient_norms_as_arrays_and_integers_are_drawn_as_floats(tmp_path, drawn):
    history = History(metrics=METRICS, grad_norms={"0": np.array([1.0, 2.0]), "2": (3, 4)},
                      initial_grad_norms={"0": np.float32(0.5), "2": 2}, epochs=2)
    plot_gradient_flow(history, tmp_path / "flow.png")
    per_epoch, profile = drawn[0].axes[:2]
    assert [list(line.get_ydata()) for line in per_epoch.get_lines()] == [[1.0, 2.0], [3.0, 4.0]]
    assert list(profile.get_lines()[0].get_ydata()) == [0.5, 2.0]


def paths_of_linear_layers(n_layers: int) -> list[str]:
    """The paths cr.fit records for an MLP of ``n_layers`` Linear layers: "0", "2", ..."""
    model = cr.mlp([4] + [3] * (n_layers - 1) + [2], "relu", seed=0)
    return [name.rpartition(".")[0] for name in model.params if name.endswith(".W")]


def deep_history(n_layers: int) -> History:
    """Two epochs of such an MLP, each layer's norm at initialization half the one before's."""
    paths = paths_of_linear_layers(n_layers)
    return History(metrics=METRICS, grad_norms={path: [1.0, 2.0] for path in paths},
                   initial_grad_norms={path: 2.0 ** -depth for depth, path in enumerate(paths)}, epochs=2)


@pytest.mark.parametrize("n_layers", [51, 60, 150, 500])
def test_paths_of_a_very_deep_network_on_the_depth_axis_do_not_overlap(tmp_path, drawn, n_layers):
    # Paths of three digits ("100"), 20 of them named, were set upright side by side and ran
    # into one another ("1001101201..."): only the length of a label decided its angle.
    history = deep_history(n_layers)
    plot_gradient_flow(history, tmp_path / "flow.png")
    compare_gradient_flow({"a": history, "b": history}, tmp_path / "compare.png")
    assert_tick_labels_do_not_overlap(drawn[0].axes[1])
    assert_tick_labels_do_not_overlap(drawn[1].axes[0])


def test_layer_paths_are_drawn_as_they_are_not_as_mathtext(tmp_path, drawn):
    # A path with a pair of '$' (a composite of one's own may name its children so) was read
    # as matplotlib's mathtext: "$b^$" stopped the figure with a raw ValueError.
    paths = ["$a$", "$b^$", "c"]
    history = History(metrics=METRICS, grad_norms={path: [1.0, 2.0] for path in paths},
                      initial_grad_norms=dict.fromkeys(paths, 1.0), epochs=2)
    plot_gradient_flow(history, tmp_path / "flow.png")
    per_epoch, profile = drawn[0].axes[:2]
    for texts in (per_epoch.get_legend().get_texts(), profile.get_xticklabels()):
        assert [text.get_text() for text in texts] == paths
        assert not any(text.get_parse_math() for text in texts)


def test_a_run_or_layer_named_with_a_leading_underscore_keeps_its_legend_entry(tmp_path, drawn):
    # Matplotlib leaves a label starting with "_" out of a legend: the run "_baseline" and the
    # layer "_inner.0" vanished from the legends.
    history = History(metrics=METRICS, grad_norms={"_inner.0": [1.0, 2.0], "1": [1.0, 3.0]},
                      initial_grad_norms={"_inner.0": 1.0, "1": 2.0}, epochs=2)
    plot_gradient_flow(history, tmp_path / "flow.png")
    compare_gradient_flow({"_baseline": history, "other": history}, tmp_path / "compare.png")
    assert [text.get_text() for text in drawn[0].axes[0].get_legend().get_texts()] == ["_inner.0", "1"]
    assert [text.get_text() for text in drawn[1].axes[0].get_legend().get_texts()] == [
        "_baseline: last / first = 2", "other: last / first = 2"]


@pytest.mark.parametrize("title", ["a $x^$ b", r"$\frac{$"])
def test_a_title_that_is_not_valid_mathtext_is_a_hyperparameter_error(tmp_path, title):
    # Matplotlib reads the text between a pair of '$' as math; a malformed one raised its raw
    # ValueError (a pyparsing trace) when the figure was rendered.
    history = History(metrics=METRICS, grad_norms={"0": [1.0, 2.0]}, initial_grad_norms={"0": 1.0}, epochs=2)
    with pytest.raises(cr.HyperparameterError, match=r"title: .* is not valid mathtext, .* write a literal \$ as \\\$"):
        plot_gradient_flow(history, tmp_path / "flow.png", title=title)
    with pytest.raises(cr.HyperparameterError, match=r"title: .* is not valid mathtext"):
        compare_gradient_flow({"run": history}, tmp_path / "compare.png", title=title)
    with pytest.raises(cr.DataError, match=r"histories: a run name: .* is not valid mathtext"):
        compare_gradient_flow({title: history}, tmp_path / "compare.png")
    assert list(tmp_path.iterdir()) == []


def test_a_title_with_valid_mathtext_or_an_escaped_dollar_is_drawn(tmp_path, drawn):
    history = History(metrics=METRICS, grad_norms={"0": [1.0, 2.0]}, epochs=2)
    plot_gradient_flow(history, tmp_path / "flow.png", title=r"$\sigma$ network, cost \$5")
    assert suptitle(drawn[0]) == r"$\sigma$ network, cost \$5"


def test_a_norm_past_what_a_log_axis_spans_is_marked_as_diverged(tmp_path, drawn):
    # matplotlib's log axis overflowed in its margin and fell back to limits near 1, leaving 1e300 off both panels
    # and unmarked.
    history = History(metrics={"loss": [1.0, 1.0]}, grad_norms={"0": [1e-3, 1e300], "2": [1.0, 2.0]},
                      initial_grad_norms={"0": 1e300, "2": 1e-3})
    plot_gradient_flow(history, tmp_path / "flow.png")
    per_epoch, profile = drawn[0].axes
    for axes, marked in ((per_epoch, [2]), (profile, [1])):
        crosses = [line for line in axes.get_lines() if line.get_label() == cr.plots.NON_FINITE_LABEL]
        assert [list(line.get_xdata()) for line in crosses] == [marked]
    bottom, top = per_epoch.get_ylim()
    assert bottom <= 1e-3 and 2.0 <= top < 1e10


def vanished_marks(axes) -> list:
    """The epochs (or depths) that the triangles on ``axes``'s bottom edge mark as 0 or below 2.2e-308."""
    marks = [line for line in axes.get_lines() if line.get_label() == VANISHED]
    if not marks:
        return []
    assert len(marks) == 1, "one set of triangles per panel"
    bottom_edge = axes.transAxes.transform((0, 0))[1]
    for x, y in zip(marks[0].get_xdata(), marks[0].get_ydata()):
        assert marks[0].get_transform().transform((x, y))[1] == pytest.approx(bottom_edge)
    return list(marks[0].get_xdata())


@pytest.mark.parametrize("tiny", [1e-310, 5e-324, 0.0])
def test_a_norm_of_0_or_below_the_smallest_normal_float_is_marked_as_vanished_on_the_bottom_edge(tmp_path, drawn,
                                                                                                   tiny):
    # 1e-310 was drawn on the bottom edge, the axis's lower limit (its margin below underflowed to 0), as if no lower
    # than the limit; a norm of 0 was a gap that nothing marked
    history = History(metrics={"loss": [1.0, 1.0, 1.0]}, grad_norms={"0": [tiny, 1e-3, tiny], "2": [1.0, 2.0, 1.5]},
                      initial_grad_norms={"0": tiny, "2": 1.0, "4": 1e-3})
    plot_gradient_flow(history, tmp_path / "flow.png")
    per_epoch, profile = drawn[0].axes
    assert vanished_marks(per_epoch) == [1, 3] and vanished_marks(profile) == [1]
    for axes in (per_epoch, profile):
        assert VANISHED in [text.get_text() for text in axes.get_legend().get_texts()]
        assert 1e-300 < axes.get_ylim()[0] < 1e-3  # not a limit at 1e-310: the lowest norm drawn, 1e-3, is above it
        assert axes.get_yscale() == "log" and not axes.texts
    line = next(line for line in per_epoch.get_lines() if line.get_label() == "0")
    assert np.isnan(line.get_ydata()[[0, 2]]).all() and line.get_ydata()[1] == 1e-3  # gaps at epochs 1 and 3
    assert cr.plots.VANISHED_LABEL == VANISHED


def ignore_matplotlibs_deprecations():
    """Inside warnings.catch_warnings(): no error for a deprecation warned inside matplotlib, not chainrule's (the
    mathtext of matplotlib 3.6 to 3.8 calls pyparsing's parseString, which pyparsing 3.3 deprecates)."""
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="matplotlib")


def test_the_legend_of_many_compared_runs_leaves_the_panel_its_height(tmp_path, drawn):
    # With 15 runs the legend's rows did not fit: matplotlib warned "constrained_layout not applied" and gave up.
    history = History(initial_grad_norms={"0": 1.0, "2": 2.0, "4": 3.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ignore_matplotlibs_deprecations()
        compare_gradient_flow({f"run {index}": history for index in range(40)}, tmp_path / "compare.png")
    figure = drawn[0]
    assert figure.axes[0].get_position().height * figure.get_figheight() > 2.0  # inches of panel above the legend


@pytest.mark.parametrize("first, last, ratio", [(1e-310, 10.0, "1e+311"), (5e-324, 1.0, "2.02e+323"),
                                                 (1e200, 1e-130, "1e-330"), (1e-300, 1e-300, "1")])
def test_a_ratio_past_the_float_range_is_written_out_and_drawn_without_warnings(tmp_path, drawn, first, last, ratio):
    # last / first overflowed to "inf" (which reads as a norm that is not finite) or underflowed to "0", and the
    # log axis's span, high / low of its limits, overflowed with a RuntimeWarning
    history = History(metrics={"loss": [1.0, 1.0]}, grad_norms={"0": [first, first], "2": [last, last]},
                      initial_grad_norms={"0": first, "2": last})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ignore_matplotlibs_deprecations()
        plot_gradient_flow(history, tmp_path / "flow.png")
        compare_gradient_flow({"run": history}, tmp_path / "compare.png")
    assert drawn[0].axes[1].get_title() == f"at initialization: last / first = {ratio}"
    assert drawn[1].axes[0].get_legend().get_texts()[0].get_text() == f"run: last / first = {ratio}"


@pytest.mark.parametrize("n_layers", [21, 30, 40, 302])
def test_a_deep_network_names_its_first_and_last_layer_on_the_depth_axis_and_in_the_legend(tmp_path, drawn, n_layers):
    # every few layers were named counting from the first, so the last, the output layer whose norm the title's
    # last / first ratio takes, was left unnamed (302 layers: the axis stopped at depth 289)
    history = deep_history(n_layers)
    plot_gradient_flow(history, tmp_path / "flow.png")
    per_epoch, profile = drawn[0].axes
    named = [label.get_text() for label in profile.xaxis.get_ticklabels()]
    legend = [text.get_text() for text in per_epoch.get_legend().get_texts()]
    assert named == legend and len(named) <= 20
    paths = list(history.initial_grad_norms)
    assert (named[0], named[-1]) == (paths[0], paths[-1])
    assert profile.get_xticks()[-1] == n_layers
    assert_tick_labels_do_not_overlap(profile)
