"""JSON that strict parsers read: a NaN or infinite number is written as null.

``json.dumps`` writes NaN and Infinity as bare words, which JavaScript's parser and jq
refuse; a diverged metric or an infinite gradient-check error is null instead. Every
``--json`` output and metrics.json is written through :func:`json_text`.
"""

from __future__ import annotations

import json

from ..io.json_values import strict_json


def json_text(value, **options) -> str:
    """``value`` as strict JSON (see :func:`strict_json`); ``options`` go to ``json.dumps``."""
    return json.dumps(strict_json(value), allow_nan=False, **options)
