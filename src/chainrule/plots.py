"""Pictures of a training run: learning curves, and the gradient flowing back through depth.

Three functions, each writing one image from a :class:`~chainrule.training.history.History`:

- :func:`plot_history`: loss and metric curves (training and validation) per epoch, the
  loss on a log scale when it spans more than two powers of ten;
- :func:`plot_gradient_flow`: the norm ‖∂L/∂W‖ of every layer per epoch on a log scale,
  and its profile over depth at initialization; given the model, each layer is named by
  its path and type ("0 Linear");
- :func:`compare_gradient_flow`: the initialization profiles of several runs on one axis.

The profile is where the lecture notes' "gradient getting progressively more diluted"
becomes visible: in a deep sigmoid network the first layer's gradient is orders of
magnitude below the last layer's; with ReLU and He initialization it is not.

Figures are drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas, never through
``pyplot``, so no global plotting state is touched and no display is needed. The suffix of
the path picks the format: ``.png``, ``.pdf``, ``.svg``, ``.eps``, ``.jpg`` or ``.jpeg``
(in any case), PNG when there is none (``/dev/stdout``); any other suffix is a
:class:`~chainrule.errors.DataError`. Each
image is rendered in memory first and then written atomically: the file is complete or absent.

Epochs: every curve is drawn against the epochs it was recorded at. :class:`History` keeps
one value per epoch but no epoch numbers, so a series shorter than the run (validation
added when resuming a checkpoint older than ``fit``'s validation check; a resumed run now
refuses a changed validation set) holds the run's last epochs: it is drawn ending at the run's
last epoch, which is ``history.epochs`` or the length of its longest series if that is more.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from .errors import DataError, HyperparameterError
from .io.atomic import atomic_write
from .layers import Layer
from .training.history import History

DPI = 100
PANEL_SIZE = (5.5, 4.0)  # inches per subplot
MIN_DECADES = 2  # a log axis spans at least this many powers of ten, so a flat profile looks flat
LOG_LOSS_DECADES = 2  # a loss spanning more powers of ten than this is drawn on a log axis (log_loss=None)
MARKER_MAX_EPOCHS = 30  # curves this short get a marker on every epoch, so one epoch still shows
MAX_NAMED_TICKS = 20  # at most this many named layers (depth ticks, legend entries): deeper networks name every few
MAX_UPRIGHT_LABEL = 4  # depth tick labels longer than this many characters are slanted
MAX_SLANTED_TICKS = 10  # more long depth tick labels than this are set vertically, as slanted ones would overlap
SAVE_FORMATS = ("png", "pdf", "svg", "eps", "jpg", "jpeg")  # written by Figure + Agg without pyplot or LaTeX
NOTHING_POSITIVE = "no positive gradient norms to show"
NOTHING_FINITE = "no finite values to show"
NON_FINITE_LABEL = "NaN/inf (diverged)"  # legend entry of the red crosses marking non-finite values
NON_FINITE_STYLE = {"linestyle": "none", "marker": "x", "color": "red", "markersize": 9, "markeredgewidth": 2}
METRIC_LABELS = {"loss": "loss", "accuracy": "accuracy", "r2": "R²", "mae": "mean absolute error"}
BEST_EPOCH_LABEL = "best epoch"  # legend entry of the dotted line at EarlyStopping's best epoch
RESTORED_BEST_EPOCH_LABEL = "best epoch (restored)"  # the same, when the model holds that epoch's weights
BEST_EPOCH_STYLE = {"linestyle": ":", "color": "0.3", "linewidth": 1.5}


def plot_history(history: History, path, *, title: str | None = None, log_loss: bool | None = None,
                 best_restored: bool = False) -> Path:
    """Write the loss and metric curves of a training run, per epoch, to an image file.

    One panel per quantity: the loss first, then the metrics the run recorded (accuracy
    for classification; R² and MAE for regression), each with its training curve and,
    when the run had validation data, its validation curve. A curve shorter than the run
    is drawn at the run's last epochs (see the module's notes on epochs).

    The loss panel has a log y axis when its values (training and validation) span more
    than two powers of ten, as a loss falling from 2 to 0.001 does: on a linear axis
    everything after the first epochs would look flat. ``log_loss`` overrides that rule.

    A value that is NaN or infinite (a run that diverged) cannot be drawn on the axis:
    a red cross on the panel's top edge marks its epoch, with the legend entry "NaN/inf
    (diverged)", so the curve does not just end early. The finite values are drawn as
    usual and alone set the axis (and the log rule above). A panel whose values are all
    NaN or infinite shows the crosses and says "no finite values to show" in its middle.

    When ``history.best_epoch`` is set (an EarlyStopping ran), a dotted vertical line on
    every panel marks that epoch, with the legend entry "best epoch", or "best epoch
    (restored)" with ``best_restored``. The epoch axis has whole-number ticks from 1: epochs
    count from 1, so no tick 0 shows, however many epochs the run had.

    Parameters
    ----------
    history : History
        As returned by ``cr.fit``.
    path : str or os.PathLike
        The file to create or replace; its suffix picks the format (``.png``, ``.pdf``,
        ``.svg``, ``.eps``, ``.jpg``, ``.jpeg``; PNG without a suffix).
    title : str, optional
        The figure's title (default "Training history").
    log_loss : bool or None, optional
        True: the loss on a log axis (a loss of 0 is then left out as a gap); False: on a
        linear axis; None (default): log when its positive values span more than two powers
        of ten and none is 0 or negative.
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
        If ``history`` is not a History or holds no metrics, if its ``best_epoch`` is not
        None or an epoch of the run, if ``log_loss`` is not True, False or None, if ``path``
        is not a file name or has a suffix other than those above, or if it cannot be
        written (nothing is left behind then).
    HyperparameterError
        If ``title`` is not a str or None, or ``best_restored`` not a bool.

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
    if log_loss is not None and not isinstance(log_loss, bool):
        raise DataError(f"log_loss: expected True, False or None (log scale when the loss spans more than "
                        f"{LOG_LOSS_DECADES} decades), got {log_loss!r}")
    if not isinstance(best_restored, bool):
        raise HyperparameterError(f"best_restored: expected True or False, got {best_restored!r}")
    image_format = _image_format(path)
    names = _metric_names(history.metrics)
    if not names:
        raise DataError(f"{path}: cannot plot the history, it holds no metrics (was any epoch completed?)")
    last_epoch = _last_epoch(history)
    _check_best_epoch(history.best_epoch, last_epoch)
    first_epoch = last_epoch - max(len(values) for values in history.metrics.values()) + 1
    figure = _figure(1, len(names))
    for axes, name in zip(figure.subplots(1, len(names), squeeze=False)[0], names):
        series = [history.metrics.get(name), history.metrics.get("val_" + name)]
        log_scale = name == "loss" and _loss_on_log_axis(series, log_loss)
        non_finite_epochs, any_finite = [], False
        for values, label, style in zip(series, ("training", "validation"), ("-", "--")):
            if values:
                # A loss of 0 cannot sit on a log axis: it is left out as a gap.
                shown = [_positive(value) for value in values] if log_scale else values
                epochs = _epochs(values, last_epoch)
                axes.plot(epochs, shown, style, label=label, marker=_marker(values))
                non_finite = _non_finite_positions(epochs, values)
                non_finite_epochs += non_finite
                any_finite = any_finite or len(non_finite) < len(values)
        if log_scale:
            axes.set_yscale("log")
        _mark_non_finite(axes, non_finite_epochs)
        if history.best_epoch is not None:
            label = RESTORED_BEST_EPOCH_LABEL if best_restored else BEST_EPOCH_LABEL
            axes.axvline(history.best_epoch, label=label, **BEST_EPOCH_STYLE)
        if not any_finite:
            _say_in_middle(axes, NOTHING_FINITE)
        _span_x(axes, first_epoch, last_epoch)
        axes.set_xlabel("epoch")
        axes.set_ylabel(METRIC_LABELS.get(name, name))
        axes.set_title(METRIC_LABELS.get(name, name))
        _integer_ticks(axes.xaxis)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle(title or "Training history")
    return _save(figure, path, image_format)


