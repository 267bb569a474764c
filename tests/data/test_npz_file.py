"""chainrule.data.npz_file: NPZ archives, read without pickle."""

import io
import os
import zipfile

import numpy
import pytest

from chainrule.data.npz_file import load_npz, load_npz_inputs
from chainrule.errors import DataError, LabelError

UNPICKLED = []


def _record_unpickling():
    UNPICKLED.append("code ran")
    return 0


class RunsCodeWhenUnpickled:
    def __reduce__(self):
        return (_record_unpickling, ())


def save(tmp_path, name="data.npz", **arrays):
    path = tmp_path / name
    numpy.savez(path, **arrays)
    return path


def test_reads_x_and_y_without_test_part(tmp_path):
    X, y = numpy.arange(12.0).reshape(6, 2), numpy.array([0, 1, 2, 0, 1, 2])
    data = load_npz(save(tmp_path, X=X, y=y))
    assert numpy.array_equal(data.X_train, X) and numpy.array_equal(data.y_train, y)
    assert data.X_test is None and data.y_test is None
    assert data.task == "classification" and data.name == "data.npz"
    assert data.feature_names == ["x0", "x1"] and data.label_name == "y"


def test_reads_the_test_part_and_keeps_dtypes(tmp_path):
    X = numpy.arange(8, dtype=numpy.uint8).reshape(4, 2)
    path = save(tmp_path, X=X, y=numpy.array([0.5, 1.5, 2.5, 3.5]), X_test=X[:2], y_test=numpy.array([1.0, 2.0]))
    data = load_npz(path)
    assert data.X_train.dtype == numpy.uint8 and data.task == "regression"
    assert numpy.array_equal(data.X_test, X[:2]) and data.y_test.tolist() == [1.0, 2.0]


def test_the_inputs_to_predict_are_x_test_or_else_x_and_need_no_labels(tmp_path):
    X = numpy.arange(12.0).reshape(3, 2, 2)  # images, flattened to rows as load_npz flattens them
    assert numpy.array_equal(load_npz_inputs(save(tmp_path, X=X)), X.reshape(3, 4))
    both = save(tmp_path, "both.npz", X=X, y=numpy.arange(3), X_test=X[:1] + 100, y_test=numpy.arange(1))
    assert load_npz_inputs(both).tolist() == [[100.0, 101.0, 102.0, 103.0]]
    with pytest.raises(DataError, match=r"data.npz: no array named 'X'; the archive holds 'inputs'"):
        load_npz_inputs(save(tmp_path, inputs=X))


def test_compressed_archives_images_column_labels_and_byte_strings(tmp_path):
    path = tmp_path / "images.npz"
    images = numpy.zeros((4, 2, 3), dtype=numpy.float32)
    numpy.savez_compressed(path, X=images, y=numpy.array([[b"cat"], [b"dog"], [b"cat"], [b"dog"]]))
    data = load_npz(path)
    assert data.X_train.shape == (4, 6) and data.feature_names[:2] == ["x0_0", "x0_1"]
    assert data.y_train.tolist() == ["cat", "dog", "cat", "dog"]


def test_regression_task_refuses_string_labels(tmp_path):
    path = save(tmp_path, X=numpy.zeros((2, 1)), y=numpy.array(["a", "b"]))
    with pytest.raises(LabelError, match=r"data\.npz: y"):
        load_npz(path, task="regression")


def test_archive_is_opened_without_pickle(tmp_path, monkeypatch):
    calls = []
    real_load = numpy.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(numpy, "load", spy)
    load_npz(save(tmp_path, X=numpy.zeros((2, 1)), y=numpy.array([0, 1])))
    assert calls == [{"allow_pickle": False}]


