"""chainrule train: train a network on a data set and write a run folder.

With no arguments it trains a 64-256-128-10 ReLU network (Adam, L2 weight decay 1e-3) on
scikit-learn's bundled digits, using every training row (no validation hold-out, so early
stopping watches the training loss), and prints the test accuracy on the 20 % test split.
The run folder (``runs/<timestamp>/`` unless ``--out``) gets:

  model.safetensors       the trained model with its preprocessing (chainrule predict/info)
  checkpoint.safetensors  the training state after the last completed epoch (--resume)
  metrics.json            per-epoch metrics, gradient norms and the test scores (strict JSON:
                          NaN and infinities are null; keys in docs/usage.md)
  config.toml             the resolved configuration (--config repeats the run)
  history.png             loss and metric curves
  gradient_flow.png       per-layer gradient norms ‖∂L/∂W‖ per epoch, log scale

``--device cuda`` trains on an NVIDIA GPU (``pip install 'chainrule[cuda]'``).
``mpiexec -n N chainrule train --distributed ...`` trains data-parallel on N processes
(``--batch-size`` is the global batch); rank 0 alone writes the run folder and prints.
With ``--resume`` rank 0 reads the checkpoint and sends it to every rank, so only rank 0 needs
to see it (the data must be visible to all; so must config.toml beside a checkpoint old enough to
hold no configuration of its own). Started by ``mpiexec -n N`` (N > 1) without
``--distributed``, every process exits 2 (rank 0 saying why): N separate trainings would
write one run folder.

``--out`` must name a new or empty folder: a folder holding files (another run's) is refused
(exit 2), except the folder of the checkpoint that ``--resume`` continues when it is a run
folder (it holds config.toml, or nothing but the checkpoint); while a run writes there it holds
the folder's lock (the file .chainrule-run.lock). A run stopped by
Ctrl-C (or SIGTERM) still writes its files, then exits 130 with a line saying how many whole
epochs it completed and which checkpoint to resume (or that none was written yet). A run that
diverges (a loss or gradient not finite) writes no model file and exits 1 with a line saying
where it diverged, which checkpoint holds the last epoch saved (or that none was written), and
to try a lower --lr (and --weight-decay, when it is 1 or more); or, for a loss not finite before the
first step or a gradient not finite at it, that the data are too large (the targets to standardize, for
regression) and the learning rate not the cause.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import itertools
import math
import os
import sys
from pathlib import Path

import numpy

from ..checks import (SEED_RANGE, as_float_dtype, choice, distinct_names, in_unit_interval, is_seed, positive,
                      positive_int)
from ..data import BUILTIN_DATASETS
from ..data.csv_file import comma_number_advice, comma_number_label
from ..data.files import load_file, spec_paths
from ..data.load import absolute_data_spec, read_data, with_test_part
from ..data.preprocessing import Preprocessor, standardized_targets
from ..data.split import n_test_rows
from ..errors import (
    PATH_QUOTE_LIMIT, ChainruleError, ConfigError, DataError, DistributedError, DivergenceError, HyperparameterError,
    ModelFileError, quoted,
)
from ..initializers import ALIASES, INITIALIZERS
from ..io import atomic_write, save
from ..io.atomic import refuse_overlong_path
from ..layers import ACTIVATIONS, mlp
from ..losses import LOSSES, MSE, get_loss, loss_meant
from ..optimizers import OPTIMIZERS, get_optimizer
from ..training import EarlyStopping, evaluate, fit
from ..training.checkpoint import CheckpointFile, check_checkpoint_path, read_checkpoint
from ..training.distributed import Communicator, SingleProcess
from ..training.loop import AT_START, standardized_already
from ..training.prepare import fit_seeds, held_out_rows
from .config import SavedConfig, TrainConfig, data_beside_config, names_a_file, read_config, value_name
from .device import add_device_argument, check_device
from .evaluate import score_text
from .exit_codes import EXIT_INTERRUPTED
from .job_end import end_together, start_together, stop_together
from .json_output import json_text, strict_json
from .mpi_launch import refuse_mpi_launch_without_distributed
from .network_args import hidden_layers
from .network_size import check_network_fits_memory, network_size, training_vectors
from .option_types import COUNT, SEED, TEST_SIZE, integer, number
from .outputs import named_by_option
from .resume_checks import (
    check_config_matches_network, check_config_matches_state, check_epochs_cover, check_same_columns,
    check_same_data_file, check_same_hidden, check_same_network, check_same_shuffle, check_same_split,
    check_same_target_standardization, check_same_training_rows, check_same_widths, ResumedConfig, resumed_config,
    training_rows,
)
from .rows import column_name, data_sha256, is_pipe, renamed_test_size_error
from .run_folder import (CHECKPOINT, CONFIG, METRICS, check_folder_is_free, check_holds_the_resumed_run,
                         claim_folder, release_folder, resume_option, run_folder, run_id_for, saved_extra)
from .streams import OutputError, printable, stdout_closed

NAME = "train"
HELP = "train a network (no arguments: digits) and write a run folder"
PLOTS = ("history.png", "gradient_flow.png")
MODEL = "model.safetensors"
CLASS_WEIGHTS = ("none", "balanced")  # --class-weight: cr.fit's class_weight None or "balanced"
INITS = ("auto", *sorted([*INITIALIZERS, *ALIASES]))  # --init: cr.mlp's init
METRICS_FORMAT = "chainrule-metrics"  # metrics.json's "format", as model files have "chainrule-model"
METRICS_FORMAT_VERSION = 1  # raised when a key of metrics.json changes meaning or goes away
DEFAULT_DISTRIBUTED_TIMEOUT = 60.0  # --distributed-timeout's seconds


def add_arguments(parser) -> None:
    """The options of ``chainrule train``; each defaults to the config file, then TrainConfig."""
    defaults = TrainConfig()
    option = parser.add_argument
    option("--data", help=f"built-in name (digits, iris, wine, breast_cancer, diabetes) or a CSV/NPZ/IDX path [{defaults.data}]")
    option("--label", type=column_name, help="label column of a CSV file [the last column]")
    option("--hidden", help=f"hidden layer widths, comma-separated (in a config file also a list: [256, 128]); "
                            f"'' for none (a linear model) [{defaults.hidden}]")
    option("--activation", help=f"{', '.join(ACTIVATIONS)}: one for every hidden layer, or one per hidden layer, "
                                f"comma-separated (relu,tanh) [{defaults.activation}]")
    option("--init", help=f"weight initializer of every Linear layer: {', '.join(INITS)} "
                          f"[{defaults.init}: he_normal before the ReLU family, glorot_uniform otherwise]")
    option("--loss", help=f"auto, {', '.join(LOSSES)} [auto: cross_entropy or mse by task]")
    option("--optimizer", help=f"{', '.join(OPTIMIZERS)} [{defaults.optimizer}]")
    option("--lr", type=number("a number > 0"), help=f"learning rate [{defaults.lr}]")
    option("--weight-decay", dest="weight_decay", type=number("a number >= 0"),
           help=f"L2 penalty on the weights [{defaults.weight_decay}]")
    option("--batch-size", dest="batch_size", type=COUNT, help="samples per step [32, or the training rows if fewer]")
    option("--epochs", type=COUNT, help=f"maximum epochs [{defaults.epochs}]")
    option("--seed", type=SEED, help=f"seed of weights, splits and shuffling [{defaults.seed}]")
    option("--no-shuffle", dest="shuffle", action="store_false", default=None,
           help="take the training rows in the data's order every epoch, not in a new random order "
                "(scikit-learn's shuffle=False)")
    option("--validation", type=number("a number in [0, 1)"),
           help=f"fraction held out for validation; 0 for none [{defaults.validation}]")
    option("--patience", type=integer("an integer >= 0"),
           help=f"early-stopping patience in epochs; 0 turns it off [{defaults.patience}]")
    option("--class-weight", dest="class_weight", choices=CLASS_WEIGHTS, metavar="{none,balanced}",
           help="balanced: weigh each class's rows by n / (classes × its rows), for classes of unequal sizes "
                f"[{defaults.class_weight}]")
    option("--standardize-targets", dest="standardize_targets", action="store_true", default=None,
           help="train on regression targets standardized to mean 0 and scale 1 (saved with the model: predict "
                "answers in the targets' units), for targets far from 0 or widely spread [off]")
    option("--dtype", help=f"float32 or float64 [{defaults.dtype}]")
    add_device_argument(parser, None)
    option("--test-size", dest="test_size", type=TEST_SIZE,
           help=f"test fraction when the data has no test part (refused for data with one) [{defaults.test_size}]")
    option("--checkpoint-every", dest="checkpoint_every", type=COUNT, help="epochs between checkpoints [1]")
    option("--no-plots", dest="plots", action="store_false", default=None, help="do not draw PNG plots")
    option("--out", help="run folder, new or empty [runs/<timestamp>; with --resume, the checkpoint's folder]")
    option("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint.safetensors")
    option("--config", metavar="FILE", help="TOML file with keys named like these options (batch_size = 64)")
    option("--json", action="store_true", help="print the results as JSON on stdout")
    option("--quiet", action="store_true", help="no progress bar and no per-epoch lines on stderr")
    option("--distributed", action="store_true",
           help="data-parallel over MPI: mpiexec -n N chainrule train --distributed (pip install 'chainrule[mpi]')")
    option("--distributed-timeout", dest="distributed_timeout", type=number("a number > 0"),
           default=DEFAULT_DISTRIBUTED_TIMEOUT,
           metavar="SECONDS",
           help="abort the MPI job when a rank has not answered for this long [60]")


def resolve_config(args) -> TrainConfig:
    """Defaults, then the resumed run's config, then --config, then the command line.

    Each layer overrides only the keys it names, so ``--resume CK --config more.toml`` with
    ``epochs = 10`` in the file continues the saved run (its seed, data, ...) up to epoch 10.
    Errors name the value as its source gave it: ``--seed``, or ``run.toml: key 'seed'``.
    """
    return resolve_config_and_sources(args)[0]


def resolve_config_and_sources(args, checkpoint: CheckpointFile | None = None,
                               resumed: ResumedConfig | None = None) -> tuple[TrainConfig, dict]:
    """:func:`resolve_config`'s configuration, and for each key a file gave, that file's path
    (a ``SavedConfig`` for the configuration the resumed checkpoint saved).

    The errors found later (a loss the data cannot take) name a key through
    ``value_name(key, sources.get(key))``, as :func:`validate` does. ``checkpoint`` is
    ``--resume``'s file as :func:`read_checkpoint` read it, and ``resumed`` its run's configuration
    as :func:`~chainrule.cli.resume_checks.resumed_config` read it; without them, they are read here.
    """
    for option, path in (("--resume", getattr(args, "resume", None)), ("--config", args.config)):
        if path == "":  # an unset shell variable ("$CFG") would otherwise leave the option out silently
            raise ConfigError(f"{option}: expected a file name, got ''")
        if path is not None:
            refuse_overlong_path(path, option, ConfigError)
    layers = []  # (values, the file they came from, or None for the command line), lowest first
    if args.resume:
        if checkpoint is None:
            checkpoint = read_checkpoint(args.resume)  # a training checkpoint, before its configuration is compared
        if resumed is None:
            resumed = resumed_config(checkpoint)
        layers.append(resumed)
    if args.config:
        values = read_config(args.config)
        if getattr(args, "data", None) is None:  # else --data overrides the file's, which is not looked for
            values = data_beside_config(values, args.config)
        layers.append((values, args.config))
    given = {key: getattr(args, key) for key in TrainConfig.keys() if getattr(args, key, None) is not None}
    layers.append((given, None))
    config, sources = TrainConfig(), {}
    for values, source in layers:
        config = config.with_values(values, source)
        sources.update(dict.fromkeys(values, source))
    if args.resume:  # before validate, which would blame the saved activations for a count --hidden changed
        check_config_matches_network(checkpoint, *resumed)
        check_config_matches_state(checkpoint, *resumed)
        check_same_hidden(*resumed, config, sources)
    validate(config, sources)
    # NumPy's other names of the two dtypes ("double", "f4") are taken, and saved by the one --help gives
    config = dataclasses.replace(config, dtype=as_float_dtype(config.dtype).name)
    if args.resume:
        check_same_split(*resumed, config, sources)
        check_same_shuffle(*resumed, config, sources)
        check_same_network(*resumed, config, sources)
        if "init" in resumed.values:  # an alias of the run's initializer is taken, and the network built as saved: the
            # checkpoint's architecture holds the name the run gave it, which cr.fit compares
            config = dataclasses.replace(config, init=TrainConfig().with_values(*resumed).init)
        check_epochs_cover(checkpoint.extra.get("epoch"), config, sources)
    return config, sources


def validate(config: TrainConfig, sources: dict | None = None) -> None:
    """Reject bad values before any data is read.

    ``sources`` maps a key to the file it came from; a key from a file is named as that
    file's key (``run.toml: key 'seed'``), any other as its option (``--seed``). The hidden
    layers (widths, then activations: :func:`hidden_layers`) are checked first.
    """
    def name(key: str) -> str:
        return value_name(key, (sources or {}).get(key))

    hidden_layers(config, sources)
    check_label(config, sources or {})
    choice(config.init, name("init"), INITS)
    losses = ["auto", *LOSSES]
    choice(config.loss, name("loss"), losses, meant=lambda value: loss_meant(value, losses))
    choice(config.optimizer, name("optimizer"), list(OPTIMIZERS))
    choice(config.class_weight, name("class_weight"), list(CLASS_WEIGHTS))
    as_float_dtype(config.dtype, name("dtype"))
    check_device(config.device, name("device"))
    positive(config.lr, name("lr"))
    positive(config.weight_decay, name("weight_decay"), allow_zero=True)
    if config.batch_size is not None:  # None: fit's default, 32 or the training rows if fewer
        positive_int(config.batch_size, name("batch_size"))
    positive_int(config.epochs, name("epochs"))
    positive_int(config.checkpoint_every, name("checkpoint_every"))
    if not is_seed(config.seed):  # as cr.fit takes it: the model file records it
        raise HyperparameterError(f"{name('seed')}: expected an integer from {SEED_RANGE}, got {quoted(config.seed)}")
    if config.patience < 0:
        raise HyperparameterError(f"{name('patience')}: expected an integer >= 0, got {config.patience}")
    in_unit_interval(config.validation, name("validation"))
    if not 0 < config.test_size < 1:
        raise HyperparameterError(f"{name('test_size')}: expected a fraction in (0, 1), got {config.test_size}")


def check_label(config: TrainConfig, sources: dict) -> None:
    """ConfigError naming ``label`` where it came from when it names a column of data that is
    not a CSV file (a built-in name, an NPZ or IDX file), whose labels are its own. (A config
    file's ``label = ""`` means the last column; an empty --label is refused as it is parsed.)"""
    name = value_name("label", sources.get("label"))
    if config.label and Path(config.data).suffix.lower() != ".csv":
        kind = "a built-in data set" if config.data in BUILTIN_DATASETS else "not a .csv file"
        data = value_name("data", sources.get("data"))
        raise ConfigError(f"{name}: {quoted(config.label)} names a CSV column, but {data} "
                          f"{quoted(config.data, PATH_QUOTE_LIMIT)} is {kind}")


def run(args) -> int:
    """Train; 0 when done, 130 (after writing the run's files) when stopped by Ctrl-C.

    In order: the launch, a closed stdout (refused), the configuration (with the resumed run's),
    the run folder, the data, the network, training, then rank 0 writes the run's files and
    prints its summary line (:func:`write_run`) while the other ranks wait, and every rank ends
    with the ranks' largest exit code (:func:`~chainrule.cli.job_end.end_together`). With
    --distributed, the ranks first agree that none had its command line refused before it started MPI
    (:mod:`~chainrule.cli.early_failure`), and an input error found by any rank stops every rank before
    rank 0 makes the run folder (:func:`~chainrule.cli.job_end.stop_together`).
    """
    refused = refuse_launch(args)
    if refused is not None:
        return refused
    if stdout_closed():  # the summary line at the end would fail, after the whole run
        raise OutputError("stdout: it was closed when chainrule started (>&-), and train prints its summary there "
                          "when the run ends; run it with stdout open (> /dev/null discards it)")
    comm = Communicator(args.distributed_timeout) if args.distributed else SingleProcess()
    refused_on_a_rank = start_together(comm)  # one whose command line was refused before MPI started joins here
    if refused_on_a_rank:
        return refused_on_a_rank  # that rank said why
    failure = None
    try:  # every rank's inputs, checked before rank 0 makes the run folder
        checkpoint = read_resumed_checkpoint(args.resume, comm)
        # read once: every check compares this run with the configuration of that one reading
        resumed = resumed_config(checkpoint) if checkpoint is not None else None
        config, sources = resolve_config_and_sources(args, checkpoint, resumed)
        # Saved with its data path absolute, so that --resume finds the same files from any
        # working directory; read (and named in errors) as the user gave it.
        saved_config = dataclasses.replace(config, data=absolute_data_spec(config.data))
        check_text_values(saved_config, sources)
        if config.plots and comm.is_root:  # rank 0 alone draws them
            check_plots_can_be_drawn(sources)
        folder = run_folder(args)
        if comm.is_root:
            check_folder_is_free(folder, args.resume)
            if checkpoint is not None:
                check_holds_the_resumed_run(folder, args.resume, resumed, checkpoint.extra,
                                            checkpoint.model.metadata.get("run_id"))
        data, data_hash, own_test_part = load_training_data(config, sources, comm.size, args.config)
        rows = training_rows(data.X_train, data.y_train)  # recorded, and compared with a resumed run's
        loss, n_outputs = training_loss(config, sources, data)
        hint = comma_number_classes_hint(config, data)
        if hint and comm.is_root:
            print(hint, file=sys.stderr)
        if args.resume:
            check_same_widths(checkpoint, resumed, config, sources, data.X_train.shape[1], n_outputs, loss)
            check_same_columns(checkpoint, config, sources, data.feature_names)
            check_same_data_file(checkpoint, resumed, config, sources, data_hash)
            check_same_training_rows(checkpoint, resumed, config, sources, data, rows)
            check_same_target_standardization(checkpoint, standardizes_targets(loss, config, sources), sources)
        model, optimizer = build_network(config, sources, data.X_train.shape[1], n_outputs)
    except ChainruleError as error:
        failure = error
    stopped = stop_together(comm, failure)  # raises this rank's error; another's: its exit code
    if stopped:
        return stopped
    # data with a test part of its own is not split: its configuration holds no test size, so that
    # --config with the run's config.toml repeats the run rather than being refused
    left_out = {"test_size": "the data has a test part of its own"} if own_test_part else {}
    model.metadata["config"] = {key: value for key, value in dataclasses.asdict(saved_config).items()
                                if key not in left_out}  # in every checkpoint, for --resume
    # in every checkpoint too, so that evaluate and predict read a CSV's columns by name with it, as with the model
    model.metadata["data"] = data_metadata(data, data_hash, rows)
    # in every checkpoint and in metrics.json, so that a run folder's files are told from another run's; each rank
    # draws one for a new run, and rank 0's is written (write_run takes it out of the model file)
    model.metadata["run_id"] = run_id_for(folder, args.resume, checkpoint)
    callbacks = [EarlyStopping(config.patience)] if config.patience else []
    history, folder = fit_in_run_folder(model, optimizer, callbacks, data, loss, config, args, comm, folder,
                                        checkpoint, sources)
    if comm.is_root:
        code = write_run(model, data, history, callbacks, config, saved_config, left_out, args, comm, folder)
    else:  # rank 0 writes the run's files meanwhile
        code = EXIT_INTERRUPTED if history.stop_reason == "interrupted" else 0
    return end_together(comm, code)  # no rank is left in MPI_Finalize, where a Ctrl-C kills it, while rank 0 writes


def write_run(model, data, history, callbacks: list, config: TrainConfig, saved_config: TrainConfig,
              left_out: dict, args, comm, folder: Path) -> int:
    """Rank 0's end of a run: write the run's files into ``folder``, whose lock it holds and then
    gives back, and print the results; 0, or 130 when training or the writing was interrupted.
    ``left_out`` holds the keys config.toml leaves out, each with why (``TrainConfig.to_toml``)."""
    interrupted = history.stop_reason == "interrupted"
    written = []  # the run's files written so far, named if Ctrl-C (or SIGTERM) comes before the last
    try:  # the run's files, written while this run holds the folder's lock
        try:  # a write that fails (a full disk) led by --out, as the run folder's errors before training are
            with named_by_option("--out", *(folder / name for name in run_files(True))):
                # config.toml first: a Ctrl-C after it leaves a run folder, which --resume continues (with a
                # model.safetensors beside the checkpoint and no config.toml, it would not be one)
                atomic_write(folder / CONFIG, saved_config.to_toml(left_out))
                written.append(CONFIG)
                test = evaluate(model, data.X_test, data.y_test)
                # the checkpoints' and metrics.json's, not the model file's: a resumed run's model is the
                # uninterrupted run's, byte for byte
                run_id = model.metadata.pop("run_id")
                save_model(model, data, config.data, test, folder / MODEL)
                written.append(MODEL)
                restored = best_weights_restored(history, callbacks)
                results = {"run": str(folder), "run_id": run_id, "data": data.name, "task": data.task,
                           "epochs": history.epochs, "partial_last_epoch": history.partial_last_epoch,
                           "stop_reason": history.stop_reason, "best_epoch": history.best_epoch,
                           "best_weights_restored": restored,
                           "test": test, "final": history.last()}
                metrics = {"format": METRICS_FORMAT, "format_version": METRICS_FORMAT_VERSION, **results,
                           "history": history.to_json()}
                atomic_write(folder / METRICS, json_text(metrics, indent=2))
                written.append(METRICS)
                try:
                    write_plots(config.plots, history, model, data.name, folder, restored, written)
                except ChainruleError as error:  # a plot that cannot be written (a full disk): the run is kept
                    missing = " or ".join(name for name in PLOTS if name not in written)
                    error.args = (f"{error}; the run trained to epoch {history.epochs} and {', '.join(written)} "
                                  f"were written in {folder}, but not {missing}", *error.args[1:])
                    raise
        except KeyboardInterrupt:  # training is over: say what the run folder holds
            beside = f", beside the checkpoint {CHECKPOINT}" if (folder / CHECKPOINT).is_file() else ""
            print(f"chainrule: interrupted after training ({history.complete_epochs} complete epochs), while "
                  f"writing the run's files: {', '.join(written) or 'none of them'} written in {folder}{beside}",
                  file=sys.stderr)
            return EXIT_INTERRUPTED
        if args.json:
            print(json_text(results))
        else:
            print(summary_line(data, test, history, folder, restored))
        if not math.isfinite(test["loss"]):
            print("hint: the test loss is not finite: some test rows lie so far outside the training data that the "
                  "network overflowed on them (chainrule predict refuses such a row, naming it; the scores count "
                  "it as wrong); check the data", file=sys.stderr)
        if test.get("r2", 0.0) < 0 and not config.standardize_targets:
            print("hint: a test R² below 0 is worse than predicting the mean; regression targets far from 0 or "
                  "widely spread train poorly as they are: try --standardize-targets", file=sys.stderr)
        if interrupted:
            print(interrupted_line(folder / CHECKPOINT, history.complete_epochs, config.checkpoint_every,
                                   resume_command(folder / CHECKPOINT, args, comm)), file=sys.stderr)
            return EXIT_INTERRUPTED
        return 0
    finally:
        release_folder(folder)


def run_files(plots: bool) -> tuple:
    """The names of the files a run writes into its run folder (the plots when ``plots``)."""
    return (CHECKPOINT, CONFIG, MODEL, METRICS, *(PLOTS if plots else ()))


def check_text_values(config: TrainConfig, sources: dict) -> None:
    """ConfigError naming the option or key whose text UTF-8 cannot encode (a path holding bytes
    that are not UTF-8, which Python decodes to lone surrogates), before anything is trained:
    config.toml and the model file hold the run's settings as UTF-8 text."""
    for key, value in dataclasses.asdict(config).items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and not _encodes(text):
                raise ConfigError(f"{value_name(key, sources.get(key))}: {quoted(text, PATH_QUOTE_LIMIT)} is not text "
                                  f"that UTF-8 can encode (a name whose bytes are not UTF-8), which config.toml and "
                                  f"the model file must hold; rename it, or its folder, in UTF-8")


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def refuse_launch(args) -> int | None:
    """HyperparameterError for a bad --distributed-timeout (with --distributed or without, as
    any bad option is refused); without --distributed, the exit code of a launch by
    ``mpiexec -n N`` (N > 1), after saying why; None to go on."""
    positive(args.distributed_timeout, "--distributed-timeout")
    if args.distributed:
        return None
    return refuse_mpi_launch_without_distributed(os.environ)


def read_resumed_checkpoint(resume: str | None, comm) -> CheckpointFile | None:
    """The checkpoint --resume names (``resume``), read once; None without --resume.

    Once: the configuration compared with this run's and the state fit resumes come from one
    read of the file, even if another process replaces it meanwhile. A file that is not a checkpoint
    (missing, unreadable, a directory, damaged, foreign, a model file) is a ModelFileError led by the
    option: ``--resume: ck.safetensors: not a chainrule checkpoint, or a damaged one: ...``. With --distributed, rank 0
    reads it and sends its bytes to every rank (Communicator.local_checkpoint), so only rank 0
    needs to see the file, and fit resumes from those same bytes.
    """
    if not resume:
        return None
    refuse_overlong_path(resume, "--resume", ConfigError)
    try:
        if isinstance(comm, Communicator):
            return comm.local_checkpoint(resume)  # a missing file: the same ModelFileError on every rank
        check_checkpoint_path(resume)  # as fit(resume=...) refuses it
        return read_checkpoint(resume)
    except ModelFileError as error:  # the library's words, led by the option, as the other --resume errors are
        beside = Path(resume).with_name(CHECKPOINT)
        # a run folder's model.safetensors (a model file, which holds no training state): the checkpoint beside it;
        # not a damaged or missing copy of a checkpoint (a snapshot of an earlier epoch), which would resume
        is_model_file = str(error).startswith(f"{resume}: not a training checkpoint")
        hint = "" if not is_model_file or Path(resume).name == CHECKPOINT or not beside.is_file() else (
            f"; --resume takes the run's checkpoint: {beside}")
        error.args = (f"--resume: {error}{hint}", *error.args[1:])
        raise


def load_training_data(config: TrainConfig, sources: dict, n_processes: int = 1, config_file: str | None = None):
    """The data set ``config`` names, split, and checked against ``config`` (and a batch size
    against the ``n_processes`` of a distributed run); with the SHA-256 of its files
    (``rows.data_sha256``: None for a built-in data set), and whether its test part is the data's
    own (:func:`training_split`, which refuses a test size from the command line or the
    ``config_file`` for such data).

    The files are hashed before they are read: a file changed in between then fails the checks of
    evaluate (a CSV file is scored whole) and of a resumed run rather than passing them with rows
    this run never split.
    """
    try:
        data_hash = data_sha256(config.data)
        data, own_test_part = training_split(config, sources or {}, config_file)
    except DataError as error:
        renamed = named_split_error(error, config, sources or {})
        if renamed is not error:
            raise renamed from None
        raise
    check_file_fits_dtype(config, data)
    check_batch_size(config, sources, data, n_processes)
    check_standardized_targets_fit(config, sources, data)
    return data, data_hash, own_test_part


def named_split_error(error: DataError, config: TrainConfig, sources: dict) -> DataError:
    """``error``, raised by :func:`training_split`, named by where the value it is about came from
    (``sources``, as for ``value_name``): a test size the data's own test part makes needless, or
    data that is not there (:func:`named_data_error`); else ``error`` itself."""
    renamed = renamed_test_size_error(error, value_name("test_size", sources.get("test_size")))
    return renamed if renamed is not error else named_data_error(error, config.data, sources.get("data"))


def named_data_error(error: DataError, data: str, source: str | SavedConfig | None) -> DataError:
    """``error``, raised reading the ``data`` that ``source`` gave, named by that config file's key
    (or the saved configuration's) when the data is not there: a path to a file that is gone (moved
    since the run began, or mistyped in the config file) or a bare name of no built-in data set
    (misspelt there); else ``error`` itself. From the command line (``source`` None), a misspelt
    name is named by its option, ``--data: unknown data set 'irsi' (did you mean 'iris'?)...``, as
    any other misspelt value is; a path that is gone names itself ("rows.csv: no such file")."""
    gone = any(names_a_file(part) and not os.path.exists(part) for part in spec_paths(data))
    misspelt = not (data in BUILTIN_DATASETS or names_a_file(data) or "," in data or os.path.exists(data))
    if source is None and misspelt:
        return DataError(f"{value_name('data', None)}: {error}")
    if source is None or not (gone or misspelt):
        return error
    if isinstance(source, SavedConfig):  # a name: of a data set another release has, or edited in the file
        fix = "pass --data with the file's new place" if gone else "pass --data"
    else:
        fix = f"correct the {'path' if gone else 'name'} there, or pass --data"
    return DataError(f"{value_name('data', source)}: {error}; {fix}")


def training_split(config: TrainConfig, sources: dict, config_file: str | None = None):
    """(the data ``config`` names, with its test part; whether that part is the data's own).

    Data without a test part of its own (a built-in data set, a CSV file, an NPZ archive without
    ``X_test``, IDX files without test files) is split by ``config.test_size`` and ``config.seed``.
    Data with one is not split, so a test size given for it would change nothing: ConfigError naming
    it, on the command line or in ``config_file`` (the --config file; one the resumed run saved, or
    config.toml beside an old checkpoint, is its run's and taken). A test size that leaves one side
    of the split empty is ``load_data``'s DataError, which the caller names (``renamed_test_size_error``).
    """
    data = read_data(config.data, label=config.label or None)
    own_test_part = data.X_test is not None
    given_in = sources.get("test_size", "")
    if own_test_part and "test_size" in sources and given_in in (None, config_file):
        fix = "remove the key" if given_in else "leave --test-size out"
        raise ConfigError(f"{value_name('test_size', given_in)}: the data {quoted(config.data, PATH_QUOTE_LIMIT)} "
                          f"has a test part of its own ({len(data.X_test)} rows), which the run tests on; a test "
                          f"size splits off test rows only from data without one; {fix}")
    return with_test_part(data, config.data, test_size=config.test_size, seed=config.seed), own_test_part


def build_network(config: TrainConfig, sources: dict, n_features: int, n_outputs: int):
    """(model, optimizer): the network ``config`` asks for, from ``n_features`` inputs to
    ``n_outputs`` outputs, on ``config.device``, and its optimizer.

    HyperparameterError naming ``hidden`` where it came from when the network does not fit in
    the memory: counted before it is built, and again if building it runs out.
    """
    sizes, activations = hidden_layers(config)
    widths = [n_features, *sizes, n_outputs]
    hidden = value_name("hidden", sources.get("hidden"))
    check_network_fits_memory(widths, config.dtype, hidden, training_vectors(config.optimizer, config.weight_decay),
                              f"training it with {config.optimizer}")
    try:
        model = mlp(widths, activations, init=config.init, seed=config.seed,
                    dtype=config.dtype).to(config.device)  # before the optimizer: its state goes there too
        optimizer = get_optimizer(config.optimizer, model, lr=config.lr, weight_decay=config.weight_decay)
    except MemoryError:
        raise HyperparameterError(f"{hidden}: {quoted(config.hidden)}: {network_size(widths, config.dtype)} do not fit "
                                  f"in the memory left, with the optimizer's state; choose smaller widths") from None
    except HyperparameterError as error:  # a check that needs the model (a weight decay past its dtype): as the option
        argument, _, rest = str(error).partition(": ")
        if argument not in ("lr", "weight_decay"):
            raise
        raise HyperparameterError(f"{value_name(argument, sources.get(argument))}: {rest}") from None
    return model, optimizer


def standardizes_targets(loss: str, config: TrainConfig, sources: dict | None = None, data=None) -> bool:
    """Whether the run standardizes its targets (``--standardize-targets``); ConfigError naming
    ``standardize_targets`` where it came from (``sources``, as for ``value_name``) when the
    loss trains for classes, which have no scale. Where ``data``'s labels are a CSV file's numbers
    written with commas ("1,000,000", text, so classes), the error says so and how to convert the
    file, as ``--loss mse`` is told (:func:`comma_number_labels`).

    Off by default: a network that fits standardized targets quickly also overfits a small
    set sooner (the default network on diabetes scored test R² 0.16 with it, 0.47 without),
    while raw targets far from 0 or widely spread barely train (diabetes + 1e6: R² −1.3e8)."""
    task = get_loss(loss).task
    if config.standardize_targets and task != "regression":
        option = value_name('standardize_targets', (sources or {}).get('standardize_targets'))
        commas = comma_number_labels(data) if data is not None else ""
        if commas:
            raise ConfigError(f"{option}: {data.name} has text labels, classes for the loss {loss}, not values to "
                              f"standardize: {commas}")
        raise ConfigError(f"{option}: the loss {loss} trains for {task}, whose targets are not values to "
                          f"standardize; it is for regression")
    return config.standardize_targets


def comma_number_labels(data) -> str:
    """For a CSV file's text labels the first of which looks like a number written with commas ("1,000,000", read
    as text: a class), that label quoted and what :func:`~chainrule.data.csv_file.comma_number_advice` says of it
    (the number it looks like, the pandas line that converts the file); "" for any other labels."""
    return comma_number_label(data.y_train) if data.name.lower().endswith(".csv") else ""


def comma_number_classes_hint(config: TrainConfig, data) -> str | None:
    """The hint line for a run whose loss is ``auto`` on a CSV file's label column of which every value looks like a
    number written with commas ("1,000,000"): read as text, so auto trains one class per value, where values to
    regress on were probably meant (usage.md's rule, text labels are classes, stands: a warning, not a refusal);
    None otherwise."""
    if config.loss != "auto" or data.task != "classification":
        return None
    commas = comma_number_labels(data)
    if not commas:  # the first label tells, before every label is looked at
        return None
    # Each value once (numpy.unique of the training labels was taken twice). Measured on 2 shared cores, a CSV label
    # column of 10**6 rows: 1,000 distinct values, 0.1 s; 10**6 distinct, 3 to 4 s (numpy.unique 1.4 s, the advice
    # 2.4 s), reading the file 6 s.
    classes = numpy.unique(data.y_train)
    tested = numpy.unique(data.y_test) if data.y_test is not None else ()
    if not all(comma_number_advice(str(label)) for label in itertools.chain(classes, tested)):
        return None
    return (f"hint: {data.name}: every label of column {quoted(data.label_name)} looks like a number written with "
            f"commas, read as text, so --loss auto trains {len(classes)} classes, one per value; "
            f"for values to regress on: {commas}")


def fit_in_run_folder(model, optimizer, callbacks: list, data, loss: str, config: TrainConfig, args, comm,
                      folder: Path, checkpoint: CheckpointFile | None, sources: dict | None = None):
    """Claim the run ``folder`` (rank 0) and train ``model`` on ``data``'s training part:
    (History, the folder claimed, which for runs/<timestamp> may be a numbered one).

    An error leaves no folder this run created behind empty. An error that every rank raises
    alike (``same_on_every_rank``, which the command reports on rank 0 alone) is raised on the
    other ranks as fit raised it: only rank 0's is shown. A diverged run's error is
    :func:`diverged`'s, naming the learning rate where it came from (``sources``, as for
    ``value_name``); another error of fit that names one of its arguments that is also an option
    (``validation: holding out 0.99 ...``) names the option or config key instead.
    """
    created = [path for path in (folder, *folder.parents) if not path.exists()]  # deepest first
    if comm.is_root:
        numbered = not args.out and not args.resume  # runs/<timestamp>: another run's is passed over
        try:
            claimed = claim_folder(folder, args.resume, numbered=numbered, outputs=run_files(config.plots))
        except BaseException:  # a lock file the full disk refused: no empty run folder left behind
            _remove_empty(created)
            raise
        if claimed != folder:  # the first candidate, and any folder above it, are another run's
            created = [claimed] + [path for path in created if path != folder]
            folder = claimed
    try:
        class_weight = None if config.class_weight == "none" else config.class_weight
        history = fit(model, data.X_train, data.y_train, class_weight=class_weight, loss=loss, optimizer=optimizer,
                      epochs=config.epochs, batch_size=config.batch_size, validation=config.validation or None,
                      seed=config.seed, shuffle=config.shuffle, verbose=0 if args.quiet else 1, callbacks=callbacks,
                      standardize=True,
                      standardize_targets=standardizes_targets(loss, config, sources), checkpoint=folder / CHECKPOINT,
                      checkpoint_every=config.checkpoint_every, resume=checkpoint,
                      distributed=comm if args.distributed else False, device=config.device)
        return history, folder
    except BaseException as error:
        if comm.is_root:
            release_folder(folder)
        if comm.is_root:  # an input error found by fit leaves no empty run folder behind
            _remove_empty(created)
        if getattr(error, "same_on_every_rank", False) and not comm.is_root:
            raise  # rank 0 says what its disk, where it alone writes checkpoints, holds
        sources = sources or {}
        if isinstance(error, DivergenceError):
            task = get_loss(loss).task
            raise diverged(error, folder, config.lr, value_name("lr", sources.get("lr")), task, model.dtype,
                           bool(config.standardize_targets),
                           (config.weight_decay, value_name("weight_decay", sources.get("weight_decay")))) from error
        argument, _, rest = str(error).partition(": ")
        if isinstance(error, ChainruleError) and rest and argument in FIT_OPTIONS:
            error.args = (f"{value_name(argument, sources.get(argument))}: {rest}", *error.args[1:])
        elif isinstance(error, ModelFileError) or isinstance(error, DistributedError) \
                and isinstance(error.__cause__, ModelFileError):
            name_checkpoint_error(error, folder / CHECKPOINT, checkpoint, config, sources)
        raise


def name_checkpoint_error(error: ModelFileError | DistributedError, written: Path, resumed: CheckpointFile | None,
                          config: TrainConfig, sources: dict) -> None:
    """Lead ``error``, raised by fit about a checkpoint, with the option that named the file: ``--out`` for the
    checkpoint ``written`` into the run folder that cannot be written (a full disk, a file made read-only
    meanwhile), ``--resume`` for the ``resumed`` one (a damaged field: ``checkpoint field epoch: ...``), as the
    errors found before training name them. Another validation set than the ``resumed`` run's is told with the
    keys of ``config`` that chose this run's, each named where it came from (``sources``): a checkpoint holding no
    configuration is resumed with the config.toml beside it, whose ``validation`` (recorded nowhere in the
    checkpoint) may not be its run's (a ``test_size`` that is not is refused before, by its counts of rows:
    ``resume_checks.check_same_training_rows``). In a distributed run, rank 0's error writing the checkpoint is
    the ranks' DistributedError (``writing the checkpoint after epoch 2 failed on rank 0 of 2: ...``), caused on
    rank 0, which prints it, by the ModelFileError: it is led by ``--out`` too."""
    message = str(error)
    own = str(error.__cause__) if isinstance(error, DistributedError) else message
    if own.startswith(f"{written}: cannot write"):
        error.args = (f"--out: {message}", *error.args[1:])
    elif isinstance(error, ModelFileError) and resumed is not None and message.startswith(f"{resumed}: "):
        held = ""
        if message.startswith(f"{resumed}: validation: "):
            held = "; this run held out its rows by " + ", ".join(
                f"{key} {quoted(getattr(config, key))} ({value_name(key, sources.get(key))})"
                for key in ("seed", "test_size", "validation", "data"))
        error.args = (f"--resume: {message}{held}", *error.args[1:])


#: cr.fit's arguments that train passes as they are given, under the same name as its options' keys
FIT_OPTIONS = ("validation", "batch_size", "epochs", "seed", "checkpoint_every", "class_weight")


def _remove_empty(created: list[Path]) -> None:
    """Remove the folders of ``created`` (deepest first) that this run made and left empty; a folder
    deleted meanwhile, or one that cannot be looked at or removed, is passed over (the error being
    raised says why). Before, a path the system refused (``File name too long`` for the folder that
    could not be made) raised OSError here, an internal error (exit 1) in place of that error, and left
    the folders above it, which the run had made."""
    for path in created:
        try:
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        except OSError:
            pass


def diverged(error: DivergenceError, folder: Path, lr: float, lr_name: str, task: str, dtype,
             targets: bool, decay: tuple[float, str] = (0.0, "--weight-decay")) -> DivergenceError:
    """A diverged run's error in the command's terms (exit 1): ``cr.fit``'s says that the model
    keeps its last finite weights and names its ``lr``, but the command writes no model file.
    This says what the run ``folder`` holds (the last checkpoint written, or nothing) and names
    the learning rate as ``lr_name`` (``--lr``, or a config file's key); or, for a loss not finite
    before the first step or a gradient not finite at it, what to scale instead (the ``task``'s
    targets, for regression, unless ``targets`` says they are standardized; the model's ``dtype``,
    when float32). A weight decay of 1 or more (``decay``: its value and name) is named beside the
    learning rate: its penalty's gradient (λ·w, and its square in Adam's and RMSprop's moments) can
    overflow whatever the rate, so a lower rate alone need not help."""
    what, alike = f"training diverged {error.where}", error.same_on_every_rank
    if error.at_start:  # nothing was written yet, and the learning rate is not the cause
        advice = ["standardize the targets (--standardize-targets)"] if task == "regression" and not targets else []
        if dtype == numpy.float32:
            advice.append("train with --dtype float64")
        cause = (f"the rows or their targets are too large for the network or the loss in {numpy.dtype(dtype)} (the "
                 f"inputs are standardized already): {', or '.join(advice)}" if advice
                 else standardized_already(error.where))
        return DivergenceError(f"{what}; no model file or checkpoint was written; {AT_START}: {cause}",
                               where=error.where, at_start=True, same_on_every_rank=alike)
    checkpoint = folder / CHECKPOINT
    lower = f"try a lower {lr_name} than {lr:g}" if lr_name.startswith("--") else \
        f"try a lower lr than {lr:g} ({lr_name})"
    if decay[0] >= 1:
        lower += f", or a lower {decay[1]} than {decay[0]:g}" if decay[1].startswith("--") else \
            f", or a lower weight_decay than {decay[0]:g} ({decay[1]})"
    if checkpoint.is_file():
        epoch = saved_epoch(checkpoint)
        return DivergenceError(f"{what}; no model file was written, but the checkpoint {checkpoint} holds epoch "
                               f"{epoch}; {lower}, from the start or with {resume_option(checkpoint)}",
                               where=error.where, same_on_every_rank=alike)
    removed = "" if folder.exists() else f" (the run folder {folder} was removed)"
    return DivergenceError(f"{what}; no model file or checkpoint was written{removed}; {lower}", where=error.where,
                           same_on_every_rank=alike)


def data_metadata(data, data_hash: str | dict | None, rows: str) -> dict:
    """``metadata.data`` of the model and of every checkpoint: what the run trains on (``data``'s
    names, by which evaluate and predict read a CSV file's columns; its counts of test and training
    rows, a validation fraction's among the training rows, as ``fit`` holds them out later, and ``rows``,
    the checksum of the training rows (``resume_checks.training_rows``), by which a resumed run knows its
    split the run's) and ``data_hash``, the SHA-256 of its files as
    ``rows.data_sha256`` gives them (None for a built-in data set)."""
    saved = {"name": data.name, "task": data.task, "features": data.feature_names, "label": data.label_name,
             "n_test": len(data.X_test), "n_train": len(data.y_train), "train_rows": rows}
    if data_hash is not None:  # so that evaluate knows the training CSV unchanged (and splits it as here), and
        # a resumed run its data files
        saved["sha256"] = data_hash
    return saved


def save_model(model, data, data_spec: str, test: dict, path: Path) -> None:
    """Save the trained ``model`` to ``path`` with its feature names (those of ``data``, when
    ``data_spec`` is a CSV file or a built-in data set) and its ``test`` scores; its
    ``metadata.data`` (:func:`data_metadata`) was set before training."""
    # A CSV header's names or scikit-learn's, not the positions an NPZ or IDX file is given ("x0"):
    # cr.predict then reads a DataFrame by name, as after fit
    if data_spec.lower().endswith(".csv") or data_spec in BUILTIN_DATASETS:
        model.preprocessor.feature_names = distinct_names(data.feature_names)
    model.metadata["test"] = strict_json(test)  # a NaN loss (a huge test row) would make the model file unsavable
    save(model, path)


def write_plots(plot: bool, history, model, data_name: str, folder: Path, restored: bool,
                written: list | None = None) -> None:
    """Draw the run's plots into ``folder`` when ``plot``, appending the name of each to ``written``;
    else remove any there (a resumed run with --no-plots: no plots of its earlier epochs beside the new
    model; a directory of a plot's name is no plot, and is left). A plot that is not drawn, as one fails
    to be written or a Ctrl-C comes, is removed likewise (what cannot be removed, a directory in its place,
    is left), and the error raised."""
    if not plot:
        for name in PLOTS:
            if not (folder / name).is_dir():
                (folder / name).unlink(missing_ok=True)
        return
    drawn = [] if written is None else written
    try:
        _draw_plots(history, model, data_name, folder, restored, drawn)
    except BaseException:
        for name in PLOTS:
            if name not in drawn:
                with contextlib.suppress(OSError):
                    (folder / name).unlink(missing_ok=True)
        raise


def _draw_plots(history, model, data_name: str, folder: Path, restored: bool, drawn: list) -> None:
    """:func:`write_plots`' drawing: history.png, then gradient_flow.png, each name appended to ``drawn``."""
    from .. import plots  # here, not at the top: matplotlib takes ~0.3 s to import, and every command loads this module

    # The names as they are: a pair of '$' in them ("prices_$5_to_$10.csv") is otherwise matplotlib's math,
    # which stopped the run with an internal error once its files were written, before its plots.
    # A folder name's bytes that are not UTF-8 (os.fsdecode's lone surrogates, "\udcff") are shown as
    # their escapes, as printable shows any character not shown: matplotlib cannot draw them, which
    # stopped the run with an internal error likewise.
    names = printable(f"{data_name}, {folder}").replace("$", r"\$")
    plots.plot_history(history, folder / PLOTS[0], title=f"Training history: {names}", best_restored=restored)
    drawn.append(PLOTS[0])
    plots.plot_gradient_flow(history, folder / PLOTS[1], title=f"Gradient flow: {names}", model=model)
    drawn.append(PLOTS[1])


def check_plots_can_be_drawn(sources: dict) -> None:
    """Import :mod:`chainrule.plots`, as :func:`write_plots` will once training is over; ConfigError when
    matplotlib cannot be imported: it is not installed (or a module it needs is not), or the environment
    variable MPLBACKEND names a backend it does not know, which it refuses at import (chainrule draws on
    an Agg canvas of its own and uses no backend, but the check is matplotlib's). Before training, so that
    the run does not end with an internal error once its model is written. ``plots`` is named where it
    came from when a file set it (``sources``, as for ``value_name``); --no-plots turns the plots off
    whatever the files say.

    Any other error of the import is raised as it is: an ImportError is also what a Ctrl-C breaking a
    compiled module's initialization raises, which the command reports as the interruption it was."""
    try:
        importlib.import_module("..plots", __package__)  # kept in sys.modules: write_plots imports it again
    except ModuleNotFoundError as error:
        source = sources.get("plots")
        where = f"{value_name('plots', source)}: true" if source is not None else "plots"
        raise ConfigError(f"{where}: history.png and gradient_flow.png are drawn with matplotlib, which cannot be "
                          f"imported ({error}); install it (pip install matplotlib) or train with --no-plots") from None
    except ValueError:
        backend = os.environ.get("MPLBACKEND")
        if not backend:
            raise
        raise ConfigError(f"MPLBACKEND: {quoted(backend)} is not a backend that matplotlib knows, and matplotlib "
                          f"refuses to be imported with it, though the plots use none (chainrule draws with Agg); "
                          f"unset MPLBACKEND (or set it to agg), or train with --no-plots") from None


def check_file_fits_dtype(config: TrainConfig, data) -> None:
    """DataError naming where the data file ``config.data`` holds a feature (or a regression's
    target, unless ``--standardize-targets`` standardizes it first, in float64) too large for
    ``config.dtype`` (above 3.4e38 for float32): a CSV file's line and column, an NPZ archive's
    array and index, rather than fit's error naming an index in the split rows of ``data``; it
    suggests training in float64. (A built-in data set or IDX bytes always fit.)

    The loaded rows are checked first (their extremes, no copy), so that the file is read again
    only to name the value. A pipe (a FIFO named ``rows.csv``) is not read again: its bytes are
    gone once read (train waited for ever), so its value is named by its magnitude alone.
    """
    if not config.data.lower().endswith((".csv", ".npz")):
        return
    largest = float(numpy.finfo(config.dtype).max)
    arrays = [data.X_train, data.X_test]
    target_dtype = config.dtype if data.task == "regression" and not config.standardize_targets else None
    if target_dtype is not None:  # targets computed in the dtype too: standardized ones are computed in float64 first
        arrays += [data.y_train, data.y_test]
    # The extremes as Python floats: compared in a float16 array's own dtype, ``largest`` overflowed to inf (a warning)
    if not any(X is not None and X.size and (float(X.max()) > largest or float(X.min()) < -largest) for X in arrays):
        return
    if is_pipe(config.data):
        value = max(float(numpy.abs(X).max()) for X in arrays if X is not None and X.size)
        raise DataError(f"{config.data}: a value of magnitude {value:.4g} is too large for "
                        f"{numpy.dtype(config.dtype).name}, whose largest magnitude is {largest:.4g} (its line is not "
                        f"named: a pipe is read once); train in float64 (--dtype float64), or scale the column down")
    try:
        load_file(config.data, label=config.label or None, dtype=config.dtype, target_dtype=target_dtype)
    except DataError as error:
        raise DataError(f"{error}; train in float64 (--dtype float64), or scale the column down") from None


def check_standardized_targets_fit(config: TrainConfig, sources: dict, data) -> None:
    """DataError naming where the data file ``config.data`` holds a regression target that
    ``--standardize-targets`` takes beyond ``config.dtype``, before anything trains: a test row's
    target, or one that ``--validation`` holds out, so far outside the training rows' targets
    that (y − mean) / scale is above 3.4e38 for float32 (1e10 among targets of spread 1e-30).
    Named as :func:`check_file_fits_dtype` names a target too large unstandardized (a CSV
    file's line and column, an NPZ archive's array and index), rather than as an infinite test
    loss after training, or ``cr.fit``'s refusal naming an index among the held-out rows. (The
    training rows' own targets standardize to within √n of 0.)
    """
    if not (config.standardize_targets and data.task == "regression"
            and config.data.lower().endswith((".csv", ".npz"))):
        return  # a built-in data set's targets fit; IDX files hold classes
    validation = value_name("validation", sources.get("validation"))
    if config.validation:  # one that leaves no training row is refused naming the option, as fit's refusal is
        n_test_rows(len(data.y_train), config.validation, validation)
    mean, scale = fitted_target_standardization(config, data)
    largest = float(numpy.finfo(config.dtype).max)
    beyond_test, beyond_held = (bool((numpy.abs(standardized_targets(y, mean, scale)) > largest).any())
                                for y in (data.y_test, data.y_train))
    if not (beyond_test or beyond_held):
        return
    held_out = f"held out for validation ({validation})"
    which = ("a test row" if not beyond_held else held_out if not beyond_test else f"a test row, or {held_out}")
    option = value_name("standardize_targets", sources.get("standardize_targets"))
    if is_pipe(config.data):  # read once: not read again (see check_file_fits_dtype)
        raise DataError(f"{config.data}: a target lies so far outside the training rows' targets that {option} "
                        f"standardizes it beyond {numpy.dtype(config.dtype).name} (the row is {which}; its line is "
                        f"not named: a pipe is read once): check it, or train in float64 (--dtype float64)")
    try:
        load_file(config.data, label=config.label or None, target_dtype=config.dtype,
                  target_standardization=(mean, scale))
    except DataError as error:
        raise DataError(f"{error}; the row is {which}, and its target lies far outside the training rows' targets, "
                        f"with whose mean ({float(mean[0]):.4g}) and scale ({float(scale[0]):.4g}) {option} "
                        f"standardizes it: check it, or train in float64 (--dtype float64)") from None


def fitted_target_standardization(config: TrainConfig, data) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(mean, scale) of the regression targets as ``cr.fit`` will standardize them: learned from
    the rows of ``data``'s training part that ``config.validation`` does not hold out, held out
    as fit holds them out (its split of the same seed)."""
    y = data.y_train
    if config.validation:
        train, _ = held_out_rows(y, config.validation, MSE(), fit_seeds(config.seed)[0])
        y = y[train]
    standardization = Preprocessor(data.X_train.shape[1], "regression")
    standardization.fit_targets(y.reshape(len(y), 1))
    return standardization.target_mean, standardization.target_scale


def training_loss(config: TrainConfig, sources: dict, data) -> tuple[str, int]:
    """(loss, n_outputs): the loss ``config`` trains ``data`` with (auto: cross_entropy for
    classes, mse for values) and the network's output width, checked against the data and the
    other options before training, so that an error names the option or config key rather
    than the parameter of ``cr.fit`` that would refuse it: a loss the labels do not fit,
    class weights without classes to weigh, --standardize-targets without values. ``chainrule
    gradcheck`` checks the loss ``train`` trains, and refuses what this refuses.
    """
    check_class_weight_task(config, sources, data)
    loss = config.loss if config.loss != "auto" else ("cross_entropy" if data.task == "classification" else "mse")
    n_outputs = n_outputs_for(data, loss, value_name("loss", sources.get("loss")))
    check_class_weight_loss(config, sources, loss)
    standardizes_targets(loss, config, sources, data)
    return loss, n_outputs


def check_class_weight_task(config: TrainConfig, sources: dict, data) -> None:
    """HyperparameterError naming ``class_weight`` where it came from unless ``data`` has classes to weigh."""
    if config.class_weight != "none" and data.task != "classification":
        raise HyperparameterError(f"{value_name('class_weight', sources.get('class_weight'))}: class weights need "
                                  f"class labels, but {data.name} is a {data.task} data set")


def check_class_weight_loss(config: TrainConfig, sources: dict, loss: str) -> None:
    """HyperparameterError naming ``class_weight`` and ``loss`` where they came from when class
    weights meet a loss that trains for values (mse), which has no classes to weigh."""
    task = get_loss(loss).task
    if config.class_weight != "none" and task == "regression":
        raise HyperparameterError(f"{value_name('class_weight', sources.get('class_weight'))}: class weights need "
                                  f"a loss that trains for classes, but {value_name('loss', sources.get('loss'))} "
                                  f"{loss} trains for {task}; use cross_entropy (or auto), or leave class weights out")


def check_batch_size(config: TrainConfig, sources: dict, data, n_processes: int = 1) -> None:
    """DataError naming ``batch_size`` where it came from when it is more than the training rows:
    those of ``data``'s training part that ``validation`` does not hold out, as ``cr.fit`` counts
    them (with ``--distributed``, every rank's rows: the batch is global); HyperparameterError,
    as ``cr.fit`` would raise it but naming the option, when it is less than the
    ``n_processes`` of a distributed run, each of which needs a row of every batch. None
    passes: fit then takes 32 rows, or all of them when there are fewer."""
    if config.batch_size is None:
        return
    n_train, held = len(data.X_train), ""
    if config.validation:
        validation = value_name("validation", sources.get("validation"))
        n_held = n_test_rows(n_train, config.validation, validation)
        n_train -= n_held
        held = f" ({validation} holds out {n_held} more)"
    if config.batch_size > n_train:
        raise DataError(f"{value_name('batch_size', sources.get('batch_size'))}: {config.batch_size} is more than the "
                        f"{n_train} training samples{held}; pass a smaller batch size, or none for 32 or all the "
                        f"training samples if fewer")
    if config.batch_size < n_processes:
        raise HyperparameterError(
            f"{value_name('batch_size', sources.get('batch_size'))}: {config.batch_size} is less than the "
            f"{n_processes} processes, each of which needs a row of every batch; pass a batch size of at least "
            f"{n_processes}, or run fewer processes")


def n_outputs_for(data, loss: str, name: str = "--loss") -> int:
    """Output width: one per class for cross-entropy, one per target column otherwise.

    ConfigError when the loss cannot take the data's labels, naming the loss as ``name``
    (``--loss``, or ``run.toml: key 'loss'`` for a loss from a config file; see ``value_name``).
    """
    if loss == "cross_entropy" or loss == "softmax_cross_entropy":
        if data.task != "classification":
            raise ConfigError(f"{name}: {loss} needs class labels, but {data.name} is a regression data set")
        return len(numpy.unique(data.y_train))
    if loss == "binary_cross_entropy":
        check_binary_labels(data, name)
    elif data.y_train.dtype.kind not in "fiub":
        commas = comma_number_labels(data)
        if commas:  # a CSV file's targets written with commas ("1,000,000"): read as text, each a class
            raise ConfigError(f"{name}: {loss} needs numeric targets, but {data.name} has text labels: {commas}")
        raise ConfigError(f"{name}: {loss} needs numeric targets, but {data.name} has text labels; "
                          f"use cross_entropy (or auto) for classes")
    return 1 if data.y_train.ndim == 1 else data.y_train.shape[1]


def check_binary_labels(data, name: str) -> None:
    """Binary cross-entropy needs numeric labels in [0, 1] (0/1 classes, or probabilities);
    ConfigError naming the loss as ``name`` otherwise."""
    y = data.y_train
    if y.dtype.kind not in "fiub":
        raise ConfigError(f"{name}: binary_cross_entropy needs labels in [0, 1], but {data.name} has text labels")
    if y.size and (y.min() < 0 or y.max() > 1):
        raise ConfigError(f"{name}: binary_cross_entropy needs labels in [0, 1], but the labels of {data.name} "
                          f"range from {y.min():g} to {y.max():g}; use --loss cross_entropy for classes")


def best_weights_restored(history, callbacks: list) -> bool:
    """Whether the model holds the weights of ``history.best_epoch``: the run's EarlyStopping
    (``callbacks``) put them back at the end, however the run ended (also when completed or
    interrupted), as it does with its default ``restore_best``."""
    return history.best_epoch is not None and any(isinstance(callback, EarlyStopping) and callback.restore_best
                                                  for callback in callbacks)


def summary_line(data, test: dict, history, folder: Path, restored: bool = False) -> str:
    """One human line: the test score, where it came from, and where the run is.

    The scores are written as ``chainrule evaluate`` writes them (``evaluate.score_text``: 4
    decimals, or 4 significant digits where those would show 0 or dozens of digits: an R² of -1.3e+08).

    The epochs are counted as the stderr line of an interrupted run counts them: an epoch
    that Ctrl-C cut short is "part of epoch N", after the complete ones. Then why training
    stopped ("completed", "early stopping", "interrupted") and, when the model holds the
    weights of an earlier epoch than the last (``restored``: early stopping put back its
    best epoch's), which: "8 epochs, early stopping; weights of best epoch 6 restored".
    """
    if "accuracy" in test:
        score = f"test accuracy {score_text(test['accuracy'])}"
    else:
        score = f"test R² {score_text(test['r2'])}, MAE {score_text(test['mae'])}"
    stopped = history.stop_reason.replace("_", " ")
    if restored and history.best_epoch != history.epochs:
        stopped += f"; weights of best epoch {history.best_epoch} restored"
    return (f"{score} on {data.name} ({len(data.X_test)} test samples, {epochs_run(history)}, "
            f"{stopped}); run folder: {folder}")


def epochs_run(history) -> str:
    """"35 epochs", or "34 complete epochs and part of epoch 35" when Ctrl-C cut the last one short."""
    if not history.partial_last_epoch:
        return f"{history.epochs} epoch{'' if history.epochs == 1 else 's'}"
    complete = history.complete_epochs
    return f"{complete} complete epoch{'' if complete == 1 else 's'} and part of epoch {history.epochs}"


def interrupted_line(checkpoint: Path, completed: int, checkpoint_every: int, resume: str) -> str:
    """The line a Ctrl-C'd run ends with: how many whole epochs it ``completed``
    (``history.complete_epochs``), which checkpoint holds the last saved one, and how to go on
    (``resume``, the command :func:`resume_command` gives)."""
    epoch = saved_epoch(checkpoint) if checkpoint.is_file() else None
    stopped = f"chainrule: interrupted after {completed} complete epoch{'' if completed == 1 else 's'}"
    if epoch is None:
        return (f"{stopped}; no checkpoint was written yet (--checkpoint-every {checkpoint_every}); "
                f"the model so far is in {checkpoint.parent / 'model.safetensors'}")
    return (f"{stopped}; the checkpoint {checkpoint} holds epoch {epoch}; "
            f"resume with: {resume}")


def saved_epoch(checkpoint: Path) -> int:
    """The epoch the checkpoint this run wrote holds, read from its header: the tensors, which reading the
    whole file would load and hash (its SHA-256), are not needed for a message."""
    return saved_extra(checkpoint)["epoch"]


def resume_command(checkpoint: Path, args, comm) -> str:
    """The command that continues this run from ``checkpoint``: for a distributed run, on as many
    processes (``comm.size``) and with its --distributed-timeout (none for the default)."""
    resume = resume_option(checkpoint)
    if not args.distributed:
        return f"chainrule train {resume}"
    timeout = args.distributed_timeout
    # 600 for 600.0, but 1234567.0 where {:g} would print 1.23457e+06: another timeout
    shown = f"{timeout:g}" if float(f"{timeout:g}") == timeout else repr(timeout)
    timeout_option = "" if timeout == DEFAULT_DISTRIBUTED_TIMEOUT else f" --distributed-timeout {shown}"
    return f"mpiexec -n {comm.size} chainrule train --distributed{timeout_option} {resume}"
