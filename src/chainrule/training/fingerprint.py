"""What a run is made of, as texts and 63-bit hashes that are equal exactly when the runs agree.

The ranks of a distributed ``fit`` compare :func:`run_fingerprint` before training (the
communicator in :mod:`chainrule.training.distributed` sends it as a :func:`fingerprint_row`
and names what differs with :func:`shown_values`), and a checkpoint records
:func:`validation_fingerprint` of its validation set. Settings (the optimizer, its
schedule, the loss, the callbacks) are described by :func:`setting_text`, arrays by :func:`checksum`, the
model by :func:`architecture_checksum`; nothing here sends or receives anything.
"""

from __future__ import annotations

import enum
import hashlib
import inspect
import json
import numbers

import numpy

from ..backend import to_numpy
from ..errors import ModelFileError
from ..io.architecture import to_config
from ..layers.layer import Layer
from ..optimizers import OPTIMIZERS, Optimizer

SETTING_DEPTH = 8  # setting_text describes objects inside objects this deep (a schedule's schedule)
INT64_MIN, INT64_MAX = int(numpy.iinfo(numpy.int64).min), int(numpy.iinfo(numpy.int64).max)
SHOWN_WORDS = 20  # the int64s that carry a value's text in check_same_run
SHOWN_BYTES = SHOWN_WORDS * 8  # a longer text is shown cut short
ELLIPSIS = "…"


def run_fingerprint(model: Layer, X, T, X_val, T_val, batch_size: int, epochs: int, seed,
                    weights=None, w_val=None, *, loss, optimizer, lr, callbacks=(), preprocessor=None,
                    resume=None, shuffle=True, checkpoint=None, checkpoint_every: int = 1) -> tuple[dict, dict]:
    """What the ranks of a distributed fit must agree on: (values, checksums) by name.

    The values are ints of any size (or None) and texts, which the ranks compare exactly and
    the error shows: the model's dtype (first, so that it is named before the data cast to
    it), the data's size, the arguments (``shuffle`` as "True" or "False"; of ``resume``, whether
    one is given: "a checkpoint path" or None, not the path, since only rank 0 reads the file; of
    ``checkpoint``, likewise whether one is given, and then ``checkpoint_every``: the ranks agree after
    each checkpoint that rank 0 wrote it, so a rank that checkpoints after other epochs than another
    would meet it in another collective), the
    classes and feature names of ``preprocessor`` as :func:`label_values` describes them, and the
    optimizer (its type and hyperparameters, ``lr`` and its step count) and the loss (type and
    settings) as :func:`setting_values` describes them; ``loss`` is the Loss fit uses, ``optimizer``
    and ``lr`` are fit's arguments. Last, chainrule's own callbacks among ``callbacks`` (fit's), in
    order, each by :func:`setting_text` (its type and the constructor arguments it keeps,
    ``EarlyStopping(patience=1, ...)``): ranks whose EarlyStopping differs would restore the
    weights of different epochs. Callbacks of one's own are not compared: giving one to rank 0
    alone (a logger) is the usual pattern, and one that changes the weights must be the same
    on every rank (docs/distributed.md).

    The checksums hash the training arrays (X as ``fit`` reads it, not standardized: in the
    model's dtype, or in its own when standardized (see ``prepare.as_inputs``); the loop
    may standardize it a batch at a time, with the rows a validation fraction holds out, of
    which the validation arrays are then a copy; the labels as encoded) and the validation arrays
    (standardized, held-out rows included), the standardizations ``preprocessor`` applies (the
    inputs' mean and scale, and the targets' when it standardizes them, which the standardized
    targets alone do not pin down: a model fitted before may bring its own), the rows' weights
    (sample_weight times class_weight) and the architecture (layer types and settings,
    parameter shapes by path); hashing reads each byte once, far less than an epoch's forward
    and backward passes.
    """
    values = {
        "the model's dtype": str(model.dtype),  # "float32", or "None" for a model without parameters
        "the number of training rows": len(T), "the number of features": X.shape[1], "batch_size": batch_size,
        "epochs": epochs, "seed": None if seed is None else int(seed), "shuffle": str(bool(shuffle)),
        "resume": None if resume is None else "a checkpoint path",
        "checkpoint": None if checkpoint is None else "a file path",
        "checkpoint_every": None if checkpoint is None else checkpoint_every,
        "the number of model parameters": model.flat_parameters().theta.size,
        **label_values(preprocessor),
        **setting_values(loss, optimizer, lr),
        "chainrule's callbacks": setting_text([callback for callback in callbacks if is_chainrules(callback)]),
    }
    # Every rank sends the same names, also one given no validation set (the checksum of no
    # arrays), so that the all-gather's rows have one length and the difference is named.
    validation = checksum() if X_val is None else checksum(X_val, T_val, *([] if w_val is None else [w_val]))
    row_weights = checksum() if weights is None else checksum(weights)
    standardizes = preprocessor is not None and preprocessor.mean is not None
    standardization = checksum(preprocessor.mean, preprocessor.scale) if standardizes else checksum()
    scales_targets = preprocessor is not None and preprocessor.target_mean is not None
    target_standardization = (checksum(preprocessor.target_mean, preprocessor.target_scale) if scales_targets
                              else checksum())
    checksums = {"X": checksum(X), "y": checksum(T), "the standardization": standardization,
                 "the targets' standardization": target_standardization,
                 "sample_weight or class_weight": row_weights,
                 "the validation data": validation,
                 "the architecture (layers, shapes, frozen layers)": architecture_checksum(model)}
    return values, checksums


