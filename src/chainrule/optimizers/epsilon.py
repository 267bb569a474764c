"""The ε of a denominator √v + ε (Adam, RMSProp), checked against the model's dtype."""

from __future__ import annotations

import numpy

from ..checks import positive
from ..errors import HyperparameterError, quoted


def smallest_epsilon(dtype) -> float:
    """The smallest ε that :func:`epsilon` accepts in ``dtype``: its smallest normal number."""
    return float(numpy.finfo(dtype).tiny)


def epsilon(value, name: str, dtype) -> float:
    """``value`` as the ε > 0 of a denominator √v + ε in ``dtype``, else HyperparameterError.

    ε must be at least ``dtype``'s smallest normal number (1.2e-38 in float32): a smaller one
    rounds to 0 (or to a subnormal that the hardware may flush to 0), and a parameter whose
    gradient is exactly 0 would then get 0 / 0 = NaN.
    """
    number = positive(value, name)
    smallest = smallest_epsilon(dtype)
    if number < smallest:
        raise HyperparameterError(
            f"{name}: expected a number >= {smallest:.8g}, the smallest normal {numpy.dtype(dtype).name} "
            f"(the model's dtype; a smaller {name} rounds to 0 and 0 / 0 gives NaN), got {quoted(value)}"
        )
    return number


class WithEpsilon:
    """The ε of an optimizer that divides by √v + ε (Adam, RMSProp), as a property: it may be
    changed between steps, each new value checked by :func:`epsilon` against the dtype of
    ``self._work``. The step reads ``self._eps``, so the property costs it nothing."""

    @property
    def eps(self) -> float:
        """ε, at least the smallest normal number of the model's dtype; a new value below
        raises HyperparameterError naming eps and leaves it as it was."""
        return self._eps

    @eps.setter
    def eps(self, value) -> None:
        self._eps = epsilon(value, "eps", self._work.dtype)
