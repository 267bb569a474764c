"""The checks that ``chainrule train --resume`` continues the run its checkpoint saved.

The checkpoint carries the run's configuration (``metadata.config``; else config.toml beside
it). Before anything is built, that configuration must describe the network the checkpoint
holds and the training state it saved (``check_config_matches_state``: a config.toml beside an
old checkpoint may be another run's), and the new run may not change what the checkpoint holds
(the network, the optimizer's state, the dtype, early stopping) or which rows were held out (the
seed, the test and validation fractions); once the data is read, its features and outputs must fit the network,
and its named columns (a CSV header's) must be the run's, in the run's order, and the run's
own data files unchanged (their SHA-256), since the test rows split from them would move, and split as
the run split them (its counts of training and test rows and the checksum of its training rows).
Each refusal names the key where its value came from (see ``value_name``): ``--seed``,
``more.toml: key 'seed'``, or ``ck.safetensors: metadata.config.seed`` for the checkpoint's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy

from ..checks import as_float_dtype, listing
from ..data import BUILTIN_DATASETS
from ..errors import PATH_QUOTE_LIMIT, ChainruleError, ConfigError, HyperparameterError, ModelFileError, quoted
from ..layers import ACTIVATIONS, Linear, Sequential
from ..layers.widths import input_width, output_width
from ..losses import LOSSES
from ..optimizers import OPTIMIZERS
from ..training.checkpoint import CheckpointFile, loss_lineage
from ..training.fingerprint import checksum
from .config import SavedConfig, TrainConfig, read_config, saved_config, value_name
from .network_args import activation_names, as_built, hidden_sizes
from .rows import changed_since_run, is_pipe, is_run_data

ACTIVATION_TYPES = tuple(set(ACTIVATIONS.values()))  # the layer types cr.mlp puts after a hidden Linear


class ResumedConfig(NamedTuple):
    """The configuration of the run a checkpoint continues, as :func:`resumed_config` read it:
    its ``values``, and their ``source`` for ``value_name``: the checkpoint's own
    (``SavedConfig``), or the path of the config.toml beside it."""

    values: dict
    source: str | SavedConfig


def resumed_config(checkpoint: CheckpointFile) -> ResumedConfig:
    """(values, source) of the run that wrote ``checkpoint`` (as read by ``read_checkpoint``):
    its model's metadata (ModelFileError when that is not a table), else config.toml beside it;
    ConfigError when neither is there.

    The checkpoint carries its configuration because a run killed before its end has no
    config.toml yet. One with neither was written by ``cr.fit`` (or a chainrule train of long
    ago), and only cr.fit knows the network and data to resume it with. config.toml is read
    from this process's disk: under MPI, every rank reads its own (the checkpoint itself comes
    from rank 0). Called once per run (``train.run``), whose checks are all given that one
    reading: config.toml, read again, could have changed in between.
    """
    saved = saved_config(checkpoint.model.metadata, checkpoint)
    if saved is not None:
        return ResumedConfig(saved, SavedConfig(str(checkpoint)))
    beside = Path(checkpoint).parent / "config.toml"
    if beside.is_file():
        return ResumedConfig(read_config(beside), str(beside))
    raise ConfigError(f"{checkpoint} holds no chainrule train configuration (written by cr.fit?): "
                      f"resume it with cr.fit(..., resume={str(checkpoint)!r})")


def check_config_matches_network(checkpoint: CheckpointFile, saved: dict, saved_source: str | SavedConfig) -> None:
    """ModelFileError naming the file and ``metadata.config.hidden`` (or ``.activation``) when the
    resumed run's saved configuration ``saved`` asks for other hidden widths or activations than
    the network the checkpoint itself holds: the file was altered, and building what its
    configuration asks for (99999999999 wide) could exhaust the memory. Checked before anything
    is built. A configuration read from config.toml beside the checkpoint is named by its key.
    """
    network = mlp_layers(checkpoint.model)
    if network is None:
        raise ModelFileError(f"{checkpoint}: the checkpoint's network is not a multi-layer "
                             f"perceptron as chainrule train builds (Linear layers with activations between)")
    widths, activation_types = network
    resumed = TrainConfig().with_values(saved, saved_source)
    hidden, activation = value_name("hidden", saved_source), value_name("activation", saved_source)
    if "hidden" in saved:
        asked = hidden_sizes(resumed.hidden, hidden)
        if asked != widths:
            raise ModelFileError(f"{hidden}: {quoted(resumed.hidden)} differs from the checkpoint's own "
                                 f"network, whose hidden widths are {quoted(widths)}; the file was altered or damaged")
    if "activation" in saved:
        names = activation_names(resumed.activation, len(widths), activation,
                                 f"the checkpoint's network has {len(widths)} hidden layers")
        if [ACTIVATIONS[name] for name in names] != activation_types:
            held = [kind.__name__ for kind in activation_types]
            raise ModelFileError(f"{activation}: {quoted(resumed.activation)} differs from the checkpoint's "
                                 f"own network, whose activations are {quoted(held, 80)}; the file was altered or "
                                 f"damaged")


def check_config_matches_state(checkpoint: CheckpointFile, saved: dict, saved_source: str | SavedConfig) -> None:
    """ConfigError naming the key where the resumed run's configuration ``saved`` came from (``config.toml:
    key 'seed'``, or the checkpoint's ``metadata.config.seed``), both values and the checkpoint field holding
    the other, when ``saved`` says another thing than the training state the checkpoint holds: its weights'
    initializer and dtype, its optimizer, the seed and the order of the rows (``shuffle``) its Generator
    continues, early stopping on or off (its callbacks), a validation set or none, its loss. Checked before
    anything is built, where ``cr.fit`` would refuse the resume once the data is read, naming the checkpoint's
    field and not the key (``the checkpoint was trained with 'Adam', not SGD``), or blame another key (a
    ``loss`` giving other outputs was blamed on ``data``). A checkpoint holding its configuration holds it as
    its state says; one that holds none (written before chainrule stored it) is resumed with the config.toml
    beside it, which may be another run's, or edited since. Keys ``saved`` lacks, and fields the checkpoint
    lacks (written before chainrule recorded them), are not compared."""
    resumed, extra = TrainConfig().with_values(saved, saved_source), checkpoint.extra
    linears = [layer for layer in getattr(checkpoint.model, "layers", []) if type(layer) is Linear]
    held = {  # key: (the value the checkpoint holds, in the configuration's terms, or None; where it holds it)
        "init": (linears[0].init if linears and len({layer.init for layer in linears}) == 1 else None,
                 "architecture: init of its Linear layers"),
        "dtype": (str(checkpoint.model.dtype), "its weights' dtype"),
        "optimizer": (_optimizer_key(extra.get("optimizer")), "checkpoint field optimizer.type"),
        "seed": (extra.get("seed") if type(extra.get("seed")) is int else None, "checkpoint field seed"),
        "shuffle": (extra.get("shuffle", True) if isinstance(extra.get("shuffle", True), bool) else None,
                    "checkpoint field shuffle"),
    }
    asked = {"init": resumed.init, "dtype": _dtype_name(resumed.dtype), "optimizer": resumed.optimizer,
             "seed": resumed.seed, "shuffle": resumed.shuffle}
    for key, (value, where) in held.items():
        if (key in saved or key == "shuffle") and value is not None and asked[key] != value:
            raise _state_error(checkpoint, key, saved_source, f"{quoted(getattr(resumed, key))} differs from the "
                               f"checkpoint's {quoted(value)} ({where})")
    early_stopping = _has_early_stopping(extra)
    if "patience" in saved and early_stopping is not None and (resumed.patience > 0) != early_stopping:
        had = "with early stopping" if early_stopping else "without early stopping"
        raise _state_error(checkpoint, "patience", saved_source, f"{resumed.patience} differs from the checkpoint's "
                           f"run, which trained {had} (checkpoint field callback_types)")
    validation = extra.get("validation")
    if "validation" in saved and isinstance(validation, str) and (resumed.validation > 0) != (validation != "none"):
        had = "held out a validation set" if validation != "none" else "held out no validation set"
        raise _state_error(checkpoint, "validation", saved_source, f"{quoted(resumed.validation)} differs from the "
                           f"checkpoint's run, which {had} (checkpoint field validation)")
    lineage = extra.get("loss")
    if "loss" in saved and resumed.loss in LOSSES and isinstance(lineage, list) and lineage:
        ours = loss_lineage(LOSSES[resumed.loss]())
        if ours[0] not in lineage and lineage[0] not in ours:
            raise _state_error(checkpoint, "loss", saved_source, f"{quoted(resumed.loss)} ({ours[0]}) differs from "
                               f"the checkpoint's run's {lineage[0]} (checkpoint field loss)")


def _optimizer_key(saved) -> str | None:
    """The key of OPTIMIZERS ("adam") whose class a checkpoint's ``optimizer`` field names; None for none."""
    kind = saved.get("type") if isinstance(saved, dict) else None
    return next((key for key, optimizer in OPTIMIZERS.items() if optimizer.__name__ == kind), None)


