"""The epochs of one ``fit``: minibatch steps of backpropagation, and how they are shown and scored.

:class:`Loop` holds one ``fit`` call's training state and runs its epochs over prepared
arrays: per-epoch shuffling, each batch standardized as it is gathered when ``fit`` hands it a
preprocessor (an X above ``STANDARDIZED_COPY_BYTES``, of which no standardized copy is then
made), each step's forward pass, ∇_y L from the loss, the backward
pass into ∂L/∂θ and the optimizer's update; the divergence guard, per-layer gradient norms,
the progress bar and epoch lines on stderr, and Ctrl-C, which ends training after the current
batch (a second one aborts, but never in the middle of an optimizer step). ``score_chunks``
scores prepared data a block of rows at a time, for the validation set after each epoch and
for ``evaluate``. The GPU's loop
(:mod:`chainrule.training.device_loop`) is a Loop that runs the epoch on the device.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import signal
import sys
import threading
from typing import Callable, NamedTuple

import numpy
from tqdm import autonotebook, std
from tqdm.auto import tqdm

from ..backend import Array, get_array_module, norm, to_device
from ..buffers import loss_buffers
from ..data.preprocessing import TRANSFORM_CHUNK, Preprocessor
from ..errors import DTypeError, DivergenceError, ShapeError
from ..layers.layer import Layer
from ..losses.loss import Loss, built_in_compute
from ..optimizers import Optimizer
from ..parameters import FlatParameters
from .distributed import AGREED, SingleProcess, ranks_named
from .history import History, layer_of
from .metrics import Scores
from .outputs import check_outputs

EVAL_CHUNK = 4096  # rows per forward pass when scoring prepared data (validation sets, evaluate)
BAR_COLUMNS = 100  # the widest a progress bar's line gets: its ~60 characters of text, and a bar of ~40 cells
GRAD_NORM_SAMPLES = 16  # at most this many evenly spaced batches per epoch record gradient norms
# tqdm.auto draws a widget in a Jupyter notebook, whose stderr is no terminal but shows a bar well.
NOTEBOOK_BAR = autonotebook.tqdm is not std.tqdm


class LoopSettings(NamedTuple):
    """What the epochs of one ``fit`` call run on, as ``fit`` has checked and prepared it."""

    model: Layer
    loss: Loss
    optimizer: Optimizer  # made for ``model``, on its device
    X: Array  # inputs (n_samples, n_features) in the model's dtype, or raw (in their own dtype) when
    # ``preprocessor`` standardizes them; the training rows among them are ``train_rows``
    T: Array  # prepared targets, as ``loss`` takes them
    batch_size: int  # the resolved rows per step
    rng: numpy.random.Generator  # the per-epoch shuffling
    history: History  # filled epoch by epoch
    verbose: int  # 0, 1 or 2 (see ``fit``)
    epochs: int  # the last epoch to run
    start_epoch: int  # epochs start_epoch + 1 to epochs run (0, or a checkpoint's)
    comm: SingleProcess  # the ranks' communicator (a single process's does nothing)
    # model.flat_parameters() as the epochs start. The CPU loop asks again each epoch (callbacks run between); the
    # GPU loop keeps it, and its first step of each epoch refuses layers that no longer hold its views.
    flat: FlatParameters
    weights: numpy.ndarray | None = None  # the rows' sample weights (float64), or None
    train_rows: numpy.ndarray | None = None  # the indices in X of T's rows (those left for training), or None: all
    preprocessor: Preprocessor | None = None  # standardizes each batch as it is gathered, when it has a mean
    target_scale: numpy.ndarray | None = None  # σ_y of standardized targets (mae is reported times it), or None
    inputs_standardized: bool = False  # whether X is standardized (here, or in a copy made before): for advice only
    shuffle: bool = True  # False: every epoch takes the rows in order (and draws nothing from rng)
    # The caller's order of each epoch's rows, in place of the above (see ``fit``'s private _epoch_order): called once
    # an epoch with the number of training rows, it returns their indices in the order to visit them. None: the above.
    epoch_order: Callable[[int], numpy.ndarray] | None = None


class Loop:
    """The state of one ``fit`` call's epochs over prepared arrays, on the CPU.

    ``fit`` makes it from the :class:`LoopSettings` of the run, then calls ``run_epoch`` once
    per epoch inside ``interruptible()`` and ``progress_bar()``; each method is one piece of
    that epoch.
    """

    graph_used = False  # whether steps were replayed from a CUDA graph (the GPU loop sets it)

    def __init__(self, settings: LoopSettings) -> None:
        self.model, self.loss, self.optimizer = settings.model, settings.loss, settings.optimizer
        self.X, self.T, self.batch_size, self.rng = settings.X, settings.T, settings.batch_size, settings.rng
        self.shuffle, self.given_order = settings.shuffle, settings.epoch_order
        self.weights = settings.weights  # the rows' sample weights (float64), or None
        self.train_rows = settings.train_rows  # row i of T is row train_rows[i] of X (None: row i)
        self.target_scale = settings.target_scale
        self.inputs_standardized = settings.inputs_standardized
        self.w_batch = None if self.weights is None else numpy.empty(self.batch_size)  # reused each step
        self.history, self.comm = settings.history, settings.comm
        self.verbose = settings.verbose and self.comm.is_root
        # verbose=1: the bar where it can be drawn; redirected, on a dumb terminal, and with verbose=2, only lines
        self.shows_bar = (bool(self.verbose) and settings.verbose == 1
                          and (NOTEBOOK_BAR or draws_bar(sys.stderr)))
        self.epochs, self.start_epoch = settings.epochs, settings.start_epoch
        self.interrupted = False
        self.partial_epoch = False  # Ctrl-C came before the last batch of the epoch
        self.whole_update = WholeUpdate()  # the optimizer's update, during which a second Ctrl-C is held
        flat = settings.flat
        X, xp = self.X, get_array_module(self.X)
        self.X_batch = xp.empty((self.batch_size, X.shape[1]), dtype=flat.theta.dtype)  # reused each step
        self.T_batch = xp.empty((self.batch_size,) + self.T.shape[1:], dtype=self.T.dtype)  # so are the targets
        self.score_work = {}  # the epochs' Scores' work arrays (regression, multilabel), made once
        # With a preprocessor, each batch is standardized as it is gathered (X itself is not);
        # through a float64 buffer of at most TRANSFORM_CHUNK rows, made once. Raw rows in
        # another dtype than the model's (float64, integers) are gathered into a buffer of their own.
        standardizes = settings.preprocessor is not None and settings.preprocessor.mean is not None
        self.preprocessor = settings.preprocessor if standardizes else None
        self.raw_batch = (xp.empty((self.batch_size, X.shape[1]), dtype=X.dtype)
                          if X.dtype != self.X_batch.dtype else self.X_batch)
        self.work = (numpy.empty((min(self.batch_size, TRANSFORM_CHUNK), X.shape[1]), dtype=numpy.float64)
                     if standardizes else None)
        # Layers with weights, for the gradient-flow record: "0.W" -> layer "0". A layer frozen as
        # the fit starts has no gradient to record (its norm would read as a vanished gradient).
        frozen = set(flat.frozen_names())
        self.weight_slices = {layer_of(name): flat.slices[name] for name in flat.names
                              if name.rpartition(".")[2] == "W" and name not in frozen}

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release what the loop holds beyond its arrays (the GPU loop's CUDA graph)."""

    def reusing_buffers(self) -> contextlib.ExitStack:
        """Context in which the model's layers (``Layer.reusing_buffers``) and a built-in loss
        (``chainrule.buffers.loss_buffers``) write into the same arrays at every step. A loss whose
        ``compute`` is its own may call a built-in one twice a step (two ∂L/∂Y alive at once): it
        computes into new arrays, as before, and so does the built-in loss it calls, even where
        that is the loss of a fit whose callback runs this one."""
        stack = contextlib.ExitStack()
        stack.enter_context(self.model.reusing_buffers())
        stack.enter_context(loss_buffers(self.reused_loss()))
        return stack

    def reused_loss(self) -> Loss | None:
        """The loss whose ``compute`` writes into the loop's store: the loop's, where that is a
        built-in compute; else None, no loss's."""
        return self.loss if built_in_compute(self.loss) else None

    def epoch_order(self, n_train: int) -> numpy.ndarray:
        """The order in which an epoch visits the ``n_train`` training rows: the caller's (``given_order``,
        see ``LoopSettings.epoch_order``), else a permutation drawn from the run's Generator, or,
        without ``shuffle``, 0..n_train−1 (drawing nothing)."""
        if self.given_order is not None:
            return self.given_order(n_train)
        return self.rng.permutation(n_train) if self.shuffle else numpy.arange(n_train)

    def run_epoch(self, epoch: int, bar) -> dict:
        """One pass over the training data (shuffled unless ``shuffle`` is False); returns the epoch's
        training metrics."""
        optimizer, flat = self.optimizer, self.model.flat_parameters()
        n_train = len(self.T)
        n_batches = math.ceil(n_train / self.batch_size)
        order = self.epoch_order(n_train)
        stride = math.ceil(n_batches / GRAD_NORM_SAMPLES)
        bar.set_description(f"epoch {epoch}/{self.epochs}")
        scores = Scores(self.loss.task, shift=self.T[order[0]] if n_train else None,  # one K on every rank
                        target_scale=self.target_scale, work=self.score_work)
        norm_sums = dict.fromkeys(self.weight_slices, 0.0)
        n_norms = 0
        with optimizer.stepping():  # the state as documented again when the epoch ends
            for batch in range(n_batches):
                rows = order[batch * self.batch_size:(batch + 1) * self.batch_size]
                own_rows = self.comm.shard(rows)
                failure = None
                try:
                    value = self.backpropagate(own_rows, scores, flat)
                    if batch == 0:  # once an epoch: a backward that rebinds its gradient is refused, not trained stale
                        flat.check_still_held()
                except AGREED as error:
                    if self.comm.size == 1:
                        raise
                    # Perhaps on this rank alone (a loss or layer of one's own): sent as a loss not finite, whose
                    # NaN in the all-reduced gradient makes every rank refuse the step, and all stop with it below.
                    failure, value = error, math.nan
                if self.weights is None:
                    self.comm.average_gradient(flat.grad, len(own_rows), len(rows), value)
                else:  # each rank's mean counts as its rows' share of the batch's weight
                    self.comm.average_gradient(flat.grad, *self.weight_sums(own_rows, rows), value)
                if not math.isfinite(value) and self.comm.size == 1:  # several ranks all take the step, below
                    raise self.diverged(epoch, batch, n_batches, LOSS_NOT_FINITE)
                if batch % stride == 0:
                    norms = self.layer_grad_norms(flat.grad)
                    if epoch == 1 and batch == 0:
                        self.history.initial_grad_norms = dict(norms)
                    for name, grad_norm in norms.items():
                        norm_sums[name] += grad_norm
                    n_norms += 1
                # A non-finite gradient makes a non-finite step, which is then not applied. A second
                # Ctrl-C during the step waits for it: θ and the state are never left half updated.
                # With several ranks, one whose loss is not finite takes the step too, which its NaN in the
                # all-reduced gradient makes every rank refuse alike: t and the state stay the same on all.
                with self.whole_update:
                    stepped = optimizer.step(check_finite=True, flat=flat)
                if not (stepped and math.isfinite(value)):  # on every rank alike: whose error was it, if any?
                    self.comm.raise_together(failure, f"training at epoch {epoch}, batch {batch + 1}/{n_batches}")
                if not math.isfinite(value):
                    raise self.diverged(epoch, batch, n_batches, LOSS_NOT_FINITE)
                if not stepped:
                    raise self.diverged(epoch, batch, n_batches, refused_step(flat.grad))
                bar.update(len(rows))
                if self.comm.stops_mid_epoch(self.interrupted):
                    self.partial_epoch = batch + 1 < n_batches
                    break
        for name, total in norm_sums.items():
            self.history.grad_norms.setdefault(name, []).append(total / max(n_norms, 1))
        self.comm.sum_scores(scores)
        self.comm.check_same_parameters(flat.theta, epoch)  # a callback run on some ranks only shows here
        return scores.result()

    def backpropagate(self, rows, scores: Scores, flat) -> float:
        """Forward ``rows``, score them, and backpropagate their mean loss into ``flat.grad``; returns the loss.

        No rows (a process's share of a short last batch) give a zero gradient and loss. With
        sample weights the mean is the weighted one (rows all of weight 0: gradient and loss 0).
        """
        if len(rows) == 0:
            flat.grad[...] = 0
            return 0.0
        xp = get_array_module(self.X)
        # Into a buffer made once; mode="clip" (the rows are valid) spares take's copy through a
        # temporary, which mode="raise" makes whenever out= is given: 3x faster at batch 1024.
        X_rows = rows if self.train_rows is None else self.train_rows[rows]
        X_batch = xp.take(self.X, X_rows, axis=0, out=self.raw_batch[:len(rows)], mode="clip")
        if self.preprocessor is not None:
            X_batch = self.standardize(X_batch)
        T_batch = xp.take(self.T, rows, axis=0, out=self.T_batch[:len(rows)], mode="clip")
        Y = self.model.forward(X_batch)
        if self.weights is None:
            w_batch = None
            value, dY = self.loss.compute(Y, T_batch)
        else:
            w_batch = numpy.take(self.weights, rows, out=self.w_batch[:len(rows)], mode="clip")
            value, dY = self.loss.compute(Y, T_batch, w_batch)
        try:
            self.model.backward(dY, input_grad=False)
        except Exception:  # a custom loss's dY that does not fit Y is named as the loss's, not the last layer's
            check_loss_gradient(self.loss, dY, Y)
            raise
        return add_scores(scores, self.loss, Y, T_batch, value, w_batch)

    def standardize(self, raw_rows):
        """The gathered ``raw_rows`` standardized into the model's dtype (in place when they are
        in it), ``TRANSFORM_CHUNK`` at a time through the float64 work buffer: each value as
        ``Preprocessor.transform`` computes it."""
        X_batch = self.X_batch[:len(raw_rows)]
        for start in range(0, len(raw_rows), TRANSFORM_CHUNK):
            stop = start + TRANSFORM_CHUNK
            self.preprocessor.standardize_into(raw_rows[start:stop], X_batch[start:stop], self.work)
        return X_batch

    def weight_sums(self, own_rows, rows) -> tuple[float, float]:
        """(Σ w over ``own_rows``, Σ w over the batch's ``rows``), by which the ranks average their
        weighted means; a batch of weight 0 gives (0, 1): its gradient is 0 on every rank."""
        batch_total = float(self.weights[rows].sum())
        if batch_total == 0:
            return 0.0, 1.0
        return float(self.weights[own_rows].sum()), batch_total

    def diverged(self, epoch: int, batch: int, n_batches: int, what: str) -> DivergenceError:
        """The error for a non-finite value at (epoch, batch), ``what`` saying which; θ is then still finite.

        A loss that is not finite before the optimizer's first step (t = 0), or a gradient that
        is not finite at that step (t = 1: the refused step counts), comes from the data, the
        initial weights, the network or the loss, not from the learning rate, which no step has
        applied yet: the error says so, and what to scale.

        With several ranks every rank stops at the same step, each for its own reason: a rank whose
        loss is not finite sends NaN in the gradient's all-reduce, so the others find the gradient
        not finite; it takes the refused step with them (t + 1, the state afresh), so that the ranks'
        optimizers stay alike, as their weights do. The error is marked alike on every rank (one
        rank's alone is shown), so the ranks first learn whose loss was not finite, in one all-gather
        made on this failure path alone, and all name them: "the loss is not finite on rank 1 of 2"."""
        own_loss = what == LOSS_NOT_FINITE
        counted = not own_loss or self.comm.size > 1  # the refused step counts in t; one process stops before it
        before_any_step = (own_loss or what == GRADIENT_NOT_FINITE) and self.optimizer.t == int(counted)
        alike = self.comm.size > 1  # every rank stops here: a loss not finite on one is NaN in the gradient of all
        if alike:
            losses = self.comm.ranks_where(own_loss, "agreeing on why training diverged")
            if losses:
                what = f"{LOSS_NOT_FINITE} on {ranks_named(losses, self.comm.size)}"
        where = f"at epoch {epoch}, batch {batch + 1}/{n_batches}: {what}"
        if before_any_step:
            for name, value in self.model.params.items():
                if not bool(get_array_module(value).isfinite(value).all()):
                    return DivergenceError(f"training diverged {where}; the model's parameter {name!r} held NaN or "
                                           f"infinity before any step: initialize or load finite weights",
                                           where=where, at_start=True, same_on_every_rank=alike)
            advice = [] if self.inputs_standardized else ["standardize the inputs (standardize=True)"]
            if self.loss.task == "regression" and self.target_scale is None:
                advice.append("standardize the targets (standardize_targets=True)")
            if self.model.dtype == numpy.float32:
                advice.append("train in float64")
            cause = (f"the rows or their targets are too large for the network or the loss in {self.model.dtype}: "
                     f"{', or '.join(advice)}" if advice else standardized_already(where))
            return DivergenceError(f"training diverged {where}; {AT_START}: {cause}", where=where, at_start=True,
                                   same_on_every_rank=alike)
        return DivergenceError(f"training diverged {where}; the model keeps its last finite weights; try a lower "
                               f"learning rate (lr={self.optimizer.lr:g})", where=where, same_on_every_rank=alike)

    def layer_grad_norms(self, grad) -> dict:
        """‖∂L/∂W‖ for every layer with weights, from the flat gradient (summed in float64, see
        ``backend.norm``: a vanishing gradient is recorded as small, not 0)."""
        return {name: norm(grad[where]) for name, where in self.weight_slices.items()}

    def describe(self, logs: dict) -> str:
        """An epoch's metrics in one line: "loss 0.0913, accuracy 0.982"."""
        return ", ".join(f"{name} {value:.4g}" for name, value in logs.items())

    def report_epoch(self, bar, epoch: int, logs: dict) -> None:
        """Print a finished epoch's line on stderr: above the bar when there is one, so the
        learning curve stays on screen, or alone. Nothing when verbose=0."""
        if not self.verbose:
            return
        line = f"epoch {epoch}/{self.epochs}: {self.describe(logs)}"
        if self.partial_epoch:  # Ctrl-C before its last batch: the values of the batches it ran
            line += " (interrupted: part of the epoch)"
        if self.shows_bar:
            bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def report_stop(self, stopped_by: list, epoch: int) -> None:
        """Print on stderr why the callbacks ``stopped_by`` stopped training after ``epoch``
        (one line each); the bar is closed by then. Nothing when verbose=0."""
        if self.verbose:
            for callback in stopped_by:
                print(callback.stop_message(epoch), file=sys.stderr, flush=True)

    def progress_bar(self):
        """A tqdm bar over the samples of the remaining epochs; a :class:`NoBar`, which draws
        nothing, when there is no bar to show (verbose=0 or 2, stderr redirected, or TERM=dumb)."""
        if not self.shows_bar:
            return NoBar()
        total = (self.epochs - self.start_epoch) * len(self.T)
        bar = tqdm if NOTEBOOK_BAR else TerminalBar
        return bar(total=total, unit="sample", unit_scale=True, file=sys.stderr,
                   desc=f"training {self.epochs - self.start_epoch} epochs", dynamic_ncols=True, leave=True)

    def interruptible(self):
        """Context in which Ctrl-C ends training after the current batch (a second one aborts,
        once the optimizer's update under way, if any, is whole)."""
        return _StopOnInterrupt(self)


