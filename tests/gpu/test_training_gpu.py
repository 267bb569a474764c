"""cr.fit(device="cuda"): the CPU run's trajectory, on the GPU, with and without a CUDA graph."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.backend import to_numpy
from chainrule.training import device_loop
from tests.harness import Rebinding, RowValues, UnfreezeAfter


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


def test_rmsprop_runs_its_fused_kernel_and_equals_the_cpu_run():
    def rmsprop(model):
        return cr.RMSProp(model, lr=0.01)
    gpu = train("cuda", rmsprop)
    assert_same_run(gpu, train("cpu", rmsprop))
    assert gpu[0].metadata["training"]["cuda_graph"] is True


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


@pytest.fixture
def never_waiting(monkeypatch):
    """DeviceLoop.train_batches under cupyx.allow_synchronize(False), which raises on any CuPy
    call that waits for the device (a device-to-host copy, float() of a device scalar, ...)."""
    import cupyx
    train_batches = device_loop.DeviceLoop.train_batches

    def without_synchronizing(self, *args):
        with cupyx.allow_synchronize(False):
            return train_batches(self, *args)
    monkeypatch.setattr(device_loop.DeviceLoop, "train_batches", without_synchronizing)


def test_the_batches_of_an_epoch_never_wait_for_the_gpu(never_waiting):
    for graph in (False, True):  # the steps only queue work
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


# -- frozen layers, missed steps, sample weights and hyperparameters on the GPU -----------------------

FROZEN_OPTIMIZERS = {
    "sgd": lambda m: cr.SGD(m, lr=0.05, momentum=0.9, weight_decay=0.01),
    "adam": lambda m: cr.Adam(m, lr=0.01),
    "adamw": lambda m: cr.AdamW(m, lr=0.01, weight_decay=0.05),
    "rmsprop": lambda m: cr.RMSProp(m, lr=0.01, weight_decay=0.01, schedule=cr.StepDecay(5)),
}


def frozen_run(device, make, graph="auto", frozen=slice(0, 2), **options):
    X, y = classification_data()
    model = cr.mlp([12, 32, 16, 3], seed=3, dtype="float64")
    model[frozen].trainable = False
    optimizer = make(model)
    history = cr.fit(model, X, y, optimizer=optimizer, epochs=3, batch_size=32, verbose=0, device=device,
                     **({} if device == "cpu" else {"graph": graph}), **options)
    return model, history, optimizer


@pytest.mark.parametrize("graph", [False, True])
@pytest.mark.parametrize("make", FROZEN_OPTIMIZERS.values(), ids=FROZEN_OPTIMIZERS)
def test_a_frozen_base_stays_bit_identical_and_the_run_equals_the_cpu_run(make, graph):
    before = cr.mlp([12, 32, 16, 3], seed=3, dtype="float64").params
    model, history, optimizer = frozen_run("cuda", make, graph)
    cpu_model, cpu_history, cpu_optimizer = frozen_run("cpu", make)
    assert_same_run((model, history), (cpu_model, cpu_history))
    for name in ("0.W", "0.b"):
        np.testing.assert_array_equal(to_numpy(model.params[name]), before[name])
    assert (optimizer.t, optimizer.missed) == (cpu_optimizer.t, cpu_optimizer.missed) == (48, {"0.W": 48, "0.b": 48})
    assert model.metadata["training"]["cuda_graph"] is graph


@pytest.mark.parametrize("make", FROZEN_OPTIMIZERS.values(), ids=FROZEN_OPTIMIZERS)
def test_unfreezing_between_epochs_recaptures_the_step_and_follows_the_cpu_run(make):
    # After epoch 1 the first layer trains again: Adam's bias correction restarts for it (t − 16).
    model, history, optimizer = frozen_run("cuda", make, True, callbacks=[UnfreezeAfter(1)])
    cpu_model, cpu_history, cpu_optimizer = frozen_run("cpu", make, callbacks=[UnfreezeAfter(1)])
    assert_same_run((model, history), (cpu_model, cpu_history))
    assert (optimizer.t, optimizer.missed) == (cpu_optimizer.t, cpu_optimizer.missed) == (48, {"0.W": 16, "0.b": 16})
    assert not np.array_equal(to_numpy(model.params["0.W"]), cr.mlp([12, 32, 16, 3], seed=3, dtype="float64").params["0.W"])


def test_an_adam_whose_parameters_missed_steps_trains_on_the_gpu_as_on_the_cpu():
    # Made on the CPU, stepped 5 times with the first layer frozen, then fitted with every layer trainable.
    def run(device):
        X, y = classification_data()
        model = cr.mlp([12, 32, 16, 3], seed=3, dtype="float64")
        optimizer = cr.Adam(model, lr=0.01)
        model[0].trainable = False
        for _ in range(5):
            model.flat_parameters().grad[...] = 0.1
            optimizer.step()
        model[0].trainable = True
        history = cr.fit(model, X, y, optimizer=optimizer, epochs=2, batch_size=32, verbose=0, device=device)
        return model, history, optimizer
    (model, history, optimizer), (cpu_model, cpu_history, cpu_optimizer) = run("cuda"), run("cpu")
    assert_same_run((model, history), (cpu_model, cpu_history))
    assert optimizer.missed == cpu_optimizer.missed == {"0.W": 5, "0.b": 5}


def test_an_optimizer_overriding_update_is_refused_with_frozen_layers_as_on_the_cpu():
    class WholeStep(cr.SGD):
        def update(self, theta, grad, lr):
            return lr, grad
    for device in ("cpu", "cuda"):
        with pytest.raises(cr.HyperparameterError, match="WholeStep overrides update"):
            frozen_run(device, lambda m: WholeStep(m, lr=0.1))


def test_a_subclass_with_its_own_rule_trains_through_its_rule_on_the_gpu():
    class Halved(cr.SGD):
        def rule(self, theta, grad, lr, vectors):
            scale, direction = super().rule(theta, grad, lr, vectors)
            return scale / 2, direction

    def halved(model):
        return Halved(model, lr=0.05, momentum=0.9)
    gpu = train("cuda", halved)  # graph="auto": its own code runs eagerly
    assert gpu[0].metadata["training"]["cuda_graph"] is False
    assert_same_run(gpu, train("cpu", halved))
    assert_same_run(frozen_run("cuda", halved)[:2], frozen_run("cpu", halved)[:2])
    with pytest.raises(cr.DeviceError, match="graph=True: Halved has no fused step"):
        train("cuda", halved, graph=True)


def test_an_adam_subclass_with_its_own_rule_reads_t_at_every_step():
    # Its bias correction changes at every step: a captured graph would keep the first one.
    class Traced(cr.Adam):
        def rule(self, theta, grad, lr, vectors):
            return super().rule(theta, grad, lr, vectors)

    def traced(model):
        return Traced(model, lr=0.01)
    assert_same_run(train("cuda", traced), train("cpu", traced))
    assert_same_run(frozen_run("cuda", traced)[:2], frozen_run("cpu", traced)[:2])


class Retune(cr.Callback):
    """Changes the optimizer's scalars after the first epoch."""

    def __init__(self, optimizer, **values):
        self.optimizer, self.values = optimizer, values

    def on_epoch_end(self, epoch, logs, model):
        if epoch == 1:
            for name, value in self.values.items():
                setattr(self.optimizer, name, value)
        return False


