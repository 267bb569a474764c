"""chainrule.data.load_data: names and paths to training and test rows, validated."""

import numpy
import pytest

import chainrule.data as data_module
from chainrule.data import BUILTIN_DATASETS, Preprocessor, load_data, load_file, split, train_test_split
from chainrule.errors import DataError, HyperparameterError, LabelError
from tests.harness import traced_peak

from .writers import mnist_like, write_idx


def write_csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_package_exports_its_entry_points():
    for name in ("load_data", "Dataset", "Preprocessor", "train_test_split", "load_csv", "load_npz", "load_idx"):
        assert hasattr(data_module, name)


def test_default_is_digits_with_a_stratified_fifth_for_testing():
    data = load_data()
    assert data.name == "digits" and data.task == "classification"
    assert data.X_train.shape == (1437, 64) and data.X_test.shape == (360, 64)
    counts = numpy.bincount(data.y_test)
    assert counts.min() >= 35 and counts.max() <= 37  # ~20 % of each digit's ~180 images


@pytest.mark.parametrize("name", sorted(BUILTIN_DATASETS))
def test_every_builtin_gets_a_test_part(name):
    data = load_data(name, test_size=0.25, seed=3)
    n_samples = len(data.y_train) + len(data.y_test)
    assert len(data.y_test) == int(numpy.ceil(0.25 * n_samples))
    if data.task == "classification":
        assert set(data.y_test.tolist()) == set(data.y_train.tolist())


def test_same_seed_same_split_other_seed_other_split():
    first, again, other = load_data("iris", seed=7), load_data("iris", seed=7), load_data("iris", seed=8)
    assert numpy.array_equal(first.X_test, again.X_test) and numpy.array_equal(first.y_train, again.y_train)
    assert not numpy.array_equal(first.X_test, other.X_test)


def test_test_size_may_be_a_row_count():
    assert load_data("wine", test_size=10).X_test.shape == (10, 13)


def test_regression_split_is_shuffled_not_stratified():
    data = load_data("diabetes", seed=0)
    assert data.task == "regression" and data.y_train.dtype == numpy.float64
    assert len(data.y_test) == 89


def test_csv_without_test_part_is_split_with_string_classes(tmp_path):
    rows = "".join(f"{i},{i * 2},{'ab'[i % 2]}\n" for i in range(20))
    data = load_data(write_csv(tmp_path, "x,z,kind\n" + rows), test_size=0.2, seed=1)
    assert sorted(data.y_test.tolist()) == ["a", "a", "b", "b"]
    assert numpy.array_equal(data.X_train[:, 1], 2 * data.X_train[:, 0])  # rows stay whole


def test_a_source_test_part_is_kept_and_test_size_ignored(tmp_path):
    path = tmp_path / "split.npz"
    numpy.savez(path, X=numpy.zeros((6, 2)), y=numpy.array([0, 1] * 3),
                X_test=numpy.ones((2, 2)), y_test=numpy.array([1, 0]))
    data = load_data(str(path), test_size=0.5)
    assert data.X_train.shape == (6, 2) and data.X_test.tolist() == [[1, 1], [1, 1]]


def test_idx_directory_through_load_data(tmp_path):
    images, labels = mnist_like(30)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, compress=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels, compress=True)
    data = load_data(tmp_path, test_size=0.2)
    assert data.X_train.shape == (24, 12) and numpy.bincount(data.y_test).tolist() == [2, 2, 2]


def test_task_may_be_forced_for_a_builtin():
    data = load_data("iris", task="regression")
    assert data.task == "regression" and data.y_train.dtype == numpy.float64


def test_preprocessor_fits_on_the_training_rows():
    data = load_data("iris")
    preprocessor = Preprocessor.fit(data.X_train, data.y_train, data.task)
    assert numpy.allclose(preprocessor.transform(data.X_train).mean(axis=0), 0, atol=1e-6)
    assert preprocessor.encode(data.y_test).max() == 2


def test_unknown_builtin_name_lists_the_builtin_names():
    with pytest.raises(DataError, match="'mnist'") as caught:
        load_data("mnist")
    for name in BUILTIN_DATASETS:
        assert name in str(caught.value)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(DataError, match="absent.csv: no such file"):
        load_data(str(tmp_path / "absent.csv"))


def test_label_with_a_builtin_is_refused():
    with pytest.raises(DataError, match="label='species'.*'iris' is a built-in"):
        load_data("iris", label="species")


def test_a_single_class_raises_label_error_naming_it(tmp_path):
    path = write_csv(tmp_path, "a,kind\n1,cat\n2,cat\n3,cat\n", name="cats.csv")
    with pytest.raises(LabelError, match=r"cats\.csv: every label is 'cat'.*at least 2 classes"):
        load_data(path)


@pytest.mark.parametrize("rows", ["", "1,0\n"])
def test_fewer_than_two_samples_raise_data_error(tmp_path, rows):
    path = write_csv(tmp_path, "a,label\n" + rows, name="tiny.csv")
    with pytest.raises(DataError, match=r"tiny\.csv"):
        load_data(path)


def test_one_sample_from_an_archive_raises_data_error(tmp_path):
    path = tmp_path / "one.npz"
    numpy.savez(path, X=numpy.zeros((1, 2)), y=numpy.array([0]))
    with pytest.raises(DataError, match=r"one\.npz: 1 sample; at least 2"):
        load_data(path)


