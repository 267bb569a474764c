"""The types of the options that take a number (``--epochs``, ``--lr``, ``--samples``, ...).

argparse's own refusal of a value that is no number named its type in Python's words: ``chainrule
train: argument --epochs: invalid int value: '1.5'``. Each such option's type here says what the
option expects, in the words of the check that refuses a number out of its range
(:mod:`chainrule.checks`, ``--epochs 0``: ``--epochs: expected an integer >= 1, got 0``), so that
either refusal reads alike: ``--epochs: expected an integer >= 1, got '1.5'``. The parser
(:class:`chainrule.cli.main._Parser`) writes the line, since it knows the option's name. An option whose
range is known only once something is imported (``--opset``: up to the newest opset of the installed onnx)
gives a function that says it, called only for the refusal.

NaN and infinity (``nan``, ``inf``, ``-Infinity``, ``1e999``, which Python's ``float`` reads) are refused by
every option taking a real number in one wording, before its range is checked: ``--lr: expected a finite number,
got nan`` (the words of a config file's refusal, ``key 'lr': expected a finite number, got nan``). They were
refused in three: ``a finite number`` (``--lr``, ``--test-size``: the config's check), ``a finite real number``
(``--tolerance``, ``--distributed-timeout``: :func:`chainrule.checks.real`) and ``--eps``'s range.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..checks import SEED_RANGE

#: What an option taking a real number says of NaN or infinity, as a config file's key does
FINITE = "a finite number"


class NotFinite(ValueError):
    """A real number option was given NaN or infinity; ``value`` is the float it was read as."""

    def __init__(self, value: float):
        super().__init__(f"expected {FINITE}, got {value}")
        self.value = value


@dataclass(frozen=True)
class Number:
    """An option's type: ``convert`` (int or float) of the text given; ``expected`` says what the option
    takes ("an integer >= 1"), as its range check does, or is a function that returns it."""

    convert: type
    expected: str | Callable[[], str]

    def __call__(self, text: str):
        """``convert(text)``: ValueError for text that is no such number, NotFinite for NaN or infinity."""
        value = self.convert(text)
        if self.convert is float and not math.isfinite(value):
            raise NotFinite(value)
        return value

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
