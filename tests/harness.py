"""Shared test harness: the gradient check every layer and loss goes through.

A layer's test declares its inputs and targets; ``assert_gradients`` runs ``chainrule.gradcheck``
(central differences in float64) and fails with the per-array report when backpropagation and
the finite differences disagree. ``assert_keeps_float32`` checks that a float32 layer never
upcasts, ``traced_peak`` measures what a call allocates, and ``bound_by_permissions`` runs a
command that a file's permissions bind, also as root. ``Scale`` is a layer of a user's own,
written as docs/design.md says, ``capture_figures`` keeps the figures the plots save and
``assert_tick_labels_do_not_overlap`` checks a drawn depth axis; ``assert_agrees`` compares an
array with PyTorch's (the tests against torch), ``assert_computes_into_reused_arrays`` that a loss writes into
the training loop's reused arrays. Example counts and sizes are
kept small (tests/conftest.py sets the hypothesis profile). Data come from ``numpy.random.default_rng(seed)``: continuous values, so a ReLU kink is
hit with probability ~0, and the same seed always gives the same arrays.
"""

from __future__ import annotations

import os
import shutil
import tracemalloc

import numpy as np
import pytest
from hypothesis import strategies as st

import chainrule as cr

TOLERANCE = 1e-6  # the bound on gradcheck's max relative error, in float64
# The central-difference step: near (3u)^(1/3) ≈ 1e-5 (u ≈ 2.2e-16), where truncation error
# (∝ ε²) and rounding error (∝ u|L|/ε) balance; gradcheck's default (DEFAULT_EPS) too. A step of
# 1e-6 is rounding-bound: an array whose gradients are all below ~1e-4·|L| fails the bound with a
# correct backward.
EPS = 1e-5

seeds = st.integers(min_value=0, max_value=2**32 - 1)
batch_sizes = st.integers(min_value=1, max_value=6)
widths = st.integers(min_value=1, max_value=8)
#: hidden widths of deep stacks: a width-1 bottleneck can shrink a gradient to ~1e-5 of the
#: loss, below what central differences resolve to 1e-6 relative in float64
hidden_widths = st.integers(min_value=2, max_value=8)


def normal(seed: int, *shape: int) -> np.ndarray:
    """Standard normal float64 data of ``shape`` from ``default_rng(seed)``."""
    return np.random.default_rng(seed).normal(size=shape)


def regression_targets(seed: int, n_samples: int, n_outputs: int) -> np.ndarray:
    """MSE targets N(2, 1): residuals of one sign, so that Σ_n of a bias gradient does not cancel."""
    return normal(seed, n_samples, n_outputs) + 2.0


def sample_weights(seed: int, n_samples: int) -> np.ndarray:
    """Weights of ``n_samples`` rows from ``default_rng(seed)``: U(0.1, 3), about one in three of
    them 0 (rows that must not count), never the first, so that they are never all 0."""
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.1, 3.0, size=n_samples)
    weights[1:][rng.uniform(size=n_samples - 1) < 1 / 3] = 0.0
    return weights


def randomize_biases(layer: cr.Layer, seed: int) -> cr.Layer:
    """Give every bias ("…b") a N(0, 1) value (Linear starts them at 0); returns ``layer``.

    With zero biases a first hidden layer is exactly proportional to x, and a tiny sampled x
    makes every gradient downstream tiny; central differences in float64 resolve a gradient
    only to ~1e-10 absolute, so such a draw would fail the 1e-6 relative bound however
    correct the backward is.
    """
    rng = np.random.default_rng(seed)
    for name, array in layer.params.items():
        if name.rsplit(".", 1)[-1] == "b":
            array[...] = rng.normal(size=array.shape)
    return layer


def assert_gradients(layer: cr.Layer, X, targets, loss="mse", tolerance: float = TOLERANCE,
                     sample_weight=None) -> cr.GradcheckReport:
    """Assert backprop through ``layer`` and ``loss`` (weighted by ``sample_weight``, when given)
    matches central differences in float64.

    Every parameter of ``layer`` but those of frozen layers (which must be reported as skipped)
    and the input X must have been checked, in full, and the largest relative error must be at
    most ``tolerance``.
    """
    report = cr.gradcheck(layer, X, targets, loss, eps=EPS, sample_weight=sample_weight)
    frozen = set(layer.frozen_parameters)
    sizes = {name: array.size for name, array in layer.params.items() if name not in frozen}
    sizes["input"] = np.asarray(X).size
    assert set(report.errors) == set(sizes)
    assert report.checked == sizes
    assert report.skipped == {name: layer.params[name].size for name in frozen}
    assert report.max_rel_error <= tolerance, f"gradcheck failed (worst: {report.worst})\n{report}"
    return report


def assert_keeps_float32(layer: cr.Layer, X, loss=None, targets=None) -> None:
    """A float32 ``layer`` keeps float32 through forward and backward: Y, dX and every grad."""
    layer.astype("float32")
    Y = layer(np.asarray(X, dtype=np.float32))
    assert Y.dtype == np.float32
    if loss is None:
        dY = np.ones_like(Y)
    else:
        _, dY = loss(Y, targets)
    assert dY.dtype == np.float32
    dX = layer.backward(dY)
    assert dX.dtype == np.float32
    for name, grad in layer.grads.items():
        assert grad.dtype == np.float32, name
    for name, param in layer.params.items():
        assert param.dtype == np.float32, name