@pytest.mark.parametrize("make, values", [
    (lambda m: cr.SGD(m, lr=0.05, momentum=0.9), {"momentum": 0.5, "nesterov": True, "lr": 0.02}),
    (lambda m: cr.Adam(m, lr=0.01), {"beta1": 0.5, "beta2": 0.9, "eps": 1e-4}),
    (lambda m: cr.RMSProp(m, lr=0.01), {"rho": 0.5, "eps": 1e-4, "lr": 0.003, "weight_decay": 0.1}),
], ids=["sgd", "adam", "rmsprop"])
def test_hyperparameters_changed_between_epochs_reach_the_captured_step(make, values):
    def run(device):
        X, y = classification_data()
        model = cr.mlp([12, 32, 16, 3], seed=3, dtype="float64")
        optimizer = make(model)
        history = cr.fit(model, X, y, optimizer=optimizer, epochs=3, batch_size=32, verbose=0, device=device,
                         callbacks=[Retune(optimizer, **values)], **({"graph": True} if device == "cuda" else {}))
        return model, history
    gpu = run("cuda")
    assert gpu[0].metadata["training"]["cuda_graph"] is True
    assert_same_run(gpu, run("cpu"))


def test_rmsprop_with_a_schedule_is_captured_and_equals_the_cpu_run():
    def rmsprop(model):
        return cr.RMSProp(model, lr=0.01, schedule=cr.CosineDecay(40))
    gpu = train("cuda", rmsprop, graph=True)
    assert gpu[0].metadata["training"]["cuda_graph"] is True
    assert_same_run(gpu, train("cpu", rmsprop))


