"""The checks of a saved optimizer state (``Optimizer.load_state_dict``), all before anything is restored."""

from __future__ import annotations

import numbers

import numpy

from ..backend import Array, to_numpy
from ..checks import check_finite_as, listing
from ..errors import DTypeError, HyperparameterError, ShapeError, quoted

#: The largest step count a saved optimizer may resume from. Far beyond any real run, and small
#: enough that ``beta ** t`` and ``schedule(t)`` stay ordinary float arithmetic (a crafted
#: file's t = 10**400 would make Adam's first step raise OverflowError).
MAX_STEP_COUNT = 2**53
NON_NEGATIVE_STATE = frozenset({"v"})  # the second moments of Adam and RMSProp: running means of g²


def checked_saved_state(name: str, saved, state: dict[str, Array],
                        parameter_names: list) -> tuple[int, dict[str, numpy.ndarray], dict[str, int]]:
    """(t, {state name: NumPy array}, missed) from ``saved``, a ``state_dict()`` of the optimizer
    ``name`` whose current ``state`` it is to replace, for a model with ``parameter_names``; the
    chainrule error of ``load_state_dict`` otherwise."""
    if not isinstance(saved, dict) or "t" not in saved or not isinstance(saved.get("state"), dict):
        raise HyperparameterError(f"{name}: expected a state dict {{'t': step count, 'state': {{name: array}}}} "
                                  f"as state_dict() returns, got {quoted(saved, 80)}")
    t = saved["t"]
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or not 0 <= t <= MAX_STEP_COUNT:
        raise HyperparameterError(
            f"{name}: saved step count t: expected an integer in [0, {MAX_STEP_COUNT}], got {quoted(t, 60)}"
        )
    if set(saved["state"]) != set(state):
        held = sorted(saved["state"], key=quoted)  # keys of any type, in the order shown: 1 and 'm' do not compare
        raise HyperparameterError(f"{name}: saved state holds {quoted(held, 80)}, but {name} keeps "
                                  f"{sorted(state)} (a state from another optimizer type?)")
    checked = {}
    for key, array in state.items():
        where = f"{name}: saved state {key!r}"
        try:
            value = to_numpy(saved["state"][key])  # a NumPy or CuPy array, or a list
        except (TypeError, ValueError):  # a ragged list
            raise ShapeError(f"{where}: expected an array of shape {array.shape}") from None
        if value.shape != array.shape:
            raise ShapeError(f"{where}: expected shape {array.shape}, got {value.shape}")
        if value.dtype.kind not in "fiu":
            raise DTypeError(f"{where}: expected real numbers, got dtype {value.dtype}")
        check_finite_as(value, array.dtype, where)
        if key in NON_NEGATIVE_STATE and (value < 0).any():
            raise HyperparameterError(f"{where}: a second moment cannot be negative, got {float(value.min())!r}")
        checked[key] = value
    return int(t), checked, checked_missed(name, saved.get("missed", {}), int(t), parameter_names)


def checked_missed(name: str, missed, t: int, parameter_names: list) -> dict[str, int]:
    """The steps each parameter missed while frozen, from a saved ``missed`` ({parameter name:
    count}) of the optimizer ``name`` at step count ``t``, without the zero counts; HyperparameterError
    naming missed unless every name is one of ``parameter_names`` and every count an integer in [0, t]."""
    if not isinstance(missed, dict):
        raise HyperparameterError(f"{name}: saved missed: expected a dict {{parameter name: steps missed while "
                                  f"frozen}}, got {quoted(missed, 60)}")
    known = set(parameter_names)  # a list searched once per key took 14 s for 25,000 keys among 50,000 names
    for key, count in missed.items():
        if key not in known:
            raise HyperparameterError(f"{name}: saved missed: {quoted(key, 60)} is not a parameter of the model, "
                                      f"whose parameters are {listing(parameter_names)}")
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or not 0 <= count <= t:
            raise HyperparameterError(f"{name}: saved missed[{key!r}]: expected an integer in [0, t={t}] "
                                      f"(steps missed while frozen), got {quoted(count, 60)}")
    return {key: int(count) for key, count in missed.items() if count}
