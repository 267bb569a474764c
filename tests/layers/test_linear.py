"""Linear: Z = X W + b, and its three backward products dW = Xᵀ dY, db = Σ_n dY, dX = dY Wᵀ."""

import numpy as np
import pytest
from hypothesis import given

import chainrule as cr
from chainrule.errors import DTypeError
from tests.harness import (
    assert_gradients, assert_keeps_float32, batch_sizes, normal, randomize_biases, regression_targets, seeds, tiny_grid,
    widths,
)


@given(seed=seeds, n_samples=batch_sizes, n_in=widths, n_out=widths)
def test_gradcheck(seed, n_samples, n_in, n_out):
    layer = cr.Linear(n_in, n_out, seed=seed, dtype="float64")
    randomize_biases(layer, seed + 1)
    assert_gradients(layer, normal(seed, n_samples, n_in), regression_targets(seed + 2, n_samples, n_out))


def test_forward_and_backward_are_the_matrix_formulas():
    layer = cr.Linear(2, 3, dtype="float64")
    W = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    b = np.array([0.1, -0.2, 0.3])
    layer.params["W"][...] = W
    layer.params["b"][...] = b
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    Y = layer(X)
    # z_j = b_j + Σ_i x_i w_ji, written out for the first sample.
    assert Y[0, 0] == pytest.approx(0.1 + 1.0 * 1.0 + 2.0 * -1.0)
    np.testing.assert_allclose(Y, X @ W + b)

    dY = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]])
    dX = layer.backward(dY)
    np.testing.assert_allclose(layer.grads["W"], X.T @ dY)
    np.testing.assert_allclose(layer.grads["b"], dY.sum(axis=0))
    np.testing.assert_allclose(dX, dY @ W.T)


def test_backward_without_input_grad_still_fills_parameter_grads():
    layer = cr.Linear(3, 2, seed=0, dtype="float64")
    X = normal(0, 4, 3)
    layer(X)
    assert layer.backward(np.ones((4, 2)), input_grad=False) is None
    np.testing.assert_allclose(layer.grads["W"], X.T @ np.ones((4, 2)))
    np.testing.assert_allclose(layer.grads["b"], [4.0, 4.0])


def test_bias_starts_at_zero_and_weights_do_not():
    layer = cr.Linear(5, 4, seed=0)
    assert not layer.params["b"].any()
    assert np.all(layer.params["W"] != 0)
    assert layer.n_parameters == 5 * 4 + 4


def test_keeps_float32():
    assert_keeps_float32(cr.Linear(3, 4, seed=0), normal(0, 5, 3))


def test_float64_on_request():
    layer = cr.Linear(3, 4, seed=0, dtype="float64")
    assert layer.params["W"].dtype == np.float64
    assert layer(np.ones((2, 3), dtype=np.float32)).dtype == np.float64


@pytest.mark.parametrize("n_samples", [1, 5])
def test_outside_a_training_loop_the_outputs_are_new_arrays_with_the_loops_bits(n_samples):
    # Outside reusing_buffers matmul makes Z and dX itself; inside, it writes into the layer's buffers.
    layer = randomize_biases(cr.Linear(7, 5, seed=0), 1)
    X, dY = normal(2, n_samples, 7).astype(np.float32), normal(3, n_samples, 5).astype(np.float32)
    Z, dX = layer.forward(X), layer.backward(dY)
    assert not np.shares_memory(layer.forward(X), Z) and not np.shares_memory(layer.backward(dY), dX)
    with layer.reusing_buffers():
        assert layer.forward(X).tobytes() == Z.tobytes()
        assert layer.backward(dY).tobytes() == dX.tobytes()


def test_forward_and_backward_give_arrays_of_the_inputs_dtype():
    layer = cr.Linear(3, 2, seed=0, dtype="float64")  # forward, unlike layer(X), does not cast X
    X = normal(0, 4, 3).astype(np.float32)
    assert layer.forward(X).dtype == np.float32
    assert layer.backward(np.ones((4, 2), np.float32)).dtype == np.float32


def test_wrong_input_width_names_the_layer_and_both_shapes():
    with pytest.raises(cr.ShapeError, match=r"Linear: expected input of shape \(n_samples, 3\), got \(4, 5\)"):
        cr.Linear(3, 2)(np.zeros((4, 5)))


def test_wrong_input_width_of_the_first_layer_names_path_0():
    model = cr.Sequential(cr.Linear(3, 4), cr.ReLU(), cr.Linear(4, 2))
    with pytest.raises(cr.ShapeError, match=r"layer '0' \(Linear\): expected input of shape \(n_samples, 3\), got \(4, 5\)"):
        model(np.zeros((4, 5)))


