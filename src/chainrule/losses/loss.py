"""The loss contract: L(Y, T) and ∂L/∂Y, the start of backpropagation.

``value, dY = loss(Y, targets)`` returns the loss, a mean over the samples of the batch,
and its gradient dY with respect to the model's outputs Y, the ∇_y L that backpropagation
starts from ("compute ∇_y L directly from the loss function", lecture notes).

``loss(Y, targets)`` (or ``loss(Y, targets, weights)``) validates and converts the targets
(and the weights) first; ``loss.compute(Y, T)`` skips that for targets T already prepared
by ``loss.prepare`` (the training loop checks a whole data set once, not each batch).

``loss.compute(Y, T, weights)`` weights the samples: with w_n ≥ 0 the weight of row n, the
loss is the weighted mean L = Σ_n w_n l_n / Σ_n w_n of the rows' losses l_n, so that
∂L/∂Y_n = w_n ∂l_n/∂Y_n / Σ_n w_n (scikit-learn's ``sample_weight``). ``cr.fit``'s
``class_weight`` enters here too: w_n is row n's sample weight (1 without) times the weight
of its class. Integer weights k give the gradient of the batch in which row n appears k
times; a batch whose weights are all 0 has L = 0 and ∂L/∂Y = 0, and so has a batch of no rows
in ``compute`` (an empty ∂L/∂Y; ``loss(Y, targets)`` refuses one). A float64 L whose rows' sum
passes float64's range is computed again on the rows' losses divided by the largest, so that
it is finite wherever the mean fits (:func:`mean_of_large`). Every built-in loss takes
``weights``; a subclass whose ``compute`` does not (see :func:`takes_weights`) trains without
sample weights only.
"""

from __future__ import annotations

import functools
import inspect
import math

import numpy

from .. import buffers
from ..backend import Array, get_array_module, is_array, to_numpy
from ..checks import FLOAT_DTYPES, as_sample_weights, check_finite
from ..errors import DTypeError, HyperparameterError, ShapeError


