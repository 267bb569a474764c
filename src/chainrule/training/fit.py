"""``fit``: train a model by minibatch stochastic gradient descent, from raw data to a History.

Each step is the algorithm of the notes: forward a minibatch, compute ∇_y L from the loss,
backpropagate it through every layer, and let the optimizer update θ from ∂L/∂θ. Around
those steps ``fit`` does what a user should not have to write, in phases that read top-down:
it checks its arguments; prepares the data (validation split, label mapping and
standardization fitted on training data only: :mod:`chainrule.training.prepare`); sets up the
optimizer, or restores an atomic checkpoint from which a run resumes bit-identically; runs the
epochs (per-epoch shuffling from the seed, metrics, per-layer gradient norms, a progress bar,
the divergence guard and Ctrl-C: :mod:`chainrule.training.loop`) with early stopping and
checkpoints; and records a summary in the model's metadata. With ``distributed=True`` it runs
data-parallel over MPI; the few points where that matters go through a communicator (see
:mod:`chainrule.training.distributed`), which does nothing in a single process.
"""

from __future__ import annotations

import functools
import inspect
import os
from typing import NamedTuple

import numpy
from numpy.typing import ArrayLike

from ..backend import module_for, to_device
from ..checks import SEED_RANGE, as_sample_weights, check_finite, flag, is_bool, is_seed, positive_int
from ..cuda.kernels import check_own_step
from ..data.frames import feature_names, select_features
from ..data.preprocessing import Preprocessor, check_preprocessor_inputs
from ..errors import (DataError, DistributedError, DivergenceError, HyperparameterError, ModelFileError, ShapeError,
                      quoted)
from ..io.atomic import check_path, check_writable
from ..io.json_values import strict_json
from ..io.model_file import check_savable
from ..layers.layer import Layer, check_initialized
from ..layers.widths import input_width
from ..losses import get_loss
from ..losses.loss import Loss, takes_weights
from ..optimizers import Optimizer, get_optimizer
from .callbacks import Callback, check_hooks, stop_requested
from .checkpoint import (NO_VALIDATION, callback_checkpoint_state, check_checkpoint_path, check_history_state,
                         check_optimizer_state, load_checkpoint, save_checkpoint)
from .distributed import AGREED, Communicator, SingleProcess, communicator, started_alone
from .fingerprint import run_fingerprint, validation_fingerprint
from .fit_keywords import unknown_keyword
from .history import History
from .loop import Loop, LoopSettings, evaluate_prepared
from .metrics import metric_names
from .outputs import is_one_row, outputs_dtype_error, outputs_shape_error
from .prepare import (FLOAT_TARGETS_HINT, as_inputs, as_label_vector, as_targets, check_one_target_per_row,
                      check_standardize_targets, default_loss, encode_earlier_classes, encode_targets,
                      fit_preprocessor, fit_seeds, has_validation_weights, prepare_inputs, prepare_scaled_targets,
                      prepare_targets, reuse_preprocessor, split_validation, standardizes, warn_if_one_hot,
                      warn_if_output_activation, weigh_classes)

DEFAULT_BATCH_SIZE = 32  # batch_size=None: this many rows per step, or all the training rows if fewer


#: The largest standardized copy of the training rows (bytes, in the model's dtype) that ``fit``
#: makes before the epochs, for the speed of gathering ready rows; a larger X is standardized a batch at a time in the
#: loop, which makes no copy of X but costs each step a float64 pass over its rows (at 784
#: features, +15 % a step at batch 32 and +32 % at batch 1024 on the 2-core test machine, in
#: an A/B of the two forms while other work ran). Bit-identical either way.
STANDARDIZED_COPY_BYTES = 1 << 30


def keywords_checked(function):
    """``function`` (``fit``), refusing a keyword it does not take with a HyperparameterError that names
    chainrule's argument for another library's (``validation_split``: ``validation``), before it runs,
    where Python's TypeError named the keyword alone (:mod:`chainrule.training.fit_keywords`)."""
    parameters = inspect.signature(function).parameters
    accepted = [name for name, parameter in parameters.items()  # a private one (_epoch_order) is not offered
                if parameter.kind is parameter.KEYWORD_ONLY and not name.startswith("_")]

    @functools.wraps(function)
    def checked(*args, **kwargs):
        unknown = [name for name in kwargs if name not in parameters]
        if unknown:
            raise HyperparameterError(unknown_keyword(unknown[0], accepted))
        return function(*args, **kwargs)
    return checked