def test_wrong_input_width_inside_a_model_names_the_path():
    model = cr.Sequential(cr.Linear(3, 4), cr.Tanh(), cr.Linear(5, 2))
    message = r"layer '2' \(Linear\): expected input of shape \(n_samples, 5\), got \(6, 4\)"
    with pytest.raises(cr.ShapeError, match=message):
        model(np.zeros((6, 3)))


@pytest.mark.parametrize("n_in", [0, -1, 2.5, True, "3"])
def test_invalid_widths(n_in):
    with pytest.raises(cr.HyperparameterError, match="n_in: expected an integer >= 1"):
        cr.Linear(n_in, 2)


def test_invalid_dtype():
    refused = r"dtype: expected one of 'float32', 'float64'; got 'float16' \(chainrule does not compute in float16; "
    with pytest.raises(cr.HyperparameterError, match=refused):
        cr.Linear(2, 2, dtype="float16")


def test_unknown_initializer():
    with pytest.raises(cr.HyperparameterError, match="init: unknown initializer 'nope'"):
        cr.Linear(2, 2, init="nope")


def test_widths_past_any_address_space_are_too_large_too_not_numpys_value_error():
    # 4e20 bytes: NumPy says "array is too big" (ValueError) before it asks for memory
    with pytest.raises(cr.TooLargeError, match=r"^Linear: n_in=10000000000, n_out=10000000000 is too large: "):
        cr.Linear(10**10, 10**10)


@pytest.mark.parametrize("make", [lambda: cr.Linear(10**9, 10**9), lambda: cr.mlp([10**9, 10**9, 10])])
def test_widths_too_large_for_the_memory_are_named_with_the_bytes_not_a_raw_memory_error(make):
    # 8e18 bytes: more than any address space, so NumPy refuses at once and nothing is touched
    with pytest.raises(cr.TooLargeError, match=(
            r"^Linear: n_in=1000000000, n_out=1000000000 is too large: W, b and their gradients in float32 need "
            r"8,000,000,008,000 MB, more memory than could be allocated; choose smaller widths$")):
        make()


def test_a_draw_too_large_for_the_memory_names_the_layer_and_the_initializer(monkeypatch):
    def out_of_memory(shape, rng):
        raise MemoryError("Unable to allocate 7.28 TiB for an array with shape (1000000, 1000000)")
    monkeypatch.setitem(cr.initializers.INITIALIZERS, "he_normal", out_of_memory)
    with pytest.raises(cr.TooLargeError, match=(
            r"^layer '0' \(Linear\): n_in=1000, n_out=2000 is too large: drawing W with he_normal \(in float64\) "
            r"needs 16 MB, more memory than could be allocated; choose smaller widths$")):
        cr.mlp([1000, 2000, 1], init="he_normal", seed=0)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_invalid_seed(seed):
    with pytest.raises(cr.HyperparameterError, match="seed: expected"):
        cr.Linear(2, 2, seed=seed)


def test_auto_init_before_a_relu_is_the_he_draw_of_the_same_seed():
    model = cr.Sequential(cr.Linear(5, 4, seed=3), cr.ReLU())
    np.testing.assert_array_equal(model[0].own_params["W"], cr.Linear(5, 4, seed=3, init="he_normal").own_params["W"])


@pytest.mark.parametrize("drawn_in, converted_to", [("float32", "float64"), ("float64", "float32")])
def test_auto_init_redraws_a_layer_converted_with_astype(drawn_in, converted_to):
    # The redraw is rounded to the dtype of the first draw and converted the same way.
    model = cr.Sequential(cr.Linear(5, 4, seed=3, dtype=drawn_in).astype(converted_to), cr.ReLU())
    expected = cr.Linear(5, 4, seed=3, init="he_normal", dtype=drawn_in).astype(converted_to)
    assert model[0].own_params["W"].dtype == np.dtype(converted_to)
    np.testing.assert_array_equal(model[0].own_params["W"], expected.own_params["W"])


def test_a_converted_layer_already_in_a_model_keeps_its_weights_in_the_next():
    layer = cr.Linear(4, 3, seed=0).astype("float64")
    cr.Sequential(layer, cr.ReLU())
    he = layer.own_params["W"].copy()
    cr.Sequential(layer, cr.Tanh())
    np.testing.assert_array_equal(layer.own_params["W"], he)
    np.testing.assert_array_equal(he, cr.Linear(4, 3, seed=0, init="he_normal").astype("float64").own_params["W"])


def test_auto_init_from_a_shared_generator_replays_its_state():
    rng = np.random.default_rng(7)
    first, second = cr.Linear(3, 4, seed=rng), cr.Linear(4, 2, seed=rng)
    cr.Sequential(first, cr.ReLU(), second)
    reference = np.random.default_rng(7)
    expected_first = cr.Linear(3, 4, seed=reference, init="he_normal").own_params["W"]
    np.testing.assert_array_equal(first.own_params["W"], expected_first)
    # second was drawn (Glorot) after first's Glorot draw and stays Glorot: it is the last layer
    reference = np.random.default_rng(7)
    cr.Linear(3, 4, seed=reference)
    np.testing.assert_array_equal(second.own_params["W"], cr.Linear(4, 2, seed=reference).own_params["W"])


