"""Estimators in chainrule model files: the network, plus what the estimator knows about it.

``cr.save`` writes the network (weights, architecture, preprocessor); the estimator adds,
in the model's metadata, one JSON entry::

    "sklearn": {"estimator": "MLPClassifier",
                "params": {"hidden_layer_sizes": [100], "alpha": 0.0001, ...},
                "attributes": {"n_features_in_": 64, "classes_": [0, 1, ...],
                               "classes_dtype": "<i8", "y_type_": "multiclass", "loss_curve_": [...], ...}}

and the optimizer's state as extra tensors (``"optimizer.m"``, ``"optimizer.v"``, with its
step count in the extra JSON), so ``partial_fit`` on a loaded estimator continues exactly.
Nothing is pickled: ``load`` calls the estimator's class with the saved hyperparameters and
sets the attributes from JSON. A ``random_state`` that is not an int or None (a RandomState)
cannot be written and is saved as None.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy
from sklearn.base import is_classifier
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from ..errors import ModelFileError
from ..io import read, save
from ..layers import Sequential

#: fitted attributes saved as plain JSON values (floats may be "inf"/"-inf"/"nan")
ATTRIBUTES = ("n_features_in_", "n_outputs_", "n_layers_", "out_activation_", "loss_", "loss_curve_", "n_iter_",
              "t_", "best_loss_", "validation_scores_", "best_validation_score_", "_no_improvement_count")
FLOAT_ATTRIBUTES = ("loss_", "best_loss_", "best_validation_score_")


def save_estimator(estimator, path) -> None:
    """Write a fitted MLPClassifier or MLPRegressor to ``path`` (see the module's docstring)."""
    check_is_fitted(estimator)
    params = estimator.get_params(deep=False)
    if not (params["random_state"] is None or isinstance(params["random_state"], Integral)):
        params["random_state"] = None
    attributes = {name: getattr(estimator, name) for name in ATTRIBUTES}
    if hasattr(estimator, "feature_names_in_"):
        attributes["feature_names_in_"] = estimator.feature_names_in_.tolist()
    model = estimator.model_
    if is_classifier(estimator):
        attributes["classes_"] = estimator.classes_.tolist()
        attributes["classes_dtype"] = estimator.classes_.dtype.str
        attributes["y_type_"] = estimator._label_binarizer.y_type_
        if estimator.out_activation_ == "softmax":
            model.preprocessor.classes = attributes["classes_"]  # so cr.predict answers in these labels
    model.metadata["sklearn"] = _to_json(
        {"estimator": type(estimator).__name__, "params": params, "attributes": attributes}
    )

    tensors, extra_json = {}, {}
    if estimator._optimizer is not None:
        state = estimator._optimizer.state_dict()
        tensors = {f"optimizer.{name}": array for name, array in state["state"].items()}
        extra_json["optimizer"] = {"t": state["t"], "weight_decay": estimator._optimizer.weight_decay}
    if estimator.early_stopping and hasattr(estimator, "_best_theta"):
        tensors["early_stopping.best_theta"] = estimator._best_theta
    save(model, path, extra_tensors=tensors, extra_json=extra_json)


def load_estimator(cls, path):
    """The ``cls`` estimator saved at ``path`` by :func:`save_estimator`."""
    model, tensors, extra_json = read(path)
    saved = model.metadata.get("sklearn")
    if not isinstance(saved, dict) or saved.get("estimator") != cls.__name__:
        found = saved.get("estimator") if isinstance(saved, dict) else "a network without an estimator"
        raise ModelFileError(f"{path}: not a saved {cls.__name__}; the file holds {found!r}")
    try:
        estimator = cls(**{name: _param_from_json(value) for name, value in saved["params"].items()})
        attributes = saved["attributes"]
        for name in ATTRIBUTES:
            setattr(estimator, name, attributes[name])
        for name in FLOAT_ATTRIBUTES:
            if attributes[name] is not None:
                setattr(estimator, name, float(attributes[name]))
        if "feature_names_in_" in attributes:
            estimator.feature_names_in_ = numpy.asarray(attributes["feature_names_in_"], dtype=object)
        if is_classifier(estimator):
            _restore_classes(estimator, attributes)
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: damaged estimator metadata ({type(error).__name__}: {error})") from None
    if not isinstance(model, Sequential):
        raise ModelFileError(f"{path}: the network is a {type(model).__name__}, not the Sequential of an MLP")
    estimator.model_ = model
    shapes = [W.shape for W in estimator.coefs_]
    if not shapes or shapes[0][0] != estimator.n_features_in_ or shapes[-1][1] != estimator.n_outputs_:
        raise ModelFileError(
            f"{path}: the network's weights {shapes} do not match n_features_in_={estimator.n_features_in_} "
            f"and n_outputs_={estimator.n_outputs_}"
        )

    estimator._optimizer = None
    if "optimizer" in extra_json:
        estimator._optimizer = estimator._make_optimizer(extra_json["optimizer"]["weight_decay"])
        state = {name.partition(".")[2]: array for name, array in tensors.items() if name.startswith("optimizer.")}
        estimator._optimizer.load_state_dict({"t": extra_json["optimizer"]["t"], "state": state})
    if "early_stopping.best_theta" in tensors:
        estimator._best_theta = tensors["early_stopping.best_theta"]
    return estimator


def _restore_classes(estimator, attributes: dict) -> None:
    """``classes_`` in its original dtype, and the LabelBinarizer that maps them to outputs."""
    classes = numpy.asarray(attributes["classes_"], dtype=numpy.dtype(attributes["classes_dtype"]))
    binarizer = LabelBinarizer()
    if attributes["y_type_"] == "multilabel-indicator":
        binarizer.fit(numpy.eye(len(classes), dtype=int))
    else:
        binarizer.fit(classes)
    if binarizer.y_type_ != attributes["y_type_"] or not numpy.array_equal(binarizer.classes_, classes):
        raise ValueError(f"classes_ {attributes['classes_']!r} do not make a {attributes['y_type_']!r} target")
    estimator._label_binarizer, estimator.classes_ = binarizer, binarizer.classes_


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
