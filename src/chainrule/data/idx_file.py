"""MNIST-style IDX files: an images file and a labels file, raw or gzip-compressed.

The IDX format (big-endian, as described with the MNIST database)::

    bytes 0-1   0x00 0x00
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4·d bytes   the size of each dimension, unsigned 32-bit
    the rest    the values in C order; exactly prod(sizes) of them

A file that starts with the gzip signature (1f 8b) is decompressed first, whatever its name.
Images of shape (n, rows, cols) are flattened to rows of rows·cols features named
``pixel_<row>_<col>``; labels are one value per image.

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
import zlib
from pathlib import Path

import numpy

from ..errors import DataError
from .dataset import Dataset, first_non_finite, labels_for_task, position_names
from .source import read_bytes

# IDX type code -> big-endian NumPy dtype
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

GZIP_SIGNATURE = b"\x1f\x8b"

# The four files of an MNIST-style directory, in load_idx's order (the last two optional).
DIRECTORY_FILES = (
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
)


def read_idx(path) -> numpy.ndarray:
    """The array stored in one IDX file (raw or gzip), in native byte order.

    Raises
    ------
    DataError
        If the file is missing or unreadable, its gzip data are corrupt, its magic number or
        type code is wrong, or it is shorter or longer than its header declares.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> _ = open(path, "wb").write(bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> read_idx(path)
    array([7, 2, 1], dtype=uint8)
    """
    path = Path(path)
    raw = read_bytes(path)
    if raw[:2] == GZIP_SIGNATURE:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise DataError(f"{path}: corrupt or truncated gzip data ({error})") from None
    if len(raw) < 4:
        raise DataError(f"{path}: truncated: {len(raw)} bytes, shorter than the 4-byte IDX magic number")
    magic = int.from_bytes(raw[:4], "big")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES or raw[3] == 0:
        raise DataError(
            f"{path}: not an IDX file: magic number 0x{magic:08x}; expected 0x0000TTDD with type code TT "
            f"in {', '.join(f'{code:02x}' for code in IDX_DTYPES)} and DD >= 1 dimensions"
        )
    dtype, n_dims = numpy.dtype(IDX_DTYPES[raw[2]]), raw[3]
    header_size = 4 + 4 * n_dims
    if len(raw) < header_size:
        raise DataError(f"{path}: truncated: {len(raw)} bytes, shorter than the {header_size}-byte header")
    shape = tuple(int(size) for size in numpy.frombuffer(raw, dtype=">u4", count=n_dims, offset=4))
    n_values = math.prod(shape)
    expected_size = header_size + n_values * dtype.itemsize
    if len(raw) != expected_size:
        problem = "truncated" if len(raw) < expected_size else "size mismatch"
        raise DataError(
            f"{path}: {problem}: the header declares shape {shape} of {dtype.name} "
            f"({expected_size} bytes with the header), the file has {len(raw)} bytes"
        )
    values = numpy.frombuffer(raw, dtype=dtype, count=n_values, offset=header_size)
    return values.reshape(shape).astype(dtype.newbyteorder("="))


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


def idx_spec_paths(spec: str) -> list:
    """The 2 or 4 paths of an ``"IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]"`` spec."""
    parts = [part.strip() for part in spec.split(",")]
    if len(parts) not in (2, 4) or not all(parts):
        raise DataError(
            f"{spec!r}: an IDX spec is 'IMAGES,LABELS' or 'IMAGES,LABELS,TEST_IMAGES,TEST_LABELS' "
            f"(got {len(parts)} comma-separated parts)"
        )
    return [Path(part) for part in parts]


def _pair(images: Path, labels: Path) -> tuple:
    """Images (n, ...) with at least 2 axes and their labels (n,), read and checked."""
    X, y = read_idx(images), read_idx(labels)
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


def _find(directory: Path, name: str) -> Path | None:
    """The file ``name`` in ``directory`` (also ``.gz``, or with ``.idx`` for ``-idx``), if any."""
    dotted = name.replace("-idx", ".idx")
    for candidate in (name, name + ".gz", dotted, dotted + ".gz"):
        if (directory / candidate).is_file():
            return directory / candidate
    return None
