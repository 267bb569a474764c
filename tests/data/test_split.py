"""chainrule.data.split: seeded splits, stratified for classification."""

import math

import numpy
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from chainrule.data import load_builtin, split
from chainrule.data.split import (
    n_test_rows, shuffled_split_indices, split_in_place, stratified_split_indices, train_test_split,
)
from chainrule.errors import DataError, HyperparameterError, LabelError, ShapeError
from tests.harness import traced_peak


def labels_from_sizes(sizes):
    return numpy.repeat(numpy.arange(len(sizes)), sizes)


def test_n_test_rows_rounds_a_fraction_up_and_takes_a_count_as_is():
    assert n_test_rows(100, 0.2) == 20
    assert n_test_rows(101, 0.2) == 21
    assert n_test_rows(2, 0.2) == 1
    assert n_test_rows(10, 3) == 3
    assert n_test_rows(10, numpy.int64(3)) == 3


@pytest.mark.parametrize("test_size", [0.0, 1.0, -0.1, 0, -2, True, "0.2", float("nan"), None])
def test_invalid_test_size_raises_hyperparameter_error(test_size):
    with pytest.raises(HyperparameterError, match="test_size"):
        n_test_rows(100, test_size)


@pytest.mark.parametrize("n_samples, test_size", [(1, 0.5), (10, 10), (10, 0.95)])
def test_test_size_leaving_a_side_empty_raises_data_error(n_samples, test_size):
    with pytest.raises(DataError, match="at least one row on each side"):
        n_test_rows(n_samples, test_size)


def test_errors_name_the_argument_the_caller_took_test_size_as():
    with pytest.raises(DataError, match=r"^validation: holding out 0.95 of the 10 rows leaves 0 for training and 10 held"):
        shuffled_split_indices(10, 0.95, name="validation")
    with pytest.raises(DataError, match=r"^validation: holding out 10 of the 10 rows"):
        stratified_split_indices(numpy.arange(10) % 2, 10, name="validation")
    with pytest.raises(HyperparameterError, match=r"^validation: expected a fraction in \(0, 1\), got 1.5"):
        n_test_rows(10, 1.5, name="validation")


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None, True])
def test_invalid_seed_raises_hyperparameter_error(seed):
    with pytest.raises(HyperparameterError, match="seed"):
        shuffled_split_indices(10, 0.2, seed)


def test_shuffled_split_partitions_the_rows():
    train_index, test_index = shuffled_split_indices(50, 0.3, seed=4)
    assert len(test_index) == 15 and len(train_index) == 35
    assert sorted(numpy.concatenate([train_index, test_index]).tolist()) == list(range(50))


@pytest.fixture
def global_random_state():
    """NumPy's global random state, put back as it was after the test (which seeds it)."""
    saved = numpy.random.get_state()
    yield
    numpy.random.set_state(saved)


def test_splits_are_determined_by_the_seed_alone(global_random_state):
    y = labels_from_sizes([30, 20, 10])
    numpy.random.seed(1)
    first = stratified_split_indices(y, 0.2, seed=5)
    state = numpy.random.get_state()[1].copy()
    numpy.random.seed(2)  # the global random state plays no part
    again = stratified_split_indices(y, 0.2, seed=5)
    assert numpy.array_equal(numpy.random.get_state()[1], numpy.random.RandomState(2).get_state()[1])
    assert all(numpy.array_equal(a, b) for a, b in zip(first, again))
    assert not numpy.array_equal(state, numpy.random.get_state()[1])  # sanity: the seeds differed
    assert numpy.array_equal(shuffled_split_indices(40, 0.25, 9)[1], shuffled_split_indices(40, 0.25, 9)[1])


def test_different_seeds_give_different_splits():
    y = labels_from_sizes([50, 50])
    assert not numpy.array_equal(
        numpy.sort(stratified_split_indices(y, 0.2, seed=0)[1]), numpy.sort(stratified_split_indices(y, 0.2, seed=1)[1])
    )
    assert not numpy.array_equal(
        numpy.sort(shuffled_split_indices(100, 0.2, 0)[1]), numpy.sort(shuffled_split_indices(100, 0.2, 1)[1])
    )


def test_stratified_split_keeps_each_class_proportion():
    y = labels_from_sizes([60, 30, 10])
    train_index, test_index = stratified_split_indices(y, 0.2, seed=0)
    assert numpy.bincount(y[test_index]).tolist() == [12, 6, 2]
    assert numpy.bincount(y[train_index]).tolist() == [48, 24, 8]


