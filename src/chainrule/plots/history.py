"""The training history figure: loss and metric curves per epoch (:func:`plot_history`)."""

from __future__ import annotations

import math
import numbers
from pathlib import Path

from ..checks import flag, is_bool
from ..errors import DataError, HyperparameterError, quoted
from ..training.history import History
from .drawing import (GRID_STYLE, LEGEND_STYLE, LOG_LIMIT, _check_history, _check_title, _epochs, _figure,
                      _image_format, _integer_ticks, _last_epoch, _mark_non_finite, _marker, _non_finite_positions,
                      _partial_last_epoch, _positive, _save, _say_in_middle, _series_of_floats, _shade_partial_epoch,
                      _span_x, _text)

LOG_LOSS_DECADES = 2  # a loss spanning more powers of ten than this is drawn on a log axis (log_loss=None)
NOTHING_FINITE = "no finite values to show"
LINEAR_LIMIT = 1e300  # a linear panel with a larger magnitude is drawn divided by a power of ten (_linear_exponent)
METRIC_LABELS = {"loss": "loss", "accuracy": "accuracy", "r2": "R²", "mae": "mean absolute error"}
BEST_EPOCH_LABEL = "best epoch"  # legend entry of the dotted line at EarlyStopping's best epoch
RESTORED_BEST_EPOCH_LABEL = "best epoch (restored)"  # the same, when the model holds that epoch's weights
BEST_EPOCH_STYLE = {"linestyle": ":", "color": "0.3", "linewidth": 1.5}
LEGEND_COLUMNS = 2  # entries side by side in the legend below a panel: "part of an epoch (interrupted)" is long


