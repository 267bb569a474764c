"""Run under ``mpiexec -n N python distributed_script.py SCENARIO OUT``, by test_distributed.py.

equivalence: trains float64 MLPs at several global batch sizes, also resuming from a
checkpoint and with sample weights, and rank 0 saves the final weights to OUT/weights.npz.
kill / hang: rank 1 is SIGKILLed / stops responding during epoch 3; checkpoints go to OUT.
absent: rank 1 fails before it makes its Communicator.
drift: a callback on rank 0 alone lowers the learning rate after epoch 1; every rank writes
the error message it got to OUT/drift{rank}.txt.
resumed seed: a run with seed 5 holding out a validation fraction, resumed with seed=None, and
the same run unbroken; rank 0 saves both final weights to OUT/weights.npz.
diverge: one row's target is so large that the loss of the rank that holds it is not finite at
the first step; every rank writes the error message it got, and its optimizer's step count after
it, to OUT/diverge{rank}.txt.
unwritable: rank 0 alone cannot write the checkpoint (its directory is a file); every rank writes
the error message it got to OUT/unwritable{rank}.txt.
raising: a callback of one's own raises on rank 1 alone after epoch 2 (or, "raising at start", as
training begins); every rank writes the error message it got to OUT/raising{rank}.txt.
interrupted on one rank: rank 1 alone gets a Ctrl-C (SIGINT) after epoch 2; every rank writes how its
run ended to OUT/interrupted{rank}.json.
one rank fails: for each case of FAILURES, something raises on rank 1 alone during fit; every rank
writes the error messages it got, and the seconds each fit took, to OUT/failures{rank}.json.
mismatch: for each case of MISMATCHES, rank 1 passes fit other data or arguments than rank 0 (in
one, rank 0 alone resumes from a checkpoint written first to OUT);
every rank writes the error messages it got to OUT/messages{rank}.json.
"""

import importlib
import json
import os
import signal
import sys
import time

import numpy

import chainrule as cr

SIZES = {32: 200, 33: 199}  # 199 = 6·33 + 1: the last batch leaves rank 1 with no rows


def data(n_samples):
    rng = numpy.random.default_rng(0)
    X = rng.normal(size=(n_samples, 5))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 1)
    return X, y


def train(batch_size, epochs, comm, weighted=False, **kwargs):
    X, y = data(SIZES[batch_size] + 20)  # the last 20 rows: validation data
    model = cr.mlp([5, 16, 3], seed=1, dtype="float64")
    validation = (X[-20:], y[-20:], sample_weights(20)) if weighted else (X[-20:], y[-20:])
    if weighted:
        kwargs["sample_weight"] = sample_weights(len(X) - 20)
    cr.fit(model, X[:-20], y[:-20], optimizer="adam", lr=0.01, epochs=epochs, batch_size=batch_size, verbose=0,
           validation=validation, callbacks=[cr.EarlyStopping(patience=50, restore_best=False)], distributed=comm,
           **kwargs)
    return model.flat_parameters().theta.copy()


def held_out_fraction(epochs, comm, **kwargs):
    """The weights after a run that holds out a fifth of the rows, split by its seed, for validation."""
    X, y = data(200)
    model = cr.mlp([5, 16, 3], seed=1, dtype="float64")
    cr.fit(model, X, y, lr=0.01, epochs=epochs, batch_size=32, verbose=0, validation=0.2, distributed=comm, **kwargs)
    return model.flat_parameters().theta.copy()


def sample_weights(n_samples):
    """Weights in [0, 3), a fifth of them zero: the ranks' shares of a batch's weight differ."""
    weights = numpy.random.default_rng(1).uniform(0, 3, size=n_samples)
    weights[::5] = 0
    return weights


MISMATCHES = ["rows", "batch_size", "seed", "labels", "validation", "no validation", "sample weights",
              "validation weights", "lr", "momentum", "dtype", "architecture", "resume", "resume, seed None",
              "checkpoint", "checkpoint_every"]


