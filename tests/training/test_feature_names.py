"""A model trained on a DataFrame with string column names reads later frames by name."""

import numpy as np
import pytest
from sklearn.datasets import load_iris

import chainrule as cr
from chainrule.errors import DataError, DTypeError, NonFiniteError

pd = pytest.importorskip("pandas")

X_IRIS, Y_IRIS = load_iris(return_X_y=True, as_frame=True)
COLUMNS = list(X_IRIS.columns)
REVERSED = X_IRIS[COLUMNS[::-1]]


def trained(X=X_IRIS, y=Y_IRIS, epochs=30, **options):
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X, y, epochs=epochs, standardize=True, verbose=0, **options)
    return model


@pytest.fixture(scope="module")
def model():
    return trained()


def test_fit_on_a_frame_remembers_its_column_names(model):
    assert model.preprocessor.feature_names == COLUMNS


def test_fit_on_an_array_remembers_no_names():
    assert trained(X_IRIS.to_numpy(), Y_IRIS.to_numpy(), epochs=1).preprocessor.feature_names is None


def test_fit_on_a_frame_is_bit_identical_to_fit_on_its_array(model):
    from_array = trained(X_IRIS.to_numpy(), Y_IRIS.to_numpy())
    assert np.array_equal(model.flat_parameters().theta, from_array.flat_parameters().theta)


@pytest.mark.parametrize("use", [cr.predict, cr.predict_proba, lambda m, X: cr.evaluate(m, X, Y_IRIS)["loss"]])
def test_reordered_columns_are_read_by_name(model, use):
    assert np.array_equal(use(model, REVERSED), use(model, X_IRIS))


def test_extra_columns_are_left_out(model):
    wider = REVERSED.assign(species="iris", row=np.arange(150))
    assert np.array_equal(cr.predict(model, wider), cr.predict(model, X_IRIS))


def test_a_missing_column_raises_data_error_naming_it(model):
    with pytest.raises(DataError, match=r"^X: lacks the column 'petal width \(cm\)' of the 4"):
        cr.predict(model, X_IRIS.drop(columns="petal width (cm)"))
    with pytest.raises(DataError, match="lacks the columns 'sepal length \\(cm\\)', 'sepal width \\(cm\\)'"):
        cr.evaluate(model, X_IRIS.iloc[:, 2:], Y_IRIS)


def test_an_array_is_read_by_position(model):
    assert np.array_equal(cr.predict_proba(model, X_IRIS.to_numpy()), cr.predict_proba(model, X_IRIS))


def test_a_frame_without_string_names_is_read_by_position(model):
    numbered = pd.DataFrame(REVERSED.to_numpy())  # columns 0..3: no names to go by
    assert np.array_equal(cr.predict_proba(model, numbered), cr.predict_proba(model, REVERSED.to_numpy()))


def test_a_model_trained_without_names_reads_a_frame_by_position():
    model = trained(X_IRIS.to_numpy(), Y_IRIS.to_numpy(), epochs=5)
    assert np.array_equal(cr.predict_proba(model, REVERSED), cr.predict_proba(model, REVERSED.to_numpy()))


def test_duplicate_column_names_are_not_remembered():
    doubled = X_IRIS.set_axis(["a", "a", "b", "c"], axis=1)
    assert trained(doubled, epochs=1).preprocessor.feature_names is None


@pytest.mark.parametrize("use", [
    lambda model, X: cr.predict(model, X),
    lambda model, X: cr.evaluate(model, X, Y_IRIS),
    lambda model, X: cr.fit(model, X, Y_IRIS, epochs=1, verbose=0),
    lambda model, X: cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0, validation=(X, Y_IRIS)),
])
def test_a_frame_that_repeats_a_name_is_refused_not_read_by_position(model, use):
    # As wide as the model, without 'sepal length (cm)': it was read by position, column 3 fed in as column 0.
    repeated = X_IRIS[[COLUMNS[3], COLUMNS[1], COLUMNS[2], COLUMNS[2]]]
    with pytest.raises(DataError, match=r"^X(_val)?: lacks the column 'sepal length \(cm\)'"):
        use(model, repeated)
    repeated = X_IRIS[[COLUMNS[3], COLUMNS[1], COLUMNS[2], COLUMNS[2], COLUMNS[0]]]
    with pytest.raises(DataError, match=r"^X(_val)?: repeats the column name 'petal length \(cm\)', which the model"):
        use(model, repeated)


