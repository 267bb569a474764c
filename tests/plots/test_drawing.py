"""chainrule.plots.drawing: what the figures share — the checks of their arguments, the epochs a
series is drawn at, the marks of non-finite values and the atomic save."""

import math
import re

import pytest

import chainrule as cr
from chainrule.plots import plot_history
from chainrule.plots.drawing import (NON_FINITE_LABEL, _check_history, _check_title, _epochs, _figure, _image_format,
                                     _last_epoch, _mark_non_finite, _non_finite_positions, _positive, _save)
from chainrule.training import History


@pytest.mark.parametrize("path, image_format", [
    ("plot.png", "png"), ("a/plot.PDF", "pdf"), ("plot.Svg", "svg"), ("plot.jpeg", "jpeg"), ("/dev/stdout", "png"),
])
def test_the_suffix_names_the_image_format(path, image_format):
    assert _image_format(path) == image_format


def test_an_unknown_suffix_or_a_path_that_is_no_name_is_refused():
    with pytest.raises(cr.HyperparameterError, match=r"^path: 'plot.gif': cannot tell the image format from the "
                                                      r"suffix '.gif'"):
        _image_format("plot.gif")
    # quoted, as paths in other messages: a newline in a name is shown as \n, and the message stays one line
    with pytest.raises(cr.HyperparameterError, match=r"^path: 'two\\nlines.gif': cannot tell") as raised:
        _image_format("two\nlines.gif")
    assert "\n" not in str(raised.value)
    with pytest.raises(cr.HyperparameterError, match="path: expected a file name .* got int"):
        _image_format(3)


@pytest.mark.parametrize("path, says", [
    ("", "an empty path ''"), (".", "'.', which names a directory"), ("out/", "'out/', which names a directory"),
])
def test_a_path_that_names_no_file_is_refused_as_an_argument_before_the_figure_is_drawn(path, says):
    # HyperparameterError, as check_path refuses it for cr.save (atomic_write raised it after the figure was drawn).
    with pytest.raises(cr.HyperparameterError, match=f"path: expected a file name, got {re.escape(says)}"):
        _image_format(path)
    with pytest.raises(cr.HyperparameterError, match=f"path: expected a file name, got {re.escape(says)}"):
        plot_history(History(metrics={"loss": [1.0]}), path)


def test_only_a_history_and_a_str_title_are_taken():
    _check_history(History(), "history")
    _check_title(None)
    _check_title("run 1")
    with pytest.raises(cr.DataError, match="histories\\['a'\\]: expected a chainrule History .* got dict"):
        _check_history({"loss": [1.0]}, "histories['a']")
    with pytest.raises(cr.HyperparameterError, match="title: expected a str or None .* got int"):
        _check_title(1)


def test_a_shorter_series_holds_the_runs_last_epochs():
    history = History(metrics={"loss": [1.0, 0.5, 0.2], "val_loss": [0.4]}, epochs=3)
    assert _last_epoch(history) == 3
    assert list(_epochs(history.metrics["val_loss"], 3)) == [3]
    assert list(_epochs(history.metrics["loss"], 3)) == [1, 2, 3]
    assert _last_epoch(History(metrics={"loss": [1.0, 0.5]}, grad_norms={"0": [1.0] * 4})) == 4  # no epoch count


def test_only_a_finite_positive_norm_is_drawn_on_a_log_axis():
    assert _positive(0.5) == 0.5
    assert all(math.isnan(_positive(value)) for value in (0.0, -1.0, math.inf, math.nan))


def test_non_finite_values_are_marked_at_their_positions_once():
    assert _non_finite_positions([1, 2, 3, 4], [0.5, math.nan, math.inf, -math.inf]) == [2, 3, 4]
    axes = _figure(1, 1).add_subplot()
    assert not _mark_non_finite(axes, [])
    assert axes.get_lines() == []
    assert _mark_non_finite(axes, [3, 2, 3])
    [line] = axes.get_lines()
    assert (list(line.get_xdata()), line.get_label()) == ([2, 3], NON_FINITE_LABEL)


def test_a_figure_is_saved_whole_in_the_format_asked(tmp_path):
    figure = _figure(1, 2)
    assert _save(figure, tmp_path / "plot", "pdf") == tmp_path / "plot"
    assert (tmp_path / "plot").read_bytes().startswith(b"%PDF")
    assert [path.name for path in tmp_path.iterdir()] == ["plot"]  # no temporary file left


def test_the_epoch_count_places_series_shorter_than_the_run():
    history = History(metrics={"loss": [1.0, 0.5]}, grad_norms={"0": [2.0, 1.0]}, epochs=5)
    assert _last_epoch(history) == 5
    assert list(_epochs(history.metrics["loss"], _last_epoch(history))) == [4, 5]
