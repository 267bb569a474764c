"""The training loop: minibatch stochastic gradient descent by backpropagation.

Each step is the algorithm of the notes: forward a minibatch, compute ∇_y L from the loss,
backpropagate it through every layer, and let the optimizer update θ from ∂L/∂θ. Around
that loop ``fit`` does what a user should not have to write: validation split, label
mapping and standardization fitted on training data only, per-epoch shuffling from the
seed, metrics, per-layer gradient norms, a progress bar, early stopping, a divergence guard,
Ctrl-C, and atomic checkpoints from which a run resumes bit-identically. With
``distributed=True`` it runs data-parallel over MPI; the few points where that matters go
through a communicator (see :mod:`chainrule.training.distributed`), which does nothing in a
single process.
"""

from __future__ import annotations

import math
import numbers
import signal
import sys
import threading
import warnings

import numpy
from tqdm import autonotebook, std
from tqdm.auto import tqdm

from ..backend import get_array_module, module_for, to_device
from ..checks import as_matrix, as_sample_weights, check_finite, feature_names, positive_int, select_features
from ..data.preprocessing import Preprocessor
from ..data.split import shuffled_split_indices, stratified_split_indices
from ..errors import (DataError, DivergenceError, HyperparameterError, LabelError, OneHotTargetsWarning,
                      OutputActivationWarning, ShapeError)
from ..io.atomic import check_path
from ..layers import Identity, Sequential, Sigmoid, Softmax
from ..layers.layer import Layer
from ..losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy, get_loss
from ..losses.loss import takes_weights
from ..optimizers import Optimizer, get_optimizer
from .callbacks import Callback, check_hooks, stop_requested
from .class_weight import class_weights_per_row
from .checkpoint import (NO_VALIDATION, callback_checkpoint_state, check_checkpoint_path, load_checkpoint,
                         save_checkpoint)
from .distributed import communicator
from .fingerprint import run_fingerprint, validation_fingerprint
from .history import History, layer_of
from .metrics import Scores, metric_names

EVAL_CHUNK = 4096  # rows per forward pass when scoring validation data
DEFAULT_BATCH_SIZE = 32  # batch_size=None: this many rows per step, or all the training rows if fewer
GRAD_NORM_SAMPLES = 16  # at most this many evenly spaced batches per epoch record gradient norms
# tqdm.auto draws a widget in a Jupyter notebook, whose stderr is no terminal but shows a bar well.
NOTEBOOK_BAR = autonotebook.tqdm is not std.tqdm