def test_test_labels_absent_from_training_raise_label_error(tmp_path):
    path = tmp_path / "unseen.npz"
    numpy.savez(path, X=numpy.zeros((4, 1)), y=numpy.array([0, 1, 0, 1]),
                X_test=numpy.zeros((2, 1)), y_test=numpy.array([1, 7]))
    with pytest.raises(LabelError, match=r"unseen\.npz: y_test holds label \[7\]"):
        load_data(path)


@pytest.mark.parametrize(
    "options, name",
    [({"task": "ranking"}, "task"), ({"test_size": 1.5}, "test_size"), ({"test_size": 0}, "test_size"),
     ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed")],
)
def test_bad_options_raise_hyperparameter_error_naming_them(options, name):
    with pytest.raises(HyperparameterError, match=name):
        load_data("iris", **options)


def test_test_size_leaving_no_training_rows_raises_data_error():
    with pytest.raises(DataError, match="test_size: holding out 150 of the 150 rows leaves 0 for training"):
        load_data("iris", test_size=150)


def test_a_split_leaving_a_class_only_in_the_test_rows_is_refused_naming_source_and_class(tmp_path):
    path = write_csv(tmp_path, "a,label\n1,x\n2,y\n3,z\n4,w\n", name="unique.csv")
    expected = r"unique.csv: the split .* leaves class '\w' only in the test rows.*--test-size"
    with pytest.raises(DataError, match=expected):
        load_data(str(path), test_size=0.2, seed=0)
    assert str(path) in str(pytest.raises(DataError, load_data, str(path)).value)


def test_absolute_data_spec_makes_paths_absolute_and_keeps_names(tmp_path, monkeypatch):
    from chainrule.data.load import absolute_data_spec

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("a,label\n")
    assert absolute_data_spec("data.csv") == str(tmp_path / "data.csv")
    assert absolute_data_spec("sub/data.npz") == str(tmp_path / "sub" / "data.npz")
    assert absolute_data_spec("im,lab") == f"{tmp_path / 'im'},{tmp_path / 'lab'}"
    assert absolute_data_spec("iris") == "iris"
    assert absolute_data_spec("nothing") == "nothing"
    # A .csv name is one path whatever its commas, as load_file reads it: it used to come back
    # as two absolute paths, and the resumed run then named neither as given.
    assert absolute_data_spec("a,b.csv") == str(tmp_path / "a,b.csv")
    assert absolute_data_spec("im, lab") == f"{tmp_path / 'im'},{tmp_path / 'lab'}"


def test_an_unknown_data_set_name_is_quoted_in_part():
    """A TOML data = "a" * 10**7 gave a 10 MB message; any real path (up to PATH_MAX) is still shown whole.
    One longer than any path is refused by its length, as a path is ("unknown data set" quoted 4,096 characters)."""
    with pytest.raises(DataError) as caught:
        load_data("a" * 10**7)
    assert str(caught.value) == f"'{'a' * 59}...: a path of 10,000,000 characters, longer than any file name (4096)"
    with pytest.raises(DataError, match="unknown data set '" + "c" * 4096 + "'"):
        load_data("c" * 4096)
    with pytest.raises(DataError, match="unknown data set '" + "b" * 300 + "'"):
        load_data("b" * 300)


@pytest.mark.parametrize("text, error, problem", [
    ("a,label\n1,0\n", DataError, "1 sample; at least 2"),
    ("a,label\n1,0\n2,0\n3,0\n", LabelError, "every label is 0"),
])
def test_a_file_is_named_by_its_whole_path_not_its_name_alone(tmp_path, text, error, problem):
    # Two runs' data.csv in two folders: the message must say which.
    (tmp_path / "run2").mkdir()
    path = write_csv(tmp_path / "run2", text)
    with pytest.raises(error) as caught:
        load_data(path)
    assert str(caught.value).startswith(f"{path}: {problem}")


def write_npz(tmp_path, y):
    """An archive of 2000 rows of 500 float32 features (4 MB) and the labels ``y``."""
    X = numpy.random.default_rng(0).random((2000, 500), dtype=numpy.float32)
    numpy.savez(tmp_path / "rows.npz", X=X, y=y)
    return tmp_path / "rows.npz", X


@pytest.mark.parametrize("labels", ["classes", "targets"])
def test_a_file_is_split_as_train_test_split_splits_its_rows_bit_for_bit(tmp_path, labels):
    rng = numpy.random.default_rng(1)
    path, _ = write_npz(tmp_path, rng.integers(0, 5, 2000) if labels == "classes" else rng.random(2000))
    whole = load_file(path)
    expected = train_test_split(whole.X_train, whole.y_train, test_size=0.3, seed=5,
                                stratify=whole.task == "classification")
    data = load_data(path, test_size=0.3, seed=5)
    for a, b in zip(expected, (data.X_train, data.X_test, data.y_train, data.y_test)):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    assert data.X_test.base is not None and data.X_test.base is data.X_train.base  # views of the rows read


def test_a_file_split_here_is_not_held_twice(tmp_path, monkeypatch):
    """The split copied the rows (2.0 to 2.3 times them at the peak); in place the peak is the
    rows read and what reading takes beside them."""
    monkeypatch.setattr(split, "MOVE_BYTES", 2**16)
    path, X = write_npz(tmp_path, numpy.random.default_rng(1).integers(0, 5, 2000))
    _, peak = traced_peak(lambda: load_data(path))
    assert peak < 1.6 * X.nbytes



def test_a_path_holding_a_nul_character_is_named():
    # open() raised ValueError ("embedded null byte"): an internal error on the command line
    with pytest.raises(DataError, match=r"^'ir\\x00is.csv': a path holding a NUL character names no file$"):
        load_data("ir\x00is.csv")
