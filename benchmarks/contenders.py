"""The training contenders: each trains one epoch per ``epoch()`` call on the same data and network.

Every contender uses ReLU hidden layers, softmax cross-entropy, SGD lr 0.01 with momentum 0.9,
the given minibatch size and a fresh shuffle each epoch. chainrule, the numpy loop and torch start
from one network, ``numpy_mlp.initial_weights`` (He normal, zero biases); scikit-learn from its own
Glorot uniform draw (variance 2 / (n_in + n_out)), which it makes at the first ``partial_fit``.

- ``chainrule``: ``cr.fit`` itself, its real loop (shuffling, metrics, gradient-norm records,
  divergence guard, progress bar on): stderr is a ``NullTerminal``, so tqdm formats and writes
  the bar as on a console while the logs stay readable;
- ``numpy loop``: ``NumpyMLP``, the plain NumPy floor;
- ``torch eager``: ``nn.Sequential`` and the standard loop, tensors made once, no DataLoader;
- ``sklearn f32`` / ``sklearn f64``: ``MLPClassifier(solver="sgd")``, one epoch per
  ``partial_fit`` (scikit-learn's one-epoch call: it keeps the optimizer and its momentum, and
  with a ``RandomState`` as ``random_state`` each call draws a new shuffle), given float32 or
  float64 input.

Each class names in ``modules`` the libraries it imports, so that their thread pools can be
loaded before the thread limits are set (``benchmarks.threads``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os

import numpy

from .networks import LR, MOMENTUM
from .numpy_mlp import NumpyMLP, initial_weights


def torch_available() -> bool:
    """Whether PyTorch can be imported (found without importing it)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


class NullTerminal(io.TextIOWrapper):
    """A text stream to the null device that says it is a terminal: ``cr.fit(verbose=1)``
    decides from ``isatty()`` whether to draw its tqdm bar, so with this as stderr the bar is
    formatted and written at every refresh, as on a console, and nothing shows."""

    def __init__(self) -> None:
        super().__init__(io.FileIO(os.devnull, "w"), encoding="utf-8", line_buffering=True)

    def isatty(self) -> bool:
        return True


def chainrule_mlp(sizes):
    """``cr.mlp(sizes)`` holding ``initial_weights(sizes)``."""
    import chainrule as cr

    model = cr.mlp(sizes, seed=0)
    names = [name for name in model.params if name.endswith(".W")]
    for name, (W, b) in zip(names, initial_weights(sizes)):
        model.params[name], model.params[name[:-1] + "b"] = W, b
    return model


def torch_mlp(sizes):
    """``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU`` holding ``initial_weights(sizes)`` (W stored (out, in))."""
    import torch
    from torch import nn

    layers = []
    for W, b in initial_weights(sizes):
        linear = nn.Linear(*W.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class Chainrule:
    name = "chainrule"
    modules = ("chainrule",)

    def __init__(self, sizes, batch: int, X, y) -> None:
        import chainrule as cr

        self.cr, self.batch, self.X, self.y = cr, batch, X, y
        self.model = chainrule_mlp(sizes)
        self.optimizer = cr.SGD(self.model, lr=LR, momentum=MOMENTUM)
        self.epochs = 0

    def epoch(self) -> None:
        self.epochs += 1  # a new seed per call: a new shuffle, as a multi-epoch fit would have
        with NullTerminal() as terminal, contextlib.redirect_stderr(terminal):
            self.cr.fit(self.model, self.X, self.y, optimizer=self.optimizer, epochs=1,
                        batch_size=self.batch, seed=self.epochs, verbose=1)


class NumpyLoop:
    name = "numpy loop"
    modules = ("numpy",)

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
    modules = ("torch",)

    def __init__(self, sizes, batch: int, X, y) -> None:
        import torch
        from torch import nn

        self.torch, self.batch = torch, batch
        self.model = torch_mlp(sizes)
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
    modules = ("sklearn.neural_network",)

    def __init__(self, sizes, batch: int, X, y) -> None:
        from sklearn.neural_network import MLPClassifier

        # float32 input is X itself: a copy would add the data set (188 MB) to this contender's peak RSS alone
        self.X, self.y, self.classes = X.astype(self.dtype, copy=False), y, numpy.unique(y)
        # fit would make a new optimizer at each call, and an integer random_state would
        # re-seed the shuffle at each call: every epoch after the first would repeat its order
        self.model = MLPClassifier(
            hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu", solver="sgd", batch_size=batch,
            learning_rate_init=LR, momentum=MOMENTUM, nesterovs_momentum=False, alpha=0.0,
            shuffle=True, random_state=numpy.random.RandomState(0),
        )

    def epoch(self) -> None:
        self.model.partial_fit(self.X, self.y, classes=self.classes)


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