def mismatched_fit(case, comm, checkpoint):
    """fit where rank 1's data or arguments differ from rank 0's as ``case`` says; the error's message.
    ``checkpoint`` is a checkpoint's path that rank 0 resumes from in the case "resume, seed None", and
    that rank 0 alone writes to in the case "checkpoint" (every rank writes it in "checkpoint_every")."""
    X, y = data(200)
    X_val, y_val = X[-20:], y[-20:]
    X, y = X[:-20], y[:-20]
    arguments = {"batch_size": 32, "seed": 0}
    dtype, sizes = "float64", [5, 16, 3]
    if case == "sample weights":
        arguments["sample_weight"] = sample_weights(len(X)) * (1 + comm.rank)
    validation_weights = [sample_weights(len(X_val)) + comm.rank] if case == "validation weights" else []
    if case == "resume" and comm.rank == 0:  # resume=ck if os.path.exists(ck) else None, the file on rank 0's disk
        arguments["resume"] = "elsewhere/checkpoint.safetensors"  # never read: the ranks' arguments differ
    if case == "checkpoint" and comm.rank == 0:  # checkpoint=ck if comm.is_root else None
        arguments["checkpoint"] = checkpoint
    if case == "checkpoint_every":
        arguments["checkpoint"] = checkpoint
    if case == "resume, seed None":  # rank 0 reads the checkpoint and sends it before the data are split
        arguments["seed"] = None
        if comm.rank == 0:
            arguments["resume"] = checkpoint
    if comm.rank == 1:
        if case == "rows":
            X, y = X[:-10], y[:-10]
        elif case == "batch_size":
            arguments["batch_size"] = 16
        elif case == "checkpoint_every":  # rank 0 would agree after epoch 1 on a checkpoint that rank 1 skips
            arguments["checkpoint_every"] = 2
        elif case == "seed":
            arguments["seed"] = None  # rank 0 then gives no seed to broadcast: the collectives must still match
        elif case == "labels":
            y = y.copy()
            y[0] = (y[0] + 1) % 3
        elif case == "validation":
            X_val = X_val * 2
        elif case == "no validation":
            X_val = y_val = None  # a shorter fingerprint row would have garbled the all-gather
        elif case == "lr":
            arguments["lr"] = 0.02
        elif case == "dtype":
            dtype = "float32"
        elif case == "architecture":
            sizes = [5, 8, 8, 3]  # 147 parameters, as [5, 16, 3] has
    model = cr.mlp(sizes, seed=1, dtype=dtype)
    if case == "momentum":  # an optimizer made by hand, as chainrule train makes it
        arguments["optimizer"] = cr.SGD(model, lr=0.1, momentum=0.9 if comm.rank == 0 else 0.5)
    try:
        validation = None if X_val is None else (X_val, y_val, *validation_weights)
        cr.fit(model, X, y, epochs=2, verbose=0, validation=validation, distributed=comm, **arguments)
    except cr.DistributedError as error:
        return str(error)
    return "no error"


class Sabotage(cr.Callback):
    """On rank 1 after epoch 2: die at once (kill) or stop taking part (hang)."""

    def __init__(self, how, rank):
        self.how, self.rank = how, rank  # a callback of one's own: not compared across ranks

    def on_epoch_end(self, epoch, logs, model):
        if epoch == 2 and self.rank == 1:
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(600)
        return False


class LowerRate(cr.Callback):
    """Divides the learning rate by 10 after every epoch: run on rank 0 alone, the ranks' steps differ."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def on_epoch_end(self, epoch, logs, model):
        self.optimizer.lr = self.optimizer.lr / 10
        return False


def drifting_fit(comm):
    """fit with LowerRate on rank 0 only; the error's message."""
    X, y = data(200)
    model = cr.mlp([5, 16, 3], seed=1, dtype="float64")
    optimizer = cr.Adam(model, lr=0.01)
    try:
        cr.fit(model, X, y, optimizer=optimizer, epochs=4, batch_size=32, verbose=0, distributed=comm,
               callbacks=[LowerRate(optimizer)] if comm.is_root else [])
    except cr.DistributedError as error:
        return str(error)
    return "no error"


def diverging_fit(comm):
    """A regression whose row 7 has a target of 1e200, whose rank's MSE overflows at the first step; the message,
    and after it the optimizer's step count."""
    X, y = data(40)
    targets = X[:, 0].copy()
    targets[7] = 1e200
    model = cr.mlp([5, 4, 1], seed=1, dtype="float64")
    optimizer = cr.Adam(model)
    try:
        cr.fit(model, X, targets, loss="mse", optimizer=optimizer, epochs=2, batch_size=40, verbose=0,
               distributed=comm)
    except cr.DivergenceError as error:
        return f"{error}\nt={optimizer.t}"
    return "no error"


