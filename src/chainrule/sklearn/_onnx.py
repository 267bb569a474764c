"""ONNX graphs of fitted estimators, whose outputs are what ``predict`` and ``predict_proba`` return.

``est.to_onnx(path)`` writes the estimator's network (the operators of
:mod:`chainrule.onnx_export`) followed by what ``predict`` and ``predict_proba`` apply to
its outputs, under the output names of scikit-learn's ONNX converters (skl2onnx)::

    MLPClassifier, multi-class   "label" (batch,)               classes_[argmax p]
                                 "probabilities" (batch, n_classes)   p = softmax(logits)
    MLPClassifier, binary        "label" (batch,)               classes_[1] where p > 0.5, else classes_[0]
                                 "probabilities" (batch, 2)      [1 − p, p], p = σ(logit)
    MLPClassifier, multi-label   "label" (batch, n_labels)      int64: 1 where p > 0.5, else 0
                                 "probabilities" (batch, n_labels)    p = σ(logits)
    MLPRegressor                 "Y" (batch,) for one target, (batch, n_outputs) for several

The input ``"X"`` (batch, n_features_in_), the probabilities and ``"Y"`` have the estimator's
dtype (float32 or float64). As in ``predict_proba``, the probabilities are computed in float64
(a float32 graph casts the logits to double first and the probabilities back to float32).
They and ``"Y"`` are ``predict_proba``'s and ``predict``'s to the rounding of that dtype, but
for GELU from opset 20 on, ONNX's Gelu operator, which onnxruntime computes in float64 to
~1e-8 only (see :mod:`chainrule.onnx_export`).

The labels are made as ``predict`` makes them:

- multi-class: the first class of the largest float64 probability (NumPy's argmax), so two
  logits that the softmax rounds to one probability give the first of their classes;
- binary and multi-label: ``predict`` compares the float64 σ(logit) with 0.5, and whether
  σ rounds a tiny positive logit above 0.5 depends on how ``exp`` rounds. The graph compares
  the logit itself with the largest logit of the network's dtype whose σ, as ``predict``
  computes it, is at most 0.5 (found at export by bisection; σ is monotone), so it draws the
  line exactly where ``predict`` does, p == 0.5 included.

The label's type is that of ``classes_``: int64, string, bool, float64, ... An object
``classes_`` (labels given as an object array, such as a pandas column of strings) gives the
type NumPy infers for its labels when that keeps every label as it is (strings); labels of
mixed types (ints and strings) have no ONNX type, so such a graph has no ``"label"`` output,
as with ``cr.to_onnx``. The labels equal ``predict``'s on every row whose logits onnxruntime
computes as NumPy does: its matrix products may round the last bit differently, which
changes a label only for a logit within that rounding of the decision boundary.

The ONNX model's ``metadata_props`` hold ``chainrule.estimator`` (the class name), for a
classifier ``chainrule.classes`` (``classes_`` as JSON), and for an estimator fitted on a
DataFrame ``chainrule.feature_names`` (``feature_names_in_`` as a JSON list: the graph takes
its input's columns by position, in that order), as ``cr.to_onnx`` writes them.
"""

from __future__ import annotations

import json

import numpy
from sklearn.utils.validation import check_is_fitted

from ..data.preprocessing import _check_text, _labels_array
from ..errors import ModelFileError
from ..io.atomic import atomic_write, check_path
from ..onnx_export import (_emit, _Graph, _import_onnx, _sigmoid, check_exportable_values, check_weight_bytes,
                           checked_opset)

OUTPUT_NAMES = ("label", "probabilities", "Y")
#: the probability above which predict answers 1 (scikit-learn's LabelBinarizer threshold)
THRESHOLD = 0.5


