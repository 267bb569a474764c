"""chainrule train: train a network on a data set and write a run folder.

With no arguments it trains a 64-256-128-10 ReLU network (Adam, L2 weight decay 1e-3) on
scikit-learn's bundled digits, using every training row (no validation hold-out, so early
stopping watches the training loss), and prints the test accuracy on the 20 % test split. The run folder (``runs/<timestamp>/`` unless ``--out``) gets:

  model.safetensors       the trained model with its preprocessing (chainrule predict/info)
  checkpoint.safetensors  the training state after the last completed epoch (--resume)
  metrics.json            per-epoch metrics, gradient norms and the test scores
  config.toml             the resolved configuration (--config repeats the run)
  history.png             loss and metric curves
  gradient_flow.png       per-layer gradient norms ‖∂L/∂W‖ per epoch, log scale

``--device cuda`` trains on an NVIDIA GPU (``pip install 'chainrule[cuda]'``).
``mpiexec -n N chainrule train --distributed ...`` trains data-parallel on N processes
(``--batch-size`` is the global batch); rank 0 alone writes the run folder and prints.
With ``--resume`` every rank reads the configuration from the checkpoint, so its path must
be visible to all (a shared file system).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy

from .. import plots
from ..checks import as_float_dtype, choice, in_unit_interval, positive, positive_int
from ..data import load_data
from ..errors import ConfigError, DataError, HyperparameterError
from ..io import atomic_write, read, save
from ..layers import ACTIVATIONS, mlp
from ..losses import LOSSES
from ..optimizers import OPTIMIZERS, get_optimizer
from ..training import EarlyStopping, evaluate, fit
from ..training.distributed import Communicator, SingleProcess
from .config import TrainConfig, read_config
from .device import add_device_argument, check_device

NAME = "train"
HELP = "train a network (no arguments: digits) and write a run folder"
CHECKPOINT = "checkpoint.safetensors"


def add_arguments(parser) -> None:
    """The options of ``chainrule train``; each defaults to the config file, then TrainConfig."""
    defaults = TrainConfig()
    option = parser.add_argument
    option("--data", help=f"built-in name (digits, iris, wine, breast_cancer, diabetes) or a CSV/NPZ/IDX path [{defaults.data}]")
    option("--label", help="label column of a CSV file [the last column]")
    option("--hidden", help=f"hidden layer widths, comma-separated; '' for none [{defaults.hidden}]")
    option("--activation", help=f"{', '.join(ACTIVATIONS)} [{defaults.activation}]")
    option("--loss", help=f"auto, {', '.join(LOSSES)} [auto: cross_entropy or mse by task]")
    option("--optimizer", help=f"{', '.join(OPTIMIZERS)} [{defaults.optimizer}]")
    option("--lr", type=float, help=f"learning rate [{defaults.lr}]")
    option("--weight-decay", dest="weight_decay", type=float, help=f"L2 penalty on the weights [{defaults.weight_decay}]")
    option("--batch-size", dest="batch_size", type=int, help=f"samples per step [{defaults.batch_size}]")
    option("--epochs", type=int, help=f"maximum epochs [{defaults.epochs}]")
    option("--seed", type=int, help=f"seed of weights, splits and shuffling [{defaults.seed}]")
    option("--validation", type=float, help=f"fraction held out for validation; 0 for none [{defaults.validation}]")
    option("--patience", type=int, help=f"early-stopping patience in epochs; 0 turns it off [{defaults.patience}]")
    option("--dtype", help=f"float32 or float64 [{defaults.dtype}]")
    add_device_argument(parser, None)
    option("--test-size", dest="test_size", type=float, help=f"test fraction when the data has no test part [{defaults.test_size}]")
    option("--checkpoint-every", dest="checkpoint_every", type=int, help="epochs between checkpoints [1]")
    option("--no-plots", dest="plots", action="store_false", default=None, help="do not draw PNG plots")
    option("--out", help="run folder [runs/<timestamp>; with --resume, the checkpoint's folder]")
    option("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint.safetensors")
    option("--config", metavar="FILE", help="TOML file with keys named like these options (batch_size = 64)")
    option("--json", action="store_true", help="print the results as JSON on stdout")
    option("--quiet", action="store_true", help="no progress bar")
    option("--distributed", action="store_true",
           help="data-parallel over MPI: mpiexec -n N chainrule train --distributed (pip install 'chainrule[mpi]')")
    option("--distributed-timeout", dest="distributed_timeout", type=float, default=60.0, metavar="SECONDS",
           help="abort the MPI job when a rank has not answered for this long [60]")


def resolve_config(args) -> TrainConfig:
    """Defaults, then the resumed run's config, then --config, then the command line."""
    config = TrainConfig()
    if args.resume and not args.config:
        config = config.with_values(*resumed_config(args.resume))
    if args.config:
        config = config.with_values(read_config(args.config), args.config)
    given = {key: getattr(args, key) for key in TrainConfig.keys() if getattr(args, key, None) is not None}
    config = config.with_values(given, "command line")
    validate(config)
    return config


def resumed_config(checkpoint) -> tuple[dict, str]:
    """(values, source) of the run that wrote ``checkpoint``: its metadata, else config.toml beside it.

    The checkpoint carries its configuration because a run killed before its end has no config.toml yet.
    """
    saved = read(checkpoint)[0].metadata.get("config")
    if saved is not None:
        return saved, str(checkpoint)
    beside = Path(checkpoint).parent / "config.toml"
    return (read_config(beside), str(beside)) if beside.is_file() else ({}, str(checkpoint))


