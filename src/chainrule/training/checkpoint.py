"""Checkpoints: a model file plus everything needed to continue training exactly.

A checkpoint is an ordinary chainrule model file (it loads with ``cr.load``) whose extra
tensors hold the optimizer's state (``optimizer.m``, ...) and the callbacks' arrays
(``callbacks.0.best_theta``), and whose extra JSON holds the epoch, the optimizer's step
counts (its t and the steps each parameter missed while frozen), the shuffling Generator's
state, the History, the callbacks' states and types and a fingerprint of the run's validation set (so
that a resumed run cannot validate on other rows). It is written atomically, so a run killed
at any moment leaves the previous checkpoint intact. Arrays are saved from any device and
loaded onto the model's device.
"""

from __future__ import annotations

import numbers
import os
import re
import stat

import numpy

from ..backend import get_array_module, is_array, to_device, to_numpy
from ..checks import SEED_RANGE, is_seed, numpy_dtype
from ..errors import ChainruleError, HyperparameterError, ModelFileError, quoted
from ..io import read, save
from ..io.architecture import to_config
from ..io.metadata import MAX_NESTING, json_problem
from ..losses.loss import Loss
from ..optimizers.adam import EPS_FORMS, Adam
from ..optimizers.saved_state import MAX_STEP_COUNT, checked_missed, checked_saved_state
from ..optimizers.sgd import SGD
from .callbacks import Callback, EarlyStopping
from .history import History, checkpoint_field, checkpoint_problem, is_count, is_object

FORMAT = "chainrule-checkpoint"
NO_VALIDATION = "none"  # the validation fingerprint of a run without a validation set
VALIDATION_FINGERPRINT = re.compile(rf"{NO_VALIDATION}|[0-9a-f]{{16}}")  # or a checksum in hexadecimal
STATE_NESTING = MAX_NESTING - 2  # a callback's state, in extra_json["callbacks"]: see _check_json_state


def check_checkpoint_path(path) -> None:
    """ModelFileError naming ``path`` when no checkpoint file is there: nothing, or a directory; or, saying
    why, when the system refuses to look (a name longer than the file system takes, ``File name too long``;
    a folder this user may not enter; a loop of symbolic links), where ``os.path.exists`` answered False
    and the error said "no such checkpoint file" of a file the user may see there."""
    try:
        status = os.stat(path)
    except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL byte, in no file's name
        raise ModelFileError(f"{path}: no such checkpoint file") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read the checkpoint ({error.strerror or error})") from None
    if stat.S_ISDIR(status.st_mode):
        raise ModelFileError(f"{path}: is a directory, not a checkpoint file")


def check_is_checkpoint(extra: dict, path) -> None:
    """ModelFileError naming ``path`` unless its extra JSON (``chainrule.io.read``'s third
    item) is a training checkpoint's: a model file holds no training state."""
    if extra.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a training checkpoint (a model file without training state); expected "
                             f"the checkpoint a run wrote (chainrule train's checkpoint.safetensors, or fit's "
                             f"checkpoint=...)")


class CheckpointFile(os.PathLike):
    """A checkpoint's path with what one read of it held (see :func:`read_checkpoint`).

    It is a path (``os.fspath`` and ``str`` give the path it was read from), so it goes
    wherever the path goes (``cr.fit(resume=...)``), and :func:`load_checkpoint` takes its
    contents rather than reading the file again: the configuration a caller compared and
    the state resumed come from the same file, even if another process replaces it meanwhile.
    In a distributed fit, :meth:`Communicator.local_checkpoint
    <chainrule.training.distributed.Communicator.local_checkpoint>` makes one on every rank
    from the bytes rank 0 read and sent (``sent`` is then True), and a path or a
    CheckpointFile read on one rank alone is read and sent again. Once taken, the contents are
    released (training does not hold a second copy of the weights and optimizer state), and a
    later load reads the file again.

    Attributes
    ----------
    model : Layer or None
        The checkpoint's network, with its metadata (``chainrule.io.read``'s first item).
    tensors : dict or None
        Its extra tensors by name: the optimizer's and the callbacks' arrays.
    extra : dict or None
        Its extra JSON: the epoch, the optimizer's step, the Generator, History and callbacks.
        All three are None once :meth:`take_contents` has taken them.
    sent : bool
        Whether it holds the bytes rank 0 sent to every rank of a distributed run.
    """

    def __init__(self, path, model, tensors: dict, extra: dict, *, sent: bool = False):
        self.path = path
        self.model, self.tensors, self.extra = model, tensors, extra
        self.sent = sent

    def take_contents(self) -> tuple | None:
        """``(model, tensors, extra)``, which this object then no longer holds; None once taken."""
        if self.extra is None:
            return None
        contents = self.model, self.tensors, self.extra
        self.model = self.tensors = self.extra = None
        return contents

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"CheckpointFile({str(self.path)!r})"


def read_checkpoint(path) -> CheckpointFile:
    """The training checkpoint at ``path``, read once.

    Raises ModelFileError naming ``path`` for a file that is not a chainrule checkpoint
    (missing, damaged, foreign; see ``chainrule.io.read``, whose errors call it a checkpoint) or a
    model file without training state. Its fields are checked against a run only by :func:`load_checkpoint`.
    """
    model, tensors, extra = read(path, what="checkpoint")
    check_is_checkpoint(extra, path)
    return CheckpointFile(path, model, tensors, extra)