def unwritable_fit(comm, out):
    """fit whose checkpoint goes into a "directory" that is a file, which rank 0 alone writes to; the message."""
    blocker = os.path.join(out, "not a directory")
    if comm.is_root:
        with open(blocker, "w"):
            pass
    X, y = data(40)
    try:
        cr.fit(cr.mlp([5, 4, 3], seed=1), X, y, epochs=2, batch_size=20, verbose=0,
               checkpoint=os.path.join(blocker, "checkpoint.safetensors"), distributed=comm)
    except cr.DistributedError as error:
        return str(error)
    return "no error"


class Raises(cr.Callback):
    """On rank 1 alone, raises ValueError after epoch 2, or as training begins (``at_start``)."""

    def __init__(self, rank, at_start):
        self.rank, self.at_start = rank, at_start

    def on_train_begin(self, model, history):
        if self.at_start and self.rank == 1:
            raise ValueError("this callback fails on rank 1")

    def on_epoch_end(self, epoch, logs, model):
        if epoch == 2 and self.rank == 1:
            raise ValueError("this callback fails on rank 1")
        return False


def raising_fit(comm, at_start):
    """fit with Raises; the message of the error raised."""
    X, y = data(40)
    try:
        cr.fit(cr.mlp([5, 4, 3], seed=1), X, y, epochs=4, batch_size=20, verbose=0,
               callbacks=[Raises(comm.rank, at_start)], distributed=comm)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return "no error"


FAILURES = ["on_train_end", "sys.exit in on_train_end", "epochs 0", "NaN in X", "y shorter than X",
            "optimizer for another model", "callback's reset", "no memory for the standardized copy", "loss at a step",
            "loss scoring the validation set", "callback's state_dict"]


class RaisesAtEnd(cr.Callback):
    """Raises ValueError on rank 1 alone in on_train_end, or in the hook ``instead``: "reset" when fit
    resets it, "state_dict" when its state is checkpointed (on rank 1, only checked); "exit": calls
    sys.exit(3) in on_train_end instead."""

    def __init__(self, rank, instead=None):
        self.rank, self.instead = rank, instead

    def reset(self):
        if self.instead == "reset" and self.rank == 1:
            raise ValueError("reset fails on rank 1")

    def state_dict(self):
        if self.instead == "state_dict" and self.rank == 1:
            raise ValueError("state_dict fails on rank 1")
        return {}, {}

    def on_train_end(self, model, history):
        if self.instead == "exit" and self.rank == 1:
            sys.exit(3)
        if self.instead is None and self.rank == 1:
            raise ValueError("on_train_end fails on rank 1")


class FailingLoss(cr.SoftmaxCrossEntropy):
    """Cross-entropy that raises ValueError on rank 1 alone (``rank``, set after it is made, is no setting
    the ranks compare) at its second computation over ``rows`` rows: 10, a rank's share of a training batch
    of 20; 20, the validation set."""

    def __init__(self, rows):
        super().__init__()
        self.rows, self.calls, self.rank = rows, 0, None

    def compute(self, Y, T, weights=None):
        self.calls += len(Y) == self.rows
        if self.rank == 1 and self.calls == 2 and len(Y) == self.rows:
            raise ValueError("the loss fails on rank 1")
        return super().compute(Y, T, weights)


def failing_fit(case, comm, out):
    """fit where something raises on rank 1 alone as ``case`` says; the error raised, named by its type.
    Checkpoints go to OUT."""
    X, y = data(60)
    instead = {"on_train_end": None, "sys.exit in on_train_end": "exit", "callback's reset": "reset",
               "callback's state_dict": "state_dict"}
    callbacks = [RaisesAtEnd(comm.rank, instead[case])] if case in instead else []
    if comm.rank == 1 and case == "NaN in X":
        X[3, 1] = numpy.nan
    if comm.rank == 1 and case == "y shorter than X":
        y = y[:-1]
    loss = {"loss at a step": FailingLoss(10), "loss scoring the validation set": FailingLoss(20)}.get(case)
    if loss is not None:
        loss.rank = comm.rank
    validation = (X[-20:], y[-20:]) if case == "loss scoring the validation set" else None
    model = cr.mlp([5, 4, 3], seed=1)
    trains = cr.mlp([5, 4, 3], seed=1) if comm.rank == 1 and case == "optimizer for another model" else model
    optimizer = cr.Adam(trains)
    fit_module = importlib.import_module("chainrule.training.fit")
    copies = fit_module.prepare_inputs
    if comm.rank == 1 and case == "no memory for the standardized copy":
        fit_module.prepare_inputs = no_memory
    try:
        cr.fit(model, X[:60 - 20 * bool(validation)], y[:60 - 20 * bool(validation)], loss=loss, optimizer=optimizer,
               epochs=0 if comm.rank == 1 and case == "epochs 0" else 3, batch_size=20, verbose=0,
               callbacks=callbacks, validation=validation, distributed=comm, standardize=True,
               checkpoint=os.path.join(out, "checkpoint.safetensors"))
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    finally:
        fit_module.prepare_inputs = copies
    return "no error"


