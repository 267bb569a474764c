"""Layers: neurons of the notes (linear, ReLU, sigmoid, softmax) and their relatives,
and the composites that stack them into deep networks."""

import collections.abc

from ..checks import positive_int
from ..errors import HyperparameterError, did_you_mean, quoted
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


def canonical_activation(name: str) -> str:
    """The first name ``ACTIVATIONS`` gives the layer that ``name``, one of its names, makes: "sigmoid"
    for "logistic", each other name for itself."""
    return next(key for key, layer in ACTIVATIONS.items() if layer is ACTIVATIONS[name])


def activation_layer(name: str) -> Layer:
    """A new activation layer from its name ("relu", "tanh", "sigmoid", ...).

    Raises HyperparameterError for a name that is not one of ``ACTIVATIONS`` (or not a str).
    """
    _check_activation_name(name, "activation")
    return ACTIVATIONS[name]()


def mlp(sizes, activation: str | list[str] | tuple[str, ...] = "relu", *, init: str = "auto",
        output_activation: str | None = None, seed=None, dtype="float32") -> Sequential:
    """A multi-layer perceptron: Linear layers of ``sizes`` with activations between them.

    ``mlp([64, 128, 64, 10])`` is ``Sequential(Linear(64, 128), ReLU(), Linear(128, 64),
    ReLU(), Linear(64, 10))``; by default the last layer has no activation (its outputs are
    the logits or values the loss expects).

    Parameters
    ----------
    sizes : list of int
        The input width, the hidden widths, then the output width (at least two numbers).
    activation : str or list/tuple of str
        One activation name (see ``ACTIVATIONS``) for every hidden layer, or one name per
        hidden layer, ``len(sizes) - 2`` of them, in order ("identity" for none).
    init : str
        Weight initializer of every Linear (a name or alias of chainrule.initializers).
        "auto" (the default) lets each Linear choose from the activation after it, as
        ``Linear`` does: He before the ReLU family, Glorot otherwise.
    output_activation : str, optional
        An activation layer after the last Linear; None (the default) adds none. Pair it
        with a loss that takes its outputs as they are: "sigmoid" with ``loss="mse"`` (the
        default loss for float targets) on targets in [0, 1]. Do not end in "softmax" for
        the cross-entropy loss (the default for labels), nor in "sigmoid" for
        "binary_cross_entropy": those losses, ``cr.predict_proba`` and the ONNX
        ``probabilities`` option apply the softmax or sigmoid to the outputs themselves,
        so it would be applied twice (``cr.fit`` warns with OutputActivationWarning), and
        a multilabel ``cr.predict`` (outputs > 0) would answer 1 for every label.
    seed : None, int or numpy.random.Generator
        Source of every weight (see ``Sequential``).
    dtype : "float32" (default) or "float64"

    Raises
    ------
    HyperparameterError
        For bad ``sizes``; an unknown activation name (naming ``activation``,
        ``activation[i]`` or ``output_activation``); a list of activations whose length is
        not the number of hidden layers; an unknown ``init``; a layer too wide for the memory
        (TooLargeError, also a MemoryError, naming its n_in, n_out and the bytes NumPy could
        not allocate: see ``Linear``).

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> model = cr.mlp([4, 16, 8, 1], ["relu", "tanh"], output_activation="sigmoid", seed=0)
    >>> [type(layer).__name__ for layer in model.layers]
    ['Linear', 'ReLU', 'Linear', 'Tanh', 'Linear', 'Sigmoid']
    >>> model(np.zeros((2, 4))).shape
    (2, 1)
    """
    if isinstance(sizes, (collections.abc.Set, collections.abc.Mapping, str, bytes)):  # no order, or not widths
        raise HyperparameterError(f"sizes: expected a list of layer widths in order, got {type(sizes).__name__} "
                                  f"{quoted(sizes, 60)}")
    try:
        sizes = list(sizes)
    except TypeError:
        raise HyperparameterError(f"sizes: expected a list of layer widths, got {type(sizes).__name__}") from None
    if len(sizes) < 2:
        raise HyperparameterError(f"sizes: expected at least an input and an output width, got {quoted(sizes)}")
    sizes = [positive_int(size, f"sizes[{index}]") for index, size in enumerate(sizes)]  # named by position
    # Every activation name is checked here, before any layer is built (Linear checks init).
    hidden_activations = _hidden_activations(activation, n_hidden=len(sizes) - 2)
    if output_activation is not None:
        _check_activation_name(output_activation, "output_activation")
    layers = []
    for n_in, n_out, name in zip(sizes, sizes[1:], [*hidden_activations, output_activation]):
        # With a seed, Sequential draws every weight right after: no draw here (nor its waste).
        layers.append(Linear(n_in, n_out, init=init, dtype=dtype, _draw=seed is None))
        if name is not None:
            layers.append(activation_layer(name))
    return Sequential(*layers, seed=seed)


def _hidden_activations(activation, n_hidden: int) -> list[str]:
    """The activation name of each of ``n_hidden`` hidden layers, from mlp's ``activation``."""
    if not isinstance(activation, (list, tuple)):
        _check_activation_name(activation, "activation")
        return [activation] * n_hidden
    if len(activation) != n_hidden:
        raise HyperparameterError(f"activation: expected {n_hidden} name{'s' if n_hidden != 1 else ''}, one per "
                                  f"hidden layer, got {len(activation)}: {quoted(list(activation))}")
    for index, name in enumerate(activation):
        _check_activation_name(name, f"activation[{index}]")
    return list(activation)


def _check_activation_name(name, argument: str) -> None:
    """HyperparameterError naming ``argument`` unless ``activation_layer`` knows ``name``."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise HyperparameterError(f"{argument}: unknown name {quoted(name)}; expected one of {', '.join(ACTIVATIONS)}"
                                  f"{did_you_mean(name, ACTIVATIONS)}")


__all__ = [
    "ACTIVATIONS", "GELU", "Identity", "Layer", "LeakyReLU", "Linear", "ReLU", "Residual",
    "Sequential", "Sigmoid", "Softmax", "Tanh", "activation_layer", "canonical_activation", "mlp",
]