class TerminalBar(std.tqdm):
    """tqdm's bar in a terminal, as wide as the terminal (measured again at each redraw, so that
    a narrowed window gets no wrapped lines) but at most BAR_COLUMNS: tqdm fills any width, and
    a 400-column terminal drew a bar of 350 blocks. Its ``format_dict`` (tqdm's public view of
    what it is about to draw) caps ``ncols``."""

    @property
    def format_dict(self) -> dict:
        shown = super().format_dict
        if shown["ncols"]:
            shown["ncols"] = min(shown["ncols"], BAR_COLUMNS)
        return shown


class NoBar:
    """The part of a tqdm bar that the loops use, doing nothing: what a disabled tqdm bar does,
    without making one (~20 µs) at every ``fit`` call, which a streaming loop of small fits pays
    at each of them."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def set_description(self, text: str) -> None:
        pass

    def update(self, n: int) -> None:
        pass


class WholeUpdate:
    """An optimizer's update, which a second Ctrl-C does not cut in two: both loops run theirs
    (the CPU's step; the GPU's epoch of queued steps, whose counts the host settles at its end)
    as ``with loop.whole_update:``.

    A second SIGINT that comes while it is ``updating`` is kept in ``abort`` by
    :class:`_StopOnInterrupt`'s handler, and called once the update is whole (the block ended
    without an error), then forgotten: a previous handler of one's own may not raise, and would
    otherwise be called again after every later update. One object per loop, entered at every
    step: its entry and exit, two attribute stores and a read (about 0.1 µs), no signal call."""

    __slots__ = ("updating", "abort")

    def __init__(self) -> None:
        self.updating = False  # True while the optimizer updates θ and its state
        self.abort = None  # a second Ctrl-C that came during the update, called once the update is whole

    def __enter__(self) -> None:
        self.updating = True

    def __exit__(self, error_type, error, traceback) -> None:
        self.updating = False
        if error_type is None and self.abort is not None:
            abort, self.abort = self.abort, None  # passed on once: a handler may not raise
            abort()


class _StopOnInterrupt:
    """SIGINT sets the loop's ``interrupted`` flag instead of raising, once.

    The second SIGINT does what SIGINT did before ``fit`` (the previous handler: Python's
    raises KeyboardInterrupt), but never in the middle of an optimizer step: one that comes
    during the loop's :class:`WholeUpdate` (θ and the optimizer's state, and on the GPU the
    epoch's queued steps and their count) waits until the update is whole. So the model and the
    optimizer that a KeyboardInterrupt leaves behind are those of a whole number of steps, as
    consistent as after a Ctrl-C that stopped the run. A third SIGINT during that update is
    passed on at once: the way out of a step that hangs. No signal call is made per step.

    Only in the main thread, and only where Python's own handler can be put back afterwards: a
    handler installed outside Python (a program embedding Python; ``signal.getsignal`` gives
    None) is left in place, as Python could not restore it."""

    def __init__(self, loop: Loop) -> None:
        self.loop = loop
        self.previous = None

    def _handle(self, signum, frame) -> None:
        update = self.loop.whole_update
        if not self.loop.interrupted:
            self.loop.interrupted = True
        elif update.updating and update.abort is None:  # a third one does not wait (a step that hangs)
            update.abort = lambda: self._abort(signum, frame)
        else:
            self._abort(signum, frame)

    def _abort(self, signum, frame) -> None:
        """The second SIGINT: the previous handler's, which is put back (a third is its own too)."""
        signal.signal(signal.SIGINT, self.previous)
        if callable(self.previous):
            self.previous(signum, frame)
        else:  # SIG_DFL ends the process, as SIGINT would have; SIG_IGN does nothing
            signal.raise_signal(signal.SIGINT)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is not None:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def draws_bar(stream) -> bool:
    """Whether a progress bar, redrawn in place with carriage returns, may be shown on ``stream``:
    a terminal, but not one that says it is dumb (``TERM=dumb``: Emacs' ``M-x shell``, editors'
    output panes), which would show every redraw; rich (pip's bars) and cargo leave theirs out there too."""
    return writes_to_terminal(stream) and os.environ.get("TERM") != "dumb"


