"""A model on the GPU is the CPU's model computed elsewhere: the same outputs and gradients
(float64, to rounding), the same model file byte for byte, the same predictions and scores,
and checkpoints that move between the devices and resume on the GPU."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

import chainrule as cr
from chainrule.backend import device_of, to_numpy
from chainrule.io import load, save
from chainrule.training.checkpoint import load_checkpoint
from chainrule.training.loop import EVAL_CHUNK

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
SPECIES = np.array(["setosa", "versicolor", "virginica"])
X_DIABETES, Y_DIABETES = load_diabetes(return_X_y=True)
# float64 on both devices: the GPU's sums and products differ from NumPy's only in rounding.
CLOSE = {"rtol": 1e-10, "atol": 1e-13}


def every_layer(seed=0):
    """A float64 model, on the CPU, holding every layer type and nested composites."""
    d = "float64"
    return cr.Sequential(
        cr.Linear(5, 8, dtype=d), cr.ReLU(), cr.Linear(8, 8, dtype=d), cr.Tanh(),
        cr.Residual(cr.Sequential(cr.Linear(8, 8, dtype=d), cr.GELU())),
        cr.Linear(8, 8, dtype=d), cr.LeakyReLU(0.1), cr.Linear(8, 8, dtype=d), cr.Sigmoid(),
        cr.Linear(8, 4, dtype=d), cr.Identity(), cr.Softmax(), seed=seed,
    )


def on_device(model) -> set:
    """The devices of all of a model's parameters and gradients."""
    return {device_of(array) for array in [*model.params.values(), *model.grads.values()]}


def test_to_cuda_moves_every_parameter_and_gradient_and_to_cpu_brings_them_back():
    model, original = every_layer(), every_layer()
    assert model.to("cuda") is model
    assert model.device == "cuda" and on_device(model) == {"cuda"}
    assert model.to("cuda") is model and model.device == "cuda"  # already there: nothing to do
    assert device_of(model.flat_parameters().theta) == "cuda"  # the buffer is rebuilt on the GPU
    assert model.to("cpu").device == "cpu" and on_device(model) == {"cpu"}
    assert device_of(model.flat_parameters().theta) == "cpu"
    for name, array in original.params.items():
        assert np.array_equal(model.params[name], array)  # a round trip copies, exactly


def test_forward_backward_and_a_step_on_the_gpu_equal_the_cpu(cupy):
    rng = np.random.default_rng(0)
    X, dY = rng.normal(size=(64, 5)), rng.normal(size=(64, 4))
    cpu, gpu = every_layer(), every_layer().to("cuda")
    expected = cpu(X)
    Y = gpu(X)  # NumPy input: moved to the GPU by the checked entry point
    assert device_of(Y) == "cuda"
    np.testing.assert_allclose(to_numpy(Y), expected, **CLOSE)
    np.testing.assert_allclose(to_numpy(gpu(cupy.asarray(X))), expected, **CLOSE)  # CuPy input, as is

    dX = gpu.backward(cupy.asarray(dY))
    np.testing.assert_allclose(to_numpy(dX), cpu.backward(dY), **CLOSE)
    for name, grad in cpu.grads.items():
        np.testing.assert_allclose(to_numpy(gpu.grads[name]), grad, **CLOSE, err_msg=name)

    cr.SGD(cpu, lr=0.1, momentum=0.9).step()
    cr.SGD(gpu, lr=0.1, momentum=0.9).step()
    for name, array in cpu.params.items():
        np.testing.assert_allclose(to_numpy(gpu.params[name]), array, **CLOSE, err_msg=name)


def test_a_gpu_model_is_saved_as_its_cpu_copy_and_loads_on_either_device(tmp_path):
    gpu = every_layer().to("cuda")
    gpu.metadata = {"trained_on": "cuda"}
    save(gpu, tmp_path / "gpu.safetensors")
    cpu_copy = every_layer()  # the same weights: to("cuda") copies them exactly
    cpu_copy.metadata = {"trained_on": "cuda"}
    save(cpu_copy, tmp_path / "cpu.safetensors")
    assert (tmp_path / "gpu.safetensors").read_bytes() == (tmp_path / "cpu.safetensors").read_bytes()

    on_cpu = load(tmp_path / "gpu.safetensors")
    assert on_cpu.device == "cpu" and on_device(on_cpu) == {"cpu"}
    for name, array in gpu.params.items():
        assert np.array_equal(on_cpu.params[name], to_numpy(array)), name

    back = load(tmp_path / "gpu.safetensors", device="cuda")
    assert back.device == "cuda" and on_device(back) == {"cuda"}
    for name, array in gpu.params.items():
        assert np.array_equal(to_numpy(back.params[name]), to_numpy(array)), name
    X = np.random.default_rng(0).normal(size=(16, 5))
    assert np.array_equal(to_numpy(back(X)), to_numpy(gpu(X)))


