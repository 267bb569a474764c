"""cr.fit lets go of what the layers kept of the last training batch for backward when it returns."""

import pickle

import numpy as np
import pytest

import chainrule as cr


def held_bytes(model: cr.Layer) -> int:
    """Bytes of the arrays the layers hold in their attributes, other than parameters and gradients."""
    owned = {id(array) for _, layer in model.walk()
             for array in [*layer.own_params.values(), *layer.own_grads.values()]}
    held = {id(value): value.nbytes for _, layer in model.walk() for value in vars(layer).values()
            if isinstance(value, np.ndarray) and id(value) not in owned}
    return sum(held.values())


def full_batch_data(n_samples: int = 2000):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n_samples, 64)).astype(np.float32), rng.integers(0, 10, size=n_samples)


def every_kind_of_layer() -> cr.Sequential:
    return cr.Sequential(cr.Linear(64, 32), cr.ReLU(), cr.Linear(32, 32), cr.Tanh(), cr.Linear(32, 32), cr.GELU(),
                         cr.Residual(cr.Sequential(cr.Linear(32, 32), cr.LeakyReLU(), cr.Identity())),
                         cr.Linear(32, 10), cr.Sigmoid(), cr.Linear(10, 10), seed=0)


def test_a_full_batch_fit_leaves_no_batch_sized_array_held_by_the_layers():
    # Before, each layer kept its last input or output: X and every activation of the whole batch (2.6 MB here).
    X, y = full_batch_data()
    model = every_kind_of_layer()
    cr.fit(model, X, y, epochs=2, batch_size=len(X), verbose=0)
    one_row_per_sample = len(X) * 4  # a single float32 column of the batch
    assert held_bytes(model) < one_row_per_sample
    weights = sum(array.nbytes for array in model.params.values())
    assert len(pickle.dumps(model)) < 3 * weights + 100_000  # parameters and gradients, not the batch


class Fails(cr.Callback):
    def on_epoch_end(self, epoch, logs, model):
        raise ValueError("a callback's own error")


def test_a_fit_ended_by_an_error_or_a_divergence_lets_go_too():
    X, y = full_batch_data()
    model = every_kind_of_layer()
    with pytest.raises(ValueError, match="a callback's own error"):
        cr.fit(model, X, y, epochs=2, batch_size=len(X), callbacks=[Fails()], verbose=0)
    assert held_bytes(model) < len(X) * 4
    with pytest.raises(cr.DivergenceError) as caught:
        cr.fit(model, X, y, optimizer=cr.SGD(model, lr=1e30), epochs=3, batch_size=len(X), verbose=0)
    assert caught.value.history is not None
    assert held_bytes(model) < len(X) * 4


def test_backward_after_fit_asks_for_a_forward_first():
    X, y = full_batch_data(200)
    model = every_kind_of_layer()
    cr.fit(model, X, y, epochs=1, batch_size=len(X), verbose=0)
    dY = np.ones((len(X), 10), dtype=np.float32)
    with pytest.raises(cr.StateError, match=r"layer '9' \(Linear\): backward needs what a forward kept, and none "
                                            r"is held \(.*cr.fit released .*\); call forward first"):
        model.backward(dY)
    model.forward(X)
    assert model.backward(dY).shape == X.shape


def test_a_linear_layer_whose_x_was_let_go_keeps_its_initializer_in_a_new_model():
    # It has run forward, so a following activation does not redraw its weights (as when it held X).
    layer = cr.Linear(64, 10, seed=0)
    layer(full_batch_data(20)[0])
    layer.release_saved()
    W = layer.params["W"].copy()
    cr.Sequential(layer, cr.ReLU())
    np.testing.assert_array_equal(layer.params["W"], W)
    assert layer.resolved_init == "glorot_uniform"


class SavesItsOwn(cr.Layer):
    """A layer of one's own that names what its forward keeps."""

    saved_for_backward = ("_S",)

    def __init__(self) -> None:
        super().__init__()
        self._S = None

    def forward(self, X):
        self._S = X * 2
        return self._S

    def backward(self, dY, input_grad=True):
        self.check_dY(dY, self._S)
        return 2 * dY if input_grad else None


def test_a_layer_of_ones_own_names_what_it_keeps_in_saved_for_backward():
    layer = SavesItsOwn()
    model = cr.Sequential(cr.Linear(3, 3, seed=0), layer)
    model.forward(np.ones((4, 3), dtype=np.float32))
    assert layer._S is not None
    model.release_saved()
    assert layer._S is None and model[0]._X is None
    assert model.params["0.W"].shape == (3, 3)