def test_object_array_is_refused_without_running_its_pickle(tmp_path):
    labels = numpy.array([RunsCodeWhenUnpickled(), 1], dtype=object)
    path = save(tmp_path, X=numpy.zeros((2, 1)), y=labels)
    UNPICKLED.clear()
    with pytest.raises(DataError) as caught:
        load_npz(path)
    assert UNPICKLED == []
    assert all(part in str(caught.value) for part in (str(path), "'y'", "pickle"))


NAN_X = numpy.zeros((3, 4))
NAN_X[1, 2] = numpy.nan

# Each bad archive: its arrays and the fragments its DataError must name.
BAD_ARCHIVES = {
    "missing X": (dict(features=numpy.zeros((2, 1)), y=numpy.zeros(2)), ["no array named 'X'", "'features'"]),
    "missing y": (dict(X=numpy.zeros((2, 1))), ["no array named 'y'", "'X'"]),
    "test images without labels": (
        dict(X=numpy.zeros((2, 1)), y=numpy.zeros(2), X_test=numpy.zeros((1, 1))), ["'X_test'", "no 'y_test'"]),
    "test labels without images": (
        dict(X=numpy.zeros((2, 1)), y=numpy.zeros(2), y_test=numpy.zeros(1)), ["'y_test'", "no 'X_test'"]),
    "object features": (dict(X=numpy.array([[1], ["a"]], dtype=object), y=numpy.zeros(2)), ["'X'", "pickle"]),
    "text features": (dict(X=numpy.array([["a"], ["b"]]), y=numpy.zeros(2)), ["'X'", "dtype <U1", "real numbers"]),
    "complex features": (dict(X=numpy.zeros((2, 1), dtype=complex), y=numpy.zeros(2)), ["'X'", "complex128"]),
    "1-d features": (dict(X=numpy.zeros(2), y=numpy.zeros(2)), ["'X'", "shape (2,)"]),
    "no feature columns": (dict(X=numpy.zeros((2, 0)), y=numpy.zeros(2)), ["'X'", "shape (2, 0)"]),
    "2-d labels": (dict(X=numpy.zeros((2, 1)), y=numpy.zeros((2, 2))), ["'y'", "shape (2, 2)"]),
    "date labels": (dict(X=numpy.zeros((2, 1)), y=numpy.zeros(2, dtype="datetime64[D]")), ["'y'", "datetime64"]),
    "non-ascii bytes": (dict(X=numpy.zeros((2, 1)), y=numpy.array([b"caf\xe9", b"x"])), ["'y'", "ASCII"]),
    "nan feature": (dict(X=NAN_X, y=numpy.zeros(3)), ["X[1, 2] is nan"]),
    "inf label": (dict(X=numpy.zeros((2, 1)), y=numpy.array([1.0, -numpy.inf])), ["y[1] is -inf"]),
    "inf test feature": (
        dict(X=numpy.zeros((2, 1)), y=numpy.zeros(2), X_test=numpy.array([[numpy.inf]]), y_test=numpy.zeros(1)),
        ["X_test[0, 0] is inf"]),
    "row counts differ": (dict(X=numpy.zeros((3, 1)), y=numpy.zeros(2)), ["'X' has 3 samples", "'y' has 2"]),
    "test row counts differ": (
        dict(X=numpy.zeros((2, 1)), y=numpy.zeros(2), X_test=numpy.zeros((2, 1)), y_test=numpy.zeros(1)),
        ["'X_test' has 2 samples", "'y_test' has 1"]),
    "test width differs": (
        dict(X=numpy.zeros((2, 3)), y=numpy.zeros(2), X_test=numpy.zeros((1, 2)), y_test=numpy.zeros(1)),
        ["'X_test' has 2 features", "'X' has 3"]),
}


