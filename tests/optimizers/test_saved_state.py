"""The checks of a saved optimizer state, before load_state_dict restores anything (optimizers/saved_state.py)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.optimizers.saved_state import MAX_STEP_COUNT, checked_missed, checked_saved_state
from tests.harness import TINY_GRADS, tiny_model, write_grads
from tests.optimizers.test_optimizer import OPTIMIZERS, two_layers


def test_load_state_dict_of_the_wrong_shape():
    optimizer = cr.Adam(tiny_model(), lr=0.1)
    with pytest.raises(cr.ShapeError, match=r"Adam: saved state 'm': expected shape \(3,\), got \(5,\)"):
        optimizer.load_state_dict({"t": 1, "state": {"m": np.zeros(5), "v": np.zeros(5)}})


def bad_states(n):
    """(saved, error, message) that load_state_dict refuses; n is the state's length."""
    good = {"m": np.ones(n), "v": np.ones(n)}
    return [
        ({}, cr.HyperparameterError, "Adam: expected a state dict"),
        (None, cr.HyperparameterError, "Adam: expected a state dict"),
        ({"t": 1, "state": [1, 2]}, cr.HyperparameterError, "Adam: expected a state dict"),
        ({"t": 1, "state": {"v": np.ones(n)}}, cr.HyperparameterError, r"saved state holds \['v'\], but Adam keeps \['m', 'v'\]"),
        ({"t": 1, "state": {**good, "velocity": np.ones(n)}}, cr.HyperparameterError, "another optimizer type"),
        ({"t": 1, "state": {**good, "v": np.ones(n + 1)}}, cr.ShapeError, "saved state 'v': expected shape"),
        ({"t": 1, "state": {**good, "v": -np.ones(n)}}, cr.HyperparameterError, "'v': a second moment cannot be negative"),
        ({"t": 1, "state": {**good, "m": np.full(n, np.nan)}}, cr.NonFiniteError, "saved state 'm'"),
        ({"t": 1, "state": {**good, "m": np.full(n, np.inf)}}, cr.NonFiniteError, "saved state 'm'"),
        ({"t": 1, "state": {**good, "m": np.array(["a"] * n)}}, cr.DTypeError, "'m': expected real numbers"),
        ({"t": 1, "state": {**good, "m": [[1.0], [1.0, 2.0]]}}, cr.ShapeError, "'m': expected an array of shape"),
    ]


@pytest.mark.parametrize("index", range(11))
def test_load_state_dict_refuses_bad_state_by_name_and_restores_nothing(index):
    """It used to take NaN or negative second moments (the next step made θ NaN), and to write
    the state's first arrays before finding a bad one."""
    model = tiny_model()
    optimizer = cr.Adam(model, lr=0.1)
    n = optimizer.state["m"].size
    saved, error, message = bad_states(n)[index]
    with pytest.raises(error, match=message):
        optimizer.load_state_dict(saved)
    assert optimizer.t == 0 and not optimizer.state["m"].any() and not optimizer.state["v"].any()


def test_another_optimizers_state_is_refused():
    model = tiny_model()
    with pytest.raises(cr.HyperparameterError, match="RMSProp keeps \\['v'\\]"):
        cr.RMSProp(model, lr=0.1).load_state_dict(cr.Adam(model, lr=0.1).state_dict())
    with pytest.raises(cr.HyperparameterError, match="SGD keeps \\[\\]"):
        cr.SGD(model, lr=0.1).load_state_dict(cr.Adam(model, lr=0.1).state_dict())


@pytest.mark.parametrize("t", [-1, 2**53 + 1, 10**400, 1.5, "3", True, None])
def test_load_state_dict_refuses_a_step_count_out_of_range(t):
    """t used to be taken as int(t) whatever it was: 10**400 overflowed Adam's beta ** t at the next step."""
    optimizer = cr.Adam(tiny_model(), lr=0.1)
    saved = optimizer.state_dict()
    saved["state"]["m"][...] = 1.0
    with pytest.raises(cr.HyperparameterError, match=r"Adam: saved step count t: expected an integer in \[0, 9007199254740992\]"):
        optimizer.load_state_dict({**saved, "t": t})
    assert optimizer.t == 0 and not optimizer.state["m"].any()  # nothing restored
    optimizer.load_state_dict({**saved, "t": 2**53})
    assert optimizer.t == 2**53


def test_missed_counts_are_looked_up_among_the_names_once_each():
    """Each key was searched for along the list of names: 14 s for 25,000 keys among 50,000 names."""
    comparisons = []

    class Name(str):
        __hash__ = str.__hash__

        def __eq__(self, other):
            comparisons.append(other)
            return str.__eq__(self, other)

    names = [Name(f"{index}.W") for index in range(1000)]
    assert checked_missed("Adam", {name: 1 for name in names[::-1]}, 3, names) == {name: 1 for name in names}
    assert len(comparisons) <= 2 * len(names)


