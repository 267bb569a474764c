"""Export a model to ONNX: its forward pass as a graph of standard operators.

Each layer becomes the ONNX operators that compute the same equation, with the layer's
parameters stored as initializers under their chainrule names (``"0.W"``, ``"1.f.0.b"``)::

    Linear       Z = X W + b       MatMul(X, "0.W") → Add(·, "0.b")     W stays (n_in, n_out)
    ReLU, Tanh, Identity           Relu, Tanh, Identity
    Sigmoid                        exp(min(x, 0)) / (1 + exp(−|x|)) (see _sigmoid)
    Softmax                        Softmax(axis=-1)
    LeakyReLU(α)                   LeakyRelu(alpha=α); max(x, αx) in float64 (see _leaky_relu)
    GELU (tanh form)               Gelu(approximate="tanh") from opset 20; below it written
                                   out as ½ x (1 + tanh(√(2/π)(x + 0.044715 x³)))
    Sequential                     its children's operators, one after another
    Residual     Y = X + f(X)      f's operators, then Add(X, f(X))

The model's saved standardization z = (x − mean)/scale comes first, so the graph takes the
same raw rows as ``cr.predict``; like ``cr.predict``, it computes z in float64 (Cast to double,
Sub, Div with float64 mean and scale, Cast back to the model's dtype), so the subtraction of
a column's mean loses no digits. A regressor trained on standardized targets
(``standardize_targets``) ends, likewise, with ŷ = t̂ · target_scale + target_mean (Cast to
double, Mul, Add, Cast back), so ``"Y"`` is in the targets' units as ``cr.predict``'s values
(which stay float64 there: a float32 graph rounds them to float32). Its input ``"X"`` and
output ``"Y"`` have a dynamic batch dimension and the model's dtype (float32 or float64). A
float32 graph thus takes rows already rounded to float32, where ``cr.predict`` standardizes
rows given in float64 from their float64 values: for a column whose offset float32 cannot hold
to the digits its spread needs (seconds since 1970), train and export a float64 model.
The graph checks nothing of its rows: a row holding NaN or Inf, or one that takes the network
beyond its dtype, which ``cr.predict`` refuses (NonFiniteError), gives NaN or infinite
outputs and a label all the same (docs/usage.md, Interchange).
The ONNX model's ``metadata_props`` say what the outputs mean: ``chainrule.task``, ``chainrule.classes`` (the
labels in output order, as JSON), ``chainrule.standardization`` and, for a regressor trained on
standardized targets, ``chainrule.target_standardization``; and, for a model trained
on a DataFrame, what the input's columns are: ``chainrule.feature_names`` (the column names
in input order, as JSON).

A classifier (preprocessing with task "classification") has a second output, ``"label"`` of
shape (batch,), as scikit-learn's ONNX classifiers do: the label ``cr.predict`` returns, made
by ArgMax over the logits (the first of tied scores, as NumPy's argmax) and Gather from a
constant tensor of the classes. Its type is that of ``cr.predict``'s labels: int64 for integer
classes, string for strings, bool for booleans, double for floats, and int64 class indices
for a classifier without classes. Classes that only an object array holds (ints mixed with
floats or strings, an int beyond int64) have no ONNX type, so their graph has no ``"label"``
(strings ending in NUL, which an object array holds since a str array drops the NUL, are
strings still);
nor has a regressor's or a multilabel model's (``cr.predict`` thresholds those outputs). A
binary classifier (task "multilabel" with two classes for its one output: binary
cross-entropy fitted on one 0/1 label per row) has one too: ``classes[1]`` where the logit is
> 0, else ``classes[0]`` (Greater, Cast, Reshape, Gather), as ``cr.predict`` answers.

The default opset is 17 (:data:`DEFAULT_OPSET`), which every onnxruntime since 1.13 runs;
``opset=20`` or later writes GELU as ONNX's own Gelu operator instead of its equation
(onnxruntime's float64 Gelu kernel is accurate to ~1e-8, the written-out equation to float64's
last digits).
"""

