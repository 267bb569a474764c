"""chainrule.data.idx_file: MNIST-style IDX files, raw and gzip, parsed by hand."""

import gzip
import os
import threading

import numpy
import pytest

from chainrule.data import idx_file
from chainrule.data.idx_file import idx_spec_paths, load_idx, load_idx_directory, read_idx
from chainrule.errors import DataError

from .writers import IDX_CODES, idx_bytes, mnist_like, write_idx


@pytest.mark.parametrize("dtype", sorted(IDX_CODES))
@pytest.mark.parametrize("compress", [False, True])
def test_every_type_code_round_trips_raw_and_gzip(tmp_path, dtype, compress):
    array = (numpy.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    path = write_idx(tmp_path / "values-idx3", array, compress=compress)
    read = read_idx(path)
    assert read.dtype == numpy.dtype(dtype) and read.dtype.isnative
    assert numpy.array_equal(read, array)


def test_the_header_is_parsed_by_hand(tmp_path):
    content = bytes([0, 0, 0x0B, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0x01, 0x02, 0xFF, 0xFE])
    (tmp_path / "shorts").write_bytes(content)
    assert read_idx(tmp_path / "shorts").tolist() == [[258], [-2]]  # big-endian int16


def test_load_idx_flattens_images_to_rows(tmp_path):
    images, labels = mnist_like()
    data = load_idx(write_idx(tmp_path / "imgs", images), write_idx(tmp_path / "lbls", labels, compress=True))
    assert data.X_train.shape == (12, 12) and data.X_train.dtype == numpy.uint8
    assert numpy.array_equal(data.X_train[5], images[5].ravel())
    assert data.y_train.tolist() == labels.tolist() and data.task == "classification"
    assert data.feature_names[:4] == ["pixel_0_0", "pixel_0_1", "pixel_0_2", "pixel_1_0"]
    assert data.name == "imgs" and data.label_name == "label" and data.X_test is None


def test_load_idx_reads_a_test_pair(tmp_path):
    images, labels = mnist_like(12)
    test_images, test_labels = mnist_like(6, seed=1)
    paths = [write_idx(tmp_path / name, array) for name, array in
             (("a", images), ("b", labels), ("c", test_images), ("d", test_labels))]
    data = load_idx(*paths)
    assert data.X_test.shape == (6, 12) and data.y_test.tolist() == test_labels.tolist()


@pytest.mark.parametrize(
    "names",
    [
        ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
        ("train-images.idx3-ubyte", "train-labels.idx1-ubyte"),
    ],
)
def test_directory_with_training_files_only(tmp_path, names):
    images, labels = mnist_like()
    for name, array in zip(names, (images, labels)):
        write_idx(tmp_path / name, array, compress=name.endswith(".gz"))
    data = load_idx_directory(tmp_path)
    assert data.name == tmp_path.name and data.X_train.shape == (12, 12) and data.X_test is None


def test_directory_with_test_files(tmp_path):
    images, labels = mnist_like()
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, compress=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels, compress=True)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images[:6], compress=True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels[:6], compress=True)
    data = load_idx_directory(tmp_path)
    assert data.X_test.shape == (6, 12) and numpy.array_equal(data.y_test, labels[:6])


def test_directory_without_training_files_names_the_expected_files(tmp_path):
    with pytest.raises(DataError) as caught:
        load_idx_directory(tmp_path)
    assert str(tmp_path) in str(caught.value) and "train-images-idx3-ubyte" in str(caught.value)


def test_directory_with_one_test_file_only(tmp_path):
    images, labels = mnist_like()
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte but no t10k-labels-idx1-ubyte"):
        load_idx_directory(tmp_path)


GOOD = idx_bytes(numpy.arange(12, dtype=numpy.uint8).reshape(3, 2, 2))

