"""Softmax as a layer: Y = softmax(X) row-wise; backward is the Jacobian-vector product."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from tests.harness import (
    assert_gradients, assert_keeps_float32, assert_no_underflow_error, batch_sizes, normal, seeds, tiny_grid,
)


@given(seed=seeds, n_samples=batch_sizes, width=st.integers(2, 8))
def test_gradcheck(seed, n_samples, width):
    assert_gradients(cr.Softmax(), normal(seed, n_samples, width), normal(seed + 1, n_samples, width))


def test_forward_rows_are_probabilities():
    X = normal(0, 5, 4) * 3
    Y = cr.Softmax()(X)
    expected = np.exp(X) / np.exp(X).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(Y, expected)
    np.testing.assert_allclose(Y.sum(axis=1), 1.0)


def test_backward_equals_the_full_jacobian():
    layer = cr.Softmax()
    X = normal(1, 3, 4)
    Y = layer(X)
    dY = normal(2, 3, 4)
    dX = layer.backward(dY)
    for n in range(3):
        # ∂h_j/∂z_i = h_j (δ_ij − h_i), built as a matrix this time.
        jacobian = np.diag(Y[n]) - np.outer(Y[n], Y[n])
        np.testing.assert_allclose(dX[n], dY[n] @ jacobian)


def test_finite_for_huge_inputs():
    layer = cr.Softmax()
    X = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=np.float32)
    with np.errstate(all="raise"):  # e^(z − max z) underflowing to 0 raised FloatingPointError under numpy.seterr
        Y = layer(X)
        dX = layer.backward(np.ones_like(Y))
    np.testing.assert_allclose(Y, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    assert np.all(np.isfinite(dX))


def test_keeps_float32():
    assert_keeps_float32(cr.Softmax(), normal(0, 4, 3))


def test_an_input_without_columns_is_a_shape_error():
    with pytest.raises(cr.ShapeError, match=r"Softmax: expected input of shape \(n_samples, n_classes\) with "
                                            r"n_classes >= 1, got \(4, 0\)"):
        cr.Softmax()(np.zeros((4, 0)))


@pytest.mark.parametrize("shape", [(3,), (2, 3, 1), ()])
def test_forward_of_another_rank_is_a_shape_error(shape):
    # forward (the unchecked path) of a vector or a 0-d array raised IndexError ("tuple index out of range")
    # from X.shape[1]; a (2, 3, 1) array was normalized over its axis 1, a softmax of no one's rows.
    with pytest.raises(cr.ShapeError, match=rf"Softmax: expected input of shape \(n_samples, n_classes\) with "
                                            rf"n_classes >= 1, got {re.escape(str(shape))}"):
        cr.Softmax().forward(np.zeros(shape, dtype=np.float32))


def test_logits_whose_difference_overflows_float32_give_the_limit_without_a_warning():
    X = np.array([[3e38, -3e38, 0.0], [-3e38, 3e38, 1.0]], dtype=np.float32)  # z − max(z) = −6e38 overflows
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e^(−inf) = 0 is the right value: nothing to warn about
        Y = cr.Softmax()(X)
    np.testing.assert_array_equal(Y, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tiny_gradients_raise_no_underflow_error_under_numpy_seterr_raise(dtype):
    """Y ⊙ (dY − Σ_j (dY ⊙ Y)_j) of a gradient near the smallest normal number is a subnormal number or 0, the
    right value: under a caller's numpy.seterr(all="raise") backward raised FloatingPointError on it. (Without the
    column of 1e3, whose e^z would take all the probability: each p is about 1/12, none 0 or 1.)"""
    X, dY = tiny_grid(dtype)
    assert_no_underflow_error(cr.Softmax, X[:, :-1], dY[:, :-1])


@pytest.mark.parametrize("dtype, logit", [("float32", -87.3), ("float64", -707.0)])
def test_a_probability_below_the_smallest_normal_number_raises_no_underflow_error_under_numpy_seterr_raise(
        dtype, logit):
    """e^{z − m} of a normal number whose quotient by the row's sum is a subnormal one (e^{−87.3} / 10 in
    float32) is the right probability: under a caller's numpy.seterr(all="raise") the division raised
    FloatingPointError from Softmax's forward and from SoftmaxCrossEntropy.transform (so cr.predict_proba),
    outside the numpy.errstate that let e^{z − m} underflow."""
    Z = np.zeros((2, 10), dtype=dtype)
    Z[0, 1] = logit
    with np.errstate(under="ignore"):
        expected = cr.Softmax().forward(Z.copy())
    assert 0 < expected[0, 1] < np.finfo(dtype).smallest_normal  # the case: a subnormal probability
    with np.errstate(all="raise"):
        found = [cr.Softmax().forward(Z.copy()), cr.SoftmaxCrossEntropy().transform(Z.copy())]
    for probabilities in found:
        np.testing.assert_array_equal(probabilities, expected)
