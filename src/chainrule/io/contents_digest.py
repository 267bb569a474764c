"""The SHA-256 a checkpoint records of its own contents, so that a changed one is refused.

A checkpoint's numbers decide how the resumed run goes on: the optimizer's step count ``t``
(Adam's bias correction), the shuffling Generator's state, the History, the moments and the
weights. One changed by hand (an edited number, two tensors of one shape swapped) or damaged
would still pass every check of its fields and resume another run than the one saved,
silently. :func:`chainrule.io.save` with ``seal=True`` records this digest as the document's
``sha256`` field, and :func:`chainrule.io.read` recomputes it and refuses a file whose contents
differ. It guards against accidents, not against someone who recomputes it.

The digest covers the chainrule JSON document as JSON reads it back (the ``sha256`` field left
out, keys sorted, so the layout of the text does not matter) and every tensor, sorted by name:
its name, dtype, shape and little-endian bytes; docs/design.md ("The checkpoint's digest") specifies
it byte for byte, for another implementation to reproduce.
"""

from __future__ import annotations

import hashlib
import json

import numpy

FIELD = "sha256"  # the document's field holding the digest


def contents_digest(document: dict, tensors: dict[str, numpy.ndarray]) -> str:
    """The SHA-256, in hexadecimal, of ``document`` (without its ``sha256`` field) and ``tensors``."""
    digest = hashlib.sha256()
    fields = {key: value for key, value in document.items() if key != FIELD}
    digest.update(json.dumps(fields, sort_keys=True, separators=(",", ":"), allow_nan=False).encode())
    for name in sorted(tensors):
        array = numpy.asarray(tensors[name])
        # C order, little-endian, as the file holds it (not ascontiguousarray, which makes a 0-d array 1-d)
        array = numpy.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")
        digest.update(json.dumps([name, array.dtype.name, list(array.shape)]).encode())
        digest.update(array)  # its bytes where they are: tobytes() would copy each tensor (Adam's m, v) whole
    return digest.hexdigest()


def is_digest(value) -> bool:
    """Whether ``value`` is a SHA-256 as :func:`contents_digest` writes it: 64 lowercase hex digits."""
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
