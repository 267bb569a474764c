"""chainrule predict MODEL DATA: predictions (or class probabilities) as CSV.

Writes a CSV with a header: one column named ``prediction`` (the training labels for a classifier, a binary
one's of one sigmoid output included; values for a regressor; one column per output for several outputs or
multi-label 0/1 rows), or with ``--proba`` (or ``--probabilities``, export's name) one column per class named
after it (for a binary classifier of one output, one column named after its second class, whose probability it
holds). To stdout (also for ``-o -``), or atomically to ``-o FILE``; an empty ``-o ''``, and a FILE that
cannot be written (a directory, one in a missing folder, or one this user may not write, ``chmod 444``, which
the atomic write would replace), are refused (exit 2) before the model is read, and so are the model file and
DATA's files, and a name in an IDX directory DATA that its loader would read. DATA with rows of another width
than the model takes is refused (exit 2) in a line naming both. ``--seed``/``--test-size`` split only a
built-in DATA and are refused (exit 2) with a file; ``--label`` is refused (exit 2) with DATA other than a CSV
file, and when it names a column the CSV file lacks (even for a model that reads its features by name and
needs no labels). A CSV label column left empty in every row is no labels; one empty in some rows only is
refused (exit 2), naming the line. ``--proba`` with a regressor is refused (exit 2), naming the option. A
stdout whose encoding cannot write a class's name (``PYTHONIOENCODING=ascii``) is refused (exit 2), naming
``-o``. A CSV value that the model's standardization takes beyond its dtype's range (3e38 in a column of scale
0.8, for float32) is refused (exit 2) in a line naming DATA's line and column.

A file saved by a scikit-learn estimator (``est.save``) predicts what the estimator's
``predict`` and ``predict_proba`` return, binary and multi-label classifiers included (the
columns of ``--proba`` named by ``classes_``); see docs/usage.md, "Interchange".
"""

from __future__ import annotations

import csv
import io
import sys

import numpy

from ..errors import ConfigError, DataError, NonFiniteError, quoted
from ..io import atomic_write
from ..io.atomic import check_writable, write_in_pieces
from ..training import predict, predict_proba
from . import estimator as estimators
from .device import add_device_argument, check_device
from .outputs import named_by_option, refuse_input_as_output
from .rows import add_data_arguments, check_width, csv_cell, is_pipe, refuse_swapped, rows

NAME = "predict"
HELP = "write a model's predictions for data as CSV"
STDOUT = "-"  # -o - writes to stdout, as many commands read it


def add_arguments(parser) -> None:
    add_data_arguments(parser)
    add_device_argument(parser, "cpu")
    # --probabilities too: export's name for them, so that one name serves both commands
    parser.add_argument("--proba", "--probabilities", dest="proba", action="store_true",
                        help="class probabilities instead of labels")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the CSV here (atomically); - for stdout [stdout]")


def run(args) -> int:
    check_device(args.device)
    output = None if args.output == STDOUT else args.output
    if output == "":
        raise ConfigError("-o/--output: expected a file name (or - for stdout), got ''")
    if output:
        refuse_input_as_output(output, "-o", {"model file": args.model, "data": args.data})
        check_writable(output, "-o", ConfigError)  # not 'out/', a missing folder, or a read-only file
    refuse_swapped(args)
    model, estimator = estimators.read_model_on(args.model, args.device)
    if args.proba and _is_regressor(model, estimator):
        raise ConfigError("--proba: the model is a regressor, which has no class probabilities; leave --proba out")
    X, _ = rows(args, model, labels_required=False)
    check_width(model, X, args)
    if estimators.answers_itself(estimator):
        header, values = _estimator_answers(estimator, X, args.proba)
    else:
        header, values = _network_answers_of_data(model, X, args)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    for row in values:  # NumPy's numbers, written with the digits of their dtype, as a row of one value was
        writer.writerow(list(row) if getattr(row, "ndim", 0) else [row])
    if output:
        with named_by_option("-o", output):  # a full disk, found by the write alone
            atomic_write(output, text.getvalue())
    else:
        write_in_pieces(sys.stdout, _encodable(text.getvalue(), sys.stdout))  # so that `| head` is seen
    return 0


def _encodable(text: str, stream) -> str:
    """``text``, or ConfigError if ``stream``'s encoding cannot write it (a class named "sétosa"
    with ``PYTHONIOENCODING=ascii``): stdout writes messages with backslash escapes, which in
    a CSV would be other labels. An ``-o`` file is UTF-8."""
    encoding = getattr(stream, "encoding", None)
    try:
        text.encode(encoding or "utf-8", "surrogateescape")
    except UnicodeEncodeError as error:
        raise ConfigError(f"stdout: its encoding ({encoding}) cannot write {quoted(error.object[error.start])} "
                          f"of the predictions; write them to a file with -o FILE (UTF-8), or set "
                          f"PYTHONIOENCODING=utf-8") from error
    return text


def _is_regressor(model, estimator) -> bool:
    """Whether the model predicts values (no class probabilities)."""
    if estimator is not None:
        return not hasattr(estimator, "classes_")
    return model.preprocessor is None or model.preprocessor.task == "regression"


def _network_answers_of_data(model, X, args) -> tuple:
    """:func:`_network_answers` for the rows of DATA; DataError naming the line and column of
    a CSV file DATA (see ``rows.csv_cell``) where a value standardizes beyond the model's dtype,
    rather than its index in X, as the CSV loader names a cell too large for that dtype. A pipe
    (a FIFO named ``rows.csv``), whose bytes are gone once read, is not read again to find them:
    its error names the index."""
    try:
        with numpy.errstate(over="ignore", invalid="ignore"):  # a row that overflows is reported in one line below
            return _network_answers(model, X, args.proba)
    except NonFiniteError as error:
        if error.index is None or not args.data.lower().endswith(".csv") or is_pipe(args.data):
            raise
        raise DataError(f"{csv_cell(args, model, *error.index)}: {error.detail}") from None


def _network_answers(model, X, proba: bool) -> tuple:
    """(header, values) of a chainrule model's predictions or probabilities."""
    if proba:
        values = predict_proba(model, X)
        classes = model.preprocessor.classes if model.preprocessor and model.preprocessor.classes else None
        if classes and len(classes) == 2 and values.shape[1] == 1:  # a binary classifier's one output
            return [str(classes[1])], values  # the probability of its second class
        return ([str(c) for c in classes] if classes else [f"p{k}" for k in range(values.shape[1])]), values
    values = predict(model, X)
    return _prediction_header(values), values


def _estimator_answers(estimator, X, proba: bool) -> tuple:
    """(header, values): what the estimator's predict_proba (columns named by classes_) or predict returns."""
    if proba:
        return [str(c) for c in estimator.classes_], estimators.probabilities(estimator, X)
    values = estimators.predictions(estimator, X)
    return _prediction_header(values), values


def _prediction_header(values) -> list:
    """``prediction``, or ``prediction_0``, ``prediction_1``, ... for several outputs per row."""
    return ["prediction"] if values.ndim == 1 else [f"prediction_{k}" for k in range(values.shape[1])]
