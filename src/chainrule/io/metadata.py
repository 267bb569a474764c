"""Model metadata: the dict ``model.metadata`` that a model file holds, checked to come back as it was.

A model file stores ``model.metadata`` as JSON, which quietly changes some Python values:
a key that is not a string becomes one (1 as '1', None as 'null', so ``{1: a, "1": b}``
loses a value), and a tuple becomes a list. :func:`check_metadata` refuses those, naming the
key path (``metadata['runs'][0]``), as a callback's checkpoint state is refused
(``chainrule.training.checkpoint``). NumPy numbers and arrays are taken: they are written as
the numbers and lists they hold (``model_file._plain``), which their dtype alone does not
survive. Values JSON cannot hold at all (NaN, a date) are left to the JSON encoder.
"""

from __future__ import annotations

from ..errors import ModelFileError, quoted


def check_metadata(metadata: dict) -> None:
    """ModelFileError naming the key path unless ``metadata`` holds string keys only and no tuple,
    at any depth."""
    _check_value(metadata, "metadata")


def _check_value(value, where: str) -> None:
    """ModelFileError naming ``where`` for a key that is not a string or a tuple in ``value``, nested."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ModelFileError(f"{where} has the key {quoted(key, 60)} ({type(key).__name__}), which JSON "
                                     f"would give back as a string (1 as '1'); use string keys")
            _check_value(item, f"{where}[{key!r:.60}]")
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _check_value(item, f"{where}[{position}]")
    elif isinstance(value, tuple):
        raise ModelFileError(f"{where} is a tuple, which JSON would give back as a list; use a list")
