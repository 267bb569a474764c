"""Checkpoints: a model file plus everything needed to continue training exactly.

A checkpoint is an ordinary chainrule model file (it loads with ``cr.load``) whose extra
tensors hold the optimizer's state (``optimizer.m``, ...) and the callbacks' arrays
(``callbacks.0.best_theta``), and whose extra JSON holds the epoch, the optimizer's step
count, the shuffling Generator's state, the History and the callbacks' state. It is written
atomically, so a run killed at any moment leaves the previous checkpoint intact. Arrays are
saved from any device and loaded onto the model's device.
"""

from __future__ import annotations

from ..backend import to_device, to_numpy
from ..errors import ModelFileError
from ..io import read, save
from .history import History

FORMAT = "chainrule-checkpoint"


def save_checkpoint(path, model, optimizer, rng, history: History, callbacks, epoch: int) -> None:
    """Write the training state after ``epoch`` to ``path`` (atomically)."""
    tensors = {f"optimizer.{name}": to_numpy(array) for name, array in optimizer.state.items()}
    callback_states = []
    for index, callback in enumerate(callbacks):
        state, arrays = callback.state_dict()
        callback_states.append(state)
        tensors.update({f"callbacks.{index}.{name}": to_numpy(array) for name, array in arrays.items()})
    extra = {
        "format": FORMAT,
        "epoch": epoch,
        "optimizer": {"type": type(optimizer).__name__, "t": optimizer.t},
        "rng": rng.bit_generator.state,
        "history": history.to_json(),
        "callbacks": callback_states,
    }
    save(model, path, extra_tensors=tensors, extra_json=extra)


def load_checkpoint(path, model, optimizer, rng, callbacks) -> tuple[History, int]:
    """Restore weights, optimizer, Generator and callbacks from ``path``; returns (History, epoch).

    The arrays go to the model's device: move the model (and make the optimizer) first.
    """
    saved, tensors, extra = read(path)
    if extra.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a training checkpoint (a model file without training state)")
    if sorted(saved.params) != sorted(model.params):
        raise ModelFileError(
            f"{path}: the checkpoint's parameters {sorted(saved.params)} do not match the model's {sorted(model.params)}"
        )
    device = model.device
    for name, array in model.params.items():
        if saved.params[name].shape != array.shape:
            raise ModelFileError(f"{path}: tensor {name!r} has shape {saved.params[name].shape}, the model {array.shape}")
        array[...] = to_device(saved.params[name], device)
    if extra["optimizer"]["type"] != type(optimizer).__name__:
        raise ModelFileError(
            f"{path}: the checkpoint was trained with {extra['optimizer']['type']}, not {type(optimizer).__name__}"
        )
    optimizer.load_state_dict({
        "t": extra["optimizer"]["t"],
        "state": {name: tensors[f"optimizer.{name}"] for name in optimizer.state if f"optimizer.{name}" in tensors},
    })
    rng.bit_generator.state = extra["rng"]
    if len(extra["callbacks"]) != len(callbacks):
        raise ModelFileError(f"{path}: the checkpoint has {len(extra['callbacks'])} callbacks, this run {len(callbacks)}")
    for index, (callback, state) in enumerate(zip(callbacks, extra["callbacks"])):
        prefix = f"callbacks.{index}."
        arrays = {k[len(prefix):]: to_device(v, device) for k, v in tensors.items() if k.startswith(prefix)}
        callback.load_state_dict(state, arrays)
    return History.from_json(extra["history"]), int(extra["epoch"])
