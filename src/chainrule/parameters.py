"""The flat parameter buffer: every parameter of a model as a view into one vector θ.

A model's parameters (``"0.W"``, ``"0.b"``, ``"2.W"``, ...) live in one contiguous vector
``theta`` and their gradients in a second, ``grad``, laid out the same way; each layer's
``W`` and ``dW`` are reshaped views into them. An optimizer step is then a handful of
vectorized operations on two vectors, whatever the number of layers, and the gradients of
a data-parallel step are averaged with one all-reduce of ``grad``.

:func:`flatten` builds the buffer the first time it is asked and afterwards returns the
same one, as long as every layer still holds the views it was given (a copied or re-nested
model, or a parameter rebound by hand, is flattened anew with its current values), its names
following the parameters' paths.

Building moves the parameters: each layer's ``own_params[name]`` and ``own_grads[name]``
become new arrays (views into θ and ∂L/∂θ), so an array taken from ``model.params`` (or
``grads``, ``own_params``) before the buffer was built (by the first optimizer, ``cr.fit`` or
``flat_parameters()``; again after ``astype``, ``to`` or nesting) is a copy from then on:
training does not show in it and writing into it does not change the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy

from .backend import Array, get_array_module
from .checks import check_finite_as, listing
from .errors import DTypeError, HyperparameterError, MissingKeyError, ShapeError, StateError, TooLargeError


class TrainableVersion:
    """A counter of changes to which parameters are trainable, for what is cached from them.

    ``Layer.trainable``'s setter adds 1, and so do making a layer (it may then replace another
    in a model's list of layers), rebuilding a flat buffer (a layer was replaced) or renaming it, and
    ``Sequential``'s ``__setitem__`` and ``__delitem__``. A cache of what is frozen (a
    Sequential's first layer to backpropagate into, the trainable runs of a flat buffer)
    records ``number`` when it is computed and is computed again once ``number`` differs:
    one comparison per step.
    """

    number = 0


@dataclass
class FlatParameters:
    """All of a model's parameters and gradients as two vectors of the same layout.

    Attributes
    ----------
    theta, grad : Array, shape (n_parameters,)
        The parameter values and their gradients ∂L/∂θ.
    names : list of str
        Parameter paths, in buffer order.
    slices : dict of str to slice
        Where each named parameter lies in ``theta`` and ``grad``.

    Only these two vectors are held at θ's size; :meth:`decay_mask` is made on request.
    """

    theta: Array
    grad: Array
    names: list
    slices: dict
    _views: list  # (layer, name, param view, grad view): what the layers were given
    # trainable_runs' answer and the TrainableVersion.number it was computed at
    _runs: list | None = field(default=None, repr=False)
    _runs_version: int = field(default=-1, repr=False)

    def trainable_runs(self) -> list[slice] | None:
        """The stretches of ``theta`` that hold trainable parameters, as slices in buffer order
        (adjacent parameters merged into one run); None when every parameter is trainable.

        An optimizer steps each run and leaves the rest of θ (frozen layers) alone. Computed
        again only after some layer's ``trainable`` was set, so asking at every step costs one
        comparison.
        """
        if self._runs_version != TrainableVersion.number:
            self._runs = self._find_trainable_runs()
            self._runs_version = TrainableVersion.number
        return self._runs

    def _find_trainable_runs(self) -> list[slice] | None:
        """The runs of trainable parameters (see :meth:`trainable_runs`), from the layers' flags."""
        runs = []
        for full_name, (layer, _, _, _) in zip(self.names, self._views):
            if not layer.own_trainable:
                continue
            where = self.slices[full_name]
            if runs and runs[-1].stop == where.start:
                runs[-1] = slice(runs[-1].start, where.stop)
            else:
                runs.append(where)
        if runs == [slice(0, self.theta.size)] or not self._views:
            return None
        return runs

    def frozen_names(self) -> list[str]:
        """The names of the parameters whose layer is frozen (``trainable`` False), in buffer order:
        ``model.frozen_parameters``, read from the layers holding the views as :meth:`trainable_runs`
        reads them, without walking the model."""
        return [full_name for full_name, (layer, _, _, _) in zip(self.names, self._views) if not layer.own_trainable]

    def owners(self) -> list[tuple]:
        """``(layer, own parameter name)`` of each parameter, in buffer order: which parameter a name
        stands for, whatever path the layer has now."""
        return [(layer, name) for layer, name, _, _ in self._views]

    def rename(self, names: list) -> None:
        """Name the parameters ``names`` (their paths now, in buffer order), the vectors left as they
        are: the layers holding the views moved in the model without leaving it (a layer without
        parameters put in before them, or taken out). Counted as a change of which parameters are
        trainable (see TrainableVersion): what is cached by name (an optimizer's frozen parameters)
        follows."""
        self.slices = {new: self.slices[old] for old, new in zip(self.names, names)}
        self.names = names
        TrainableVersion.number += 1

    def decay_mask(self, out: Array | None = None, value: float = 1.0) -> Array:
        """A vector like ``theta``: ``value`` where weight decay applies (weights), 0 where it
        does not (biases).

        Made on each call into a new vector, not held: it is as large as θ and only an
        optimizer with weight decay needs it. ``out`` (a vector like ``theta``) is filled
        instead, for an optimizer whose λ changes at every step (the scikit-learn estimators'
        penalty per weighted batch), which then allocates nothing.
        """
        mask = get_array_module(self.theta).zeros_like(self.theta) if out is None else out
        if out is not None:
            mask[...] = 0
        for full_name, (layer, name, _, _) in zip(self.names, self._views):
            if name in layer.decayed:
                mask[self.slices[full_name]] = value
        return mask

    def is_current(self, entries) -> bool:
        """True if ``entries`` (layer, name) are exactly the layers holding views into these vectors.

        A deep copy (or pickle) of a model copies each view as an array of its own, so a
        view must still have ``theta``/``grad`` as its base, not merely be the object recorded.
        """
        if len(entries) != len(self._views):
            return False
        for (layer, name), (held_by, held_name, theta_view, grad_view) in zip(entries, self._views):
            if (layer is not held_by or name != held_name or layer.own_params.get(name) is not theta_view
                    or layer.own_grads.get(name) is not grad_view
                    or theta_view.base is not self.theta or grad_view.base is not self.grad):
                return False
        return True

    def check_still_held(self) -> None:
        """StateError naming the layer and parameter whose ``own_params``/``own_grads`` entry is no
        longer the view into ``theta``/``grad`` it was given (a backward that assigned a new
        gradient array instead of writing into the one it holds). A training loop that holds
        this buffer would step from stale gradients; it calls this once per epoch.
        """
        for layer, name, theta_view, grad_view in self._views:
            if layer.own_params.get(name) is not theta_view:
                raise _replaced_error(layer, "own_params", name)
            if layer.own_grads.get(name) is not grad_view:
                raise _replaced_error(layer, "own_grads", name)


