"""Callbacks: code that ``fit`` runs at the end of every epoch.

A callback sees the epoch's metrics and may ask training to stop. Its state is part of a
checkpoint (``state_dict`` / ``load_state_dict``), so a resumed run decides exactly as an
uninterrupted one would. Each ``fit`` starts by calling ``reset``, so one callback object
may serve several ``fit`` calls (and models) without carrying state from one to the next;
a resumed run then restores the checkpoint's state over the reset one.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import warnings
from types import FunctionType, MethodType

from ..backend import device_of, get_array_module, to_device
from ..checks import choice, flag, is_bool, is_json_number, positive, real
from ..errors import HyperparameterError, did_you_mean, quoted
from ..optimizers.saved_state import MAX_STEP_COUNT
from .history import is_count


class Callback:
    """Base class. Override the hooks you need.

    There are no per-batch hooks: a Keras hook such as ``on_epoch_begin`` or
    ``on_train_batch_end`` defined on a callback is never called, and ``fit`` warns about it.
    """

    def reset(self) -> None:
        """Forget what an earlier ``fit`` left; ``fit`` calls this first, before it restores
        a checkpoint's state with ``load_state_dict`` and before ``on_train_begin``."""

    def check_metrics(self, names: list) -> None:
        """Called once by ``fit`` before it changes anything (before ``reset``), with the
        names of the metrics each epoch's logs will hold: "loss" and "accuracy", or "loss",
        "r2" and "mae" for regression, then their "val_" forms with validation data. Raise
        HyperparameterError for a setting that cannot work with them; the base accepts any."""

    def on_train_begin(self, model, history) -> None:
        """Called once before the first epoch (also when resuming)."""

    def on_epoch_end(self, epoch: int, logs: dict, model) -> bool:
        """Called after each epoch (1-based) with its metrics; return True to stop training
        (False or None to go on; any other answer raises HyperparameterError). ``fit`` checks
        before training that each hook takes the arguments it passes."""
        return False

    def on_train_end(self, model, history) -> None:
        """Called once when training ends, however it ends (not on an error)."""

    def stop_message(self, epoch: int) -> str:
        """The line ``fit`` prints on stderr (verbose >= 1) after this callback stopped training
        at ``epoch``, once ``on_train_end`` has run."""
        return f"training stopped after epoch {epoch}: {type(self).__name__} asked to stop"

    def state_dict(self) -> tuple[dict, dict]:
        """(JSON-ready state, arrays) to checkpoint."""
        return {}, {}

    def load_state_dict(self, state: dict, arrays: dict) -> None:
        """Restore what ``state_dict`` returned."""

    def checkpoint_arrays(self, model) -> dict:
        """The arrays ``state_dict`` may return when training ``model``, as ``{name: (shape, dtype)}``.

        An array of this callback that is not named here or has another shape or dtype makes
        ``fit`` raise HyperparameterError when it writes a checkpoint, and a checkpoint's
        loader refuse it before it restores anything. The base callback saves no arrays; a
        callback whose ``state_dict`` returns some must override this.
        """
        return {}


#: how the names of metrics that EarlyStopping(mode="auto") knows end: lower is better, or higher
DECREASING_ENDINGS = ("loss", "mae", "mse", "error")
INCREASING_ENDINGS = ("accuracy", "acc", "auc", "r2", "f1", "precision", "recall")


