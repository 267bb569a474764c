"""Which chainrule release wrote a model file, and what a difference of releases means.

A model file records the release that wrote it (``metadata.chainrule_version``); whether it
can be read at all is decided by its ``format_version`` alone (see ``chainrule.io.model_file``).
The release is informational: a refusal of the file's contents that a newer release may
explain (an unknown field, dtype, layer type or preprocessing value) names it, and a file from
a newer release that loads gives a :class:`ModelFileWarning`, as scikit-learn's
``InconsistentVersionWarning`` does. Releases are compared by their leading numbers ("0.10.2"
is after "0.9.1"; "1.0.0rc1" counts as "1.0.0"); a version without them, or with a number of
more than ``MAX_DIGITS`` digits (no release's, and one of over 4,300 digits is more than Python
converts to an int), is not a version number and never newer. A missing or unparsable release is
not an error.
"""

from __future__ import annotations

import re
import warnings

from .. import __version__
from ..errors import ModelFileWarning, quoted

MAX_DIGITS = 18  # of one release number, as the weights-file reader takes its format version


def chainrule_version(metadata: dict) -> str | None:
    """The chainrule release that wrote a model file (its ``metadata.chainrule_version``), or
    None when the file records none as a string."""
    version = metadata.get("chainrule_version") if isinstance(metadata, dict) else None
    return version if isinstance(version, str) else None


def release(version: str) -> tuple[int, ...] | None:
    """The leading release numbers of ``version`` ("0.10.2" -> (0, 10, 2), "1.0.0rc1" -> (1,)),
    trailing zeros dropped so that "1.0" equals "1.0.0"; None when it does not start with a number,
    or when one of its leading numbers has more than ``MAX_DIGITS`` digits.

    >>> release("0.10.2"), release("1.0.0rc1"), release("v1"), release("9" * 19)
    ((0, 10, 2), (1,), None, None)
    """
    match = re.match(r"\d+(\.\d+)*", version.strip())
    if match is None:
        return None
    parts = match.group().split(".")
    if any(len(part) > MAX_DIGITS for part in parts):
        return None
    numbers = [int(part) for part in parts]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def is_newer(version: str) -> bool:
    """Whether ``version`` is a later release than this chainrule's; False for one without
    release numbers (nothing can be said of it)."""
    theirs, ours = release(version), release(__version__)
    return theirs is not None and ours is not None and theirs > ours


def version_note(metadata: dict) -> str:
    """For a refusal that a release difference may explain, the end of its message: which chainrule
    wrote the file (``metadata`` is the file's, or a model's), when not this one
    (" (the file was written by chainrule '0.3.0'; ...)"); "" when it is this one or unrecorded."""
    version = chainrule_version(metadata)
    if version is None or version == __version__:
        return ""
    advice = ": upgrade chainrule to read it" if is_newer(version) else ""
    return f" (the file was written by chainrule {quoted(version)}; this is chainrule {__version__}{advice})"


def warn_if_newer(document: dict, path) -> None:
    """A ModelFileWarning when the file that loaded was written by a newer chainrule release."""
    version = chainrule_version(document["metadata"])
    if version is not None and is_newer(version):
        warnings.warn(
            f"{path}: written by chainrule {quoted(version)}, newer than this chainrule ({__version__}); it loads, "
            f"as its format is one this chainrule reads, but the model may not behave as it "
            f"did under {quoted(version)}: upgrade chainrule to use it as it was saved",
            ModelFileWarning, stacklevel=4,  # warn_if_newer, _read, load or read, their caller
        )