def plot_history(history: History, path, *, title: str | None = None, log_loss: bool | None = None,
                 best_restored: bool = False) -> Path:
    """Write the loss and metric curves of a training run, per epoch, to an image file.

    One panel per quantity: the loss first, then the metrics the run recorded (accuracy
    for classification; R² and MAE for regression; a series of one's own, titled by its
    name as it is, "$" included), each with its training curve and,
    when the run had validation data, its validation curve. A curve shorter than the run
    is drawn at the run's last epochs (see the notes on epochs in :mod:`chainrule.plots`).

    The loss panel has a log y axis when its values (training and validation) span more
    than two powers of ten, as a loss falling from 2 to 0.001 does: on a linear axis
    everything after the first epochs would look flat. ``log_loss`` overrides that rule.

    A value that is NaN or infinite (a run that diverged) cannot be drawn on the axis:
    a red cross on the panel's top edge marks its epoch, with the legend entry "NaN/inf
    (diverged)", so the curve does not just end early. The finite values are drawn as
    usual and alone set the axis (and the log rule above). A panel whose values are all
    NaN or infinite shows the crosses and says "no finite values to show" in its middle.
    A linear panel whose finite values reach past 1e300 in magnitude (a float64 loss near
    its overflow), which matplotlib's axis cannot span, draws them divided by a power of
    ten that its y label names ("loss (× 1e308)").

    When ``history.partial_last_epoch`` is set (Ctrl-C stopped the last epoch before its last
    batch), a grey band over that epoch on every panel, with the legend entry "part of an epoch
    (interrupted)", says that its values come from the batches that ran.

    When ``history.best_epoch`` is set (an EarlyStopping ran), a dotted vertical line on
    every panel marks that epoch, with the legend entry "best epoch", or "best epoch
    (restored)" with ``best_restored``. The epoch axis has whole-number ticks from 1: epochs
    count from 1, so no tick 0 shows, however many epochs the run had. Each panel's legend lies
    below it, so that it never hides a curve (inside the panel it hid the first epochs).

    Parameters
    ----------
    history : History
        As returned by ``cr.fit`` or read back by ``History.from_json``. One built by hand may
        hold its series as lists, tuples or 1-D NumPy arrays of numbers.
    path : str or os.PathLike
        The file to create or replace; its suffix picks the format (``.png``, ``.pdf``,
        ``.svg``, ``.eps``, ``.jpg``, ``.jpeg``; PNG without a suffix).
    title : str, optional
        The figure's title (default "Training history").
        As matplotlib draws text: between a pair of ``$`` is mathtext (``"$\\sigma$ network"``),
        ``\\$`` a literal dollar sign.
    log_loss : bool or None, optional
        True: the loss on a log axis (a loss of 0 is then left out as a gap); False: on a
        linear axis; None (default): log when its positive values span more than two powers
        of ten and none is 0 or negative. A loss past 1e250, which matplotlib's log axis
        cannot span, is drawn on a linear axis whatever ``log_loss`` says.
    best_restored : bool, optional
        Whether the model holds the weights of ``history.best_epoch`` (an EarlyStopping with
        ``restore_best=True``, its default, put them back); the legend then says so.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DataError
        If ``history`` is not a History or holds no metrics, if a series of its metrics is
        not a list or 1-D array of numbers (a str, None or a bool is not one; the message
        names the series), if its ``epochs`` is not a whole number from 0 to 2**53 or None, its
        ``best_epoch`` not None or an epoch of the run, or its ``partial_last_epoch`` not a bool,
        or if ``path`` cannot be written (nothing is left behind then): the data plotted, and the file.
    HyperparameterError
        If ``title`` is not a str or None or holds mathtext that matplotlib cannot parse,
        ``log_loss`` is not True, False or None, ``best_restored`` is not a bool, or ``path`` is
        not a file name or has a suffix other than those above: an argument of the wrong value,
        the message naming it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from chainrule.plots import plot_history
    >>> from chainrule.training import History
    >>> history = History(metrics={"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
    >>> target = plot_history(history, pathlib.Path(tempfile.mkdtemp()) / "history.png")
    >>> target.read_bytes()[:4]
    b'\\x89PNG'
    """
    _check_history(history, "history")
    _check_title(title)
    if log_loss is not None:
        if not is_bool(log_loss):
            raise HyperparameterError(f"log_loss: expected True, False or None (log scale when the loss spans more "
                                      f"than {LOG_LOSS_DECADES} decades), got {quoted(log_loss)}")
        log_loss = bool(log_loss)  # a NumPy bool as Python's, which the rule tests with ``is False``
    flag(best_restored, "best_restored")
    image_format = _image_format(path)
    metrics = _series_of_floats(history.metrics, "history.metrics", "metric name")
    names = _metric_names(metrics)
    if not names:
        raise DataError(f"{path}: cannot plot the history, it holds no metrics (was any epoch completed?)")
    last_epoch = _last_epoch(history)
    _check_best_epoch(history.best_epoch, last_epoch)
    partial = _partial_last_epoch(history)
    first_epoch = last_epoch - max(len(values) for values in metrics.values()) + 1
    figure = _figure(1, len(names))
    for axes, name in zip(figure.subplots(1, len(names), squeeze=False)[0], names):
        series = [metrics.get(name), metrics.get("val_" + name)]
        log_scale = name == "loss" and _loss_on_log_axis(series, log_loss)
        exponent = None if log_scale else _linear_exponent(series)
        non_finite_epochs, any_finite = [], False
        for values, label, style in zip(series, ("training", "validation"), ("-", "--")):
            if values:
                # A loss of 0 cannot sit on a log axis: it is left out as a gap.
                shown = [_positive(value) for value in values] if log_scale else values
                if exponent is not None:
                    shown = [value / 10.0 ** exponent for value in values]
                epochs = _epochs(values, last_epoch)
                axes.plot(epochs, shown, style, label=label, marker=_marker(values))
                non_finite = _non_finite_positions(epochs, values)
                non_finite_epochs += non_finite
                any_finite = any_finite or len(non_finite) < len(values)
        if log_scale:
            axes.set_yscale("log")
        _mark_non_finite(axes, non_finite_epochs)
        _shade_partial_epoch(axes, partial, last_epoch)
        if history.best_epoch is not None:
            label = RESTORED_BEST_EPOCH_LABEL if best_restored else BEST_EPOCH_LABEL
            axes.axvline(history.best_epoch, label=label, **BEST_EPOCH_STYLE)
        if not any_finite:
            _say_in_middle(axes, NOTHING_FINITE)
        _span_x(axes, first_epoch, last_epoch)
        axes.set_xlabel("epoch")
        # a name is drawn as it is, never as mathtext: a series of one's own may be named "price_$5_to_$10"
        axes.set_ylabel(_text(METRIC_LABELS.get(name, name)) + ("" if exponent is None else f" (× 1e{exponent})"),
                        parse_math=False)
        axes.set_title(_text(METRIC_LABELS.get(name, name)), parse_math=False)
        _integer_ticks(axes.xaxis)
        axes.grid(**GRID_STYLE)
        # Below the panel, never over its curves: matplotlib's "best" place inside it, opaque, hid the first
        # epochs (the rise of the accuracy from epoch 1, where a curve changes most)
        entries = len(axes.get_legend_handles_labels()[1])
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=max(1, min(entries, LEGEND_COLUMNS)),
                    **LEGEND_STYLE)
    figure.suptitle(_text(title or "Training history"))
    return _save(figure, path, image_format)