def _dtype_name(dtype) -> str | None:
    """The dtype ``dtype`` names ("f4": "float32"); None for one that is not a float dtype (refused later)."""
    try:
        return as_float_dtype(dtype).name
    except ChainruleError:
        return None


def _has_early_stopping(extra: dict) -> bool | None:
    """Whether a checkpoint's run had early stopping (its only callback ``chainrule train`` makes), by its
    field callback_types, else by its callbacks' states; None where it records neither as a list."""
    types, states = extra.get("callback_types"), extra.get("callbacks")
    if isinstance(types, list):
        return any(isinstance(name, str) and name.endswith(".EarlyStopping") for name in types)
    return bool(states) if isinstance(states, list) else None


def _state_error(checkpoint: CheckpointFile, key: str, source: str | SavedConfig, differs: str) -> ConfigError:
    """The refusal of a resumed configuration (from ``source``) whose ``key`` ``differs`` from the state the
    ``checkpoint`` holds, saying which file to mend."""
    return ConfigError(f"{value_name(key, source)}: {differs}; "
                       f"{_not_the_runs(key, source, checkpoint, 'as the checkpoint holds it')}")


def _not_the_runs(key: str, source: str | SavedConfig, checkpoint: CheckpointFile, as_held: str) -> str:
    """How to mend the resumed configuration ``source`` whose ``key`` is not the run's: the checkpoint's own
    (a SavedConfig) was altered or damaged; the config.toml beside a checkpoint holding none is another run's, or
    edited since: set ``key`` there ``as_held`` ("as the checkpoint holds it")."""
    if isinstance(source, SavedConfig):
        return "the file was altered or damaged"
    return (f"{source} is not the configuration of the run that wrote the checkpoint {checkpoint} (edited since, "
            f"or another run's): set {key} there {as_held}")