def fit(model: Layer, X, y, *, sample_weight=None, class_weight=None, loss=None, optimizer="adam", lr: float | None = None,
        epochs: int = 20, batch_size: int | None = None, validation=None, seed: int | None = 0, verbose: int = 1, callbacks=(),
        standardize: bool | None = None, checkpoint=None, checkpoint_every: int = 1, resume=None,
        distributed=False, device: str | None = None, graph="auto") -> History:
    """Train ``model`` on (X, y) and return its History.

    Parameters
    ----------
    model : Layer
        The network; trained in place, from its current weights. Afterwards
        ``model.preprocessor`` holds the preprocessing (fitted by the model's first ``fit``)
        and ``model.metadata["training"]`` a summary, both saved by ``cr.save``. Calling
        ``fit`` again on such a model (or on one from ``cr.load``) continues training with
        its preprocessor: the same standardization (not refitted on the new data) and the
        same classes in the same outputs, so ``y`` may hold a subset of them (a label
        outside them raises LabelError). Set ``model.preprocessor = None`` first to fit a
        new one. Frozen layers (``layer.trainable = False``, e.g. ``model[:-1].trainable =
        False`` to fine-tune the last layer) are not trained: their weights come out exactly
        as they went in. A model with parameters but none trainable raises HyperparameterError.
    X : array of shape (n_samples, n_features)
        At least one row (an empty X raises ShapeError naming X once X has been converted and
        before y is checked against it, as ``predict`` does). A DataFrame whose column names
        are distinct strings gives the model its feature names (``preprocessor.feature_names``,
        saved with it); ``predict``, ``predict_proba``, ``evaluate``, a validation set and a
        later ``fit`` then take a DataFrame's columns by name, in that order wherever they
        stand (other columns are left out; a missing one raises DataError naming it). Arrays,
        and frames given to a model trained without names, are taken by position.
    y : array
        Class labels of any type (n_samples,) for classification (mapped to 0..K−1 in
        sorted order; integer labels already in [0, K) map to themselves), probability
        targets (n_samples, K) with a classification ``loss``, or values (n_samples,) /
        (n_samples, n_outputs) for regression. A model with a preprocessor keeps its classes
        (see ``model``). A column (n_samples, 1) of integer, boolean or string labels
        (``df[["label"]]``) is taken as one label per row with a classification loss; a
        float column stays regression targets.
        Finite: a NaN label or target raises NonFiniteError naming y.
    sample_weight : array of shape (n_samples,), optional
        Weights of the rows (scikit-learn's ``sample_weight``): finite, non-negative reals
        (any integer or float dtype, a list included), not all zero. Each step then
        minimizes the weighted mean of its batch's losses, L = Σ_n w_n l_n / Σ_n w_n, so
        integer weights k give the gradient of a batch holding the row k times; a batch
        whose weights are all zero makes a step of zero gradient (for SGD without momentum,
        no change), with loss 0. The epoch's metrics are weighted too (see ``validation``);
        the standardization (``standardize``) and the classes take every row alike, a row of
        weight 0 included. Held in float64. Anything else raises a chainrule error naming
        ``sample_weight``: ShapeError (not one weight per row of X), DTypeError (booleans,
        complex numbers, strings), NonFiniteError, DataError (a negative weight; all of them
        zero, also for the training rows alone once ``validation`` held rows out; a sum too
        large for float64, such as 150 weights of 1e307). It needs a loss whose
        ``compute`` takes ``weights``, as every built-in loss does (HyperparameterError for
        another), and trains on the CPU only (HyperparameterError with device="cuda").
        None (the default) trains exactly as without it.
    class_weight : "balanced" or dict, optional
        Weights of the classes, multiplied into the training rows' weights (see
        :mod:`chainrule.training.class_weight`): ``{label: weight}`` (keys are labels as in
        ``y``, or as the model's classes from an earlier fit; unlisted classes weigh 1), or
        "balanced", n / (K · n_c) for class c with n_c of the n training rows and K the
        classes among them, counted after ``validation`` has held its rows out. As in Keras
        they weight training only, not the validation scores. Needs class labels
        (HyperparameterError for regression or probability targets); a key that is no class
        raises LabelError, a weight that is not a finite real HyperparameterError, a negative
        one DataError; CPU only, as ``sample_weight``.
    loss : Loss or name, optional
        By default SoftmaxCrossEntropy when y holds integer, boolean or string labels, and
        MSE when it holds floats (float labels such as 0.0/1.0, or one-hot rows, are then
        regression targets; a shape error this gives says so, and float one-hot rows as wide
        as the outputs, Keras's ``to_categorical`` labels, give a OneHotTargetsWarning). It must train for the task of
        the model's preprocessor, if it has one (HyperparameterError otherwise). The
        cross-entropy losses take logits: a model ending in a Softmax (for
        SoftmaxCrossEntropy) or a Sigmoid (for BinaryCrossEntropy) gives an
        OutputActivationWarning, as the activation would be applied twice.
    optimizer : Optimizer or name
        An optimizer made for ``model``, or "sgd", "rmsprop", "adam", "adamw" (with ``lr``).
    lr : float, optional
        Learning rate for an optimizer given by name (its default otherwise).
    epochs : int
        Total number of epochs (a resumed run continues up to this number; fewer than the
        checkpoint's own raises HyperparameterError).
    batch_size : int or None
        Samples per step; the last batch of an epoch may be smaller. None (the default) means
        32, or all the training rows when there are fewer (those left after ``validation``
        held its rows out; with ``distributed``, the rows of all processes), so that a small
        data set trains; ``model.metadata["training"]["batch_size"]`` records the size used.
        A given ``batch_size`` larger than the training rows raises DataError.
    validation : float, (X_val, y_val) or (X_val, y_val, w_val), optional
        A fraction in (0, 1) of the training data to hold out (stratified for
        classification; any real number type, e.g. ``numpy.float32(0.2)``), or a separate
        validation set. The held-out rows keep their ``sample_weight``, which weights the
        validation loss and metrics (weighted accuracy, R² as scikit-learn's ``r2_score``
        with ``sample_weight``, MAE); all of them zero raises DataError. A separate set may
        carry its own weights ``w_val`` (Keras's ``validation_data`` form), checked as
        ``sample_weight`` is; (X_val, y_val) is unweighted.
    seed : int or None
        Seeds the validation split and the per-epoch shuffling (model weights are seeded
        where the model is built). Same seed, same data, same model ⇒ bit-identical weights.
    verbose : 0, 1 or 2
        What ``fit`` prints, all of it on stderr (stdout stays clean): 0 nothing. 1, when
        stderr is a terminal (or in a Jupyter notebook), a progress bar over the samples of
        all the epochs (the remaining ones when resuming) with one line per finished epoch
        written above it, ``epoch 3/20: loss 0.0913, accuracy 0.982, val_loss 0.101,
        val_accuracy 0.967``; when stderr is redirected to a file or a pipe, only those lines.
        2 only those lines, even in a terminal (Keras's ``verbose=2``). With 1 or 2, a
        callback that stops training adds a line saying why (an EarlyStopping: the epochs
        without improvement and which epoch's weights the model keeps). True and False are
        1 and 0. With ``distributed``, only rank 0 prints.
    callbacks : list or tuple of Callback
        E.g. ``[cr.EarlyStopping(patience=5)]``. Each is ``reset`` at the start, so a
        callback object may be reused in another ``fit``.
    standardize : bool or None
        Standardize features with the training data's mean and deviation (saved with the
        model, so ``cr.predict`` takes raw rows). None (the default) means False for a model
        without a preprocessor, and follows the preprocessor of one that has one; True or
        False contradicting that preprocessor raises HyperparameterError.
    checkpoint : path, optional
        Write a checkpoint here every ``checkpoint_every`` epochs and at the end (atomically),
        never after an epoch that Ctrl-C cut short. A callback whose ``state_dict`` returns an
        array its ``checkpoint_arrays`` does not declare (name, shape, dtype) raises
        HyperparameterError at the first checkpoint, since the checkpoint could not be resumed.
    resume : path, optional
        Continue from a checkpoint written by an earlier call with the same data and
        arguments; the result is bit-identical to an uninterrupted run. A path that does
        not exist raises ModelFileError ("no such checkpoint file"). The validation set
        must be the checkpoint's run's (the same rows, targets and weights, compared by a checksum
        saved in the checkpoint): another ``validation`` fraction or data, other weights of
        its rows (``w_val``, or the ``sample_weight`` of the held-out rows), another seed
        that splits it (seed=None holds out other rows on every call), or a validation set
        added or removed raises ModelFileError naming ``validation`` before anything is
        restored, since the run would train on former validation rows and its early
        stopping would compare scores of two validation sets. The training data and their
        weights are not compared: continuing on new data (fine-tuning) is allowed, and a
        validation set given as (X_val, y_val) may stay the same even when standardization,
        refitted on the new data by a model without a preprocessor, changes (a model that has
        one keeps it, see ``model``). A checkpoint written before chainrule saved this
        checksum resumes without the check.
    distributed : bool or Communicator
        Train data-parallel on the processes of an ``mpiexec -n N`` job (needs
        ``pip install 'chainrule[mpi]'``): every process passes the same data and
        arguments, ``batch_size`` is the global batch, of which each process takes every
        N-th row, and the gradients are averaged exactly (the result equals one process's
        up to rounding). Only rank 0 shows progress and writes checkpoints. True uses a
        60 s timeout for a rank that hangs or dies; ``cr.Communicator(timeout=...)`` sets another.
        Before training, the ranks compare the model's dtype, the number of rows and features,
        ``batch_size``, ``epochs``, ``seed``, the number of parameters, the optimizer (type,
        ``lr``, other hyperparameters and schedule, step count), the loss (type and the
        constructor arguments it keeps), and checksums of the architecture (layer types and
        settings, parameter shapes) and of the prepared data (X, the targets, the sample and
        class weights, the validation set); any difference raises the same DistributedError,
        naming it, on every rank. An exception raised on some ranks only (an input check
        that fails on one rank's data, a callback that raises) leaves the others waiting in
        their next collective until the timeout, when they abort the job
        and blame a hung rank; a script that can fail on one rank should catch the error and
        call ``MPI.COMM_WORLD.Abort(code)`` to end every rank at once, as ``chainrule train``
        does.
    device : "cpu", "cuda" or None
        Where to train; None keeps the model where it is (``model.device``). "cuda" needs
        ``pip install 'chainrule[cuda]'``: the model (and a given optimizer) move to the GPU
        in place and stay there; the data go to the GPU once (in chunks if they do not fit in
        half its free memory), and within an epoch only the minibatch order goes to the
        device and only the metrics come back. Not combinable with ``distributed``. Frozen
        layers train on the CPU only for now (HyperparameterError with "cuda").
    graph : "auto", True or False
        On the GPU, capture the step of a full batch into a CUDA graph once and replay it
        (see chainrule.cuda.graph): "auto" does so when the optimizer allows it and falls
        back with a warning if the capture fails; True insists; False never captures.

    Returns
    -------
    History

    Raises
    ------
    DivergenceError
        When a loss, a gradient or an updated weight becomes NaN or Inf; the model keeps its
        last finite weights.
    DistributedError
        With ``distributed``, when mpi4py is missing, or when the ranks were given different
        data or arguments. A rank that hangs or dies makes the others print this error and
        abort the MPI job (within the timeout).

    Examples
    --------
    >>> import chainrule as cr
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = cr.mlp([4, 16, 3], seed=0)
    >>> history = cr.fit(model, X, y, epochs=5, standardize=True, verbose=0)
    >>> len(history.metrics["loss"])
    5
    """
    if not isinstance(model, Layer):
        raise HyperparameterError(f"model: expected a chainrule Layer, got {type(model).__name__}")
    epochs = positive_int(epochs, "epochs")
    batch_size = None if batch_size is None else positive_int(batch_size, "batch_size")
    checkpoint_every = positive_int(checkpoint_every, "checkpoint_every")
    for name, path in (("checkpoint", checkpoint), ("resume", resume)):
        if path is not None:
            check_path(path, name)  # now, not after the first epoch (an int would be a file descriptor)
    if verbose not in (0, 1, 2, True, False):
        raise HyperparameterError(f"verbose: expected 0, 1 or 2 (or True/False), got {verbose!r}")
    if not isinstance(callbacks, (list, tuple)):
        raise HyperparameterError(
            f"callbacks: expected a list or tuple of chainrule Callbacks, got {type(callbacks).__name__}; "
            f"write callbacks=[...] for a single one"
        )
    callbacks = list(callbacks)
    for index, callback in enumerate(callbacks):
        if not isinstance(callback, Callback):
            raise HyperparameterError(f"callbacks: expected chainrule Callbacks, got {type(callback).__name__}")
        check_hooks(callback, index)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, numpy.integer)) or seed < 0):
        raise HyperparameterError(f"seed: expected None or a non-negative int, got {seed!r}")
    if standardize not in (None, True, False):
        raise HyperparameterError(f"standardize: expected None, True or False, got {standardize!r}")
    if graph not in ("auto", True, False):
        raise HyperparameterError(f"graph: expected 'auto', True or False, got {graph!r}")
    device = model.device if device is None else device
    check_trainable(model, device)
    weighted_by = [name for name, given in (("sample_weight", sample_weight is not None),
                                            ("class_weight", class_weight is not None),
                                            ("validation", has_validation_weights(validation))) if given]
    # the argument that asks for weights: validation=(X_val, y_val, w_val) asks by w_val
    asks = None if not weighted_by else "w_val" if weighted_by[0] == "validation" else weighted_by[0]
    if device == "cuda" and weighted_by:
        raise HyperparameterError(f"{weighted_by[0]}: sample weights are trained on the CPU only; use device='cpu', "
                                  f"or no {asks}")
    module_for(device)  # an unknown name, or "cuda" without CuPy, fails here
    if device == "cuda" and distributed is not False:
        raise HyperparameterError("device: distributed training runs on the CPU; use device='cpu' with distributed")
    if graph is True and device != "cuda":
        raise HyperparameterError("graph=True: CUDA graphs need device='cuda'")
    comm = communicator(distributed)
    given_seed = seed
    seed = comm.shared_seed(seed)  # every rank shuffles alike

    y = as_targets(y, "y")
    loss_was_inferred = loss is None
    loss = default_loss(y) if loss is None else get_loss(loss)
    y = as_label_vector(y, loss, "y")
    dtype = model.dtype or numpy.dtype(numpy.float32)
    # The names of the model's inputs: an earlier fit's, or X's own (a DataFrame's); a frame is
    # then read by name, in their order (see checks.select_features).
    names = feature_names(X) if model.preprocessor is None else model.preprocessor.feature_names
    X = as_matrix(select_features(X, names, "X"), dtype, name="X")
    if len(X) == 0:
        raise ShapeError(f"X has no rows (shape {X.shape}); expected at least 1")
    if y.dtype.kind == "f":
        check_finite(y, "y")  # a NaN class label, or a NaN target, named as y's
    check_one_target_per_row(X, y)
    if sample_weight is not None:
        sample_weight = as_sample_weights(sample_weight, len(X))
    n_outputs = model.forward(to_device(X[:1], model.device)).shape[1]  # also checks X's width against the first layer
    split_seed, shuffle_seed = numpy.random.SeedSequence(seed).spawn(2)

    X, y, weights, X_val, y_val, w_val = split_validation(X, y, sample_weight, validation, loss, dtype, split_seed,
                                                          names)
    if weighted_by and not takes_weights(loss):
        raise HyperparameterError(
            f"loss: {type(loss).__name__}.compute takes no weights, so it cannot weigh the rows as "
            f"{asks} asks; pass a loss whose compute(Y, T, weights=None) does (every built-in "
            f"loss does), or no sample weights"
        )

    warn_if_output_activation(model, loss)
    float_hint = FLOAT_TARGETS_HINT if loss_was_inferred and y.dtype.kind == "f" else ""
    if float_hint:
        warn_if_one_hot(y, n_outputs)
    if model.preprocessor is None:
        preprocessor = fit_preprocessor(X, y, loss, n_outputs, bool(standardize), names)
        encode = encode_targets
    else:
        preprocessor = reuse_preprocessor(model.preprocessor, X, loss, standardize, float_hint)
        encode = encode_earlier_classes
    X = prepare_inputs(preprocessor, X, dtype)
    T = prepare_targets(loss, encode(preprocessor, y), n_outputs, dtype, float_hint)
    if class_weight is not None:
        weights = weigh_classes(T, preprocessor, class_weight, weights, float_hint)
    T_val, validation_set = None, NO_VALIDATION
    if X_val is not None:
        if X_val.shape[1] != X.shape[1]:
            raise ShapeError(f"X_val: expected {X.shape[1]} features like X, got {X_val.shape[1]}")
        T_val = prepare_targets(loss, encode(preprocessor, y_val, "y_val"), n_outputs, dtype, float_hint, "y_val")
        if checkpoint is not None or resume is not None:  # only checkpoints record it
            validation_set = validation_fingerprint(X_val, T_val, w_val)  # before standardization: see resume
        X_val = prepare_inputs(preprocessor, X_val, dtype)
    if comm.size > 1:  # before any check that could then fail on some ranks only
        comm.check_same_run(*run_fingerprint(model, X, T, X_val, T_val, batch_size, epochs, given_seed,
                                             weights, w_val, loss=loss, optimizer=optimizer, lr=lr,
                                             callbacks=callbacks))
    for callback in callbacks:  # a monitor that names no metric is refused before anything changes
        callback.check_metrics(metric_names(loss.task, X_val is not None))
    n_train = len(X)
    if batch_size is None:
        batch_size = min(DEFAULT_BATCH_SIZE, n_train)
    elif batch_size > n_train:
        raise DataError(
            f"batch_size: {batch_size} is more than the {n_train} training samples; pass a smaller batch_size"
        )
    if batch_size < comm.size:
        raise HyperparameterError(f"batch_size: {batch_size} is less than the {comm.size} processes; each needs a row")

    model.to(device)
    if isinstance(optimizer, Optimizer):
        if optimizer.model is not model:
            raise HyperparameterError("optimizer: it was made for another model; pass cr.Adam(model, ...) for this one")
        optimizer.to(device)
        optimizer.check_layout()  # here too for the GPU's loop, which calls update without step
    else:
        optimizer = get_optimizer(optimizer, model, **({} if lr is None else {"lr": lr}))
    rng = numpy.random.default_rng(shuffle_seed)
    history, start_epoch = History(), 0
    for callback in callbacks:
        callback.reset()  # nothing carries over from an earlier fit; a checkpoint's state is restored next
    if resume is not None:
        if comm.size == 1:  # with several ranks, only rank 0 needs the file
            check_checkpoint_path(resume)
        history, start_epoch = load_checkpoint(comm.local_checkpoint(resume), model, optimizer, rng, callbacks,
                                               validation=validation_set)
        if history.stop_reason == "early_stopping":
            start_epoch = epochs  # that run had finished: resuming it trains no further epoch
        elif start_epoch > epochs:  # it would train nothing and call that "completed"
            raise HyperparameterError(
                f"epochs: {epochs} is fewer than the {start_epoch} epochs the checkpoint {resume} holds; epochs "
                f"counts them all, so pass more than {start_epoch} to train further"
            )
    comm.broadcast_parameters(model)
    model.preprocessor = preprocessor

    loop_arguments = (model, loss, optimizer, X, T, batch_size, rng, history, verbose, epochs, start_epoch, comm)
    if device == "cuda":
        from .device_loop import DeviceLoop  # the GPU's loop; imports nothing of CuPy's until made
        loop = DeviceLoop(*loop_arguments, graph=graph)
        if X_val is not None:
            X_val, T_val = to_device(X_val, device), to_device(T_val, device)
    else:
        loop = _Loop(*loop_arguments, weights=weights)
    for callback in callbacks:
        callback.on_train_begin(model, history)
    # No NumPy overflow warnings: the divergence guard reports a non-finite value in one error.
    quiet_overflow = numpy.errstate(over="ignore", invalid="ignore", divide="ignore")
    stopped_by = []  # the callbacks that asked to stop after the last epoch run
    with loop, model.reusing_buffers(), loop.interruptible(), loop.progress_bar() as bar, quiet_overflow:
        for epoch in range(start_epoch + 1, epochs + 1):
            logs = loop.run_epoch(epoch, bar)
            if X_val is not None:
                logs.update(evaluate_prepared(model, X_val, T_val, loss, prefix="val_", weights=w_val))
            for name, value in logs.items():
                history.append(name, value)
            history.epochs = epoch
            history.partial_last_epoch = loop.partial_epoch  # Ctrl-C before the epoch's last batch
            stopped_by = [callback for index, callback in enumerate(callbacks)
                          if stop_requested(callback, index, epoch, logs, model)]
            stop = comm.any(bool(stopped_by))
            loop.interrupted = comm.any(loop.interrupted)
            loop.report_epoch(bar, epoch, logs)
            history.stop_reason = "interrupted" if loop.interrupted else "early_stopping" if stop else "completed"
            done = loop.interrupted or stop or epoch == epochs
            # An epoch cut short by Ctrl-C is not checkpointed: resuming would skip its remaining batches.
            if checkpoint is not None and not loop.partial_epoch and (done or epoch % checkpoint_every == 0):
                if comm.is_root:
                    save_checkpoint(checkpoint, model, optimizer, rng, history, callbacks, epoch,
                                    validation=validation_set)
                else:  # the other ranks check the callbacks' arrays as rank 0 does, so that all raise alike
                    callback_checkpoint_state(callbacks, model)
            if done:
                break
    for callback in callbacks:
        callback.on_train_end(model, history)
    if history.stop_reason == "early_stopping":
        loop.report_stop(stopped_by, history.epochs)
    model.metadata["training"] = {
        "loss": type(loss).__name__, "optimizer": repr(optimizer), "epochs": history.epochs,
        "batch_size": batch_size, "seed": seed, "n_train": n_train, "stop_reason": history.stop_reason,
        "partial_last_epoch": history.partial_last_epoch, "final": history.last(),
        # an EarlyStopping's best epoch (None without one): with restore_best the weights are
        # that epoch's, while "final" holds the metrics of the last epoch run
        "best_epoch": history.best_epoch, "device": device,
        "cuda_graph": loop.graph_used,
    }
    return history


