"""Estimators in chainrule model files: the network, plus what the estimator knows about it.

``cr.save`` writes the network (weights, architecture, preprocessor); the estimator adds,
in the model's metadata, one JSON entry::

    "sklearn": {"estimator": "MLPClassifier",
                "params": {"hidden_layer_sizes": [100], "alpha": 0.0001, ...},
                "attributes": {"n_features_in_": 64, "classes_": [0, 1, ...],
                               "classes_dtype": "<i8", "y_type_": "multiclass", "loss_curve_": [...], ...}}

and the optimizer's state as extra tensors (``"optimizer.m"``, ``"optimizer.v"``, with its
step count in the extra JSON, and Adam's ``eps_added_to``), so ``partial_fit`` on a loaded estimator continues
exactly:
the optimizer saved is the one the next ``partial_fit`` starts from, a fresh one after
``set_params`` changed the solver or turned SGD's momentum on or off.
Nothing is pickled: ``load`` calls the estimator's class with the saved hyperparameters and
sets the attributes from JSON. A ``random_state`` that is not an int or None (a RandomState
or Generator) cannot be written: it is saved as None, with a warning naming random_state. An int is
all a loaded estimator needs to draw what the saved one would have drawn: each ``fit`` and ``partial_fit``
call seeds a new RandomState from it, as scikit-learn's does (see ``_base.BaseMLP._draws``).
A file written before ``MLPRegressor`` took ``loss`` has no "loss" among its params, and
loads with the default, "squared_error", the only loss there is; one written before the
estimators took ``learning_rate``, ``power_t``, ``shuffle`` and ``max_fun`` loads with their
defaults ("constant", 0.5, True, 15000), which is how it was trained. One written before the estimators'
Adam added ε to √v, as scikit-learn's, has no ``eps_added_to``: its Adam added ε to √v̂, and its
``partial_fit`` goes on so (a new ``fit`` makes a new Adam, which adds it to √v).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from numbers import Integral

import numpy
from sklearn.base import is_classifier
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from ..checks import is_json_count, is_json_number, numpy_dtype
from ..errors import ChainruleWarning, HyperparameterError, ModelFileError, quoted
from ..io import read, save
from ..io.architecture import to_config
from ..io.versions import version_note
from ..layers import Sequential, activation_layer
from ..optimizers import SGD, Adam
from ..optimizers.epsilon import smallest_epsilon
from ..training.checkpoint import saved_eps_form, saved_optimizer_state

#: fitted attributes saved as plain JSON values (floats may be "inf"/"-inf"/"nan")
ATTRIBUTES = ("n_features_in_", "n_outputs_", "n_layers_", "out_activation_", "loss_", "loss_curve_", "n_iter_",
              "t_", "best_loss_", "validation_scores_", "best_validation_score_", "_no_improvement_count")
CLASS_ATTRIBUTES = ("classes_", "classes_dtype", "y_type_")  # a classifier's, besides ATTRIBUTES
FLOAT_ATTRIBUTES = ("loss_", "best_loss_", "best_validation_score_")
COUNT_ATTRIBUTES = ("n_iter_", "t_", "_no_improvement_count")
#: solver -> the saved hyperparameters that reach its optimizer's constructor
OPTIMIZER_PARAMS = {"sgd": ("learning_rate_init", "momentum"),
                    "adam": ("learning_rate_init", "beta_1", "beta_2", "epsilon")}
#: y_type_ -> the number of classes a network with a given number of outputs has
CLASS_COUNTS = {
    "binary": lambda outputs: 2 if outputs == 1 else -1,  # one logistic output for two classes
    "multiclass": lambda outputs: outputs if outputs > 2 else -1,  # one softmax output per class
    "multilabel-indicator": lambda outputs: outputs if outputs > 1 else -1,  # one logistic output per label
}
#: y_type_ -> the task of the network's preprocessor, which cr.predict answers by (a regressor's is "regression"):
#: a binary classifier's one logistic output is a multi-label network's of one label
PREPROCESSOR_TASKS = {"binary": "multilabel", "multiclass": "classification", "multilabel-indicator": "multilabel"}
#: y_type_ -> the out_activation_ a classifier trains and predicts with (a regressor's is "identity")
OUT_ACTIVATIONS = {"binary": "logistic", "multiclass": "softmax", "multilabel-indicator": "logistic"}


def save_estimator(estimator, path) -> None:
    """Write a fitted MLPClassifier or MLPRegressor to ``path`` (see the module's docstring).

    The estimator and its network are not changed: the file's preprocessor (with the labels
    ``classes_`` as its classes, but for multi-label columns, and ``feature_names_in_`` as its
    feature names) and metadata are copies.
    """
    check_is_fitted(estimator)
    # A value set_params gave since fit is refused as fit refuses it, by scikit-learn's name (beta_1, not Adam's beta1)
    estimator._validate_params()
    # The file's hyperparameters must describe its network, as load checks (set_params(activation=...) after fit)
    estimator._check_same_network(estimator._hidden_sizes(), advice="; set it back, or fit anew, before saving")
    params = estimator.get_params(deep=False)
    if not (params["random_state"] is None or isinstance(params["random_state"], Integral)):
        warnings.warn(
            f"random_state: a {type(params['random_state']).__name__} cannot be written to a model file; "
            f"{path} saves random_state=None, so the loaded estimator's next fit draws fresh seeds "
            "(pass an int random_state to save it)", ChainruleWarning, stacklevel=3,
        )
        params["random_state"] = None
    # loss_ is set at the end of an epoch: an estimator whose first epoch diverged has none (null)
    attributes = {name: getattr(estimator, name, None) if name == "loss_" else getattr(estimator, name)
                  for name in ATTRIBUTES}
    if hasattr(estimator, "feature_names_in_"):
        attributes["feature_names_in_"] = estimator.feature_names_in_.tolist()
    model = estimator.model_
    preprocessor = model.preprocessor
    if hasattr(estimator, "feature_names_in_"):
        # The file's network reads a DataFrame by name, as the estimator does (cr.predict of the loaded network)
        preprocessor = dataclasses.replace(preprocessor, feature_names=attributes["feature_names_in_"])
    if is_classifier(estimator):
        attributes["classes_"] = estimator.classes_.tolist()
        attributes["classes_dtype"] = estimator.classes_.dtype.str
        attributes["y_type_"] = estimator._label_binarizer.y_type_
        if attributes["y_type_"] != "multilabel-indicator":
            # The file's classes are the labels, so that cr.predict of the loaded network answers
            # in them (a binary network's one logistic output: classes_[1] where its logit is > 0);
            # the live network keeps its own, which training continues with (see live_preprocessor).
            preprocessor = dataclasses.replace(preprocessor, classes=attributes["classes_"])
    metadata = {**model.metadata, "sklearn": _to_json(
        {"estimator": type(estimator).__name__, "params": params, "attributes": attributes}
    )}

    tensors, extra_json = {}, {}
    if estimator._optimizer is not None:
        # The optimizer the next partial_fit starts from under the hyperparameters as they are now:
        # the one held, or a fresh one after set_params changed the solver or turned momentum on or off.
        optimizer = estimator._make_optimizer(estimator._optimizer.weight_decay, estimator._optimizer)
        state = optimizer.state_dict()
        tensors = {f"optimizer.{name}": array for name, array in state["state"].items()}
        extra_json["optimizer"] = {"t": state["t"], "weight_decay": optimizer.weight_decay}
        if state["missed"]:  # the steps each parameter missed (a state started afresh after a divergence)
            extra_json["optimizer"]["missed"] = state["missed"]
        if type(optimizer) is SGD and estimator._lr_divisions:  # where learning_rate="adaptive" left SGD's rate
            extra_json["optimizer"]["lr_divisions"] = estimator._lr_divisions
        if type(optimizer) is Adam:  # where its ε goes: "sqrt_v", scikit-learn's, or a loaded older file's form
            extra_json["optimizer"]["eps_added_to"] = optimizer.eps_added_to
    # Early stopping's record, also when set_params turned it off since: turned on again, it goes on
    if estimator.validation_scores_ is not None and hasattr(estimator, "_best_theta"):
        tensors["early_stopping.best_theta"] = estimator._best_theta
    # The file gets the preprocessor and metadata made above; the estimator's network is left as it was.
    live = model.preprocessor, model.metadata
    model.preprocessor, model.metadata = preprocessor, metadata
    try:
        save(model, path, extra_tensors=tensors, extra_json=extra_json)
    finally:
        model.preprocessor, model.metadata = live


def load_estimator(cls, path, contents=None):
    """The ``cls`` estimator saved at ``path`` by :func:`save_estimator`; ``contents`` is what
    ``chainrule.io.read(path)`` returned, for a caller that has read the file already.

    Every saved value that sizes an array or steers loading is checked before it is used,
    the network's shapes first, so that nothing in the file can make loading allocate more
    than the file's own tensors (the training record, ``loss_curve_``, ``n_iter_``, ``t_``
    and the validation scores, is restored as saved once its types are checked): the
    network must be the MLP that ``hidden_layer_sizes``, ``activation`` and ``dtype``
    describe, ``out_activation_`` the one its targets call for, the
    number of classes must match the network's outputs, ``classes_dtype`` must be a
    boolean, integer, float, string or object dtype no wider than the longest saved label,
    the optimizer's and early stopping's arrays must have the network's shapes and dtype,
    the hyperparameters its constructor takes must be finite numbers (``epsilon`` at least
    the smallest normal number of the network's dtype), the stopping rule's best a number
    (``best_loss_`` where ``validation_scores_`` is null, else ``best_validation_score_``), and
    the optimizer's step count must be at most 2**53. Any problem is a ModelFileError
    naming the file and the key.
    """
    model, tensors, extra_json = read(path) if contents is None else contents
    saved = model.metadata.get("sklearn")
    if not isinstance(saved, dict) or saved.get("estimator") != cls.__name__:
        found = saved.get("estimator") if isinstance(saved, dict) else "a network without an estimator"
        raise ModelFileError(f"{path}: not a saved {cls.__name__}; the file holds {found!r}")
    if not isinstance(model, Sequential):
        raise ModelFileError(f"{path}: the network is a {type(model).__name__}, not the Sequential of an MLP")
    params = _json_object(saved, "params", path, "sklearn")
    attributes = _json_object(saved, "attributes", path, "sklearn")
    try:
        estimator = cls(**{name: _param_from_json(value) for name, value in params.items()})
        estimator._validate_params()
    except HyperparameterError as error:  # chainrule's own check, which names the hyperparameter first
        raise ModelFileError(f"{path}: sklearn.params.{error}{version_note(model.metadata)}") from None
    except (TypeError, ValueError) as error:  # a hyperparameter a newer release has, or a value it allows
        raise ModelFileError(f"{path}: sklearn.params: {error}{version_note(model.metadata)}") from None
    estimator.model_ = model
    _check_network(estimator, path)
    _check_attribute_names(attributes, is_classifier(estimator), f"{path}: sklearn.attributes",
                           version_note(model.metadata))
    _restore_attributes(estimator, attributes, path)
    if is_classifier(estimator):
        _restore_classes(estimator, attributes, path)
    _check_out_activation(estimator, path)
    _check_file_preprocessor(estimator, path)
    model.preprocessor = _live_preprocessor(estimator, model.preprocessor)
    estimator._optimizer = _restore_optimizer(estimator, tensors, extra_json, path)
    if "early_stopping.best_theta" in tensors:
        estimator._best_theta = _model_vector(estimator, tensors["early_stopping.best_theta"],
                                              "tensor 'early_stopping.best_theta'", path)
    return estimator


def _check_file_preprocessor(estimator, path) -> None:
    """ModelFileError unless the file's preprocessor reads and answers as the estimator does, as
    :func:`save_estimator` writes it: its feature names those of ``feature_names_in_`` (none
    without them; none either in a file saved before the preprocessor held them), its task the
    one the estimator's targets make (``PREPROCESSOR_TASKS``), and no standardization of the inputs
    or the targets, which the estimators do not make. Otherwise ``cr.predict`` of the file's network
    would read a DataFrame's columns in another order than the estimator, or answer other values
    (class indices for a regressor's, or those of standardized inputs)."""
    preprocessor = estimator.model_.preprocessor
    if preprocessor is None:
        return
    kind = estimator._label_binarizer.y_type_ if is_classifier(estimator) else "regressor"
    task = PREPROCESSOR_TASKS.get(kind, "regression")
    if preprocessor.task != task:
        raise ModelFileError(f"{path}: preprocessor.task: expected {task!r} for a {kind} {type(estimator).__name__}, "
                             f"got {quoted(preprocessor.task)}; cr.predict of the file would answer otherwise than "
                             f"the estimator")
    names = getattr(estimator, "feature_names_in_", None)
    expected = None if names is None else names.tolist()
    if preprocessor.feature_names is not None and preprocessor.feature_names != expected:
        raise ModelFileError(f"{path}: preprocessor.feature_names: expected the estimator's feature_names_in_ "
                             f"{quoted(expected, 80)}, got {quoted(preprocessor.feature_names, 80)}; cr.predict of "
                             f"the file would read a DataFrame's columns otherwise than the estimator")
    for field, what in (("mean", "inputs"), ("target_mean", "targets")):  # the file's reader wants scale beside
        value = getattr(preprocessor, field)
        if value is not None:
            raise ModelFileError(f"{path}: preprocessor.{field}: expected none, as {type(estimator).__name__} does "
                                 f"not standardize its {what}, got {quoted(value.tolist(), 80)}; cr.predict of the "
                                 f"file would answer other values than the estimator")


def _live_preprocessor(estimator, preprocessor):
    """The preprocessor the estimator's network trains on, from the file's: without the feature
    names (the estimator checks them itself, in ``validate_data``) and, for a binary classifier,
    without the labels (its network learns 0/1 columns, as when it was fitted)."""
    if preprocessor is None:
        return None
    binary = is_classifier(estimator) and estimator._label_binarizer.y_type_ == "binary"
    return dataclasses.replace(preprocessor, feature_names=None,
                               classes=None if binary else preprocessor.classes)


def _json_object(parent: dict, key: str, path, where: str) -> dict:
    """``parent[key]``, which must be a JSON object."""
    value = parent.get(key)
    if not isinstance(value, dict):
        raise ModelFileError(f"{path}: {where}.{key}: expected a JSON object, got {quoted(value, 60)}")
    return value


def _check_network(estimator, path) -> None:
    """ModelFileError unless the network is the MLP the saved hyperparameters describe: Linear
    layers, with the layer ``activation`` makes (its settings included) between each two and
    none after the last (the output activation is the estimator's, ``out_activation_``), of the
    widths ``hidden_layer_sizes`` gives, in ``dtype`` (``_check_same_network``, as when
    training continues)."""
    layers = estimator.model_.layers
    between = to_config(activation_layer(estimator.activation))
    for index, layer in enumerate(layers):
        config = to_config(layer)
        expected = between if index % 2 else {"type": "Linear"}
        if any(config.get(key) != value for key, value in expected.items()):
            raise ModelFileError(
                f"{path}: architecture.layers[{index}]: expected {expected} (an MLP with "
                f"sklearn.params.activation={estimator.activation!r}), got {config}"
            )
    if len(layers) % 2 == 0:
        raise ModelFileError(f"{path}: architecture.layers: expected a Linear layer last, got {len(layers)} layers "
                             f"ending with {to_config(layers[-1]) if layers else 'none'}")
    try:
        estimator._check_same_network(estimator._hidden_sizes(), advice="")
    except HyperparameterError as error:
        raise ModelFileError(f"{path}: sklearn.params.{error}") from None


def _check_attribute_names(attributes: dict, classifier: bool, where: str, note: str) -> None:
    """ModelFileError naming an attribute this chainrule does not write (a newer release's,
    ``note`` naming it), which loading would otherwise drop silently."""
    known = {*ATTRIBUTES, "feature_names_in_", *(CLASS_ATTRIBUTES if classifier else ())}
    for name in attributes:
        if name not in known:
            raise ModelFileError(f"{where}: unexpected attribute {quoted(name, 60)}, "
                                 f"not one this chainrule writes{note}")


def _restore_attributes(estimator, attributes: dict, path) -> None:
    """Set the fitted attributes, after checking those the network's shapes fix."""
    for name in ATTRIBUTES:
        if name not in attributes:
            raise ModelFileError(f"{path}: sklearn.attributes: missing key {name!r}")
        setattr(estimator, name, attributes[name])
    shapes = [W.shape for W in estimator.coefs_]  # one at least: _check_network found the MLP
    for name, width in (("n_features_in_", shapes[0][0]), ("n_outputs_", shapes[-1][1])):
        value = attributes[name]
        if type(value) is not int or value != width:
            raise ModelFileError(
                f"{path}: sklearn.attributes.{name}: expected {width} from the network's weights {shapes}, "
                f"got {quoted(value, 60)}"
            )
    if type(attributes["n_layers_"]) is not int or attributes["n_layers_"] != len(shapes) + 1:
        raise ModelFileError(f"{path}: sklearn.attributes.n_layers_: expected {len(shapes) + 1} from the network's "
                             f"{len(shapes)} Linear layers, got {quoted(attributes['n_layers_'], 60)}")
    for name in COUNT_ATTRIBUTES:
        if not is_json_count(attributes[name]):
            raise ModelFileError(f"{path}: sklearn.attributes.{name}: expected an integer >= 0, "
                                 f"got {quoted(attributes[name], 60)}")
    for name in FLOAT_ATTRIBUTES:
        if attributes[name] is not None:
            setattr(estimator, name, _float(attributes[name], f"{path}: sklearn.attributes.{name}", " or null"))
    for name in ("loss_curve_", "validation_scores_"):
        values = attributes[name]
        if values is None and name == "validation_scores_":  # None without early_stopping
            continue
        if not isinstance(values, list):
            raise ModelFileError(f"{path}: sklearn.attributes.{name}: expected a list of numbers, "
                                 f"got {quoted(values, 60)}")
        setattr(estimator, name, [_float(value, f"{path}: sklearn.attributes.{name}[{index}]")
                                  for index, value in enumerate(values)])
    # The stopping rule's best, as _reset_stopping makes it: the training loss's without a validation
    # set (validation_scores_ null), the validation score's with one; the next fit or partial_fit compares to it.
    best, why = ("best_loss_", "null (no validation set)") if estimator.validation_scores_ is None else (
        "best_validation_score_", "a list (early stopping)")
    if attributes[best] is None:
        raise ModelFileError(f"{path}: sklearn.attributes.{best}: expected a number, as validation_scores_ is {why}, "
                             f"got null")
    if "feature_names_in_" in attributes:
        names = attributes["feature_names_in_"]
        if (not isinstance(names, list) or len(names) != estimator.n_features_in_
                or not all(isinstance(name, str) for name in names)):
            raise ModelFileError(
                f"{path}: sklearn.attributes.feature_names_in_: expected a list of {estimator.n_features_in_} "
                f"strings, got {quoted(names, 60)}"
            )
        estimator.feature_names_in_ = numpy.asarray(names, dtype=object)


def _restore_classes(estimator, attributes: dict, path) -> None:
    """``classes_`` in its original dtype, and the LabelBinarizer that maps them to outputs.

    The labels' number, types and dtype are checked before any array is made from them.
    """
    where = f"{path}: sklearn.attributes"
    for name in CLASS_ATTRIBUTES:
        if name not in attributes:
            raise ModelFileError(f"{where}: missing key {name!r}")
    labels, y_type = attributes["classes_"], attributes["y_type_"]
    outputs = estimator.n_outputs_
    if not isinstance(y_type, str) or y_type not in CLASS_COUNTS:
        raise ModelFileError(f"{where}.y_type_: expected one of {', '.join(CLASS_COUNTS)}, got {quoted(y_type, 60)}")
    expected = CLASS_COUNTS[y_type](outputs)
    if expected < 0:
        raise ModelFileError(f"{where}.y_type_: {y_type!r} does not fit a network with {outputs} outputs")
    if not isinstance(labels, list) or len(labels) != expected:
        raise ModelFileError(
            f"{where}.classes_: expected a list of {expected} labels (a {y_type} network with {outputs} outputs), "
            f"got {quoted(labels, 60)}"
        )
    if not all(isinstance(label, (str, int, float, bool)) for label in labels):
        raise ModelFileError(f"{where}.classes_: expected strings or numbers, got {quoted(labels, 60)}")
    nul = next((index for index, label in enumerate(labels) if isinstance(label, str) and label.endswith("\0")), None)
    if nul is not None:  # which fit refuses: cr.predict of the file would answer it, the estimator the label without
        raise ModelFileError(f"{where}.classes_[{nul}]: the label {quoted(labels[nul])} ends in NUL ('\\x00'), which "
                             f"NumPy's str arrays, and so the estimator's classes_, drop; MLPClassifier saves none")
    dtype = _classes_dtype(attributes["classes_dtype"], labels, f"{where}.classes_dtype")
    binarizer = LabelBinarizer()
    try:
        classes = numpy.asarray(labels, dtype=dtype)
        if y_type == "multilabel-indicator":
            binarizer.fit(numpy.eye(2, len(classes), dtype=int))  # two rows are enough to name every column
        else:
            binarizer.fit(classes)
    except (OverflowError, TypeError, ValueError) as error:
        raise ModelFileError(f"{where}.classes_: {quoted(labels, 80)} are not labels of dtype {dtype} "
                             f"({error})") from None
    changed = next((index for index, (label, kept) in enumerate(zip(labels, classes.tolist())) if label != kept), None)
    if changed is not None:  # 2**53 + 1 as float64: the estimator would answer 2**53, cr.predict of the file the label
        raise ModelFileError(f"{where}.classes_[{changed}]: the label {quoted(labels[changed], 60)} is "
                             f"{quoted(classes.tolist()[changed], 60)} as dtype {dtype}; expected labels that "
                             f"classes_dtype holds exactly, as est.save writes them")
    if binarizer.y_type_ != y_type or not numpy.array_equal(binarizer.classes_, classes):
        raise ModelFileError(f"{where}.classes_: {quoted(labels, 80)} do not make a {y_type!r} target")
    preprocessor = estimator.model_.preprocessor
    found = None if preprocessor is None else preprocessor.classes
    # save writes classes_ as the network's labels, so that cr.predict of the file answers in them; a binary
    # classifier's file from before that holds none (its bare network answers 0/1), which the estimator never read
    if y_type != "multilabel-indicator" and not (found is None and y_type == "binary") and list(found or ()) != labels:
        raise ModelFileError(f"{path}: preprocessor.classes: expected the estimator's classes_ {quoted(labels, 80)}, "
                             f"got {quoted(found, 80)}; cr.predict of the file would answer other labels than "
                             f"the estimator")
    estimator._label_binarizer, estimator.classes_ = binarizer, binarizer.classes_


def _check_out_activation(estimator, path) -> None:
    """ModelFileError unless ``out_activation_`` is the one the estimator's targets call for:
    "identity" for a regressor, the one ``OUT_ACTIVATIONS`` gives its ``y_type_`` for a classifier."""
    expected = OUT_ACTIVATIONS[estimator._label_binarizer.y_type_] if is_classifier(estimator) else "identity"
    if estimator.out_activation_ != expected:
        raise ModelFileError(f"{path}: sklearn.attributes.out_activation_: expected {expected!r}, "
                             f"got {quoted(estimator.out_activation_, 60)}")


def _classes_dtype(text, labels: list, where: str) -> numpy.dtype:
    """The dtype named by ``text``: boolean, integer or float of at most 8 bytes, object, or
    a string type no longer than the longest label (as scikit-learn's ``classes_`` are)."""
    dtype = numpy_dtype(text) if isinstance(text, str) else None
    if dtype is None or dtype.kind not in "biufUO":
        raise ModelFileError(f"{where}: expected a boolean, integer, float, string or object dtype, "
                             f"got {quoted(text, 60)}")
    if dtype.kind in "biuf" and dtype.itemsize > 8:
        raise ModelFileError(f"{where}: expected a dtype of at most 8 bytes, got {text!r}")
    if dtype.kind == "U":
        if not all(isinstance(label, str) for label in labels):
            raise ModelFileError(f"{where}: {text!r} is a string dtype, but classes_ holds labels that are not strings")
        longest = max(len(label) for label in labels)
        if dtype.itemsize // 4 > longest:
            raise ModelFileError(f"{where}: {text!r} is wider than the longest label ({longest} characters)")
    return dtype


def _restore_optimizer(estimator, tensors: dict, extra_json: dict, path):
    """The optimizer saved in the file with its state and step count, or None if none was; SGD's
    learning rate continues its schedule (``lr_divisions``: how often learning_rate="adaptive" divided it)."""
    if "optimizer" not in extra_json:  # the new estimator's _lr_divisions is the class's 0
        return None
    saved = _json_object(extra_json, "optimizer", path, "extra_json")
    _check_optimizer_params(estimator, path)
    weight_decay = saved.get("weight_decay")
    if not is_json_number(weight_decay, finite=True) or weight_decay < 0:
        raise ModelFileError(
            f"{path}: extra_json.optimizer.weight_decay: expected a finite number >= 0, got {quoted(weight_decay, 60)}"
        )
    divisions = saved.get("lr_divisions", 0)  # a file without it: none (or one from before the schedules)
    if not is_json_count(divisions):
        raise ModelFileError(f"{path}: extra_json.optimizer.lr_divisions: expected an integer >= 0, "
                             f"got {quoted(divisions, 60)}")
    estimator._lr_divisions = divisions
    # Adam's ε: where the saved state's steps added it. A file written before this was saved added it to √v̂
    # (cr.Adam's default), and its partial_fit goes on so; a new fit makes a new Adam, with scikit-learn's √v.
    form = saved_eps_form(saved, path, "extra_json.optimizer") if estimator.solver == "adam" else None
    try:
        optimizer = estimator._make_optimizer(float(weight_decay), resumed=True, eps_added_to=form)
    except HyperparameterError as error:  # the schedule's rate from the saved t_ and power_t rounds to 0
        raise ModelFileError(f"{path}: sklearn.params.{error}") from None
    optimizer.load_state_dict(saved_optimizer_state(saved, tensors, optimizer, path, "extra_json.optimizer"))
    return optimizer


def _check_optimizer_params(estimator, path) -> None:
    """ModelFileError naming ``sklearn.params.<name>`` for a saved hyperparameter that scikit-learn's
    range checks let through but the optimizer's constructor would refuse (with a HyperparameterError,
    or a TypeError for a JSON integer too large for a float): one that is not a finite number
    (a bool, 10**400), or an ``epsilon`` below the smallest normal number of the network's dtype."""
    for name in OPTIMIZER_PARAMS[estimator.solver]:
        value = getattr(estimator, name)
        if not is_json_number(value, finite=True):
            raise ModelFileError(f"{path}: sklearn.params.{name}: expected a finite number, got {quoted(value, 60)}")
    if estimator.solver == "adam":
        smallest = smallest_epsilon(estimator.model_.dtype)
        if estimator.epsilon < smallest:
            raise ModelFileError(
                f"{path}: sklearn.params.epsilon: expected a number >= {smallest:.8g}, the smallest normal "
                f"{numpy.dtype(estimator.model_.dtype).name} (the network's dtype), got {estimator.epsilon!r}"
            )


def _model_vector(estimator, array, where: str, path):
    """``array``, checked to have the shape and dtype of the network's flat parameters θ."""
    theta = estimator.model_.flat_parameters().theta
    if array.shape != theta.shape or array.dtype != theta.dtype:
        raise ModelFileError(
            f"{path}: {where} has shape {array.shape} and dtype {array.dtype}; "
            f"the network needs {theta.shape} and {theta.dtype}"
        )
    return array


def _float(value, where: str, also: str = "") -> float:
    """A number saved by ``_to_json``: a JSON number, or a string such as "inf" or "nan";
    ModelFileError naming ``where`` for anything else (``also`` names what else was allowed)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ModelFileError(f"{where}: expected a number{also}, got {quoted(value, 60)}")
    try:
        return float(value)
    except (ValueError, OverflowError):  # "abc", or an int too large for a float
        raise ModelFileError(f"{where}: expected a number{also}, got {quoted(value, 60)}") from None


def _to_json(value):
    """``value`` as plain JSON data: NumPy scalars unwrapped, tuples as lists, ±inf and NaN as strings."""
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, numpy.ndarray)):
        return [_to_json(item) for item in value]
    if isinstance(value, numpy.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _param_from_json(value):
    """A hyperparameter from JSON: lists (hidden_layer_sizes) as tuples, "inf" as numpy.inf."""
    if isinstance(value, list):
        return tuple(value)
    if value == "inf":
        return numpy.inf
    return value