def mlp_layers(model) -> tuple[list[int], list[type]] | None:
    """The hidden widths and activation types of ``model`` as ``cr.mlp`` builds it (a Sequential
    of Linear layers, each hidden one followed by an activation), or None for another network."""
    layers = getattr(model, "layers", None)
    if type(model) is not Sequential or not layers or type(layers[-1]) is not Linear:
        return None
    hidden = layers[:-1]
    pairs = list(zip(hidden[0::2], hidden[1::2]))
    if len(hidden) % 2 or any(type(linear) is not Linear or type(activation) not in ACTIVATION_TYPES
                              for linear, activation in pairs):
        return None
    return [linear.n_out for linear, _ in pairs], [type(activation) for _, activation in pairs]


#: Keys a resumed run keeps because the checkpoint holds what they built, each with what it holds.
NETWORK_KEYS = {
    "hidden": "the checkpoint holds that network's weights",
    "activation": "the checkpoint holds that network's weights",
    "init": "the checkpoint holds that network's weights",
    "optimizer": "the checkpoint holds that optimizer's state",
    "dtype": "the checkpoint holds the weights and the optimizer's state in that dtype",
}


def check_same_hidden(saved: dict, saved_source: str | SavedConfig, config: TrainConfig, sources: dict) -> None:
    """ConfigError naming ``hidden`` where the new value came from when ``config`` asks for
    other hidden widths than the resumed run's ``saved`` configuration (from ``saved_source``).
    Spellings of the same widths ("8, 4", [8, 4] for "8,4") are no change. Called before
    ``train.validate``, whose count of the saved activations would otherwise blame the checkpoint."""
    if "hidden" not in saved:
        return
    resumed = TrainConfig().with_values(saved, saved_source)
    if as_built("hidden", config, sources) != as_built("hidden", resumed, dict.fromkeys(saved, saved_source)):
        raise _changed_error("hidden", config, resumed, sources, NETWORK_KEYS["hidden"])


