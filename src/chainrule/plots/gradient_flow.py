"""The gradient flow figures: the norm ‖∂L/∂W‖ of every layer per epoch and over depth.

:func:`plot_gradient_flow` draws one run, :func:`compare_gradient_flow` the initialization
profiles of several. The profile is where the lecture notes' "gradient getting progressively
more diluted" becomes visible: in a deep sigmoid network the first layer's gradient is
orders of magnitude below the last layer's; with ReLU and He initialization it is not.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from matplotlib import colormaps

from ..errors import DataError, HyperparameterError, quoted
from ..layers import Layer
from ..training.history import History
from .drawing import (GRID_STYLE, LEGEND_STYLE, LOG_LIMIT, NON_FINITE_LABEL, PANEL_SIZE, PARTIAL_EPOCH_LABEL,
                      _check_history, _check_mathtext, _check_title, _epochs, _figure, _floats, _image_format,
                      _integer_ticks, _last_epoch, _legend, _mark_edge, _mark_non_finite, _marker,
                      _non_finite_positions, _partial_last_epoch, _positive, _save, _say_in_middle, _series_of_floats,
                      _shade_partial_epoch, _span_x, _text)

LEGEND_ROWS_IN_PANEL = 8  # compare_gradient_flow's legend rows that fit its figure; each more adds LEGEND_ROW_INCHES
LEGEND_ROW_INCHES = 0.25
MIN_DECADES = 2  # a log axis spans at least this many powers of ten, so a flat profile looks flat
MAX_NAMED_TICKS = 20  # at most this many named layers (depth ticks, legend entries): deeper networks name every few
MAX_UPRIGHT_LABEL = 4  # depth tick labels longer than this many characters are slanted
MAX_UPRIGHT_CHARACTERS = 60  # and so are upright ones whose characters (one space each) add up to more
MAX_SLANTED_TICKS = 10  # more long depth tick labels than this are set vertically, as slanted ones would overlap
NOTHING_POSITIVE = "no positive gradient norms to show"
# A norm below float64's smallest normal number cannot sit on a log axis: the axis's margin below it underflows to 0,
# and matplotlib then puts its bottom edge at that norm, as if it were the axis's lower limit.
SMALLEST_NORMAL = sys.float_info.min  # 2.2250738585072014e-308
VANISHED_LABEL = "0 or below 2.2e-308 (vanished)"  # legend entry of the triangles marking such norms, and 0
VANISHED_STYLE = {"linestyle": "none", "marker": "v", "color": "black", "markersize": 8}


def plot_gradient_flow(history: History, path, *, title: str | None = None, model: Layer | None = None) -> Path:
    """Write the per-layer gradient norms ‖∂L/∂W‖ of a training run to an image file.

    The left panel shows each layer's norm per epoch on a log scale, one line per layer,
    coloured from the first layer (dark) to the last (light). When the history holds the
    norms at initialization, a right panel shows them against depth: a line falling
    steeply towards the first layer is the gradient "getting progressively more diluted"
    on its way back through the network (lecture notes). With more than 20 layers, the
    depth axis and the left panel's legend name every few layers (the same ones, the first
    and the last among them), so that neither crowds the figure; the colours still run from the first layer to the last.
    Given the ``model``, the legend and the depth axis also name each layer's type
    ("0 Linear", "2 Linear"); without it they show the paths alone.

    A norm that is 0 or not finite cannot sit on a log axis; the two are told apart, each a
    gap in its line. A norm of 0 (a layer that gets no gradient, or whose squares all
    underflowed) is marked by a black triangle on the panel's bottom edge at its epoch (or,
    in the right panel, its depth), with the legend entry "0 or below 2.2e-308 (vanished)";
    so is a positive norm below 2.2e-308, float64's smallest normal number, under which the
    log axis has no room for its margin (such a norm sat on the bottom edge, as if it were
    the axis's limit). A norm that is NaN or infinite (the gradient blew up) is marked by a
    red cross on the panel's top edge, with the legend entry "NaN/inf (diverged)"; so is a
    norm past 1e250, which a log axis cannot span (matplotlib's falls back to limits that
    leave it off the panel). A panel with no norm it can draw at all says so in its middle
    ("no positive gradient norms to show") instead of raising. A last epoch that Ctrl-C cut
    short (``history.partial_last_epoch``) is shaded grey in the left panel, with the legend
    entry "part of an epoch (interrupted)".

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
        As matplotlib draws text: between a pair of ``$`` is mathtext (``"$\\sigma$ network"``),
        ``\\$`` a literal dollar sign.
    model : Layer, optional
        The model the history was recorded from, to name each layer's type.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DataError
        If ``history`` is not a History or holds no gradient norms, if its ``grad_norms`` are
        not lists or 1-D arrays of numbers by layer path, or its ``initial_grad_norms`` not
        numbers by layer path (a str, None or a bool is not one; the message names the entry), its
        ``epochs`` not a whole number from 0 to 2**53 or None, or its ``partial_last_epoch`` not a bool,
        or if ``path`` cannot be written (nothing is left behind then): the data plotted, and the file.
    HyperparameterError
        If ``title`` is not a str or None, or holds mathtext that matplotlib cannot parse, if
        ``model`` is not a Layer or lacks a layer the history records, or if ``path`` is not a
        file name or has a suffix other than those above: an argument of the wrong value, the
        message naming it.
    """
    _check_history(history, "history")
    _check_title(title)
    grad_norms = _series_of_floats(history.grad_norms, "history.grad_norms", "layer path")
    initial = _floats(history.initial_grad_norms, "history.initial_grad_norms", "layer path")
    names = _layer_names([*grad_norms, *initial], model)
    partial = _partial_last_epoch(history)
    last_epoch = _last_epoch(history)
    image_format = _image_format(path)
    if not grad_norms and not initial:
        raise DataError(f"{path}: cannot plot the gradient flow, the history holds no gradient norms")
    panels = int(bool(grad_norms)) + int(bool(initial))
    figure = _figure(1, panels)
    axes = iter(figure.subplots(1, panels, squeeze=False)[0])
    if grad_norms:
        _draw_norms_per_epoch(next(axes), grad_norms, last_epoch, names, partial)
    if initial:
        profile = next(axes)
        _draw_profile(profile, initial, label=None, color="tab:blue")
        _label_depth_axis(profile, [[names[layer] for layer in initial]])
        _log_y(profile, initial.values())
        depths = range(1, len(initial) + 1)
        diverged = _mark_non_finite(profile, _non_finite_positions(depths, initial.values(), LOG_LIMIT))
        vanished = _mark_vanished(profile, _vanished_positions(depths, initial.values()))
        if diverged or vanished:
            profile.legend(**LEGEND_STYLE)
        profile.set_title("at initialization: " + _ratio_text(initial))
    figure.suptitle(_text(title or "Gradient flow"))
    return _save(figure, path, image_format)


def compare_gradient_flow(histories: dict[str, History], path, *, title: str | None = None) -> Path:
    """Write the initialization profiles of several runs on one log-scale axis to an image file.

    Each run is one line: ‖∂L/∂W‖ of its layers at initialization against their depth,
    labelled with its name and the ratio of its last layer's norm to its first layer's.
    When every run has the same layers, the depth axis names them by path (every few
    layers beyond 20, the first and the last among them); otherwise it numbers them, 1 being each run's first layer with
    weights. Norms that are 0, below 2.2e-308 or not finite are gaps, unmarked here (the legend's
    ratio says "a gradient norm is not finite" when the first or last layer's is).

    Parameters
    ----------
    histories : dict of str to History
        Run name (e.g. "sigmoid, 10 layers") -> its history. A name is drawn as a title is,
        and keeps its legend entry even when it starts with "_" (which matplotlib otherwise
        takes for a line to leave out); a layer's path is drawn as it is, never as mathtext.
    path : str or os.PathLike
        The file to create or replace; its suffix picks the format (``.png``, ``.pdf``,
        ``.svg``, ``.eps``, ``.jpg``, ``.jpeg``; PNG without a suffix).
    title : str, optional
        The figure's title (default "Gradient norm through depth at initialization").
        As matplotlib draws text: between a pair of ``$`` is mathtext (``"$\\sigma$ network"``),
        ``\\$`` a literal dollar sign.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DataError
        If ``histories`` is not a dict of History, is empty, or a run has no norms at
        initialization or norms that are not numbers by layer path (the message names the run
        and the entry), or a run name holds mathtext that matplotlib cannot parse, or if
        ``path`` cannot be written (nothing is left behind then): the data plotted, and the file.
    HyperparameterError
        If ``title`` is not a str or None, or holds mathtext that matplotlib cannot parse, or if
        ``path`` is not a file name or has a suffix other than those above: an argument of the
        wrong value, the message naming it.
    """
    if not isinstance(histories, dict):
        raise DataError(f"histories: expected a dict of run name -> History, got {type(histories).__name__}")
    _check_title(title)
    for name, history in histories.items():
        _check_history(history, f"histories[{quoted(name)}]")
        if isinstance(name, str):
            _check_mathtext(name, "histories: a run name", DataError)
    image_format = _image_format(path)
    if not histories:
        raise DataError(f"{path}: cannot compare gradient flow, no histories were given")
    profiles = {name: _floats(history.initial_grad_norms, f"histories[{quoted(name)}].initial_grad_norms", "layer path")
                for name, history in histories.items()}
    for name, norms in profiles.items():
        if not norms:
            raise DataError(f"{path}: cannot compare gradient flow, run {quoted(name)} has no gradient norms at "
                            f"initialization")
    figure = _figure(1, 1)
    # The legend below the panel has a row per run: past LEGEND_ROWS_IN_PANEL the figure grows to hold them
    # (with 15 runs the layout gave up: "constrained_layout not applied", the legend cut off at the bottom).
    extra_rows = max(0, len(profiles) - LEGEND_ROWS_IN_PANEL)
    figure.set_size_inches(PANEL_SIZE[0], PANEL_SIZE[1] + LEGEND_ROW_INCHES * extra_rows)
    axes = figure.subplots()
    colors = colormaps["tab10"]
    all_norms = []
    for index, (name, norms) in enumerate(profiles.items()):
        _draw_profile(axes, norms, label=_text(f"{name}: {_ratio_text(norms)}"), color=colors(index % 10))
        all_norms.extend(norms.values())
    _label_depth_axis(axes, [list(norms) for norms in profiles.values()])
    _log_y(axes, all_norms)
    # Below the axes, never over the lines. Handles and labels given, as a run named "_..." is
    # otherwise left out (matplotlib's mark of a line kept out of the legend).
    lines = axes.get_lines()
    _legend(axes, lines, [line.get_label() for line in lines], loc="upper center", bbox_to_anchor=(0.5, -0.15),
            **LEGEND_STYLE)
    figure.suptitle(_text(title or "Gradient norm through depth at initialization"))
    return _save(figure, path, image_format)


def _layer_names(paths: list[str], model) -> dict:
    """Layer path -> how the gradient-flow figure names it: "0 Linear" with a model, "0" without.

    The ``paths`` are those the history records ("model" for a lone layer, as ``cr.fit`` names it).
    """
    if model is None:
        return {path: _text(path) for path in paths}
    if not isinstance(model, Layer):
        raise HyperparameterError(f"model: expected the chainrule Layer the history was recorded from, "
                                  f"got {type(model).__name__}")
    types = {prefix.removesuffix(".") or "model": type(layer).__name__ for prefix, layer in model.walk()}
    missing = [path for path in paths if path not in types]
    if missing:
        raise HyperparameterError(f"model: has no layer {missing[0]!r}, which the history records; "
                                  f"pass the model the history was recorded from")
    return {path: _text(f"{path} {types[path]}") for path in paths}


def _draw_norms_per_epoch(axes, grad_norms: dict, last_epoch: int, names: dict, partial: bool) -> None:
    """One line per layer, first to last along a sequential colormap, ending at ``last_epoch``,
    shaded grey when ``partial`` (Ctrl-C cut it short).

    ``names`` maps each layer's path to its label in the legend. Beyond MAX_NAMED_TICKS
    layers the legend names the layers the depth axis names (every few), so that a legend
    of long names ("12.f.0 Linear") does not squeeze the panels.
    """
    layers = list(grad_norms)
    colors = _depth_colors(len(layers))
    named_indices = _named_indices(len(layers))
    non_finite_epochs, vanished_epochs = [], []
    named = []  # (line, name) of the layers the legend names
    for index, (layer, color) in enumerate(zip(layers, colors)):
        epochs = _epochs(grad_norms[layer], last_epoch)
        values = [_drawable(value) for value in grad_norms[layer]]
        line, = axes.plot(epochs, values, color=color, label=names[layer], marker=_marker(values))
        if index in named_indices:
            named.append((line, names[layer]))
        non_finite_epochs += _non_finite_positions(epochs, grad_norms[layer], LOG_LIMIT)
        vanished_epochs += _vanished_positions(epochs, grad_norms[layer])
    longest = max(len(values) for values in grad_norms.values())
    _span_x(axes, last_epoch - longest + 1, last_epoch)
    _log_y(axes, [value for values in grad_norms.values() for value in values])
    _mark_non_finite(axes, non_finite_epochs)
    _mark_vanished(axes, vanished_epochs)
    named += [(line, line.get_label()) for line in axes.get_lines()
              if line.get_label() in (NON_FINITE_LABEL, VANISHED_LABEL)]
    _shade_partial_epoch(axes, partial, last_epoch)
    named += [(patch, patch.get_label()) for patch in axes.patches if patch.get_label() == PARTIAL_EPOCH_LABEL]
    axes.set_xlabel("epoch")
    axes.set_ylabel("‖∂L/∂W‖ (mean over sampled batches)")
    axes.set_title("per layer, during training")
    _integer_ticks(axes.xaxis)
    axes.grid(which="both", **GRID_STYLE)
    n_named = len(named_indices)
    # Beside the lines, never over them. Handles and labels given, as a layer named "_..." is
    # otherwise left out (matplotlib's mark of a line kept out of the legend).
    legend = _legend(axes, *map(list, zip(*named)), title="layer", fontsize="small",
                     ncol=max(1, math.ceil(n_named / 12)), loc="upper left", bbox_to_anchor=(1.01, 1.0), **LEGEND_STYLE)
    for text in legend.get_texts():
        text.set_parse_math(False)  # a path is a name, never a formula between '$'


def _draw_profile(axes, norms: dict, *, label: str | None, color) -> None:
    """‖∂L/∂W‖ against depth (1 = first layer with weights).

    The caller labels the depth axis and sets the log scale once every run is drawn
    (see :func:`_label_depth_axis` and :func:`_log_y`).
    """
    layers = list(norms)
    depth = range(1, len(layers) + 1)
    axes.plot(depth, [_drawable(norms[layer]) for layer in layers], marker="o", color=color, label=label)
    axes.set_ylabel("‖∂L/∂W‖ at initialization")
    axes.grid(which="both", **GRID_STYLE)


def _label_depth_axis(axes, layer_lists: list[list[str]]) -> None:
    """Name the depth ticks by layer when every run has the same layers, else number them.

    The names in ``layer_lists`` (paths, or paths and types) match the per-epoch panel's
    legend; beyond MAX_NAMED_TICKS layers only every few are named, so the labels stay
    readable. Runs of different layers share no path at a given depth, so they get numbers
    (1 = each run's first layer with weights).
    """
    deepest = max(len(layers) for layers in layer_lists)
    _span_x(axes, 1, deepest)
    depths = [index + 1 for index in _named_indices(deepest)]
    layers = layer_lists[0]
    if all(other == layers for other in layer_lists):
        labels = [_text(layers[depth - 1]) for depth in depths]
        axes.set_xticks(list(depths), labels, parse_math=False, **_tick_label_angle(labels))  # names, never math
        axes.set_xlabel("layer with weights, first → last")
    else:
        axes.set_xticks(list(depths))
        axes.set_xlabel("layer with weights (1 = first of each run)")


def _named_indices(n_layers: int) -> list[int]:
    """The indices (0 = first) of the layers named on the depth axis and in the legend: all of ``n_layers``
    up to MAX_NAMED_TICKS, else every few from the first, at most MAX_NAMED_TICKS of them.

    The last layer is always named, in place of the one that would come last counting from the first
    (one to a whole step before it): it is the output layer, whose norm the panel's ratio last / first
    takes, and it ends the axis "first → last". That widens the last gap only, so no names overlap.
    """
    indices = list(range(0, n_layers, math.ceil(n_layers / MAX_NAMED_TICKS)))
    indices[-1] = n_layers - 1
    return indices


def _tick_label_angle(labels: list[str]) -> dict:
    """Text options for depth tick ``labels`` that do not overlap one another.

    Short paths ("0", "2") fit side by side, as long as they are few: twenty paths of three
    digits ("100", a network of more than 50 layers with weights) are wider than the panel.
    Longer names ("10 Linear"), or too many short ones, are slanted, which leaves each about
    half the tick spacing across; past MAX_SLANTED_TICKS of them that is less than a line of
    text, so they are set vertically, a whole tick spacing apart.
    """
    longest = max(map(len, labels))
    if longest <= MAX_UPRIGHT_LABEL and len(labels) * (longest + 1) <= MAX_UPRIGHT_CHARACTERS:
        return {}
    if len(labels) <= MAX_SLANTED_TICKS:
        return {"rotation": 30, "ha": "right"}
    return {"rotation": 90, "ha": "center"}


def _log_y(axes, values) -> None:
    """A log y axis of at least MIN_DECADES: a ±20 % wobble must not fill the panel.

    ``values`` are those drawn. If none is positive and finite, a log axis has nothing to
    span (matplotlib would raise), so the panel keeps a plain axis and says so instead.
    """
    if not any(not math.isnan(_drawable(value)) for value in values):
        _say_in_middle(axes, NOTHING_POSITIVE)
        return
    axes.set_yscale("log")
    low, high = axes.get_ylim()
    # in decades: high / low overflows (a RuntimeWarning) once the norms span more than the float range
    if 0 < low < high < math.inf and math.log10(high) - math.log10(low) < MIN_DECADES:
        centre, half = math.sqrt(low * high), 10.0 ** (MIN_DECADES / 2)
        axes.set_ylim(centre / half, centre * half)


def _drawable(value) -> float:
    """A norm as the log axis draws it: NaN (a gap) for 0, NaN, ±inf, a norm below SMALLEST_NORMAL and one past
    LOG_LIMIT."""
    value = _positive(value)
    return value if SMALLEST_NORMAL <= value <= LOG_LIMIT else math.nan


def _vanished_positions(positions, values) -> list:
    """The ``positions`` (epochs, depths) whose norm in ``values`` is 0 or below SMALLEST_NORMAL."""
    return [position for position, value in zip(positions, values) if 0 <= float(value) < SMALLEST_NORMAL]


def _mark_vanished(axes, positions: list) -> bool:
    """A black triangle on the panel's bottom edge at each of ``positions``, as the red crosses of
    :func:`~chainrule.plots.drawing._mark_non_finite` on its top edge; whether there was any."""
    return _mark_edge(axes, positions, 0.0, VANISHED_LABEL, VANISHED_STYLE)


def _ratio_text(norms: dict) -> str:
    """"last / first = 1.2e+04": how much weaker the gradient is at the first layer."""
    values = list(norms.values())
    first, last = float(values[0]), float(values[-1])
    if not (math.isfinite(first) and math.isfinite(last)):
        return "a gradient norm is not finite"
    if first == 0:
        return "first layer's gradient is 0"
    ratio = last / first
    if first > 0 and last > 0 and (ratio == 0 or math.isinf(ratio)):
        # Past the float range (a first norm of 1e-310 under a last of 10), where the quotient is inf or 0,
        # which would read as a norm not finite or a last layer without gradient: written out from the logs.
        decades = math.log10(last) - math.log10(first)
        exponent = math.floor(decades)
        mantissa = f"{10.0 ** (decades - exponent):.3g}"
        if mantissa == "10":  # 9.9996 rounds up to the next power of ten
            mantissa, exponent = "1", exponent + 1
        return f"last / first = {mantissa}e{exponent:+03d}"
    return f"last / first = {ratio:.3g}"


def _depth_colors(n_layers: int) -> list:
    """Colours from dark (first layer) to light (last), so depth reads as shade."""
    colormap = colormaps["viridis"]
    return [colormap(0.9 * index / max(n_layers - 1, 1)) for index in range(n_layers)]