def _replaced_error(layer, kind: str, name: str) -> StateError:
    """The StateError of ``check_still_held`` for ``layer``'s ``kind`` ("own_params" or "own_grads")
    entry ``name``, which no longer holds its view into the flat vectors."""
    return StateError(f"{layer.describe()}: {kind}[{name!r}] was replaced by a new array, so the model's "
                      f"flat parameter buffer no longer holds it and training would use stale values; "
                      f"write into the array instead ({kind}[{name!r}][...] = value)")


def check_each_layer_once(walked) -> None:
    """Raise HyperparameterError if one layer object sits at two places of ``walked``.

    ``walked`` holds the (path prefix, layer) pairs of ``model.walk()``. Every layer, with
    parameters or not, keeps what its backward needs from its last forward (and a Linear its
    gradients from its last backward), so a layer used twice in a model silently gives wrong
    gradients.
    """
    seen = {}
    for prefix, layer in walked:
        path = prefix.rstrip(".")  # "1.0." -> "1.0", the layer's own path
        if id(layer) in seen:
            raise HyperparameterError(
                f"layer {path!r} is the same object as layer {seen[id(layer)]!r}; a layer keeps its "
                f"input and gradients from its last forward and backward, so use a separate layer instead"
            )
        seen[id(layer)] = path