def test_a_shared_layer_is_not_redrawn_by_a_second_model():
    # A shared encoder, two heads: building the second model leaves the first one as it was.
    encoder = cr.Linear(4, 4, seed=1)
    first = cr.Sequential(encoder, cr.ReLU(), cr.Linear(4, 2, seed=2))
    X = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    before = first(X).copy()
    cr.Sequential(encoder, cr.Tanh(), cr.Linear(4, 3, seed=3))
    np.testing.assert_array_equal(first(X), before)
    assert encoder.resolved_init == "he_normal"  # what it holds: the first model's choice


def test_a_block_already_in_a_model_is_not_redrawn_by_a_second_model():
    block = cr.Sequential(cr.Linear(4, 4, seed=1), cr.ReLU(), cr.Linear(4, 4, seed=2))
    cr.Sequential(block, cr.ReLU(), cr.Linear(4, 2))
    he = block[2].own_params["W"].copy()
    cr.Sequential(block, cr.Tanh(), cr.Linear(4, 2))
    np.testing.assert_array_equal(block[2].own_params["W"], he)
    assert block[2].resolved_init == "he_normal"


def test_a_slice_put_in_a_new_model_redraws_nothing_of_its_model():
    model = cr.Sequential(cr.Linear(4, 4, seed=1), cr.Tanh(), cr.Linear(4, 4, seed=2))
    glorot = model[2].own_params["W"].copy()
    cr.Sequential(model[:3], cr.ReLU())
    np.testing.assert_array_equal(model[2].own_params["W"], glorot)


def test_a_layer_that_has_run_forward_is_not_redrawn():
    layer = cr.Linear(4, 3, seed=0)
    layer(np.ones((2, 4)))
    glorot = layer.own_params["W"].copy()
    cr.Sequential(layer, cr.ReLU())
    np.testing.assert_array_equal(layer.own_params["W"], glorot)


def test_a_layer_put_in_a_residual_is_not_redrawn_by_a_second_model():
    layer = cr.Linear(4, 4, seed=0)
    cr.Residual(layer)
    glorot = layer.own_params["W"].copy()
    cr.Sequential(layer, cr.ReLU())
    np.testing.assert_array_equal(layer.own_params["W"], glorot)


def test_a_seeded_model_warns_when_it_redraws_a_layer_of_another_model():
    encoder = cr.Linear(4, 4, seed=1)
    cr.Sequential(encoder, cr.ReLU(), cr.Linear(4, 2))
    with pytest.warns(cr.ChainruleWarning, match=r"also those of layer '0', already in another model"):
        cr.Sequential(encoder, cr.Tanh(), cr.Linear(4, 3), seed=0)


def test_assigned_weights_are_kept_by_a_sequential():
    layer = cr.Linear(4, 2)
    layer.own_params["W"][...] = 1
    model = cr.Sequential(layer, cr.ReLU())
    np.testing.assert_array_equal(model[0].own_params["W"], np.ones((4, 2)))
    assert layer.auto_init == "he_normal"  # a later initialize(seed) draws He


def test_trained_weights_are_kept_when_re_nested():
    model = cr.Sequential(cr.Linear(4, 6), cr.Tanh(), cr.Linear(6, 3), seed=0)
    X, y = np.random.default_rng(0).normal(size=(8, 4)), np.arange(8) % 3
    optimizer = cr.SGD(model, lr=0.5)
    _, dY = cr.SoftmaxCrossEntropy()(model(X), y)
    model.backward(dY)
    optimizer.step()
    trained = {name: array.copy() for name, array in model.params.items()}
    bigger = cr.Sequential(model[0], model[1], model[2], cr.ReLU(), cr.Linear(3, 3))
    for name, array in trained.items():
        np.testing.assert_array_equal(bigger.params[name], array)


def test_a_sequential_seed_still_redraws_everything():
    layer = cr.Linear(4, 2)
    layer.own_params["W"][...] = 1
    with pytest.warns(cr.ChainruleWarning, match="layer '0', changed since drawn"):
        model = cr.Sequential(layer, cr.ReLU(), seed=5)
    expected = cr.Sequential(cr.Linear(4, 2, init="he_normal"), cr.ReLU(), seed=5)
    np.testing.assert_array_equal(model[0].own_params["W"], expected[0].own_params["W"])


