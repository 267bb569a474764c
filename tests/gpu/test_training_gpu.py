"""cr.fit(device="cuda"): the CPU run's trajectory, on the GPU, with and without a CUDA graph."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.backend import to_numpy
from chainrule.training import device_loop


def classification_data(n=500, d=12, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=(d, k))).argmax(axis=1)
    return X, y


def regression_data(n=300, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1)


def train(device, optimizer_of=lambda m: cr.SGD(m, lr=0.05, momentum=0.9), data=classification_data,
          dtype="float64", sizes=(12, 32, 16, 3), **options):
    X, y = data()
    model = cr.mlp(list(sizes), seed=3, dtype=dtype)
    history = cr.fit(model, X, y, optimizer=optimizer_of(model), epochs=3, batch_size=32, verbose=0,
                     device=device, **options)
    return model, history


def assert_same_run(gpu, cpu, tolerance=1e-5):
    (gpu_model, gpu_history), (cpu_model, cpu_history) = gpu, cpu
    assert gpu_model.device == "cuda"
    for name, value in cpu_model.params.items():
        np.testing.assert_allclose(to_numpy(gpu_model.params[name]), value, rtol=tolerance, atol=tolerance)
    for name, values in cpu_history.metrics.items():
        np.testing.assert_allclose(gpu_history.metrics[name], values, rtol=tolerance, atol=tolerance)
    for name, values in cpu_history.grad_norms.items():
        np.testing.assert_allclose(gpu_history.grad_norms[name], values, rtol=tolerance)
    assert gpu_history.initial_grad_norms == pytest.approx(cpu_history.initial_grad_norms, rel=tolerance)


@pytest.mark.parametrize("graph", [False, True])
def test_sgd_momentum_run_equals_the_cpu_run(graph):
    # 500 rows in batches of 32: 15 full batches (captured) and a last one of 20 (run as it is).
    gpu = train("cuda", graph=graph)
    assert_same_run(gpu, train("cpu"))
    assert gpu[0].metadata["training"]["cuda_graph"] is graph


@pytest.mark.parametrize("graph", ["auto", True])
def test_adam_with_a_schedule_and_validation_equals_the_cpu_run(graph):
    def adam(model):
        return cr.Adam(model, lr=0.01, weight_decay=1e-3, schedule=cr.CosineDecay(40))
    gpu = train("cuda", adam, validation=0.2, graph=graph)
    assert_same_run(gpu, train("cpu", adam, validation=0.2))
    assert "val_loss" in gpu[1].metrics


def test_adamw_regression_with_mse_equals_the_cpu_run():
    def adamw(model):
        return cr.AdamW(model, lr=0.01, weight_decay=0.01)
    options = dict(data=regression_data, sizes=(6, 16, 2), standardize=True)
    assert_same_run(train("cuda", adamw, **options), train("cpu", adamw, **options))


def test_rmsprop_runs_the_generic_update_and_equals_the_cpu_run():
    def rmsprop(model):
        return cr.RMSProp(model, lr=0.01)
    gpu = train("cuda", rmsprop)
    assert_same_run(gpu, train("cpu", rmsprop))
    assert gpu[0].metadata["training"]["cuda_graph"] is True  # a fixed η can be captured


def test_graph_and_eager_gpu_runs_agree_to_rounding():
    with_graph, eager = train("cuda", graph=True), train("cuda", graph=False)
    for name, value in eager[0].params.items():
        np.testing.assert_allclose(to_numpy(with_graph[0].params[name]), to_numpy(value), rtol=1e-10, atol=1e-12)


def test_data_held_in_chunks_give_the_same_run(monkeypatch):
    resident = train("cuda", graph=True)
    row_bytes = 12 * 8 + 8
    monkeypatch.setattr(device_loop, "data_budget_bytes", lambda: 100 * row_bytes)  # 96 rows = 3 batches a chunk
    chunked = train("cuda", graph=True)
    for name, value in resident[0].params.items():
        np.testing.assert_allclose(to_numpy(chunked[0].params[name]), to_numpy(value), rtol=1e-12, atol=1e-14)


def test_float32_training_learns_on_the_gpu_as_on_the_cpu():
    model, history = train("cuda", dtype="float32", graph=True)
    _, on_cpu = train("cpu", dtype="float32")
    assert model.dtype == np.float32
    assert history.metrics["loss"][-1] < history.metrics["loss"][0] / 2
    assert history.metrics["accuracy"][-1] == pytest.approx(on_cpu.metrics["accuracy"][-1], abs=0.02)


@pytest.mark.parametrize("graph", [False, True])
def test_divergence_stops_at_the_first_bad_step_and_keeps_finite_weights(graph):
    X, y = classification_data()
    X = X * 1e3
    model = cr.mlp([12, 32, 16, 3], seed=3, dtype="float32")
    with pytest.raises(cr.DivergenceError, match="epoch 1, batch"):
        cr.fit(model, X, y, optimizer=cr.SGD(model, lr=1e3, momentum=0.9), epochs=3, batch_size=32, verbose=0,
               device="cuda", graph=graph)
    assert all(np.isfinite(to_numpy(value)).all() for value in model.params.values())


def test_a_gpu_model_predicts_like_its_cpu_copy():
    model, _ = train("cuda", graph=True)
    X, _ = classification_data(seed=5)
    on_gpu = cr.predict_proba(model, X)
    on_cpu = cr.predict_proba(model.to("cpu"), X)
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=1e-10)


def test_a_failed_capture_falls_back_to_eager_with_a_warning(monkeypatch):
    from chainrule.cuda import graph as graph_module

    def refuse(self):
        self.step()
        self.warmed_up = True
        raise cr.DeviceError("capture refused on purpose")
    monkeypatch.setattr(graph_module.CapturedStep, "warm_up_and_capture", refuse)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fallback = train("cuda", graph="auto")
    assert any("capture refused on purpose" in str(w.message) for w in caught)
    assert fallback[0].metadata["training"]["cuda_graph"] is False
    assert_same_run(fallback, train("cpu"))
    with pytest.raises(cr.DeviceError, match="refused"):
        train("cuda", graph=True)


def test_the_batches_of_an_epoch_never_wait_for_the_gpu(monkeypatch):
    # cupyx.allow_synchronize(False) raises on any CuPy call that waits for the device (a
    # device-to-host copy, float() of a device scalar, ...): the steps only queue work.
    import cupyx
    train_batches = device_loop.DeviceLoop.train_batches

    def without_synchronizing(self, *args):
        with cupyx.allow_synchronize(False):
            return train_batches(self, *args)
    monkeypatch.setattr(device_loop.DeviceLoop, "train_batches", without_synchronizing)
    for graph in (False, True):
        assert_same_run(train("cuda", graph=graph), train("cpu"))


def test_early_stopping_restores_the_best_weights_on_the_gpu():
    def run(device):
        return train(device, validation=0.3, callbacks=[cr.EarlyStopping(patience=1)])
    assert_same_run(run("cuda"), run("cpu"))


def test_standardized_targets_far_from_zero_give_the_cpu_run_in_y_units():
    # Targets 1.7e9 + 50 Y: fit standardizes them; mae and R² are scored in y's units, R² about a shift.
    def far_targets():
        X, Y = regression_data()
        return X, 1.7e9 + 50 * Y

    def adamw(model):
        return cr.AdamW(model, lr=0.01, weight_decay=0.01)
    options = dict(data=far_targets, sizes=(6, 16, 2), standardize=True, standardize_targets=True, validation=0.2)
    gpu, cpu = train("cuda", adamw, **options), train("cpu", adamw, **options)
    assert_same_run(gpu, cpu)
    history = gpu[1]
    assert 5 < history.metrics["mae"][-1] < 60  # in y's units (standardized targets would score below 1)
    assert 0 < history.metrics["r2"][-1] < 1
    X, Y = far_targets()
    predicted = cr.predict(gpu[0], X)
    np.testing.assert_allclose(predicted, cr.predict(cpu[0], X), rtol=1e-9)
    assert np.abs(predicted - Y).mean() < 60  # predictions in y's units too
