"""chainrule.data.csv_file: CSV files, and every bad CSV named by file, line and column."""

import csv

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chainrule.data import csv_file
from chainrule.data.csv_file import load_csv, load_csv_features
from chainrule.errors import DataError, LabelError
from tests.harness import traced_peak


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_features_string_labels_and_names(tmp_path):
    path = write(tmp_path, "length,width,kind\n1.5,2,cat\n-3e-1, 4 ,dog\n7,8,cat\n")
    data = load_csv(path)
    assert data.X_train.tolist() == [[1.5, 2.0], [-0.3, 4.0], [7.0, 8.0]]
    assert data.X_train.dtype == numpy.float64
    assert data.y_train.tolist() == ["cat", "dog", "cat"]
    assert data.task == "classification"
    assert data.feature_names == ["length", "width"] and data.label_name == "kind"
    assert data.name == "data.csv" and data.X_test is None


def test_label_column_chosen_by_name_may_be_anywhere(tmp_path):
    path = write(tmp_path, "a,species,b\n1,x,2\n3,y,4\n5,x,6\n")
    data = load_csv(path, label="species")
    assert data.X_train.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert data.feature_names == ["a", "b"] and data.label_name == "species"
    assert data.y_train.tolist() == ["x", "y", "x"]


def test_blank_lines_crlf_and_byte_order_mark_are_accepted(tmp_path):
    path = tmp_path / "windows.csv"
    path.write_bytes("\ufeffa,b,label\r\n\r\n1,2,0\r\n3,4,1\r\n\r\n5,6,0\r\n7,8,1\r\n".encode("utf-8"))
    data = load_csv(path)
    assert data.feature_names == ["a", "b"]
    assert data.X_train.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]


def test_quoted_cells_are_read_as_csv(tmp_path):
    path = write(tmp_path, 'x,"y, in cm",label\n1,"2","a, b"\n3,4,"c, d"\n5,6,"c, d"\n')
    data = load_csv(path)
    assert data.feature_names == ["x", "y, in cm"]
    assert data.X_train.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert data.y_train.tolist() == ["a, b", "c, d", "c, d"]


def test_whole_number_labels_are_integer_classes(tmp_path):
    rows = "".join(f"{i},{i % 3}\n" for i in range(12))
    data = load_csv(write(tmp_path, "x,digit\n" + rows))
    assert data.task == "classification" and data.y_train.dtype == numpy.int64
    assert data.y_train.tolist() == [i % 3 for i in range(12)]


def test_fractional_labels_are_regression_targets(tmp_path):
    data = load_csv(write(tmp_path, "x,price\n1,0.5\n2,1.25\n3,2.75\n"))
    assert data.task == "regression" and data.y_train.dtype == numpy.float64


def test_task_can_be_forced(tmp_path):
    path = write(tmp_path, "x,y\n1,0\n2,1\n3,0\n4,1\n")
    assert load_csv(path, task="regression").y_train.dtype == numpy.float64
    assert load_csv(path, task="classification").task == "classification"


def test_many_rows_are_read_in_chunks_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_file, "CHUNK_CELLS", 6)  # 3 rows of 2 features
    rows = "".join(f"{i},{-i},{i % 2}\n" for i in range(10))
    data = load_csv(write(tmp_path, "a,b,c\n" + rows))
    assert data.X_train[:, 0].tolist() == list(range(10))
    assert data.X_train[:, 1].tolist() == [-i for i in range(10)]


@given(hnp.arrays(numpy.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
                  elements=st.floats(allow_nan=False, allow_infinity=False)))
def test_finite_floats_round_trip_exactly(tmp_path_factory, X):
    path = tmp_path_factory.mktemp("round") / "floats.csv"
    header = ",".join(f"f{j}" for j in range(X.shape[1])) + ",label\n"
    body = "".join(",".join(repr(float(v)) for v in row) + f",{i % 2}\n" for i, row in enumerate(X))
    path.write_text(header + body)
    assert numpy.array_equal(load_csv(path).X_train, X)


def test_pandas_default_column_names_and_numeric_feature_names_are_a_header(tmp_path):
    # pandas.DataFrame(array).to_csv(index=False) names the columns 0..n-1; wavelengths name features
    data = load_csv(write(tmp_path, "0,1,2\n1.5,2,0\n3,4,1\n"))
    assert data.feature_names == ["0", "1"] and data.label_name == "2" and len(data.X_train) == 2
    # also when the label column's name, 2, is one of its labels (it was taken for a row of data)
    assert len(load_csv(write(tmp_path, "0,1,2\n1.5,2,0\n3,4,1\n5,6,2\n")).X_train) == 3
    data = load_csv(write(tmp_path, "400,410,kind\n1.5,2,a\n3,4,b\n"))
    assert data.feature_names == ["400", "410"] and data.y_train.tolist() == ["a", "b"]


@pytest.mark.parametrize("true, false", [("True", "False"), ("true", "false"), ("TRUE", "FALSE")])
def test_true_and_false_labels_are_booleans_as_pandas_reads_them(tmp_path, true, false):
    # They were text classes ['False', 'True'], which a bool y read by pandas did not match
    data = load_csv(write(tmp_path, f"a,b,label\n1,2,{true}\n3,4,{false}\n5,6,{true}\n"))
    assert data.y_train.dtype == bool and data.y_train.tolist() == [True, False, True]
    assert data.task == "classification"
    mixed = load_csv(write(tmp_path, f"a,b,label\n1,2,{true}\n3,4,maybe\n", name="mixed.csv"))
    assert mixed.y_train.tolist() == [true, "maybe"]  # not all booleans: text, as before
    as_text = csv_file._labels([true, false], [2, 3], "column 3", tmp_path, numeric_only=False, as_text=True)
    assert as_text.tolist() == [true, false]  # a model of text classes reads them as text