def weights_of(n, seed=4):
    return np.random.default_rng(seed).integers(0, 4, size=n).astype(float)


@pytest.mark.parametrize("graph", [False, True])
def test_sample_weights_and_a_weighted_validation_set_give_the_cpu_run(graph):
    X_val, y_val = classification_data(n=120, seed=9)
    options = dict(sample_weight=weights_of(500), validation=(X_val, y_val, weights_of(120, seed=5)))
    gpu = train("cuda", graph=graph, **options)
    cpu = train("cpu", **options)
    assert_same_run(gpu, cpu)
    unweighted = train("cpu", validation=(X_val, y_val))
    assert cpu[1].metrics["val_loss"] != pytest.approx(unweighted[1].metrics["val_loss"], rel=1e-3)


@pytest.mark.parametrize("kind", ["softmax", "sigmoid"])
def test_a_clipped_loss_of_weighted_target_rows_is_captured_and_gives_the_cpu_run(kind):
    """clips_probabilities with weights and target rows (N, K): L is a weighted sum of the rows of the (N, K)
    terms, which must not call cuBLAS (w @ M), as a CUDA graph's capture refuses it (graph=True raises)."""
    X, labels = classification_data()
    Y = np.eye(3)[labels] if kind == "softmax" else (X[:, :3] > 0).astype(float)

    def clipped():
        loss = cr.SoftmaxCrossEntropy() if kind == "softmax" else cr.BinaryCrossEntropy()
        loss.clips_probabilities = True
        return loss
    options = dict(data=lambda: (X, Y), sample_weight=weights_of(500))
    assert_same_run(train("cuda", graph=True, loss=clipped(), **options), train("cpu", loss=clipped(), **options))


def test_class_weights_and_regression_weights_give_the_cpu_run():
    options = dict(class_weight="balanced", validation=0.2)
    assert_same_run(train("cuda", graph=True, **options), train("cpu", **options))

    def adam(model):
        return cr.Adam(model, lr=0.01)
    options = dict(data=regression_data, sizes=(6, 16, 2), standardize=True, sample_weight=weights_of(300))
    assert_same_run(train("cuda", adam, graph=True, **options), train("cpu", adam, **options))  # captured


def test_weighted_steps_never_wait_for_the_gpu(never_waiting):
    for graph in (False, True):
        assert_same_run(train("cuda", graph=graph, sample_weight=weights_of(500)),
                        train("cpu", sample_weight=weights_of(500)))


def test_a_batch_of_weight_zero_gives_loss_and_gradient_zero_on_the_gpu(cupy):
    Y = cupy.asarray(np.random.default_rng(0).normal(size=(4, 3)))
    for loss, T in ((cr.SoftmaxCrossEntropy(), cupy.asarray([0, 1, 2, 1])), (cr.MSE(), Y * 0 + 1)):
        value, dY = loss.compute(Y, T, cupy.zeros(4))
        assert float(value) == 0 and not cupy.asnumpy(dY).any()


