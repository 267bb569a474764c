"""chainrule.data.files: which loader reads a path or spec."""

import numpy
import pytest

from chainrule.data.files import is_idx_spec, load_file, spec_paths
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


@pytest.mark.parametrize("spec, paths, idx", [
    ("a,b.csv", ["a,b.csv"], False),  # load_file reads a .csv (or .npz) name as one file, and reports it missing as given
    ("a,b.NPZ", ["a,b.NPZ"], False),
    ("im, lab", ["im", "lab"], True),
    ("a,b,c,d", ["a", "b", "c", "d"], True),
    ("a,b,c", ["a,b,c"], True),  # not an IDX spec load_file would read: it refuses it as given
    ("data", ["data"], False),
])
def test_spec_paths_follow_the_order_load_file_reads_a_spec_in(tmp_path, monkeypatch, spec, paths, idx):
    monkeypatch.chdir(tmp_path)
    assert spec_paths(spec) == paths
    assert is_idx_spec(spec) == idx


def test_a_comma_name_of_an_existing_directory_or_file_is_not_an_idx_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a,b").mkdir()
    (tmp_path / "c,d").write_text("")
    assert spec_paths("a,b") == ["a,b"] and spec_paths("c,d") == ["c,d"]
    assert not is_idx_spec("a,b") and not is_idx_spec("c,d")


def test_a_missing_csv_with_a_comma_in_its_name_is_named_as_given(tmp_path):
    with pytest.raises(DataError, match="a,b.csv: no such file"):
        load_file(tmp_path / "a,b.csv")


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


@pytest.mark.parametrize("name", ["rows.csv.gz", "rows.CSV.zip", "rows.csv.bz2"])
def test_a_compressed_csv_file_is_asked_for_decompressed(tmp_path, name):
    """pandas reads rows.csv.gz: the line listed the formats without saying that a compressed CSV is none."""
    path = tmp_path / name
    path.write_bytes(b"\x1f\x8b")
    with pytest.raises(DataError, match=r"cannot tell its format from the suffix .*; a compressed CSV file \(which "
                                        r"pandas reads\) is not read: decompress it to a \.csv file first$"):
        load_file(path)
    other = tmp_path / "rows.tar.gz"
    other.write_bytes(b"\x1f\x8b")
    with pytest.raises(DataError) as caught:
        load_file(other)
    assert "compressed CSV" not in str(caught.value)


def test_a_lone_idx_file_asks_for_its_labels(tmp_path):
    images, _ = mnist_like()
    path = write_idx(tmp_path / "train-images-idx3-ubyte", images)
    with pytest.raises(DataError, match="needs its labels file.*IMAGES,LABELS"):
        load_file(path)


def test_an_empty_spec_is_refused_not_read_as_the_working_directory(tmp_path, monkeypatch):
    """Path("") is ".": the working directory was read as an IDX directory ("no IDX training files")."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match=r"^spec: expected the path of a data file or directory, or an IDX spec, "
                                        r"got ''$"):
        load_file("")


def test_a_spec_longer_than_any_path_is_refused_in_a_short_message():
    """is_dir raised a raw OSError (ENAMETOOLONG): the command line's "internal error", exit 1."""
    with pytest.raises(DataError, match=r"^'/tmp/a+\.\.\.: a path of 1,000,005 characters, longer than any "
                                        r"file name \(4096\)$"):
        load_file("/tmp/" + "a" * 10**6)


@pytest.mark.parametrize("spec", ["/tmp/" + "a" * 300, "/tmp/" + "a" * 300 + ",labels", "/tmp/" + "a" * 300 + "/x.npz"],
                         ids=["path", "idx spec", "npz"])
def test_a_name_too_long_for_the_file_system_is_a_data_error_naming_it(spec):
    """A component longer than 255 bytes: is_dir and exists raised OSError (ENAMETOOLONG)."""
    with pytest.raises(DataError, match="/tmp/aaaa.*(too long|cannot)"):
        load_file(spec)
    assert spec_paths(spec)[0].startswith("/tmp/aaaa")


def test_a_spec_one_character_longer_than_any_path_is_refused_by_its_length():
    spec = "/tmp/" + "a" * 4092  # 4097 characters
    with pytest.raises(DataError, match="a path of 4,097 characters, longer than any file name"):
        load_file(spec)
    with pytest.raises(DataError) as caught:  # 4096 characters, the longest path: looked for, not refused by length
        load_file(spec[:-1])
    assert "a path of" not in str(caught.value)


def test_a_lone_file_named_idx_without_ubyte_asks_for_its_labels(tmp_path):
    images, _ = mnist_like()
    path = write_idx(tmp_path / "train-images.idx3", images)
    with pytest.raises(DataError, match="needs its labels file.*IMAGES,LABELS"):
        load_file(path)
