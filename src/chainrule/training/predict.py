"""Using a trained model on raw rows: predictions, probabilities and scores.

These apply the model's fitted preprocessing (``model.preprocessor``, set by ``fit`` and
kept in the model file), so they take the same raw rows and labels as training did. They
work for a model on any device: checks and preprocessing run on the host, the rows go to
the model's device for the forward passes, and results come back as NumPy arrays.
"""

from __future__ import annotations

import math

import numpy

from ..backend import get_array_module, to_device, to_numpy
from ..checks import as_real_matrix, check_finite, check_finite_as
from ..data.frames import select_features
from ..data.preprocessing import Preprocessor, check_preprocessor_inputs, check_preprocessor_outputs
from ..errors import HyperparameterError, NonFiniteError, ShapeError
from ..layers.layer import Layer
from ..layers.widths import input_width
from ..losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy, get_loss
from ..losses.loss import checked_weights
from .loop import EVAL_CHUNK, score_chunks
from .outputs import OutputsShapeError, check_outputs
from .prepare import as_label_vector, as_targets, check_one_target_per_row, encode_targets, prepare_scaled_targets

LOSS_OF_TASK = {"classification": SoftmaxCrossEntropy, "multilabel": BinaryCrossEntropy, "regression": MSE}


def _inputs(model: Layer, X):
    """Checks ``model`` and the whole of ``X`` (rank, kind, rows, finiteness in the model's
    dtype, width: see ``layers.widths.input_width``) without copying an array; returns X, the
    model's dtype and device (one walk through its layers answers them and the width) and its
    preprocessor, checked against the network's input width (see
    ``data.preprocessing.check_preprocessor_inputs``: DataError naming ``model.preprocessor``
    and the field); the caller checks its classes and target widths once the outputs are known
    (``check_preprocessor_outputs``).

    A DataFrame X is read by name when the model was trained on one with string column names
    (``preprocessor.feature_names``): its columns are taken in the model's order wherever they
    stand, others are left out, and a missing one raises DataError naming it (see
    ``data.frames.select_features``). An array, or any X for a model trained without names, is
    read by position.
    """
    if not isinstance(model, Layer):
        raise HyperparameterError(f"model: expected a chainrule Layer, got {type(model).__name__}")
    model.refresh_paths()  # a layer it shares with another model is named by its path in this one
    dtype, device, first = model.parameter_facts()
    dtype = numpy.dtype(dtype or numpy.float32)
    preprocessor = model.preprocessor
    if preprocessor is not None:
        check_preprocessor_inputs(preprocessor, getattr(first, "n_in", None))
    X = select_features(X, None if preprocessor is None else preprocessor.feature_names, "X")
    X = as_real_matrix(X, name="X")
    check_finite_as(X, dtype, name="X")
    if len(X) == 0:  # as scikit-learn does: an empty answer would hide a caller's bug
        raise ShapeError(f"X has no rows (shape {tuple(X.shape)}); expected at least 1")
    width = input_width(model, preprocessor, first)
    if width is not None and X.shape[1] != width:
        raise ShapeError(f"X: the model expects rows of {width} features, got shape {tuple(X.shape)}")
    return X, dtype, device, preprocessor


def _prepared_chunks(X, dtype, device: str, preprocessor: Preprocessor | None, checked: bool = True):
    """Yield (start, inputs): rows start..start+EVAL_CHUNK of X, standardized by
    ``preprocessor`` (in float64, from X's own dtype) or else cast, as ``dtype``, on the
    model's ``device``. ``checked``: a standardized value beyond ``dtype``'s range is an error
    (see ``_standardize_into``); else it is the infinity a score then shows (``evaluate``).

    The rows are prepared in one reused buffer, so memory stays a chunk's whatever X's size
    and dtype, and the layers (which keep their last input for backward) never hold on to
    the caller's X after inference. Each chunk is used before the next overwrites it.
    """
    xp = get_array_module(X)
    rows = min(len(X), EVAL_CHUNK)
    inputs = xp.empty((rows, X.shape[1]), dtype=dtype)
    standardize = preprocessor is not None and preprocessor.mean is not None
    work = xp.empty((rows, X.shape[1]), dtype=numpy.float64) if standardize else None
    for start in range(0, len(X), EVAL_CHUNK):
        stop = min(start + EVAL_CHUNK, len(X))
        chunk = inputs[:stop - start]
        if standardize and checked:  # from the rows in their own dtype, as training standardized X (see fit)
            _standardize_into(preprocessor, X[start:stop], chunk, work, start)
        elif standardize:
            preprocessor.standardize_into(X[start:stop], chunk, work)
        else:
            xp.copyto(chunk, X[start:stop], casting="unsafe")
        yield start, to_device(chunk, device)


