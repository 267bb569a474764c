"""The GPU training contenders: each trains a fresh network for some epochs and says when each epoch ended.

Every contender trains the same ReLU MLP with softmax cross-entropy and SGD (lr 0.01, momentum
0.9) in float32, on data resident on the device, shuffled anew each epoch:

- ``chainrule (CUDA graph)`` / ``chainrule (eager)``: ``cr.fit`` itself, its real loop, with
  ``device="cuda"`` and ``graph=True`` / ``graph=False``; it uploads the NumPy data once per call;
- ``PyTorch eager``: ``nn.Sequential`` and the standard loop, tensors made once on the device,
  ``torch.randperm`` on the device, ``index_select`` per batch, TF32 off;
- ``plain CuPy loop``: ``NumpyMLP`` with ``xp=cupy``, the same code as the CPU suite's NumPy floor.

``train(epochs, seed)`` returns ``time.perf_counter()`` at the end of every epoch, taken after
the device has finished the epoch's work. Consecutive stamps differ by one epoch's time; the
first epoch has no stamp before it and is the warm-up (upload, kernel compilation, CUDA-graph
capture). The device is a parameter, so the PyTorch and plain loops also run on the CPU.
"""

from __future__ import annotations

import time
from functools import partial

import numpy

import chainrule as cr
from chainrule.backend import module_for

from .gpu_environment import switch_off_torch_tf32
from .networks import LR, MOMENTUM
from .numpy_mlp import NumpyMLP

GRAPH = "chainrule (CUDA graph)"
EAGER = "chainrule (eager)"
PYTORCH = "PyTorch eager"


def wait_for(xp) -> None:
    """Block until the GPU has finished the work queued through ``xp`` (nothing to wait for with NumPy)."""
    if xp is not numpy:
        xp.cuda.Device().synchronize()


class EpochClock(cr.Callback):
    """A ``fit`` callback keeping the time at which each epoch's device work had finished."""

    def __init__(self, xp) -> None:
        self.xp = xp
        self.stamps = []

    def on_epoch_end(self, epoch: int, logs: dict, model) -> bool:
        wait_for(self.xp)  # fit has read the epoch's metrics back, so this costs nothing; the stamp need not rely on it
        self.stamps.append(time.perf_counter())
        return False


class ChainruleFit:
    """``cr.fit`` on ``device``, with CUDA graphs (``graph=True``) or without."""

    def __init__(self, sizes, batch: int, X, y, *, device: str = "cuda", graph: bool = True) -> None:
        self.sizes, self.batch, self.X, self.y = sizes, batch, X, y
        self.device, self.graph = device, graph

    def train(self, epochs: int, seed: int) -> list:
        model = cr.mlp(self.sizes, seed=seed)
        optimizer = cr.SGD(model, lr=LR, momentum=MOMENTUM)
        clock = EpochClock(module_for(self.device))
        cr.fit(model, self.X, self.y, optimizer=optimizer, epochs=epochs, batch_size=self.batch, seed=seed,
               verbose=0, device=self.device, graph=self.graph, callbacks=[clock])
        return clock.stamps


class TorchEager:
    """PyTorch's standard eager loop on ``device`` ("cuda" or "cpu")."""

    def __init__(self, sizes, batch: int, X, y, *, device: str = "cuda") -> None:
        import torch

        switch_off_torch_tf32(torch)
        self.torch, self.sizes, self.batch = torch, sizes, batch
        self.device = torch.device(device)
        self.X = torch.from_numpy(X).to(self.device)
        self.y = torch.from_numpy(y).to(self.device)

    def build(self):
        from torch import nn

        layers = []
        for n_in, n_out in zip(self.sizes, self.sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        return nn.Sequential(*layers[:-1]).to(self.device)

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)

    def train(self, epochs: int, seed: int) -> list:
        torch = self.torch
        cross_entropy = torch.nn.functional.cross_entropy
        torch.manual_seed(seed)  # the weights and, on every device, the shuffles
        model = self.build()
        optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        n_samples, stamps = len(self.X), []
        for _ in range(epochs):
            order = torch.randperm(n_samples, device=self.device)
            for start in range(0, n_samples, self.batch):
                rows = order[start:start + self.batch]
                optimizer.zero_grad(set_to_none=True)
                loss = cross_entropy(model(self.X.index_select(0, rows)), self.y.index_select(0, rows))
                loss.backward()
                optimizer.step()
            self.synchronize()
            stamps.append(time.perf_counter())
        return stamps


class PlainLoop:
    """``NumpyMLP`` run by the array module of ``device``: the plain CuPy loop (NumPy's on "cpu")."""

    def __init__(self, sizes, batch: int, X, y, *, device: str = "cuda") -> None:
        self.sizes, self.batch, self.xp = sizes, batch, module_for(device)
        self.X, self.y = self.xp.asarray(X), self.xp.asarray(y)

    def train(self, epochs: int, seed: int) -> list:
        xp = self.xp
        model = NumpyMLP(self.sizes, seed=seed, xp=xp)
        rng = xp.random.RandomState(seed)  # on the device for CuPy
        n_samples, stamps = len(self.X), []
        for _ in range(epochs):
            order = rng.permutation(n_samples)
            for start in range(0, n_samples, self.batch):
                rows = order[start:start + self.batch]
                model.step(xp.take(self.X, rows, axis=0), xp.take(self.y, rows), LR, MOMENTUM)
            wait_for(xp)
            stamps.append(time.perf_counter())
        return stamps


def gpu_contenders(device: str = "cuda") -> dict:
    """``{name: maker}`` in the order of a block; a maker takes (sizes, batch, X, y) and returns a contender.

    The CUDA-graph contender runs only on "cuda"; on "cpu" the plain loop is NumPy's.
    """
    makers = {}
    if device == "cuda":
        makers[GRAPH] = partial(ChainruleFit, device=device, graph=True)
    makers[EAGER] = partial(ChainruleFit, device=device, graph=False)
    makers[PYTORCH] = partial(TorchEager, device=device)
    makers["plain CuPy loop" if device == "cuda" else "plain NumPy loop"] = partial(PlainLoop, device=device)
    return makers
