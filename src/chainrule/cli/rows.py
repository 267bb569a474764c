"""Which rows ``chainrule evaluate`` and ``chainrule predict`` use from DATA.

DATA is what ``chainrule train --data`` takes. For a built-in name, the rows are its test part,
split as ``train`` split it: by default with the seed and test size saved in the model
(``--seed`` and ``--test-size`` override them; 0 and 0.2 for a model that saved none). For a
file with a test part (NPZ ``X_test``, IDX t10k files), that part; for any other file, every row.
``predict`` reads no labels from an NPZ archive, so one of new inputs alone (``X``) is taken.

``evaluate`` also splits the data file the model was trained on (the same file, by resolved
path, unchanged since: ``train`` saves its SHA-256; a CSV file, or an NPZ archive or IDX data
without a test part of its own) as ``train`` split it, so that it scores the run's test rows,
not its training rows too. A training file that changed since (or a CSV file read with another
``--label``, or a pipe, which cannot be compared), and any other file, is scored whole. ``--seed``/``--test-size``
are refused for any DATA that the command does not split (they would change nothing):
``predict`` splits only a built-in data set. ``--label`` is refused with a built-in name or an
NPZ or IDX file (it names a column of a CSV file).
``evaluate --all-rows`` scores every row of any DATA. :class:`Selection` says which rows
were scored.

A model trained on a CSV file by ``chainrule train`` saves its feature and label column names.
A CSV file is then read by name: the saved feature columns in the saved order, wherever they
stand, and the saved label column (``--label`` names another); a missing column is a DataError
naming the file and the column, a ``--label`` column included (also for ``predict``, which
needs no labels). An empty ``--label ''`` is refused (exit 2). A model fitted on a DataFrame by
``cr.fit``, and a scikit-learn estimator fitted on one and saved (``est.save``), keep their
feature names too: a CSV file is read by those names, and its label column is ``--label``,
else the last column unless that is a feature. Without saved names, columns are taken by
position: the label
column is ``--label`` or the last one, except that a file with exactly as many columns as the
model has features has none (``predict`` takes it; ``evaluate`` refuses it, for want of labels).

A CSV feature too large for the model's dtype (above 3.4e38 for float32) is a DataError naming
the file, the line and the column (number and header name), as for a cell that is not a number;
in an NPZ archive, the file, the array and the value's index in it.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import os
import stat
from pathlib import Path

import numpy

from .. import checks
from ..data import BUILTIN_DATASETS, load_data, load_file
from ..data.load import with_test_part
from ..data.csv_file import _feature_column, _positional_label_column, _read_header, _read_rows, load_csv_for_model
from ..data.files import is_idx_directory, is_idx_spec, read_paths, spec_paths
from ..data.npz_file import load_npz_inputs
from ..data.datasets import load_builtin
from ..errors import (
    MAX_PATH_LENGTH, PATH_QUOTE_LIMIT, ConfigError, DataError, HyperparameterError, ModelFileError, ShapeError,
    overlong_path, quoted,
)
from ..layers import widths
from .config import SavedConfig, saved_config, value_name
from .estimator import MODEL_HELP, model_file
from .option_types import SEED, TEST_SIZE

DEFAULT_SEED = 0
DEFAULT_TEST_SIZE = 0.2


def add_data_arguments(parser, *, training_csv_split: bool = False) -> None:
    """MODEL, DATA and the options that pick DATA's rows (``evaluate`` also splits the training file)."""
    split_data = "a built-in data set or the model's training file" if training_csv_split else "a built-in data set"
    parser.add_argument("model", metavar="MODEL", type=model_file, help=MODEL_HELP)
    parser.add_argument("data", metavar="DATA", type=data_argument, help="built-in name or a CSV/NPZ/IDX path")
    parser.add_argument("--label", type=column_name,
                        help="label column of a CSV file [the model's label column, else the last column]")
    parser.add_argument("--seed", type=SEED,
                        help=f"split seed for {split_data} [the model's training seed, else {DEFAULT_SEED}]")
    parser.add_argument("--test-size", dest="test_size", type=TEST_SIZE,
                        help=f"test fraction for {split_data} [the model's, else {DEFAULT_TEST_SIZE}]")


