"""Using a trained model on raw rows: predictions, probabilities and scores.

These apply the model's fitted preprocessing (``model.preprocessor``, set by ``fit`` and
kept in the model file), so they take the same raw rows and labels as training did. They
work for a model on any device: checks and preprocessing run on the host, the rows go to
the model's device for the forward passes, and results come back as NumPy arrays.
"""

from __future__ import annotations

import numpy

from ..backend import to_device, to_numpy
from ..checks import as_matrix
from ..data.preprocessing import Preprocessor
from ..errors import HyperparameterError, ShapeError
from ..layers.layer import Layer
from ..losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy
from .fit import EVAL_CHUNK, encode_targets, evaluate_prepared

LOSS_OF_TASK = {"classification": SoftmaxCrossEntropy, "multilabel": BinaryCrossEntropy, "regression": MSE}


def _inputs(model: Layer, X):
    if not isinstance(model, Layer):
        raise HyperparameterError(f"model: expected a chainrule Layer, got {type(model).__name__}")
    dtype = model.dtype or numpy.float32
    X = as_matrix(X, dtype, name="X")
    if len(X) == 0:  # as scikit-learn does: an empty answer would hide a caller's bug
        raise ShapeError(f"X has no rows (shape {tuple(X.shape)}); expected at least 1")
    preprocessor = model.preprocessor
    if preprocessor is not None:
        X = preprocessor.transform(X, dtype)
    return X, preprocessor


def _outputs(model: Layer, X) -> numpy.ndarray:
    device = model.device
    return numpy.concatenate([to_numpy(model.forward(to_device(X[i:i + EVAL_CHUNK], device)))
                              for i in range(0, len(X), EVAL_CHUNK)])


def _task(preprocessor: Preprocessor | None) -> str:
    return "regression" if preprocessor is None else preprocessor.task


def predict_proba(model: Layer, X) -> numpy.ndarray:
    """Class probabilities (n_samples, n_classes), or per-label probabilities for multilabel.

    Raises ShapeError when ``X`` has no rows.
    """
    X, preprocessor = _inputs(model, X)
    task = _task(preprocessor)
    if task == "regression":
        raise HyperparameterError("predict_proba: the model is a regressor; use predict")
    return to_numpy(LOSS_OF_TASK[task]().transform(_outputs(model, X)))


def predict(model: Layer, X) -> numpy.ndarray:
    """Predicted labels (classification, in the training labels), 0/1 rows (multilabel) or values.

    Labels come back as an array of their own type (integers, strings or booleans, as in
    training; see ``Preprocessor.decode``). Raises ShapeError when ``X`` has no rows.
    """
    X, preprocessor = _inputs(model, X)
    Y = _outputs(model, X)
    task = _task(preprocessor)
    if task == "classification":
        return preprocessor.decode(Y.argmax(axis=1)) if preprocessor.classes else Y.argmax(axis=1)
    if task == "multilabel":
        return (Y > 0).astype(numpy.intp)
    return Y[:, 0] if Y.shape[1] == 1 else Y


def evaluate(model: Layer, X, y) -> dict:
    """Loss and metrics on (X, y): ``loss`` and ``accuracy`` or ``r2`` and ``mae``.

    Raises ShapeError when ``X`` has no rows (there is nothing to score).
    """
    X, preprocessor = _inputs(model, X)
    device = model.device
    loss = LOSS_OF_TASK[_task(preprocessor)]()
    n_outputs = model.forward(to_device(X[:1], device)).shape[1]
    y = encode_targets(preprocessor, y) if preprocessor is not None else numpy.asarray(y)
    T = loss.prepare(y, n_outputs, X.dtype, n_samples=len(X))
    return evaluate_prepared(model, to_device(X, device), to_device(T, device), loss)
