"""Optimizer.reset_state: a refused step starts the state afresh, so that training goes on after a DivergenceError."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.sklearn import MLPRegressor

OPTIMIZERS = {
    "sgd_momentum": lambda model, lr: cr.SGD(model, lr=lr, momentum=0.9),
    "adam": lambda model, lr: cr.Adam(model, lr=lr),
    "adamw": lambda model, lr: cr.AdamW(model, lr=lr),
    "rmsprop": lambda model, lr: cr.RMSProp(model, lr=lr),
}


def step_with(optimizer, flat, gradient) -> bool:
    flat.grad[...] = gradient
    return optimizer.step(check_finite=True)


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_after_a_refused_step_the_optimizer_steps_as_a_new_one_does(make):
    g = np.linspace(-1, 1, cr.mlp([5, 4, 2], seed=0).flat_parameters().theta.size)
    model = cr.mlp([5, 4, 2], seed=0)
    flat = model.flat_parameters()
    optimizer = make(model, 0.01)
    assert step_with(optimizer, flat, g)
    assert not step_with(optimizer, flat, np.nan)  # NaN in every state vector but for the reset
    assert all(np.isfinite(array).all() and not array.any() for array in optimizer.state.values())
    theta = flat.theta.copy()
    assert step_with(optimizer, flat, g)
    fresh_model = cr.mlp([5, 4, 2], seed=0)
    fresh_model.flat_parameters().theta[...] = theta
    fresh = make(fresh_model, 0.01)
    assert step_with(fresh, fresh_model.flat_parameters(), g)  # Adam's first step: bias correction at t = 1
    np.testing.assert_array_equal(flat.theta, fresh_model.flat_parameters().theta)
    assert optimizer.t == 3


def test_reset_state_keeps_t_for_the_schedule_and_restarts_each_parameters_own_count():
    model = cr.mlp([5, 4, 2], seed=0)
    model[0].trainable = False
    optimizer = cr.Adam(model, lr=0.01, schedule=cr.optimizers.schedules.StepDecay(step_size=1, gamma=0.5))
    flat = model.flat_parameters()
    assert step_with(optimizer, flat, 0.5)
    assert not step_with(optimizer, flat, np.nan)
    assert optimizer.t == 2 and optimizer.current_lr == 0.01 * 0.25
    assert optimizer.missed == dict.fromkeys(flat.names, 2)
    restored = cr.Adam(model, lr=0.01)
    restored.load_state_dict(optimizer.state_dict())  # the counts pass the checks of a saved state
    assert restored.missed == optimizer.missed


def test_reset_state_of_an_optimizer_that_took_no_step_leaves_missed_empty():
    optimizer = cr.Adam(cr.mlp([5, 4, 2], seed=0))
    optimizer.reset_state()
    assert optimizer.t == 0 and optimizer.missed == {}


def data():
    """(X, X with one row so large that a batch's gradient overflows float32 while its loss does not, y)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    X_diverging = X.copy()
    X_diverging[5] *= 1e21
    return X, X_diverging, X @ np.array([1.0, -2.0, 0.5])


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_fit_trains_on_with_the_optimizer_reused_after_a_divergence(make):
    X, X_diverging, y = data()
    model = cr.mlp([3, 8, 1], seed=0)
    optimizer = make(model, 0.01)
    settings = {"loss": "mse", "optimizer": optimizer, "batch_size": 16, "standardize": False, "verbose": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overflow in the forward pass
        with pytest.raises(cr.DivergenceError, match="the gradient (or the update )?is not finite"):
            cr.fit(model, X_diverging, y, epochs=2, **settings)
    history = cr.fit(model, X, y, epochs=5, **settings)
    assert np.isfinite(model.flat_parameters().theta).all()
    assert history["loss"][-1] < history["loss"][0]
    again = make(model, 0.01)
    again.load_state_dict(optimizer.state_dict())
    assert again.t == optimizer.t and again.missed == optimizer.missed


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_the_estimator_trains_on_and_round_trips_after_a_divergence(solver, tmp_path):
    X, X_diverging, y = data()
    est = MLPRegressor(hidden_layer_sizes=(8,), batch_size=16, max_iter=5, random_state=0, solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(cr.DivergenceError, match="the gradient (or the update )?is not finite"):
            est.fit(X_diverging, y)
        est.set_params(learning_rate_init=1e-4)
        est.partial_fit(X, y)
        path = tmp_path / "m.safetensors"
        est.save(path)
        loaded = MLPRegressor.load(path)
        np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
        loaded.partial_fit(X, y)
    assert np.isfinite(est.loss_) and np.isfinite(loaded.loss_)
