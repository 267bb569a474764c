"""The training loop on a GPU: the same epochs as on the CPU, without waiting for the device.

The CPU loop (chainrule.training.loop) looks at every step's loss and update to stop at the
first non-finite one; on a GPU each such look is a transfer that stalls the queue of kernels.
Here nothing crosses between host and device inside an epoch except the minibatch order
(one vector per epoch) — and, for data larger than the GPU's memory, the rows of each chunk:

- the data go to the GPU once (:class:`DeviceData`), or chunk by chunk when they do not fit;
- metrics are summed on the device (Scores keeps its sums there) and read at the epoch's end;
- the divergence guard runs on the device (chainrule.cuda.kernels.guard): once a loss or
  gradient is not finite (Σg² overflowing counts), no further update is applied, and the
  epoch's end reports where (and sets the optimizer's step count t back to the CPU's: the
  steps up to the refused one);
- each optimizer step is one fused kernel (SGD, Adam, AdamW, RMSProp) or the generic update,
  stretch by stretch of trainable parameters when some layers are frozen (their steps missed
  are counted at each epoch's end, as the CPU counts them at each step);
- sample weights (``sample_weight``, ``class_weight``) are gathered with their rows;
- with ``graph``, the step of a full batch is captured into a CUDA graph at the first
  batch and replayed for every later full batch (chainrule.cuda.graph); a last, smaller
  batch runs as it is.

The minibatches are drawn from the same seeded permutation as on the CPU, so a GPU run
follows the CPU run's trajectory to rounding.
"""

from __future__ import annotations

import math
import warnings

import numpy

from ..backend import module_for, to_numpy
from ..cuda import kernels
from ..cuda.graph import CapturedStep
from ..errors import DeviceError
from .loop import (GRAD_NORM_SAMPLES, GRADIENT_NOT_FINITE, LOSS_NOT_FINITE, Loop, LoopSettings, check_loss_gradient,
                   check_loss_value)
from .metrics import Scores

DATA_MEMORY_FRACTION = 0.5  # of the GPU's free memory, at most, for the training data


def data_budget_bytes() -> int:
    """How many bytes of training data may live on the GPU at once."""
    free, _ = module_for("cuda").cuda.runtime.memGetInfo()
    return int(free * DATA_MEMORY_FRACTION)


def steps_taken(diverged: int, applied: int, queued: int) -> int:
    """The steps the CPU's loop counts (in t and in frozen parameters' ``missed``) for an epoch
    whose ``queued`` steps the GPU ran, ``applied`` of them applied, ``diverged`` being the
    guard's ``status[0]``: all of them; after a divergence those applied, and the refused step
    too when its gradient was refused (the CPU stops before stepping at a non-finite loss, and
    after ``Optimizer.step`` counted a refused step)."""
    if not diverged:
        return queued
    return applied + int(diverged == kernels.GRADIENT_NOT_FINITE)


