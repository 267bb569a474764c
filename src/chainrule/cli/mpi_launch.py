"""Telling an MPI launch of ``chainrule train`` that forgot ``--distributed``.

``mpiexec -n 4 chainrule train`` without ``--distributed`` would start four trainings of the
whole run, each writing the same run folder. The launcher's own environment variables say how
many processes it started, without starting MPI (mpi4py is an extra):
:func:`chainrule.training.distributed.mpi_launch` reads them, as ``fit`` does before it starts MPI.
"""

from __future__ import annotations

from ..errors import ConfigError
from ..training.distributed import mpi_launch
from .exit_codes import EXIT_USAGE

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