def label_values(preprocessor) -> dict:
    """The texts by which ranks compare what the model's inputs and outputs are called: the
    preprocessor's classes (the label each output stands for) and feature names (the columns
    ``predict`` takes by name), by :func:`setting_text` ("None" for none, or no preprocessor).

    The targets are hashed as encoded (class k as k), so ranks that named the same classes
    differently (``"cat"`` for ``"setosa"``, ``True`` for ``1``) would otherwise train alike
    and predict different labels; and X is hashed as an array, without its column names.
    """
    classes, names = (None, None) if preprocessor is None else (preprocessor.classes, preprocessor.feature_names)
    return {"the list of classes": setting_text(classes), "the list of feature names": setting_text(names)}


def is_chainrules(callback) -> bool:
    """Whether ``callback`` is one of chainrule's own (EarlyStopping), not a subclass of one's own."""
    return type(callback).__module__.split(".")[0] == "chainrule"


def validation_fingerprint(X_val, T_val, w_val=None) -> str:
    """What a checkpoint records of the validation set: 16 hexadecimal digits of the checksum of
    its rows (in the model's dtype, not standardized), prepared targets and weights (if any).

    The rows are hashed before standardization so that the fingerprint names the rows alone:
    a resumed run on new training data refits the standardization, yet validates on the same set.
    """
    weights = [] if w_val is None else [w_val]  # an unweighted set's checksum stays what it was
    return f"{checksum(to_numpy(X_val), T_val, *weights):016x}"


def checksum(*arrays) -> int:
    """A 63-bit hash of the arrays' dtypes, shapes and bytes: equal arrays, equal checksums."""
    def chunks():
        for array in arrays:
            array = numpy.ascontiguousarray(array)  # one array's copy at a time, if any is needed
            yield f"{array.dtype.str}{array.shape}".encode()
            yield array
    return hash63(chunks())


def hash63(chunks) -> int:
    """A 63-bit hash (BLAKE2b) of byte strings or contiguous arrays, in order: an int in
    [0, 2⁶³), so that it fits the int64s the ranks exchange. Equal chunks, equal hashes."""
    digest = hashlib.blake2b(digest_size=8)
    for chunk in chunks:
        digest.update(chunk)
    return int.from_bytes(digest.digest(), "little") >> 1


# -- the optimizer and the loss ---------------------------------------------------------------------

def setting_values(loss, optimizer, lr) -> dict:
    """The texts and ints by which ranks compare the optimizer and the loss, by name.

    ``optimizer`` and ``lr`` are ``fit``'s arguments: an Optimizer, whose type, ``lr``, step
    count and other hyperparameters are compared, or a name, for which the type's defaults
    stand in (``lr`` if given), so that "adam" and ``cr.Adam(model)`` agree. The hyperparameters
    are described as :func:`setting_text` describes any object, by the constructor arguments
    it keeps under their own names (a schedule in turn by its own). ``loss`` is a Loss,
    described by :func:`setting_text` too.
    """
    optimizer_text, lr_text, steps = _optimizer_settings(optimizer, lr)
    return {"the optimizer": optimizer_text, "lr": lr_text, "the optimizer's step count": steps,
            "the loss": setting_text(loss)}


def _optimizer_settings(optimizer, lr) -> tuple[str, str, int]:
    """(the optimizer's type and hyperparameters but lr, as text; lr as text; its step count t)."""
    not_hyperparameters = ("model", "lr")
    if isinstance(optimizer, Optimizer):
        kind, lr, steps = type(optimizer), optimizer.lr, optimizer.t
        hyperparameters = _kept_arguments(optimizer, not_hyperparameters)
    elif isinstance(optimizer, str) and optimizer in OPTIMIZERS:
        kind, steps = OPTIMIZERS[optimizer], 0  # a new optimizer of the type, made by fit
        arguments = _constructor_arguments(kind)
        if lr is None and "lr" in arguments:
            lr = arguments["lr"].default
        hyperparameters = {name: argument.default for name, argument in arguments.items()
                           if name not in not_hyperparameters and argument.default is not argument.empty}
    else:  # fit refuses it later, alike on every rank
        return setting_text(optimizer), _lr_text(lr), 0
    return _constructor_text(kind, hyperparameters, depth=0), _lr_text(lr), steps


