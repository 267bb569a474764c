"""NPZ archives: arrays ``X`` and ``y``, optionally ``X_test`` and ``y_test``.

Conventions
-----------
- An archive written by ``numpy.savez`` or ``numpy.savez_compressed``. Other arrays in it
  are ignored; ``X_test`` and ``y_test`` come together or not at all.
- ``X`` holds real numbers (float, int, unsigned or bool), one sample per index of its first
  axis; samples with more than one axis (images) are flattened to rows.
- ``y`` holds one label per sample (shape ``(n,)`` or ``(n, 1)``): numbers, booleans or
  strings. Byte strings are decoded as ASCII.
- Float values must be finite. Given a ``dtype`` (float32 for a model that computes in it),
  every feature also fits that dtype: a magnitude above its largest finite value (3.4e38 for
  float32) is a DataError naming the file, the array and the value's index in it.

The archive is read with ``numpy.load(path, allow_pickle=False)``: loading never unpickles,
so an object array (which only pickle could restore) is refused with a DataError naming it.
A crafted archive cannot make the loader allocate memory the file does not back. Before any array
is read, every member of the archive is checked, also those the loader does not read: only stored
and deflated members (what ``numpy.savez`` and ``numpy.savez_compressed`` write) are accepted, and
LZMA, BZIP2, encrypted or patched ones are refused, as is an archive of a zip version zipfile
cannot read; the compressed bytes the zip directory claims must lie inside the file; the
uncompressed size it claims must be one the compression can give (at most ×1 stored, about ×1032
deflated); and a member name may appear only once. Array ``key`` is read from
the member numpy reads for it (``key`` itself if the archive has a member of that name, else
``key.npy``), its ``.npy`` format version must be 1.0 or 2.0 (3.0 is written only for structured
dtypes with non-Latin-1 field names, which are not data chainrule reads), and the array size that
member's ``.npy`` header declares must fit in its bytes.
An allocation that still fails raises DataError, not MemoryError.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from pathlib import Path

import numpy

from ..checks import listing
from ..errors import DataError, quoted
from .dataset import Dataset, first_non_finite, labels_for_task, position_names
from .preprocessing import standardized_targets
from .source import open_binary

ZIP_SIGNATURE = b"PK"
NPY_SIGNATURE = b"\x93NUMPY"
PICKLE_PROTOCOL_MARK = b"\x80"

# deflate (numpy.savez_compressed) expands data at most about 1032-fold
MAX_DEFLATE_RATIO = 1032
# most bytes one compressed byte of a member can give, by compression method; other methods are refused
MOST_EXPANSION = {zipfile.ZIP_STORED: 1, zipfile.ZIP_DEFLATED: MAX_DEFLATE_RATIO}
# general-purpose flag bits of a member that zipfile cannot read: encrypted (bit 0), compressed
# patched data (bit 5), strong encryption (bit 6); numpy.savez sets none of them
UNREADABLE_FLAGS = {0x1: "is encrypted", 0x20: "holds compressed patched data", 0x40: "uses strong encryption"}

# The .npy header reader of each format version this module reads. numpy.lib.format has public
# readers for 1.0 and 2.0 only. Version 3.0 (the 2.0 layout with a UTF-8 header, where 2.0's is
# Latin-1) is what numpy.save falls back to only when a header cannot be written in Latin-1: a
# structured dtype with non-Latin-1 field names. No array chainrule reads (real numbers, or
# labels of numbers, booleans or strings) has one, so version 3.0 is refused rather than read
# with 2.0's Latin-1 decoding or through numpy's private reader.
HEADER_READERS = {(1, 0): numpy.lib.format.read_array_header_1_0, (2, 0): numpy.lib.format.read_array_header_2_0}

REQUIRED_KEYS = ("X", "y")
TEST_KEYS = ("X_test", "y_test")


def load_npz(path, *, task: str | None = None, dtype=None, target_dtype=None,
             target_standardization: tuple | None = None) -> Dataset:
    """Load an NPZ archive (conventions in the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file.
    task : {"classification", "regression"}, optional
        Inferred from ``y`` when None.
    dtype : float dtype, optional
        The dtype the features will be computed in: a value too large for it is a DataError
        naming the array and the index (in the archive's own rows, before any split).
    target_dtype : float dtype, optional
        The dtype a regression's targets will be computed in, alike (None for targets that are
        standardized first, in float64).
    target_standardization : (mean, scale), optional
        With ``target_dtype``: the targets are computed in it once standardized, (y − mean) /
        scale in float64; a target whose standardized value is too large for it is named alike.

    Returns
    -------
    Dataset
        Features in their stored dtype, named ``x0, x1...``; the test part when the archive
        has ``X_test`` and ``y_test``, else None.

    Raises
    ------
    DataError
        If the file is missing, unreadable or not an NPZ archive, a key is missing, any member
        is compressed other than stored or deflated, claims more bytes than the file holds or
        than it can give, or shares its name with another member, an array holds objects or
        non-finite values (or, with ``dtype``, features too large for it), does not fit in
        memory, or the arrays do not fit together; the
        message names the file and the key.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "points.npz")
    >>> numpy.savez(path, X=numpy.eye(4), y=numpy.array([0, 1, 0, 1]))
    >>> data = load_npz(path)
    >>> data.X_train.shape, data.task, data.X_test is None
    ((4, 4), 'classification', True)
    """
    path = Path(path)
    arrays = _read_arrays(path, _training_keys)
    present_test_keys = [key for key in TEST_KEYS if key in arrays]
    X_train = _features(arrays["X"], "X", path, dtype)
    y_train = _labels(arrays["y"], "y", path)
    _check_rows(X_train, y_train, "X", "y", path)
    y_train, task = labels_for_task(y_train, task, f"{path}: y")
    if task == "regression" and target_dtype is not None:  # targets computed in the model's dtype
        _check_targets_fit(y_train, "y", path, numpy.dtype(target_dtype), target_standardization)
    X_test = y_test = None
    if present_test_keys:
        X_test = _features(arrays["X_test"], "X_test", path, dtype)
        y_test = _labels(arrays["y_test"], "y_test", path)
        _check_rows(X_test, y_test, "X_test", "y_test", path)
        if X_test.shape[1] != X_train.shape[1]:
            raise DataError(
                f"{path}: 'X_test' has {X_test.shape[1]} features per sample, 'X' has {X_train.shape[1]}"
            )
        y_test, _ = labels_for_task(y_test, task, f"{path}: y_test")
        if task == "regression" and target_dtype is not None:
            _check_targets_fit(y_test, "y_test", path, numpy.dtype(target_dtype), target_standardization)
    return Dataset(
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        task=task,
        name=path.name,
        feature_names=position_names("x", arrays["X"].shape[1:]),
        label_name="y",
    )


def load_npz_inputs(path, *, dtype=None) -> numpy.ndarray:
    """The rows an NPZ archive holds to predict: ``X_test`` when it has one (its held-out part,
    which ``chainrule evaluate`` scores too), else ``X``, as :func:`load_npz` reads them (with
    ``dtype`` as there). No labels are read, so an archive of new inputs alone
    (``numpy.savez(path, X=X_new)``) is taken. DataError as for :func:`load_npz`."""
    path = Path(path)
    arrays = _read_arrays(path, lambda files: ["X_test"] if "X_test" in files else ["X"])
    (key, X), = arrays.items()
    return _features(X, key, path, dtype)


def _training_keys(files: list) -> list:
    """The arrays :func:`load_npz` reads from an archive holding ``files``: X and y, and X_test and
    y_test when it has them; DataError when it has only one of those two."""
    present_test_keys = [key for key in TEST_KEYS if key in files]
    if len(present_test_keys) == 1:
        missing = next(key for key in TEST_KEYS if key not in present_test_keys)
        raise DataError(f"has {quoted(present_test_keys[0])} but no {quoted(missing)}; give both or neither")
    return [*REQUIRED_KEYS, *present_test_keys]


def _read_arrays(path: Path, keys_of) -> dict:
    """The arrays ``keys_of(names)`` names, read from the archive at ``path`` (whose array names
    are ``names``) once its signature and every member are checked; DataError naming the file."""
    with open_binary(path) as handle:
        if not handle.seekable():  # a zip's directory is at its end: numpy.load seeks to it
            raise DataError(f"{path}: a pipe, not a file; an NPZ archive is a zip, whose directory is at its end, "
                            f"so it is read from a file")
        _check_signature(handle.read(len(NPY_SIGNATURE)), path)
        handle.seek(0)
        archive_size = os.fstat(handle.fileno()).st_size  # the bytes really there, whatever the zip claims
        try:
            archive = numpy.load(handle, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise DataError(f"{path}: not a readable NPZ archive ({error})") from None
        except NotImplementedError as error:  # zipfile's word for a zip version or feature it lacks
            raise DataError(f"{path}: not an NPZ archive numpy.savez writes ({error})") from None
        with archive:
            _check_members(archive.zip, path, archive_size)
            try:
                keys = keys_of(archive.files)
            except DataError as error:
                raise DataError(f"{path}: {error}") from None
            return {key: _read(archive, key, path) for key in keys}


def _check_signature(start: bytes, path: Path) -> None:
    """DataError unless the file's first bytes are those of a zip archive."""
    if start.startswith(ZIP_SIGNATURE):
        return
    if start.startswith(NPY_SIGNATURE):
        raise DataError(f"{path}: holds a single .npy array; expected an NPZ archive with arrays 'X' and 'y'")
    if start.startswith(PICKLE_PROTOCOL_MARK):
        raise DataError(f"{path}: holds pickled data, which chainrule never loads; expected an NPZ archive")
    raise DataError(f"{path}: not an NPZ archive (a zip of .npy arrays); it starts with {quoted(start)}")


