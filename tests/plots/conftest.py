"""Fixtures of the plot tests."""

import pytest

from tests.harness import capture_figures


@pytest.fixture
def drawn(monkeypatch):
    """The figures the plot functions save, in order, so tests can look at what was drawn."""
    return capture_figures(monkeypatch)
