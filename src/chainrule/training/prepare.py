"""What ``fit`` does to the data before the first step: (X, y, weights, validation) -> prepared arrays.

Targets become what the loss trains on: class labels (one per row; a column of labels is
flattened) are mapped to the indices of the outputs, probability and regression targets are
checked against the outputs' width, and regression targets are standardized when the
preprocessor says so (t = (y − μ_y)/σ_y, fitted on the training targets). A validation
fraction is held out (stratified for class labels) from a seed, as a copy of those rows and
the indices of the training rows in X (which is not copied), or a given set is read as X
and y are; the sample weights are split with the rows and multiplied by the class weights.
The preprocessor, fitted on the training rows only or the model's own from an earlier fit
(checked against this call, not refitted), standardizes the validation rows here, in
float64 from the rows in their own dtype (see ``as_inputs``); ``fit`` standardizes the
training rows as a copy, or above ``STANDARDIZED_COPY_BYTES`` a batch at a time in the loop
(:mod:`chainrule.training.loop`). ``predict`` and ``evaluate`` read their data with the same
helpers.
"""

from __future__ import annotations

import numbers
import warnings

import numpy

from ..checks import as_matrix, as_real_matrix, as_sample_weights, check_finite, check_finite_as, is_bool
from ..data.csv_file import comma_number_label
from ..data.frames import select_features
from ..data.preprocessing import Preprocessor, check_label_kinds, check_preprocessor, standardized_targets
from ..data.split import shuffled_split_indices, stratified_split_indices
from ..errors import (DataError, HyperparameterError, LabelError, NonFiniteError, OneHotTargetsWarning,
                      OutputActivationWarning, ShapeError, quoted)
from ..layers import Identity, Sequential, Sigmoid, Softmax
from ..layers.layer import Layer
from ..losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy
from .class_weight import class_weights_per_row


def standardizes(preprocessor, standardize: bool | None) -> bool:
    """Whether ``fit`` standardizes X: as the model's ``preprocessor`` from an earlier fit does
    (a contradicting ``standardize`` is refused later, by ``reuse_preprocessor``), else as asked."""
    if isinstance(preprocessor, Preprocessor):
        return preprocessor.mean is not None
    return bool(standardize)


def as_inputs(X, dtype, standardized: bool, name: str = "X"):
    """Rows X as ``fit`` reads them: cast to the model's ``dtype`` (see ``as_matrix``), or, when
    they are ``standardized``, kept as they are (own dtype and layout: a DataFrame's array stays
    column-major, not copied) and only checked.

    Standardization reads the raw rows in float64, z = (x − μ)/σ, and casts z alone to
    ``dtype``: a float64 feature with a large offset (seconds since 1970, about 1.7e9, which
    float32 holds to within 64) keeps its digits, and the copy a cast would make is not made.
    Values that ``dtype`` cannot hold are refused alike (NonFiniteError), as ``predict`` does.
    A DataFrame's columns of several dtypes become their common one.
    """
    if not standardized:
        return as_matrix(X, dtype, name=name)
    X = as_real_matrix(X, name)
    check_finite_as(X, dtype, name)
    return X


