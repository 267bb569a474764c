"""The loss contract: get_loss by name, checks on the outputs, no raw NumPy error escapes."""

import concurrent.futures
import copy
import pickle
import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.buffers import loss_buffers
from tests.harness import RowValues

LOSSES = [cr.MSE(), cr.SoftmaxCrossEntropy(), cr.BinaryCrossEntropy()]


@pytest.mark.parametrize("name, kind", [
    ("mse", cr.MSE), ("cross_entropy", cr.SoftmaxCrossEntropy), ("softmax_cross_entropy", cr.SoftmaxCrossEntropy),
    ("binary_cross_entropy", cr.BinaryCrossEntropy),
])
def test_get_loss_by_name(name, kind):
    assert type(cr.get_loss(name)) is kind


def test_get_loss_passes_a_loss_through():
    loss = cr.MSE()
    assert cr.get_loss(loss) is loss


def test_unknown_loss_name():
    with pytest.raises(cr.HyperparameterError, match="loss: unknown name 'nope'; expected one of mse, cross_entropy"):
        cr.get_loss("nope")


@pytest.mark.parametrize("name, meant", [
    ("sparse_categorical_crossentropy", "cross_entropy"), ("categorical_crossentropy", "cross_entropy"),  # Keras
    ("CrossEntropyLoss", "cross_entropy"), ("BCEWithLogitsLoss", "binary_cross_entropy"), ("MSELoss", "mse"),  # torch
    ("mean_squared_error", "mse"), ("squared_error", "mse"), ("log_loss", "cross_entropy"),  # Keras, scikit-learn
    ("binary_crossentropy", "binary_cross_entropy"),  # a typo's closest name, as before
])
def test_another_librarys_name_of_a_loss_is_refused_naming_chainrules(name, meant):
    # the message listed chainrule's names and suggested none: difflib finds none of them close to Keras's
    with pytest.raises(cr.HyperparameterError, match=rf"^loss: unknown name '{name}'; expected one of mse, .*"
                                                     rf"binary_cross_entropy \(did you mean '{meant}'\?\)$"):
        cr.get_loss(name)


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
@pytest.mark.parametrize("Y", [np.zeros(3), np.zeros((3, 2, 1))], ids=["1-d", "3-d"])
def test_outputs_must_be_a_matrix(loss, Y):
    message = rf"{type(loss).__name__}: expected outputs Y of shape \(n_samples, n_outputs\)"
    with pytest.raises(cr.ShapeError, match=message):
        loss(Y, np.zeros(3, dtype=int))


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_outputs_that_are_not_an_array_are_named_as_such(loss):
    message = rf"^{type(loss).__name__}: expected outputs Y as an array \(n_samples, n_outputs\) of float32 or " \
              r"float64 \(NumPy's or CuPy's, as a model outputs\), got list$"
    with pytest.raises(cr.DTypeError, match=message):
        loss([[0.0, 1.0]], np.zeros(1, dtype=int))
    with pytest.raises(cr.DTypeError, match=r"got tests\.Tensorish$"):  # it was AttributeError: no dtype.name
        loss(Tensorish(np.zeros((1, 2))), np.zeros(1, dtype=int))


class Tensorish:
    """What a torch tensor offers: a dtype that is not NumPy's, a shape, and __array__."""

    def __init__(self, array):
        self.array, self.dtype, self.shape = array, object(), array.shape

    def __array__(self, dtype=None, copy=None):
        return self.array


@pytest.mark.parametrize("loss, targets", [(cr.MSE(), [[1.0, 2.0]]), (cr.SoftmaxCrossEntropy(), [1]),
                                           (cr.BinaryCrossEntropy(), [[1.0, 0.0]])], ids=repr)
def test_targets_of_any_array_like_type_are_read_as_numpy_reads_them(loss, targets):
    # a torch tensor's dtype has no .kind: it was an AttributeError, not its loss
    Y = np.array([[0.5, -0.5]])
    assert loss(Y, Tensorish(np.array(targets)))[0] == loss(Y, np.array(targets))[0]


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_ragged_targets_are_a_shape_error_naming_the_loss(loss):
    with pytest.raises(cr.ShapeError, match=rf"^{type(loss).__name__}: expected targets as a rectangular array, got "
                                            r"list \(setting an array element"):
        loss(np.zeros((2, 2)), [[1.0, 2.0], [3.0]])


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_float16_outputs_are_refused(loss):
    # Not computed in float16, where the MSE of an error of 256 is already inf.
    message = rf"{type(loss).__name__}: expected float outputs Y \(float32 or float64\), got dtype float16"
    with pytest.raises(cr.DTypeError, match=message):
        loss(np.full((1, 2), 300, dtype=np.float16), np.zeros(1, dtype=int))