def plot_gradient_flow(history: History, path, *, title: str | None = None, model: Layer | None = None) -> Path:
    """Write the per-layer gradient norms ‖∂L/∂W‖ of a training run to an image file.

    The left panel shows each layer's norm per epoch on a log scale, one line per layer,
    coloured from the first layer (dark) to the last (light). When the history holds the
    norms at initialization, a right panel shows them against depth: a line falling
    steeply towards the first layer is the gradient "getting progressively more diluted"
    on its way back through the network (lecture notes). With more than 20 layers, the
    depth axis and the left panel's legend name every few layers (the same ones), so that
    neither crowds the figure; the colours still run from the first layer to the last.
    Given the ``model``, the legend and the depth axis also name each layer's type
    ("0 Linear", "2 Linear"); without it they show the paths alone.

    A norm that is 0 or not finite cannot sit on a log axis; the two are told apart. A
    norm of 0 (a layer that gets no gradient) is left out as a gap in its line. A norm
    that is NaN or infinite (the gradient blew up) is a gap too, and a red cross on the
    panel's top edge marks its epoch (or, in the right panel, its depth), with the legend
    entry "NaN/inf (diverged)". A panel with no positive, finite norm at all says so in
    its middle ("no positive gradient norms to show") instead of raising.

    Parameters
    ----------
    history : History
        As returned by ``cr.fit``; layers are taken in the order it lists them, which is
        the order of the model (first to last).
    path : str or os.PathLike
        The file to create or replace; its suffix picks the format (``.png``, ``.pdf``,
        ``.svg``, ``.eps``, ``.jpg``, ``.jpeg``; PNG without a suffix).
    title : str, optional
        The figure's title (default "Gradient flow").
    model : Layer, optional
        The model the history was recorded from, to name each layer's type.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DataError
        If ``history`` is not a History or holds no gradient norms, if ``model`` is not a
        Layer or lacks a layer the history records, if ``path`` is not a file name or has a
        suffix other than those above, or if it cannot be written (nothing is left behind then).
    """
    _check_history(history, "history")
    _check_title(title)
    names = _layer_names(history, model)
    image_format = _image_format(path)
    if not history.grad_norms and not history.initial_grad_norms:
        raise DataError(f"{path}: cannot plot the gradient flow, the history holds no gradient norms")
    panels = int(bool(history.grad_norms)) + int(bool(history.initial_grad_norms))
    figure = _figure(1, panels)
    axes = iter(figure.subplots(1, panels, squeeze=False)[0])
    if history.grad_norms:
        _draw_norms_per_epoch(next(axes), history.grad_norms, _last_epoch(history), names)
    if history.initial_grad_norms:
        profile = next(axes)
        _draw_profile(profile, history.initial_grad_norms, label=None, color="tab:blue")
        _label_depth_axis(profile, [[names[layer] for layer in history.initial_grad_norms]])
        _log_y(profile, history.initial_grad_norms.values())
        depths = range(1, len(history.initial_grad_norms) + 1)
        if _mark_non_finite(profile, _non_finite_positions(depths, history.initial_grad_norms.values())):
            profile.legend()
        profile.set_title("at initialization: " + _ratio_text(history.initial_grad_norms))
    figure.suptitle(title or "Gradient flow")
    return _save(figure, path, image_format)


