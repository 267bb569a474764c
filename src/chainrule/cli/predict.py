"""chainrule predict MODEL DATA: predictions (or class probabilities) as CSV.

Writes a CSV with a header: one column named ``prediction`` (the training labels for a
classifier, values for a regressor; one column per output for several outputs), or with
``--proba`` one column per class named after it. To stdout, or atomically to ``-o FILE``. DATA with rows of
another width than the model takes is refused (exit 2) in a line naming both. ``--seed``/``--test-size``
split only a built-in DATA and are refused (exit 2) with a file; ``--label`` is refused with a built-in name.
"""

from __future__ import annotations

import csv
import io
import sys

from ..io import atomic_write, load
from ..training import predict, predict_proba
from .device import add_device_argument, check_device
from .outputs import refuse_input_as_output
from .rows import add_data_arguments, check_width, rows

NAME = "predict"
HELP = "write a model's predictions for data as CSV"


def add_arguments(parser) -> None:
    add_data_arguments(parser)
    add_device_argument(parser, "cpu")
    parser.add_argument("--proba", action="store_true", help="class probabilities instead of labels")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the CSV here (atomically) [stdout]")


def run(args) -> int:
    check_device(args.device)
    if args.output:
        refuse_input_as_output(args.output, "-o", {"model file": args.model, "data": args.data})
    model = load(args.model, device=args.device)
    X, _ = rows(args, model, labels_required=False)
    check_width(model, X, args)
    if args.proba:
        values = predict_proba(model, X)
        classes = model.preprocessor.classes if model.preprocessor and model.preprocessor.classes else None
        header = [str(c) for c in classes] if classes else [f"p{k}" for k in range(values.shape[1])]
    else:
        values = predict(model, X)
        header = ["prediction"] if values.ndim == 1 else [f"prediction_{k}" for k in range(values.shape[1])]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    for row in values:
        writer.writerow(row.tolist() if hasattr(row, "tolist") and getattr(row, "ndim", 0) else [row])
    if args.output:
        atomic_write(args.output, text.getvalue())
    else:
        sys.stdout.write(text.getvalue())
    return 0
