"""Residual: Y = X + f(X), dX = dY + f.backward(dY)."""

import numpy as np
import pytest
from hypothesis import given

import chainrule as cr
from tests.harness import (
    assert_gradients, assert_keeps_float32, batch_sizes, hidden_widths, normal, randomize_biases, regression_targets,
    seeds, widths,
)


@given(seed=seeds, n_samples=batch_sizes, width=widths, hidden=hidden_widths)
def test_gradcheck(seed, n_samples, width, hidden):
    block = cr.Residual(cr.Sequential(cr.Linear(width, hidden, dtype="float64"), cr.Sigmoid(),
                                      cr.Linear(hidden, width, dtype="float64"), seed=seed))
    randomize_biases(block, seed + 2)
    assert_gradients(block, normal(seed, n_samples, width), regression_targets(seed + 1, n_samples, width))


@given(seed=seeds, n_samples=batch_sizes, width=widths)
def test_gradcheck_residual_of_residual(seed, n_samples, width):
    inner = cr.Residual(cr.Sequential(cr.Linear(width, width, dtype="float64"), cr.Tanh()))
    model = cr.Sequential(cr.Residual(cr.Sequential(inner, cr.Linear(width, width, dtype="float64"))), seed=seed)
    assert list(model.params) == ["0.f.0.f.0.W", "0.f.0.f.0.b", "0.f.1.W", "0.f.1.b"]
    randomize_biases(model, seed + 2)
    assert_gradients(model, normal(seed, n_samples, width), regression_targets(seed + 1, n_samples, width))


def test_forward_and_backward_add_the_identity_path():
    f = cr.Linear(2, 2, dtype="float64")
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    f.params["W"][...] = W
    block = cr.Residual(f)
    X = np.array([[1.0, -1.0]])
    np.testing.assert_allclose(block(X), X + X @ W)
    dY = np.array([[0.5, 2.0]])
    np.testing.assert_allclose(block.backward(dY), dY + dY @ W.T)  # ∂y/∂x = I + Wᵀ
    np.testing.assert_allclose(f.grads["W"], X.T @ dY)


def test_residual_of_zero_is_the_identity():
    block = cr.Residual(cr.Linear(3, 3, init="zeros"))
    X = normal(0, 2, 3).astype(np.float32)
    np.testing.assert_array_equal(block(X), X)
    np.testing.assert_array_equal(block.backward(X), X)
    assert block.backward(X, input_grad=False) is None


def test_shape_changing_block_is_rejected():
    with pytest.raises(cr.ShapeError, match=r"Residual: f must keep the shape of its input for x \+ f\(x\); "
                                            r"input \(1, 2\), f\(x\) \(1, 3\)"):
        cr.Residual(cr.Linear(2, 3))(np.zeros((1, 2)))


@pytest.mark.parametrize("output, received", [(lambda X: X.tolist(), "list"), (lambda X: X > 0, "dtype bool"),
                                              (lambda X: X.astype(np.int64), "dtype int64"),
                                              (lambda X: X.astype(np.float64), "dtype float64")],
                         ids=["list", "bool", "int", "float64"])
def test_a_block_that_returns_no_array_of_its_inputs_dtype_is_rejected(output, received):
    # A list raised AttributeError ('list' object has no attribute 'shape'); booleans and integers
    # were added to x (a float64 sum for a float32 model's integers), and so were float64 values,
    # whose sum fit then refused at the first Linear's backward, blaming its dY.
    class BadOutput(cr.layers.layer.Layer):
        def forward(self, X):
            return output(X)

        def backward(self, dY, input_grad=True):
            return dY if input_grad else None

    with pytest.raises(cr.DTypeError, match=rf"^Residual: f must return an array of its input's dtype, float32, "
                                            rf"for x \+ f\(x\); f\(x\) is {received}$"):
        cr.Residual(BadOutput())(np.ones((2, 3), np.float32))


def test_shape_changing_block_inside_a_model_names_the_path():
    model = cr.Sequential(cr.Linear(2, 2), cr.Residual(cr.Linear(2, 3)))
    with pytest.raises(cr.ShapeError, match=r"layer '1' \(Residual\)"):
        model(np.zeros((1, 2)))


def test_rejects_non_layers():
    with pytest.raises(cr.HyperparameterError, match="Residual: f must be a chainrule Layer, got ufunc"):
        cr.Residual(np.tanh)


def test_keeps_float32():
    assert_keeps_float32(cr.Residual(cr.Sequential(cr.Linear(3, 5), cr.Tanh(), cr.Linear(5, 3))), normal(0, 4, 3))


def test_a_layer_used_twice_inside_f_is_rejected():
    block = cr.Sequential(cr.Linear(3, 3), cr.Tanh())
    block.layers.append(block.layers[1])  # changed after its own check
    with pytest.raises(cr.HyperparameterError, match="layer 'f.2' is the same object as layer 'f.1'"):
        cr.Residual(block)


@pytest.mark.parametrize("activation", [cr.ReLU, cr.Tanh, cr.GELU])
def test_an_activation_taken_from_between_two_linears_computes_x_plus_f_of_x(activation):
    # It ran in place in the first model; in a Residual it must leave X (and dY) alone.
    act = activation()
    cr.Sequential(cr.Linear(3, 4, seed=0), act, cr.Linear(4, 2, seed=1))
    model = cr.Sequential(cr.Linear(3, 4, seed=0), cr.Residual(act), cr.Linear(4, 2, seed=1))
    reference = cr.Sequential(cr.Linear(3, 4, seed=0), cr.Residual(activation()), cr.Linear(4, 2, seed=1))
    X = normal(0, 5, 3)
    np.testing.assert_array_equal(model.forward(X), reference.forward(X))
    dY = normal(1, 5, 2)
    np.testing.assert_array_equal(model.backward(dY.copy()), reference.backward(dY.copy()))
    Z = model[0].forward(X)
    expected = Z + act.forward(Z.copy())
    np.testing.assert_array_equal(model[1].forward(Z), expected)


def test_wrong_dY_is_refused_before_it_broadcasts():
    # dY + f.backward(dY) would broadcast a (1, 3) dY over the batch.
    block = cr.Residual(cr.Identity())
    block.forward(normal(0, 5, 3))
    message = r"layer 'f' \(Identity\): dY must have the shape .* \(5, 3\); got \(1, 3\)"
    with pytest.raises(cr.ShapeError, match=message):
        block.backward(normal(1, 1, 3))


def test_a_block_at_the_bottom_of_a_model_fills_its_gradients_without_input_grad():
    # Training calls the lowest trainable layer with input_grad=False: f's gradients must still be written.
    model = cr.Sequential(cr.Residual(cr.Sequential(cr.Linear(3, 3, dtype="float64"), cr.Tanh())),
                          cr.Linear(3, 2, dtype="float64"), seed=0)
    X, dY = normal(0, 4, 3), normal(1, 4, 2)
    model.forward(X)
    model.backward(dY)
    expected = {name: grad.copy() for name, grad in model.grads.items()}
    for grad in model.grads.values():
        grad[...] = 0
    model.forward(X)
    assert model.backward(dY, input_grad=False) is None
    for name, grad in model.grads.items():
        np.testing.assert_array_equal(grad, expected[name], err_msg=name)