@keywords_checked
def fit(model: Layer, X: ArrayLike, y: ArrayLike, *, sample_weight: ArrayLike | None = None,
        class_weight: str | dict | None = None, loss: Loss | str | None = None, optimizer: Optimizer | str = "adam",
        lr: float | None = None, epochs: int = 20, batch_size: int | None = None,
        validation: float | tuple | None = None, seed: int | None = 0, shuffle: bool = True, verbose: int = 1,
        callbacks: list[Callback] | tuple[Callback, ...] | None = (), standardize: bool | None = None,
        standardize_targets: bool | None = None, checkpoint: str | os.PathLike | None = None,
        checkpoint_every: int = 1,
        resume: str | os.PathLike | None = None, distributed: bool | Communicator = False,
        device: str | None = None, graph: str | bool = "auto", _epoch_order=None) -> History:
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
        as they went in. A model with parameters but none trainable raises HyperparameterError,
        and so does one whose ``metadata`` is not a dict, before anything trains; one with a layer
        whose forward returns another dtype than its input's (a layer of one's own that turns
        float32 into float64) DTypeError naming the layer.
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
        another). On the GPU the weights go to the device with their rows.
        None (the default) trains exactly as without it.
    class_weight : "balanced" or dict, optional
        Weights of the classes, multiplied into the training rows' weights (see
        :mod:`chainrule.training.class_weight`): ``{label: weight}`` (keys are labels as in
        ``y``, or as the model's classes from an earlier fit; unlisted classes weigh 1), or
        "balanced", n / (K · n_c) for class c with n_c of the n training rows and K the
        classes among them, counted after ``validation`` has held its rows out. As in Keras
        they weight training only, not the validation scores. Needs class labels, or one
        binary cross-entropy output of 0/1 labels, whose classes are 0 and 1 (as in Keras);
        HyperparameterError for regression, probability or several-label targets; a key that is no class
        raises LabelError, a weight that is not a finite real HyperparameterError, a negative
        one DataError; on the GPU too, as ``sample_weight``.
    loss : Loss or name, optional
        By default SoftmaxCrossEntropy when y holds integer, boolean or string labels, and
        MSE when it holds floats (float labels such as 0.0/1.0, or one-hot rows, are then
        regression targets; a shape error this gives says so, and float one-hot rows as wide
        as the outputs, Keras's ``to_categorical`` labels, give a OneHotTargetsWarning). For a
        model with a preprocessor (from an earlier fit, or cr.load), by default the loss of its
        task (BinaryCrossEntropy for multilabel and a binary classifier of one output); a
        given loss must train for that task (HyperparameterError otherwise). The
        cross-entropy losses take logits: a model ending in a Softmax (for
        SoftmaxCrossEntropy) or a Sigmoid (for BinaryCrossEntropy) gives an
        OutputActivationWarning, as the activation would be applied twice.
    optimizer : Optimizer or name
        An optimizer made for ``model``, or "sgd", "rmsprop", "adam", "adamw" (with ``lr``).
    lr : float, optional
        Learning rate for an optimizer given by name (its default otherwise). With an
        optimizer object, which has its own, a given lr raises HyperparameterError.
    epochs : int
        Total number of epochs (a resumed run continues up to this number; fewer than the
        checkpoint's own raises HyperparameterError; as many trains nothing and ends "completed",
        as the uninterrupted run of that many epochs, even when Ctrl-C interrupted the checkpoint's run).
    batch_size : int or None
        Samples per step; the last batch of an epoch may be smaller. None (the default) means
        32, or all the training rows when there are fewer (those left after ``validation``
        held its rows out; with ``distributed``, the rows of all processes), so that a small
        data set trains; ``model.metadata["training"]["batch_size"]`` records the size used.
        A given ``batch_size`` larger than the training rows raises DataError.
    validation : float, (X_val, y_val) or (X_val, y_val, w_val), optional
        A fraction in (0, 1) of the training data to hold out (stratified for
        classification; any real number type, e.g. ``numpy.float32(0.2)``), or a separate
        validation set. Only the held-out rows are copied: the loop gathers each batch from
        X's training rows by index (the same steps, bit for bit, as those rows given as a
        copy; see ``STANDARDIZED_COPY_BYTES`` for standardization). The held-out rows keep
        their ``sample_weight``, which weights the validation loss and metrics (weighted
        accuracy, R² as scikit-learn's ``r2_score`` with ``sample_weight``, MAE); all of
        them zero raises DataError. A separate set may
        carry its own weights ``w_val`` (Keras's ``validation_data`` form), checked as
        ``sample_weight`` is; (X_val, y_val) is unweighted. A validation row far outside the
        training rows (one whose z = (x − μ)/σ the model's dtype cannot hold) gives a NaN
        ``val_loss``, recorded as NaN in the History and as None (null) in the training
        summary and a checkpoint, which JSON holds.
    seed : int or None
        Seeds the validation split and the per-epoch shuffling (model weights are seeded
        where the model is built). Same seed, same data, same model ⇒ bit-identical weights.
        From 0 to 2**128 - 1 (``checks.MAX_SEED``: 128 bits, as much entropy as a fresh
        ``numpy.random.SeedSequence`` holds), else HyperparameterError: the model's training
        summary and its checkpoints record it, as JSON text. None draws one from the operating
        system's entropy (63 bits; in a distributed run, on rank 0), which they record alike: the
        run can be repeated with that seed, and resumed with seed=None, which takes it.
    shuffle : bool
        Whether each epoch visits the training rows in a new random order (drawn from
        ``seed``); False takes them in their order in X every epoch, the first
        ``batch_size`` rows as the first batch (scikit-learn's MLP ``shuffle=False``), and
        draws nothing from the seed's Generator for it. The validation split is random
        either way. HyperparameterError for anything but a bool. A checkpoint records it, and
        a resumed run must pass the ``shuffle`` of the run it continues (ModelFileError naming
        ``shuffle`` and both values otherwise: its Generator continues that run's order; a
        checkpoint written before chainrule recorded it resumes with True alone); with
        ``distributed``, every rank must pass the same (DistributedError naming it).
    verbose : 0, 1 or 2
        What ``fit`` prints, all of it on stderr (stdout stays clean): 0 nothing. 1, when
        stderr is a terminal (or in a Jupyter notebook), a progress bar over the samples of
        all the epochs (the remaining ones when resuming) with one line per finished epoch
        written above it, ``epoch 3/20: loss 0.09131, accuracy 0.9821, val_loss 0.1012,
        val_accuracy 0.9667``; when stderr is redirected to a file or a pipe, or the terminal is
        dumb (``TERM=dumb``), only those lines.
        2 only those lines, even in a terminal (Keras's ``verbose=2``). With 1 or 2, a
        callback that stops training adds a line saying why (an EarlyStopping: the epochs
        without improvement and which epoch's weights the model keeps). True and False are
        1 and 0. With ``distributed``, only rank 0 prints.
    callbacks : list or tuple of Callback, or None
        E.g. ``[cr.EarlyStopping(patience=5)]``; None means none (Keras's default). Each is ``reset`` at the start, so a
        callback object may be reused in another ``fit``; listed twice in one, it raises
        HyperparameterError (its hooks would run twice an epoch).
    standardize : bool or None
        Standardize features with the training data's mean and deviation (saved with the
        model, so ``cr.predict`` takes raw rows). None (the default) means False for a model
        without a preprocessor, and follows the preprocessor of one that has one; True or
        False contradicting that preprocessor raises HyperparameterError. X is then read in
        its own dtype (float64 is not first cast to a float32 model's dtype) and the statistics
        and z = (x − μ)/σ computed in float64, z alone cast to the model's dtype, so a feature
        with a large offset keeps its digits. A standardized copy of the training rows is made
        once when it takes at most ``STANDARDIZED_COPY_BYTES`` (1 GiB) or on the GPU; a larger
        X is standardized a batch at a time as the CPU loop gathers it, making no copy (the
        same values, bit for bit; the steps take longer).
    standardize_targets : bool or None
        For regression, train the network on standardized targets t = (y − μ_y) / σ_y, with
        the training targets' mean and deviation per output (computed in float64 as the
        features' are; a constant target gets σ_y = 1), saved with the model: targets far
        from 0 or of a large spread (prices around 1e5, y + 1e6) then train as well as values
        near 0 do. ``cr.predict`` answers ŷ = σ_y t̂ + μ_y in y's units (float64). The
        validation targets are standardized alike (NonFiniteError naming ``y_val`` for one so far
        outside the training targets that its standardized value is beyond the model's dtype:
        1e10 among targets of spread 1e-30); R² is unchanged by it and ``mae`` is
        reported in y's units, but ``loss`` (and ``val_loss``) is that of the standardized
        targets. None (the default) means False for a model without a preprocessor and
        follows the preprocessor of one that has one (True or False contradicting it raises
        HyperparameterError), as ``standardize`` does; True with a loss that does not train
        for regression raises HyperparameterError naming it.
    checkpoint : path, optional
        Write a checkpoint here every ``checkpoint_every`` epochs and at the end (atomically),
        never after an epoch that Ctrl-C cut short (``checkpoint_every``, an int ≥ 1, default 1;
        else HyperparameterError naming it). A directory, or a path in a directory that does
        not exist, raises ModelFileError before anything trains (without ``distributed``), as
        does a model with a layer a model file cannot hold (a layer of one's own: see
        ``cr.save_weights``). A callback whose ``state_dict`` returns an array its ``checkpoint_arrays`` does not
        declare (name, shape, dtype) raises HyperparameterError at the first checkpoint,
        since the checkpoint could not be resumed.
    resume : path, optional
        Continue from a checkpoint written by an earlier call with the same data and
        arguments; the result is bit-identical to an uninterrupted run. A path that does
        not exist raises ModelFileError ("no such checkpoint file"). The checkpoint's
        Generator goes on shuffling, so the run keeps its seed (the model's training summary
        records it): another ``seed`` given raises ModelFileError naming ``seed``, and None
        takes the checkpoint's, for the validation split too (read with the whole checkpoint, once,
        before the data are split; with ``distributed``, rank 0 reads it and sends it to every
        rank, which takes the seed from it and resumes from it). Another ``shuffle`` than the
        run's raises ModelFileError naming ``shuffle`` (see there). A ``batch_size`` other than
        the run's is taken (the run is then no longer the uninterrupted one, as for
        ``chainrule train --resume --batch-size``).
        The validation set
        must be the checkpoint's run's (the same rows, targets and weights, compared by a checksum
        saved in the checkpoint): another ``validation`` fraction or data, other weights of
        its rows (``w_val``, or the ``sample_weight`` of the held-out rows), another seed
        that splits it (a run of seed=None held out other rows on every call), or a validation set
        added or removed raises ModelFileError naming ``validation`` before anything is
        restored, since the run would train on former validation rows and its early
        stopping would compare scores of two validation sets. The training data and their
        weights are not compared: continuing on new data (fine-tuning) is allowed, and a
        validation set given as (X_val, y_val) may stay the same even when standardization,
        refitted on the new data by a model without a preprocessor, changes (a model that has
        one keeps it, see ``model``). A checkpoint written before chainrule saved this
        checksum resumes without the check. The data must still be prepared alike: the same
        task and classes (each output scores one class) and ``standardize`` alike on or off,
        else ModelFileError. An EarlyStopping must watch the same metric in the same direction
        (its patience and min_delta may change). The optimizer's hyperparameters are not saved:
        those given now are used, so a callback that changes lr should set it from the epoch in
        ``on_train_begin`` too (or use a ``schedule``, which the saved step count drives).
    distributed : bool or Communicator
        Train data-parallel on the processes of an ``mpiexec -n N`` job (needs
        ``pip install 'chainrule[mpi]'``): every process passes the same data and
        arguments, ``batch_size`` is the global batch, of which each process takes every
        N-th row, and the gradients are averaged exactly (the result equals one process's
        up to rounding). Only rank 0 shows progress and writes checkpoints. True uses a
        60 s timeout for a rank that hangs or dies; ``cr.Communicator(timeout=...)`` sets another.
        Before training, the ranks compare the model's dtype, the number of rows and features,
        ``batch_size``, ``epochs``, ``seed``, whether ``resume`` is given (only rank 0 reads its
        file), the number of parameters, the classes and feature names, the optimizer (type,
        ``lr``, other hyperparameters and schedule, step count), the loss (type and the
        constructor arguments it keeps), and checksums of the architecture (layer types and
        settings, parameter shapes), of the standardizations (inputs' and
        targets') and of the prepared data (X, the targets, the sample and class weights, the
        validation set); any difference raises the same DistributedError,
        naming it, on every rank. An exception (or a ``sys.exit``) raised on some ranks only, from
        the arguments' checks to ``on_train_end`` (``epochs=0`` or a NaN in X on one rank, an
        optimizer made for another model, a loss, layer or callback of one's own, memory for the
        standardized copy, a checkpoint rank 0 cannot write), stops every rank at once with the same
        DistributedError naming what failed, the rank(s) and the first one's error (``training
        at epoch 1, batch 2/3 failed on rank 1 of 2: ValueError: ...``; on that rank, its
        cause). The ranks agree on it where they communicate anyway, or in one all-gather of a
        word (at four points of a fit, on resume, and after each checkpoint), never per step:
        a rank whose arguments were refused still joins the others up to the first agreement
        (in a process started alone, without a launcher's variables nor ``mpi4py.MPI`` imported,
        the refused argument is raised before MPI starts: see ``distributed.started_alone``),
        and one whose step failed sends a NaN gradient, which every rank's step refuses (as
        after a divergence: t counts it, the optimizer's state starts afresh), before they learn
        whose error it was. One raised on every rank is each rank's own error. A Ctrl-C on one
        rank alone while the epochs run stops every rank after that epoch, as one sent to all
        does. Not covered: a ``distributed`` that one rank refuses (no mpi4py there), an error
        in printing rank 0's epoch line, and a Ctrl-C before or after the epochs, or a second
        one, on one rank (KeyboardInterrupt there, not agreed on: one that reaches every rank, as
        ``mpiexec`` sends it, would catch some in an agreement and others waiting in a collective,
        which raise it at once); the others then wait in their next collective until the timeout,
        and abort the job blaming a hung rank. A script that can fail so should
        run under ``python -m mpi4py``, or catch the error and call
        ``MPI.COMM_WORLD.Abort(code)``, as ``chainrule train`` does.
    device : "cpu", "cuda" or None
        Where to train; None keeps the model where it is (``model.device``). "cuda" needs
        ``pip install 'chainrule[cuda]'``: the model (and a given optimizer) move to the GPU
        in place and stay there; the data go to the GPU once (in chunks if they do not fit in
        half its free memory), and within an epoch only the minibatch order goes to the
        device and only the metrics come back. Not combinable with ``distributed``. Frozen
        layers and sample and class weights train on the GPU as on the CPU (docs/gpu.md says
        what differs: after a divergence, the state of SGD, Adam, AdamW or RMSProp keeps the
        values of its last applied step). The GPU's loop does the work of ``Optimizer.step``
        itself: an optimizer with a ``step`` of its own raises HyperparameterError there
        (override ``rule`` or ``update``, which it runs).
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
        last finite weights. A loss not finite before the first step, or a gradient not finite
        at it, says what to scale, or blames the initial weights, the network or the loss
        (``at_start``), rather than the learning rate. Its ``history`` holds the epochs
        completed before, to draw as any run's.
    DistributedError
        With ``distributed``, when mpi4py is missing, when the ranks were given different
        data or arguments, or when something failed on some ranks only (see ``distributed``).
        A rank that hangs or dies makes the others print this error and abort the MPI job
        (within the timeout).

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
    # _epoch_order is private to chainrule.sklearn, whose estimators visit each epoch's rows in scikit-learn's order
    # (drawn from their random_state): a callable that takes the number of training rows and returns their indices in
    # the order to visit them, called once an epoch in place of the shuffle (see Loop.epoch_order). No checkpoint or
    # distributed run records or compares it: it is for one process without checkpoint or resume, as they train.
    problem, what = None, "checking the arguments"
    try:
        epochs, batch_size, checkpoint_every, callbacks = _check_arguments(
            model, epochs, batch_size, checkpoint_every, checkpoint, resume, verbose, callbacks, seed, standardize,
            standardize_targets, graph, distributed)
        shuffle = flag(shuffle, "shuffle")
        model.refresh_paths()  # a layer it shares with another model is named in errors by its path in this one
        device = model.device if device is None else device
        check_trainable(model)
        weighted_by = _weighted_by(sample_weight, class_weight, validation)
        _check_device(device, distributed, graph, optimizer)
    except AGREED as error:  # perhaps on this rank alone: it still joins the others up to their first agreement
        if not (distributed is True or isinstance(distributed, SingleProcess)):
            raise  # one process, or ``distributed`` itself is refused
        if distributed is True and started_alone(os.environ):
            raise  # no other rank to tell: the error costs no MPI start (nor mpi4py's import)
        problem = error
    try:
        comm = communicator(distributed)
    except DistributedError:  # no mpi4py: an argument refused already is told first
        if problem is not None:
            raise problem from None
        raise
    # Every rank shuffles and splits alike; for seed=None on resume, by the run's seed, read with the checkpoint
    # (once: resume is then what was read, and is restored from). A rank whose arguments were refused takes
    # part with a seed and no resume of its own, which need no checks.
    shared_seed, resume = comm.shared_seed(*((seed, resume) if problem is None else (0, None)))

    # A value that underflows to 0 or a subnormal (a tiny x cast to float32, in the probe row's forward pass)
    # is no error, as NumPy's default takes it, also under a caller's numpy.seterr(all="raise"); the epochs
    # run under their own numpy.errstate (_run_epochs).
    if problem is None:
        what = "preparing the data"
        with numpy.errstate(under="ignore"):
            try:
                data = _prepare_data(model, X, y, sample_weight, class_weight, loss, validation, standardize,
                                     standardize_targets, shared_seed, weighted_by,
                                     records_validation=checkpoint is not None or resume is not None)
            except AGREED as error:  # perhaps on this rank's data alone (a NaN in its X): every rank stops, below
                problem = error
    comm.raise_together(problem, what)  # one all-gather a fit, rather than the others timing out
    if comm.size > 1:  # before any check that could then fail on some ranks only
        comm.check_same_run(*run_fingerprint(model, data.X, data.T, data.X_val, data.T_val, batch_size, epochs, seed,
                                             data.weights, data.w_val, loss=data.loss, optimizer=optimizer, lr=lr,
                                             callbacks=callbacks, preprocessor=data.preprocessor, resume=resume,
                                             shuffle=shuffle, checkpoint=checkpoint,
                                             checkpoint_every=checkpoint_every))
    # One all-gather a fit: this may fail on one rank alone (its optimizer made for another model, a callback's reset)
    with comm.agreeing("setting up the optimizer and the callbacks"):
        for callback in callbacks:  # a monitor that names no metric is refused before anything changes
            callback.check_metrics(metric_names(data.loss.task, data.X_val is not None))
        n_train = len(data.T)  # the rows of X that validation did not hold out
        batch_size = _resolve_batch_size(batch_size, n_train, comm.size)
        model.to(device)
        optimizer = _optimizer_for(model, optimizer, lr, device)
        for callback in callbacks:
            callback.reset()  # nothing carries over from an earlier fit; a checkpoint's state is restored next
    rng = numpy.random.default_rng(data.shuffle_seed)
    history, start_epoch, run_seed = _start_or_resume(model, optimizer, rng, callbacks, resume, epochs, comm,
                                                      data.validation_set, data.preprocessor, seed, shared_seed,
                                                      data.loss, shuffle)
    comm.broadcast_parameters(model)
    model.preprocessor = data.preprocessor

    failure, what = None, "preparing the epochs"
    try:  # perhaps failing on this rank alone (memory for the standardized copy, a callback): all stop, below
        flat = model.flat_parameters()
        settings = LoopSettings(model=model, loss=data.loss, optimizer=optimizer, X=data.X, T=data.T,
                                batch_size=batch_size, rng=rng, shuffle=shuffle, history=history,
                                verbose=verbose, epochs=epochs,
                                start_epoch=start_epoch, comm=comm, flat=flat,
                                epoch_order=_epoch_order,
                                weights=data.weights, train_rows=data.train_rows,
                                preprocessor=data.preprocessor, target_scale=data.preprocessor.target_scale,
                                inputs_standardized=data.preprocessor.mean is not None)
        dtype = flat.theta.dtype
        copy_bytes = n_train * data.X.shape[1] * dtype.itemsize
        if device == "cuda" or (data.preprocessor.mean is not None and copy_bytes <= STANDARDIZED_COPY_BYTES):
            # The training rows as one array, standardized (the GPU's loop takes them whole); without
            # this copy, the CPU's loop gathers each batch from X's training rows (and standardizes it).
            settings = settings._replace(X=prepare_inputs(data.preprocessor, data.X, dtype, data.train_rows),
                                         train_rows=None, preprocessor=None)
        if device == "cuda":
            from .device_loop import DeviceLoop  # the GPU's loop; imports nothing of CuPy's until made
            loop = DeviceLoop(settings, graph=graph)
            if data.X_val is not None:
                data = data._replace(X_val=to_device(data.X_val, device), T_val=to_device(data.T_val, device))
        else:
            loop = Loop(settings)
        what = "starting the callbacks (on_train_begin)"
        for callback in callbacks:
            callback.on_train_begin(model, history)
    except AGREED as error:
        failure = error
    comm.raise_together(failure, what)  # one all-gather a fit
    try:
        _run_epochs(loop, data, callbacks, checkpoint, checkpoint_every, run_seed)
    except DivergenceError as error:  # the diverged run's record, which no return value carries
        error.history = history
        raise
    model.metadata["training"] = _training_summary(loop, n_train, run_seed, device)
    return history


def _check_arguments(model, epochs, batch_size, checkpoint_every, checkpoint, resume, verbose, callbacks, seed,
                     standardize, standardize_targets, graph, distributed) -> tuple[int, int | None, int, list]:
    """The arguments that need no data, checked in this order: (epochs, batch_size,
    checkpoint_every, callbacks) as ints and a list; HyperparameterError for one that is wrong, and
    ModelFileError for a checkpoint path that cannot be written."""
    if not isinstance(model, Layer):
        raise HyperparameterError(f"model: expected a chainrule Layer, got {type(model).__name__}")
    # named: a custom layer that skipped super().__init__(), or whose backward takes no input_grad
    for prefix, layer in model.walk():
        check_initialized(layer, f"layer {prefix.rstrip('.')!r}" if prefix else "model")
    if not isinstance(model.metadata, dict):  # else the summary recorded after the last epoch would fail
        raise HyperparameterError(f"model.metadata: expected a dict (fit records its training summary there, "
                                  f"cr.save writes it), got {type(model.metadata).__name__} "
                                  f"{quoted(model.metadata, 60)}")
    epochs = positive_int(epochs, "epochs")
    batch_size = None if batch_size is None else positive_int(batch_size, "batch_size")
    checkpoint_every = positive_int(checkpoint_every, "checkpoint_every")
    for name, path in (("checkpoint", checkpoint), ("resume", resume)):
        if path is not None:
            check_path(path, name)  # now, not after the first epoch (an int would be a file descriptor)
    # A file that could not be written would fail only after checkpoint_every epochs. A distributed
    # run's rank 0 alone writes it, on a machine whose directories the other ranks may not have.
    if checkpoint is not None and distributed is False:
        check_writable(checkpoint, "checkpoint", ModelFileError)
    if checkpoint is not None:  # a model a model file cannot hold would fail at the first checkpoint
        try:
            check_savable(model, checkpoint)
        except ModelFileError as error:
            raise ModelFileError(f"checkpoint: {error}; or train without a checkpoint") from None
    if not (is_bool(verbose) or isinstance(verbose, (int, numpy.integer)) and 0 <= verbose <= 2):  # not 1.0, an array
        raise HyperparameterError(f"verbose: expected 0, 1 or 2 (or True/False), got {quoted(verbose)}")
    if callbacks is None:  # Keras's and many a wrapper's default for "no callbacks"
        callbacks = ()
    if not isinstance(callbacks, (list, tuple)):
        raise HyperparameterError(
            f"callbacks: expected a list or tuple of chainrule Callbacks or None, got {type(callbacks).__name__}; "
            f"write callbacks=[...] for a single one"
        )
    callbacks = list(callbacks)
    for index, callback in enumerate(callbacks):
        if not isinstance(callback, Callback):
            raise HyperparameterError(f"callbacks: expected chainrule Callbacks, got {type(callback).__name__}")
        twin = next((earlier for earlier in range(index) if callbacks[earlier] is callback), None)
        if twin is not None:  # its hooks would run twice an epoch: an EarlyStopping would count each epoch twice
            raise HyperparameterError(f"callbacks: callbacks[{index}] is callbacks[{twin}], the same "
                                      f"{type(callback).__name__} object; expected each callback once")
        check_hooks(callback, index)
    if seed is not None and not is_seed(seed):  # bounded: the model file records it
        hint = ("; fit takes no Generator, since checkpoints and distributed runs record and compare the seed: pass "
                "an int, e.g. int(rng.integers(2**32))") if isinstance(seed, numpy.random.Generator) else ""
        raise HyperparameterError(f"seed: expected None or an int from {SEED_RANGE}, got {quoted(seed)}{hint}")
    # is_bool, not ``in (None, True, False)``: 1.0 and 0 compare equal to True and False, and an array
    # compared with them raised NumPy's "truth value of an array ... is ambiguous"
    if standardize is not None and not is_bool(standardize):
        raise HyperparameterError(f"standardize: expected None, True or False, got {quoted(standardize)}")
    if standardize_targets is not None and not is_bool(standardize_targets):
        raise HyperparameterError(f"standardize_targets: expected None, True or False, got "
                                  f"{quoted(standardize_targets)}")
    if not (is_bool(graph) or isinstance(graph, str) and graph == "auto"):
        raise HyperparameterError(f"graph: expected 'auto', True or False, got {quoted(graph)}")
    return epochs, batch_size, checkpoint_every, callbacks


def check_trainable(model: Layer) -> None:
    """HyperparameterError for a model with nothing to train, which training would leave as it is:
    one whose every parameter is frozen, or one without any parameters (an empty Sequential, or
    activations alone)."""
    if model.has_trainable_parameters():
        return
    if model.frozen_parameters:
        raise HyperparameterError("model: no trainable parameters: every layer is frozen; set trainable=True "
                                  "on the layers to train")
    raise HyperparameterError(f"model: no parameters to train: the {type(model).__name__} holds no layer with "
                              f"parameters (activations have none); expected a model with a layer that learns, "
                              f"such as cr.Linear")


def _weighted_by(sample_weight, class_weight, validation) -> str | None:
    """The first of "sample_weight", "class_weight" and "validation" (a triple with w_val) that asks
    for sample weights, or None."""
    for name, given in (("sample_weight", sample_weight is not None), ("class_weight", class_weight is not None),
                        ("validation", has_validation_weights(validation))):
        if given:
            return name
    return None


def _asked_by(weighted_by: str) -> str:
    """The argument that asks for weights: validation=(X_val, y_val, w_val) asks by w_val."""
    return "w_val" if weighted_by == "validation" else weighted_by


def _check_device(device: str, distributed, graph, optimizer) -> None:
    """HyperparameterError for what ``device`` cannot train: ``distributed`` or a CUDA ``graph``
    where they are not supported, or on the GPU an ``optimizer`` with a ``step`` of its own, which
    the GPU's loop would not run (:func:`chainrule.cuda.kernels.check_own_step`); an unknown device,
    or "cuda" without CuPy, fails too, first."""
    module_for(device)
    if device == "cuda" and distributed is not False:
        raise HyperparameterError("device: distributed training runs on the CPU; use device='cpu' with distributed")
    if device == "cuda":
        check_own_step(optimizer)
    if graph is True and device != "cuda":
        raise HyperparameterError("graph=True: CUDA graphs need device='cuda'")


class _PreparedData(NamedTuple):
    """The data of one ``fit``, ready to train on: the inputs in the model's dtype, not yet
    standardized (``fit`` standardizes a copy of the training rows, or the loop each batch:
    see ``STANDARDIZED_COPY_BYTES``), with the indices of the training rows among them (no
    copy of X is made for a validation split), validation inputs standardized, the training
    rows' targets as the loss takes them (standardized when the preprocessor standardizes
    them) and weights in float64 (None: unweighted)."""

    X: numpy.ndarray  # every row given, the held-out ones included; not standardized
    train_rows: numpy.ndarray | None  # the training rows' indices in X (None: all of X), in T's order
    T: numpy.ndarray
    weights: numpy.ndarray | None
    X_val: numpy.ndarray | None  # None: no validation set
    T_val: numpy.ndarray | None
    w_val: numpy.ndarray | None
    loss: Loss  # given, or inferred from y
    preprocessor: Preprocessor  # fitted now, or the model's own
    validation_set: str  # the validation set's checksum for checkpoints, or NO_VALIDATION
    shuffle_seed: numpy.random.SeedSequence  # seeds the per-epoch shuffling


def _prepare_data(model: Layer, X, y, sample_weight, class_weight, loss, validation, standardize,
                  standardize_targets, seed, weighted_by: str | None, records_validation: bool) -> _PreparedData:
    """Check and prepare (X, y), the weights and the validation set (see ``fit``), in this order.

    ``seed`` (the ranks' shared one) splits into the validation split's seed and the
    shuffling's. With ``records_validation`` (a checkpoint is written or resumed) the
    validation set's checksum is computed, before standardization: see ``resume``.
    """
    y = as_targets(y, "y")
    if model.preprocessor is not None:  # an earlier fit's, or one set by hand: checked before it is read
        check_preprocessor_inputs(model.preprocessor, None, remembered=False)
    loss_was_inferred = loss is None and model.preprocessor is None  # from y's dtype (see FLOAT_TARGETS_HINT)
    loss = default_loss(y, model.preprocessor) if loss is None else get_loss(loss)
    y = as_label_vector(y, loss, "y")
    dtype, model_device, first = model.parameter_facts()  # one walk for the dtype, the device and the input width
    dtype = dtype or numpy.dtype(numpy.float32)
    # The names of the model's inputs: an earlier fit's, or X's own (a DataFrame's); a frame is
    # then read by name, in their order (see data.frames.select_features).
    names = feature_names(X) if model.preprocessor is None else model.preprocessor.feature_names
    standardized = standardizes(model.preprocessor, standardize)
    X = as_inputs(select_features(X, names, "X"), dtype, standardized)  # own dtype when standardized
    if len(X) == 0:
        raise ShapeError(f"X has no rows (shape {X.shape}); expected at least 1")
    width = input_width(model, first=first)  # before the probe row below, whose error would name the layer and (1, k)
    if width is not None and X.shape[1] != width:
        raise ShapeError(f"X: the model expects rows of {width} features, got shape {tuple(X.shape)}")
    if y.dtype.kind == "f":
        check_finite(y, "y")  # a NaN class label, or a NaN target, named as y's
    check_one_target_per_row(X, y)
    if sample_weight is not None:
        sample_weight = as_sample_weights(sample_weight, len(X))
    # One row through the network: the outputs' width, and a check of X's width against the first layer. Its
    # values are not used: a row too large for the network (3e38 in float32) overflows there, which the divergence
    # guard reports in one error, so no NumPy warning, nor a FloatingPointError under numpy.seterr(all="raise").
    row = to_device(X[:1].astype(dtype), model_device)
    with numpy.errstate(all="ignore"):
        outputs = model.forward(row)
    if not is_one_row(outputs):
        raise outputs_shape_error(model, row, outputs)
    if outputs.dtype != row.dtype:  # a layer of one's own whose forward upcast: the rest would train in float64
        raise outputs_dtype_error(model, row, outputs)
    n_outputs = outputs.shape[1]
    split_seed, shuffle_seed = fit_seeds(seed)

    train_rows, y, weights, X_val, y_val, w_val = split_validation(X, y, sample_weight, validation, loss, dtype,
                                                                   split_seed, names, standardized)
    if weighted_by is not None and not takes_weights(loss):
        raise HyperparameterError(
            f"loss: {type(loss).__name__}.compute takes no weights, so it cannot weigh the rows as "
            f"{_asked_by(weighted_by)} asks; pass a loss whose compute(Y, T, weights=None) does (every built-in "
            f"loss does), or no sample weights"
        )

    warn_if_output_activation(model, loss)
    float_hint = FLOAT_TARGETS_HINT if loss_was_inferred and y.dtype.kind == "f" else ""
    if float_hint:
        warn_if_one_hot(y, n_outputs)
    check_standardize_targets(standardize_targets, loss, float_hint, y)
    if model.preprocessor is None:
        preprocessor = fit_preprocessor(X, y, loss, n_outputs, bool(standardize), names, train_rows)
        if standardize_targets:  # from the training targets only, prepared in float64
            preprocessor.fit_targets(prepare_targets(loss, y, n_outputs, numpy.float64, float_hint))
        encode = encode_targets
    else:
        preprocessor = reuse_preprocessor(model.preprocessor, X, loss, standardize, float_hint, standardize_targets,
                                          n_outputs=n_outputs)
        encode = encode_earlier_classes
    T = prepare_scaled_targets(preprocessor, loss, encode(preprocessor, y), n_outputs, dtype, float_hint)
    if class_weight is not None:
        weights = weigh_classes(T, preprocessor, class_weight, weights, float_hint)
    T_val, validation_set = None, NO_VALIDATION
    if X_val is not None:
        if X_val.shape[1] != X.shape[1]:
            raise ShapeError(f"X_val: expected {X.shape[1]} features like X, got {X_val.shape[1]}")
        T_val = prepare_scaled_targets(preprocessor, loss, encode(preprocessor, y_val, "y_val"), n_outputs, dtype,
                                       float_hint, "y_val")
        if records_validation:  # only checkpoints record it
            # Before standardization (see resume), in the model's dtype (as checkpoints always hashed them)
            validation_set = validation_fingerprint(X_val.astype(dtype, copy=False), T_val, w_val)
        # A validation row far outside the training rows standardizes to a z beyond the dtype's
        # range: inf is the answer (its val_loss is NaN, recorded as such), not a warning.
        with numpy.errstate(over="ignore"):
            X_val = prepare_inputs(preprocessor, X_val, dtype)
    return _PreparedData(X, train_rows, T, weights, X_val, T_val, w_val, loss, preprocessor, validation_set,
                         shuffle_seed)


def _resolve_batch_size(batch_size: int | None, n_train: int, n_processes: int) -> int:
    """The rows per step: ``batch_size``, or for None the default (at most ``n_train``); DataError when a
    given one exceeds the training rows, HyperparameterError when it leaves a process without a row."""
    if batch_size is None:
        chosen = (f"the default, {DEFAULT_BATCH_SIZE}," if n_train >= DEFAULT_BATCH_SIZE
                  else f"the default, all {n_train} training rows (fewer than {DEFAULT_BATCH_SIZE}),")
        batch_size = min(DEFAULT_BATCH_SIZE, n_train)
    elif batch_size > n_train:
        raise DataError(
            f"batch_size: {batch_size} is more than the {n_train} training samples; pass at most {n_train}, or None "
            f"for the default ({DEFAULT_BATCH_SIZE}, or all the training rows if fewer)"
        )
    else:
        chosen = str(batch_size)
    if batch_size < n_processes:
        remedy = (f"the data has fewer training rows than processes: run at most {n_train} processes"
                  if n_train < n_processes else f"pass a batch_size of at least {n_processes}")
        raise HyperparameterError(f"batch_size: {chosen} is less than the {n_processes} processes, each of which "
                                  f"needs a row of every batch; {remedy}")
    return batch_size


def _optimizer_for(model: Layer, optimizer, lr: float | None, device: str) -> Optimizer:
    """The optimizer that trains ``model`` (already on ``device``): a given one, checked and moved
    there, or one made by name with ``lr``. get_optimizer refuses an optimizer made for another
    model, and lr beside an optimizer object."""
    given = isinstance(optimizer, Optimizer)
    optimizer = get_optimizer(optimizer, model, **({} if lr is None else {"lr": lr}))
    if given:
        optimizer.to(device)
        optimizer.check_layout()  # here too for the GPU's loop, which calls update without step
    return optimizer


def _start_or_resume(model: Layer, optimizer, rng, callbacks: list, resume, epochs: int, comm, validation_set: str,
                     preprocessor, seed, shared_seed, loss, shuffle: bool) -> tuple[History, int, int | None]:
    """(history, start_epoch): a fresh History at epoch 0, or those of the checkpoint ``resume``,
    whose model, optimizer, ``rng`` and callback states (the callbacks ``reset`` already) are then
    restored in place; third, the
    run's seed: ``shared_seed`` (``seed``, or the one the ranks drew for None), or the resumed
    run's (a ``seed`` given must be that one, and ``shuffle`` the run's: see ``load_checkpoint``)."""
    history, start_epoch = History(), 0
    if resume is None:  # given to every rank or to none: check_same_run compared it
        return history, start_epoch, shared_seed
    # With several ranks, only rank 0 needs the file; for seed None, shared_seed checked it as it read it
    if comm.size == 1 and seed is not None:
        check_checkpoint_path(resume)
    # Perhaps failing on this rank alone (a callback of one's own refused its state, or raised): every rank stops
    # now, rather than the others waiting out the timeout
    with comm.agreeing(f"resuming from the checkpoint {resume}"):
        history, start_epoch, run_seed = load_checkpoint(comm.local_checkpoint(resume), model, optimizer, rng,
                                                         callbacks, validation=validation_set,
                                                         preprocessor=preprocessor, seed=seed, loss=loss,
                                                         shuffle=shuffle)
    if history.stop_reason == "early_stopping":
        start_epoch = epochs  # that run had finished: resuming it trains no further epoch
    elif start_epoch > epochs:  # it would train nothing and call that "completed"
        raise HyperparameterError(
            f"epochs: {epochs} is fewer than the {start_epoch} epochs the checkpoint {resume} holds; epochs "
            f"counts them all, so pass more than {start_epoch} to train further"
        )
    elif start_epoch == epochs and history.stop_reason == "interrupted":
        # A Ctrl-C after this run's last epoch interrupted nothing: it ends as the uninterrupted run of as many
        history.stop_reason = "completed"
    return history, start_epoch, shared_seed if run_seed is None else run_seed


def _run_epochs(loop: Loop, data: _PreparedData, callbacks: list, checkpoint, checkpoint_every: int,
                seed: int | None) -> None:
    """Train the loop's remaining epochs (the callbacks told ``on_train_begin`` already), scoring the
    validation set after each, until the last one, a callback's stop or Ctrl-C; checkpoint along the
    way and tell the callbacks."""
    model, history, comm = loop.model, loop.history, loop.comm
    # No NumPy warnings, nor errors under a caller's numpy.seterr(all="raise"): the divergence guard reports
    # a non-finite value in one error, and a value that underflows to 0 (a softmax's or sigmoid's e^z of a
    # very negative z, a product of tiny gradients) is as exact as training needs, as NumPy's default takes it.
    # One context around all the epochs, not one per layer or step (each costs 1-3 µs).
    quiet = numpy.errstate(all="ignore")
    stopped_by = []  # the callbacks that asked to stop after the last epoch run
    with loop, loop.reusing_buffers(), loop.interruptible(), loop.progress_bar() as bar, quiet:
        for epoch in range(loop.start_epoch + 1, loop.epochs + 1):
            logs = loop.run_epoch(epoch, bar)
            failure, what = None, f"scoring the validation set after epoch {epoch}"
            try:  # perhaps failing on this rank alone (a loss or callback of one's own): the ranks stop with it, below
                if data.X_val is not None:
                    logs.update(evaluate_prepared(model, data.X_val, data.T_val, loop.loss, prefix="val_",
                                                  weights=data.w_val, target_scale=data.preprocessor.target_scale))
                what = f"running the callbacks after epoch {epoch}"
                for name, value in logs.items():
                    history.append(name, value)
                history.epochs = epoch
                history.partial_last_epoch = loop.partial_epoch  # Ctrl-C before the epoch's last batch
                stopped_by = [callback for index, callback in enumerate(callbacks)
                              if stop_requested(callback, index, epoch, logs, model)]
            except AGREED as error:
                failure = error
            stop = comm.any(bool(stopped_by) or failure is not None)
            if stop:  # a stop or an error: which, and whose, one all-gather tells (once a run, when it ends)
                comm.raise_together(failure, what)
            # The ranks' agreement, read once: a Ctrl-C whose handler sets loop.interrupted during the
            # all-reduce or after it stays set for the next epoch's agreement. (Assigned back here, it was
            # lost when it came during the wait, and split the ranks when it came after it.)
            interrupted = comm.any(loop.interrupted)
            loop.report_epoch(bar, epoch, logs)
            history.stop_reason = _stop_reason(loop, interrupted, stop, epoch)
            done = interrupted or stop or epoch == loop.epochs
            # An epoch cut short by Ctrl-C is not checkpointed: resuming would skip its remaining batches.
            if checkpoint is not None and not loop.partial_epoch and (done or epoch % checkpoint_every == 0):
                _save_checkpoint(loop, checkpoint, callbacks, epoch, data.validation_set, seed)
            if done:
                break
    # Perhaps failing on this rank alone, where the others would return from fit unaware
    with comm.agreeing("ending the callbacks (on_train_end)"):
        for callback in callbacks:
            callback.on_train_end(model, history)
    if history.stop_reason == "early_stopping":
        loop.report_stop(stopped_by, history.epochs)


def _stop_reason(loop: Loop, interrupted: bool, stop: bool, epoch: int) -> str:
    """How the run stands after ``epoch``: "interrupted" by a Ctrl-C (``interrupted``, the ranks'
    agreement) that leaves epochs to train
    (one that cut this epoch short, or came before the last), else "early_stopping" when a
    callback asked to stop, else "completed". A Ctrl-C that comes once the last epoch's batches
    have all run (while it is scored, or its callbacks run) or in the epoch a callback stops
    interrupts nothing: the run is over, as the uninterrupted one, and resuming its checkpoint
    trains no further epoch."""
    if interrupted and (loop.partial_epoch or not (stop or epoch == loop.epochs)):
        return "interrupted"
    return "early_stopping" if stop else "completed"


def _save_checkpoint(loop: Loop, path, callbacks: list, epoch: int, validation_set: str, seed: int | None) -> None:
    """Rank 0 writes the checkpoint after ``epoch``; the other ranks check the callbacks' states and
    arrays, the optimizer's state and the History as rank 0 does, so that all raise alike. The ranks
    then agree that it went well: a checkpoint rank 0 alone could not write (a full disk) is one
    DistributedError on every rank naming rank 0 and its error, with the file, at once, where the
    other ranks waited out the timeout in the next epoch's first all-reduce and blamed a hung rank."""
    # A ChainruleError, or a callback's own state_dict raising on this rank alone
    with loop.comm.agreeing(f"writing the checkpoint after epoch {epoch}"):
        if loop.comm.is_root:
            save_checkpoint(path, loop.model, loop.optimizer, loop.rng, loop.history, callbacks, epoch,
                            validation=validation_set, seed=seed, loss=loop.loss, shuffle=loop.shuffle)
        else:
            callback_checkpoint_state(callbacks, loop.model)
            check_optimizer_state(loop.optimizer)
            check_history_state(loop.history, loop.model, loop.loss, epoch)


def _training_summary(loop: Loop, n_train: int, seed, device: str) -> dict:
    """``model.metadata["training"]``: what was trained, how, and how it ended; a NaN or
    infinite metric of the last epoch (a NaN ``val_loss``) is None, as JSON, which a model
    file holds, has no NaN."""
    history = loop.history
    return {
        "loss": type(loop.loss).__name__, "optimizer": repr(loop.optimizer), "epochs": history.epochs,
        "batch_size": loop.batch_size, "seed": seed, "shuffle": loop.shuffle, "n_train": n_train,
        "stop_reason": history.stop_reason,
        "partial_last_epoch": history.partial_last_epoch, "final": strict_json(history.last()),
        # an EarlyStopping's best epoch (None without one): with restore_best the weights are
        # that epoch's, while "final" holds the metrics of the last epoch run
        "best_epoch": history.best_epoch, "device": device,
        "cuda_graph": loop.graph_used,
    }
