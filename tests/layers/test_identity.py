"""Identity: Y = X, dX = dY."""

import numpy as np
from hypothesis import given

import chainrule as cr
from tests.harness import assert_gradients, assert_keeps_float32, batch_sizes, normal, regression_targets, seeds, widths


@given(seed=seeds, n_samples=batch_sizes, width=widths)
def test_gradcheck(seed, n_samples, width):
    assert_gradients(cr.Identity(), normal(seed, n_samples, width), regression_targets(seed + 1, n_samples, width))


def test_passes_values_through():
    layer = cr.Identity()
    X = normal(0, 3, 2)
    np.testing.assert_array_equal(layer(X), X)
    dY = normal(1, 3, 2)
    np.testing.assert_array_equal(layer.backward(dY), dY)
    assert layer.backward(dY, input_grad=False) is None
    assert layer.params == {}


def test_keeps_float32():
    assert_keeps_float32(cr.Identity(), normal(0, 4, 3))


def test_the_output_is_a_new_array_not_the_callers_x():
    # it was X itself: Y *= 5 changed the caller's X (as it did through an empty or all-Identity Sequential)
    X = normal(0, 3, 2)
    for Y in (cr.Identity()(X), cr.Identity().forward(X), cr.Sequential(cr.Identity(), cr.Identity())(X),
              cr.Sequential()(X)):
        Y *= 5
        np.testing.assert_array_equal(X, normal(0, 3, 2))
