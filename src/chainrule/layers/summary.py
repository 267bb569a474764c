"""The table of a model's layers, ``Layer.summary()``, and its rows, ``Layer.summary_rows()``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..parameters import check_own_arrays

if TYPE_CHECKING:  # layer.py imports this module
    from .layer import Layer

MIN_PARAMETERS_WIDTH = 24  # the parameters column is at least this wide


def layer_rows(model: Layer) -> list[dict]:
    """One row per layer of ``model`` that holds parameters or has no children, in path order
    (see ``Layer.summary_rows``); HyperparameterError naming the layer for one that breaks the
    layer contract (a parameter that is not an array, see ``parameters.check_own_arrays``)."""
    rows = []
    for prefix, layer in model.walk():
        check_own_arrays(layer, any_dtype=True)  # a summary shows the parameters' dtype, whatever it is
        if layer.children() and not layer.own_params:
            continue
        shapes = {name: list(array.shape) for name, array in layer.own_params.items()}
        rows.append({"path": prefix.rstrip(".") or "(model)", "layer": repr(layer).split("\n")[0],
                     "parameters": shapes, "count": sum(int(array.size) for array in layer.own_params.values()),
                     "trainable": layer.own_trainable})
    return rows


def layer_table(model: Layer) -> str:
    """The rows of ``model`` as a text table, then its parameter totals (see ``Layer.summary``)."""
    rows = layer_rows(model)
    shapes = [", ".join(f"{name} {'x'.join(map(str, shape))}" for name, shape in row["parameters"].items()) or "-"
              for row in rows]
    # Each column as wide as its widest entry, header included.
    width = max([len("path")] + [len(row["path"]) for row in rows])
    kind = max([len("layer")] + [len(row["layer"]) for row in rows])
    shown = max([MIN_PARAMETERS_WIDTH] + [len(text) for text in shapes])
    lines = [f"{'path':<{width}}  {'layer':<{kind}}  {'parameters':<{shown}}  count"]
    for row, text in zip(rows, shapes):
        lines.append(f"{row['path']:<{width}}  {row['layer']:<{kind}}  {text:<{shown}}  {row['count']:,}")
    return "\n".join(lines + [""] + _totals(model))


def _totals(model: Layer) -> list[str]:
    """The total count with its dtype (the count of each, for a model with several dtypes) and,
    for a model with parameters, the trainable and non-trainable (frozen) counts, as Keras'."""
    counts = {}  # dtype -> its number of parameters: one dtype, or several where ``dtype`` raises
    for array in model.params.values():
        counts[array.dtype] = counts.get(array.dtype, 0) + int(array.size)
    if len(counts) > 1:
        dtypes = ", mixed dtypes: " + ", ".join(f"{count:,} {dtype}" for dtype, count in counts.items())
    else:
        dtypes = "".join(f", {dtype}" for dtype in counts)
    total, trainable = model.n_parameters, model.n_trainable_parameters
    lines = [f"{total:,} parameters{dtypes}"]
    if total:
        lines.append(f"trainable: {trainable:,}, non-trainable: {total - trainable:,}")
    return lines