from __future__ import annotations

import json
import os

import numpy

from . import __version__
from .backend import to_numpy
from .checks import flag
from .data.preprocessing import check_preprocessor
from .errors import HyperparameterError, ModelFileError, ShapeError, quoted
from .io.atomic import atomic_write, check_path
from .io.model_file import refuse_to_save_non_finite
from .layers import GELU, Identity, Layer, LeakyReLU, Linear, ReLU, Residual, Sequential, Sigmoid, Softmax, Tanh
from .layers.gelu import CUBIC, SQRT_2_OVER_PI
from .layers.widths import input_width, output_width

MAX_PROTO_BYTES = 2**31 - 1  # protobuf's limit on one serialized message, and so on one .onnx file without external data
DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax over one axis (not a flattened 2-d view) from opset 13 on
GELU_OPSET = 20  # the first opset with a Gelu operator

#: layers that are one ONNX operator without attributes
ELEMENTWISE = {ReLU: "Relu", Tanh: "Tanh", Identity: "Identity"}

#: what cr.predict_proba applies to the outputs, by the preprocessor's task
PROBABILITIES = ("classification", "multilabel")  # the tasks whose outputs softmax or σ makes probabilities


def check_exportable_values(model: Layer, path) -> None:
    """ModelFileError naming ``path`` and the parameter for a weight that is NaN or Inf (a graph
    that answers NaN for every row), and DataError naming the field for a preprocessor that does
    not fit the network (``cr.predict``'s and ``cr.save``'s checks: a scale of 0 would answer NaN,
    a mean of one value broadcast over every column)."""
    refuse_to_save_non_finite({name: to_numpy(array) for name, array in model.params.items()}, path, "export")
    if model.preprocessor is not None:
        check_preprocessor(model.preprocessor, input_width(model), output_width(model), remembered=False)


