"""Model files written by a scikit-learn estimator's ``save`` (``est.save``) in the commands.

Such a file holds the estimator's network plus, in its metadata ``"sklearn"``, what the
estimator knows: its class, ``classes_``, the kind of target. ``predict``, ``evaluate``,
``info`` and ``export`` rebuild the estimator from it (``load_estimator``, which checks the
file) so that they answer as the estimator does:

- a binary or multi-label ``MLPClassifier`` (one logistic output per label, no classes in
  the network's preprocessing) predicts with ``est.predict`` and ``est.predict_proba``
  (columns named by ``classes_``); a binary one is scored by accuracy and the log loss of
  its probabilities (``sklearn.metrics.log_loss`` with ``labels=classes_``); a multi-label
  one is not scored, as the command line's data files hold one label per row, not its
  0/1 rows (LabelError saying so);
- a multi-class ``MLPClassifier`` and an ``MLPRegressor`` are answered by their network, as
  a chainrule model is, because the file's preprocessing already says what they predict (a
  multi-class network's classes are ``classes_``): the same labels and values as the
  estimator, and the same scores as before (a regressor's loss is chainrule's MSE, the
  squared error summed over outputs and averaged over rows, i.e. twice ``loss_``'s half
  squared error for one output).

scikit-learn is imported only for such a file.
"""

from __future__ import annotations

import argparse
import contextlib
import warnings

import numpy

from ..checks import listing
from ..data.preprocessing import other_kind
from ..errors import ConfigError, HyperparameterError, LabelError, ModelFileError, quoted
from ..io import read
from ..io.atomic import check_path

#: MODEL's help, the same for every command that reads one: each answers a file that est.save wrote too
MODEL_HELP = "a model file written by chainrule train, cr.save or an estimator's save"


def model_file(text: str) -> str:
    """MODEL's value (argparse's ``type``): a file name. An empty one (an unset shell variable),
    ``.`` or ``out/`` is refused as the command's usage error, naming MODEL
    (``chainrule info: argument MODEL: expected a file name, got an empty path ''``), where the
    model reader refused it naming its own argument, ``path``."""
    try:
        check_path(text, "MODEL")
    except HyperparameterError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("MODEL: ")) from None
    return text


#: y_type_ as ``chainrule info`` names it
Y_TYPES = {"binary": "binary", "multiclass": "multiclass", "multilabel-indicator": "multilabel"}


def read_model_on(path, device: str):
    """(network, estimator or None) as :func:`read_model_file` reads them, ready to answer on
    ``device``: the network moved there, or, for an estimator that answers itself (which
    computes on the CPU), ConfigError naming --device unless ``device`` is "cpu"."""
    model, estimator = read_model_file(path)
    if answers_itself(estimator):
        check_cpu(device, path)
    else:
        model = model.to(device)
    return model, estimator


def read_model_file(path):
    """(network, estimator or None): the model at ``path``, and the estimator that saved it, if one did."""
    contents = read(path)
    model = contents[0]
    estimator = saved_estimator(path, contents) if "sklearn" in model.metadata else None
    return model, estimator


def saved_estimator(path, contents):
    """The estimator a file written by ``est.save`` holds (ModelFileError naming an unknown one)."""
    from ..sklearn import MLPClassifier, MLPRegressor  # scikit-learn is imported only for such a file
    from ..sklearn._model_file import load_estimator

    saved = contents[0].metadata["sklearn"]
    name = saved.get("estimator") if isinstance(saved, dict) else None
    estimators = {cls.__name__: cls for cls in (MLPClassifier, MLPRegressor)}
    if not isinstance(name, str) or name not in estimators:  # a list or object is no key to look up
        raise ModelFileError(f"{path}: sklearn.estimator: expected one of {', '.join(estimators)}, "
                             f"got {quoted(name, 60)}")
    return load_estimator(estimators[name], path, contents)


def answers_itself(estimator) -> bool:
    """Whether the estimator, not its network, must answer: a classifier with logistic outputs
    (binary or multi-label), whose network knows neither its labels nor its thresholds."""
    return estimator is not None and getattr(estimator, "out_activation_", None) == "logistic"