def test_a_layer_made_without_a_draw_holds_zeros_and_is_never_redrawn():
    # _draw=False is what cr.load uses: the file's weights replace the zeros.
    layer = cr.Linear(4, 3, _draw=False)
    assert not layer.own_params["W"].any() and not layer.own_params["b"].any()
    layer.own_params["W"][...] = 2
    cr.Sequential(layer, cr.ReLU())
    np.testing.assert_array_equal(layer.own_params["W"], np.full((4, 3), 2, dtype=np.float32))
    assert layer.resolved_init == "he_normal"
    with pytest.warns(cr.ChainruleWarning, match="layer '0'"):  # an explicit seed still draws it, and says so
        cr.Sequential(layer, cr.ReLU(), seed=0)
    np.testing.assert_array_equal(layer.own_params["W"], cr.Linear(4, 3, init="he_normal", seed=0).own_params["W"])


def test_holds_initial_draw_until_the_weights_change():
    drawn, never_drawn = cr.Linear(4, 3, seed=0), cr.Linear(4, 3, _draw=False)
    assert drawn.holds_initial_draw() and never_drawn.holds_initial_draw()
    assert drawn.astype("float64").holds_initial_draw()  # converted, still the draw
    drawn.own_params["b"][0] = 1
    never_drawn.own_params["W"][0, 0] = 1
    assert not drawn.holds_initial_draw() and not never_drawn.holds_initial_draw()


def test_gradients_start_at_zero():
    layer = cr.Linear(4, 3, seed=0)
    assert not layer.own_grads["W"].any() and not layer.own_grads["b"].any()


def test_a_seeded_sequential_draws_a_changed_bias_afresh_too():
    layer = cr.Linear(3, 2, seed=1)
    layer.own_params["b"][...] = 1.0  # as training leaves it
    with pytest.warns(cr.ChainruleWarning, match="'0'"):
        model = cr.Sequential(layer, seed=0)
    fresh = cr.Sequential(cr.Linear(3, 2), seed=0)
    for name, array in fresh.params.items():
        np.testing.assert_array_equal(model.params[name], array, err_msg=name)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, bool])
def test_forward_of_a_non_floating_x_says_to_call_the_model_or_convert(dtype):
    """forward converts nothing (the unchecked fast path): an integer or boolean X failed inside matmul with
    NumPy's "Cannot cast ufunc 'matmul' output from dtype('float64') to dtype('int64')"."""
    model = cr.mlp([4, 3, 2], seed=0)
    X = np.ones((2, 4), dtype=dtype)
    with pytest.raises(DTypeError) as caught:
        model.forward(X)
    assert str(caught.value) == (f"layer '0' (Linear): forward takes a floating X (the model's dtype, float32) and "
                                 f"converts nothing; got {np.dtype(dtype)}: call the model, model(X), which "
                                 f"converts, or pass X.astype(numpy.float32)")
    np.testing.assert_array_equal(model(X), model.forward(X.astype(np.float32)))  # as the message says


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reuse_buffers", [False, True])
def test_tiny_inputs_weights_and_gradients_raise_no_underflow_error_under_numpy_seterr_raise(dtype, reuse_buffers):
    """X W, Xᵀ dY and dY Wᵀ of numbers near the smallest normal number hold subnormal numbers or 0, the right
    values: under a caller's numpy.seterr(all="raise") forward and backward raised FloatingPointError on them
    (from NumPy's dot and matmul), outside a training loop and inside one (reused buffers)."""
    X, dY = tiny_grid(dtype)
    layer = cr.Linear(X.shape[1], X.shape[1], dtype=dtype, seed=0)
    layer.params["W"] = X.T * np.asarray(0.3, dtype=dtype)  # tiny weights too, as a column of tiny inputs meets
    layer.reuse_buffers = reuse_buffers
    with np.errstate(under="ignore"):
        expected = [layer.forward(X).copy(), layer.backward(dY).copy(), layer.grads["W"].copy(),
                    layer.grads["b"].copy()]
    with np.errstate(all="raise"):
        found = [layer.forward(X).copy(), layer.backward(dY).copy(), layer.grads["W"].copy(), layer.grads["b"].copy()]
    for array, expected_array in zip(found, expected):
        np.testing.assert_array_equal(array, expected_array)


@pytest.mark.skipif(tuple(map(int, np.__version__.split(".")[:2])) < (2, 3),
                    reason="numpy.dot, Linear's product outside fit, reports no floating-point error before NumPy 2.3")
def test_an_overflow_still_raises_under_numpy_seterr_raise():
    """Only underflows are let through: X W past float32's range is inf, which the caller's errstate reports."""
    layer = cr.Linear(2, 1, seed=0)
    layer.params["W"] = np.array([[2.0], [1.0]], dtype=np.float32)
    with np.errstate(all="raise"), pytest.raises(FloatingPointError, match="overflow"):
        layer.forward(np.array([[3e38, 1e-45]], dtype=np.float32))