def to_onnx(model: Layer, path: str | os.PathLike, *, opset: int | None = None, include_preprocessing: bool = True,
            probabilities: bool = False):
    """Write ``model`` to ``path`` as an ONNX model; returns the ``onnx.ModelProto`` written.

    Parameters
    ----------
    model : Layer
        Built from chainrule's own layers (see the module docstring).
    path : str or os.PathLike
        The ``.onnx`` file to write; an existing file is replaced only once the new one is
        complete.
    opset : int, optional
        The ONNX operator set, from 13 to the newest the installed ``onnx`` knows;
        :data:`DEFAULT_OPSET` (17) by default.
    include_preprocessing : bool
        Put the saved standardization (``model.preprocessor``) in front of the network, so
        the graph takes raw rows, and a regressor's target standardization behind it, so it
        answers in the targets' units. Without it, the graph takes standardized rows and
        answers standardized targets.
    probabilities : bool
        End with the Softmax (classification) or Sigmoid (multilabel) that
        ``cr.predict_proba`` applies, so the graph outputs probabilities instead of logits.
        A classifier's ``"label"`` output is there either way (see the module docstring).

    Raises ModelFileError for a layer that cannot be exported (naming its path and type),
    weights over the 2 GiB a single ONNX file holds, a parameter holding NaN or Inf (a
    diverged model, as ``cr.save`` refuses it), or a file that cannot be written; DataError
    naming ``model.preprocessor.<field>`` for a preprocessor that does not fit the network, as
    ``cr.predict`` checks it;
    HyperparameterError for a bad option or a missing ``onnx`` package; ShapeError for
    layers whose widths do not chain.

    Examples
    --------
    >>> import pathlib, tempfile, chainrule as cr
    >>> from chainrule.onnx_export import to_onnx
    >>> model = cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 3), seed=0)
    >>> proto = to_onnx(model, pathlib.Path(tempfile.mkdtemp()) / "model.onnx")
    >>> [node.op_type for node in proto.graph.node]
    ['MatMul', 'Add', 'Relu', 'MatMul', 'Add']
    """
    if not isinstance(model, Layer):
        raise HyperparameterError(f"model: expected a chainrule Layer, got {type(model).__name__}")
    check_path(path)  # before the graph is built
    flag(include_preprocessing, "include_preprocessing")
    flag(probabilities, "probabilities")
    onnx = _import_onnx()  # after the arguments that need no onnx to be checked: their errors come first
    opset = checked_opset(onnx, opset)
    check_weight_bytes(model, path)
    check_exportable_values(model, path)
    preprocessor = model.preprocessor
    task = None if preprocessor is None else preprocessor.task
    if probabilities and task not in PROBABILITIES:
        why = "it has no preprocessing, which would name its task" if task is None else \
            f"its preprocessing says task {task!r}"
        raise HyperparameterError(f"probabilities=True: the model's outputs are not class scores ({why}); "
                                  f"cr.predict_proba would refuse it too")

    model.refresh_paths()  # errors name a layer by its path, as cr.predict does
    graph = _Graph(onnx, model.dtype or numpy.dtype(numpy.float32), opset)
    width = input_width(model, preprocessor)  # None: a symbolic width, "n_features"
    Y = "X"
    if include_preprocessing and preprocessor is not None and preprocessor.mean is not None:
        Y = _standardize(graph, Y, preprocessor)
    logits, width_out = _emit(graph, model, Y, width)
    Y = logits
    if include_preprocessing and preprocessor is not None and preprocessor.target_mean is not None:
        Y = _unstandardize_targets(graph, Y, preprocessor)
    if probabilities:
        Y = graph.node("Softmax", [Y], "probabilities", axis=-1) if task == "classification" else \
            _sigmoid(graph, Y, "probabilities")
    graph.name_output(Y, "Y")
    if task == "classification":
        # The label comes from the logits, as in cr.predict: softmax can round two of them to one probability.
        _label(graph, logits if probabilities else "Y", preprocessor)
    elif task == "multilabel" and preprocessor.classes and len(preprocessor.classes) == 2 and width_out == 1:
        _binary_label(graph, logits if probabilities else "Y", preprocessor)

    proto = graph.model(width, width_out, _properties(preprocessor, include_preprocessing))
    onnx.checker.check_model(proto, full_check=True)
    atomic_write(path, proto.SerializeToString(), error=ModelFileError)
    return proto


def checked_opset(onnx, opset: int | None) -> int:
    """``opset``, or :data:`DEFAULT_OPSET` for None; HyperparameterError naming ``opset`` unless it is
    an integer from :data:`MIN_OPSET` to the newest opset the installed ``onnx`` knows."""
    newest = onnx.defs.onnx_opset_version()
    if opset is None:
        opset = DEFAULT_OPSET
    if isinstance(opset, (bool, numpy.bool_)) or not isinstance(opset, (int, numpy.integer)) \
            or not MIN_OPSET <= opset <= newest:
        raise HyperparameterError(f"opset: expected {opsets(onnx)}, got {quoted(opset)}")
    return int(opset)  # numpy.int64(17) too


def opsets(onnx) -> str:
    """The opsets the installed ``onnx`` writes, in words: "an integer in [13, 28]" (onnx 1.23)."""
    return f"an integer in [{MIN_OPSET}, {onnx.defs.onnx_opset_version()}]"


def check_weight_bytes(model: Layer, path) -> None:
    """ModelFileError naming ``path`` when the weights exceed what one ONNX file (one protobuf message) holds."""
    weight_bytes = sum(array.nbytes for array in model.params.values())
    if weight_bytes > MAX_PROTO_BYTES:
        raise ModelFileError(
            f"{path}: the model's weights take {weight_bytes / 2**30:.2f} GiB, more than the 2 GiB an ONNX file "
            f"(one protobuf message) can hold; chainrule does not export weights as external data"
        )


