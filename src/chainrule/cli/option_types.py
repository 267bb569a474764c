"""The types of the options that take a number (``--epochs``, ``--lr``, ``--samples``, ...).

argparse's own refusal of a value that is no number named its type in Python's words: ``chainrule
train: argument --epochs: invalid int value: '1.5'``. Each such option's type here says what the
option expects, in the words of the check that refuses a number out of its range
(:mod:`chainrule.checks`, ``--epochs 0``: ``--epochs: expected an integer >= 1, got 0``), so that
either refusal reads alike: ``--epochs: expected an integer >= 1, got '1.5'``. The parser
(:class:`chainrule.cli.main._Parser`) writes the line, since it knows the option's name. An option whose
range is known only once something is imported (``--opset``: up to the newest opset of the installed onnx)
gives a function that says it, called only for the refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..checks import SEED_RANGE


@dataclass(frozen=True)
class Number:
    """An option's type: ``convert`` (int or float) of the text given; ``expected`` says what the option
    takes ("an integer >= 1"), as its range check does, or is a function that returns it."""

    convert: type
    expected: str | Callable[[], str]

    def __call__(self, text: str):
        return self.convert(text)

    def expectation(self) -> str:
        """What the option takes, in words: ``expected``, or what it returns."""
        return self.expected() if callable(self.expected) else self.expected


def integer(expected: str | Callable[[], str]) -> Number:
    """The type of an option taking an integer; ``expected`` as "an integer >= 1"."""
    return Number(int, expected)


def number(expected: str) -> Number:
    """The type of an option taking a real number; ``expected`` as "a number > 0"."""
    return Number(float, expected)


#: The types of the options that several commands share: ``--seed``, ``--test-size`` (train, gradcheck,
#: evaluate, predict) and ``--epochs``-like counts
SEED = integer(f"an integer from {SEED_RANGE}")
TEST_SIZE = number("a fraction in (0, 1)")
COUNT = integer("an integer >= 1")
