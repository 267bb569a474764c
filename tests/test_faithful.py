"""The first promise, faithful: the code reads like the notes.

Every public layer's ``forward`` and ``backward``, every loss's ``compute`` and every optimizer's
update ``rule`` states, in a docstring of its own (``help(cr.Linear.backward)`` shows it), the
equation it computes in the code's names: Y from X forward, dX from dY backward, L and dY of a
loss, Δθ of an optimizer. Whether the equation is the one computed is proved by gradcheck
(tests/layers, tests/losses, tests/test_gradcheck.py) and by the comparisons with PyTorch
(tests/*/test_against_torch.py).
"""

import re

import pytest

import chainrule as cr
from chainrule.layers import ACTIVATIONS
from chainrule.losses import LOSSES
from chainrule.optimizers import OPTIMIZERS

LAYERS = sorted({*ACTIVATIONS.values(), cr.Linear, cr.Residual, cr.Sequential}, key=lambda layer: layer.__name__)


def own_doc(cls, method: str) -> str:
    """The docstring of ``cls.method`` ("" for an override without one, which does not inherit its base's; an
    inherited method's is its base's: AdamW's rule is Adam's, which states both steps)."""
    return getattr(cls, method).__doc__ or ""


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.__name__)
def test_a_layers_forward_and_backward_state_their_equations(layer):
    # the output named (Y, or Linear's Z) and equated: "=" alone was met by any "inplace=True" in the text
    assert re.search(r"\b[YZ] =", own_doc(layer, "forward")), f"{layer.__name__}.forward states no Y = ..."
    assert "dX =" in own_doc(layer, "backward"), f"{layer.__name__}.backward states no dX = ..."


@pytest.mark.parametrize("loss", sorted(set(LOSSES.values()), key=lambda loss: loss.__name__),
                         ids=lambda loss: loss.__name__)
def test_a_losss_compute_states_its_value_and_gradient(loss):
    doc = own_doc(loss, "compute")
    assert "L =" in doc and "dY =" in doc and "1/N" in doc, f"{loss.__name__}.compute states no L, dY and 1/N"


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS.values()), ids=lambda optimizer: optimizer.__name__)
def test_an_optimizers_rule_states_its_step(optimizer):
    assert "Δθ =" in own_doc(optimizer, "rule"), f"{optimizer.__name__}.rule states no Δθ = ..."