@pytest.mark.parametrize("loss, targets", [
    (cr.MSE(), [[1e39, 0.0]]), (cr.SoftmaxCrossEntropy(), [[1e39, 0.0]]), (cr.BinaryCrossEntropy(), [[1e39, 0.0]]),
], ids=repr)
def test_targets_too_large_for_float32_are_reported_as_given(loss, targets):
    message = rf"^{type(loss).__name__}: targets: expected finite values, found 1e\+39 at index \(0, 0\), which " \
              r"overflows float32"
    with pytest.raises(cr.NonFiniteError, match=message):
        loss.prepare(np.array(targets), 2, np.float32, n_samples=1)  # as fit prepares them, once
    with pytest.raises(cr.NonFiniteError, match=message):
        loss(np.zeros((1, 2), dtype=np.float32), targets)


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_non_finite_outputs(loss):
    Y = np.zeros((2, 2))
    Y[1, 0] = np.nan
    with pytest.raises(cr.NonFiniteError, match=rf"{type(loss).__name__}: outputs Y: expected finite values"):
        loss(Y, np.zeros(2, dtype=int))


class Squared(cr.MSE):
    pass


class Categorical(cr.SoftmaxCrossEntropy):
    pass


class Binary(cr.BinaryCrossEntropy):
    pass


@pytest.mark.parametrize("loss, targets, error, message", [
    (Squared(), np.zeros((3, 3)), cr.ShapeError, r"^Squared: expected targets of shape \(n_samples, 2\)"),
    (Squared(), np.zeros((4, 2)), cr.ShapeError, "^Squared: outputs and targets have different batch sizes"),
    (Squared(), np.array([["a", "b"]] * 3), cr.DTypeError, "^Squared: expected numeric targets"),
    (Squared(), np.full((3, 2), np.nan), cr.NonFiniteError, "^Squared: targets: expected finite values"),
    (Categorical(), np.array([0, 1, 2]), cr.LabelError, r"^Categorical: labels must lie in \[0, 2\)"),
    (Categorical(), np.zeros(3), cr.DTypeError, "^Categorical: expected integer class labels"),
    (Categorical(), np.zeros((3, 3)), cr.ShapeError, r"^Categorical: expected labels \(n_samples,\)"),
    (Categorical(), np.zeros(4, dtype=int), cr.ShapeError, "^Categorical: outputs and targets have different"),
    (Categorical(), np.zeros((3, 2)), cr.LabelError, "^Categorical: target rows must be non-negative and sum to 1"),
    (Binary(), np.full((3, 2), 2.0), cr.LabelError, r"^Binary: targets must lie in \[0, 1\]"),
    (Binary(), np.zeros((3, 1)), cr.ShapeError, r"^Binary: expected targets of shape \(n_samples, 2\)"),
    (Binary(), np.full((3, 2), np.inf), cr.NonFiniteError, "^Binary: targets: expected finite values"),
])
def test_a_subclass_is_named_as_itself_in_target_errors(loss, targets, error, message):
    """As the outputs' checks do: a subclass (the estimators' losses) is not reported by its base's name."""
    with pytest.raises(error, match=message):
        loss(np.zeros((3, 2)), targets)


def test_tasks():
    assert [loss.task for loss in LOSSES] == ["regression", "classification", "multilabel"]
    np.testing.assert_array_equal(cr.MSE().transform(np.ones((1, 2))), np.ones((1, 2)))


shapes = st.one_of(
    st.tuples(st.integers(0, 4)),
    st.tuples(st.integers(0, 4), st.integers(0, 4)),
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2)),
)


@given(n_samples=st.integers(1, 4), n_outputs=st.integers(1, 4), target_shape=shapes,
       kind=st.sampled_from(["int", "float", "bool"]), loss=st.sampled_from(LOSSES))