def save_checkpoint(path, model, optimizer, rng, history: History, callbacks, epoch: int, *, validation: str,
                    seed: int | None, loss=None, shuffle: bool = True) -> None:
    """Write the training state after ``epoch`` to ``path`` (atomically).

    ``validation`` is the fingerprint of the run's validation set: ``NO_VALIDATION`` or
    16 hexadecimal digits of a checksum (see :func:`chainrule.training.fingerprint.validation_fingerprint`).
    ``seed`` is the run's (``fit``'s, None for none), which a resumed run keeps. ``loss``, the
    run's Loss, is recorded by its class names (the field ``loss``, :func:`loss_lineage`), whose
    lineage a resumed run's loss must be of; None records none. ``shuffle``, the run's (``fit``'s:
    whether each epoch draws a new order of the rows), is recorded as the field ``shuffle``, which a
    resumed run must pass alike.

    A callback state or array that :func:`load_checkpoint` would refuse or restore changed (a
    state JSON cannot hold as it is, an array not declared in the callback's
    ``checkpoint_arrays`` or of another shape or dtype) raises HyperparameterError here, at the
    first checkpoint, and nothing is written: see :func:`callback_checkpoint_state`. So does an
    optimizer state entry that is not an array (:func:`check_optimizer_state`), and a History that
    :func:`load_checkpoint` would refuse (:func:`check_history_state`: a series a callback
    recorded with ``History.append`` that holds more values than epochs, or is named as a metric
    of another task).
    """
    callback_states, callback_arrays = callback_checkpoint_state(callbacks, model)
    check_optimizer_state(optimizer)
    saved_history = check_history_state(history, model, loss, epoch)
    # Through state_dict, which gives the state as documented even inside optimizer.stepping()
    # (SGD's velocity is v there, not the scaled u that steps read), and missed keyed by the
    # parameters' paths now (optimizer.missed itself follows a renaming only when state_dict runs).
    saved_optimizer = optimizer.state_dict()
    tensors = {f"optimizer.{name}": to_numpy(array) for name, array in saved_optimizer["state"].items()}
    tensors.update({key: to_numpy(array) for key, array in callback_arrays.items()})
    saved_step = {"type": type(optimizer).__name__, "t": saved_optimizer["t"], "missed": saved_optimizer["missed"]}
    if isinstance(optimizer, Adam):  # where its ε goes, which a resumed run's Adam must take alike
        saved_step["eps_added_to"] = optimizer.eps_added_to
    extra = {
        "format": FORMAT,
        "epoch": epoch,
        "optimizer": saved_step,
        "rng": rng.bit_generator.state,
        "history": saved_history,
        "callbacks": callback_states,
        "callback_types": [_callback_type(callback) for callback in callbacks],
        "validation": validation,
        "frozen": model.frozen_parameters,
        "seed": None if seed is None else int(seed),
        "shuffle": bool(shuffle),
    }
    if loss is not None:
        extra["loss"] = loss_lineage(loss)
    save(model, path, extra_tensors=tensors, extra_json=extra, seal=True)


def check_history_state(history: History, model, loss, epoch: int) -> dict:
    """``history`` as a checkpoint holds it (``History.to_json``, built once for the check and the
    file); HyperparameterError naming the field unless a checkpoint holding ``history`` after
    ``epoch`` (the run's, on ``model``, trained with ``loss``; None: any task) resumes:
    :meth:`History.from_checkpoint` would refuse it otherwise
    (:func:`~chainrule.training.history.checkpoint_problem`). A series a callback records with
    ``History.append`` needs a name that is none of chainrule's metrics and at most one value per
    epoch."""
    saved = history.to_json()
    problem = checkpoint_problem(history, saved, model, None if loss is None else loss.task, epoch)
    if problem:
        raise HyperparameterError(f"checkpoint: {problem}; a checkpoint holding this History could not be resumed "
                                  f"(a series a callback records with History.append takes a name that is none of "
                                  f"chainrule's metrics, and at most one value per epoch)")
    return saved


def check_optimizer_state(optimizer) -> None:
    """HyperparameterError naming the entry unless every ``optimizer.state`` entry is an array
    (NumPy or CuPy): a checkpoint saves each as a tensor and resumes it into the fresh
    optimizer's array of that name, so a number kept there (a step counter) could be written but
    never resumed. (The step count an update rule reads is the optimizer's ``t``, which the
    checkpoint saves.)"""
    for name, value in optimizer.state.items():
        if not is_array(value):
            raise HyperparameterError(
                f"optimizer: {type(optimizer).__name__}.state[{quoted(name, 80)}] is {quoted(value, 60)} "
                f"({type(value).__name__}), not an array, so a checkpoint holding it could not be resumed; "
                f"state holds arrays of θ's layout (a step count is the optimizer's t, which checkpoints save)"
            )