def data_argument(text: str) -> str:
    """DATA's value: an empty one (an unset shell variable) is refused (exit 2), naming DATA, where
    the loader took it for the working directory, an IDX directory without its files; so is one longer
    than any path (``MAX_PATH_LENGTH``), which the messages about DATA (``--label: DATA is not a .csv
    file``) held whole."""
    if not text:
        raise argparse.ArgumentTypeError("expected a built-in data set's name or a file path, got ''")
    if len(text) > MAX_PATH_LENGTH:
        raise argparse.ArgumentTypeError(overlong_path(text))
    return text


def column_name(text: str) -> str:
    """``--label``'s value, a column name: an empty one is refused (exit 2), as an empty
    ``--out`` or ``-o`` is, rather than taken as the option left out."""
    if not text:
        raise argparse.ArgumentTypeError("expected a column name, got ''; leave --label out for the default column")
    return text


def refuse_swapped(args) -> None:
    """ConfigError when DATA is a model file (``.safetensors``, never data) and MODEL is not:
    the two arguments given the wrong way round."""
    if str(args.data).lower().endswith(".safetensors") and not str(args.model).lower().endswith(".safetensors"):
        raise ConfigError(f"DATA is {quoted(str(args.data), PATH_QUOTE_LIMIT)}, a model file, and MODEL is "
                          f"{quoted(str(args.model), PATH_QUOTE_LIMIT)}: the model file comes first (MODEL DATA)")


def rows(args, model, *, labels_required: bool):
    """(X, y) to use; y is None for a CSV without its label column, or with every label cell empty,
    when labels are not required.

    The rows ``predict`` takes: ConfigError for ``--label`` with data other than a CSV file,
    DataError for a ``--label`` column the CSV file lacks, and ConfigError for
    ``--seed``/``--test-size`` with a file (only a built-in data set is split).
    """
    if args.data in BUILTIN_DATASETS:
        _refuse_label(args)
        seed, test_size = split_of(args, model)
        data = split_data(args, test_size, seed)
        return data.X_test, data.y_test
    _refuse_split_options(args, "it is not a built-in data set", splits="a built-in data set")
    if args.data.lower().endswith(".csv"):
        feature_names, label = saved_columns(model) or (None, None)
        _refuse_feature_as_label(args, feature_names)
        label = args.label or label  # else the loader takes the last column, unless it is a feature
        # features read by name: the loader passes over a missing label column (and an empty one, for predict),
        # but not one that --label names
        return load_csv_for_model(args.data, n_features=input_width(model), feature_names=feature_names,
                                  label=label, label_required=labels_required, text_labels=has_text_classes(model),
                                  dtype=model.dtype, label_option="--label" if args.label is not None else None)
    _refuse_label(args)
    if not labels_required and args.data.lower().endswith(".npz"):  # inputs alone: np.savez(path, X=X_new)
        return load_npz_inputs(args.data, dtype=model.dtype), None
    data = load_file(args.data, dtype=model.dtype)
    if data.X_test is not None:
        return data.X_test, data.y_test
    return data.X_train, data.y_train


def _read_before(name: str) -> bool:
    """True: a CSV file read again to name a cell was read before, its header of one column too (a model's one
    feature, 'dose;mg', which :func:`~chainrule.data.csv_file._read_header` would take for another separator)."""
    return True


def csv_cell(args, model, row: int, feature: int) -> str:
    """Where the CSV file DATA (``args.data``) holds the value that :func:`rows` read as
    ``X[row, feature]``: ``"data.csv: line 9, column 1 'sepal length (cm)'"``, the line as an
    editor numbers it and the column by number and header name, as the CSV loader's errors name
    a cell. The file is read again to find them (only when such an error is raised)."""
    path = Path(args.data)
    _, numbered_rows = _read_rows(path)  # (line, row) for each non-blank line, the header's first
    _, header = _read_header(numbered_rows, path, min_columns=1, one_column_read=_read_before)
    feature_names, label = saved_columns(model) or (None, None)
    if feature_names is not None:
        column = _feature_column(header, feature_names[feature], path)
    else:
        label_column = _positional_label_column(header, args.label or label, input_width(model), path)
        column = [j for j in range(len(header)) if j != label_column][feature]
    line, _ = next(itertools.islice(numbered_rows, row, None))
    return f"{path}: line {line}, column {column + 1} {quoted(header[column])}"


