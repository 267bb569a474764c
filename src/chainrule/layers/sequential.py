"""Layers stacked one after another: a deep network, and itself a layer."""

from __future__ import annotations

import warnings

import numpy

from ..backend import Array
from ..errors import ChainruleWarning, DTypeError, HyperparameterError, ShapeError
from ..initializers import as_generator
from ..parameters import TrainableVersion, check_each_layer_once
from .layer import Layer, check_initialized, not_a_layer, returned_no_array
from .layer_list import LayerAttribute, LayerList
from .linear import Linear


class Sequential(Layer):
    r"""The composition :math:`f_L \circ \dots \circ f_2 \circ f_1`.

    Forward feeds each layer's output to the next::

        h⁽⁰⁾ = X,   h⁽ˡ⁾ = f_l(h⁽ˡ⁻¹⁾),   Y = h⁽ᴸ⁾

    Backward is backpropagation itself: starting from dY = ∂L/∂h⁽ᴸ⁾, each layer in reverse
    turns ∂L/∂h⁽ˡ⁾ into ∂L/∂h⁽ˡ⁻¹⁾ and fills its own ∂L/∂θ on the way::

        ∂L/∂h⁽ˡ⁻¹⁾ = ∂L/∂h⁽ˡ⁾ · ∂h⁽ˡ⁾/∂h⁽ˡ⁻¹⁾

    A Sequential is a layer, so blocks nest ("deep networks are blocks of layers stacked
    recursively"); parameters are then named ``"1.0.W"`` by their path. ``layers`` may be
    changed after construction, by hand too (``model.layers.append(layer)``): it is a
    :class:`~.layer_list.LayerList`, which names the layers by their new paths at each change.

    A ``Linear`` with init "auto" takes the initializer the next layer the data passes through
    prefers (He before the ReLU family), looking into nested Sequentials and out of them (a
    block's last Linear is followed by what follows the block) but not across a Residual: if
    its weights are still its initial draw they are redrawn from the same seed, as
    ``Linear(..., seed=s, init="he_normal")`` would draw them; weights changed since
    (trained, loaded, assigned) are kept, so a trained layer can be re-nested. Only the first
    model that takes a layer in decides (with the models it is then nested in as a block): a
    layer already in another model (a shared encoder, a slice, a Residual's f), or that has
    run forward, is never redrawn, so building a second model never changes the first.

    Backward with ``input_grad=False`` (as in training) stops at the lowest layer that holds a
    trainable parameter: the frozen layers below it (see ``Layer.trainable``) are not called.

    An activation that ``works_in_place`` (ReLU, LeakyReLU, Sigmoid, Tanh, GELU) between two
    Linear layers is told, at each call, that it may overwrite their fresh outputs (saves memory and time in
    training). Nothing is stored on the layer: at every other position, in another model,
    in a Residual or on its own it leaves its input untouched.

    Parameters
    ----------
    *layers : Layer
        Each layer object may appear only once in the whole model (nested blocks included).
    seed : None, int or numpy.random.Generator
        When given, every parameter inside is drawn afresh from this one seed, in path
        order, so the whole model is reproducible from one number. A Linear layer whose
        weights are no longer its initial draw (trained, loaded or assigned) is redrawn too,
        with a ChainruleWarning naming it: build the Sequential without ``seed`` to keep
        pretrained weights (``cr.Sequential(*pretrained.layers[:-1], head)``). So is one
        already in another model, which changes with it (a second ChainruleWarning names it).

    Raises
    ------
    HyperparameterError
        For an argument that is not a Layer, or a layer object that appears twice (a layer
        keeps state from its last forward and backward, so sharing one gives wrong gradients).

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> model = cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 3), seed=0)
    >>> sorted(model.params)
    ['0.W', '0.b', '2.W', '2.b']
    >>> model(np.zeros((5, 4))).shape
    (5, 3)
    """

    # (TrainableVersion.number, a copy of layers, first_to_backpropagate's answer) when last computed
    _first_cache = (-1, None, 0)
    # (TrainableVersion.number, a copy of layers, in_place_flags' answer) when last computed
    _in_place_cache = (-1, None, ())
    #: a LayerList: assigning the attribute, or changing the list in place, renames the layers
    layers = LayerAttribute(LayerList)

    def __init__(self, *layers: Layer, seed=None) -> None:
        super().__init__()
        for index, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise HyperparameterError(
                    f"Sequential: argument {index} must be a chainrule Layer, got {not_a_layer(layer)}"
                )
            check_initialized(layer, f"Sequential: argument {index}")
        self.layers = list(layers)
        check_each_layer_once(list(self.walk()))
        rng = None if seed is None else as_generator(seed)  # a bad seed is refused before any layer changes
        order = _in_data_order(self)
        for (layer, own), (following, _) in zip(order, order[1:]):
            if own and isinstance(layer, Linear):
                # With a seed, initialize below redraws every weight, so a redraw here is wasted.
                layer.use_auto_init(following.preferred_init, redraw=rng is None)
        for layer in self.layers:
            adopt(layer)
        if rng is not None:
            _warn_of_redrawn_weights(self, [layer for layer, own in order if not own])
            self.initialize(rng)

    def children(self) -> list[tuple[str, Layer]]:
        return [(str(index), layer) for index, layer in enumerate(self.layers)]

    def __setstate__(self, state: dict) -> None:
        """A copy or an unpickled model: its ``layers`` (a plain list in ``state``, see LayerList) a
        LayerList of its own again, its paths those of the original."""
        vars(self).update(state)
        if self.renames_layers:  # a slice's is a plain list (see __getitem__)
            vars(self)["layers"] = LayerList(state["layers"], self)

    def in_place(self, index: int) -> bool:
        """May layer ``index`` overwrite its X in forward and its dY in backward?

        Only a layer that ``works_in_place`` between two Linear layers, whose outputs
        (Z = XW + b forward, dX = dY Wᵀ backward) are fresh arrays nobody else holds. Forward and
        backward read it through :meth:`in_place_flags`, which follows any change to ``layers``.
        """
        layers = self.layers
        return (layers[index].works_in_place and 0 < index < len(layers) - 1
                and isinstance(layers[index - 1], Linear) and isinstance(layers[index + 1], Linear))

    def in_place_flags(self) -> tuple[bool, ...]:
        """``in_place(index)`` for every layer, computed again when ``layers`` holds other objects
        (one replaced, swapped, added or removed; ``works_in_place`` is the layer's class's, set when
        the class is defined). Asking for each activation at every forward took 2.0 µs of 53 at
        batch 1 through 784-256x6-10 (0.5 of 38 through 784-512-256-10); keeping the answers saved
        2.2 and 0.6 µs of those calls (docs/cpu_speed.md). Every change through ``layers``
        (item or slice assignment, append, del, ``model.layers = ...``) counts in ``TrainableVersion``, which
        is compared first: a layer class may define ``__eq__``, and a list's ``!=`` calls it for a layer
        that replaced another (an equal one of a class that does not work in place kept the old answer)."""
        version, layers, flags = self._in_place_cache
        if version != TrainableVersion.number or layers != self.layers:  # identities, unless __eq__ defined
            flags = tuple(layer.works_in_place and self.in_place(index) for index, layer in enumerate(self.layers))
            self._in_place_cache = (TrainableVersion.number, list(self.layers), flags)
        return flags

    def forward(self, X: Array) -> Array:
        """h⁽ˡ⁾ = f_l(h⁽ˡ⁻¹⁾) from h⁽⁰⁾ = X; returns Y = h⁽ᴸ⁾."""
        layer = None
        try:
            for layer, in_place in zip(self.layers, self.in_place_flags()):
                X = layer.forward(X, inplace=True) if in_place else layer.forward(X)
        except (AttributeError, TypeError):
            if layer is None or hasattr(X, "ndim"):  # the layer's own error, about an array it was given
                raise
            raise self._not_an_array(layer, X) from None
        return X

    def _not_an_array(self, layer: Layer, X) -> DTypeError:
        """The error for ``layer``, given an ``X`` that is no array, failing on it (AttributeError or TypeError
        from inside: "'NoneType' object has no attribute 'ndim'"): naming the layer below it that returned X (a
        forward of one's own that forgot its ``return``, or returned a list or a tuple), inside out through nested
        Sequentials, or, for the first layer, the X given to ``forward``, which converts nothing."""
        index = next(index for index, candidate in enumerate(self.layers) if candidate is layer)
        got = "None" if X is None else type(X).__name__
        if index == 0:
            return DTypeError(f"{layer.describe()}: forward takes an array in the model's dtype and converts nothing; "
                              f"got {got}: call the model, model(X), which converts")
        return returned_no_array(self.layers[index - 1].returning_layer(), X, taken_by=layer)

    def returning_layer(self) -> Layer:
        """The layer whose forward returns the model's output: its last layer, inside out through nested
        Sequentials (a loop: check_each_layer_once has bounded the depth); the model itself when it has none."""
        layer = self
        while isinstance(layer, Sequential) and layer.layers:
            layer = layer.layers[-1]
        return layer

    def backward(self, dY: Array, input_grad: bool = True) -> Array | None:
        """From dY = ∂L/∂h⁽ᴸ⁾, each layer in reverse fills its ∂L/∂θ and turns ∂L/∂h⁽ˡ⁾ into
        ∂L/∂h⁽ˡ⁻¹⁾; returns dX = ∂L/∂h⁽⁰⁾ (None without ``input_grad``)."""
        # Without input_grad, the layers below the lowest one with a trainable parameter need
        # no gradient: backpropagation stops there (at layer 0 when nothing is frozen).
        first = 0 if input_grad else self.first_to_backpropagate()
        index = len(self.layers) - 1
        in_place = self.in_place_flags()  # as in forward
        try:
            for index in range(len(self.layers) - 1, first, -1):
                layer = self.layers[index]
                dY = layer.backward(dY, inplace=True) if in_place[index] else layer.backward(dY)
            if not self.layers:
                return dY if input_grad else None
            index = first
            return self.layers[first].backward(dY, input_grad)
        except (ShapeError, DTypeError) as error:
            raise self._blamed(error, index) from None

    def _blamed(self, error: ShapeError | DTypeError, index: int) -> ShapeError | DTypeError:
        """``error``, raised by layer ``index``'s backward, naming the layer above when that layer
        returned a ∂L/∂x of the wrong shape or dtype (a custom backward's mistake surfaces one layer
        down; so does a custom forward's that returned another dtype than its input's, float64 for
        float32, as its backward then does)."""
        above = index + 1
        receiver = self.layers[index].returning_layer()  # the layer that first reads dY: a block's last, inside out
        if above < len(self.layers) and str(error).startswith(f"{receiver.describe()}: dY must have"):
            culprit = self.layers[above].describe()
            if isinstance(error, ShapeError):
                return ShapeError(f"{error}, which {culprit} returned as its ∂L/∂x")
            told = str(error).replace(" (convert it with dY.astype(...))", "")  # the layer above is to change
            return DTypeError(f"{told}, which {culprit} returned as its ∂L/∂x: a layer's forward returns its "
                              f"input's dtype, and its backward returns ∂L/∂x in it")
        return error

    def first_to_backpropagate(self) -> int:
        """The index of the lowest layer holding a trainable parameter (0 when nothing is
        frozen; the last layer when nothing is trainable): a backward without ``input_grad``
        calls the layers from the last down to this one, this one with ``input_grad=False``.

        Cached until some layer's ``trainable`` is set again, a layer is made, a flat buffer is
        rebuilt, or ``layers`` holds other objects (one replaced, swapped, added or removed):
        a version comparison and a comparison of the layers' identities per step.
        """
        version, layers, first = self._first_cache
        if version != TrainableVersion.number or layers != self.layers:  # Layer has no __eq__: identities
            trainable = [index for index, layer in enumerate(self.layers) if layer.has_trainable_parameters()]
            first = trainable[0] if trainable else max(len(self.layers) - 1, 0)
            self._first_cache = (TrainableVersion.number, list(self.layers), first)
        return first

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index):
        """``model[i]`` is layer i; ``model[i:j]`` a Sequential of the same layer objects
        (shared, not copied, as PyTorch's ``nn.Sequential`` slices), so that
        ``model[:-1].trainable = False`` freezes all but the last layer. A slice draws
        nothing; its ``params`` and ``summary()`` number its layers from 0 (as PyTorch's
        slices do), while each layer keeps its ``path`` in this model, by which error
        messages name it. An index out of range raises IndexError, another type
        HyperparameterError.
        """
        if isinstance(index, slice):
            part = Sequential()  # empty, then given the layers themselves: no redraw, no new paths
            vars(part)["layers"] = self.layers[index]  # a plain list: changed by hand, it renames nothing either
            part.renames_layers = False  # its layers keep their paths in this model
            adopt(part)  # its layers are this model's: a model built around the slice redraws none of them
            return part
        if isinstance(index, bool) or not isinstance(index, (int, numpy.integer)):
            raise HyperparameterError(f"Sequential index: expected an int or a slice, got {type(index).__name__}")
        return self.layers[self._in_range(index)]

    def _in_range(self, index: int) -> int:
        """``index`` if it names one of the layers (from the end when negative), else IndexError
        saying how many there are (which also ends iteration over the model)."""
        if not -len(self.layers) <= index < len(self.layers):
            raise IndexError(f"Sequential index {index}: out of range for its {len(self.layers)} layers")
        return index

    def __setitem__(self, index, layer: Layer) -> None:
        """``model[i] = layer`` puts ``layer`` in place of layer i (PyTorch's way to swap a head).
        ``layer`` must be a chainrule Layer not already in this model (HyperparameterError, and the model is
        left as it was); ``i`` an int. The "auto" Linear layers now followed by another layer take the
        initializer of what follows them, as in ``Sequential(...)`` (see :meth:`_settle_auto_init`)."""
        if isinstance(index, bool) or not isinstance(index, (int, numpy.integer)):
            raise HyperparameterError(f"Sequential index: expected an int, got {type(index).__name__}")
        if not isinstance(layer, Layer):
            raise HyperparameterError(f"Sequential[{index}]: expected a chainrule Layer, got {not_a_layer(layer)}")
        check_initialized(layer, f"Sequential[{index}]")
        replaced = self.layers[self._in_range(index)]
        before = self._next_layers()
        self.layers[index] = layer  # renamed, and counted for what is cached about frozen layers (LayerList)
        try:
            check_each_layer_once(list(self.walk()))
        except HyperparameterError:
            self.layers[index] = replaced
            raise
        adopt(layer)
        self._settle_auto_init(before)

    def __delitem__(self, index) -> None:
        """``del model[i]`` (or a slice) removes layers, as PyTorch's ``nn.Sequential`` does. The "auto"
        Linear layers now followed by another layer, or by none, take the initializer of what follows them,
        as in ``Sequential(...)`` (see :meth:`_settle_auto_init`)."""
        if isinstance(index, bool) or not isinstance(index, (int, numpy.integer, slice)):
            raise HyperparameterError(f"Sequential index: expected an int or a slice, got {type(index).__name__}")
        before = self._next_layers()
        del self.layers[index if isinstance(index, slice) else self._in_range(index)]  # renamed (LayerList)
        self._settle_auto_init(before)

    def append(self, layer: Layer) -> "Sequential":
        """``model.append(layer)`` adds ``layer`` after the last layer and returns the model, as PyTorch's
        ``nn.Sequential.append`` does; checked as ``model[i] = layer`` (see :meth:`insert`)."""
        return self.insert(len(self.layers), layer)

    def extend(self, layers) -> "Sequential":
        """``model.extend(layers)`` appends each of ``layers`` in turn (see :meth:`append`) and returns the
        model, as PyTorch's ``nn.Sequential.extend``; one refused stops there, the ones before it added.
        ``layers`` is an iterable of layers (a list, a tuple, another Sequential): HyperparameterError
        otherwise (a single layer is added by :meth:`append`)."""
        try:
            layers = iter(layers)
        except TypeError:
            hint = "; add one layer with model.append(layer)" if isinstance(layers, Layer) else ""
            raise HyperparameterError(f"Sequential.extend: expected an iterable of layers (a list, a tuple, a "
                                      f"Sequential), got {not_a_layer(layers)}{hint}") from None
        for layer in layers:
            self.append(layer)
        return self

    def insert(self, index: int, layer: Layer) -> "Sequential":
        """``model.insert(i, layer)`` puts ``layer`` before layer i (``i == len(model)``: after the last) and
        returns the model, as PyTorch's ``nn.Sequential.insert``; the layers after it move up one path
        ("2" becomes "3"). ``layer`` must be a chainrule Layer set up by ``Layer.__init__`` and not already in
        this model (HyperparameterError, and the model is left as it was), ``i`` an int from ``-len(model)``
        to ``len(model)`` (IndexError otherwise). The "auto" Linear layers beside it take the initializer of what
        follows them, as in ``Sequential(...)`` (see :meth:`_settle_auto_init`)."""
        if isinstance(index, bool) or not isinstance(index, (int, numpy.integer)):
            raise HyperparameterError(f"Sequential index: expected an int, got {type(index).__name__}")
        if not -len(self.layers) <= index <= len(self.layers):
            raise IndexError(f"Sequential index {index}: out of range for inserting into its {len(self.layers)} "
                             f"layers (from {-len(self.layers)} to {len(self.layers)})")
        if not isinstance(layer, Layer):
            raise HyperparameterError(f"Sequential: a layer added must be a chainrule Layer, got {not_a_layer(layer)}")
        check_initialized(layer, "Sequential: the layer added")
        position = index if index >= 0 else len(self.layers) + index
        before = self._next_layers()
        self.layers.insert(position, layer)  # renamed, and counted for what is cached about frozen layers
        try:
            check_each_layer_once(list(self.walk()))
        except HyperparameterError:
            del self.layers[position]
            raise
        adopt(layer)
        self._settle_auto_init(before)
        return self

    def _next_layers(self) -> dict[int, tuple[Layer, Layer | None]]:
        """``{id(layer): (layer, the layer data passes through next, None after the last)}`` for the layers of
        :func:`_in_data_order`: taken before ``layers`` changes, it tells :meth:`_settle_auto_init` which layers
        the change put before another one (holding the layers keeps their ids unique meanwhile)."""
        order = [layer for layer, _ in _in_data_order(self)]
        return {id(layer): (layer, following) for layer, following in zip(order, order[1:] + [None])}

    def _settle_auto_init(self, before: dict[int, tuple[Layer, Layer | None]]) -> None:
        """After ``insert``, ``model[i] = layer`` or ``del model[i]``: give each "auto" Linear that now precedes
        another layer than it did (``before``: :meth:`_next_layers` before the change), a Linear added included,
        the initializer of the layer that follows it, as ``Sequential(...)`` does for its layers:
        ``Sequential(seed=0).append(Linear(3, 4, seed=1)).append(ReLU())`` holds He weights, those of
        ``Sequential(Linear(3, 4, seed=1), ReLU())``, and so does ``model[1] = ReLU()`` in place of a Sigmoid.
        One now last takes what a Linear takes with nothing after it (``Layer.preferred_init``, Glorot), in a
        model inside no other one: the layers after the last of a block nested in another model are not seen
        from here. Only a Linear in no other model, still holding its initial draw and not yet run forward, is
        redrawn (``use_auto_init``). A slice (``model[:k]``) holds its layers without taking them in, so that
        they stay the model's: it redraws none."""
        if not self.renames_layers:
            return
        order = _in_data_order(self, held=1)
        nexts = [following for following, _ in order[1:]] + [None]
        for (layer, own), following in zip(order, nexts):
            was = before.get(id(layer))  # None for a layer added
            if not (own and isinstance(layer, Linear)) or (was is not None and was[1] is following):
                continue
            if following is not None:
                layer.use_auto_init(following.preferred_init)
            elif adoptions(self) == 0:
                layer.use_auto_init(Layer.preferred_init)

    def __repr__(self) -> str:
        if not self.layers:  # not "Sequential(\n\n)", which a summary's row cut to "Sequential("
            return "Sequential()"
        inner = ",\n".join("  " + repr(layer).replace("\n", "\n  ") for layer in self.layers)
        return f"Sequential(\n{inner}\n)"