def callback_checkpoint_state(callbacks, model) -> tuple[list, dict]:
    """The callbacks' states and arrays as a checkpoint holds them: ([state, ...], {"callbacks.<i>.<name>": array}).

    ``state_dict()`` must return a pair (state, arrays) of dicts. The state must come back
    from the checkpoint's JSON as it was: dicts with string keys, lists, strings, integers,
    finite floats, booleans and None (:func:`_check_json_state`; no NaN or inf, no tuple, which
    would come back as a list). Each array must be one its callback declares in
    ``checkpoint_arrays(model)`` (``{name: (shape, dtype)}``, a shape being a tuple of ints),
    with that shape and dtype, since :func:`load_checkpoint` refuses any other. Anything else
    is a HyperparameterError naming the callback (``callbacks[i]`` and its type) and the field,
    when saving, not hours later at resume time. The arrays stay on their device (no host
    copy): the ranks that write no checkpoint call this only for its checks.
    """
    states, tensors = [], {}
    for index, callback in enumerate(callbacks):
        who = f"callbacks[{index}] ({type(callback).__name__})"
        returned = callback.state_dict()
        if not (isinstance(returned, (tuple, list)) and len(returned) == 2
                and isinstance(returned[0], dict) and isinstance(returned[1], dict)):
            raise HyperparameterError(f"{who}: state_dict() returned {quoted(returned, 80)}; expected a pair (state, "
                                      f"arrays): a dict of JSON values and a dict of arrays by name ({{}} for none)")
        state, arrays = returned
        _check_json_state(state, f"{who}: its state_dict state")
        states.append(state)
        declared = _declared_arrays(callback, model, who)
        for name, array in arrays.items():
            array = get_array_module(array).asarray(array)  # a list becomes an array, as saving makes it
            where = f"{who}: its state_dict array {quoted(name, 80)}"
            if name not in declared:
                raise HyperparameterError(
                    f"{where} is not declared in checkpoint_arrays(model), so a checkpoint holding it could not "
                    f"be resumed; declare it there as {{{quoted(name, 80)}: (shape, dtype)}}"
                )
            shape, dtype = declared[name]
            if array.shape != tuple(shape) or array.dtype != dtype:
                raise HyperparameterError(
                    f"{where} has shape {array.shape} and dtype {array.dtype}, but checkpoint_arrays(model) "
                    f"declares {tuple(shape)} and {numpy.dtype(dtype)}"
                )
            tensors[f"callbacks.{index}.{name}"] = array
    return states, tensors


def loss_lineage(loss) -> list[str]:
    """The class names of ``loss`` and its bases up to (not including) Loss, most derived first:
    what a checkpoint records of its run's loss. A resumed run must train with a loss of that
    lineage, either way: the same class, a subclass of it (a loss instrumented for a test), or
    one of its bases; a Huber loss resumed as MSE (siblings) is refused."""
    return [kind.__name__ for kind in type(loss).__mro__ if issubclass(kind, Loss) and kind is not Loss]


def _check_json_state(value, where: str) -> None:
    """HyperparameterError naming ``where`` and the key path (``state['losses'][0]``) unless
    ``value`` comes back from JSON as it is: a dict with string keys (JSON makes the key 1 the
    string '1'), a list, a string, an integer, a finite float (JSON has no NaN or inf), a bool
    or None, nested. A tuple would come back as a list, and anything else (a NumPy number or
    array, a set) cannot be written at all (``chainrule.io.metadata.json_problem``, as model
    metadata is checked, less its NumPy values). Dicts and lists may nest ``STATE_NESTING`` deep in it: the
    checkpoint's ``extra_json`` (level 1) holds it in its list ``callbacks`` (level 2), and ``save`` refuses
    an ``extra_json`` nested more than ``MAX_NESTING`` deep, naming extra_json rather than the callback."""
    problem = json_problem(value, where, plain_values=True, max_nesting=STATE_NESTING,
                           field="a callback's state_dict state")
    if problem is not None:
        raise HyperparameterError(problem)


def _declared_arrays(callback, model, who: str) -> dict:
    """``callback.checkpoint_arrays(model)``, a dict ``{name: (shape, dtype)}`` whose shapes are
    tuples (or lists) of integers >= 0 and whose dtypes NumPy knows; HyperparameterError naming
    ``who`` and the entry otherwise."""
    declared = callback.checkpoint_arrays(model)
    if not isinstance(declared, dict):
        raise HyperparameterError(f"{who}: checkpoint_arrays(model) returned {quoted(declared, 60)}; expected a dict "
                                  f"{{name: (shape, dtype)}}")
    for name, entry in declared.items():
        shape, dtype = entry if isinstance(entry, (tuple, list)) and len(entry) == 2 else (None, None)
        if not (_is_shape(shape) and _is_dtype(dtype)):
            raise HyperparameterError(f"{who}: checkpoint_arrays(model)[{quoted(name, 80)}] is {quoted(entry, 60)}; "
                                      f"expected (shape, dtype) with the shape a tuple of ints, "
                                      f"such as ((3,), 'float32')")
    return declared


def _is_shape(shape) -> bool:
    """Whether ``shape`` is a tuple (or list) of integers >= 0."""
    return isinstance(shape, (tuple, list)) and all(
        isinstance(size, numbers.Integral) and not isinstance(size, bool) and size >= 0 for size in shape)


def _is_dtype(dtype) -> bool:
    """Whether NumPy takes ``dtype`` for a dtype (None, its default float64, aside)."""
    return dtype is not None and numpy_dtype(dtype) is not None