def check_own_arrays(layer, *, any_dtype: bool = False) -> None:
    """Raise HyperparameterError where ``layer`` breaks the contract of its two dicts.

    Every ``own_params[name]`` is named by a str, is an array (NumPy or CuPy) and has its gradient array
    ``own_grads[name]`` of the same shape, dtype and array type; ``own_grads`` has no other
    name; every parameter is float32 or float64 (any dtype with ``any_dtype``, for ``astype``,
    which converts them, and a summary, which shows them). Without its gradient array, a parameter's
    ``backward`` has nothing to write ∂L/∂θ
    into outside ``fit`` (a KeyError in a loop of one's own), and one that never writes it
    would be counted as trainable while ``fit`` left it as it was; a gradient of another
    shape or dtype would train the parameter from values cast or cut to fit. (Before this
    check, :func:`flatten` made a missing gradient array itself: a layer that relied on that
    now makes it in ``__init__``.) Checked where the arrays are first relied on:
    :func:`flatten` (before it builds the buffer), ``Layer.dtype``, ``Layer.astype`` and
    ``Layer.to``. The message names the layer (its path) and the name.
    """
    params, grads = layer.own_params, layer.own_grads
    if _holds_numpy_pairs(params, grads, any_dtype):  # the usual layer, in one pass: nothing to report
        return
    for name in grads:
        if name not in params:
            raise HyperparameterError(
                f"{layer.describe()}: own_grads[{name!r}] is the gradient of no parameter: own_params has no "
                f"{name!r}; keep each parameter and its gradient under one name, or delete own_grads[{name!r}]")
    for name, param in params.items():
        where = f"{layer.describe()}: own_params[{name!r}]"
        if type(name) is not str:  # "0.W" is made of a layer's path and its parameter's name
            raise HyperparameterError(f"{where}: a parameter's name is a str ('W'), got {type(name).__name__} "
                                      f"{name!r}; params, grads and model files name it by its path ('0.W')")
        if _array_kind(param) is None:
            raise HyperparameterError(f"{where} is a {type(param).__name__}, not an array; make it a NumPy array "
                                      f"(numpy.zeros(shape, dtype=...)) in __init__")
        if name not in grads:
            raise HyperparameterError(
                f"{where} has no gradient array own_grads[{name!r}]; make it in __init__ (zeros of the "
                f"parameter's shape and dtype) and write ∂L/∂{name} into it in backward")
        grad = grads[name]
        if (_array_kind(grad) != _array_kind(param) or getattr(grad, "shape", None) != param.shape
                or grad.dtype != param.dtype):
            raise HyperparameterError(
                f"{where} is {_described(param)} but own_grads[{name!r}] is {_described(grad)}; make the "
                f"gradient zeros of the parameter's shape and dtype (numpy.zeros_like(own_params[{name!r}]))")
        if not any_dtype and param.dtype not in PARAMETER_DTYPES:  # an integer one failed in the optimizers
            raise HyperparameterError(f"{where} has dtype {param.dtype}; a parameter is float32 or float64 (in the "
                                      f"machine's byte order), as training steps write fractions into it")


def check_unshared(model) -> None:
    """HyperparameterError naming both where two parameters of ``model``, or two gradients, share memory.

    The flat buffer gives every parameter a place of its own in θ (and its gradient one in ∂L/∂θ),
    and ``astype`` and ``to`` convert each array apart: weights tied the PyTorch way, one array in two
    layers (``decoder.own_params["W"] = encoder.own_params["W"]``, or a view of it), were untied at the
    first step without a word, each trained on the gradient of its own use alone, and a shared
    gradient array held the last backward's. Checked where the arrays are first relied on: when the
    buffer is built, and by ``astype`` and ``to`` before they convert. The layers' contract
    (:func:`check_own_arrays`) must hold. Only NumPy arrays viewing one array's memory (the views
    into θ of a buffer built before, or tied ones) are compared, by their bytes' addresses."""
    names, params, grads = [], [], []
    for prefix, layer in model.walk():
        for name, array in layer.own_params.items():
            names.append(prefix + name)
            params.append(array)
            grads.append(layer.own_grads[name])
    check_arrays_unshared("own_params", names, params)
    check_arrays_unshared("own_grads", names, grads)


def check_arrays_unshared(kind: str, names: list, arrays: list) -> None:
    """:func:`check_unshared` for ``arrays`` (``kind`` "own_params" or "own_grads"), named ``names``.

    Arrays that own their memory, each a different object (every layer's before its first buffer is
    built), are told apart in two passes; views (into the θ of a buffer built before, or tied ones)
    are grouped by the array whose memory they view, and each group's are compared by address."""
    if all(array.base is None for array in arrays if isinstance(array, numpy.ndarray)):
        if len({id(array) for array in arrays}) == len(arrays):
            return
    by_memory = {}  # id of the array owning the memory -> the (path, array) viewing it
    for path, array in zip(names, arrays):
        if isinstance(array, numpy.ndarray) and array.size:
            owner = array
            while isinstance(owner.base, numpy.ndarray):
                owner = owner.base
            by_memory.setdefault(id(owner), []).append((path, array))
    for viewing in by_memory.values():
        if len(viewing) > 1:
            _check_apart(kind, viewing)


