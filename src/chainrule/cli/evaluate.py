"""chainrule evaluate MODEL DATA: the loss and accuracy (or R² and MAE) of a model on data."""

from __future__ import annotations

import json

from ..io import load
from ..training import evaluate
from .device import add_device_argument, check_device
from .rows import add_data_arguments, rows

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
    scores = evaluate(model, X, y)
    if args.json:
        print(json.dumps({"model": args.model, "data": args.data, "n_samples": len(X), **scores}))
    else:
        print(", ".join(f"{name} {value:.4f}" for name, value in scores.items()) + f" on {len(X)} samples")
    return 0