# Magnitudes at the bottom of each dtype's range: 1e-20 (whose square underflows float32), float32's smallest
# normal number and a subnormal, float64's subnormal 1e-310 (0 in float32), and 0 and −0 (numpy.errstate: see
# assert_no_underflow_error)
NEAR_ZERO = (1e-20, -1e-20, 1.2e-38, -1e-38, 1e-45, -1e-45, 1e-310, -1e-310, 0.0, -0.0)


def tiny_grid(dtype) -> tuple[np.ndarray, np.ndarray]:
    """X and dY in ``dtype`` that pair each of NEAR_ZERO, 1, −2.5 and 1e3 with each: X[i, j] = v_j, dY[i, j] = v_i."""
    with np.errstate(under="ignore"):  # 1e-310 rounds to 0 in float32: the conversion itself underflows
        values = np.array(NEAR_ZERO + (1.0, -2.5, 1e3), dtype=dtype)
    X = np.tile(values, (values.size, 1))
    return X, X.T.copy()


def assert_no_underflow_error(make, X, dY) -> None:
    """``make()``'s forward of X and backward of dY raise no FloatingPointError under
    ``numpy.errstate(all="raise")`` and give the arrays they give under NumPy's default (bit for bit),
    where results underflow to subnormal numbers or 0; in place too (``inplace=True``) for a layer that
    takes it. An underflow is the right value, as NumPy's default takes it (docs/design.md, "Numbers at
    the extremes")."""
    for inplace in (False, True):
        layer = make()
        keywords = {"inplace": True} if inplace and layer.works_in_place else {}
        with np.errstate(under="ignore"):
            expected = layer.forward(X.copy(), **keywords).copy(), layer.backward(dY.copy(), **keywords).copy()
        layer = make()
        with np.errstate(all="raise"):
            Y = layer.forward(X.copy(), **keywords).copy()
            dX = layer.backward(dY.copy(), **keywords)
        np.testing.assert_array_equal(Y, expected[0])
        np.testing.assert_array_equal(dX, expected[1])
        assert np.signbit(Y).tolist() == np.signbit(expected[0]).tolist()  # −0 where the default gives −0


def tiny_model() -> cr.Sequential:
    """Sequential(Linear(2, 1)) in float64 with W = [[0.5], [-1.0]] and b = [0.25], set by hand."""
    model = cr.Sequential(cr.Linear(2, 1, dtype="float64"))
    model.params["0.W"][...] = [[0.5], [-1.0]]
    model.params["0.b"][...] = [0.25]
    return model


#: the gradients (∂L/∂W, ∂L/∂b) that the optimizer tests write for steps 1, 2 and 3
TINY_GRADS = [([0.1, -0.2], 0.3), ([-0.4, 0.1], 0.2), ([0.2, 0.2], -0.1)]


def write_grads(model: cr.Layer, gW, gb) -> None:
    """Write ∂L/∂W and ∂L/∂b of ``tiny_model`` by hand, as a backward would."""
    model.grads["0.W"][...] = np.reshape(gW, (2, 1))
    model.grads["0.b"][...] = gb


def weights_and_bias(model: cr.Layer) -> tuple[list, float]:
    """``tiny_model``'s W as a list [w1, w2] and b as a float."""
    return model.params["0.W"][:, 0].tolist(), float(model.params["0.b"][0])


def run_tiny_steps(optimizer_factory, n_steps: int):
    """(optimizer, trajectory): ``n_steps`` updates of ``tiny_model`` from ``TINY_GRADS``,
    with the weights and bias recorded after each."""
    model = tiny_model()
    optimizer = optimizer_factory(model)
    trajectory = []
    for gW, gb in TINY_GRADS[:n_steps]:
        write_grads(model, gW, gb)
        optimizer.step()
        trajectory.append(weights_and_bias(model))
    return optimizer, trajectory


def assert_agrees(ours, theirs, rtol: float, what: str = "") -> None:
    """``ours`` (NumPy) equals ``theirs`` (a torch tensor or an array) to ``rtol`` relative to the
    larger array's largest finite magnitude (an entry far below it, a probability of 1e-40 that one
    side flushes to 0, is rounding there), with NaN and ±inf at the same places."""
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, what
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=what)
    infinite = np.isinf(ours) | np.isinf(theirs)
    np.testing.assert_array_equal(ours[infinite], theirs[infinite], err_msg=what)
    finite = ~(np.isnan(ours) | infinite)
    scale = max(np.abs(ours[finite]).max(initial=0.0), np.abs(theirs[finite]).max(initial=0.0))
    difference = np.abs(ours[finite] - theirs[finite]).max(initial=0.0)
    assert difference <= rtol * scale, f"{what}: max |ours − torch's| = {difference:.3g} of a largest {scale:.3g}"


