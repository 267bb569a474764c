"""Which rows ``chainrule evaluate`` and ``chainrule predict`` use from DATA.

DATA is what ``chainrule train --data`` takes. For a built-in name, the rows are its test part
(split as ``train`` splits it: the same --seed and --test-size give the same rows); for a file
with a test part (NPZ ``X_test``, IDX t10k files), that part; for any other file, every row.
``predict`` also takes a CSV of feature columns only (no label column).
"""

from __future__ import annotations

from ..data import BUILTIN_DATASETS, load_data, load_file
from ..data.csv_file import load_csv_features
from ..errors import ShapeError


def add_data_arguments(parser) -> None:
    """MODEL, DATA and the options that pick DATA's rows."""
    parser.add_argument("model", metavar="MODEL", help="a model file written by chainrule train or cr.save")
    parser.add_argument("data", metavar="DATA", help="built-in name or a CSV/NPZ/IDX path")
    parser.add_argument("--label", help="label column of a CSV file [the last column]")
    parser.add_argument("--seed", type=int, default=0, help="split seed for a built-in data set [0]")
    parser.add_argument("--test-size", dest="test_size", type=float, default=0.2,
                        help="test fraction for a built-in data set [0.2]")


def rows(args, model, *, labels_required: bool):
    """(X, y) to use; y is None for a feature-only CSV when labels are not required."""
    if args.data in BUILTIN_DATASETS:
        data = load_data(args.data, test_size=args.test_size, seed=args.seed)
        return data.X_test, data.y_test
    if not labels_required and args.data.lower().endswith(".csv") and args.label is None:
        X = load_csv_features(args.data, input_width(model))
        if X is not None:
            return X, None
    data = load_file(args.data, label=args.label)
    if data.X_test is not None:
        return data.X_test, data.y_test
    return data.X_train, data.y_train


def input_width(model) -> int:
    """The number of raw features the model takes."""
    if model.preprocessor is not None:
        return model.preprocessor.n_features
    for _, layer in model.walk():
        if hasattr(layer, "n_in"):
            return layer.n_in
    raise ShapeError("the model has no Linear layer and no preprocessing, so its input width is unknown")