#: Keys a resumed run keeps, each with what it chooses: the seed and the test fraction choose the
#: held-out test rows (and, with --validation, the validation rows), the validation fraction the
#: validation rows, so a change would train on rows the run held out before. Refused here, up
#: front, rather than by ``cr.fit``'s check of the validation rows once the data is read.
SPLIT_KEYS = {
    "seed": "it chooses the held-out rows, which the resumed run would then train on",
    "test_size": "it chooses the held-out rows, which the resumed run would then train on",
    "validation": "it chooses the held-out validation rows, so the resumed run would train on rows it held out "
                  "before, or validate on rows it trained on",
}


def check_same_split(saved: dict, saved_source: str | SavedConfig, config: TrainConfig, sources: dict) -> None:
    """ConfigError naming the key and its source when ``config`` changes a key of SPLIT_KEYS
    that the resumed run's configuration ``saved`` (from ``saved_source``) holds."""
    resumed = TrainConfig().with_values(saved, saved_source)
    for key, chooses in SPLIT_KEYS.items():
        if key in saved and getattr(config, key) != getattr(resumed, key):
            raise ConfigError(
                f"{value_name(key, sources.get(key))}: {quoted(getattr(config, key))} differs from the resumed "
                f"run's {quoted(getattr(resumed, key))}; {chooses}; resume without changing {key}"
            )


def check_same_shuffle(saved: dict, saved_source: str | SavedConfig, config: TrainConfig, sources: dict) -> None:
    """ConfigError naming ``shuffle`` where its value came from (``--no-shuffle``, ``run.toml: key
    'shuffle'``) when ``config`` takes the training rows in another order than the resumed run's
    ``saved`` configuration (from ``saved_source``): the checkpoint's Generator continues that run's
    order, a new one drawn every epoch or none, so the other would make another run than the
    uninterrupted one (``cr.fit`` refuses it too, naming the checkpoint). A configuration saved
    before chainrule train had the key shuffled, the only way it trained then: its absence means true."""
    resumed = TrainConfig().with_values(saved, saved_source)
    if config.shuffle != resumed.shuffle:
        rows = "in a new random order every epoch" if resumed.shuffle else "in the data's order (--no-shuffle)"
        raise ConfigError(
            f"{value_name('shuffle', sources.get('shuffle'))}: shuffle={config.shuffle} differs from the resumed "
            f"run's shuffle={resumed.shuffle}, which took its training rows {rows}; the checkpoint continues that "
            f"order; resume without changing shuffle"
        )


def check_same_network(saved: dict, saved_source: str | SavedConfig, config: TrainConfig, sources: dict) -> None:
    """ConfigError naming the key where its new value came from (``--activation``, or
    ``run.toml: key 'activation'``) when ``config`` asks for another network than the resumed
    run's ``saved`` configuration: other activations, initializer, optimizer or dtype, or early
    stopping turned on or off (its state is part of the checkpoint). Spellings of the same
    values ("relu, tanh" for "relu,tanh", "xavier_uniform" for "glorot_uniform", "f4" for "float32") are
    no change: each is compared as the run builds it (:func:`~chainrule.cli.network_args.as_built`). The
    hidden widths are compared before, by :func:`check_same_hidden`; the data's and the loss's widths once
    the data is read, by :func:`check_same_widths`."""
    resumed, resumed_sources = TrainConfig().with_values(saved, saved_source), dict.fromkeys(saved, saved_source)
    for key in ("activation", "init", "optimizer", "dtype"):
        if key in saved and as_built(key, config, sources) != as_built(key, resumed, resumed_sources):
            raise _changed_error(key, config, resumed, sources, NETWORK_KEYS[key])
    if "patience" in saved and (config.patience > 0) != (resumed.patience > 0):
        turns, had, keep = ("off", "on", "a patience above 0") if resumed.patience else ("on", "off", "patience 0")
        raise ConfigError(
            f"{value_name('patience', sources.get('patience'))}: {config.patience} turns early stopping {turns}, "
            f"which the resumed run had {had} (patience {resumed.patience}); "
            f"a resumed run keeps its callbacks; resume with {keep}"
        )