def _prepared_rows(X, dtype, device: str, preprocessor: Preprocessor | None):
    """X (at most EVAL_CHUNK rows) prepared as ``_prepared_chunks`` prepares a chunk, in a new
    array of its own: one copy, without the setup of buffers meant for many chunks."""
    if preprocessor is None or preprocessor.mean is None:
        inputs = X.astype(dtype, order="C")  # a copy, as the chunk buffer is: the layers never keep the caller's X
    else:
        xp = get_array_module(X)
        inputs = xp.empty(X.shape, dtype=dtype)
        _standardize_into(preprocessor, X, inputs, xp.empty(X.shape, dtype=numpy.float64), 0)
    return to_device(inputs, device)


def _standardize_into(preprocessor: Preprocessor, X, out, work, start: int) -> None:
    """``preprocessor.standardize_into(X, out, work)``, and NonFiniteError naming the row (X's
    ``start`` + i) and column (its ``index``) where a finite x gives a z = (x − mean) / scale that ``out``'s
    dtype cannot hold: a value far outside the data the model was fitted on (1e10 in a column
    of scale 1e-30) would make the network answer NaN. One sum of the block finds it."""
    with numpy.errstate(over="ignore"):  # the cast to out's dtype overflows: reported below
        preprocessor.standardize_into(X, out, work)
    xp = get_array_module(out)
    with numpy.errstate(over="ignore", invalid="ignore"):
        total = out.sum()
    if bool(xp.isfinite(total)):
        return
    bad = xp.argwhere(~xp.isfinite(out))
    if not len(bad):  # every z is finite, the sum alone overflowed
        return
    row, column = (int(index) for index in bad[0])
    names = preprocessor.feature_names
    named = f" (column {names[column]!r})" if names else ""
    detail = (f"{float(X[row, column]):g}, standardized, (x − mean) / scale = {float(work[row, column]):.4g}, is "
              f"beyond {out.dtype}'s range: the value lies far outside the data the model was fitted on (mean "
              f"{float(preprocessor.mean[column]):.4g}, scale {float(preprocessor.scale[column]):.4g}); check it, or "
              f"train in float64")
    raise NonFiniteError(f"X: the value at index ({start + row}, {column}){named}, {detail}",
                         index=(start + row, column), detail=detail)


def outputs_in_chunks(model: Layer, X, dtype, preprocessor: Preprocessor | None = None,
                      device: str | None = None) -> numpy.ndarray:
    """The model's outputs (n_samples, n_outputs), a new array on the host, for checked rows X
    (at least one) on the model's ``device`` (None: ``model.device``), computed EVAL_CHUNK
    rows at a time from a reused buffer (see ``_prepared_chunks``).

    Under a caller's ``numpy.seterr(all="raise")`` (or ``under="raise"``), a value that
    underflows to 0 (a sigmoid's or softmax's e^z of a very negative z, a product of tiny
    numbers) is no error, as under NumPy's default: the pass that raised on it runs again
    without that check (no ``numpy.errstate`` around every pass: 1-3 µs of a 30 µs call at
    batch 1). An overflow still raises FloatingPointError, for the caller to report.
    """
    try:
        return _forward_in_chunks(model, X, dtype, preprocessor, device)
    except FloatingPointError:
        with numpy.errstate(under="ignore"):
            return _forward_in_chunks(model, X, dtype, preprocessor, device)


