"""chainrule.buffers: the arrays a training loop's layers, loss and metrics keep from step to step."""

import numpy as np

import chainrule as cr
from chainrule.buffers import held, loss_buffers, reuses_buffers


def test_held_gives_the_same_memory_its_first_rows_or_new_memory_when_it_does_not_fit():
    store, like = {}, np.zeros((1, 3), np.float32)
    first = held(store, "Z", (8, 3), like, np.dtype(np.float32))
    assert held(store, "Z", (8, 3), like, np.dtype(np.float32)) is store["Z"]  # the next step: the array kept
    assert np.shares_memory(store["Z"], first)
    last_batch = held(store, "Z", (5, 3), like, np.dtype(np.float32))
    assert last_batch.shape == (5, 3) and np.shares_memory(last_batch, first)
    larger = held(store, "Z", (16, 3), like, np.dtype(np.float32))  # a larger batch (a validation chunk): grown
    assert larger.shape == (16, 3) and not np.shares_memory(larger, first) and np.shares_memory(store["Z"], larger)
    assert held(store, "Z", (16, 3), like, np.dtype(np.float64)).dtype == np.float64  # another dtype: new memory
    assert held(store, "Z", (16, 4), like, np.dtype(np.float64)).shape == (16, 4)  # another width: new memory


def test_a_loop_inside_a_loop_has_a_store_of_its_own_and_gives_the_outer_one_back():
    """A fit run by a callback of a fit, on the same loss: its steps must not write into the
    outer fit's arrays, which are current again when it ends."""
    loss = cr.MSE()
    Y, T = np.ones((4, 2), np.float32), np.zeros((4, 2), np.float32)
    assert not reuses_buffers(loss)
    with loss_buffers(loss):
        outer = loss.compute(Y, T)[1]
        with loss_buffers(loss):
            inner = loss.compute(Y, T)[1]
            assert not np.shares_memory(inner, outer)
        assert np.shares_memory(loss.compute(Y, T)[1], outer) and reuses_buffers(loss)
    assert not reuses_buffers(loss)


def test_the_gpu_loop_lets_no_loss_write_into_a_store_even_inside_a_cpu_fit():
    """A fit on the GPU run by a callback of a CPU fit on the same loss object: the CPU fit's store stayed
    current, so the GPU steps computed the loss into it (cupy arrays replacing its own), where the GPU loop
    keeps the loss computing into new arrays. Its context makes no store current (read without a device)."""
    from chainrule.training.device_loop import DeviceLoop

    loss, model = cr.MSE(), cr.mlp([2, 3, 1], seed=0)
    loop = DeviceLoop.__new__(DeviceLoop)  # no device here to make one: only what reusing_buffers reads
    loop.model, loop.loss = model, loss
    with loss_buffers(loss):
        with loop.reusing_buffers():
            assert model.layers[0].reuse_buffers and not reuses_buffers(loss)
        assert reuses_buffers(loss) and not model.layers[0].reuse_buffers
