"""The layer contract: forward computes h from x; backward is the chain rule.

Every layer, leaf or composite, is a :class:`Layer`:

- ``Y = layer.forward(X)`` computes the output for a batch X (n_samples, n_features) and
  keeps what its backward will need;
- ``dX = layer.backward(dY)`` takes ∂L/∂h for its output (``dY``, same shape as ``Y``),
  writes ∂L/∂θ for its own parameters into ``layer.grads`` and returns ∂L/∂x for its input,
  exactly the two products of the lecture notes::

      ∂L/∂θ = ∂L/∂h · ∂h/∂θ,        ∂L/∂x = ∂L/∂h · ∂h/∂x

  ``backward(dY, input_grad=False)`` skips ∂L/∂x (and returns None) where nobody needs it,
  as for the first layer of a network. ``backward`` checks dY against the output of the
  last ``forward`` (shape and dtype only, so the check costs the same at any batch size):
  StateError before any ``forward``, or after ``release_saved`` (``cr.fit`` when it returns):
  "call forward first"; ShapeError for another shape, DTypeError for another dtype (a
  float64 dY is not cast for a float32 layer: convert it yourself).

A layer whose class sets ``works_in_place`` (ReLU, LeakyReLU, Sigmoid, Tanh, GELU) also takes
``inplace=True`` in ``forward`` and ``backward``: it may then overwrite X and dY. Only a Sequential passes it,
for such a layer between two Linear layers, whose outputs are fresh arrays nobody else
holds; the permission is given call by call and stored nowhere, so a layer moved into
another model, a Residual, or used on its own never overwrites what it is given. A subclass
of such a layer that overrides forward or backward without the keyword (``def forward(self,
X)``, as in PyTorch) does not work in place: its class gets ``works_in_place = False`` when
it is defined, and a Sequential calls it as any other layer. A class that sets
``works_in_place = True`` itself must take the keyword in both (HyperparameterError naming
the class otherwise).

``layer(X)`` is the checked entry point for users: it converts and validates X (rank,
width, finiteness, dtype) once and then calls ``forward``. Composites call ``forward`` of
their children directly, so the checks are not repeated inside a model.

Parameters are named by path: a leaf's own ``"W"`` is ``"0.W"`` inside a Sequential,
``"block.1.W"`` deeper down; the same names are used by ``params``, ``grads``, model files
and error messages. A layer's ``path`` follows every change to its model's layers, by hand
too (see :mod:`.layer_list`); a layer in two models is named in the errors of an entry point
(``layer(X)``, ``cr.fit``, ...) by its path in the model given (see ``refresh_paths``).

A layer's ``trainable`` flag (default True) freezes it for fine-tuning, as PyTorch's
``requires_grad_(False)`` and Keras' ``layer.trainable = False`` do: the gradients of a frozen
layer's parameters are not used (Linear does not compute them), so optimizers (and ``cr.fit``)
leave them as they are. Model files and weights files do not record it: ``cr.load`` gives an
all-trainable model, while loading into an existing model keeps its flags.

A model lives on one device: its parameters and gradients are NumPy arrays ("cpu") or CuPy
arrays ("cuda"), and ``model.to(device)`` moves them all. ``forward`` and ``backward`` take
arrays of the model's device; ``layer(X)`` also takes NumPy input for a GPU model and moves
it there.
"""

from __future__ import annotations

import contextlib
import functools
import inspect

import numpy

from .. import buffers
from ..backend import Array, device_of, get_array_module, module_for, to_device
from ..checks import as_float_dtype, as_matrix, flag
from ..errors import DTypeError, HyperparameterError, ShapeError, StateError, quoted
from ..initializers import as_generator
from ..parameters import (ArraysByPath, FlatParameters, TrainableVersion, check_own_arrays, check_unshared, flatten,
                          mixed_dtypes_error, names_by_dtype, parameter_paths)
from .summary import layer_rows, layer_table

NESTING_LIMIT = 1000  # levels of layers inside layers that walk follows (Python's default recursion limit)


class PathVersion:
    """A counter of renamings: ``Layer.set_path`` adds 1 when it gives a layer that had a name
    another one, and records the number on every layer it names, so that ``refresh_paths`` knows
    in one comparison whether some layer may have been named since by another model (one sharing
    it)."""

    number = 0


#: The attributes ``Layer.__init__`` sets: a layer lacking one skipped ``super().__init__()``.
SET_BY_LAYER_INIT = frozenset({"path", "own_params", "own_grads", "decayed", "reuse_buffers", "_buffers", "_flat",
                               "preprocessor", "metadata"})


