"""Weight initializers: how a Linear layer's w_ji are drawn before training.

Each initializer draws an array of shape (n_in, n_out) from a ``numpy.random.Generator``
(never from global state). The scale is chosen so that the variance of the signal neither
grows nor shrinks from layer to layer, which keeps the gradient from being "progressively
more diluted" through depth (lecture notes), at least at the start of training:

- Glorot/Xavier (Glorot & Bengio 2010): Var(w) = 2 / (n_in + n_out), for tanh, sigmoid and
  linear neurons;
- He/Kaiming (He et al. 2015): Var(w) = 2 / n_in, for rectified linear neurons, which zero
  half their inputs;
- LeCun (LeCun et al. 1998): Var(w) = 1 / n_in;
- zeros: every weight 0 (useful for an output layer or a test; hidden layers never learn
  distinct features from it).

The uniform variants draw from U(-a, a) with a = sqrt(3 Var); the normal ones from N(0, Var).
The draw is made in float64 and then cast, so the float32 and float64 versions of a seeded
model hold the same weights up to rounding.
"""

from __future__ import annotations

from typing import Callable

import numpy

from .errors import HyperparameterError, did_you_mean, quoted

Initializer = Callable[[tuple, numpy.random.Generator], numpy.ndarray]


def _variance(rule: str, n_in: int, n_out: int) -> float:
    if rule == "glorot":
        return 2.0 / (n_in + n_out)
    if rule == "he":
        return 2.0 / n_in
    return 1.0 / n_in  # lecun


def _uniform(rule: str) -> Initializer:
    def draw(shape, rng):
        limit = numpy.sqrt(3.0 * _variance(rule, *shape))
        return rng.uniform(-limit, limit, size=shape)

    draw.__name__ = f"{rule}_uniform"
    return draw


def _normal(rule: str) -> Initializer:
    def draw(shape, rng):
        return rng.normal(0.0, numpy.sqrt(_variance(rule, *shape)), size=shape)

    draw.__name__ = f"{rule}_normal"
    return draw


def zeros(shape, rng):
    """Every weight 0."""
    return numpy.zeros(shape)


INITIALIZERS: dict[str, Initializer] = {
    "glorot_uniform": _uniform("glorot"),
    "glorot_normal": _normal("glorot"),
    "he_uniform": _uniform("he"),
    "he_normal": _normal("he"),
    "lecun_uniform": _uniform("lecun"),
    "lecun_normal": _normal("lecun"),
    "zeros": zeros,
}
ALIASES = {
    "xavier_uniform": "glorot_uniform",
    "xavier_normal": "glorot_normal",
    "kaiming_uniform": "he_uniform",
    "kaiming_normal": "he_normal",
}


def get_initializer(name: str) -> Initializer:
    """The initializer called ``name`` (or one of its aliases, e.g. "xavier_uniform")."""
    if not isinstance(name, str):
        raise HyperparameterError(f"init: expected an initializer name, got {quoted(name)}")
    key = ALIASES.get(name, name)
    if key not in INITIALIZERS:
        known = ", ".join(sorted([*INITIALIZERS, *ALIASES]))
        raise HyperparameterError(f"init: unknown initializer {quoted(name)}; expected one of {known}"
                                  f"{did_you_mean(name, [*INITIALIZERS, *ALIASES])}")
    return INITIALIZERS[key]


def as_generator(seed) -> numpy.random.Generator:
    """A Generator from ``seed`` (None, an int, a SeedSequence or a Generator, used as is)."""
    if isinstance(seed, numpy.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, numpy.integer, numpy.random.SeedSequence))):
        raise HyperparameterError(f"seed: expected None, an int, a numpy.random.SeedSequence or a "
                                  f"numpy.random.Generator, got {quoted(seed)}")
    if isinstance(seed, (int, numpy.integer)) and seed < 0:
        raise HyperparameterError(f"seed: expected a non-negative int, got {int(seed)}")
    return numpy.random.default_rng(seed)