def check_trainable(model: Layer, device: str) -> None:
    """HyperparameterError for a model whose every parameter is frozen (training would change
    nothing), or with frozen layers on the GPU, whose fused steps update the whole of θ."""
    frozen = model.frozen_parameters
    if not frozen:
        return
    if model.n_trainable_parameters == 0:
        raise HyperparameterError("model: no trainable parameters: every layer is frozen; set trainable=True "
                                  "on the layers to train")
    if device == "cuda":
        raise HyperparameterError(f"device: frozen layers are not supported on the GPU yet ({len(frozen)} frozen "
                                  f"parameters, e.g. {frozen[0]!r}); train on the CPU or unfreeze "
                                  f"(model.trainable = True)")


def split_validation(X, y, weights, validation, loss, dtype, split_seed, names=None):
    """(X, y, weights, X_val, y_val, w_val): a given validation set, or a held-out fraction of (X, y).

    The fraction is stratified for classification labels and shuffled otherwise, from
    ``split_seed`` (a SeedSequence), so a resumed run holds out the same rows; the sample
    ``weights`` (or None) are split with the rows. A given set's weights are its third item;
    its X_val is read by the model's feature ``names`` when it is a DataFrame with names (as
    X is), and a column of labels y_val (n_samples, 1) is taken as one label per row.
    """
    if isinstance(validation, tuple):
        if len(validation) not in (2, 3):
            raise HyperparameterError("validation: expected a fraction, a pair (X_val, y_val) or a triple "
                                      f"(X_val, y_val, w_val), got a tuple of {len(validation)} items")
        X_val = as_matrix(select_features(validation[0], names, "X_val"), dtype, name="X_val")
        y_val = as_label_vector(as_targets(validation[1], "y_val"), loss, "y_val")
        if len(X_val) == 0:
            raise ShapeError(f"X_val has no rows (shape {X_val.shape}); expected at least 1, or validation=None for none")
        if y_val.dtype.kind == "f":
            check_finite(y_val, "y_val")
        check_one_target_per_row(X_val, y_val, "X_val", "y_val")
        w_val = None
        if has_validation_weights(validation):
            w_val = as_sample_weights(validation[2], len(X_val), "w_val", "X_val")
        return X, y, weights, X_val, y_val, w_val
    if validation is None or validation == 0:
        return X, y, weights, None, None, None
    if isinstance(validation, bool) or not isinstance(validation, numbers.Real) or not 0 < validation < 1:
        raise HyperparameterError(f"validation: expected a fraction in (0, 1), (X_val, y_val) or "
                                  f"(X_val, y_val, w_val), got {validation!r}")
    validation = as_fraction(validation)
    seed = int(split_seed.generate_state(1)[0])
    if loss.task == "classification" and y.ndim == 1:
        train, held = stratified_split_indices(y, validation, seed, name="validation")
        missing = sorted(set(numpy.unique(y).tolist()) - set(numpy.unique(y[train]).tolist()), key=repr)
        if missing:
            raise DataError(
                f"validation: holding out {validation:g} of the {len(y)} rows leaves class {missing[0]!r} "
                f"without training rows; use a smaller fraction"
            )
    else:
        train, held = shuffled_split_indices(len(y), validation, seed, name="validation")
    if weights is None:
        return X[train], y[train], None, X[held], y[held], None
    for rows, which in ((train, "training"), (held, "held-out validation")):
        if not weights[rows].any():
            raise DataError(f"sample_weight: the weights of all {len(rows)} {which} rows are zero (validation="
                            f"{validation:g}); expected at least one positive weight among them")
    return X[train], y[train], weights[train], X[held], y[held], weights[held]