def _check_apart(kind: str, viewing: list) -> None:
    """HyperparameterError naming two of ``viewing``, (path, array) pairs of NumPy arrays viewing one
    array's memory, that share some of it: one pass over them sorted by address, each compared with those
    before it whose span reaches into its own (none, for the flat buffer's views; strided views may interleave
    without sharing an element, so each of them is compared, not only the one reaching furthest)."""
    spans = sorted((*_byte_span(array), path, array) for path, array in viewing)
    reaching = []  # the (end, path, array) of those before whose span reaches past the current one's first byte
    for first, end, path, array in spans:
        reaching = [held for held in reaching if held[0] > first]
        for _, held_path, held_array in reaching:
            if numpy.shares_memory(held_array, array):
                raise HyperparameterError(
                    f"model: {kind}[{path!r}] shares its memory with {kind}[{held_path!r}]; the flat parameter "
                    f"buffer gives each parameter and gradient a place of its own, so tied weights would be "
                    f"untied at the first step; chainrule has no weight tying: give each layer arrays of its own, "
                    f"or write a layer of your own that uses one parameter in both places")
        reaching.append((end, path, array))


def _byte_span(array: numpy.ndarray) -> tuple[int, int]:
    """The first byte of a (non-empty) NumPy array's memory and the byte after its last element."""
    interface = array.__array_interface__
    first = end = interface["data"][0]
    if interface["strides"] is None:  # C-contiguous
        return first, first + array.nbytes
    for size, stride in zip(array.shape, array.strides):
        if stride < 0:
            first += stride * (size - 1)
        else:
            end += stride * (size - 1)
    return first, end + array.itemsize


def parameter_paths(model, arrays: str = "own_params"):
    """Yield ``(path, layer, array)`` for each parameter of ``model`` (its gradient, with
    ``arrays="own_grads"``), in path order: the names of ``params``, ``grads``, the flat buffer
    and model files ("0.W": the layer's path in ``model`` and its own name).

    Raises HyperparameterError naming the layer for a name that is not a str or a parameter
    that is not an array (see :func:`check_own_arrays`), and naming both parameters for two at
    one path (a composite's own "0.W" beside the "W" of its child "0"), of which ``params`` and
    model files would keep one.
    """
    held_at = {}  # path -> (path prefix, layer, name) of the parameter there
    for prefix, layer in model.walk():
        for name, array in getattr(layer, arrays).items():
            if type(name) is not str or not hasattr(array, "size"):
                check_own_arrays(layer, any_dtype=True)
            path = prefix + name
            if path in held_at:
                first, second = _owner(arrays, *held_at[path]), _owner(arrays, prefix, layer, name)
                raise HyperparameterError(f"model: two parameters have the path {path!r}: {first} and {second}; "
                                          f"rename one of them, as params, grads and model files name each "
                                          f"parameter by its path")
            held_at[path] = (prefix, layer, name)
            yield path, layer, array


def _owner(arrays: str, prefix: str, layer, name: str) -> str:
    """A parameter (``arrays`` "own_params" or "own_grads") for a message, by its layer's path
    prefix: "own_params['W'] of layer '0' (Linear)"."""
    where = f"layer {prefix.rstrip('.')!r}" if prefix else "the model"
    return f"{arrays}[{name!r}] of {where} ({type(layer).__name__})"


def _holds_numpy_pairs(params, grads, any_dtype: bool = False) -> bool:
    """Whether ``params`` and ``grads`` are dicts of the same str names, each parameter a NumPy array
    whose gradient is a NumPy array of its shape and dtype: what ``check_own_arrays`` accepts,
    answered in one pass (it runs at every ``fit`` and ``Layer.to``); False sends anything else
    to its checks."""
    if type(params) is not dict or type(grads) is not dict or params.keys() != grads.keys():
        return False
    for name, param in params.items():
        grad = grads[name]
        if not (type(name) is str and type(param) is numpy.ndarray and type(grad) is numpy.ndarray
                and grad.shape == param.shape and grad.dtype == param.dtype
                and (any_dtype or param.dtype in PARAMETER_DTYPES)):
            return False
    return True


#: the dtypes a parameter may have, in the machine's byte order (a step writes fractions into it)
PARAMETER_DTYPES = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))


