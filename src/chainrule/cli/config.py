"""The training configuration: defaults, a TOML file, and command-line options, merged.

Keys mirror the ``chainrule train`` options with underscores (``--batch-size`` is
``batch_size``); ``hidden`` also takes a list of widths (``hidden = [256, 128]``, as
``--hidden 256,128``) and ``activation`` a list of names, one per hidden layer (as
``--activation relu,tanh``); a list is kept as given, and saved as a list. Precedence, lowest first: built-in defaults, the resumed
run's saved configuration (``--resume``), ``--config FILE``, options on the command line. A
run folder's ``config.toml`` is the resolved configuration, so ``chainrule train --config
runs/<run>/config.toml`` repeats a run. A key whose value is None (``batch_size`` left to
its default, which depends on the data) is written there as a comment: TOML has no null, and
the missing key then means the same default again.

A relative path in a config file's ``data`` is taken from the config file's folder, as most
tools take the paths in their configuration files: ``data = "../data.csv"`` in
``proj/configs/run.toml`` reads ``proj/data.csv`` from any working directory (each path of an
``IMAGES,LABELS`` spec alike, and a bare name: ``data = "mn"`` for an IDX directory; a built-in
name stays a name). A run folder's ``config.toml`` holds the data's path absolute, so
``--config`` repeats the run from anywhere; a resumed run's saved configuration is read as it
was saved.

Error messages name a value by where it came from: ``--lr`` for an option on the command line
(or a default), ``run.toml: key 'lr'`` for a key of a TOML file, ``model.safetensors:
metadata.config.lr`` for a key of the configuration a model file or checkpoint saved.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
from dataclasses import dataclass, fields

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from ..data import BUILTIN_DATASETS
from ..data.files import spec_paths
from ..errors import ConfigError, ModelFileError, did_you_mean, quoted


@dataclass
class TrainConfig:
    """Everything ``chainrule train`` needs to know, with the defaults of a no-argument run."""

    data: str = "digits"
    label: str = ""  # CSV label column; "" means the last column
    hidden: str | list[int] = "256,128"  # comma-separated widths, or a list of them
    activation: str | list[str] = "relu"  # one name for every hidden layer, or one per hidden layer
    init: str = "auto"  # initializer of every Linear; "auto": He before the ReLU family, else Glorot
    loss: str = "auto"  # "auto": cross_entropy for classification, mse for regression
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 1e-3  # L2 penalty λ on the weights
    batch_size: int | None = None  # None: cr.fit's default, 32 or the training rows if fewer
    epochs: int = 60
    seed: int = 0
    shuffle: bool = True  # a new order of the training rows every epoch; False: the data's order (--no-shuffle)
    validation: float = 0.0  # all training rows are used for training by default
    patience: int = 10  # early stopping; 0 turns it off
    class_weight: str = "none"  # or "balanced": classes weighted by n / (K · n_c) in training
    standardize_targets: bool = False  # regression targets trained as (y − mean) / scale
    dtype: str = "float32"
    device: str = "cpu"  # or "cuda" (CuPy)
    test_size: float = 0.2
    checkpoint_every: int = 1
    plots: bool = True

    @classmethod
    def keys(cls) -> list[str]:
        return [field.name for field in fields(cls)]

    def with_values(self, values: dict, source: str | SavedConfig | None) -> "TrainConfig":
        """A copy with ``values`` applied, each checked against the field's type.

        ``source`` is the file the values came from (a :class:`SavedConfig` for a model file's
        saved configuration), or None for the command line; errors name the file and key, or
        the option (see :func:`value_name`).
        """
        types = {field.name: field.type for field in fields(self)}
        checked = {}
        for key, value in values.items():
            if key not in types:
                raise ConfigError(f"{source}: unknown key {quoted(key)}; expected one of {', '.join(types)}"
                                  f"{did_you_mean(key, types)}")
            checked[key] = _coerce(key, value, types[key], source)
        return dataclasses.replace(self, **checked)

    def to_toml(self, left_out: dict | None = None) -> str:
        """The configuration as TOML text (every value is a string, number, boolean, or list of
        strings or integers; a key whose value is None is a comment, so that reading the text
        back leaves it None). Each key of ``left_out`` is a comment saying why, its value there."""
        lines = ["# chainrule train configuration; rerun with: chainrule train --config <this file>"]
        for key, value in dataclasses.asdict(self).items():
            if key in (left_out or {}):
                lines.append(f"# {key} is left out: {left_out[key]}")
            elif value is None:
                lines.append(f"# {key} is not set: the default")
            else:
                lines.append(f"{key} = {_toml_value(value)}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SavedConfig:
    """The source of values read from the configuration ``chainrule train`` saved in the model
    file or checkpoint ``path`` (its ``metadata.config``), as :func:`value_name` names them."""

    path: str

    def __str__(self) -> str:
        return f"{self.path}: metadata.config"


def saved_config(metadata: dict, path) -> dict | None:
    """The configuration ``chainrule train`` saved in the model file or checkpoint ``path``
    (``metadata.config``, of its ``metadata``); None when it saved none.

    ModelFileError naming the file and ``metadata.config`` when it is not a table.
    """
    saved = metadata.get("config")
    if saved is not None and not isinstance(saved, dict):
        raise ModelFileError(f"{path}: metadata.config: expected a table of chainrule train's "
                             f"configuration (a JSON object), got {type(saved).__name__} {quoted(saved)}")
    return saved


#: The keys whose option turns them off (``--no-plots`` sets ``plots = false``): a key's option
#: is otherwise ``--`` and the key with hyphens for underscores.
NEGATED_OPTIONS = {"shuffle": "--no-shuffle", "plots": "--no-plots"}


def value_name(key: str, source: str | SavedConfig | None) -> str:
    """How an error message names ``key``: ``run.toml: key 'lr'`` from a file,
    ``model.safetensors: metadata.config.lr`` from a model file's saved configuration
    (:class:`SavedConfig`), ``--lr`` when ``source`` is None (``--no-shuffle`` for ``shuffle``:
    see ``NEGATED_OPTIONS``)."""
    if source is None:
        return NEGATED_OPTIONS.get(key, "--" + key.replace("_", "-"))
    if isinstance(source, SavedConfig):
        return f"{source}.{key}"
    return f"{source}: key {key!r}"


def read_config(path) -> dict:
    """The key/value table of a TOML config file; ConfigError naming the file if unreadable,
    not TOML, nested too deep for the parser (arrays in arrays thousands deep), or holding a table."""
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode()  # decoded here, so that an error's byte counts from the file's start
        # A byte-order mark (Notepad, PowerShell 5's Out-File -Encoding utf8) is read past, as in a CSV file.
        table = tomllib.loads(text.removeprefix("\ufeff"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config file ({error.strerror})") from None
    except UnicodeDecodeError as error:  # TOML is UTF-8 text; a ValueError too, so caught first
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start}: {error.reason}); save the file as UTF-8") from None
    except ValueError as error:  # TOMLDecodeError, or an integer of more digits than Python converts
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    except RecursionError:  # arrays or inline tables nested thousands deep: no configuration has them
        raise ConfigError(f"{path}: not a configuration: arrays or tables nested too deep to read") from None
    nested = [key for key, value in table.items() if isinstance(value, dict)]
    if nested:
        raise ConfigError(f"{path}: unexpected table {quoted(nested[0])}; keys go at the top level")
    return table


def data_beside_config(values: dict, path) -> dict:
    """``values``, read from the config file ``path``, with each relative path of its ``data``
    taken from the file's folder (see the module docstring); ConfigError naming the file's key
    when no such file is there but one is in the working directory, which was read before.

    A built-in name stays a name, and an empty string stays empty (no path: joined to the
    folder, it named the folder itself). Any other bare word (no separator, suffix or comma) is a path
    like the others (an IDX directory ``mn``), except that one naming nothing, beside the file
    or in the working directory, stays as it is: a misspelt built-in name, which ``load_data``
    names as such.
    """
    data = values.get("data")
    if not isinstance(data, str) or not data or data in BUILTIN_DATASETS or os.path.isabs(data):
        return values
    folder = os.path.dirname(os.fspath(path))
    bare = not names_a_file(data) and "," not in data
    if not folder or bare and not os.path.exists(os.path.join(folder, data)) and not os.path.exists(data):
        return values
    parts = spec_paths(data)
    beside = [part if os.path.isabs(part) else os.path.join(folder, part) for part in parts]
    missing = [(part, there) for part, there in zip(parts, beside) if not os.path.exists(there)]
    if missing and all(os.path.exists(part) for part, _ in missing):
        part, there = missing[0]
        raise ConfigError(f"{value_name('data', path)}: {quoted(part)} is read from the config file's folder, "
                          f"where there is no {there}, not from the working directory; give the path from "
                          f"the config file's folder ({folder}), or an absolute one")
    return {**values, "data": ",".join(beside)}


def names_a_file(part: str) -> bool:
    """Whether ``part`` of a data spec is a path (absolute, or with a folder or a suffix), not a bare
    word that load_data would take for a built-in data set's name."""
    return os.path.isabs(part) or any(mark in part for mark in ("/", os.sep, "."))


