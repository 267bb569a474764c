"""chainrule.data.files: which loader reads a path or spec."""

import numpy
import pytest

from chainrule.data.files import load_file
from chainrule.errors import DataError

from .writers import mnist_like, write_idx


def test_csv_by_suffix_in_any_case(tmp_path):
    path = tmp_path / "DATA.CSV"
    path.write_text("a,b\n1,x\n2,y\n")
    data = load_file(str(path))
    assert data.name == "DATA.CSV" and data.y_train.tolist() == ["x", "y"]


def test_csv_label_is_passed_on(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b,c\n1,x,3\n2,y,4\n")
    assert load_file(path, label="b").feature_names == ["a", "c"]


def test_npz_by_suffix(tmp_path):
    path = tmp_path / "arrays.npz"
    numpy.savez(path, X=numpy.zeros((2, 3)), y=numpy.array([0, 1]))
    assert load_file(path).X_train.shape == (2, 3)


def test_directory_is_read_as_idx(tmp_path):
    images, labels = mnist_like()
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    assert load_file(tmp_path).X_train.shape == (12, 12)


def test_comma_spec_is_read_as_idx_images_and_labels(tmp_path):
    images, labels = mnist_like()
    images_path = write_idx(tmp_path / "imgs-idx3-ubyte.gz", images, compress=True)
    labels_path = write_idx(tmp_path / "lbls-idx1-ubyte.gz", labels, compress=True)
    data = load_file(f"{images_path},{labels_path}")
    assert data.X_train.shape == (12, 12) and data.name == "imgs-idx3-ubyte.gz"


def test_comma_spec_with_a_missing_file_names_it(tmp_path):
    images, _ = mnist_like()
    images_path = write_idx(tmp_path / "imgs", images)
    with pytest.raises(DataError, match="lbls: no such file"):
        load_file(f"{images_path},{tmp_path / 'lbls'}")


def test_label_option_for_a_file_that_is_not_csv_is_refused(tmp_path):
    with pytest.raises(DataError, match="label='y'.*arrays.npz"):
        load_file(tmp_path / "arrays.npz", label="y")


@pytest.mark.parametrize("name", ["absent.csv", "absent.npz", "absent.txt", "absent"])
def test_missing_path_raises_data_error_naming_it(tmp_path, name):
    with pytest.raises(DataError, match="no such file") as caught:
        load_file(tmp_path / name)
    assert str(tmp_path / name) in str(caught.value)


def test_existing_file_of_unknown_format_lists_the_formats(tmp_path):
    path = tmp_path / "table.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(DataError, match=r"table\.xlsx: cannot tell its format.*'.xlsx'.*\.csv.*\.npz.*IDX"):
        load_file(path)


def test_a_lone_idx_file_asks_for_its_labels(tmp_path):
    images, _ = mnist_like()
    path = write_idx(tmp_path / "train-images-idx3-ubyte", images)
    with pytest.raises(DataError, match="needs its labels file.*IMAGES,LABELS"):
        load_file(path)
