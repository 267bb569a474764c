"""Copies and pickles of a model and its optimizer: the state a further step needs, and no step's scratch.

A pickle (joblib, multiprocessing) or ``copy.deepcopy`` of a model with its optimizer holds θ, the last
∂L/∂θ, the optimizer's state vectors and counts, and not the work vectors (``_work``, ``_work2``), the decay
vector or the model's flat buffer (a second copy of θ and ∂L/∂θ); stepping on from the copy gives exactly
the θ that stepping on from the original gives.
"""

import copy
import pickle

import numpy as np
import pytest

import chainrule as cr

OPTIMIZERS = {
    "sgd_momentum": lambda model: cr.SGD(model, lr=0.05, momentum=0.9, weight_decay=0.01),
    "sgd_nesterov": lambda model: cr.SGD(model, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda model: cr.Adam(model, lr=0.01, weight_decay=0.01),
    "adamw": lambda model: cr.AdamW(model, lr=0.01, weight_decay=0.01),
    "rmsprop": lambda model: cr.RMSProp(model, lr=0.01, weight_decay=0.01),
}
COPIES = {"pickle": lambda thing: pickle.loads(pickle.dumps(thing)), "deepcopy": copy.deepcopy}


def train(model, optimizer, gradients) -> None:
    """A step per gradient, each after a forward and a backward so that the layers' arrays are in use."""
    X = np.linspace(-1, 1, 3 * model[0].n_in, dtype=model.dtype).reshape(3, -1)
    for gradient in gradients:
        Y = model.forward(X)
        model.backward(np.ones_like(Y))
        flat = model.flat_parameters()
        flat.grad[...] = gradient
        optimizer.step()


def gradients(size: int, dtype, count: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=size).astype(dtype) for _ in range(count)]


