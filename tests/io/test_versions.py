"""chainrule.io.versions: which release wrote a model file, compared with this one's."""

import pytest

from chainrule import __version__
from chainrule.io import versions


@pytest.mark.parametrize("version, numbers", [("0.10.2", (0, 10, 2)), ("1.0", (1,)), ("1.0.0", (1,)),
                                             ("2.1rc1", (2, 1)), (" 3.0.1 ", (3, 0, 1)), ("v1.0", None), ("", None),
                                             ("9" * 18, (10**18 - 1,)), ("9" * 19, None),
                                             pytest.param("1." + "0" * 5000, None, id="1.0...0"),
                                             pytest.param("9" * 5000, None, id="9...9")])
def test_release_is_the_leading_numbers_without_trailing_zeros(version, numbers):
    assert versions.release(version) == numbers


def test_a_release_is_newer_by_its_numbers_not_its_text(monkeypatch):
    monkeypatch.setattr(versions, "__version__", "0.9.1")
    assert versions.is_newer("0.10.0")  # as text, "0.10.0" < "0.9.1"
    assert not versions.is_newer("0.9.1") and not versions.is_newer("0.9.1.0") and not versions.is_newer("0.8.7")
    assert not versions.is_newer("not-a-version")
    assert not versions.is_newer("9" * 5000)  # more digits than Python converts to an int: not a version number


def test_only_another_release_is_named_and_only_a_newer_one_asks_for_an_upgrade(monkeypatch):
    monkeypatch.setattr(versions, "__version__", "0.9.1")
    assert versions.version_note({"chainrule_version": "0.9.1"}) == ""
    assert versions.version_note({}) == "" and versions.version_note(None) == ""
    assert versions.version_note({"chainrule_version": "0.8.0"}).endswith("this is chainrule 0.9.1)")
    assert versions.version_note({"chainrule_version": "1.0.0"}).endswith("upgrade chainrule to read it)")


def test_this_release_has_release_numbers():
    assert versions.release(__version__) is not None