def _standardize(graph: "_Graph", X: str, preprocessor) -> str:
    """z = (x − mean) / scale in float64, then cast to the model's dtype, as ``cr.predict`` does.

    Preprocessor.transform subtracts the float64 mean from the rows and divides by the float64
    scale before casting; done in float32 instead, a column far from 0 (say 1e5 with std 1)
    would lose its low digits in the subtraction.
    """
    in_float64 = graph.dtype == numpy.float64
    if not in_float64:
        X = graph.node("Cast", [X], "preprocessing/CastToDouble", to=graph.onnx.TensorProto.DOUBLE)
    mean = graph.initializer("preprocessing.mean", preprocessor.mean, dtype=numpy.float64)
    scale = graph.initializer("preprocessing.scale", preprocessor.scale, dtype=numpy.float64)
    Z = graph.node("Div", [graph.node("Sub", [X, mean], "preprocessing/Sub"), scale], "preprocessing/Div")
    if not in_float64:
        Z = graph.node("Cast", [Z], "preprocessing/CastToModel", to=graph.elem_type)
    return Z


def _unstandardize_targets(graph: "_Graph", Y: str, preprocessor) -> str:
    """ŷ = t̂ · target_scale + target_mean in float64, then cast to the model's dtype, as
    ``cr.predict`` computes it (without the cast, float64 there), so that a target far from 0
    (1e6 ± 100) keeps what digits the output's dtype holds."""
    in_float64 = graph.dtype == numpy.float64
    if not in_float64:
        Y = graph.node("Cast", [Y], "target_preprocessing/CastToDouble", to=graph.onnx.TensorProto.DOUBLE)
    mean = graph.initializer("preprocessing.target_mean", preprocessor.target_mean, dtype=numpy.float64)
    scale = graph.initializer("preprocessing.target_scale", preprocessor.target_scale, dtype=numpy.float64)
    Y = graph.node("Add", [graph.node("Mul", [Y, scale], "target_preprocessing/Mul"), mean],
                   "target_preprocessing/Add")
    if not in_float64:
        Y = graph.node("Cast", [Y], "target_preprocessing/CastToModel", to=graph.elem_type)
    return Y


def _emit(graph: "_Graph", layer: Layer, X: str, width: int | None, prefix: str = "") -> tuple[str, int | None]:
    """Add ``layer``'s operators on input tensor ``X`` of ``width`` features (None if unknown).

    ``prefix`` is the layer's path in the model exported, as ``model.walk`` gives it (``"1.0."``;
    ``""`` for the model itself): its parameters' initializers are named as ``model.params``
    names them, also for a model that is part of another or a slice of one, whose layers'
    own ``path`` is that in the whole (``"2.0"`` for the exported ``outer.layers[2]``'s "0").
    Returns the name of the output tensor and its width. Exact types only: a subclass may
    compute something else, so it is refused rather than exported as its parent.
    """
    kind = type(layer)
    where = prefix.removesuffix(".") or kind.__name__
    if kind is Linear:
        if width is not None and width != layer.n_in:
            raise ShapeError(f"cannot export {layer.describe()}: it takes {layer.n_in} features, but receives {width}")
        W = graph.initializer(prefix + "W", layer.own_params["W"])
        b = graph.initializer(prefix + "b", layer.own_params["b"])
        return graph.node("Add", [graph.node("MatMul", [X, W], f"{where}/MatMul"), b], f"{where}/Add"), layer.n_out
    if kind is Sequential:
        for name, child in layer.children():
            X, width = _emit(graph, child, X, width, f"{prefix}{name}.")
        return X, width
    if kind is Residual:
        F, width_f = _emit(graph, layer.f, X, width, f"{prefix}f.")
        if width_f is not None and width is not None and width_f != width:
            raise ShapeError(
                f"cannot export {layer.describe()}: f must keep the width of its input for x + f(x); "
                f"input {width}, f(x) {width_f}"
            )
        return graph.node("Add", [X, F], f"{where}/Add"), width if width is not None else width_f
    if kind in ELEMENTWISE:
        return graph.node(ELEMENTWISE[kind], [X], f"{where}/{ELEMENTWISE[kind]}"), width
    if kind is Sigmoid:
        return _sigmoid(graph, X, where), width
    if kind is Softmax:
        return graph.node("Softmax", [X], f"{where}/Softmax", axis=-1), width
    if kind is LeakyReLU:
        return _leaky_relu(graph, X, layer.alpha, where), width
    if kind is GELU:
        return _gelu(graph, X, where), width
    exportable = ", ".join(cls.__name__ for cls in (Linear, Sequential, Residual, *ELEMENTWISE, Sigmoid, Softmax, LeakyReLU,
                                                    GELU))
    raise ModelFileError(f"cannot export {layer.describe()} to ONNX: chainrule has no ONNX operators for "
                         f"{kind.__module__}.{kind.__qualname__} (exportable layers: {exportable})")


