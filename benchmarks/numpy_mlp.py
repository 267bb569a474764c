"""The plain baseline: an MLP trained by a loop a careful person writes in an afternoon.

ReLU hidden layers, softmax cross-entropy, SGD with momentum in PyTorch's form
(v ← μ v + g, θ ← θ − η v), float32 throughout, the first layer's input gradient skipped.
No metrics, no progress bar, no checks: the floor chainrule's full loop is measured against.
Written against the NumPy API and given its array module ``xp``: NumPy on the CPU, and the
same code with ``xp=cupy`` is the plain CuPy loop of the GPU benchmark.
"""

from __future__ import annotations

import numpy


def initial_weights(sizes, seed: int = 0) -> list:
    """``[(W, b), ...]`` per layer, float32 NumPy arrays: W (n_in, n_out) ~ N(0, 2 / n_in) (He) drawn
    from ``seed``, b zero. The CPU suite's contenders but scikit-learn's all start from these."""
    rng = numpy.random.default_rng(seed)
    return [((rng.standard_normal((n_in, n_out)) * numpy.sqrt(2.0 / n_in)).astype(numpy.float32),
             numpy.zeros(n_out, numpy.float32)) for n_in, n_out in zip(sizes, sizes[1:])]


class NumpyMLP:
    """Weights ``W[l]`` (n_in, n_out) and biases ``b[l]``, with velocities of the same shapes, held by ``xp``.

    The initial weights are ``initial_weights(sizes, seed)``, drawn on the host, so every ``xp`` starts
    from the same ones.
    """

    def __init__(self, sizes, seed: int = 0, xp=numpy) -> None:
        self.xp = xp
        weights = initial_weights(sizes, seed)
        self.W = [xp.asarray(W) for W, _ in weights]
        self.b = [xp.asarray(b) for _, b in weights]
        self.vW = [xp.zeros_like(W) for W in self.W]
        self.vb = [xp.zeros_like(b) for b in self.b]

    def forward(self, X):
        """Logits (n_samples, n_classes); keeps each layer's input for ``backward``."""
        self.inputs = []
        H = X
        for layer, (W, b) in enumerate(zip(self.W, self.b)):
            self.inputs.append(H)
            H = H @ W
            H += b
            if layer < len(self.W) - 1:
                self.xp.maximum(H, 0, out=H)
        return H

    def step(self, X, y, lr: float, momentum: float):
        """One SGD step on a minibatch; returns its mean cross-entropy where ``xp`` keeps it.

        That is a NumPy scalar, or a 0-d CuPy array: reading it (``float(loss)``) waits for the GPU.
        """
        xp = self.xp
        Z = self.forward(X)
        Z -= Z.max(axis=1, keepdims=True)
        P = xp.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        rows = xp.arange(len(y))
        loss = -xp.log(P[rows, y] + 1e-12).mean()
        dZ = P  # softmax + cross-entropy: ∂L/∂z = (p − onehot(y)) / n
        dZ[rows, y] -= 1
        dZ /= len(y)
        for layer in reversed(range(len(self.W))):
            H = self.inputs[layer]
            dW = H.T @ dZ
            db = dZ.sum(axis=0)
            if layer > 0:
                dZ = dZ @ self.W[layer].T
                dZ *= H > 0  # ReLU': H is the previous layer's ReLU output
            for theta, v, g in ((self.W[layer], self.vW[layer], dW), (self.b[layer], self.vb[layer], db)):
                v *= momentum
                v += g
                theta -= lr * v
        return loss