def _changed_error(key: str, config: TrainConfig, resumed: TrainConfig, sources: dict, holds: str) -> ConfigError:
    """The error for ``key`` changed on resume, naming the key as the source of its new value gave it."""
    return ConfigError(
        f"{value_name(key, sources.get(key))}: {quoted(getattr(config, key))} differs from the resumed run's "
        f"{quoted(getattr(resumed, key))}; {holds}; resume without changing {key}"
    )


def check_epochs_cover(saved_epoch, config: TrainConfig, sources: dict) -> None:
    """HyperparameterError naming ``epochs`` where it came from when it is fewer than the
    ``saved_epoch`` the resumed checkpoint holds (cr.fit would refuse it too, naming its own
    argument). As many trains no further epoch, and is taken, as cr.fit takes it."""
    if isinstance(saved_epoch, int) and config.epochs < saved_epoch:
        raise HyperparameterError(
            f"{value_name('epochs', sources.get('epochs'))}: {config.epochs} is fewer than the {saved_epoch} "
            f"epochs the checkpoint holds; it counts them all, so pass {saved_epoch} or more (more than "
            f"{saved_epoch} to train further)")


def check_same_widths(checkpoint: CheckpointFile, resumed: ResumedConfig, config: TrainConfig, sources: dict,
                      n_features: int, n_outputs: int, loss: str) -> None:
    """ConfigError naming ``data`` or ``loss`` where it came from when the network they ask for
    (``n_features`` inputs; ``n_outputs`` outputs, for ``loss``) is not as wide as the resumed
    run's in ``checkpoint`` (as read by ``read_checkpoint``), rather than cr.fit's error
    naming the checkpoint's architecture. Other outputs are blamed on the loss when it differs
    from the resumed run's (in its configuration ``resumed``), else on the data.
    """
    saved_model = checkpoint.model
    data = value_name("data", sources.get("data"))
    takes, gives = input_width(saved_model), output_width(saved_model)
    if takes is not None and n_features != takes:
        raise ConfigError(f"{data}: {quoted(config.data, PATH_QUOTE_LIMIT)} has {n_features} features, but the "
                          f"resumed run's network takes {takes}; resume with data of {takes} features")
    if gives is None or n_outputs == gives:
        return
    resumed_loss = TrainConfig().with_values(*resumed).loss
    outputs = f"{n_outputs} output{'' if n_outputs == 1 else 's'}"
    if config.loss != resumed_loss:
        raise ConfigError(f"{value_name('loss', sources.get('loss'))}: {quoted(config.loss)} gives {outputs}, but the "
                          f"resumed run's network has {gives}; resume without changing loss")
    raise ConfigError(f"{data}: {quoted(config.data, PATH_QUOTE_LIMIT)} gives {outputs} with {loss}, but the resumed "
                      f"run's network has {gives}; resume with data of the same classes or target columns")