def adopt(layer: Layer) -> None:
    """Count ``layer`` as taken into one more model (a Sequential or a Residual holds it now).

    A Linear's "auto" weights are settled by the first model that takes it in, and by the
    models that model is then nested in as a fresh block (see ``_in_data_order``); once a
    layer has been taken in, another model built around it redraws nothing in it.
    """
    layer._adoptions = adoptions(layer) + 1


def adoptions(layer: Layer) -> int:
    """How many models have taken ``layer`` in (see :func:`adopt`); 0 for a layer on its own."""
    return getattr(layer, "_adoptions", 0)


def _in_data_order(model: Sequential, held: int = 0) -> list[tuple[Layer, bool]]:
    """``(layer, own)`` for each layer that data passes through in ``model``, one after another.

    Nested Sequentials are opened (their layers follow one another as the model's do); any
    other layer is one step, a Residual included: its output is x + f(x), not what the last
    layer of f gives, and its input also skips f, so the layers of f are not followed and
    follow nothing here. ``own`` is True for a layer in no model but this one: one of its
    layers not taken in before, or inside such a block, where only the block holds it. Only
    such a Linear may take its "auto" initializer (and be redrawn) from what follows it. ``held``: the models
    that have taken the model's own layers in already (1 once ``model`` has: after ``insert``, ``model[i] = layer``
    or ``del model[i]``).
    """
    order = []
    pending = [(layer, adoptions(layer) <= held) for layer in reversed(model.layers)]
    while pending:  # a stack, not recursion: check_each_layer_once has bounded the depth
        layer, own = pending.pop()
        if isinstance(layer, Sequential):
            pending += [(child, own and adoptions(child) <= 1) for child in reversed(layer.layers)]
        else:
            order.append((layer, own))
    return order