@pytest.mark.parametrize("case", sorted(BAD_ARCHIVES))
def test_bad_archive_raises_data_error_naming_file_and_key(tmp_path, case):
    arrays, fragments = BAD_ARCHIVES[case]
    path = save(tmp_path, **arrays)
    with pytest.raises(DataError) as caught:
        load_npz(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "not an NPZ archive"),
        (b"X,y\n1,2\n", "not an NPZ archive"),
        (b"PK\x03\x04 truncated zip", "not a readable NPZ archive"),
        (b"\x80\x04K\x01.", "holds pickled data"),  # a pickle renamed
    ],
)
def test_files_that_are_not_archives_raise_data_error(tmp_path, content, fragment):
    path = tmp_path / "fake.npz"
    path.write_bytes(content)
    with pytest.raises(DataError, match=fragment) as caught:
        load_npz(path)
    assert str(path) in str(caught.value)


def test_a_single_npy_array_is_refused(tmp_path):
    path = tmp_path / "single.npz"
    with path.open("wb") as handle:
        numpy.save(handle, numpy.zeros((2, 2)))
    with pytest.raises(DataError, match=r"single\.npz: holds a single .npy array"):
        load_npz(path)


def test_truncated_archive_raises_data_error(tmp_path):
    path = save(tmp_path, X=numpy.arange(400.0).reshape(100, 4), y=numpy.zeros(100))
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(DataError, match=r"data\.npz"):
        load_npz(path)


def test_corrupt_member_raises_data_error_naming_the_key(tmp_path):
    path = save(tmp_path, X=numpy.zeros((50, 4)), y=numpy.zeros(50))
    content = bytearray(path.read_bytes())
    start = content.index(b"X.npy") + 200  # inside X's values, past its header
    content[start:start + 8] = b"\xff" * 8
    path.write_bytes(bytes(content))
    with pytest.raises(DataError, match=r"data\.npz: array 'X' is corrupt"):
        load_npz(path)


def test_missing_file_raises_data_error_naming_the_path(tmp_path):
    with pytest.raises(DataError, match=r"absent\.npz: no such file"):
        load_npz(tmp_path / "absent.npz")


def test_an_archive_without_samples_is_refused_naming_the_file(tmp_path):
    path = save(tmp_path, X=numpy.zeros((0, 3)), y=numpy.zeros(0))
    with pytest.raises(DataError, match=r"data.npz: array 'X' has shape \(0, 3\): no samples"):
        load_npz(path)


def test_a_member_that_is_not_npy_data_is_refused_naming_it(tmp_path):
    path = tmp_path / "bytes.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", b"hello")
        archive.writestr("y.npy", b"hello")
    with pytest.raises(DataError, match=r"bytes.npz: member 'X' is not .npy array data"):
        load_npz(path)


def test_npy_format_version_3_is_refused_naming_the_version(tmp_path):
    """numpy writes version 3.0 (a UTF-8 header) for non-Latin-1 field names; its header used to be
    decoded as Latin-1 by the 2.0 reader."""
    with pytest.warns(UserWarning, match="format 3.0"):
        path = save(tmp_path, "v3.npz", X=numpy.zeros(2, dtype=[("\u03c0", "<f8")]), y=numpy.arange(2))
    with pytest.raises(DataError, match=r"v3.npz: array 'X' is in .npy format version 3.0, which numpy writes only for "
                                        r"a structured dtype with non-Latin-1 field names"):
        load_npz(path)


def test_an_unknown_npy_format_version_is_refused_naming_it(tmp_path):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }".ljust(115) + "\n"
    member = b"\x93NUMPY\x04\x00" + len(header).to_bytes(4, "little") + header.encode() + bytes(16)
    path = tmp_path / "v4.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", member)
        archive.writestr("y.npy", member)
    with pytest.raises(DataError, match=r"v4.npz: array 'X' is in .npy format version 4.0; expected version 1.0 or 2.0$"):
        load_npz(path)