def estimator_to_onnx(estimator, path, opset: int | None = None):
    """Write the fitted ``estimator``'s graph (see the module docstring) to ``path``; returns the ModelProto.

    Raises NotFittedError for an estimator not fitted yet, HyperparameterError for a bad
    ``opset`` or a missing ``onnx`` package, ModelFileError for a weight that is NaN or Inf, a
    label or feature name that UTF-8 cannot encode (see :func:`check_exportable_text`) or a
    file that cannot be written (an existing file is replaced only once the new one is complete).
    """
    check_is_fitted(estimator)
    check_path(path)  # before the graph is built
    onnx = _import_onnx()
    opset = checked_opset(onnx, opset)
    model = estimator.model_
    check_weight_bytes(model, path)
    check_exportable_values(model, path)  # NaN or Inf weights (a diverged fit) answer NaN for every row
    check_exportable_text(estimator, path)
    graph = _Graph(onnx, model.dtype or numpy.dtype(numpy.float32), opset, output_names=OUTPUT_NAMES)
    logits, _ = _emit(graph, model, "X", estimator.n_features_in_)
    properties = {"chainrule.estimator": type(estimator).__name__}
    if hasattr(estimator, "feature_names_in_"):
        properties["chainrule.feature_names"] = json.dumps(estimator.feature_names_in_.tolist())
    if estimator.out_activation_ == "identity":
        _regression_outputs(graph, logits, estimator.n_outputs_)
    else:
        properties["chainrule.classes"] = json.dumps(estimator.classes_.tolist())
        y_type = estimator._label_binarizer.y_type_
        if y_type == "multiclass":
            _multiclass_outputs(graph, logits, estimator.classes_)
        elif y_type == "binary":
            _binary_outputs(graph, logits, estimator)
        else:
            _multilabel_outputs(graph, logits, estimator)
    proto = graph.model(estimator.n_features_in_, None, properties, with_y=False)
    onnx.checker.check_model(proto, full_check=True)
    atomic_write(path, proto.SerializeToString(), error=ModelFileError)
    return proto


def check_exportable_text(estimator, path) -> None:
    """ModelFileError naming ``path``, the attribute and the first label of ``classes_`` or name
    of ``feature_names_in_`` that UTF-8 cannot encode: a str holding a lone surrogate, as Python
    decodes a file or folder name that is not UTF-8 (``os.listdir`` gives "caf\\udce9"). The
    graph holds them as UTF-8 text (the label table, the metadata), so protobuf's raw
    UnicodeEncodeError, which named neither, stopped the export; ``est.save`` refuses them alike."""
    if hasattr(estimator, "classes_"):
        _check_text(estimator.classes_.tolist(), f"{path}: classes_", "label", ModelFileError)
    if hasattr(estimator, "feature_names_in_"):
        _check_text(estimator.feature_names_in_.tolist(), f"{path}: feature_names_in_", "feature name",
                    ModelFileError)


def _regression_outputs(graph: _Graph, outputs: str, n_outputs: int) -> None:
    """``"Y"``: the network's outputs, one column flattened to (batch,) as ``predict`` returns it."""
    if n_outputs == 1:
        graph.name_output(_flatten(graph, outputs, "Y/Flatten"), "Y")
        graph.add_output("Y", graph.elem_type, ["batch"])
    else:
        graph.name_output(outputs, "Y")
        graph.add_output("Y", graph.elem_type, ["batch", n_outputs])


def _multiclass_outputs(graph: _Graph, logits: str, classes: numpy.ndarray) -> None:
    """``"label"``, the class of the first largest float64 probability, and ``"probabilities"``."""
    P = graph.node("Softmax", [_to_double(graph, logits, "probabilities/CastToDouble")], "probabilities/Softmax",
                   axis=-1)
    index = graph.node("ArgMax", [P], "label/ArgMax", axis=1, keepdims=0)
    _add_label(graph, index, classes, ["batch"])
    _add_probabilities(graph, P, len(classes))


def _binary_outputs(graph: _Graph, logits: str, estimator) -> None:
    """``"label"``: classes_[1] where predict's p > 0.5, else classes_[0]; ``"probabilities"`` [1 − p, p]."""
    above = _above_threshold(graph, logits, estimator)
    _add_label(graph, _flatten(graph, above, "label/Flatten"), estimator.classes_, ["batch"])
    p = _sigmoid(graph, _to_double(graph, logits, "probabilities/CastToDouble"), "probabilities", numpy.float64)
    one = graph.initializer("probabilities.one", numpy.array(1.0), dtype=numpy.float64)
    one_minus_p = graph.node("Sub", [one, p], "probabilities/OneMinus")
    _add_probabilities(graph, graph.node("Concat", [one_minus_p, p], "probabilities/Concat", axis=1), 2)