class DeviceData:
    """The training inputs X, prepared targets T and sample weights W (or None) on the GPU:
    whole, or one chunk at a time.

    A chunk holds a whole number of batches, so the batches of an epoch are the CPU's
    batches whichever way the data are held. The device arrays keep their addresses for the
    whole run (a captured step reads them).
    """

    def __init__(self, X, T, W, batch_size: int, budget_bytes: int) -> None:
        self.xp = module_for("cuda")
        self.n = len(X)
        arrays = (X, T) if W is None else (X, T, W)
        row_bytes = sum(array[:1].nbytes for array in arrays)
        if sum(array.nbytes for array in arrays) <= budget_bytes:
            self.chunk_rows = self.n
            self._device = [self.xp.asarray(array) for array in arrays]
            self._host = None
        else:
            self.chunk_rows = min(self.n, max(batch_size, budget_bytes // row_bytes // batch_size * batch_size))
            self._device = [self.xp.empty((self.chunk_rows, *array.shape[1:]), dtype=array.dtype)
                            for array in arrays]
            self._host = arrays
            self._local = self.xp.arange(self.chunk_rows)
        self.X, self.T = self._device[:2]
        self.W = self._device[2] if W is not None else None

    @property
    def resident(self) -> bool:
        """True when all the rows live on the GPU."""
        return self._host is None

    def chunks(self, order: numpy.ndarray):
        """The device row indices of each chunk for the epoch's ``order``; a chunk is loaded when reached."""
        if self.resident:
            return [self.xp.asarray(order)]  # the epoch's one transfer to the GPU
        return self._loaded_chunks(order)

    def _loaded_chunks(self, order: numpy.ndarray):
        for start in range(0, self.n, self.chunk_rows):
            rows = order[start:start + self.chunk_rows]
            for host, device in zip(self._host, self._device):
                device[:len(rows)].set(numpy.ascontiguousarray(host[rows]))
            yield self._local[:len(rows)]


class DeviceLoop(Loop):
    """``Loop`` with the epoch run on the GPU; ``graph`` is "auto", True or False (see ``fit``)."""

    def __init__(self, settings: LoopSettings, *, graph: str | bool = "auto") -> None:
        super().__init__(settings)
        cupy = module_for("cuda")
        xp, flat = cupy, settings.flat
        self.stream = cupy.cuda.Stream(non_blocking=False)
        self.data = DeviceData(self.X, self.T, self.weights, self.batch_size, data_budget_bytes())
        self.X_batch = xp.empty((self.batch_size, self.X.shape[1]), dtype=self.X.dtype)
        self.rows = xp.zeros(self.batch_size, dtype=xp.int64)  # the captured step's batch indices
        self.hyper = kernels.new_hyper()  # [η, t, the optimizer's scalars] of the next step
        self.status = xp.zeros(2, dtype=xp.int64)  # [diverged: 1 the loss, 2 the gradient; steps applied]
        self.scores = Scores(self.loss.task, target_scale=self.target_scale)  # mae in y's units
        self.norms = xp.zeros((2, len(self.weight_slices)), dtype=xp.float64)  # epoch's sum, first batch
        self.flat = flat
        self.steps_applied = 0
        self.captured = None  # the CapturedStep, once made
        self.graph_used = False
        self.checks_held = False  # whether this step checks that the layers still hold their views
        self.plan_steps()
        if graph is True and self.fused is None:
            raise DeviceError(f"graph=True: {kernels.unfused_name(self.optimizer)} has no fused step, and its own "
                              f"code reads η, t and its scalars on the host at each step, which a captured graph "
                              f"would keep; use graph='auto' or False")
        self.graph = graph if self.fused is not None else False
        self.lr = self.optimizer.current_lr  # η of the step being taken

    def planned(self) -> tuple:
        """``(frozen, stretches)``: the names of the frozen parameters and the stretches
        ``(slice, missed)`` the optimizer steps now, as ``Optimizer.plan`` decides for the CPU's
        step (all of θ as one stretch unless layers are frozen or an Adam's parameters missed steps)."""
        plan = self.optimizer.plan(self.flat)
        return ((), [(slice(0, self.flat.theta.size), 0)]) if plan is None else plan

    def plan_steps(self) -> None:
        """Take the stretches the optimizer steps (:meth:`planned`) and make the fused step over them.

        Called at the start and whenever they changed between epochs (a callback that froze or
        unfroze layers, or loaded an optimizer state of other step counts); a captured step,
        recorded with the old stretches and backward, is then released and captured again at the
        next full batch. The gradients of frozen parameters, which backward no longer writes,
        are set to 0, so that the guard's Σg² reads only this step's gradient.
        """
        optimizer, flat = self.optimizer, self.flat
        self.frozen, self.stretches = self.planned()
        for name in self.frozen:
            flat.grad[flat.slices[name]] = 0
        self.whole = self.stretches == [(slice(0, flat.theta.size), 0)] and not self.frozen
        self.fused = kernels.fused_update(optimizer, flat, self.stretches)
        if self.captured is not None:
            self.stream.synchronize()
            self.captured.close()
            self.captured = None

    def step(self, rows) -> None:
        """Forward, loss, backward, metrics, guard and update for the batch ``rows`` (device indices)."""
        xp = module_for("cuda")
        X_batch = xp.take(self.data.X, rows, axis=0, out=self.X_batch[:len(rows)])
        T_batch = xp.take(self.data.T, rows, axis=0)
        W_batch = None if self.data.W is None else xp.take(self.data.W, rows)
        Y = self.model.forward(X_batch)
        value, dY = self.loss.compute(Y, T_batch) if W_batch is None else self.loss.compute(Y, T_batch, W_batch)
        try:
            self.model.backward(dY, input_grad=False)
        except Exception:  # a custom loss's dY that does not fit Y is named as the loss's, as on the CPU
            check_loss_gradient(self.loss, dY, Y)
            raise
        if self.checks_held:  # before the step, as on the CPU: a backward that rebinds its gradient is refused
            self.flat.check_still_held()
        check_loss_value(self.loss, value)  # its shape and dtype only: nothing leaves the device
        self.scores.add(Y, T_batch, value, W_batch)
        kernels.guard(value, kernels.sum_of_squares(self.flat.grad), self.status)
        if self.fused is not None:
            self.fused(self.hyper, self.status)
        else:
            self.generic_update()

    def generic_update(self) -> None:
        """The step of an optimizer without a fused kernel: its own update, or its rule on each
        stretch, applied unless a step has diverged (its state takes in every step queued)."""
        optimizer, flat = self.optimizer, self.flat
        if self.whole:
            scale, direction = optimizer.update(flat.theta, flat.grad, self.lr)
            kernels.apply_step(scale, direction, self.status, flat.theta)
            return
        vectors = optimizer.vectors()
        for where, missed in self.stretches:
            part = vectors.part(where, optimizer.t - missed)
            scale, direction = optimizer.rule(flat.theta[where], flat.grad[where], self.lr, part)
            kernels.apply_step(scale, direction, self.status, flat.theta[where])

    def run_full_batch(self, rows) -> None:
        """The step for a full batch: replayed from the graph when there is one."""
        if self.graph is False:
            self.step(rows)
            return
        self.rows[...] = rows
        if self.captured is not None:
            self.captured.replay()
            return
        captured = None
        try:
            captured = CapturedStep(lambda: self.step(self.rows), self.stream)
            captured.warm_up_and_capture()  # the warm-up is this batch's real step
        except DeviceError as error:
            if captured is not None:
                captured.close()
            if self.graph is True:
                raise
            warnings.warn(f"{error}; training continues without a CUDA graph", RuntimeWarning, stacklevel=2)
            self.graph = False
            if captured is None or not captured.warmed_up:
                self.step(rows)
            return
        self.captured, self.graph_used = captured, True

    def batches(self, chunks):
        """The epoch's minibatches as device row indices, chunk after chunk."""
        for rows_of_chunk in chunks:
            for start in range(0, len(rows_of_chunk), self.batch_size):
                yield rows_of_chunk[start:start + self.batch_size]

    def run_epoch(self, epoch: int, bar) -> dict:
        # The host counts t as it queues steps, and the frozen parameters' missed steps (and t after a
        # divergence) at the epoch's end: a second Ctrl-C waits for the epoch's end (after the current
        # batch, as the first Ctrl-C stops there), so that the counts and θ agree (see WholeUpdate).
        with self.whole_update:
            with self.stream:
                logs = self._run_epoch(epoch, bar)
            self.stream.synchronize()
        return logs

    def _run_epoch(self, epoch: int, bar) -> dict:
        n_batches = math.ceil(len(self.X) / self.batch_size)
        order = self.epoch_order(len(self.X))  # the CPU's order, from the same Generator
        bar.set_description(f"epoch {epoch}/{self.epochs}")
        if self.planned() != (self.frozen, self.stretches):  # a callback froze or unfroze layers
            self.plan_steps()
        self.scores.reset()
        self.norms[0] = 0
        steps_before = self.steps_applied
        n_norms, n_run = self.train_batches(self.data.chunks(order), epoch, n_batches, bar)
        status = to_numpy(self.status)  # the epoch's one look at the device, with the metrics below
        self.steps_applied = int(status[1])
        applied = self.steps_applied - steps_before
        # t, counted by the host for every batch queued, and the frozen parameters' missed steps
        # count the steps as the CPU does
        taken = steps_taken(int(status[0]), applied, n_run)
        self.optimizer.t -= n_run - taken
        for name in self.frozen:
            self.optimizer.missed[name] = self.optimizer.missed.get(name, 0) + taken
        if status[0]:
            # As on the CPU, a refused step (its gradient not finite) starts the state afresh; an optimizer
            # without a fused kernel took in every batch queued, also after a loss that was not finite.
            if self.fused is None or status[0] == kernels.GRADIENT_NOT_FINITE:
                self.optimizer.reset_state()
            raise self.diverged(epoch, applied, n_batches, LOSS_NOT_FINITE
                                if status[0] == kernels.LOSS_NOT_FINITE else GRADIENT_NOT_FINITE)
        norms = to_numpy(self.norms)
        if epoch == 1:
            self.history.initial_grad_norms = dict(zip(self.weight_slices, map(float, norms[1])))
        for name, total in zip(self.weight_slices, norms[0]):
            self.history.grad_norms.setdefault(name, []).append(float(total) / max(n_norms, 1))
        return self.scores.result()

    def train_batches(self, chunks, epoch: int, n_batches: int, bar) -> tuple[int, int]:
        """Queue the steps of every batch of the epoch without waiting for the GPU; returns how
        many norms were sampled and how many batches were queued."""
        optimizer, grad = self.optimizer, self.flat.grad
        stride = math.ceil(n_batches / GRAD_NORM_SAMPLES)
        n_norms = n_run = 0
        for batch, rows in enumerate(self.batches(chunks)):
            self.lr = optimizer.current_lr
            optimizer.t += 1
            kernels.set_hyper(self.hyper, optimizer, self.lr, optimizer.t)
            self.checks_held = batch == 0  # once an epoch, as on the CPU (a replayed step runs no Python)
            if len(rows) == self.batch_size:
                self.run_full_batch(rows)
            else:
                self.step(rows)
            n_run += 1
            if batch % stride == 0:
                self.add_grad_norms(grad, first=epoch == 1 and batch == 0)
                n_norms += 1
            bar.update(len(rows))
            if self.comm.stops_mid_epoch(self.interrupted):
                self.partial_epoch = batch + 1 < n_batches
                break
        return n_norms, n_run

    def add_grad_norms(self, grad, first: bool) -> None:
        """Add ‖∂L/∂W‖ of every layer to the epoch's sums, on the device; also keep them for the first batch.

        Each norm is summed in float64 (:func:`chainrule.cuda.kernels.norm`), as the CPU's loop
        records it (``backend.norm``): in a float32 gradient's own dtype a vanishing gradient (1e-25,
        a deep sigmoid network's first layer) was recorded as 0 and one of 1e20 as inf."""
        for index, where in enumerate(self.weight_slices.values()):
            norm = kernels.norm(grad[where])
            self.norms[0, index] += norm
            if first:
                self.norms[1, index] = norm

    def reused_loss(self) -> None:
        """No loss: on the GPU the loss computes into new arrays, as before the CPU's loss reused
        its own (a step captured into a CUDA graph; that path is untested on a device), also in a
        callback of a CPU fit on the same loss object, whose store is not current here."""
        return None

    def close(self) -> None:
        """Release the captured graph, if any."""
        if self.captured is not None:
            self.stream.synchronize()
            self.captured.close()
            self.captured = None