def weigh_classes(T, preprocessor: Preprocessor, class_weight, weights, float_hint: str = ""):
    """The training rows' sample ``weights`` (or None: all 1) times their class weights.

    HyperparameterError naming ``class_weight`` unless the targets are class labels (a
    classification loss with labels, not probability rows), with ``float_hint`` when float
    labels were taken as regression targets; the product is checked as ``sample_weight`` is
    (DataError when all of it is zero).
    """
    if preprocessor.task != "classification" or T.ndim != 1:
        raise HyperparameterError(
            "class_weight: needs class labels (classification with a label per row); got "
            + ("probability targets, one row per sample" if preprocessor.task == "classification"
               else f"targets for {preprocessor.task}{float_hint}")
        )
    per_row = class_weights_per_row(T, preprocessor.classes, class_weight)
    return as_sample_weights(per_row if weights is None else per_row * weights, len(T), "class_weight")


def has_validation_weights(validation) -> bool:
    """Whether ``validation`` is a triple (X_val, y_val, w_val) with weights (a w_val of None weighs none)."""
    return isinstance(validation, tuple) and len(validation) == 3 and validation[2] is not None


def as_targets(y, name: str):
    """``y`` as a NumPy array; a ragged list raises ShapeError naming ``name``."""
    try:
        return numpy.asarray(y)
    except ValueError as error:  # NumPy's "inhomogeneous shape"
        raise ShapeError(f"{name}: expected a rectangular array of targets, got {type(y).__name__} ({error})") from None


