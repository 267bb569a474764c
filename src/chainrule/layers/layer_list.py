"""A composite's layers, changed by hand: the paths of the layers follow.

Error messages name a layer by its ``path`` ("2", "1.f.0"), which its composite gives it. A
Sequential's ``layers`` is a :class:`LayerList` and a Residual's ``f`` a
:class:`LayerAttribute`, so that a layer appended, inserted, removed or assigned by hand is
named by its new position at once, as ``model.params`` names its parameters (``"3.W"``).

Only changes pass through them: reading ``layers`` or ``f`` (a forward pass, at every step)
is reading a list and an attribute as before.
"""

from __future__ import annotations

import weakref

from ..errors import HyperparameterError, StateError
from ..parameters import TrainableVersion
from .layer import Layer, not_a_layer

_MISSING = object()


def _renamed(composite: Layer, undo) -> None:
    """Name the layers of ``composite`` (one of its layers just changed) by their paths in it,
    and count the change for what is cached about frozen layers. If ``composite`` now holds
    something that is not a chainrule Layer (HyperparameterError naming its path) or holds
    itself (StateError, from ``set_path``), ``undo()`` puts back what it held before the error
    is raised."""
    for name, child in composite.children():
        if not isinstance(child, Layer):
            undo()
            where = f"{composite.path}.{name}" if composite.path else name
            raise HyperparameterError(f"{composite.describe()}: its layer {where!r} must be a chainrule Layer, got "
                                      f"{not_a_layer(child)}")
    try:
        composite.set_path(composite.path)
    except StateError:
        undo()
        raise
    TrainableVersion.number += 1  # what is frozen inside may differ now (also in the models around it)


class LayerList(list):
    """``Sequential.layers``: a list whose every change in place names the model's layers by their
    new positions (``Layer.set_path`` from the model).

    ``append``, ``extend``, ``insert``, ``+=``, ``*=``, item and slice assignment, ``del``, ``pop``,
    ``remove``, ``clear``, ``sort`` and ``reverse`` all rename, so that an error names a layer
    appended to ``cr.mlp([4, 8, 3])`` "3", as ``model.params`` names its parameters "3.W".
    A change that puts in something other than a chainrule Layer (HyperparameterError naming
    its path) or makes the model hold itself (StateError) is undone before the error is
    raised, as is one whose list method raises (``extend`` from an iterable that fails midway).
    A layer put in twice is left to ``flatten`` to refuse (``cr.fit``, an optimizer), as before.

    A copy or a pickle of the list is a plain list: the copy of a Sequential makes it a
    LayerList of its own (``Sequential.__setstate__``).
    """

    def __init__(self, layers, owner: Layer) -> None:
        super().__init__(layers)
        self._owner = weakref.ref(owner)  # no cycle: a model is freed (with its arrays) when no longer held

    def _change(self, change, *args, **kwargs):
        """``change(self, *args, **kwargs)`` (a list method), then the layers renamed; its answer.
        A change that raises (``extend`` from an iterable that fails midway, which keeps what it
        gave before) is undone too."""
        before = list(self)

        def undo() -> None:
            list.__setitem__(self, slice(None), before)

        try:
            answer = change(self, *args, **kwargs)
        except BaseException:
            undo()
            raise
        owner = self._owner()
        if owner is not None:
            _renamed(owner, undo)
        return answer

    def append(self, layer) -> None:
        self._change(list.append, layer)

    def extend(self, layers) -> None:
        self._change(list.extend, layers)

    def insert(self, index, layer) -> None:
        self._change(list.insert, index, layer)

    def __iadd__(self, layers) -> "LayerList":
        return self._change(list.__iadd__, layers)

    def __imul__(self, times) -> "LayerList":
        return self._change(list.__imul__, times)

    def __setitem__(self, index, value) -> None:
        self._change(list.__setitem__, index, value)

    def __delitem__(self, index) -> None:
        self._change(list.__delitem__, index)

    def pop(self, index=-1):
        return self._change(list.pop, index)

    def remove(self, layer) -> None:
        self._change(list.remove, layer)

    def clear(self) -> None:
        self._change(list.clear)

    def sort(self, **kwargs) -> None:
        self._change(list.sort, **kwargs)

    def reverse(self) -> None:
        self._change(list.reverse)

    def __reduce__(self):
        return list, (list(self),)


class LayerAttribute:
    """A composite's attribute that holds its layers (``Sequential.layers``, ``Residual.f``):
    assigning it renames the layers inside, as a change to a :class:`LayerList` does.

    ``convert(value, composite)``, when given, makes the value held (a LayerList of the
    composite's). The descriptor has no ``__get__``: reading the attribute finds the value in the
    instance's ``__dict__``, as for any attribute.
    """

    def __init__(self, convert=None) -> None:
        self.convert = convert

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __set__(self, composite: Layer, value) -> None:
        held = vars(composite).get(self.name, _MISSING)
        vars(composite)[self.name] = value if self.convert is None else self.convert(value, composite)
        _renamed(composite, lambda: self._put_back(composite, held))

    def _put_back(self, composite: Layer, held) -> None:
        if held is _MISSING:
            del vars(composite)[self.name]
        else:
            vars(composite)[self.name] = held
