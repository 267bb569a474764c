"""A model's architecture as plain JSON data, and back.

:func:`to_config` describes a model by its layer types and hyperparameters only (no
weights); :func:`from_config` builds a fresh model from such a description. The layer types
form a fixed allow-list, each read by its own explicit branch: nothing named in a file is
ever imported, looked up as an attribute or called, so a model file can describe a network
but never run code. Every value is checked, and a problem is reported by its JSON path::

    {"type": "Sequential", "layers": [
        {"type": "Linear", "n_in": 64, "n_out": 128, "init": "auto"},
        {"type": "ReLU"},
        {"type": "Residual", "f": {"type": "Sequential", "layers": [...]}},
        {"type": "LeakyReLU", "alpha": 0.01},
        {"type": "Linear", "n_in": 128, "n_out": 10, "init": "auto"}]}

    architecture.layers[4].n_in: expected an integer in [1, 2**31], got -3

The layers must also chain: each Linear layer's ``n_in`` is the width the layers before it
give (the layers without parameters keep the width), and a Residual's ``f`` gives the width
it takes, as ``x + f(x)`` needs. A model that does not chain would load and fail only at its
first prediction; it is refused when checked, so ``save`` does not write it and ``load``
names the file and the layer::

    architecture.layers[2].n_in: expected 3, the width that reaches layer '2' (the output
    of the layers before it), got 5
"""

from __future__ import annotations

import numbers

from ..errors import ModelFileError, quoted
from ..initializers import ALIASES, INITIALIZERS
from ..layers import GELU, Identity, Layer, LeakyReLU, Linear, ReLU, Residual, Sequential, Sigmoid, Softmax, Tanh

#: layers without hyperparameters or parameters: their config is just {"type": name}
PARAMETERLESS = {"Identity": Identity, "ReLU": ReLU, "Sigmoid": Sigmoid, "Tanh": Tanh, "GELU": GELU, "Softmax": Softmax}

#: the keys besides "type" that each layer type's config holds, no more and no fewer
FIELDS = {
    "Linear": ("n_in", "n_out", "init"),
    "LeakyReLU": ("alpha",),
    "Sequential": ("layers",),
    "Residual": ("f",),
    **{name: () for name in PARAMETERLESS},
}

MAX_WIDTH = 2**31
MAX_DEPTH = 64  # composites nested in composites; far beyond any real network
#: layers in all, composites included; far beyond any real network (GPT-3 has ~1,000), and it
#: bounds the time and memory a crafted file can take to check and build (10**6 took 40 s, 1.3 GB)
MAX_LAYERS = 100_000
#: The most hidden layers a multi-layer perceptron (``cr.mlp``'s, ``chainrule train``'s, the scikit-learn
#: estimators') may have for a model file to hold it: MAX_LAYERS layers, the Sequential and the output Linear layer
#: among them, two for each hidden layer (a Linear layer and its activation).
MAX_HIDDEN_LAYERS = (MAX_LAYERS - 2) // 2


def to_config(layer: Layer) -> dict:
    """The architecture of ``layer`` (and everything inside it) as JSON-ready data.

    Raises ModelFileError for a layer type a model file cannot describe (a user's own
    Layer subclass, for instance).

    Examples
    --------
    >>> import chainrule as cr
    >>> to_config(cr.Sequential(cr.Linear(2, 3), cr.ReLU()))
    {'type': 'Sequential', 'layers': [{'type': 'Linear', 'n_in': 2, 'n_out': 3, 'init': 'auto'}, {'type': 'ReLU'}]}
    """
    kind = type(layer)  # exact types: a subclass may compute something else
    if kind is Linear:
        return {"type": "Linear", "n_in": layer.n_in, "n_out": layer.n_out, "init": layer.init}
    if kind is LeakyReLU:
        return {"type": "LeakyReLU", "alpha": layer.alpha}
    if kind is Sequential:
        return {"type": "Sequential", "layers": [to_config(child) for child in layer.layers]}
    if kind is Residual:
        return {"type": "Residual", "f": to_config(layer.f)}
    if PARAMETERLESS.get(kind.__name__) is kind:
        return {"type": kind.__name__}
    raise ModelFileError(
        f"cannot save {layer.describe()}: model files hold only chainrule's own layers "
        f"({', '.join(FIELDS)}); save its weights alone with chainrule.save_weights instead"
    )


def parameter_shapes(config, where: str = "architecture") -> dict[str, tuple[int, ...]]:
    """Check ``config`` and return the parameters it implies: path name -> shape.

    ``{"type": "Sequential", "layers": [{"type": "Linear", "n_in": 2, "n_out": 3, ...}]}``
    gives ``{"0.W": (2, 3), "0.b": (3,)}``. ``where`` names the config in error messages.
    """
    shapes: dict[str, tuple[int, ...]] = {}
    _check(config, where, "", shapes, depth=0, counted=0, width=None)
    return shapes