def no_memory(*args):
    """fit's standardized copy of the training rows, on a rank whose machine has no memory left."""
    raise MemoryError("Unable to allocate 1.00 GiB for an array with shape (1000000, 268) and data type float32")


class CtrlC(cr.Callback):
    """A Ctrl-C (SIGINT) on rank 1 alone, as its epoch 2 ends."""

    def __init__(self, rank):
        self.rank = rank

    def on_epoch_end(self, epoch, logs, model):
        if epoch == 2 and self.rank == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return False


def main(scenario, out):
    if scenario == "absent":
        from mpi4py import MPI

        if MPI.COMM_WORLD.Get_rank() == 1:
            raise ValueError("rank 1 read bad input before making its Communicator")
    comm = cr.Communicator(timeout=float(os.environ.get("CHAINRULE_TEST_TIMEOUT", "10")))
    if scenario == "equivalence":
        weights = {f"batch{b}": train(b, 3, comm) for b in SIZES}
        weights.update({f"weighted{b}": train(b, 3, comm, weighted=True) for b in SIZES})
        first = os.path.join(out, "checkpoint.safetensors")
        train(32, 2, comm, checkpoint=first)
        weights["resumed"] = train(32, 3, comm, checkpoint=first, resume=first)
        if comm.is_root:
            numpy.savez(os.path.join(out, "weights.npz"), **weights)
    elif scenario == "resumed seed":
        first = os.path.join(out, "checkpoint.safetensors")
        held_out_fraction(2, comm, seed=5, checkpoint=first)
        weights = {"resumed": held_out_fraction(3, comm, seed=None, resume=first),
                   "unbroken": held_out_fraction(3, comm, seed=5)}
        if comm.is_root:
            numpy.savez(os.path.join(out, "weights.npz"), **weights)
    elif scenario == "drift":
        with open(os.path.join(out, f"drift{comm.rank}.txt"), "w") as handle:
            handle.write(drifting_fit(comm))
    elif scenario == "diverge":
        with open(os.path.join(out, f"diverge{comm.rank}.txt"), "w") as handle:
            handle.write(diverging_fit(comm))
    elif scenario == "unwritable":
        with open(os.path.join(out, f"unwritable{comm.rank}.txt"), "w") as handle:
            handle.write(unwritable_fit(comm, out))
    elif scenario in ("raising", "raising at start"):
        with open(os.path.join(out, f"raising{comm.rank}.txt"), "w") as handle:
            handle.write(raising_fit(comm, scenario == "raising at start"))
    elif scenario == "interrupted on one rank":
        history = cr.fit(cr.mlp([5, 4, 3], seed=1), *data(60), epochs=6, batch_size=20, verbose=0,
                         callbacks=[CtrlC(comm.rank)], distributed=comm)
        with open(os.path.join(out, f"interrupted{comm.rank}.json"), "w") as handle:
            json.dump([history.stop_reason, history.epochs, history.partial_last_epoch], handle)
    elif scenario == "one rank fails":
        failures = {}
        for case in FAILURES:
            started = time.monotonic()
            failures[case] = [failing_fit(case, comm, out), time.monotonic() - started]
        with open(os.path.join(out, f"failures{comm.rank}.json"), "w") as handle:
            json.dump(failures, handle)
    elif scenario == "mismatch":
        checkpoint = os.path.join(out, "checkpoint.safetensors")
        cr.fit(cr.mlp([5, 16, 3], seed=1, dtype="float64"), *data(200), epochs=1, batch_size=32, verbose=0,
               checkpoint=checkpoint, distributed=comm)
        messages = {case: mismatched_fit(case, comm, checkpoint) for case in MISMATCHES}
        with open(os.path.join(out, f"messages{comm.rank}.json"), "w") as handle:
            json.dump(messages, handle)
    else:
        X, y = data(200)
        model = cr.mlp([5, 16, 3], seed=1, dtype="float64")
        cr.fit(model, X, y, epochs=50, batch_size=32, verbose=0, callbacks=[Sabotage(scenario, comm.rank)],
               checkpoint=os.path.join(out, "checkpoint.safetensors"), distributed=comm)


if __name__ == "__main__":
    main(*sys.argv[1:])