def load_checkpoint(path, model, optimizer, rng, callbacks, *, validation: str | None = None,
                    preprocessor=None, seed: int | None = None, loss=None,
                    shuffle: bool | None = None) -> tuple[History, int, int | None]:
    """Restore weights, optimizer, Generator and callbacks from ``path``; returns (History,
    epoch, the run's seed: the checkpoint's, else ``seed``).

    The arrays go to the model's device: move the model (and make the optimizer) first.
    The whole checkpoint is checked before anything is restored: the model's architecture
    and dtype, the optimizer's type and state arrays, the Generator's state, the History
    and the callbacks' states must all match this run; the epoch and ``history.epochs`` must
    be equal and at most ``MAX_STEP_COUNT`` (2**53). A mismatch or a damaged field is a
    ModelFileError naming the file and the field, and leaves the model, optimizer and
    Generator as they were. Each callback array (``callbacks.<i>.<name>``) must be one that
    callback declares in ``checkpoint_arrays``, with its shape and dtype (EarlyStopping's
    ``best_theta``: the model's θ length and dtype). Which callback restores which saved state
    (by position; in a distributed run, on a rank whose callbacks of one's own differ from rank
    0's, chainrule's own ones alone) is :func:`_paired_callbacks`'s rule.

    ``validation``, the fingerprint of this run's validation set as ``save_checkpoint`` takes
    it, must be the checkpoint's: another one is a ModelFileError naming ``validation``
    (resuming would train on former validation rows, or compare scores of two validation
    sets). None skips that check, as does a checkpoint written before the field existed.

    ``seed``, this call's, must be the checkpoint's run's when given (not None): the
    Generator restored continues that run's shuffling, whatever ``seed`` says, so another one
    would be recorded in the model's training summary without having been used. A
    ModelFileError names ``seed`` otherwise. A checkpoint written before it recorded the seed
    resumes unchecked.

    ``shuffle``, this call's (None skips the check), must be the checkpoint's run's: the
    Generator restored is that run's, which drew an order of the rows each epoch (shuffle=True)
    or nothing (shuffle=False), so resuming with the other would make another run than the
    uninterrupted one, silently. A ModelFileError names ``shuffle`` and both values otherwise.
    A checkpoint written before chainrule recorded it (its field ``shuffle``) shuffled, the only
    way fit trained then: it resumes with shuffle=True alone.

    ``preprocessor``, this run's (None skips the check), must prepare the data as the
    checkpoint's run did: the same task and classes, in the same order (the outputs' meaning),
    the same named columns in the same order when both runs read a DataFrame's names, and
    standardization alike on or off (``fit``'s ``standardize``); its mean and scale may
    differ, for the data may (see ``fit``'s ``resume``). Else ModelFileError naming the file.

    The model must freeze the parameters the checkpoint's run froze (``layer.trainable``,
    which the checkpoint records as ``frozen``; one written before the field existed froze
    none): resuming with other layers frozen would train another run than the one saved.

    ``loss``, this run's Loss (None skips the check), must be of the lineage of the checkpoint's
    run's (its ``loss`` field, :func:`loss_lineage`): the same class, a subclass or a base of
    it. Resuming a Huber run with another loss would mix two losses in one ``loss`` series and
    go on from another minimum. A
    ModelFileError names ``loss`` otherwise; a checkpoint written before it recorded the loss
    resumes unchecked.

    ``path`` may be a :class:`CheckpointFile` (from :func:`read_checkpoint`): its contents are
    taken and restored, and the file is not read again (unless they were taken before).
    """
    contents = path.take_contents() if isinstance(path, CheckpointFile) else None
    saved, tensors, extra = contents or read_checkpoint(path).take_contents()
    _check_model(saved, model, path)
    if "validation" in extra:  # a checkpoint older than the fingerprint resumes unchecked
        saved_validation = checkpoint_field(extra, "validation", path,
                                            f"{NO_VALIDATION!r} or 16 hexadecimal digits", _is_validation_fingerprint)
        if validation is not None:
            _check_validation(saved_validation, validation, path)
    _check_frozen(extra.get("frozen", []), model, path)
    saved_seed = recorded_seed(extra, path, absent=seed)  # a checkpoint older than the field resumes unchecked
    if seed is not None and saved_seed != int(seed):
        had = "no seed (seed=None)" if saved_seed is None else f"seed {saved_seed}"
        raise ModelFileError(f"{path}: seed: the checkpoint's run had {had}, this call {int(seed)}; resuming "
                             f"continues that run's shuffling from the checkpoint, so pass "
                             f"{'' if saved_seed is None else f'seed={saved_seed} or '}seed=None (which takes the "
                             f"checkpoint's)")
    # A checkpoint older than the field shuffled: fit had no shuffle=False then
    saved_shuffle = checkpoint_field(extra, "shuffle", path, "true or false",
                                     lambda value: isinstance(value, bool)) if "shuffle" in extra else True
    if shuffle is not None and saved_shuffle != shuffle:
        raise ModelFileError(f"{path}: shuffle: the checkpoint's run had shuffle={saved_shuffle}, this call "
                             f"shuffle={bool(shuffle)}; its Generator continues that run's order of the rows, so "
                             f"pass shuffle={saved_shuffle} to resume it")
    if preprocessor is not None and saved.preprocessor is not None:
        _check_preprocessing(saved.preprocessor, preprocessor, path)
    if loss is not None and "loss" in extra:  # a checkpoint older than the field resumes unchecked
        saved_loss = checkpoint_field(extra, "loss", path, "a list of loss class names",
                                      lambda value: isinstance(value, list) and value
                                      and all(isinstance(name, str) for name in value))
        lineage = loss_lineage(loss)
        if saved_loss[0] not in lineage and lineage[0] not in saved_loss:
            raise ModelFileError(f"{path}: loss: the checkpoint's run trained with {quoted(saved_loss[0], 60)}, this "
                                 f"call with {lineage[0]!r}; resume with the loss that run had (or a subclass of it)")
    epoch = checkpoint_field(extra, "epoch", path, f"an integer in [0, {MAX_STEP_COUNT}]", is_count)
    saved_optimizer = checkpoint_field(extra, "optimizer", path, "an object with \"type\" and \"t\"", is_object)
    if saved_optimizer.get("type") != type(optimizer).__name__:
        raise ModelFileError(
            f"{path}: the checkpoint was trained with {quoted(saved_optimizer.get('type'), 60)}, "
            f"not {type(optimizer).__name__}"
        )
    if isinstance(optimizer, Adam):
        _check_eps_form(saved_optimizer, optimizer, path)
    optimizer_state = saved_optimizer_state(saved_optimizer, tensors, optimizer, path, "checkpoint field optimizer")
    _check_rng_state(extra.get("rng"), rng, path)
    history = History.from_checkpoint(extra.get("history"), path, epoch=epoch, model=saved,
                                      task=None if loss is None else loss.task)
    callback_states = checkpoint_field(
        extra, "callbacks", path, f"a list of {len(callbacks)} objects",
        lambda states: isinstance(states, list) and all(isinstance(s, dict) for s in states),
    )
    paired = _paired_callbacks(extra, callback_states, callbacks, path)
    _check_callback_arrays(tensors, paired, len(callback_states), model, path)

    device = model.device
    # The callbacks check their own states as they read them: restore them first, so that a
    # state they refuse leaves the model and optimizer untouched.
    for index, callback in paired:
        if isinstance(callback, EarlyStopping):
            _check_early_stopping_epochs(callback_states[index], epoch, index, path)
    for index, callback in paired:
        state, prefix = callback_states[index], f"callbacks.{index}."
        arrays = {k[len(prefix):]: to_device(v, device) for k, v in tensors.items() if k.startswith(prefix)}
        try:
            callback.load_state_dict(state, arrays)
        except HyperparameterError as error:  # a state this callback, as configured, cannot continue
            raise ModelFileError(f"{path}: checkpoint field callbacks[{index}]: {error}") from None
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise ModelFileError(
                f"{path}: checkpoint field callbacks[{index}]: not a state of {type(callback).__name__} "
                f"({type(error).__name__}: {error})"
            ) from None
    for name, array in model.params.items():
        array[...] = to_device(saved.params[name], device)
    optimizer.load_state_dict(optimizer_state)
    rng.bit_generator.state = extra["rng"]
    return history, epoch, saved_seed