class Loss:
    """Base class of losses. Subclasses implement ``prepare``, ``compute`` and ``transform``.

    Error messages name the loss by its class (``type(self).__name__``), so a subclass of a
    built-in loss is named as itself.

    Inside ``cr.fit``'s loop on the CPU a built-in ``compute`` writes ∂L/∂Y and its temporaries
    into the same arrays at every step (``buffer``; the loop's own, kept per thread: see
    :mod:`chainrule.buffers`): the ∂L/∂Y it returns there is overwritten by the next call.
    ``loss(Y, targets)`` always returns a ∂L/∂Y of the caller's own.
    """

    #: "classification", "multilabel" or "regression": what the outputs predict
    task = "regression"

    #: An array to write into: a new one, or inside the training loop whose loss this is (in its
    #: thread) the same memory step after step (see :func:`chainrule.buffers.loss_buffer`)
    buffer = buffers.loss_buffer

    def __call__(self, Y: Array, targets, weights=None) -> tuple[Array, Array]:
        """(L, ∂L/∂Y) for outputs ``Y`` (n_samples, n_outputs) and raw ``targets``.

        ``Y`` must be a float32 or float64 array (anything else, a list or float16 included,
        raises DTypeError) with at least one row (ShapeError otherwise). ``weights``, one per
        row (finite, non-negative, not all zero, as ``cr.fit``'s ``sample_weight``), make L
        the weighted mean; a bad one raises the chainrule error naming ``weights``. A
        built-in loss gives no NumPy overflow warning (it computes an overflowed L again in
        float64), nor an underflow's FloatingPointError under ``numpy.seterr(all="raise")``;
        a custom ``compute`` runs under the caller's ``numpy.errstate``.
        """
        Y = self._check_outputs(Y)
        T = self.prepare(targets, Y.shape[1], Y.dtype, n_samples=Y.shape[0])
        W = ()  # compute's optional third argument
        if weights is not None:
            W = (get_array_module(Y).asarray(checked_weights(self, weights, Y.shape[0], "weights", "Y")),)
        if not built_in_compute(self):
            result = self.compute(Y, T, *W)  # NumPy's overflow warnings, or errors, are the caller's to see
        else:
            # A built-in compute handles an overflow in the outputs' dtype (L again in float64),
            # so NumPy's warning about it would only alarm, and an e^z underflowing to 0 is a
            # probability's right value (no error under numpy.seterr(all="raise")); fit silences
            # them for the whole loop.
            with numpy.errstate(over="ignore", under="ignore"):
                result = self.compute(Y, T, *W)
        if buffers.reuses_buffers(self):  # called inside fit (a callback): dY is a buffer the next step overwrites
            value, dY = result
            result = value, dY.copy()
        return result

    def prepare(self, targets, n_outputs: int, dtype, n_samples: int | None = None) -> Array:
        """Validate ``targets`` for outputs of width ``n_outputs`` and convert them."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement prepare(targets, n_outputs, dtype, n_samples=None), which "
            f"checks the targets and converts them for compute; a loss of one's own subclasses a built-in loss that "
            f"takes such targets (cr.MSE for values, cr.SoftmaxCrossEntropy for labels) and overrides compute, or "
            f"defines prepare too")

    def compute(self, Y: Array, T: Array, weights: Array | None = None) -> tuple[Array, Array]:
        """(L, ∂L/∂Y) for prepared targets ``T``; no checks.

        ``weights`` (n_samples,), non-negative, make L the weighted mean of the rows' losses
        (see the module's docstring); None weighs every row alike (L is the plain mean).
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement compute(Y, T, weights=None), which "
                                  f"returns (L, ∂L/∂Y)")

    def transform(self, Y: Array) -> Array:
        """The model's outputs as predictions (probabilities for the cross-entropies)."""
        return Y

    def _check_outputs(self, Y: Array) -> Array:
        """``Y`` if it is a finite float32/float64 matrix with at least one row, else a chainrule error.

        Other dtypes are refused rather than cast, since ∂L/∂Y must come back in the dtype of
        the model's outputs: integer arithmetic would truncate the targets and the 1/N of the
        gradient to 0, and float16 overflows for an error of 256.
        """
        name = type(self).__name__
        if not is_array(Y):
            package = type(Y).__module__.split(".")[0]
            given = type(Y).__name__ if package == "builtins" else f"{package}.{type(Y).__name__}"
            raise DTypeError(f"{name}: expected outputs Y as an array (n_samples, n_outputs) of float32 or float64 "
                             f"(NumPy's or CuPy's, as a model outputs), got {given}")
        if Y.ndim != 2:
            raise ShapeError(f"{name}: expected outputs Y of shape (n_samples, n_outputs), got {tuple(Y.shape)}")
        if Y.dtype.name not in FLOAT_DTYPES:
            raise DTypeError(f"{name}: expected float outputs Y (float32 or float64), got dtype {Y.dtype}")
        if Y.shape[0] == 0:
            raise ShapeError(f"{name}: outputs Y have no rows (shape {tuple(Y.shape)}); a loss needs at least one sample")
        check_finite(Y, f"{name}: outputs Y")
        return Y

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def check_batch(name: str, T: Array, n_samples: int | None) -> None:
    """Raise ShapeError if targets and outputs hold different numbers of samples."""
    if n_samples is not None and T.shape[0] != n_samples:
        raise ShapeError(
            f"{name}: outputs and targets have different batch sizes: "
            f"{n_samples} outputs vs {T.shape[0]} targets"
        )


def takes_weights(loss: Loss) -> bool:
    """Whether ``loss.compute`` takes sample weights (a ``weights`` argument), as the built-in losses do."""
    return "weights" in inspect.signature(loss.compute).parameters


