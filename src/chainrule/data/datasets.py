"""Built-in data sets that need no network: the small ones bundled with scikit-learn.

=============== ============== ======= ======== ========
name            task           samples features classes
=============== ============== ======= ======== ========
digits          classification 1797    64       10
iris            classification 150     4        3
wine            classification 178     13       3
breast_cancer   classification 569     30       2
diabetes        regression     442     10       —
=============== ============== ======= ======== ========

``digits`` (8×8 images of handwritten digits, pixel values 0–16) is the default. Labels
are the integer class codes scikit-learn uses (for digits, the digit itself).
"""

from __future__ import annotations

import numpy

from ..errors import DataError, quoted
from .dataset import Dataset

DEFAULT_DATASET = "digits"

# name -> (scikit-learn loader's name, task, what the label is); scikit-learn is imported
# only when a built-in set is loaded, so `import chainrule` stays fast.
BUILTIN_DATASETS = {
    "digits": ("load_digits", "classification", "digit"),
    "iris": ("load_iris", "classification", "species"),
    "wine": ("load_wine", "classification", "cultivar"),
    "breast_cancer": ("load_breast_cancer", "classification", "diagnosis"),
    "diabetes": ("load_diabetes", "regression", "progression"),
}


def load_builtin(name: str = DEFAULT_DATASET) -> Dataset:
    """Load a built-in data set, all rows as training rows (``X_test`` is None).

    Parameters
    ----------
    name : str
        One of ``BUILTIN_DATASETS``: "digits", "iris", "wine", "breast_cancer", "diabetes".

    Returns
    -------
    Dataset
        float64 features; int64 class labels, or float64 targets for diabetes.

    Raises
    ------
    DataError
        If ``name`` is not a built-in name (the message lists them).

    Examples
    --------
    >>> iris = load_builtin("iris")
    >>> iris.X_train.shape, iris.task
    ((150, 4), 'classification')
    """
    if name not in BUILTIN_DATASETS:
        raise DataError(f"unknown built-in data set {quoted(name)}; built-in names are: {', '.join(BUILTIN_DATASETS)}")
    from sklearn import datasets as sklearn_datasets

    loader, task, label_name = BUILTIN_DATASETS[name]
    bunch = getattr(sklearn_datasets, loader)()
    y = bunch.target.astype(numpy.float64 if task == "regression" else numpy.int64)
    return Dataset(
        X_train=numpy.asarray(bunch.data, dtype=numpy.float64),
        y_train=y,
        X_test=None,
        y_test=None,
        task=task,
        name=name,
        feature_names=[str(feature) for feature in bunch.feature_names],
        label_name=label_name,
    )
