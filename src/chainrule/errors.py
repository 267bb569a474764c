"""chainrule's exceptions: one small hierarchy, each class also a built-in error.

Every error chainrule raises on bad input is a :class:`ChainruleError`, and also the
built-in exception a Python user would catch for that kind of mistake (``ValueError``,
``TypeError``, ``KeyError``, ``RuntimeError``...), so ``except ValueError`` keeps working.
Messages name where the problem is (the layer path, the argument, the file, column or row)
and what was expected versus received.

::

    ChainruleError
    ├── ShapeError            (ValueError)  wrong rank, width or batch size
    ├── NonFiniteError        (ValueError)  NaN or Inf where finite numbers are needed
    ├── LabelError            (ValueError)  labels out of range or of the wrong kind
    ├── DTypeError            (TypeError)   an array of the wrong dtype
    ├── HyperparameterError   (ValueError)  lr <= 0, momentum outside [0, 1), unknown names
    │   └── TooLargeError     (MemoryError) layers too wide for the memory NumPy could allocate
    ├── DataError             (ValueError)  a data file that is missing, unreadable or malformed
    ├── ConfigError           (ValueError)  a config file with unknown keys or wrong types
    ├── ModelFileError        (ValueError)  a model file that is truncated, tampered or foreign
    ├── DivergenceError       (FloatingPointError)  training produced a non-finite loss or gradient
    ├── DistributedError      (RuntimeError)  MPI missing, or a rank of a distributed run hung or died
    ├── DeviceError           (RuntimeError)  a GPU step could not be set up (cuBLAS, CUDA-graph capture)
    ├── StateError            (RuntimeError)  an object used out of order: a backward before any forward
    └── MissingKeyError       (KeyError)      a name that is not there: a metric the History did not record

Warnings, for input that is valid but probably not what was meant, derive from
:class:`ChainruleWarning` (a ``UserWarning``): ``OneHotTargetsWarning`` when ``fit`` trains
float one-hot rows as regression targets by default; ``OutputActivationWarning`` when ``fit``
trains a model ending in a Softmax or Sigmoid with a cross-entropy loss, which takes logits.
``load_weights`` gives a plain ChainruleWarning when a model file's preprocessing is left out;
``ModelFileWarning`` when a model file written by a newer chainrule loads.
"""

import difflib
import itertools
import sys
from collections import OrderedDict, defaultdict, deque

#: The most characters of a value that a message quotes: a 50 MB CSV cell or a number of 5,000
#: digits would otherwise make a message of that size.
QUOTE_LIMIT = 60
#: Linux's PATH_MAX: no longer path names a file; a longer one is refused by its length, in a short message.
MAX_PATH_LENGTH = 4096
#: The limit for a value that may be a path (a data spec): MAX_PATH_LENGTH and the quotes, so
#: that any path a file can have is shown whole.
PATH_QUOTE_LIMIT = MAX_PATH_LENGTH + 2
#: The types whose repr writes their characters or items in order, so that :func:`quoted` writes
#: only the first of a large one (besides dict and the subclasses that keep its repr).
IN_ORDER = (str, bytes, bytearray, list, tuple, deque, set, frozenset, OrderedDict, defaultdict)
#: NumPy's default print options: an array of more items is summarized, by its first and last
#: items along each axis, as :func:`quoted` writes it whatever the print options say.
ARRAY_THRESHOLD = 1000
ARRAY_EDGE_ITEMS = 3


def overlong_path(path: str) -> str:
    """What is wrong with ``path``, longer than ``MAX_PATH_LENGTH`` characters, in a short line (the path's first
    characters quoted), for the messages that refuse one before the file system is asked.

    >>> overlong_path("x" * 5000)[58:]
    'xx...: a path of 5,000 characters, longer than any file name (4096)'
    """
    return f"{quoted(path)}: a path of {len(path):,} characters, longer than any file name ({MAX_PATH_LENGTH})"