def _label(graph: "_Graph", logits: str, preprocessor) -> None:
    """Add the output ``"label"``: ``classes[argmax(logits)]`` row by row, as ``cr.predict`` computes it.

    The classes are stored as the array ``preprocessor.decode`` takes labels from, so the
    labels have its type. Without classes the label is the index of the largest logit, as in
    ``cr.predict``. No output is added for classes that only an object array holds. (A number
    of classes other than the outputs' was refused before: ``check_exportable_values``.)
    """
    classes = preprocessor.classes
    if not classes:
        graph.name_output(graph.node("ArgMax", [logits], "label/ArgMax", axis=1, keepdims=0), "label")
        graph.add_output("label", graph.onnx.TensorProto.INT64, ["batch"])
        return
    labels = _onnx_labels(preprocessor.decode(numpy.arange(len(classes))))
    if labels is None:
        return
    table = graph.initializer("classes", labels, dtype=labels.dtype)
    index = graph.node("ArgMax", [logits], "label/ArgMax", axis=1, keepdims=0)
    graph.name_output(graph.node("Gather", [table, index], "label/Gather", axis=0), "label")
    graph.add_output("label", graph.tensor_type(labels.dtype), ["batch"])


def _onnx_labels(labels: numpy.ndarray) -> numpy.ndarray | None:
    """``labels``, the array a ``"label"`` output gathers from, or None when no ONNX tensor type
    holds them all (labels of mixed types, an int beyond int64: an object array). An object array
    of strings alone (one ending in NUL, which a str array would drop) is a string tensor."""
    if labels.dtype == object and not all(isinstance(label, str) for label in labels):
        return None
    return labels


def _binary_label(graph: "_Graph", logits: str, preprocessor) -> None:
    """Add the output ``"label"`` of a binary classifier (one logistic output fitted on one 0/1
    label per row, its classes two): ``classes[1]`` where the logit is > 0, else ``classes[0]``,
    as ``cr.predict`` answers, in the type of its labels (bool, int64 or double)."""
    labels = preprocessor.decode(numpy.arange(2))
    table = graph.initializer("classes", labels, dtype=labels.dtype)
    positive = graph.node("Greater", [logits, graph.initializer("label/zero", numpy.zeros(1))], "label/Greater")
    index = graph.node("Cast", [positive], "label/Cast", to=graph.onnx.TensorProto.INT64)
    rows = graph.node("Reshape", [index, graph.initializer("label/shape", [-1], dtype=numpy.int64)], "label/Reshape")
    graph.name_output(graph.node("Gather", [table, rows], "label/Gather", axis=0), "label")
    graph.add_output("label", graph.tensor_type(labels.dtype), ["batch"])


def _sigmoid(graph: "_Graph", X: str, where: str, dtype=None) -> str:
    """σ(x) = exp(min(x, 0)) / (1 + exp(−|x|)), in ``dtype`` (default: the model's).

    It is 1 / (1 + e^{−x}) for x ≥ 0 and e^x / (1 + e^x) for x < 0, as the Sigmoid layer
    computes it: neither exponential overflows, and σ keeps its relative precision for
    negative x, the probability of a rare label. onnxruntime's own Sigmoid kernel does not
    (measured with onnxruntime 1.32 over x in [−100, 100]: relative errors of 3.9 in float32 on
    20,001 points, and above 6 on a finer grid; 1 in float64, where σ(x) for x ≤ −37 came out 0).
    """
    zero, one = graph.constant(0.0, dtype), graph.constant(1.0, dtype)
    numerator = graph.node("Exp", [graph.node("Min", [X, zero], f"{where}/Min")], f"{where}/ExpMin")
    minus_abs = graph.node("Neg", [graph.node("Abs", [X], f"{where}/Abs")], f"{where}/NegAbs")
    denominator = graph.node("Add", [graph.node("Exp", [minus_abs], f"{where}/ExpNegAbs"), one], f"{where}/OnePlus")
    return graph.node("Div", [numerator, denominator], f"{where}/Sigmoid")


