"""Optimizers, in order of increasing complexity, and learning-rate schedules."""

from ..errors import HyperparameterError, did_you_mean, quoted
from .adam import Adam, AdamW
from .optimizer import Optimizer, Vectors
from .rmsprop import RMSProp
from .schedules import CosineDecay, ExponentialDecay, LinearWarmup, StepDecay
from .sgd import SGD

OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSProp, "adam": Adam, "adamw": AdamW}


def get_optimizer(name, model, **hyperparameters) -> Optimizer:
    """An optimizer for ``model`` from its name ("sgd", "rmsprop", "adam", "adamw"), or as given.

    A keyword the named optimizer does not take (``momentum`` for "adam") raises
    HyperparameterError naming it and listing the ones it takes. An optimizer object is
    returned as it is, if it was made for ``model`` (HyperparameterError otherwise); it steps
    with its own hyperparameters, so any given beside it (``lr=0.5``, which it would ignore)
    raises HyperparameterError naming them, as ``cr.fit`` does for ``lr``. Anything else than
    a name or an optimizer raises HyperparameterError naming optimizer.
    """
    if isinstance(name, Optimizer):
        kind = type(name).__name__
        if name.model is not model:
            raise HyperparameterError(f"optimizer: it was made for another model; pass cr.{kind}(model, ...) for "
                                      f"this one")
        if hyperparameters:  # they would be ignored: an optimizer object steps with its own
            given = ", ".join(hyperparameters)
            raise HyperparameterError(f"{given}: the optimizer given has its own hyperparameters, {name!r}; pass "
                                      f"{given} to the optimizer, or {given} with an optimizer name")
        return name
    names = ", ".join(OPTIMIZERS)
    if not isinstance(name, str):  # a list or a class would fail the lookup with a raw TypeError, or as a name
        raise HyperparameterError(f"optimizer: expected an optimizer made for the model (cr.Adam(model, ...)) or "
                                  f"one of the names {names}; got {type(name).__name__} {quoted(name)}")
    if name not in OPTIMIZERS:
        raise HyperparameterError(f"optimizer: unknown name {quoted(name)}; expected one of {names}"
                                  f"{did_you_mean(name, OPTIMIZERS)}")
    return OPTIMIZERS[name](model, **hyperparameters)


__all__ = [
    "Adam", "AdamW", "CosineDecay", "ExponentialDecay", "LinearWarmup", "OPTIMIZERS", "Optimizer",
    "RMSProp", "SGD", "StepDecay", "Vectors", "get_optimizer",
]