def test_a_saved_state_with_keys_of_several_types_is_named():
    """sorted() of its keys, a str and an int, raised a bare TypeError."""
    optimizer = cr.Adam(tiny_model(), lr=0.1)
    saved = optimizer.state_dict()
    with pytest.raises(cr.HyperparameterError, match=r"saved state holds \['m', 'v', 1\], but Adam keeps \['m', 'v'\]"):
        optimizer.load_state_dict({**saved, "state": {**saved["state"], 1: np.zeros(3)}})


def test_a_huge_step_count_or_missed_count_is_named_in_the_message():
    """Their repr raised ValueError inside the f"{t!r:.60}" that was to cut them."""
    optimizer = cr.Adam(tiny_model(), lr=0.1)
    with pytest.raises(cr.HyperparameterError, match=r"saved step count t: .*, got <an int of 16,610 bits>$"):
        optimizer.load_state_dict({**optimizer.state_dict(), "t": 10 ** 5000})
    with pytest.raises(cr.HyperparameterError, match=r"\(steps missed while frozen\), got <an int of 16,610 bits>$"):
        checked_missed("Adam", {"0.W": 10 ** 5000}, 3, ["0.W", "0.b"])
    with pytest.raises(cr.HyperparameterError, match=r"saved missed: '" + "x" * 59 + r"\.\.\. is not a parameter"):
        checked_missed("Adam", {"x" * 100_000: 1}, 3, ["0.W", "0.b"])


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_a_step_at_the_largest_resumable_step_count_is_finite(kind):
    """Checkpoint and estimator loaders accept t up to MAX_STEP_COUNT: a step from there must work."""
    model = tiny_model()
    optimizer = kind(model, lr=0.1)
    optimizer.t = MAX_STEP_COUNT
    write_grads(model, *TINY_GRADS[0])
    assert optimizer.step(check_finite=True)
    assert np.isfinite(model.flat_parameters().theta).all()


def test_a_state_saved_without_missed_counts_took_every_step():
    optimizer = cr.Adam(two_layers(), lr=0.1)
    optimizer.missed = {"0.W": 1}
    saved = optimizer.state_dict()
    del saved["missed"]
    optimizer.load_state_dict({**saved, "t": 2})
    assert optimizer.missed == {}


@pytest.mark.parametrize("missed, message", [
    ([3], r"saved missed: expected a dict \{parameter name: steps missed while frozen\}, got \[3\]"),
    ({"9.W": 1}, r"saved missed: '9.W' is not a parameter of the model, whose parameters are '0.W', '0.b', "),
    ({"0.W": 4}, r"saved missed\['0.W'\]: expected an integer in \[0, t=3\] \(steps missed while frozen\), got 4"),
    ({"0.W": -1}, r"saved missed\['0.W'\]: expected an integer in \[0, t=3\]"),
    ({"0.W": 1.0}, r"saved missed\['0.W'\]: expected an integer in \[0, t=3\]"),
    ({"0.W": True}, r"saved missed\['0.W'\]: expected an integer in \[0, t=3\]"),
])
def test_load_state_dict_refuses_missed_counts_by_name_and_restores_nothing(missed, message):
    optimizer = cr.Adam(two_layers(), lr=0.1)
    saved = optimizer.state_dict()
    saved["state"]["m"][...] = 1.0
    with pytest.raises(cr.HyperparameterError, match=f"Adam: {message}"):
        optimizer.load_state_dict({**saved, "t": 3, "missed": missed})
    assert optimizer.t == 0 and optimizer.missed == {} and not optimizer.state["m"].any()
    optimizer.load_state_dict({**saved, "t": 3, "missed": {"0.W": 3, "0.b": 0}})
    assert optimizer.missed == {"0.W": 3}  # zero counts are not kept


def test_checked_saved_state_returns_the_step_count_and_numpy_arrays_without_zero_missed_counts():
    optimizer = cr.Adam(two_layers(), lr=0.1)
    n = optimizer.state["m"].size
    saved = {"t": np.int64(4), "state": {"m": [0.5] * n, "v": np.ones(n, np.float32)},
             "missed": {"0.W": np.int64(2), "2.b": 0}}
    t, state, missed = checked_saved_state("Adam", saved, optimizer.state, list(optimizer.model.params))
    assert type(t) is int and t == 4
    assert sorted(state) == ["m", "v"] and all(type(array) is np.ndarray for array in state.values())
    np.testing.assert_array_equal(state["m"], np.full(n, 0.5))
    assert missed == {"0.W": 2} and type(missed["0.W"]) is int
    assert optimizer.t == 0 and not optimizer.state["m"].any()  # checking restores nothing


def test_checked_missed_keeps_the_counts_in_zero_to_t_of_the_named_parameters():
    names = ["0.W", "0.b"]
    assert checked_missed("RMSProp", {"0.W": 0, "0.b": 5}, 5, names) == {"0.b": 5}
    assert checked_missed("RMSProp", {}, 0, names) == {}
    with pytest.raises(cr.HyperparameterError, match=r"^RMSProp: saved missed\['0.b'\]: expected an integer in "
                                                     r"\[0, t=5\]"):
        checked_missed("RMSProp", {"0.b": 6}, 5, names)
    with pytest.raises(cr.HyperparameterError, match=r"^RMSProp: saved missed: '1.W' is not a parameter"):
        checked_missed("RMSProp", {"1.W": 1}, 5, names)

