"""chainrule export MODEL --onnx OUT: a model file as an ONNX graph, for onnxruntime and friends.

The graph takes raw rows: the model's saved standardization is its first operators (leave it
out with --no-preprocessing). It outputs what the model outputs (a classifier's or a multi-label
model's logits), or the probabilities of chainrule predict_proba with --probabilities; the line
it prints says which ("-> Y (batch, 3) logits"). A classifier's graph (a binary one's of one sigmoid output
too) also outputs the labels chainrule predict gives, as "label" (see docs/usage.md, "Interchange");
the line then ends ", label (batch)".

A file saved by a scikit-learn estimator (``est.save``: MLPClassifier, MLPRegressor) exports
the estimator's own graph, as ``est.to_onnx`` writes it: a classifier's "label" and
"probabilities" (what ``est.predict`` and ``est.predict_proba`` return, binary and multi-label
classifiers included), a regressor's "Y"; the line names them ("-> label (batch),
probabilities (batch, 2)"). --no-preprocessing and --probabilities change nothing there: an
estimator's network takes the raw rows (it has no standardization), and a classifier's
probabilities are always an output.
--onnx - writes the graph to stdout (as --onnx /dev/stdout does; not on Windows), and the line
then goes to stderr, so that a pipe gets the graph alone.
A --opset out of range, and --probabilities for a regressor, are refused (exit 2) naming the option;
so is an OUT that cannot be written (a directory, one in a missing folder, or one this user may not
write, ``chmod 444``, which the atomic write would replace), before the model is read, and one that
the write itself finds it cannot write (a full disk): ``--onnx: out.onnx: cannot write (...)``.
A --opset that is no integer is told the range a number out of it is: ``--opset: expected an integer in
[13, N], got 'x'``, N the newest opset the installed onnx writes (28 for onnx 1.23; ``an integer >= 13``
where onnx is not installed, which the export then names).
Needs the optional onnx package: pip install 'chainrule[onnx]'.
"""

from __future__ import annotations

import os
import sys

from ..errors import ChainruleError, ConfigError, HyperparameterError
from ..io import read
from ..io.atomic import check_writable
from ..onnx_export import (DEFAULT_OPSET, GELU_OPSET, MIN_OPSET, PROBABILITIES, _import_onnx, checked_opset, opsets,
                           to_onnx)
from .estimator import MODEL_HELP, model_file, saved_estimator
from .option_types import integer
from .outputs import named_by_option, refuse_input_as_output

STDOUT = "-"  # --onnx - writes to stdout, as predict's -o - does
NAME = "export"
HELP = "export a model file to ONNX"


def add_arguments(parser) -> None:
    option = parser.add_argument
    option("model", metavar="MODEL", type=model_file, help=MODEL_HELP)
    option("--onnx", metavar="OUT", required=True, help="the ONNX file to write ('-': stdout)")
    option("--opset", type=integer(_opsets),
           help=f"ONNX opset; GELU is one Gelu operator from {GELU_OPSET} on [{DEFAULT_OPSET}]")
    option("--no-preprocessing", dest="preprocessing", action="store_false",
           help="leave the standardization out: the graph then takes standardized rows, and a regressor "
                "trained with --standardize-targets answers standardized targets (an estimator's file has "
                "none: no effect)")
    option("--probabilities", action="store_true",
           help="end with softmax (classes) or sigmoid (labels): output probabilities, not logits "
                "(an estimator's graph always outputs them)")


def run(args) -> int:
    if args.onnx == "":
        raise ConfigError("--onnx: expected a file name, got ''")
    if args.onnx != STDOUT:
        return _export(args, args.onnx)
    if os.name == "nt":
        raise ConfigError("--onnx -: writing the graph to stdout needs /dev/stdout, which Windows lacks; name a file")
    args.onnx = "/dev/stdout"
    try:
        return _export(args, "stdout")
    except ChainruleError as error:  # "--onnx: /dev/stdout: cannot write", "--onnx /dev/stdout: that is the model file"
        message = str(error)
        for given, shown in ((f"{args.onnx}: ", "stdout: "), (f"--onnx: {args.onnx}: ", "--onnx: stdout: "),
                             (f"--onnx {args.onnx}: ", "--onnx -: ")):
            if message.startswith(given):  # named as the user named it
                raise type(error)(shown + message.removeprefix(given)) from None
        raise