class EarlyStopping(Callback):
    """Stop when the monitored metric has not improved for ``patience`` epochs.

    Parameters
    ----------
    patience : int
        Epochs without improvement tolerated before stopping; 0 stops at the first one.
    min_delta : float
        The smallest change that counts as an improvement.
    monitor : str, optional
        A metric of the History, by default "val_loss" when there is validation data and
        "loss" otherwise. A metric name chainrule knows that this ``fit`` does not record
        (such as "val_acc" for "val_accuracy", or a "val_" metric without validation data)
        raises HyperparameterError naming those it records and the one meant (or, for a "val_"
        metric, that it needs ``fit``'s ``validation``), before the first epoch trains; another
        name is looked up in the first epoch's logs, to which a callback of one's own (listed
        before this one) may add it.
    mode : "auto", "min" or "max"
        Whether the metric improves downwards ("min") or upwards ("max"). "auto" (the
        default) takes it from how the name ends: "loss", "mae", "mse" (and "rmse") or "error"
        improve downwards; "accuracy", "acc", "auc", "r2", "f1", "precision" or "recall"
        upwards. Any other name raises HyperparameterError naming ``monitor`` (as Keras 3 does
        for a metric whose direction it cannot tell): pass ``mode`` for it.
    restore_best : bool
        When training ends, put back the weights of the best epoch (Keras's
        ``restore_best_weights``). Unlike Keras, they are restored however training ends,
        also when it ran all its epochs without stopping early.
    start_from_epoch : int
        Epochs 1..start_from_epoch are a warm-up: not watched, so they neither count towards
        ``patience`` nor can be the best epoch (Keras's ``start_from_epoch``); a run that
        ends within them keeps its last weights and has no ``best_epoch``.
    baseline : float, optional
        A value the metric must beat: an epoch counts as an improvement only when it beats
        both the best so far and the baseline, so training stops after ``patience`` watched
        epochs that never beat it (Keras's ``baseline``). The best epoch is still recorded,
        and its weights restored, even if it never beat the baseline (as in Keras).

    The best value, its epoch, the epochs waited and the saved weights are reset at the start
    of every ``fit`` (and ``monitor`` goes back to what was passed here), so reusing the
    object in another ``fit`` starts afresh.
    """

    def __init__(self, patience: int = 5, *, min_delta: float = 0.0, monitor: str | None = None,
                 mode: str = "auto", restore_best: bool = True, start_from_epoch: int = 0,
                 baseline: float | None = None) -> None:
        self.patience = _epoch_count(patience, "patience")
        self.min_delta = positive(min_delta, "min_delta", allow_zero=True)
        if not (monitor is None or isinstance(monitor, str)):
            raise HyperparameterError(f"monitor: expected a metric name such as 'val_loss', or None, "
                                      f"got {type(monitor).__name__} {quoted(monitor, 60)}")
        self.monitor = self._monitor_given = monitor
        self.mode = choice(mode, "mode", ("auto", "min", "max"))
        if self.mode == "auto" and monitor is not None and _direction(monitor) is None:
            raise HyperparameterError(
                f"monitor: EarlyStopping(mode='auto') cannot tell whether {quoted(monitor, 60)} improves downwards or "
                f"upwards (it knows names ending in {', '.join(DECREASING_ENDINGS)}: downwards; "
                f"{', '.join(INCREASING_ENDINGS)}: upwards); pass mode='min' or mode='max'"
            )
        self.restore_best = flag(restore_best, "restore_best")
        self.start_from_epoch = _epoch_count(start_from_epoch, "start_from_epoch")
        self.baseline = None if baseline is None else real(baseline, "baseline")
        self._recorded = None  # the metric names of the fit that last called check_metrics (reset keeps them)
        self.reset()

    def reset(self) -> None:
        """Forget the best value, its epoch and weights, and the epochs waited."""
        self.monitor = self._monitor_given  # None picks val_loss or loss anew, from this fit's logs
        self.best = math.nan
        self.best_epoch = None
        self.wait = 0
        self._best_theta = None

    def check_metrics(self, names: list) -> None:
        """HyperparameterError when the given ``monitor`` is a metric name chainrule knows
        (any task's, or Keras's "acc"), with or without "val_", that this fit does not record
        (``names``): "val_loss" without validation data, "r2" for a classifier, "val_acc". Another
        name is left to the first epoch's logs, to which a callback of one's own may add it.
        The names are kept for :meth:`load_state_dict`, which checks a checkpoint's monitor alike."""
        self._recorded = list(names)
        if _unrecorded(self._monitor_given, names):
            raise HyperparameterError(f"EarlyStopping: monitor {self._monitor_given!r} is not a metric this fit "
                                      f"records; expected one of {sorted(names)}"
                                      f"{_monitor_meant(self._monitor_given, names)}")

    def _decreases(self, monitor: str | None = None) -> bool:
        """Whether the monitored metric (or ``monitor``) improves downwards: under "auto", as
        its name says (:func:`_direction`; "loss" and "val_loss", chosen for None, do)."""
        monitor = self.monitor if monitor is None else monitor
        if self.mode == "auto":
            return _direction(monitor) != "max"
        return self.mode == "min"

    def _improves_on(self, value: float, reference: float) -> bool:
        """Whether ``value`` beats ``reference`` by more than ``min_delta``: a NaN value beats
        nothing (as in Keras), nor does an infinite one (an overflowed loss; the best value is
        then always finite or NaN, which a checkpoint's JSON holds), and any other beats a NaN
        reference (no best yet)."""
        if not math.isfinite(value):
            return False
        if math.isnan(reference):
            return True
        if self._decreases():
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict, model) -> bool:
        if self.monitor is None:
            self.monitor = "val_loss" if "val_loss" in logs else "loss"
        if self.monitor not in logs:
            raise HyperparameterError(f"EarlyStopping: monitor {quoted(self.monitor)} is not one of {sorted(logs)}; a "
                                      f"callback that adds it to the logs must come before this EarlyStopping in "
                                      f"callbacks")
        if epoch <= self.start_from_epoch:
            return False
        value = logs[self.monitor]
        if self._improves_on(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best:
                self._best_theta = model.flat_parameters().theta.copy()
            if self.baseline is None or self._improves_on(value, self.baseline):
                self.wait = 0
                return False
        self.wait += 1
        return self.wait >= self.patience

    def stop_message(self, epoch: int) -> str:
        """Why training stopped, from the state: the epochs waited, the best epoch and which
        weights the model keeps."""
        epochs = f"{self.wait} epoch{'s' if self.wait != 1 else ''}"
        if self.baseline is not None and not self._improves_on(self.best, self.baseline):
            why = f"{self.monitor} has not beaten the baseline {self.baseline:.4g} in {epochs}"
        else:
            why = f"{self.monitor} has not improved for {epochs}"
        if self.restore_best and self._best_theta is not None:
            kept = f"weights of the best epoch {self.best_epoch} ({self.monitor} {self.best:.4g}) restored"
        elif self.best_epoch is None:
            kept = f"the weights of the last epoch kept (no watched epoch had a {self.monitor} that is a number)"
        else:
            kept = f"the weights of the last epoch kept (best: epoch {self.best_epoch}, {self.monitor} {self.best:.4g})"
        return f"early stopping after epoch {epoch}: {why}; {kept}"

    def on_train_end(self, model, history) -> None:
        history.best_epoch = self.best_epoch
        if self.restore_best and self._best_theta is not None:
            theta = model.flat_parameters().theta
            theta[...] = to_device(self._best_theta, device_of(theta))  # load_state_dict may have had host arrays

    def state_dict(self) -> tuple[dict, dict]:
        state = {"monitor": self.monitor, "best": None if math.isnan(self.best) else self.best,
                 "best_epoch": self.best_epoch, "wait": self.wait,
                 "mode": None if self.monitor is None else "min" if self._decreases() else "max"}
        arrays = {} if self._best_theta is None else {"best_theta": self._best_theta}
        return state, arrays

    def load_state_dict(self, state: dict, arrays: dict) -> None:
        """Restore what ``state_dict`` returned; ValueError naming the field for a damaged one
        (a checkpoint's loader reports it with the file), and nothing is changed then.

        ``best_epoch`` and ``wait`` count epochs, so they share the checkpoint's bound on epoch
        and step counts: integers in [0, MAX_STEP_COUNT] (2**53), so no huge JSON integer from a
        crafted file reaches ``History.best_epoch``.

        The best value only means something for the metric it was taken from, in its direction:
        HyperparameterError, and nothing changed, when this EarlyStopping was given another
        ``monitor`` than the saved state's, or a ``mode`` under which the saved metric improves
        the other way (``patience``, ``min_delta`` and the rest may differ: they are taken).
        """
        monitor, best, best_epoch, wait = state["monitor"], state["best"], state["best_epoch"], state["wait"]
        mode = state.get("mode")  # absent from the checkpoints of chainrule before it was saved
        if not (monitor is None or isinstance(monitor, str)):
            raise ValueError(f"monitor: expected a metric name or null, got {quoted(monitor, 60)}")
        recorded = getattr(self, "_recorded", None)  # None: no fit has named its metrics to this instance
        if recorded is not None and _unrecorded(monitor, recorded):
            raise ValueError(f"monitor: {monitor!r} is not a metric this fit records; expected one of "
                             f"{sorted(recorded)} or null")
        if mode not in (None, "min", "max"):
            raise ValueError(f"mode: expected 'min', 'max' or null, got {quoted(mode, 60)}")
        if monitor is not None and self._monitor_given not in (None, monitor):
            raise HyperparameterError(f"EarlyStopping: monitor {self._monitor_given!r}, but the checkpoint's run "
                                      f"watched {quoted(monitor)}; resume with monitor={quoted(monitor)} (or None)")
        if monitor is not None and mode is not None and mode != ("min" if self._decreases(monitor) else "max"):
            raise HyperparameterError(f"EarlyStopping: mode {self.mode!r} makes {quoted(monitor)} improve "
                                      f"{'downwards' if mode == 'max' else 'upwards'}, but the checkpoint's run took "
                                      f"it to improve {'upwards' if mode == 'max' else 'downwards'}; resume with "
                                      f"mode={mode!r}")
        if not (best is None or is_json_number(best, finite=True)):
            raise ValueError(f"best: expected a finite number or null, got {quoted(best, 60)}")
        if not (best_epoch is None or is_count(best_epoch)):
            raise ValueError(f"best_epoch: expected an integer in [0, {MAX_STEP_COUNT}] or null, "
                             f"got {quoted(best_epoch, 60)}")
        if not is_count(wait):
            raise ValueError(f"wait: expected an integer in [0, {MAX_STEP_COUNT}], got {quoted(wait, 60)}")
        best_theta = arrays.get("best_theta")
        if best_theta is not None and not bool(get_array_module(best_theta).isfinite(best_theta).all()):
            raise ValueError("best_theta: expected finite values (the weights of the best epoch), found NaN or "
                             "infinity; restoring them would leave the model unusable")
        self.monitor, self.best_epoch, self.wait = monitor, best_epoch, wait
        self.best = math.nan if best is None else float(best)
        self._best_theta = best_theta

    def checkpoint_arrays(self, model) -> dict:
        """``best_theta``: a copy of the model's θ (same length and dtype)."""
        theta = model.flat_parameters().theta
        return {"best_theta": (theta.shape, theta.dtype)}

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, monitor={self.monitor!r}, "
                f"mode={self.mode!r}, restore_best={self.restore_best}, start_from_epoch={self.start_from_epoch}, "
                f"baseline={self.baseline!r})")


