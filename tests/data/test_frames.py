"""chainrule.data.frames: a table's feature names, and X's columns taken by them."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.checks import as_matrix
from chainrule.data.frames import feature_names, select_features


def test_feature_names_are_a_frames_string_column_names_only():
    pandas = pytest.importorskip("pandas")
    assert feature_names(pandas.DataFrame({"a": [1], "b": [2]})) == ["a", "b"]
    assert feature_names(pandas.DataFrame([[1, 2]])) is None  # integer names
    assert feature_names(pandas.DataFrame([[1, 2]], columns=["a", 0])) is None  # mixed
    assert feature_names(pandas.DataFrame([[1, 2]], columns=["a", "a"])) is None  # not distinct
    assert feature_names(np.ones((1, 2))) is None and feature_names([[1, 2]]) is None


def test_select_features_takes_columns_by_name_in_the_models_order():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"c": [3.0], "text": ["x"], "a": [1.0], "b": [2.0]})
    assert np.array_equal(as_matrix(select_features(frame, ["a", "b", "c"]), np.float64), [[1.0, 2.0, 3.0]])
    in_order = frame[["a", "b", "c"]]
    assert select_features(in_order, ["a", "b", "c"]) is in_order  # no copy
    assert select_features(frame, None) is frame  # a model without names: by position
    array = np.ones((1, 3))
    assert select_features(array, ["a", "b", "c"]) is array
    with pytest.raises(cr.DataError, match="^X_val: lacks the columns 'd', 'e' of the 5"):
        select_features(frame, ["a", "b", "c", "d", "e"], "X_val")


def test_a_frame_that_repeats_a_name_is_refused_for_a_model_with_names():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(np.ones((1, 3)), columns=["c", "b", "b"])  # as wide as the model, but no 'a'
    with pytest.raises(cr.DataError, match="^X: lacks the column 'a' of the 3 the model was trained on"):
        select_features(frame, ["a", "b", "c"])
    twice = pandas.DataFrame(np.ones((1, 4)), columns=["a", "b", "a", "b"])
    with pytest.raises(cr.DataError, match="^X_val: repeats the column names 'a', 'b', which the model reads by "
                                           "name, so which column is meant is unknown"):
        select_features(twice, ["a", "b"], "X_val")
    noted = pandas.DataFrame(np.arange(5.0)[None], columns=["b", "note", "a", "note", "c"])
    np.testing.assert_array_equal(select_features(noted, ["a", "b", "c"]), [[2.0, 0.0, 4.0]])  # unread: left out
    assert select_features(frame, None) is frame  # a model without names: by position, as before
    numbered = pandas.DataFrame(np.ones((1, 2)), columns=[0, 0])
    assert select_features(numbered, ["a", "b"]) is numbered  # no string names: by position


def test_select_features_reads_any_object_with_string_columns():
    class Table:  # neither pandas nor NumPy: converted with numpy.asarray
        columns = ("b", "a")

        def __array__(self, dtype=None, copy=None):
            return np.array([[2.0, 1.0]])

    assert np.array_equal(select_features(Table(), ["a", "b"]), [[1.0, 2.0]])


def test_column_names_that_mix_strings_and_others_are_refused_for_a_model_with_names():
    # ['c', 'a', 0] was read by position for a model of columns a, b, c (scikit-learn refuses such names)
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(np.ones((1, 3)), columns=["c", "a", 0])
    with pytest.raises(cr.DataError, match=r"^X: its column names mix strings and others \(0\), but the model reads"):
        select_features(frame, ["a", "b", "c"])
    numbered = pandas.DataFrame(np.ones((1, 3)))  # pandas' default names 0..n-1: by position, as before
    assert select_features(numbered, ["a", "b", "c"]) is numbered
    assert select_features(frame, None) is frame  # a model without names reads any frame by position