def _lr_text(lr) -> str:
    """``lr`` as text, a real number as the float the optimizer makes of it (so 1 and 1.0 agree)."""
    if isinstance(lr, numbers.Real) and not isinstance(lr, bool):
        try:
            return repr(float(lr))
        except OverflowError:  # 10**400: refused by the optimizer, alike on every rank
            pass
    return setting_text(lr)


def setting_text(value, depth: int = 0) -> str:
    """A text of a setting (a loss, a schedule, a hyperparameter) that is equal on every rank
    exactly when the setting is, SETTING_DEPTH levels deep at most.

    Numbers are described by value, Enum members as ``Type.NAME``, lists and tuples item by
    item, dicts and sets by their items sorted (so the order in which they were added does not
    matter), NumPy arrays by dtype, shape and a hash of their numbers, functions and classes by
    name. Any other object (a loss, a schedule) is described by its type's name and the
    arguments of its type's constructor that it keeps as attributes of the same names, in the
    constructor's order (``StepDecay(step_size=100, gamma=0.1)``); an object whose constructor
    takes nothing, or keeps none of them, by its type's name alone (``SoftmaxCrossEntropy``).
    So what an object computes and stores later (a loss caching its last batch) is not
    compared, and neither is an argument it keeps under another name.
    """
    if isinstance(value, numpy.generic):
        value = value.item()
    if isinstance(value, enum.Enum):  # before the numbers: an IntEnum member is an int too
        return f"{type(value).__qualname__}.{value.name}"
    if value is None or isinstance(value, (bool, str, bytes)):
        return repr(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    if depth >= SETTING_DEPTH:
        return type(value).__qualname__
    if isinstance(value, numpy.ndarray):
        numbers_hash = f", hash {hash63([numpy.ascontiguousarray(value)]):016x}" if value.dtype.kind in "biufc" else ""
        return f"array({value.dtype}, {value.shape}{numbers_hash})"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(setting_text(item, depth + 1) for item in value) + "]"
    if isinstance(value, dict):
        items = sorted(f"{setting_text(key, depth + 1)}: {setting_text(item, depth + 1)}" for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (set, frozenset)):
        if not value:
            return "set()"  # "{}" is an empty dict's text
        return "{" + ", ".join(sorted(setting_text(item, depth + 1) for item in value)) + "}"
    if hasattr(value, "__qualname__"):  # a function or a class (an instance has its type's only)
        return value.__qualname__
    if isinstance(value, Layer):  # its weights differ before rank 0's are sent; the architecture is compared apart
        return type(value).__qualname__
    return _constructor_text(type(value), _kept_arguments(value), depth)


def _constructor_arguments(kind) -> dict[str, inspect.Parameter]:
    """name -> parameter, for each argument of ``kind``'s constructor that has a name (not
    ``*args`` or ``**kwargs``); none for a type whose signature Python cannot read (one
    written in C)."""
    try:
        parameters = inspect.signature(kind).parameters
    except (TypeError, ValueError):
        return {}
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return {name: parameter for name, parameter in parameters.items() if parameter.kind not in variadic}


def _kept_arguments(value, skipped=()) -> dict:
    """name -> value, for each constructor argument of ``value``'s type (but ``skipped``)
    that ``value`` keeps as an attribute of the same name, in the constructor's order."""
    return {name: getattr(value, name) for name in _constructor_arguments(type(value))
            if name not in skipped and hasattr(value, name)}


def _constructor_text(kind, arguments: dict, depth: int) -> str:
    """``Name(first=..., second=...)`` for the type ``kind`` and its ``arguments``; ``Name`` for none."""
    if not arguments:
        return kind.__qualname__
    described = ", ".join(f"{name}={setting_text(item, depth + 1)}" for name, item in arguments.items())
    return f"{kind.__qualname__}({described})"


# -- the model ------------------------------------------------------------------------------------

def architecture_checksum(model) -> int:
    """A 63-bit hash of the model's architecture: each layer's path, type and settings, and the
    parameters' shapes by path, not their weights (rank 0's are sent to every rank).

    Each layer is described on its own (:func:`_layer_text`), so that a user's own layer type
    anywhere in the model leaves every other layer's settings compared.

    The names of frozen parameters (``trainable = False``) are hashed too, so that ranks that
    would train different parameters disagree; only when some are frozen, so that the
    checksum of a model with every layer trainable is what it was before layers could be frozen.
    """
    layers = "; ".join(f"{path or 'model'}: {_layer_text(layer)}" for path, layer in model.walk())
    shapes = "; ".join(f"{path}{tuple(array.shape)}" for path, array in model.params.items())
    chunks = [layers.encode(), b"\0", shapes.encode()]
    frozen = model.frozen_parameters
    if frozen:
        chunks += [b"\0", ("frozen: " + "; ".join(frozen)).encode()]
    return hash63(chunks)


def _layer_text(layer) -> str:
    """One layer without the layers inside it (the walk describes those at their own paths):
    a layer composed of others by its type's name, one of chainrule's own leaves by
    :func:`~chainrule.io.architecture.to_config` (a LeakyReLU's alpha, a Linear's init), and a
    user's own leaf type, which to_config cannot describe, by its type's name (its parameters'
    shapes are compared by path all the same)."""
    if layer.children():
        return type(layer).__qualname__
    try:
        return json.dumps(to_config(layer), sort_keys=True, default=repr)
    except ModelFileError:
        return type(layer).__qualname__


# -- the row each rank sends ---------------------------------------------------------------------

def fingerprint_row(values: dict, checksums: dict) -> numpy.ndarray:
    """What one rank sends in ``Communicator.check_same_run``: int64s, first each value as
    shown, then what is compared.

    Each value is shown as a text (:func:`_value_text`), sent as its UTF-8 bytes in
    SHOWN_WORDS int64s (cut short, ending in "…", beyond SHOWN_BYTES), so that every rank's
    row has one length whatever its texts. Each value is compared by a 63-bit hash of its
    exact form (:func:`_text_hash`; exact unless two hashes collide, as for the checksums).
    The checksums follow.
    """
    shown = numpy.zeros((len(values), SHOWN_BYTES), dtype=numpy.uint8)
    for row, value in zip(shown, values.values()):
        text = _fitted(_value_text(value)).encode()
        row[:len(text)] = numpy.frombuffer(text, dtype=numpy.uint8)
    compared = [*map(_text_hash, values.values()), *checksums.values()]
    return numpy.concatenate([shown.view(numpy.int64).ravel(), numpy.array(compared, dtype=numpy.int64)])


def _text_hash(value) -> int:
    """A 63-bit hash of a value's exact form: equal values, equal hashes.

    An int is hashed as its hexadecimal text (None as "None"): whole, however large (hexadecimal
    because Python refuses to write an int of more than 4300 decimal digits). A text is hashed
    after a "'", which no int's form holds, so that the text "5" and the int 5 differ.
    """
    if isinstance(value, str):
        return hash63([b"'", value.encode()])
    text = "None" if value is None else format(int(value), "x")
    return hash63([text.encode()])


def _value_text(value) -> str:
    """How the message shows a value: a text as it is, None as "None", and an int clipped to
    the int64 range ("9223372036854775807 or more" for a larger one)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "None"
    if value >= INT64_MAX:
        return f"{INT64_MAX} or more"
    if value <= INT64_MIN + 1:
        return f"{INT64_MIN + 1} or less"
    return str(value)


def _fitted(text: str) -> str:
    """``text``, cut to at most SHOWN_BYTES bytes of UTF-8 (ending in "…" where cut)."""
    encoded = text.encode()
    if len(encoded) <= SHOWN_BYTES:
        return text
    kept = encoded[:SHOWN_BYTES - len(ELLIPSIS.encode())]
    return kept.decode(errors="ignore") + ELLIPSIS  # "ignore" drops a character cut in two


def shown_values(shown_texts, exact_column, ranks) -> dict:
    """rank -> the text naming its value in ``check_same_run``'s message, for ``ranks`` (rank 0 first).

    ``shown_texts`` holds each rank's value as :func:`fingerprint_row` sent it. Values shown
    shortened (a huge int clipped, a long text cut) can look alike: when one looks like rank
    0's, every listed value also shows its hash, which differs from rank 0's.
    """
    shown = {rank: _decoded(shown_texts[rank]) for rank in ranks}
    if any(shown[rank] == shown[0] for rank in ranks if rank != 0):
        return {rank: f"{text} (hash {int(exact_column[rank]):016x})" for rank, text in shown.items()}
    return shown


def _decoded(words) -> str:
    """The text a rank sent in SHOWN_WORDS int64s: its UTF-8 bytes, padded with zero bytes."""
    return numpy.ascontiguousarray(words).view(numpy.uint8).tobytes().rstrip(b"\0").decode(errors="replace")