def recorded_seed(extra: dict, path, absent=None) -> int | None:
    """The seed of the run that wrote the checkpoint at ``path`` (its extra JSON ``extra``): its
    ``seed`` field, an integer from 0 to ``MAX_SEED`` (as ``fit`` takes it), or None for a run without
    one; ``absent`` for a checkpoint written before chainrule recorded it. ModelFileError naming the
    file and the field for anything else (a crafted seed past 128 bits too, which ``fit`` refuses
    given: it would split and shuffle, and be recorded)."""
    if "seed" not in extra:
        return absent
    return checkpoint_field(extra, "seed", path, f"an integer from {SEED_RANGE} or null",
                            lambda value: value is None or is_seed(value))


def resumed_run_seed(resume) -> tuple[CheckpointFile, int | None]:
    """(the checkpoint ``resume`` names, read here unless its contents are held; the seed its run
    recorded, or None: see :func:`recorded_seed`). ModelFileError naming the file where there is
    none or it is not a checkpoint: seed=None resumes the run with its seed, which fit needs
    before anything is restored, to split the validation rows as the run did."""
    check_checkpoint_path(resume)
    checkpoint = resume if isinstance(resume, CheckpointFile) and resume.extra is not None else read_checkpoint(resume)
    return checkpoint, recorded_seed(checkpoint.extra, checkpoint)


def _check_early_stopping_epochs(state: dict, epoch: int, index: int, path) -> None:
    """An EarlyStopping state's ``best_epoch`` is one of the checkpoint's ``epoch`` epochs, and it
    has waited no longer than they: History.best_epoch takes it when training ends. (Their types
    are its load_state_dict's to check.)"""
    best_epoch, wait = state.get("best_epoch"), state.get("wait")
    if is_count(best_epoch) and not 1 <= best_epoch <= epoch:
        raise ModelFileError(f"{path}: checkpoint field callbacks[{index}].best_epoch: expected one of the epochs 1 "
                             f"to {epoch} or null, got {best_epoch}")
    if is_count(wait) and wait > epoch:
        raise ModelFileError(f"{path}: checkpoint field callbacks[{index}].wait: expected at most the {epoch} "
                             f"epochs run, got {wait}")


def _callback_type(callback) -> str:
    """The name a checkpoint records for ``callback``'s type: its module and qualified name
    ("chainrule.training.callbacks.EarlyStopping" for chainrule's own, "__main__.Logger")."""
    return _type_name(type(callback))


def _type_name(kind: type) -> str:
    """A class's module and qualified name, as a checkpoint records a callback's type."""
    return f"{kind.__module__}.{kind.__qualname__}"