def test_a_rare_class_gets_one_row_on_each_side():
    y = labels_from_sizes([97, 3])
    train_index, test_index = stratified_split_indices(y, 0.1, seed=0)
    assert numpy.bincount(y[test_index]).tolist() == [9, 1]
    assert numpy.bincount(y[train_index], minlength=2).tolist() == [88, 2]


def test_small_classes_keep_a_test_row_taken_from_a_large_class():
    y = labels_from_sizes([95, 3, 2])
    _, test_index = stratified_split_indices(y, 0.1, seed=0)
    assert numpy.bincount(y[test_index]).tolist() == [8, 1, 1]


def test_a_class_of_one_row_goes_to_training():
    y = labels_from_sizes([10, 10, 1])
    train_index, test_index = stratified_split_indices(y, 0.2, seed=0)
    assert 2 not in y[test_index] and 2 in y[train_index]
    assert len(test_index) == 5


def test_fewer_test_rows_than_classes_go_to_the_largest_classes():
    y = labels_from_sizes([2, 9, 2, 5, 2])
    _, test_index = stratified_split_indices(y, 2, seed=0)
    assert sorted(y[test_index].tolist()) == [1, 3]


def test_string_labels_and_row_alignment():
    X = numpy.arange(12).reshape(12, 1)
    y = numpy.array(["cat", "dog", "emu"] * 4)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=2, stratify=True)
    assert sorted(y_test.tolist()) == ["cat", "dog", "emu"]
    assert all(y[row[0]] == label for row, label in zip(numpy.concatenate([X_train, X_test]),
                                                         numpy.concatenate([y_train, y_test])))


def test_train_test_split_without_stratify_is_the_shuffled_split():
    X, y = numpy.arange(20).reshape(10, 2), numpy.arange(10)
    _, X_test, _, y_test = train_test_split(X, y, test_size=0.3, seed=6)
    assert numpy.array_equal(y_test, shuffled_split_indices(10, 0.3, 6)[1])
    assert numpy.array_equal(X_test[:, 0], 2 * y_test)


def test_mismatched_rows_and_2d_labels_raise_shape_error():
    with pytest.raises(ShapeError, match="X has 3 rows but y has 2"):
        train_test_split(numpy.zeros((3, 1)), numpy.zeros(2))
    with pytest.raises(ShapeError, match=r"shape \(4, 2\)"):
        stratified_split_indices(numpy.zeros((4, 2)))


@given(
    sizes=st.lists(st.integers(1, 40), min_size=2, max_size=8),
    fraction=st.floats(0.05, 0.6),
    seed=st.integers(0, 2**32 - 1),
)
def test_stratified_split_invariants(sizes, fraction, seed):
    y = labels_from_sizes(sizes)
    sizes = numpy.array(sizes)
    n_test = math.ceil(fraction * len(y))
    assume(n_test < len(y))  # else the split is refused (tested above)
    train_index, test_index = stratified_split_indices(y, fraction, seed)
    assert len(test_index) == n_test
    assert sorted(numpy.concatenate([train_index, test_index]).tolist()) == list(range(len(y)))
    test_counts = numpy.bincount(y[test_index], minlength=len(sizes))
    train_counts = sizes - test_counts
    splittable = sizes >= 2
    if splittable.sum() <= n_test <= (sizes[splittable] - 1).sum():  # one row per side is possible
        assert (test_counts[splittable] >= 1).all()
        assert (train_counts >= 1).all()
    ideal = n_test * sizes / sizes.sum()
    if (numpy.floor(ideal) >= 1).all() and (numpy.ceil(ideal) <= sizes - 1).all():
        assert (numpy.abs(test_counts - ideal) < 1).all()


@pytest.mark.parametrize("sizes, test_size", [((1, 1, 2), 3), ((1, 1, 1), 2), ((2, 1, 3), 5)])
def test_a_stratified_split_holds_out_exactly_test_size_rows_when_classes_are_tiny(sizes, test_size):
    y = numpy.repeat(numpy.arange(len(sizes)), sizes)
    train_index, test_index = stratified_split_indices(y, test_size, seed=0)
    assert len(test_index) == test_size
    assert sorted(numpy.concatenate([train_index, test_index]).tolist()) == list(range(len(y)))


def test_test_rows_come_from_classes_that_can_spare_them_before_single_rows():
    # Three test rows from [0, 0, 0, 1, 2]: class 0 gives two and keeps one; one single row must go too.
    y = numpy.array([0, 0, 0, 1, 2])
    train_index, test_index = stratified_split_indices(y, 3, seed=0)
    assert sorted(y[test_index].tolist())[:2] == [0, 0]
    assert len(set(y[train_index].tolist())) == 2