@pytest.mark.parametrize("compress", [False, True])
def test_a_header_declaring_more_data_than_the_member_holds_is_refused_before_reading(tmp_path, compress):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (999999999999, 1), }"
    header = header.ljust(118) + "\n"  # the magic, version and length make the header 128 bytes
    member = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as archive:
        archive.writestr("X.npy", member + bytes(16))
        archive.writestr("y.npy", member)
    with pytest.raises(DataError, match=r"huge.npz: array 'X' declares shape \(999999999999, 1\) of float64"):
        load_npz(path)


def test_a_member_claiming_more_bytes_than_its_compression_can_give_is_refused(tmp_path):
    path = save(tmp_path, X=numpy.eye(3), y=numpy.arange(3))
    with zipfile.ZipFile(path) as archive:
        stored = archive.getinfo("X.npy")
    raw = bytearray(path.read_bytes())
    # the uncompressed size (offset 24) in the central directory entry of the stored X.npy
    central = raw.rfind(b"PK\x01\x02", 0, raw.rfind(b"X.npy"))
    assert int.from_bytes(raw[central + 24:central + 28], "little") == stored.file_size
    raw[central + 24:central + 28] = (2**31).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"array 'X' claims 2147483648 bytes"):
        load_npz(path)


# A crafted member: an .npy header declaring 1 GiB of float64, followed by 64 bytes of data.
GIB_HEADER = "{'descr': '<f8', 'fortran_order': False, 'shape': (134217728,), }".ljust(118) + "\n"
GIB_MEMBER = b"\x93NUMPY\x01\x00" + len(GIB_HEADER).to_bytes(2, "little") + GIB_HEADER.encode() + bytes(64)
CLAIMED_SIZE = 0xFFFFFFF0  # about 4 GiB, in both size fields of the zip directory


def crafted_archive(tmp_path, compression, claim=None, flag_bits=None):
    """A few hundred bytes: X.npy is GIB_MEMBER; the zip directory's entry for X.npy can be
    made to claim ``claim`` compressed and uncompressed bytes, or to carry ``flag_bits``."""
    path = tmp_path / "crafted.npz"
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr("X.npy", GIB_MEMBER)
        archive.writestr("y.npy", b"")
    raw = bytearray(path.read_bytes())
    central = raw.index(b"PK\x01\x02")  # the first central directory entry: X.npy's
    if claim is not None:
        raw[central + 20:central + 28] = claim.to_bytes(4, "little") * 2  # compressed, uncompressed size
    if flag_bits is not None:
        raw[central + 8:central + 10] = flag_bits.to_bytes(2, "little")
    path.write_bytes(bytes(raw))
    assert len(raw) < 1000
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_a_member_claiming_bytes_past_the_end_of_the_file_is_refused(tmp_path, compress):
    path = crafted_archive(tmp_path, zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED, CLAIMED_SIZE)
    with pytest.raises(DataError) as caught:
        load_npz(path)
    message = str(caught.value)
    assert str(path) in message and "array 'X'" in message
    assert f"claims {CLAIMED_SIZE} compressed bytes at offset 0, past the end of the file" in message


@pytest.mark.parametrize("method, number", [("ZIP_LZMA", 14), ("ZIP_BZIP2", 12)])
def test_members_compressed_other_than_stored_or_deflated_are_refused(tmp_path, method, number):
    path = crafted_archive(tmp_path, getattr(zipfile, method), CLAIMED_SIZE)
    with pytest.raises(DataError) as caught:
        load_npz(path)
    message = str(caught.value)
    assert str(path) in message and "array 'X' (member 'X.npy')" in message
    assert f"compression method {number}; expected stored or deflated" in message


def test_an_encrypted_member_is_refused(tmp_path):
    path = crafted_archive(tmp_path, zipfile.ZIP_STORED, flag_bits=0x1)
    with pytest.raises(DataError, match=r"crafted\.npz: array 'X' \(member 'X.npy'\) is encrypted"):
        load_npz(path)