def traced_peak(call):
    """``(call(), peak bytes)``: what ``call`` returns and the most memory Python and NumPy
    held at once while it ran (tracemalloc, counted from 0 at the call)."""
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class Scale(cr.Layer):
    """h = a ⊙ x, a layer of the user's own (docs/design.md, "Writing a layer with parameters")."""

    def __init__(self, width, dtype="float32"):
        super().__init__()
        self.own_params["a"] = np.ones(width, dtype=dtype)
        self.own_grads["a"] = np.zeros(width, dtype=dtype)

    def reset_parameters(self, rng):
        self.own_params["a"][...] = rng.normal(size=self.own_params["a"].shape)

    def forward(self, X):
        self._X = X
        return X * self.own_params["a"]

    def backward(self, dY, input_grad=True):
        np.sum(dY * self._X, axis=0, out=self.own_grads["a"])
        return dY * self.own_params["a"] if input_grad else None


class Rebinding(Scale):
    """Scale with a defect a custom backward can have: it assigns a new gradient array instead
    of writing into the one it holds, so a loop stepping from the flat buffer would train on
    stale gradients (fit refuses it by name)."""

    def backward(self, dY, input_grad=True):
        self.own_grads["a"] = (dY * self._X).sum(axis=0)  # a new array: the defect
        return dY * self.own_params["a"] if input_grad else None


class UnfreezeAfter(cr.Callback):
    """Unfreezes the model's first layer at the end of epoch ``epoch``."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs, model):
        if epoch == self.epoch:
            model[0].trainable = True
        return False


class RowValues(cr.MSE):
    """MSE whose compute returns each row's loss, not their mean (on the CPU or the GPU)."""

    def compute(self, Y, T, weights=None):
        _, dY = super().compute(Y, T, weights)
        return ((Y - T) ** 2).sum(axis=1), dY


def suptitle(figure) -> str:
    """The text of ``figure``'s suptitle, as ``Figure.get_suptitle`` (matplotlib 3.8 and later) gives it."""
    return figure._suptitle.get_text() if figure._suptitle is not None else ""


def capture_figures(monkeypatch) -> list:
    """The figures chainrule.plots saves from now on, in order (they are still saved), so that a
    test can look at what was drawn."""
    from chainrule import plots  # matplotlib: imported only by the tests that draw

    figures = []
    save = plots.drawing._save

    def keep_and_save(figure, *arguments):
        figures.append(figure)
        return save(figure, *arguments)

    for module in (plots.history, plots.gradient_flow):  # each looks _save up in its own namespace
        monkeypatch.setattr(module, "_save", keep_and_save)
    return figures


def bound_by_permissions(command: list) -> list:
    """``command`` made to run without root's power to write any file (a plain user is bound
    already), so that a file's permissions decide what it may write; skips the test as root
    without setpriv."""
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, without setpriv to give up overriding file permissions")
    dropped = "-dac_override,-dac_read_search"
    return ["setpriv", f"--bounding-set={dropped}", f"--inh-caps={dropped}", *command]


def assert_tick_labels_do_not_overlap(axes) -> None:
    """Neighbouring depth tick labels of the drawn ``axes`` leave room for a line of text between
    their anchors: side by side when upright, measured across the text when slanted."""
    figure = axes.get_figure()
    renderer = figure.canvas.get_renderer()
    labels = [label for label in axes.xaxis.get_ticklabels() if label.get_text()]
    anchors = [axes.transData.transform((tick, 0))[0] for tick in axes.get_xticks()]
    line_height = labels[0].get_fontsize() * figure.dpi / 72
    for (left, right), (x_left, x_right) in zip(zip(labels, labels[1:]), zip(anchors, anchors[1:])):
        rotation = np.radians(left.get_rotation())
        if rotation == 0:
            assert left.get_window_extent(renderer).x1 < right.get_window_extent(renderer).x0
        else:  # parallel slanted lines of text, anchored (x_right - x_left) pixels apart
            assert (x_right - x_left) * np.sin(rotation) >= line_height, (left.get_text(), left.get_rotation())


class VelocityNormSGD(cr.SGD):
    """An SGD with a step of its own, which records the velocity's norm after each step (a step the GPU's
    loop never calls: tests/training/test_fit_device.py; tests/optimizers/test_sgd_stepping.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.norms = []

    def step(self, **kwargs):
        taken = super().step(**kwargs)
        self.norms.append(float(np.linalg.norm(self.state["velocity"])))
        return taken


def assert_computes_into_reused_arrays(loss, *arguments) -> None:
    """``loss`` counts as built-in, so the training loop lets its compute write into the loop's reused arrays
    (chainrule.buffers): two computes of ``arguments`` (Y, T and any weights) inside ``loss_buffers(loss)`` give
    the same L, and the second ∂L/∂Y is the first's memory."""
    from chainrule.buffers import loss_buffers
    from chainrule.losses.loss import built_in_compute

    assert built_in_compute(loss)  # what the training loop asks (Loop.reused_loss)
    with loss_buffers(loss):
        first_value, first = loss.compute(*arguments)
        second_value, second = loss.compute(*arguments)
    assert np.shares_memory(second, first)
    assert second_value == first_value
