"""The ``chainrule`` console script, kept outside the ``chainrule`` package on purpose.

Importing anything from ``chainrule`` first runs ``chainrule/__init__``, which imports NumPy
and the whole library (about half a second). A Ctrl-C in that time would end the command with
a Python traceback, before ``chainrule.cli.main`` could report it in one line. This module
imports nothing heavy of its own, so it can catch that Ctrl-C and report it as ``main`` does:
``chainrule: interrupted`` on stderr and exit code 130, without a traceback (``--debug`` shows
none for a Ctrl-C either: it is no error).
A SIGTERM (``timeout``, a job scheduler's stop) in that time is taken as a Ctrl-C, as ``main``
takes it once it runs. ``python -m chainrule`` imports the package before any of its code runs:
the package catches a Ctrl-C around its own imports there (``chainrule._module_command``), but
takes no SIGTERM as one (a handler put in place by the package would outlive its import).
"""

import signal
import sys

EXIT_INTERRUPTED = 130  # chainrule.cli.exit_codes.EXIT_INTERRUPTED, not imported: it would import the package


def entry_point() -> None:
    """``sys.exit(chainrule.cli.main())``, with a Ctrl-C (or SIGTERM) while the library loads
    reported in one line."""
    signal.signal(signal.SIGTERM, _interrupt)  # main puts its own in place once it runs
    try:
        from chainrule.cli import main
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(main())


def _interrupt(signum, frame) -> None:
    """SIGTERM's handler while the library loads: the Ctrl-C that ``entry_point`` reports."""
    raise KeyboardInterrupt
