"""Setting an attribute an optimizer does not have: refused once it is made, named with the right one."""

import copy
import inspect

import numpy as np
import pytest

import chainrule as cr
from tests.harness import tiny_model

TAKES = {
    cr.SGD: "model, lr, momentum, nesterov, weight_decay, schedule, t, missed, state",
    cr.Adam: "model, lr, beta1, beta2, eps, weight_decay, schedule, eps_added_to, t, missed, state",
    cr.AdamW: "model, lr, beta1, beta2, eps, weight_decay, schedule, eps_added_to, t, missed, state",
    cr.RMSProp: "model, lr, rho, eps, weight_decay, schedule, t, missed, state",
}

# (optimizer type, the name set, the name suggested): other libraries' names and typos
WRONG_NAMES = [
    (cr.Adam, "learning_rate", "lr"),  # Keras
    (cr.SGD, "learning_rate_init", "lr"),  # scikit-learn
    (cr.Adam, "beta_1", "beta1"),
    (cr.AdamW, "beta_2", "beta2"),
    (cr.Adam, "epsilon", "eps"),
    (cr.RMSProp, "epsilon", "eps"),
    (cr.RMSProp, "alpha", "rho"),  # PyTorch's RMSprop
    (cr.SGD, "alpha", "weight_decay"),  # scikit-learn's L2 penalty
    (cr.SGD, "nesterovs_momentum", "nesterov"),
    (cr.Adam, "iterations", "t"),  # Keras's step count
    (cr.Adam, "weight_decy", "weight_decay"),
    (cr.SGD, "momentun", "momentum"),
    (cr.RMSProp, "Rho", "rho"),
]


@pytest.mark.parametrize("kind, name, meant", WRONG_NAMES)
def test_a_wrong_name_is_refused_with_the_right_one_and_changes_nothing(kind, name, meant):
    optimizer = kind(tiny_model())
    before = repr(optimizer)
    with pytest.raises(cr.HyperparameterError, match=(
            rf"^{name}: {kind.__name__} has no attribute '{name}' to set \(did you mean '{meant}'\?\); "
            rf"it takes {TAKES[kind]}\. A subclass of Optimizer adds attributes of its own in its __init__$")):
        setattr(optimizer, name, 0.5)
    assert not hasattr(optimizer, name)
    assert repr(optimizer) == before


def test_a_name_close_to_none_is_refused_without_a_suggestion():
    with pytest.raises(cr.HyperparameterError, match=r"^clipnorm: SGD has no attribute 'clipnorm' to set; it takes "):
        cr.SGD(tiny_model()).clipnorm = 1.0


@pytest.mark.parametrize("kind", list(TAKES))
def test_every_name_it_takes_can_be_set_and_private_names_too(kind):
    optimizer = kind(tiny_model(), lr=0.1)
    for name in TAKES[kind].split(", "):
        setattr(optimizer, name, getattr(optimizer, name))
    optimizer.t = 3
    optimizer._note = "a private attribute"  # a leading underscore: always taken
    optimizer.step = lambda **options: True  # a method, replaced on the instance (a test's stub)
    assert optimizer.step() and optimizer.t == 3 and optimizer._note == "a private attribute"


class Clipped(cr.SGD):
    """A user's optimizer: attributes of its own, set in its __init__ and in a helper it calls."""

    def __init__(self, model, clip=1.0, **options):
        super().__init__(model, **options)
        self.clip = clip
        self.set_up()

    def set_up(self):
        self.clipped_steps = 0


class Plain(cr.Optimizer):
    """A user's optimizer without an __init__ of its own."""

    def rule(self, theta, grad, lr, vectors):
        return lr, grad


def test_a_subclass_sets_its_own_attributes_in_its_init_and_later_only_those():
    optimizer = Clipped(tiny_model(), clip=2.0, lr=0.1, momentum=0.9)
    assert (optimizer.clip, optimizer.clipped_steps, optimizer.momentum) == (2.0, 0, 0.9)
    optimizer.clip = 3.0
    optimizer.clipped_steps += 1
    assert (optimizer.clip, optimizer.clipped_steps) == (3.0, 1)
    with pytest.raises(cr.HyperparameterError, match=r"^clips: Clipped has no attribute 'clips' to set "
                                                     r"\(did you mean 'clip'\?\); it takes model, clip, lr, "):
        optimizer.clips = 1.0
    plain = Plain(tiny_model(), lr=0.1)
    plain.lr = 0.2
    with pytest.raises(cr.HyperparameterError, match=r"^momentum: Plain has no attribute 'momentum' to set; it "
                                                     r"takes model, lr, weight_decay, schedule, t, missed, state\."):
        plain.momentum = 0.9


def test_an_init_that_fails_leaves_no_opening_for_new_names():
    with pytest.raises(cr.HyperparameterError, match="^lr: "):
        Clipped(tiny_model(), lr=-1.0)
    optimizer = Clipped(tiny_model())
    optimizer.__init__(tiny_model(), clip=5.0)  # made again: its __init__ sets what it sets
    assert optimizer.clip == 5.0
    with pytest.raises(cr.HyperparameterError, match="^extra: Clipped has no attribute"):
        optimizer.extra = 1