def _read(archive, key: str, path: Path) -> numpy.ndarray:
    """The array ``key`` of ``archive``, whose members ``_check_members`` has checked.

    DataError naming the key if it is absent, unloadable, or too large for memory.
    """
    if key not in archive.files:
        found = listing(archive.files) or "no arrays"
        raise DataError(f"{path}: no array named {quoted(key)}; the archive holds {found}")
    try:
        _check_declared_size(archive.zip, key, path)
        array = archive[key]
    except DataError:  # a ValueError too, but already says what is wrong
        raise
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise DataError(
                f"{path}: array {quoted(key)} holds Python objects, which only pickle could load and "
                f"chainrule never unpickles; save numbers or strings"
            ) from None
        raise DataError(f"{path}: array {quoted(key)} is malformed ({error})") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DataError(f"{path}: array {quoted(key)} is corrupt ({error})") from None
    except MemoryError:
        raise DataError(f"{path}: array {quoted(key)} does not fit in memory") from None
    if not isinstance(array, numpy.ndarray):  # numpy.load gives the raw bytes of a member that is not .npy
        raise DataError(f"{path}: member {quoted(key)} is not .npy array data")
    return array


def _check_members(members: zipfile.ZipFile, path: Path, archive_size: int) -> None:
    """DataError unless every member of ``members`` passes ``_check_member`` and no name appears twice.

    All members are checked, not only those of the arrays read, so no member numpy may open
    escapes the checks. Two members of one name are refused: zip readers differ on which one
    they open.
    """
    names_seen = set()
    for info in members.infolist():
        if info.filename in names_seen:
            raise DataError(f"{path}: member {quoted(info.filename)} appears more than once in the archive")
        names_seen.add(info.filename)
        _check_member(info, info.filename.removesuffix(".npy"), path, archive_size)