def check_same_columns(checkpoint: CheckpointFile, config: TrainConfig, sources: dict, feature_names: list) -> None:
    """ConfigError naming ``data`` where it came from when its feature columns (``feature_names``)
    are not the ones the resumed run in ``checkpoint`` trained on, by name and in that order (its
    ``metadata.data.features``): the network takes its inputs by position, so a file of the same
    columns in another order would feed each weight another column. Compared only when both runs
    read named columns (a CSV header's, or a built-in data set's); an NPZ or IDX file's columns
    are positions, and a checkpoint written before chainrule recorded them is taken as it is.
    Called once the widths are known to match (:func:`check_same_widths`).
    """
    saved = checkpoint.model.metadata.get("data")
    if not isinstance(saved, dict) or not _named_columns(saved.get("name")) or not _named_columns(config.data):
        return
    trained_on = saved.get("features")
    if not isinstance(trained_on, list) or list(feature_names) == trained_on:
        return
    first = next((i for i, (name, was) in enumerate(zip(feature_names, trained_on)) if name != was), None)
    if first is None:  # lists of other lengths: check_same_widths names the width
        return
    raise ConfigError(f"{value_name('data', sources.get('data'))}: {quoted(config.data, PATH_QUOTE_LIMIT)} has the "
                      f"feature columns {listing(feature_names)}, but the resumed run trained on "
                      f"{listing(trained_on)}, in that order (feature {first + 1} is {quoted(feature_names[first])} "
                      f"here, {quoted(trained_on[first])} there); its network takes them by position: resume with "
                      f"data of those columns in that order")


def check_same_data_file(checkpoint: CheckpointFile, resumed: ResumedConfig, config: TrainConfig, sources: dict,
                         data_hash: str | dict | None) -> None:
    """ConfigError naming ``data`` where it came from when it is the resumed run's own data (its
    CSV or NPZ file, or its IDX files: the same resolved paths as those its configuration ``resumed`` saved) and
    a file of it has changed: its SHA-256 (in ``data_hash``, as ``rows.data_sha256`` gives them) is
    no longer the one the run recorded (``metadata.data.sha256``), as ``rows.changed_since_run``
    tells. The test rows (split from it by the seed, or its own test part) would not be the run's,
    and the resumed run could train on rows the run held out for testing. So also with ``--data``
    naming those very paths: other files are other data, taken (same columns). Runs that recorded
    no hash (a built-in data set, data read through a pipe, a checkpoint from before chainrule
    recorded one) are taken as they are; a pipe now at a path the run hashed cannot be compared,
    and is refused as such. An IDX file is named as well as the spec.
    """
    changed = changed_since_run(checkpoint.model.metadata, config.data, data_hash)
    if changed is None or not is_run_data(config.data, resumed.values.get("data")):
        return
    what = quoted(config.data, PATH_QUOTE_LIMIT)
    if changed != config.data:
        what += f": its file {quoted(changed, PATH_QUOTE_LIMIT)}"
    if is_pipe(changed):  # hashed by nobody (rows.file_sha256), so never found unchanged
        why = ("is a pipe now, whose rows cannot be compared with those of the file the run read (the SHA-256 the "
               "checkpoint recorded): its test rows may not be the run's")
    else:
        why = ("changed since the run started (its SHA-256 differs from the one the checkpoint recorded): its test "
               "rows would not be the run's (split from it by the seed, they would move)")
    raise ConfigError(f"{value_name('data', sources.get('data'))}: {what} {why}, and the resumed run could train on "
                      f"rows held out for testing, so its test score would mean nothing; restore the file as it was, "
                      f"or start a new run on it (without --resume)")


def training_rows(X_train, y_train) -> str:
    """What a run's ``metadata.data.train_rows`` records of the rows it trains on (those its test split left,
    in their order): 16 hexadecimal digits of the checksum of ``X_train`` and ``y_train`` as read (labels of
    dtype object, which hold no bytes of their own, as text)."""
    y_train = numpy.asarray(y_train)
    return f"{checksum(X_train, y_train.astype(str) if y_train.dtype == object else y_train):016x}"


