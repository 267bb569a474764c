"""MNIST-style IDX files: an images file and a labels file, raw or gzip-compressed.

The IDX format (big-endian, as described with the MNIST database)::

    bytes 0-1   0x00 0x00
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4·d bytes   the size of each dimension, unsigned 32-bit
    the rest    the values in C order; exactly prod(sizes) of them

A file that starts with the gzip signature (1f 8b) is decompressed as it is read, whatever its
name: its header first, then no more than the values it declares.
Images of shape (n, rows, cols) are flattened to rows of rows·cols features named
``pixel_<row>_<col>``; labels are one value per image (shape (n,) or (n, 1)).

Naming IDX data (``load_data``'s ``spec``, the command line's ``--data``)
-------------------------------------------------------------------------
- ``"IMAGES,LABELS"``: two paths joined by a comma, the training images and labels;
  ``"IMAGES,LABELS,TEST_IMAGES,TEST_LABELS"`` adds a test part.
- A directory laid out as the MNIST and Fashion-MNIST downloads are: ``train-images-idx3-ubyte``
  and ``train-labels-idx1-ubyte``, and optionally ``t10k-images-idx3-ubyte`` and
  ``t10k-labels-idx1-ubyte`` for the test part. Each name may end in ``.gz``, and may have a
  dot instead of the dash before ``idx`` (``train-images.idx3-ubyte``), as some copies do.
"""

from __future__ import annotations

import dataclasses
import gzip
import math
import os
import stat
import zlib
from pathlib import Path

import numpy

from ..errors import PATH_QUOTE_LIMIT, DataError, quoted
from .dataset import Dataset, first_non_finite, labels_for_task, position_names
from .source import open_binary

#: the most dimensions an IDX file may declare: NumPy 1.x's limit for an array (NumPy 2 takes
#: 64), so that a file reads alike under both
MAX_DIMS = 32

# IDX type code -> big-endian NumPy dtype
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

GZIP_SIGNATURE = b"\x1f\x8b"
READ_CHUNK = 2**24  # the most bytes of decompressed data read at a time
FIRST_BUFFER = 2**16  # bytes first set aside for decompressed values; doubled as they come

# The four files of an MNIST-style directory, in load_idx's order (the last two optional), and what each holds.
DIRECTORY_FILES = (
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
)
DIRECTORY_ROLES = ("training images", "training labels", "test images", "test labels")


def read_idx(path) -> numpy.ndarray:
    """The array stored in one IDX file (raw or gzip), in native byte order.

    The file is streamed: the header is read and checked first, then exactly the bytes it
    declares (and one more, to detect trailing data), so a file that is not IDX (or a gzip
    "bomb" whose data do not start with an IDX header) is refused after a few bytes, and a
    valid one takes about the size of its values in memory, read straight into the array.
    A pipe (``/dev/fd/N``, a FIFO) is read as it comes, raw or gzip, its size checked once read.

    Raises
    ------
    DataError
        If the file is missing or unreadable, its gzip data are corrupt, its magic number or
        type code is wrong, it declares more than ``MAX_DIMS`` dimensions, it is shorter or
        longer than its header declares, or its values do not fit in memory.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> _ = open(path, "wb").write(bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> read_idx(path)
    array([7, 2, 1], dtype=uint8)
    """
    path = Path(path)
    with open_binary(path) as handle:
        # peek, not read and seek: a pipe (/dev/fd/N, a FIFO) cannot seek back
        compressed = _reading(handle.peek, len(GZIP_SIGNATURE), path)[:2] == GZIP_SIGNATURE
        try:
            if compressed:
                with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
                    return _read_idx_stream(stream, path, None, "decompressed data")
            status = _reading(os.fstat, handle.fileno(), path)
            file_size = status.st_size if stat.S_ISREG(status.st_mode) else None  # a pipe's size is unknown
            return _read_idx_stream(handle, path, file_size, "data")
        except MemoryError:  # values the file does hold (a gzip file expands up to 1032-fold), more than memory
            raise DataError(f"{path}: its values do not fit in memory") from None


