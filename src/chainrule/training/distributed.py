"""Data-parallel training over MPI: every process holds the whole model and one shard of each batch.

With N processes (ranks) and a global minibatch B of ``batch_size`` rows, rank r takes the
rows ``B[r::N]`` (n_r of them, Σ n_r = n = |B|), computes its loss as a mean over them,
L_r = (1/n_r) Σ_{i∈r} ℓ_i, and backpropagates it to ∂L_r/∂θ. The gradient of the global
batch's loss L = (1/n) Σ_i ℓ_i is then, by linearity of the derivative,

    ∂L/∂θ = (1/n) Σ_r Σ_{i∈r} ∂ℓ_i/∂θ = Σ_r (n_r / n) ∂L_r/∂θ,

so each rank scales its gradient by n_r / n and one in-place all-reduce (sum) of the flat
gradient buffer leaves every rank with ∂L/∂θ, exactly, also when n does not divide by N
(a rank whose shard of a short last batch is empty contributes zeros, n_r = 0). Every rank then
takes the same optimizer step from the same θ, so θ stays identical without being sent again;
after each epoch the ranks compare a checksum of θ (:meth:`Communicator.check_same_parameters`),
so that a callback run on some ranks only, which changed the learning rate or the weights there,
stops training instead of letting the ranks' weights drift apart silently.
That needs the same data and arguments on every rank: before training, ``fit`` compares them
(as :mod:`chainrule.training.fingerprint` describes them) in one all-gather
(:meth:`Communicator.check_same_run`), and a difference raises the same error on every rank
instead of mismatching the collectives that follow.

Every collective here is nonblocking and polled against a deadline (``timeout`` seconds): a
rank that hangs or dies makes the others print a :class:`~chainrule.errors.DistributedError`
and call ``MPI_Abort``, which makes ``mpiexec`` end the whole job. A rank killed outright is
reported by ``mpiexec`` itself, which then ends the others at once. mpi4py is imported only
when a :class:`Communicator` is made.

Ranks that share a machine share its cores: each rank's BLAS would otherwise start a thread
per core, and the ranks' threads then fight over the cores (measured: 2 ranks on 2 cores took
7 to 30 times as long per step as one process). A Communicator therefore gives each rank's
BLAS its share of the cores, unless the user chose the threads (:meth:`Communicator.share_cores`).
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy

from .. import cpu_blas
from ..checks import positive
from ..errors import ChainruleError, DistributedError, HyperparameterError, ModelFileError, quoted
from .checkpoint import CheckpointFile, check_checkpoint_path, read_checkpoint, recorded_seed, resumed_run_seed
from .fingerprint import SHOWN_WORDS, checksum, fingerprint_row, shown_values

INSTALL_HINT = "install it with: pip install 'chainrule[mpi]' (mpi4py and the mpich wheel, which brings mpiexec)"
ABORT_GRACE_SECONDS = 0.5  # time for mpiexec to forward the error line before MPI_Abort
# The user's choice of BLAS threads, as NumPy's OpenBLAS reads it (it ignores MKL_NUM_THREADS).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")

#: What the ranks agree on (:meth:`SingleProcess.agreeing`, :meth:`Communicator.raise_together`) when some
#: ranks raise it: an exception, and a SystemExit (``sys.exit`` in a callback or loss of one's own, on one
#: rank). Not a KeyboardInterrupt: a Ctrl-C under ``mpiexec`` reaches every rank wherever it is, and a rank
#: that it reached waiting in a collective (not in an agreed block) would raise it at once, leaving the
#: ranks it reached in an agreed block to wait for it there until the timeout; uncaught, it ends each rank.
AGREED = (Exception, SystemExit)

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


def started_alone(environment) -> bool:
    """True when this process is known to be an MPI job of one process without starting MPI: MPI is not
    started in it (mpi4py.MPI not imported: a script that imported it has started MPI, which then tells),
    and no launcher started it among others, by ``environment`` (as os.environ): none of
    MPI_LAUNCH_VARIABLES counts more than one, and where none of them is set, neither is ``PMIX_RANK``
    (a PMIx launcher, such as Slurm's ``srun --mpi=pmix``, sets it without a count). Where this is False,
    only MPI can tell; ``fit`` then starts it, so that a rank whose arguments were refused takes part in
    the others' first agreement rather than leaving them to wait out the timeout."""
    if sys.modules.get("mpi4py.MPI") is not None or mpi_launch(environment) is not None:
        return False
    counted = any(environment.get(size, "").strip().isdecimal() for size, _ in MPI_LAUNCH_VARIABLES)
    return counted or "PMIX_RANK" not in environment


def drawn_seed() -> int:
    """A fresh seed for ``fit(seed=None)``, 63 bits from the operating system's entropy (as one word
    of a distributed run's broadcast holds it). Shifted as a Python int: NumPy 1 has no ``>>`` for a
    uint64 and a Python int (it casts both to int64, which a uint64 does not fit)."""
    return int(numpy.random.SeedSequence().generate_state(1, numpy.uint64)[0]) >> 1


class SingleProcess:
    """The communicator of an ordinary one-process ``fit``: every method leaves things as they are."""

    rank, size, is_root = 0, 1, True
    blas_threads = None  # the threads a Communicator gave this rank's BLAS; None: left as they were

    def shard(self, rows):
        return rows

    def shared_seed(self, seed, resume=None):
        """(seed, resume) as given; for seed None on resume, the seed the checkpoint's run recorded
        (:func:`~chainrule.training.checkpoint.resumed_run_seed`), with the CheckpointFile read for
        it in place of ``resume``: the run resumes from that one read. For seed None otherwise,
        one :func:`drawn_seed`, which the run records, so that it can be repeated and resumed."""
        if seed is None and resume is not None:
            resume, seed = resumed_run_seed(resume)
        elif seed is None:
            seed = drawn_seed()
        return seed, resume

    def check_same_run(self, values: dict, checksums: dict) -> None:
        pass

    def broadcast_parameters(self, model) -> None:
        pass

    def local_checkpoint(self, path):
        return path

    def average_gradient(self, grad, n_local: float, n_global: float, loss_value: float) -> None:
        pass

    def sum_scores(self, scores) -> None:
        pass

    def any(self, flag: bool) -> bool:
        return bool(flag)

    def ranks_where(self, flag: bool, what: str) -> list[int]:
        return [0] if flag else []

    def raise_together(self, problem: BaseException | None, what: str) -> None:
        if problem is not None:
            raise problem

    @contextlib.contextmanager
    def agreeing(self, what: str):
        """Run the ``with`` block on every rank, then agree on whether it raised (:meth:`raise_together`): an
        exception or SystemExit it raises on some ranks only is one DistributedError naming ``what`` on every
        rank; in one process, or raised on every rank, the exception itself. A KeyboardInterrupt is not agreed
        on (see AGREED): it goes through."""
        problem = None
        try:
            yield
        except AGREED as error:
            problem = error
        self.raise_together(problem, what)

    def largest(self, value: int, what: str, *, deadline: bool = True) -> int:
        return value

    def stops_mid_epoch(self, interrupted: bool) -> bool:
        return interrupted

    def check_same_parameters(self, theta, epoch: int) -> None:
        pass


class Communicator(SingleProcess):
    """The processes of an ``mpiexec`` job (MPI's COMM_WORLD), for data-parallel ``fit``.

    Parameters
    ----------
    timeout : float
        Seconds any collective may wait for the other ranks before the job is aborted: a
        finite number > 0, longer than the slowest rank's longest pause between steps
        (loading data, validation, rank 0 writing a checkpoint).
    abort : bool
        On a failed collective, print the error and call ``MPI_Abort`` (the default): the
        job cannot continue once a rank is gone, and ``mpiexec`` then ends every rank.
        False only raises the :class:`DistributedError` (for tests).

    Attributes
    ----------
    rank, size : int
        This process's rank and the number of ranks; ``is_root`` is ``rank == 0``.
    blas_threads : int or None
        The threads this rank's BLAS was limited to (:meth:`share_cores`), or None where they
        were left as they were.

    Examples
    --------
    Launched as ``mpiexec -n 4 python -m mpi4py train.py`` (an uncaught exception on one
    rank then ends the job at once), where train.py calls::

        cr.fit(model, X, y, batch_size=256, distributed=True)          # 60 s timeout
        cr.fit(model, X, y, distributed=cr.Communicator(timeout=600))
    """

    def __init__(self, timeout: float = 60.0, *, abort: bool = True) -> None:
        positive(timeout, "timeout")  # as --distributed-timeout is checked: an infinite wait is no deadline
        try:
            self.MPI = importlib.import_module("mpi4py.MPI")
        except (ImportError, RuntimeError) as error:
            raise DistributedError(f"distributed training needs mpi4py and an MPI library ({error}); {INSTALL_HINT}") from None
        self.world = self.MPI.COMM_WORLD
        self.rank, self.size = self.world.Get_rank(), self.world.Get_size()
        self.is_root = self.rank == 0
        self.timeout, self.abort = float(timeout), abort
        # A rank that failed before making its Communicator would leave the others in the
        # blocking split below for ever: they first meet in a barrier polled against the timeout.
        self._wait(self.world.Ibarrier(), "making the Communicator")
        self.blas_threads = self.share_cores()

    def share_cores(self) -> int | None:
        """Limit this rank's BLAS to its share of the machine's cores; the threads chosen, or None.

        With N ranks on this machine (MPI's shared-memory split of COMM_WORLD) and C cores this
        process may run on, the share is max(1, C // N) threads. Left as they were (None) where
        the user set any of THREAD_VARIABLES (``OMP_NUM_THREADS=2`` gives each rank 2 threads),
        where this rank is alone on its machine, or where NumPy's BLAS cannot be sized (not
        OpenBLAS). Called by every rank as the Communicator is made: the split is a collective,
        made also where the threads are then left alone, so that no rank waits for another's.
        """
        node = self.world.Split_type(self.MPI.COMM_TYPE_SHARED)
        ranks_here = node.Get_size()
        node.Free()
        if ranks_here == 1 or any(os.environ.get(name) for name in THREAD_VARIABLES):
            return None
        count = max(1, usable_cores() // ranks_here)
        return count if cpu_blas.set_threads(count) else None

    def shard(self, rows):
        """This rank's rows of a global batch: every size-th row from the rank's own."""
        return rows[self.rank::self.size]

    def shared_seed(self, seed, resume=None):
        """(the seed every rank uses, what this rank resumes from): ``seed`` and ``resume`` as given;
        for seed None, one drawn on rank 0, or on resume the seed the checkpoint's run recorded (up to
        128 bits), read by every rank from the checkpoint rank 0 reads once and sends to all
        (:meth:`local_checkpoint`), which is returned in place of ``resume`` and resumed from.

        Always one broadcast first, whatever this rank's ``seed`` and ``resume``, so that the ranks'
        collectives stay matched even if one was given None and another a number, or resume on some
        ranks only (``check_same_run`` then reports the difference): three words, whether rank 0 sends
        the checkpoint (its seed is None and its resume given), a seed drawn there (63 bits) and the
        length of rank 0's name of the file. Every rank takes part in sending the checkpoint, after that
        name (one more broadcast), by which a rank given no resume names the file in its errors, as rank 0
        does; that rank drops the checkpoint. A checkpoint rank 0 cannot read is its ModelFileError there
        and one saying so on the other ranks; a damaged one, or one whose seed field is, the same
        ModelFileError on every rank. The ranks then agree
        (:meth:`raise_together`) on whether each took the checkpoint: one that could not (its copy of
        the bytes not written) is one DistributedError naming that rank and its error on every rank,
        at once rather than at the next collective's timeout.
        """
        words, name = numpy.zeros(3, dtype=numpy.uint64), b""
        if self.is_root and seed is None:
            name = b"" if resume is None else os.fsencode(os.fspath(resume))
            words[:] = [resume is not None, drawn_seed(), len(name)]
        self._wait(self.world.Ibcast(words, root=0), "broadcasting the seed")
        sends, drawn = bool(words[0]), int(words[1])
        recorded = None
        if sends:
            # Rank 0's name of the file, for a rank given no resume to name it in its errors as rank 0 does
            text = numpy.frombuffer(name, dtype=numpy.uint8).copy() if self.is_root else numpy.empty(
                int(words[2]), dtype=numpy.uint8)
            self._wait(self.world.Ibcast(text, root=0), "broadcasting the checkpoint's name")
            named = os.fsdecode(text.tobytes()) if resume is None else resume
            # Perhaps failing on this rank alone (no room for its copy of the bytes)
            with self.agreeing(f"reading the checkpoint {named} to resume from"):
                checkpoint = self.local_checkpoint(named)
                recorded = recorded_seed(checkpoint.extra, checkpoint)
            if resume is None:
                checkpoint.take_contents()  # rank 0's, which this rank was not given
            else:
                resume = checkpoint
        if seed is None:
            seed = drawn if recorded is None else recorded
        return seed, resume

    def check_same_run(self, values: dict, checksums: dict) -> None:
        """Raise the same DistributedError on every rank unless all ranks hold equal ``values`` and ``checksums``.

        ``values`` maps a name (as the message shows it: "batch_size") to an int of any size,
        None, or a text ("float32"), which the message shows for each rank that differs;
        ``checksums`` maps a name ("X") to an int in [0, 2⁶³), whose values are not shown,
        only which ranks differ. One all-gather of :func:`fingerprint_row`, whose result
        every rank judges alike, so that all of them raise or none does; the error's
        ``same_on_every_rank`` is True, so that a program can report it on rank 0 alone.
        """
        names = [*values, *checksums]
        mine = fingerprint_row(values, checksums)
        everyone = numpy.empty((self.size, mine.size), dtype=numpy.int64)
        self._wait(self.world.Iallgather(mine, everyone), "comparing the ranks' data and arguments")
        n_shown = len(values) * SHOWN_WORDS
        shown_texts = everyone[:, :n_shown].reshape(self.size, len(values), SHOWN_WORDS)
        exact_columns = everyone[:, n_shown:].T
        problems = []
        for index, (name, column) in enumerate(zip(names, exact_columns)):
            others = [rank for rank in range(1, self.size) if column[rank] != column[0]]
            if not others:
                continue
            if name in checksums:
                problems.append(f"{name} on {ranks_named(others)} differs from rank 0's")
            else:
                more = ", ..." if len(others) > 3 else ""
                shown = shown_values(shown_texts[:, index], column, [0, *others[:3]])
                listed = ", ".join(f"{shown[rank]} on rank {rank}" for rank in others[:3])
                problems.append(f"{name} is {shown[0]} on rank 0 but {listed}{more}")
        if problems:
            raise DistributedError(
                f"the {self.size} processes were not given the same data and arguments ({'; '.join(problems)}); "
                f"every process must pass fit the same ones", same_on_every_rank=True
            )

    def broadcast_parameters(self, model) -> None:
        """Give every rank rank 0's θ."""
        theta = model.flat_parameters().theta
        self._wait(self.world.Ibcast(theta, root=0), "broadcasting the initial parameters")

    def local_checkpoint(self, path) -> CheckpointFile:
        """Rank 0's checkpoint at ``path``, read once by rank 0 and sent to every rank.

        Only rank 0 writes checkpoints, so other machines may not see the file. Rank 0 reads
        its bytes once and sends them to all, and every rank, rank 0 included, parses those
        bytes: the whole training state (θ, optimizer state and step, shuffling Generator,
        epoch, History, callbacks) loads identically everywhere, even if another process
        replaces the file meanwhile. Returns a
        :class:`~chainrule.training.checkpoint.CheckpointFile` named ``path`` holding them,
        marked ``sent``. Given such a CheckpointFile whose contents are still held, every rank
        returns it as it is and nothing is sent again: ``chainrule train`` calls this before
        ``fit`` does, to compare the saved configuration with the very state that is resumed.
        A CheckpointFile read before on this rank is released. A checkpoint rank 0 cannot read
        is a ModelFileError naming ``path`` on every rank (rank 0's own, and one saying that rank 0 cannot
        read it on the others); a damaged one, the same ModelFileError on every rank: both are marked
        ``same_on_every_rank`` (:func:`on_every_rank`), so that ``chainrule train`` prints rank 0's alone.
        Before the bytes are sent, the ranks agree (one all-gather, :meth:`agreeing`) that each could make
        room for them: one that could not (MemoryError) is one DistributedError naming that rank on every rank.
        """
        if isinstance(path, CheckpointFile) and path.sent and path.extra is not None:
            return path
        data, problem = None, None
        if self.is_root:
            try:  # a copy of the bytes, writable, as the broadcast wants it
                data = numpy.frombuffer(Path(path).read_bytes(), dtype=numpy.uint8).copy()
            except OSError as error:
                problem = _unreadable_checkpoint(path, error)
            except MemoryError as error:  # told to the others as the size below, not raised here alone
                problem = ModelFileError(f"{path}: no memory on rank 0 to read the checkpoint ({error})")
        # Size -1 tells the other ranks that rank 0 failed, so that they stop too, not time out.
        size = numpy.array([-1 if problem else (0 if data is None else data.size)], dtype=numpy.int64)
        self._wait(self.world.Ibcast(size, root=0), "broadcasting the checkpoint's size")
        if size[0] < 0:  # every rank stops here: a program tells rank 0's error alone
            raise on_every_rank(problem or ModelFileError(f"{path}: rank 0 cannot read the checkpoint (see its "
                                                          f"error)"))
        # Agreed on before the broadcast, which a rank without memory for the bytes would leave, the others waiting
        with self.agreeing(f"receiving the checkpoint {path}"):
            buffer = data if self.is_root else numpy.empty(int(size[0]), dtype=numpy.uint8)
        del data
        self._wait(self.world.Ibcast(buffer, root=0), "broadcasting the checkpoint")
        if isinstance(path, CheckpointFile):
            path.take_contents()  # an earlier read: resumed from the bytes sent instead
            path = path.path
        return CheckpointFile(path, *self._parse_sent(path, buffer), sent=True)

    def _parse_sent(self, path, buffer: numpy.ndarray) -> tuple:
        """``(model, tensors, extra)`` of the checkpoint in ``buffer``, parsed through a
        temporary copy (the parser reads files) that is removed at once; errors name ``path``."""
        with tempfile.TemporaryDirectory(prefix="chainrule-resume-") as directory:
            copy = Path(directory) / Path(path).name
            try:
                copy.write_bytes(buffer.tobytes())
            except OSError as error:
                raise ModelFileError(f"{path}: cannot write rank {self.rank}'s copy of the checkpoint to "
                                     f"{directory!r} ({error.strerror or error})") from None
            try:
                return read_checkpoint(copy).take_contents()
            except ModelFileError as error:  # the same bytes, the same error on every rank
                raise on_every_rank(ModelFileError(str(error).replace(str(copy), str(path)))) from None

    def average_gradient(self, grad, n_local: float, n_global: float, loss_value: float) -> None:
        """Replace this rank's ∂L_r/∂θ by the global batch's ∂L/∂θ = Σ_r (n_r / n) ∂L_r/∂θ, in place.

        n_r and n count this rank's rows and the batch's, or with sample weights sum their
        weights (L_r is then this rank's weighted mean, and n > 0).

        A rank whose loss is not finite sends NaN, so that every rank's divergence guard
        stops at the same step.
        """
        if not math.isfinite(float(loss_value)):
            grad[...] = math.nan
        else:
            grad *= n_local / n_global
        self._wait(self.world.Iallreduce(self.MPI.IN_PLACE, grad, op=self.MPI.SUM), "averaging the gradient")

    def sum_scores(self, scores) -> None:
        """Sum the running sums of an epoch's :class:`Scores` over the ranks, in place."""
        totals = scores.totals()
        self._wait(self.world.Iallreduce(self.MPI.IN_PLACE, totals, op=self.MPI.SUM), "summing the metrics")
        scores.set_totals(totals)

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on at least one (stopping early, Ctrl-C)."""
        value = numpy.array([1 if flag else 0], dtype=numpy.int64)
        self._wait(self.world.Iallreduce(self.MPI.IN_PLACE, value, op=self.MPI.MAX), "agreeing on stopping")
        return bool(value[0])

    def ranks_where(self, flag: bool, what: str) -> list[int]:
        """The ranks on which ``flag`` is true, in order, on every rank: one all-gather of a word each,
        for what the ranks learn only when something failed (whose loss was not finite); ``what`` names
        the wait in the error of one that times out."""
        flags = numpy.empty(self.size, dtype=numpy.int64)
        self._wait(self.world.Iallgather(numpy.array([int(flag)], dtype=numpy.int64), flags), what)
        return [rank for rank in range(self.size) if flags[rank]]

    def raise_together(self, problem: BaseException | None, what: str) -> None:
        """Raise the same DistributedError on every rank if ``problem``, this rank's error or None, is an
        error on any rank: for a step that may fail on some ranks only (rank 0 writing a checkpoint, a
        rank's copy of the one it resumes from), so that the others stop at once instead of waiting
        out the timeout in their next collective and blaming a hung rank. ``with`` :meth:`agreeing` agrees
        on a block's exception so.

        One all-gather of a word each (:meth:`ranks_where`); only on failure, the first failing rank
        sends the error's message to all. It names ``what`` failed there and that rank's error:
        "writing the checkpoint failed on rank 0 of 2: ck.safetensors: cannot write (No space left
        on device)"; other failing ranks, perhaps at another step of the same agreement (the
        validation set's scoring is one to the callbacks after an epoch), are only listed: "(rank 2
        failed too)". Its ``same_on_every_rank`` is True (a program reports it on rank 0 alone), and
        on a failing rank its cause is ``problem``. When every rank failed, each raises its own
        ``problem``, as it is: all of them stop, and know why. ``problem`` may be a SystemExit (AGREED): on
        some ranks only, it too is told as that DistributedError ("SystemExit: 3"), on them too, since the
        others cannot go on without them.
        """
        failed = self.ranks_where(problem is not None, f"agreeing on {what}")
        if not failed:
            return
        if len(failed) == self.size:  # every rank knows: each has its own error (a damaged checkpoint, the same)
            raise problem
        # The others perhaps failed at another step (preparing their data as this one checked its arguments)
        others = f" ({ranks_named(failed[1:])} failed too)" if len(failed) > 1 else ""
        mine = "" if problem is None else error_text(problem)
        told = f"{what} failed on {ranks_named(failed[:1], self.size)}{others}: {mine}"
        # backslashreplace: a path that is no UTF-8 (a lone surrogate) must not stop this rank alone here
        text = numpy.frombuffer(told.encode(errors="backslashreplace"), dtype=numpy.uint8)
        size = numpy.array([text.size], dtype=numpy.int64)
        self._wait(self.world.Ibcast(size, root=failed[0]), f"sending the error of {what}")
        buffer = text.copy() if self.rank == failed[0] else numpy.empty(int(size[0]), dtype=numpy.uint8)
        self._wait(self.world.Ibcast(buffer, root=failed[0]), f"sending the error of {what}")
        raise DistributedError(buffer.tobytes().decode(errors="replace"), same_on_every_rank=True) from problem

    def largest(self, value: int, what: str, *, deadline: bool = True) -> int:
        """The largest of the ranks' ``value`` (an int, such as an exit code), on every rank; ``what``
        names the wait in the error of one that times out ("agreeing that ..."). ``deadline=False``
        waits without the timeout, for a rank busy with work of unknown length (rank 0 writing a
        run's files at its end): a rank that dies still ends the job (``mpiexec`` ends the others)."""
        values = numpy.array([value], dtype=numpy.int64)
        self._wait(self.world.Iallreduce(self.MPI.IN_PLACE, values, op=self.MPI.MAX), what,
                   self.timeout if deadline else math.inf)
        return int(values[0])

    def stops_mid_epoch(self, interrupted: bool) -> bool:
        """Never: Ctrl-C is acted on at the end of the epoch, when the ranks agree on it."""
        return False

    def check_same_parameters(self, theta, epoch: int) -> None:
        """Raise the same DistributedError on every rank unless all ranks hold the same θ after ``epoch``.

        Every rank takes the same steps, so θ stays bit-identical unless something ran on some
        ranks only: a callback or code of one's own that changed the learning rate or the
        weights. One pass over θ (its :func:`checksum` c) and one all-reduce of [c, -c] with
        MAX, whose result [max c, -min c] every rank judges alike.
        """
        c = checksum(theta)
        extremes = numpy.array([c, -c], dtype=numpy.int64)
        self._wait(self.world.Iallreduce(self.MPI.IN_PLACE, extremes, op=self.MPI.MAX), "comparing the weights")
        if extremes[0] != -extremes[1]:
            raise DistributedError(
                f"the {self.size} processes' weights differ after epoch {epoch}: a callback or code of one's own "
                f"changed the learning rate or the weights on some ranks only, in that epoch or before; it must "
                f"run on every rank (see docs/distributed.md, callbacks)", same_on_every_rank=True
            )

    def _wait(self, request, what: str, timeout: float | None = None) -> None:
        """Poll ``request`` until it completes; past ``timeout`` seconds (the Communicator's by
        default; infinite: no deadline), fail the whole job."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        pause = 1e-5
        try:
            while not request.Test():
                if time.monotonic() > deadline:
                    self._fail(
                        f"rank {self.rank} of {self.size}: {what} waited more than {self.timeout:g} s for the other "
                        f"ranks; one of them hung or died (see its output). Aborting the job; the last "
                        f"checkpoint on disk is intact"
                    )
                time.sleep(pause)
                pause = min(pause * 2, 1e-3)  # poll fast for short waits, cheaply for long ones
        except self.MPI.Exception as error:
            self._fail(f"rank {self.rank} of {self.size}: {what} failed in MPI ({error}); aborting the job")

    def _fail(self, message: str):
        error = DistributedError(message)
        if self.abort:
            print(f"chainrule: error: {message}", file=sys.stderr, flush=True)
            # mpiexec forwards a rank's output through its own process; an immediate Abort can
            # end that process before the line above reaches the terminal (seen with MPICH).
            time.sleep(ABORT_GRACE_SECONDS)
            self.world.Abort(1)
        raise error


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system tells it, else the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def ranks_named(ranks: list[int], size: int | None = None) -> str:
    """``ranks`` in words: "rank 1", "ranks 0, 2"; past 3, "ranks 0, 1, 2, ..."; with ``size``, "of 4" after."""
    more = ", ..." if len(ranks) > 3 else ""
    of = "" if size is None else f" of {size}"
    return f"rank{'s' if len(ranks) > 1 else ''} {', '.join(map(str, ranks[:3]))}{more}{of}"


def error_text(problem: BaseException) -> str:
    """``problem`` in words, as :meth:`Communicator.raise_together` tells it: its message, after its type's name
    unless it is a ChainruleError; its type's name alone where it has no message (``sys.exit()``) or where its
    ``__str__`` raises (one of its own, broken), which must not stop the failing rank alone while the others
    wait for its words."""
    name = type(problem).__name__
    try:
        message = str(problem)
    except Exception:
        return name
    if isinstance(problem, ChainruleError):
        return message
    return f"{name}: {message}" if message else name


def on_every_rank(error: ModelFileError) -> ModelFileError:
    """``error``, marked ``same_on_every_rank`` (as a DistributedError may be): every rank raised it, or one
    saying that rank 0 did, at the same point, so that a program reports it on rank 0 alone."""
    error.same_on_every_rank = True
    return error


def _unreadable_checkpoint(path, error: OSError) -> ModelFileError:
    """The error for a checkpoint rank 0 cannot read, naming ``path``."""
    try:
        check_checkpoint_path(path)  # nothing there, or a directory: the same words as everywhere
    except ModelFileError as missing:
        return missing
    return ModelFileError(f"{path}: cannot read the checkpoint ({error.strerror or error})")


def communicator(distributed) -> SingleProcess:
    """The communicator for ``fit(distributed=...)``: False, True, or a Communicator."""
    if isinstance(distributed, SingleProcess):
        return distributed
    if distributed is True:
        return Communicator()
    if distributed is False or distributed is None:
        return SingleProcess()
    raise HyperparameterError(f"distributed: expected True, False or a chainrule Communicator, "
                              f"got {quoted(distributed)}")