def compare_gradient_flow(histories: dict[str, History], path, *, title: str | None = None) -> Path:
    """Write the initialization profiles of several runs on one log-scale axis to an image file.

    Each run is one line: ‖∂L/∂W‖ of its layers at initialization against their depth,
    labelled with its name and the ratio of its last layer's norm to its first layer's.
    When every run has the same layers, the depth axis names them by path (every few
    layers beyond 20); otherwise it numbers them, 1 being each run's first layer with
    weights. Norms that are 0 or not finite are gaps, unmarked here (the legend's ratio
    says "a gradient norm is not finite" when the first or last layer's is).

    Parameters
    ----------
    histories : dict of str to History
        Run name (e.g. "sigmoid, 10 layers") -> its history.
    path : str or os.PathLike
        The file to create or replace; its suffix picks the format (``.png``, ``.pdf``,
        ``.svg``, ``.eps``, ``.jpg``, ``.jpeg``; PNG without a suffix).
    title : str, optional
        The figure's title (default "Gradient norm through depth at initialization").

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DataError
        If ``histories`` is not a dict of History, is empty, or a run has no norms at
        initialization (the message names it), if ``path`` is not a file name or has a
        suffix other than those above, or if it cannot be written (nothing is left behind then).
    """
    if not isinstance(histories, dict):
        raise DataError(f"histories: expected a dict of run name -> History, got {type(histories).__name__}")
    _check_title(title)
    for name, history in histories.items():
        _check_history(history, f"histories[{name!r}]")
    image_format = _image_format(path)
    if not histories:
        raise DataError(f"{path}: cannot compare gradient flow, no histories were given")
    for name, history in histories.items():
        if not history.initial_grad_norms:
            raise DataError(f"{path}: cannot compare gradient flow, run {name!r} has no gradient norms at initialization")
    figure = _figure(1, 1)
    axes = figure.subplots()
    colors = colormaps["tab10"]
    all_norms = []
    for index, (name, history) in enumerate(histories.items()):
        norms = history.initial_grad_norms
        _draw_profile(axes, norms, label=f"{name}: {_ratio_text(norms)}", color=colors(index % 10))
        all_norms.extend(norms.values())
    _label_depth_axis(axes, [list(history.initial_grad_norms) for history in histories.values()])
    _log_y(axes, all_norms)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15))  # below the axes, never over the lines
    figure.suptitle(title or "Gradient norm through depth at initialization")
    return _save(figure, path, image_format)