def _warn_of_redrawn_weights(model: Sequential, shared: list[Layer]) -> None:
    """ChainruleWarning naming the Linear layers inside ``model`` whose weights a seeded draw
    would replace although they are no longer their initial draw (trained, loaded, assigned),
    and, in a second warning, those in ``shared``, already in another model that the draw changes too.

    A layer never drawn (``cr.load``'s, or ``cr.mlp``'s, which the seed draws first) counts as
    changed only when it holds a non-zero weight.
    """
    changed = [prefix.rstrip(".") for prefix, layer in model.walk()
               if isinstance(layer, Linear) and not layer.holds_initial_draw()]
    if changed:
        warnings.warn(ChainruleWarning(
            f"Sequential(seed=...) draws every weight afresh, so the weights of layer{'s' if len(changed) > 1 else ''} "
            f"{', '.join(map(repr, changed))}, changed since drawn (trained, loaded or assigned), are replaced; "
            f"to keep them, build the Sequential without seed="), stacklevel=3)
    held = {id(inner) for layer in shared for _, inner in layer.walk()}
    in_other_models = [prefix.rstrip(".") for prefix, layer in model.walk()
                       if isinstance(layer, Linear) and id(layer) in held and layer.holds_initial_draw()]
    if in_other_models:
        plural = "s" if len(in_other_models) > 1 else ""
        warnings.warn(ChainruleWarning(
            f"Sequential(seed=...) draws every weight afresh, also those of layer{plural} "
            f"{', '.join(map(repr, in_other_models))}, already in another model, which changes with it; "
            f"to keep that model as it is, build the Sequential without seed="), stacklevel=3)
