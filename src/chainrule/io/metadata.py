"""Model metadata: the dict ``model.metadata`` that a model file holds, checked to come back as it was.

A model file stores ``model.metadata`` as JSON, which quietly changes some Python values:
a key that is not a string becomes one (1 as '1', None as 'null', so ``{1: a, "1": b}``
loses a value), and a tuple becomes a list. :func:`check_metadata` refuses those, naming the
key path (``metadata['runs'][0]``), as a callback's checkpoint state is refused
(``chainrule.training.checkpoint``). NumPy numbers and arrays are taken: they are written as
the numbers and lists they hold (``model_file._plain``), which their dtype alone does not
survive. Values JSON cannot hold at all (NaN, a date) are left to the JSON encoder.

Dicts and lists may nest ``MAX_NESTING`` deep (the metadata itself is the first level): far
beyond any record of a run, and well within what the JSON encoder and decoder take before
Python's recursion limit.
"""

from __future__ import annotations

from ..errors import ModelFileError, quoted

MAX_NESTING = 100


def check_metadata(metadata) -> None:
    """ModelFileError naming the key path unless ``metadata`` is a dict holding string keys only,
    no tuple, and dicts and lists nested at most ``MAX_NESTING`` deep."""
    if not isinstance(metadata, dict):
        raise ModelFileError(f"metadata: expected a dict of JSON values by string key, got "
                             f"{type(metadata).__name__} {quoted(metadata, 60)}")
    _check_value(metadata, "metadata", 1)


def _check_value(value, where: str, level: int) -> None:
    """ModelFileError naming ``where`` for a key that is not a string, a tuple, or a dict or list
    deeper than ``MAX_NESTING`` in ``value``, a dict or list at nesting ``level``, or below it."""
    if isinstance(value, (dict, list)) and level > MAX_NESTING:
        shown = where if len(where) <= 80 else where[:80] + "..."
        raise ModelFileError(f"{shown}: dicts and lists nested more than {MAX_NESTING} deep; model metadata "
                             f"may nest them {MAX_NESTING} deep at most")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ModelFileError(f"{where} has the key {quoted(key, 60)} ({type(key).__name__}), which JSON "
                                     f"would give back as a string (1 as '1'); use string keys")
            _check_value(item, f"{where}[{key!r:.60}]", level + 1)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _check_value(item, f"{where}[{position}]", level + 1)
    elif isinstance(value, tuple):
        raise ModelFileError(f"{where} is a tuple, which JSON would give back as a list; use a list")
