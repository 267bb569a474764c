"""The training contenders: each trains one epoch per ``epoch()`` call on the same data and network.

Every contender uses ReLU hidden layers, softmax cross-entropy, SGD lr 0.01 with momentum 0.9,
the given minibatch size and a fresh shuffle each epoch:

- ``chainrule``: ``cr.fit`` itself, its real loop (shuffling, metrics, gradient-norm records,
  divergence guard, progress bar on, writing to a null stream so logs stay readable);
- ``numpy loop``: ``NumpyMLP``, the plain NumPy floor;
- ``torch eager``: ``nn.Sequential`` and the standard loop, tensors made once, no DataLoader;
- ``sklearn f32`` / ``sklearn f64``: ``MLPClassifier(solver="sgd")`` one epoch per ``fit``
  (``warm_start=True, max_iter=1``), given float32 or float64 input.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import warnings

import numpy

from .networks import LR, MOMENTUM
from .numpy_mlp import NumpyMLP


def torch_available() -> bool:
    """Whether PyTorch can be imported (found without importing it)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


class Chainrule:
    name = "chainrule"

    def __init__(self, sizes, batch: int, X, y) -> None:
        import chainrule as cr

        self.cr, self.batch, self.X, self.y = cr, batch, X, y
        self.model = cr.mlp(sizes, seed=0)
        self.optimizer = cr.SGD(self.model, lr=LR, momentum=MOMENTUM)
        self.epochs = 0

    def epoch(self) -> None:
        self.epochs += 1  # a new seed per call: a new shuffle, as a multi-epoch fit would have
        with open(os.devnull, "w") as null, contextlib.redirect_stderr(null):
            self.cr.fit(self.model, self.X, self.y, optimizer=self.optimizer, epochs=1,
                        batch_size=self.batch, seed=self.epochs, verbose=1)


class NumpyLoop:
    name = "numpy loop"

    def __init__(self, sizes, batch: int, X, y) -> None:
        self.model, self.batch, self.X, self.y = NumpyMLP(sizes), batch, X, y
        self.rng = numpy.random.default_rng(0)

    def epoch(self) -> None:
        order = self.rng.permutation(len(self.X))
        for start in range(0, len(order), self.batch):
            rows = order[start:start + self.batch]
            self.model.step(self.X[rows], self.y[rows], LR, MOMENTUM)


class TorchEager:
    name = "torch eager"

    def __init__(self, sizes, batch: int, X, y) -> None:
        import torch
        from torch import nn

        torch.manual_seed(0)
        layers = []
        for n_in, n_out in zip(sizes, sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        self.torch, self.batch = torch, batch
        self.model = nn.Sequential(*layers[:-1])
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)
        self.loss = nn.CrossEntropyLoss()
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y)
        self.generator = torch.Generator().manual_seed(0)

    def epoch(self) -> None:
        order = self.torch.randperm(len(self.X), generator=self.generator)
        for start in range(0, len(order), self.batch):
            rows = order[start:start + self.batch]
            self.optimizer.zero_grad()
            self.loss(self.model(self.X[rows]), self.y[rows]).backward()
            self.optimizer.step()


class Sklearn:
    dtype = numpy.float32
    name = "sklearn f32"

    def __init__(self, sizes, batch: int, X, y) -> None:
        from sklearn.neural_network import MLPClassifier

        self.X, self.y = X.astype(self.dtype), y
        self.model = MLPClassifier(
            hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu", solver="sgd", batch_size=batch,
            learning_rate_init=LR, momentum=MOMENTUM, nesterovs_momentum=False, alpha=0.0,
            max_iter=1, warm_start=True, shuffle=True, random_state=0,
        )

    def epoch(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter=1 is the point
            self.model.fit(self.X, self.y)


class Sklearn64(Sklearn):
    dtype = numpy.float64
    name = "sklearn f64"


def training_contenders(with_torch: bool = True) -> list:
    """The contender classes in the order they alternate; torch only when importable and wanted."""
    found = [Chainrule, NumpyLoop]
    if with_torch and torch_available():
        found.append(TorchEager)
    return found + [Sklearn, Sklearn64]


CONTENDERS = {cls.name: cls for cls in (Chainrule, NumpyLoop, TorchEager, Sklearn, Sklearn64)}