def _paired_callbacks(extra: dict, states: list, callbacks: list, path) -> list:
    """``[(index of a state in the checkpoint, this run's callback that restores it), ...]``.

    Each callback restores the state at its own position when this run has as many callbacks
    as the checkpoint's run and each may restore the state recorded there (:func:`_restores`): one of
    chainrule's own by an instance of that class, a subclass of one's own included (``class
    MyStopping(cr.EarlyStopping)`` resumes an EarlyStopping's state, which is its own), one of one's own by a
    callback of one's own. In a distributed run (``path`` a CheckpointFile that rank 0 sent),
    where that run's rank 0 saved its callbacks and callbacks of one's own may differ by rank
    (a logger on rank 0 alone), those of one's own must have the recorded types (the checkpoint's
    ``callback_types``); on a rank where they do not, the states of chainrule's own callbacks are restored
    in order by this rank's instances of chainrule's callback classes (:func:`_chainrule_class`), which
    must be of those classes, in that order (a state recorded for a subclass of one's own, MyStopping, by a
    MyStopping), and callbacks of one's own stay as ``reset`` left them.
    Chainrule's own, which fit has compared across the ranks, pair alike on every rank; a rank that
    refuses stops every rank (fit resumes inside ``comm.agreeing``). Anything else (other callbacks in one
    process, or a checkpoint written before it recorded their types) is a ModelFileError naming the file.
    """
    saved_types = extra.get("callback_types")  # absent from checkpoints written before it was saved
    if saved_types is not None and not (isinstance(saved_types, list) and len(saved_types) == len(states)
                                        and all(isinstance(name, str) for name in saved_types)):
        raise ModelFileError(f"{path}: checkpoint field callback_types: expected a list of {len(states)} type "
                             f"names, got {quoted(saved_types)}")
    types = [_callback_type(callback) for callback in callbacks]
    distributed = isinstance(path, CheckpointFile) and path.sent
    positional = len(states) == len(callbacks) and (saved_types is None or all(
        _restores(callback, saved, distributed) for saved, callback in zip(saved_types, callbacks)))
    if positional:
        return list(enumerate(callbacks))
    if not distributed and saved_types is not None:
        counts = f"the checkpoint has {len(states)} callbacks, this run {len(callbacks)}: " if len(states) != len(
            callbacks) else ""
        raise ModelFileError(f"{path}: {counts}the checkpoint's run had the callbacks {_short_names(saved_types)}, "
                             f"this run {_short_names(types)}; resume with the same ones, in the same order (each "
                             f"restores the state saved at its position)")
    if not distributed or saved_types is None:
        raise ModelFileError(f"{path}: the checkpoint has {len(states)} callbacks, this run {len(callbacks)}")
    chainrules = [callback for callback in callbacks if _chainrule_class(callback) is not None]
    # The checkpoint records a subclass of one's own (MyStopping) by its own type: its states are this rank's
    # MyStopping's to restore too, as on rank 0 (a rank without rank 0's logger resumes it, as in one process).
    subclasses = {_callback_type(callback) for callback in chainrules}
    saved_chainrules = [index for index, name in enumerate(saved_types) if _is_chainrules(name) or name in subclasses]
    if len(saved_chainrules) != len(chainrules) or not all(_restores(callback, saved_types[index], distributed)
                                                           for index, callback in zip(saved_chainrules, chainrules)):
        raise ModelFileError(
            f"{path}: the checkpoint's run had chainrule's callbacks "
            f"{_short_names(saved_types[index] for index in saved_chainrules)}, this run "
            f"{_short_names(_callback_type(callback) for callback in chainrules)}; resume with the same ones, in order"
        )
    return list(zip(saved_chainrules, chainrules))


def _restores(callback, saved: str, distributed: bool) -> bool:
    """Whether ``callback`` may restore the state a checkpoint recorded for a callback of the type ``saved``.

    One of chainrule's own: an instance of that class (:func:`_chainrule_class`), whose state is that class's
    (``MyStopping(cr.EarlyStopping)`` resumes an EarlyStopping's; a callback of one's own given an EarlyStopping's
    state, or the other way round, failed on a field of it, "not a state of EarlyStopping (KeyError: 'monitor')").
    One of one's own: not one of chainrule's own classes, which cannot tell a subclass's state for theirs (an
    EarlyStopping resumes no MyStopping's); in one process any other, since a class of one's own may have been
    renamed or defined in another module, and its ``load_state_dict`` takes the state or refuses it; in a
    distributed run the same type, since ranks may have different ones (see :func:`_paired_callbacks`)."""
    if _is_chainrules(saved):
        return _chainrule_class(callback) == saved
    return _callback_type(callback) == saved if distributed else not _is_chainrules(_callback_type(callback))


def _chainrule_class(callback) -> str | None:
    """The recorded type of the chainrule callback class whose state ``callback`` keeps: its own type when that
    is chainrule's, else the nearest of chainrule's classes it derives from (EarlyStopping for ``class
    MyStopping(cr.EarlyStopping)``), but Callback, from which every callback of one's own derives with a state of
    its own: None for those."""
    kind = next((kind for kind in type(callback).__mro__ if _is_chainrules(kind.__module__)), None)
    return None if kind is None or (kind is Callback and type(callback) is not Callback) else _type_name(kind)


def _is_chainrules(type_name: str) -> bool:
    """Whether a recorded callback type (or a module's name) is one of chainrule's own (as the ranks'
    fingerprints tell them)."""
    return type_name.split(".")[0] == "chainrule"


def _short_names(type_names) -> str:
    """Recorded callback types by their names alone, as a list: "[EarlyStopping]"."""
    return f"[{', '.join(name.rsplit('.', 1)[-1] for name in type_names)}]"


def _check_preprocessing(saved, preprocessor, path) -> None:
    """ModelFileError naming ``path`` unless ``preprocessor`` prepares data as the checkpoint's
    ``saved`` one did: the same task and classes, the same named columns in the same order (when
    both runs read named columns), and standardization of the inputs and of the targets alike
    on or off."""
    if saved.task != preprocessor.task:
        raise ModelFileError(f"{path}: the checkpoint's run trained for {saved.task}, this one for {preprocessor.task}")
    # A binary classifier's run (one 0/1 label per row, multilabel) saved before chainrule named its two classes
    binary_unnamed = saved.classes is None and saved.task == "multilabel" and preprocessor.classes is not None
    if saved.classes != preprocessor.classes and not binary_unnamed:
        raise ModelFileError(f"{path}: the checkpoint's run had the classes {quoted(saved.classes)}, this one "
                             f"{quoted(preprocessor.classes)}; each output scores one class, in that order")
    if saved.feature_names is not None and preprocessor.feature_names not in (None, saved.feature_names):
        raise ModelFileError(f"{path}: the checkpoint's run read the columns {quoted(saved.feature_names)}, this one "
                             f"{quoted(preprocessor.feature_names)}; give X those columns, in that order")
    if (saved.mean is None) != (preprocessor.mean is None):
        was, now = ("standardized", "does not") if preprocessor.mean is None else ("did not standardize", "does")
        raise ModelFileError(f"{path}: the checkpoint's run {was} its inputs and this one {now} (standardize="
                             f"{preprocessor.mean is not None}); the weights were trained for the other inputs")
    if (saved.target_mean is None) != (preprocessor.target_mean is None):
        was, now = ("standardized", "does not") if preprocessor.target_mean is None else ("did not standardize", "does")
        raise ModelFileError(f"{path}: the checkpoint's run {was} its targets and this one {now} (standardize_targets="
                             f"{preprocessor.target_mean is not None}); the weights answer in the other units")