def as_label_vector(y, loss, name: str = "y"):
    """``y`` as one label per row when it is a column (n_samples, 1) of labels (integers,
    booleans, strings or objects: ``df[["label"]]``, Keras's sparse labels) and ``loss``
    is a classification loss; otherwise ``y`` itself. A float column stays a column: float
    targets are regression values (``prepare_targets`` suggests ``y.ravel()`` where a
    classification loss refuses one)."""
    if loss.task == "classification" and y.ndim == 2 and y.shape[1] == 1 and y.dtype.kind in "biuUSO":
        return y.ravel()
    return y


def check_one_target_per_row(X, y, x_name: str = "X", y_name: str = "y") -> None:
    """ShapeError naming ``y_name`` unless ``y`` holds one target (or row of targets) per row of X."""
    if y.shape[:1] != X.shape[:1]:
        raise ShapeError(f"{y_name}: expected {X.shape[0]} targets (one per row of {x_name}), got shape {y.shape}")


def as_fraction(value) -> float:
    """A real number as the Python float it was written as: ``numpy.float32(0.2)`` -> 0.2.

    ``float(numpy.float32(0.2))`` is 0.20000000298…, which would hold out one row more than
    0.2 where 0.2·n is a whole number; the shortest decimal of a NumPy float is what was meant.
    """
    return float(str(value)) if isinstance(value, numpy.floating) else float(value)