#: the metric names chainrule's fits record, for any task, with Keras's "acc", and their "val_" forms
KNOWN_METRICS = frozenset(name for base in ("loss", "accuracy", "acc", "r2", "mae") for name in (base, f"val_{base}"))


def _unrecorded(monitor: str | None, names: list) -> bool:
    """Whether ``monitor`` is a metric name chainrule knows that a fit recording ``names`` does not
    record ("val_loss" without validation data, "r2" for a classifier); another name may come
    from a callback of one's own, which adds it to the logs."""
    return monitor in KNOWN_METRICS and monitor not in names


def _monitor_meant(monitor: str, names: list) -> str:
    """What ends the refusal of a ``monitor`` that the fit recording ``names`` does not record: how to
    get "val_" metrics when it records none (Keras's default monitor is "val_loss", which ``fit``
    records only with validation data), else the recorded name meant (Keras 1's "val_acc" for
    "val_accuracy", or the closest to a typo); "" for none."""
    if monitor.startswith("val_") and not any(name.startswith("val_") for name in names):
        return ("; the val_ metrics are recorded only with validation data: pass fit validation=0.1 (a fraction "
                "of the rows held out) or validation=(X_val, y_val)")
    meant = monitor.removesuffix("acc") + "accuracy" if monitor.endswith("acc") else monitor
    return f" (did you mean {meant!r}?)" if meant in names else did_you_mean(monitor, names)


