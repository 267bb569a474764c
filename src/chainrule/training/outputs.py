"""The shape of a network's outputs: a matrix with a row per row of its input, in its dtype.

``fit``, ``predict``, ``predict_proba``, ``evaluate`` and ``gradcheck`` read the number of
outputs as ``Y.shape[1]``; a layer of one's own whose forward returns a vector (n_samples,)
or another number of rows would otherwise fail there with an IndexError, or be scored wrongly.
``fit`` also refuses a forward that changes the dtype (see :func:`outputs_dtype_error`).
"""

from __future__ import annotations

from ..errors import DTypeError, ShapeError
from ..layers.layer import Layer
from ..layers.sequential import Sequential


class OutputsShapeError(ShapeError):
    """A ShapeError about a model's outputs, not about the data a caller gave: ``evaluate``
    adds no hint about the data (targets, a preprocessor) to it."""


def check_outputs(model: Layer, inputs, outputs) -> None:
    """ShapeError (see :func:`outputs_shape_error`) unless ``outputs``, the forward pass of
    ``inputs``, is a matrix (len(inputs), n_outputs)."""
    if not (getattr(outputs, "ndim", None) == 2 and outputs.shape[0] == len(inputs)):
        one = model.forward(inputs[:1])
        if not is_one_row(one):
            raise outputs_shape_error(model, inputs[:1], one)
        given = f"shape {tuple(outputs.shape)}" if hasattr(outputs, "shape") else type(outputs).__name__
        raise OutputsShapeError(f"model ({type(model).__name__}): forward returned {given} for {len(inputs)} rows "
                                f"of X; expected ({len(inputs)}, n_outputs): a row of outputs per row of input")


def is_one_row(outputs) -> bool:
    """Whether a forward pass of one row gave a matrix of one row, (1, n_outputs)."""
    return getattr(outputs, "ndim", None) == 2 and outputs.shape[0] == 1


def outputs_shape_error(model: Layer, row, outputs) -> OutputsShapeError:
    """The error for a model whose forward pass of one ``row`` gave ``outputs`` that are not
    (1, n_outputs): naming the first of a Sequential's layers whose forward gave such a result
    (run again from ``row``, a layer at a time), else the model."""
    culprit = model
    if isinstance(model, Sequential):
        for layer in model.layers:
            outputs = layer.forward(row)
            if not is_one_row(outputs):
                culprit = layer
                break
            row = outputs
    given = f"shape {tuple(outputs.shape)}" if hasattr(outputs, "shape") else type(outputs).__name__
    name = culprit.describe() if culprit is not model else f"model ({type(model).__name__})"
    return OutputsShapeError(f"{name}: forward returned {given} for one row of X; expected (n_samples, n_outputs), "
                             f"here (1, n_outputs): a layer's forward returns a matrix with a row per row of its input "
                             f"(a single output as a column (n_samples, 1), not a vector (n_samples,))")


def outputs_dtype_error(model: Layer, row, outputs, context: str = "") -> DTypeError:
    """The error for a model whose forward pass of one ``row`` (in the model's dtype) gave ``outputs``
    of another dtype: naming the first layer whose forward changed the dtype (run again from ``row``,
    a layer at a time, into nested Sequentials), else the model.

    Every layer after it computes in the other dtype, and its backward's ∂L/∂x reaches the layer
    below it in that dtype, which refuses it (a float32 Linear refuses a float64 dY) or trains in it.
    A layer of one's own does this where it multiplies by a NumPy float64 number (``np.sqrt(2 / np.pi)``,
    ``np.float64(0.5)``), which makes a float32 array float64 (NumPy 2's promotion rules).
    ``context``, where given, ends the message (what the caller computes in)."""
    culprit, X, given = model, row, outputs.dtype
    layers = model.layers if isinstance(model, Sequential) else []
    while layers:
        for layer in layers:
            Y = layer.forward(X)
            if getattr(Y, "dtype", None) != X.dtype:
                culprit, given = layer, Y.dtype
                break
            X = Y
        else:  # each layer kept the dtype when run again: the model itself is named
            break
        layers = culprit.layers if isinstance(culprit, Sequential) else []
    name = culprit.describe() if culprit is not model else f"model ({type(model).__name__})"
    hint = ("; NumPy's float64 numbers (np.sqrt(2 / np.pi), np.float64(0.5)) make a float32 array float64: multiply "
            "by Python floats (math.sqrt) or X.dtype.type(...)" if (X.dtype.name, str(given)) == ("float32", "float64")
            else "")
    return DTypeError(f"{name}: forward returned {given} for input of {X.dtype}; a layer's forward returns its "
                      f"input's dtype, in which the model computes and trains{hint}{context}")
