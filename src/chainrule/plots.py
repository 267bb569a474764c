"""Pictures of a training run: learning curves, and the gradient flowing back through depth.

Three functions, each writing one PNG from a :class:`~chainrule.training.history.History`:

- :func:`plot_history`: loss and metric curves (training and validation) per epoch;
- :func:`plot_gradient_flow`: the norm ‖∂L/∂W‖ of every layer per epoch on a log scale,
  and its profile over depth at initialization;
- :func:`compare_gradient_flow`: the initialization profiles of several runs on one axis.

The profile is where the lecture notes' "gradient getting progressively more diluted"
becomes visible: in a deep sigmoid network the first layer's gradient is orders of
magnitude below the last layer's; with ReLU and He initialization it is not.

Figures are drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas, never through
``pyplot``, so no global plotting state is touched and no display is needed. Each PNG is
rendered in memory first and then written atomically: the file is complete or absent.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .errors import DataError
from .io.atomic import atomic_write

if TYPE_CHECKING:
    from .training.history import History

DPI = 100
PANEL_SIZE = (5.5, 4.0)  # inches per subplot
MIN_DECADES = 2  # a log axis spans at least this many powers of ten, so a flat profile looks flat
MARKER_MAX_EPOCHS = 30  # curves this short get a marker on every epoch, so one epoch still shows
MAX_NAMED_TICKS = 20  # deeper networks get numbered depth ticks instead of layer paths
METRIC_LABELS = {"loss": "loss", "accuracy": "accuracy", "r2": "R²", "mae": "mean absolute error"}


def plot_history(history: History, path, *, title: str | None = None) -> Path:
    """Write the loss and metric curves of a training run, per epoch, to a PNG.

    One panel per quantity: the loss first, then the metrics the run recorded (accuracy
    for classification; R² and MAE for regression), each with its training curve and,
    when the run had validation data, its validation curve.

    Parameters
    ----------
    history : History
        As returned by ``cr.fit``.
    path : str or os.PathLike
        The PNG file to create or replace.
    title : str, optional
        The figure's title (default "Training history").

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DataError
        If the history holds no metrics, or ``path`` cannot be written (nothing is left
        behind then).

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
    names = _metric_names(history.metrics)
    if not names:
        raise DataError(f"{path}: cannot plot the history, it holds no metrics (was any epoch completed?)")
    figure = _figure(1, len(names))
    for axes, name in zip(figure.subplots(1, len(names), squeeze=False)[0], names):
        for key, label, style in ((name, "training", "-"), ("val_" + name, "validation", "--")):
            values = history.metrics.get(key)
            if values:
                epochs = range(1, len(values) + 1)
                axes.plot(epochs, values, style, label=label, marker=_marker(values))
        axes.set_xlabel("epoch")
        axes.set_ylabel(METRIC_LABELS.get(name, name))
        axes.set_title(METRIC_LABELS.get(name, name))
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle(title or "Training history")
    return _save(figure, path)


def plot_gradient_flow(history: History, path, *, title: str | None = None) -> Path:
    """Write the per-layer gradient norms ‖∂L/∂W‖ of a training run to a PNG.

    The left panel shows each layer's norm per epoch on a log scale, one line per layer,
    coloured from the first layer (dark) to the last (light). When the history holds the
    norms at initialization, a right panel shows them against depth: a line falling
    steeply towards the first layer is the gradient "getting progressively more diluted"
    on its way back through the network (lecture notes).

    Parameters
    ----------
    history : History
        As returned by ``cr.fit``; layers are taken in the order it lists them, which is
        the order of the model (first to last).
    path : str or os.PathLike
        The PNG file to create or replace.
    title : str, optional
        The figure's title (default "Gradient flow").

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DataError
        If the history holds no gradient norms, or ``path`` cannot be written (nothing is
        left behind then).
    """
    if not history.grad_norms and not history.initial_grad_norms:
        raise DataError(f"{path}: cannot plot the gradient flow, the history holds no gradient norms")
    panels = int(bool(history.grad_norms)) + int(bool(history.initial_grad_norms))
    figure = _figure(1, panels)
    axes = iter(figure.subplots(1, panels, squeeze=False)[0])
    if history.grad_norms:
        _draw_norms_per_epoch(next(axes), history.grad_norms)
    if history.initial_grad_norms:
        profile = next(axes)
        _draw_profile(profile, history.initial_grad_norms, label=None, color="tab:blue")
        _log_y(profile)
        profile.set_title("at initialization: " + _ratio_text(history.initial_grad_norms))
    figure.suptitle(title or "Gradient flow")
    return _save(figure, path)