def _loss_on_log_axis(series: list, log_loss: bool | None) -> bool:
    """Whether the loss panel gets a log y axis (see ``plot_history``'s ``log_loss``).

    ``series`` are the training and validation losses (None where absent). Values that are
    NaN or ±inf are ignored: they are marked on the panel's edge, not drawn on the axis.
    Without a positive, finite value there is nothing a log axis could show, so the axis
    stays linear.
    """
    values = [float(value) for values in series if values for value in values]
    finite = [value for value in values if math.isfinite(value)]
    positive = [value for value in finite if value > 0]
    if not positive or log_loss is False:
        return False
    if log_loss:
        return True
    if any(value <= 0 for value in finite):  # a loss of 0 would be a gap: left to an explicit log_loss=True
        return False
    return max(positive) / min(positive) > 10.0 ** LOG_LOSS_DECADES


def _metric_names(metrics: dict) -> list[str]:
    """The quantities to plot, loss first: "val_accuracy" and "accuracy" are one quantity."""
    names = []
    for key, values in metrics.items():
        name = key.removeprefix("val_")
        if values and name not in names:
            names.append(name)
    return sorted(names, key=lambda name: name != "loss")  # stable: the rest keep their order


def _layer_names(history: History, model) -> dict:
    """Layer path -> how the gradient-flow figure names it: "0 Linear" with a model, "0" without.

    The paths are those the history records ("model" for a lone layer, as ``cr.fit`` names it).
    """
    paths = [*history.grad_norms, *history.initial_grad_norms]
    if model is None:
        return {path: path for path in paths}
    if not isinstance(model, Layer):
        raise DataError(f"model: expected the chainrule Layer the history was recorded from, "
                        f"got {type(model).__name__}")
    types = {prefix.removesuffix(".") or "model": type(layer).__name__ for prefix, layer in model.walk()}
    missing = [path for path in paths if path not in types]
    if missing:
        raise DataError(f"model: has no layer {missing[0]!r}, which the history records; "
                        f"pass the model the history was recorded from")
    return {path: f"{path} {types[path]}" for path in paths}