def default_loss(y):
    """SoftmaxCrossEntropy for labels (integers, booleans, strings), MSE for float values."""
    return MSE() if y.dtype.kind == "f" else SoftmaxCrossEntropy()


FLOAT_TARGETS_HINT = ("; y holds floats, so fit took them as regression targets (MSE); for classes pass integer "
                      "or string labels, or loss='cross_entropy'")


def warn_if_one_hot(y, n_outputs: int) -> None:
    """A OneHotTargetsWarning when float targets ``y``, about to train MSE by default, are
    one-hot rows as wide as the outputs: Keras's ``to_categorical`` labels, meant as classes.

    One pass over y, once per ``fit``; the warning does not change what is trained.
    """
    if y.ndim != 2 or n_outputs < 2 or y.shape[1] != n_outputs:
        return
    if bool(((y == 0) | (y == 1)).all()) and bool((y.sum(axis=1) == 1).all()):
        warnings.warn(
            f"y: every row is one-hot over the {n_outputs} outputs, but y holds floats, so fit trains them as "
            f"regression targets with MSE; for classification pass loss='cross_entropy' (these rows are its "
            f"probability targets) or the class indices y.argmax(axis=1)", OneHotTargetsWarning, stacklevel=3)


def warn_if_output_activation(model: Layer, loss) -> None:
    """An OutputActivationWarning when the model ends in a Softmax or a Sigmoid (trailing
    Identity layers aside) and ``loss`` is a cross-entropy, which takes logits and applies its
    own softmax or sigmoid: the outputs would be squashed twice.

    So do ``predict_proba`` and the ONNX ``probabilities`` output.
    """
    if not isinstance(loss, (SoftmaxCrossEntropy, BinaryCrossEntropy)):
        return
    last = model
    while isinstance(last, Sequential) and last.layers:
        layers = [layer for layer in last.layers if not isinstance(layer, Identity)] or last.layers
        last = layers[-1]
    if isinstance(last, (Softmax, Sigmoid)):
        own = "softmax" if isinstance(loss, SoftmaxCrossEntropy) else "sigmoid"
        warnings.warn(
            f"model: its last layer is a {type(last).__name__}, but {type(loss).__name__} takes logits and applies "
            f"a {own} itself, so the outputs are squashed twice and training stalls; remove the last layer "
            f"(cr.mlp without output_activation)", OutputActivationWarning, stacklevel=3)


EARLIER_FIT_HINT = "pass standardize=None to continue with it, or set model.preprocessor = None to fit a new one"


def reuse_preprocessor(preprocessor: Preprocessor, X, loss, standardize: bool | None,
                       float_hint: str = "") -> Preprocessor:
    """The model's preprocessor from an earlier fit (or cr.load), checked against this call.

    Training continues from the weights, which were fitted to this preprocessor's
    standardization and class order, so neither is refitted; an argument or data that
    contradicts it raises HyperparameterError or ShapeError saying how to proceed.
    """
    standardizes = preprocessor.mean is not None
    if standardize is not None and standardize != standardizes:
        does = ("standardizes its inputs with the mean and scale of the data of its earlier fit" if standardizes
                else "does not standardize its inputs")
        raise HyperparameterError(f"standardize={standardize}: the model's preprocessor {does}; {EARLIER_FIT_HINT}")
    if preprocessor.task != loss.task:
        raise HyperparameterError(
            f"loss: the model's preprocessor, from its earlier fit, is for {preprocessor.task} but "
            f"{type(loss).__name__} trains for {loss.task}{float_hint}; pass a loss for {preprocessor.task}, "
            f"or set model.preprocessor = None to fit a new one"
        )
    if X.shape[1] != preprocessor.n_features:
        raise ShapeError(
            f"X: the model's preprocessor, from its earlier fit, expects rows of {preprocessor.n_features} "
            f"features, got {X.shape[1]}; set model.preprocessor = None to fit a new one"
        )
    return preprocessor


