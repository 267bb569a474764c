"""User data files: which loader reads a path, from its suffix or its shape.

==================================== ===================================================
``spec``                             read by
==================================== ===================================================
``*.csv``                            :func:`~chainrule.data.csv_file.load_csv`
``*.npz``                            :func:`~chainrule.data.npz_file.load_npz`
a directory                          :func:`~chainrule.data.idx_file.load_idx_directory`
``"IMAGES,LABELS"``, or with the     :func:`~chainrule.data.idx_file.load_idx`
test pair appended
==================================== ===================================================

Suffixes are compared without case. A comma-separated spec is read as IDX paths only when
it does not end in ``.csv`` or ``.npz`` and no file or directory of that exact name exists
(:func:`is_idx_spec`). A lone IDX file is refused: its labels are in another file.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import MAX_PATH_LENGTH, PATH_QUOTE_LIMIT, DataError, did_you_mean, overlong_path, quoted
from .csv_file import load_csv
from .dataset import Dataset
from .datasets import BUILTIN_DATASETS
from .idx_file import idx_directory_files, idx_spec_paths, load_idx, load_idx_directory
from .npz_file import load_npz

FORMATS = "a .csv or .npz file, an MNIST-style IDX directory, or 'IMAGES,LABELS' IDX files"


def load_file(spec, *, label: str | None = None, task: str | None = None, dtype=None,
              target_dtype=None, target_standardization: tuple | None = None) -> Dataset:
    """Load user data from a path or IDX spec (see the module docstring), without splitting.

    Parameters
    ----------
    spec : str or os.PathLike
        The path of a CSV or NPZ file or of an IDX directory, or an IDX ``"IMAGES,LABELS"`` spec.
    label : str, optional
        CSV only: the header name of the label column (default: the last column).
    task : {"classification", "regression"}, optional
        Inferred from the labels when None.
    dtype : float dtype, optional
        CSV and NPZ: the dtype the features will be computed in; a value too large for it is a
        DataError naming where it is in the file (IDX bytes fit any float dtype).
    target_dtype : float dtype, optional
        CSV and NPZ: the dtype a regression's targets will be computed in, alike (None for
        targets that are standardized first, in float64, as ``standardize_targets`` does).
    target_standardization : (mean, scale), optional
        CSV and NPZ, with ``target_dtype``: the targets are computed in it once standardized,
        (y − mean) / scale in float64 (one mean and scale, each of shape (1,)); a target
        whose standardized value is too large for it is named alike.

    Returns
    -------
    Dataset
        With a test part only when the source has one (NPZ ``X_test``, IDX test files).

    Raises
    ------
    DataError
        If the path is empty, does not exist, cannot be read or looked at (a name too long for the
        file system), is longer than ``MAX_PATH_LENGTH`` characters, its format cannot be
        told, or the loader of its format finds it malformed; the message names the path.
    """
    text = os.fspath(spec)
    if not text:  # Path("") is ".": the working directory, read as an IDX directory
        raise DataError("spec: expected the path of a data file or directory, or an IDX spec, got ''")
    if len(text) > MAX_PATH_LENGTH:  # refused before the file system is asked, in a short message
        raise DataError(overlong_path(text))
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return load_csv(path, label=label, task=task, dtype=dtype, target_dtype=target_dtype,
                        target_standardization=target_standardization)
    if label is not None:
        raise DataError(f"label={quoted(label)} names a CSV column, but {quoted(text, PATH_QUOTE_LIMIT)} "
                        f"is not a .csv file")
    if suffix == ".npz":
        return load_npz(path, task=task, dtype=dtype, target_dtype=target_dtype,
                        target_standardization=target_standardization)
    if _looked_at(path.is_dir, path):
        return load_idx_directory(path, task=task)
    if is_idx_spec(text):
        return load_idx(*idx_spec_paths(text), task=task)
    if not _looked_at(path.exists, path):  # perhaps a built-in name mistyped (evaluate MODEL irsi)
        raise DataError(f"{path}: no such file or directory{did_you_mean(text, BUILTIN_DATASETS)}")
    if "ubyte" in path.name.lower() or "idx" in path.name.lower():
        raise DataError(f"{path}: an IDX file needs its labels file too; give 'IMAGES,LABELS' or a directory")
    compressed = [name.lower() for name in path.suffixes[-2:-1]] == [".csv"]  # rows.csv.gz, rows.CSV.zip
    raise DataError(f"{path}: cannot tell its format from the suffix {quoted(suffix or '(none)')}; expected {FORMATS}"
                    + ("; a compressed CSV file (which pandas reads) is not read: decompress it to a .csv file first"
                       if compressed else ""))


def is_idx_spec(spec) -> bool:
    """Whether :func:`load_file` reads ``spec`` as an ``"IMAGES,LABELS[,...]"`` IDX spec: it has a
    comma and is none of what ``load_file`` tries first (a ``.csv`` or ``.npz`` name, whose
    loader reports it missing as given, a directory), nor an existing file of that whole name."""
    text = os.fspath(spec)
    # os.path.exists, not Path.exists: a name too long to look at names no file, and raises nothing
    return "," in text and Path(text).suffix.lower() not in (".csv", ".npz") and not os.path.exists(text)


def spec_paths(spec) -> list[str]:
    """The file paths a data spec names: those of an IDX spec (see :func:`is_idx_spec`), split
    and stripped by :func:`~chainrule.data.idx_file.idx_spec_paths` as :func:`load_file` reads
    them; otherwise, and for an IDX spec of the wrong number of parts (which ``load_file``
    refuses), the spec itself as given. So ``"a,b.csv"`` is one path, as ``load_file`` reads it."""
    text = os.fspath(spec)
    if not is_idx_spec(text):
        return [text]
    try:
        return [str(part) for part in idx_spec_paths(text)]
    except DataError:  # not 2 or 4 non-empty parts: names no file that load_file would read
        return [text]


def read_paths(spec, *, directory: bool = True) -> list[str]:
    """The paths :func:`load_file` reads for ``spec``: those of :func:`spec_paths`, and for an IDX
    directory, the directory (unless ``directory`` is False) and the IDX files in it that it reads
    (none for a directory that cannot be looked into: ``load_file`` then says why)."""
    text = os.fspath(spec)
    if not is_idx_directory(text):
        return spec_paths(text)
    try:
        files = [str(path) for path in idx_directory_files(text)]
    except OSError:
        files = []
    return [text, *files] if directory else files


def is_idx_directory(spec) -> bool:
    """Whether :func:`load_file` reads ``spec`` as an IDX directory: an existing directory whose
    name does not end in ``.csv`` or ``.npz`` (a directory of such a name is read by their loader,
    which refuses it)."""
    text = os.fspath(spec)
    return Path(text).suffix.lower() not in (".csv", ".npz") and os.path.isdir(text)


def _looked_at(test, path: Path) -> bool:
    """``test()``, a question about ``path`` (``path.is_dir``, ``path.exists``), with an
    operating-system error (a name too long, a permission) as DataError naming the path."""
    try:
        return test()
    except OSError as error:
        raise DataError(f"{path}: cannot look at the path ({error.strerror or error})") from None