def test_a_row_of_weight_zero_whose_loss_overflows_counts_for_nothing_on_the_gpu(cupy):
    # The row of weight 0 has a loss of inf in float32 ((1e20)², or y − m = −6e38 for its label): on the
    # CPU it is left out of the weighted sum; on the GPU it made the loss NaN (inf · 0), which the
    # divergence guard stopped training on.
    rng = np.random.default_rng(0)
    weights = np.array([1.0, 2.0, 0.0, 1.0])
    for loss, T, bad_row in ((cr.MSE(), np.zeros((4, 3), np.float32), [1e20, 0, 0]),
                             (cr.SoftmaxCrossEntropy(), np.array([0, 1, 1, 1]), [3e38, -3e38, 0])):
        Y = rng.normal(size=(4, 3)).astype(np.float32)
        Y[2] = bad_row
        with np.errstate(over="ignore"):
            cpu_value, cpu_dY = loss.compute(Y.copy(), T, weights)
        value, dY = loss.compute(cupy.asarray(Y), cupy.asarray(T), cupy.asarray(weights))
        assert np.isfinite(cpu_value) and float(value) == pytest.approx(float(cpu_value), rel=1e-6)
        np.testing.assert_allclose(cupy.asnumpy(dY), cpu_dY, rtol=1e-5, atol=1e-7)


def test_evaluate_weighs_the_rows_of_a_model_on_the_gpu():
    model, _ = train("cuda")
    X, y = classification_data(seed=7)
    weights = weights_of(len(y))
    on_gpu = cr.evaluate(model, X, y, sample_weight=weights)
    on_cpu = cr.evaluate(model.to("cpu"), X, y, sample_weight=weights)
    assert on_gpu == pytest.approx(on_cpu, rel=1e-10)


def test_divergence_at_a_non_finite_loss_leaves_the_step_count_of_the_cpu_run():
    # A row of 3e38 overflows the forward pass in float32: the loss of its batch is not finite,
    # and both devices stop before that step, with t counting the steps taken before it.
    def run(device):
        X, y = classification_data()
        X = X.astype(np.float32)
        X[137] = 3e38
        model = cr.mlp([12, 32, 16, 3], seed=3, dtype="float32")
        optimizer = cr.Adam(model, lr=0.01)
        with pytest.raises(cr.DivergenceError) as caught:
            cr.fit(model, X, y, optimizer=optimizer, epochs=2, batch_size=32, verbose=0, device=device)
        return str(caught.value), optimizer.t, model
    message, t, model = run("cuda")
    cpu_message, cpu_t, cpu_model = run("cpu")
    assert "the loss is not finite" in message and message == cpu_message
    assert t == cpu_t > 0
    for name, value in cpu_model.params.items():
        np.testing.assert_allclose(to_numpy(model.params[name]), value, rtol=1e-4, atol=1e-6)


def test_a_backward_that_rebinds_its_gradient_is_refused_on_the_gpu():
    X = np.random.default_rng(0).normal(size=(32, 4))
    model = cr.Sequential(cr.Linear(4, 4, dtype="float64"), Rebinding(4, dtype="float64"),
                          cr.Linear(4, 3, dtype="float64"), seed=0)
    with pytest.raises(cr.StateError, match=r"layer '1' \(Rebinding\): own_grads\['a'\] was replaced by a new array"):
        cr.fit(model, X, np.arange(32) % 3, optimizer="sgd", lr=0.1, epochs=2, batch_size=16, verbose=0,
               device="cuda", graph=False)