def prepare_targets(loss, targets, n_outputs: int, dtype, float_hint: str = "", name: str = "y"):
    """``loss.prepare`` of the (encoded) targets; ``float_hint`` is added to its ShapeError,
    since float class labels taken as regression values fail there. A column (n_samples, 1)
    that a classification loss refuses (floats, not labels: see ``as_label_vector``) gets a
    ShapeError naming ``name`` that suggests ``name.ravel()``."""
    try:
        return loss.prepare(targets, n_outputs, dtype, n_samples=len(targets))
    except ShapeError as error:
        if loss.task == "classification" and numpy.ndim(targets) == 2 and numpy.shape(targets)[1] == 1:
            raise ShapeError(f"{name}: {error}; for one class label per row pass {name}.ravel()") from None
        if not float_hint:
            raise
        raise ShapeError(f"{error}{float_hint}") from None


def encode_earlier_classes(preprocessor: Preprocessor, y, name: str = "y"):
    """``encode_targets`` with the model's classes from an earlier fit, whose LabelError says so."""
    try:
        return encode_targets(preprocessor, y, name)
    except LabelError as error:
        raise LabelError(f"{error}; the model's classes come from its earlier fit (set model.preprocessor = None "
                         f"to fit new ones)") from None


def fit_preprocessor(X, y, loss, n_outputs: int, standardize: bool, names=None) -> Preprocessor:
    """Learn the standardization of X and the classes of y, checking them against the model;
    the preprocessor keeps X's feature ``names`` (or None)."""
    if loss.task != "classification" or y.ndim != 1:
        made = Preprocessor.fit(X, y, "regression" if loss.task == "regression" else "multilabel",
                                standardize=standardize, feature_names=names)
        if loss.task == "classification":
            made.task = "classification"  # probability targets: the classes are the output indices
            made.classes = list(range(n_outputs))
        return made
    made = Preprocessor.fit(X, y, "classification", standardize=standardize, feature_names=names)
    if y.dtype.kind in "iu" and min(made.classes) >= 0 and max(made.classes) < n_outputs:
        made.classes = list(range(n_outputs))  # integer labels already name the outputs
    elif len(made.classes) != n_outputs:
        binary_hint = ("; use 2 outputs, or loss='binary_cross_entropy' with 0/1 labels"
                       if n_outputs == 1 and len(made.classes) == 2 else "")
        raise LabelError(
            f"y: the model has {n_outputs} outputs but y holds {len(made.classes)} classes "
            f"({', '.join(map(repr, made.classes[:10]))}{', ...' if len(made.classes) > 10 else ''}){binary_hint}"
        )
    return made


def prepare_inputs(preprocessor: Preprocessor, X, dtype):
    """Standardize X when the preprocessor says so, keeping the model's dtype."""
    return X if preprocessor.mean is None else preprocessor.transform(X, dtype)


def encode_targets(preprocessor: Preprocessor, y, name: str = "y"):
    """Class labels -> indices for classification with labels; targets unchanged otherwise."""
    if preprocessor.task == "classification" and numpy.asarray(y).ndim == 1:
        return preprocessor.encode(y, name)
    return y


def evaluate_prepared(model: Layer, X, T, loss, prefix: str = "", weights=None) -> dict:
    """Loss and metrics of ``model`` on prepared inputs and targets, EVAL_CHUNK rows at a time;
    weighted by the rows' ``weights`` (NumPy, float64) when given."""
    chunks = ((start, X[start:start + EVAL_CHUNK]) for start in range(0, len(X), EVAL_CHUNK))
    return score_chunks(model, chunks, lambda n_outputs: T, loss, prefix, weights)


def score_chunks(model: Layer, chunks, targets, loss, prefix: str = "", weights=None) -> dict:
    """Loss and metrics of ``model`` over consecutive blocks of prepared rows, as one Scores.

    ``chunks`` yields (start, inputs) for rows start..start+len(inputs); ``targets(n_outputs)``
    returns the prepared targets of all the rows (on any device), asked once, when the first
    outputs show their width. Each block's targets go to the model's device. With ``weights``
    (one per row, on the CPU) the loss and metrics are weighted.
    """
    scores, T = Scores(loss.task), None
    for start, inputs in chunks:
        Y = model.forward(inputs)
        if T is None:
            T = targets(Y.shape[1])
        T_chunk = to_device(T[start:start + len(Y)], model.device)
        if weights is None:
            value, _ = loss.compute(Y, T_chunk)
            scores.add(Y, T_chunk, value)
        else:
            w_chunk = weights[start:start + len(Y)]
            value, _ = loss.compute(Y, T_chunk, w_chunk)
            scores.add(Y, T_chunk, value, w_chunk)
    return scores.result(prefix)