class Layer:
    """Base class of all layers. Subclasses implement ``forward`` and ``backward``.

    A layer of one's own (docs/design.md, *A layer of your own, step by step*): ``__init__`` calls
    ``super().__init__()`` first, then puts each parameter and a gradient array of its shape and dtype under
    one name in ``own_params`` and ``own_grads``; ``forward(X)`` keeps what backward needs and returns a
    matrix (n_samples, n_outputs) in X's dtype; ``backward(dY, input_grad=True)`` writes ∂L/∂θ into the
    gradient arrays (``out=``, never a new array) and returns ∂L/∂x, or None without ``input_grad``.
    ``cr.gradcheck`` proves the backward, and ``cr.fit`` and the optimizers train it as a built-in layer.

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> class Scale(cr.Layer):  # h = a ⊙ x; ∂L/∂a = Σ_n ∂L/∂h ⊙ x, ∂L/∂x = a ⊙ ∂L/∂h
    ...     def __init__(self, width):
    ...         super().__init__()
    ...         self.own_params["a"] = np.ones(width, dtype=np.float32)
    ...         self.own_grads["a"] = np.zeros(width, dtype=np.float32)
    ...     def forward(self, X):
    ...         self._X = X
    ...         return X * self.own_params["a"]
    ...     def backward(self, dY, input_grad=True):
    ...         np.sum(dY * self._X, axis=0, out=self.own_grads["a"])  # into the array held
    ...         return dY * self.own_params["a"] if input_grad else None
    >>> model = cr.Sequential(cr.Linear(3, 3), Scale(3), cr.Linear(3, 2), seed=0)
    >>> X = np.random.default_rng(0).normal(size=(6, 3))
    >>> cr.gradcheck(model, X, np.arange(6) % 2).passed()
    True
    """

    #: the initializer a Linear layer right before this one uses when its init is "auto"
    preferred_init = "glorot_uniform"
    #: True for a layer whose forward and backward take ``inplace=True`` (see the module docstring
    #: and ``__init_subclass__``)
    works_in_place = False
    #: Whether this layer's own parameters are trained (set through ``trainable``). A backward
    #: may skip ∂L/∂θ when it is False, as Linear's does: the optimizers ignore those gradients.
    own_trainable = True
    # (TrainableVersion.number, answer) of has_trainable_parameters' last computation
    _trainable_cache = (-1, True)
    # PathVersion.number when set_path last named this layer (-1: never)
    _paths_version = -1
    #: Whether ``refresh_paths`` names the layers inside by their paths in this one: False for a
    #: slice ``model[i:j]``, whose layers keep their paths in the model it was cut from.
    renames_layers = True
    #: The attributes in which ``forward`` keeps what ``backward`` needs (Linear's ``("_X",)``,
    #: ReLU's ``("_Y",)``): set to None by ``release_saved`` (see there). A layer of one's own
    #: names its own here, or overrides ``release_own_saved``.
    saved_for_backward: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        """A subclass whose forward or backward cannot take ``inplace=True`` does not work in place.

        One that inherits ``works_in_place`` (a ReLU whose forward is overridden without the
        keyword) gets ``works_in_place = False``, so a Sequential never passes the keyword to it;
        one that sets ``works_in_place = True`` itself is refused with a HyperparameterError.
        """
        super().__init_subclass__(**kwargs)
        if cls.works_in_place and not (_takes_inplace(cls.forward) and _takes_inplace(cls.backward)):
            if vars(cls).get("works_in_place"):
                raise HyperparameterError(
                    f"{cls.__name__}: works_in_place is True, so forward and backward must take the keyword "
                    f"inplace (forward(self, X, inplace=False), backward(self, dY, input_grad=True, "
                    f"inplace=False)); accept it or set works_in_place = False")
            cls.works_in_place = False

    def __init__(self) -> None:
        """Set up the layer: no parameters (``own_params``, ``own_grads``), nothing decayed, at the root.

        A subclass calls it first in its ``__init__``: what it sets before (``self.own_params = {...}``,
        ``self.decayed = {"W"}``) would be replaced here, so it is refused (HyperparameterError naming the
        class and the attributes); its parameters were lost without a word. Calling it again on a layer
        set up before (to reset one) is allowed.
        """
        early = SET_BY_LAYER_INIT.intersection(vars(self))
        if early and early != SET_BY_LAYER_INIT:
            raise HyperparameterError(
                f"{type(self).__name__}: {', '.join(sorted(early))} set before super().__init__(), which would "
                f"replace {'them' if len(early) > 1 else 'it'}; call super().__init__() first in __init__")
        # A new layer may take an old one's place in a model's list of layers: caches of what
        # is frozen are computed again.
        TrainableVersion.number += 1
        self.path = ""  # dotted position inside the enclosing model; "" at the root
        self.own_params: dict[str, Array] = {}
        self.own_grads: dict[str, Array] = {}
        self.decayed: frozenset = frozenset()  # own parameters that weight decay applies to
        # True while a training loop runs (see reusing_buffers): ``buffer`` then hands out the
        # same memory at every step instead of a new array.
        self.reuse_buffers = False
        self._buffers: dict[str, Array] = {}
        self._flat: FlatParameters | None = None
        # Set on the root by cr.fit and cr.load, saved by cr.save: the fitted input/label
        # preprocessing (chainrule.data.Preprocessor) and the training summary.
        self.preprocessor = None
        self.metadata: dict = {}

    def __getstate__(self) -> dict:
        """What a copy or a pickle of the layer holds: its attributes, less a training loop's
        buffers and the flat parameter buffer. A copy made inside ``fit`` (a callback keeping the
        best model) is a model of its own, whose ``forward`` answers new arrays as every model's
        does outside ``fit``; it kept ``reuse_buffers`` on, and every forward then answered one
        array, overwritten by the next. The flat buffer's θ and ∂L/∂θ are a second copy of the
        layers' ``own_params`` and ``own_grads`` (a copy or pickle copies each view as an array
        of its own), which a copy never uses: it is not current there (``FlatParameters.is_current``),
        and the first ``flat_parameters()`` builds it anew from the layers' arrays."""
        state = self.__dict__.copy()
        state["reuse_buffers"], state["_buffers"] = False, {}
        if "_flat" in state:
            state["_flat"] = None
        return state

    # -- the chain rule (subclasses) -------------------------------------------------------
    def forward(self, X: Array) -> Array:
        """Output h for input x; shapes (n_samples, ...).

        The unchecked fast path: X is a floating array of the model's dtype, on its device, and
        nothing is converted (``model(X)`` checks and converts). A Linear refuses an X of integers
        or booleans (DTypeError); any other X is the caller's to get right."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, dY: Array, input_grad: bool = True) -> Array | None:
        """Given dY = ∂L/∂h, fill ``grads`` with ∂L/∂θ and return dX = ∂L/∂x."""
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def check_dY(self, dY, kept: Array | None, width: int | None = None, dtype=None) -> None:
        """Refuse a dY that is not ∂L/∂h for the output of the last forward.

        ``kept`` is an array that forward kept (None before any forward, and after
        ``release_saved``), with the output's shape and dtype, except that ``width`` gives the
        output's number of columns and ``dtype`` its dtype where they differ from ``kept``'s. Only
        the shape and dtype are compared: O(1), as backward runs at every training step. Raises
        StateError where ``kept`` is None, ShapeError or DTypeError for a dY that does not match,
        naming the layer.
        """
        if kept is None:
            raise StateError(f"{self.describe()}: backward needs what a forward kept, and none is held (no forward "
                             f"since the layer was made, or cr.fit released the last batch's when it returned); "
                             f"call forward first")
        shape = kept.shape if width is None else (kept.shape[0], width)
        dtype = kept.dtype if dtype is None else dtype
        received = getattr(dY, "shape", None)
        if received != shape:
            received = type(dY).__name__ if received is None else tuple(received)
            raise ShapeError(f"{self.describe()}: dY must have the shape of the last forward's output, "
                             f"{tuple(shape)}; got {received}")
        if dY.dtype != dtype:
            raise DTypeError(f"{self.describe()}: dY must have the dtype of the last forward's output, "
                             f"{dtype}; got {dY.dtype} (convert it with dY.astype(...))")

    #: An array to write into: a new one, or inside ``reusing_buffers`` the same memory step after step
    #: (Linear's Z and dX, every built-in activation's output and temporaries; see :mod:`chainrule.buffers`).
    buffer = buffers.buffer

    @contextlib.contextmanager
    def reusing_buffers(self):
        """Within the block, every layer reuses its output buffers from step to step (training loops).

        An output of ``forward`` (and a ∂L/∂x of ``backward``) is then overwritten by the next
        call, so only a loop that is done with a step's arrays before the next may use it;
        ``cr.fit`` does. The buffers are released when the block ends.
        """
        layers = [layer for _, layer in self.walk()]
        for layer in layers:
            layer.reuse_buffers = True
        try:
            yield self
        finally:
            for layer in layers:
                layer.reuse_buffers, layer._buffers = False, {}
            self.release_saved()  # what the layers kept of the last step is in those buffers (or the batch)

    def release_saved(self) -> None:
        """Let go of what the last ``forward`` of this layer and every layer inside it kept for
        ``backward`` (``release_own_saved`` of each).

        Called when ``reusing_buffers`` ends, so at every return of ``cr.fit`` (an error, a Ctrl-C
        or a DivergenceError too): the layers kept the last training batch's input and outputs,
        batch-sized arrays (hundreds of MB after a full-batch fit) held for nothing, and carried by
        a copy or pickle of the model. A ``backward`` after it needs a ``forward`` first (StateError
        saying so), as on a new layer. Parameters and gradients are kept.
        """
        for _, layer in self.walk():
            layer.release_own_saved()

    def release_own_saved(self) -> None:
        """Set this layer's ``saved_for_backward`` attributes to None (not the layers inside it).

        Only chainrule's own layers' attributes are known: a layer of one's own that keeps
        arrays for its backward names them in ``saved_for_backward`` or overrides this method;
        otherwise it keeps them, as before.
        """
        for name in self.saved_for_backward:
            setattr(self, name, None)

    def children(self) -> list[tuple[str, "Layer"]]:
        """The (name, layer) pairs this layer is composed of; empty for a leaf."""
        return []

    def reset_parameters(self, rng: numpy.random.Generator) -> None:
        """Draw this layer's own parameters afresh from ``rng`` (leaves with parameters)."""

    # -- the checked entry point -----------------------------------------------------------
    def __call__(self, X) -> Array:
        """Forward pass on user input: X is validated, cast to the model's dtype and moved to
        the model's device (a NumPy X for a model on "cuda" is copied to the GPU) first.
        The output is on the model's device; the caller's X is never modified.

        The output is the caller's own, also inside ``reusing_buffers`` (a callback of ``fit``),
        where ``forward``'s is a buffer that the next call overwrites.

        Raises ShapeError for X that is not a rectangular 2-d array of the layer's width,
        DTypeError for non-numbers and NonFiniteError for NaN or Inf, and DTypeError naming the layer
        whose forward returned no array (None where a forward of one's own forgot its ``return``; in a
        Sequential its last layer, inside out: the layers below it are named by the layer they feed).
        """
        self.refresh_paths()
        dtype, device, _ = self.parameter_facts()
        if dtype is None:
            kind = _input_dtype(X)
            dtype = kind if kind.name in ("float32", "float64") else numpy.float32
        X = to_device(as_matrix(X, dtype, name=f"X (input of {self.describe()})"), device)
        Y = self.forward(X)
        if not hasattr(Y, "ndim"):  # once per call, after the whole forward pass (cr.fit and cr.predict check too)
            raise returned_no_array(self.returning_layer(), Y)
        # A network that passes its input through (Identity, an empty Sequential) still answers a new
        # array: X may be the caller's own, which the caller may change in place. So does one called
        # inside ``reusing_buffers`` (a callback of fit), whose output is a buffer the next call overwrites.
        return Y.copy() if Y is X or self.reuse_buffers else Y

    # -- structure -------------------------------------------------------------------------
    def returning_layer(self) -> "Layer":
        """The layer whose forward returns this layer's output, as error messages name it: this one (a
        Sequential's last layer, inside out through nested Sequentials)."""
        return self

    def walk(self, prefix: str = ""):
        """Yield (path prefix, layer) for this layer and every layer inside it, in order (each
        layer, then the layers inside it). A loop over a stack rather than nested generators,
        whose every yield passed through each level above it.

        Raises StateError below ``NESTING_LIMIT`` levels of layers inside layers: only a layer
        that holds itself nests so deep (a slice's ``layers`` or a composite of one's own changed
        by hand: a Sequential's own list refuses it), and its walk would never end.
        """
        pending = [(prefix, self, 0)]
        while pending:
            prefix, layer, depth = pending.pop()
            yield prefix, layer
            children = layer.children()
            if children:  # pushed last first, so that the first child is the next popped
                if depth == NESTING_LIMIT:
                    raise StateError(f"{self.describe()}: layers nested more than {NESTING_LIMIT} deep (at "
                                     f"{prefix[:60]!r}...): does a layer hold itself?")
                pending += [(f"{prefix}{name}.", child, depth + 1) for name, child in children][::-1]

    def set_path(self, path: str) -> None:
        """Name this layer ``path`` and every layer inside it by its path below (``"1.0"`` for
        child "0" of ``path`` "1"): the names error messages give them.

        Raises StateError, before any layer is renamed, for a layer that holds itself (see ``walk``).
        """
        walked = list(self.walk(f"{path}." if path else ""))  # all of it first: a cycle renames nothing
        # Only renaming a layer that some model had named may leave another model's names out of date
        # (a layer they share): naming new layers, as every model built does, makes no model refresh.
        if any(layer._paths_version != -1 and layer.path != prefix[:-1] for prefix, layer in walked):
            PathVersion.number += 1
        for prefix, layer in walked:
            layer.path = prefix[:-1]
            layer._paths_version = PathVersion.number

    def refresh_paths(self) -> None:
        """Name the layers inside by their paths in this layer (``set_path`` from its own path),
        unless nothing was renamed anywhere since it last did: one comparison.

        The entry points (``layer(X)``, ``cr.fit``, ``cr.predict``, ``cr.evaluate``, ``cr.to_onnx``,
        a rebuilt flat buffer) call it, so that a layer shared with another model built or
        called since is named in their errors by its path in the model given.
        """
        if self._paths_version != PathVersion.number and self.renames_layers:
            self.set_path(self.path)

    def describe(self) -> str:
        """How error messages name this layer: ``layer '1.0' (Linear)`` or ``Linear``."""
        return f"layer {self.path!r} ({type(self).__name__})" if self.path else type(self).__name__

    @property
    def params(self) -> "ArraysByPath":
        """Path name -> parameter array. Writable: ``model.params["0.W"] = W`` writes W, an array
        of real numbers of the parameter's shape, into the model's array (see ArraysByPath).
        An array taken before the model's flat buffer is built (by its first optimizer, ``cr.fit``)
        is a copy afterwards: take it after, or read it again (docs/design.md, the flat parameter buffer)."""
        return ArraysByPath({path: array for path, _, array in parameter_paths(self)}, "params")

    @property
    def grads(self) -> "ArraysByPath":
        """Path name -> ∂L/∂θ from the last ``backward``; an assignment writes into the array, as for ``params``."""
        return ArraysByPath({path: array for path, _, array in parameter_paths(self, "own_grads")}, "grads")

    @property
    def n_parameters(self) -> int:
        """The number of parameters (numbers) in the model, frozen ones included."""
        return sum(int(array.size) for _, _, array in parameter_paths(self))

    @property
    def n_trainable_parameters(self) -> int:
        """The number of parameters in layers that are trainable (see ``trainable``)."""
        return sum(int(array.size) for _, layer, array in parameter_paths(self) if layer.own_trainable)

    @property
    def frozen_parameters(self) -> list[str]:
        """The path names of the parameters of frozen layers, in path order (empty when none is)."""
        return [path for path, layer, _ in parameter_paths(self) if not layer.own_trainable]

    @property
    def trainable(self) -> bool:
        """Whether the layer is trained (True by default); set False to freeze it for fine-tuning.

        Setting it sets it on every layer inside too (``model[:-1].trainable = False`` freezes
        all but the last layer, as in Keras), and freezing sets the layers' gradients to 0. A
        frozen Linear does not compute its parameter gradients (and a Sequential does not even
        backpropagate into the frozen layers below its lowest trainable one), and optimizers
        change neither its parameters nor their state. Read on a layer with layers inside, it
        is True when any parameter inside is trainable (a layer without any parameters inside
        answers what it was last set to). Only True and False are accepted: HyperparameterError
        naming trainable otherwise. Not saved in model files or weights files.
        """
        holders = [layer for _, layer in self.walk() if layer.own_params]
        if not holders:
            return self.own_trainable
        return any(layer.own_trainable for layer in holders)

    @trainable.setter
    def trainable(self, value) -> None:
        flag(value, "trainable")
        for _, layer in self.walk():
            layer.own_trainable = bool(value)
            if not value:  # no stale gradient stays in model.grads
                for gradient in layer.own_grads.values():
                    gradient[...] = 0
        TrainableVersion.number += 1

    def has_trainable_parameters(self) -> bool:
        """Whether any parameter of this layer or of a layer inside it is trainable.

        Cached until some layer's ``trainable`` is set again, so that a backward may ask at
        every step (one comparison).
        """
        version, answer = self._trainable_cache
        if version != TrainableVersion.number:
            answer = any(layer.own_trainable and layer.own_params for _, layer in self.walk())
            self._trainable_cache = (TrainableVersion.number, answer)
        return answer

    @property
    def dtype(self) -> numpy.dtype | None:
        """The dtype of the parameters, or None for a layer without any.

        Raises DTypeError, listing the parameters of each dtype, when they have more than one
        (a custom layer's float64 arrays in a float32 model): such a model has no one dtype to
        cast its input to or to train in; ``model.astype(...)`` makes them one.
        """
        return self.parameter_facts()[0]

    def parameter_facts(self) -> tuple[numpy.dtype | None, str, "Layer | None"]:
        """``(dtype, device, first)`` from one walk through the layers: ``self.dtype`` (raising
        as it does), ``self.device``, and the first layer holding parameters (None when none
        does), whose ``n_in`` is the model's input width (see ``layers.widths.input_width``).

        What a forward on user input (``layer(X)``, ``cr.predict``) asks at every call: one
        walk instead of one per question.
        """
        dtype = first = None
        for _, layer in self.walk():
            for array in layer.own_params.values():
                kind = getattr(array, "dtype", None)
                if kind is None:  # not an array: the layer's contract names it
                    check_own_arrays(layer)
                if first is None:
                    dtype, first, holder = kind, array, layer
                elif kind != dtype:
                    raise mixed_dtypes_error(names_by_dtype(self.params))
        if first is None:
            return None, "cpu", None
        return dtype, device_of(first), holder

    @property
    def device(self) -> str:
        """Where the parameters are: "cpu" (NumPy) or "cuda" (CuPy); "cpu" for a layer without any."""
        for _, layer in self.walk():
            for array in layer.own_params.values():
                return device_of(array)
        return "cpu"

    def flat_parameters(self) -> FlatParameters:
        """All parameters and gradients as two contiguous vectors (see chainrule.parameters).

        Raises what :func:`chainrule.parameters.flatten` raises, and HyperparameterError for a
        layer whose ``decayed`` is not a collection of names of its own parameters (see
        :func:`check_decayed`), checked each time the vectors are built.
        """
        held = self._flat
        flat = flatten(self)
        if flat is not held:  # built anew: layers were added or replaced since the last check
            try:
                for _, layer in self.walk():
                    check_decayed(layer)
            except HyperparameterError:
                self._flat = None  # not returned: the next call builds and checks again
                raise
        return flat

    # -- whole-model operations ------------------------------------------------------------
    def initialize(self, seed=None) -> "Layer":
        """Draw every parameter afresh from one Generator made from ``seed``, in path order."""
        rng = as_generator(seed)
        for _, layer in self.walk():
            layer.reset_parameters(rng)
        return self

    def astype(self, dtype) -> "Layer":
        """Convert every parameter and its gradient to ``dtype`` ("float32" or "float64") in place;
        returns self.

        Raises HyperparameterError, before converting anything, for a layer whose
        ``own_params`` and ``own_grads`` break the layer contract (see
        :func:`chainrule.parameters.check_own_arrays`).
        """
        dtype = as_float_dtype(dtype)
        for _, layer in self.walk():
            check_own_arrays(layer, any_dtype=True)  # float16 or big-endian parameters are what it converts
        check_unshared(self)  # each array is converted apart: tied weights would be untied
        for _, layer in self.walk():
            for name, array in layer.own_params.items():
                layer.own_params[name] = array.astype(dtype)
                layer.own_grads[name] = layer.own_grads[name].astype(dtype)
        return self

    def to(self, device: str) -> "Layer":
        """Move every parameter and gradient to ``device`` ("cpu" or "cuda") in place; returns self.

        ``model.to("cuda")`` copies the model to the GPU (it needs CuPy:
        ``pip install 'chainrule[cuda]'``), ``model.to("cpu")`` brings it back; arrays already
        on ``device`` are kept as they are, so moving a model to where it is does nothing.
        After a move the flat parameter buffer is rebuilt on the new device at its next use.
        An optimizer's state lives on the model's device: make the optimizer after the move,
        or move it too (``optimizer.to(device)``).

        Raises HyperparameterError for a device other than "cpu" and "cuda", for "cuda"
        without CuPy, or, before moving anything, for a layer whose ``own_params`` and
        ``own_grads`` break the layer contract (see :func:`chainrule.parameters.check_own_arrays`).
        """
        xp = module_for(device)
        layers = [layer for _, layer in self.walk()]  # one walk: checking and moving change no structure
        for layer in layers:
            check_own_arrays(layer)
        if any(get_array_module(array) is not xp for layer in layers for array in layer.own_params.values()):
            check_unshared(self)  # each array is moved apart: tied weights would be untied
        moved = False
        for layer in layers:
            for name, array in layer.own_params.items():
                if get_array_module(array) is not xp:
                    layer.own_params[name] = to_device(array, device)
                    layer.own_grads[name] = to_device(layer.own_grads[name], device)
                    moved = True
        if moved:
            for layer in layers:
                layer._flat = None  # the old buffer (on the old device) is dropped, not reused
        return self

    def summary_rows(self) -> list[dict]:
        """One row per layer that holds parameters or has no children, in path order.

        Each row is a dict: ``"path"`` (``"1.f.0"``, ``"(model)"`` for the root itself),
        ``"layer"`` (the first line of its repr), ``"parameters"`` (name -> shape as a list),
        ``"count"`` (its number of parameters) and ``"trainable"`` (False for a frozen layer,
        see ``trainable``). A composite without parameters of its own (a Sequential, a
        Residual) has no row: its children have theirs.
        """
        return layer_rows(self)

    def summary(self) -> str:
        """A table of the model's layers (path, layer, parameter shapes, count), then the totals.

        The text ``chainrule info`` prints (as Keras' ``model.summary()`` does), returned,
        not printed; its rows are those of :meth:`summary_rows`. The total names the dtype, or
        the count of each for a model whose parameters have more than one (which ``astype``
        makes one). After the total, a model with parameters gets a line with the trainable
        and non-trainable (frozen) counts, as Keras'.

        Examples
        --------
        >>> import chainrule as cr
        >>> model = cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 3), seed=0)
        >>> print(model.summary())
        path  layer                      parameters                count
        0     Linear(4, 8, init='auto')  W 4x8, b 8                40
        1     ReLU()                     -                         0
        2     Linear(8, 3, init='auto')  W 8x3, b 3                27
        <BLANKLINE>
        67 parameters, float32
        trainable: 67, non-trainable: 0
        """
        return layer_table(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def not_a_layer(value) -> str:
    """How an error names ``value``, given where a chainrule Layer belongs: by its type's name, and
    a Layer class (``cr.ReLU`` for ``cr.ReLU()``, as ``torch.nn.ReLU`` is written without its call)
    or a list of layers (Keras' ``Sequential([...])``) by what was meant."""
    if isinstance(value, type) and issubclass(value, Layer):
        return f"the class {value.__name__}; a layer is an instance of it: {value.__name__}(...)"
    if isinstance(value, (list, tuple)) and value and all(isinstance(item, Layer) for item in value):
        return f"a {type(value).__name__} of layers; pass the layers themselves: Sequential(*layers)"
    return type(value).__name__


class SetByLayerInit:
    """What a layer's class answers for one of the attributes ``Layer.__init__`` sets, found only
    on a layer that lacks it: a custom layer whose ``__init__`` skipped ``super().__init__()``.
    Reading it raises an AttributeError that says so (an AttributeError, so that ``hasattr`` and
    ``getattr(..., default)`` keep working); every other layer holds the attribute in its
    ``__dict__``, which Python reads first, as the descriptor has no ``__set__``.

    One per name of ``SET_BY_LAYER_INIT``, rather than a ``Layer.__getattr__``: a class with
    ``__getattr__`` takes Python's slow path for every attribute read of its instances, 28
    against 10 ns, which the forward pass at batch 1 does a dozen times a layer (see
    docs/cpu_speed.md, *Per-layer dispatch at small batches*).
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, layer, owner=None):
        if layer is None:  # read on the class
            return self
        raise AttributeError(f"{type(layer).__name__} has no {self.name!r}: it was not set up as a Layer; its "
                             f"__init__ must call super().__init__() first", name=self.name, obj=layer)


for _name in sorted(SET_BY_LAYER_INIT):
    setattr(Layer, _name, SetByLayerInit(_name))
del _name


def returned_no_array(layer: Layer, Y, taken_by: Layer | None = None) -> DTypeError:
    """The error for ``layer``, whose forward returned ``Y``, no array: None where a forward of one's own
    forgot its ``return``, or a list or a tuple; ``taken_by``, the layer after it that failed on Y, if any."""
    got = "None" if Y is None else type(Y).__name__
    failed = "" if taken_by is None else f", which {taken_by.describe()} cannot take"
    hint = " (did it forget its return?)" if Y is None else ""
    return DTypeError(f"{layer.describe()}: forward returned {got}{failed}; a layer's forward returns an array "
                      f"(n_samples, n_outputs) in its input's dtype{hint}")


def _input_dtype(X) -> numpy.dtype:
    """The dtype of user input X; float32 for input NumPy cannot make an array of (ragged
    lists), which ``as_matrix`` then reports as a ShapeError naming X."""
    if hasattr(X, "dtype"):
        return numpy.dtype(X.dtype)
    try:
        return numpy.asarray(X).dtype
    except (ValueError, TypeError):
        return numpy.dtype(numpy.float32)


def _takes_inplace(method) -> bool:
    """Whether ``method`` (a forward or backward, as found on a class) can be called as
    ``method(self, array, inplace=True)``; False where it has no signature to inspect."""
    try:
        inspect.signature(method).bind(None, None, inplace=True)
    except (TypeError, ValueError):
        return False
    return True


def is_set_up(layer: Layer) -> bool:
    """Whether ``layer`` has everything ``Layer.__init__`` sets (``own_params`` alone may be set by
    hand). The usual layer holds them all in its ``__dict__``, looked up at once: ``fit`` asks
    of every layer at each call; another is asked attribute by attribute."""
    return SET_BY_LAYER_INIT <= vars(layer).keys() or all(hasattr(layer, name) for name in SET_BY_LAYER_INIT)


def check_set_up(layer: Layer, where: str) -> None:
    """HyperparameterError naming ``where`` for a Layer whose ``__init__`` did not call
    ``Layer.__init__`` (see ``is_set_up``)."""
    if not is_set_up(layer):
        raise HyperparameterError(f"{where} ({type(layer).__name__}) was not set up as a Layer: its __init__ must "
                                  f"call super().__init__() first")


def check_decayed(layer: Layer) -> None:
    """HyperparameterError naming ``layer`` whose ``decayed`` is not a set (or list, tuple) of
    the names of its own parameters: a name it lacks (a typo, "A" for "a") would leave the
    parameter meant without weight decay and without a word, and a plain str would be searched
    for substrings ("Wb" would decay "W" and "b")."""
    decayed = layer.decayed
    if not isinstance(decayed, (set, frozenset, list, tuple)):
        raise HyperparameterError(f"{layer.describe()}: decayed must be a set of names of its own parameters "
                                  f"(frozenset({{'W'}})), got {type(decayed).__name__} {quoted(decayed)}")
    for name in decayed:
        if not isinstance(name, str) or name not in layer.own_params:
            held = ", ".join(map(repr, layer.own_params)) or "none"
            raise HyperparameterError(f"{layer.describe()}: decayed names {quoted(name)}, which is not one of its own "
                                      f"parameters ({held}); weight decay would not apply to it")


def check_initialized(layer: Layer, where: str) -> None:
    """HyperparameterError naming ``where`` for a Layer whose ``__init__`` did not call
    ``Layer.__init__`` (a custom layer that forgot ``super().__init__()``): it has no
    ``own_params``, and ``model.params`` or training would fail later with an AttributeError;
    or whose ``backward`` takes no ``input_grad``, which a composite passes on."""
    check_set_up(layer, where)
    backward = layer.backward
    function = getattr(backward, "__func__", None)
    takes = (_method_takes_input_grad(function) if getattr(backward, "__self__", None) is layer
             else _takes_input_grad(backward, bound=False))
    if not takes:
        raise HyperparameterError(f"{where} ({type(layer).__name__}): backward must take (dY, input_grad=True), "
                                  f"as Layer.backward does; with input_grad False it may skip ∂L/∂x")


def _takes_input_grad(backward, bound: bool) -> bool:
    """Whether ``backward`` (a layer's method's function when ``bound``: self comes first) can be
    called as backward(dY, input_grad), as a composite calls its first child's (False there during
    training). A callable without a signature to inspect is left to the call (True)."""
    try:
        inspect.signature(backward).bind(*([None] * bound), None, False)
    except TypeError:
        return False
    except ValueError:
        pass
    return True


@functools.lru_cache(maxsize=256)
def _method_takes_input_grad(function) -> bool:
    """:func:`_takes_input_grad` of a layer class's ``backward`` function, one answer per function:
    a model file of many layers of one type (up to 100,000) asked ``inspect.signature`` once a
    layer, half or more of building the model (20,000 Identity layers: 0.57 s, 0.25 s so; 0.44 s, 0.22 s here)."""
    return _takes_input_grad(function, bound=True)