def _forward_in_chunks(model: Layer, X, dtype, preprocessor: Preprocessor | None, device: str | None
                       ) -> numpy.ndarray:
    """``outputs_in_chunks`` under the caller's ``numpy.errstate``."""
    device = model.device if device is None else device
    if len(X) <= EVAL_CHUNK:  # one forward pass: the chunk buffers' setup cost ~6 µs a call at batch 1
        inputs = _prepared_rows(X, dtype, device, preprocessor)
        Y = model.forward(inputs)
        check_outputs(model, inputs, Y)
        # Copied: within ``reusing_buffers`` (a callback of fit) the output is a layer's buffer.
        return numpy.array(to_numpy(Y), order="C")
    outputs = None
    for start, inputs in _prepared_chunks(X, dtype, device, preprocessor):
        Y = model.forward(inputs)
        check_outputs(model, inputs, Y)
        Y = to_numpy(Y)
        if outputs is None:
            outputs = numpy.empty((len(X), Y.shape[1]), dtype=Y.dtype)
        outputs[start:start + len(Y)] = Y
    return outputs


def checked_outputs(model: Layer, X, dtype, device: str, preprocessor: Preprocessor | None) -> numpy.ndarray:
    """``outputs_in_chunks``, then the preprocessor's classes and target standardization checked
    against the number of outputs (DataError naming ``model.preprocessor``, see ``_inputs``), and
    the outputs checked to be finite (:func:`_refuse_non_finite_outputs`)."""
    try:
        Y = outputs_in_chunks(model, X, dtype, preprocessor, device)
    except FloatingPointError:  # numpy.seterr(all="raise") in the caller's code: the overflow found below
        with numpy.errstate(all="ignore"):
            Y = outputs_in_chunks(model, X, dtype, preprocessor, device)
    if preprocessor is not None:
        check_preprocessor_outputs(preprocessor, Y.shape[1])
    # One sum in float64 finds a NaN or Inf (no errstate around the pass: 1.4 µs of a 30 µs call at
    # batch 1; NumPy's own warning of an overflow in the network is then part of the report). float32
    # outputs cannot make it overflow; float64 ones near their largest can, which the exact check in
    # _refuse_non_finite_outputs tells apart (after NumPy's warning of that overflow).
    if not math.isfinite(Y.sum(dtype=numpy.float64)):
        _refuse_non_finite_outputs(model, X, Y, dtype, preprocessor)
    return Y


def _refuse_non_finite_outputs(model: Layer, X, Y: numpy.ndarray, dtype, preprocessor: Preprocessor | None) -> None:
    """NonFiniteError unless every output in Y is finite (their sum alone may have overflowed).

    A row of finite values can still take the network beyond its dtype (3e38 in float32, times
    any weight above 1): its outputs are then infinite or NaN, which predict used to answer as
    class 0 (the argmax of NaN) or as NaN probabilities, with NumPy's RuntimeWarnings. The error
    names the row and, as the likeliest cause, its input farthest from the data (the largest
    |z| after standardization, the largest |x| without it), with its index for the command line
    to name as a CSV cell; or the parameter, when the model itself holds NaN or infinity. A NaN or
    Inf of the row itself, which no check refused before (the scikit-learn estimators under
    ``sklearn.set_config(assume_finite=True)``), is named as not finite, not as far from the data.
    """
    for name, value in model.params.items():
        if not bool(get_array_module(value).isfinite(value).all()):
            raise NonFiniteError(f"model: parameter {name!r} holds NaN or infinity (a diverged model?), so its "
                                 f"outputs are not finite")
    bad_rows = numpy.flatnonzero(~numpy.isfinite(Y).all(axis=1))
    if not len(bad_rows):
        return
    row = int(bad_rows[0])
    x = to_numpy(X[row]).astype(numpy.float64)
    z = x if preprocessor is None or preprocessor.mean is None else (x - preprocessor.mean) / preprocessor.scale
    column = int(numpy.argmax(numpy.abs(z)))
    names = None if preprocessor is None else preprocessor.feature_names
    named = f" (column {names[column]!r})" if names else ""
    advice = ", or train in float64" if numpy.dtype(dtype) == numpy.float32 else ""
    standardized = "" if z is x else f" (standardized {z[column]:.4g})"
    detail = (f"{x[column]:g}{standardized}, the row's value farthest from zero, takes the network's outputs for the "
              f"row beyond {numpy.dtype(dtype)}'s range (NaN or infinity): the row lies far outside the data the "
              f"model was fitted on; check it{advice}")
    if not math.isfinite(x[column]):  # argmax finds a NaN first, else an Inf: rows no check refused before
        detail = (f"{x[column]:g}, is not finite, so neither are the network's outputs for the row: the network "
                  f"needs finite inputs; fill in missing values (NaN) first, or drop the row")
    raise NonFiniteError(f"X: the value at index ({row}, {column}){named}, {detail}", index=(row, column),
                         detail=detail)


