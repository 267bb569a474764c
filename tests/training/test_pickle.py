"""A model after chainrule.training.fit, pickled with its optimizer: the state that a further ``fit`` needs
(θ, the last ∂L/∂θ, the preprocessor, the optimizer's state and counts), not the optimizer's scratch nor the
model's flat buffer; fitting on from the copy gives exactly the weights of fitting on from the original."""

import pickle

import numpy as np
import pytest

import chainrule as cr

OPTIMIZERS = {
    "sgd_momentum": lambda model: cr.SGD(model, lr=0.05, momentum=0.9, weight_decay=0.01),
    "adam": lambda model: cr.Adam(model, lr=0.01, weight_decay=0.01),
    "adamw": lambda model: cr.AdamW(model, lr=0.01, weight_decay=0.01),
    "rmsprop": lambda model: cr.RMSProp(model, lr=0.01, weight_decay=0.01),
}


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 40))
    return X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_fitting_on_from_an_unpickled_model_and_optimizer_gives_the_weights_of_the_original(make, dtype):
    X, y = data()
    model = cr.mlp([40, 30, 3], seed=0, dtype=dtype)
    optimizer = make(model)
    cr.fit(model, X, y, optimizer=optimizer, epochs=2, batch_size=16, verbose=0)
    model_copy, optimizer_copy = pickle.loads(pickle.dumps((model, optimizer)))
    cr.fit(model, X, y, optimizer=optimizer, epochs=2, batch_size=16, verbose=0, seed=1)
    cr.fit(model_copy, X, y, optimizer=optimizer_copy, epochs=2, batch_size=16, verbose=0, seed=1)
    np.testing.assert_array_equal(model_copy.flat_parameters().theta, model.flat_parameters().theta)
    assert optimizer_copy.t == optimizer.t
    for name, array in optimizer.state.items():
        np.testing.assert_array_equal(optimizer_copy.state[name], array)


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_a_fitted_model_and_optimizer_pickle_to_about_their_state(make):
    X, y = data()
    model = cr.mlp([40, 200, 3], seed=0, dtype="float64")
    optimizer = make(model)
    cr.fit(model, X, y, optimizer=optimizer, epochs=1, batch_size=16, verbose=0)
    flat = model.flat_parameters()
    # θ, the last ∂L/∂θ and the optimizer's state; the last batch's inputs that the layers keep for backward,
    # the preprocessor and the metadata fit in the 16 KiB. Before, also the flat buffer's second θ and ∂L/∂θ
    # and the optimizer's _work, _work2 and _decay: five more vectors of θ's size.
    needed = flat.theta.nbytes + flat.grad.nbytes + sum(array.nbytes for array in optimizer.state.values())
    size = len(pickle.dumps((model, optimizer)))
    assert size < needed + flat.theta.nbytes // 4 + 16384, (size, needed, flat.theta.nbytes)
