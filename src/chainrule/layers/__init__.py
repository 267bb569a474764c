"""Layers: neurons of the notes (linear, ReLU, sigmoid, softmax) and their relatives,
and the composites that stack them into deep networks."""

from ..checks import positive_int
from ..errors import HyperparameterError
from .gelu import GELU
from .identity import Identity
from .layer import Layer
from .leaky_relu import LeakyReLU
from .linear import Linear
from .relu import ReLU
from .residual import Residual
from .sequential import Sequential
from .sigmoid import Sigmoid
from .softmax import Softmax
from .tanh import Tanh

ACTIVATIONS = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "logistic": Sigmoid,
    "tanh": Tanh,
    "gelu": GELU,
    "identity": Identity,
    "softmax": Softmax,
}


def activation_layer(name: str) -> Layer:
    """A new activation layer from its name ("relu", "tanh", "sigmoid", ...).

    Raises HyperparameterError for a name that is not one of ``ACTIVATIONS`` (or not a str).
    """
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise HyperparameterError(f"activation: unknown name {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


def mlp(sizes, activation: str = "relu", *, seed=None, dtype="float32") -> Sequential:
    """A multi-layer perceptron: Linear layers of ``sizes`` with ``activation`` between them.

    ``mlp([64, 128, 64, 10])`` is ``Sequential(Linear(64, 128), ReLU(), Linear(128, 64),
    ReLU(), Linear(64, 10))``; the last layer has no activation (its outputs are the logits
    or values the loss expects).
    """
    try:
        sizes = list(sizes)
    except TypeError:
        raise HyperparameterError(f"sizes: expected a list of layer widths, got {type(sizes).__name__}") from None
    if len(sizes) < 2:
        raise HyperparameterError(f"sizes: expected at least an input and an output width, got {sizes!r}")
    sizes = [positive_int(size, f"sizes[{index}]") for index, size in enumerate(sizes)]  # named by position
    activation_layer(activation)  # an unknown name fails here, before any layer is built
    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        layers += [Linear(n_in, n_out, dtype=dtype), activation_layer(activation)]
    return Sequential(*layers[:-1], seed=seed)


__all__ = [
    "ACTIVATIONS", "GELU", "Identity", "Layer", "LeakyReLU", "Linear", "ReLU", "Residual",
    "Sequential", "Sigmoid", "Softmax", "Tanh", "activation_layer", "mlp",
]