def _check_frozen(saved_frozen, model, path) -> None:
    """The model freezes the parameters the checkpoint's run froze (``saved_frozen``, its
    ``frozen`` field), else ModelFileError naming the file and the first parameter frozen in
    one and not the other."""
    if not isinstance(saved_frozen, list) or not all(isinstance(name, str) for name in saved_frozen):
        raise ModelFileError(f"{path}: checkpoint field frozen: expected a list of parameter names, "
                             f"got {quoted(saved_frozen)}")
    frozen = model.frozen_parameters
    if set(saved_frozen) == set(frozen):
        return
    unknown = [name for name in saved_frozen if name not in model.params]
    if unknown:
        raise ModelFileError(f"{path}: checkpoint field frozen: {quoted(unknown[0])} is not a parameter of the model")
    only_saved = [name for name in saved_frozen if name not in frozen]
    if only_saved:
        name, how = only_saved[0], "was frozen in the checkpoint's run but is trainable in the model"
    else:
        name, how = next(name for name in frozen if name not in saved_frozen), "is frozen in the model but was " \
            "trained in the checkpoint's run"
    raise ModelFileError(f"{path}: parameter {quoted(name)} {how}; freeze the same layers (layer.trainable = False) "
                         f"as the checkpoint's run to resume it (frozen there: {quoted(saved_frozen)})")


def _check_model(saved, model, path) -> None:
    """The checkpoint's network has the model's architecture (layer by layer) and dtype; an
    error names the first place where they differ ("architecture.layers[1].type")."""
    difference = first_difference(to_config(saved), to_config(model), "architecture")
    if difference is not None:
        where, in_checkpoint, in_model = difference
        raise ModelFileError(
            f"{path}: the checkpoint's network is not the model's: {where} is {in_checkpoint!r} in the checkpoint "
            f"but {in_model!r} in the model; build the model as the checkpoint's run did"
        )
    if saved.dtype != model.dtype:
        raise ModelFileError(f"{path}: the checkpoint's parameters are {saved.dtype}, the model's {model.dtype}")


def first_difference(a, b, where: str):
    """``(path, a's value, b's value)`` at the first place where two configs differ, or None.

    Dicts are compared key by key (a key only one of them has is "absent" in the other), lists
    item by item, then by length (the path is then "the length of architecture.layers")."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(key for key in b if key not in a)]:
            difference = first_difference(a.get(key, "absent"), b.get(key, "absent"), f"{where}.{key}")
            if difference is not None:
                return difference
        return None
    if isinstance(a, list) and isinstance(b, list):
        for index, (item_a, item_b) in enumerate(zip(a, b)):
            difference = first_difference(item_a, item_b, f"{where}[{index}]")
            if difference is not None:
                return difference
        return None if len(a) == len(b) else (f"the length of {where}", len(a), len(b))
    return None if a == b else (where, a, b)


def _check_validation(saved: str, current: str, path) -> None:
    """The checkpoint's run had the validation set this run has (both fingerprints, or both none)."""
    if saved == current:
        return
    if saved == NO_VALIDATION:
        difference = "had no validation set, this run has one"
    elif current == NO_VALIDATION:
        difference = "held out a validation set, this run has none"
    else:
        difference = f"held out a different validation set (checksum {saved}, this run's {current})"
    raise ModelFileError(
        f"{path}: validation: the checkpoint's run {difference}; resume with the same validation "
        f"(rows, targets and weights), data and seed"
    )


def _is_validation_fingerprint(value) -> bool:
    return isinstance(value, str) and VALIDATION_FINGERPRINT.fullmatch(value) is not None


def _check_eps_form(saved: dict, optimizer, path) -> None:
    """ModelFileError naming the checkpoint field ``optimizer.eps_added_to`` unless the run resumed with
    ``optimizer`` (an Adam) adds ε where the checkpoint's run did (:func:`saved_eps_form`)."""
    form = saved_eps_form(saved, path, "checkpoint field optimizer")
    if form != optimizer.eps_added_to:
        raise ModelFileError(f"{path}: checkpoint field optimizer.eps_added_to: the checkpoint's run added Adam's ε to "
                             f"{form!r}, this call's {type(optimizer).__name__} to {optimizer.eps_added_to!r}; resume "
                             f"with {type(optimizer).__name__}(model, ..., eps_added_to={form!r})")


def saved_eps_form(saved: dict, path, where: str) -> str:
    """Where the Adam whose state a file saved added ε (its ``eps_added_to``), checked: ``saved["eps_added_to"]``
    (``saved`` is a JSON object of the file, which messages call ``where``), one of EPS_FORMS, else a
    ModelFileError naming the file and the field; "sqrt_v_hat" for a file written before it was saved (√v̂ + ε,
    cr.Adam's only form then). Checkpoints and scikit-learn estimator files both save it."""
    form = saved.get("eps_added_to", "sqrt_v_hat")
    if form not in EPS_FORMS:
        raise ModelFileError(f"{path}: {where}.eps_added_to: expected one of {', '.join(map(repr, EPS_FORMS))}, "
                             f"got {quoted(form, 60)}")
    return form