# Each bad file: its bytes and the fragments its DataError must hold.
BAD_FILES = {
    "empty": (b"", ["truncated", "0 bytes"]),
    "shorter than the magic number": (b"\x00\x00", ["truncated", "2 bytes"]),
    "truncated header": (GOOD[:9], ["truncated", "16-byte header"]),
    "truncated values": (GOOD[:-1], ["truncated", "shape (3, 2, 2)", "uint8", "27 bytes"]),
    "extra bytes": (GOOD + b"\x00", ["size mismatch", "28 bytes with the header", "29 bytes"]),
    "wrong magic": (b"PK\x03\x04" + GOOD[4:], ["not an IDX file", "0x504b0304"]),
    "unknown type code": (b"\x00\x00\x07\x03" + GOOD[4:], ["not an IDX file", "0x00000703"]),
    "zero dimensions": (b"\x00\x00\x08\x00", ["not an IDX file", "0x00000800"]),
    "truncated gzip": (gzip.compress(GOOD)[:-6], ["gzip"]),
    "corrupt gzip": (b"\x1f\x8b" + b"\x00" * 30, ["gzip"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_idx_file_raises_data_error_naming_the_file(tmp_path, case):
    content, fragments = BAD_FILES[case]
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        read_idx(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_images_and_labels_of_different_counts_name_both_files(tmp_path):
    images, labels = mnist_like(12)
    images_path, labels_path = write_idx(tmp_path / "imgs", images), write_idx(tmp_path / "lbls", labels[:10])
    with pytest.raises(DataError) as caught:
        load_idx(images_path, labels_path)
    message = str(caught.value)
    assert str(images_path) in message and str(labels_path) in message
    assert "12 images" in message and "10 labels" in message


def test_swapped_images_and_labels_are_explained(tmp_path):
    images, labels = mnist_like()
    with pytest.raises(DataError, match=r"imgs: has shape \(12,\)"):
        load_idx(write_idx(tmp_path / "imgs", labels), write_idx(tmp_path / "lbls", images))
    with pytest.raises(DataError, match=r"lbls: has shape \(12, 4, 3\).*one label per image"):
        load_idx(write_idx(tmp_path / "imgs", images), write_idx(tmp_path / "lbls", images))


def test_labels_of_one_column_are_one_label_per_image(tmp_path):
    images, labels = mnist_like()  # as an NPZ archive's y of shape (n, 1) is read
    data = load_idx(write_idx(tmp_path / "imgs", images), write_idx(tmp_path / "lbls", labels[:, None]))
    assert data.y_train.tolist() == labels.tolist()
    with pytest.raises(DataError, match=r"lbls: has shape \(12, 2\); expected one label per image"):
        load_idx(write_idx(tmp_path / "imgs", images), write_idx(tmp_path / "lbls", labels[:, None].repeat(2, 1)))


def test_non_finite_float_images_are_refused(tmp_path):
    images = numpy.zeros((3, 2, 2), dtype=numpy.float32)
    images[2, 1, 0] = numpy.nan
    labels = numpy.array([0, 1, 0], dtype=numpy.uint8)
    with pytest.raises(DataError, match=r"imgs: value at index \(2, 1, 0\) is nan"):
        load_idx(write_idx(tmp_path / "imgs", images), write_idx(tmp_path / "lbls", labels))


def test_test_images_of_another_shape_are_refused(tmp_path):
    images, labels = mnist_like()
    other = numpy.zeros((12, 3, 4), dtype=numpy.uint8)
    paths = [write_idx(tmp_path / name, array) for name, array in
             (("a", images), ("b", labels), ("c", other), ("d", labels))]
    with pytest.raises(DataError, match=r"c: images of shape \(3, 4\).*shape \(4, 3\)"):
        load_idx(*paths)


def test_test_images_without_test_labels_are_refused(tmp_path):
    images, labels = mnist_like()
    paths = [write_idx(tmp_path / "a", images), write_idx(tmp_path / "b", labels)]
    with pytest.raises(DataError, match="both test images and test labels"):
        load_idx(*paths, test_images=paths[0])


def test_spec_paths_take_two_or_four_parts():
    assert [str(p) for p in idx_spec_paths("a.gz, b.gz")] == ["a.gz", "b.gz"]
    assert len(idx_spec_paths("a,b,c,d")) == 4
    for spec in ("a,b,c", "a,", ",b", "a,b,c,d,e"):
        with pytest.raises(DataError, match="IMAGES,LABELS"):
            idx_spec_paths(spec)


def test_missing_file_raises_data_error_naming_the_path(tmp_path):
    with pytest.raises(DataError, match="absent-idx1-ubyte: no such file"):
        read_idx(tmp_path / "absent-idx1-ubyte")


@pytest.mark.parametrize("shape", [(0, 4, 4), (5, 0, 4)], ids=["no images", "zero width"])
def test_images_without_values_are_refused_naming_the_file(tmp_path, shape):
    images = write_idx(tmp_path / "images-idx3-ubyte", numpy.zeros(shape, dtype=numpy.uint8))
    labels = write_idx(tmp_path / "labels-idx1-ubyte", numpy.zeros(shape[0], dtype=numpy.uint8))
    with pytest.raises(DataError, match="images-idx3-ubyte: has shape .*expected at least one image"):
        load_idx(images, labels)


def peak_memory_of(function, *args):
    """The result of ``function(*args)`` and the peak of the memory it allocated (tracemalloc)."""
    import tracemalloc
    tracemalloc.start()
    try:
        result = function(*args)
    except DataError as error:
        result = error
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, peak


def test_a_gzip_bomb_without_an_idx_header_is_refused_before_it_is_decompressed(tmp_path):
    """gzip.decompress of the whole file came before the header check: 950 KB gave 1.9 GB."""
    path = tmp_path / "bomb-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"PK\x03\x04" + bytes(50_000_000), compresslevel=1))
    error, peak = peak_memory_of(read_idx, path)
    assert isinstance(error, DataError) and "not an IDX file" in str(error)
    assert peak < 5_000_000


def test_a_gzip_header_declaring_more_than_it_holds_allocates_only_what_is_there(tmp_path):
    header = bytes([0, 0, 0x08, 2]) + (2**31).to_bytes(4, "big") * 2
    path = tmp_path / "huge-idx2-ubyte.gz"
    path.write_bytes(gzip.compress(header + bytes(10)))
    error, peak = peak_memory_of(read_idx, path)
    assert isinstance(error, DataError)
    assert "truncated" in str(error) and "decompressed data have 22 bytes" in str(error)
    assert peak < 5_000_000


@pytest.mark.parametrize("compress", [False, True])
def test_gzip_data_longer_than_declared_is_refused(tmp_path, compress):
    path = tmp_path / "long-idx3-ubyte"
    path.write_bytes(gzip.compress(GOOD + b"\x00") if compress else GOOD + b"\x00")
    with pytest.raises(DataError, match="size mismatch"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_big_endian_values_are_read_without_a_second_copy(tmp_path, monkeypatch, compress):
    """The values were read whole, then copied by .astype: twice their size. (Gzip data are
    read in chunks, here smaller than the array, as a real data set's are, into a buffer set
    aside at the array's size: the doubling of a smaller one, a realloc, is shown by NumPy 2.5 to
    tracemalloc at the old and new sizes at once, 1.5 times the array at the last doubling.)"""
    monkeypatch.setattr(idx_file, "READ_CHUNK", 2**16)
    monkeypatch.setattr(idx_file, "FIRST_BUFFER", 4_000_000)
    array = numpy.arange(1_000_000, dtype=numpy.int32).reshape(1000, 1000)
    path = write_idx(tmp_path / "values-idx2", array, compress=compress)
    read, peak = peak_memory_of(read_idx, path)
    assert numpy.array_equal(read, array) and read.dtype.isnative and read.flags.writeable
    assert peak < 1.5 * array.nbytes


@pytest.mark.parametrize("compress", [False, True])
def test_an_idx_file_is_read_through_a_pipe(compress):
    """A pipe cannot seek back nor tell its size: the format is peeked at and the data streamed."""
    array = numpy.arange(24, dtype=numpy.int16).reshape(2, 3, 4)
    content = gzip.compress(idx_bytes(array)) if compress else idx_bytes(array)
    read_end, write_end = os.pipe()

    def write_all():
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(content)

    writer = threading.Thread(target=write_all)
    writer.start()
    try:
        read = read_idx(f"/dev/fd/{read_end}")
    finally:
        writer.join()
        os.close(read_end)
    assert numpy.array_equal(read, array)


def test_a_truncated_idx_file_in_a_pipe_is_refused_naming_its_data_size(tmp_path):
    fifo = tmp_path / "labels-fifo"
    os.mkfifo(fifo)
    content = idx_bytes(numpy.arange(5, dtype=numpy.uint8))[:-2]
    writer = threading.Thread(target=(fifo).write_bytes, args=(content,))
    writer.start()
    try:
        with pytest.raises(DataError, match=r"labels-fifo: truncated: .* its data have 11 bytes"):
            read_idx(fifo)
    finally:
        writer.join()


def test_more_dimensions_than_an_array_can_have_are_refused(tmp_path):
    path = tmp_path / "deep-idx"
    path.write_bytes(bytes([0, 0, 0x08, 255]) + (1).to_bytes(4, "big") * 255 + b"\x07")
    with pytest.raises(DataError, match=r"deep-idx: the IDX header declares 255 dimensions; chainrule reads IDX files of at most 32"):
        read_idx(path)


def test_gzip_data_cut_inside_a_value_wider_than_a_byte_is_truncated(tmp_path):
    content = idx_bytes(numpy.arange(4, dtype=numpy.float32).reshape(2, 2))
    path = tmp_path / "cut-idx2-ubyte.gz"
    path.write_bytes(gzip.compress(content[:-1]))  # the last float32 lacks a byte
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_values_that_do_not_fit_in_memory_are_refused_naming_the_file(tmp_path, monkeypatch, compress):
    """A gzip file of a few MB may hold GBs of values: the MemoryError was an 'internal error' (exit 1)."""
    path = write_idx(tmp_path / "images-idx3-ubyte", numpy.zeros((4, 2, 2), dtype=numpy.uint8), compress=compress)

    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate")

    monkeypatch.setattr(idx_file.numpy, "empty", no_memory)
    with pytest.raises(DataError, match=r"images-idx3-ubyte: its values do not fit in memory$"):
        read_idx(path)