def _draw_norms_per_epoch(axes, grad_norms: dict, last_epoch: int, names: dict) -> None:
    """One line per layer, first to last along a sequential colormap, ending at ``last_epoch``.

    ``names`` maps each layer's path to its label in the legend. Beyond MAX_NAMED_TICKS
    layers the legend names the layers the depth axis names (every few), so that a legend
    of long names ("12.f.0 Linear") does not squeeze the panels.
    """
    layers = list(grad_norms)
    colors = _depth_colors(len(layers))
    step = _naming_step(len(layers))
    non_finite_epochs = []
    for index, (layer, color) in enumerate(zip(layers, colors)):
        epochs = _epochs(grad_norms[layer], last_epoch)
        values = [_positive(value) for value in grad_norms[layer]]
        label = names[layer] if index % step == 0 else "_nolegend_"  # matplotlib leaves "_..." labels out
        axes.plot(epochs, values, color=color, label=label, marker=_marker(values))
        non_finite_epochs += _non_finite_positions(epochs, grad_norms[layer])
    longest = max(len(values) for values in grad_norms.values())
    _span_x(axes, last_epoch - longest + 1, last_epoch)
    _log_y(axes, [value for values in grad_norms.values() for value in values])
    _mark_non_finite(axes, non_finite_epochs)
    axes.set_xlabel("epoch")
    axes.set_ylabel("‖∂L/∂W‖ (mean over sampled batches)")
    axes.set_title("per layer, during training")
    _integer_ticks(axes.xaxis)
    axes.grid(alpha=0.3, which="both")
    n_named = math.ceil(len(layers) / step)
    axes.legend(title="layer", fontsize="small", ncol=max(1, math.ceil(n_named / 12)),
                loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the lines, never over them


def _draw_profile(axes, norms: dict, *, label: str | None, color) -> None:
    """‖∂L/∂W‖ against depth (1 = first layer with weights).

    The caller labels the depth axis and sets the log scale once every run is drawn
    (see :func:`_label_depth_axis` and :func:`_log_y`).
    """
    layers = list(norms)
    depth = range(1, len(layers) + 1)
    axes.plot(depth, [_positive(norms[layer]) for layer in layers], marker="o", color=color, label=label)
    axes.set_ylabel("‖∂L/∂W‖ at initialization")
    axes.grid(alpha=0.3, which="both")


def _label_depth_axis(axes, layer_lists: list[list[str]]) -> None:
    """Name the depth ticks by layer when every run has the same layers, else number them.

    The names in ``layer_lists`` (paths, or paths and types) match the per-epoch panel's
    legend; beyond MAX_NAMED_TICKS layers only every few are named, so the labels stay
    readable. Runs of different layers share no path at a given depth, so they get numbers
    (1 = each run's first layer with weights).
    """
    deepest = max(len(layers) for layers in layer_lists)
    _span_x(axes, 1, deepest)
    depths = range(1, deepest + 1, _naming_step(deepest))
    layers = layer_lists[0]
    if all(other == layers for other in layer_lists):
        labels = [layers[depth - 1] for depth in depths]
        axes.set_xticks(list(depths), labels, **_tick_label_angle(labels))
        axes.set_xlabel("layer with weights, first → last")
    else:
        axes.set_xticks(list(depths))
        axes.set_xlabel("layer with weights (1 = first of each run)")


def _naming_step(n_layers: int) -> int:
    """Name every this many layers, so that at most MAX_NAMED_TICKS of ``n_layers`` are named."""
    return math.ceil(n_layers / MAX_NAMED_TICKS)


def _tick_label_angle(labels: list[str]) -> dict:
    """Text options for depth tick ``labels`` that do not overlap one another.

    Short paths ("0", "2") fit side by side. Longer names ("10 Linear") are slanted, which
    leaves each about half the tick spacing across; past MAX_SLANTED_TICKS of them that is
    less than a line of text, so they are set vertically, a whole tick spacing apart.
    """
    if max(map(len, labels)) <= MAX_UPRIGHT_LABEL:
        return {}
    if len(labels) <= MAX_SLANTED_TICKS:
        return {"rotation": 30, "ha": "right"}
    return {"rotation": 90, "ha": "center"}


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


def _log_y(axes, values) -> None:
    """A log y axis of at least MIN_DECADES: a ±20 % wobble must not fill the panel.

    ``values`` are those drawn. If none is positive and finite, a log axis has nothing to
    span (matplotlib would raise), so the panel keeps a plain axis and says so instead.
    """
    if not any(not math.isnan(_positive(value)) for value in values):
        _say_in_middle(axes, NOTHING_POSITIVE)
        return
    axes.set_yscale("log")
    low, high = axes.get_ylim()
    if 0 < low < high < math.inf and high / low < 10.0 ** MIN_DECADES:
        centre, half = math.sqrt(low * high), 10.0 ** (MIN_DECADES / 2)
        axes.set_ylim(centre / half, centre * half)


def _non_finite_positions(positions, values) -> list:
    """The ``positions`` (epochs, depths) whose value in ``values`` is NaN or ±inf."""
    return [position for position, value in zip(positions, values) if not math.isfinite(float(value))]


def _mark_non_finite(axes, positions: list) -> bool:
    """A red cross on the panel's top edge at each of ``positions``; whether there was any.

    Matplotlib leaves a NaN or infinite point out of a line without a trace, so a run that
    diverged would show a curve that just ends early. The crosses sit at x in data
    coordinates and y in axes coordinates (1 = the top edge, whatever the scale), drawn
    unclipped so that a whole cross shows; they add nothing to the y range of the data.
    """
    if not positions:
        return False
    marked = sorted(set(positions))  # training and validation may both be NaN at one epoch
    top_edge = blended_transform_factory(axes.transData, axes.transAxes)
    axes.plot(marked, [1.0] * len(marked), transform=top_edge, clip_on=False, label=NON_FINITE_LABEL,
              **NON_FINITE_STYLE)
    return True


def _say_in_middle(axes, note: str) -> None:
    """``note`` in the middle of a panel with no value to draw, whose y ticks would mean nothing."""
    axes.text(0.5, 0.5, note, transform=axes.transAxes, ha="center", va="center")
    axes.set_yticks([])


def _ratio_text(norms: dict) -> str:
    """"last / first = 1.2e+04": how much weaker the gradient is at the first layer."""
    values = list(norms.values())
    first, last = float(values[0]), float(values[-1])
    if not (math.isfinite(first) and math.isfinite(last)):
        return "a gradient norm is not finite"
    if first == 0:
        return "first layer's gradient is 0"
    return f"last / first = {last / first:.3g}"


def _depth_colors(n_layers: int) -> list:
    """Colours from dark (first layer) to light (last), so depth reads as shade."""
    colormap = colormaps["viridis"]
    return [colormap(0.9 * index / max(n_layers - 1, 1)) for index in range(n_layers)]


def _positive(value: float) -> float:
    """A norm for a log axis: 0 or non-finite becomes NaN, a gap instead of an error."""
    value = float(value)
    return value if value > 0 and math.isfinite(value) else math.nan


def _check_title(title) -> None:
    """HyperparameterError unless ``title`` is a str or None (a figure's default title)."""
    if title is not None and not isinstance(title, str):
        raise HyperparameterError(f"title: expected a str or None (the default title), got {type(title).__name__}")


def _check_best_epoch(best_epoch, last_epoch: int) -> None:
    """DataError unless ``best_epoch`` (``History.best_epoch``) is None or an epoch 1..``last_epoch``."""
    if best_epoch is None:
        return
    if not isinstance(best_epoch, int) or isinstance(best_epoch, bool) or not 1 <= best_epoch <= last_epoch:
        raise DataError(f"history.best_epoch: expected None or an epoch of the run, 1 to {last_epoch}, "
                        f"got {best_epoch!r}")


def _check_history(history, argument: str) -> None:
    """DataError naming ``argument`` unless it is a History (a dict of metrics is not)."""
    if not isinstance(history, History):
        raise DataError(f"{argument}: expected a chainrule History (as returned by cr.fit), got {type(history).__name__}")


def _image_format(path) -> str:
    """The format named by the suffix of ``path`` (one of SAVE_FORMATS), PNG without a suffix; DataError otherwise."""
    suffixes = ", ".join("." + name for name in SAVE_FORMATS)
    if not isinstance(path, (str, os.PathLike)):
        raise DataError(f"path: expected a file name (str or os.PathLike) ending in one of {suffixes}, "
                        f"got {type(path).__name__}")
    suffix = Path(path).suffix.lower().removeprefix(".")
    if not suffix:
        return "png"  # a name without a suffix, such as /dev/stdout, gets the default format
    if suffix not in SAVE_FORMATS:
        raise DataError(f"{path}: cannot tell the image format from the suffix {Path(path).suffix!r}; "
                        f"expected one of {suffixes}, or none for PNG")
    return suffix


def _epochs(values, last_epoch: int) -> range:
    """The epochs a series was recorded at: its values are those of the run's last epochs."""
    return range(last_epoch - len(values) + 1, last_epoch + 1)


def _last_epoch(history) -> int:
    """The run's last epoch: ``history.epochs``, or its longest series if that is longer."""
    series = [*history.metrics.values(), *history.grad_norms.values()]
    return max([int(history.epochs or 0), *(len(values) for values in series)])


def _marker(values) -> str | None:
    """A dot on every point of a short curve (a one-epoch curve has no line to show)."""
    return "o" if len(values) <= MARKER_MAX_EPOCHS else None


def _figure(rows: int, columns: int) -> Figure:
    """A figure of rows × columns panels on its own Agg canvas (no pyplot)."""
    figure = Figure(figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path, image_format: str) -> Path:
    """Render to bytes in ``image_format`` in memory, then write them atomically (complete file or none)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image_format)
    atomic_write(path, buffer.getvalue(), error=DataError)
    return Path(path)