def test_a_copy_refuses_new_names_as_the_original_does():
    optimizer = copy.deepcopy(Clipped(tiny_model(), lr=0.1))
    optimizer.clip = 0.5
    with pytest.raises(cr.HyperparameterError, match="^learning_rate: Clipped has no attribute"):
        optimizer.learning_rate = 0.5


@pytest.mark.parametrize("kind, arguments", [
    (cr.SGD, ["model", "lr", "momentum", "nesterov", "weight_decay", "schedule"]),
    (cr.Adam, ["model", "lr", "beta1", "beta2", "eps", "weight_decay", "schedule", "eps_added_to"]),
    (Clipped, ["model", "clip", "options"]),
    (Plain, ["model", "lr", "weight_decay", "schedule"]),
])
def test_the_constructor_keeps_its_signature(kind, arguments):
    # read by get_optimizer's keyword check and by the distributed run's fingerprint
    assert list(inspect.signature(kind).parameters) == arguments


@pytest.mark.parametrize("make", [lambda m: cr.SGD(m, lr=0.1, momentum=0.9), lambda m: cr.Adam(m, lr=0.1)])
def test_a_step_assigns_no_attribute_through_the_check(make, monkeypatch):
    """The step advances t without __setattr__, whose check would cost it a call."""
    optimizer = make(tiny_model())
    assigned = []
    check = cr.Optimizer.__setattr__
    monkeypatch.setattr(cr.Optimizer, "__setattr__", lambda self, name, value: assigned.append(name) or
                        check(self, name, value))
    optimizer.model.flat_parameters().grad[...] = 0.5
    for _ in range(3):
        assert optimizer.step(check_finite=True)
    assert optimizer.t == 3 and assigned == []
    np.testing.assert_array_less(optimizer.model.flat_parameters().theta, [0.5, -1.0, 0.25])


@pytest.mark.parametrize("name, value, message", [
    ("t", -3, r"^t: expected the number of steps taken, an integer >= 0, got -3$"),  # a math domain error in fit
    ("t", 2.5, r"^t: expected the number of steps taken, an integer >= 0, got 2.5$"),  # trained silently
    ("t", True, r"^t: expected the number of steps taken"),
    ("schedule", "cosine", r"^schedule: expected a callable of the step count, got 'cosine'$"),  # 'str' not callable
])
def test_the_step_count_and_the_schedule_are_checked_when_set(name, value, message):
    optimizer = cr.Adam(tiny_model())
    with pytest.raises(cr.HyperparameterError, match=message):
        setattr(optimizer, name, value)
    assert optimizer.t == 0 and optimizer.schedule is None
    optimizer.t, optimizer.schedule = np.int64(4), cr.StepDecay(2)
    assert type(optimizer.t) is int and optimizer.t == 4


def test_a_huge_negative_step_count_is_named_in_the_message():
    """Its repr raised ValueError inside the message that refused it."""
    with pytest.raises(cr.HyperparameterError, match=r"^t: expected .*, got <a negative int of 16,610 bits>$"):
        cr.Adam(tiny_model()).t = -10 ** 5000


@pytest.mark.parametrize("schedule, name", [
    (cr.CosineDecay(10), "total_steps"),  # 0 divided by zero inside fit
    (cr.StepDecay(10), "step_sise"),  # a typo, ignored
    (cr.LinearWarmup(5, then=cr.ExponentialDecay(0.9)), "then"),
    (cr.ExponentialDecay(0.9), "gamma"),
])
def test_a_schedule_is_not_changed_once_made(schedule, name):
    before = repr(schedule)
    message = rf"^{name}: a schedule is not changed once made; make a new {type(schedule).__name__}$"
    with pytest.raises(cr.HyperparameterError, match=message):
        setattr(schedule, name, 0)
    assert repr(schedule) == before
    assert repr(copy.deepcopy(schedule)) == before


def test_a_schedule_of_ones_own_sets_its_attributes_while_it_is_made():
    class FlooredStep(cr.StepDecay):
        def __init__(self, step_size, floor):
            super().__init__(step_size)
            self.floor = floor  # after the base class's __init__: it was refused

        def __call__(self, t):
            return max(super().__call__(t), self.floor)

    schedule = FlooredStep(2, floor=0.05)
    assert schedule(100) == 0.05
    with pytest.raises(cr.HyperparameterError, match=r"^floor: a schedule is not changed once made; make a new "
                                                     r"FlooredStep$"):
        schedule.floor = 0.5


def test_a_dataclass_schedule_of_ones_own_can_be_made():
    # @dataclass adds its __init__ after the class is made, unwrapped: it was refused its own fields
    import dataclasses

    @dataclasses.dataclass
    class Floored(cr.ExponentialDecay):
        gamma: float = 0.5
        floor: float = 0.1

        def __call__(self, t):
            return max(self.gamma ** t, self.floor)

    assert Floored()(10) == 0.1
