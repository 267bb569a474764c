"""MLPClassifier: binary, multi-class and multi-label classification, scikit-learn style."""

from __future__ import annotations

import numpy
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels

from ..checks import check_finite, listing
from ..errors import ChainruleError, DTypeError, LabelError, NonFiniteError, quoted
from ..losses import BinaryCrossEntropy, SoftmaxCrossEntropy
from ..training.prepare import _is_missing, _may_be_missing
from ._base import NOT_ACCEPTED, PARAMETERS, BaseMLP
from ._loss import ClippedBinaryCrossEntropy, ClippedSoftmaxCrossEntropy


class MLPClassifier(ClassifierMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron classifier: a chainrule network in scikit-learn's API.

    A drop-in for ``sklearn.neural_network.MLPClassifier`` with the stochastic solvers: its
    hyperparameters under the same names (listed below), methods and fitted attributes,
    trained by ``cr.fit``.
{NOT_ACCEPTED}

    The outputs, as in scikit-learn, are

    - multi-class (3 or more labels): one logit per class, softmax cross-entropy;
    - binary: one logit, sigmoid and binary cross-entropy (``coefs_[-1]`` has one column);
    - multi-label (y a 0/1 indicator matrix of shape (n_samples, n_labels)): one logit per
      label, each with its own sigmoid and binary cross-entropy.

    ``to_onnx(path)`` writes an ONNX graph whose outputs ``"label"`` and ``"probabilities"``
    are what ``predict`` and ``predict_proba`` return (see ``chainrule.sklearn._onnx``).

    Parameters
    ----------
{PARAMETERS}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (for multi-label, the column indices 0..n_labels−1).
    model_ : chainrule.Sequential
        The trained network: Linear layers with ``activation`` between them, outputs = logits.
    coefs_, intercepts_ : list of ndarray
        Each Linear layer's weights (n_in, n_out) and biases (n_out,), views of ``model_``'s.
        As in scikit-learn, ``coefs_[i] = W`` and ``coefs_ = [W, ...]`` set the weights: the
        arrays are copied into the network, cast to ``dtype``; one of another shape raises
        ShapeError, and one with NaN, Inf or values ``dtype`` cannot hold NonFiniteError,
        naming ``coefs_[i]``. The lists cannot change length (ShapeError).
    loss_ : float
        The last epoch's mean training loss, L2 penalty included (taken at the epoch's last
        weights, where scikit-learn adds each batch's before its step).
    loss_curve_ : list of float
        ``loss_`` after each epoch (across ``warm_start`` fits and ``partial_fit`` calls).
    best_loss_ : float or None
        The lowest ``loss_`` (None with ``early_stopping``).
    validation_scores_ : list of float or None
        The held-out accuracy after each epoch, with ``early_stopping``.
    best_validation_score_ : float or None
        The best of ``validation_scores_``.
    n_iter_ : int
        Epochs run by the last ``fit`` (1 after ``partial_fit``).
    t_ : int
        Training samples seen, in all.
    n_features_in_ : int
        Features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when X had string column names (a DataFrame).
    n_layers_ : int
        Layers of neurons counting the input: ``len(hidden_layer_sizes) + 2``.
    n_outputs_ : int
        Output neurons: 1 for binary, n_classes or n_labels otherwise.
    out_activation_ : {{"softmax", "logistic"}}
        The output function turning logits into probabilities.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from chainrule.sklearn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> classifier = MLPClassifier((16,), learning_rate_init=0.01, max_iter=500, random_state=0).fit(X, y)
    >>> classifier.predict_proba(X[:2]).shape
    (2, 3)
    """

    def fit(self, X, y, sample_weight=None):
        """Train on X of shape (n_samples, n_features) and labels y, (n_samples,) or
        a 0/1 indicator matrix (n_samples, n_labels). Returns self.

        ``sample_weight`` (n_samples,), or a number for every sample, weights the rows'
        losses and the ``early_stopping`` score, as in scikit-learn; None weighs them alike.

        y of a single class raises LabelError naming y, where scikit-learn's MLPClassifier
        fits and then predicts that class for every row. Labels that NumPy's arrays would change
        (a string ending in NUL, strings mixed with numbers in a list, an int beyond int64) are
        refused before they are read (see ``_check_labels_as_given``).
        """
        _check_labels_as_given(y, "y")
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y), continuing from the current weights and optimizer state.

        ``sample_weight`` comes third, as in scikit-learn, and weights the rows as in ``fit``.
        ``classes`` (every label of the whole data set) is needed on the first call, except
        for multi-label y; a batch may hold only some of them (also with ``warm_start=True``,
        where scikit-learn's partial_fit wants every class of ``classes_`` in each batch). A label of y that is not in
        ``classes`` (or, on a later call, not in ``classes_``) raises LabelError. y and ``classes``
        are checked as ``fit`` checks y (``_check_labels_as_given``). Returns self.
        """
        _check_labels_as_given(y, "y")
        if classes is not None:
            _check_labels_as_given(classes, "classes")
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    def predict(self, X):
        """Predicted labels (n_samples,), or the 0/1 indicator matrix for multi-label."""
        P = self._probabilities(X)
        return self._label_binarizer.inverse_transform(P.ravel() if self.n_outputs_ == 1 else P)

    def predict_proba(self, X):
        """Probabilities (n_samples, n_classes) in the order of ``classes_``; for multi-label,
        each label's probability of being 1 (n_samples, n_labels). float64."""
        P = self._probabilities(X)
        return numpy.hstack([1 - P, P]) if self._label_binarizer.y_type_ == "binary" else P

    def predict_log_proba(self, X):
        """The logarithm of ``predict_proba``."""
        return numpy.log(self.predict_proba(X))

    def score(self, X, y, sample_weight=None):
        """The mean accuracy of ``predict(X)`` against y, as scikit-learn's, each row counting its
        ``sample_weight``. y is checked as ``fit`` checks it (``_check_labels_as_given``): a label
        ending in NUL was scored as the label without it (a list) or as wrong (an object array),
        and a list's 1 among strings as the class '1', silently."""
        _check_labels_as_given(y, "y")
        return super().score(X, y, sample_weight=sample_weight)

    def _probabilities(self, X):
        """The output function of the logits, (n_samples, n_outputs), computed in float64."""
        Y = self._predict_outputs(X).astype(numpy.float64)
        return self._loss().transform(Y)

    def _encode_targets(self, y, *, reset: bool, classes, incremental: bool):
        """Labels -> 0/1 targets (n_samples, n_outputs), fitting or checking ``classes_``."""
        if incremental and not reset:
            T = self._encode_known_labels(y, classes)
            if T is not None:
                return T
        _check_classification_targets(y)
        multilabel = type_of_target(y) == "multilabel-indicator"
        if reset:
            if incremental and classes is None and not multilabel:
                raise LabelError("classes must be passed on the first call to partial_fit.")
            if getattr(classes, "dtype", None) is not None:  # a list's NaN was named by _check_labels_as_given
                check_finite(numpy.asarray(classes), "classes")  # LabelBinarizer's error named y
            binarizer = LabelBinarizer().fit(y) if classes is None or multilabel else _classes_binarizer(classes)
            if len(binarizer.classes_) < 2:
                the_class = binarizer.classes_.tolist()[0]  # a Python value: NumPy's repr is np.int64(0)
                raise LabelError(f"y: a classifier needs at least 2 classes; got 1 class ({quoted(the_class)})")
            if not multilabel:
                _check_known_labels(unique_labels(y), binarizer.classes_)
            self._label_binarizer, self.classes_ = binarizer, binarizer.classes_
            self.out_activation_ = "softmax" if binarizer.y_type_ == "multiclass" else "logistic"
        else:
            self._check_same_kind(y, multilabel)
            self._check_same_classes(unique_labels(y), classes, incremental)
        return self._label_binarizer.transform(y)

    def _check_same_kind(self, y, multilabel: bool) -> None:
        """LabelError naming y when a continued fit switches between class labels and a multilabel
        indicator matrix, which LabelBinarizer refused with a bare ValueError (or, the other way, the
        network's number of outputs did)."""
        fitted = self._label_binarizer.y_type_
        if multilabel and fitted != "multilabel-indicator":
            raise LabelError(f"y: a multilabel indicator matrix of shape {y.shape}, but the classifier was fitted on "
                             f"{fitted} class labels (classes_ {_listed(self.classes_)}); pass y as a vector of those "
                             f"labels, or fit a new classifier for multilabel y")
        if not multilabel and fitted == "multilabel-indicator":
            raise LabelError(f"y: class labels of shape {y.shape}, but the classifier was fitted on a multilabel "
                             f"indicator matrix of {len(self.classes_)} columns; pass y as such a 0/1 matrix, or fit "
                             f"a new classifier for class labels")

    def _encode_known_labels(self, y, classes):
        """The targets of a later ``partial_fit`` call, computed in O(n_samples) for the common case:
        a vector of integer or string labels, each one of ``classes_`` (sorted, as LabelBinarizer
        keeps them), and ``classes`` None or the same set. Row n of the targets is then
        ``LabelBinarizer.transform``'s: 1 in the column of its label (for binary, one column, 1
        for ``classes_[1]``), 0 elsewhere. None for anything else, which the general path checks
        (with scikit-learn's own functions) and encodes or refuses with its errors."""
        labels, binarizer = self.classes_, self._label_binarizer
        if not (isinstance(y, numpy.ndarray) and y.ndim == 1 and binarizer.classes_ is labels
                and binarizer.y_type_ in ("binary", "multiclass") and binarizer.pos_label == 1
                and binarizer.neg_label == 0 and not binarizer.sparse_output):
            return None
        if not ((y.dtype.kind in "iu" and labels.dtype.kind in "iu") or y.dtype.kind == labels.dtype.kind == "U"):
            return None
        if classes is not None and not numpy.array_equal(numpy.unique(classes), labels):
            return None
        columns = numpy.searchsorted(labels, y)
        if not numpy.array_equal(labels[numpy.minimum(columns, len(labels) - 1)], y):  # a label not in classes_
            return None
        if binarizer.y_type_ == "binary":
            return (columns == 1)[:, None]
        return columns[:, None] == numpy.arange(len(labels))

    def _check_same_classes(self, labels, classes, incremental: bool) -> None:
        """The labels of a continued fit must be among ``classes_`` (all of them for warm_start)."""
        if classes is not None and not numpy.array_equal(numpy.unique(classes), self.classes_):
            raise LabelError(f"`classes={_listed(classes)}` is not the same as on last call to partial_fit, was: "
                             f"{_listed(self.classes_)}")
        if not incremental and set(labels) != set(self.classes_):
            raise LabelError("warm_start can only be used where `y` has the same classes as in the previous call to "
                             f"fit. Previously got {_listed(self.classes_)}, `y` has {_listed(labels)}")
        _check_known_labels(labels, self.classes_)

    def _loss(self):
        return SoftmaxCrossEntropy() if self.out_activation_ == "softmax" else BinaryCrossEntropy()

    def _training_loss(self):
        """``_loss`` with scikit-learn's L, its log loss of the probabilities clipped to [ε, 1 − ε]
        (``ClippedLogLoss``), and the exact gradient."""
        return ClippedSoftmaxCrossEntropy() if self.out_activation_ == "softmax" else ClippedBinaryCrossEntropy()

    def _stratify(self, T):
        """The labels to stratify the validation split by: as scikit-learn, only a single
        output (binary) is stratified; multi-class and multi-label splits are not."""
        return T[:, 0] if T.shape[1] == 1 else None

    def _validation_score(self, Y, T, weights=None) -> float:
        """Accuracy of logits Y against targets T (for multi-label, rows entirely right),
        each row counting its weight when ``weights`` are given."""
        if self.out_activation_ == "softmax":
            right = Y.argmax(axis=1) == T.argmax(axis=1)
        else:
            right = ((Y > 0) == (T > 0.5)).all(axis=1)
        return float(numpy.average(right, weights=weights))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


SORTABLE = "class labels must be all numbers or all strings, which sort together"  # what np.unique needs
#: Python's and NumPy's numbers and booleans: labels that do not sort with strings
NUMBER_TYPES = (int, float, numpy.number, numpy.bool_)


def _check_classification_targets(y) -> None:
    """scikit-learn's ``check_classification_targets``, whose refusals name y as chainrule's errors (see
    ``_refused_labels``). Only a refused y is looked at again; None, NaN and mixed kinds were named
    before y was read (``_check_labels_as_given``). Bytes are refused here whatever scikit-learn's version
    (:func:`_check_not_bytes`)."""
    _check_not_bytes(y, "y")
    try:
        with numpy.errstate(invalid="ignore"):  # its cast of floats beyond int64 warns (raises under seterr)
            check_classification_targets(y)
    except (ValueError, TypeError) as error:
        raise _refused_labels(y, "y", error) from None


def _classes_binarizer(classes) -> LabelBinarizer:
    """LabelBinarizer fitted on ``classes``, whose refusals by scikit-learn named nothing ("Unknown label
    type: (array([0, 1], dtype=object),)", "Support for labels represented as bytes..."): the error of
    ``_refused_labels`` naming classes."""
    _check_not_bytes(classes, "classes")
    try:
        with numpy.errstate(invalid="ignore"):
            return LabelBinarizer().fit(classes)
    except (ValueError, TypeError) as error:
        raise _refused_labels(classes, "classes", error) from None


def _refused_labels(labels, name: str, error: Exception) -> ChainruleError:
    """The chainrule error naming ``name`` for labels that scikit-learn refused with ``error``:

    - DTypeError (a TypeError, as scikit-learn's) for bytes, naming the first (scikit-learn does not
      decode them), and for labels of types that do not sort together;
    - LabelError for labels that are no classes, naming the first: numbers in an object array, which
      scikit-learn reads only as strings ("Unknown label type: unknown"); floats that are not whole
      numbers ("Unknown label type: continuous", the words its conformance checks look for); floats
      beyond int64, which its check casts them to (its message, which showed every label of classes, is
      left out);
    - LabelError with scikit-learn's message otherwise (also for ragged labels, which make no array)."""
    try:
        values = numpy.asarray(labels)
    except ValueError:
        return LabelError(f"{name}: {error}")
    if isinstance(error, TypeError):
        return _bytes_error(values, name) or DTypeError(f"{name}: {SORTABLE}; {error}")
    if values.dtype == object and values.size and not isinstance(values.flat[0], str):
        index = numpy.unravel_index(0, values.shape)
        label = values[index]
        number = isinstance(label, NUMBER_TYPES)
        advice = f"pass numbers as a numeric array ({name}.astype(int))" if number else "use str or int labels"
        return LabelError(f"{name}: Unknown label type: an object array of class labels must hold strings, as "
                          f"scikit-learn reads it; found {quoted(label)} ({type(label).__name__}) at index "
                          f"{_shown(index)}; {advice}")
    if values.dtype.kind == "f":
        fractions = numpy.flatnonzero(values != numpy.round(values))
        if len(fractions):
            index = numpy.unravel_index(fractions[0], values.shape)
            return LabelError(f"{name}: Unknown label type: continuous. Float class labels must be whole numbers, "
                              f"found {float(values[index])!r} at index {_shown(index)}; use MLPRegressor for "
                              f"continuous targets")
        beyond = numpy.flatnonzero(~((-INT64_END <= values) & (values < INT64_END)))
        if len(beyond):
            index = numpy.unravel_index(beyond[0], values.shape)
            return LabelError(f"{name}: Unknown label type: continuous. Float class labels must lie within int64's "
                              f"range, which scikit-learn casts them to, found {float(values[index])!r} at index "
                              f"{_shown(index)}; {BEYOND_INT64_ADVICE}")
    return LabelError(f"{name}: {error}")


def _check_not_bytes(labels, name: str) -> None:
    """Refuse labels of bytes (:func:`_bytes_error`) before scikit-learn reads them: scikit-learn 1.7 and later
    refuse them, 1.6 took them, and a model fitted on them could not be saved (its classes are no JSON)."""
    try:
        values = numpy.asarray(labels)
    except ValueError:  # ragged: scikit-learn's refusal names it
        return
    if values.dtype.kind in "SO":
        error = _bytes_error(values, name)
        if error is not None:
            raise error


def _bytes_error(values: numpy.ndarray, name: str) -> DTypeError | None:
    """The DTypeError naming ``name`` and the first label of bytes in ``values``, if there is one."""
    cells = values.ravel().tolist()  # Python values: b'a', not NumPy's np.bytes_(b'a')
    found = next((position for position, label in enumerate(cells) if isinstance(label, bytes)), None)
    if found is None:
        return None
    index = _shown(numpy.unravel_index(found, values.shape))
    return DTypeError(f"{name}: class labels of bytes are not supported, as in scikit-learn, found "
                      f"{quoted(cells[found])} at index {index}; decode them to str first, e.g. "
                      f"numpy.char.decode({name}, 'utf-8')")


#: Ints from -INT64_END to INT64_END - 1 are int64's: the class labels NumPy and scikit-learn keep as integers.
INT64_END = 2**63
BEYOND_INT64_ADVICE = "make such labels strings (str(label)), or number the classes 0, 1, 2, ..."


def _check_labels_as_given(labels, name: str) -> None:
    """Refuse, naming ``name`` (y or classes), the label, its index and why, labels that reading them
    into a NumPy array (``validate_data``, ``LabelBinarizer``) would change or that scikit-learn
    names only by the whole array:

    - a missing label: None (LabelError), or NaN, ``pd.NA`` or ``pd.NaT`` (NonFiniteError, as for a
      float y); in a list of strings NaN would become the class 'nan', in an object array it was a
      bare "Input contains NaN", and pd.NA pandas' TypeError "boolean value of NA is ambiguous";
    - strings mixed with numbers or booleans (DTypeError, as when an object array's do not sort
      together): a list's 1 would become the class '1';
    - an int beyond int64 (LabelError): a list's 2**63 becomes a float, and 10**400 gave
      "Unknown label type" with the whole array;
    - a string ending in NUL (LabelError): NumPy's str arrays (and so ``classes_``) drop a trailing
      NUL, so "b\\0" became the class "b" (also in scikit-learn, which in an object array keeps it
      apart from "b" in y but not in ``classes_``, making classes_ ['a', 'b', 'b']).

    Only a list, tuple or array-like of dtype object is looked at: a NumPy array of numbers or of
    str (which dropped any NUL when it was made, before chainrule saw it) passes at no cost, and a
    ragged one (or None) is left to ``validate_data``."""
    dtype = getattr(labels, "dtype", None)
    if labels is None or dtype is not None and getattr(dtype, "kind", "O") != "O":
        return  # no y: validate_data says it is required
    if dtype is None and all(getattr(kind, "kind", "O") != "O" for kind in getattr(labels, "dtypes", [object])):
        return  # a DataFrame of numbers (a multilabel indicator matrix)
    try:
        cells = numpy.asarray(labels, dtype=object)
    except (ValueError, TypeError):
        return
    flat = cells.ravel()
    types = set(map(type, flat))  # one pass in C: the loops below run only for the kinds present

    def at(position: int) -> tuple[int, ...]:
        return _shown(numpy.unravel_index(position, cells.shape))

    def first(found) -> int:
        return next(position for position, label in enumerate(flat) if found(label))

    if any(map(_may_be_missing, types)):
        if all(issubclass(kind, (float, numpy.floating)) for kind in types):  # NaN alone: found in C
            with numpy.errstate(over="ignore"):  # a longdouble beyond float64 is inf, no NaN, under any seterr
                nans = numpy.flatnonzero(numpy.isnan(flat.astype(numpy.float64)))
            missing = int(nans[0]) if len(nans) else None
        else:
            missing = next((position for position, label in enumerate(flat) if _is_missing(label)), None)
        if missing is not None and flat[missing] is None:
            raise LabelError(f"{name}: expected a class label at every index, found None at index {at(missing)}; "
                             f"drop the rows without a label or fill them in")
        if missing is not None:
            raise NonFiniteError(f"{name}: expected finite values, found {flat[missing]!r} at index {at(missing)}; a "
                                 f"missing label: drop the rows without a label or fill them in")
    strings = {kind for kind in types if issubclass(kind, str)}
    numbers = {kind for kind in types if issubclass(kind, NUMBER_TYPES)}
    if strings and numbers:
        string, number = first(lambda label: isinstance(label, str)), first(lambda label: type(label) in numbers)
        raise DTypeError(f"{name}: {SORTABLE}; found {quoted(flat[string])} (str) at index {at(string)} and "
                         f"{quoted(flat[number])} ({type(flat[number]).__name__}) at index {at(number)}")
    if int in types:  # Python's ints (bool is a type of its own here); NumPy's cannot pass int64
        ints = flat.tolist() if types == {int} else [label for label in flat if type(label) is int]
        if not -INT64_END <= min(ints) <= max(ints) < INT64_END:
            big = first(lambda label: type(label) is int and not -INT64_END <= label < INT64_END)
            raise LabelError(f"{name}: the label {quoted(flat[big])} at index {at(big)} is an int beyond int64's range "
                             f"(-2**63 to 2**63 - 1), which NumPy makes a float or an object and scikit-learn's "
                             f"classes cannot hold; {BEYOND_INT64_ADVICE}")
    if strings and types <= strings and "\0" in "".join(flat):  # the join, in C, finds no NUL in nearly every y
        nul = next((position for position, label in enumerate(flat) if label.endswith("\0")), None)
        if nul is not None:
            raise LabelError(f"{name}: the label {quoted(flat[nul])} at index {at(nul)} ends in NUL ('\\x00'), which "
                             f"NumPy's str arrays, and so classes_, drop: it would be taken for "
                             f"{quoted(flat[nul].rstrip(chr(0)))}; strip it from {name}, or replace the NUL")


def _shown(index: tuple) -> tuple[int, ...]:
    """An index of numpy.ndenumerate or unravel_index as a tuple of ints, as the other messages show one
    ("at index (2,)" in a vector)."""
    return tuple(int(i) for i in index)


def _check_known_labels(labels, classes) -> None:
    """LabelError (scikit-learn's message) naming the labels of y that are not in ``classes``."""
    unknown = numpy.setdiff1d(labels, classes)
    if unknown.size:
        raise LabelError(f"`y` has classes not in `self.classes_`: {_listed(unknown)}. `self.classes_` has "
                         f"{_listed(classes)}. 'y' has {_listed(labels)}.")


def _listed(labels) -> str:
    """Labels (an array or a list) for a message, as scikit-learn's show them ("[0 1]"), but each cut
    by :func:`chainrule.errors.quoted` and shortened after 12 (``listing``): a label of 10,000
    characters, or 100,000 classes, made a message of that size. "[0, 1]", "['a', 'b']"."""
    return f"[{listing(numpy.asarray(labels).ravel().tolist())}]"