def csv_line(path, row: int) -> int:
    """The line (as an editor numbers it) of the CSV file ``path`` that holds its ``row``-th row
    of data, as the CSV loader reads them (blank lines skipped); read again, only for an error."""
    _, numbered_rows = _read_rows(Path(path))
    _read_header(numbered_rows, Path(path), min_columns=1, one_column_read=_read_before)
    line, _ = next(itertools.islice(numbered_rows, row, None))
    return line


@dataclasses.dataclass(frozen=True)
class Selection:
    """The rows of DATA that ``evaluate`` scores, and which rows they are.

    ``part`` is "test split" (split by ``seed`` and ``test_size``), "test part" (the file's
    own test rows) or "all rows"; ``n_rows`` counts DATA's rows in all; ``note`` says why a
    training file was scored whole ("" otherwise).
    """

    X: numpy.ndarray
    y: numpy.ndarray
    part: str
    n_rows: int
    seed: int | None = None
    test_size: float | None = None
    note: str = ""

    def describe(self) -> str:
        """``the test split: 30 of 150 rows (seed 0, test size 0.2)``, ``all 150 rows``, ..."""
        if self.part == "all rows":
            text = f"all {self.n_rows} rows"
        else:
            text = f"the {self.part}: {len(self.X)} of {self.n_rows} rows"
        if self.seed is not None:
            text += f" (seed {self.seed}, test size {self.test_size:g})"
        return f"{text}; {self.note}" if self.note else text


def scored_rows(args, model) -> Selection:
    """The rows ``chainrule evaluate`` scores (see the module docstring), with their labels."""
    if args.all_rows and (args.seed is not None or args.test_size is not None):
        raise ConfigError("--all-rows scores every row of DATA; it cannot be combined with --seed or --test-size")
    if args.data in BUILTIN_DATASETS:
        _refuse_label(args)
        if args.all_rows:
            data = load_builtin(args.data)
            return Selection(data.X_train, data.y_train, "all rows", len(data.X_train))
        seed, test_size = split_of(args, model)
        data = split_data(args, test_size, seed)
        return Selection(data.X_test, data.y_test, "test split", len(data.X_train) + len(data.X_test),
                         seed, test_size)
    if args.data.lower().endswith(".csv"):
        return _csv_rows(args, model)
    _refuse_label(args)
    training_file, note = is_training_file(args, model)
    data = load_file(args.data, dtype=model.dtype)
    if data.X_test is None and training_file and not args.all_rows:
        return _training_split(args, model, data)
    if data.X_test is None:
        _refuse_split_options(args, note)
        return Selection(data.X_train, data.y_train, "all rows", len(data.X_train), note=note)
    # The training file too: train tested on that part, and split nothing off
    _refuse_split_options(args, "it has a test part of its own, scored as it is",
                          splits="a built-in data set or the model's training file without a test part")
    n_rows = len(data.X_train) + len(data.X_test)
    if args.all_rows:
        return Selection(numpy.concatenate([data.X_train, data.X_test]),
                         numpy.concatenate([data.y_train, data.y_test]), "all rows", n_rows)
    return Selection(data.X_test, data.y_test, "test part", n_rows)


def _training_split(args, model, data) -> Selection:
    """The test split of ``data``, the model's training NPZ or IDX data without a test part of its
    own, read unchanged from DATA: split as ``train`` split it (``load.with_test_part`` of the rows
    as read, by the saved seed and test size), so that the run's training rows are not scored."""
    seed, test_size = split_of(args, model)
    n_rows = len(data.X_train)
    try:
        data = with_test_part(data, args.data, test_size=test_size, seed=seed)
    except DataError as error:
        raise _test_size_error(error, args) from None
    return Selection(data.X_test, data.y_test, "test split", n_rows, seed, test_size)


def _csv_rows(args, model) -> Selection:
    """A CSV file's rows: the training run's test split when DATA is its unchanged data file, else all."""
    training_file, note = is_training_file(args, model)
    feature_names, saved_label = saved_columns(model) or (None, None)
    _refuse_feature_as_label(args, feature_names)
    relabelled = training_file and args.label not in (None, saved_label)
    if relabelled:  # labels from another column: not the run's split
        training_file = False
    if training_file and not args.all_rows:
        seed, test_size = split_of(args, model)
        data = split_data(args, test_size, seed, label=saved_label)
        return Selection(data.X_test, data.y_test, "test split", len(data.X_train) + len(data.X_test),
                         seed, test_size)
    if not training_file:
        _refuse_split_options(args, f"--label {args.label} is not the label column the model was trained on"
                              if relabelled else note)
    X, y = rows(args, model, labels_required=True)
    return Selection(X, y, "all rows", len(X), note=note)


