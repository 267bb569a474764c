"""chainrule info MODEL: the architecture, parameter count and training summary of a model file.

A file saved by a scikit-learn estimator (``est.save``) is described as the estimator too:
``estimator: scikit-learn MLPClassifier, binary, 2 classes: False, True`` (the kind of
target: binary, multiclass or multilabel, and ``classes_``), or ``scikit-learn
MLPRegressor, 1 output``; with --json, under the key "estimator".

The text form names the chainrule release that wrote the file (``written by: chainrule 0.1.0``;
"version not recorded" for a file that records none); --json has it as
``metadata.chainrule_version``.

Classes are listed up to 12, then "..." and the count of those left out; when a class name
holds a comma, every name is quoted (as Python writes it: ``'x', 'y,z'``), so that none reads as two.
A regressor trained on standardized targets says so on its inputs line, with each output's
mean and scale (``targets standardized: mean 1.00015e+06, scale 77.0692``).
"""

from __future__ import annotations

import json

from ..errors import quoted
from ..io.versions import chainrule_version
from .estimator import MODEL_HELP, description, model_file, read_model_file

NAME = "info"
HELP = "describe a model file: layers, parameters, training summary"
LISTED_CLASSES = 12
SHOWN_TEXT = 80  # characters of a version or class name that a line shows


def add_arguments(parser) -> None:
    parser.add_argument("model", metavar="MODEL", type=model_file, help=MODEL_HELP)
    parser.add_argument("--json", action="store_true", help="print the description as JSON")


def _numbers(values) -> str:
    """``1e+06, 77.1``: a target standardization's means or scales, 6 significant digits each."""
    return ", ".join(f"{value:.6g}" for value in values)


def class_list(classes) -> str:
    """``setosa, versicolor, virginica``: the first LISTED_CLASSES classes, then ``... (N more)``.

    When a class name (a string) holds a comma, or a character a terminal would act on (a
    newline, an escape sequence), every string is written as Python's repr (``'virginica,x'``),
    so that no name reads as two and a model file cannot drive the terminal; a name longer than
    SHOWN_TEXT characters is cut.
    """
    classes = list(classes)
    as_repr = any(isinstance(label, str) and ("," in label or not label.isprintable()) for label in classes)
    shown = [quoted(label, SHOWN_TEXT) if as_repr and isinstance(label, str) else shown_text(str(label))
             for label in classes[:LISTED_CLASSES]]
    if len(classes) > LISTED_CLASSES:
        shown.append(f"... ({len(classes) - LISTED_CLASSES} more)")
    return ", ".join(shown)


def shown_text(text: str) -> str:
    """``text`` from a model file as a line may show it: as it is when printable and at most
    SHOWN_TEXT characters long, else its repr cut to that length (no escape sequence reaches
    the terminal, and a 400 KB version string is not printed whole)."""
    return text if text.isprintable() and len(text) <= SHOWN_TEXT else quoted(text, SHOWN_TEXT)


def estimator_line(described: dict) -> str:
    """``estimator: scikit-learn MLPClassifier, binary, 2 classes: False, True`` from :func:`description`."""
    if "classes" in described:
        what = "labels" if described["y_type"] == "multilabel" else "classes"  # a multi-label's are column indices
        return (f"estimator: {described['estimator']}, {described['y_type']}, "
                f"{len(described['classes'])} {what}: {class_list(described['classes'])}")
    outputs = described["n_outputs"]
    return f"estimator: {described['estimator']}, {outputs} output{'s' if outputs != 1 else ''}"


def run(args) -> int:
    model, estimator = read_model_file(args.model)
    preprocessor = model.preprocessor
    described = None if estimator is None else description(estimator)
    if args.json:
        extra = {} if described is None else {"estimator": described}
        print(json.dumps({"layers": model.summary_rows(), "n_parameters": model.n_parameters,
                          "dtype": str(model.dtype),
                          "preprocessing": None if preprocessor is None else preprocessor.to_json(),
                          "metadata": model.metadata, **extra}))
        return 0
    print(model.summary())  # the layer table and the parameter count
    version = chainrule_version(model.metadata)
    print(f"written by: chainrule {'(version not recorded)' if version is None else shown_text(version)}")
    if described is not None:
        print(estimator_line(described))
    if preprocessor is not None:
        line = f"inputs: {preprocessor.n_features} features, {'standardized' if preprocessor.mean is not None else 'raw'}"
        if preprocessor.classes is not None:
            line += f"; {len(preprocessor.classes)} classes: {class_list(preprocessor.classes)}"
        if preprocessor.target_mean is not None:
            line += (f"; targets standardized: mean {_numbers(preprocessor.target_mean)}, "
                     f"scale {_numbers(preprocessor.target_scale)}")
        print(line)
    for key in ("training", "data", "test"):
        if key in model.metadata:
            summary = model.metadata[key]
            print(f"{key}: {json.dumps(features_listed(summary) if key == 'data' else summary)}")
    return 0


def features_listed(data):
    """The data summary as the text form shows it, its "features" (a CSV's column names) cut as the
    classes are: the first LISTED_CLASSES, then "... (N more)". A 784-column MNIST CSV's model printed all
    784 names on one line; --json keeps them all."""
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list) or len(features) <= LISTED_CLASSES:
        return data
    return {**data, "features": [*features[:LISTED_CLASSES], f"... ({len(features) - LISTED_CLASSES} more)"]}
