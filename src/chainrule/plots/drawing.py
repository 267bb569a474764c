"""What the figures of :mod:`chainrule.plots` share: checks, the figure, the axes, saving.

Figures are drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas, never through
``pyplot``, so no global plotting state is touched and no display is needed. The suffix of
the path picks the format: ``.png``, ``.pdf``, ``.svg``, ``.eps``, ``.jpg`` or ``.jpeg``
(in any case), PNG when there is none (``/dev/stdout``); any other suffix is a
:class:`~chainrule.errors.HyperparameterError` naming ``path``. Each image is rendered in memory first and then
written atomically: the file is complete or absent.

Epochs: every curve is drawn against the epochs it was recorded at. :class:`History` keeps
one value per epoch but no epoch numbers, so a series shorter than the run holds the run's
last epochs: it is drawn ending at the run's last epoch, which is ``history.epochs`` or the
length of its longest series if that is more.

A value that is NaN or infinite cannot be drawn on an axis: it is a gap in its line, and a
red cross on the panel's top edge marks its epoch or depth. A last epoch that Ctrl-C cut short
(``history.partial_last_epoch``) is shaded grey on every panel drawn against epochs.
"""

from __future__ import annotations

import io
import math
import numbers
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from matplotlib import cbook
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.mathtext import MathTextParser
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from ..checks import is_bool
from ..errors import PATH_QUOTE_LIMIT, DataError, HyperparameterError, quoted
from ..io.atomic import atomic_write, check_path
from ..optimizers.saved_state import MAX_STEP_COUNT
from ..training.history import History

DPI = 100
PANEL_SIZE = (5.5, 4.0)  # inches per subplot
MARKER_MAX_EPOCHS = 30  # curves this short get a marker on every epoch, so one epoch still shows
SAVE_FORMATS = ("png", "pdf", "svg", "eps", "jpg", "jpeg")  # written by Figure + Agg without pyplot or LaTeX
NON_FINITE_LABEL = "NaN/inf (diverged)"  # legend entry of the red crosses marking non-finite values
# A value past this cannot sit on a log axis: from about 1e300, matplotlib's log axis overflows in its margin
# and falls back to limits that leave it off the panel (a loss is then drawn on a linear axis, a gradient norm
# as NaN and inf are).
LOG_LIMIT = 1e250
NON_FINITE_STYLE = {"linestyle": "none", "marker": "x", "color": "red", "markersize": 9, "markeredgewidth": 2}
# Opaque, as PostScript (.eps) has no transparency: a partly transparent artist is drawn opaque there, and
# matplotlib logs so on stderr for every figure. The grid's grey is matplotlib's (#b0b0b0) at alpha 0.3 on white.
GRID_STYLE = {"color": "0.9"}
LEGEND_STYLE = {"framealpha": 1.0}
PARTIAL_EPOCH_LABEL = "part of an epoch (interrupted)"  # legend entry of the shade over an epoch Ctrl-C cut short
PARTIAL_EPOCH_STYLE = {"color": "0.88", "zorder": 0, "linewidth": 0}


def _check_history(history, argument: str) -> None:
    """DataError naming ``argument`` unless it is a History (a dict of metrics is not)."""
    if not isinstance(history, History):
        raise DataError(f"{argument}: expected a chainrule History (as returned by cr.fit), got {type(history).__name__}")


def _partial_last_epoch(history) -> bool:
    """``history.partial_last_epoch`` as a bool; DataError naming it unless it is one (a History built by hand)."""
    if not is_bool(history.partial_last_epoch):
        raise DataError(f"history.partial_last_epoch: expected True or False, got {quoted(history.partial_last_epoch)}")
    return bool(history.partial_last_epoch)


def _check_title(title) -> None:
    """HyperparameterError unless ``title`` is a str that matplotlib can draw, or None (a figure's default title)."""
    if title is not None and not isinstance(title, str):
        raise HyperparameterError(f"title: expected a str or None (the default title), got {type(title).__name__}")
    if title is not None:
        _check_mathtext(title, "title", HyperparameterError)


def _check_mathtext(text: str, where: str, error: type) -> None:
    """``error`` naming ``where`` if ``text`` holds a pair of '$' whose math matplotlib cannot parse.

    Matplotlib draws the text between a pair of unescaped '$' as math (``$\\sigma$``) and raises
    a bare ValueError only when the figure is rendered; this parses it first, as it will.
    """
    if not cbook.is_math_text(text):
        return
    try:
        MathTextParser("path").parse(text)
    except ValueError as cause:
        reason = (str(cause).strip().splitlines() or ["no reason given"])[-1]  # its last line says what
        raise error(f"{where}: {quoted(text)} is not valid mathtext, which matplotlib reads between a pair of '$' "
                    f"({reason:.100}); write a literal $ as \\$") from None