def writes_to_terminal(stream) -> bool:
    """Whether ``stream`` is a terminal: not a file, a pipe or a closed stream."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty (None, a custom object), or closed
        return False


def evaluate_prepared(model: Layer, X, T, loss, prefix: str = "", weights=None, target_scale=None) -> dict:
    """Loss and metrics of ``model`` on prepared inputs and targets, EVAL_CHUNK rows at a time;
    weighted by the rows' ``weights`` (NumPy, float64) when given; ``target_scale`` as in ``Scores``."""
    chunks = ((start, X[start:start + EVAL_CHUNK]) for start in range(0, len(X), EVAL_CHUNK))
    return score_chunks(model, chunks, lambda n_outputs: T, loss, prefix, weights, target_scale)


def score_chunks(model: Layer, chunks, targets, loss, prefix: str = "", weights=None, target_scale=None) -> dict:
    """Loss and metrics of ``model`` over consecutive blocks of prepared rows, as one Scores.

    ``chunks`` yields (start, inputs) for rows start..start+len(inputs); ``targets(n_outputs)``
    returns the prepared targets of all the rows (on any device), asked once, when the first
    outputs show their width. Each block's targets go to the model's device. With ``weights``
    (one per row, on the CPU; each block's go to the model's device too) the loss and metrics
    are weighted. ``target_scale`` (σ_y of standardized targets, or None) gives ``mae`` in the
    targets' units (see ``Scores``).
    """
    scores, T = Scores(loss.task, target_scale=target_scale), None
    for start, inputs in chunks:
        Y = model.forward(inputs)
        if T is None:
            check_outputs(model, inputs, Y)  # once: a layer of one's own that returns a vector, named
            T = targets(Y.shape[1])
        T_chunk = to_device(T[start:start + len(Y)], model.device)
        if weights is None:
            w_chunk = None
            value, _ = loss.compute(Y, T_chunk)
        else:
            w_chunk = to_device(weights[start:start + len(Y)], model.device)
            value, _ = loss.compute(Y, T_chunk, w_chunk)
        add_scores(scores, loss, Y, T_chunk, value, w_chunk)
    return scores.result(prefix)


