"""What an optimizer holds beyond the model's θ and ∂L/∂θ, and that its steps allocate nothing."""

import gc
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from tests.harness import traced_peak

SIZES = [300, 128, 64, 10]  # 47,434 parameters: large enough that the vectors dwarf the bookkeeping

# (make, how many vectors of θ's size it may hold): its state, one work vector, and with λ > 0
# a second work vector and λ on the weights. Before they were made only when needed, every
# optimizer held three more (the decay vector, two work vectors) and the model a decay mask.
HELD = [
    (lambda model: cr.SGD(model, lr=0.1), 1),
    (lambda model: cr.SGD(model, lr=0.1, momentum=0.9), 2),
    (lambda model: cr.SGD(model, lr=0.1, momentum=0.9, nesterov=True), 2),
    (lambda model: cr.RMSProp(model), 2),
    (lambda model: cr.Adam(model), 3),
    (lambda model: cr.Adam(model, weight_decay=1e-3), 5),
    (lambda model: cr.AdamW(model, weight_decay=0.01), 5),
]


def held_bytes(make):
    """Bytes still allocated after ``make()``, and its result (kept alive while measuring)."""
    gc.collect()
    tracemalloc.start()
    try:
        made = make()
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return held, made


def test_the_flat_buffer_holds_theta_and_grad_only():
    model = cr.mlp(SIZES, seed=0)
    held, flat = held_bytes(model.flat_parameters)
    # The layers' own arrays are freed once copied into θ; no decay mask is held.
    assert held < 2.1 * flat.theta.nbytes, held / flat.theta.nbytes


@pytest.mark.parametrize("make, n_vectors", HELD)
def test_an_optimizer_holds_its_state_and_one_work_vector_plus_two_with_weight_decay(make, n_vectors):
    model = cr.mlp(SIZES, seed=0)
    theta_bytes = model.flat_parameters().theta.nbytes
    held, optimizer = held_bytes(lambda: make(model))
    assert (n_vectors - 0.1) * theta_bytes < held < (n_vectors + 0.1) * theta_bytes, held / theta_bytes
    assert (optimizer._decay is None) == (optimizer._work2 is None) == (optimizer.weight_decay == 0)


def test_without_weight_decay_no_decay_vector_is_made_on_the_cpu_even_after_to():
    model = cr.mlp([5, 4, 2], seed=0)
    optimizer = cr.Adam(model).to("cpu")
    assert optimizer._decay is None and optimizer._work2 is None


def test_the_decay_vector_is_lambda_on_the_weights_and_zero_on_the_biases():
    model = cr.mlp([5, 4, 2], seed=0)
    flat = model.flat_parameters()
    decay = cr.SGD(model, lr=0.1, weight_decay=0.3).to("cpu")._decay
    assert decay.dtype == flat.theta.dtype and decay.shape == flat.theta.shape
    np.testing.assert_array_equal(decay, flat.decay_mask() * 0.3)
    assert np.all(decay[flat.slices["0.W"]] == np.float32(0.3)) and np.all(decay[flat.slices["0.b"]] == 0)


VARIANTS = [make for make, _ in HELD] + [lambda model: cr.SGD(model, lr=0.1, weight_decay=0.01),
                                         lambda model: cr.RMSProp(model, weight_decay=0.01)]


@pytest.mark.parametrize("make", VARIANTS)
def test_steps_allocate_no_parameter_sized_vector_with_or_without_numpys_blas(make, blas_or_not):
    # Without the BLAS, θ ← θ − a·x needs a·x in a work vector: the step must reuse its own.
    # (check_finite's Σ|x| without the BLAS takes one block of backend.ABS_SUM_BLOCK values,
    # more than this θ holds; tests/test_backend.py checks it on a larger vector.)
    model = cr.mlp(SIZES, seed=0)
    optimizer = make(model)
    flat = model.flat_parameters()
    flat.grad[...] = np.random.default_rng(0).standard_normal(flat.grad.size)
    optimizer.step()  # a first step, in case anything is made lazily
    applied, peak = traced_peak(lambda: [optimizer.step(flat=flat) for _ in range(3)])
    assert all(applied)
    assert peak < flat.theta.nbytes / 4, peak / flat.theta.nbytes
