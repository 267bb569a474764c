"""chainrule evaluate MODEL DATA: the loss and accuracy (or R² and MAE) of a model on data.

Which rows are scored: a built-in data set's test split, as train split it; the test split
of the data file the model was trained on (unchanged since: a CSV file, or NPZ or IDX data
without a test part of its own), as train split it; a file's own test part (NPZ X_test, IDX
t10k); otherwise every row. --all-rows scores every row of any DATA. The output says which
rows were scored ("the test split: 30 of 150 rows (seed 0, test size 0.2)"; in JSON the keys
"rows", "n_rows", "seed"/"test_size" for a split, and "note" for a training file scored whole
because it changed since, or is a pipe that cannot be compared).

DATA with rows of another width than the model takes is refused (exit 2) in a line naming both.

A file saved by a binary scikit-learn MLPClassifier (``est.save``) is scored as the
estimator: "loss" is the log loss of ``est.predict_proba`` (scikit-learn's ``log_loss`` with
``labels=classes_``) and "accuracy" that of ``est.predict``; DATA's labels are matched to
``classes_`` ("True" for True). A multi-label one is refused (exit 2): its targets are 0/1
rows, one column per label, and CSV, NPZ and IDX files hold one label per row (score it in
Python, est.score). Other estimator files are scored by their network, as chainrule models
(an MLPRegressor's "loss" is chainrule's MSE, not half of it); see docs/usage.md, "Interchange".
"""

from __future__ import annotations

import numpy

from ..data.csv_file import comma_number_advice
from ..errors import DataError, LabelError, quoted
from ..layers.widths import output_width
from ..training import evaluate
from ..training.predict import NO_PREPROCESSOR
from . import estimator as estimators
from .device import add_device_argument, check_device
from .json_output import json_text
from .rows import add_data_arguments, check_width, csv_line, is_pipe, refuse_swapped, scored_rows

NAME = "evaluate"
HELP = "score a model file on data (accuracy, or R² and MAE)"


def add_arguments(parser) -> None:
    add_data_arguments(parser, training_csv_split=True)
    parser.add_argument("--all-rows", dest="all_rows", action="store_true",
                        help="score every row of DATA, not only its test split or test part")
    add_device_argument(parser, "cpu")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")


def run(args) -> int:
    check_device(args.device)
    refuse_swapped(args)
    model, estimator = estimators.read_model_on(args.model, args.device)
    rows = scored_rows(args, model)
    check_width(model, rows.X, args)
    check_targets_fit_model(model, rows.y, args)
    if estimators.answers_itself(estimator):
        scores = estimators.scores(estimator, rows.X, rows.y, args.data)
    else:
        try:
            scores = evaluate(model, rows.X, labels_with_their_spaces(rows.y, model))
        except LabelError as error:  # "y[3]: label 'x' was not among ...": DATA's label, not an argument y
            where, _, what = str(error).partition(": ")
            if where != "y" and not where.startswith("y["):
                raise  # about the model, not DATA's labels
            raise LabelError(f"{label_where(args, rows, where)}: {what}") from None
    if args.json:
        split = {"seed": rows.seed, "test_size": rows.test_size} if rows.seed is not None else {}
        note = {"note": rows.note} if rows.note else {}
        print(json_text({"model": args.model, "data": args.data, "n_samples": len(rows.X), "rows": rows.part,
                          "n_rows": rows.n_rows, **split, **note, **scores}))
    else:
        print(", ".join(f"{name} {score_text(value)}" for name, value in scores.items()) + f" on {rows.describe()}")
    return 0


def label_where(args, rows, where: str) -> str:
    """DATA, and for the label of ``where`` (``y[3]``) in a CSV file scored whole, its line
    (``data.csv: line 122``), as the CSV loader names a cell; a split's rows are named by DATA,
    and so are those of a pipe (a FIFO named ``rows.csv``), whose bytes are gone once read: reading
    it again to find the line waited for ever."""
    index = where[2:-1] if where.startswith("y[") else ""
    if not (index.isdigit() and rows.part == "all rows" and args.data.lower().endswith(".csv")
            and not is_pipe(args.data)):
        return args.data
    return f"{args.data}: line {csv_line(args.data, int(index))}"


