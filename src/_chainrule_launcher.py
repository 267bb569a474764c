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

A rank of ``mpiexec -n N chainrule train --distributed`` stopped so has not started MPI, and
MPICH's ``MPI_Init`` waits for every rank, for ever: the others would wait there, where no
handler of Ctrl-C or SIGTERM runs. So that rank starts MPI and ends the job with ``MPI_Abort``
(:func:`end_interrupted`), as ``main`` does for a Ctrl-C before MPI started
(``chainrule.cli.early_failure``).
"""

import importlib
import os
import signal
import sys

EXIT_INTERRUPTED = 130  # chainrule.cli.exit_codes.EXIT_INTERRUPTED, not imported: it would import the package
# The counts of processes MPI launchers set (chainrule.training.distributed.MPI_LAUNCH_VARIABLES's), not imported
LAUNCH_COUNTS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")


def entry_point() -> None:
    """``sys.exit(chainrule.cli.main())``, with a Ctrl-C (or SIGTERM) while the library loads
    reported in one line."""
    signal.signal(signal.SIGTERM, _interrupt)  # main puts its own in place once it runs
    try:
        from chainrule.cli import main
    except KeyboardInterrupt:
        end_interrupted(sys.argv[1:])
    sys.exit(main())


def end_interrupted(argv: list) -> None:
    """End a command stopped by Ctrl-C before ``main`` ran: ``chainrule: interrupted`` on stderr, exit
    status 130. On a rank of an MPI launch of several processes given ``--distributed`` (in ``argv``),
    that has not started MPI, through ``MPI_Abort`` after starting it: the other ranks wait for it in
    ``MPI_Init``, where they would wait for ever (MPICH)."""
    print("chainrule: interrupted", file=sys.stderr, flush=True)
    launched = any(os.environ.get(name, "").strip().isdecimal() and int(os.environ[name]) > 1
                   for name in LAUNCH_COUNTS)
    if launched and "--distributed" in argv and sys.modules.get("mpi4py.MPI") is None:
        try:
            world = importlib.import_module("mpi4py.MPI").COMM_WORLD
        except (ImportError, RuntimeError):  # no mpi4py here: nothing can tell the others
            world = None
        if world is not None:
            world.Abort(EXIT_INTERRUPTED)
    sys.exit(EXIT_INTERRUPTED)


def _interrupt(signum, frame) -> None:
    """SIGTERM's handler while the library loads: the Ctrl-C that ``entry_point`` reports."""
    raise KeyboardInterrupt
