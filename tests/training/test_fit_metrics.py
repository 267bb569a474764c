"""cr.fit's training metrics: the loss and metrics of the outputs each step saw.

The loop scores a step's outputs Y after its backward, so a backward that writes into Y's
memory (a buffer of the step's forward reused for a ∂L/∂x) spoils the metrics and not the
gradients. Here the outputs cannot change during training: every Linear is frozen and the one
trainable parameter (fit refuses a model with nothing trainable) has a gradient of 0, so the
history's training metrics must be those ``cr.evaluate`` gives on the training rows.
"""

import numpy as np
import pytest

import chainrule as cr


class Idle(cr.Layer):
    """h = x, with a trainable parameter the output does not depend on: its gradient is 0, so
    no optimizer moves it, and backward runs through every layer above it as in training."""

    def __init__(self):
        super().__init__()
        self.own_params["a"] = np.zeros(1, dtype=np.float32)
        self.own_grads["a"] = np.zeros(1, dtype=np.float32)

    def forward(self, X):
        return X

    def backward(self, dY, input_grad=True):
        self.own_grads["a"][...] = 0
        return dY if input_grad else None


def frozen_model(n_outputs):
    # The last Linear as wide out as in: its ∂L/∂x has the shape of its output, so one buffer would fit both
    model = cr.Sequential(Idle(), cr.Linear(4, n_outputs), cr.Tanh(), cr.Linear(n_outputs, n_outputs), seed=0)
    model[1:].trainable = False
    return model


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_the_training_metrics_are_those_of_the_outputs_the_steps_saw(task):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    if task == "classification":
        y, model, loss = (X @ rng.normal(size=(4, 3))).argmax(axis=1), frozen_model(3), "softmax_cross_entropy"
    else:
        y, model, loss = X @ rng.normal(size=(4, 2)), frozen_model(2), "mse"
    parameters = {name: array.copy() for name, array in model.params.items()}
    # Batches of 16: a short last batch (2 rows) takes a view of each buffer, as every epoch's end does.
    history = cr.fit(model, X, y, loss=loss, epochs=2, batch_size=16, validation=None, standardize=False,
                     verbose=0)
    for name, array in parameters.items():  # nothing moved: the outputs were the same at every step
        np.testing.assert_array_equal(model.params[name], array, err_msg=name)
    expected = cr.evaluate(model, X, y)
    metrics = ["loss", "accuracy"] if task == "classification" else ["loss", "r2", "mae"]
    assert sorted(expected) == sorted(metrics)
    for name in metrics:
        assert history[name] == pytest.approx([expected[name]] * 2, rel=1e-5), name