def _read_idx_stream(stream, path: Path, file_size: int | None, data_name: str) -> numpy.ndarray:
    """The array of the IDX data in ``stream``: its header, then its values. ``file_size`` is
    the raw file's size, checked against the header before the values are read; None for
    decompressed data or a pipe, whose size is known only once read. ``data_name`` names
    such data in a size error."""
    magic_bytes = _read(stream, 4, path)
    if len(magic_bytes) < 4:
        raise DataError(f"{path}: truncated: {len(magic_bytes)} bytes, shorter than the 4-byte IDX magic number")
    magic = int.from_bytes(magic_bytes, "big")
    if magic_bytes[0] != 0 or magic_bytes[1] != 0 or magic_bytes[2] not in IDX_DTYPES or magic_bytes[3] == 0:
        raise DataError(
            f"{path}: not an IDX file: magic number 0x{magic:08x}; expected 0x0000TTDD with type code TT "
            f"in {', '.join(f'{code:02x}' for code in IDX_DTYPES)} and DD >= 1 dimensions"
        )
    dtype, n_dims = numpy.dtype(IDX_DTYPES[magic_bytes[2]]), magic_bytes[3]
    if n_dims > MAX_DIMS:
        raise DataError(f"{path}: the IDX header declares {n_dims} dimensions; chainrule reads IDX files of at most {MAX_DIMS}")
    header_size = 4 + 4 * n_dims
    sizes = _read(stream, 4 * n_dims, path)
    if len(sizes) < 4 * n_dims:
        raise DataError(f"{path}: truncated: {4 + len(sizes)} bytes, shorter than the {header_size}-byte header")
    shape = tuple(int(size) for size in numpy.frombuffer(sizes, dtype=">u4"))
    n_values = math.prod(shape)
    expected_size = header_size + n_values * dtype.itemsize

    def size_error(size: int, more: bool = False) -> DataError:
        problem = "truncated" if size < expected_size else "size mismatch"
        has = f"the file has {size} bytes" if file_size is not None else (
            f"its {data_name} have {'more than ' if more else ''}{size} bytes")
        return DataError(f"{path}: {problem}: the header declares shape {shape} of {dtype.name} "
                         f"({expected_size} bytes with the header), {has}")

    if file_size is not None and file_size != expected_size:
        raise size_error(file_size)
    values = numpy.empty(n_values, dtype=dtype) if file_size is not None else _read_all(stream, n_values, dtype, path)
    if file_size is not None and _read_into(stream, values.view(numpy.uint8), path) != values.nbytes:
        raise DataError(f"{path}: truncated while being read (the file shrank)")
    elif len(values) != n_values:
        raise size_error(header_size + len(values) * dtype.itemsize)
    elif _read(stream, 1, path):  # trailing data: the header declared fewer values
        raise size_error(expected_size, more=True)
    if not dtype.isnative:  # swapped in place: no second full-size copy
        values = values.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return values.reshape(shape)


def _read(stream, size: int, path: Path) -> bytes:
    """Up to ``size`` bytes of ``stream`` (fewer only at its end); DataError naming ``path``
    for corrupt gzip data or a read error."""
    return _reading(stream.read, size, path)


def _read_into(stream, buffer: numpy.ndarray, path: Path) -> int:
    """Bytes of ``stream`` read into the uint8 array ``buffer``: as many as it holds, fewer
    only at the stream's end. Errors as for :func:`_read`."""
    return _reading(stream.readinto, buffer, path)


def _reading(method, argument, path: Path):
    """``method(argument)``, a read of a raw or gzip stream, with its errors as DataError naming ``path``."""
    try:
        return method(argument)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataError(f"{path}: corrupt or truncated gzip data ({error})") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read the file ({error.strerror or error})") from None


def _read_all(stream, n_values: int, dtype: numpy.dtype, path: Path) -> numpy.ndarray:
    """Up to ``n_values`` values of ``dtype`` from decompressed ``stream``, fewer where it ends.

    Read in chunks into one buffer that doubles as it fills, up to the declared size, so
    memory follows the data actually there, not a size the header may declare without
    holding it."""
    wanted = n_values * dtype.itemsize
    data = numpy.empty(min(wanted, FIRST_BUFFER), dtype=numpy.uint8)
    filled = 0
    while filled < wanted:
        if filled == data.size:
            data.resize(min(wanted, 2 * data.size), refcheck=False)  # a realloc, in place where it can be
        count = _read_into(stream, data[filled:filled + READ_CHUNK], path)
        if count == 0:
            break
        filled += count
    data.resize(filled - filled % dtype.itemsize, refcheck=False)
    return data.view(dtype)


def load_idx(images, labels, test_images=None, test_labels=None, *, task: str | None = None) -> Dataset:
    """Load IDX images and labels, and optionally a test pair.

    Parameters
    ----------
    images, labels : str or os.PathLike
        Training images (n, rows, cols), or any (n, ...) array, and their n labels.
    test_images, test_labels : str or os.PathLike, optional
        A test part; both or neither.
    task : {"classification", "regression"}, optional
        Inferred from the labels when None (integer labels: classification).

    Returns
    -------
    Dataset
        Pixels as stored (uint8 for MNIST), flattened to rows; named after the images file.

    Raises
    ------
    DataError
        If a file cannot be read as IDX (see :func:`read_idx`), holds no images or images of
        no values, or images and labels do not match; the message names the files.
    """
    if (test_images is None) != (test_labels is None):
        raise DataError("IDX test data: give both test images and test labels, or neither")
    X_train, y_train = _pair(Path(images), Path(labels))
    y_train, task = labels_for_task(y_train, task, f"{labels}")
    X_test = y_test = None
    if test_images is not None:
        X_test, y_test = _pair(Path(test_images), Path(test_labels))
        if X_test.shape[1:] != X_train.shape[1:]:
            raise DataError(
                f"{test_images}: images of shape {X_test.shape[1:]}, but {images} has images of shape "
                f"{X_train.shape[1:]}"
            )
        y_test, _ = labels_for_task(y_test, task, f"{test_labels}")
    return Dataset(
        X_train=X_train.reshape(len(X_train), -1),
        y_train=y_train,
        X_test=None if X_test is None else X_test.reshape(len(X_test), -1),
        y_test=y_test,
        task=task,
        name=Path(images).name,
        feature_names=position_names("pixel_", X_train.shape[1:]),
        label_name="label",
    )