def test_fit_again_reads_a_reordered_frame_by_name():
    in_order, reordered = trained(epochs=5), trained(epochs=5)
    cr.fit(in_order, X_IRIS, Y_IRIS, epochs=3, verbose=0)
    cr.fit(reordered, REVERSED, Y_IRIS, epochs=3, verbose=0)
    assert np.array_equal(in_order.flat_parameters().theta, reordered.flat_parameters().theta)


def test_fit_again_without_a_column_raises_data_error_naming_it():
    model = trained(epochs=1)
    with pytest.raises(DataError, match="^X: lacks the column 'sepal length \\(cm\\)'"):
        cr.fit(model, X_IRIS.iloc[:, 1:], Y_IRIS, epochs=1, verbose=0)


def test_a_validation_frame_is_read_by_name():
    in_order = cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=3, verbose=0, validation=(X_IRIS, Y_IRIS))
    reordered = cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=3, verbose=0, validation=(REVERSED, Y_IRIS))
    assert in_order.metrics["val_loss"] == reordered.metrics["val_loss"]
    with pytest.raises(DataError, match="^X_val: lacks the column 'sepal length \\(cm\\)'"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, verbose=0, validation=(X_IRIS.iloc[:, 1:], Y_IRIS))


def test_names_are_saved_with_the_model(model, tmp_path):
    cr.save(model, tmp_path / "model")
    loaded = cr.load(tmp_path / "model")
    assert loaded.preprocessor.feature_names == COLUMNS
    assert np.array_equal(cr.predict_proba(loaded, REVERSED), cr.predict_proba(model, X_IRIS))


def test_a_mean_that_overflows_names_the_column():
    X = pd.DataFrame({"small": np.arange(6.0), "huge": [1.7e308, 1.7e308, 0, 0, 0, 0]})
    with pytest.raises(DataError, match="^X: the values of column 1 \\('huge'\\) sum beyond the range of float64"):
        cr.fit(cr.mlp([2, 3, 2], seed=0, dtype="float64"), X, np.arange(6) % 2, epochs=1, verbose=0,
               standardize=True)


# -- a frame's columns: numbers or booleans, in NumPy's dtypes or pandas' -------------------------
MIXED = X_IRIS.astype({"sepal width (cm)": "Float64", "petal length (cm)": "float32"}).assign(
    **{"petal width (cm)": X_IRIS["petal width (cm)"] > 1.0})


def test_fit_and_predict_take_a_frame_with_a_bool_column_as_its_numbers():
    """A bool column beside floats made NumPy read the frame as objects: fit raised DTypeError."""
    as_numbers = MIXED.astype("float64").to_numpy()
    model, from_array = trained(MIXED, epochs=3), trained(as_numbers, Y_IRIS.to_numpy(), epochs=3)
    assert np.array_equal(model.flat_parameters().theta, from_array.flat_parameters().theta)
    assert np.array_equal(cr.predict_proba(model, MIXED[COLUMNS[::-1]]), cr.predict_proba(from_array, as_numbers))


@pytest.mark.parametrize("use", [
    lambda X: trained(X, epochs=1),
    lambda X: cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, verbose=0, validation=(X, Y_IRIS)),
    lambda X: cr.predict(trained(epochs=1), X),
])
def test_a_missing_value_in_a_frame_names_its_column_and_row(use):
    with_na = MIXED.astype({"sepal length (cm)": "Float64"})
    with_na.loc[7, "sepal length (cm)"] = pd.NA
    with pytest.raises(NonFiniteError, match=r"^X(_val)?: expected finite values, found <NA> in column 0 "
                                             r"\('sepal length \(cm\)'\) at row 7 \(1 missing in that column\)$"):
        use(with_na)


def test_a_text_column_is_a_dtype_error_naming_it():
    with pytest.raises(DTypeError, match=r"^X: column 4 \('species'\) has dtype category; expected real numbers or "
                                         r"booleans"):
        trained(X_IRIS.assign(species=pd.Categorical(Y_IRIS)), epochs=1)
