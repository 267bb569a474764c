"""How many features a model takes and how many outputs it gives, read from its layers."""

from __future__ import annotations


def input_width(model, preprocessor=None, first=None) -> int | None:
    """The number of raw features ``model`` takes, or None when the model does not say.

    A given ``preprocessor`` (the one fitted with the model, ``model.preprocessor``) knows
    it; otherwise it is the ``n_in`` of the first layer with parameters (a Linear; the
    activations before it keep the width), and None when that layer has no ``n_in`` (a
    user's own layer) or no layer has parameters. A caller that has that layer already
    (``first``, from ``model.parameter_facts()``) saves the walk to find it. Every question
    of a model's input width is answered here.
    """
    if preprocessor is not None:
        return preprocessor.n_features
    if first is None:
        first = next((layer for _, layer in model.walk() if layer.own_params), None)
    return getattr(first, "n_in", None)


def output_width(model) -> int | None:
    """The number of outputs of ``model``: the ``n_out`` of its last layer with parameters (a
    Linear; an activation or a Residual after it keeps the width), or None when that layer has
    no ``n_out`` or no layer has parameters."""
    last = None
    for _, layer in model.walk():
        if layer.own_params:
            last = layer
    return getattr(last, "n_out", None)