def is_training_file(args, model) -> tuple[bool, str]:
    """(whether DATA, ``args.data``, is the model's training data file, unchanged; why not, when
    it changed).

    The same file and unchanged as :func:`is_run_data` and :func:`changed_since_run` tell (the
    same resolved path as the absolute data path ``chainrule train`` saved; the SHA-256 it saved,
    if any). A pipe (a FIFO at the path the run read) is never taken for it: a run on a pipe
    records no SHA-256 (:func:`file_sha256`), and taken at its word as a run from before
    chainrule recorded one, it was split and its test split called the run's, whatever rows it
    brought this time. ModelFileError naming the model file (``args.model``) and
    ``metadata.config`` when its saved configuration is not a table.
    """
    if not is_run_data(args.data, (saved_config(model.metadata, args.model) or {}).get("data")):
        return False, ""
    if is_pipe(args.data):
        return False, "it is a pipe, whose rows cannot be compared with those the model was trained on, so its " \
                      "test split is unknown"
    if changed_since_run(model.metadata, args.data, data_sha256(args.data)) is not None:
        return False, "the file changed since training, so its test split is unknown"
    return True, ""


def is_run_data(data, saved_data) -> bool:
    """Whether DATA ``data``, as given, is the data of a run whose configuration saved it as
    ``saved_data`` (its paths absolute; a value of another type names no file): the same resolved
    path, each of them for an ``IMAGES,LABELS`` IDX spec. Another path is another file, even of the
    same bytes."""
    return isinstance(saved_data, str) and _resolved_paths(data) == _resolved_paths(saved_data)


def _resolved_paths(spec) -> list[str]:
    return [os.path.realpath(path) for path in spec_paths(spec)]


def changed_since_run(metadata: dict, data, data_hash) -> str | None:
    """The file of a run's data (see :func:`is_run_data`) that changed since the run recorded its
    SHA-256 in ``metadata`` (a model's or checkpoint's, at ``metadata.data.sha256``), or None.

    ``data_hash`` is what :func:`data_sha256` gives for ``data`` now. The file named is ``data``
    itself for a CSV or NPZ file; for IDX data, the first file (by absolute path) whose SHA-256
    differs or that the run did not read, else one that the run read and ``data`` reads no more.
    A run that recorded no hash (trained on a built-in data set, or before chainrule recorded one
    of its data) is taken at its word.
    """
    saved = metadata.get("data")
    recorded = saved.get("sha256") if isinstance(saved, dict) else None
    if recorded is None:
        return None
    if not (isinstance(recorded, dict) and isinstance(data_hash, dict)):
        return None if data_hash == recorded else os.fspath(data)
    unread = {os.path.realpath(path): path for path in recorded}  # the run's files not yet met among data's
    for path, digest in data_hash.items():
        was = unread.pop(os.path.realpath(path), None)
        if was is None or recorded[was] != digest:
            return path
    return next(iter(unread.values()), None)


def data_sha256(spec) -> str | dict | None:
    """What ``chainrule train`` records of its data (``spec``, as given) in ``metadata.data.sha256``,
    read before the data is: the SHA-256 of a CSV or NPZ file (:func:`file_sha256`); for IDX data
    (an ``IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]`` spec, or a directory), a table of each IDX file
    read, by its absolute path, to its SHA-256, so that a change is named by its file; None for a
    built-in data set, and for a spec that names no data (its loader then says why)."""
    text = os.fspath(spec)
    if text in BUILTIN_DATASETS:
        return None
    if text.lower().endswith((".csv", ".npz")):
        return file_sha256(text)
    if not (is_idx_directory(text) or is_idx_spec(text)):
        return None
    return {os.path.abspath(path): file_sha256(path) for path in read_paths(text, directory=False)}


def is_pipe(spec) -> bool:
    """Whether the data ``spec`` (a path, or an IDX spec of several) reads a file that is there but
    is not a regular file: a pipe (a FIFO, ``/dev/fd/N``), whose bytes are read once and never
    hashed (:func:`file_sha256`). Looked at with ``os.stat``: opening a FIFO waits for a writer."""
    for path in spec_paths(spec):
        try:
            mode = os.stat(path).st_mode
        except (OSError, ValueError):  # not there (its loader says so); ValueError: a NUL in the path
            continue
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            return True
    return False


