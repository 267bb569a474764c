"""chainrule info MODEL: the architecture, parameter count and training summary of a model file."""

from __future__ import annotations

import json

from ..io import load

NAME = "info"
HELP = "describe a model file: layers, parameters, training summary"


def add_arguments(parser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file written by chainrule train or cr.save")
    parser.add_argument("--json", action="store_true", help="print the description as JSON")


def describe(model) -> list[dict]:
    """One row per layer: path, type, parameter shapes and count."""
    rows = []
    for prefix, layer in model.walk():
        if layer.children() and not layer.own_params:
            continue
        shapes = {name: list(array.shape) for name, array in layer.own_params.items()}
        rows.append({"path": prefix.rstrip(".") or "(model)", "layer": repr(layer).split("\n")[0],
                     "parameters": shapes, "count": sum(int(array.size) for array in layer.own_params.values())})
    return rows


def run(args) -> int:
    model = load(args.model)
    rows = describe(model)
    preprocessor = model.preprocessor
    if args.json:
        print(json.dumps({"layers": rows, "n_parameters": model.n_parameters, "dtype": str(model.dtype),
                          "preprocessing": None if preprocessor is None else preprocessor.to_json(),
                          "metadata": model.metadata}))
        return 0
    width = max(len(row["path"]) for row in rows)
    kind = max(len(row["layer"]) for row in rows)
    print(f"{'path':<{width}}  {'layer':<{kind}}  {'parameters':<24}  count")
    for row in rows:
        shapes = ", ".join(f"{name} {'x'.join(map(str, shape))}" for name, shape in row["parameters"].items()) or "-"
        print(f"{row['path']:<{width}}  {row['layer']:<{kind}}  {shapes:<24}  {row['count']:,}")
    print(f"\n{model.n_parameters:,} parameters, {model.dtype}")
    if preprocessor is not None:
        line = f"inputs: {preprocessor.n_features} features, {'standardized' if preprocessor.mean is not None else 'raw'}"
        if preprocessor.classes is not None:
            line += f"; {len(preprocessor.classes)} classes: {', '.join(map(str, preprocessor.classes[:12]))}"
        print(line)
    for key in ("training", "data", "test"):
        if key in model.metadata:
            print(f"{key}: {json.dumps(model.metadata[key])}")
    return 0
