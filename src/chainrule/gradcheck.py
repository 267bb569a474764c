"""A public gradient checker: backpropagation against central differences, in float64.

For every parameter θ_i (and every input x_i) the checker compares the chain-rule
gradient ``backward`` wrote with the central difference

    ∂L/∂θ_i ≈ (L(θ + ε e_i) − L(θ − ε e_i)) / 2ε

on a float64 copy of the model (the model itself is not touched). backward overwrites the
gradients, so it runs first on gradients of NaN: an element it leaves NaN there and not on
gradients of 0 kept (or added to) what the array held, which is refused by name, whatever the
model's last backward left in it. The central difference's error is O(ε²)
from truncation plus O(u/ε) from rounding, u ≈ 1e-16, so in float64 a correct backward
agrees to about 1e-8 relative and a wrong one does not.

``cr.fit`` runs backward otherwise: inside ``reusing_buffers``, where each layer writes into the
same buffers (``Layer.buffer``: ReLU's mask, Linear's Z and dX) step after step. The checker runs
that path too, two steps in a row (on −X, then on X), and refuses by name a parameter whose
gradient there is not the one it checks (up to rounding): a buffer read before the step wrote it,
or overwritten while still needed, would pass the central differences and train wrongly.

The error of an array is ``max_i |analytic_i − numeric_i| / max_i max(|analytic_i|, |numeric_i|)``:
relative to the largest gradient of that array, so a gradient that is exactly 0 (a dead
ReLU) does not divide by 0, and a small element computed wrongly still shows. A NaN or
Inf in either gradient gives an error of inf, so the check fails.

At a kink (a ReLU input exactly 0, as when every bias is still 0 and a row of ReLU outputs
is all 0) the loss has no derivative: the central difference averages the slopes on the two
sides, backward takes one of them, and the error can reach 1 with a correct backward. The
checker spots such an element by its one-sided differences (L(θ + ε) − L(θ))/ε and
(L(θ) − L(θ − ε))/ε, which differ by O(ε) where L is smooth and by the jump in slope at a
kink; the report counts these elements (``kinks``), gives each array's error without them
(``errors_away_from_kinks``, which ``passed(at_kinks=False)`` judges) and its text says what they mean. Check at
a point away from kinks: random biases, inputs away from 0. Every such jump is measured again
at ε/10, to tell a kink from curvature (a large curvature jumps too: a tanh network on inputs
of 100): a kink within ε/10 keeps its jump there, one between ε/10 and ε leaves only
curvature's, which is a tenth of curvature's jump at ε. Where the gradient
reaching that ReLU is 0 (its outputs equal their targets, say), the slope does not jump, the
curvature does: L(θ + h) ≈ L(θ) + g h + c± h²/2 on either side, backward's g is the derivative,
and the central difference is off by (c₊ − c₋) ε/4, O(ε) and not the O(ε²) of a smooth loss.
Such an element is counted as a kink too: its error at ε/10 is a tenth of its error at ε,
where a smooth loss's shrinks a hundredfold and a wrong backward's stays.

Rounding bounds what the check can see. The central difference of θᵢ is moved by rounding by
about 4u (|L| + |θᵢ| (|s₊| + |s₋|)) / ε, with u = 2.2e-16 (float64's machine epsilon: twice
its unit roundoff, a margin) and s± the one-sided slopes (rounding of
L, of θᵢ ± ε, and of the forward pass, which moves the gradient by the curvature times u |θᵢ|);
``rounding`` holds each array's largest bound relative to its largest gradient. The errors and
``passed()`` are left as they are (a bound is an estimate, not a proof), and the report's text
says what they mean: where an array's bound is 1 or more its gradient is within rounding of 0,
the point is (near) stationary and the central difference cannot check it, so check at another
point; where an error above the default tolerance is below its bound, it names the bound and
suggests a larger eps or inputs and parameters scaled to about 1 (inputs of 1e6 change by a
relative 1e-11 with ε = 1e-5). The bound grows as 1/ε: where it is 1 or more only because ε is
below 1e-5 (1e-5 would bring it below 1) the text blames ε instead of the point. An ε of at most
ε_mach max|θᵢ| over an array checked (its largest value, whether or not ``max_checks`` samples
it) is refused outright: there θᵢ ± ε rounds to θᵢ, or nearly.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy

from .backend import to_device, to_numpy
from .checks import as_matrix, flag, positive, positive_int
from .data.preprocessing import check_preprocessor_inputs
from .errors import ChainruleError, DTypeError, HyperparameterError, LabelError, ShapeError, StateError
from .initializers import as_generator
from .layers.layer import Layer, check_initialized
from .layers.sequential import Sequential
from .losses import Loss, get_loss
from .losses.loss import checked_weights
from .training.loop import check_loss_gradient, check_loss_value
from .training.outputs import check_outputs, outputs_dtype_error
from .training.prepare import as_targets, default_loss, encode_targets, fit_preprocessor

INPUT = "input"  # the report's name for ∂L/∂X
# An element is at a kink when its two one-sided differences differ by more than this
# fraction of the array's largest gradient: far above the O(ε)·L'' of a smooth loss.
KINK_RATIO = 1e-3
# Any difference may also be the |∂²L/∂θ²|·ε of a smooth loss, of a large curvature (inputs of
# 100 through a tanh) or where the gradient is about 0 (a stationary point, where KINK_RATIO of
# the largest gradient is about 0 too): it is measured again at ε/10, where curvature's share
# shrinks tenfold and a kink's stays.
# A kink between ε/10 and ε is out of reach of the steps of ε/10: there its jump is curvature's
# alone, which is a tenth of the jump at ε where L is smooth. Such an element counts as a kink
# when its jump at ε/10, plus rounding's bound there, is below this fraction of the jump at ε: a
# tenth of curvature's tenth, a margin for rounding noise, which is ten times larger at ε/10 than
# at ε, and for the O(ε³) part of a smooth loss's jump.
KINK_VANISHED = 1e-2
# Where the curvature alone jumps (see the module docstring) the central difference's error is
# proportional to ε. Such an element counts as a kink when its error at ε/10, less a tenth of
# its error at ε, plus rounding's bound at ε/10, is below this fraction of its error at ε: a
# smooth loss's error at ε/10 is a hundredth of it and leaves 9% of it, a wrong backward's
# leaves 90%.
KINK_FIRST_ORDER = 1e-2
MACHINE_EPSILON = 2.2e-16  # ε_mach of float64 (numpy.finfo(numpy.float64).eps), twice its unit roundoff
TOLERANCE = 1e-6  # passed()'s default bound on the relative error
DEFAULT_EPS = 1e-5  # near (3u)^(1/3), where truncation (∝ ε²) and rounding (∝ u|L|/ε) balance
MAX_EPS = 1.0  # the step must be below this: over a step of 1 a network's loss is far from linear
# Backward inside reusing_buffers repeats the operations of backward outside it into other
# memory: the same numbers (in every test model), or a few ε_mach of the largest gradient apart
# where a BLAS blocks a product by the memory's alignment.
REUSE_TOLERANCE = 1e-12


@dataclass
class GradcheckReport:
    """What ``gradcheck`` found: the relative error of every parameter array and the input.

    Attributes
    ----------
    errors : dict of str to float
        Parameter path (``"0.W"``) or ``"input"`` -> max relative error.
    checked : dict of str to int
        How many elements of each array were compared.
    kinks : dict of str to int
        How many of them sit at a kink of the loss (see the module docstring), where a
        large error does not mean a wrong backward.
    eps : float
        The central-difference step ε.
    skipped : dict of str to int
        Parameters of frozen layers (``trainable = False``), whose gradients are not computed
        and so not checked -> their number of elements.
    rounding : dict of str to float
        The bound on the rounding error of each array's central differences, relative to its
        largest gradient, as its error is (see the module docstring): an error below it is
        rounding, and a bound of 1 or more means the gradient itself is within rounding of 0.
    errors_away_from_kinks : dict of str to float
        The max relative error of each array over its elements not at kinks (scaled by the
        array's largest gradient, as ``errors``): what ``passed(at_kinks=False)`` judges.

    ``str(report)`` (``print(report)``) shows a row per array, the notes below, and ends with the
    verdict of ``chainrule gradcheck`` (:meth:`verdict`), at the default tolerance 1e-6;
    ``report.text(tolerance)`` judges it at another.
    """

    errors: dict = field(default_factory=dict)
    checked: dict = field(default_factory=dict)
    kinks: dict = field(default_factory=dict)
    eps: float = DEFAULT_EPS
    skipped: dict = field(default_factory=dict)
    rounding: dict = field(default_factory=dict)
    errors_away_from_kinks: dict = field(default_factory=dict)

    @property
    def max_rel_error(self) -> float:
        """The largest relative error over all parameters and the input."""
        return max(self.errors.values(), default=0.0)

    @property
    def worst(self) -> str | None:
        """The name of the array with the largest error."""
        return max(self.errors, key=self.errors.get, default=None)

    def passed(self, tolerance: float = TOLERANCE, *, at_kinks: bool = True) -> bool:
        """True when every array's relative error is at most ``tolerance``; with ``at_kinks=False``
        the elements at kinks are left out (``errors_away_from_kinks``), as ``chainrule gradcheck``
        judges: there a correct backward can be off by up to 1. An array whose every checked
        element is at a kink (``unverified``) had nothing compared, and the check does not pass
        that way: its backward may be wrong. HyperparameterError naming ``tolerance`` unless it is a
        number > 0 (as ``chainrule gradcheck --tolerance``), or ``at_kinks`` unless it is a bool."""
        tolerance = positive(tolerance, "tolerance")
        flag(at_kinks, "at_kinks")
        errors = self.errors if at_kinks else self._errors_away_from_kinks()
        if not at_kinks and self.unverified:
            return False
        return max(errors.values(), default=0.0) <= tolerance

    def _errors_away_from_kinks(self) -> dict:
        """``errors_away_from_kinks``, with an array it has no entry for (a report built by hand)
        judged by its error over all its elements: as if none of them were at a kink."""
        return {name: self.errors_away_from_kinks.get(name, error) for name, error in self.errors.items()}

    @property
    def unverified(self) -> list:
        """The arrays whose every checked element is at a kink: none of them is compared away
        from kinks. (With a step eps too large for the loss, every element looks like one.)"""
        return [name for name, count in self.kinks.items() if count and count >= self.checked.get(name, 0)]

    def verdict(self, tolerance: float = TOLERANCE) -> str:
        """The line that ends ``str(report)`` and ``chainrule gradcheck``'s text: the largest relative
        error that ``passed(tolerance, at_kinks=False)`` judges and its array, then ``passed`` or
        ``FAILED``, naming the arrays whose error exceeds ``tolerance`` and those with nothing
        compared (``unverified``). The elements at kinks are left out, and said to be: a correct
        backward can be off by up to 1 there."""
        errors = self._errors_away_from_kinks()
        if any(self.kinks.values()) and errors:
            worst = max(errors, key=errors.get)
            line = (f"max relative error {errors[worst]:.3e} ({worst}) away from the {sum(self.kinks.values())} "
                    f"elements at kinks, left out ({self.max_rel_error:.3e} with them)")
        else:
            line = f"max relative error {self.max_rel_error:.3e} ({self.worst})"
        if self.passed(tolerance, at_kinks=False):
            return f"{line}; tolerance {tolerance:g}: passed"
        above = [name for name, error in errors.items() if not error <= tolerance]
        reasons = [f"above it: {', '.join(above)}"] if above else []
        if self.unverified:  # what made it fail, though no error there exceeds the tolerance
            reasons.append(f"nothing compared in {', '.join(self.unverified)}: every element at a kink")
        return f"{line}; tolerance {tolerance:g}: FAILED ({'; '.join(reasons)})"

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """What IPython and Jupyter show for a report left as a cell's last line: ``str(report)``,
        verdict included, rather than the dataclass's one-line repr."""
        printer.text(str(self))

    def text(self, tolerance: float = TOLERANCE) -> str:
        """``str(report)``, with its verdict judged at ``tolerance``: a row per array (its elements
        checked, its max relative error), the notes on kinks, rounding and frozen parameters, and,
        after a blank line, :meth:`verdict`."""
        width = max([len(name) for name in self.errors] + [9])
        rows = [f"{'parameter':<{width}}  {'checked':>7}  max rel error"]
        # A report built by hand may hold errors alone: its counts are shown as "?"
        rows += [f"{name:<{width}}  {self.checked.get(name, '?'):>7}  {error:.3e}"
                 for name, error in self.errors.items()]
        at_kinks = [f"{name} ({count} of {self.checked.get(name, '?')})" for name, count in self.kinks.items() if count]
        if at_kinks:
            rows.append(
                f"At kinks of the loss: {', '.join(at_kinks)}. There the loss's slope jumps, or only its "
                "curvature where the gradient reaching the kink is 0 (e.g. a ReLU input exactly 0, as with all "
                "biases 0): the central difference is off by up to the jump, or by O(eps), and an error there "
                "does not mean a wrong backward. Check at a point away from kinks: random biases, inputs away "
                "from 0."
            )
        if self.unverified:
            if self.eps > DEFAULT_EPS:  # a step too large for the loss makes every element look like a kink
                advice = (f"at eps = {self.eps:g} the loss may be far from linear over a step: check with a smaller "
                          f"eps (the default is {DEFAULT_EPS:g}); or the point sits at kinks: check at one away "
                          "from them (random biases, inputs away from 0).")
            else:  # a smaller eps only steps past a kink that is near the point, not at it
                advice = (f"the point sits at kinks of the loss, or within eps = {self.eps:g} of them: check at one "
                          "away from them (random biases, inputs away from 0), or, for kinks near the point but "
                          "not at it, with a smaller eps.")
            rows.append(
                f"Every checked element is at a kink in: {', '.join(self.unverified)}. None of them is compared "
                f"away from kinks, so passed(at_kinks=False) is False: nothing in them was checked; {advice}"
            )
        # The bound grows as 1/eps: one that the default eps would bring below 1 is eps's doing
        too_fine = [name for name, bound in self.rounding.items() if 1 <= bound < DEFAULT_EPS / self.eps]
        if too_fine:
            at_default = max(self.rounding[name] for name in too_fine) * self.eps / DEFAULT_EPS
            rows.append(
                f"Gradients within rounding of 0 at eps = {self.eps:g}: {', '.join(too_fine)}. eps is too small "
                f"for the magnitude of the loss and the values: rounding moves a central difference by about "
                f"u (|L| + |θ| |∂L/∂θ|) / eps, so the check cannot see these gradients; with eps = "
                f"{DEFAULT_EPS:g} it bounds them at {at_default:.1e}."
            )
        stationary = [name for name, bound in self.rounding.items() if bound >= max(1, DEFAULT_EPS / self.eps)]
        if stationary:
            rows.append(
                f"Gradients within rounding of 0: {', '.join(stationary)}. The point is (near) stationary for "
                "them, where the central difference is rounding noise and cannot check backward: check at "
                "another point (move the parameters or X)."
            )
        rounded = [f"{name} ({self.errors[name]:.1e}, bound {self.rounding[name]:.1e})"
                   for name, bound in self.rounding.items() if TOLERANCE < self.errors[name] <= bound < 1]
        if rounded:
            rows.append(
                f"Errors within the central differences' rounding: {', '.join(rounded)}. They do not mean a "
                "wrong backward; a larger eps, or inputs and parameters scaled to about 1, check more precisely."
            )
        if self.skipped:
            rows.append(f"Skipped {len(self.skipped)} frozen parameters ({sum(self.skipped.values())} elements: "
                        f"{', '.join(self.skipped)}); their gradients are not computed.")
        rows += ["", self.verdict(tolerance)]
        return "\n".join(rows)


def gradcheck(model: Layer, X, y, loss=None, *, eps: float = DEFAULT_EPS, max_checks: int | None = None,
              check_input: bool = True, seed=0, sample_weight=None) -> GradcheckReport:
    """Compare ``model``'s backward with central differences of ``loss`` in float64.

    Parameters
    ----------
    model : Layer
        The model to check; a float64 copy is checked, the model is left as it was.
    X : array of shape (n_samples, n_features)
    y : targets, as the loss takes them
        Without ``loss``, also class labels as ``cr.fit`` takes them (strings, booleans, labels 1..K):
        by the classes of the model's preprocessor, so the y a model was fitted on checks it, else
        by the classes ``cr.fit`` would learn from y.
    loss : Loss or name, optional
        None (the default) infers it as ``cr.fit`` does: from the model's ``preprocessor`` when
        it has one (SoftmaxCrossEntropy for classification, BinaryCrossEntropy for multilabel,
        MSE for regression), else from y: MSE for floats, SoftmaxCrossEntropy for labels
        (integers, booleans, strings). Where that loss's ``prepare`` refuses y, its error names
        the loss chosen and why.
    eps : float
        The central-difference step ε.
    max_checks : int, optional
        Compare at most this many elements per array (an int >= 1), chosen at random from
        ``seed``; all of them by default.
    check_input : bool
        Also check ∂L/∂X (reported as ``"input"``).
    seed : int, numpy.random.Generator or None, default 0
        Picks the elements compared when ``max_checks`` is given (the same ones for the same
        seed); checked, but not used, otherwise.
    sample_weight : array of shape (n_samples,), optional
        Check the weighted loss Σ w_n l_n / Σ w_n that ``cr.fit(sample_weight=...)`` trains
        (checked as fit checks it; HyperparameterError for a loss whose compute takes none).

    Returns
    -------
    GradcheckReport
        An array whose analytic or numeric gradient holds NaN or Inf gets an error of inf.
        ``kinks`` counts the elements at a kink of the loss (a ReLU input exactly 0), where a
        correct backward can still show an error of up to 1; ``str(report)`` says so.
        Parameters of frozen layers (``trainable = False``) have no gradient: they are left
        out and listed in ``skipped`` (and ``str(report)``). ``rounding`` bounds each array's
        rounding error; ``str(report)`` names the arrays whose gradient is within rounding of 0
        (a stationary point) and the errors that are within rounding. It ends with the verdict,
        passed or FAILED and why, as ``chainrule gradcheck`` prints it (``GradcheckReport.verdict``).

    The checker works on copies: neither ``model`` nor the caller's X is ever modified, and
    the copied model is run as a root layer (no layer in it overwrites X).

    The gradients checked are those of backward outside a training loop. Backward as ``cr.fit``
    runs it, inside ``reusing_buffers`` (each layer's buffers handed out again step after step)
    with ``input_grad=False``, runs too, twice in a row: on −X, then on X, whose parameter
    gradients must equal the checked ones up to rounding (a relative 1e-12), or StateError names
    the parameter. A buffer read before the step wrote it then holds the first step's values.

    Raises
    ------
    ShapeError
        When ``X`` has no rows (the loss, a mean over them, has no value); naming the first layer, when
        ``check_input`` and the model's backward returns no array of X's shape; naming ``loss``, when its
        compute returns L as an array of another shape than () (DTypeError: not a real number), as
        ``cr.fit`` refuses it, or ∂L/∂Y of another shape than the outputs' (DTypeError: another dtype).
    DTypeError
        Naming the layer, when a forward of the float64 copy returns another dtype than its input's
        (a layer of one's own that makes float32 arrays): the check would compute in float32.
    StateError
        Naming the layer and the parameter, when a layer's backward adds to its gradient (``+=``)
        or leaves part of it as it was instead of overwriting it (chainrule has no zero_grad), or
        assigns a new gradient array; or when backward inside ``reusing_buffers``, as ``cr.fit``
        runs it, gives a parameter another gradient than backward outside it; naming the first
        layer, when a forward or backward changes the model's input X in place.
    HyperparameterError
        When ``model`` is not a Layer, ``max_checks`` is not a positive int, ``check_input`` is not a
        bool, ``eps`` is not above float64's rounding of every value checked (ε > ε_mach |θᵢ|) or not
        below 1, or no parameter is trainable (none there, or every one frozen) and ``check_input``
        is False (nothing to check;
        with ``check_input``, ∂L/∂x is checked through the frozen layers, as PyTorch's
        gradcheck checks inputs whatever the parameters' ``requires_grad``). Also, naming the
        layer and the parameter, when a layer's ``own_params`` and ``own_grads`` break the
        layer contract (a parameter without its gradient array, or one of another shape or
        dtype; see :func:`chainrule.parameters.check_own_arrays`).

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> model = cr.Sequential(cr.Linear(3, 4), cr.Tanh(), cr.Linear(4, 2), seed=0)
    >>> X, y = np.random.default_rng(0).normal(size=(5, 3)), np.array([0, 1, 1, 0, 1])
    >>> cr.gradcheck(model, X, y, cr.SoftmaxCrossEntropy()).max_rel_error < 1e-6
    True
    """
    # An underflow to a subnormal number or 0 (a loss or gradient of tiny inputs, 1e-310) is the right value in
    # float64, as NumPy's default takes it: no FloatingPointError under a caller's numpy.seterr(all="raise").
    # One context for the whole check, whose every forward and backward would otherwise meet the caller's.
    with numpy.errstate(under="ignore"):
        return _gradcheck(model, X, y, loss, eps=eps, max_checks=max_checks, check_input=check_input, seed=seed,
                          sample_weight=sample_weight)


def _gradcheck(model: Layer, X, y, loss, *, eps: float, max_checks: int | None, check_input: bool, seed,
               sample_weight) -> GradcheckReport:
    """:func:`gradcheck` within its ``numpy.errstate``."""
    if not isinstance(model, Layer):
        raise HyperparameterError(f"model: expected a chainrule Layer, got {type(model).__name__}")
    # named: a custom layer that skipped super().__init__(), or whose backward takes no input_grad
    for prefix, layer in model.walk():
        check_initialized(layer, f"layer {prefix.rstrip('.')!r}" if prefix else "model")
    if max_checks is not None:
        max_checks = positive_int(max_checks, "max_checks")
    flag(check_input, "check_input")
    frozen = set(model.frozen_parameters)
    if model.n_trainable_parameters == 0 and not check_input:
        why, remedy = ("the model has none", "")
        if frozen:
            why = "every layer is frozen, so no parameter gradient is computed"
            remedy = "trainable=True on the layers or "
        raise HyperparameterError(f"model: no trainable parameters: {why}, and check_input is False: nothing to "
                                  f"check; set {remedy}check_input=True")
    targets = to_numpy(y) if hasattr(y, "shape") else y
    inferred = ""  # where a default loss came from, for the errors of its prepare
    if loss is None:
        loss, inferred = inferred_loss(model, targets)
    else:
        loss = get_loss(loss)
    eps = positive(eps, "eps")
    if eps >= MAX_EPS:  # a vacuous step: 1e3 made every element look like a kink, and a wrong backward passed
        raise HyperparameterError(f"eps: expected a step below {MAX_EPS:g}, got {eps:g}; the central difference "
                                  f"estimates a derivative only over a small step (the default is {DEFAULT_EPS:g})")
    rng = as_generator(seed)
    model64 = copy.deepcopy(model).astype(numpy.float64)  # astype checks every layer's own_params/own_grads first
    # A copy: the input's finite differences below write into X64, which as_matrix may
    # return as the caller's own array.
    X64 = to_device(as_matrix(X, numpy.float64, name="X").copy(), model64.device)  # on the model's device
    if X64.shape[0] == 0:  # a loss is a mean over the rows: there would be nothing to divide by
        raise ShapeError(f"X has no rows (shape {tuple(X64.shape)}); expected at least 1")
    given = to_numpy(X64).copy()  # what a layer that changes its input in place would be caught by
    Y = model64.forward(X64)
    check_outputs(model64, X64, Y)
    if Y.dtype != X64.dtype:  # the check would compute in float32: a correct backward looked wrong, at "kinks"
        raise outputs_dtype_error(model64, X64, Y, "; gradcheck runs a float64 copy of the model, and a forward that "
                                                   "makes arrays of another dtype computes the check in that dtype")
    try:
        T = to_device(prepared_targets(model, X64, targets, loss, Y, labels=bool(inferred)), model64.device)
    except (DTypeError, LabelError, ShapeError) as error:
        if not inferred:
            raise
        raise type(error)(f"{error}; gradcheck chose loss={type(loss).__name__} {inferred} (as cr.fit chooses "
                          f"it); pass loss= to check another") from None
    W = ()  # compute's optional third argument: the weights
    if sample_weight is not None:
        W = (to_device(checked_weights(loss, sample_weight, Y.shape[0], "sample_weight", "X"), model64.device),)

    def value() -> float:
        return float(loss.compute(model64.forward(X64), T, *W)[0])

    L, dY = loss.compute(Y, T, *W)
    check_loss_value(loss, L)  # a custom loss's L of shape (n,), or text, named as fit names it
    check_loss_gradient(loss, dY, Y, "gradcheck computes in float64: ")
    held = model64.flat_parameters()  # the arrays fit would step, bound before backward writes them
    # Backward overwrites the gradients: it runs once on gradients of NaN, whose every element it
    # must replace, and once more on gradients of 0, whatever the model's last backward left.
    gradients = {name: gradient for name, gradient in model64.grads.items() if name not in frozen}
    for gradient in gradients.values():
        gradient[...] = numpy.nan
    model64.backward(dY, input_grad=check_input)
    check_input_kept(model64, X64, given)
    held.check_still_held()  # a backward that assigned new gradient arrays would train stale ones in fit
    unwritten = {name: numpy.isnan(to_numpy(gradient)) for name, gradient in gradients.items()}
    for gradient in gradients.values():
        gradient[...] = 0
    model64.forward(X64)  # what backward keeps from forward, afresh
    dX = model64.backward(dY, input_grad=check_input)
    check_overwritten(model64, unwritten)
    if check_input:
        check_input_gradient(model64, dX, X64.shape)
    params = model64.params
    arrays = {name: array for name, array in params.items() if name not in frozen}
    analytic = {name: to_numpy(gradient).copy() for name, gradient in model64.grads.items() if name not in frozen}
    check_training_path(model64, X64, T, W, loss, analytic)
    if check_input:
        arrays[INPUT] = X64
        analytic[INPUT] = to_numpy(dX).copy()
    check_step_kept(arrays, eps)

    report = GradcheckReport(eps=eps, skipped={name: int(params[name].size) for name in params if name in frozen})
    unperturbed = value()  # L(θ), for the one-sided differences that reveal kinks
    for name, array in arrays.items():
        flat = array.reshape(-1)  # a view: writes move the model's parameter (or the copied input)
        indices = numpy.arange(flat.size)
        if max_checks is not None and flat.size > max_checks:
            indices = numpy.sort(rng.choice(flat.size, size=max_checks, replace=False))
        plus, minus = numpy.array([perturbed(flat, i, eps, value) for i in indices]).reshape(-1, 2).T
        numeric = (plus - minus) / (2 * eps)
        exact = analytic[name].reshape(-1)[indices]
        report.errors[name] = relative_error(exact, numeric)
        report.checked[name] = len(indices)
        right, left = (plus - unperturbed) / eps, (unperturbed - minus) / eps  # the one-sided slopes
        theta = to_numpy(flat)[indices]
        bounds = rounding(unperturbed, theta, right, left, eps)
        report.rounding[name] = relative_rounding(bounds, exact, numeric)
        jumps = kink_candidates(right, left, exact, numeric, 4 * bounds)  # 4 values of L
        for k in numpy.flatnonzero(jumps):  # each measured again: see KINK_RATIO, KINK_VANISHED and KINK_FIRST_ORDER
            jump, slope = jump_and_slope(flat, indices[k], eps / 10, value, unperturbed)
            bound = rounding(unperturbed, theta[k], right[k], left[k], eps / 10)
            noise = 4 * bound  # 4 values of L in a jump
            kept = jump - noise > jumps[k] / 2  # a kink within ε/10 keeps its jump
            vanished = jump + noise < KINK_VANISHED * jumps[k]  # one between ε/10 and ε leaves curvature's
            error = numeric[k] - exact[k]  # where only the curvature jumps, a tenth of it remains at ε/10
            first_order = abs(slope - exact[k] - error / 10) + bound < KINK_FIRST_ORDER * abs(error)
            if not (kept or vanished or first_order):
                jumps[k] = 0
        report.kinks[name] = int((jumps > 0).sum())
        report.errors_away_from_kinks[name] = relative_error(exact, numeric, counted=jumps == 0)
    return report


def inferred_loss(model: Layer, targets) -> tuple[Loss, str]:
    """``gradcheck``'s default loss, chosen as ``cr.fit`` chooses it (``training.prepare.default_loss``),
    and where it came from: the model's preprocessor (checked first, as fit checks it) or y's kind."""
    preprocessor = model.preprocessor
    if preprocessor is not None:
        check_preprocessor_inputs(preprocessor, None, remembered=False)
        return default_loss(None, preprocessor), f"from the model's preprocessor (task {preprocessor.task!r})"
    y = as_targets(targets, "y")
    return default_loss(y), "from y, which holds " + ("floats" if y.dtype.kind == "f" else "class labels")


def prepared_targets(model: Layer, X, targets, loss: Loss, Y, labels: bool):
    """``loss.prepare`` of ``targets`` for the outputs ``Y`` of ``X``, in float64.

    With ``labels`` (gradcheck chose the loss, as ``cr.fit`` would), class labels that a classification
    loss refuses as they are (strings, booleans, labels 1..K) are taken as ``cr.fit`` and ``cr.evaluate``
    take them: by the classes of the model's preprocessor (a model ``cr.fit`` trained, or ``cr.load``
    read), else by those ``cr.fit`` would learn from y. Where they cannot be taken so either, the loss's
    own error is raised.
    """
    n_outputs, n_samples = Y.shape[1], Y.shape[0]
    try:
        return loss.prepare(targets, n_outputs, numpy.float64, n_samples=n_samples)
    except (DTypeError, LabelError) as error:
        refused = error
    y = as_targets(targets, "y")
    if not labels or loss.task != "classification" or y.ndim != 1:
        raise refused
    try:
        preprocessor = model.preprocessor
        if preprocessor is None or preprocessor.task != "classification":
            preprocessor = fit_preprocessor(to_numpy(X), y, loss, n_outputs, False)
        encoded = encode_targets(preprocessor, y)
    except ChainruleError:
        raise refused from None
    return loss.prepare(encoded, n_outputs, numpy.float64, n_samples=n_samples)


def check_step_kept(arrays: dict, eps: float) -> None:
    """HyperparameterError naming eps where θᵢ ± ε rounds to θᵢ, or nearly, for an element of
    ``arrays``: where ε ≤ ε_mach |θᵢ|, the step actually taken is 0, or off by up to 100%, and the
    central differences of that array are rounding, not slopes."""
    for name, array in arrays.items():
        largest = float(numpy.abs(to_numpy(array)).max(initial=0))
        if eps <= MACHINE_EPSILON * largest:
            raise HyperparameterError(
                f"eps: {eps:g} is too small for the magnitude of {name} (largest |value| {largest:.3g}): "
                f"value ± eps rounds to the value, or nearly, in float64, so the central differences "
                f"would measure nothing; expected eps > {MACHINE_EPSILON * largest:.1e} "
                f"({DEFAULT_EPS:g} suits values of about 1)"
            )


def check_training_path(model: Layer, X, T, W: tuple, loss, plain: dict) -> None:
    """StateError naming the layer and parameter whose gradient changes when backward runs as
    ``cr.fit`` runs it: inside ``reusing_buffers``, where each layer is handed the same buffers
    (``Layer.buffer``) step after step, with ``input_grad=False``.

    Two steps run in a row: one on −X, whose gradients are not used, then one on X, whose
    gradients must equal ``plain`` (those of backward outside the block) up to REUSE_TOLERANCE. A
    buffer that a step reads before writing it then holds the step before's values (or memory
    never written), and one written while an array in it is still needed spoils what reads it.
    """
    if not plain:  # no trainable parameter: no gradient to compare
        return
    with model.reusing_buffers():
        for batch in (-X, X):
            _, dY = loss.compute(model.forward(batch), T, *W)
            model.backward(dY, input_grad=False)
    for prefix, layer in reversed(list(model.walk())):  # from the output down: the first named is nearest the defect
        for name, gradient in layer.own_grads.items():
            if prefix + name not in plain:
                continue
            difference = reuse_difference(to_numpy(gradient), plain[prefix + name])
            if not difference <= REUSE_TOLERANCE:
                raise StateError(
                    f"{layer.describe()}: backward as cr.fit runs it (inside reusing_buffers, each layer's "
                    f"buffers reused from step to step) gives another gradient for {prefix + name!r} than "
                    f"backward outside it (max relative difference {difference:.1e}): a buffer (Layer.buffer) "
                    f"is read before the step writes it, or overwritten while still needed, so fit would "
                    f"train on a wrong gradient"
                )


def reuse_difference(trained, plain) -> float:
    """The relative error (:func:`relative_error`) of ``trained`` against ``plain`` over the
    elements finite in ``plain``; inf where the others (NaN, ±inf) are not the same in both."""
    finite = numpy.isfinite(plain)
    if not numpy.array_equal(trained[~finite], plain[~finite], equal_nan=True):
        return math.inf
    return relative_error(trained[finite], plain[finite])


def check_input_gradient(model: Layer, dX, shape: tuple) -> None:
    """ShapeError naming the layer that first reads X (inside out: a Sequential's first layer) unless
    ``dX``, what the model's backward returned as ∂L/∂X, is an array of X's ``shape``: a custom first
    layer's backward that returns None (as if input_grad were False) or another shape."""
    got = getattr(dX, "shape", None)
    if got == shape:
        return
    shown = type(dX).__name__ if got is None else f"shape {tuple(got)}"
    raise ShapeError(f"{first_layer(model).describe()}: backward returned {shown} as ∂L/∂x of the model's input; "
                     f"expected an array of X's shape {tuple(shape)} (with input_grad=True, backward returns ∂L/∂x; "
                     f"or pass check_input=False)")


def check_input_kept(model: Layer, X, given) -> None:
    """StateError naming the layer that first reads X (inside out) unless X after a forward and a
    backward still equals ``given``, a copy taken before: a custom layer that changes its input in
    place (``X *= 2``) moves the point checked at every pass, and its gradients then differ from
    one pass to the next as if a reused buffer were to blame."""
    if numpy.array_equal(to_numpy(X), given, equal_nan=True):
        return
    raise StateError(f"{first_layer(model).describe()}: the model's input X changed in place in forward or "
                     f"backward (this layer reads it first); a layer must leave its input as it was: write its "
                     f"output into a new array (X * a, not X *= a)")


def first_layer(model: Layer) -> Layer:
    """The layer that first reads the model's input: inside out, a Sequential's first layer."""
    while isinstance(model, Sequential) and model.layers:
        model = model.layers[0]
    return model


def check_overwritten(model: Layer, unwritten: dict) -> None:
    """StateError naming the layer and parameter whose backward did not overwrite its gradient.

    ``unwritten`` holds, per parameter path, where the gradient was still NaN after a backward
    that started from gradients of NaN; ``model.grads`` holds those of a backward that started
    from 0. An element NaN in the first and not in the second kept (or added to) what the array
    held before: its gradient would depend on the backward passes before it (fit never clears
    gradients), and a check on gradients of 0 alone passes a backward that adds to them (+=).
    """
    for prefix, layer in model.walk():
        for name, gradient in layer.own_grads.items():
            if prefix + name not in unwritten:
                continue
            kept = unwritten[prefix + name] & ~numpy.isnan(to_numpy(gradient))
            if kept.any():
                raise StateError(
                    f"{layer.describe()}: backward added to own_grads[{name!r}] (or left part of it as it "
                    f"was) instead of overwriting it: {int(kept.sum())} of {kept.size} elements depend on "
                    f"what the array held before. A backward must overwrite its gradients (chainrule has no "
                    f"zero_grad): write own_grads[{name!r}][...] = value, not += value"
                )


def kink_candidates(right_slope, left_slope, exact, numeric, noise) -> numpy.ndarray:
    """Each element's jump |right slope − left slope| where it may be a kink, else 0 (all 0 when
    anything is not finite: that is reported as an error; 0 where the jump is within rounding
    ``noise``). Every element with a jump is measured again at ε/10, to tell a kink from curvature.

    A jump above KINK_RATIO of the array's largest gradient may be a kink, and so may any jump of an
    element whose error exceeds TOLERANCE (a kink whose jump is small next to the largest gradient
    still fails the check). Even a jump far above the O(ε)·L'' of a moderate curvature can be
    curvature's (a tanh network on inputs of 100), hence the second measurement."""
    slopes = numpy.concatenate([right_slope, left_slope, exact])
    jumps = numpy.abs(right_slope - left_slope)
    if not numpy.isfinite(slopes).all():
        return numpy.zeros_like(jumps)
    largest = float(numpy.abs(slopes).max(initial=0))
    scale = max(float(numpy.abs(exact).max(initial=0)), float(numpy.abs(numeric).max(initial=0)))
    large = jumps > KINK_RATIO * largest
    failing = numpy.abs(exact - numeric) > TOLERANCE * scale
    return numpy.where((large | failing) & (jumps > noise), jumps, 0.0)


def perturbed(flat, i, step: float, value) -> tuple[float, float]:
    """``(L(θ + step·eᵢ), L(θ − step·eᵢ))``: the loss ``value()`` with ``flat[i]`` moved each way,
    then put back."""
    original = flat[i].copy()
    flat[i] = original + step
    plus = value()
    flat[i] = original - step
    minus = value()
    flat[i] = original
    return plus, minus


def jump_and_slope(flat, i, step: float, value, unperturbed: float) -> tuple[float, float]:
    """``(|s₊ − s₋|, (s₊ + s₋)/2)``: the jump between the one-sided slopes s± of the loss
    ``value()`` at ``flat[i]``, with steps of ``step``, and their mean, the central difference."""
    plus, minus = perturbed(flat, i, step, value)
    return abs((plus - unperturbed) - (unperturbed - minus)) / step, (plus - minus) / (2 * step)


def rounding(loss: float, theta, right_slope, left_slope, step: float):
    """4u (|L| + |θᵢ| (|s₊| + |s₋|)) / step, s± the one-sided slopes: about the most rounding moves
    the difference quotient (L(θ + step·eᵢ) − L(θ − step·eᵢ)) / 2 step. Each L is rounded by a few
    u |L| (a forward pass rounds many times); θᵢ ± step is rounded by about u |θᵢ|, which changes
    the step taken by that much; and the forward pass's rounding moves θᵢ by about as much, which
    moves the gradient by |∂²L/∂θᵢ²| u |θᵢ|, the curvature being about |s₊ − s₋| / step."""
    return 4 * MACHINE_EPSILON * (abs(loss) + numpy.abs(theta) * (numpy.abs(right_slope) + numpy.abs(left_slope))) / step


def relative_rounding(bounds, exact, numeric) -> float:
    """The largest of an array's rounding ``bounds`` (:func:`rounding`) relative to its largest
    gradient, as :func:`relative_error` scales errors; inf for an array whose gradients are all
    exactly 0 (or not finite, when its error is inf anyway)."""
    scale = max(float(numpy.abs(exact).max(initial=0)), float(numpy.abs(numeric).max(initial=0)))
    return float(numpy.max(bounds, initial=0)) / scale if 0 < scale < math.inf else math.inf


def relative_error(exact, numeric, counted=None) -> float:
    """``max |exact − numeric| / max(|exact|, |numeric|)``; inf when either holds NaN or Inf.
    ``counted`` (booleans like ``exact``) takes the first max over those elements alone, the
    second still over all.

    The explicit check matters: ``max`` over a NaN gives NaN, and ``NaN > 0`` is False, which
    would report a broken backward as an error of 0.
    """
    if not (numpy.isfinite(exact).all() and numpy.isfinite(numeric).all()):
        return math.inf
    scale = max(float(numpy.abs(exact).max(initial=0)), float(numpy.abs(numeric).max(initial=0)))
    differences = numpy.abs(exact - numeric)
    difference = float((differences if counted is None else differences[counted]).max(initial=0))
    return difference / scale if scale > 0 else 0.0