def checked_weights(loss: Loss, weights, n_rows: int, name: str, rows_of: str) -> numpy.ndarray:
    """``weights`` for ``loss.compute``, checked as ``cr.fit``'s ``sample_weight`` (see
    ``checks.as_sample_weights``, whose errors name ``name``), as float64 NumPy.

    HyperparameterError naming ``name`` when ``loss.compute`` takes no weights.
    """
    if not takes_weights(loss):
        raise HyperparameterError(f"{name}: {type(loss).__name__}.compute takes no weights; give it a "
                                  f"compute(Y, T, weights=None) to weigh the rows")
    if get_array_module(weights) is not numpy:  # a GPU array, checked on the CPU
        weights = to_numpy(weights)
    return as_sample_weights(weights, n_rows, name, rows_of)  # a list too, a ragged one named


def retried_on_underflow(compute):
    """A built-in loss's ``compute``, which raises no FloatingPointError for a value that underflows
    to a subnormal number or 0 under a caller's ``numpy.errstate(under="raise")`` (or
    ``numpy.seterr(all="raise")``): an e^{−|y|} of a logit beyond 87 (float32), a squared error or a
    weight's share below the dtype's smallest normal number are the right values, as NumPy's default
    takes them. ``compute`` leaves Y, T and the weights as they were, so on that error it runs again
    under ``numpy.errstate(under="ignore")``, where an overflow or invalid value still raises as the
    caller asked: no ``numpy.errstate`` entered at every batch (0.9 µs), where ``fit`` and
    ``loss(Y, targets)`` have their own."""
    @functools.wraps(compute)  # keeps the module (built_in_compute) and the signature (takes_weights)
    def underflow_allowed(self, Y: Array, T: Array, weights: Array | None = None) -> tuple[Array, Array]:
        try:
            return compute(self, Y, T, weights)
        except FloatingPointError:
            with numpy.errstate(under="ignore"):
                return compute(self, Y, T, weights)
    return underflow_allowed


def built_in_compute(loss: Loss) -> bool:
    """Whether ``loss.compute`` is a built-in loss's (defined in :mod:`chainrule.losses`, or marked
    :func:`around_built_in_compute`): one that computes L again in float64 when it overflowed the
    outputs' dtype (see :func:`overflowed`), so that ``loss(Y, targets)`` silences NumPy's warning
    of it, and that the training loop may have write into its reused arrays, as it calls it once a
    step (:func:`chainrule.buffers.loss_buffers`). A custom compute may do neither.

    A marked compute counts only where it is chainrule's own and the compute it calls (the next one
    along ``type(loss).__mro__``, its ``super().compute``) is built-in: a loss of one's own marked, or
    behind such a mixin (``class Mine(PenaltyPerBatchWeight, MyLoss)``), may call a built-in compute
    twice a step and hold the first ∂L/∂Y, which the loop's store would overwrite."""
    for kind in type(loss).__mro__:
        if "compute" not in vars(kind):
            continue
        compute = getattr(kind, "compute")
        module = getattr(compute, "__module__", None) or ""
        if module.startswith(f"{__package__}."):
            return True
        if not (getattr(compute, "around_built_in_compute", False) and module.split(".")[0] == "chainrule"):
            return False
    return False


def around_built_in_compute(compute):
    """Marks a ``compute`` of chainrule's own, outside :mod:`chainrule.losses`, that calls its base
    class's built-in ``compute`` once, returns what that returns and makes no array: such a compute
    is taken as built-in (:func:`built_in_compute`), so the training loop lets the built-in one write
    into its reused arrays (the estimators' ``PenaltyPerBatchWeight``, which sets the optimizer's
    weight decay before it)."""
    compute.around_built_in_compute = True
    return compute