def score_text(value: float) -> str:
    """A score with 4 decimals (``accuracy 0.9667``), or 4 significant digits where 4 decimals
    would show 0 or dozens of digits (a loss of 3.1e-05, or of 4e+35 on rows far off the data)."""
    return f"{value:.4f}" if value == 0 or 1e-3 <= abs(value) < 1e6 else f"{value:.4g}"


def labels_with_their_spaces(y, model):
    """``y``, DATA's text labels, each as the class of ``model.preprocessor.classes`` it names: a CSV
    file's labels are read without the spaces around them, where a model fitted on a DataFrame or
    array keeps the classes as given (' yes'); a label that is a class as read is left as it is."""
    classes = None if model.preprocessor is None else model.preprocessor.classes
    if y is None or not classes or getattr(y, "dtype", None) is None or y.dtype.kind not in "UO" \
            or not all(isinstance(label, str) for label in classes):
        return y
    by_text = estimators.class_indices_by_text(classes)
    return numpy.array([classes[by_text[label]] if isinstance(label, str) and label in by_text else label
                        for label in y.tolist()], dtype=object)


def check_targets_fit_model(model, y, args) -> None:
    """DataError naming DATA when the model is a regressor and DATA's labels are text, which MSE refused
    naming neither ("MSE: expected numeric targets, got dtype <U10"), a CSV file's label written with a comma
    ("1,000,000") told as the number it looks like, as a feature cell is; when the model is a regressor of
    several outputs: DATA gives one target per row (its label column, or an NPZ archive's y of shape
    (n_samples,)), which MSE refused naming neither DATA nor why ("expected targets of shape
    (n_samples, 2), got (40,)"); or when a regressor's target is too large for the model's dtype
    (MSE named its index)."""
    width = output_width(model)
    regressor = model.preprocessor is None or model.preprocessor.task == "regression"
    if regressor and y is not None and y.dtype.kind in "UO" and len(y):
        text = next((label for label in y.tolist() if isinstance(label, str)), None)
        if text is not None:
            if model.preprocessor is None:
                raise DataError(f"{args.data}: DATA's labels are text ({quoted(text)}), but {NO_PREPROCESSOR}")
            # --label picks a CSV file's column, and is refused for an NPZ archive, whose labels are its array y
            csv = args.data.lower().endswith(".csv")
            advice = comma_number_advice(text) if csv else ""
            if advice:  # the label column's numbers, written with a decimal comma or commas between thousands
                raise DataError(f"{args.data}: the model is a regressor, but DATA's labels are text; expected numeric "
                                f"targets, found {quoted(text)}{advice}")
            where = "name the column of numbers with --label" if csv else "save the archive's y as numbers"
            raise DataError(f"{args.data}: the model is a regressor, but DATA's labels are text ({quoted(text)}); "
                            f"expected numeric targets: {where}")
    if regressor and width and width > 1 and y is not None and y.ndim == 1:
        raise DataError(f"{args.data}: the model is a regressor of {width} outputs, but DATA gives one target per "
                        f"row (one label column); the command line reads no more, so score it with "
                        f"cr.evaluate(model, X, Y) on targets of shape (n_samples, {width})")
    if regressor and y is not None and y.dtype.kind == "f" and len(y):
        # MSE's own error named an index in the rows scored, not DATA; standardized targets, computed in
        # float64, are computed in the model's dtype once standardized (and scored as inf where they overflow it)
        preprocessor = model.preprocessor
        standardized = preprocessor is not None and preprocessor.target_mean is not None
        z = (y.reshape(len(y), -1) - preprocessor.target_mean) / preprocessor.target_scale if standardized else y
        dtype = numpy.dtype(model.dtype or numpy.float32)
        largest = float(numpy.finfo(dtype).max)
        with numpy.errstate(over="ignore", invalid="ignore"):
            beyond = numpy.flatnonzero((numpy.abs(z) > largest).reshape(len(y), -1).any(axis=1))
        if len(beyond):
            which = " once standardized, (y − mean) / scale," if standardized else ""
            raise DataError(f"{args.data}: the target {float(y[beyond[0]]):g} ({len(beyond)} of the {len(y)} rows "
                            f"scored) is{which} too large for the model's {dtype.name}, whose largest magnitude is "
                            f"{largest:.4g}")
