"""chainrule.data.datasets: the built-in data sets bundled with scikit-learn."""

import numpy
import pytest

from chainrule.data.datasets import BUILTIN_DATASETS, DEFAULT_DATASET, load_builtin
from chainrule.errors import DataError

EXPECTED = {  # name -> (samples, features, task, classes)
    "digits": (1797, 64, "classification", 10),
    "iris": (150, 4, "classification", 3),
    "wine": (178, 13, "classification", 3),
    "breast_cancer": (569, 30, "classification", 2),
    "diabetes": (442, 10, "regression", None),
}


def test_the_default_is_digits_and_every_builtin_is_listed():
    assert DEFAULT_DATASET == "digits"
    assert set(BUILTIN_DATASETS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_loads_whole_with_its_known_task(name):
    n_samples, n_features, task, n_classes = EXPECTED[name]
    data = load_builtin(name)
    assert data.name == name and data.task == task
    assert data.X_train.shape == (n_samples, n_features) and data.X_train.dtype == numpy.float64
    assert data.y_train.shape == (n_samples,)
    assert data.X_test is None and data.y_test is None
    assert len(data.feature_names) == n_features and all(isinstance(f, str) for f in data.feature_names)
    assert numpy.isfinite(data.X_train).all()
    if task == "classification":
        assert data.y_train.dtype == numpy.int64
        assert numpy.unique(data.y_train).tolist() == list(range(n_classes))
    else:
        assert data.y_train.dtype == numpy.float64


def test_digits_labels_are_the_digits():
    data = load_builtin()
    assert data.name == "digits" and data.label_name == "digit"
    assert data.X_train.min() == 0 and data.X_train.max() == 16


def test_unknown_name_raises_data_error_listing_the_builtin_names():
    with pytest.raises(DataError, match="mnist") as caught:
        load_builtin("mnist")
    for name in EXPECTED:
        assert name in str(caught.value)
