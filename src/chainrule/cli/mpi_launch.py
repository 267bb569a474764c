"""Telling an MPI launch of ``chainrule train`` that forgot ``--distributed``.

``mpiexec -n 4 chainrule train`` without ``--distributed`` would start four trainings of the
whole run, each writing the same run folder. The launcher's own environment variables say how
many processes it started, without starting MPI (mpi4py is an extra).
"""

from __future__ import annotations

from ..errors import ConfigError
from .exit_codes import EXIT_USAGE

#: (count, rank) variables an MPI launcher sets in each process it starts: MPICH's and Intel MPI's
#: mpiexec (PMI), Open MPI's mpirun, MVAPICH2's mpirun_rsh.
MPI_LAUNCH_VARIABLES = (("PMI_SIZE", "PMI_RANK"), ("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"),
                        ("MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK"))


def mpi_launch(environment) -> tuple[str, int, int] | None:
    """(the variable that tells, the number of processes, this one's rank) when an MPI launcher
    started this process as one of several (read from ``environment``, as os.environ), else None.
    Read from the launcher's variables, without starting MPI."""
    for size_variable, rank_variable in MPI_LAUNCH_VARIABLES:
        size, rank = (environment.get(name, "").strip() for name in (size_variable, rank_variable))
        if size.isdecimal() and int(size) > 1:
            return size_variable, int(size), int(rank) if rank.isdecimal() else 0
    return None


def refuse_mpi_launch_without_distributed(environment) -> int | None:
    """Exit code 2 (on every rank but 0, which raises ConfigError saying why) when an MPI launcher
    started several processes of ``chainrule train`` without ``--distributed``: each would train
    the whole run alone and write it into the one run folder. None for any other launch."""
    launch = mpi_launch(environment)
    if launch is None:
        return None
    variable, size, rank = launch
    if rank != 0:
        return EXIT_USAGE  # rank 0 says why, once
    raise ConfigError(f"{variable}={size}: an MPI launcher started {size} processes of chainrule train without "
                      f"--distributed, which would each train alone into one run folder; add --distributed "
                      f"(mpiexec -n {size} chainrule train --distributed ...) or start it without mpiexec (or, for a "
                      f"process started from inside an MPI job, without {variable} in its environment)")