def split_validation(X, y, weights, validation, loss, dtype, split_seed, names=None, standardized: bool = False):
    """(train_rows, y, weights, X_val, y_val, w_val): a given validation set, or a held-out fraction of (X, y).

    The fraction is stratified for classification labels and shuffled otherwise, from
    ``split_seed`` (a SeedSequence), so a resumed run holds out the same rows. X is not
    copied: ``train_rows`` are the indices of its training rows (None: all of them), and
    y and the sample ``weights`` (or None) are those rows' own. X_val is a copy of the
    held-out rows. A given set's weights are its third item;
    its X_val is read by the model's feature ``names`` when it is a DataFrame with names (as
    X is), and in the model's ``dtype`` or, when ``standardized``, its own (see ``as_inputs``);
    a column of labels y_val (n_samples, 1) is taken as one label per row. A list (X_val,
    y_val) is refused, as Keras refuses it, with a HyperparameterError that says a tuple is
    expected (any other value is quoted, cut to ``errors.QUOTE_LIMIT`` characters).
    """
    if isinstance(validation, list):
        hint = "; pass tuple(validation)" if len(validation) in (2, 3) else ""
        raise HyperparameterError(f"validation: expected a fraction in (0, 1) or a tuple (X_val, y_val) or "
                                  f"(X_val, y_val, w_val), got a list of {len(validation)} items{hint}")
    if isinstance(validation, tuple):
        if len(validation) not in (2, 3):
            raise HyperparameterError("validation: expected a fraction, a pair (X_val, y_val) or a triple "
                                      f"(X_val, y_val, w_val), got a tuple of {len(validation)} items")
        X_val = as_inputs(select_features(validation[0], names, "X_val"), dtype, standardized, "X_val")
        y_val = as_label_vector(as_targets(validation[1], "y_val"), loss, "y_val")
        if len(X_val) == 0:
            raise ShapeError(f"X_val has no rows (shape {X_val.shape}); expected at least 1, or validation=None for none")
        if y_val.dtype.kind == "f":
            check_finite(y_val, "y_val")
        check_one_target_per_row(X_val, y_val, "X_val", "y_val")
        w_val = None
        if has_validation_weights(validation):
            w_val = as_sample_weights(validation[2], len(X_val), "w_val", "X_val")
        return None, y, weights, X_val, y_val, w_val
    if validation is None or isinstance(validation, numbers.Real) and validation == 0:
        return None, y, weights, None, None, None
    if isinstance(validation, bool) or not isinstance(validation, numbers.Real) or not 0 < validation < 1:
        raise HyperparameterError(f"validation: expected a fraction in (0, 1), (X_val, y_val) or "
                                  f"(X_val, y_val, w_val), got {quoted(validation)}")
    validation = as_fraction(validation)
    train, held = held_out_rows(y, validation, loss, split_seed)
    if weights is None:
        return train, y[train], None, X[held], y[held], None
    for rows, which in ((train, "training"), (held, "held-out validation")):
        if not weights[rows].any():
            raise DataError(f"sample_weight: the weights of all {len(rows)} {which} rows are zero (validation="
                            f"{validation:g}); expected at least one positive weight among them")
    return train, y[train], weights[train], X[held], y[held], weights[held]