# Each bad file: its text, load_csv's keyword arguments, and fragments the message must hold.
BAD_FILES = {
    "empty file": ("", {}, ["empty", "header"]),
    "only blank lines": ("\n\n  \n", {}, ["empty"]),
    "header only": ("a,b,label\n", {}, ["no data rows"]),
    "one column": ("label\n1\n2\n", {}, ["line 1", "'label'", "one column"]),
    # Excel's CSV where the decimal mark is a comma: it said the header names one column ('a;b;label')
    "semicolons": ("a;b;label\n1,5;2;x\n", {}, ["line 1", "no comma but 2 semicolons", "'a;b;label'",
                                                "comma-separated", "pandas.read_csv(path, sep=';')",
                                                "decimal=','"]),
    "tabs": ("a\tb\tlabel\n1\t2\tx\n", {}, ["line 1", "no comma but 2 tabs", "sep='\\t'"]),
    # its first row was taken for the names (numbers) and left out of the data, without a word
    "no header": ("\n5.1,3.5,0\n4.9,3.0,1\n", {}, ["line 2", "expected a header row", "numbers only",
                                                   "'5.1,3.5,0'", "add a header line"]),
    "no header, wide": ("0,0,1,1,0,1\n1,1,0,0,1,0\n", {}, ["line 1", "'0,0,1,1,...'"]),
    # UCI's iris.data: the label column's "name" is one of its labels
    "no header, text labels": ("5.1,3.5,setosa\n4.9,3.0,setosa\n7.0,3.2,versicolor\n", {},
                               ["line 1", "found numbers and the label 'setosa'", "add a header line"]),
    "unnamed column": ("a,,label\n1,2,3\n", {}, ["line 1", "column 2", "no name in the header"]),
    # pandas' to_csv(path) writes its index as an unnamed first column: the message said no more than that
    "pandas index": (",a,b,label\n0,1,2,x\n1,3,4,y\n", {}, ["line 1: column 1 has no name in the header; pandas' "
                                                         "DataFrame.to_csv writes its index so",
                                                         "to_csv(path, index=False)"]),
    "duplicate names": ("a,b,a\n1,2,3\n", {}, ["line 1", "columns 1 and 3", "'a'"]),
    "missing label column": ("a,b,c\n1,2,3\n", {"label": "target"}, ["'target'", "'a', 'b', 'c'"]),
    # a label column named but for its case (--label Target for pandas' "target"): the header was listed alone
    "label column in another case": ("a,b,target\n1,2,3\n", {"label": "Target"},
                                     ["no label column named 'Target'", "'a', 'b', 'target' (did you mean 'target'?)"]),
    # it said "no label column named 2" beside a column '2'
    "label not a str": ("0,1,2\n1,2,3\n", {"label": 2}, ["label: expected the name of a column (a str), got int 2",
                                                          "label='2'"]),
    "short row": ("a,b,label\n1,2,0\n3,4\n", {}, ["line 3", "expected 3 cells", "found 2"]),
    "long row": ("a,b,label\n1,2,0,9\n", {}, ["line 2", "expected 3 cells", "found 4"]),
    "text cell": ("a,b,label\n1,2,0\n3,four,1\n", {}, ["line 3", "column 2 'b'", "expected a number", "'four'"]),
    "empty cell": ("a,b,label\n,2,0\n", {}, ["line 2", "column 1 'a'", "empty cell (a missing value)",
                                             "fill in or drop the rows with missing values"]),
    # pandas' markers of a missing value (and UCI's "?") were called text, with advice to name a label column
    "NA cell": ("a,b,label\n1,2,0\nNA,4,1\n", {}, ["line 3", "column 1 'a'", "'NA', which marks a missing value",
                                                 "fill in or drop"]),
    "null cell": ("a,b,label\n1,null,0\n", {}, ["line 2", "column 2 'b'", "'null', which marks a missing value"]),
    "question mark cell": ("a,b,label\n1,2,0\n3,?,1\n", {}, ["line 3", "column 2 'b'", "'?', which marks"]),
    "quoted N/A cell": ('a,b,label\n1,"N/A",0\n', {}, ["line 2", "column 2 'b'", "'N/A', which marks a missing"]),
    "blank cell": ("a,b,label\n1,  ,0\n", {}, ["line 2", "column 2 'b'", "empty cell"]),
    "nan cell": ("a,b,label\n1,2,0\n3,4,1\nnan,5,0\n", {}, ["line 4", "column 1 'a'", "finite", "'nan'"]),
    "inf cell": ("a,b,label\n1,-inf,0\n", {}, ["line 2", "column 2 'b'", "finite", "'-inf'"]),
    "overflowing cell": ("a,b,label\n1,1e999,0\n", {}, ["line 2", "column 2 'b'", "finite", "'1e999'"]),
    "label in middle": ("a,y,b\n1,0,2\n3,1,x\n", {"label": "y"}, ["line 3", "column 3 'b'", "'x'"]),
    "quoted text cell": ('a,b,label\n1,"2",0\n"x",4,1\n', {}, ["line 3", "column 1 'a'", "'x'"]),
    "quoted nan cell": ('a,b,label\n1,"2",0\n3,"NaN",1\n', {}, ["line 3", "column 2 'b'", "finite"]),
    "empty label": ("a,b,label\n1,2,0\n3,4,\n", {}, ["line 3", "column 3 'label'", "empty label"]),
    "nan label": ("a,b,label\n1,2,0\n3,4,nan\n", {}, ["line 3", "column 3 'label'", "finite", "'nan'"]),
    "inf label": ("a,b,y\n1,2,0.5\n3,4,inf\n", {}, ["line 3", "column 3 'y'", "finite", "'inf'"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_csv_raises_data_error_naming_file_line_and_column(tmp_path, case):
    text, options, fragments = BAD_FILES[case]
    path = write(tmp_path, text)
    with pytest.raises(DataError) as caught:
        load_csv(path, **options)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_bad_cell_in_a_later_chunk_is_named_by_its_own_line(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_file, "CHUNK_CELLS", 4)  # 2 rows of 2 features
    rows = ["1,2,0", "3,4,1", "5,6,0", "7,8,1", "\n9,oops,0"]  # a blank line before the bad row
    path = write(tmp_path, "a,b,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"line 7, column 2 'b'.*'oops'"):
        load_csv(path)


def test_string_labels_for_regression_raise_label_error_naming_line_and_column(tmp_path):
    path = write(tmp_path, "a,price\n1,2.5\n2,cheap\n")
    with pytest.raises(LabelError) as caught:
        load_csv(path, task="regression")
    assert all(part in str(caught.value) for part in (str(path), "line 3", "'price'", "'cheap'"))


def test_bytes_that_are_not_utf8_are_named_by_line(tmp_path):
    """The line also says how to convert the file (it asked only 'is it a CSV file?')."""
    path = tmp_path / "latin1.csv"
    path.write_bytes("a,b,label\n1,2,0\n3,4,caf\u00e9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1\.csv: line 3: not UTF-8 text \(is it a CSV file\? one in another "
                                        r"encoding, such as Windows-1252 or Latin-1, needs saving as UTF-8 first, "
                                        r"e\.g\. iconv -f cp1252 -t utf-8\)$"):
        load_csv(path)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_text_is_named_so(tmp_path, encoding):
    """Excel's 'Unicode Text' (and PowerShell's '>') write UTF-16: it was called 'not UTF-8 text (is it a CSV
    file?)' at line 1."""
    path = tmp_path / "utf16.csv"
    mark = "\ufeff" if encoding == "utf-16-be" else ""  # "utf-16" writes the mark itself
    path.write_bytes((mark + "a,b,label\n1,2,0\n").encode(encoding))
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    with pytest.raises(DataError, match=r"utf16\.csv: UTF-16 text \(it starts with UTF-16's byte-order mark\); "
                                        r"chainrule reads UTF-8: save it as UTF-8"):
        load_csv(path)


@pytest.mark.parametrize("encoding, order", [("utf-16-le", "LE"), ("utf-16-be", "BE")])
@pytest.mark.parametrize("text", ["a,b,label\n1,2,0\n", "x,y\r\n1,2\r\n", "caf\u00e9,b,\u00e9t\u00e9\n1,2,\u00e9\n"])
def test_utf16_text_without_a_byte_order_mark_is_named_so(tmp_path, encoding, order, text):
    """It was 'line 1: a NUL character, which CSV text never holds (is it a CSV file?)'."""
    path = tmp_path / "utf16.csv"
    path.write_bytes(text.encode(encoding))
    with pytest.raises(DataError) as error:
        load_csv(path)
    assert str(error.value) == (f"{path}: UTF-16 {order} text without a byte-order mark (every other byte of its "
                                f"start is NUL); chainrule reads UTF-8: save it as UTF-8 (Excel: 'CSV UTF-8'), e.g. "
                                f"iconv -f utf-16{order.lower()} -t utf-8")


@pytest.mark.parametrize("encoding, order", [("utf-16-le", "LE"), ("utf-16-be", "BE")])
def test_utf16_text_of_an_odd_length_under_64_bytes_is_named_so(tmp_path, encoding, order):
    """A byte after the text (``echo >> file`` appends one '\\n'): the start looked at is its first 64 bytes, or all
    of a shorter file but its odd last byte. That byte was looked at, in a big-endian file among the bytes that
    must all be NUL: 'line 1: a NUL character'."""
    path = tmp_path / "utf16.csv"
    path.write_bytes("a,b,label\n1,2,0\n".encode(encoding) + b"\n")
    with pytest.raises(DataError, match=rf"utf16\.csv: UTF-16 {order} text without a byte-order mark"):
        load_csv(path)


@pytest.mark.parametrize("raw", [b"a\0b", b"\0\0\0\0,\0\n", b"a,b\0\0\n", b"a\0,\0b\0\0\0"])
def test_nul_bytes_other_than_every_other_one_are_a_nul_character(tmp_path, raw):
    path = tmp_path / "data.csv"
    path.write_bytes(raw)
    with pytest.raises(DataError, match=r"data\.csv: line 1: a NUL character"):
        load_csv(path)


def test_unreadable_csv_is_named_by_line(tmp_path):
    path = write(tmp_path, 'a,b,label\n1,2,"0"\n3,4,"x"y\n')  # text after a closing quote: strict mode refuses it
    with pytest.raises(DataError, match=r"data\.csv: line 3: not valid CSV \(',' expected after '\"'\)"):
        load_csv(path)


def test_missing_file_raises_data_error_naming_the_path(tmp_path):
    path = tmp_path / "absent.csv"
    with pytest.raises(DataError, match="absent.csv: no such file"):
        load_csv(path)


def test_directory_raises_data_error_naming_the_path(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(DataError, match="folder.csv: is a directory"):
        load_csv(tmp_path / "folder.csv")


def test_unreadable_file_raises_data_error_naming_the_path(tmp_path, monkeypatch):
    path = write(tmp_path, "a,label\n1,0\n2,1\n", name="secret.csv")

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(path), "open", refuse)
    with pytest.raises(DataError, match="secret.csv: cannot read the file .Permission denied"):
        load_csv(path)


def test_feature_only_csv_is_read_when_its_width_matches(tmp_path):
    path = write(tmp_path, "a,b,c\n1,2,3\n4,5,6\n")
    assert load_csv_features(path, 3).tolist() == [[1, 2, 3], [4, 5, 6]]


def test_feature_only_csv_of_another_width_gives_none(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,x\n")
    assert load_csv_features(path, 2) is None  # the file has a label column: load_csv reads it


def test_feature_only_csv_names_a_bad_cell(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n3,\n")
    with pytest.raises(DataError, match=r"line 3, column 2 'b': expected a number, found an empty cell"):
        load_csv_features(path, 2)


def test_feature_only_csv_may_have_one_column(tmp_path):
    assert load_csv_features(write(tmp_path, "a\n1\n2\n"), 1).tolist() == [[1], [2]]


def test_rows_to_predict_separated_by_semicolons_are_named_so(tmp_path):
    """They were refused as a file without the model's columns, the header listed as one ('a;b')."""
    path = write(tmp_path, "a;b\n1;2\n")
    with pytest.raises(DataError, match=r"^.*data.csv: line 1: the header has no comma but 1 semicolon \('a;b'\); "
                                        r"chainrule reads comma-separated files"):
        csv_file.load_csv_for_model(path, n_features=2, feature_names=["a", "b"], label_required=False)
    with pytest.raises(DataError, match=r"no comma but 1 semicolon"):
        csv_file.load_csv_for_model(path, n_features=2, label_required=False)
    with pytest.raises(DataError, match=r"no comma but 1 semicolon"):
        load_csv_features(path, 2)


@pytest.mark.parametrize("name", ["dose;mg", "dose\tmg"])
def test_a_one_column_file_whose_column_is_the_models_is_read_whatever_its_name_holds(tmp_path, name):
    """A model of one feature named 'dose;mg' (a quoted name in the CSV file it was trained on), or one of one
    feature taken by position: its one-column rows were refused as a file separated by semicolons (or tabs)."""
    path = write(tmp_path, f'"{name}"\n1\n2\n')
    X, y = csv_file.load_csv_for_model(path, n_features=1, feature_names=[name], label_required=False)
    assert X.tolist() == [[1], [2]] and y is None
    X, y = csv_file.load_csv_for_model(path, n_features=1, label_required=False)
    assert X.tolist() == [[1], [2]] and y is None
    assert load_csv_features(path, 1).tolist() == [[1], [2]]
    with pytest.raises(DataError, match=r"no comma but 1 (semicolon|tab)"):  # a model of other columns: the separator
        csv_file.load_csv_for_model(path, n_features=1, feature_names=["dose"], label_required=False)


@pytest.mark.parametrize("quoted", [False, True])
def test_bare_carriage_return_line_endings_are_read(tmp_path, quoted):
    text = 'a,b,label\r1,2,0\r3,4,1\r' if not quoted else 'a,b,label\r"1",2,0\r3,4,1\r'
    data = load_csv(write(tmp_path, text))
    assert data.X_train.tolist() == [[1, 2], [3, 4]] and data.y_train.tolist() == [0, 1]


def test_an_unclosed_quote_is_reported_on_the_line_where_it_opens(tmp_path):
    path = write(tmp_path, 'a,b,label\n"1,2,0\n3,4,1\n5,6,0\n')
    with pytest.raises(DataError, match=r"data.csv: line 2: a quoted cell in this row is never closed"):
        load_csv(path)


def test_a_quoted_row_spanning_lines_is_numbered_by_its_first_line(tmp_path):
    path = write(tmp_path, 'a,b,label\n1,oops,"x\ny"\n3,4,z\n')
    with pytest.raises(DataError, match=r"line 2, column 2 'b'"):
        load_csv(path)


def test_a_model_reads_its_columns_by_name_in_its_order(tmp_path):
    path = write(tmp_path, "label,id,b,a\nx,7,1,2\ny,8,3,4\n")
    X, y = csv_file.load_csv_for_model(path, n_features=2, feature_names=["a", "b"], label="label")
    assert X.tolist() == [[2, 1], [4, 3]] and y.tolist() == ["x", "y"]


def test_a_model_column_missing_from_the_file_is_named(tmp_path):
    path = write(tmp_path, "label,b\nx,1\n")
    with pytest.raises(DataError, match=r"data.csv: no column named 'a', which the model takes as a feature"):
        csv_file.load_csv_for_model(path, n_features=2, feature_names=["a", "b"], label="label")


def test_a_missing_label_column_is_named_only_when_labels_are_needed(tmp_path):
    path = write(tmp_path, "b,a\n1,2\n")
    X, y = csv_file.load_csv_for_model(path, n_features=2, feature_names=["a", "b"], label="label",
                                       label_required=False)
    assert X.tolist() == [[2, 1]] and y is None
    with pytest.raises(DataError, match=r"data.csv: no label column named 'label' to score against"):
        csv_file.load_csv_for_model(path, n_features=2, feature_names=["a", "b"], label="label")
    path = write(tmp_path, "b,a,Label\n1,2,0\n")
    with pytest.raises(DataError, match=r"to score against; the header has columns 'b', 'a', 'Label' "
                                        r"\(did you mean 'Label'\?\)$"):
        csv_file.load_csv_for_model(path, n_features=2, feature_names=["a", "b"], label="label")


def test_a_label_column_named_by_an_option_must_be_there_even_when_labels_are_not_needed(tmp_path):
    path = write(tmp_path, "b,a,label\n1,2,\n")
    X, y = csv_file.load_csv_for_model(path, n_features=2, feature_names=["a", "b"], label="label",
                                       label_required=False, label_option="--label")
    assert X.tolist() == [[2, 1]] and y is None  # there, left empty: no labels
    with pytest.raises(DataError, match=r"^--label: .*data.csv has no column named 'nope'; name its label column, "
                                        r"or leave --label out$"):
        csv_file.load_csv_for_model(path, n_features=2, feature_names=["a", "b"], label="nope",
                                    label_required=False, label_option="--label")


@pytest.mark.parametrize("feature_names", [["a", "b"], None])
def test_an_empty_label_column_is_no_labels_only_when_labels_are_not_needed(tmp_path, feature_names):
    """It was refused as an "empty label cell" even when no labels were needed (predict)."""
    path = write(tmp_path, "a,b,label\n1,2,\n3,4, \n")
    X, y = csv_file.load_csv_for_model(path, n_features=2, feature_names=feature_names, label_required=False)
    assert X.tolist() == [[1, 2], [3, 4]] and y is None
    with pytest.raises(DataError, match=r"data.csv: line 2, column 3 'label': empty label cell$"):
        csv_file.load_csv_for_model(path, n_features=2, feature_names=feature_names)
    path = write(tmp_path, "a,b,label\n1,2,x\n3,4,\n")
    with pytest.raises(DataError, match=r"data.csv: line 3, column 3 'label': empty label cell, where other rows "
                                        r"hold labels; leave every label cell empty \(or the column out\)"):
        csv_file.load_csv_for_model(path, n_features=2, feature_names=feature_names, label_required=False)


def test_by_name_without_a_label_the_last_column_is_the_label_unless_it_is_a_feature(tmp_path):
    path = write(tmp_path, "id,b,a,kind\n7,1,2,x\n8,3,4,y\n")
    X, y = csv_file.load_csv_for_model(path, n_features=2, feature_names=["a", "b"])
    assert X.tolist() == [[2, 1], [4, 3]] and y.tolist() == ["x", "y"]
    path = write(tmp_path, "kind,c,a,b\nx,0,1,2\n")  # the last column is the feature b
    X, y = csv_file.load_csv_for_model(path, n_features=3, feature_names=["c", "a", "b"], label_required=False)
    assert X.tolist() == [[0, 1, 2]] and y is None
    with pytest.raises(DataError, match=r"data.csv: no label column: the last column 'b' is one of the model's "
                                        r"features; name the label column \(--label NAME / label='NAME'\); the header "
                                        r"has columns 'kind', 'c', 'a', 'b'$"):
        csv_file.load_csv_for_model(path, n_features=3, feature_names=["c", "a", "b"])


def test_by_position_a_file_as_wide_as_the_model_has_no_label_column(tmp_path):
    path = write(tmp_path, "p,q\n1,2\n")
    X, y = csv_file.load_csv_for_model(path, n_features=2, label_required=False)
    assert X.tolist() == [[1, 2]] and y is None
    with pytest.raises(DataError, match=r"data.csv: no label column: its 2 columns are the model's features"):
        csv_file.load_csv_for_model(path, n_features=2)
    X, y = csv_file.load_csv_for_model(write(tmp_path, "p,q,r\n1,2,0\n3,4,1\n"), n_features=2)
    assert X.tolist() == [[1, 2], [3, 4]] and y.tolist() == [0, 1]


def test_number_labels_stay_text_for_a_model_with_text_classes(tmp_path):
    path = write(tmp_path, "a,label\n1,1\n2,1\n")
    _, y = csv_file.load_csv_for_model(path, n_features=1, text_labels=True)
    assert y.tolist() == ["1", "1"]
    _, y = csv_file.load_csv_for_model(path, n_features=1)
    assert y.tolist() == [1, 1]


def test_text_in_a_feature_column_suggests_naming_it_the_label_column(tmp_path):
    path = tmp_path / "first.csv"
    path.write_text("species,a,b\nsetosa,1,2\nvirginica,3,4\n")
    with pytest.raises(DataError, match=r"line 2, column 1 'species': expected a number, found 'setosa' "
                                        r"\(if 'species' holds the labels, name it as the label column: "
                                        r"--label species / label='species'\)"):
        load_csv(path)


DECIMAL_COMMA_ADVICE = ("chainrule reads a decimal point: convert the file, e.g. with pandas: "
                        "pandas.read_csv(path, decimal=',').to_csv('converted.csv', index=False)")


@pytest.mark.parametrize("cell, number", [("1,5", "1.5"), ("-0,25", "-0.25"), (" 2,5e3 ", "2.5e3"), (",5", ".5")])
def test_a_number_with_a_decimal_comma_says_so_and_how_to_convert_the_file(tmp_path, cell, number):
    """It suggested naming the column as the label column, as for text."""
    path = write(tmp_path, f'a,b,label\n1.5,"{cell}",x\n2,3,y\n')
    message = (f"{path}: line 2, column 2 'b': expected a number, found '{cell}', which looks like the number "
               f"{number} written with a decimal comma; {DECIMAL_COMMA_ADVICE}")
    with pytest.raises(DataError) as error:
        load_csv(path)
    assert str(error.value) == message
    with pytest.raises(DataError) as error:  # as rows to predict
        csv_file.load_csv_for_model(path, n_features=2, feature_names=["a", "b"], label_required=False)
    assert str(error.value) == message


def test_a_regression_target_with_a_decimal_comma_says_so(tmp_path):
    path = write(tmp_path, 'a,y\n1,"0,5"\n2,3\n')
    with pytest.raises(LabelError) as error:
        load_csv(path, task="regression")
    assert str(error.value) == (f"{path}: line 2, column 2 'y': regression needs numeric labels, found '0,5', which "
                                f"looks like the number 0.5 written with a decimal comma; {DECIMAL_COMMA_ADVICE}")


@pytest.mark.parametrize("cell, number, thousands", [("1,000", "1.000", "1000"), (" -12,345 ", "-12.345", "-12345")])
def test_a_number_with_a_comma_before_three_digits_says_it_may_separate_thousands(tmp_path, cell, number, thousands):
    """It said only 'looks like the number 1.000 written with a decimal comma' and to convert the file with
    decimal=',', which reads the 1000 of a spreadsheet whose numbers are formatted with thousands separators as 1."""
    path = write(tmp_path, f'a,b,label\n1.5,"{cell}",x\n2,3,y\n')
    with pytest.raises(DataError) as error:
        load_csv(path)
    assert str(error.value) == (
        f"{path}: line 2, column 2 'b': expected a number, found '{cell}', which looks like the number {number} "
        f"written with a decimal comma, or {thousands} with a comma between thousands; chainrule reads a decimal "
        f"point and no separator: convert the file, e.g. with pandas: pandas.read_csv(path, decimal=',')"
        f".to_csv('converted.csv', index=False), or thousands=',' in place of decimal=',' for the second")


THOUSANDS_ADVICE = ("chainrule reads numbers without separators: convert the file, e.g. with pandas: "
                    "pandas.read_csv(path, thousands=',').to_csv('converted.csv', index=False)")


@pytest.mark.parametrize("cell, number, commas", [("1,000,000", "1000000", "commas"),
                                                  ("12,345.6", "12345.6", "a comma"),
                                                  (" -1,234,567.89e3 ", "-1234567.89e3", "commas"),
                                                  ("1,000.", "1000.", "a comma")])
def test_a_number_with_commas_between_thousands_says_so_and_how_to_convert_the_file(tmp_path, cell, number, commas):
    """'1,000,000' and '12,345.6' got the hint for text, to name the column as the label column, where '1,000'
    was told as a number with a comma between thousands."""
    path = write(tmp_path, f'a,b,label\n1.5,"{cell}",x\n2,3,y\n')
    with pytest.raises(DataError) as error:
        load_csv(path)
    assert str(error.value) == (f"{path}: line 2, column 2 'b': expected a number, found '{cell}', which looks like "
                                f"the number {number} written with {commas} between thousands; {THOUSANDS_ADVICE}")
    path = write(tmp_path, f'a,y\n1,"{cell}"\n2,3\n')  # as a regression's target
    with pytest.raises(LabelError) as error:
        load_csv(path, task="regression")
    assert str(error.value) == (f"{path}: line 2, column 2 'y': regression needs numeric labels, "
                                f"found '{cell.strip()}', which looks like the number {number} written with {commas} "
                                f"between thousands; {THOUSANDS_ADVICE}")


@pytest.mark.parametrize("cell", ["1,5,2", "a,5", "1,5x", "1,00,000", "1,000.5,2", "\u0661,\u0665",
                                  "\uff11,\uff10\uff10\uff10", "\u0661\u0662,\u0663\u0664\u0665,\u0666\u0667\u0668"])
def test_text_with_a_comma_that_is_no_decimal_comma_gets_the_label_column_hint(tmp_path, cell):
    """Digits beyond ASCII ('١,٥', '１,０００') are text, as without a comma: they were told as a number with a
    decimal comma or commas between thousands and the pandas line that converts the file, which reads them as text
    too."""
    path = write(tmp_path, f'a,b,label\n1.5,"{cell}",x\n2,3,y\n')
    with pytest.raises(DataError, match=r"\(if 'b' holds the labels, name it as the label column: --label b"):
        load_csv(path)
    assert csv_file.comma_number_advice(cell) == ""


def test_a_cell_too_large_for_the_dtype_is_named_by_line_and_column(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_file, "CHUNK_CELLS", 6)  # 2 rows of 3 features
    path = write(tmp_path, "a,b,c,label\n1,2,3,x\n4,5,6,y\n7,8,9,x\n1,-1e300,4e38,y\n")
    with pytest.raises(DataError, match=r"line 5, column 2 'b': -1e300 is too large for float32, whose largest "
                                        r"magnitude is 3\.403e\+38$"):
        load_csv(path, dtype="float32")
    assert load_csv(path, dtype="float64").X_train[3, 1] == -1e300  # fits float64, as without a dtype
    assert load_csv(path).X_train[3, 2] == 4e38


def test_a_regression_target_too_large_for_the_dtype_is_named_by_line_and_column(tmp_path):
    # fit named it by its index in the shuffled training rows ("MSE: targets: ... at index (7, 0)")
    path = write(tmp_path, "a,b,label\n1,2,0.5\n2,3,1e300\n3,1,2.5\n")
    with pytest.raises(DataError, match=r"line 3, column 3 'label': 1e300 is too large for float32, whose largest "
                                        r"magnitude is 3\.403e\+38$"):
        load_csv(path, target_dtype="float32")
    assert load_csv(path, target_dtype="float64").y_train[1] == 1e300
    assert load_csv(path, dtype="float32").y_train[1] == 1e300  # targets standardized first (in float64): no check


def test_a_target_standardized_beyond_the_target_dtype_is_named_by_its_line(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,1e-30\n2,3,1e10\n3,1,-1e-30\n")
    standardization = (numpy.array([0.0]), numpy.array([1e-30]))
    with pytest.raises(DataError, match=r"line 3, column 3 'label': 1e10, standardized, \(y − mean\) / scale = "
                                        r"1e\+40, is too large for float32, whose largest magnitude is 3\.403e\+38$"):
        load_csv(path, target_dtype="float32", target_standardization=standardization)
    assert load_csv(path, target_dtype="float64", target_standardization=standardization).y_train[1] == 1e10


def test_a_cell_too_large_is_named_by_its_column_in_the_file_whatever_the_models_order(tmp_path):
    path = write(tmp_path, "c,a,b\n1,2,3\n1,1e39,1e39\n")
    with pytest.raises(DataError, match=r"line 3, column 2 'a': 1e39 is too large for float32"):
        csv_file.load_csv_for_model(path, n_features=2, feature_names=["b", "a"], label_required=False,
                                    dtype=numpy.float32)


# A file without quotes is split by hand; one with a quote is read by the csv module. Both must
# give the same numbers and the same errors: a quoted header name sends the same cells down the
# csv module's path.
def read_both_ways(tmp_path, header, body, **options):
    """``(outcome without quotes, outcome with a quoted header)``: the result's bits, or the error."""
    outcomes = []
    for first_name in (header[0], f'"{header[0]}"'):
        path = write(tmp_path, ",".join([first_name, *header[1:]]) + "\n" + body)
        try:
            data = load_csv(path, **options)
            outcomes.append((data.X_train.tobytes(), data.X_train.shape, data.y_train.tolist(), data.task))
        except DataError as error:
            outcomes.append(str(error))
    return outcomes


@pytest.mark.parametrize("cell, number", [
    (" 1.5", 1.5), ("1.5 ", 1.5), ("\t2", 2.0), ("\u00a01.5", 1.5), ("+1", 1.0), ("1e-400", 0.0), ("-0", -0.0),
    (".5", 0.5), ("1.7976931348623157e308", 1.7976931348623157e308),
    ("1.5\x1c", None), ("\x1f1", None), ("1__0", None), ("0x10", None), ("1 5", None), ("nan", None),
    ("-Infinity", None), ("1e999", None), ("", None), (" ", None), ("x", None),
    # text, as numpy.loadtxt and pandas.read_csv read them; float() reads them (1000, 10.5, 12, 12, 1), and so did this
    ("1_000", None), ("1_0.5", None), ("\u0661\u0662", None), ("\uff11\uff12", None), ("\u00a0\u0661", None),
])
def test_a_tricky_cell_reads_alike_with_and_without_quotes(tmp_path, cell, number):
    unquoted, quoted = read_both_ways(tmp_path, ["a", "b", "label"], f"1,2,0\n3,{cell},1\n")
    assert unquoted == quoted
    if number is None:
        assert "line 3, column 2 'b'" in unquoted
    else:
        assert numpy.frombuffer(unquoted[0])[3] == number
        assert numpy.signbit(numpy.frombuffer(unquoted[0])[3]) == numpy.signbit(number)


def test_chunks_blank_lines_crlf_and_a_label_in_the_middle_read_alike_with_and_without_quotes(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_file, "CHUNK_CELLS", 9)  # 3 rows of 3 features
    rows = [f"{i * 0.1!r},{'ab'[i % 2]}, {-i}e-3 ,{i}" for i in range(11)]
    body = "\r\n".join(rows[:4] + ["", "  "] + rows[4:]) + "\r\n\r\n"
    unquoted, quoted = read_both_ways(tmp_path, ["a", "kind", "b", "c"], body, label="kind")
    assert unquoted == quoted
    X = numpy.frombuffer(unquoted[0]).reshape(unquoted[1])
    assert X[:, 1].tolist() == [-i / 1000 for i in range(11)] and unquoted[2] == list("abababababa")


def test_a_bad_cell_in_the_middle_of_the_second_chunk_is_named_by_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_file, "CHUNK_CELLS", 8)  # 4 rows of 2 features
    rows = [f"{i},{i + 0.5},y{i % 3}" for i in range(12)]
    rows[5] = "5,1_0_,y2"  # the 2nd row of the 2nd chunk; float() refuses a trailing underscore
    body = "\n".join(rows[:2] + [""] + rows[2:]) + "\n"  # a blank line shifts the line numbers by one
    unquoted, quoted = read_both_ways(tmp_path, ["a", "b", "label"], body)
    assert unquoted == quoted
    assert "line 8, column 2 'b': expected a number, found '1_0_'" in unquoted


def test_a_ragged_row_is_named_before_a_bad_cell_above_it_in_its_chunk(tmp_path):
    unquoted, quoted = read_both_ways(tmp_path, ["a", "b", "label"], "1,x,0\n2,3,1\n4,1\n")
    assert unquoted == quoted
    assert "line 4: expected 3 cells as in the header, found 2" in unquoted


def test_a_cell_too_large_for_float32_in_a_later_chunk_reads_alike_with_and_without_quotes(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_file, "CHUNK_CELLS", 6)  # 2 rows of 3 features
    body = "1,x,2,3\n4,y,5,6\n7,x,8,9\n1,y,-1e300,4e38\n"
    unquoted, quoted = read_both_ways(tmp_path, ["a", "label", "b", "c"], body, label="label", dtype="float32")
    assert unquoted == quoted
    assert "line 5, column 3 'b': -1e300 is too large for float32" in unquoted



@pytest.mark.parametrize("cell, shown", [("x" * 10**6, "'" + "x" * 59 + "..."), ("1" * 5000, "'" + "1" * 59 + "...")])
def test_a_huge_cell_is_quoted_in_part(tmp_path, cell, shown):
    """A 50 MB cell made a 50 MB message, a 5000-digit number one of 5 KB."""
    path = write(tmp_path, f"a,label\n{cell},1\n2,0\n")
    with pytest.raises(DataError) as caught:
        load_csv(path)
    message = str(caught.value)
    assert "line 2, column 1 'a': expected a" in message and f"found {shown}" in message
    assert len(message) < 300 + len(str(path))


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_a_nul_character_is_refused_naming_its_line(tmp_path, end):
    # NumPy's strings drop a trailing NUL: the label "y\0" would have been read as "y".
    path = tmp_path / "data.csv"
    path.write_bytes(end.join([b"a,b,label", b"1,2,x", b"3,4,y\x00", b""]))
    with pytest.raises(DataError, match=r"data\.csv: line 3: a NUL character"):
        load_csv(path)


def test_a_quoted_cell_may_be_as_long_as_an_unquoted_one(tmp_path):
    label = "x" * 200_000  # beyond the csv module's default cell limit of 131,072 characters
    limit = csv.field_size_limit()
    unquoted = load_csv(write(tmp_path, f"a,label\n1,{label}\n2,y\n", "plain.csv"))
    quoted_ = load_csv(write(tmp_path, f'a,label\n1,"{label}"\n2,y\n', "quoted.csv"))
    assert quoted_.y_train.tolist() == unquoted.y_train.tolist() == [label, "y"]
    assert csv.field_size_limit() == limit  # the process's limit is put back


def test_the_features_are_read_into_one_array_without_a_second_copy(tmp_path, monkeypatch):
    """Float blocks joined by numpy.concatenate held the rows twice (2.0 times them at the peak
    with chunks as small as these); filled in place, the peak is the rows and the file's text.

    The last row ends the file without a newline, so that its lines count the rows exactly and the
    array is not shrunk at the end: NumPy 2.5's ndarray.resize, in place (the same data, no more
    memory used), shows tracemalloc the array at both sizes at once, twice the rows at the peak."""
    monkeypatch.setattr(csv_file, "CHUNK_CELLS", 4000)
    digits = numpy.random.default_rng(0).integers(0, 10, (1500, 400))  # 4.8 MB of floats, 1.2 MB of text
    body = "\n".join(",".join(map(str, row)) + f",{i % 3}" for i, row in enumerate(digits.tolist()))
    path = write(tmp_path, ",".join(f"f{j}" for j in range(400)) + ",label\n" + body)
    data, peak = traced_peak(lambda: load_csv(path))
    assert numpy.array_equal(data.X_train, digits) and data.X_train.flags.owndata
    assert peak < 1.6 * data.X_train.nbytes


@pytest.mark.parametrize("quoted", [False, True])
@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_blank_lines_and_quoted_line_breaks_leave_exactly_the_rows_read(tmp_path, ending, quoted):
    """X is allocated for every line, then shrunk to the rows: blank lines, and the lines of
    labels spanning several, are no rows."""
    labels = [f"a{ending}b{i % 2}" if quoted else f"b{i % 2}" for i in range(7)]
    rows = [f'{i},{-i},"{label}"' if quoted else f"{i},{-i},{label}" for i, label in enumerate(labels)]
    path = tmp_path / "data.csv"
    path.write_bytes(ending.join(["", "x,y,label", *rows[:3], "", " ", *rows[3:], "", ""]).encode())
    data = load_csv(path)
    assert data.X_train.shape == (7, 2) and data.X_train.flags.owndata
    assert data.X_train[:, 1].tolist() == [-i for i in range(7)] and data.y_train.tolist() == labels


@pytest.mark.parametrize("quoted", [False, True])
def test_blank_lines_under_a_wide_header_allocate_no_row_for_each(tmp_path, quoted):
    """X was allocated a row for every line: 20 million blank lines under 2,000 columns (20 MB)
    asked for 298 GiB ('internal error', exit 1). A row of 1,000 cells holds 999 commas."""
    header = ",".join(f"c{j}" for j in range(1000))
    row = ",".join('"1"' if quoted else "1" for _ in range(1000))
    path = write(tmp_path, header + "\n" * 20_000 + row + "\n")  # was 160 MB of rows for one
    data, peak = traced_peak(lambda: load_csv(path))
    assert data.X_train.shape == (1, 999) and data.y_train.tolist() == [1.0]
    assert peak < 3_000_000  # the text, its rows and one row of floats


def test_rows_that_do_not_fit_in_memory_are_refused_naming_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, "a,b,label\n1,2,x\n3,4,y\n")

    def no_memory(shape, *args, **kwargs):
        raise MemoryError(f"Unable to allocate an array of shape {shape}")

    monkeypatch.setattr(csv_file.numpy, "empty", no_memory)
    with pytest.raises(DataError, match=r"data\.csv: up to 2 rows of 2 features \(.* GiB in float64\) do not fit in "
                                        "memory$"):
        load_csv(path)


def test_labels_that_read_as_non_finite_numbers_are_class_names_among_text(tmp_path):
    # "expected a finite label, found 'nan'" in a column of class names
    path = write(tmp_path, "a,label\n1,nan\n2,cat\n3,inf\n4,NaN\n5,nan\n6,cat\n")
    data = load_csv(path)
    assert data.y_train.tolist() == ["nan", "cat", "inf", "NaN", "nan", "cat"] and data.task == "classification"
    _, y = csv_file.load_csv_for_model(path, n_features=1)
    assert y.tolist() == ["nan", "cat", "inf", "NaN", "nan", "cat"]
    with pytest.raises(LabelError, match="line 3, column 2 'label': regression needs numeric labels, found 'cat'"):
        load_csv(path, task="regression")


def test_labels_that_read_as_non_finite_numbers_are_class_names_for_a_model_with_text_classes(tmp_path):
    path = write(tmp_path, "a,label\n1,nan\n2,inf\n")
    _, y = csv_file.load_csv_for_model(path, n_features=1, text_labels=True)
    assert y.tolist() == ["nan", "inf"]


# A file without quotes is read a chunk of lines at a time by numpy.loadtxt's C parser
# (csv_file._parsed_features), falling back to the cell-by-cell path for any chunk it refuses.
def read_fast_and_slow(path, monkeypatch, **options):
    """``(outcome, outcome without the parser, chunks the parser read)``: bits or error, as read_both_ways."""
    parsed = csv_file._parsed_features
    read = []

    def counted(*args):
        block = parsed(*args)
        read.append(block is not None)
        return block

    outcomes = []
    for reader in (counted, lambda *args: None):
        monkeypatch.setattr(csv_file, "_parsed_features", reader)
        try:
            data = load_csv(path, **options)
            outcomes.append((data.X_train.tobytes(), data.X_train.shape, data.y_train.tobytes(),
                             data.y_train.dtype, data.task))
        except DataError as error:
            outcomes.append(str(error))
    monkeypatch.setattr(csv_file, "_parsed_features", parsed)
    return outcomes[0], outcomes[1], sum(read)


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_the_parser_reads_tricky_cells_as_the_cell_by_cell_path(tmp_path, monkeypatch, ending):
    monkeypatch.setattr(csv_file, "CHUNK_CELLS", 12)  # 3 rows of 4 features
    cells = ["1e5", "+3", ".5", " 7 ", "-0", "\t2.5", "1E-3", "\u00a04", "0.1", "-2e-310", "1.7976931348623157e308"]
    rows = [f"{cells[i % 11]},{cells[(i + 3) % 11]}, {'ab'[i % 2]}x ,{i}.25,{cells[(i + 5) % 11]}" for i in range(14)]
    body = ending.join(rows[:5] + ["", "   "] + rows[5:]) + ending + ending
    path = tmp_path / "tricky.csv"
    path.write_bytes(("\ufeffa,b,kind,c,d" + ending + body).encode())
    fast, slow, n_parsed = read_fast_and_slow(path, monkeypatch, label="kind")
    assert fast == slow and n_parsed == 5
    X = numpy.frombuffer(fast[0]).reshape(fast[1])
    assert X[0].tolist() == [1e5, 7.0, 0.25, 2.5] and numpy.signbit(X[4, 0]) and X[9, 0] == -2e-310


def test_the_parser_reads_number_labels_and_a_middle_label_as_the_cell_by_cell_path(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_file, "CHUNK_CELLS", 8)  # 4 rows of 2 features
    for place in range(3):  # the label column first, in the middle, last
        rows = [[f"{i * 0.5}", f"{-i}"] for i in range(10)]
        for i, row in enumerate(rows):
            row.insert(place, f" {i % 3} ")
        header = ["a", "b"]
        header.insert(place, "y")
        path = write(tmp_path, ",".join(header) + "\n" + "\n".join(",".join(row) for row in rows) + "\n")
        fast, slow, n_parsed = read_fast_and_slow(path, monkeypatch, label="y")
        assert fast == slow and n_parsed == 3 and fast[3] == numpy.int64


@pytest.mark.parametrize("cell", ["1_000", "\u0661\u0662"])
def test_a_number_float_reads_and_the_parser_refuses_is_text_cell_by_cell_too(tmp_path, monkeypatch, cell):
    # float() read it cell by cell (1000.0, 12.0), where numpy.loadtxt and pandas.read_csv take it for text
    monkeypatch.setattr(csv_file, "CHUNK_CELLS", 4)  # 2 rows of 2 features
    rows = [f"{i},{-i},{i % 2}" for i in range(7)]
    rows[4] = f"4,{cell},0"
    fast, slow, n_parsed = read_fast_and_slow(write(tmp_path, "a,b,label\n" + "\n".join(rows) + "\n"), monkeypatch)
    assert fast == slow and n_parsed == 2  # the third chunk of four went cell by cell
    assert f"line 6, column 2 'b': expected a number, found {cell!r} (if 'b' holds the labels" in fast


@pytest.mark.parametrize("cell", ["1_000", "\u0661\u0662", "\uff11"])
def test_a_label_float_reads_and_pandas_does_not_is_text(tmp_path, cell):
    # read as the number float() makes of it, where pandas.read_csv reads the column as text (object)
    body = "".join(f"{i},{i % 3}\n" for i in range(8)) + f"9,{cell}\n"
    unquoted, quoted = read_both_ways(tmp_path, ["a", "label"], body)
    assert unquoted == quoted
    assert unquoted[2] == ["0", "1", "2", "0", "1", "2", "0", "1", cell] and unquoted[3] == "classification"
    with pytest.raises(LabelError, match=rf"line 10, column 2 'label': regression needs numeric labels, "
                                         rf"found '{cell}'"):
        load_csv(write(tmp_path, "a,label\n" + body), task="regression")


@pytest.mark.parametrize("bad_row, options, message", [
    ("5,x,0", {}, "line 2504, column 2 'b': expected a number, found 'x'"),
    ("5,,0", {}, "line 2504, column 2 'b': expected a number, found an empty cell"),
    ("5,6", {}, "line 2504: expected 3 cells as in the header, found 2"),
    ("5,6,0,1", {}, "line 2504: expected 3 cells as in the header, found 4"),
    ("5,inf,0", {}, "line 2504, column 2 'b': expected a finite number, found 'inf'"),
    ("5, 1e39 ,0", {"dtype": "float32"}, "line 2504, column 2 'b': 1e39 is too large for float32"),
    ("5,6\x1c,0", {}, "line 2504, column 2 'b': expected a number, found '6\\x1c'"),
])
def test_a_bad_cell_deep_in_a_large_file_is_named_by_its_line(tmp_path, monkeypatch, bad_row, options, message):
    monkeypatch.setattr(csv_file, "CHUNK_CELLS", 200)  # the bad row in the 26th chunk of 100 rows
    rows = [f"{i},{i % 7 - 3.5},{i % 2}" for i in range(4000)]
    rows[2500] = bad_row
    path = write(tmp_path, "a,b,label\n\n" + "\n".join(rows[:1000] + [""] + rows[1000:]) + "\n")
    fast, slow, _ = read_fast_and_slow(path, monkeypatch, **options)
    assert fast == slow
    assert message in fast


def test_a_feature_name_with_spaces_around_it_finds_its_column(tmp_path):
    # a model fitted on a DataFrame column ' z' (pandas keeps and writes the space) could not read pandas' CSV
    path = write(tmp_path, "x,y, z,label\n1,2,3,a\n4,5,6,b\n")
    X, y = csv_file.load_csv_for_model(path, n_features=2, feature_names=[" z", "x"], label_required=True)
    assert X.tolist() == [[3.0, 1.0], [6.0, 4.0]] and list(y) == ["a", "b"]