def fitted(task):
    """(float64 model fitted on the CPU, raw X, raw y) for "classification" or "regression"."""
    if task == "classification":
        X, y, sizes = X_IRIS, SPECIES[Y_IRIS], [4, 16, 3]
    else:
        X, y, sizes = X_DIABETES, Y_DIABETES, [10, 16, 1]
    model = cr.mlp(sizes, "tanh", seed=0, dtype="float64")
    cr.fit(model, X, y, epochs=5, lr=0.01, standardize=True, verbose=0)
    repeats = EVAL_CHUNK // len(X) + 1  # more rows than one chunk of the forward passes
    return model, np.tile(X, (repeats, 1)), np.tile(y, repeats)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_predict_and_evaluate_of_a_gpu_model_equal_the_cpu_model(tmp_path, task):
    cpu, X, y = fitted(task)
    save(cpu, tmp_path / "m.safetensors")
    gpu = load(tmp_path / "m.safetensors", device="cuda")  # with the fitted preprocessing
    assert gpu.device == "cuda"

    predicted, expected = cr.predict(gpu, X), cr.predict(cpu, X)
    assert type(predicted) is np.ndarray and predicted.shape == expected.shape
    if task == "classification":
        assert np.array_equal(predicted, expected)
        proba = cr.predict_proba(gpu, X)
        assert type(proba) is np.ndarray
        np.testing.assert_allclose(proba, cr.predict_proba(cpu, X), **CLOSE)
    else:
        np.testing.assert_allclose(predicted, expected, **CLOSE)

    scores, expected_scores = cr.evaluate(gpu, X, y), cr.evaluate(cpu, X, y)
    assert scores.keys() == expected_scores.keys()
    for name, value in expected_scores.items():
        assert isinstance(scores[name], float)
        assert scores[name] == pytest.approx(value, rel=1e-10, abs=1e-13), name


def test_a_cpu_checkpoint_loads_into_a_gpu_model_optimizer_and_callbacks(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    model = cr.mlp([4, 8, 3], seed=0)
    optimizer, stopper = cr.Adam(model, lr=0.01), cr.EarlyStopping(patience=10)
    cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer, epochs=3, validation=0.2, standardize=True,
           callbacks=[stopper], checkpoint=path, verbose=0)

    gpu = cr.mlp([4, 8, 3], seed=1).to("cuda")
    gpu_optimizer, gpu_stopper = cr.Adam(gpu, lr=0.01), cr.EarlyStopping(patience=10)
    _, epoch, _ = load_checkpoint(path, gpu, gpu_optimizer, np.random.default_rng(0), [gpu_stopper])
    assert epoch == 3
    assert gpu.device == "cuda" and on_device(gpu) == {"cuda"}
    for name, array in model.params.items():
        assert np.array_equal(to_numpy(gpu.params[name]), array), name
    assert gpu_optimizer.t == optimizer.t > 0
    for name, array in optimizer.state.items():
        assert device_of(gpu_optimizer.state[name]) == "cuda"
        assert np.array_equal(to_numpy(gpu_optimizer.state[name]), array), name
    best_theta = gpu_stopper.state_dict()[1]["best_theta"]
    assert device_of(best_theta) == "cuda"
    assert np.array_equal(to_numpy(best_theta), stopper.state_dict()[1]["best_theta"])
    assert gpu_optimizer.step()  # the restored state updates the model on the GPU


def gpu_run(epochs, **kwargs):
    """A run on iris on the GPU (model and optimizer made there), with validation and early stopping."""
    model = cr.mlp([4, 8, 3], seed=0).to("cuda")
    optimizer = cr.Adam(model, lr=0.02, weight_decay=1e-3)
    stopper = cr.EarlyStopping(patience=2, min_delta=1e-3)
    history = cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer, epochs=epochs, batch_size=16, validation=0.2,
                     standardize=True, callbacks=[stopper], verbose=0, device="cuda", **kwargs)
    return model, history, optimizer


def test_a_checkpoint_written_by_a_gpu_run_resumes_as_if_uninterrupted(tmp_path):
    model, history, optimizer = gpu_run(epochs=8)
    path = tmp_path / "checkpoint.safetensors"
    gpu_run(epochs=2, checkpoint=path)
    assert load(path).device == "cpu"  # a GPU checkpoint is a model file like any other
    resumed, resumed_history, resumed_optimizer = gpu_run(epochs=8, resume=path)
    # The same kernels on the same data in the same order: bit-identical, as on the CPU.
    for name, array in model.params.items():
        assert np.array_equal(to_numpy(resumed.params[name]), to_numpy(array)), name
    assert resumed_history.to_json() == history.to_json()
    assert resumed_optimizer.t == optimizer.t
    for name, array in optimizer.state.items():
        assert np.array_equal(to_numpy(resumed_optimizer.state[name]), to_numpy(array)), name


@pytest.mark.parametrize("make", [lambda model: cr.Adam(model, lr=0.01, weight_decay=0.01),
                                  lambda model: cr.SGD(model, lr=0.05, momentum=0.9)], ids=["adam_decay", "sgd"])
def test_an_unpickled_model_and_optimizer_moved_to_the_gpu_step_as_the_original_does(make):
    """The copy holds no decay or work vectors (made again by __setstate__ and the next step's plan):
    ``to("cuda")`` before any step moves what there is, and the fused steps then match the original's."""
    import pickle

    X = np.linspace(-1, 1, 24).reshape(6, 4)
    y = np.array([0, 1, 2, 0, 1, 2])
    model = cr.mlp([4, 5, 3], seed=0, dtype="float64")
    optimizer = make(model)
    cr.fit(model, X, y, optimizer=optimizer, epochs=1, verbose=0)
    model_copy, optimizer_copy = pickle.loads(pickle.dumps((model, optimizer)))
    model_copy.to("cuda")
    optimizer_copy.to("cuda")
    cr.fit(model, X, y, optimizer=optimizer, epochs=2, verbose=0, seed=1, device="cuda")
    cr.fit(model_copy, X, y, optimizer=optimizer_copy, epochs=2, verbose=0, seed=1, device="cuda")
    np.testing.assert_array_equal(to_numpy(model_copy.flat_parameters().theta), to_numpy(model.flat_parameters().theta))