#: why a loss (or the first step's gradient) that is not finite before any step is: the data, not the learning rate
AT_START = "it was so at the initial weights, before any step, so the learning rate is not the cause"
#: what a loss that is not finite is (with several ranks, followed by the ranks whose loss it was)
LOSS_NOT_FINITE = "the loss is not finite"
#: what a step refused for its gradient is (the GPU loop's guard refuses a gradient whose Σg² overflows too)
GRADIENT_NOT_FINITE = "the gradient is not finite"


def refused_step(grad) -> str:
    """Why the optimizer refused a step, from the gradient ∂L/∂θ it was given: the gradient
    itself when it holds NaN or Inf, else "the gradient or the update" (a finite gradient whose
    update overflows: too large a learning rate, perhaps)."""
    if bool(get_array_module(grad).isfinite(grad).all()):
        return "the gradient or the update is not finite"
    return GRADIENT_NOT_FINITE


def standardized_already(where: str) -> str:
    """The cause left of a value not finite before any step (``where``, a DivergenceError's, says
    which) when the data are standardized and in float64: the initial weights, or the computation
    that made the value, the loss's own (a loss) or a backward pass's (a gradient)."""
    made_by = ("a backward pass, of a layer or of the loss (one of one's own?)" if where.endswith(GRADIENT_NOT_FINITE)
               else "the loss's own computation (a loss of one's own?)")
    return f"the data are standardized already, so the initial weights or {made_by} made it"