def check_same_training_rows(checkpoint: CheckpointFile, resumed: ResumedConfig, config: TrainConfig, sources: dict,
                             data, rows: str) -> None:
    """ConfigError naming ``test_size`` (or the keys that chose the rows) where its value came from when the resumed
    run's own data (the same built-in data set or files, as :func:`~chainrule.cli.rows.is_run_data` tells; its
    files unchanged, :func:`check_same_data_file`) leaves other training rows than the run in ``checkpoint``
    trained on: other counts than its ``metadata.data.n_train`` and ``n_test``, or the same counts of other rows
    (``rows``, as :func:`training_rows` gives them, against its ``metadata.data.train_rows``).

    The keys that choose the rows (seed, test_size) are compared with the resumed run's configuration before
    (:func:`check_same_split`); this catches a configuration that is not the run's, which the checkpoint's state
    says nothing of without a validation set (whose rows ``cr.fit`` compares): the config.toml beside a checkpoint
    that holds no configuration, edited since or another run's. A checkpoint that recorded no counts (``n_test``
    since the test scores were saved, ``n_train`` and ``train_rows`` since this check) is compared on what it
    recorded, and one that recorded none of them is resumed unchecked; other data (another path) is taken as it
    is, as a run may go on with more data."""
    saved = checkpoint.model.metadata.get("data")
    if not isinstance(saved, dict) or not is_run_data(config.data, resumed.values.get("data")):
        return
    counts = {"n_train": len(data.y_train), "n_test": 0 if data.X_test is None else len(data.X_test)}
    held = {key: saved.get(key) for key in counts if type(saved.get(key)) is int}
    source = sources.get("test_size")
    if any(counts[key] != value for key, value in held.items()):
        ours = " and ".join(f"{counts[key]} {KEPT_ROWS[key]}" for key in held)
        theirs = " and ".join(f"{value} {KEPT_ROWS[key]}" for key, value in held.items())
        fields = ", ".join(f"metadata.data.{key}" for key in held)
        raise ConfigError(f"{value_name('test_size', source)}: {quoted(config.test_size)} leaves {ours} of "
                          f"{quoted(config.data, PATH_QUOTE_LIMIT)}, but the resumed run kept {theirs} ({checkpoint}: "
                          f"{fields}); {_mend('test_size', source, resumed, checkpoint)}")
    if isinstance(saved.get("train_rows"), str) and saved["train_rows"] != rows:
        chose = ", ".join(f"{key} {quoted(getattr(config, key))} ({value_name(key, sources.get(key))})"
                          for key in ("seed", "test_size"))
        raise ConfigError(f"{value_name('data', sources.get('data'))}: {quoted(config.data, PATH_QUOTE_LIMIT)} leaves "
                          f"as many training rows as the resumed run kept, but other rows (checksum {rows}, the run's "
                          f"{saved['train_rows']}: {checkpoint}: metadata.data.train_rows), chosen by {chose}; the "
                          f"resumed run would train on rows it held out for testing: resume with the run's seed and "
                          f"test_size and data as it was, or start a new run")


#: What the counts of ``metadata.data`` count, as :func:`check_same_training_rows` says them
KEPT_ROWS = {"n_train": "training rows", "n_test": "test rows"}


def _mend(key: str, source, resumed: ResumedConfig, checkpoint: CheckpointFile) -> str:
    """How to mend a ``key`` from ``source`` that chose other rows than the resumed run's: the resumed configuration
    (the checkpoint's own, or the config.toml beside it) is not the run's, or the new value changes the run's."""
    if isinstance(source, SavedConfig) or source is not None and source == resumed.source:
        return _not_the_runs(key, source, checkpoint, "as the run had it")
    return f"{SPLIT_KEYS[key]}; resume without changing {key}"


def _named_columns(data) -> bool:
    """Whether the data ``data`` names (a spec, or the name a run saved) has columns named by their
    contents: a CSV file's header, or a built-in data set's."""
    return isinstance(data, str) and (data.lower().endswith(".csv") or data in BUILTIN_DATASETS)


def check_same_target_standardization(checkpoint: CheckpointFile, standardizes: bool, sources: dict) -> None:
    """ConfigError naming the checkpoint and ``standardize_targets`` where this run's value came
    from (``sources``) when its run trained on standardized targets and this one would not, or
    the other way round: its weights answer in the other units. A checkpoint without a
    preprocessor is left to ``cr.fit``'s checks."""
    preprocessor = checkpoint.model.preprocessor
    if preprocessor is None or (preprocessor.target_mean is not None) == standardizes:
        return
    was, now = ("standardized", "does not") if preprocessor.target_mean is not None else ("raw", "standardizes them")
    raise ConfigError(f"{value_name('standardize_targets', sources.get('standardize_targets'))}: the run of "
                      f"{checkpoint} trained on {was} targets and this one {now}; its weights answer in the other "
                      f"units: resume as it ran, or start a new run")