def file_sha256(path) -> str | None:
    """The SHA-256 of a file's bytes, hex, or None when it cannot be read (its loader then says why)
    or is not a regular file.

    Read in blocks, so a large file is never held whole. A pipe (``--data <(zcat x.idx.gz),...``,
    a FIFO) is not hashed: its bytes can be read once only, and the loader reads them after this;
    nor is a device (``/dev/zero``), whose bytes may never end. Neither can be read again to
    compare, so no hash of theirs is recorded. The file is looked at (``os.stat``) before it is
    opened, as opening a FIFO waits for a writer.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
    except (OSError, ValueError):  # ValueError: a path holding a NUL character
        return None
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except (OSError, ValueError):  # ValueError: a path holding a NUL character
        return None
    return digest.hexdigest()


def _refuse_split_options(args, why: str = "", *, splits: str = "a built-in data set or the model's training file"
                          ) -> None:
    """ConfigError for --seed/--test-size on DATA that is not split (they would change nothing).

    ``why`` says why DATA is not split; by default, it is neither a built-in nor the training
    CSV. ``splits`` says what the command does split.
    """
    given = [name for name, value in (("--seed", args.seed), ("--test-size", args.test_size)) if value is not None]
    if given:
        why = why or "it is neither a built-in data set nor the data file the model was trained on"
        raise ConfigError(f"{' and '.join(given)}: {args.data} is not split ({why}); "
                          f"{'they split' if len(given) > 1 else 'it splits'} only {splits}")


def _refuse_feature_as_label(args, feature_names: list | None) -> None:
    """ConfigError for a --label that names one of the model's feature columns (``feature_names``,
    those it reads by name): the model would be scored against one of its own inputs."""
    if args.label is not None and feature_names is not None and args.label in feature_names:
        raise ConfigError(f"--label: {quoted(args.label)} is one of the model's feature columns (it reads "
                          f"{checks.listing(feature_names, 6)}); name the column that holds the labels")


def _refuse_label(args) -> None:
    """ConfigError for --label with data that is not a CSV file (a built-in data set, an NPZ or
    IDX file), whose labels are its own (it would change nothing)."""
    if args.label is not None:
        kind = "a built-in data set" if args.data in BUILTIN_DATASETS else "not a .csv file"
        raise ConfigError(f"--label: {args.data} is {kind}; --label names a column of a CSV file")


def split_data(args, test_size: float, seed: int, label: str | None = None):
    """``load_data`` of DATA split by ``test_size`` and ``seed`` (see :func:`split_of`), its refusal of
    a test size that leaves one side empty naming --test-size, or the model's saved value."""
    try:
        return load_data(args.data, label=label, test_size=test_size, seed=seed)
    except DataError as error:
        raise _test_size_error(error, args) from None


def _test_size_error(error: DataError, args) -> DataError:
    """``error``, raised splitting DATA, naming where the test size came from (--test-size, or the
    model's saved value) when it is the refusal of one that leaves a side empty (see
    :func:`renamed_test_size_error`)."""
    given = "--test-size" if args.test_size is not None else f"{args.model}: metadata.config.test_size"
    return renamed_test_size_error(error, given)


def renamed_test_size_error(error: DataError, name: str) -> DataError:
    """``error`` naming ``name`` (the option or config key) when it is ``load_data``'s refusal of a
    test size that leaves one side of the split empty ("test_size: holding out ..."), else as it is."""
    message = str(error)
    if message.startswith("test_size: holding out "):
        return DataError(f"{name}: {message.removeprefix('test_size: ')}")
    return error


def split_of(args, model) -> tuple:
    """(seed, test size) of a built-in's or the training file's split.

    Each is the option, else the value saved in the model, else the default. HyperparameterError
    naming the option for a value ``train`` would refuse too; ModelFileError naming the model
    file (``args.model``) and ``metadata.config.seed`` or ``.test_size`` for such a saved value,
    or ``metadata.config`` when the saved configuration is not a table.
    """
    if args.seed is not None and not checks.is_seed(args.seed):
        raise HyperparameterError(f"--seed: expected an integer from {checks.SEED_RANGE}, got {quoted(args.seed)}")
    if args.test_size is not None and not 0 < args.test_size < 1:
        raise HyperparameterError(f"--test-size: expected a fraction in (0, 1), got {args.test_size}")
    saved = saved_config(model.metadata, args.model) or {}
    seed = args.seed if args.seed is not None else saved.get("seed", DEFAULT_SEED)
    test_size = args.test_size if args.test_size is not None else saved.get("test_size", DEFAULT_TEST_SIZE)
    source = SavedConfig(args.model)
    if not checks.is_json_count(seed):
        raise ModelFileError(f"{value_name('seed', source)}: expected an integer >= 0, got {quoted(seed)}")
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) or not 0 < test_size < 1:
        raise ModelFileError(f"{value_name('test_size', source)}: expected a fraction in (0, 1), "
                             f"got {quoted(test_size)}")
    return seed, test_size


