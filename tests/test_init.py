"""The package's public names: ``__all__`` lists every one, and a star-import binds nothing else."""

import doctest
import types

import pytest

import chainrule


def test_all_lists_every_public_name_and_nothing_missing():
    public = {name for name in dir(chainrule)
              if not name.startswith("_") and not isinstance(getattr(chainrule, name), types.ModuleType)}
    listed = set(chainrule.__all__)
    assert len(listed) == len(chainrule.__all__)  # no name twice
    assert public == listed - {"errors", "initializers"}
    assert all(hasattr(chainrule, name) for name in chainrule.__all__)


def test_a_star_import_leaves_the_standard_librarys_io_alone():
    """Without __all__, `from chainrule import *` bound chainrule.io over the standard library's io."""
    namespace = {}
    exec("import io\nfrom chainrule import *", namespace)
    assert namespace["io"].StringIO().write("x") == 1
    assert "Sequential" in namespace and "backend" not in namespace and "training" not in namespace


def documented_names():
    return [name for name in chainrule.__all__ if ">>>" in (getattr(chainrule, name).__doc__ or "")]


@pytest.mark.parametrize("name", documented_names())
def test_the_docstring_examples_run_in_a_fresh_session(name):
    """The examples help() shows must run as typed into a fresh interpreter: pytest's doctests run
    them among their module's globals, where load_data's example passed without importing anything."""
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = []
    for test in doctest.DocTestFinder(recurse=False).find(getattr(chainrule, name), name, globs={}):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
