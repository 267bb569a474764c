"""CSV files: a header row, then one row per sample of numeric features and a label.

Conventions
-----------
- Comma-separated UTF-8 text (a leading byte-order mark is ignored) without NUL characters (UTF-16
  text, with its byte-order mark or without, every other byte of its start NUL, is named so),
  quoted as Python's :mod:`csv` module reads it in strict mode (a quote never closed is an
  error), a quoted cell as long as an unquoted one may be. Lines end in ``\n``, ``\r\n`` or
  ``\r``. Blank lines are skipped.
- The first non-blank line is the header: a non-empty, distinct name for every column. A
  header of one column that holds a semicolon or a tab is an error: the file is separated by
  those (as Excel writes CSV files where the decimal mark is a comma), not by commas; but for
  rows of a model of one feature, named so or taken by position, which is that one column. A
  line of numbers only (other than pandas' default names ``0,1,...,n-1``), or of numbers and
  a label column's name that is one of its labels (UCI's ``iris.data``), is a row of data of a
  file without a header: an error, rather than its row taken for the names and left out.
- The label column is chosen by name (``label=``); by default it is the last column. Every
  other column is a feature.
- Every feature cell is a finite number (``1``, ``-2.5``, ``3e-4``). An empty cell, text,
  ``nan`` or ``inf`` is an error; the error for text suggests naming its column as the label
  column (``--label NAME`` on the command line, ``label="NAME"`` in Python), and for a number
  written with a decimal comma (``"1,5"``, quoted) converting the file with pandas'
  ``read_csv(path, decimal=',')``, as for a regression target (``"1,000"`` is told as that and
  as 1000 with a comma between thousands, ``thousands=','``; ``"1,000,000"`` and ``"12,345.6"``, which
  read only so, as numbers with commas between thousands, converted with ``thousands=','``; a regressor's
  targets that ``chainrule evaluate`` scores alike, as :func:`comma_number_advice` tells them). A number is what
  numpy.loadtxt reads as one: ASCII digits, any whitespace around them read past (pandas.read_csv
  reads past ASCII whitespace only: a no-break space makes a cell text there); an underscore between
  digits (``1_000``) and digits beyond ASCII (``١٢٣``, ``１２``), which Python's ``float()`` would
  read, make a cell text, in a feature or a label column, as for both parsers.
- Label cells are not empty (but a reader of rows to predict, :func:`load_csv_for_model`
  without ``label_required``, takes a label column empty in every row for no labels). When
  every label is a number the labels are numbers (whole numbers with few distinct values are
  inferred to be classes and read as int64, see :mod:`chainrule.data.dataset`); when every
  label is ``True`` or ``False`` (also lower or upper case, as pandas reads them) they are
  booleans; otherwise they are kept as strings, for classification, ``nan`` or ``inf`` among them
  a class name like any other (in a column of numbers, a non-finite label is an error).
- Every row has as many cells as the header.
- Given a ``dtype`` (float32 for a model that computes in it), every feature cell also fits
  that dtype: a magnitude above its largest finite value (3.4e38 for float32) is an error
  naming the cell, rather than an inf after the cast.

Every error is a :class:`~chainrule.errors.DataError` naming the file, the line (1-based, as
an editor numbers lines) and the column, by number and header name.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from pathlib import Path

import numpy

from ..checks import listing
from ..errors import QUOTE_LIMIT, DataError, LabelError, did_you_mean, quoted
from .dataset import Dataset, labels_for_task
from .preprocessing import standardized_targets
from .source import read_bytes

# Feature cells converted to floats at a time (whole rows, at least one), so a large file is
# never held whole as cell strings (some 60 bytes a cell, where its float takes 8).
CHUNK_CELLS = 2**18

# ASCII characters that numpy.loadtxt strips around a number and float() does not (it strips
# the ASCII whitespace " \t\n\v\f\r" only); every other character they treat alike.
LOADTXT_ONLY_SPACES = "\x1c\x1d\x1e\x1f"

# Text that marks a missing value: pandas.read_csv's default na_values that float() does not read (it reads
# "nan" and "NaN" as NaN, refused as not finite), and "?", the marker of the UCI repository's files. chainrule
# does not impute, so a feature cell holding one is named as a missing value rather than as a label column.
MISSING_MARKERS = frozenset({"#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "1.#IND", "1.#QNAN", "<NA>", "N/A",
                             "NA", "NULL", "None", "n/a", "null", "?"})
# Separators of other CSV dialects, as the error for a header of one column holding them names them: (the
# separator, its name, the pandas.read_csv arguments that read such a file, a note on them).
OTHER_SEPARATORS = ((";", "semicolon", "sep=';'", " (add decimal=',' where its numbers are written 3,5)"),
                    ("\t", "tab", "sep='\\t'", ""))
# A number written with a decimal comma ("1,5", "-0,25"), quoted in a comma-separated file so that its comma
# separates no cells, as a spreadsheet set to a language that writes 1,5 for 1.5 may export it. Its digits, and
# those of the two below, are ASCII's: '١,٥' is text, as '١٢٣' is, which pandas' decimal=',' reads as text too.
DECIMAL_COMMA = re.compile(r"[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?", re.ASCII)
# One of those that reads as well as a number with a comma between thousands ("1,000", "-12,345"), as a spreadsheet
# whose numbers are formatted so exports them in a language that writes 1.5
THOUSANDS_COMMA = re.compile(r"[+-]?\d{1,3},\d{3}", re.ASCII)
# A number written with commas between thousands ("1,000,000", "12,345.6"), as such a spreadsheet exports it: one
# that DECIMAL_COMMA does not match reads only so
THOUSANDS_SEPARATED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?([eE][+-]?\d+)?", re.ASCII)
# The pandas.read_csv arguments that read numbers written so
DECIMAL, THOUSANDS = "decimal=','", "thousands=','"
# A first column without a name is most often the index that pandas' DataFrame.to_csv writes by default.
PANDAS_INDEX_ADVICE = ("; pandas' DataFrame.to_csv writes its index so (an unnamed first column of row numbers): "
                       "write the file with to_csv(path, index=False), or give the column a name")
MISSING_ADVICE = ("chainrule reads complete rows only, to train and to predict: fill in or drop the rows with missing "
                  "values first")


def load_csv(path, *, label: str | None = None, task: str | None = None, dtype=None,
             target_dtype=None, target_standardization: tuple | None = None) -> Dataset:
    """Load a CSV file (conventions in the module docstring), all rows as training rows.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    label : str, optional
        Header name of the label column; default the last column.
    task : {"classification", "regression"}, optional
        Inferred from the labels when None.
    dtype : float dtype, optional
        The dtype the features will be computed in: a feature cell too large for it is a
        DataError naming the cell. The features are float64 all the same.
    target_dtype : float dtype, optional
        The dtype a regression's targets will be computed in, alike (None for targets that are
        standardized first, in float64).
    target_standardization : (mean, scale), optional
        With ``target_dtype``: the targets are computed in it once standardized, (y − mean) /
        scale in float64; a target whose standardized value is too large for it is named alike.

    Returns
    -------
    Dataset
        float64 features named by the header; ``X_test`` is None.

    Raises
    ------
    DataError
        If the file is missing, unreadable, empty, not UTF-8, lacks the label column, has a
        ragged row or a cell that is not a finite number; the message names file, line, column.
    LabelError
        If ``task`` is "regression" and a label is not a number (naming its line).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "points.csv")
    >>> _ = open(path, "w").write("x,y,kind\\n0,1,a\\n2,3,b\\n")
    >>> data = load_csv(path)
    >>> data.X_train.tolist(), data.y_train.tolist(), data.task
    ([[0.0, 1.0], [2.0, 3.0]], ['a', 'b'], 'classification')
    """
    path = Path(path)
    counts, rows = _read_rows(path)
    header_line, header = _read_header(rows, path)
    label_column = _label_column(header, label, path)
    feature_columns = [j for j in range(len(header)) if j != label_column]
    X, label_cells, label_lines = _read_body(rows, counts, header, feature_columns, label_column, path, dtype)
    _check_not_data(header, label_column, label_cells, path, header_line)
    label_where = f"column {label_column + 1} {quoted(header[label_column])}"
    y = _labels(label_cells, label_lines, label_where, path, numeric_only=task == "regression")
    y, task = labels_for_task(y, task, f"{path}: {label_where}")
    if task == "regression" and target_dtype is not None:  # targets computed in the model's dtype
        _check_targets_fit(y, label_cells, label_lines, f"{path}: line {{}}, {label_where}", numpy.finfo(target_dtype),
                           target_standardization)
    return Dataset(
        X_train=X,
        y_train=y,
        X_test=None,
        y_test=None,
        task=task,
        name=path.name,
        feature_names=[name for j, name in enumerate(header) if j != label_column],
        label_name=header[label_column],
    )


def load_csv_features(path, n_features: int) -> numpy.ndarray | None:
    """The rows of a CSV file of feature columns only, as ``chainrule predict`` takes them.

    Parameters
    ----------
    path : str or os.PathLike
        A CSV file following the module's conventions, without a label column.
    n_features : int
        The number of features the model takes.

    Returns
    -------
    numpy.ndarray of shape (n_samples, n_features), or None
        float64 rows; None when the header does not have exactly ``n_features`` columns
        (the file then holds a label column too, or does not fit the model).

    Raises
    ------
    DataError
        As :func:`load_csv`, for a file that is missing, unreadable or malformed.
    """
    path = Path(path)
    counts, rows = _read_rows(path)
    _, header = _read_header(rows, path, min_columns=1, one_column_read=lambda name: n_features == 1)
    if len(header) != n_features:
        return None
    X, _, _ = _read_body(rows, counts, header, list(range(len(header))), None, path)
    return X


def load_csv_for_model(path, *, n_features: int, feature_names: list | None = None, label: str | None = None,
                       label_required: bool = True, text_labels: bool = False, dtype=None,
                       label_option: str | None = None) -> tuple:
    """``(X, y)`` of a CSV file for a trained model, as ``chainrule evaluate`` and ``predict`` read it.

    With ``feature_names`` (the header names the model was trained on) columns are chosen by
    name: those columns in that order, wherever they stand in the file; other columns are not
    read. The label column is then ``label``, when the header has it, or without ``label`` the
    last column, unless that is one of the features. Without ``feature_names``
    columns are chosen by position: the label column is ``label`` (default: the last column) and
    every other column is a feature, except that a file of exactly ``n_features`` columns and
    no ``label`` has no label column.

    Parameters
    ----------
    path : str or os.PathLike
        A CSV file following the module's conventions.
    n_features : int
        The number of features the model takes.
    feature_names : list of str, optional
        The model's feature columns by name.
    label : str, optional
        The label column's name.
    label_required : bool
        Whether a file without the label column is an error.
    text_labels : bool
        Keep the labels as strings even when all are numbers (for a model whose classes are strings).
    dtype : float dtype, optional
        The model's dtype: a feature cell too large for it is a DataError naming the cell.
    label_option : str, optional
        The option that gave ``label`` (``"--label"``): a header without that column is then a
        DataError naming the option, labels required or not (an empty column is still no labels).

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, n_features)
        float64 rows (by position, the width is what the file has).
    y : numpy.ndarray of shape (n_samples,), or None
        The labels, as :func:`load_csv` reads them; None without a label column, or, when
        labels are not required, with every label cell empty (new rows to predict).

    Raises
    ------
    DataError
        As :func:`load_csv`; also when a column of ``feature_names`` is absent, or the label
        column is absent and ``label_required``; the message names the file and the column.
        Without ``label_required``, a label column empty in some rows and not in others is
        refused too, naming the first empty cell's line: most likely a mistake.
    """
    path = Path(path)
    counts, rows = _read_rows(path)
    # a model's one feature, named as the file names it, or a model of one feature whose columns go by position
    names = None if feature_names is None else {str(name).strip() for name in feature_names}
    _, header = _read_header(rows, path, min_columns=1,
                             one_column_read=lambda name: name in names if names is not None else n_features == 1)
    if feature_names is not None:
        feature_columns = [_feature_column(header, name, path) for name in feature_names]
        label_column = _named_label_column(header, label, feature_columns)
    else:
        label_column = _positional_label_column(header, label, n_features, path)
        feature_columns = [j for j in range(len(header)) if j != label_column]
    if label_column is None and label_required:
        raise DataError(_missing_label_message(header, label, path, by_name=feature_names is not None))
    if label_column is None and label is not None and label_option is not None:
        raise DataError(f"{label_option}: {path} has no column named {quoted(label)}; name its label column, or "
                        f"leave {label_option} out")
    X, label_cells, lines = _read_body(rows, counts, header, feature_columns, label_column, path, dtype)
    if label_column is None or not label_required and not any(label_cells):  # new rows, labels left blank
        return X, None
    where = f"column {label_column + 1} {quoted(header[label_column])}"
    if not label_required and not all(label_cells):
        line = lines[label_cells.index("")]
        raise DataError(f"{path}: line {line}, {where}: empty label cell, where other rows hold labels; leave every "
                        f"label cell empty (or the column out) for rows without labels, or fill it in")
    y = _labels(label_cells, lines, where, path, numeric_only=False, as_text=text_labels)
    if not text_labels:
        y, _ = labels_for_task(y, None, f"{path}: {where}")
    return X, y


def _feature_column(header: list, name: str, path: Path) -> int:
    """Index of the feature column ``name``; DataError naming it when the header lacks it.

    The header's names are read without the spaces around them; a model fitted on a DataFrame
    column with such spaces (' z', as pandas keeps and writes them) finds it by the name without."""
    if name not in header and name.strip() in header:
        name = name.strip()
    if name not in header:
        raise DataError(
            f"{path}: no column named {quoted(name)}, which the model takes as a feature; "
            f"the header has columns {listing(header)}"
        )
    return header.index(name)


def _named_label_column(header: list, label: str | None, feature_columns: list) -> int | None:
    """The label column beside features chosen by name: ``label`` if the header has it, else
    without ``label`` the last column unless it is a feature; None when there is none."""
    if label is not None:
        return header.index(label) if label in header else None
    last = len(header) - 1
    return None if last in feature_columns else last


def _positional_label_column(header: list, label: str | None, n_features: int, path: Path) -> int | None:
    """The label column by position: ``label``, else none for ``n_features`` columns, else the last."""
    if label is not None:
        return _label_column(header, label, path)
    if len(header) == n_features:
        return None
    return len(header) - 1


def _missing_label_message(header: list, label: str | None, path: Path, *, by_name: bool = False) -> str:
    """Why a file without its label column cannot be scored (``by_name``: the features were
    chosen by name, so the label column is the last one unless that is a feature)."""
    if label is not None:
        return (f"{path}: no label column named {quoted(label)} to score against; "
                f"the header has columns {listing(header)}{did_you_mean(label, header)}")
    if by_name:
        return (f"{path}: no label column: the last column {quoted(header[-1])} is one of the model's features; "
                f"name the label column (--label NAME / label='NAME'); the header has columns {listing(header)}")
    return (f"{path}: no label column: its {len(header)} columns are the model's features; "
            f"scoring needs the labels too (add them as the last column)")


def _read_rows(path: Path) -> tuple:
    """``((n_lines, n_commas), rows)``: how many lines and commas the CSV file ``path`` has (bounds
    on its rows, see :func:`_most_rows`), and its rows as :func:`_rows` yields them."""
    text = _decode(read_bytes(path), path)
    return (_line_count(text), text.count(",")), _rows(text, path)


def _most_rows(counts: tuple, n_columns: int) -> int:
    """The most rows of ``n_columns`` cells that can follow a header of as many in a text of
    ``counts = (n_lines, n_commas)``: one a line, and ``n_columns - 1`` commas a row (more where a
    quoted cell holds one). The commas bound a text of blank lines under a wide header, whose
    line count alone (20 million blank lines under 2,000 columns: 20 MB) asked for 298 GiB."""
    n_lines, n_commas = counts
    most = n_lines - 1
    if n_columns > 1:
        most = min(most, n_commas // (n_columns - 1) - 1)
    return max(most, 0)


def _line_count(text: str) -> int:
    """How many lines ``text`` has, ending in ``\n``, ``\r\n`` or ``\r`` as :func:`_rows` reads them."""
    n_lines = text.count("\n") + 1
    if "\r" in text:  # a search far quicker than the counts it spares
        n_lines += text.count("\r") - text.count("\r\n")
    return n_lines


def _decode(raw: bytes, path: Path) -> str:
    """The file's text; DataError naming the line of the first byte that is not UTF-8, or of the
    first NUL (NumPy's strings would drop it at the end of a label, merging "a\\0" with "a")."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode Text", or PowerShell's '>'
        raise DataError(f"{path}: UTF-16 text (it starts with UTF-16's byte-order mark); chainrule reads UTF-8: "
                        f"save it as UTF-8 (Excel: 'CSV UTF-8'), e.g. iconv -f utf-16 -t utf-8")
    order = _utf16_order(raw)
    if order:  # written without the mark (.NET's Encoding.Unicode.GetBytes, iconv -t utf-16le): not "a NUL character"
        raise DataError(f"{path}: UTF-16 {order.upper()} text without a byte-order mark (every other byte of its start "
                        f"is NUL); chainrule reads UTF-8: save it as UTF-8 (Excel: 'CSV UTF-8'), e.g. iconv -f "
                        f"utf-16{order} -t utf-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise DataError(f"{path}: line {line}: not UTF-8 text (is it a CSV file? one in another encoding, such "
                        f"as Windows-1252 or Latin-1, needs saving as UTF-8 first, e.g. iconv -f cp1252 -t utf-8)"
                        ) from None
    nul = text.find("\0")
    if nul >= 0:
        line = _line_count(text[:nul])
        raise DataError(f"{path}: line {line}: a NUL character, which CSV text never holds (is it a CSV file?)")
    return text


def _utf16_order(raw: bytes) -> str:
    """"le" or "be" when the start of ``raw`` (its first 64 bytes, at least 4) is ASCII text in UTF-16 of that
    byte order without a byte-order mark: every other byte NUL, the others not; else ""."""
    start = raw[:min(len(raw), 64) // 2 * 2]  # whole pairs: an odd last byte is of no pair
    if len(start) < 4:
        return ""
    low_first, high_first = start[0::2], start[1::2]  # as LE puts the bytes of "a": 61 00; BE: 00 61
    if not high_first.strip(b"\0") and b"\0" not in low_first:
        return "le"
    if not low_first.strip(b"\0") and b"\0" not in high_first:
        return "be"
    return ""


def _rows(text: str, path: Path):
    """``(line number, row)`` for each non-blank line of CSV ``text``.

    Lines end in ``\n``, ``\r\n`` or a bare ``\r``. A row is the list of its cells, or in a text
    without quotes the line itself, a str of cells separated by commas: such lines are read a
    chunk at a time by :func:`_parsed_features`, and split into cells only when that fails. A
    quoted row spanning several lines is numbered by its first line; a quote never closed is a
    DataError naming that line.
    """
    if '"' not in text:  # no quoting: a line is a row and commas separate cells (fast)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        # numpy.loadtxt strips these four around a number, float() does not: split their lines here.
        split = any(space in text for space in LOADTXT_ONLY_SPACES)
        for number, line in enumerate(_lines(text), start=1):
            if line.strip():  # a line holding a comma is never blank
                yield number, line.split(",") if split else line
        return
    # strict: a quote left open at the end of the file is an error, not a cell running to the end
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    first_line = 1
    # The csv module's cell limit (131,072 characters by default) is raised to the text's length
    # while it is read: the text is in memory already, and a cell unquoted has no limit.
    limit = csv.field_size_limit(max(csv.field_size_limit(), len(text)))
    try:
        for row in reader:
            if not _is_blank(row):
                yield first_line, row
            first_line = reader.line_num + 1
    except csv.Error as error:
        if "unexpected end of data" in str(error):  # the csv module's words for an open quote at the end
            raise DataError(f"{path}: line {first_line}: a quoted cell in this row is never closed") from None
        raise DataError(f"{path}: line {reader.line_num}: not valid CSV ({error})") from None
    finally:
        csv.field_size_limit(limit)


def _lines(text: str):
    """The lines of ``text`` as ``text.split("\\n")`` gives them, one at a time: the text is never
    held twice, as a string and as a list of its lines."""
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        yield text[start:end]
        start = end + 1


def _is_blank(row: list) -> bool:
    """True for an empty line (a row with no cells, or one cell of whitespace)."""
    return not row or (len(row) == 1 and not row[0].strip())


def _cells(row) -> list:
    """The cells of a row as :func:`_rows` yields it (a line of a text without quotes, or its cells)."""
    return row.split(",") if isinstance(row, str) else row


def _read_header(rows, path: Path, *, min_columns: int = 2, one_column_read=None) -> tuple[int, list]:
    """(its line, the column names) of the first row. A header of one column that holds a semicolon or a tab
    is refused as a file separated by them, unless ``one_column_read(name)`` says that a column of that name
    is what the caller reads (a model's one feature: ``dose;mg``, quoted in the file it was trained on)."""
    for line, row in rows:
        header = [name.strip() for name in _cells(row)]
        # A row of data, its header missing; pandas names unnamed columns 0..n-1 (to_csv of a frame of an array)
        if all(_number(name) is not None for name in header) and header != _pandas_names(len(header)):
            raise _headerless(path, line, header, "numbers only")
        seen = {}
        for j, name in enumerate(header):
            if not name:
                raise DataError(f"{path}: line {line}: column {j + 1} has no name in the header"
                                + (PANDAS_INDEX_ADVICE if j == 0 else ""))
            if name in seen:
                raise DataError(f"{path}: line {line}: columns {seen[name] + 1} and {j + 1} are both named "
                                f"{quoted(name)}")
            seen[name] = j
        if len(header) == 1 and not (one_column_read and one_column_read(header[0])):
            _check_not_other_separator(header[0], path, line)
        if len(header) < min_columns:
            raise DataError(
                f"{path}: line {line}: the header names one column ({quoted(header[0])}); "
                f"expected feature columns and a label column"
            )
        return line, header
    raise DataError(f"{path}: the file is empty; expected a header row of column names")


def _check_not_other_separator(name: str, path: Path, line: int) -> None:
    """DataError when a header of one column holds semicolons or tabs: the file is separated by them,
    not by commas (Excel writes ';' where the decimal mark is a comma), and its every row would be one
    cell, refused as such only later with a puzzling message (one column, or no column of the model's)."""
    for separator, name_of, arguments, note in OTHER_SEPARATORS:
        count = name.count(separator)
        if count:
            raise DataError(
                f"{path}: line {line}: the header has no comma but {count} {name_of}{'s' if count > 1 else ''} "
                f"({quoted(name)}); chainrule reads comma-separated files: convert it, e.g. with pandas: "
                f"pandas.read_csv(path, {arguments}).to_csv('converted.csv', index=False){note}"
            )


def _headerless(path: Path, line: int, header: list, found: str) -> DataError:
    """The error for a first row that is data, not column names: ``found`` says why."""
    shown = ",".join(header[:4]) + (",..." if len(header) > 4 else "")
    return DataError(f"{path}: line {line}: expected a header row of column names, found {found} "
                     f"({quoted(shown)}), a row of data; add a header line (such as x1,x2,...,label) first, or the "
                     f"first row would be taken for the names and left out (if these are the names, give one a "
                     f"name that is not a number, such as the label column's)")


def _check_not_data(header: list, label_column: int, label_cells: list, path: Path, line: int) -> None:
    """DataError when the header reads as a row of data with a text label (UCI's iris.data: ``5.1,3.5,
    1.4,0.2,Iris-setosa``): every feature name a number, and the label column's name one of its labels."""
    features = (name for j, name in enumerate(header) if j != label_column)
    if header == _pandas_names(len(header)):  # pandas' default names 0..n-1, whatever the labels
        return
    if all(_number(name) is not None for name in features) and header[label_column] in label_cells:
        raise _headerless(path, line, header, f"numbers and the label {quoted(header[label_column])}")


def _label_column(header: list, label: str | None, path: Path) -> int:
    """Index of the label column named ``label`` (default: the last column)."""
    if label is None:
        return len(header) - 1
    if not isinstance(label, str):  # 3 for a column named "3" (pandas' names) is not found, and looks found
        raise DataError(f"{path}: label: expected the name of a column (a str), got {type(label).__name__} "
                        f"{quoted(label)}; the header's names are text: label={quoted(str(label))}")
    if label not in header:
        raise DataError(f"{path}: no label column named {quoted(label)}; the header has columns {listing(header)}"
                        f"{did_you_mean(label, header)}")
    return header.index(label)


def _read_body(rows, counts: tuple, header: list, feature_columns: list, label_column: int | None, path: Path,
               dtype=None) -> tuple:
    """``(X, label cells, line numbers)``: the ``feature_columns`` as floats, the label column's cells.

    ``rows`` follow the header in a text of ``counts`` lines and commas, so they are at most
    :func:`_most_rows`: ``X`` is allocated once at that size, filled ``CHUNK_CELLS`` cells at a
    time and shrunk in place to the rows read (never a second array of all the rows); DataError
    when it does not fit in memory. No label cells when ``label_column`` is None; other columns
    are not read. With ``dtype``, a feature cell too large for it is a DataError (see ``_features``).
    """
    limits = None if dtype is None else numpy.finfo(dtype)
    chunk_rows = max(1, CHUNK_CELLS // max(1, len(feature_columns)))
    most_rows = _most_rows(counts, len(header))
    try:
        X = numpy.empty((most_rows, len(feature_columns)))
    except MemoryError:
        raise DataError(f"{path}: up to {most_rows:,} rows of {len(feature_columns):,} features "
                        f"({most_rows * len(feature_columns) * 8 / 2**30:.3g} GiB in float64) do not fit in "
                        f"memory") from None
    n_rows, chunk, lines, label_cells = 0, [], [], []
    parser = True  # until a chunk is refused: a file holding one cell the parser refuses likely holds more
    for line, row in rows:
        n_cells = row.count(",") + 1 if isinstance(row, str) else len(row)
        if n_cells != len(header):
            raise DataError(f"{path}: line {line}: expected {len(header)} cells as in the header, found {n_cells}")
        chunk.append(row)
        lines.append(line)
        if len(chunk) == chunk_rows:
            X[n_rows:len(lines)], parser = _read_chunk(chunk, lines[n_rows:], header, feature_columns, label_column,
                                                       label_cells, path, limits, parser)
            n_rows, chunk = len(lines), []
    if chunk:
        X[n_rows:len(lines)], _ = _read_chunk(chunk, lines[n_rows:], header, feature_columns, label_column,
                                              label_cells, path, limits, parser)
    if not lines:
        raise DataError(f"{path}: no data rows after the header")
    X.resize((len(lines), len(feature_columns)), refcheck=False)  # shrunk in place: no view of X exists
    return X, label_cells, lines


def _read_chunk(rows: list, lines: list, header: list, feature_columns: list, label_column: int | None,
                label_cells: list, path: Path, limits=None, parser: bool = True) -> tuple:
    """``(block, parsed)``: the feature block of a chunk of ``rows`` (each as wide as the header),
    its label cells appended to ``label_cells``. Lines of a text without quotes are read by
    :func:`_parsed_features` when ``parser`` is True and it can (``parsed``), else cell by cell
    (:func:`_features`, whose errors name the first bad cell), as every later chunk then is: only
    the one chunk the parser refused is read twice."""
    if isinstance(rows[0], str):
        block = _parsed_features(rows, feature_columns, limits) if parser else None
        if block is not None:
            if label_column is not None:
                label_cells.extend(_column(rows, label_column, len(header)))
            return block, True
        rows = [row.split(",") for row in rows]
    if label_column is not None:
        label_cells.extend(row[label_column].strip() for row in rows)
    features = [[row[j] for j in feature_columns] for row in rows]
    return _features(features, lines, feature_columns, header, path, limits), False


def _parsed_features(lines: list, columns: list, limits=None) -> numpy.ndarray | None:
    """The ``columns`` of ``lines`` (cells separated by commas, no quotes) as a float64 block read by
    numpy.loadtxt's C parser; None when some cell is not a finite number (or is too large for
    ``limits``) as it reads it, for :func:`_features` to name.

    The parser strips the whitespace around a cell, then reads the number with the same C function
    as float(): a cell it reads is the same float64, bit for bit. A cell float() reads but it does
    not (``1_000``, digits beyond ASCII) gives None, and :func:`_features` names it: it is text (see :func:`_number`).
    """
    if not columns:
        return None
    try:
        block = numpy.loadtxt(lines, dtype=numpy.float64, delimiter=",", comments=None, quotechar=None,
                              usecols=columns, ndmin=2)
    except ValueError:
        return None
    if not numpy.isfinite(block).all():
        return None
    if limits is not None and numpy.abs(block).max() > float(limits.max):
        return None
    return block


def _column(lines: list, j: int, n_columns: int) -> list:
    """The stripped cells of column ``j`` of ``lines`` (cells separated by commas, ``n_columns`` a line)."""
    if j == n_columns - 1:
        return [line[line.rfind(",") + 1:].strip() for line in lines]
    return [line.split(",", j + 1)[j].strip() for line in lines]


def _features(rows: list, lines: list, columns: list, header: list, path: Path, limits=None) -> numpy.ndarray:
    """Feature cells of ``rows`` as a float64 block; DataError at the first bad cell: not a finite
    number, or (with ``limits``, a dtype's ``numpy.finfo``) of a magnitude above that dtype's largest."""
    block = _floats_of(rows)
    if block is None:  # some cell may not be a number: find the first one, row by row
        block = numpy.array(
            [[_feature(cell, lines[i], columns[j], header, path) for j, cell in enumerate(row)]
             for i, row in enumerate(rows)]
        )
    bad = numpy.argwhere(~numpy.isfinite(block))
    if len(bad):
        i, j = bad[0]
        where = f"{path}: line {lines[i]}, column {columns[j] + 1} {quoted(header[columns[j]])}"
        raise DataError(f"{where}: expected a finite number, found {quoted(rows[i][j].strip())}")
    if limits is not None:
        too_large = numpy.argwhere(numpy.abs(block) > float(limits.max))  # by row: the first line comes first
        if len(too_large):
            i = too_large[0, 0]
            j = min(too_large[too_large[:, 0] == i, 1], key=lambda j: columns[j])  # the leftmost in the file
            where = f"{path}: line {lines[i]}, column {columns[j] + 1} {quoted(header[columns[j]])}"
            raise DataError(f"{where}: {rows[i][j].strip()} is too large for {limits.dtype.name}, whose largest "
                            f"magnitude is {float(limits.max):.4g}")
    return block


def _floats_of(rows: list) -> numpy.ndarray | None:
    """The cells of ``rows`` (lists of str) as a float64 block when each is a number as :func:`_number`
    reads it; None when some cell may not be one.

    NumPy reads each cell with ``float()``, which also reads ``1_000`` and digits beyond ASCII: cells
    holding an underscore or a character beyond ASCII are left to :func:`_number`, cell by cell (a
    search of the chunk's text, far quicker than the conversion, finds whether there are any)."""
    text = "".join(map("".join, rows))
    if "_" in text or not text.isascii():
        return None
    try:
        return numpy.array(rows, dtype=numpy.float64)
    except ValueError:
        return None


def _check_targets_fit(y: numpy.ndarray, cells: list, lines: list, where: str, limits,
                       standardization: tuple | None = None) -> None:
    """DataError naming the line (``where`` formatted with it) of the first regression target
    whose magnitude is above the largest of ``limits``' dtype (``numpy.finfo``), as for a feature;
    with ``standardization`` (mean, scale), the first whose standardized value is."""
    values = y if standardization is None else standardized_targets(y, *standardization)
    too_large = numpy.flatnonzero(numpy.abs(values) > float(limits.max))
    if len(too_large):
        i = int(too_large[0])
        what = cells[i] if standardization is None else \
            f"{cells[i]}, standardized, (y − mean) / scale = {float(values[i]):.4g},"
        raise DataError(f"{where.format(lines[i])}: {what} is too large for {limits.dtype.name}, whose largest "
                        f"magnitude is {float(limits.max):.4g}")


def _feature(cell: str, line: int, column: int, header: list, path: Path) -> float:
    """One feature cell as a float, or DataError naming its line and column."""
    number = _number(cell)
    if number is None:
        where = f"{path}: line {line}, column {column + 1} {quoted(header[column])}"
        if not cell.strip():
            raise DataError(f"{where}: expected a number, found an empty cell (a missing value); {MISSING_ADVICE}")
        if cell.strip() in MISSING_MARKERS:
            raise DataError(f"{where}: expected a number, found {quoted(cell)}, which marks a missing value (pandas "
                            f"reads it as NaN); {MISSING_ADVICE}")
        decimal_comma = comma_number_advice(cell)
        if decimal_comma:
            raise DataError(f"{where}: expected a number, found {quoted(cell)}{decimal_comma}")
        name = header[column]
        option = name if len(name) <= QUOTE_LIMIT else quoted(name)  # as typed, unless too long to show
        # Text in a feature column is most often a label column that is not the last one.
        raise DataError(f"{where}: expected a number, found {quoted(cell)} (if {quoted(name)} holds the labels, "
                        f"name it as the label column: --label {option} / label={quoted(name)})")
    return number


def _labels(cells: list, lines: list, where: str, path: Path, *, numeric_only: bool,
            as_text: bool = False) -> numpy.ndarray:
    """Label cells as float64 when all are numbers, as booleans when all are ``True``/``False``
    (``true``/``false``, ``TRUE``/``FALSE``: what pandas reads as bool), else as strings (unless
    ``numeric_only``). A ``nan`` or ``inf`` label is refused in a column of numbers only: among
    text it is a class name.

    With ``as_text`` they stay strings even when all are numbers or booleans.
    """
    numbers = [_number(cell) for cell in cells]
    # In a column holding text, "nan" or "inf" is a class name like the others, not a number
    text = as_text or any(number is None for number in numbers)
    for line, cell, number in zip(lines, cells, numbers):
        if not cell:
            raise DataError(f"{path}: line {line}, {where}: empty label cell")
        if number is not None and not math.isfinite(number) and not text:
            raise DataError(f"{path}: line {line}, {where}: expected a finite label, found {quoted(cell)}")
        if number is None and numeric_only:
            raise LabelError(f"{path}: line {line}, {where}: regression needs numeric labels, found {quoted(cell)}"
                             f"{comma_number_advice(cell)}")
    if not as_text and all(number is not None for number in numbers):
        return numpy.array(numbers, dtype=numpy.float64)
    if not as_text and all(cell in BOOLEANS for cell in cells):
        return numpy.array([BOOLEANS[cell] for cell in cells], dtype=bool)
    return numpy.array(cells, dtype=str)


def comma_number_advice(cell: str) -> str:
    """For a cell holding a number written with a comma, the end of the error for it: what number it
    looks like, and how to convert the file; "" for any other cell. A decimal comma (``DECIMAL_COMMA``,
    "1,5") is converted with decimal=','; commas between thousands (``THOUSANDS_SEPARATED``, "1,000,000",
    "12,345.6") with thousands=','. A cell such as "1,000" (``THOUSANDS_COMMA``) is told both ways, 1.000
    and 1000, since converting it with decimal=',' where its comma separates thousands would read 1."""
    number = cell.strip()
    convert = "pandas.read_csv(path, {}).to_csv('converted.csv', index=False)"
    if THOUSANDS_COMMA.fullmatch(number):
        return (f", which looks like the number {number.replace(',', '.')} written with a decimal comma, or "
                f"{number.replace(',', '')} with a comma between thousands; chainrule reads a decimal point and no "
                f"separator: convert the file, e.g. with pandas: {convert.format(DECIMAL)}, or thousands=',' in "
                f"place of decimal=',' for the second")
    if DECIMAL_COMMA.fullmatch(number):
        return (f", which looks like the number {number.replace(',', '.')} written with a decimal comma; chainrule "
                f"reads a decimal point: convert the file, e.g. with pandas: {convert.format(DECIMAL)}")
    if THOUSANDS_SEPARATED.fullmatch(number):
        commas = "commas" if number.count(",") > 1 else "a comma"
        return (f", which looks like the number {number.replace(',', '')} written with {commas} between thousands; "
                f"chainrule reads numbers without separators: convert the file, e.g. with pandas: "
                f"{convert.format(THOUSANDS)}")
    return ""


def comma_number_label(labels: numpy.ndarray) -> str:
    """For text labels the first of which looks like a number written with a comma ("1,000,000": a CSV file read
    without ``thousands=','`` holds it as text, a class name), that label quoted and what :func:`comma_number_advice`
    says of it (the number it looks like, the pandas line that converts the file); "" for any other labels. Text is
    NumPy's str (kind U), an object array's str or NumPy 2's StringDType (T): a first label that is a str."""
    if labels.dtype.kind not in "USOT" or not labels.size or not isinstance(labels.flat[0], str):
        return ""
    first = str(labels.flat[0])  # NumPy's str_ as Python's, whose repr a message shows
    advice = comma_number_advice(first)
    return f"{quoted(first)}{advice}" if advice else ""


def _pandas_names(n_columns: int) -> list:
    """The names pandas gives the columns of a frame made from an array, as ``to_csv`` writes them."""
    return [str(j) for j in range(n_columns)]


#: Label cells read as booleans, as pandas.read_csv reads them
BOOLEANS = {"True": True, "true": True, "TRUE": True, "False": False, "false": False, "FALSE": False}


def _number(cell: str) -> float | None:
    """``cell`` as a float (the same parse NumPy applies), or None if it is not a number.

    A number is written in ASCII, as numpy.loadtxt and pandas.read_csv read one: ``float()`` also
    reads an underscore between digits (``1_000``, as Python source writes numbers) and digits beyond
    ASCII (``١٢٣``, ``１２``), which both parsers take for text, and so does this. Whitespace around
    the number (``" 1e5 "``, a no-break space) is read past, as by numpy.loadtxt."""
    if "_" in cell or not cell.isascii() and not cell.strip().isascii():
        return None
    try:
        return float(cell)
    except ValueError:
        return None