def _text(value) -> str:
    """``value`` as the text to draw, each lone surrogate as its escape ("\\udcff").

    ``os.fsdecode`` makes one of a byte that is not UTF-8 in a file or folder name, and no font
    draws it: matplotlib raised a bare TypeError when the figure was saved. A title, a metric's
    name, a layer's path and a run's name are all drawn through this, as the command line's
    messages show such a character (``chainrule.cli.streams.printable``).
    """
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def _image_format(path) -> str:
    """The format named by the suffix of ``path`` (one of SAVE_FORMATS), PNG without a suffix; HyperparameterError
    naming ``path`` otherwise, and for a path that names no file ('', '.', 'out/', one with a NUL byte): an argument
    of the wrong value, as :func:`~chainrule.io.atomic.check_path` refuses it for ``cr.save``. A path that is fine
    but cannot be written is a DataError (see :func:`_save`)."""
    suffixes = ", ".join("." + name for name in SAVE_FORMATS)
    if not isinstance(path, (str, os.PathLike)):
        raise HyperparameterError(f"path: expected a file name (str or os.PathLike) ending in one of {suffixes}, "
                                  f"got {type(path).__name__}")
    check_path(path, "path")  # '', '.' or 'out/' name no file: refused before the figure is drawn
    suffix = Path(path).suffix.lower().removeprefix(".")
    if not suffix:
        return "png"  # a name without a suffix, such as /dev/stdout, gets the default format
    if suffix not in SAVE_FORMATS:
        raise HyperparameterError(f"path: {quoted(os.fspath(path), PATH_QUOTE_LIMIT)}: cannot tell the image format "
                                  f"from the suffix {quoted(Path(path).suffix)}; expected one of {suffixes}, or none "
                                  f"for PNG")
    return suffix


def _series_of_floats(series, where: str, key: str) -> dict[str, list[float]]:
    """``series`` (``history.metrics`` or ``history.grad_norms``, named ``where`` in messages)
    with each series a list of floats; DataError naming the series unless it is a dict of
    ``key`` (a str) to a list, tuple or 1-D NumPy array of real numbers (a History built by
    hand may hold an array: it is converted; a str, None or a bool is not a number)."""
    if not isinstance(series, Mapping):
        raise DataError(f"{where}: expected a dict of {key} to its values per epoch, got {type(series).__name__}")
    converted = {}
    for name, values in series.items():
        named = f"{where}[{quoted(name)}]"
        if not isinstance(name, str):
            raise DataError(f"{named}: expected a {key} (a str), got {type(name).__name__}")
        if not isinstance(values, (list, tuple)) and not (isinstance(values, np.ndarray) and values.ndim == 1):
            shape = f" of shape {values.shape}" if isinstance(values, np.ndarray) else ""
            raise DataError(f"{named}: expected a list or 1-D array of numbers (one per epoch), "
                            f"got {type(values).__name__}{shape}")
        for position, value in enumerate(values, 1):
            if not _is_real(value):
                raise DataError(f"{named}: expected numbers (one per epoch; NaN or inf for a diverged one), "
                                f"got {quoted(value)} ({type(value).__name__}) as value {position} of {len(values)}")
        converted[name] = [float(value) for value in values]
    return converted


def _floats(numbers_by_name, where: str, key: str) -> dict[str, float]:
    """``numbers_by_name`` (``history.initial_grad_norms``, named ``where``) as floats; DataError
    naming the entry unless it is a dict of ``key`` (a str) to a real number."""
    if not isinstance(numbers_by_name, Mapping):
        raise DataError(f"{where}: expected a dict of {key} to a number, got {type(numbers_by_name).__name__}")
    for name, value in numbers_by_name.items():
        named = f"{where}[{quoted(name)}]"
        if not isinstance(name, str):
            raise DataError(f"{named}: expected a {key} (a str), got {type(name).__name__}")
        if not _is_real(value):
            raise DataError(f"{named}: expected a number (NaN or inf for a diverged one), "
                            f"got {quoted(value)} ({type(value).__name__})")
    return {name: float(value) for name, value in numbers_by_name.items()}


def _is_real(value) -> bool:
    """Whether ``value`` is a real number a float holds: not a bool, nor an int like 10**400."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


def _figure(rows: int, columns: int) -> Figure:
    """A figure of rows × columns panels on its own Agg canvas (no pyplot)."""
    figure = Figure(figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _last_epoch(history) -> int:
    """The run's last epoch: ``history.epochs``, or its longest series if that is longer."""
    series = [*history.metrics.values(), *history.grad_norms.values()]
    return max([_epoch_count(history), *(len(values) for values in series)])


def _epoch_count(history) -> int:
    """``history.epochs`` as an int, 0 for None; DataError naming it unless it is a whole number from 0 to
    MAX_STEP_COUNT (as History.from_json reads it), or None. A History built by hand may hold anything there:
    '5', 2.7 or True would be taken for a count by ``int``, and 'abc' or NaN raise a bare ValueError."""
    epochs = history.epochs
    if epochs is None:
        return 0
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or not 0 <= epochs <= MAX_STEP_COUNT:
        raise DataError(f"history.epochs: expected a whole number of epochs from 0 to {MAX_STEP_COUNT}, or None, "
                        f"got {quoted(epochs)} ({type(epochs).__name__})")
    return int(epochs)


