"""MLPClassifier: binary, multi-class and multi-label classification, scikit-learn style."""

from __future__ import annotations

import numpy
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels

from ..checks import check_finite, listing
from ..errors import DTypeError, LabelError, quoted
from ..losses import BinaryCrossEntropy, SoftmaxCrossEntropy
from ._base import NOT_ACCEPTED, PARAMETERS, BaseMLP


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
        fits and then predicts that class for every row.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y), continuing from the current weights and optimizer state.

        ``sample_weight`` comes third, as in scikit-learn, and weights the rows as in ``fit``.
        ``classes`` (every label of the whole data set) is needed on the first call, except
        for multi-label y; a batch may hold only some of them (also with ``warm_start=True``,
        where scikit-learn's partial_fit wants every class of ``classes_`` in each batch). A label of y that is not in
        ``classes`` (or, on a later call, not in ``classes_``) raises LabelError. Returns self.
        """
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
            if classes is not None:
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
        T = self._label_binarizer.transform(y)
        if self._label_binarizer.y_type_ == "multiclass":
            _check_one_class_per_row(T, y, self.classes_)
        return T

    def _check_same_kind(self, y, multilabel: bool) -> None:
        """LabelError naming y when a continued fit switches between class labels and a multilabel
        indicator matrix, which LabelBinarizer refused with a bare ValueError (or, the other way, the
        network's number of outputs did)."""
        fitted = self._label_binarizer.y_type_
        if multilabel and fitted != "multilabel-indicator":
            raise LabelError(f"y: a multilabel indicator matrix of shape {y.shape}, but the classifier was fitted on "
                             f"{fitted} class labels (classes_ {self.classes_}); pass y as a vector of those labels, "
                             f"or fit a new classifier for multilabel y")
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
            raise LabelError(f"`classes={classes!r}` is not the same as on last call to partial_fit, was: {self.classes_!r}")
        if not incremental and set(labels) != set(self.classes_):
            raise LabelError("warm_start can only be used where `y` has the same classes as in the previous call to "
                             f"fit. Previously got {self.classes_}, `y` has {labels}")
        _check_known_labels(labels, self.classes_)

    def _loss(self):
        return SoftmaxCrossEntropy() if self.out_activation_ == "softmax" else BinaryCrossEntropy()

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


def _check_classification_targets(y) -> None:
    """scikit-learn's ``check_classification_targets``, whose refusals name y as chainrule's errors:
    LabelError for None among the labels or for labels that are no classes (floats that are not
    whole numbers: "Unknown label type: continuous", the words its conformance checks look for),
    DTypeError (a TypeError, as scikit-learn's) for labels of types that do not compare (1 and "a").
    Only a refused y is looked at again."""
    try:
        check_classification_targets(y)
    except (ValueError, TypeError) as error:
        labels = numpy.asarray(y, dtype=object)
        missing = next((index for index, label in numpy.ndenumerate(labels) if label is None), None)
        if missing is not None:
            raise LabelError(f"y: expected a class label at every index, found None at index {_shown(missing)}; "
                             f"drop the rows without a label or fill them in") from None
        if isinstance(error, TypeError):
            raise DTypeError(f"y: {SORTABLE}; {error}") from None
        floats = numpy.asarray(y)
        fractions = numpy.flatnonzero(floats != numpy.round(floats)) if floats.dtype.kind == "f" else ()
        if len(fractions):
            index = numpy.unravel_index(fractions[0], floats.shape)
            raise LabelError(f"y: {error} Float class labels must be whole numbers, found "
                             f"{float(floats[index])!r} at index {_shown(index)}; use MLPRegressor for continuous "
                             f"targets") from None
        raise LabelError(f"y: {error}") from None


def _classes_binarizer(classes) -> LabelBinarizer:
    """LabelBinarizer fitted on ``classes``, whose refusals by scikit-learn named nothing ("Unknown label
    type: ([None, 'a'],)", "Mix of label input types (string and number)", or np.unique's "'<' not
    supported between instances of 'str' and 'int'"): LabelError naming classes, or DTypeError (a
    TypeError) for classes of types that do not sort together."""
    try:
        return LabelBinarizer().fit(classes)
    except ValueError as error:
        raise LabelError(f"classes: {error}") from None
    except TypeError as error:
        raise DTypeError(f"classes: {SORTABLE}; {error}") from None


def _shown(index: tuple) -> tuple[int, ...]:
    """An index of numpy.ndenumerate or unravel_index as a tuple of ints, as the other messages show one
    ("at index (2,)" in a vector)."""
    return tuple(int(i) for i in index)


def _check_one_class_per_row(T, y, classes) -> None:
    """LabelError naming the first label of y whose row of the one-hot targets ``T`` holds no 1: a
    string ending in NUL, which NumPy's str arrays drop, so that ``unique_labels`` (and LabelBinarizer's
    ``classes_``) take "a\\0" for "a" while ``transform`` finds it in no class (the network's loss then
    refused the row, naming neither y nor the label)."""
    found = T.any(axis=1)
    if found.all():
        return
    index = int(numpy.argmin(found))
    label = numpy.asarray(y, dtype=object).ravel()[index]
    nul = ""
    if isinstance(label, str) and label.endswith("\0"):
        nul = "; NumPy's str arrays drop a string's trailing NUL ('\\x00'), and so do classes_: strip it from y"
    raise LabelError(f"y: the label {quoted(label)} at index {(index,)} is none of classes_ "
                     f"({listing(classes.tolist())}){nul}")


def _check_known_labels(labels, classes) -> None:
    """LabelError (scikit-learn's message) naming the labels of y that are not in ``classes``."""
    unknown = numpy.setdiff1d(labels, classes)
    if unknown.size:
        raise LabelError(f"`y` has classes not in `self.classes_`: {unknown}. `self.classes_` has {classes}. "
                         f"'y' has {labels}.")
