"""A rank of ``mpiexec -n N chainrule train --distributed`` that fails before it has started MPI.

MPICH's ``MPI_Init`` waits for every rank of the job: a rank that exits before it starts MPI (its
command line refused on that rank alone, ``--bogus`` or ``--lr abc``; a Ctrl-C as it starts) left
the others waiting in ``MPI_Init`` for ever, where no timeout of chainrule's runs and no Python
handler of SIGINT or SIGTERM either, so that a first Ctrl-C or ``timeout``'s SIGTERM did not end
the job (measured: still waiting, polling, after 10 minutes). So such a rank starts MPI after
all, which lets the others' ``MPI_Init`` return, and then stops with them:

- after an error, it joins the ranks' first agreement (:func:`~chainrule.cli.job_end.start_together`)
  with its exit code, and every rank ends with that code, the failing one having printed its line;
- after a Ctrl-C, the caller ends the job with ``MPI_Abort`` (:func:`start_mpi`): the other ranks,
  sent the Ctrl-C too, are not all in that agreement.

Which process is such a rank is read from the launcher's variables
(:func:`~chainrule.training.distributed.mpi_launch`) and the command line as given, which may not have parsed.
"""

from __future__ import annotations

import importlib
import sys

from ..errors import DistributedError
from ..training.distributed import Communicator, mpi_launch
from .job_end import start_together

JOIN_TIMEOUT = 60.0  # seconds to wait for the other ranks' Communicators: --distributed-timeout's default


def failed_before_mpi(argv: list, environment) -> tuple[int, int] | None:
    """(rank, size) of this process when it is one of an MPI launch of several (``environment``, as
    os.environ), asked for ``--distributed`` (in ``argv``, the command line) and has not started MPI;
    None otherwise (one process, or MPI started: the ranks' own agreements and MPI_Abort then stop them)."""
    launch = mpi_launch(environment)
    if launch is None or "--distributed" not in argv or sys.modules.get("mpi4py.MPI") is not None:
        return None
    _, size, rank = launch
    return rank, size


def join_to_stop(code: int) -> None:
    """Start MPI and send ``code``, this rank's exit code, to the other ranks' first agreement, so that every
    rank stops with it. Without mpi4py on this machine nothing can be told: the others wait out their
    Communicator's timeout."""
    try:
        comm = Communicator(JOIN_TIMEOUT)
    except DistributedError:
        return
    start_together(comm, code)


def start_mpi():
    """MPI's COMM_WORLD, MPI started (``MPI_Init`` returns once every rank has started it); None without mpi4py."""
    try:
        return importlib.import_module("mpi4py.MPI").COMM_WORLD
    except (ImportError, RuntimeError):
        return None
