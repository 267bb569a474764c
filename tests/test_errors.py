"""The error hierarchy: every chainrule error is also the built-in error it documents."""

import sys
from collections import OrderedDict, defaultdict, deque

import numpy as np
import pytest

import chainrule as cr

BUILTIN = {
    cr.ShapeError: ValueError,
    cr.NonFiniteError: ValueError,
    cr.LabelError: ValueError,
    cr.DTypeError: TypeError,
    cr.HyperparameterError: ValueError,
    cr.TooLargeError: MemoryError,
    cr.DataError: ValueError,
    cr.ConfigError: ValueError,
    cr.ModelFileError: ValueError,
    cr.DivergenceError: FloatingPointError,
    cr.StateError: RuntimeError,
    cr.errors.MissingKeyError: KeyError,
}


@pytest.mark.parametrize("error, builtin", BUILTIN.items(), ids=lambda item: getattr(item, "__name__", ""))
def test_hierarchy(error, builtin):
    assert issubclass(error, cr.ChainruleError)
    assert issubclass(error, builtin)
    assert error is getattr(cr.errors, error.__name__)


def test_a_network_too_large_for_the_memory_is_a_hyperparameter_error_and_a_memory_error():
    # The widths are what to change; code that caught NumPy's MemoryError still catches it.
    assert issubclass(cr.TooLargeError, cr.HyperparameterError) and issubclass(cr.TooLargeError, MemoryError)


def test_a_divergence_says_where_apart_from_its_advice():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)) * 1e3, rng.integers(0, 2, size=64)
    model = cr.mlp([3, 8, 2], seed=0)
    with pytest.raises(cr.DivergenceError) as raised:
        cr.fit(model, X, y, optimizer=cr.SGD(model, lr=1e30), epochs=3, batch_size=16, verbose=0)
    assert raised.value.where.startswith("at epoch 1, batch ")
    assert str(raised.value).startswith(f"training diverged {raised.value.where}; the model keeps its last finite")


def test_value_and_type_errors_are_disjoint():
    assert not issubclass(cr.DTypeError, ValueError)
    assert not issubclass(cr.ShapeError, TypeError)


def test_a_built_in_except_clause_catches_chainrule_errors():
    model = cr.Sequential(cr.Linear(3, 2))
    with pytest.raises(ValueError):
        model(np.zeros((1, 4)))
    with pytest.raises(TypeError):
        cr.SoftmaxCrossEntropy()(np.zeros((2, 2)), np.array([0.0, 1.0]))


def test_state_and_missing_key_errors_are_not_value_errors():
    # Calls out of order and absent keys are neither bad values nor bad types.
    assert not issubclass(cr.StateError, (ValueError, TypeError))
    assert not issubclass(cr.errors.MissingKeyError, (ValueError, TypeError))


def test_a_missing_key_error_shows_its_message_without_the_quotes_of_a_key_error():
    assert str(cr.errors.MissingKeyError("history has no metric 'x'")) == "history has no metric 'x'"


@pytest.mark.parametrize("make, kind", [(lambda inner: [inner], "list"), (lambda inner: {"k": inner}, "dict"),
                                         (lambda inner: (inner,), "tuple")])
def test_quoted_names_a_value_nested_deeper_than_repr_goes(make, kind):
    """repr raised RecursionError, which ended the error that quoted the value."""
    from chainrule.errors import quoted
    value = 0
    for _ in range(sys.getrecursionlimit()):
        value = make(value)
    assert quoted(value) == f"<a {kind} nested too deep to show>"


def test_quoted_cuts_a_long_value_and_says_so():
    from chainrule.errors import QUOTE_LIMIT, quoted
    assert quoted("short") == "'short'"
    assert quoted(10**4000) == str(10**4000)[:QUOTE_LIMIT] + "..."
    assert quoted("a" * 10**7) == "'" + "a" * (QUOTE_LIMIT - 1) + "..."
    assert quoted([1, 2], limit=3) == "[1,..."


