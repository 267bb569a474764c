"""End to end: networks learn (XOR, digits), training is reproducible, float32 stays float32."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import chainrule as cr

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


def train(model, loss, optimizer, X, y, *, epochs, batch_size, seed):
    """Minibatch training: shuffle with a seeded Generator, forward, loss, backward, step."""
    rng = np.random.default_rng(seed)
    T = loss.prepare(y, model(X[:1]).shape[1], model.dtype, n_samples=len(X))
    X = X.astype(model.dtype)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            _, dY = loss.compute(model(X[batch]), T[batch])
            model.backward(dY, input_grad=False)
            optimizer.step()
    return model


def test_xor_with_a_2_2_1_sigmoid_network():
    # Two sigmoid hidden neurons and a sigmoid output (inside BinaryCrossEntropy, on its logit).
    model = cr.Sequential(cr.Linear(2, 2, dtype="float64"), cr.Sigmoid(), cr.Linear(2, 1, dtype="float64"), seed=0)
    loss = cr.BinaryCrossEntropy()
    optimizer = cr.SGD(model, lr=0.5, momentum=0.9)
    train(model, loss, optimizer, XOR_X, XOR_Y, epochs=2000, batch_size=4, seed=0)
    p = loss.transform(model(XOR_X))[:, 0]
    np.testing.assert_array_equal(p > 0.5, XOR_Y == 1)  # 100 % accuracy
    assert np.all(np.abs(p - XOR_Y) < 0.1)  # and confidently so
    assert loss(model(XOR_X), XOR_Y)[0] < 0.05


def digits_split():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1  # pixels that are blank in every training image
    return (X_train - mean) / std, (X_test - mean) / std, y_train, y_test


def train_digits(seed, epochs):
    X_train, X_test, y_train, y_test = digits_split()
    model = cr.mlp([64, 128, 64, 10], seed=seed)
    batch_size = 32
    steps = epochs * -(-len(X_train) // batch_size)
    optimizer = cr.Adam(model, lr=2e-3, weight_decay=5e-3, schedule=cr.CosineDecay(steps))
    train(model, cr.SoftmaxCrossEntropy(), optimizer, X_train, y_train, epochs=epochs, batch_size=batch_size,
          seed=seed)
    accuracy = float((model(X_test).argmax(axis=1) == y_test).mean())
    return model, accuracy


def test_digits_with_a_64_128_64_10_relu_network_and_adam():
    model, accuracy = train_digits(seed=0, epochs=30)
    assert model.dtype == np.float32
    assert accuracy >= 0.97


def test_same_seed_gives_bit_identical_weights():
    first, _ = train_digits(seed=1, epochs=2)
    second, _ = train_digits(seed=1, epochs=2)
    other, _ = train_digits(seed=2, epochs=2)
    for name in first.params:
        assert np.array_equal(first.params[name], second.params[name]), name
    assert not np.array_equal(first.params["0.W"], other.params["0.W"])


def every_layer_model():
    return cr.Sequential(
        cr.Linear(4, 6), cr.ReLU(), cr.Linear(6, 6), cr.LeakyReLU(0.1),
        cr.Residual(cr.Sequential(cr.Linear(6, 6), cr.GELU(), cr.Linear(6, 6))),
        cr.Tanh(), cr.Linear(6, 6), cr.Sigmoid(), cr.Identity(), cr.Linear(6, 6), cr.Softmax(), cr.Linear(6, 3),
        seed=0,
    )


TARGETS = {
    "mse": np.random.default_rng(1).normal(size=(5, 3)),
    "cross_entropy": np.array([0, 2, 1, 1, 0]),
    "binary_cross_entropy": np.random.default_rng(2).integers(0, 2, size=(5, 3)),
}
OPTIMIZERS = {
    "sgd": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": dict(lr=1e-2, weight_decay=1e-3),
    "adamw": dict(lr=1e-2),
    "rmsprop": dict(lr=1e-2, weight_decay=1e-3),
}


@pytest.mark.parametrize("loss_name", TARGETS)
@pytest.mark.parametrize("optimizer_name", OPTIMIZERS)
@pytest.mark.parametrize("input_dtype", [np.float32, np.float64])
def test_float32_in_float32_everywhere(loss_name, optimizer_name, input_dtype):
    model = every_layer_model()
    loss = cr.get_loss(loss_name)
    optimizer = cr.get_optimizer(optimizer_name, model, **OPTIMIZERS[optimizer_name])
    X = np.random.default_rng(0).normal(size=(5, 4)).astype(input_dtype)
    before = model.params["0.W"].copy()
    for _ in range(3):
        Y = model(X)
        value, dY = loss(Y, TARGETS[loss_name])
        dX = model.backward(dY)
        optimizer.step()
        assert np.isfinite(value)
        assert (Y.dtype, dY.dtype, dX.dtype) == (np.float32,) * 3
        for name in model.params:
            assert model.params[name].dtype == np.float32, name
            assert model.grads[name].dtype == np.float32, name
        for name, state in optimizer.state.items():
            assert state.dtype == np.float32, name
    flat = model.flat_parameters()
    assert flat.theta.dtype == flat.grad.dtype == np.float32
    assert not np.array_equal(model.params["0.W"], before)  # the steps did move the weights
