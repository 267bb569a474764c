"""Optimizers, in order of increasing complexity, and learning-rate schedules."""

from ..errors import HyperparameterError, did_you_mean
from .adam import Adam, AdamW
from .optimizer import Optimizer, Vectors
from .rmsprop import RMSProp
from .schedules import CosineDecay, ExponentialDecay, LinearWarmup, StepDecay
from .sgd import SGD

OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSProp, "adam": Adam, "adamw": AdamW}


def get_optimizer(name, model, **hyperparameters) -> Optimizer:
    """An optimizer for ``model`` from its name ("sgd", "rmsprop", "adam", "adamw"), or as given.

    A keyword the named optimizer does not take (``momentum`` for "adam") raises
    HyperparameterError naming it and listing the ones it takes.
    """
    if isinstance(name, Optimizer):
        return name
    if name not in OPTIMIZERS:
        raise HyperparameterError(f"optimizer: unknown name {name!r}; expected one of {', '.join(OPTIMIZERS)}"
                                  f"{did_you_mean(name, OPTIMIZERS)}")
    return OPTIMIZERS[name](model, **hyperparameters)


__all__ = [
    "Adam", "AdamW", "CosineDecay", "ExponentialDecay", "LinearWarmup", "OPTIMIZERS", "Optimizer",
    "RMSProp", "SGD", "StepDecay", "Vectors", "get_optimizer",
]