def test_the_training_rows_of_a_stratified_split_are_not_grouped_by_class():
    y = numpy.array([0, 1] * 50)
    train_index, _ = stratified_split_indices(y, 0.2, seed=0)
    labels = y[train_index]
    assert (labels[1:] != labels[:-1]).sum() > 10  # grouped by class, they would change once


def same_bits(first, second):
    return all(a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes() for a, b in zip(first, second))


def digits_c_ordered():
    digits = load_builtin("digits")  # column-major as scikit-learn gives it
    return numpy.ascontiguousarray(digits.X_train), digits.y_train


def big_like(rng):
    return rng.random((3000, 200), dtype=numpy.float32), rng.integers(0, 10, 3000)


@pytest.mark.parametrize("source", ["iris", "digits", "big_like", "regression"])
@pytest.mark.parametrize("seed, test_size", [(0, 0.2), (7, 0.33), (3, 25)])
def test_split_in_place_gives_the_arrays_of_train_test_split_bit_for_bit(source, seed, test_size, monkeypatch):
    monkeypatch.setattr(split, "MOVE_BYTES", 4096)  # many steps per cycle
    rng = numpy.random.default_rng(seed)
    if source == "iris":
        iris = load_builtin("iris")
        X, y = iris.X_train, iris.y_train
    elif source == "digits":
        X, y = digits_c_ordered()
    elif source == "big_like":
        X, y = big_like(rng)
    else:
        X, y = rng.normal(size=(500, 3)), rng.normal(size=500)
    stratify = source != "regression"
    expected = train_test_split(X, y, test_size=test_size, seed=seed, stratify=stratify)
    X_train, X_test, y_train, y_test = split_in_place(X, y, test_size=test_size, seed=seed, stratify=stratify)
    assert same_bits(expected, (X_train, X_test, y_train, y_test))
    assert numpy.shares_memory(X_train, X) and numpy.shares_memory(X_test, X)


@pytest.mark.parametrize("make_X", [
    lambda X: numpy.asfortranarray(X),
    lambda X: numpy.lib.stride_tricks.as_strided(X, writeable=False),
    lambda X: X.tolist(),
], ids=["column-major", "read-only", "list"])
def test_rows_that_cannot_be_moved_in_place_are_copied_as_train_test_split_copies_them(make_X):
    X, y = big_like(numpy.random.default_rng(1))
    X = make_X(X)
    expected = train_test_split(X, y, test_size=0.2, seed=4, stratify=True)
    original = numpy.array(X)
    got = split_in_place(X, y, test_size=0.2, seed=4, stratify=True)
    assert same_bits(expected, got)
    numpy.testing.assert_array_equal(numpy.asarray(X), original)  # the caller's rows are left as they were


@given(order=st.integers(1, 60).flatmap(lambda n: st.permutations(range(n))), row_bytes=st.sampled_from([0, 8, 24]))
def test_rows_are_reordered_in_place_by_any_permutation(order, row_bytes):
    """MOVE_BYTES = 8: one row a step for 8-byte rows, several steps a cycle; 24-byte rows move
    one at a time too; rows of no bytes (no features) move with nothing to copy."""
    n_features = row_bytes // 8
    X = numpy.arange(len(order) * n_features, dtype=numpy.float64).reshape(len(order), n_features)
    expected = X[numpy.array(order, dtype=numpy.intp)]
    previous, split.MOVE_BYTES = split.MOVE_BYTES, 8
    try:
        split._reorder_rows(X, numpy.array(order, dtype=numpy.int64))
    finally:
        split.MOVE_BYTES = previous
    assert numpy.array_equal(X, expected)


def test_split_in_place_allocates_a_step_of_rows_not_a_copy_of_them(monkeypatch):
    """train_test_split's copies of the rows took X.nbytes more; in place, a step of MOVE_BYTES
    and the indices are all."""
    monkeypatch.setattr(split, "MOVE_BYTES", 2**16)
    X, y = big_like(numpy.random.default_rng(2))  # 2.4 MB of rows
    _, peak = traced_peak(lambda: split_in_place(X, y, test_size=0.2, seed=0, stratify=True))
    assert peak < X.nbytes / 8


def test_a_stratified_split_of_labels_mixing_ints_and_strings_names_their_types():
    labels = numpy.array([1, "a"] * 5, dtype=object)  # numpy.unique cannot sort them: a bare TypeError before
    with pytest.raises(LabelError, match="^y: labels must be all numbers or all strings, got labels of types int, str"):
        stratified_split_indices(labels, 0.2, seed=0)
