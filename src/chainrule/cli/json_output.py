"""JSON that strict parsers read: a NaN or infinite number is written as null.

``json.dumps`` writes NaN and Infinity as bare words, which JavaScript's parser and jq
refuse; a diverged metric or an infinite gradient-check error is null instead. Every
``--json`` output and metrics.json is written through :func:`json_text`.
"""

from __future__ import annotations

import json
import math


def strict_json(value):
    """``value`` (dicts, lists and numbers, nested) with every NaN or infinite float made None.

    JSON has no NaN or Infinity: ``json.dumps`` would write them as bare words that strict
    parsers (JavaScript's, jq) refuse, so a diverged metric is written as null.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(item) for item in value]
    return value


def json_text(value, **options) -> str:
    """``value`` as strict JSON (see :func:`strict_json`); ``options`` go to ``json.dumps``."""
    return json.dumps(strict_json(value), allow_nan=False, **options)