def compare_gradient_flow(histories: dict[str, History], path, *, title: str | None = None) -> Path:
    """Write the initialization profiles of several runs on one log-scale axis to a PNG.

    Each run is one line: ‖∂L/∂W‖ of its layers at initialization against their depth,
    labelled with its name and the ratio of its last layer's norm to its first layer's.

    Parameters
    ----------
    histories : dict of str to History
        Run name (e.g. "sigmoid, 10 layers") -> its history.
    path : str or os.PathLike
        The PNG file to create or replace.
    title : str, optional
        The figure's title (default "Gradient norm through depth at initialization").

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DataError
        If ``histories`` is empty or a run has no norms at initialization (the message
        names it), or ``path`` cannot be written (nothing is left behind then).
    """
    if not histories:
        raise DataError(f"{path}: cannot compare gradient flow, no histories were given")
    for name, history in histories.items():
        if not history.initial_grad_norms:
            raise DataError(f"{path}: cannot compare gradient flow, run {name!r} has no gradient norms at initialization")
    figure = _figure(1, 1)
    axes = figure.subplots()
    colors = colormaps["tab10"]
    for index, (name, history) in enumerate(histories.items()):
        norms = history.initial_grad_norms
        _draw_profile(axes, norms, label=f"{name}: {_ratio_text(norms)}", color=colors(index % 10))
    _log_y(axes)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15))  # below the axes, never over the lines
    figure.suptitle(title or "Gradient norm through depth at initialization")
    return _save(figure, path)


def _metric_names(metrics: dict) -> list[str]:
    """The quantities to plot, loss first: "val_accuracy" and "accuracy" are one quantity."""
    names = []
    for key, values in metrics.items():
        name = key.removeprefix("val_")
        if values and name not in names:
            names.append(name)
    return sorted(names, key=lambda name: name != "loss")  # stable: the rest keep their order


def _draw_norms_per_epoch(axes, grad_norms: dict) -> None:
    """One line per layer, first to last along a sequential colormap."""
    layers = list(grad_norms)
    colors = _depth_colors(len(layers))
    for layer, color in zip(layers, colors):
        values = [_positive(value) for value in grad_norms[layer]]
        axes.plot(range(1, len(values) + 1), values, color=color, label=layer, marker=_marker(values))
    _log_y(axes)
    axes.set_xlabel("epoch")
    axes.set_ylabel("‖∂L/∂W‖ (mean over sampled batches)")
    axes.set_title("per layer, during training")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.grid(alpha=0.3, which="both")
    axes.legend(title="layer", fontsize="small", ncol=max(1, math.ceil(len(layers) / 12)),
                loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the lines, never over them


def _draw_profile(axes, norms: dict, *, label: str | None, color) -> None:
    """‖∂L/∂W‖ against depth (1 = first layer with weights), ticks named by layer path.

    The caller sets the log scale once every run is drawn (see :func:`_log_y`).
    """
    layers = list(norms)
    depth = range(1, len(layers) + 1)
    axes.plot(depth, [_positive(norms[layer]) for layer in layers], marker="o", color=color, label=label)
    axes.set_xlabel("layer with weights, first → last")
    axes.set_ylabel("‖∂L/∂W‖ at initialization")
    if len(layers) <= MAX_NAMED_TICKS:
        axes.set_xticks(list(depth), layers)
    axes.grid(alpha=0.3, which="both")


def _log_y(axes) -> None:
    """A log y axis of at least MIN_DECADES: a ±20 % wobble must not fill the panel."""
    axes.set_yscale("log")
    low, high = axes.get_ylim()
    if 0 < low < high < math.inf and high / low < 10.0 ** MIN_DECADES:
        centre, half = math.sqrt(low * high), 10.0 ** (MIN_DECADES / 2)
        axes.set_ylim(centre / half, centre * half)


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


def _marker(values) -> str | None:
    """A dot on every point of a short curve (a one-epoch curve has no line to show)."""
    return "o" if len(values) <= MARKER_MAX_EPOCHS else None


def _figure(rows: int, columns: int) -> Figure:
    """A figure of rows × columns panels on its own Agg canvas (no pyplot)."""
    figure = Figure(figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path) -> Path:
    """Render to PNG bytes in memory, then write them atomically (complete file or none)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    atomic_write(path, buffer.getvalue(), error=DataError)
    return Path(path)