def test_quoted_names_a_negative_huge_int_as_negative_and_a_container_of_one_by_its_type():
    """-10**5000 was shown as "<an int of 16,610 bits>", as if positive; a list holding 10**5000 raised ValueError."""
    from chainrule.errors import quoted
    assert quoted(-10 ** 5000) == "<a negative int of 16,610 bits>"
    assert quoted(10 ** 5000) == "<an int of 16,610 bits>"
    assert quoted([1, 10 ** 5000]) == f"<list holding an int of more than {sys.get_int_max_str_digits()} digits>"
    assert quoted({"t": -10 ** 5000}, 10) == "<dict hold..."


@pytest.mark.parametrize("error", [ValueError("no repr today"), TypeError("__repr__ returned non-string"),
                                   AttributeError("half built"), RuntimeError()])
def test_quoted_names_a_value_whose_repr_fails_by_its_type_and_the_error(error):
    """The repr's own error was raised in place of the error the value was quoted in (a HyperparameterError
    naming lr became a bare ValueError from the user's class)."""
    from chainrule.errors import quoted

    class Broken:
        def __repr__(self):
            raise error

    assert quoted(Broken()) == f"<Broken whose repr raised {type(error).__name__}>"
    with pytest.raises(cr.HyperparameterError, match=r"^lr: expected a finite real number, got <Broken whose repr "):
        cr.SGD(cr.Linear(2, 1), lr=Broken())


@pytest.mark.parametrize("value", ["x" * 10**7 + "'", "\0" * 10**7, b"\0" * 10**7, bytearray(b"'" * 10**7 + b'"')],
                         ids=["str ending in a quote", "str", "bytes", "bytearray holding both quotes"])
def test_quoted_writes_no_more_of_a_long_str_or_bytes_than_it_shows(value):
    """repr wrote the whole value before it was cut: 40 MB for 10 MB of NUL bytes."""
    import tracemalloc

    from chainrule.errors import quoted
    tracemalloc.start()
    try:
        text = quoted(value)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert text == repr(value)[:60] + "..."  # the whole value's repr, cut: its quote character included
    assert peak < 10_000


class KeysOwnOrder(dict):
    """A dict subclass that keeps dict's repr."""


def moved_to_end(items) -> OrderedDict:
    """An OrderedDict of ``items`` (by index) whose first item was moved to its end: its order is no longer
    that of the dict beneath."""
    value = OrderedDict(enumerate(items))
    value.move_to_end(0)
    return value


CONTAINERS = {
    "list": list, "tuple": tuple, "dict": lambda items: dict(enumerate(items)),
    # their repr wrote every item before the cut, as a list's did
    "set": set, "frozenset": frozenset, "deque": deque, "deque with maxlen": lambda items: deque(items, maxlen=5000),
    "dict subclass": lambda items: KeysOwnOrder(enumerate(items)), "OrderedDict moved to end": moved_to_end,
    "defaultdict": lambda items: defaultdict(list, enumerate(items)),
}


@pytest.mark.parametrize("container", CONTAINERS.values(), ids=CONTAINERS)
@pytest.mark.parametrize("limit", [0, 1, 2, 10, 60])
def test_quoted_writes_no_more_items_of_a_long_container_than_it_can_show(container, limit):
    """repr wrote every item of a list of 10⁷ before it was cut to 60 characters (seconds)."""
    from chainrule.errors import quoted

    written = []

    class Item:
        def __init__(self, index):
            self.index = index

        def __repr__(self):
            written.append(self.index)
            return "ab"[: self.index % 3]  # '', 'a', 'ab': an item may write nothing but its separator

    value = container([Item(index) for index in range(1000)])
    expected = repr(value)[:limit] + "..."
    written.clear()
    assert quoted(value, limit) == expected
    assert len(written) <= limit


