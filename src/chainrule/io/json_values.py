"""Values that strict JSON holds: a NaN or infinite number becomes null.

``json.dumps`` writes NaN and Infinity as bare words, which JavaScript's parser, jq and a
model file's checks refuse; a diverged metric (a NaN ``val_loss``, an infinite test loss) is
written as null instead, and read back as NaN where a number is expected (``History.from_json``).
"""

from __future__ import annotations

import math


def strict_json(value):
    """``value`` (dicts, lists and numbers, nested) with every NaN or infinite float made None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(item) for item in value]
    return value
