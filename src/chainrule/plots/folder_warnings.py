"""Matplotlib's warnings about a config or cache folder it cannot write, kept out of chainrule's output.

When it is imported, matplotlib picks a folder for its configuration and one for its font cache:
``$MPLCONFIGDIR``, else on Linux ``~/.config/matplotlib`` and ``~/.cache/matplotlib`` (or under
``$XDG_CONFIG_HOME`` and ``$XDG_CACHE_HOME``). Where it cannot write the one it picks (``HOME`` unset,
missing or read-only, as on many cluster nodes), it makes a temporary folder instead, removed at exit,
and logs two warnings advising to set ``MPLCONFIGDIR``; with no logging configured, Python writes them
to stderr, in the middle of ``chainrule train``'s output, where they read as a problem of the run,
and the plots are drawn all the same. So those two records are dropped while :mod:`chainrule.plots`
imports matplotlib; every other message of matplotlib's is left as it is (a bad line in a
matplotlibrc, say), and the folder is matplotlib's choice as before (it also sets ``MPLCONFIGDIR`` to
its temporary folder in this process's environment, as it always has). Its font cache is then built
anew in every process (0.3-0.5 s more on the test machine, more where many fonts are installed);
``MPLCONFIGDIR`` set to a writable folder keeps it.
"""

import contextlib
import logging

#: The function of matplotlib (``matplotlib/__init__.py``; read in 3.10 and 3.11) that picks both folders
#: and logs the warnings, through the logger named "matplotlib". Were it renamed, the warnings would show
#: again, and tests/plots/test_plots.py would fail.
PICKS_FOLDERS = "_get_config_or_cache_dir"


@contextlib.contextmanager
def folder_warnings_dropped():
    """While the block runs, the "matplotlib" logger drops the records that PICKS_FOLDERS logs."""
    logger = logging.getLogger("matplotlib")
    logger.addFilter(_not_about_folders)
    try:
        yield
    finally:
        logger.removeFilter(_not_about_folders)


def _not_about_folders(record: logging.LogRecord) -> bool:
    """Whether ``record`` is kept: any record but those of matplotlib's PICKS_FOLDERS."""
    return record.funcName != PICKS_FOLDERS