def test_no_raw_numpy_error_escapes(n_samples, n_outputs, target_shape, kind, loss):
    Y = np.random.default_rng(0).normal(size=(n_samples, n_outputs))
    rng = np.random.default_rng(1)
    targets = {"int": rng.integers(0, 3, size=target_shape), "float": rng.uniform(size=target_shape),
               "bool": rng.integers(0, 2, size=target_shape).astype(bool)}[kind]
    try:
        value, dY = loss(Y, targets)
    except cr.ChainruleError:
        return  # a chainrule error, naming the problem, is the right answer to a bad shape
    assert dY.shape == Y.shape
    assert np.isfinite(value)


@pytest.mark.parametrize("name", [[1], {"mse": 1}, 3, None])
def test_a_loss_that_is_not_a_name(name):
    with pytest.raises(cr.HyperparameterError, match=r"loss: unknown name .*; expected one of mse"):
        cr.get_loss(name)


@pytest.mark.parametrize("kind", [cr.MSE, cr.SoftmaxCrossEntropy, RowValues])
def test_a_loss_class_is_refused_saying_to_make_one(kind):
    """The message read "loss: unknown name <class 'chainrule.losses.mse.MSE'>", with no word of the missing call."""
    name = kind.__name__
    with pytest.raises(cr.HyperparameterError, match=rf"^loss: got the class {name}, expected a loss object: pass "
                                                     rf"{name}\(\) \(or one of the names mse, cross_entropy"):
        cr.get_loss(kind)
    with pytest.raises(cr.HyperparameterError, match=rf"^loss: got the class {name}, "):
        cr.fit(cr.mlp([2, 3]), np.ones((4, 2)), np.arange(4) % 3, loss=kind, epochs=1, verbose=0)


@pytest.mark.parametrize("name, shown", [("x" * 100_000, "'" + "x" * 59 + "..."),
                                         (10 ** 5000, "<an int of 16,610 bits>")], ids=["long", "huge_int"])
def test_the_name_in_an_unknown_loss_error_is_quoted_and_cut(name, shown):
    """The whole name went into the message, and an int too large for repr raised ValueError."""
    with pytest.raises(cr.HyperparameterError, match=rf"^loss: unknown name {re.escape(shown)}; expected") as caught:
        cr.get_loss(name)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("loss, targets", [
    (cr.MSE(), [0.5, 1.0]), (cr.SoftmaxCrossEntropy(), [0, 1]), (cr.BinaryCrossEntropy(), [0.0, 1.0]),
], ids=repr)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, bool])
def test_integer_outputs_are_refused(loss, targets, dtype):
    Y = np.zeros((2, 2 if isinstance(loss, cr.SoftmaxCrossEntropy) else 1), dtype=dtype)
    message = rf"{type(loss).__name__}: expected float outputs Y \(float32 or float64\), got dtype {np.dtype(dtype)}"
    with pytest.raises(cr.DTypeError, match=message):
        loss(Y, targets)


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_an_empty_batch_is_refused(loss):
    with pytest.raises(cr.ShapeError, match=rf"{type(loss).__name__}: outputs Y have no rows \(shape \(0, 1\)\)"):
        loss(np.zeros((0, 1)), np.zeros(0, dtype=int))