def _array_kind(value) -> str | None:
    """"NumPy" or "CuPy" for an array of either, None for anything else."""
    if isinstance(value, numpy.ndarray):
        return "NumPy"
    return "CuPy" if type(value).__module__.startswith("cupy") and hasattr(value, "dtype") else None


def _described(value) -> str:
    """``value`` for a message: "a NumPy array of shape (4,), float32", or its type's name."""
    kind = _array_kind(value)
    if kind is None:
        return f"a {type(value).__name__}"
    return f"a {kind} array of shape {tuple(value.shape)}, {value.dtype}"


def names_by_dtype(named: dict) -> dict:
    """Path name -> array (``model.params``), grouped as dtype -> the names of its arrays, in order."""
    groups = {}
    for name, array in named.items():
        groups.setdefault(array.dtype, []).append(name)
    return groups


def mixed_dtypes_error(groups: dict) -> DTypeError:
    """The error for a model whose parameters have more than one dtype (``groups``: dtype -> names,
    as :func:`names_by_dtype` gives), listing the parameters of each dtype."""
    shown = "; ".join(f"{dtype}: {listing(names)}" for dtype, names in groups.items())
    return DTypeError(f"all parameters of a model must share one dtype; got {shown} (make them one with "
                      f"model.astype('float32') or model.astype('float64'))")


def too_large_to_flatten(named: dict, dtype) -> TooLargeError:
    """The error for θ and ∂L/∂θ that NumPy could not allocate (MemoryError) for the parameters
    ``named`` (path -> array), naming their count, the bytes and the largest parameters."""
    total = sum(int(array.size) for array in named.values())
    largest = sorted(named, key=lambda name: named[name].size, reverse=True)[:3]
    shapes = ", ".join(f"{name} {tuple(named[name].shape)}" for name in largest)
    return TooLargeError(
        f"model: its {total:,} parameters are too many: θ and ∂L/∂θ in {dtype.name} need "
        f"{2 * total * dtype.itemsize / 1e6:,.0f} MB, more memory than could be allocated (the largest "
        f"parameters: {shapes}); choose smaller layers")


def flatten(model) -> FlatParameters:
    """The flat parameter buffer of ``model``, building (and rebinding the layers) if needed.

    Raises HyperparameterError if one layer object appears twice in ``model`` (possible only
    when a composite's list of layers was changed after construction), a layer's
    ``own_params`` and ``own_grads`` break the contract (see :func:`check_own_arrays`), two
    parameters have one path (see :func:`parameter_paths`) or share memory (see
    :func:`check_unshared`), and
    DTypeError if the parameters have more than one dtype. These are checked only when the
    buffer is built, not when the one built before is returned; that one's names are those of
    the parameters' paths now (see :meth:`FlatParameters.rename`). TooLargeError (a
    HyperparameterError and a MemoryError) when NumPy cannot allocate θ and ∂L/∂θ: see
    :func:`too_large_to_flatten`.
    """
    walked = list(model.walk())
    entries, names = [], []  # (layer, name) and the paths now, in one pass; a name not a str is refused below
    for prefix, layer in walked:
        for name in layer.own_params:
            entries.append((layer, name))
            names.append(f"{prefix}{name}")
    cached = model._flat
    if cached is not None and cached.is_current(entries):
        # Its layers may have moved since (model.layers.insert(0, cr.Identity())): the names follow their paths.
        if names == cached.names:
            return cached
        if len(set(names)) == len(names):  # two at one path are refused below, as when building
            cached.rename(names)
            return cached

    model.refresh_paths()  # the errors below name the layers by their paths in this model
    check_each_layer_once(walked)
    for _, layer in walked:
        check_own_arrays(layer)
    names = [path for path, _, _ in parameter_paths(model)]  # HyperparameterError for two at one path
    arrays = [layer.own_params[name] for layer, name in entries]
    check_arrays_unshared("own_params", names, arrays)
    check_arrays_unshared("own_grads", names, [layer.own_grads[name] for layer, name in entries])
    groups = names_by_dtype(dict(zip(names, arrays)))
    if len(groups) > 1:
        raise mixed_dtypes_error(groups)

    xp = get_array_module(*arrays)
    dtype = arrays[0].dtype if arrays else xp.float32
    total = sum(int(array.size) for array in arrays)
    try:
        theta = xp.empty(total, dtype=dtype)
        grad = xp.empty(total, dtype=dtype)
    except (MemoryError, ValueError):  # ValueError: NumPy's "Maximum allowed dimension exceeded"
        raise too_large_to_flatten(dict(zip(names, arrays)), numpy.dtype(dtype)) from None
    slices, views, start = {}, [], 0
    for full_name, (layer, name), array in zip(names, entries, arrays):
        where = slice(start, start + int(array.size))
        theta[where] = array.ravel()
        grad[where] = layer.own_grads[name].ravel()  # keeps a gradient computed before the optimizer was made
        theta_view = theta[where].reshape(array.shape)
        grad_view = grad[where].reshape(array.shape)
        layer.own_params[name] = theta_view
        layer.own_grads[name] = grad_view
        slices[full_name] = where
        views.append((layer, name, theta_view, grad_view))
        start = where.stop
    model._flat = FlatParameters(theta, grad, names, slices, views)
    # A rebuild means a layer holding parameters was added, removed or replaced: what was
    # cached about which parameters are frozen (Sequential's first layer to backpropagate
    # into, a composite's has_trainable_parameters) is computed again.
    TrainableVersion.number += 1
    return model._flat


