"""chainrule gradcheck: build the configured network and check its backward numerically.

The network is the one ``chainrule train`` would build with the same options (data set,
--hidden, --activation, --init, --loss, --seed); its backpropagated gradients are compared with
central differences in float64 on the first few training rows (those that --test-size and --seed
leave for training, as train splits them). Prints the max relative error
per parameter and the verdict, as ``str(cr.gradcheck(...))`` does in Python;
exits 1 when any, away from kinks, exceeds --tolerance, or an array had nothing compared. With
class weights (--class-weight balanced, or the config key class_weight) it checks the weighted
loss that ``chainrule train`` trains with them, each row weighted by its class's weight over the
training rows.
The network's biases are 0, as train's are, so some ReLU inputs sit at (or within --eps of) their
kink, where a correct backward can be off by up to 1: the verdict leaves the elements at kinks out.
--samples may not exceed the training rows. --eps is a number in (0, 1), every refusal of it worded so:
``--eps: expected a number in (0, 1), got 'x'`` as ``... got 0.0`` or ``... got 2.0`` (a step of 1 or more
makes every element look like a kink); NaN and infinity excepted, refused by the parser as for every option taking
a real number: ``--eps: expected a finite number, got nan``.
``--json`` prints, per array, the error, the elements checked, those at kinks of the loss, the
error away from them and the rounding bound relative to the largest gradient (null for an array
whose gradients are all exactly 0: infinite; 1 or more means the gradient is within rounding of 0), the notes of the
text output as numbers.
"""

from __future__ import annotations

import sys

import numpy

from ..checks import positive, positive_int
from ..data.preprocessing import Preprocessor
from ..errors import DataError, HyperparameterError, quoted
from ..gradcheck import DEFAULT_EPS, gradcheck
from ..layers import mlp
from ..losses import get_loss
from ..training.class_weight import class_weights_per_row
from . import train
from .config import TrainConfig, value_name
from .exit_codes import EXIT_FAILURE
from .json_output import json_text
from .network_args import hidden_layers
from .network_size import check_network_fits_memory
from .option_types import COUNT, SEED, TEST_SIZE, number
from .rows import column_name

NAME = "gradcheck"
HELP = "check the backward of the configured network against central differences"
#: What --eps takes, as its parser's refusal of a value that is no number and its range check say it
EPS = "a number in (0, 1)"


def add_arguments(parser) -> None:
    option = parser.add_argument
    for name in ("--data", "--hidden", "--activation", "--init", "--loss"):
        option(name, help=f"as for chainrule train [{getattr(TrainConfig, name[2:])}]")
    option("--label", type=column_name, help="as for chainrule train [the last column]")
    option("--class-weight", dest="class_weight", choices=train.CLASS_WEIGHTS, metavar="{none,balanced}",
           help=f"as for chainrule train [{TrainConfig.class_weight}]")
    option("--config", metavar="FILE", help="TOML file, as for chainrule train")
    option("--seed", type=SEED, help=f"as for chainrule train [{TrainConfig.seed}]")
    # the rows checked are the first training rows, so the split decides them, as a config file's test_size does
    option("--test-size", dest="test_size", type=TEST_SIZE, help=f"as for chainrule train [{TrainConfig.test_size}]")
    option("--samples", type=COUNT, default=8, help="rows of data to check on [8]")
    option("--max-checks", dest="max_checks", type=COUNT, default=200,
           help="elements compared per parameter array, chosen at random [200]")
    option("--tolerance", type=number("a number > 0"), default=1e-6, help="largest acceptable relative error [1e-6]")
    option("--eps", type=number(EPS), default=1e-5,
           help="the central differences' step, below 1 [1e-5]")
    option("--json", action="store_true",
           help="print the errors as JSON, with the elements checked, at kinks, and the rounding bounds per array")


def run(args) -> int:
    for key in TrainConfig.keys():
        if not hasattr(args, key):
            setattr(args, key, None)
    args.resume = None
    args.device = "cpu"  # gradcheck runs on the CPU in float64, whatever device a config file's run trained on
    config, sources = train.resolve_config_and_sources(args)
    positive_int(args.samples, "--samples")
    positive_int(args.max_checks, "--max-checks")
    positive(args.tolerance, "--tolerance")
    _check_eps(args.eps)
    try:
        data, _ = train.training_split(config, sources, args.config)  # refuses a test_size for data with a test part
    except DataError as error:
        raise train.named_split_error(error, config, sources) from None
    loss, n_outputs = train.training_loss(config, sources, data)  # refuses what train refuses
    hint = train.comma_number_classes_hint(config, data)
    if hint:
        print(hint, file=sys.stderr)
    sizes, activations = hidden_layers(config)
    widths = [data.X_train.shape[1], *sizes, n_outputs]
    # the model and gradcheck's copy of it, each with its gradients
    check_network_fits_memory(widths, "float64", value_name("hidden", sources.get("hidden")), 4,
                              "checking its gradients")
    model = mlp(widths, activations, init=config.init, seed=config.seed, dtype="float64")
    if args.samples > len(data.X_train):
        raise DataError(f"--samples: {args.samples} is more than the {len(data.X_train)} training samples; "
                        f"pass at most {len(data.X_train)}")
    rows = slice(0, args.samples)
    preprocessor = Preprocessor.fit(data.X_train, data.y_train, data.task)
    X = preprocessor.transform(data.X_train[rows], numpy.float64)
    y = preprocessor.encode(data.y_train[rows]) if data.task == "classification" else data.y_train[rows]
    sample_weight = None
    if config.class_weight != "none":  # the class weights of all the training rows, as train weighs them
        sample_weight = class_weights_per_row(preprocessor.encode(data.y_train), preprocessor.classes,
                                              config.class_weight)[rows]
    try:
        report = gradcheck(model, X, y, get_loss(loss), eps=args.eps, max_checks=args.max_checks,
                           seed=config.seed, sample_weight=sample_weight)
    except HyperparameterError as error:  # "eps: 1e-300 is too small ...", as the option that set it
        if str(error).startswith("eps: "):
            raise HyperparameterError(f"--{error}") from None
        raise
    passed = report.passed(args.tolerance, at_kinks=False)
    if args.json:
        # kinks and rounding: what the text output's notes are made of (see GradcheckReport)
        print(json_text({"errors": report.errors, "max_rel_error": report.max_rel_error,
                          "tolerance": args.tolerance, "eps": report.eps, "passed": passed, "checked": report.checked,
                          "kinks": report.kinks, "errors_away_from_kinks": report.errors_away_from_kinks,
                          "rounding": report.rounding}))
    else:
        print(report.text(args.tolerance))
    return 0 if passed else EXIT_FAILURE


def _check_eps(eps: float) -> None:
    """HyperparameterError naming --eps unless it is in (0, 1), in the words of its parser's refusal of a value that
    is no number (:data:`EPS`). They were three: "a number > 0" for 0, "a step below 1" for 1 (the words of
    :func:`chainrule.gradcheck`), "a finite real number" for nan; and the parser's "a number > 0 and below 1".
    NaN and infinity are refused before, by the parser, as for every option taking a real number (--eps is no key
    of a config file): "--eps: expected a finite number, got nan"."""
    if not 0 < eps < 1:  # nan too
        why = ""
        if 1 <= eps < float("inf"):  # every element would look like a kink, and a wrong backward pass
            why = (f"; the central difference estimates a derivative only over a small step "
                   f"(the default is {DEFAULT_EPS:g})")
        raise HyperparameterError(f"--eps: expected {EPS}, got {quoted(eps)}{why}")
