"""ReLU: Y = max(X, 0), dX = dY ⊙ [Y > 0]."""

import numpy as np
from hypothesis import given

import chainrule as cr
from tests.harness import assert_gradients, assert_keeps_float32, batch_sizes, normal, regression_targets, seeds, widths


@given(seed=seeds, n_samples=batch_sizes, width=widths)
def test_gradcheck(seed, n_samples, width):
    assert_gradients(cr.ReLU(), normal(seed, n_samples, width), regression_targets(seed + 1, n_samples, width))


def test_forward_and_backward():
    layer = cr.ReLU()
    X = np.array([[-2.0, 0.0, 3.0], [1.5, -0.5, 0.25]])
    np.testing.assert_array_equal(layer(X), [[0.0, 0.0, 3.0], [1.5, 0.0, 0.25]])
    dY = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    # f'(z) = 1 for z > 0 and 0 otherwise (0 at the kink z = 0 itself).
    np.testing.assert_array_equal(layer.backward(dY), [[0.0, 0.0, 3.0], [4.0, 0.0, 6.0]])


def test_backward_inside_and_outside_a_training_loop_gives_the_same_bits():
    # Outside reusing_buffers the backend makes the mask [Y > 0] itself; inside, the layer's buffer holds it.
    layer = cr.ReLU()
    X, dY = normal(0, 3, 4), normal(1, 3, 4)
    layer.forward(X)
    dX = layer.backward(dY)
    with layer.reusing_buffers():
        layer.forward(X)
        assert layer.backward(dY).tobytes() == dX.tobytes()


def test_no_input_grad():
    layer = cr.ReLU()
    layer(np.ones((2, 2)))
    assert layer.backward(np.ones((2, 2)), input_grad=False) is None


def test_keeps_float32():
    assert_keeps_float32(cr.ReLU(), normal(0, 4, 3))


def test_prefers_he_initialization():
    assert cr.ReLU.preferred_init == "he_normal"