def _member_name(names: list[str], key: str) -> str:
    """The member numpy's NpzFile reads for array ``key``: ``key`` itself if present, else ``key.npy``."""
    return key if key in names else key + ".npy"


def _check_declared_size(members: zipfile.ZipFile, key: str, path: Path) -> None:
    """DataError unless the member read for ``key`` holds the bytes its ``.npy`` header declares.

    Expects ``_check_members`` to have run: the member's uncompressed size is then bounded by
    the bytes of the file, and so is the declared array. Only ``.npy`` format versions 1.0 and
    2.0 are read (see ``HEADER_READERS``); another version is a DataError naming it.
    """
    info = members.getinfo(_member_name(members.namelist(), key))
    data_size = info.file_size
    with members.open(info) as member:
        if member.read(len(NPY_SIGNATURE)) != NPY_SIGNATURE:
            return  # not .npy data: numpy.load returns its bytes, refused by the caller
        member.seek(0)
        version = numpy.lib.format.read_magic(member)
        read_header = HEADER_READERS.get(version)
        if read_header is None:
            raise DataError(_unread_version_message(version, key, path))
        shape, _, dtype = read_header(member)
        header_size = member.tell()
    if dtype.hasobject:
        return  # pickled objects: numpy.load refuses them without reading
    declared = math.prod(shape) * dtype.itemsize
    if declared > data_size - header_size:
        raise DataError(
            f"{path}: array {quoted(key)} declares shape {shape} of {dtype} ({declared} bytes), "
            f"but its member holds only {data_size - header_size} bytes of data"
        )


def _unread_version_message(version: tuple, key: str, path: Path) -> str:
    """Why the ``.npy`` member of array ``key`` in format ``version`` (not 1.0 or 2.0) is refused."""
    major, minor = version
    if version == (3, 0):
        return (
            f"{path}: array {quoted(key)} is in .npy format version 3.0, which numpy writes only for a structured "
            f"dtype with non-Latin-1 field names; expected numbers or strings (format version 1.0 or 2.0)"
        )
    return f"{path}: array {quoted(key)} is in .npy format version {major}.{minor}; expected version 1.0 or 2.0"


