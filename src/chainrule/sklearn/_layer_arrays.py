"""``coefs_`` and ``intercepts_``: the network's own arrays, one per Linear layer, in a list
that copies what is assigned to it into the network.

scikit-learn's MLP keeps its weights in these lists, so ``coefs_[i] = W`` (or
``coefs_ = [...]``) sets a layer's weights there. Ours lie in the network's layers; the
list holds views of them, and an assignment copies the new values into them.
"""

from __future__ import annotations

import numpy

from ..checks import check_finite_as
from ..errors import DTypeError, ShapeError


class LayerArrays(list):
    """Views of the arrays of a network's Linear layers, known to users as ``name``.

    ``arrays[i] = A`` copies A into the network's i-th array, cast to its dtype: A must
    have its shape (else ShapeError) and hold real numbers (else DTypeError) that the dtype
    can hold (else NonFiniteError), each error naming ``name[i]``. ``arrays[i:j] = [...]``
    takes one array per position, all checked before any is copied. The network's layers are
    fixed: the list cannot change length or order (ShapeError).
    """

    def __init__(self, arrays: list, name: str) -> None:
        super().__init__(arrays)
        self.name = name

    def __setitem__(self, index, value) -> None:
        try:
            positions = range(len(self))[index]  # an int, or the positions of a slice
        except IndexError:
            raise IndexError(f"{self.name}: index {index} is out of range for the network's {len(self)} layers") \
                from None
        if isinstance(positions, int):
            positions, values = [positions], [value]
        else:
            values = self._sequence(value)
            if len(values) != len(positions):
                raise ShapeError(f"{self.name}: expected {len(positions)} arrays, for layers {list(positions)} of "
                                 f"the network's {len(self)} (its layers are fixed), got {len(values)}")
        checked = [self._checked(position, value) for position, value in zip(positions, values)]
        for position, array in zip(positions, checked):
            list.__getitem__(self, position)[...] = array

    def _sequence(self, value) -> list:
        """The arrays assigned to a slice, as a list; DTypeError naming ``name`` if not a sequence."""
        try:
            return list(value)
        except TypeError:
            raise DTypeError(f"{self.name}: expected a sequence of arrays, got {type(value).__name__}") from None

    def _checked(self, position: int, value) -> numpy.ndarray:
        """``value`` as an array that fits the network's array at ``position``, or the error naming it."""
        target, where = list.__getitem__(self, position), f"{self.name}[{position}]"
        try:
            array = numpy.asarray(value)
        except (TypeError, ValueError) as error:
            raise ShapeError(f"{where}: expected an array of shape {target.shape}, got {type(value).__name__} "
                             f"({error})") from None
        if array.dtype.kind not in "fiub":
            raise DTypeError(f"{where}: expected real numbers, got dtype {array.dtype}")
        if array.shape != target.shape:
            raise ShapeError(f"{where}: expected shape {target.shape}, the layer's, got shape {array.shape}")
        check_finite_as(array, target.dtype, where)
        return array

    def __reduce__(self):
        """A copy (``copy.deepcopy``) or pickle is a plain list of the arrays, no longer the network's."""
        return list, (list(self),)

    def _refuse_resizing(self, *args, **kwargs):
        """Every method that would add, remove or reorder arrays: the network's layers stay."""
        raise ShapeError(f"{self.name}: the network's {len(self)} layers are fixed, so its list cannot change length "
                         f"or order; set a layer's array with {self.name}[i] = array")

    __delitem__ = __iadd__ = __imul__ = _refuse_resizing
    append = clear = extend = insert = pop = remove = reverse = sort = _refuse_resizing