class ArraysByPath(dict):
    """``model.params`` / ``model.grads``: path name -> the model's own array.

    A dict made at each access. Its names are fixed by the model, and an assignment writes
    into the model's array (the array the optimizer and the flat buffer hold) instead of
    rebinding the name in this dict alone, which would change nothing:
    ``params["0.W"] = W`` copies W into the parameter, as ``params["0.W"][...] = W`` does,
    except that W must be an array of real numbers with exactly the parameter's shape (a
    scalar or another shape is not broadcast). ``update`` and ``|=`` write the same way,
    after checking every value, so a refused value leaves all parameters as they were.

    Raises MissingKeyError (a KeyError) for a name the model lacks, on reading or writing;
    ShapeError for a value of another shape, DTypeError for one that is not real numbers,
    NonFiniteError for NaN or Inf (or a value too large for the parameter's dtype), each
    naming the parameter. ``del``, ``pop``, ``popitem``, ``setdefault`` and ``clear``, which
    would add or remove names, raise StateError. ``copy.deepcopy(model.params)`` is a plain
    dict of copies (PyTorch's ``copy.deepcopy(model.state_dict())``).
    """

    def __init__(self, arrays: dict, what: str) -> None:
        super().__init__(arrays)
        self.what = what  # "params" or "grads", for messages

    def __missing__(self, name):
        raise MissingKeyError(f"{self.what}: the model has no parameter {name!r}; it has "
                              f"{listing(list(self), 10) or 'none'}")

    def _checked(self, name, value) -> Array:
        """``value`` as an array that may be written into the array named ``name``, or the error."""
        array = self[name]
        where = f"{self.what}[{name!r}]"
        if not hasattr(value, "dtype") or get_array_module(value) is numpy:  # a CuPy array stays on the GPU
            try:
                value = numpy.asarray(value)
            except (ValueError, TypeError) as error:  # a ragged list
                raise ShapeError(f"{where}: expected an array of shape {tuple(array.shape)}, "
                                 f"got {type(value).__name__} ({error})") from None
        if value.dtype.kind not in "fiub":
            raise DTypeError(f"{where}: expected real numbers, got dtype {value.dtype}")
        if tuple(value.shape) != tuple(array.shape):
            raise ShapeError(f"{where}: expected shape {tuple(array.shape)}, got {tuple(value.shape)}")
        check_finite_as(value, array.dtype, where)
        return value

    def __setitem__(self, name, value) -> None:
        self[name][...] = self._checked(name, value)

    def update(self, *args, **kwargs) -> None:
        try:
            given = dict(*args, **kwargs)
        except (TypeError, ValueError) as error:  # update(5), update([1, 2])
            raise HyperparameterError(f"{self.what}.update: expected a mapping of names to arrays ({error})") from None
        values = {name: self._checked(name, value) for name, value in given.items()}
        for name, value in values.items():
            self[name][...] = value

    def __ior__(self, other) -> "ArraysByPath":
        self.update(other)
        return self

    def _refuse_name_change(self, *args, **kwargs):
        raise StateError(f"{self.what}: the names are fixed by the model; assign to an existing name "
                         f"({self.what}[name] = value) to change a value")

    __delitem__ = pop = popitem = setdefault = clear = _refuse_name_change

    def __reduce__(self):
        """Copies and pickles are plain dicts (``copy.deepcopy(model.params)``: the weights as
        they are now, apart from the model), as the class needs the model's arrays to write to."""
        return (dict, (dict(self),))