def writes_to_terminal(stream) -> bool:
    """Whether ``stream`` is a terminal: not a file, a pipe or a closed stream."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty (None, a custom object), or closed
        return False


class _Loop:
    """The state of one ``fit`` call's epochs: kept apart so each piece reads on its own."""

    graph_used = False  # whether steps were replayed from a CUDA graph (the GPU loop sets it)

    def __init__(self, model, loss, optimizer, X, T, batch_size, rng, history, verbose, epochs, start_epoch, comm,
                 weights=None):
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.X, self.T, self.batch_size, self.rng = X, T, batch_size, rng
        self.weights = weights  # the rows' sample weights (float64), or None
        self.w_batch = None if weights is None else numpy.empty(batch_size)  # reused each step
        self.history, self.verbose, self.comm = history, verbose and comm.is_root, comm
        # verbose=1: the bar where it can be drawn; redirected, and with verbose=2, only lines
        self.shows_bar = bool(self.verbose) and verbose == 1 and (NOTEBOOK_BAR or writes_to_terminal(sys.stderr))
        self.epochs, self.start_epoch = epochs, start_epoch
        self.interrupted = False
        self.partial_epoch = False  # Ctrl-C came before the last batch of the epoch
        flat = model.flat_parameters()
        self.X_batch = get_array_module(X).empty((batch_size, X.shape[1]), dtype=X.dtype)  # reused each step
        # Layers with weights, for the gradient-flow record: "0.W" -> layer "0". A layer frozen as
        # the fit starts has no gradient to record (its norm would read as a vanished gradient).
        frozen = set(model.frozen_parameters)
        self.weight_slices = {layer_of(name): flat.slices[name] for name in flat.names
                              if name.rpartition(".")[2] == "W" and name not in frozen}

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release what the loop holds beyond its arrays (the GPU loop's CUDA graph)."""

    def run_epoch(self, epoch: int, bar) -> dict:
        """One pass over the shuffled training data; returns the epoch's training metrics."""
        optimizer, flat = self.optimizer, self.model.flat_parameters()
        xp = get_array_module(flat.grad)
        n_train = len(self.X)
        n_batches = math.ceil(n_train / self.batch_size)
        order = self.rng.permutation(n_train)
        stride = math.ceil(n_batches / GRAD_NORM_SAMPLES)
        bar.set_description(f"epoch {epoch}/{self.epochs}")
        scores = Scores(self.loss.task)
        norm_sums = dict.fromkeys(self.weight_slices, 0.0)
        n_norms = 0
        for batch in range(n_batches):
            rows = order[batch * self.batch_size:(batch + 1) * self.batch_size]
            own_rows = self.comm.shard(rows)
            value = self.backpropagate(own_rows, scores, flat)
            if batch == 0:  # once an epoch: a custom backward that rebinds its gradient is refused, not trained stale
                flat.check_still_held()
            if self.weights is None:
                self.comm.average_gradient(flat.grad, len(own_rows), len(rows), value)
            else:  # each rank's mean counts as its rows' share of the batch's weight
                self.comm.average_gradient(flat.grad, *self.weight_sums(own_rows, rows), value)
            if not math.isfinite(value):
                raise self.diverged(epoch, batch, n_batches, "the loss is not finite")
            if batch % stride == 0:
                norms = self.layer_grad_norms(flat.grad, xp)
                if epoch == 1 and batch == 0:
                    self.history.initial_grad_norms = dict(norms)
                for name, norm in norms.items():
                    norm_sums[name] += norm
                n_norms += 1
            # A non-finite gradient makes a non-finite step, which is then not applied.
            if not optimizer.step(check_finite=True, flat=flat):
                raise self.diverged(epoch, batch, n_batches, "the gradient or the update is not finite")
            bar.update(len(rows))
            if self.comm.stops_mid_epoch(self.interrupted):
                self.partial_epoch = batch + 1 < n_batches
                break
        for name, total in norm_sums.items():
            self.history.grad_norms.setdefault(name, []).append(total / max(n_norms, 1))
        self.comm.sum_scores(scores)
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
        X_batch = xp.take(self.X, rows, axis=0, out=self.X_batch[:len(rows)], mode="clip")
        T_batch = self.T[rows]
        Y = self.model.forward(X_batch)
        if self.weights is None:
            value, dY = self.loss.compute(Y, T_batch)
            self.model.backward(dY, input_grad=False)
            scores.add(Y, T_batch, value)
            return float(value)
        w_batch = numpy.take(self.weights, rows, out=self.w_batch[:len(rows)], mode="clip")
        value, dY = self.loss.compute(Y, T_batch, w_batch)
        self.model.backward(dY, input_grad=False)
        scores.add(Y, T_batch, value, w_batch)
        return float(value)

    def weight_sums(self, own_rows, rows) -> tuple[float, float]:
        """(Σ w over ``own_rows``, Σ w over the batch's ``rows``), by which the ranks average their
        weighted means; a batch of weight 0 gives (0, 1): its gradient is 0 on every rank."""
        batch_total = float(self.weights[rows].sum())
        if batch_total == 0:
            return 0.0, 1.0
        return float(self.weights[own_rows].sum()), batch_total

    def diverged(self, epoch: int, batch: int, n_batches: int, what: str) -> DivergenceError:
        """The error for a non-finite value at (epoch, batch), ``what`` saying which; θ is then still finite."""
        return DivergenceError(
            f"training diverged at epoch {epoch}, batch {batch + 1}/{n_batches}: {what}; "
            f"the model keeps its last finite weights; try a lower learning rate (lr={self.optimizer.lr:g})"
        )

    def layer_grad_norms(self, grad, xp) -> dict:
        """‖∂L/∂W‖ for every layer with weights, from the flat gradient."""
        return {name: math.sqrt(float(xp.dot(grad[where], grad[where]))) for name, where in self.weight_slices.items()}

    def describe(self, logs: dict) -> str:
        """An epoch's metrics in one line: "loss 0.0913, accuracy 0.982"."""
        return ", ".join(f"{name} {value:.4g}" for name, value in logs.items())

    def report_epoch(self, bar, epoch: int, logs: dict) -> None:
        """Print a finished epoch's line on stderr: above the bar when there is one, so the
        learning curve stays on screen, or alone. Nothing when verbose=0."""
        if not self.verbose:
            return
        line = f"epoch {epoch}/{self.epochs}: {self.describe(logs)}"
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
        """A tqdm bar over the samples of the remaining epochs; a disabled one, which draws
        nothing, when there is no bar to show (verbose=0 or 2, or stderr redirected)."""
        total = (self.epochs - self.start_epoch) * len(self.X)
        return tqdm(total=total, unit="sample", unit_scale=True, file=sys.stderr, disable=not self.shows_bar,
                    desc=f"training {self.epochs - self.start_epoch} epochs", dynamic_ncols=True, leave=True)

    def interruptible(self):
        """Context in which Ctrl-C ends training after the current batch (a second one aborts)."""
        return _StopOnInterrupt(self)


class _StopOnInterrupt:
    """SIGINT sets the loop's ``interrupted`` flag instead of raising, once."""

    def __init__(self, loop: _Loop) -> None:
        self.loop = loop
        self.previous = None

    def _handle(self, signum, frame) -> None:
        self.loop.interrupted = True
        signal.signal(signal.SIGINT, self.previous)  # a second Ctrl-C interrupts for real

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