@pytest.mark.parametrize("options", [{"threshold": sys.maxsize}, {"edgeitems": 10**6}, {}])
def test_quoted_writes_no_more_items_of_a_large_array_than_numpy_shows_by_default(options):
    """With the print options raised to show every item, repr wrote all 10⁴ items of an array before it was cut."""
    from chainrule.errors import quoted

    written = []

    class Item:
        def __repr__(self):
            written.append(self)
            return "x"

    value = np.empty((10, 1000), dtype=object)
    value[...] = Item()
    with np.printoptions(threshold=1000, edgeitems=3):
        expected = repr(value)[:60] + "..."
    written.clear()
    with np.printoptions(**options):
        assert quoted(value) == expected
    assert 0 < len(written) <= 2 * 36  # the corner items NumPy writes: 3 + 3 of 3 + 3 rows, twice at most
    assert quoted(np.arange(1000.0), 1000) == repr(np.arange(1000.0))[:1000] + "..."  # a small one: written whole


def test_a_distributed_error_says_whether_every_rank_raised_it():
    assert cr.DistributedError("a rank hung").same_on_every_rank is False
    assert cr.DistributedError("ranks differ", same_on_every_rank=True).same_on_every_rank is True
    assert str(cr.DistributedError("ranks differ", same_on_every_rank=True)) == "ranks differ"


@pytest.mark.parametrize("value, options, suggestion", [
    ("Adam", ["sgd", "adam"], "adam"),  # case
    ("leaky-relu", ["relu", "leaky_relu"], "leaky_relu"),  # separator
    ("Leaky-ReLU", ["relu", "leaky_relu"], "leaky_relu"),  # case and separator, too far apart for difflib
    ("relu", ["tanh", "ReLU"], "ReLU"),  # an option's own case
    ("Adam", [None, 2, "sgd", "adam"], "adam"),  # options that are not strings are passed over
    ("RELU", ["relu", "reLu"], "relu"),  # the first option equal but for case
    ("epoch", ["epochs", "seed"], "epochs"),  # close
    ("adma", ["sgd", "adam", "adamw"], "adam"),
])
def test_did_you_mean_names_the_closest_option(value, options, suggestion):
    assert cr.errors.did_you_mean(value, options) == f" (did you mean {suggestion!r}?)"


@pytest.mark.parametrize("value, options", [
    ("xyz", ["sgd", "adam"]),  # nothing close
    ("rex", ["relu", "tanh"]),  # a ratio of 0.57 to "relu", below 0.75
    ("he", ["he_normal", "he_uniform"]),  # too short to be one of them
    (3, ["3", "adam"]),  # only strings are compared
    ("adam", []),
])
def test_did_you_mean_is_empty_when_nothing_is_close(value, options):
    assert cr.errors.did_you_mean(value, options) == ""


@pytest.mark.parametrize("call, message, meant", [
    (lambda: cr.mlp([2, 3, 1], activation="Tanh"), "activation: unknown name 'Tanh'; expected one of relu, ", "tanh"),
    (lambda: cr.mlp([2, 3, 3, 1], activation=["relu", "Sigmoid"]), "activation[1]: unknown name 'Sigmoid'; ",
     "sigmoid"),
    (lambda: cr.get_loss("MSE"), "loss: unknown name 'MSE'; ", "mse"),
    (lambda: cr.get_optimizer("AdamW", cr.mlp([2, 1])), "optimizer: unknown name 'AdamW'; ", "adamw"),
    (lambda: cr.Linear(2, 3, init="He_Normal"), "init: unknown initializer 'He_Normal'; ", "he_normal"),
    (lambda: cr.Linear(2, 3, init="xavier-uniform"), "init: unknown initializer 'xavier-uniform'; ", "xavier_uniform"),
    (lambda: cr.backend.module_for("CPU"), "device: expected one of 'cpu', 'cuda'; got 'CPU'", "cpu"),
    (lambda: cr.checks.choice("Adam", "--optimizer", ("sgd", "adam")), "--optimizer: expected one of 'sgd', 'adam'; ",
     "adam"),
    (lambda: cr.checks.as_float_dtype("Float32"), "dtype: expected one of 'float32', 'float64'; got 'Float32'",
     "float32"),
])
def test_unknown_names_suggest_the_one_meant(call, message, meant):
    with pytest.raises(cr.HyperparameterError) as raised:
        call()
    text = str(raised.value)
    assert text.startswith(message) and text.endswith(f" (did you mean {meant!r}?)"), text