def load_idx_directory(directory, *, task: str | None = None) -> Dataset:
    """Load an MNIST-style directory (file names in the module docstring), named after it."""
    directory = Path(directory)
    found = [_find(directory, name) for name in DIRECTORY_FILES]
    if found[0] is None or found[1] is None:
        raise DataError(
            f"{directory}: no IDX training files; expected {DIRECTORY_FILES[0]}[.gz] and "
            f"{DIRECTORY_FILES[1]}[.gz] in it"
        )
    if (found[2] is None) != (found[3] is None):
        present, missing = (2, 3) if found[3] is None else (3, 2)
        raise DataError(
            f"{directory}: has {found[present].name} but no {DIRECTORY_FILES[missing]}[.gz]; "
            f"give both test files or neither"
        )
    dataset = load_idx(*found, task=task)
    return dataclasses.replace(dataset, name=directory.name)


def idx_directory_files(directory) -> list:
    """The files of ``directory`` that :func:`load_idx_directory` reads (those of its names it finds)."""
    found = (_find(Path(directory), name) for name in DIRECTORY_FILES)
    return [path for path in found if path is not None]


def idx_directory_claims(directory) -> dict:
    """The names in ``directory`` at which a new file would be read by :func:`load_idx_directory`,
    each with what it would be read as ("training images", ...) and the file read as that now
    (None when there is none): for each of its files, every spelling (:func:`_spellings`) up to the
    one found, or all of them when none is found. A file written at one of these names becomes one
    of the directory's data (a CSV there would then fail to load as IDX)."""
    claims = {}
    for name, role in zip(DIRECTORY_FILES, DIRECTORY_ROLES):
        found = _find(Path(directory), name)
        for spelling in _spellings(name):
            claims[spelling] = (role, found)
            if found is not None and spelling == found.name:
                break
    return claims


def idx_spec_paths(spec: str) -> list:
    """The 2 or 4 paths of an ``"IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]"`` spec."""
    parts = [part.strip() for part in spec.split(",")]
    if len(parts) not in (2, 4) or not all(parts):
        raise DataError(
            f"{quoted(spec, PATH_QUOTE_LIMIT)}: an IDX spec is 'IMAGES,LABELS' or "
            f"'IMAGES,LABELS,TEST_IMAGES,TEST_LABELS' "
            f"(got {len(parts)} comma-separated parts)"
        )
    return [Path(part) for part in parts]


def _pair(images: Path, labels: Path) -> tuple:
    """Images (n, ...) with at least 2 axes and their labels (n,), read and checked; labels of
    shape (n, 1) are taken as (n,), as an NPZ archive's are."""
    X, y = read_idx(images), read_idx(labels)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if X.ndim < 2:
        raise DataError(f"{images}: has shape {X.shape}; expected images (n_images, ...) with at least 2 axes")
    if 0 in X.shape:
        raise DataError(f"{images}: has shape {X.shape}; expected at least one image of at least one value")
    if y.ndim != 1:
        raise DataError(f"{labels}: has shape {y.shape}; expected one label per image (is it an images file?)")
    if len(X) != len(y):
        raise DataError(f"{images} holds {len(X)} images but {labels} holds {len(y)} labels")
    for path, array in ((images, X), (labels, y)):
        where = first_non_finite(array)
        if where is not None:
            raise DataError(f"{path}: value at index {where} is {float(array[where])}; expected finite values")
    return X, y


def _spellings(name: str) -> tuple:
    """The names :func:`_find` looks for ``name`` by, in its order: as it is, ``.gz``, then with
    ``.idx`` for ``-idx``, and that ``.gz``."""
    dotted = name.replace("-idx", ".idx")
    return name, name + ".gz", dotted, dotted + ".gz"


def _find(directory: Path, name: str) -> Path | None:
    """The file ``name`` in ``directory`` by its first spelling there (:func:`_spellings`), if any."""
    for candidate in _spellings(name):
        if (directory / candidate).is_file():
            return directory / candidate
    return None
