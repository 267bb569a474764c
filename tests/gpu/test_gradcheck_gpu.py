"""Every layer's backward on CuPy arrays, float64, against central differences."""

import numpy as np
import pytest

import chainrule as cr


def models():
    """(name, model) pairs covering every layer type, each between two Linear layers (made afresh per call)."""
    def around(layer):
        return cr.Sequential(cr.Linear(3, 5, dtype="float64"), layer, cr.Linear(5, 4, dtype="float64"), seed=1)
    inner = cr.Residual(cr.Sequential(cr.Linear(5, 5, dtype="float64"), cr.Tanh()))
    yield from [(type(layer).__name__, around(layer)) for layer in
                (cr.ReLU(), cr.LeakyReLU(0.1), cr.Sigmoid(), cr.Tanh(), cr.GELU(), cr.Softmax(), cr.Identity())]
    yield "Residual", around(inner)
    yield "nested", cr.Sequential(cr.Sequential(cr.Linear(3, 5, dtype="float64"), cr.Sigmoid()),
                                  cr.Sequential(cr.Linear(5, 4, dtype="float64")), seed=2)


NAMES = [name for name, _ in models()]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "mse", "binary_cross_entropy"])
def test_every_layer_passes_gradcheck_on_the_gpu(name, loss):
    model = dict(models())[name]  # a fresh model: the test moves it to the GPU
    rng = np.random.default_rng(0)
    for layer in model.params.values():
        layer[...] = rng.normal(size=layer.shape)  # biases too, so no gradient is trivially 0
    model.to("cuda")
    X = rng.normal(size=(6, 3))
    y = {"softmax_cross_entropy": rng.integers(0, 4, size=6), "mse": rng.normal(size=(6, 4)),
         "binary_cross_entropy": rng.integers(0, 2, size=(6, 4)).astype(float)}[loss]
    report = cr.gradcheck(model, X, y, loss)
    assert report.passed(1e-6), str(report)
    assert model.device == "cuda"
