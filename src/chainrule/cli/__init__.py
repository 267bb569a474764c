"""The ``chainrule`` command line: train, evaluate, predict, gradcheck, info, export."""

from .main import entry_point, main

__all__ = ["entry_point", "main"]
