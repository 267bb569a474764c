"""Weights in PyTorch's layout: state dicts that ``torch.nn.Sequential`` loads, and back.

chainrule names a network's parts as torch.nn does (a Sequential's children by their index,
nested ones by dotted path), so a parameter's torch name is its chainrule name with the last
part renamed. torch.nn.Linear computes X Wᵀ + b, so its weight is chainrule's W transposed::

    chainrule                        torch.nn
    "0.W"  (n_in, n_out)      <->    "0.weight"  (out_features, in_features) = Wᵀ
    "0.b"  (n_out,)           <->    "0.bias"    (out_features,)

Activations hold no parameters and keep their index: ``Sequential(Linear, ReLU, Linear)``
has ``"0.weight"`` and ``"2.weight"`` in both libraries. A nested Sequential is a nested
``torch.nn.Sequential`` (``"1.0.weight"``). torch.nn has no residual block; a Residual's block
is its child ``f`` (``"1.f.0.weight"``), which a three-line torch module with the same child
name loads::

    class Residual(torch.nn.Module):
        def __init__(self, f):
            super().__init__()
            self.f = f

        def forward(self, x):
            return x + self.f(x)

The matching torch modules: ReLU, Sigmoid, Tanh, Identity, Softmax(dim=-1),
LeakyReLU(negative_slope=alpha) and GELU(approximate="tanh"). torch is never imported here:
state dicts are dicts of NumPy arrays, and torch tensors are read through their own
``.detach().cpu().numpy()``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy

from .backend import get_array_module, to_numpy
from .checks import check_finite, check_finite_as, listing
from .errors import DTypeError, HyperparameterError, ModelFileError, ShapeError, quoted
from .layers import Layer, Linear

#: chainrule's own parameter name -> torch.nn.Linear's, and whether it is stored transposed
TORCH_NAMES = {"W": ("weight", True), "b": ("bias", False)}
#: The most characters of a prefix to strip that a message shows (then cut, as errors.quoted cuts).
PREFIX_QUOTE_LIMIT = 200


def to_state_dict(model: Layer) -> dict[str, numpy.ndarray]:
    """The parameters of ``model`` under torch.nn's names and in its layout (NumPy copies).

    Load them into the equivalent torch module with
    ``module.load_state_dict({name: torch.from_numpy(array) for name, array in state.items()})``.

    Raises HyperparameterError if ``model`` is not a Layer, ModelFileError for a layer with
    parameters that torch.nn has no layout for (a user's own Layer subclass), and
    NonFiniteError naming the parameter for one holding NaN or Inf (a diverged model, which
    ``from_state_dict`` and ``cr.save`` refuse too).

    Examples
    --------
    >>> import chainrule as cr
    >>> model = cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 3), seed=0)
    >>> {name: array.shape for name, array in cr.to_state_dict(model).items()}
    {'0.weight': (8, 4), '0.bias': (8,), '2.weight': (3, 8), '2.bias': (3,)}
    """
    if not isinstance(model, Layer):
        raise HyperparameterError(f"model: expected a chainrule Layer, got {type(model).__name__}")
    for name, array in model.params.items():  # NaN weights would be handed on without a word
        check_finite(array, f"parameter {name!r} (a diverged model?)")
    state = {}
    for key, (layer, name) in _layout(model).items():
        array = to_numpy(layer.own_params[name])
        state[key] = numpy.array(array.T if TORCH_NAMES[name][1] else array, order="C")
    return state


def from_state_dict(state_dict: Mapping, model: Layer) -> Layer:
    """Load a torch-layout ``state_dict`` into ``model`` in place; returns ``model``.

    Parameters
    ----------
    state_dict : mapping of str to array
        ``torch_module.state_dict()`` (tensors on any device) or :func:`to_state_dict`'s
        output: exactly one entry per parameter of ``model``, under torch.nn's names.
    model : Layer
        The chainrule model of the same architecture; its dtype is kept (values are cast).

    Every entry is checked before any is written, so a bad state dict leaves ``model`` as
    it was: ShapeError for a missing, unexpected or wrongly shaped key, DTypeError for
    values that are not real numbers, NonFiniteError for NaN or Inf, including a finite
    value that overflows the model's dtype (1e300 into float32). When the keys are the model's
    after one prefix ('net.0.weight' of a torch module wrapped in another, DataParallel's
    'module.0.weight'), the ShapeError names the prefix and the line that strips it.

    Examples
    --------
    >>> import chainrule as cr
    >>> source = cr.Sequential(cr.Linear(4, 8), cr.Tanh(), cr.Linear(8, 3), seed=0)
    >>> target = cr.Sequential(cr.Linear(4, 8), cr.Tanh(), cr.Linear(8, 3))
    >>> target = cr.from_state_dict(cr.to_state_dict(source), target)
    >>> bool((target.params["2.W"] == source.params["2.W"]).all())
    True
    """
    if not isinstance(model, Layer):
        # torch's own order is model.load_state_dict(state_dict): the two are easily swapped
        swapped = "; the arguments are from_state_dict(state_dict, model), in that order" \
            if isinstance(state_dict, Layer) else ""
        raise HyperparameterError(f"model: expected a chainrule Layer, got {type(model).__name__}{swapped}")
    if not isinstance(state_dict, Mapping):
        raise HyperparameterError(
            f"state_dict: expected a mapping of names to arrays (module.state_dict()), got {type(state_dict).__name__}"
        )
    layout = _layout(model)
    missing = [key for key in layout if key not in state_dict]
    unexpected = [key for key in state_dict if key not in layout]
    # Keys are listed as checks.listing shows names, the first 12 quoted and cut: a model of a thousand layers has
    # two thousand keys, and a state dict's own keys may be anything hashable (a 10**5000 has no repr).
    if missing:
        # A module whose children have names (fc1, fc2) holds none of the model's keys: show what it holds instead.
        instead = f"; the state dict's other keys are {listing(unexpected)}" if unexpected else ""
        raise ShapeError(f"state_dict: missing key {missing[0]!r} ({len(missing)} missing in all; "
                         f"the model's keys are {listing(list(layout))}{instead}){_strip_advice(state_dict, layout)}")
    if unexpected:
        raise ShapeError(f"state_dict: unexpected key {quoted(unexpected[0])}: not a parameter of the model "
                         f"(its keys are {listing(list(layout)) or 'none'})")

    values = {}
    for key, (layer, name) in layout.items():
        array = _as_numpy(state_dict[key], key)
        transposed = TORCH_NAMES[name][1]
        shape = layer.own_params[name].shape[::-1] if transposed else layer.own_params[name].shape
        if array.shape != shape:
            hint = " (chainrule's own (n_in, n_out) layout? torch's is (out, in))" if array.shape == shape[::-1] else ""
            raise ShapeError(f"state_dict[{key!r}]: expected shape {shape} for {layer.describe()}, "
                             f"got {array.shape}{hint}")
        # Also refuses a finite value that the parameter's dtype cannot hold (1e300 into float32).
        check_finite_as(array, layer.own_params[name].dtype, f"state_dict[{key!r}]")
        values[key] = array.T if transposed else array
    for key, (layer, name) in layout.items():
        param = layer.own_params[name]
        # In place, so views stay valid; the assignment casts to the parameter's dtype.
        param[...] = get_array_module(param).asarray(values[key])
    return model


def _strip_advice(state_dict: Mapping, layout: dict) -> str:
    """What to do, for a message, when the keys of ``state_dict`` are those of ``layout`` with one prefix in front
    (see :func:`_common_prefix`); "" otherwise."""
    prefix = _common_prefix(list(state_dict), layout)
    if prefix is None:
        return ""
    shown = quoted(prefix, PREFIX_QUOTE_LIMIT)
    return (f"; every key of the state dict is one of the model's after the prefix {shown} (a torch module wrapped "
            f"in another, or DataParallel's 'module.'): strip it, "
            f"{{k.removeprefix({shown}): v for k, v in sd.items()}}")


def _common_prefix(keys: list, layout: dict) -> str | None:
    """The one prefix that makes ``keys`` the keys of ``layout`` ('net.' of 'net.0.weight', where a torch model was
    wrapped in another module; 'module.' from DataParallel), or None when there is none.

    The first key fixes the candidates (itself less the end that is a key of ``layout``), the shortest prefix first;
    a candidate holds when it is a module path, ending in '.' as torch joins names ('1' before '0.weight' is the
    index 10 of a larger Sequential, no prefix), and every key is a str that is it followed by a key of ``layout``,
    each key of ``layout`` once: stripped, the state dict loads as far as its keys go (one that holds only some of
    the model's layers under the prefix would be missing the others still).
    """
    if len(keys) != len(layout) or not all(isinstance(key, str) for key in keys):
        return None
    candidates = sorted((keys[0][:-len(key)] for key in layout if len(keys[0]) > len(key) and keys[0].endswith(key)),
                        key=len)
    for prefix in candidates:
        if prefix.endswith(".") and all(key.startswith(prefix) and key[len(prefix):] in layout for key in keys):
            return prefix
    return None


def _layout(model: Layer) -> dict[str, tuple[Layer, str]]:
    """torch name -> (layer, own parameter name), in the model's parameter order."""
    layout = {}
    for prefix, layer in model.walk():
        if not layer.own_params:
            continue
        if type(layer) is not Linear:
            raise ModelFileError(f"cannot map {layer.describe()} to a PyTorch state dict: its parameters "
                                 f"({', '.join(layer.own_params)}) have no torch.nn layout; only Linear's do")
        for name in layer.own_params:
            layout[prefix + TORCH_NAMES[name][0]] = (layer, name)
    return layout


def _as_numpy(value, key: str) -> numpy.ndarray:
    """A state dict entry (NumPy or CuPy array, torch tensor, nested list) as a NumPy array.

    A torch view whose conjugate or negative bit is set (``z.conj()``, ``z.conj().imag``) is
    resolved first, as ``tensor.numpy()`` refuses it: a real one is read with its values, a
    complex one refused as any complex tensor is.
    """
    try:
        if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor, without importing torch
            value = _resolved(value.detach()).cpu().numpy()
        array = numpy.asarray(to_numpy(value))
    except (TypeError, ValueError, RuntimeError) as error:
        raise DTypeError(f"state_dict[{key!r}]: cannot read it as a NumPy array ({error}); "
                         f"{_remedy(value)}") from None
    if array.dtype.kind not in "fiu":
        raise DTypeError(f"state_dict[{key!r}]: expected real numbers, got dtype {array.dtype}")
    return array


def _resolved(tensor):
    """``tensor`` with its conjugate and negative bits resolved (a copy where one is set)."""
    for resolve in ("resolve_conj", "resolve_neg"):
        if hasattr(tensor, resolve):
            tensor = getattr(tensor, resolve)()
    return tensor


def _remedy(tensor) -> str:
    """What to do with a value that NumPy cannot read, for the message: a lazy module's
    uninitialized parameter and a meta tensor hold no values at all; a nested tensor holds
    several shapes; a sparse one (any layout but torch.strided) needs ``to_dense()``, a quantized
    one ``dequantize()`` (``float()`` fails on all of these, or keeps a meta tensor on meta);
    another dtype (bfloat16, float8), ``float()``. What is no tensor (a ragged nested list) has
    no ``float()``: it needs to be numbers in one shape."""
    if not hasattr(tensor, "detach"):
        return "expected an array, a tensor or nested lists of numbers in one rectangular shape"
    if type(tensor).__name__.startswith("Uninitialized"):  # torch.nn.UninitializedParameter, UninitializedBuffer
        return ("an uninitialized parameter of a lazy module (torch.nn.LazyLinear) holds no values yet; run the "
                "module on a batch first, which gives it its shape and values")
    if getattr(tensor, "is_nested", False):
        return "a nested tensor holds tensors of several shapes; pass one tensor of the parameter's shape"
    if getattr(tensor, "is_meta", False):
        return ("a meta tensor holds no values, only a shape and dtype; pass the state dict of a module whose "
                "weights were loaded or initialized, not made on the meta device")
    if str(getattr(tensor, "layout", "torch.strided")) != "torch.strided":
        return "convert it to a dense tensor first (tensor.to_dense())"
    if getattr(tensor, "is_quantized", False):
        return "convert it to float32 first (tensor.dequantize())"
    return "convert it to float32 first (tensor.float())"