def test_a_stored_member_claiming_more_than_its_stored_bytes_is_refused(tmp_path):
    path = crafted_archive(tmp_path, zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    central = raw.index(b"PK\x01\x02")
    raw[central + 24:central + 28] = (len(GIB_MEMBER) + 1).to_bytes(4, "little")  # uncompressed size only
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=rf"array 'X' claims {len(GIB_MEMBER) + 1} bytes from {len(GIB_MEMBER)} stored"):
        load_npz(path)


def test_running_out_of_memory_while_reading_is_a_data_error_naming_the_file(tmp_path, monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise MemoryError

    path = save(tmp_path, X=numpy.zeros((2, 1)), y=numpy.zeros(2))
    monkeypatch.setattr(numpy.lib.format, "read_array", out_of_memory)
    with pytest.raises(DataError, match=r"data\.npz: array 'X' does not fit in memory"):
        load_npz(path)


@pytest.mark.parametrize("compressed", [False, True])
def test_large_archives_near_the_deflate_ratio_still_load(tmp_path, compressed):
    X = numpy.zeros((4000, 64))  # 2 MB that deflate squeezes almost 1000-fold
    X[::97, 3] = 1.5
    y = numpy.arange(4000) % 3
    path = tmp_path / "large.npz"
    (numpy.savez_compressed if compressed else numpy.savez)(path, X=X, y=y, X_test=X[:10], y_test=y[:10])
    data = load_npz(path)
    assert numpy.array_equal(data.X_train, X) and numpy.array_equal(data.y_train, y)
    assert data.X_test.shape == (10, 64)


def npy_bytes(array):
    """``array`` as the bytes of a .npy file."""
    import io

    buffer = io.BytesIO()
    numpy.save(buffer, array)
    return buffer.getvalue()


def write_members(path, members):
    """A zip archive at ``path`` holding ``members``: (name, bytes, zip compression method) in order."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns when a name appears twice
        with zipfile.ZipFile(path, "w") as archive:
            for name, data, method in members:
                info = zipfile.ZipInfo(name)
                info.compress_type = method
                archive.writestr(info, data)
    return path


FOUR_ROWS = npy_bytes(numpy.zeros((4, 2), dtype=numpy.float32))
FOUR_LABELS = npy_bytes(numpy.array([0, 1, 0, 1]))


OVERSIZED_HEADER = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 2), }".ljust(118) + "\n"
OVERSIZED = b"\x93NUMPY\x01\x00" + len(OVERSIZED_HEADER).to_bytes(2, "little") + OVERSIZED_HEADER.encode() + bytes(8)


@pytest.mark.parametrize("shadow, method, message", [
    (FOUR_ROWS, zipfile.ZIP_LZMA, r"array 'X' \(member 'X'\) uses zip compression method 14"),
    (OVERSIZED, zipfile.ZIP_STORED, r"array 'X' declares shape \(1000, 2\) of float32"),
])
def test_a_member_named_exactly_as_the_key_is_checked_as_it_is_the_one_numpy_reads(tmp_path, shadow, method, message):
    # numpy reads array 'X' from a member named 'X' when there is one, not from the good 'X.npy':
    # its compression method and its declared size are checked on that member.
    path = write_members(tmp_path / "shadow.npz", [
        ("X.npy", FOUR_ROWS, zipfile.ZIP_STORED),
        ("y.npy", FOUR_LABELS, zipfile.ZIP_STORED),
        ("X", shadow, method),
    ])
    with pytest.raises(DataError, match=r"shadow\.npz: " + message):
        load_npz(path)


def test_members_that_no_array_is_read_from_are_checked_too(tmp_path):
    path = write_members(tmp_path / "extra.npz", [
        ("X.npy", FOUR_ROWS, zipfile.ZIP_STORED),
        ("y.npy", FOUR_LABELS, zipfile.ZIP_STORED),
        ("notes.txt", b"ignored", zipfile.ZIP_BZIP2),
    ])
    with pytest.raises(DataError, match=r"extra\.npz: array 'notes.txt' \(member 'notes.txt'\) uses zip compression method 12"):
        load_npz(path)


@pytest.mark.parametrize("first_method", ["ZIP_STORED", "ZIP_LZMA"])
def test_an_archive_with_two_members_of_one_name_is_refused(tmp_path, first_method):
    path = write_members(tmp_path / "twice.npz", [
        ("X.npy", npy_bytes(numpy.ones((4, 2))), getattr(zipfile, first_method)),
        ("X.npy", FOUR_ROWS, zipfile.ZIP_STORED),
        ("y.npy", FOUR_LABELS, zipfile.ZIP_STORED),
    ])
    with pytest.raises(DataError) as caught:
        load_npz(path)
    message = str(caught.value)
    assert str(path) in message and "member 'X.npy'" in message
    if first_method == "ZIP_STORED":
        assert "appears more than once" in message


@pytest.mark.parametrize("with_test_part", [False, True])
@pytest.mark.parametrize("writer", ["savez", "savez_compressed"])
def test_archives_written_by_numpy_still_load(tmp_path, writer, with_test_part):
    X, y = numpy.arange(20.0).reshape(10, 2), numpy.arange(10) % 2
    arrays = {"X": X, "y": y, "notes": numpy.array(["kept out"])}
    if with_test_part:
        arrays.update(X_test=X[:3], y_test=y[:3])
    path = tmp_path / "numpy.npz"
    getattr(numpy, writer)(path, **arrays)
    data = load_npz(path)
    assert numpy.array_equal(data.X_train, X) and numpy.array_equal(data.y_train, y)
    if with_test_part:
        assert numpy.array_equal(data.X_test, X[:3]) and numpy.array_equal(data.y_test, y[:3])
    else:
        assert data.X_test is None and data.y_test is None


def test_the_arrays_an_archive_holds_are_listed_in_part(tmp_path):
    """Every name was listed whole: thousands of arrays, or one long name, made a message as long."""
    path = tmp_path / "many.npz"
    numpy.savez(path, **{f"{'z' * 500}{index}": numpy.zeros(1) for index in range(100)})
    with pytest.raises(DataError, match=r"no array named 'X'; the archive holds 'z+\.\.\., .*\(100 in all\)$") as caught:
        load_npz(path)
    assert len(str(caught.value)) < 1200


@pytest.mark.parametrize("flag_bits, problem", [(0x20, "holds compressed patched data"),
                                                (0x40, "uses strong encryption")])
def test_a_member_zipfile_cannot_open_is_refused(tmp_path, flag_bits, problem):
    path = crafted_archive(tmp_path, zipfile.ZIP_STORED, flag_bits=flag_bits)
    with pytest.raises(DataError, match=rf"crafted\.npz: array 'X' \(member 'X.npy'\) {problem}"):
        load_npz(path)


def test_an_archive_of_a_zip_version_zipfile_cannot_read_is_refused(tmp_path):
    path = save(tmp_path, X=numpy.eye(2), y=numpy.array([0, 1]))
    raw = bytearray(path.read_bytes())
    central = raw.index(b"PK\x01\x02")
    raw[central + 6:central + 8] = (99).to_bytes(2, "little")  # version needed to extract: 9.9
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"data\.npz: not an NPZ archive numpy\.savez writes \(zip file version 9\.9\)"):
        load_npz(path)


def test_a_feature_too_large_for_the_dtype_is_named_by_array_and_index(tmp_path):
    X = numpy.zeros((4, 2, 3))  # images: the index is the archive's own, before rows are flattened
    X[2, 1, 0] = -1e39
    X[3, 0, 0] = 1e300
    path = save(tmp_path, X=X, y=numpy.array([0, 1, 0, 1]), X_test=numpy.zeros((1, 2, 3)), y_test=numpy.array([1]))
    message = r"data\.npz: X\[2, 1, 0\] is -1e\+39, too large for float32, whose largest magnitude is 3\.403e\+38"
    with pytest.raises(DataError, match=message):
        load_npz(path, dtype="float32")
    with pytest.raises(DataError, match=r"X_test\[0, 0, 2\] is 1e\+39"):
        load_npz_inputs(save(tmp_path, "test.npz", X=numpy.zeros((1, 6)), X_test=numpy.array([[[0, 0, 1e39]] * 2])),
                        dtype=numpy.float32)
    assert load_npz(path, dtype="float64").X_train[2, 3] == -1e39  # fits float64; no dtype, no check either
    assert load_npz(path).X_train.shape == (4, 6)


def test_a_regression_target_too_large_for_the_dtype_is_named_by_array_and_index(tmp_path):
    y = numpy.linspace(0.5, 3.5, 4)
    y[2] = -1e300
    path = save(tmp_path, X=numpy.zeros((4, 2)), y=y, X_test=numpy.zeros((2, 2)), y_test=numpy.array([1.5, 1e39]))
    with pytest.raises(DataError, match=r"data\.npz: y\[2\] is -1e\+300, too large for float32, whose largest "
                                        r"magnitude is 3\.403e\+38$"):
        load_npz(path, target_dtype="float32")
    assert load_npz(path, dtype="float32").y_train[2] == -1e300  # targets standardized first: no check
    fitting = save(tmp_path, "test.npz", X=numpy.zeros((4, 2)), y=numpy.linspace(0.5, 3.5, 4),
                   X_test=numpy.zeros((2, 2)), y_test=numpy.array([1.5, 1e39]))
    with pytest.raises(DataError, match=r"test\.npz: y_test\[1\] is 1e\+39, too large for float32"):
        load_npz(fitting, target_dtype="float32")
    assert load_npz(path, target_dtype="float64").y_train[2] == -1e300


def test_a_target_standardized_beyond_the_target_dtype_is_named_by_its_array_and_index(tmp_path):
    path = save(tmp_path, X=numpy.zeros((3, 2)), y=numpy.array([1e-30, 0, -1e-30]), X_test=numpy.zeros((2, 2)),
                y_test=numpy.array([1e-30, -1e10]))
    standardization = (numpy.array([0.0]), numpy.array([1e-30]))
    with pytest.raises(DataError, match=r"data\.npz: y_test\[1\] is -1e\+10, standardized, \(y − mean\) / scale = "
                                        r"-1e\+40, too large for float32, whose largest magnitude is 3\.403e\+38$"):
        load_npz(path, target_dtype="float32", target_standardization=standardization)
    assert load_npz(path, target_dtype="float64", target_standardization=standardization).y_test[1] == -1e10


@pytest.mark.parametrize("X", [numpy.full((2, 2), 2**62, dtype=numpy.int64), numpy.full((2, 2), 6e4, numpy.float16),
                               numpy.full((2, 2), 3.4e38, numpy.float32)])
def test_integers_and_narrower_floats_always_fit(tmp_path, X):
    data = load_npz(save(tmp_path, X=X, y=numpy.array([0, 1])), dtype="float32")
    assert numpy.array_equal(data.X_train, X)


def test_an_archive_in_a_pipe_is_refused_in_words():
    """numpy.load seeks to the zip's directory at its end, which a pipe cannot: it raised
    io.UnsupportedOperation ("internal error", exit 1) for ``predict MODEL fifo.npz``."""
    buffer = io.BytesIO()
    numpy.savez(buffer, X=numpy.eye(2), y=numpy.array([0, 1]))
    read_end, write_end = os.pipe()
    os.write(write_end, buffer.getvalue())
    os.close(write_end)
    try:
        for load in (load_npz, load_npz_inputs):
            with pytest.raises(DataError, match=rf"^/dev/fd/{read_end}: a pipe, not a file; an NPZ archive is a zip"):
                load(f"/dev/fd/{read_end}")
    finally:
        os.close(read_end)
