"""Model metadata: the dict ``model.metadata`` that a model file holds, checked to come back as it was.

A model file stores ``model.metadata`` as JSON, which quietly changes some Python values:
a key that is not a string becomes one (1 as '1', None as 'null', so ``{1: a, "1": b}``
loses a value), and a tuple becomes a list. :func:`check_metadata` refuses those, naming the
key path (``metadata['runs'][0]``), by the walk (:func:`json_problem`) that also checks the
``extra_json`` saved beside a model (``model_file.save``) and a callback's checkpoint state
(``chainrule.training.checkpoint``). NumPy numbers and arrays are taken: they are written as
the numbers and lists they hold (``model_file._plain``), which their dtype alone does not
survive. Values JSON cannot hold at all (NaN, a date) are left to the JSON encoder.

Dicts and lists may nest ``MAX_NESTING`` deep (the metadata itself is the first level), in the
metadata and in ``extra_json`` alike, when saved and when read (``model_file._check_fields``: a
file nesting deeper would load and then not save again): far beyond any record of a run, and
well within what the JSON encoder and decoder take before Python's recursion limit. The limit is chainrule's own, so
that what is refused does not depend on the interpreter (Python 3.13's encoder writes an
``extra_json`` nested 2000 deep, which 3.12's refused with a RecursionError).
"""

from __future__ import annotations

import math

from ..errors import ModelFileError, quoted

MAX_NESTING = 100


def check_metadata(metadata) -> None:
    """ModelFileError naming the key path unless ``metadata`` is a dict holding string keys only,
    no tuple, and dicts and lists nested at most ``MAX_NESTING`` deep."""
    if not isinstance(metadata, dict):
        raise ModelFileError(f"metadata: expected a dict of JSON values by string key, got "
                             f"{type(metadata).__name__} {quoted(metadata, 60)}")
    problem = json_problem(metadata, "metadata", max_nesting=MAX_NESTING)
    if problem is not None:
        raise ModelFileError(problem)


def json_problem(value, where: str, *, plain_values: bool = False, max_nesting: int | None = None,
                 level: int = 1, field: str | None = None) -> str | None:
    """Why ``value``, a dict, list or other value at nesting ``level`` named ``where``, would not
    come back from JSON as it is, led by its key path (``metadata['a'][1] has the key 1 ...``);
    None when it would. A key that is not a string, a tuple, and dicts and lists nested deeper
    than ``max_nesting`` (None: any depth) are problems everywhere; with ``plain_values`` also a
    float that is not finite and any value but str, int, float, bool and None (a callback's
    checkpoint state, which takes no NumPy number either: ``chainrule.training.checkpoint``).
    ``field`` names what may nest ``max_nesting`` deep in that message (default: ``where`` up to its
    key path, ``metadata``)."""
    if isinstance(value, (dict, list)) and max_nesting is not None and level > max_nesting:
        shown = where if len(where) <= 80 else where[:80] + "..."
        field = where.split("[")[0] if field is None else field
        return (f"{shown}: dicts and lists nested more than {max_nesting} deep; {field} may nest them "
                f"{max_nesting} deep at most")
    if not plain_values and isinstance(value, list) and not any(
            issubclass(kind, (dict, list, tuple)) for kind in set(map(type, value))):
        return None  # numbers and strings alone (a History's lists, read with every checkpoint): no item to walk
    if isinstance(value, (dict, list)):
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            if isinstance(value, dict) and not isinstance(key, str):
                return (f"{where} has the key {quoted(key, 60)} ({type(key).__name__}), which JSON would give "
                        f"back as a string (1 as '1'); use string keys")
            if not plain_values and not isinstance(item, (dict, list, tuple)):
                continue  # a scalar: a problem with plain_values alone
            inner = f"{where}[{quoted(key, 60)}]" if isinstance(value, dict) else f"{where}[{key}]"
            problem = json_problem(item, inner, plain_values=plain_values, max_nesting=max_nesting, level=level + 1,
                                   field=field)
            if problem is not None:
                return problem
        return None
    if isinstance(value, tuple):
        return f"{where} is a tuple, which JSON would give back as a list; use a list"
    if not plain_values:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return (f"{where} is {value!r}, which JSON cannot hold; save a finite number, or None for none yet (as "
                f"EarlyStopping saves its best)")
    if not (value is None or isinstance(value, (str, int, float))):  # bool is an int
        return (f"{where} is a {type(value).__name__}, not a JSON value (dict, list, str, int, float, bool or "
                f"None); convert a NumPy number with float() or int(), and return arrays as the second item of "
                f"state_dict(), declared in checkpoint_arrays(model)")
    return None