def saved_columns(model) -> tuple | None:
    """(feature names, label name or None) by which a CSV file's columns are read, or None (by position).

    ``chainrule train`` saves the names of the CSV file it trained on in ``metadata["data"]``
    (with the label's); only names from a CSV header say which column is which: NPZ, IDX and
    built-in names are positions or descriptions, so a model trained on those takes a CSV by
    position. A model saved without that entry takes a CSV by the names it was fitted with:
    those of ``cr.fit`` on a DataFrame (``preprocessor.feature_names``), else those of a
    scikit-learn estimator fitted on one (``feature_names_in_`` in ``metadata["sklearn"]``);
    its label column is then unknown (None).
    """
    saved = model.metadata.get("data")
    if saved is not None:
        return _training_csv_columns(model, saved)
    width = input_width(model)
    for names in (model.preprocessor.feature_names if model.preprocessor is not None else None,
                  _estimator_attribute(model, "feature_names_in_")):
        if _are_names(names, width):
            return list(names), None
    return None


def _training_csv_columns(model, saved) -> tuple | None:
    """(feature names, label) that ``chainrule train`` saved of its CSV file, or None."""
    if not isinstance(saved, dict) or not str(saved.get("name", "")).lower().endswith(".csv"):
        return None
    features, label = saved.get("features"), saved.get("label")
    if not isinstance(label, str) or not _are_names(features, input_width(model)):
        return None
    return features, label


def _estimator_attribute(model, name: str):
    """A fitted attribute as a scikit-learn estimator saved it (``est.save``), unchecked; None if absent."""
    saved = model.metadata.get("sklearn")
    attributes = saved.get("attributes") if isinstance(saved, dict) else None
    return attributes.get(name) if isinstance(attributes, dict) else None


def _are_names(names, width: int) -> bool:
    """Whether ``names`` is a list of ``width`` distinct strings, one per input feature."""
    return (isinstance(names, list) and len(names) == width and all(isinstance(name, str) for name in names)
            and len(set(names)) == width)


def has_text_classes(model) -> bool:
    """True when the model's class labels are strings (so a file's labels are read as text): those of
    its preprocessing, else a scikit-learn estimator's ``classes_`` (binary ones are not in the network's)."""
    classes = model.preprocessor.classes if model.preprocessor is not None else None
    if not classes:
        saved = _estimator_attribute(model, "classes_")
        classes = saved if isinstance(saved, list) else None
    return bool(classes) and all(isinstance(label, str) for label in classes)


def input_width(model) -> int:
    """The number of raw features the model takes (``widths.input_width``); ShapeError if unknown."""
    width = widths.input_width(model, model.preprocessor)
    if width is None:
        raise ShapeError("the model has no preprocessing, and its first layer with parameters is not a Linear "
                         "layer (or it has none), so its input width is unknown")
    return width


def check_width(model, X, args) -> None:
    """ShapeError naming DATA and MODEL unless DATA's rows are as wide as the model's input.

    A CSV file read by position (the model saved no column names) gave the model every column but
    its label column, which the message names: "rows of 1 features" for a file of 2 columns was
    read as a count of its columns gone wrong."""
    width = input_width(model)
    if X.ndim == 2 and X.shape[1] != width:
        n = X.shape[1]
        rows_of = f"rows of {n} feature{'' if n == 1 else 's'}"
        if args.data.lower().endswith(".csv") and saved_columns(model) is None:
            label = getattr(args, "label", None)
            taken = f"--label {label}" if label is not None else "the last"
            rows_of += f" (its {n + 1} columns but the label column, {taken}: a model without column names reads " \
                       f"a CSV file by position)"
        raise ShapeError(f"{args.data}: {rows_of}, but the model {args.model} takes {width}")