def saved_optimizer_state(saved: dict, tensors: dict, optimizer, path, where: str) -> dict:
    """The optimizer state saved in a file, checked, as ``optimizer.load_state_dict`` takes it.

    Checkpoints and scikit-learn estimator files both save it: the step count as ``saved["t"]``
    (``saved`` is a JSON object of the file, which messages call ``where``), the steps each
    parameter missed while frozen as ``saved["missed"]`` (a checkpoint's; a file without it
    missed none) and the state arrays as tensors ``optimizer.<name>``. The step count must be
    an integer in [0, MAX_STEP_COUNT], the missed counts integers in [0, t] for parameters of
    the model, and the arrays exactly ``optimizer.state``'s names, shapes and dtypes, with the
    values ``optimizer.load_state_dict`` accepts (finite; a second moment ``v`` not negative);
    anything else is a ModelFileError naming the file and the field or tensor, so that a caller
    that checks this first restores nothing from a damaged file.
    """
    t = saved.get("t")
    if not is_count(t):
        found = "nothing" if "t" not in saved else quoted(t, 60)
        raise ModelFileError(f"{path}: {where}.t: expected an integer in [0, {MAX_STEP_COUNT}], got {found}")
    saved_names = sorted(name[len("optimizer."):] for name in tensors if name.startswith("optimizer."))
    if saved_names != sorted(optimizer.state):
        # SGD keeps a velocity only with momentum: the one difference a user makes by an argument
        velocity_differs = ("velocity" in saved_names) != ("velocity" in optimizer.state)
        hint = "" if not (isinstance(optimizer, SGD) and velocity_differs) else (
            f": the saved run's SGD had momentum > 0 and this one has momentum={optimizer.momentum}"
            if "velocity" in saved_names else
            f": the saved run's SGD had no momentum and this one has momentum={optimizer.momentum}")
        raise ModelFileError(
            f"{path}: {where}: saved state tensors {saved_names}, "
            f"but {type(optimizer).__name__} has {sorted(optimizer.state)}{hint}"
        )
    for name, array in optimizer.state.items():
        saved_array = tensors[f"optimizer.{name}"]
        if not is_array(array):
            raise ModelFileError(
                f"{path}: tensor 'optimizer.{name}': {type(optimizer).__name__}.state[{quoted(name, 80)}] is "
                f"{quoted(array, 60)} ({type(array).__name__}), not an array that it could be restored into; "
                f"state holds arrays of θ's layout"
            )
        if saved_array.shape != array.shape or saved_array.dtype != array.dtype:
            raise ModelFileError(
                f"{path}: tensor 'optimizer.{name}' has shape {saved_array.shape} and dtype {saved_array.dtype}; "
                f"the optimizer's has {array.shape} and {array.dtype}"
            )
    names = optimizer.model.flat_parameters().names
    try:
        missed = checked_missed(type(optimizer).__name__, saved.get("missed", {}), t, names)
    except HyperparameterError as error:
        raise ModelFileError(f"{path}: {where}.missed: {error}") from None
    state = {"t": t, "state": {name: tensors[f"optimizer.{name}"] for name in optimizer.state}, "missed": missed}
    try:  # the values, as optimizer.load_state_dict checks them: now, before the caller restores anything
        checked_saved_state(type(optimizer).__name__, state, optimizer.state, names)
    except ChainruleError as error:
        raise ModelFileError(f"{path}: {where}: {error}") from None
    return state


def _check_callback_arrays(tensors: dict, paired: list, n_states: int, model, path) -> None:
    """Every ``callbacks.<i>.<name>`` tensor is one that the callback restoring state i (``paired``,
    as :func:`_paired_callbacks` pairs them) declares (``checkpoint_arrays``), with the declared
    shape and dtype: a wrong ``best_theta`` would otherwise be written over θ (broadcast, or cast)
    when training ends. The arrays of the checkpoint's ``n_states`` states that no callback
    here restores are not read."""
    declared = {
        f"callbacks.{index}.{name}": (f"callbacks[{index}].{name}", shape, dtype)
        for index, callback in paired
        for name, (shape, dtype) in callback.checkpoint_arrays(model).items()
    }
    restored = {index for index, _ in paired}
    unread = tuple(f"callbacks.{index}." for index in range(n_states) if index not in restored)
    for key, array in tensors.items():
        if not key.startswith("callbacks.") or key.startswith(unread):
            continue
        if key not in declared:
            raise ModelFileError(f"{path}: checkpoint tensor {quoted(key, 80)}: "
                                 f"not an array that this run's callbacks save")
        field, shape, dtype = declared[key]
        if array.shape != tuple(shape) or array.dtype != dtype:
            raise ModelFileError(
                f"{path}: checkpoint field {field}: expected shape {tuple(shape)} and dtype {dtype}, "
                f"got {array.shape} and {array.dtype}"
            )


def _check_rng_state(state, rng, path) -> None:
    """``state`` must be one that ``rng``'s bit generator accepts: tried on a scratch one."""
    scratch = type(rng.bit_generator)()
    try:
        scratch.state = state
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise ModelFileError(
            f"{path}: checkpoint field rng: expected a {type(rng.bit_generator).__name__} state, "
            f"got {quoted(state, 60)} ({error})"
        ) from None