def held_out_rows(y, validation: float, loss, split_seed) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(train, held): the indices of the rows of targets ``y`` that a ``validation`` fraction
    leaves for training and holds out, stratified for class labels (DataError naming
    ``validation`` when a class is left without training rows) and shuffled otherwise, from
    ``split_seed`` (the first of :func:`fit_seeds`)."""
    seed = int(split_seed.generate_state(1)[0])
    if loss.task == "classification" and y.ndim == 1:
        train, held = stratified_split_indices(y, validation, seed, name="validation")
        missing = sorted(set(numpy.unique(y).tolist()) - set(numpy.unique(y[train]).tolist()), key=repr)
        if missing:
            raise DataError(
                f"validation: holding out {validation:g} of the {len(y)} rows leaves class {missing[0]!r} "
                f"without training rows; use a smaller fraction"
            )
        return train, held
    return shuffled_split_indices(len(y), validation, seed, name="validation")


def fit_seeds(seed) -> list:
    """[split_seed, shuffle_seed]: the SeedSequences of the validation split and of the
    per-epoch shuffling that ``fit`` spawns from its ``seed`` (the ranks' shared one)."""
    return numpy.random.SeedSequence(seed).spawn(2)


def weigh_classes(T, preprocessor: Preprocessor, class_weight, weights, float_hint: str = ""):
    """The training rows' sample ``weights`` (or None: all 1) times their class weights.

    HyperparameterError naming ``class_weight`` unless the targets are class labels (a
    classification loss with labels, not probability rows, or one binary cross-entropy output
    of 0/1 labels, whose classes are 0 and 1 as in Keras), with ``float_hint`` when float
    labels were taken as regression targets; the product is checked as ``sample_weight`` is
    (DataError when all of it is zero).
    """
    if preprocessor.task == "multilabel" and T.ndim == 2 and T.shape[1] == 1 and numpy.isin(T, (0, 1)).all():
        if isinstance(class_weight, dict):  # keys 0 and 1, or False and True for boolean labels
            class_weight = {int(label) if is_bool(label) else label: weight for label, weight in class_weight.items()}
        per_row = class_weights_per_row(T[:, 0].astype(numpy.intp), [0, 1], class_weight)
        return as_sample_weights(per_row if weights is None else per_row * weights, len(T), "class_weight")
    if preprocessor.task != "classification" or T.ndim != 1:
        raise HyperparameterError(
            "class_weight: needs class labels (classification with a label per row); got "
            + ("probability targets, one row per sample" if preprocessor.task == "classification"
               else f"targets for {preprocessor.task}{float_hint}")
        )
    per_row = class_weights_per_row(T, preprocessor.classes, class_weight)
    return as_sample_weights(per_row if weights is None else per_row * weights, len(T), "class_weight")


def has_validation_weights(validation) -> bool:
    """Whether ``validation`` is a triple (X_val, y_val, w_val) with weights (a w_val of None weighs none)."""
    return isinstance(validation, tuple) and len(validation) == 3 and validation[2] is not None


def as_targets(y, name: str):
    """``y`` as a NumPy array; a ragged list raises ShapeError naming ``name``.

    A list whose items mix kinds (``[1, "2"]``, which NumPy makes "1", "2"; ``[True, 2]``)
    raises LabelError naming ``name``, and one with a missing value (``["a", nan]``)
    NonFiniteError, as the object array of its items does (see ``check_label_kinds``). An
    object array (a pandas column of dtype object, or text, categorical or boolean labels with
    a missing value) is read as ``_object_targets`` says: its numbers (or booleans) as the
    array they make (floats are then regression values, as in a float64 y), a missing value
    refused naming its index; so is NumPy's StringDType with a missing value.
    """
    if y is None:  # NumPy makes a 0-d object array of it: "a missing value at index ()" said too little
        raise ShapeError(f"{name}: expected the targets, one per row of X (labels or values), got None")
    try:
        targets = numpy.asarray(y)
    except ValueError as error:  # NumPy's "inhomogeneous shape"
        raise ShapeError(f"{name}: expected a rectangular array of targets, got {type(y).__name__} ({error})") from None
    if not hasattr(y, "dtype") and (targets.dtype.kind in "SU" or targets.ndim == 1 and targets.dtype.kind in "biuf"):
        # A Python sequence, which NumPy makes text of when it holds a string ([1, "2"], ["a", nan]) and
        # numbers of booleans among numbers ([True, 2]): its items as they were, missing or mixed, are refused.
        items = numpy.asarray(y, dtype=object)
        if targets.dtype.kind in "SU":  # a NaN among strings became the text "nan" (among numbers, a NaN stays one)
            _object_targets(items, name)
        check_label_kinds(items, name)
    if targets.dtype.kind == "T" and hasattr(targets.dtype, "na_object"):  # NumPy 2 strings that may be missing
        targets = targets.astype(object)
    return _object_targets(targets, name) if targets.dtype == object else targets


def _object_targets(targets: numpy.ndarray, name: str) -> numpy.ndarray:
    """An object array of targets as ``fit`` reads it: real numbers alone (ints, floats, not
    booleans) as the array NumPy makes of them (int64 or float64, as a list of them gives),
    otherwise as it is once it holds no missing value (None, NaN, ``pd.NA``, ``pd.NaT``:
    NonFiniteError naming ``name`` and the first one's index, as a NaN in a float y gets)."""
    items = targets.ravel()
    types = set(map(type, items))  # one pass in C; the items themselves are looked at only where needed
    if types and (all(_is_real_number_type(kind) for kind in types) or all(_is_bool_type(kind) for kind in types)):
        return numpy.asarray(targets.tolist())
    if not any(_may_be_missing(kind) for kind in types):  # text labels alone: no item to look at
        return targets
    missing = [position for position, item in enumerate(items) if _is_missing(item)]
    if missing:
        where = tuple(int(index) for index in numpy.unravel_index(missing[0], targets.shape))
        raise NonFiniteError(f"{name}: expected a label or target in every row, found a missing value "
                             f"({quoted(items[missing[0]])}) at index {where} ({len(missing)} missing in all); drop "
                             f"those rows or fill them in")
    return targets


def _is_bool_type(kind: type) -> bool:
    """Whether ``kind`` is Python's or NumPy's boolean type."""
    return issubclass(kind, (bool, numpy.bool_))


def _is_real_number_type(kind: type) -> bool:
    """Whether ``kind`` is a Python or NumPy int or float type (not bool, which Python counts as an int)."""
    return issubclass(kind, (int, float, numpy.integer, numpy.floating)) and not issubclass(kind, bool)


def _may_be_missing(kind: type) -> bool:
    """Whether an item of type ``kind`` may be a missing value (see ``_is_missing``): a float may be NaN."""
    return kind is type(None) or kind.__name__ in ("NAType", "NaTType") or issubclass(kind, (float, numpy.floating))


def _is_missing(item) -> bool:
    """Whether ``item`` is a missing value as pandas writes one: None, NaN, ``pd.NA`` or ``pd.NaT``."""
    if item is None or type(item).__name__ in ("NAType", "NaTType"):  # pandas', told without importing pandas
        return True
    return isinstance(item, (float, numpy.floating)) and item != item  # NaN alone is not equal to itself


def as_label_vector(y, loss, name: str = "y"):
    """``y`` as one label per row when it is a column (n_samples, 1) of labels (integers,
    booleans, strings or objects: ``df[["label"]]``, Keras's sparse labels) and ``loss``
    is a classification loss; otherwise ``y`` itself. A float column stays a column: float
    targets are regression values (``prepare_targets`` suggests ``y.ravel()`` where a
    classification loss refuses one)."""
    if loss.task == "classification" and y.ndim == 2 and y.shape[1] == 1 and y.dtype.kind in "biuUSO":
        return y.ravel()
    return y


def check_one_target_per_row(X, y, x_name: str = "X", y_name: str = "y") -> None:
    """ShapeError naming ``y_name`` unless ``y`` holds one target (or row of targets) per row of X."""
    if y.shape[:1] != X.shape[:1]:
        raise ShapeError(f"{y_name}: expected {X.shape[0]} targets (one per row of {x_name}), got shape {y.shape}")


def as_fraction(value) -> float:
    """A real number as the Python float it was written as: ``numpy.float32(0.2)`` -> 0.2.

    ``float(numpy.float32(0.2))`` is 0.20000000298…, which would hold out one row more than
    0.2 where 0.2·n is a whole number; the shortest decimal of a NumPy float is what was meant.
    """
    return float(str(value)) if isinstance(value, numpy.floating) else float(value)


def default_loss(y, preprocessor=None):
    """The loss a model's ``preprocessor`` from an earlier fit trained for (SoftmaxCrossEntropy for
    classification, BinaryCrossEntropy for multilabel and binary classifiers, MSE for regression);
    without one, SoftmaxCrossEntropy for labels (integers, booleans, strings), MSE for float values."""
    if isinstance(preprocessor, Preprocessor):
        return {"classification": SoftmaxCrossEntropy, "multilabel": BinaryCrossEntropy,
                "regression": MSE}[preprocessor.task]()
    return MSE() if y.dtype.kind == "f" else SoftmaxCrossEntropy()


FLOAT_TARGETS_HINT = ("; y holds floats, so fit took them as regression targets (MSE); for classes pass integer "
                      "or string labels, or loss='cross_entropy'")


def warn_if_one_hot(y, n_outputs: int) -> None:
    """A OneHotTargetsWarning when float targets ``y``, about to train MSE by default, are
    one-hot rows as wide as the outputs: Keras's ``to_categorical`` labels, meant as classes.

    One pass over y, once per ``fit``; the warning does not change what is trained.
    """
    if y.ndim != 2 or n_outputs < 2 or y.shape[1] != n_outputs:
        return
    if bool(((y == 0) | (y == 1)).all()) and bool((y.sum(axis=1) == 1).all()):
        warnings.warn(
            f"y: every row is one-hot over the {n_outputs} outputs, but y holds floats, so fit trains them as "
            f"regression targets with MSE; for classification pass loss='cross_entropy' (these rows are its "
            f"probability targets) or the class indices y.argmax(axis=1)", OneHotTargetsWarning,
            stacklevel=5)  # the line that called fit, above fit (and its keyword check) and its data phase


def warn_if_output_activation(model: Layer, loss) -> None:
    """An OutputActivationWarning when the model ends in a Softmax or a Sigmoid (trailing
    Identity layers aside) and ``loss`` is a cross-entropy, which takes logits and applies its
    own softmax or sigmoid: the outputs would be squashed twice.

    So do ``predict_proba`` and the ONNX ``probabilities`` output.
    """
    if not isinstance(loss, (SoftmaxCrossEntropy, BinaryCrossEntropy)):
        return
    last = model
    while isinstance(last, Sequential) and last.layers:
        layers = [layer for layer in last.layers if not isinstance(layer, Identity)] or last.layers
        last = layers[-1]
    if isinstance(last, (Softmax, Sigmoid)):
        own = "softmax" if isinstance(loss, SoftmaxCrossEntropy) else "sigmoid"
        warnings.warn(
            f"model: its last layer is a {type(last).__name__}, but {type(loss).__name__} takes logits and applies "
            f"a {own} itself, so the outputs are squashed twice and training stalls; remove the last layer "
            f"(cr.mlp without output_activation)", OutputActivationWarning,
            stacklevel=5)  # the line that called fit, above fit (and its keyword check) and its data phase


EARLIER_FIT_HINT = "pass {name}=None to continue with it, or set model.preprocessor = None to fit a new one"


def check_standardize_targets(standardize_targets: bool | None, loss, float_hint: str = "", y=None) -> None:
    """HyperparameterError naming ``standardize_targets`` when it is True for a loss that does
    not train for regression (class labels and probabilities are not standardized). Where ``y``
    holds text whose first label looks like a number written with commas ("1,000,000", as a CSV
    file read without ``thousands=','`` holds it), the message says so and how to read it."""
    if standardize_targets and loss.task != "regression":
        raise HyperparameterError(f"standardize_targets=True: only regression targets are standardized, but "
                                  f"{type(loss).__name__} trains for {loss.task}{float_hint}{_comma_numbers(y)}; "
                                  f"pass standardize_targets=None or False")


def _comma_numbers(y) -> str:
    """For text targets ``y`` the first of which looks like a number written with commas, " (y holds text: '1,000,000',
    which looks like the number 1000000 ...: convert the file, e.g. with pandas: ...)"; "" otherwise."""
    label = comma_number_label(numpy.asarray(y)) if y is not None else ""
    return f" (y holds text: {label})" if label else ""


def reuse_preprocessor(preprocessor: Preprocessor, X, loss, standardize: bool | None,
                       float_hint: str = "", standardize_targets: bool | None = None, *,
                       n_outputs: int | None = None) -> Preprocessor:
    """The model's preprocessor from an earlier fit (or cr.load, or set by hand), checked
    against the network and this call.

    A preprocessor that is not a Preprocessor or does not fit the network of ``n_outputs``
    outputs (None: not checked) raises DataError naming ``model.preprocessor`` and the field
    (see ``data.preprocessing.check_preprocessor``; X's width was checked against the network's
    by ``fit``'s first forward pass, and is checked against ``n_features`` here). Training
    continues from the weights, which were fitted to this preprocessor's standardization (of
    the inputs, and of the targets) and class order, so none is refitted; an argument or data
    that contradicts it raises HyperparameterError or ShapeError saying how to proceed.
    """
    check_preprocessor(preprocessor, None, n_outputs)  # fit checked every field before it read one
    _check_same_standardization("standardize", standardize, preprocessor.mean is not None, "inputs", "data")
    _check_same_standardization("standardize_targets", standardize_targets, preprocessor.target_mean is not None,
                                "targets", "targets")
    if preprocessor.task != loss.task:
        raise HyperparameterError(
            f"loss: the model's preprocessor, from its earlier fit, is for {preprocessor.task} but "
            f"{type(loss).__name__} trains for {loss.task}{float_hint}; pass a loss for {preprocessor.task}, "
            f"or set model.preprocessor = None to fit a new one"
        )
    if X.shape[1] != preprocessor.n_features:
        raise ShapeError(
            f"X: the model's preprocessor, from its earlier fit, expects rows of {preprocessor.n_features} "
            f"features, got {X.shape[1]}; set model.preprocessor = None to fit a new one"
        )
    return preprocessor


def _check_same_standardization(name: str, asked: bool | None, standardizes: bool, what: str, of: str) -> None:
    """HyperparameterError naming argument ``name`` when ``asked`` (True or False; None asks
    nothing) contradicts whether the model's preprocessor ``standardizes`` its ``what``."""
    if asked is None or asked == standardizes:
        return
    does = (f"standardizes its {what} with the mean and scale of the {of} of its earlier fit" if standardizes
            else f"does not standardize its {what}")
    raise HyperparameterError(f"{name}={asked}: the model's preprocessor {does}; {EARLIER_FIT_HINT.format(name=name)}")


def prepare_targets(loss, targets, n_outputs: int, dtype, float_hint: str = "", name: str = "y"):
    """``loss.prepare`` of the (encoded) targets; ``float_hint`` is added to its ShapeError,
    since float class labels taken as regression values fail there. A column (n_samples, 1)
    that a classification loss refuses (floats, not labels: see ``as_label_vector``) gets a
    ShapeError naming ``name`` that suggests ``name.ravel()``; integer or boolean columns that
    softmax cross-entropy refuses get a LabelError naming ``name`` that suggests binary
    cross-entropy (multilabel targets)."""
    try:
        return loss.prepare(targets, n_outputs, dtype, n_samples=len(targets))
    except ShapeError as error:
        if loss.task == "classification" and numpy.ndim(targets) == 2 and numpy.shape(targets)[1] == 1:
            raise ShapeError(f"{name}: {error}; for one class label per row pass {name}.ravel()") from None
        raise ShapeError(f"{_named(error, name)}{float_hint}") from None
    except LabelError as error:  # 0/1 columns, several per row, are no probability rows
        if not (isinstance(loss, SoftmaxCrossEntropy) and numpy.ndim(targets) == 2
                and numpy.asarray(targets).dtype.kind in "biu"):
            raise LabelError(_named(error, name)) from None
        raise LabelError(f"{name}: {error}; for several labels per row (0/1 columns) pass "
                         f"loss='binary_cross_entropy'") from None


def _named(error: Exception, name: str) -> str:
    """``error``'s message from a loss's ``prepare`` (which names the loss: "SoftmaxCrossEntropy: target rows
    must ...") led by the argument whose targets it is, ``name``: y and y_val were told apart by nothing."""
    message = str(error)
    return message if message.startswith((f"{name}:", f"{name}[")) else f"{name}: {message}"


def prepare_scaled_targets(preprocessor: Preprocessor, loss, targets, n_outputs: int, dtype, float_hint: str = "",
                           name: str = "y"):
    """``prepare_targets``, then standardized when the preprocessor standardizes the targets:
    prepared in float64, t = (y − target_mean) / target_scale computed there, cast to ``dtype``
    (so that y + 10⁶ keeps its digits, which float32 would round before the subtraction).

    NonFiniteError naming ``name`` for a target whose standardized value is beyond ``dtype``'s
    range (see ``check_standardized_targets_fit``), which the loss would score as infinite."""
    if preprocessor is None or preprocessor.target_mean is None:
        return prepare_targets(loss, targets, n_outputs, dtype, float_hint, name)
    T = prepare_targets(loss, targets, n_outputs, numpy.float64, float_hint, name)
    standardized = standardized_targets(T, preprocessor.target_mean, preprocessor.target_scale)
    check_standardized_targets_fit(preprocessor, T, standardized, dtype, name, one_per_row=numpy.ndim(targets) == 1)
    return standardized.astype(dtype)


def check_standardized_targets_fit(preprocessor: Preprocessor, T, standardized, dtype, name: str,
                                   one_per_row: bool) -> None:
    """NonFiniteError naming ``name`` and the first target of T (prepared, float64) whose
    ``standardized`` value (y − target_mean) / target_scale is too large for ``dtype``: a
    target far outside the training targets (1e10 among targets of spread 1e-30) that the
    cast to ``dtype`` would make infinite. Its index is the row alone for ``one_per_row``
    targets given as a vector, else (row, output)."""
    largest = float(numpy.finfo(dtype).max)
    beyond = numpy.argwhere(numpy.abs(standardized) > largest)
    if not len(beyond):
        return
    row, output = (int(index) for index in beyond[0])
    index = row if one_per_row else (row, output)
    raise NonFiniteError(
        f"{name}: the target at index {index}, {float(T[row, output]):g}, standardized, (y − mean) / scale = "
        f"{float(standardized[row, output]):.4g}, is beyond {numpy.dtype(dtype)}'s range: it lies far outside the "
        f"training targets (mean {float(preprocessor.target_mean[output]):.4g}, scale "
        f"{float(preprocessor.target_scale[output]):.4g}); check it, or train in float64")


def encode_earlier_classes(preprocessor: Preprocessor, y, name: str = "y"):
    """``encode_targets`` with the model's classes from an earlier fit, whose LabelError says so."""
    try:
        return encode_targets(preprocessor, y, name)
    except LabelError as error:
        raise LabelError(f"{error}; the model's classes come from its earlier fit (set model.preprocessor = None "
                         f"to fit new ones)") from None


def fit_preprocessor(X, y, loss, n_outputs: int, standardize: bool, names=None, rows=None) -> Preprocessor:
    """Learn the standardization of X's training ``rows`` (None: all) and the classes of y,
    checking them against the model; the preprocessor keeps X's feature ``names`` (or None)."""
    if loss.task != "classification" or y.ndim != 1:
        made = Preprocessor.fit(X, y, "regression" if loss.task == "regression" else "multilabel",
                                standardize=standardize, feature_names=names, rows=rows)
        if loss.task == "classification":
            made.task = "classification"  # probability targets: the classes are the output indices
            made.classes = list(range(n_outputs))
        return made
    made = Preprocessor.fit(X, y, "classification", standardize=standardize, feature_names=names, rows=rows)
    if y.dtype.kind in "iu" and min(made.classes) >= 0 and max(made.classes) < n_outputs:
        made.classes = list(range(n_outputs))  # integer labels already name the outputs
    elif len(made.classes) != n_outputs:
        binary_hint = ("; use 2 outputs, or loss='binary_cross_entropy' with 0/1 labels"
                       if n_outputs == 1 and len(made.classes) == 2 else "")
        raise LabelError(
            f"y: the model has {n_outputs} outputs but y holds {len(made.classes)} classes "
            f"({', '.join(map(repr, made.classes[:10]))}{', ...' if len(made.classes) > 10 else ''}){binary_hint}"
        )
    return made


def prepare_inputs(preprocessor: Preprocessor, X, dtype, rows=None):
    """Standardize X (or its ``rows``: an integer array) when the preprocessor says so, into the
    model's ``dtype``; X itself when neither standardization nor ``rows`` asks for a copy (X is
    then in ``dtype``: see ``as_inputs``)."""
    if preprocessor.mean is None and rows is None:
        return X
    return preprocessor.transform_checked(X, dtype, rows)


def encode_targets(preprocessor: Preprocessor, y, name: str = "y"):
    """Class labels -> indices for classification with labels; a binary classifier's labels
    (one per row, its classes 0 and 1) as they are when they lie in [0, 1] (soft targets too),
    else a LabelError naming the first outside its classes, as for classification; targets
    unchanged otherwise."""
    labels = numpy.asarray(y)
    if labels.ndim == 1 and preprocessor.task == "classification":
        return preprocessor.encode(labels, name)
    if labels.ndim == 1 and preprocessor.task == "multilabel" and preprocessor.classes is not None:
        # Booleans, 0/1 labels and soft targets in [0, 1] (label smoothing) are what the loss takes as they are.
        if labels.dtype.kind == "b" or (labels.dtype.kind in "iuf" and len(labels) and labels.min() >= 0
                                        and labels.max() <= 1):
            return y
        return preprocessor.encode(labels, name)  # names the first label outside the classes
    return y