def _leaky_relu(graph: "_Graph", X: str, alpha: float, where: str) -> str:
    """LeakyRelu in float32; max(x, αx) in float64, whose α is stored as a float64 tensor.

    ONNX attributes are float32, so LeakyRelu's alpha would lose digits in a float64 model
    (and onnxruntime has no float64 LeakyRelu from opset 19 on). For 0 ≤ α < 1, which
    LeakyReLU guarantees, max(x, αx) is x for x > 0 and αx otherwise.
    """
    if graph.dtype == numpy.float32:
        return graph.node("LeakyRelu", [X], f"{where}/LeakyRelu", alpha=alpha)
    return graph.node("Max", [X, graph.node("Mul", [X, graph.constant(alpha)], f"{where}/Scale")], f"{where}/Max")


def _gelu(graph: "_Graph", X: str, where: str) -> str:
    """GELU in its tanh form: ONNX's Gelu operator, or its equation in primitives before opset 20."""
    if graph.opset >= GELU_OPSET:
        return graph.node("Gelu", [X], f"{where}/Gelu", approximate="tanh")
    # Y = ½ X (1 + tanh(√(2/π) (X + 0.044715 X³))), as GELU.forward computes it
    X3 = graph.node("Mul", [graph.node("Mul", [X, X], f"{where}/Square"), X], f"{where}/Cube")
    U = graph.node("Add", [X, graph.node("Mul", [X3, graph.constant(CUBIC)], f"{where}/Scale")], f"{where}/Inner")
    T = graph.node("Tanh", [graph.node("Mul", [U, graph.constant(SQRT_2_OVER_PI)], f"{where}/U")], f"{where}/Tanh")
    half_X = graph.node("Mul", [X, graph.constant(0.5)], f"{where}/Half")
    return graph.node("Mul", [half_X, graph.node("Add", [T, graph.constant(1.0)], f"{where}/OnePlus")], f"{where}/Gelu")


def _properties(preprocessor, include_preprocessing: bool) -> dict[str, str]:
    """The ONNX model's metadata: what the outputs mean, what the input's columns are and what it must already be."""
    properties = {"chainrule.standardization": "none"}
    if preprocessor is not None:
        properties["chainrule.task"] = preprocessor.task
        if preprocessor.mean is not None:
            properties["chainrule.standardization"] = "in graph" if include_preprocessing else "expected of the input"
        if preprocessor.target_mean is not None:
            properties["chainrule.target_standardization"] = ("in graph" if include_preprocessing
                                                              else "to be undone on the output")
        if preprocessor.classes is not None:
            properties["chainrule.classes"] = json.dumps(preprocessor.classes)
        if preprocessor.feature_names is not None:
            properties["chainrule.feature_names"] = json.dumps(preprocessor.feature_names)
    return properties


def _import_onnx():
    """The ``onnx`` package, imported only when an export asks for it."""
    try:
        import onnx
        import onnx.checker
        import onnx.helper
        import onnx.numpy_helper
    except ImportError:
        raise HyperparameterError(
            "ONNX export needs the onnx package, which is not installed; "
            "install it with: pip install 'chainrule[onnx]'"
        ) from None
    return onnx