#: The field types that take a string or a list: (the type of a list's items, what they are called).
LIST_ITEMS = {"str | list[str]": (str, "strings"), "str | list[int]": (int, "integers")}


def _coerce(key: str, value, kind: str, source: str | SavedConfig | None):
    """``value`` checked against the field type ``kind``; an int for a float field becomes a float.

    A field of type ``int | None`` also takes None (a checkpoint's saved configuration, JSON,
    holds it as null); one of type ``str | list[str]`` takes a string or a list of strings, one
    of type ``str | list[int]`` a string or a list of integers (a bool is no integer).
    ConfigError naming the key (see ``value_name``) for a wrong type, a non-finite float, or
    an integer too large for a float (``lr = 1`` followed by 400 zeros).
    """
    if kind in LIST_ITEMS:
        return _string_or_list(key, value, kind, source)
    if kind.endswith(" | None"):
        if value is None:
            return None
        kind = kind.removesuffix(" | None")
    expected = {"str": str, "int": int, "float": (int, float), "bool": bool}[kind]
    described = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}[kind]
    name = value_name(key, source)
    if isinstance(value, bool) and kind != "bool" or not isinstance(value, expected):
        raise ConfigError(f"{name}: expected {described}, got {type(value).__name__} {quoted(value)}")
    if kind != "float":
        return value
    try:
        number = float(value)
    except OverflowError:
        raise ConfigError(f"{name}: expected a finite number, got an integer too large for a float") from None
    if not math.isfinite(number):
        raise ConfigError(f"{name}: expected a finite number, got {quoted(value)}")
    return number


def _string_or_list(key: str, value, kind: str, source: str | SavedConfig | None):
    """``value`` if it is a string, or a list of the items ``LIST_ITEMS[kind]`` names;
    ConfigError naming the key otherwise."""
    item_type, items = LIST_ITEMS[kind]
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, item_type) and not isinstance(item, bool) for item in value):
        return value
    raise ConfigError(f"{value_name(key, source)}: expected a string or a list of {items}, "
                      f"got {type(value).__name__} {quoted(value)}")


#: How a TOML basic string writes what it cannot hold as it is: ``"`` and ``\``, and every
#: control character (U+0000 to U+001F, and DEL) by its short escape where TOML has one
#: (``\n``, ``\t``, ...), else as ``\uXXXX``.
TOML_ESCAPES = {code: f"\\u{code:04X}" for code in [*range(0x20), 0x7F]} | {
    ord("\b"): "\\b", ord("\t"): "\\t", ord("\n"): "\\n", ord("\f"): "\\f", ord("\r"): "\\r",
    ord('"'): '\\"', ord("\\"): "\\\\"}


def _toml_value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.translate(TOML_ESCAPES) + '"'
    return repr(value)
