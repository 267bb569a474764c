"""chainrule evaluate MODEL DATA: the loss and accuracy (or R² and MAE) of a model on data.

DATA with rows of another width than the model takes is refused (exit 2) in a line naming both.
"""

from __future__ import annotations

import json

from ..errors import ShapeError
from ..io import load
from ..training import evaluate
from .device import add_device_argument, check_device
from .rows import add_data_arguments, input_width, rows

NAME = "evaluate"
HELP = "score a model file on data (accuracy, or R² and MAE)"


def add_arguments(parser) -> None:
    add_data_arguments(parser)
    add_device_argument(parser, "cpu")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")


def run(args) -> int:
    check_device(args.device)
    model = load(args.model, device=args.device)
    X, y = rows(args, model, labels_required=True)
    check_width(model, X, args)
    scores = evaluate(model, X, y)
    if args.json:
        print(json.dumps({"model": args.model, "data": args.data, "n_samples": len(X), **scores}))
    else:
        print(", ".join(f"{name} {value:.4f}" for name, value in scores.items()) + f" on {len(X)} samples")
    return 0


def check_width(model, X, args) -> None:
    """ShapeError naming DATA and MODEL unless DATA's rows are as wide as the model's input."""
    width = input_width(model)
    if X.ndim == 2 and X.shape[1] != width:
        raise ShapeError(f"{args.data}: rows of {X.shape[1]} features, but the model {args.model} takes {width}")