def test_the_command_line_trains_with_class_weights_on_the_gpu(tmp_path, capsys):
    from chainrule.cli.config import tomllib
    from chainrule.cli.main import main
    options = ["train", "--data", "breast_cancer", "--hidden", "8", "--epochs", "2", "--patience", "0",
               "--class-weight", "balanced", "--quiet", "--no-plots"]
    assert main([*options, "--device", "cuda", "--out", str(tmp_path / "gpu")]) == 0, capsys.readouterr().err
    assert main([*options, "--device", "cpu", "--out", str(tmp_path / "cpu")]) == 0, capsys.readouterr().err
    saved = tomllib.loads((tmp_path / "gpu" / "config.toml").read_text())
    assert (saved["device"], saved["class_weight"]) == ("cuda", "balanced")
    gpu, cpu = (cr.load(tmp_path / run / "model.safetensors") for run in ("gpu", "cpu"))
    for name, value in cpu.params.items():
        np.testing.assert_allclose(gpu.params[name], value, rtol=1e-4, atol=1e-5)


def test_weights_held_in_chunks_with_their_rows_give_the_same_run(monkeypatch):
    resident = train("cuda", graph=True, sample_weight=weights_of(500))
    row_bytes = 12 * 8 + 8 + 8  # X, the label, the weight
    monkeypatch.setattr(device_loop, "data_budget_bytes", lambda: 100 * row_bytes)  # 3 batches a chunk
    chunked = train("cuda", graph=True, sample_weight=weights_of(500))
    for name, value in resident[0].params.items():
        np.testing.assert_allclose(to_numpy(chunked[0].params[name]), to_numpy(value), rtol=1e-12, atol=1e-14)
    for name, values in resident[1].metrics.items():
        np.testing.assert_allclose(chunked[1].metrics[name], values, rtol=1e-12)


class OneElementLoss(cr.SoftmaxCrossEntropy):
    """SoftmaxCrossEntropy whose compute returns L as a device array of shape (1,)."""

    def compute(self, Y, T, weights=None):
        value, dY = super().compute(Y, T, weights)
        return value.reshape(1), dY


class ComplexLoss(cr.SoftmaxCrossEntropy):
    """SoftmaxCrossEntropy whose compute returns L as a 0-d complex device array."""

    def compute(self, Y, T, weights=None):
        value, dY = super().compute(Y, T, weights)
        return value.astype(complex), dY


@pytest.mark.parametrize("loss, data, error, given", [
    (RowValues(), regression_data, cr.ShapeError, r"L of shape \(32,\)"),
    (OneElementLoss(), classification_data, cr.ShapeError, r"L of shape \(1,\)"),
    (ComplexLoss(), classification_data, cr.DTypeError, "L as ndarray of dtype complex128"),
])
@pytest.mark.parametrize("graph", [False, True])
def test_a_loss_value_that_is_not_a_scalar_is_refused_on_the_gpu_as_on_the_cpu(loss, data, error, given, graph):
    X, y = data()
    model = cr.mlp([X.shape[1], 8, 3 if data is classification_data else 2], seed=0)
    with pytest.raises(error, match=rf"^loss: {type(loss).__name__}\.compute returned {given}; expected a scalar"):
        cr.fit(model, X, y, loss=loss, epochs=1, batch_size=32, verbose=0, device="cuda", graph=graph)


def test_a_vanishing_float32_gradient_is_recorded_as_on_the_cpu():
    # Inputs of 1e-30 make the first layer's ∂L/∂W about 1e-30, whose float32 squares vanish: the GPU's
    # record summed them in float32 and read 0 (kernels.norm sums in float64, as backend.norm).
    X, y = classification_data()

    def tiny():
        return (X * 1e-30).astype(np.float32), y
    gpu = train("cuda", data=tiny, dtype="float32", standardize=False)[1]
    cpu = train("cpu", data=tiny, dtype="float32", standardize=False)[1]
    assert 0 < cpu.initial_grad_norms["0"] < 1e-20
    assert gpu.initial_grad_norms == pytest.approx(cpu.initial_grad_norms, rel=1e-3)
    for name, values in cpu.grad_norms.items():
        np.testing.assert_allclose(gpu.grad_norms[name], values, rtol=1e-3)
