"""Losses on model outputs: each returns (L, ∂L/∂output)."""

from ..errors import HyperparameterError, did_you_mean, quoted
from .binary_cross_entropy import BinaryCrossEntropy
from .loss import Loss
from .mse import MSE
from .softmax_cross_entropy import SoftmaxCrossEntropy

LOSSES = {
    "mse": MSE,
    "cross_entropy": SoftmaxCrossEntropy,
    "softmax_cross_entropy": SoftmaxCrossEntropy,
    "binary_cross_entropy": BinaryCrossEntropy,
}


def get_loss(name) -> Loss:
    """A Loss from its name ("mse", "cross_entropy", "binary_cross_entropy"), or as given.

    Anything else (an unknown name, or not a string) raises HyperparameterError.
    """
    if isinstance(name, Loss):
        return name
    if not isinstance(name, str) or name not in LOSSES:
        raise HyperparameterError(f"loss: unknown name {quoted(name)}; expected one of {', '.join(LOSSES)}"
                                  f"{did_you_mean(name, LOSSES)}")
    return LOSSES[name]()


__all__ = ["BinaryCrossEntropy", "LOSSES", "Loss", "MSE", "SoftmaxCrossEntropy", "get_loss"]
