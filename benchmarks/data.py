"""Synthetic, seeded, learnable classification data: labels from a fixed random teacher network.

A teacher MLP (n_features-64-n_classes, tanh) with Gaussian weights labels Gaussian inputs by
its argmax, so the labels are a deterministic function of X that a student can learn, unlike
random labels. X is float32, shaped like MNIST (60000 × 784) by default.
"""

from __future__ import annotations

import numpy

TEACHER_HIDDEN = 64


def teacher_data(n_samples: int = 60000, n_features: int = 784, n_classes: int = 10, seed: int = 0):
    """(X, y): X float32 (n_samples, n_features) ~ N(0, 1), y int64 (n_samples,) in [0, n_classes)."""
    rng = numpy.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features), dtype=numpy.float32)
    # float32 teacher weights: a float64 W1 would promote X to a float64 copy twice its size.
    W1 = (rng.standard_normal((n_features, TEACHER_HIDDEN)) / numpy.sqrt(n_features)).astype(numpy.float32)
    W2 = (rng.standard_normal((TEACHER_HIDDEN, n_classes)) / numpy.sqrt(TEACHER_HIDDEN)).astype(numpy.float32)
    y = (numpy.tanh(X @ W1) @ W2).argmax(axis=1).astype(numpy.int64)
    return X, y