def _export(args, shown: str) -> int:
    """Write the graph of ``args.model`` to ``args.onnx`` and print the line naming it ``shown``."""
    refuse_input_as_output(args.onnx, "--onnx", {"model file": args.model})
    check_writable(args.onnx, "--onnx", ConfigError)  # not 'out/', a missing folder, or a read-only file
    _check_opset(args.opset)
    contents = read(args.model)
    model = contents[0]
    if "sklearn" in model.metadata:
        estimator = saved_estimator(args.model, contents)
        if args.probabilities and not hasattr(estimator, "classes_"):
            raise HyperparameterError("--probabilities: the model is a regressor, which has no class probabilities; "
                                      "leave --probabilities out")
        with named_by_option("--onnx", args.onnx):
            proto = estimator.to_onnx(args.onnx, opset=args.opset)
        outputs = ", ".join(_signature(output) for output in proto.graph.output)
    else:
        _check_probabilities(model, args.probabilities)
        with named_by_option("--onnx", args.onnx):
            proto = to_onnx(model, args.onnx, opset=args.opset, include_preprocessing=args.preprocessing,
                            probabilities=args.probabilities)
        Y, *others = proto.graph.output
        outputs = (f"{_signature(Y)} {_output_kind(model, args.probabilities, args.preprocessing)}"
                   + "".join(f", {_signature(output)}" for output in others))
    print(f"wrote {shown}: ONNX opset {proto.opset_import[0].version}, {model.dtype or 'float32'}, "
          f"{_signature(proto.graph.input[0])} -> {outputs}", file=sys.stderr if _is_stdout(args.onnx) else sys.stdout)
    return 0


def _is_stdout(path: str) -> bool:
    """Whether ``path`` is where stdout writes (``/dev/stdout``, ``/dev/fd/1``, or the file stdout
    is redirected to): the line then goes to stderr, so that it does not end the graph's bytes."""
    try:
        return os.path.samestat(os.stat(path), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError, AttributeError):  # no such file, or a stdout without a descriptor (a test's)
        return False


def _opsets() -> str:
    """What --opset takes, as its range check says it once the value is a number: "an integer in [13, 28]",
    with the newest opset of the installed onnx (imported only for the refusal of a value that is no
    number); "an integer >= 13" without onnx, whose absence the export names."""
    try:
        return opsets(_import_onnx())
    except HyperparameterError:  # onnx is not installed
        return f"an integer >= {MIN_OPSET}"


def _check_opset(opset) -> None:
    """HyperparameterError naming --opset unless it is None or an opset the installed onnx writes."""
    if opset is None:
        return
    try:
        checked_opset(_import_onnx(), opset)
    except HyperparameterError as error:  # "opset: ..." as the option
        raise HyperparameterError(f"--{error}") from None


def _check_probabilities(model, probabilities: bool) -> None:
    """HyperparameterError naming --probabilities for a model whose outputs are not class scores."""
    task = model.preprocessor.task if model.preprocessor is not None else None
    if probabilities and task not in PROBABILITIES:
        why = "it has no preprocessing" if task is None else f"its preprocessing says task {task!r}"
        raise HyperparameterError(f"--probabilities: the model's outputs are not class scores ({why}); "
                                  f"leave --probabilities out")


def _output_kind(model, probabilities: bool, preprocessing: bool) -> str:
    """What the graph's output holds, in words: probabilities, a classifier's logits (the scores
    that --probabilities would turn into probabilities: task "classification" or "multilabel",
    with classes or without), or outputs (standardized targets for a regressor trained on them,
    exported without its preprocessing)."""
    if probabilities:
        return "probabilities"
    preprocessor = model.preprocessor
    if preprocessor is not None and preprocessor.target_mean is not None and not preprocessing:
        return "standardized targets"
    return "logits" if preprocessor is not None and preprocessor.task in PROBABILITIES else "outputs"


def _signature(value_info) -> str:
    """``X (batch, 64)``, ``label (batch)``: a graph input's or output's name and shape."""
    dims = ", ".join(dim.dim_param or str(dim.dim_value) for dim in value_info.type.tensor_type.shape.dim)
    return f"{value_info.name} ({dims})"
