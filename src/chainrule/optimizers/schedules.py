"""Learning-rate schedules: ``schedule(t)`` is the factor applied to lr at step t.

t counts optimizer steps from 0 (the first update uses ``schedule(0)``). To decay per
epoch, count in steps: with ``n_batches`` per epoch, ``StepDecay(10 * n_batches, 0.1)``
divides lr by 10 every 10 epochs. Schedules are plain, stateless callables, not changed once
made (see :class:`Schedule`), so a resumed run (which restores the optimizer's t) continues the
schedule exactly. A factor past the largest float (``StepDecay`` or ``ExponentialDecay`` with
γ > 1, after many steps) is inf, which an optimizer refuses (``Optimizer.current_lr``).

>>> import chainrule as cr
>>> warm_cosine = cr.LinearWarmup(100, then=cr.CosineDecay(900))
>>> warm_cosine(0), warm_cosine(99), round(warm_cosine(100 + 450), 3)
(0.01, 1.0, 0.5)
"""

from __future__ import annotations

import math
import numbers

from ..checks import in_unit_interval, positive, positive_int
from ..errors import HyperparameterError, quoted
from .attributes import constructor


class Schedule:
    """A schedule's settings are checked once, when it is made, and not changed after: an
    assignment once its outermost ``__init__`` has returned (``schedule.total_steps = 0``, or a
    misspelt ``schedule.step_sise = 3``) raises HyperparameterError saying to make a new one,
    rather than failing later inside ``fit`` or being ignored. A subclass's ``__init__`` sets
    what it likes, as an optimizer's does (:func:`.attributes.constructor`)."""

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in vars(cls):
            cls.__init__ = constructor(vars(cls)["__init__"])

    def __setattr__(self, name: str, value) -> None:
        # True where no wrapped __init__ ran: a @dataclass subclass's (added after the class was made) is not sealed
        if not (name.startswith("_") or self.__dict__.get("_constructing", True)):
            raise HyperparameterError(f"{name}: a schedule is not changed once made; make a new "
                                      f"{type(self).__name__}")
        object.__setattr__(self, name, value)


def step_count(t) -> int:
    """``t``, the step a schedule is asked about: an integer >= 0 (a NumPy integer too, made a Python
    int, whose float power past the largest float raises the OverflowError that the schedules turn
    into inf, where NumPy's warned), else HyperparameterError naming it (a string raised TypeError;
    a negative step extrapolated)."""
    if type(t) is int and t >= 0:  # what the optimizer passes: 0.1 µs, where the checks below take 0.6
        return t
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
        raise HyperparameterError(f"t: expected a step count, an integer >= 0, got {type(t).__name__} {quoted(t, 60)}")
    return int(t)


class StepDecay(Schedule):
    """factor(t) = γ^⌊t / step_size⌋: multiply lr by γ every ``step_size`` steps."""

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = positive_int(step_size, "step_size")
        self.gamma = positive(gamma, "gamma")

    def __call__(self, t: int) -> float:
        try:
            return self.gamma ** (step_count(t) // self.step_size)
        except OverflowError:  # past the largest float (γ > 1): inf, as a float product would be
            return math.inf

    def __repr__(self) -> str:
        return f"StepDecay({self.step_size}, gamma={self.gamma})"


class ExponentialDecay(Schedule):
    """factor(t) = γ^t: multiply lr by γ every step."""

    def __init__(self, gamma: float) -> None:
        self.gamma = positive(gamma, "gamma")

    def __call__(self, t: int) -> float:
        try:
            return self.gamma ** step_count(t)
        except OverflowError:  # past the largest float (γ > 1): inf, as a float product would be
            return math.inf

    def __repr__(self) -> str:
        return f"ExponentialDecay({self.gamma})"


class CosineDecay(Schedule):
    """factor(t) = m + (1 − m)(1 + cos(π t / T)) / 2 for t < T, then m (Loshchilov & Hutter 2017).

    Falls from 1 at t = 0 to ``min_factor`` m at t = T = ``total_steps`` along half a cosine.
    """

    def __init__(self, total_steps: int, min_factor: float = 0.0) -> None:
        self.total_steps = positive_int(total_steps, "total_steps")
        self.min_factor = in_unit_interval(min_factor, "min_factor")

    def __call__(self, t: int) -> float:
        progress = min(step_count(t), self.total_steps) / self.total_steps
        return self.min_factor + (1 - self.min_factor) * (1 + math.cos(math.pi * progress)) / 2

    def __repr__(self) -> str:
        return f"CosineDecay({self.total_steps}, min_factor={self.min_factor})"


class LinearWarmup(Schedule):
    """factor(t) = (t + 1) / W for t < W, then ``then(t − W)`` (1 if ``then`` is None).

    Ramps lr up over the first W = ``warmup_steps`` steps, then hands over to another
    schedule, which starts from its own t = 0.
    """

    def __init__(self, warmup_steps: int, then=None) -> None:
        self.warmup_steps = positive_int(warmup_steps, "warmup_steps")
        if then is not None and not callable(then):
            raise HyperparameterError(f"then: expected a schedule (a callable of the step), got {quoted(then)}")
        self.then = then

    def __call__(self, t: int) -> float:
        if step_count(t) < self.warmup_steps:
            return (t + 1) / self.warmup_steps
        return 1.0 if self.then is None else self.then(t - self.warmup_steps)

    def __repr__(self) -> str:
        return f"LinearWarmup({self.warmup_steps}, then={self.then!r})"