def quoted(value, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for an error message, cut to its first ``limit`` characters and "..." when longer.

    >>> quoted("a" * 100, 10)
    "'aaaaaaaaa..."
    >>> quoted(12)
    '12'
    >>> quoted(2 ** 20000)
    '<an int of 20,001 bits>'
    >>> quoted(-2 ** 20000)
    '<a negative int of 20,001 bits>'
    >>> quoted([1, 2 ** 20000])
    '<list holding an int of more than 4300 digits>'

    Python writes no int of more digits than ``sys.get_int_max_str_digits()`` (4300 by default):
    its repr, and that of a list or dict holding one, raises ValueError. An error message must not
    raise in its turn, so such a value is named by its size (and sign), or by its container's type.

    A value nested deeper than ``repr`` goes (Python's recursion limit, about 1,000 levels: a
    callback's state, a dict key or a config value made so) is named by its type, so that the
    error it is quoted in is raised rather than a RecursionError:

    >>> deep = []
    >>> for _ in range(10_000):
    ...     deep = [deep]
    >>> quoted(deep)
    '<a list nested too deep to show>'

    So is a value whose own ``__repr__`` fails (an object of the user's, given where a number or a
    name was expected): the message is about the value's place, which that error would hide.

    >>> class Broken:
    ...     def __repr__(self):
    ...         raise TypeError("not ready")
    >>> quoted(Broken())
    '<Broken whose repr raised TypeError>'

    A str, bytes or bytearray longer than ``limit`` is cut before ``repr`` writes it (the repr of
    1 GB of bytes takes up to 4 GB), keeping a quote character of the whole value, so that Python
    picks the same quotes as for the whole: what is shown is the whole value's repr, cut. So is a
    container of more than ``limit`` items whose repr writes them in order (a list, tuple, set,
    frozenset, deque, dict, OrderedDict or defaultdict, or a subclass of dict that keeps dict's
    repr): only its first ``limit`` items are written (each writes at least a separator, so their
    repr's first ``limit`` characters are the whole's). A list of 10⁷ numbers took seconds to
    write, to show 60 characters of it.

    >>> quoted(list(range(10 ** 7)), 20)
    '[0, 1, 2, 3, 4, 5, 6...'
    >>> quoted(frozenset(range(1000)), 20)
    'frozenset({0, 1, 2, ...'

    A NumPy array of more than 1000 items is written as NumPy writes it by default (its first and
    last 3 items along each axis), even where its print options (``threshold``, ``edgeitems``) ask
    for every item. Any other value (a Counter, whose repr sorts every item first) is written
    whole before it is cut.
    """
    try:
        text = _repr_start(value, limit)
    except RecursionError:
        text = f"<a {type(value).__name__} nested too deep to show>"
    except Exception as error:  # any error of a __repr__: the message quoting the value must still be raised
        if not _is_int_digits_limit(error):
            text = f"<{type(value).__name__} whose repr raised {type(error).__name__}>"
        elif isinstance(value, int):
            text = f"<{'a negative' if value < 0 else 'an'} int of {value.bit_length():,} bits>"
        else:
            text = f"<{type(value).__name__} holding an int of more than {sys.get_int_max_str_digits()} digits>"
    return text if len(text) <= limit else text[:limit] + "..."


def _repr_start(value, limit: int) -> str:
    """``repr(value)``; for a value of more than ``limit`` characters or items of a kind whose repr
    writes them in order (see :func:`quoted`), the repr of its first ``limit`` of them, which begins
    with the whole's first ``limit`` characters and is longer than ``limit``."""
    kind = type(value)
    numpy = sys.modules.get("numpy")  # an array is made by NumPy, imported by then: never imported here
    if numpy is not None and isinstance(value, numpy.ndarray) and value.size > ARRAY_THRESHOLD:
        return _array_repr(numpy, value)
    dict_like = kind.__repr__ is dict.__repr__  # dict, and a subclass that keeps its repr
    if not (kind in IN_ORDER or dict_like) or len(value) <= limit:
        return repr(value)
    if kind in (str, bytes, bytearray):
        return repr(_cut(value, limit))
    if kind in (list, tuple, deque):
        return repr(kind(itertools.islice(value, limit)))
    if kind in (set, frozenset):  # a smaller set may iterate in another order: its items are written here
        items = ", ".join(map(repr, itertools.islice(value, limit)))
        return f"{{{items}}}" if kind is set else f"frozenset({{{items}}})"
    if kind is OrderedDict:  # in its own order, which move_to_end changes and the dict's does not
        return repr(OrderedDict(itertools.islice(value.items(), limit)))
    first = itertools.islice(dict.items(value), limit)  # dict's own items, which its repr writes
    return repr(defaultdict(value.default_factory, first) if kind is defaultdict else dict(first))


def _array_repr(numpy, value) -> str:
    """``repr(value)`` of a NumPy array of more than ARRAY_THRESHOLD items, summarized as NumPy does
    by default: at most its first and last ARRAY_EDGE_ITEMS items along each axis are written. (NumPy
    keeps its print options per context from 2.2 on; before, they are the process's, lowered for the
    time of this repr alone.)"""
    options = numpy.get_printoptions()
    with numpy.printoptions(threshold=min(options["threshold"], ARRAY_THRESHOLD),
                            edgeitems=min(options["edgeitems"], ARRAY_EDGE_ITEMS)):
        return repr(value)


def _cut(value, limit: int):
    """The first ``limit`` characters (bytes) of a str, bytes or bytearray ``value``, then a quote
    character of the whole: repr picks ``"`` as its quotes where the value holds ``'`` and no ``"``,
    ``'`` otherwise, and writes each character independently of the others, so the cut's repr
    begins with the whole's first ``limit`` characters."""
    double, single = ('"', "'") if isinstance(value, str) else (b'"', b"'")
    quote = double if double in value else single if single in value else value[:0]
    return value[:limit] + quote


def _is_int_digits_limit(error: Exception) -> bool:
    """Whether ``error`` is Python's refusal to write an int of more than ``sys.get_int_max_str_digits()``
    digits (told by its words: a ValueError like any other)."""
    return (type(error) is ValueError and len(error.args) == 1 and isinstance(error.args[0], str)
            and "integer string conversion" in error.args[0])


def did_you_mean(value, options) -> str:
    """`` (did you mean 'adam'?)`` for a mistyped name, to end an "expected one of" message; "" when
    no option is close.

    An option equal to ``value`` but for case or the separator ("ReLU", "leaky-relu") comes first;
    otherwise the closest option by :func:`difflib.get_close_matches` (a ratio of at least 0.75).
    Only strings are compared.

    >>> did_you_mean("Adam", ["sgd", "adam"])
    " (did you mean 'adam'?)"
    >>> did_you_mean("epoch", ["epochs", "seed"])
    " (did you mean 'epochs'?)"
    >>> did_you_mean("xyz", ["sgd", "adam"])
    ''
    """
    if not isinstance(value, str):
        return ""
    names = [option for option in options if isinstance(option, str)]
    folded = value.casefold().replace("-", "_")
    matches = [name for name in names if name.casefold().replace("-", "_") == folded]
    matches = matches or difflib.get_close_matches(value, names, n=1, cutoff=0.75)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def not_an_argument(name: str, owner: str, accepted: list[str], hint: str = "") -> str:
    """The message for a keyword ``name`` that ``owner`` (``"fit"``, an optimizer's class name) does
    not take: ``accepted`` are the arguments it takes, ``hint`` the one meant (``" (did you mean
    'lr'?)"``) or "". A name that is no identifier, or longer than 60 characters (given through
    ``**{...}``), is quoted and cut (:func:`quoted`).

    >>> not_an_argument("lerning_rate", "SGD", ["lr", "momentum"], " (did you mean 'lr'?)")
    "lerning_rate: not an argument of SGD; it takes lr, momentum (did you mean 'lr'?)"
    """
    shown = name if name.isidentifier() and len(name) <= 60 else quoted(name)
    return f"{shown}: not an argument of {owner}; it takes {', '.join(accepted)}{hint}"


class ChainruleError(Exception):
    """Base class of every error chainrule raises on purpose."""


class ShapeError(ChainruleError, ValueError):
    """An array has the wrong number of dimensions, width or batch size."""


class NonFiniteError(ChainruleError, ValueError):
    """An input holds NaN or Inf, or a value that becomes one (standardized beyond the dtype).

    ``index`` is the (row, column) of X where a caller may name the value its own way (the
    command line: a CSV file's line and column), and ``detail`` what the message says after
    naming it; None and "" where the error does not say.
    """

    def __init__(self, message: str, *, index: tuple[int, int] | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.index = index
        self.detail = detail


class LabelError(ChainruleError, ValueError):
    """Targets are out of range, of the wrong kind, or inconsistent with the outputs."""


class DTypeError(ChainruleError, TypeError):
    """An array has a dtype chainrule cannot use there."""


class HyperparameterError(ChainruleError, ValueError):
    """A hyperparameter is out of its valid range, or a name is unknown."""


class TooLargeError(HyperparameterError, MemoryError):
    """A network's sizes need more memory than NumPy could allocate (it raised MemoryError):
    the widths are the hyperparameters to change, and ``except MemoryError`` still catches it."""


class DataError(ChainruleError, ValueError):
    """A data set or data file cannot be used."""


class ConfigError(ChainruleError, ValueError):
    """A configuration file or option has an unknown key or a value of the wrong type."""


class ModelFileError(ChainruleError, ValueError):
    """A model file is missing, truncated, tampered with, or not a chainrule model."""


class DivergenceError(ChainruleError, FloatingPointError):
    """Training produced a non-finite loss or gradient.

    ``where`` says where and what, without the advice the message adds ("at epoch 3, batch
    5/12: the loss is nan"), for a caller that words its own advice (the command line's).
    ``at_start`` is True when the loss was not finite before any step was taken, or the gradient
    at the first step (the data's scale, the initial weights, the network or the loss, not the
    learning rate, is then the cause). ``same_on_every_rank`` is True in a distributed ``fit`` of
    several ranks, whose divergence guards all stop at the same step (a rank whose loss is not
    finite sends NaN in the gradient's all-reduce), as for :class:`DistributedError`.
    ``history`` is the run's :class:`~chainrule.History` up to its last complete epoch when
    ``cr.fit`` raised the error (None otherwise), so that a diverged run's curves and gradient flow
    can still be drawn (``chainrule.plots``): there is no other way to reach it, since ``fit``
    returns none.
    """

    def __init__(self, message: str, *, where: str = "", at_start: bool = False,
                 same_on_every_rank: bool = False) -> None:
        super().__init__(message)
        self.where = where
        self.at_start = at_start
        self.same_on_every_rank = same_on_every_rank
        self.history = None


class DistributedError(ChainruleError, RuntimeError):
    """Distributed training cannot run (no mpi4py/MPI) or lost a rank (a collective timed out or failed).

    ``same_on_every_rank`` is True when every rank raised this same error at the same point
    (ranks given different data or arguments), so that a program can report it on rank 0 alone.
    """

    def __init__(self, message: str, *, same_on_every_rank: bool = False) -> None:
        super().__init__(message)
        self.same_on_every_rank = same_on_every_rank


class DeviceError(ChainruleError, RuntimeError):
    """A GPU facility chainrule needs failed: loading cuBLAS, or capturing a training step as a CUDA graph."""


class StateError(ChainruleError, RuntimeError):
    """An object was used out of order, such as a layer's ``backward`` before any ``forward``."""


class MissingKeyError(ChainruleError, KeyError):
    """A key looked up is not there (``history["val_loss"]`` for a run without validation).

    A KeyError, so ``in``, ``.get`` and ``except KeyError`` work as for a dict; its message
    lists the keys there are.
    """

    def __str__(self) -> str:
        # KeyError would show the repr of its message, in quotes; a sentence reads better plain.
        return Exception.__str__(self)


class ChainruleWarning(UserWarning):
    """Base class of the warnings chainrule gives: input that is valid but probably not what was meant."""


class OneHotTargetsWarning(ChainruleWarning):
    """``fit`` was given one-hot float rows as targets without a loss, and trains them with MSE."""


class OutputActivationWarning(ChainruleWarning):
    """``fit`` was given a model ending in the activation its loss applies itself (a Softmax
    before the softmax cross-entropy, a Sigmoid before the binary cross-entropy)."""


class ModelFileWarning(ChainruleWarning):
    """A model file written by a newer chainrule release (its ``metadata.chainrule_version``) was
    loaded: its format is one this release reads, but the model may not behave as it did there.
    Like scikit-learn's ``InconsistentVersionWarning``, it names both versions."""