def add_scores(scores: Scores, loss: Loss, Y, T, value, weights) -> float:
    """Add a batch's outputs Y, targets T and mean loss ``value`` (L as ``loss.compute``
    returned it) to ``scores``; returns L as a float. An L that is not a scalar raises the
    error of :func:`check_loss_value`: an array is caught by its ndim (NumPy 1.x would add one
    of shape (1,) and take its float without a word), anything else where adding or float()
    fails, so that a scalar L costs no check."""
    if getattr(value, "ndim", 0):
        check_loss_value(loss, value)
    try:
        scores.add(Y, T, value, weights)
        return float(value)
    except (TypeError, ValueError):
        check_loss_value(loss, value)
        raise


def check_loss_value(loss: Loss, value) -> None:
    """ShapeError (an array of another shape than ()) or DTypeError (not a real number: None, a
    string, a complex number, a date, also as a 0-d array) naming ``loss`` unless the L its
    compute returned is a scalar: a real number or a 0-d array of booleans, integers or floats."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape == () and getattr(dtype, "kind", None) in REAL_KINDS or shape is None and isinstance(value, numbers.Real):
        return
    expected = ("expected a scalar, the batch's mean loss (a float or a 0-d array), returned with ∂L/∂Y as "
                "(L, dY)")
    if shape is not None and shape != ():
        raise ShapeError(f"loss: {type(loss).__name__}.compute returned L of shape {tuple(shape)}; {expected}; "
                         f"for per-row losses l_n return their mean")
    of_dtype = "" if dtype is None or type(value).__name__ == str(dtype) else f" of dtype {dtype}"
    raise DTypeError(f"loss: {type(loss).__name__}.compute returned L as {type(value).__name__}{of_dtype}; {expected}")


def check_loss_gradient(loss: Loss, dY, Y, why: str = "") -> None:
    """ShapeError or DTypeError naming ``loss`` unless the ∂L/∂Y its compute returned has the
    outputs' shape and dtype, which the model's last layer would refuse naming itself. ``why``
    begins the advice on the dtype (gradcheck's: it computes in float64)."""
    shape, dtype = getattr(dY, "shape", None), getattr(dY, "dtype", None)
    expected = f"expected the outputs' shape {tuple(Y.shape)}"
    if shape is None:
        raise ShapeError(f"loss: {type(loss).__name__}.compute returned ∂L/∂Y as {type(dY).__name__}; {expected}")
    if tuple(shape) != tuple(Y.shape):
        raise ShapeError(f"loss: {type(loss).__name__}.compute returned ∂L/∂Y of shape {tuple(shape)}; {expected}")
    if dtype != Y.dtype:
        raise DTypeError(f"loss: {type(loss).__name__}.compute returned ∂L/∂Y of dtype {dtype}; expected the "
                         f"outputs' dtype {Y.dtype} ({why}compute ∂L/∂Y in Y's dtype)")


REAL_KINDS = frozenset("biuf")  # NumPy's dtype kinds of booleans, integers and floats
