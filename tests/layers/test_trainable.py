"""Layer.trainable: freezing layers for fine-tuning, and what backward skips for them."""

import numpy as np
import pytest

import chainrule as cr
from tests.harness import TOLERANCE, assert_gradients, normal, randomize_biases, regression_targets


class CountingLinear(cr.Linear):
    """A Linear that records the input_grad of every backward call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []

    def backward(self, dY, input_grad=True):
        self.calls.append(input_grad)
        return super().backward(dY, input_grad)


def counting_model():
    return cr.Sequential(CountingLinear(4, 6), cr.ReLU(), CountingLinear(6, 5), cr.Tanh(), CountingLinear(5, 3),
                         seed=0)


def forward_backward(model, input_grad=False):
    X = normal(1, 8, 4).astype(np.float32)
    Y = model.forward(X)
    return model.backward(np.ones_like(Y) / len(Y), input_grad=input_grad)


def test_layers_start_trainable():
    model = counting_model()
    assert model.trainable and all(layer.trainable for layer in model.layers)
    assert model.n_trainable_parameters == model.n_parameters and model.frozen_parameters == []
    assert model.flat_parameters().trainable_runs() is None


@pytest.mark.parametrize("bad", [0, 1, "no", None, 0.0])
def test_trainable_takes_only_bools(bad):
    layer = cr.Linear(2, 2)
    with pytest.raises(cr.HyperparameterError, match="trainable: expected True or False"):
        layer.trainable = bad
    assert layer.trainable


def test_a_numpy_bool_is_a_bool():
    layer = cr.Linear(2, 2)
    layer.trainable = np.False_
    assert layer.trainable is False


def test_setting_it_on_a_composite_sets_every_layer_inside():
    block = cr.Sequential(cr.Linear(3, 3), cr.Tanh())
    model = cr.Sequential(cr.Linear(2, 3), cr.Residual(block), cr.Linear(3, 1), seed=0)
    model.trainable = False
    assert not model.trainable and all(not layer.trainable for _, layer in model.walk())
    model[1].trainable = True  # the residual block again, nothing else
    assert model.trainable and block[0].trainable and not model[0].trainable and not model[2].trainable
    assert model.frozen_parameters == ["0.W", "0.b", "2.W", "2.b"]
    assert model.n_trainable_parameters == 12


def test_a_composite_is_trainable_when_any_parameter_inside_is():
    model = cr.Sequential(cr.Linear(2, 3), cr.ReLU(), cr.Linear(3, 1), seed=0)
    model[0].trainable = False
    assert model.trainable
    model[2].trainable = False
    assert not model.trainable
    assert cr.Sequential(cr.ReLU()).trainable  # nothing inside to train: what it was set to


def test_freezing_zeroes_the_layers_gradients_and_backward_leaves_them_zero():
    model = counting_model()
    forward_backward(model)
    assert np.abs(model.grads["0.W"]).sum() > 0
    model[0].trainable = False
    assert not model.grads["0.W"].any() and not model.grads["0.b"].any()
    forward_backward(model, input_grad=True)
    assert not model.grads["0.W"].any() and not model.grads["0.b"].any()
    assert np.abs(model.grads["2.W"]).sum() > 0


def test_a_frozen_linear_still_returns_dx():
    layer = cr.Linear(4, 3, seed=0)
    X = normal(0, 5, 4).astype(np.float32)
    dY = normal(1, 5, 3).astype(np.float32)
    layer.forward(X)
    dX = layer.backward(dY)
    layer.trainable = False
    layer.forward(X)
    np.testing.assert_array_equal(layer.backward(dY), dX)
    assert not layer.grads["W"].any()


def test_backward_does_not_call_the_frozen_layers_below_the_lowest_trainable_one():
    model = counting_model()
    model[:3].trainable = False
    forward_backward(model)
    assert model[0].calls == [] and model[2].calls == [] and model[4].calls == [False]


def test_a_frozen_layer_between_trainable_ones_passes_the_gradient_on():
    model, reference = counting_model(), counting_model()
    model[2].trainable = False
    forward_backward(model)
    forward_backward(reference)
    assert model[0].calls == [False] and model[2].calls == [True]
    np.testing.assert_array_equal(model.grads["0.W"], reference.grads["0.W"])
    np.testing.assert_array_equal(model.grads["4.W"], reference.grads["4.W"])
    assert not model.grads["2.W"].any()


def test_with_input_grad_every_layer_is_called():
    model = counting_model()
    model[:3].trainable = False
    assert forward_backward(model, input_grad=True).shape == (8, 4)
    assert model[0].calls == [True] and model[2].calls == [True]


def test_unfreezing_backpropagates_into_the_layers_again():
    model = counting_model()
    model[:3].trainable = False
    forward_backward(model)
    model.trainable = True
    forward_backward(model)
    assert model[0].calls == [False] and model[2].calls == [True]
    assert np.abs(model.grads["0.W"]).sum() > 0


def test_with_nothing_frozen_backward_calls_every_layer_as_before():
    model = counting_model()
    forward_backward(model)
    assert [model[i].calls for i in (0, 2, 4)] == [[False], [True], [True]]


def test_an_all_frozen_model_calls_only_its_last_layer():
    model = counting_model()
    model.trainable = False
    assert forward_backward(model) is None
    assert [model[i].calls for i in (0, 2, 4)] == [[], [], [False]]
    assert not model.flat_parameters().grad.any()


def test_nested_frozen_blocks_are_skipped():
    inner = cr.Sequential(CountingLinear(4, 4), cr.Tanh())
    model = cr.Sequential(cr.Residual(inner), CountingLinear(4, 2), seed=0)
    model[0].trainable = False
    forward_backward(model)
    assert inner[0].calls == [] and model[1].calls == [False]


def test_a_residual_whose_f_is_frozen_skips_f_without_input_grad():
    inner = cr.Sequential(CountingLinear(3, 3), cr.Tanh())
    block = cr.Residual(inner)
    block.trainable = False
    X = normal(0, 4, 3).astype(np.float32)
    block.forward(X)
    assert block.backward(np.ones_like(X), input_grad=False) is None and inner[0].calls == []
    dX = block.backward(np.ones_like(X))
    assert dX.shape == X.shape and inner[0].calls == [True]


def test_summary_counts_trainable_and_frozen_parameters():
    model = cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 3), seed=0)
    model[0].trainable = False
    lines = model.summary().splitlines()
    assert lines[-2:] == ["67 parameters, float32", "trainable: 27, non-trainable: 40"]
    assert [row["trainable"] for row in model.summary_rows()] == [False, True, True]


def test_trainable_is_not_saved(tmp_path):
    model = cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 3), seed=0)
    model[:-1].trainable = False
    cr.save(model, tmp_path / "model.safetensors")
    cr.save_weights(model, tmp_path / "weights.safetensors")
    assert cr.load(tmp_path / "model.safetensors").trainable is True
    assert cr.load(tmp_path / "model.safetensors").frozen_parameters == []
    restored = cr.load_weights(cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 3), seed=1),
                               tmp_path / "weights.safetensors")
    assert restored.frozen_parameters == []


def test_a_layer_inserted_at_the_front_is_backpropagated_into():
    model = counting_model()
    front, tanh = CountingLinear(4, 4, seed=1), cr.Tanh()  # made before: only the number of layers changes
    model[0].trainable = False
    forward_backward(model)
    model.layers[:0] = [front, tanh]
    forward_backward(model)
    assert front.calls == [False] and model[2].calls == [True]


def test_a_layer_made_earlier_swapped_in_for_a_frozen_one_is_backpropagated_into():
    model = counting_model()
    spare = CountingLinear(4, 6, seed=2)  # made before the freezing: no new layer is made after it
    model[0].trainable = False
    forward_backward(model)
    assert model.first_to_backpropagate() == 2
    model.layers[0] = spare  # as many layers as before, the flags unchanged since
    forward_backward(model)
    assert spare.calls == [False] and model.first_to_backpropagate() == 0


def test_swapping_a_frozen_and_a_trainable_layer_moves_where_backward_stops():
    model = cr.Sequential(CountingLinear(4, 4), cr.ReLU(), CountingLinear(4, 4), cr.ReLU(), CountingLinear(4, 3))
    model[0].trainable = False
    forward_backward(model)
    model.layers[0], model.layers[2] = model.layers[2], model.layers[0]  # the frozen one is now in the middle
    model[0].calls.clear()
    forward_backward(model)
    assert model[0].calls == [False] and model.first_to_backpropagate() == 0


def test_a_layer_put_into_a_nested_block_with_setitem_is_backpropagated_into():
    inner = cr.Sequential(CountingLinear(4, 6, seed=0))
    model = cr.Sequential(inner, cr.ReLU(), CountingLinear(6, 3, seed=1))
    spare = CountingLinear(4, 6, seed=2)  # made before the freezing
    inner.trainable = False
    forward_backward(model)
    assert model.first_to_backpropagate() == 2
    inner[0] = spare  # the outer list is unchanged: only the version tells
    forward_backward(model)
    assert spare.calls == [False] and spare.own_grads["W"].any()


# -- gradcheck through frozen layers ---------------------------------------------------------------
def model_to_freeze(frozen: list) -> cr.Sequential:
    """Linear, Tanh, a Residual block of Linear-ReLU-Linear, Linear (biases drawn: away from the
    ReLU's kinks), with the layers at the paths in ``frozen`` frozen."""
    model = cr.Sequential(cr.Linear(4, 5), cr.Tanh(),
                          cr.Residual(cr.Sequential(cr.Linear(5, 5), cr.ReLU(), cr.Linear(5, 5))),
                          cr.Linear(5, 3), seed=0)
    randomize_biases(model, 1)
    layers = {prefix.rstrip("."): layer for prefix, layer in model.walk()}
    for path in frozen:
        layers[path].trainable = False
    return model


@pytest.mark.parametrize("frozen", [["0"], ["2.f.0"], ["3"], ["2"], ["0", "3"]],
                         ids=["first", "inside the residual block", "last", "the residual block", "first and last"])
def test_gradcheck_through_frozen_layers(frozen):
    """The gradients of the trainable parameters, and ∂L/∂x, pass through the frozen layers as they
    should: a frozen Linear's dX = dY Wᵀ, a frozen block's dX = dY + f.backward(dY)."""
    model = model_to_freeze(frozen)
    assert model.frozen_parameters
    assert_gradients(model, normal(0, 6, 4), regression_targets(1, 6, 3))


def test_a_frozen_layer_passing_a_wrong_gradient_on_fails_the_check(monkeypatch):
    """The check above can fail: a frozen Linear whose dX forgets half of dY Wᵀ is caught in the
    trainable layers below it and the input, not in its own (skipped) parameters."""
    backward = cr.Linear.backward

    def half_when_frozen(self, dY, input_grad=True):
        dX = backward(self, dY, input_grad)
        return dX if self.own_trainable or dX is None else 0.5 * dX

    monkeypatch.setattr(cr.Linear, "backward", half_when_frozen)
    report = cr.gradcheck(model_to_freeze(["3"]), normal(0, 6, 4), regression_targets(1, 6, 3), "mse")
    assert sorted(report.skipped) == ["3.W", "3.b"]
    assert not report.passed(TOLERANCE)
    assert min(report.errors[name] for name in ("0.W", "0.b", "2.f.0.W", "2.f.2.W", "input")) > 0.1
