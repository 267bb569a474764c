"""gradcheck: backpropagation against central differences, and the report it returns."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import TOLERANCE
from tests.harness import Rebinding, Scale, normal


def model_and_data():
    model = cr.Sequential(cr.Linear(3, 4), cr.Tanh(), cr.Linear(4, 2), seed=0)
    X = normal(0, 5, 3)
    y = np.array([0, 1, 1, 0, 1])
    return model, X, y


class WrongTanh(cr.Tanh):
    """Tanh whose backward forgets to square: dX = dY ⊙ (1 − Y)."""

    def backward(self, dY, input_grad=True, inplace=False):
        return dY * (1 - self._Y)


class WrongBiasLinear(cr.Linear):
    """Linear whose bias gradient is twice what it should be."""

    def backward(self, dY, input_grad=True):
        dX = super().backward(dY, input_grad)
        self.own_grads["b"] *= 2
        return dX


def test_report_covers_every_parameter_and_the_input():
    model, X, y = model_and_data()
    report = cr.gradcheck(model, X, y, cr.SoftmaxCrossEntropy())
    assert list(report.errors) == ["0.W", "0.b", "2.W", "2.b", "input"]
    assert report.checked == {"0.W": 12, "0.b": 4, "2.W": 8, "2.b": 2, "input": 15}
    assert report.max_rel_error == max(report.errors.values())
    assert report.max_rel_error < 1e-6
    assert report.passed() and report.passed(1e-6)
    assert report.eps == 1e-5
    assert report.worst in report.errors
    text = str(report)
    assert text.splitlines()[0].split() == ["parameter", "checked", "max", "rel", "error"]
    assert all(name in text for name in report.errors)


def test_a_wrong_activation_backward_is_caught():
    model = cr.Sequential(cr.Linear(3, 4), WrongTanh(), cr.Linear(4, 2), seed=0)
    _, X, y = model_and_data()
    report = cr.gradcheck(model, X, y, "cross_entropy")
    assert report.max_rel_error > 1e-2
    assert not report.passed()
    assert report.errors["2.W"] < 1e-6  # the layer above the mistake is still right
    assert report.errors["0.W"] > 1e-2


def test_a_wrong_bias_gradient_is_caught_and_named():
    model = cr.Sequential(WrongBiasLinear(3, 2), cr.Tanh(), seed=0)
    X = normal(1, 4, 3)
    report = cr.gradcheck(model, X, normal(2, 4, 2), "mse")
    assert report.worst == "0.b"
    assert report.errors["0.b"] == pytest.approx(0.5, rel=1e-4)  # |2g − g| / |2g|
    assert report.errors["0.W"] < 1e-6


def test_a_notebook_shows_the_report_as_printed():
    """IPython and Jupyter show a cell's last value by its _repr_pretty_ where it has one, else by
    repr, which for the dataclass held no verdict."""
    model, X, y = model_and_data()
    report = cr.gradcheck(model, X, y, "cross_entropy")

    class Printer:  # IPython.lib.pretty's printer, as far as _repr_pretty_ uses it
        def __init__(self):
            self.parts = []

        def text(self, part):
            self.parts.append(part)

    printer = Printer()
    report._repr_pretty_(printer, cycle=False)
    assert "".join(printer.parts) == str(report)


def test_a_report_built_by_hand_without_errors_away_from_kinks_is_judged_by_its_errors():
    """passed(at_kinks=False) and the printed verdict judged only errors_away_from_kinks, so a
    report made by hand with errors alone passed whatever they were."""
    report = cr.GradcheckReport(errors={"0.W": 0.5, "0.b": 1e-9}, checked={"0.W": 6, "0.b": 2})
    assert not report.passed(at_kinks=False)
    assert str(report).endswith("max relative error 5.000e-01 (0.W); tolerance 1e-06: FAILED (above it: 0.W)")
    assert cr.GradcheckReport(errors={"0.W": 1e-9}).passed(at_kinks=False)
    by_hand = str(cr.GradcheckReport(errors={"0.W": 1e-9}))  # no counts: shown as "?", not a KeyError
    assert "\n0.W              ?  1.000e-09\n" in by_hand and by_hand.endswith("tolerance 1e-06: passed")


def test_the_printed_report_ends_with_the_verdict():
    """str(report) showed the errors alone: a notebook user printing it saw no passed or failed,
    which only passed() and chainrule gradcheck gave."""
    model, X, y = model_and_data()
    assert str(cr.gradcheck(model, X, y, "cross_entropy")).endswith("(0.W); tolerance 1e-06: passed")
    report = cr.gradcheck(cr.Sequential(WrongBiasLinear(3, 2), cr.Tanh(), seed=0), normal(1, 4, 3), normal(2, 4, 2),
                          "mse")
    assert str(report).splitlines()[-2:] == ["", "max relative error 5.000e-01 (0.b); tolerance 1e-06: FAILED "
                                                 "(above it: 0.b)"]
    assert report.text(0.6).splitlines()[-1] == report.verdict(0.6) == ("max relative error 5.000e-01 (0.b); "
                                                                        "tolerance 0.6: passed")
    unverified = cr.GradcheckReport(errors={"0.W": 0.9, "0.b": 0.8}, checked={"0.W": 6, "0.b": 2},
                                    kinks={"0.W": 1, "0.b": 2}, errors_away_from_kinks={"0.W": 0.5, "0.b": 0.0})
    assert str(unverified).endswith("max relative error 5.000e-01 (0.W) away from the 3 elements at kinks, left out "
                                    "(9.000e-01 with them); tolerance 1e-06: FAILED (above it: 0.W; nothing "
                                    "compared in 0.b: every element at a kink)")


def test_the_model_is_left_as_it_was():
    model, X, y = model_and_data()
    before = {name: array.copy() for name, array in model.params.items()}
    cr.gradcheck(model, X, y, cr.SoftmaxCrossEntropy())
    assert model.dtype == np.float32
    for name, array in model.params.items():
        np.testing.assert_array_equal(array, before[name])
        assert not model.grads[name].any()


def test_a_float32_model_is_checked_in_float64():
    model, X, y = model_and_data()
    assert cr.gradcheck(model, X.astype(np.float32), y, "cross_entropy").max_rel_error < 1e-6


def test_max_checks_samples_a_subset_reproducibly():
    model, X, y = model_and_data()
    first = cr.gradcheck(model, X, y, "cross_entropy", max_checks=3, seed=1)
    again = cr.gradcheck(model, X, y, "cross_entropy", max_checks=3, seed=1)
    assert first.checked == {"0.W": 3, "0.b": 3, "2.W": 3, "2.b": 2, "input": 3}
    assert first.errors == again.errors


def test_without_the_input():
    model, X, y = model_and_data()
    report = cr.gradcheck(model, X, y, "cross_entropy", check_input=False)
    assert "input" not in report.errors


def test_exactly_zero_gradients_do_not_divide_by_zero():
    model = cr.Sequential(cr.Linear(2, 3), cr.ReLU(), cr.Linear(3, 1), seed=0)
    model.params["0.b"][...] = -100  # every ReLU is dead: ∂L/∂θ below it is exactly 0
    report = cr.gradcheck(model, normal(0, 4, 2), normal(1, 4, 1), "mse")
    assert report.errors["0.W"] == 0.0
    assert report.errors["input"] == 0.0
    assert report.passed()


def test_invalid_eps():
    model, X, y = model_and_data()
    with pytest.raises(cr.HyperparameterError, match="eps: expected a number > 0, got 0"):
        cr.gradcheck(model, X, y, "cross_entropy", eps=0)


@pytest.mark.parametrize("eps", [1.0, 1e3, 1e300])
def test_an_eps_too_large_to_estimate_a_derivative_is_refused(eps):
    # eps = 1e3 made every element look like a kink: the verdict left them all out and passed a wrong backward
    model, X, y = model_and_data()
    with pytest.raises(cr.HyperparameterError, match=f"^eps: expected a step below 1, got {re.escape(f'{eps:g}')}; "):
        cr.gradcheck(model, X, y, "cross_entropy", eps=eps)


class TripledTanh(cr.Tanh):
    """Tanh whose backward is three times too large."""

    def backward(self, dY, input_grad=True):
        return super().backward(dY, input_grad) * 3.0


def test_a_check_whose_every_element_is_at_a_kink_does_not_pass_away_from_kinks():
    report = cr.GradcheckReport(errors={"0.W": 0.9, "0.b": 0.8}, checked={"0.W": 6, "0.b": 2},
                                kinks={"0.W": 6, "0.b": 2}, errors_away_from_kinks={"0.W": 0.0, "0.b": 0.0})
    assert report.unverified == ["0.W", "0.b"]
    assert not report.passed(at_kinks=False) and not report.passed()
    assert "Every checked element is at a kink in: 0.W, 0.b. None of them is compared away from kinks" in str(report)
    report.kinks["0.b"], report.errors["0.b"] = 0, 0.0  # 0.b compared, 0.W still not: its backward may be wrong
    assert report.unverified == ["0.W"] and not report.passed(at_kinks=False)
    report.kinks["0.W"] = 5  # one element of 0.W compared: the verdict leaves the other five out
    assert report.unverified == [] and report.passed(at_kinks=False)
    # the wrong backward itself is caught at a sound step
    model = cr.Sequential(cr.Linear(3, 4), TripledTanh(), cr.Linear(4, 2), seed=0)
    X, y = np.random.default_rng(0).normal(size=(4, 3)), np.array([0, 1, 0, 1])
    assert not cr.gradcheck(model, X, y, cr.SoftmaxCrossEntropy(), eps=1e-5).passed(at_kinks=False)
    assert not cr.gradcheck(model, X, y, cr.SoftmaxCrossEntropy(), eps=0.5).passed(at_kinks=False)


def test_bad_inputs_are_reported_by_chainrule():
    model, X, y = model_and_data()
    with pytest.raises(cr.ShapeError, match=r"X: expected a 2-d array"):
        cr.gradcheck(model, X[0], y, "cross_entropy")
    with pytest.raises(cr.LabelError, match=r"labels must lie in \[0, 2\)"):
        cr.gradcheck(model, X, y + 1, "cross_entropy")
    with pytest.raises(cr.HyperparameterError, match="loss: unknown name 'hinge'"):
        cr.gradcheck(model, X, y, "hinge")


class NaNGradient(cr.Layer):
    """A layer whose forward is 2X but whose backward returns NaN."""

    def forward(self, X):
        return 2 * X

    def backward(self, dY, input_grad=True):
        return dY * np.nan


def test_a_nan_gradient_fails_the_check():
    model = cr.Sequential(cr.Linear(3, 3), NaNGradient(), cr.Linear(3, 2), seed=0)
    _, X, y = model_and_data()
    report = cr.gradcheck(model, X, y, "cross_entropy")
    assert report.errors["0.W"] == np.inf
    assert report.errors["input"] == np.inf
    assert report.errors["2.W"] < 1e-6  # above the broken layer the gradient is right
    assert report.max_rel_error == np.inf
    assert not report.passed()


@pytest.mark.parametrize("max_checks", [0, -1, 2.5, True])
def test_invalid_max_checks(max_checks):
    model, X, y = model_and_data()
    with pytest.raises(cr.HyperparameterError, match="max_checks: expected an integer >= 1"):
        cr.gradcheck(model, X, y, "cross_entropy", max_checks=max_checks)


def test_a_model_that_is_not_a_layer():
    _, X, y = model_and_data()
    with pytest.raises(cr.HyperparameterError, match="model: expected a chainrule Layer, got str"):
        cr.gradcheck("m", X, y)


def test_a_layer_taken_from_a_model_is_checked_without_touching_the_callers_X():
    # The Tanh ran in place between two Linears; checked alone it used to overwrite H.
    model = cr.Sequential(cr.Linear(3, 4), cr.Tanh(), cr.Linear(4, 2), seed=0)
    model.forward(normal(0, 5, 3))
    H = normal(1, 5, 4)  # float64 and contiguous: as_matrix hands back the caller's array
    original = H.copy()
    report = cr.gradcheck(model[1], H, normal(2, 5, 4), "mse")
    np.testing.assert_array_equal(H, original)
    assert report.passed(), str(report)


def test_the_input_check_leaves_the_callers_X_alone_even_when_the_loss_fails():
    # The finite differences of the input perturb X64 element by element; they must not be
    # the caller's X, which an error part-way would leave changed.
    X = normal(0, 5, 3)
    original = X.copy()

    class FailingLoss(cr.MSE):
        calls = 0

        def compute(self, Y, T):
            FailingLoss.calls += 1
            if FailingLoss.calls >= 3:  # while an element of the input is moved by ±ε
                raise RuntimeError("stop")
            return super().compute(Y, T)

    with pytest.raises(RuntimeError, match="stop"):
        cr.gradcheck(cr.Tanh(), X, normal(3, 5, 3), FailingLoss())
    np.testing.assert_array_equal(X, original)


@pytest.mark.parametrize("value, error, fragment", [
    (lambda D: (D * D).mean(axis=1), cr.ShapeError, "returned L of shape (5,)"),
    (lambda D: np.array([(D * D).mean()]), cr.ShapeError, "returned L of shape (1,)"),
    (lambda D: "0.5", cr.DTypeError, "returned L as str"),
    (lambda D: complex((D * D).mean(), 1), cr.DTypeError, "returned L as complex"),
])
def test_a_custom_loss_whose_L_is_no_scalar_is_named_as_fit_names_it(value, error, fragment):
    # was float()'s TypeError or ValueError ("only 0-dimensional arrays can be converted to Python
    # scalars"), where cr.fit and cr.evaluate name the loss and what it returned

    class OddLoss(cr.MSE):
        def compute(self, Y, T, weights=None):
            return value(Y - T), super().compute(Y, T)[1]

    with pytest.raises(error, match=re.escape(f"loss: OddLoss.compute {fragment}; expected a scalar")):
        cr.gradcheck(cr.Tanh(), normal(0, 5, 3), normal(3, 5, 3), OddLoss())


@pytest.mark.parametrize("tolerance, error, message", [
    (-1e-6, cr.HyperparameterError, "tolerance: expected a number > 0, got -1e-06"),
    (0, cr.HyperparameterError, "tolerance: expected a number > 0, got 0"),
    (float("nan"), cr.HyperparameterError, "tolerance: expected a finite real number, got nan"),
    ("1e-6", cr.HyperparameterError, "tolerance: expected a finite real number, got '1e-6'"),
    (None, cr.HyperparameterError, "tolerance: expected a finite real number, got None"),
])
def test_passed_refuses_a_tolerance_that_is_no_positive_number(tolerance, error, message):
    # a negative one or NaN answered False (no backward could pass), a string or None raised '<=''s TypeError;
    # chainrule gradcheck --tolerance refuses them likewise
    model, X, y = model_and_data()
    report = cr.gradcheck(model, X, y, "cross_entropy")
    with pytest.raises(error, match=re.escape(message)):
        report.passed(tolerance)


@pytest.mark.parametrize("name", ["check_input", "at_kinks"])
@pytest.mark.parametrize("value", ["no", 0, None])
def test_a_flag_that_is_no_bool_is_refused_naming_it(name, value):
    # "no" or 0 passed an if silently: check_input="no" checked the input, at_kinks=0 left the kinks out
    model, X, y = model_and_data()
    with pytest.raises(cr.HyperparameterError, match=re.escape(f"{name}: expected True or False, got {value!r}")):
        if name == "check_input":
            cr.gradcheck(model, X, y, "cross_entropy", check_input=value)
        else:
            cr.gradcheck(model, X, y, "cross_entropy").passed(at_kinks=value)
    assert cr.gradcheck(model, X, y, "cross_entropy", check_input=np.bool_(False)).passed(at_kinks=np.bool_(True))


@pytest.mark.parametrize("returned, shown", [(lambda dY: None, "NoneType"), (lambda dY: dY[:, :2], "shape (5, 2)")])
def test_a_first_layer_whose_backward_returns_no_input_gradient_is_named(returned, shown):
    # the input's check then indexed what it returned: IndexError ("index 1 is out of bounds for axis 0 with size 1")

    class Doubling(cr.Layer):
        def forward(self, X):
            return 2 * X

        def backward(self, dY, input_grad=True):
            return returned(2 * dY)

    model = cr.Sequential(Doubling(), cr.Linear(3, 2), seed=0)
    message = f"layer '0' (Doubling): backward returned {shown} as ∂L/∂x of the model's input; expected an array of X's"
    with pytest.raises(cr.ShapeError, match=re.escape(f"{message} shape (5, 3)")):
        cr.gradcheck(model, normal(0, 5, 3), np.array([0, 1, 1, 0, 1]), "cross_entropy")
    assert cr.gradcheck(model, normal(0, 5, 3), np.array([0, 1, 1, 0, 1]), "cross_entropy", check_input=False).passed()


@pytest.mark.parametrize("gradient, error, message", [
    (lambda dY: dY.ravel(), cr.ShapeError, "returned ∂L/∂Y of shape (15,); expected the outputs' shape (5, 3)"),
    (lambda dY: dY.astype(np.float32), cr.DTypeError, "returned ∂L/∂Y of dtype float32; expected the outputs' "
                                                      "dtype float64"),
    (lambda dY: dY.tolist(), cr.ShapeError, "returned ∂L/∂Y as list; expected the outputs' shape (5, 3)"),
])
def test_a_custom_loss_whose_gradient_does_not_fit_the_outputs_is_named(gradient, error, message):
    # the model's last layer was blamed ("layer '2' (Linear): dY must have the shape of the last forward's output")

    class OddGradient(cr.MSE):
        def compute(self, Y, T, weights=None):
            L, dY = super().compute(Y, T)
            return L, gradient(dY)

    model = cr.Sequential(cr.Linear(3, 4), cr.Tanh(), cr.Linear(4, 3), seed=0)
    with pytest.raises(error, match=re.escape(f"loss: OddGradient.compute {message}")):
        cr.gradcheck(model, normal(0, 5, 3), normal(3, 5, 3), OddGradient())


@pytest.mark.parametrize("changes", ["forward", "backward"])
def test_a_layer_that_changes_its_input_in_place_is_named(changes):
    # a StateError blamed reused buffers ("a buffer (Layer.buffer) is read before the step writes it")

    class Doubling(cr.Layer):
        def __init__(self, width):
            super().__init__()
            self.own_params["a"], self.own_grads["a"] = np.ones(width), np.zeros(width)

        def forward(self, X):
            if changes == "forward":
                X *= 2
            self._X = X
            return X * self.own_params["a"]

        def backward(self, dY, input_grad=True):
            self.own_grads["a"][...] = (dY * self._X).sum(0)
            if changes == "backward":
                self._X *= 2
            return dY * self.own_params["a"] if input_grad else None

    model = cr.Sequential(Doubling(3), cr.Linear(3, 2), seed=0).astype("float64")
    X = normal(0, 5, 3)
    with pytest.raises(cr.StateError, match=r"^layer '0' \(Doubling\): the model's input X changed in place in "
                                            r"forward or backward \(this layer reads it first\); a layer must leave "
                                            r"its input as it was"):
        cr.gradcheck(model, X, normal(1, 5, 2), "mse")
    assert np.array_equal(X, normal(0, 5, 3))  # the caller's X is a copy's


def test_kinks_are_counted_and_explained():
    # Biases 0 and a row of ReLU outputs all 0: the next ReLU's input is exactly 0 there,
    # and the central difference of its bias straddles the kink (error ~1, backward correct).
    model = cr.Sequential(cr.Linear(2, 2), cr.ReLU(), cr.Linear(2, 2), cr.ReLU(), cr.Linear(2, 1), seed=0)
    model.params["0.W"][...] = [[1.0, 1.0], [1.0, 1.0]]
    model.params["2.W"][...] = [[1.0, -1.0], [1.0, -1.0]]
    model.params["4.W"][...] = [[1.0], [1.0]]
    X = np.array([[-1.0, -2.0], [1.0, 2.0]])  # row 0 is all 0 after the first ReLU
    report = cr.gradcheck(model, X, np.array([[5.0], [5.0]]), "mse")
    assert not report.passed()
    assert report.worst == "2.b"
    assert report.kinks["2.b"] >= 1
    assert report.kinks["0.W"] == 0 and report.kinks["4.W"] == 0
    text = str(report)
    assert f"At kinks of the loss: 2.b ({report.kinks['2.b']} of 2)" in text
    assert "does not mean a wrong backward" in text and "random biases" in text


def test_no_kinks_are_reported_for_a_smooth_model():
    model, X, y = model_and_data()
    report = cr.gradcheck(model, X, y, "cross_entropy")
    assert set(report.kinks.values()) == {0}
    assert "kink" not in str(report)


def test_a_stationary_point_of_a_smooth_loss_is_no_kink():
    # X = 0 and classes 0 and 1 with b = 0: the mean gradient of b is exactly 0, so the one-sided
    # slopes differ only by the curvature times eps, which the largest gradient (0) cannot scale.
    model = cr.Sequential(cr.Linear(2, 2, dtype="float64"), seed=0)
    report = cr.gradcheck(model, np.zeros((2, 2)), np.array([0, 1]), "cross_entropy")
    assert report.errors["0.b"] == 0.0
    assert set(report.kinks.values()) == {0}
    assert "kink" not in str(report)


@pytest.mark.parametrize("target", [1.0, 1e-4])
def test_a_kink_with_a_small_jump_is_still_a_kink(target):
    # h = relu(W x + b) at a ReLU input of exactly 0: the slope of the MSE jumps by h − y = target,
    # which keeps its jump at ε/10, where curvature's would shrink tenfold.
    model = cr.Sequential(cr.Linear(1, 1, dtype="float64"), cr.ReLU(), seed=0)
    model.params["0.W"] = np.ones((1, 1))
    model.params["0.b"] = np.zeros(1)
    report = cr.gradcheck(model, np.zeros((1, 1)), np.array([[-target]]), "mse")
    assert report.kinks == {"0.W": 0, "0.b": 1, "input": 1}
    assert "At kinks of the loss: 0.b (1 of 1), input (1 of 1)" in str(report)


class UpstreamForgettingLinear(cr.Linear):
    """Linear whose bias gradient forgets the gradient from above: db = Σ_n 1, not Σ_n dY_n."""

    def backward(self, dY, input_grad=True):
        dX = super().backward(dY, input_grad)
        self.own_grads["b"][...] = len(dY)
        return dX


def relu_net_at_its_kinks(linear=cr.Linear):
    """Biases 0 and X = 0: every ReLU input is exactly 0, and so are the outputs and their targets."""
    model = cr.Sequential(linear(2, 4), cr.ReLU(), cr.Linear(4, 1), seed=0)
    return model, np.zeros((2, 2)), np.zeros(2)


def test_a_kink_of_the_curvature_alone_is_a_kink():
    # The gradient reaching the ReLUs is 0, so L ≈ c·max(b, 0)² near b = 0: backward's 0 is the
    # derivative, and the central difference c·ε/2 (error 1) is truncation, linear in ε. It was
    # left unexplained: the jump in slope, c·ε, shrank tenfold at ε/10, as curvature's does.
    report = cr.gradcheck(*relu_net_at_its_kinks(), "mse")
    assert report.errors["0.b"] == pytest.approx(1.0) and report.errors["input"] == pytest.approx(1.0)
    assert report.kinks == {"0.W": 0, "0.b": 4, "2.W": 0, "2.b": 0, "input": 4}
    text = str(report)
    assert "At kinks of the loss: 0.b (4 of 4), input (4 of 4)" in text
    assert "or only its curvature where the gradient reaching the kink is 0" in text
    assert "does not mean a wrong backward" in text


def test_a_wrong_backward_at_a_kink_of_the_curvature_is_no_kink():
    model, X, y = relu_net_at_its_kinks(UpstreamForgettingLinear)
    report = cr.gradcheck(model, X, y, "mse")
    assert report.errors["0.b"] == pytest.approx(1.0) and not report.passed()
    assert report.kinks["0.b"] == 0 and report.kinks["input"] == 4  # the input's gradient is still right
    assert "At kinks of the loss: input (4 of 4)." in str(report)


@pytest.mark.parametrize("linear, kinks", [(cr.Linear, 1), (WrongBiasLinear, 0)])
def test_a_kink_of_the_curvature_beside_a_smooth_gradient(linear, kinks):
    # Sample 0 sits at its ReLU's kink with a zero residual, sample 1 away from it: ∂L/∂b = −1 and the
    # central difference is off by ε/4 (error 2.5e-6): a kink. Doubled, db is wrong (error 0.5): none.
    model = cr.Sequential(linear(1, 1, dtype="float64"), cr.ReLU(), seed=0)
    model.params["0.W"][...] = 1.0
    report = cr.gradcheck(model, np.array([[0.0], [1.0]]), np.array([[0.0], [2.0]]), "mse")
    assert report.errors["0.b"] > 1e-6 and not report.passed()
    assert report.kinks == {"0.W": 0, "0.b": kinks, "input": 1}


@pytest.mark.parametrize("linear, right", [(cr.Linear, True), (UpstreamForgettingLinear, False)])
def test_passed_away_from_kinks_leaves_out_the_kinks_alone(linear, right):
    # Every ReLU input at its kink: a correct backward has no error left once they are left out, one
    # whose bias gradient is wrong (no kink there) keeps it. The input's gradient, all at kinks, was
    # not compared at all, so neither passes away from kinks.
    report = cr.gradcheck(*relu_net_at_its_kinks(linear), "mse")
    assert not report.passed()
    assert report.errors_away_from_kinks["input"] == 0.0  # its 4 elements are all at kinks
    assert "input" in report.unverified and not report.passed(at_kinks=False)
    assert report.errors_away_from_kinks["0.b"] == (0.0 if right else report.errors["0.b"])
    assert (max(report.errors_away_from_kinks.values()) <= TOLERANCE) is right


# -- the weighted loss that fit(sample_weight=...) trains ----------------------------------------
@pytest.mark.parametrize("loss, y", [
    ("cross_entropy", np.array([0, 1, 1, 0, 1])),
    ("mse", np.linspace(-1, 1, 10).reshape(5, 2)),
    ("binary_cross_entropy", np.array([[0, 1], [1, 1], [0, 0], [1, 0], [0, 1]], dtype=float)),
])
def test_gradcheck_proves_the_weighted_losses(loss, y):
    model = cr.Sequential(cr.Linear(3, 4), cr.Tanh(), cr.Linear(4, 2), seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    weights = np.array([0.5, 3.0, 0.0, 1.0, 2.0])
    report = cr.gradcheck(model, X, y, loss, sample_weight=weights)
    assert report.max_rel_error < 1e-7  # the next test shows that a gradient ignoring the weights fails


def test_gradcheck_with_a_wrong_weighted_gradient_fails():
    class HalfWeighted(cr.MSE):
        """Weighs the value but forgets the weights in dY: the checker must notice."""

        def compute(self, Y, T, weights=None):
            value, _ = super().compute(Y, T, weights)
            return value, super().compute(Y, T)[1]

    model = cr.Sequential(cr.Linear(3, 2), seed=0)
    X = np.random.default_rng(1).normal(size=(4, 3))
    report = cr.gradcheck(model, X, np.zeros((4, 2)), HalfWeighted(), sample_weight=[1, 5, 0, 2])
    assert report.max_rel_error > 1e-2


def test_gradcheck_names_bad_sample_weights():
    model = cr.Sequential(cr.Linear(3, 2), seed=0)
    with pytest.raises(cr.ShapeError, match="sample_weight: expected 4 weights"):
        cr.gradcheck(model, np.zeros((4, 3)), np.zeros((4, 2)), sample_weight=[1, 2])


def test_gradcheck_refuses_weights_a_loss_cannot_take_saying_how():
    class Plain(cr.MSE):
        def compute(self, Y, T):
            return super().compute(Y, T)

    model = cr.Sequential(cr.Linear(3, 2), seed=0)
    with pytest.raises(cr.HyperparameterError, match=r"sample_weight: Plain.compute takes no weights; give it a "
                                                     r"compute\(Y, T, weights=None\)"):
        cr.gradcheck(model, np.zeros((4, 3)), np.zeros((4, 2)), Plain(), sample_weight=[1, 2, 1, 1])


def test_frozen_parameters_are_skipped_and_counted():
    model, X, y = model_and_data()
    model[0].trainable = False
    report = cr.gradcheck(model, X, y, cr.SoftmaxCrossEntropy())
    assert sorted(report.errors) == ["2.W", "2.b", "input"]
    assert report.skipped == {"0.W": 12, "0.b": 4}
    assert report.passed(1e-6)
    assert "Skipped 2 frozen parameters (16 elements: 0.W, 0.b)" in str(report)
    assert not model[0].trainable  # the model is left as it was


def test_nothing_frozen_skips_nothing():
    model, X, y = model_and_data()
    report = cr.gradcheck(model, X, y, cr.SoftmaxCrossEntropy())
    assert report.skipped == {} and "Skipped" not in str(report)


def test_a_model_with_nothing_trainable_checks_the_input_gradient_alone():
    model, X, y = model_and_data()
    model.trainable = False
    report = cr.gradcheck(model, X, y, cr.SoftmaxCrossEntropy())
    assert list(report.errors) == ["input"] and report.passed(1e-6)
    assert sorted(report.skipped) == ["0.W", "0.b", "2.W", "2.b"]


def test_a_model_with_nothing_trainable_and_no_input_check_is_refused():
    model, X, y = model_and_data()
    model.trainable = False
    with pytest.raises(cr.HyperparameterError, match="no trainable parameters.*check_input is False"):
        cr.gradcheck(model, X, y, cr.SoftmaxCrossEntropy(), check_input=False)
    with pytest.raises(cr.HyperparameterError, match="no trainable parameters: the model has none, and check_input "
                                                     "is False: nothing to check; set check_input=True"):
        cr.gradcheck(cr.Sequential(cr.ReLU()), X, y, cr.SoftmaxCrossEntropy(), check_input=False)


def test_a_custom_layer_is_checked_with_the_model():
    model = cr.Sequential(cr.Linear(3, 4), Scale(4), cr.Linear(4, 2), seed=0)
    _, X, y = model_and_data()
    report = cr.gradcheck(model, X, y, "cross_entropy")
    assert "1.a" in report.errors and report.passed(1e-6)


def test_a_custom_parameter_without_its_gradient_array_is_named_not_a_key_error():
    scale = Scale(4)
    del scale.own_grads["a"]
    model = cr.Sequential(cr.Linear(3, 4), scale, cr.Linear(4, 2), seed=0)
    _, X, y = model_and_data()
    with pytest.raises(cr.HyperparameterError, match=r"layer '1' \(Scale\): own_params\['a'\] has no gradient array "
                                                     r"own_grads\['a'\]; make it in __init__"):
        cr.gradcheck(model, X, y, "cross_entropy")


def test_a_backward_that_assigns_new_gradient_arrays_fails_the_check_as_fit_would():
    """gradcheck passed it (the new arrays hold the right numbers), and fit then refused it."""
    model = cr.Sequential(cr.Linear(3, 3), Rebinding(3), cr.Linear(3, 2), seed=0)
    X = np.random.default_rng(0).normal(size=(4, 3))
    with pytest.raises(cr.StateError, match=r"layer '1' \(Rebinding\): own_grads\['a'\] was replaced by a new array"):
        cr.gradcheck(model, X, np.arange(4) % 2, "cross_entropy")


def stale_mask_backward(self, dY, input_grad=True, inplace=False):
    """ReLU's backward with a defect of the buffer path alone: inside reusing_buffers the mask
    [Y > 0] is written only when its buffer is first made, so later steps reuse a stale one."""
    if not self.reuse_buffers:
        return dY * (self._Y > 0)
    first_step = "mask" not in self._buffers
    mask = self.buffer("mask", self._Y.shape, self._Y, dtype=bool)
    if first_step:
        np.greater(self._Y, 0, out=mask)
    return dY * mask


def test_a_backward_wrong_only_as_fit_runs_it_fails_the_check_naming_the_parameter(monkeypatch):
    """The central differences run outside reusing_buffers, where the stale mask is not used: only
    the training path shows it. The parameter named is the one nearest the output that differs."""
    model = cr.Sequential(cr.Linear(3, 4), cr.ReLU(), cr.Linear(4, 4), cr.ReLU(), cr.Linear(4, 2), seed=0)
    rng = np.random.default_rng(1)
    for parameter in model.params.values():  # random biases: away from the ReLUs' kinks
        parameter[...] = rng.normal(size=parameter.shape)
    X, y = rng.normal(size=(6, 3)), np.arange(6) % 2
    assert cr.gradcheck(model, X, y, "cross_entropy").passed()
    monkeypatch.setattr(cr.ReLU, "backward", stale_mask_backward)
    message = (r"layer '2' \(Linear\): backward as cr.fit runs it \(inside reusing_buffers, each layer's buffers "
               r"reused from step to step\) gives another gradient for '2.W' than backward outside it \(max relative "
               r"difference .*\): a buffer \(Layer.buffer\) is read before the step writes it")
    with pytest.raises(cr.StateError, match=message):
        cr.gradcheck(model, X, y, "cross_entropy")


# -- kinks just beyond ε/10, and what rounding hides -------------------------------------------
def test_a_kink_between_a_tenth_of_eps_and_eps_is_a_kink():
    # The ReLU input z₀₀ of sample 0 is 1e-5 = ε: the steps of ε cross the kink (error 4e-4 in 0.W[1, 0])
    # and those of ε/10 do not, so the jump there is curvature's alone: far below a tenth of the jump
    # at ε, where it used to pass for curvature.
    model = cr.Sequential(cr.Linear(2, 3), cr.ReLU(), cr.Linear(3, 2), seed=0).astype("float64")
    X = np.array([[0.7, -1.3], [1.1, 0.4]])
    model.params["0.W"][...] = [[0.1257302165031433, -0.13210485875606537, 0.6404226422309875],
                                [0.10490011423826218, -0.5356693863868713, 0.3615950644016266]]
    model.params["0.b"][...] = [1e-5 - (X @ model.params["0.W"])[0, 0], 0.64020437899302, 0.7425954872158176]
    model.params["2.W"][...] = [[0.23362727463245392, 0.502801775932312], [0.09557756781578064, 0.9531959295272827],
                                [0.6920004487037659, -1.0894453525543213]]
    model.params["2.b"][...] = [1.0067243153057943, -2.7111624789659685]
    report = cr.gradcheck(model, X, np.array([0, 1]), "cross_entropy")
    assert report.errors["0.W"] > 1e-4
    assert report.kinks == {"0.W": 1, "0.b": 0, "2.W": 0, "2.b": 0, "input": 0}
    assert "At kinks of the loss: 0.W (1 of 6)" in str(report)
    assert cr.gradcheck(model, X, np.array([0, 1]), "cross_entropy", eps=1e-6).passed()  # away from it


def test_a_stationary_point_is_named_in_the_report():
    # An exact fit of MSE: both gradients are rounding noise (error 1.0), which the report must not
    # leave unexplained.
    model = cr.Sequential(cr.Linear(2, 1), seed=0).astype("float64")
    X = normal(0, 5, 2)
    report = cr.gradcheck(model, X, model(X).ravel(), "mse")
    assert report.errors["0.W"] == 1.0 and not report.passed()
    assert report.rounding["0.W"] >= 1 and report.rounding["input"] >= 1
    assert ("Gradients within rounding of 0: 0.W, 0.b, input. The point is (near) stationary for them"
            in str(report))
    assert "check at another point (move the parameters or X)" in str(report)


def test_errors_within_rounding_name_the_bound_and_a_remedy():
    # Inputs of scale 1e6: the step ε = 1e-5 is a relative change of 1e-11, so rounding errors of
    # ~1e-5 fail the default tolerance with a correct backward.
    model = cr.Sequential(cr.Linear(2, 1), seed=0)
    X = normal(1, 5, 2) * 1e6
    report = cr.gradcheck(model, X, normal(2, 5), "mse")
    assert not report.passed() and set(report.kinks.values()) == {0}  # no kink: rounding's jumps are none
    failing = [name for name, error in report.errors.items() if error > 1e-6]
    assert failing and all(report.errors[name] <= report.rounding[name] < 1 for name in failing)
    text = str(report)
    assert "Errors within the central differences' rounding: " in text
    assert f"{failing[0]} ({report.errors[failing[0]]:.1e}, bound {report.rounding[failing[0]]:.1e})" in text
    assert "a larger eps, or inputs and parameters scaled to about 1" in text
    assert "rounding" not in str(cr.gradcheck(model, X / 1e6, normal(2, 5), "mse"))  # scaled: nothing to say


@pytest.mark.parametrize("loss, y", [("cross_entropy", np.zeros(0, int)), ("mse", np.zeros((0, 2)))])
def test_x_without_rows_is_a_shape_error_naming_x(loss, y):
    model, X, _ = model_and_data()
    with pytest.raises(cr.ShapeError, match=r"^X has no rows \(shape \(0, 3\)\); expected at least 1$"):
        cr.gradcheck(model, X[:0], y, loss)


# -- a backward that adds to its gradients, and an eps lost in rounding ----------------------------
class Accumulating(Scale):
    """Scale whose backward adds to its gradient (PyTorch's habit) instead of overwriting it."""

    def backward(self, dY, input_grad=True):
        self.own_grads["a"] += np.sum(dY * self._X, axis=0)  # the defect
        return dY * self.own_params["a"] if input_grad else None


def test_a_backward_that_adds_to_its_gradients_is_named_whatever_they_held():
    """gradcheck passed it on a fresh model (gradients 0) and failed it after one backward."""
    model = cr.Sequential(cr.Linear(3, 4), Accumulating(4), cr.Linear(4, 2), seed=0)
    _, X, y = model_and_data()
    message = (r"layer '1' \(Accumulating\): backward added to own_grads\['a'\] \(or left part of it as it was\) "
               r"instead of overwriting it: 4 of 4 elements .* A backward must overwrite its gradients \(chainrule "
               r"has no zero_grad\): write own_grads\['a'\]\[...\] = value, not \+= value")
    with pytest.raises(cr.StateError, match=message):
        cr.gradcheck(model, X, y, "cross_entropy")
    loss = cr.SoftmaxCrossEntropy()
    model.backward(loss(model.forward(X.astype(np.float32)), y)[1])
    with pytest.raises(cr.StateError, match=message):
        cr.gradcheck(model, X, y, "cross_entropy")


@pytest.mark.parametrize("eps, name", [(1e-18, "0.W"), (1e-10, "input")])
def test_an_eps_lost_in_rounding_is_refused_naming_eps(eps, name):
    """At eps = 1e-18, θ ± eps == θ: every error was 1 and the report blamed a stationary point."""
    model, X, y = model_and_data()
    X = X * {"0.W": 1, "input": 1e6}[name]
    with pytest.raises(cr.HyperparameterError, match=rf"^eps: {eps:g} is too small for the magnitude of {name} "
                                                     r"\(largest \|value\| .*\): value ± eps rounds to the value"):
        cr.gradcheck(model, X, y, "cross_entropy", eps=eps)


def test_gradients_hidden_by_a_small_eps_blame_eps_not_the_point():
    model, X, y = model_and_data()
    report = cr.gradcheck(model, X, y, "cross_entropy", eps=1e-15)
    assert min(report.rounding.values()) >= 1
    text = str(report)
    assert "Gradients within rounding of 0 at eps = 1e-15: 0.W, 0.b, 2.W, 2.b, input. eps is too small" in text
    assert "stationary" not in text


def test_the_default_loss_is_the_one_fit_would_train():
    # design.md's cr.gradcheck(model, X, y): labels check the cross-entropy, as fit trains it, not MSE
    model, X, y = model_and_data()
    assert cr.gradcheck(model, X, y).errors == cr.gradcheck(model, X, y, "cross_entropy").errors
    values = normal(3, 5, 2)
    assert cr.gradcheck(model, X, values).errors == cr.gradcheck(model, X, values, "mse").errors
    model.preprocessor = cr.Preprocessor(3, task="multilabel", classes=[0, 1])  # the preprocessor's task wins
    targets = np.array([[0, 1], [1, 1], [0, 0], [1, 0], [0, 1]])
    assert cr.gradcheck(model, X, targets).errors == cr.gradcheck(model, X, targets, "binary_cross_entropy").errors


@pytest.mark.parametrize("preprocessor, y, error, reason", [
    (None, normal(3, 5), cr.ShapeError, "from y, which holds floats"),
    (cr.Preprocessor(3, task="classification", classes=[0, 1]), np.array(["a", "b", "b", "a", "b"]), cr.DTypeError,
     "from the model's preprocessor (task 'classification')"),
])
def test_a_default_loss_that_refuses_y_says_where_it_came_from(preprocessor, y, error, reason):
    model, X, _ = model_and_data()
    model.preprocessor = preprocessor
    loss = "MSE" if preprocessor is None else "SoftmaxCrossEntropy"
    with pytest.raises(error, match=re.escape(f"; gradcheck chose loss={loss} {reason} (as cr.fit chooses it); "
                                              f"pass loss= to check another")):
        cr.gradcheck(model, X, y)


@pytest.mark.parametrize("labels", [np.array(["setosa", "versicolor", "virginica"]), np.array([1, 2, 3])],
                         ids=["str", "1..3"])
def test_the_labels_a_model_was_fitted_on_are_taken_as_cr_fit_takes_them(labels):
    """gradcheck(model, X, y) with the y cr.fit trained it on was refused ("got labels of dtype <U10", "labels must lie
    in [0, 3)"), with the advice to pass another loss; cr.evaluate takes those labels."""
    model = cr.Sequential(cr.Linear(3, 4), cr.Tanh(), cr.Linear(4, 3), seed=0)
    X, indices = normal(0, 6, 3), np.array([0, 1, 2, 2, 1, 0])
    cr.fit(model, X, labels[indices], epochs=1, verbose=0)
    report = cr.gradcheck(model, X, labels[indices])
    assert report.passed()
    assert report.errors == cr.gradcheck(model, X, indices).errors


def test_labels_of_a_model_without_a_preprocessor_are_taken_as_cr_fit_would_take_them():
    model, X, y = model_and_data()  # 2 outputs
    for labels in (y.astype(bool), np.array(["no", "yes"])[y], y + 5):
        assert cr.gradcheck(model, X, labels).errors == cr.gradcheck(model, X, y).errors
    with pytest.raises(cr.LabelError, match=r"labels must lie in \[0, 2\)"):  # a loss given takes y as it is
        cr.gradcheck(model, X, y + 5, "cross_entropy")


def test_a_loss_given_that_refuses_y_raises_its_own_error():
    model, X, _ = model_and_data()
    with pytest.raises(cr.ShapeError, match=r"^MSE: expected targets of shape \(n_samples, 2\), got \(5,\)$"):
        cr.gradcheck(model, X, normal(3, 5), "mse")


class BiasGradientTooLarge(cr.Linear):
    """Linear whose bias gradient is 1.5 times too large."""

    def backward(self, dY, input_grad=True):
        dX = super().backward(dY, input_grad)
        self.own_grads["b"][...] *= 1.5
        return dX


def test_a_wrong_backward_of_an_array_whose_every_element_is_at_a_kink_does_not_pass():
    """A row of zeros puts every first-layer ReLU input at 0 (biases 0): each element of 0.b is at
    a kink, none was compared, and passed(at_kinks=False) passed the wrong bias gradient."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    X[2] = 0
    model = cr.mlp([4, 5, 3], seed=1)
    model.layers[0].__class__ = BiasGradientTooLarge
    report = cr.gradcheck(model, X, y)
    assert report.unverified == ["0.b"] and report.errors_away_from_kinks["0.b"] == 0
    assert not report.passed(at_kinks=False)


def test_the_advice_for_an_array_whose_every_element_is_at_a_kink_fits_the_eps_used():
    """At the default eps it said the loss may be far from linear over a step (the default eps is
    1e-05): advice to use the eps already in use."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    X[2] = 0  # with biases 0, every first-layer ReLU input of row 2 is at its kink
    text = str(cr.gradcheck(cr.mlp([4, 5, 3], seed=1), X, y))
    assert ("Every checked element is at a kink in: 0.b. None of them is compared away from kinks, so "
            "passed(at_kinks=False) is False: nothing in them was checked; the point sits at kinks of the loss, "
            "or within eps = 1e-05 of them: check at one away from them (random biases, inputs away from 0), "
            "or, for kinks near the point but not at it, with a smaller eps.") in text
    assert "default" not in text
    report = cr.GradcheckReport(errors={"0.b": 0.8}, checked={"0.b": 2}, kinks={"0.b": 2}, eps=0.1,
                                errors_away_from_kinks={"0.b": 0.0})
    assert ("nothing in them was checked; at eps = 0.1 the loss may be far from linear over a step: check with a "
            "smaller eps (the default is 1e-05); or the point sits at kinks") in str(report)


def test_a_large_curvature_is_no_kink():
    """A tanh network (no kinks anywhere) on inputs of 100: jumps above 100·ε counted as kinks
    outright, and passed(at_kinks=False) left out the elements whose errors failed the check."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 6)
    found = []
    for _ in range(4):
        X = rng.standard_normal((6, 4)) * 100
        model = cr.mlp([4, 5, 3], activation="tanh", seed=1)
        model.params["0.b"] = rng.standard_normal(5) * 0.3
        report = cr.gradcheck(model, X, y)
        found.append(sum(report.kinks.values()))
        assert report.errors_away_from_kinks == report.errors
    assert found == [0, 0, 0, 0]


class Float32Scale(Scale):
    """Scale whose forward writes into a float32 array of its own: right in a float32 model, float32 out of float64."""

    def forward(self, X):
        self._X = X
        Y = np.empty(X.shape, np.float32)
        Y[...] = X * self.own_params["a"]
        return Y


def test_a_forward_that_changes_the_dtype_of_the_float64_copy_is_refused_naming_the_layer():
    """The check computed in float32 there, and its correct backward FAILED with every parameter "at a kink"."""
    model = cr.Sequential(cr.Linear(3, 4), Float32Scale(4), cr.Linear(4, 2), seed=0)
    X, y = normal(0, 5, 3), np.array([0, 1, 1, 0, 1])
    with pytest.raises(cr.DTypeError, match=r"^layer '1' \(Float32Scale\): forward returned float32 for input of "
                                            r"float64; a layer's forward returns its input's dtype, .*; gradcheck runs "
                                            r"a float64 copy of the model"):
        cr.gradcheck(model, X, y)


def test_subnormal_inputs_raise_no_underflow_error_under_numpy_seterr_raise():
    """Inputs of 1e-310 (float64's subnormal numbers) make X W, the squared errors and their gradients underflow, to
    their right values: under a caller's numpy.seterr(all="raise") gradcheck raised FloatingPointError from its
    first forward pass; now it checks the model, as under NumPy's default."""
    model = cr.Sequential(cr.Linear(3, 4), cr.Tanh(), cr.Linear(4, 2), seed=0)
    X = np.array([[1e-310, -2e-310, 0.5], [1e-310, 1.0, -1e-320]])
    y = np.array([[1e-310, 0.0], [0.3, -0.2]])
    with np.errstate(under="ignore"):
        expected = cr.gradcheck(model, X, y, "mse")
    with np.errstate(all="raise"):
        report = cr.gradcheck(model, X, y, "mse")
    assert report.passed() and report.max_rel_error == expected.max_rel_error
