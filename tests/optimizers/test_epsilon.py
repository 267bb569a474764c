"""The ε of a denominator √v + ε, checked against the model's dtype (optimizers/epsilon.py)."""

from fractions import Fraction

import numpy as np
import pytest

import chainrule as cr
from chainrule.optimizers.epsilon import WithEpsilon, epsilon, smallest_epsilon
from tests.harness import tiny_model


def test_smallest_epsilon_is_the_smallest_normal_number_of_the_dtype():
    assert smallest_epsilon(np.float32) == 2.0**-126
    assert smallest_epsilon("float64") == 2.0**-1022
    assert type(smallest_epsilon(np.float32)) is float


def test_epsilon_takes_the_smallest_normal_number_and_names_the_argument_it_refuses():
    smallest = float(np.finfo(np.float32).tiny)
    assert epsilon(smallest, "epsilon", np.float32) == smallest
    assert epsilon(1e-50, "epsilon", np.float64) == 1e-50
    with pytest.raises(cr.HyperparameterError, match=r"^epsilon: expected a number >= 1.1754944e-38, the smallest "
                                                     r"normal float32 \(the model's dtype; a smaller epsilon rounds "
                                                     r"to 0 and 0 / 0 gives NaN\), got 1e-50$"):
        epsilon(1e-50, "epsilon", np.float32)
    with pytest.raises(cr.HyperparameterError, match=r"^epsilon: expected a number > 0, got -1.0"):
        epsilon(-1.0, "epsilon", np.float32)
    # a Fraction of 5,000-digit terms, 1e-40 as a float: its repr raised ValueError inside the message
    with pytest.raises(cr.HyperparameterError, match=r"gives NaN\), got <Fraction holding an int of more than"):
        epsilon(Fraction(10 ** 5000 + 1, 10 ** 5040), "epsilon", np.float32)


class Denominator(WithEpsilon):
    """The least an optimizer gives WithEpsilon: its work vector ``_work`` in the model's dtype."""

    def __init__(self, dtype, eps):
        self._work = np.zeros(3, dtype=dtype)
        self.eps = eps


def test_a_new_eps_is_checked_against_the_work_vectors_dtype_and_a_refused_one_leaves_eps_as_it_was():
    denominator = Denominator(np.float32, 1e-8)
    denominator.eps = 1e-3
    assert denominator.eps == denominator._eps == 1e-3
    with pytest.raises(cr.HyperparameterError, match="eps: expected a number >= 1.1754944e-38"):
        denominator.eps = 1e-50
    assert denominator.eps == 1e-3
    assert Denominator(np.float64, 1e-50).eps == 1e-50


@pytest.mark.parametrize("kind", [cr.Adam, cr.AdamW, cr.RMSProp])
def test_eps_that_rounds_to_zero_in_the_models_dtype_is_refused(kind):
    # float32: 1e-50 rounds to 0, so a zero gradient gave 0 / 0 = NaN weights.
    float32_model = cr.mlp([3, 2], seed=0)
    with pytest.raises(cr.HyperparameterError, match=r"eps: expected a number >= 1.1754944e-38, the smallest "
                                                     r"normal float32 .*got 1e-50"):
        kind(float32_model, eps=1e-50)
    assert kind(float32_model, eps=float(np.finfo(np.float32).tiny)).eps > 0
    assert kind(tiny_model(), eps=1e-50).eps == 1e-50  # float64: 1e-50 is an ordinary number
    with pytest.raises(cr.HyperparameterError, match="smallest normal float64"):
        kind(tiny_model(), eps=1e-320)


def test_adam_with_the_smallest_eps_keeps_a_zero_gradient_finite():
    model = cr.mlp([3, 2], seed=0)
    optimizer = cr.Adam(model, eps=float(np.finfo(np.float32).tiny))
    model.flat_parameters().grad[...] = 0.0
    assert optimizer.step(check_finite=True)
    assert np.isfinite(model.flat_parameters().theta).all()