def _task(preprocessor: Preprocessor | None) -> str:
    return "regression" if preprocessor is None else preprocessor.task


def _is_binary(preprocessor: Preprocessor, n_outputs: int) -> bool:
    """Whether a multilabel preprocessor is a binary classifier's: two classes for one output,
    fitted on one label per row (see ``Preprocessor.classes``)."""
    return preprocessor.classes is not None and len(preprocessor.classes) == 2 and n_outputs == 1


#: what a model without a preprocessor (trained by a loop of one's own) is taken for, and how to change it
NO_PREPROCESSOR = ("the model has no preprocessor (cr.fit and cr.load give one), so it is taken as a regressor "
                   "whose outputs are the values; for a classifier trained by a loop of your own, set "
                   "model.preprocessor = cr.Preprocessor(n_features, task='classification', classes=[...]) first")


def predict_proba(model: Layer, X) -> numpy.ndarray:
    """Class probabilities (n_samples, n_classes), or per-label probabilities for multilabel
    (for a binary classifier of one sigmoid output, the probability of its second class).

    Parameters
    ----------
    model : Layer
        A classifier: a model whose preprocessor says it was trained for classification
        or multilabel (``cr.fit`` and ``cr.load`` give it one).
    X : array-like or pandas DataFrame of shape (n_samples, n_features)
        Raw rows, as given to ``fit``: the model's preprocessing is applied to them. A
        DataFrame is read by name for a model trained on one (see ``_inputs``).

    Returns
    -------
    numpy.ndarray of shape (n_samples, n_outputs)
        softmax of the outputs, each row summing to 1 (classification), or σ of each output
        (multilabel; (n_samples, 1) for a binary classifier, P(``classes[1]``), which
        ``predict`` answers where it is above 1/2), as NumPy arrays whatever the model's device.

    Raises
    ------
    ShapeError
        When ``X`` has no rows, is not 2-d, or its width is not the model's.
    DTypeError, NonFiniteError
        When ``X`` is not real numbers, or holds NaN or Inf (or values that overflow the
        model's dtype, standardized or inside the network: outputs that are not finite are
        never answered; the model's parameters are named when they hold NaN or Inf).
    DataError
        When a DataFrame lacks a column the model was trained on, or naming
        ``model.preprocessor`` and its field when the model's preprocessor (hand-made or
        replaced) is not a Preprocessor or does not fit the network: ``n_features`` other than
        its input width, a mean or scale that is not one finite number per feature (each
        scale > 0), more or fewer classes than outputs, a target standardization of another
        width (see ``data.preprocessing.check_preprocessor``).
    HyperparameterError
        When ``model`` is not a chainrule Layer, or is a regressor (use ``predict``): a model
        without a preprocessor is taken for one.

    Examples
    --------
    >>> import chainrule as cr
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = cr.mlp([4, 8, 3], seed=0)
    >>> _ = cr.fit(model, X, y, epochs=2, verbose=0)
    >>> P = cr.predict_proba(model, X[:5])
    >>> P.shape, bool(abs(P.sum(axis=1) - 1).max() < 1e-5)
    ((5, 3), True)
    """
    X, dtype, device, preprocessor = _inputs(model, X)
    task = _task(preprocessor)
    if task == "regression":
        if preprocessor is None:
            raise HyperparameterError(f"predict_proba: {NO_PREPROCESSOR}")
        raise HyperparameterError("predict_proba: the model is a regressor; use predict")
    return to_numpy(LOSS_OF_TASK[task]().transform(checked_outputs(model, X, dtype, device, preprocessor)))


