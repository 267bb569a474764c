"""The error hierarchy: every chainrule error is also the built-in error it documents."""

import numpy as np
import pytest

import chainrule as cr

BUILTIN = {
    cr.ShapeError: ValueError,
    cr.NonFiniteError: ValueError,
    cr.LabelError: ValueError,
    cr.DTypeError: TypeError,
    cr.HyperparameterError: ValueError,
    cr.DataError: ValueError,
    cr.ConfigError: ValueError,
    cr.ModelFileError: ValueError,
    cr.DivergenceError: FloatingPointError,
}


@pytest.mark.parametrize("error, builtin", BUILTIN.items(), ids=lambda item: getattr(item, "__name__", ""))
def test_hierarchy(error, builtin):
    assert issubclass(error, cr.ChainruleError)
    assert issubclass(error, builtin)
    assert error is getattr(cr.errors, error.__name__)


def test_value_and_type_errors_are_disjoint():
    assert not issubclass(cr.DTypeError, ValueError)
    assert not issubclass(cr.ShapeError, TypeError)


def test_a_built_in_except_clause_catches_chainrule_errors():
    model = cr.Sequential(cr.Linear(3, 2))
    with pytest.raises(ValueError):
        model(np.zeros((1, 4)))
    with pytest.raises(TypeError):
        cr.SoftmaxCrossEntropy()(np.zeros((2, 2)), np.array([0.0, 1.0]))