def check_cpu(device: str, path) -> None:
    """ConfigError naming --device: an estimator that answers itself computes on the CPU."""
    if device != "cpu":
        raise ConfigError(f"--device {device}: {path} is a scikit-learn estimator's file, which is run on the "
                          f"CPU only; leave --device out")


def description(estimator) -> dict:
    """What ``chainrule info`` says of the estimator: its name, and a classifier's kind and classes."""
    described = {"estimator": f"scikit-learn {type(estimator).__name__}"}
    if hasattr(estimator, "classes_"):
        described["y_type"] = Y_TYPES[estimator._label_binarizer.y_type_]
        described["classes"] = estimator.classes_.tolist()
    else:
        described["n_outputs"] = estimator.n_outputs_
    return described


def predictions(estimator, X) -> numpy.ndarray:
    """``est.predict(X)``: labels (n,), or the 0/1 rows (n, n_labels) of a multi-label classifier."""
    with _rows_taken_by_name():
        return estimator.predict(X)


def probabilities(estimator, X) -> numpy.ndarray:
    """``est.predict_proba(X)``: (n, n_classes) in the order of ``classes_``."""
    with _rows_taken_by_name():
        return estimator.predict_proba(X)


def scores(estimator, X, y, data) -> dict:
    """{"loss": log loss, "accuracy": accuracy} of a logistic-output classifier on (X, y).

    ``y`` holds DATA's labels as read (text or numbers): they are matched to ``classes_``
    by value, or by their text for labels of another type ("True" for the class True).
    LabelError naming DATA for a label that is not a class, or for a multi-label classifier,
    whose targets (0/1 rows, one column per label) no data file of the command line holds:
    CSV, NPZ and IDX files give one label per row.
    """
    from sklearn.metrics import accuracy_score, log_loss

    if estimator._label_binarizer.y_type_ == "multilabel-indicator":
        raise LabelError(f"{data}: a multi-label MLPClassifier is scored against 0/1 rows of "
                         f"{len(estimator.classes_)} labels, one column per label, which a CSV, NPZ or IDX file "
                         f"does not hold (one label per row); score it in Python (est.score(X, Y)); chainrule "
                         f"predict answers its rows")
    P = probabilities(estimator, X)
    y = as_classes(y, estimator.classes_, data)
    loss = log_loss(y, P, labels=estimator.classes_)
    return {"loss": float(loss), "accuracy": float(accuracy_score(y, predictions(estimator, X)))}


def as_classes(y, classes: numpy.ndarray, data) -> numpy.ndarray:
    """``y``'s labels as the elements of ``classes`` they name; LabelError naming DATA and the unknown ones.

    Numbers match numbers by value; otherwise a label matches the class whose text it is, or,
    when no class's text is that, the class whose text it is without the spaces around it (a CSV
    file's labels are read without them, where a DataFrame fitted on keeps ' yes').
    """
    y = numpy.asarray(y).ravel()
    if y.dtype.kind in "biuf" and classes.dtype.kind in "biuf":
        matches = y[:, None] == classes[None, :]
        index = numpy.where(matches.any(axis=1), matches.argmax(axis=1), -1)
    else:
        by_text = class_indices_by_text(classes.tolist())
        index = numpy.array([by_text.get(str(label), -1) for label in y.tolist()], dtype=numpy.intp)
    if (index < 0).any():
        unknown = sorted({str(label) for label in y[index < 0].tolist()})
        raise LabelError(f"{data}: labels {listing(unknown, 5)} are not among the model's classes_ "
                         f"{listing(classes.tolist())}{other_kind(y, classes.tolist())}")
    return classes[index]


def class_indices_by_text(classes: list) -> dict:
    """``{text: index}`` of ``classes`` by their text, and by their text without the spaces around
    it where no class's text is that: a CSV file's labels are read without those spaces, where a
    DataFrame or array fitted on keeps them (' yes')."""
    exact = {str(label): k for k, label in enumerate(classes)}
    by_text = {}
    for text, k in exact.items():
        by_text.setdefault(text.strip(), k)
    return {**by_text, **exact}


@contextlib.contextmanager
def _rows_taken_by_name():
    """Silence scikit-learn's warning that X (an array) has no column names: the commands take
    the estimator's columns by name from a CSV header before the rows reach it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        yield