def predict(model: Layer, X) -> numpy.ndarray:
    """Predicted labels (classification, in the training labels), 0/1 rows (multilabel) or values.

    A model without a preprocessor (trained by a loop of one's own, not by ``fit``) is taken
    as a regressor: its outputs come back as they are. Give a classifier its classes with
    ``model.preprocessor = cr.Preprocessor(n_features, task="classification", classes=[...])``.

    Parameters
    ----------
    model : Layer
        The trained model, on any device.
    X : array-like or pandas DataFrame of shape (n_samples, n_features)
        Raw rows, as given to ``fit``: the model's preprocessing is applied to them. A
        DataFrame is read by name for a model trained on one (see ``_inputs``).

    Returns
    -------
    numpy.ndarray
        Classification: the labels (n_samples,), as an array of their own type (integers,
        strings or booleans, as in training; see ``Preprocessor.decode``), or the indices of
        the largest outputs for a preprocessor without classes. A binary classifier (one
        sigmoid output fitted on one 0/1 label per row, y of shape (n_samples,): see
        ``Preprocessor.classes``): its labels (n_samples,) in y's type (booleans for
        booleans, integers for integers), ``classes[1]`` where the output's logit is > 0.
        Multilabel (fitted on 0/1 columns, one column included): 0/1 rows (n_samples,
        n_outputs). Regression: the values, (n_samples,) for one output, else
        (n_samples, n_outputs); for a model trained with ``standardize_targets`` the outputs
        t̂ taken back to y's units, ŷ = σ_y t̂ + μ_y, in float64.

    Raises
    ------
    ShapeError
        When ``X`` has no rows, is not 2-d, or its width is not the model's.
    DTypeError, NonFiniteError
        When ``X`` is not real numbers, or holds NaN or Inf (or values that overflow the
        model's dtype, standardized or inside the network: outputs that are not finite are
        never answered; the model's parameters are named when they hold NaN or Inf).
    DataError
        When a DataFrame lacks a column the model was trained on, or naming
        ``model.preprocessor`` and its field when the model's preprocessor does not fit the
        network (as for ``predict_proba``).
    HyperparameterError
        When ``model`` is not a chainrule Layer.

    Examples
    --------
    >>> import chainrule as cr
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = cr.mlp([4, 8, 3], seed=0)
    >>> _ = cr.fit(model, X, y, epochs=2, verbose=0)
    >>> labels = cr.predict(model, X)
    >>> labels.shape, set(labels.tolist()) <= {0, 1, 2}
    ((150,), True)
    """
    X, dtype, device, preprocessor = _inputs(model, X)
    Y = checked_outputs(model, X, dtype, device, preprocessor)
    task = _task(preprocessor)
    if task == "classification":
        return preprocessor.decode(Y.argmax(axis=1)) if preprocessor.classes else Y.argmax(axis=1)
    if task == "multilabel":
        if _is_binary(preprocessor, Y.shape[1]):  # one logistic output: classes[1] where its logit is > 0
            return preprocessor.decode((Y[:, 0] > 0).astype(numpy.intp))
        return (Y > 0).astype(numpy.intp)
    if preprocessor is not None:
        Y = preprocessor.unstandardize_targets(Y)
    return Y[:, 0] if Y.shape[1] == 1 else Y


