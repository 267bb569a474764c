"""Strict JSON for --json and metrics.json: NaN and infinities become null."""

import json
import math

import numpy as np
import pytest

from chainrule.cli.json_output import json_text, strict_json


def strict_loads(text: str):
    """json.loads that refuses NaN and Infinity, as JavaScript's parser and jq do."""
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_become_null_at_any_depth():
    value = {"loss": math.nan, "history": {"val_loss": [1.5, math.inf, -math.inf]}, "pair": (np.float64("nan"), 2)}
    assert strict_json(value) == {"loss": None, "history": {"val_loss": [1.5, None, None]}, "pair": [None, 2]}
    assert strict_loads(json_text(value, indent=2)) == strict_json(value)


@pytest.mark.parametrize("value", [{"a": 1, "b": "x", "c": None, "d": True}, [0.5, 2, "nan"]])
def test_finite_values_are_unchanged(value):
    assert strict_json(value) == value
    assert json_text(value) == json.dumps(value)