class _Graph:
    """The nodes and initializers of the graph being built, with unique tensor names."""

    def __init__(self, onnx, dtype: numpy.dtype, opset: int, output_names=("Y", "label")) -> None:
        self.onnx = onnx
        self.dtype = numpy.dtype(dtype)
        self.elem_type = {"float32": onnx.TensorProto.FLOAT, "float64": onnx.TensorProto.DOUBLE}[self.dtype.name]
        self.opset = opset
        self.nodes, self.initializers = [], []
        self._names = {"X", *output_names}  # the graph's input and outputs: no other tensor takes their names
        self._extra_outputs = []  # outputs after "Y"
        self._constants: dict[tuple, str] = {}  # (value, dtype) -> the initializer's name

    def _unique(self, name: str) -> str:
        unique, count = name, 1
        while unique in self._names:
            count += 1
            unique = f"{name}_{count}"
        self._names.add(unique)
        return unique

    def node(self, op: str, inputs: list[str], name: str, **attributes) -> str:
        """Append one operator; returns the name of its output tensor."""
        output = self._unique(name)
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def initializer(self, name: str, array, dtype: numpy.dtype | None = None) -> str:
        """Store ``array`` as a constant tensor named ``name``, cast to ``dtype`` (default: the model's)."""
        name = self._unique(name)
        values = numpy.ascontiguousarray(to_numpy(array), dtype=self.dtype if dtype is None else dtype)
        if values.dtype.kind == "U":  # a string tensor: onnx 1.15 and older take strings only in an object array
            values = values.astype(object)
        self.initializers.append(self.onnx.numpy_helper.from_array(values, name))
        return name

    def tensor_type(self, dtype: numpy.dtype) -> int:
        """The ONNX element type (a TensorProto enum) of a tensor of NumPy ``dtype``: STRING for str and
        object (strings) alike, where onnx 1.15 and older map object alone."""
        if numpy.dtype(dtype).kind in "UO":
            return self.onnx.TensorProto.STRING
        return self.onnx.helper.np_dtype_to_tensor_dtype(numpy.dtype(dtype))

    def constant(self, value: float, dtype=None) -> str:
        """A scalar constant of ``dtype`` (default: the model's), stored once however often it is used."""
        dtype = self.dtype if dtype is None else numpy.dtype(dtype)
        if (value, dtype) not in self._constants:
            self._constants[value, dtype] = self.initializer(f"const_{value:g}", numpy.array(value), dtype=dtype)
        return self._constants[value, dtype]

    def name_output(self, tensor: str, name: str) -> None:
        """Give the graph's final tensor ``name``: rename the last node's output, or copy the input."""
        if self.nodes and self.nodes[-1].output[0] == tensor:
            self.nodes[-1].output[0] = name
        else:
            self.nodes.append(self.onnx.helper.make_node("Identity", [tensor], [name], name=name))

    def add_output(self, name: str, elem_type: int, shape: list) -> None:
        """Declare tensor ``name`` an output of the graph, after ``"Y"`` (when the graph has one)."""
        self._extra_outputs.append(self.onnx.helper.make_tensor_value_info(name, elem_type, shape))

    def model(self, width_in: int | None, width_out: int | None, properties: dict[str, str], *, with_y: bool = True):
        """The finished ModelProto, with a dynamic batch dimension on input and outputs.

        Its outputs are ``"Y"`` of ``width_out`` columns, then those of :meth:`add_output`;
        with ``with_y=False``, only the latter.
        """
        helper = self.onnx.helper
        inputs = [helper.make_tensor_value_info("X", self.elem_type, ["batch", width_in or "n_features"])]
        outputs = [helper.make_tensor_value_info("Y", self.elem_type, ["batch", width_out or "n_outputs"])] if with_y else []
        outputs += self._extra_outputs
        graph = helper.make_graph(self.nodes, "chainrule", inputs, outputs, self.initializers)
        opset_imports = [helper.make_opsetid("", self.opset)]
        proto = helper.make_model(graph, opset_imports=opset_imports, producer_name="chainrule",
                                  producer_version=__version__)
        proto.ir_version = helper.find_min_ir_version_for(opset_imports)  # older runtimes read it too
        helper.set_model_props(proto, properties)
        return proto