def _check_member(info: zipfile.ZipInfo, key: str, path: Path, archive_size: int) -> None:
    """DataError if the claims of the member ``info`` (of array ``key``) cannot hold."""
    most_expansion = MOST_EXPANSION.get(info.compress_type)
    if most_expansion is None:
        raise DataError(
            f"{path}: array {quoted(key)} (member {quoted(info.filename)}) uses zip compression method "
            f"{info.compress_type}; "
            f"expected stored or deflated, as numpy.savez and numpy.savez_compressed write"
        )
    for flag, problem in UNREADABLE_FLAGS.items():
        if info.flag_bits & flag:
            raise DataError(f"{path}: array {quoted(key)} (member {quoted(info.filename)}) {problem}")
    if info.header_offset + info.compress_size > archive_size:
        raise DataError(
            f"{path}: array {quoted(key)} claims {info.compress_size} compressed bytes at offset {info.header_offset}, "
            f"past the end of the file ({archive_size} bytes)"
        )
    most_bytes = most_expansion * info.compress_size + (1024 if most_expansion > 1 else 0)
    if info.file_size > most_bytes:
        raise DataError(
            f"{path}: array {quoted(key)} claims {info.file_size} bytes from {info.compress_size} stored bytes, "
            f"more than its compression can give"
        )


def _features(X: numpy.ndarray, key: str, path: Path, dtype=None) -> numpy.ndarray:
    """``X`` as rows (n_samples, n_features) of finite real numbers (that fit ``dtype``, if given)."""
    if X.dtype.kind not in "fiub":
        raise DataError(f"{path}: array {quoted(key)} has dtype {X.dtype}; expected real numbers")
    if X.ndim < 2 or 0 in X.shape[1:]:
        raise DataError(f"{path}: array {quoted(key)} has shape {X.shape}; expected (n_samples, n_features)")
    if len(X) == 0:
        raise DataError(f"{path}: array {quoted(key)} has shape {X.shape}: no samples")
    _check_finite(X, key, path)
    if dtype is not None:
        _check_fits(X, key, path, numpy.dtype(dtype))
    return X.reshape(len(X), -1)


def _labels(y: numpy.ndarray, key: str, path: Path) -> numpy.ndarray:
    """``y`` as one finite label per sample."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"{path}: array {quoted(key)} has shape {y.shape}; expected one label per sample (n_samples,)")
    if y.dtype.kind == "S":
        try:
            y = numpy.char.decode(y, "ascii")
        except UnicodeDecodeError:
            raise DataError(f"{path}: array {quoted(key)} holds byte strings that are not ASCII") from None
    if y.dtype.kind not in "fiubU":
        raise DataError(f"{path}: array {quoted(key)} has dtype {y.dtype}; expected numbers, booleans or strings")
    _check_finite(y, key, path)
    return y


def _check_finite(array: numpy.ndarray, key: str, path: Path) -> None:
    """DataError naming ``key`` and the index of the first NaN or Inf in ``array``."""
    where = first_non_finite(array)
    if where is not None:
        index = ", ".join(map(str, where))
        raise DataError(f"{path}: {key}[{index}] is {float(array[where])}; expected finite values")


def _check_fits(X: numpy.ndarray, key: str, path: Path, dtype: numpy.dtype) -> None:
    """DataError naming ``key`` and the index of the first value of ``X`` (row-major) whose
    magnitude is above ``dtype``'s largest finite value. Integers (at most 1.8e19) fit any
    float dtype; the extremes are looked at first, so that a fitting array is not copied."""
    if X.dtype.kind != "f" or X.dtype.itemsize <= dtype.itemsize:
        return
    largest = float(numpy.finfo(dtype).max)
    if X.max() <= largest and X.min() >= -largest:
        return
    where = tuple(int(i) for i in numpy.argwhere(numpy.abs(X) > largest)[0])
    index = ", ".join(map(str, where))
    raise DataError(f"{path}: {key}[{index}] is {float(X[where]):g}, too large for {dtype.name}, whose largest "
                    f"magnitude is {largest:.4g}")


def _check_targets_fit(y: numpy.ndarray, key: str, path: Path, dtype: numpy.dtype,
                       standardization: tuple | None) -> None:
    """``_check_fits`` of regression targets ``y``; with ``standardization`` (mean, scale),
    DataError naming ``key`` and the index of the first target whose standardized value is
    above ``dtype``'s largest finite value."""
    if standardization is None:
        _check_fits(y, key, path, dtype)
        return
    values = standardized_targets(y, *standardization)
    largest = float(numpy.finfo(dtype).max)
    too_large = numpy.flatnonzero(numpy.abs(values) > largest)
    if len(too_large):
        i = int(too_large[0])
        raise DataError(f"{path}: {key}[{i}] is {float(y[i]):g}, standardized, (y − mean) / scale = "
                        f"{float(values[i]):.4g}, too large for {dtype.name}, whose largest magnitude is {largest:.4g}")


def _check_rows(X: numpy.ndarray, y: numpy.ndarray, X_key: str, y_key: str, path: Path) -> None:
    """DataError unless ``X`` and ``y`` have one row per label."""
    if len(X) != len(y):
        raise DataError(f"{path}: {quoted(X_key)} has {len(X)} samples but {quoted(y_key)} has {len(y)} labels")