def weight_shares(weights) -> Array:
    """Each row's share w_n / Σ_m w_m of the batch's weights, in float64; all 0 when Σ_m w_m = 0,
    so that a batch of weight 0 gives L = 0 and ∂L/∂Y = 0 rather than 0 / 0.

    The weights are divided by Σ_m w_m where it is positive and by 1 where it is 0 (the
    weights are then 0), chosen by ``where`` on the array's device: on a GPU an ``if`` on the
    sum would wait for the device at every step."""
    weights = weights.astype(numpy.float64)
    total = weights.sum()
    return weights / get_array_module(weights).where(total > 0, total, 1.0)


def mean_over(Y: Array) -> int:
    """N, the number of rows ``compute`` divides by for the mean over a batch, or 1 for a batch
    of no rows: ``compute`` then gives L = 0 and an empty ∂L/∂Y, as for a batch whose weights
    are all 0 and as the training loop takes a process's empty share of a batch (the checked
    ``loss(Y, targets)`` refuses no rows), rather than 0 / 0 = NaN (or ZeroDivisionError)."""
    return max(Y.shape[0], 1)


def mean_of_large(terms: numpy.ndarray, shares: numpy.ndarray | None = None) -> float:
    """Σ_n s_n Σ_k terms[n, k], s_n = 1/N or the rows' ``shares`` (w_n / Σ_m w_m), for float64
    terms ≥ 0 whose plain sum overflowed float64 although the mean may fit (two rows of loss 1e308
    have the mean 1e308): each term divided by the largest first, the mean multiplied by it last.
    inf where the mean itself passes float64's range, or where a row of positive share has an
    infinite term, and NaN where one has a NaN term (NaN outputs); the rows of share 0 are left
    out, whatever their terms.
    """
    if shares is not None:
        kept = shares > 0
        terms, shares = terms[kept], shares[kept]
    largest = float(terms.max()) if terms.size else 0.0
    if largest == 0.0 or not math.isfinite(largest):
        return largest  # all 0, or an inf or NaN term (NaN outputs): what the plain sum gave
    rows = (terms / largest).sum(axis=1)
    mean = rows.sum() / len(rows) if shares is None else rows @ shares
    return float(mean) * largest  # a Python float product: inf past the range, without a NumPy warning


def clipped_probabilities(P: Array, out: Array) -> Array:
    """clip(p) = min(max(p, ε), 1 − ε) of the probabilities ``P`` into ``out`` (P itself too), ε =
    ``numpy.finfo(dtype).eps``, as scikit-learn's log losses clip them; two ufuncs, as
    ``numpy.clip``'s checks take longer than both. Returns ``out``."""
    xp = get_array_module(P)
    eps = P.dtype.type(numpy.finfo(P.dtype).eps)
    xp.maximum(P, eps, out=out)
    return xp.minimum(out, 1 - eps, out=out)


def overflowed(value) -> bool:
    """Whether a batch loss computed in the outputs' dtype came out non-finite on the CPU, so
    that the loss computes it again in float64, where a finite true value fits.

    Asked only of NumPy values: on a GPU the question would wait for the device at every step
    (and cannot run inside a captured CUDA graph); there an overflowed loss stays inf, which
    the divergence guard reports.
    """
    return isinstance(value, numpy.generic) and not math.isfinite(value)


def as_array(targets, name: str) -> Array:
    """Targets as an array: a NumPy or CuPy array as it is, anything else (a list, a pandas
    Series, a torch tensor on the CPU) as NumPy makes it one; ShapeError naming the loss
    ``name`` for ragged rows, DTypeError for what NumPy cannot convert (a tensor on a GPU)."""
    if is_array(targets):
        return targets
    try:
        return numpy.asarray(targets)
    except ValueError as error:
        raise ShapeError(f"{name}: expected targets as a rectangular array, got {type(targets).__name__} "
                         f"({error})") from None
    except (TypeError, RuntimeError) as error:  # a CUDA tensor: TypeError; others may raise what they like
        raise DTypeError(f"{name}: expected targets as an array of numbers, got {type(targets).__name__} "
                         f"({error})") from None