def from_config(config, dtype="float32", where: str = "architecture", *, draw: bool = True) -> Layer:
    """A new model with the architecture ``config`` and freshly initialized parameters.

    ``draw=False`` skips the random draw: every parameter is zero, and a Linear layer so
    made is never redrawn by a Sequential (its weights count as loaded). For a caller that
    writes the real weights over them at once, as :func:`chainrule.io.load` does; drawing
    would only cost time and memory.

    Raises ModelFileError naming the JSON path of the first problem in ``config``.
    """
    parameter_shapes(config, where)
    return _build(config, dtype, draw)


def _check(config, where: str, prefix: str, shapes: dict, depth: int, counted: int,
           width: int | None) -> tuple[int, int | None]:
    """Validate one layer's config (recursively) and record its parameters' shapes.

    ``counted`` is the number of layers checked before this one; returns it with this
    layer's and those inside it added. More than MAX_LAYERS in all is refused at once.
    ``width`` is the number of features that reach this layer, None before the first Linear
    layer (nothing says it yet); returns, second, the number this layer gives."""
    if depth > MAX_DEPTH:
        raise ModelFileError(f"{where}: layers nested more than {MAX_DEPTH} deep")
    counted += 1
    if counted > MAX_LAYERS:
        raise ModelFileError(f"{where}: more than {MAX_LAYERS:,} layers in all (this is layer {counted:,}); "
                             f"far more than any real network")
    if not isinstance(config, dict):
        raise ModelFileError(f"{where}: expected an object with a \"type\", got {_json_type(config)}")
    if "type" not in config:
        raise ModelFileError(f"{where}: missing key 'type'")
    kind = config["type"]
    if not isinstance(kind, str) or kind not in FIELDS:
        raise ModelFileError(f"{where}.type: unknown layer type {quoted(kind)}; expected one of {', '.join(FIELDS)}")
    expected = set(FIELDS[kind])
    for key in FIELDS[kind]:
        if key not in config:
            raise ModelFileError(f"{where}: missing key {key!r} for a {kind} layer")
    for key in config:
        if key != "type" and key not in expected:
            raise ModelFileError(f"{where}: unexpected key {quoted(key)} for a {kind} layer")

    if kind == "Linear":
        n_in = _width(config["n_in"], f"{where}.n_in")
        n_out = _width(config["n_out"], f"{where}.n_out")
        init = config["init"]
        if not isinstance(init, str) or (init != "auto" and init not in INITIALIZERS and init not in ALIASES):
            known = ", ".join(["auto", *INITIALIZERS, *ALIASES])
            raise ModelFileError(f"{where}.init: unknown initializer {quoted(init)}; expected one of {known}")
        if width is not None and n_in != width:
            raise ModelFileError(f"{where}.n_in: expected {width}, the width that reaches layer {prefix[:-1]!r} "
                                 f"(the output of the layers before it), got {n_in}")
        shapes[prefix + "W"] = (n_in, n_out)
        shapes[prefix + "b"] = (n_out,)
        width = n_out
    elif kind == "LeakyReLU":
        alpha = config["alpha"]
        # The comparison alone also refuses NaN and ±inf; math.isfinite would overflow on a huge JSON integer.
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 <= alpha < 1:
            raise ModelFileError(f"{where}.alpha: expected a number in [0, 1), got {quoted(alpha)}")
    elif kind == "Sequential":
        layers = config["layers"]
        if not isinstance(layers, list):
            raise ModelFileError(f"{where}.layers: expected a list of layers, got {_json_type(layers)}")
        for index, child in enumerate(layers):
            counted, width = _check(child, f"{where}.layers[{index}]", f"{prefix}{index}.", shapes, depth + 1,
                                    counted, width)
    elif kind == "Residual":
        counted, f_width = _check(config["f"], f"{where}.f", f"{prefix}f.", shapes, depth + 1, counted, width)
        if width is None and shapes:
            # No Linear layer came before f, so f's first one is the first of all: it says f's input width.
            width = next(iter(shapes.values()))[0]
        if f_width != width:
            layer = f" of layer {prefix[:-1]!r}" if prefix else ""
            raise ModelFileError(f"{where}.f: gives {f_width} features for an input of {width}; the Residual{layer} "
                                 f"adds f's output to its input (x + f(x)), so f must keep the width")
    return counted, width


def _build(config: dict, dtype, draw: bool) -> Layer:
    """The layer a checked ``config`` describes (see :func:`from_config` for ``draw``)."""
    kind = config["type"]
    if kind == "Linear":
        return Linear(config["n_in"], config["n_out"], init=config["init"], dtype=dtype, _draw=draw)
    if kind == "LeakyReLU":
        return LeakyReLU(config["alpha"])
    if kind == "Sequential":
        return Sequential(*(_build(child, dtype, draw) for child in config["layers"]))
    if kind == "Residual":
        return Residual(_build(config["f"], dtype, draw))
    return PARAMETERLESS[kind]()


def _width(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WIDTH:
        raise ModelFileError(f"{where}: expected an integer in [1, 2**31], got {quoted(value)}")
    return value


def _json_type(value) -> str:
    """The JSON name of ``value``'s type, for messages."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
