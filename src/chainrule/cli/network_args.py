"""The network ``chainrule train`` is asked for: its hidden widths and activations, parsed.

``--hidden`` gives the widths ("256,128", or a config file's list [256, 128]; "" for none) and
``--activation`` one name for every hidden layer or one per hidden layer ("relu,tanh", or a
list). Errors name the option, or the file and key a value came from (see ``value_name``).
:func:`as_built` gives a key of the network as the run builds it, by which the resume checks
compare two spellings of one network.
"""

from __future__ import annotations

import re

from ..checks import as_float_dtype
from ..errors import ConfigError, did_you_mean, quoted
from ..initializers import ALIASES
# MAX_HIDDEN_LAYERS: the most hidden layers a run may have, since it saves its network. Past it a run would build
# the network (minutes for a million layers, before the memory check's numbers could refuse it: a narrow deep network
# takes little memory) only to be refused when its model is saved.
from ..io.architecture import MAX_HIDDEN_LAYERS, MAX_LAYERS
from ..layers import ACTIVATIONS, canonical_activation
from .config import TrainConfig, value_name


def as_built(key: str, config: TrainConfig, sources: dict | None = None):
    """The value of ``key`` in ``config`` as the run builds it, so that spellings of one value are alike:
    the hidden widths ("8, 4" and [8, 4] for "8,4"), the activation of each hidden layer ("relu, tanh" for
    ["relu", "tanh"]; "sigmoid" for "logistic"; "relu" for each of ``config.hidden``'s layers, its default's
    when no file gave it), the initializer's own name for an alias ("glorot_uniform" for "xavier_uniform"),
    the dtype ("f4" for float32); any other key's value as it is. ConfigError naming the key where it came from (``sources``,
    as for :func:`hidden_layers`) for a value that is not one."""
    sources = sources or {}
    if key == "hidden":
        return hidden_sizes(config.hidden, value_name("hidden", sources.get("hidden")))
    if key == "activation":
        return [canonical_activation(name) for name in hidden_layers(config, sources)[1]]
    if key == "init":
        return ALIASES.get(config.init, config.init)
    if key == "dtype":
        return as_float_dtype(config.dtype, value_name("dtype", sources.get("dtype")))
    return getattr(config, key)


def hidden_layers(config: TrainConfig, sources: dict | None = None) -> tuple[list[int], list[str]]:
    """The hidden layers ``config`` asks for: their widths and the activation name of each.

    Errors name ``hidden`` and ``activation`` where they came from (``sources`` maps a key to
    the file it came from, as for ``train.validate``): a bad width first, then a bad activation.
    """
    sources = sources or {}
    hidden = value_name("hidden", sources.get("hidden"))
    sizes = hidden_sizes(config.hidden, hidden)
    activation = value_name("activation", sources.get("activation"))
    return sizes, activation_names(config.activation, len(sizes), activation, f"{hidden} is {quoted(config.hidden)}")


def activation_names(activation: str | list[str], n_hidden: int, name: str, hidden: str) -> list[str]:
    """The activation name of each of ``n_hidden`` hidden layers.

    ``activation`` is one name for every layer ("relu"), or one name per layer: comma-separated
    ("relu,tanh", as the option takes them; spaces are ignored) or a list (["relu", "tanh"],
    as a config file may give them). ConfigError naming ``name`` for an unknown name, an empty
    name between commas ("relu,,tanh", "relu,") or a count other than ``n_hidden``; it says
    what is expected: the known names and, for two or more hidden layers, the count (with
    ``hidden``, the widths as given, e.g. "--hidden is '256,128'").
    """
    known = ", ".join(ACTIVATIONS)
    names = activation.replace(" ", "").split(",") if isinstance(activation, str) else activation
    if isinstance(activation, str) and len(names) == 1:  # one name for every hidden layer
        if names[0] not in ACTIVATIONS:
            raise ConfigError(f"{name}: expected one of {known}; got {quoted(activation)}"
                              f"{did_you_mean(activation, ACTIVATIONS)}")
        return names * n_hidden
    form = "comma-separated" if isinstance(activation, str) else "in a list"
    if n_hidden == 0:
        expected = f"no hidden layer ({hidden}): give one name or leave it out"
    elif n_hidden == 1:
        expected = f"expected one of {known} (one hidden layer: {hidden})"
    else:
        expected = (f"expected one name for every hidden layer, or {_names(n_hidden)} {form}, one per hidden "
                    f"layer ({hidden}), each one of {known}")
    if "" in names:
        raise ConfigError(f"{name}: {expected}; got {quoted(activation)}, which has an empty name")
    if len(names) != n_hidden:
        raise ConfigError(f"{name}: {expected}; got {_names(len(names))}: {quoted(activation)}")
    for item in names:
        if item not in ACTIVATIONS:
            raise ConfigError(f"{name}: {expected}; got {quoted(item)} in {quoted(activation)}"
                              f"{did_you_mean(item, ACTIVATIONS)}")
    return names


def _names(count: int) -> str:
    """"1 name", "2 names"."""
    return f"{count} name{'' if count == 1 else 's'}"


def hidden_sizes(hidden: str | list[int], name: str = "--hidden") -> list[int]:
    """"128,64" or [128, 64] -> [128, 64]; "" (or spaces only) or [] -> [], no hidden layer: a
    linear model.

    ConfigError naming ``name`` for anything else, an empty width between commas (",,", "8,",
    ",8") included: it is a typo, not a request for no layers; and for more than
    ``MAX_HIDDEN_LAYERS`` widths, counted before any is read. A list is one a config file
    gave, whose items TrainConfig checked to be integers.
    """
    count = len(hidden) if isinstance(hidden, list) else hidden.count(",") + 1
    if count > MAX_HIDDEN_LAYERS:
        raise ConfigError(f"{name}: at most {MAX_HIDDEN_LAYERS:,} hidden layers, the most a model file holds "
                          f"(each is a Linear layer and its activation; {MAX_LAYERS:,} layers in all), got "
                          f"{count:,} widths: {quoted(hidden)}")
    sizes = hidden if isinstance(hidden, list) else _parse_widths(hidden, name)
    if any(size < 1 for size in sizes):
        raise ConfigError(f"{name}: every width must be >= 1, got {quoted(hidden)}")
    return sizes


def _parse_widths(text: str, name: str) -> list[int]:
    """The integers of comma-separated ``text``; ConfigError naming ``name`` for anything else.

    Spaces around a width are read past ("256, 128"); a space within one is refused, not removed:
    "256 128" is two widths without their comma, not the width 256128."""
    if not text.strip(" "):
        return []
    parts = [part.strip(" ") for part in text.split(",")]
    if any(" " in part for part in parts):
        raise ConfigError(f"{name}: expected comma-separated integers like 128,64, got {quoted(text)}, "
                          f"whose widths are separated by spaces; separate them by commas")
    if "" in parts:
        raise ConfigError(f"{name}: expected comma-separated integers like 128,64 (or '' for no hidden layers), "
                          f"got {quoted(text)}, which has an empty width")
    if not all(DECIMAL.fullmatch(part) for part in parts):  # int() also takes "8_0", "٨" and tabs
        raise ConfigError(f"{name}: expected comma-separated integers like 128,64, got {quoted(text)}")
    return [int(part) for part in parts]


DECIMAL = re.compile(r"[+-]?[0-9]+")  # a width as written in decimal digits, its sign left to the width check
