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

# Keras's, PyTorch's and scikit-learn's names of these losses (compared in lower case) -> chainrule's,
# which the refusal of such a name suggests (difflib finds none of them close enough)
OTHER_NAMES = {
    "sparse_categorical_crossentropy": "cross_entropy",  # Keras, integer labels
    "categorical_crossentropy": "cross_entropy",  # Keras, one-hot targets
    "crossentropyloss": "cross_entropy",  # PyTorch's CrossEntropyLoss
    "log_loss": "cross_entropy",  # scikit-learn
    "bcewithlogitsloss": "binary_cross_entropy",  # PyTorch
    "mean_squared_error": "mse",  # Keras
    "squared_error": "mse",  # scikit-learn's MLPRegressor
    "mseloss": "mse",  # PyTorch
}


def loss_meant(name, options=tuple(LOSSES)) -> str:
    """`` (did you mean 'cross_entropy'?)`` for another library's name of one of LOSSES (:data:`OTHER_NAMES`,
    "categorical_crossentropy") or a typo of one of ``options``; "" for none."""
    meant = OTHER_NAMES.get(name.casefold()) if isinstance(name, str) else None
    return f" (did you mean {meant!r}?)" if meant else did_you_mean(name, options)


def get_loss(name) -> Loss:
    """A Loss from its name ("mse", "cross_entropy", "binary_cross_entropy"), or as given.

    Anything else (an unknown name, or not a string) raises HyperparameterError; for a Loss
    class (``cr.MSE`` for ``cr.MSE()``, as ``torch.nn.MSELoss`` is written without its call) it
    says to make one.
    """
    if isinstance(name, Loss):
        return name
    if isinstance(name, type) and issubclass(name, Loss):
        raise HyperparameterError(f"loss: got the class {name.__name__}, expected a loss object: pass "
                                  f"{name.__name__}() (or one of the names {', '.join(LOSSES)})")
    if not isinstance(name, str) or name not in LOSSES:
        raise HyperparameterError(f"loss: unknown name {quoted(name)}; expected one of {', '.join(LOSSES)}"
                                  f"{loss_meant(name)}")
    return LOSSES[name]()


__all__ = ["BinaryCrossEntropy", "LOSSES", "Loss", "MSE", "SoftmaxCrossEntropy", "get_loss", "loss_meant"]