def _epochs(values, last_epoch: int) -> range:
    """The epochs a series was recorded at: its values are those of the run's last epochs."""
    return range(last_epoch - len(values) + 1, last_epoch + 1)


def _marker(values) -> str | None:
    """A dot on every point of a short curve (a one-epoch curve has no line to show)."""
    return "o" if len(values) <= MARKER_MAX_EPOCHS else None


def _positive(value: float) -> float:
    """A norm for a log axis: 0 or non-finite becomes NaN, a gap instead of an error."""
    value = float(value)
    return value if value > 0 and math.isfinite(value) else math.nan


def _span_x(axes, first: float, last: float) -> None:
    """Show ``first`` to ``last`` on the x axis, even where the points there are gaps.

    Matplotlib fits the axis to the drawn points only, so an epoch or a layer whose norm
    is 0 would otherwise fall off the edge, and a panel of gaps only would show 0 to 1.
    The axis never starts below 0.5: epochs and depths count from 1, and a margin reaching
    past 0 would show a tick "0" (a long run's 5 % margin does).
    """
    margin = max(0.05 * (last - first), 0.5)
    axes.set_xlim(max(first - margin, 0.5), last + margin)


def _integer_ticks(axis) -> None:
    """Whole-number ticks only (epochs, depths), even when the axis spans a single value."""
    axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def _non_finite_positions(positions, values, limit: float = math.inf) -> list:
    """The ``positions`` (epochs, depths) whose value in ``values`` is NaN or ±inf, or past ``limit``
    (a log axis's :data:`LOG_LIMIT`)."""
    return [position for position, value in zip(positions, values)
            if not math.isfinite(float(value)) or float(value) > limit]


def _mark_non_finite(axes, positions: list) -> bool:
    """A red cross on the panel's top edge at each of ``positions`` (see :func:`_mark_edge`); whether
    there was any. Matplotlib leaves a NaN or infinite point out of a line without a trace, so a run
    that diverged would show a curve that just ends early."""
    return _mark_edge(axes, positions, 1.0, NON_FINITE_LABEL, NON_FINITE_STYLE)


def _mark_edge(axes, positions: list, edge: float, label: str, style: dict) -> bool:
    """Marks in ``style``, labelled ``label`` for the legend, at each of ``positions`` (once each: training
    and validation may both be NaN at one epoch, several layers vanish at one) on the panel's bottom
    (``edge`` 0) or top (1) edge; whether there was any. x is in data coordinates, y in axes coordinates
    (whatever the scale), so that they add nothing to the y range of the data; unclipped, a whole mark shows."""
    if not positions:
        return False
    marked = sorted(set(positions))
    on_edge = blended_transform_factory(axes.transData, axes.transAxes)
    axes.plot(marked, [edge] * len(marked), transform=on_edge, clip_on=False, label=label, **style)
    return True


def _legend(axes, handles: list, labels: list[str], **options):
    """``axes.legend(handles, labels, **options)``, keeping a label that starts with "_" (a run or layer named so).

    Matplotlib leaves such a label out of a legend (its mark of an artist kept out of it), up to 3.9 even when the
    labels are given, as here: those are given with a space before them, and their texts set afterwards.
    """
    legend = axes.legend(handles, [" " + label if label.startswith("_") else label for label in labels], **options)
    for text, label in zip(legend.get_texts(), labels):
        text.set_text(label)
    return legend


def _shade_partial_epoch(axes, partial: bool, last_epoch: int) -> None:
    """A grey band over ``last_epoch`` when ``partial`` (Ctrl-C cut it short), labelled for the legend.

    Its values come from the batches that ran, not the whole epoch, and often stand apart from
    the curve (a loss on a few batches); the band says so where they are drawn. It lies behind the
    curves and adds nothing to the y range.
    """
    if partial:
        axes.axvspan(last_epoch - 0.5, last_epoch + 0.5, label=PARTIAL_EPOCH_LABEL, **PARTIAL_EPOCH_STYLE)


def _say_in_middle(axes, note: str) -> None:
    """``note`` in the middle of a panel with no value to draw, whose y ticks would mean nothing."""
    axes.text(0.5, 0.5, note, transform=axes.transAxes, ha="center", va="center")
    axes.set_yticks([])


def _save(figure: Figure, path, image_format: str) -> Path:
    """Render to bytes in ``image_format`` in memory, then write them atomically (complete file or none); DataError
    naming ``path`` where it cannot be written (the file, as a data file that cannot be read is one)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image_format)
    atomic_write(path, buffer.getvalue(), error=DataError)
    return Path(path)