def validate(config: TrainConfig) -> None:
    """Reject bad values before any data is read, naming the option."""
    choice(config.activation, "--activation", list(ACTIVATIONS))
    choice(config.loss, "--loss", ["auto", *LOSSES])
    choice(config.optimizer, "--optimizer", list(OPTIMIZERS))
    as_float_dtype(config.dtype, "--dtype")
    check_device(config.device)
    positive(config.lr, "--lr")
    positive(config.weight_decay, "--weight-decay", allow_zero=True)
    positive_int(config.batch_size, "--batch-size")
    positive_int(config.epochs, "--epochs")
    positive_int(config.checkpoint_every, "--checkpoint-every")
    if config.seed < 0:
        raise HyperparameterError(f"--seed: expected an integer >= 0, got {config.seed}")
    if config.patience < 0:
        raise HyperparameterError(f"--patience: expected an integer >= 0, got {config.patience}")
    in_unit_interval(config.validation, "--validation")
    if not 0 < config.test_size < 1:
        raise HyperparameterError(f"--test-size: expected a fraction in (0, 1), got {config.test_size}")
    hidden_sizes(config.hidden)


def hidden_sizes(text: str) -> list[int]:
    """"128,64" -> [128, 64]; "" -> []."""
    try:
        sizes = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise ConfigError(f"--hidden: expected comma-separated integers like 128,64, got {text!r}") from None
    if any(size < 1 for size in sizes):
        raise ConfigError(f"--hidden: every width must be >= 1, got {text!r}")
    return sizes


def run_folder(args) -> Path:
    """The output folder: --out, the resumed checkpoint's folder, or runs/<timestamp>."""
    if args.out:
        return Path(args.out)
    if args.resume:
        return Path(args.resume).parent
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder, n = Path("runs") / stamp, 1
    while folder.exists():
        n += 1
        folder = Path("runs") / f"{stamp}-{n}"
    return folder


def prepare_folder(folder: Path) -> None:
    """Create the run folder and prove it writable before training starts."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"{folder}: cannot create the run folder ({error.strerror})") from None
    atomic_write(folder / ".write-test", b"")
    (folder / ".write-test").unlink()


def run(args) -> int:
    comm = Communicator(args.distributed_timeout) if args.distributed else SingleProcess()
    if args.resume and not Path(args.resume).is_file():
        raise DataError(f"{args.resume}: checkpoint not found")
    config = resolve_config(args)
    data = load_data(config.data, label=config.label or None, test_size=config.test_size, seed=config.seed)
    loss = config.loss if config.loss != "auto" else ("cross_entropy" if data.task == "classification" else "mse")
    n_outputs = n_outputs_for(data, loss)
    model = mlp([data.X_train.shape[1], *hidden_sizes(config.hidden), n_outputs], config.activation,
                seed=config.seed, dtype=config.dtype).to(config.device)  # before the optimizer: its state goes there too
    model.metadata["config"] = dataclasses.asdict(config)  # in every checkpoint, for --resume
    folder = run_folder(args)
    created = [path for path in (folder, *folder.parents) if not path.exists()]  # deepest first
    if comm.is_root:
        prepare_folder(folder)
    callbacks = [EarlyStopping(config.patience)] if config.patience else []
    optimizer = get_optimizer(config.optimizer, model, lr=config.lr, weight_decay=config.weight_decay)
    try:
        history = fit(model, data.X_train, data.y_train, loss=loss, optimizer=optimizer,
                      epochs=config.epochs, batch_size=config.batch_size, validation=config.validation or None,
                      seed=config.seed, verbose=0 if args.quiet else 1, callbacks=callbacks, standardize=True,
                      checkpoint=folder / CHECKPOINT, checkpoint_every=config.checkpoint_every, resume=args.resume,
                      distributed=comm if args.distributed else False, device=config.device)
    except BaseException:
        for path in created if comm.is_root else ():  # an input error found by fit leaves no empty run folder behind
            if not any(path.iterdir()):
                path.rmdir()
        raise
    if not comm.is_root:
        return 0
    test = evaluate(model, data.X_test, data.y_test)
    model.metadata["data"] = {"name": data.name, "task": data.task, "features": data.feature_names,
                              "label": data.label_name, "n_test": len(data.X_test)}
    model.metadata["test"] = test
    save(model, folder / "model.safetensors")
    results = {"run": str(folder), "data": data.name, "task": data.task, "epochs": history.epochs,
               "stop_reason": history.stop_reason, "test": test, "final": history.last()}
    atomic_write(folder / "metrics.json", json.dumps({**results, "history": history.to_json()}, indent=2))
    atomic_write(folder / "config.toml", config.to_toml())
    if config.plots:
        plots.plot_history(history, folder / "history.png")
        plots.plot_gradient_flow(history, folder / "gradient_flow.png")
    if args.json:
        print(json.dumps(results))
    else:
        print(summary_line(data, test, history, folder))
    return 0


def n_outputs_for(data, loss: str) -> int:
    """Output width: one per class for cross-entropy, one per target column otherwise."""
    if loss == "cross_entropy" or loss == "softmax_cross_entropy":
        if data.task != "classification":
            raise ConfigError(f"--loss {loss}: needs class labels, but {data.name} is a regression data set")
        return len(numpy.unique(data.y_train))
    return 1 if data.y_train.ndim == 1 else data.y_train.shape[1]


def summary_line(data, test: dict, history, folder: Path) -> str:
    """One human line: the test score, where it came from, and where the run is."""
    if "accuracy" in test:
        score = f"test accuracy {test['accuracy']:.4f}"
    else:
        score = f"test R² {test['r2']:.4f}, MAE {test['mae']:.4g}"
    return (f"{score} on {data.name} ({len(data.X_test)} test samples, {history.epochs} epochs, "
            f"{history.stop_reason}); run folder: {folder}")