# compute's own targets for a batch of no rows, of two outputs
NO_ROWS = [
    (cr.MSE(), np.zeros((0, 2))), (cr.BinaryCrossEntropy(), np.zeros((0, 2))),
    (cr.SoftmaxCrossEntropy(), np.zeros(0, dtype=np.intp)), (cr.SoftmaxCrossEntropy(), np.zeros((0, 2))),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss, T", NO_ROWS, ids=["mse", "bce", "labels", "one-hot"])
def test_compute_of_no_rows_is_a_loss_of_zero(loss, T, dtype, weighted):
    """compute (unchecked, as the training loop calls it) of a batch of no rows: L = 0 and an empty ∂L/∂Y, as for
    a batch whose weights are all 0 and as the training loop takes an empty share of a batch; it divided by N = 0
    (ZeroDivisionError for the cross-entropy, NaN and NumPy's warning for the others)."""
    Y = np.zeros((0, 2), dtype=dtype)
    weights = (np.zeros(0),) if weighted else ()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, dY = loss.compute(Y, T.astype(dtype) if T.ndim == 2 else T, *weights)
    assert value == 0.0
    assert dY.shape == (0, 2) and dY.dtype == dtype


M64 = np.finfo(np.float64).max


@pytest.mark.parametrize("weights", [None, np.array([2.0, 2.0])], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("loss, Y, targets, value", [
    # two rows of loss max (y = max with t = 0, y = −max with t = 1): their sum overflows, their mean is max
    (cr.BinaryCrossEntropy(), [[M64], [-M64]], [0.0, 1.0], M64),
    # squares that fit (1e308 + 2.5e307 a row), whose sum does not
    (cr.MSE(), [[1e154, 5e153], [1e154, -5e153]], [[0.0, 0.0], [0.0, 0.0]], 1.25e308),
    # a square past the range (2.25e308) in a mean that fits
    (cr.MSE(), [[1.5e154], [0.0]], [0.0, 0.0], 1.125e308),
    # rows of loss 1.6e308 (logits 1.6e308 apart), labels or one-hot
    (cr.SoftmaxCrossEntropy(), [[0.8e308, -0.8e308], [0.8e308, -0.8e308]], [1, 1], 1.6e308),
    (cr.SoftmaxCrossEntropy(), [[0.8e308, -0.8e308], [0.8e308, -0.8e308]], [[0.0, 1.0], [0.0, 1.0]], 1.6e308),
], ids=["bce", "mse-sum", "mse-square", "labels", "one-hot"])
def test_a_float64_mean_that_fits_is_finite_where_the_sum_overflows(loss, Y, targets, value, weights):
    """float64 rows whose losses fit but whose sum passes float64's range (or, for MSE, whose squares do):
    the mean fits, and is the value; it was inf (BinaryCrossEntropy never computed it again, and the others
    again in float64, where the sum overflowed as before)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got, _ = loss(np.array(Y), np.array(targets), weights)
    assert got == pytest.approx(value, rel=1e-14)


def test_a_float64_mean_past_the_range_is_still_inf():
    """Errors of 1e308 have squares far past float64's range, and so has their mean: inf, which the divergence
    guard reports, not a finite value."""
    value, _ = cr.MSE()(np.array([[1e308], [1e308]]), np.zeros(2))
    assert value == np.inf


# -- the checked entry point with weights ------------------------------------------------------
WEIGHTED_CASES = [
    (cr.SoftmaxCrossEntropy(), np.array([0, 2, 1, 1])),
    (cr.MSE(), np.arange(12.0).reshape(4, 3) / 10),
    (cr.BinaryCrossEntropy(), np.array([[0, 1, 1], [1, 0, 0], [0, 0, 1], [1, 1, 0]], dtype=float)),
]


@pytest.mark.parametrize("loss, targets", WEIGHTED_CASES)
def test_calling_a_loss_with_weights_equals_compute_with_them(loss, targets):
    Y = np.random.default_rng(0).standard_normal((4, 3))
    weights = [0.5, 2, 0, 1]
    value, dY = loss(Y, targets, weights)
    T = loss.prepare(targets, 3, Y.dtype, n_samples=4)
    expected_value, expected_dY = loss.compute(Y, T, np.array(weights, dtype=float))
    assert value == expected_value and np.array_equal(dY, expected_dY)
    unit_value, _ = loss(Y, targets, np.ones(4))
    assert unit_value == pytest.approx(loss(Y, targets)[0], rel=1e-12)  # weights of 1: the plain mean


@pytest.mark.parametrize("loss, targets", WEIGHTED_CASES)
def test_a_batch_whose_rows_all_weigh_zero_has_loss_and_gradient_zero(loss, targets):
    # In training a batch may hold only rows of weight 0 (the call itself refuses all-zero weights).
    Y = np.random.default_rng(0).standard_normal((4, 3))
    T = loss.prepare(targets, 3, Y.dtype, n_samples=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0 / 0
        value, dY = loss.compute(Y, T, np.zeros(4))
    assert value == 0 and not dY.any()


@pytest.mark.parametrize("weights, error, message", [
    ([1, 2], cr.ShapeError, r"weights: expected 4 weights, one per row of Y"),
    ([1, -1, 1, 1], cr.DataError, "weights: expected non-negative weights"),
    ([0, 0, 0, 0], cr.DataError, "weights: all 4 weights are zero"),
    ([1, np.nan, 1, 1], cr.NonFiniteError, "weights"),
    ([True, False, True, True], cr.DTypeError, "weights: expected real weights, got booleans"),
])
def test_calling_a_loss_with_bad_weights_names_them(weights, error, message):
    with pytest.raises(error, match=message):
        cr.MSE()(np.zeros((4, 3)), np.zeros((4, 3)), weights)


def test_a_custom_loss_without_weights_refuses_them_by_name():
    class Plain(cr.MSE):
        def compute(self, Y, T):
            return super().compute(Y, T)

    Y = np.zeros((4, 3))
    assert Plain()(Y, Y)[0] == 0  # unweighted, it works
    with pytest.raises(cr.HyperparameterError, match="weights: Plain.compute takes no weights"):
        Plain()(Y, Y, np.ones(4))


def test_ragged_weights_are_a_shape_error_naming_them():
    with pytest.raises(cr.ShapeError, match="weights: expected a vector of 2 weights, got list"):
        cr.MSE()(np.zeros((2, 1)), np.zeros((2, 1)), [[1], [1, 2]])


# -- NumPy's overflow warnings: silenced for the built-in losses only ---------------------------
def test_a_custom_compute_keeps_numpys_overflow_warning_and_error():
    """Built-in losses compute an overflowed L again in float64, so loss(Y, targets) silences
    NumPy's overflow warning for them; a custom compute may not, so its overflow still surfaces."""
    class Cubed(cr.MSE):
        def compute(self, Y, T, weights=None):
            value = ((Y - T) ** 3).mean()
            return value, 3 * (Y - T) ** 2 / Y.size

    Y = np.full((2, 1), 1e20, dtype=np.float32)
    with pytest.warns(RuntimeWarning, match="overflow"):
        Cubed()(Y, np.zeros((2, 1)))
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        Cubed()(Y, np.zeros((2, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(cr.MSE()(Y, np.zeros((2, 1)))[0])  # the built-in recomputes in float64, silently


def test_weight_shares_divide_by_any_positive_sum_in_float64():
    from chainrule.losses.loss import weight_shares
    np.testing.assert_allclose(weight_shares(np.array([0.1, 0.3])), [0.25, 0.75], rtol=1e-15)  # a sum below 1
    assert weight_shares(np.ones(3, dtype=np.float32)).dtype == np.float64
    np.testing.assert_array_equal(weight_shares(np.zeros(3)), [0.0, 0.0, 0.0])  # a batch of weight 0: no 0/0
    Y, T = np.random.default_rng(0).normal(size=(4, 3)), np.array([0, 2, 1, 1])
    weights = np.array([1.0, 2.0, 0.0, 3.0])
    value, dY = cr.SoftmaxCrossEntropy().compute(Y.copy(), T, weights)
    small_value, small_dY = cr.SoftmaxCrossEntropy().compute(Y.copy(), T, weights * 1e-3)
    assert small_value == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(small_dY, dY, rtol=1e-12)


@pytest.mark.parametrize("loss, targets", [
    (cr.MSE(), np.zeros((2, 2))), (cr.BinaryCrossEntropy(), np.zeros((2, 2))),
    (cr.SoftmaxCrossEntropy(), np.array([0, 1])), (cr.SoftmaxCrossEntropy(), np.array([[1.0, 0.0], [0.0, 1.0]])),
], ids=["mse", "bce", "labels", "one-hot"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compute_of_nan_outputs_is_nan_not_inf(loss, targets, dtype):
    """NaN outputs (compute is unchecked: cr.evaluate scores outputs that overflowed to NaN) give a NaN L, which
    computing L again where it is not finite must keep: NaN, not inf."""
    Y = np.array([[np.nan, 1.0], [0.0, 1.0]], dtype=dtype)
    for weights in [(), (np.array([1.0, 2.0]),)]:
        value, _ = loss.compute(Y, targets.astype(dtype) if targets.ndim == 2 else targets, *weights)
        assert np.isnan(value)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss, targets", [
    (cr.MSE(), np.array([[1e-20, 0.0], [0.0, 1e-38], [0.5, -1.0]])),
    (cr.BinaryCrossEntropy(), np.array([[1, 0], [0, 1], [1, 1]])),
    (cr.SoftmaxCrossEntropy(), np.array([0, 1, 1])),
])
def test_compute_raises_no_underflow_error_under_numpy_seterr_raise(loss, targets, dtype):
    """An e^{−|y|} of logits far from 0, a squared error of 1e-20 and a weight's share of 1e-310 underflow to
    subnormal numbers or 0, the right values: ``loss(Y, targets)`` ran under its own numpy.errstate, but
    ``compute``, which a training loop of one's own calls on prepared targets, raised FloatingPointError under
    a caller's numpy.seterr(all="raise")."""
    with np.errstate(under="ignore"):
        Y = np.array([[2e-20, -1e-45], [750.0, -1e-310], [0.5, -750.0]], dtype=dtype)
    T = loss.prepare(targets, 2, Y.dtype, n_samples=3)
    weights = np.array([1.0, 1e-310, 2.0])
    with np.errstate(under="ignore"):
        expected = [loss.compute(Y, T), loss.compute(Y, T, weights)]
    with np.errstate(all="raise"):
        found = [loss.compute(Y, T), loss.compute(Y, T, weights)]
    for (value, dY), (expected_value, expected_dY) in zip(found, expected):
        assert value == expected_value
        np.testing.assert_array_equal(dY, expected_dY)


def test_compute_still_raises_an_overflow_under_numpy_seterr_raise():
    """Only underflows are retried: MSE's float32 squares past 3.4e38 overflow, as the caller's errstate asks
    to report."""
    loss = cr.MSE()
    Y = np.array([[1e30]], dtype=np.float32)
    with np.errstate(all="raise"), pytest.raises(FloatingPointError, match="overflow"):
        loss.compute(Y, loss.prepare(np.zeros(1), 1, Y.dtype))


@pytest.mark.parametrize("loss, T", [
    (cr.MSE(), np.ones((4, 3), np.float32)), (cr.SoftmaxCrossEntropy(), np.array([0, 2, 1, 0])),
    (cr.SoftmaxCrossEntropy(), np.full((4, 3), 1 / 3, np.float32)),
    (cr.BinaryCrossEntropy(), np.ones((4, 3), np.float32)),
])
def test_compute_reuses_its_arrays_only_as_the_loss_of_a_loop_running_in_this_thread(loss, T):
    """cr.fit's loop on the CPU has its loss compute ∂L/∂Y into the same memory at every step
    (each step's 2-8 new arrays of the outputs' shape before); any other call answers a new
    array: outside the loop, another loss object (of the same class too), another thread."""
    rng = np.random.default_rng(0)
    Y, other = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)
    value, dY = loss.compute(Y, T)
    assert not np.shares_memory(loss.compute(Y, T)[1], dY)
    with loss_buffers(loss):
        inside = loss.compute(Y, T)[1]
        np.testing.assert_array_equal(inside, dY)
        assert np.shares_memory(loss.compute(other, T)[1], inside)
        assert np.shares_memory(loss.compute(Y[:2], T[:2])[1], inside)  # a smaller last batch: its first rows
        assert not np.shares_memory(type(loss)().compute(Y, T)[1], inside)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a fit in another thread sharing this loss
            in_thread = pool.submit(loss.compute, Y, T).result()[1]
        assert not np.shares_memory(in_thread, inside)
    assert not np.shares_memory(loss.compute(Y, T)[1], inside)


@pytest.mark.parametrize("copied", [copy.copy, copy.deepcopy, lambda loss: pickle.loads(pickle.dumps(loss))])
def test_a_loss_called_or_copied_inside_a_loop_answers_arrays_of_the_callers_own(copied):
    """A callback of fit calling loss(Y, targets), or keeping a copy of the loss, gets arrays the
    next step does not overwrite."""
    loss, T = cr.MSE(), np.zeros((4, 2), np.float32)
    Y = np.ones((4, 2), np.float32)
    with loss_buffers(loss):
        _, checked = loss(Y, T)
        kept = copied(loss)
        _, first = kept.compute(Y, T)
        loss.compute(Y * 3, T)
        kept.compute(Y * 5, T)
    np.testing.assert_array_equal(checked, np.ones((4, 2)) / 2)  # 2 (y − t) / N
    np.testing.assert_array_equal(first, np.ones((4, 2)) / 2)


def test_a_loss_whose_compute_calls_a_built_in_one_twice_trains_on_two_separate_arrays():
    """Label smoothing as a subclass: two ∂L/∂Y of the built-in compute alive at once. Inside fit it
    computes into new arrays, as before buffers (its loop does not make its store current)."""
    shared = []

    class Smoothed(cr.SoftmaxCrossEntropy):
        def compute(self, Y, T, weights=None):
            hard, d_hard = super().compute(Y, T)
            soft, d_soft = super().compute(Y, np.full(Y.shape, 1 / Y.shape[1], Y.dtype))
            shared.append(np.shares_memory(d_hard, d_soft))
            return 0.9 * hard + 0.1 * soft, 0.9 * d_hard + 0.1 * d_soft

    rng = np.random.default_rng(0)
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, rng.normal(size=(64, 4)), rng.integers(0, 3, 64), loss=Smoothed(), epochs=2, batch_size=16,
           verbose=0)
    assert len(shared) == 8 and not any(shared)


def test_a_loss_of_ones_own_calling_the_loss_of_a_fit_around_its_fit_trains_on_two_separate_arrays():
    """A callback of a fit on a built-in loss runs a fit whose loss of one's own calls that same loss object twice a
    step (label smoothing): the outer fit's store stayed current in the inner fit, so both ∂L/∂Y were written into
    one array, the first overwritten by the second (a wrong gradient, without a word). No store is current there."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 4)), rng.integers(0, 3, 64)
    base, shared = cr.SoftmaxCrossEntropy(), []

    class Smoothed(cr.Loss):
        task = "classification"

        def prepare(self, targets, n_outputs, dtype, n_samples=None):
            return base.prepare(targets, n_outputs, dtype, n_samples)

        def compute(self, Y, T, weights=None):
            hard, d_hard = base.compute(Y, T)
            soft, d_soft = base.compute(Y, np.full(Y.shape, 1 / Y.shape[1], Y.dtype))
            shared.append(np.shares_memory(d_hard, d_soft))
            return 0.9 * hard + 0.1 * soft, 0.9 * d_hard + 0.1 * d_soft

        def transform(self, Y):
            return base.transform(Y)

    class InnerFit(cr.Callback):
        def on_epoch_end(self, epoch, logs, model):
            cr.fit(cr.mlp([4, 8, 3], seed=1), X, y, loss=Smoothed(), epochs=1, batch_size=16, verbose=0)

    cr.fit(cr.mlp([4, 8, 3], seed=0), X, y, loss=base, epochs=2, batch_size=16, verbose=0, callbacks=[InnerFit()])
    assert len(shared) == 8 and not any(shared)


def test_a_loss_of_ones_own_without_prepare_says_what_to_define():
    """It raised a NotImplementedError without a message, from cr.fit, cr.gradcheck and a call alike."""
    class OnlyCompute(cr.Loss):
        def compute(self, Y, T, weights=None):
            return float(((Y - T) ** 2).mean()), 2 * (Y - T) / Y.size

    X = np.ones((4, 2))
    for call in (lambda: OnlyCompute()(np.zeros((4, 1)), np.zeros(4)),
                 lambda: cr.fit(cr.mlp([2, 1], seed=0), X, np.zeros(4), loss=OnlyCompute(), verbose=0),
                 lambda: cr.gradcheck(cr.mlp([2, 1], seed=0), X, np.zeros(4), OnlyCompute())):
        with pytest.raises(NotImplementedError, match=r"^OnlyCompute does not implement prepare\(targets, n_outputs, "
                                                      r"dtype, n_samples=None\), .* subclasses a built-in loss that "
                                                      r"takes such targets \(cr.MSE for values"):
            call()


def test_a_loss_of_ones_own_without_compute_names_it():
    class OnlyPrepare(cr.MSE):
        compute = cr.Loss.compute

    with pytest.raises(NotImplementedError, match=r"^OnlyPrepare does not implement compute\(Y, T, weights=None\), "
                                                  r"which returns \(L, ∂L/∂Y\)$"):
        OnlyPrepare()(np.zeros((4, 1)), np.zeros(4))