def evaluate(model: Layer, X, y, *, sample_weight=None, loss=None) -> dict[str, float]:
    """Loss and metrics on (X, y): ``loss`` and ``accuracy`` or ``r2`` and ``mae``.

    Rows that are finite but so large that the network's outputs or the loss overflow give
    an infinite or NaN ``loss`` (and metrics) without NumPy's RuntimeWarnings, under the same
    ``numpy.errstate`` that ``fit`` scores its epochs in.

    Parameters
    ----------
    model : Layer
        The trained model, on any device. One without a preprocessor is scored as a regressor.
    X : array-like or pandas DataFrame of shape (n_samples, n_features)
        Read as ``predict`` reads it (a DataFrame by name, for a model trained on one).
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The targets, as ``fit`` takes them; a column (n_samples, 1) of labels is accepted
        for a classifier, as in ``fit``.
    sample_weight : array-like of shape (n_samples,), optional
        One finite, non-negative real per row, not all zero, as ``fit`` takes it: each row
        counts w_n times, giving the weighted mean loss Σ w_n l_n / Σ w_n and the weighted
        metrics (scikit-learn's ``accuracy_score``, ``r2_score`` and ``mean_absolute_error``
        with ``sample_weight``). On the GPU they go to the device with their rows.
    loss : Loss or name, optional
        The loss reported as ``loss``. None scores the loss of the model's task, as ``fit``
        infers it (SoftmaxCrossEntropy for classification, BinaryCrossEntropy for multilabel,
        MSE for regression and for a model without a preprocessor). Give the loss ``fit``
        trained with (a custom Loss, say) for the ``loss`` its history's ``val_loss`` reports
        on the same rows. Its ``task`` must be the preprocessor's; without a preprocessor it
        sets the metrics (``accuracy`` for a classification loss).

    Returns
    -------
    dict of str to float
        ``{"loss", "accuracy"}`` for a classifier (classification or multilabel),
        ``{"loss", "r2", "mae"}`` for a regressor. For a model trained with
        ``standardize_targets``, y is standardized as in training: ``loss`` is that of the
        standardized targets, ``mae`` is in y's units and R² is unchanged by it (as in ``fit``'s logs).

    Raises
    ------
    ShapeError
        When ``X`` has no rows (there is nothing to score), or when ``y`` is ragged or does
        not hold one target per row of X; also the errors ``predict`` raises for ``X``, but for
        a value whose standardized form overflows the model's dtype: that row is scored (a loss
        that is not finite; wrong in the accuracy). Naming ``loss``, when its compute returns
        L as an array of another shape than () (DTypeError: not a number at all).
    NonFiniteError
        Naming y when a float ``y`` holds NaN or Inf (a NaN class label or regression
        target), as ``fit`` does; or, for a model trained with ``standardize_targets``, a
        target whose standardized value is beyond the model's dtype (as ``fit`` refuses such a
        validation target), which the loss would score as infinite.
    HyperparameterError
        When ``model`` is not a chainrule Layer; naming ``loss``, when it is not a Loss or the
        name of one, or is for another task than the model's preprocessor; naming
        ``sample_weight``, when it is given and the loss's compute takes no weights.
    DTypeError, DataError, NonFiniteError, ShapeError
        For a bad ``sample_weight``, the errors ``fit`` raises, naming it.

    Examples
    --------
    >>> import chainrule as cr
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = cr.mlp([4, 8, 3], seed=0)
    >>> _ = cr.fit(model, X, y, epochs=2, verbose=0)
    >>> sorted(cr.evaluate(model, X, y))
    ['accuracy', 'loss']
    """
    X, dtype, device, preprocessor = _inputs(model, X)
    loss = LOSS_OF_TASK[_task(preprocessor)]() if loss is None else get_loss(loss)
    if preprocessor is not None and loss.task != preprocessor.task:
        raise HyperparameterError(f"loss: the model's preprocessor is for {preprocessor.task} but "
                                  f"{type(loss).__name__} scores {loss.task}; pass a loss for {preprocessor.task} "
                                  f"(the one fit trained with), or None")
    y = as_label_vector(as_targets(y, "y"), loss, "y")
    check_finite(y, "y")  # only float targets are checked: labels of other kinds have no NaN
    check_one_target_per_row(X, y)
    weights = None
    if sample_weight is not None:
        weights = checked_weights(loss, sample_weight, len(X), "sample_weight", "X")
    if preprocessor is not None:
        y = encode_targets(preprocessor, y)

    def targets(n_outputs: int):
        """The targets of outputs as wide as the first chunk's, once the preprocessor is checked against them."""
        if preprocessor is not None:
            check_preprocessor_outputs(preprocessor, n_outputs)
        return prepare_scaled_targets(preprocessor, loss, y, n_outputs, dtype)

    # The targets' shape depends on the number of outputs, known from the first chunk's.
    # Quiet as in fit: a huge finite row overflows in the standardization's cast, the
    # forward pass or the loss, and the non-finite score says so without NumPy's warnings (or its
    # errors, under numpy.seterr(all="raise"), where an underflow to 0 is no error either).
    with numpy.errstate(all="ignore"):
        try:
            chunks = _prepared_chunks(X, dtype, device, preprocessor, checked=False)  # an overflow shows in the score
            return score_chunks(model, chunks, targets, loss, weights=weights,
                                target_scale=None if preprocessor is None else preprocessor.target_scale)
        except ShapeError as error:  # class labels for a model scored as a regressor, most often
            if preprocessor is None and loss.task == "regression" and not isinstance(error, OutputsShapeError):
                raise ShapeError(f"{error}; {NO_PREPROCESSOR}") from None
            raise