def _multilabel_outputs(graph: _Graph, logits: str, estimator) -> None:
    """``"label"``: the int64 0/1 matrix of predict (p > 0.5); ``"probabilities"`` σ(logits)."""
    graph.name_output(_above_threshold(graph, logits, estimator), "label")
    graph.add_output("label", graph.onnx.TensorProto.INT64, ["batch", estimator.n_outputs_])
    p = _sigmoid(graph, _to_double(graph, logits, "probabilities/CastToDouble"), "probabilities", numpy.float64)
    _add_probabilities(graph, p, estimator.n_outputs_)


def _above_threshold(graph: _Graph, logits: str, estimator) -> str:
    """int64 1 where predict's float64 σ(logit) > 0.5, else 0: the logit compared with a bound."""
    bound = graph.initializer("label.largest_logit_of_p_at_most_half", largest_logit_at_most_half(estimator))
    above = graph.node("Greater", [logits, bound], "label/Greater")
    return graph.node("Cast", [above], "label/Cast", to=graph.onnx.TensorProto.INT64)


def largest_logit_at_most_half(estimator) -> numpy.ndarray:
    """The largest logit of the network's dtype that ``predict`` maps to a probability of at most 0.5.

    ``predict`` casts the logits to float64 and applies the estimator's output function
    (``_loss().transform``, the sigmoid); every logit ≤ 0 gives at most 0.5 and 1 gives more.
    The bisection runs over the bit patterns of the positive floats, which are ordered as
    the floats are.
    """
    dtype = numpy.dtype(estimator.model_.dtype)
    bits = numpy.dtype(f"u{dtype.itemsize}")

    def above_half(pattern: int) -> bool:
        logit = numpy.array([[pattern]], dtype=bits).view(dtype).astype(numpy.float64)
        return bool(estimator._loss().transform(logit)[0, 0] > THRESHOLD)

    low, high = 0, int(numpy.array(1.0, dtype=dtype).view(bits))  # at most 0.5 at low (0.0), above at high
    while high - low > 1:
        middle = (low + high) // 2
        if above_half(middle):
            high = middle
        else:
            low = middle
    return numpy.array(low, dtype=bits).view(dtype)


def _add_label(graph: _Graph, index: str, classes: numpy.ndarray, shape: list) -> None:
    """Output ``"label"``: ``classes[index]``, unless the classes have no ONNX type (see the module docstring)."""
    labels = classes if classes.dtype != object else _labels_array(classes.tolist())
    if labels.dtype == object:
        return
    table = graph.initializer("classes", labels, dtype=labels.dtype)
    graph.name_output(graph.node("Gather", [table, index], "label/Gather", axis=0), "label")
    graph.add_output("label", graph.tensor_type(labels.dtype), shape)


def _add_probabilities(graph: _Graph, P: str, width: int) -> None:
    """Output ``"probabilities"``: the float64 ``P`` in the network's dtype."""
    if graph.dtype != numpy.float64:
        P = graph.node("Cast", [P], "probabilities/CastToModel", to=graph.elem_type)
    graph.name_output(P, "probabilities")
    graph.add_output("probabilities", graph.elem_type, ["batch", width])


def _to_double(graph: _Graph, X: str, name: str) -> str:
    """``X`` as float64: itself in a float64 graph, else a Cast."""
    if graph.dtype == numpy.float64:
        return X
    return graph.node("Cast", [X], name, to=graph.onnx.TensorProto.DOUBLE)


def _flatten(graph: _Graph, X: str, name: str) -> str:
    """``X`` of shape (batch, 1) as (batch,)."""
    shape = graph.initializer(f"{name}.shape", numpy.array([-1]), dtype=numpy.int64)
    return graph.node("Reshape", [X, shape], name)
