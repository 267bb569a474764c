"""Optimizers, in order of increasing complexity, and learning-rate schedules."""

import inspect

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
    optimizer = OPTIMIZERS[name]
    try:
        return optimizer(model, **hyperparameters)
    except TypeError:  # the signature is read only then: an inspection costs about 20 µs, a fit call's fixed cost
        accepted = [parameter for parameter in inspect.signature(optimizer).parameters if parameter != "model"]
        for keyword in hyperparameters:
            if keyword not in accepted:
                raise HyperparameterError(f"{keyword}: not an argument of {optimizer.__name__} ({name!r}); it "
                                          f"takes {', '.join(accepted)}{did_you_mean(keyword, accepted)}") from None
        raise


__all__ = [
    "Adam", "AdamW", "CosineDecay", "ExponentialDecay", "LinearWarmup", "OPTIMIZERS", "Optimizer",
    "RMSProp", "SGD", "StepDecay", "Vectors", "get_optimizer",
]