def _direction(monitor: str) -> str | None:
    """"min" or "max" for a metric name that ends as ``DECREASING_ENDINGS`` or ``INCREASING_ENDINGS``
    say ("val_rmse": "min", "val_f1": "max"), None for a name that says neither."""
    if monitor.endswith(DECREASING_ENDINGS):
        return "min"
    if monitor.endswith(INCREASING_ENDINGS):
        return "max"
    return None


def _epoch_count(value, name: str) -> int:
    """``value`` as an int >= 0, else HyperparameterError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise HyperparameterError(f"{name}: expected an integer >= 0, got {quoted(value, 60)}")
    return int(value)


#: the hooks fit calls, with the arguments it passes (positionally)
HOOKS = {"check_metrics": ("names",), "on_train_begin": ("model", "history"),
         "on_epoch_end": ("epoch", "logs", "model"), "on_train_end": ("model", "history"), "stop_message": ("epoch",)}


#: Keras's hooks that fit never calls: a callback defining one is warned, not silently ignored
KERAS_ONLY_HOOKS = ("on_epoch_begin", "on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end",
                    "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end", "on_predict_begin",
                    "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")


def check_hooks(callback: Callback, index: int) -> None:
    """HyperparameterError naming ``callbacks[index]`` and the hook when one of its hooks cannot
    take the arguments fit passes (a Keras-style ``on_epoch_end(self, epoch, logs=None)``),
    before training starts rather than with a raw TypeError after the first epoch. A
    UserWarning names a Keras hook it defines that fit never calls (``KERAS_ONLY_HOOKS``).

    Hooks that are plain functions of the callback's class, whose signatures were found to take
    the arguments before, are not inspected again: inspecting the five signatures takes about
    100 µs, as long as a small step of training, at every ``fit`` call."""
    uncalled = [hook for hook in KERAS_ONLY_HOOKS if hasattr(callback, hook)]
    if uncalled:
        warnings.warn(f"callbacks[{index}] ({type(callback).__name__}) defines {', '.join(uncalled)}, which "
                      f"chainrule never calls (a Keras hook); chainrule calls {', '.join(HOOKS)}", UserWarning,
                      stacklevel=5)  # the line that called fit, above fit's keyword check, fit and its argument check
    functions = _class_hooks(callback)
    if functions is not None and _methods_take_arguments(functions):
        return
    for hook, arguments in HOOKS.items():
        try:
            inspect.signature(getattr(callback, hook)).bind(*arguments)
        except TypeError:
            raise HyperparameterError(
                f"callbacks[{index}] ({type(callback).__name__}): {hook} must take ({', '.join(arguments)}), "
                f"as chainrule.Callback.{hook} does"
            ) from None
        except ValueError:  # no signature to inspect (a builtin): left to the call
            pass


def _class_hooks(callback: Callback) -> tuple | None:
    """The functions of ``callback``'s class behind its hooks (in the order of HOOKS), or None
    when one is set on the instance or is not a method of the callback made from a plain
    function (a builtin, a staticmethod, whose function would be taken for a method)."""
    own = getattr(callback, "__dict__", {})
    functions = []
    for hook in HOOKS:
        method = getattr(callback, hook, None)
        plain = type(method) is MethodType and method.__self__ is callback and type(method.__func__) is FunctionType
        if hook in own or not plain:
            return None
        functions.append(method.__func__)
    return tuple(functions)


@functools.lru_cache(maxsize=128)
def _methods_take_arguments(functions: tuple) -> bool:
    """Whether each of the hook ``functions``, as a method of an instance, takes the arguments
    fit passes it: what ``check_hooks`` asks of the instance's bound methods, whose signatures
    do not depend on the instance."""
    for function, arguments in zip(functions, HOOKS.values()):
        try:
            inspect.signature(MethodType(function, Callback())).bind(*arguments)
        except (TypeError, ValueError):
            return False
    return True


def stop_requested(callback: Callback, index: int, epoch: int, logs: dict, model) -> bool:
    """``callback.on_epoch_end``'s answer as a bool: True, False or None (False) are answers; a
    NumPy boolean too. Anything else raises HyperparameterError naming the callback."""
    answer = callback.on_epoch_end(epoch, logs, model)
    if answer is None or is_bool(answer):
        return bool(answer)
    raise HyperparameterError(f"callbacks[{index}] ({type(callback).__name__}): on_epoch_end must return True (stop), "
                              f"False or None, got {quoted(answer, 60)}")