def _loss_on_log_axis(series: list, log_loss: bool | None) -> bool:
    """Whether the loss panel gets a log y axis (see ``plot_history``'s ``log_loss``).

    ``series`` are the training and validation losses (None where absent). Values that are
    NaN or ±inf are ignored: they are marked on the panel's edge, not drawn on the axis.
    Without a positive, finite value there is nothing a log axis could show, so the axis
    stays linear; with one past LOG_LIMIT too: matplotlib's log axis overflows in its margin
    and ticks, and fell back to limits 1 to 10 that left the value off the panel.
    """
    values = [float(value) for values in series if values for value in values]
    finite = [value for value in values if math.isfinite(value)]
    positive = [value for value in finite if value > 0]
    if not positive or log_loss is False or max(positive) > LOG_LIMIT:
        return False
    if log_loss:
        return True
    if any(value <= 0 for value in finite):  # a loss of 0 would be a gap: left to an explicit log_loss=True
        return False
    return max(positive) / min(positive) > 10.0 ** LOG_LOSS_DECADES


def _linear_exponent(series: list) -> int | None:
    """The power of ten that the values of a linear panel are drawn divided by, and its y label names,
    when one is so large (over LINEAR_LIMIT, a diverged float64 loss near 1.8e308) that matplotlib's axis
    overflows (its margins and ticks pass the float range: a bare ValueError "arange: cannot compute
    length" when the figure was saved); None otherwise, the values drawn as they are."""
    finite = [abs(float(value)) for values in series if values for value in values if math.isfinite(float(value))]
    if not finite or max(finite) <= LINEAR_LIMIT:
        return None
    return math.floor(math.log10(max(finite)))


def _metric_names(metrics: dict) -> list[str]:
    """The quantities to plot, loss first: "val_accuracy" and "accuracy" are one quantity."""
    names = []
    for key, values in metrics.items():
        name = key.removeprefix("val_")
        if values and name not in names:
            names.append(name)
    return sorted(names, key=lambda name: name != "loss")  # stable: the rest keep their order


def _check_best_epoch(best_epoch, last_epoch: int) -> None:
    """DataError unless ``best_epoch`` (``History.best_epoch``) is None or an epoch 1..``last_epoch``."""
    if best_epoch is None:
        return
    integer = isinstance(best_epoch, numbers.Integral) and not isinstance(best_epoch, bool)  # NumPy's: argmin + 1
    if not integer or not 1 <= best_epoch <= last_epoch:
        raise DataError(f"history.best_epoch: expected None or an epoch of the run, 1 to {last_epoch}, "
                        f"got {best_epoch!r}")