@pytest.mark.parametrize("copied", COPIES.values(), ids=COPIES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_stepping_on_from_a_copy_gives_the_weights_of_stepping_on_from_the_original(make, dtype, copied):
    model = cr.mlp([40, 30, 5], seed=0, dtype=dtype)
    optimizer = make(model)
    size = model.flat_parameters().theta.size
    train(model, optimizer, gradients(size, dtype, 3, seed=1))
    model_copy, optimizer_copy = copied((model, optimizer))
    assert optimizer_copy.model is model_copy
    later = gradients(size, dtype, 3, seed=2)
    train(model, optimizer, later)
    train(model_copy, optimizer_copy, later)
    np.testing.assert_array_equal(model_copy.flat_parameters().theta, model.flat_parameters().theta)
    assert optimizer_copy.t == optimizer.t == 6
    for name, array in optimizer.state.items():
        np.testing.assert_array_equal(optimizer_copy.state[name], array)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_a_step_right_after_the_copy_reads_the_last_backwards_gradients(make, dtype):
    model = cr.mlp([40, 30, 5], seed=0, dtype=dtype)
    optimizer = make(model)
    train(model, optimizer, gradients(model.flat_parameters().theta.size, dtype, 2, seed=1))
    model.flat_parameters().grad[...] = 0.5  # as a backward leaves it, before the step
    model_copy, optimizer_copy = pickle.loads(pickle.dumps((model, optimizer)))
    optimizer.step()
    optimizer_copy.step()
    np.testing.assert_array_equal(model_copy.flat_parameters().theta, model.flat_parameters().theta)


def test_a_frozen_layers_missed_steps_survive_the_copy():
    model = cr.mlp([40, 30, 5], seed=0)
    optimizer = cr.Adam(model, lr=0.01, weight_decay=0.01)
    size = model.flat_parameters().theta.size
    model[0].trainable = False
    train(model, optimizer, gradients(size, "float32", 2, seed=1))
    model[0].trainable = True
    model_copy, optimizer_copy = pickle.loads(pickle.dumps((model, optimizer)))
    assert optimizer_copy.missed == optimizer.missed == {"0.W": 2, "0.b": 2}
    later = gradients(size, "float32", 2, seed=2)
    train(model, optimizer, later)
    train(model_copy, optimizer_copy, later)
    np.testing.assert_array_equal(model_copy.flat_parameters().theta, model.flat_parameters().theta)
    assert optimizer_copy.missed == optimizer.missed


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_a_pickle_holds_the_state_and_not_the_steps_scratch(make):
    model = cr.mlp([200, 100, 10], seed=0, dtype="float64")
    optimizer = make(model)
    flat = model.flat_parameters()
    train(model, optimizer, gradients(flat.theta.size, "float64", 2, seed=1))
    # θ, ∂L/∂θ (kept: a step right after the copy reads it) and the state vectors; before, also the flat
    # buffer's second copy of θ and ∂L/∂θ, _work, _work2 and _decay: five more vectors of θ's size
    needed = flat.theta.nbytes + flat.grad.nbytes + sum(array.nbytes for array in optimizer.state.values())
    size = len(pickle.dumps((model, optimizer)))
    assert size < needed + flat.theta.nbytes // 4, (size, needed, flat.theta.nbytes)


def test_an_unpickled_optimizer_has_its_work_vectors_again_and_no_decay_vector_when_lambda_is_0():
    model = cr.mlp([4, 3, 2], seed=0)
    optimizer = cr.SGD(model, lr=0.1)  # λ = 0: no second work vector and no decay vector on the CPU
    copy_ = pickle.loads(pickle.dumps(optimizer))
    assert copy_._work2 is None and copy_._decay is None
    assert copy_._work.shape == optimizer._work.shape and copy_._work.dtype == optimizer._work.dtype


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_a_pickle_made_before_getstate_existed_loads_and_steps_on_as_the_original(make, monkeypatch):
    # Pickles written before Optimizer.__getstate__ (joblib files of fitted estimators) hold the optimizer's
    # __dict__ as it was, _work, _work2 and _decay arrays included; __setstate__ unpacked _work as a tuple
    # (size, dtype, device) and raised ValueError on every one of them
    model = cr.mlp([40, 30, 5], seed=0)
    optimizer = make(model)
    size = model.flat_parameters().theta.size
    train(model, optimizer, gradients(size, "float32", 2, seed=1))
    layer_state = cr.Layer.__getstate__

    def old_layer_state(layer) -> dict:  # the flat buffer kept, as before
        return {**layer_state(layer), "_flat": vars(layer)["_flat"]}

    def old_optimizer_state(optimizer) -> dict:  # the whole __dict__, the buffer that named the parameters in it
        flat = optimizer.model.flat_parameters()
        return {**vars(optimizer), "_named": (flat, flat.names)}

    with monkeypatch.context() as patch:
        patch.setattr(cr.Optimizer, "__getstate__", old_optimizer_state)
        patch.setattr(cr.Layer, "__getstate__", old_layer_state)
        old_pickle = pickle.dumps((model, optimizer))
    assert model.flat_parameters().theta.tobytes() in old_pickle  # the old flat buffer is in it
    model_copy, optimizer_copy = pickle.loads(old_pickle)
    later = gradients(size, "float32", 2, seed=2)
    train(model, optimizer, later)
    train(model_copy, optimizer_copy, later)
    np.testing.assert_array_equal(model_copy.flat_parameters().theta, model.flat_parameters().theta)
    assert optimizer_copy.t == optimizer.t == 4


@pytest.mark.parametrize("copied", COPIES.values(), ids=COPIES)
def test_a_frozen_layers_missed_steps_follow_it_when_it_moves_in_the_copy_before_a_step(copied):
    # The copy kept the names of the parameters and not which layers they stand for: a layer without
    # parameters put in before the frozen one renamed "2.W" to "3.W", and its two missed steps were dropped
    model = cr.mlp([40, 30, 5], seed=0)
    optimizer = cr.Adam(model, lr=0.01)
    size = model.flat_parameters().theta.size
    model[2].trainable = False
    train(model, optimizer, gradients(size, "float32", 2, seed=1))
    model[2].trainable = True
    model_copy, optimizer_copy = copied((model, optimizer))
    for each in (model, model_copy):
        each.layers.insert(1, cr.Identity())
    assert optimizer_copy.state_dict()["missed"] == optimizer.state_dict()["missed"] == {"3.W": 2, "3.b": 2}
    later = gradients(size, "float32", 2, seed=2)
    train(model, optimizer, later)
    train(model_copy, optimizer_copy, later)
    np.testing.assert_array_equal(model_copy.flat_parameters().theta, model.flat_parameters().theta)
