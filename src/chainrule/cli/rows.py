"""Which rows ``chainrule evaluate`` and ``chainrule predict`` use from DATA.

DATA is what ``chainrule train --data`` takes. For a built-in name, the rows are its test part,
split as ``train`` split it: by default with the seed and test size saved in the model
(``--seed`` and ``--test-size`` override them; 0 and 0.2 for a model that saved none). For a
file with a test part (NPZ ``X_test``, IDX t10k files), that part; for any other file, every row.

A model trained on a CSV file by ``chainrule train`` saves its feature and label column names.
A CSV file is then read by name: the saved feature columns in the saved order, wherever they
stand, and the saved label column (``--label`` names another); a missing column is a DataError
naming the file and the column. Without saved names, columns are taken by position: the label
column is ``--label`` or the last one, except that a file with exactly as many columns as the
model has features has none (``predict`` takes it; ``evaluate`` refuses it, for want of labels).
"""

from __future__ import annotations

from .. import checks
from ..data import BUILTIN_DATASETS, load_data, load_file
from ..data.csv_file import load_csv_for_model
from ..errors import ShapeError

DEFAULT_SEED = 0
DEFAULT_TEST_SIZE = 0.2


def add_data_arguments(parser) -> None:
    """MODEL, DATA and the options that pick DATA's rows."""
    parser.add_argument("model", metavar="MODEL", help="a model file written by chainrule train or cr.save")
    parser.add_argument("data", metavar="DATA", help="built-in name or a CSV/NPZ/IDX path")
    parser.add_argument("--label", help="label column of a CSV file [the model's label column, else the last column]")
    parser.add_argument("--seed", type=int,
                        help=f"split seed for a built-in data set [the model's training seed, else {DEFAULT_SEED}]")
    parser.add_argument("--test-size", dest="test_size", type=float,
                        help=f"test fraction for a built-in data set [the model's, else {DEFAULT_TEST_SIZE}]")


def rows(args, model, *, labels_required: bool):
    """(X, y) to use; y is None for a CSV without its label column when labels are not required."""
    if args.data in BUILTIN_DATASETS:
        seed, test_size = split_of(args, model)
        data = load_data(args.data, test_size=test_size, seed=seed)
        return data.X_test, data.y_test
    if args.data.lower().endswith(".csv"):
        feature_names, saved_label = saved_columns(model) or (None, None)
        return load_csv_for_model(args.data, n_features=input_width(model), feature_names=feature_names,
                                  label=args.label or saved_label, label_required=labels_required,
                                  text_labels=has_text_classes(model))
    data = load_file(args.data, label=args.label)
    if data.X_test is not None:
        return data.X_test, data.y_test
    return data.X_train, data.y_train


def split_of(args, model) -> tuple:
    """(seed, test size) of a built-in's split: the options, else those saved in the model, else the defaults."""
    saved = model.metadata.get("config")
    saved = saved if isinstance(saved, dict) else {}
    seed = args.seed if args.seed is not None else saved.get("seed", DEFAULT_SEED)
    test_size = args.test_size if args.test_size is not None else saved.get("test_size", DEFAULT_TEST_SIZE)
    return seed, test_size


def saved_columns(model) -> tuple | None:
    """(feature names, label name) of the CSV file the model was trained on, or None.

    ``chainrule train`` saves them in ``metadata["data"]``. Only names from a CSV header say
    which column is which; NPZ, IDX and built-in names are positions or descriptions.
    """
    saved = model.metadata.get("data")
    if not isinstance(saved, dict) or not str(saved.get("name", "")).lower().endswith(".csv"):
        return None
    features, label = saved.get("features"), saved.get("label")
    if not isinstance(label, str) or not isinstance(features, list):
        return None
    if not all(isinstance(name, str) for name in features) or len(features) != input_width(model):
        return None
    return features, label


def has_text_classes(model) -> bool:
    """True when the model's class labels are strings (so a file's labels are read as text)."""
    classes = model.preprocessor.classes if model.preprocessor is not None else None
    return bool(classes) and all(isinstance(label, str) for label in classes)


def input_width(model) -> int:
    """The number of raw features the model takes (``checks.input_width``); ShapeError if unknown."""
    width = checks.input_width(model, model.preprocessor)
    if width is None:
        raise ShapeError("the model has no preprocessing, and its first layer with parameters is not a Linear "
                         "layer (or it has none), so its input width is unknown")
    return width
