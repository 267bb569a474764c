"""What MLPClassifier and MLPRegressor share: hyperparameters, training through ``cr.fit``
with scikit-learn's stopping rules, and the fitted network's weights.

scikit-learn's MLP and ours compute the same thing: a network of ``hidden_layer_sizes``
trained by minibatch SGD or Adam on the mean loss of each batch plus an L2 penalty on the
weights. The penalty is where the two are written differently:

- scikit-learn adds ``(alpha / 2) ‖W‖² / n_batch`` to the mean loss of each batch, so each
  step's gradient gets ``(alpha / n_batch) W`` (``_compute_loss_grad`` adds ``alpha * W``
  to the summed gradient and divides both by ``n_batch``);
- a chainrule optimizer's ``weight_decay`` λ adds ``λ W`` to the gradient of the weights
  (not the biases): the gradient of ``(λ / 2) ‖W‖²``.

So ``weight_decay = alpha / batch_size``: the same step on every full batch. An epoch's last,
smaller batch (when ``batch_size`` does not divide the samples) is decayed by
``alpha / batch_size`` rather than ``alpha / n_last``. ``loss_curve_`` holds, as in
scikit-learn, the epoch's mean loss plus that penalty (taken at the epoch's last weights).

With ``sample_weight`` both weight each batch's mean loss alike (Σ_n w_n l_n / Σ_n w_n, see
``cr.fit``), and scikit-learn divides alpha by the batch's Σ_n w_n rather than its size: so
does ours, through the loss, which sets ``weight_decay = alpha / Σ_n w_n`` before each
weighted batch's step (``PenaltyPerBatchWeight``; 0 for a batch of weight 0), the last,
smaller batch included; a λ too large for ``dtype`` in any batch an epoch could draw is
refused before training (``check_batch_weight_decays``; without weights, ``check_weight_decay``
refuses an ``alpha / batch_size`` too large for it); after training the optimizer holds
``alpha / batch_size`` again. The steps are then scikit-learn's to float64 rounding, from the
same weights in the same batches. The epoch's loss in ``loss_curve_`` weighs each batch's mean
by its Σ_n w_n here, by its number of rows in scikit-learn (the same for a single full batch),
and adds the penalty with ``alpha / batch_size`` as without weights.

These map one to one: SGD's momentum (scikit-learn's v ← μv − ηg, θ ← θ + v is
``cr.SGD``'s v ← μv + g, θ ← θ − ηv at a constant η; when ``learning_rate``'s schedule
changes η to η′ between epochs, the velocity is rescaled by η / η′, which keeps the two
equal), Nesterov's, Adam's β₁ and β₂, and the
losses' gradients (p − y for softmax and sigmoid cross-entropy, ŷ − y for half the squared
error, each divided by the batch size).

Adam's ε is added where scikit-learn adds it, to √v, the uncorrected second moment
(``cr.Adam(..., eps_added_to="sqrt_v")``); ``cr.fit``'s ``cr.Adam`` adds it to the bias-corrected
√v̂ = √(v / (1 − β₂ᵗ)), as PyTorch's, which is ε / √(1 − β₂ᵗ) in scikit-learn's form: about 32 ε at
the first step (β₂ = 0.999). Where √v̂ is near ε (saturated units, unscaled inputs) that made the two
stop at other epochs (raw breast_cancer: 163 here, 200 there), and from the same weights one
full-batch step at ``learning_rate_init=0.05`` on standardized iris gave weights about 3e-4 apart. An
Adam state carried over (``partial_fit``, an estimator file written before the form was saved) goes on
in the form it was trained with (``_make_optimizer``).

The loss recorded is scikit-learn's: its ``log_loss`` and ``binary_log_loss`` clip each probability to
[ε, 1 − ε] before the log (a row costs at most −log ε), so the classifier trains with a loss whose L does so and
whose gradient is the exact one's (``_training_loss``, ``ClippedLogLoss``); ``loss_curve_``, and the stopping rule
without ``early_stopping``, then agree where outputs saturate (unscaled inputs) too (docs/usage.md).

The random numbers are scikit-learn's. Each ``fit`` or ``partial_fit`` call draws from the
RandomState that scikit-learn's ``check_random_state`` makes of an int or RandomState
``random_state`` (``BaseMLP._draws``: from an int, a new one at every call, so that every
``partial_fit`` call draws as the first one did; a RandomState goes on drawing), in
scikit-learn's order: a first pass's initial weights and biases, layer by layer, W then b,
each U(−a, a) with a = √(6 / (n_in + n_out)), or a = √(2 / (n_in + n_out)) for
``activation="logistic"`` and its alias "sigmoid" (``_network``); then ``early_stopping``'s
validation split (``train_test_split``, stratified for a single output, binary
classification, as there); then, with ``shuffle``, each epoch's order of the training rows
(``_SampleOrder``: ``sklearn.utils.shuffle`` of the last epoch's order, handed to ``cr.fit``'s
loop). With ``dtype="float64"``, ``coefs_`` and ``intercepts_`` after ``fit``, ``warm_start``
fits and ``partial_fit`` sequences are then scikit-learn's to float64 rounding wherever the
steps above are the same: SGD (each schedule, momentum, Nesterov's), Adam, and an ``alpha``
of 0 or a ``batch_size`` that divides the training rows (the last, smaller batch's penalty
above), as long as the stopping rule stops both at the same epoch (``loss_curve_``'s penalty is
taken at the epoch's last weights, above) (``tests/sklearn/test_random_state.py``). In float32,
the default, the initial weights are scikit-learn's draws rounded to float32 (as scikit-learn's
for a float32 X) and the steps round otherwise. A ``Generator``, which scikit-learn does not take, and None seed a new
RandomState at every call, from the Generator or from fresh OS entropy.

The same draws lead to other weights in one case: a ``warm_start`` fit with ``early_stopping``
whose validation score never beats the best of the fits before. scikit-learn's ``coefs_`` are
then the very arrays of its ``_best_coefs`` (its fit ended with ``self.coefs_ =
self._best_coefs``), which the warm fit trains in place, so that it ends at its last epoch's
weights; ours end at that earlier best epoch's weights, as ``early_stopping`` says. A warm fit
that beats it ends at its own best epoch in both.
"""

from __future__ import annotations

import functools
import math
import operator
import sys
import warnings
from numbers import Integral, Real

import numpy
from sklearn.base import BaseEstimator, is_regressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ..checks import as_sample_weights, real
from ..errors import DataError, DivergenceError, HyperparameterError, ShapeError, quoted
from ..io.architecture import MAX_HIDDEN_LAYERS, MAX_LAYERS
from ..layers import ACTIVATIONS, Linear, Sequential, activation_layer
from ..optimizers import SGD, Adam
from ..optimizers.epsilon import epsilon
from ..optimizers.saved_state import checked_saved_state
from ..training import Callback
from ..training import fit as fit_network
from ..training.loop import AT_START
from ..training.predict import checked_outputs, outputs_in_chunks
from ._checked_data import checked_data, int_beyond_float, refuse_sparse_X
from ._layer_arrays import LayerArrays
from ._loss import PENALTY_PER_BATCH_WEIGHT, check_batch_weight_decays, check_weight_decay
from ._model_file import load_estimator, save_estimator
from ._onnx import estimator_to_onnx

#: every activation of chainrule.layers but the softmax (an output, not a hidden activation)
HIDDEN_ACTIVATIONS = sorted(set(ACTIVATIONS) - {"softmax"})
#: the largest int random_state: scikit-learn's (numpy.random.RandomState's) limit
MAX_RANDOM_STATE = 2**32 - 1
#: the hyperparameters scikit-learn checks as Interval(Real, 0, None), which takes an int too large for a float
#: (10**400), that every fit uses (power_t and epsilon are checked where a solver uses them: an unused one may be any)
UNBOUNDED_REALS = ("alpha", "learning_rate_init", "tol")
#: learning_rate="adaptive" stops training, rather than divide the rate by 5 again, once it is at most this
ADAPTIVE_SMALLEST_RATE = 1e-6

#: what the estimators take of scikit-learn's MLP and what they do not (in their docstrings)
NOT_ACCEPTED = """\
    Every hyperparameter of scikit-learn's MLP is taken, so that
    ``MLPClassifier(**sklearn.neural_network.MLPClassifier().get_params())`` works; ``max_fun``
    is checked as scikit-learn checks it and read by no solver (there is no "lbfgs": that
    ``solver`` raises InvalidParameterError). Not accepted is a ``scipy.sparse`` X, which
    scikit-learn's MLP takes: ``fit``, ``partial_fit`` and the predictions raise DTypeError
    naming X (pass ``X.toarray()`` if a dense copy fits in memory; in a Pipeline,
    ``OneHotEncoder(sparse_output=False)`` or ``ColumnTransformer(..., sparse_threshold=0)``).
    Nor are NaN or Inf in X or y, nor values of X beyond ``dtype``'s range, nor an X without
    rows: NonFiniteError or ShapeError naming X or y (ValueErrors, as scikit-learn raises).
    Training whose loss, gradient or weights stop being finite raises DivergenceError, here
    also a ValueError, as scikit-learn's "Solver produced non-finite parameter weights".

    ``fit`` and ``partial_fit`` take ``sample_weight`` where scikit-learn's do: None, a
    number (every row weighs it), or one finite, non-negative real per sample, not all zero
    (else ShapeError, DTypeError, NonFiniteError or DataError naming ``sample_weight``). Each
    batch's loss is then the weighted mean and its L2 penalty ``alpha / Σ w`` (see ``alpha``),
    as in scikit-learn, and ``early_stopping``'s held-out rows keep their weights for the
    validation score."""

PARAMETERS = """\
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The width of each hidden layer: at most 49,999 of them (``MAX_HIDDEN_LAYERS``, the most a
        model file holds), else HyperparameterError before a network is built.
    activation : {"relu", "tanh", "logistic", "identity", "gelu", "leaky_relu", "sigmoid"}, \
default="relu"
        The hidden layers' activation ("logistic" and "sigmoid" are the same function).
    solver : {"adam", "sgd"}, default="adam"
        ``cr.Adam`` or ``cr.SGD``. scikit-learn's "lbfgs" is not available.
    alpha : float, default=1e-4
        L2 penalty on the weights, scaled as scikit-learn scales it (see
        ``chainrule.sklearn._base``): the optimizer's ``weight_decay`` is ``alpha / batch_size``.
        With ``sample_weight`` it is, as scikit-learn's, ``alpha / Σ w`` over each batch's
        weights, set before each step (0 for a batch of weight 0). Weights so small that some
        batch an epoch could draw would have ``alpha / Σ w`` past the largest number of
        ``dtype`` raise DataError before training, leaving the estimator as it was; without
        ``sample_weight``, an ``alpha / batch_size`` past it raises HyperparameterError naming
        alpha, likewise.
    batch_size : int or "auto", default="auto"
        Samples per step; "auto" is ``min(200, n_samples)``. A larger value is clipped, with
        a warning.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        SGD's learning-rate schedule, as scikit-learn's (Adam ignores it): "constant" keeps
        ``learning_rate_init``; "invscaling" sets it to ``learning_rate_init / (t_ + 1) **
        power_t`` after each epoch (t_: samples seen); "adaptive" divides it by 5 each time the
        stopping rule would stop (``n_iter_no_change`` epochs without improving by ``tol``) and
        stops only once it is at most 1e-6. ``partial_fit`` continues the schedule. The
        velocity of SGD's momentum is rescaled as the rate changes, so that each step is
        scikit-learn's (see ``_set_learning_rate``).
    learning_rate_init : float, default=1e-3
        The learning rate (the first one, under SGD's ``learning_rate`` schedules).
    power_t : float >= 0, default=0.5
        The exponent of the "invscaling" schedule (read by no other). One so large that the
        rate rounds to 0 raises HyperparameterError naming it, at the end of the epoch where
        it does (the network keeps that epoch's steps), where scikit-learn raises OverflowError
        or steps by 0.
    max_iter : int, default=200
        The most epochs ``fit`` runs.
    shuffle : bool, default=True
        Whether each epoch visits the training rows in a new random order; False takes them
        in their order every epoch (``cr.fit``'s ``shuffle``), as scikit-learn does.
    tol : float, default=1e-4
        The improvement of the training loss (or of the validation score, with
        ``early_stopping``) that counts for ``n_iter_no_change``.
    n_iter_no_change : int or numpy.inf, default=10
        Training stops when the loss has not improved by ``tol`` for more than this many
        consecutive epochs (scikit-learn's rule).
    momentum : float in [0, 1), default=0.9
        SGD's momentum. scikit-learn also takes 1, a velocity that never decays; ``cr.SGD``
        does not, so 1 raises InvalidParameterError (a ValueError) naming momentum.
    nesterovs_momentum : bool, default=True
        Nesterov's look-ahead for SGD (when ``momentum`` > 0).
    beta_1, beta_2 : float in [0, 1), default=0.9, 0.999
        Adam's decay rates of the first and second moment estimates.
    epsilon : float, default=1e-8
        Adam's ε, added to √v as scikit-learn adds it (``cr.Adam``'s ``eps_added_to="sqrt_v"``); at
        least the smallest normal number of ``dtype`` (1.2e-38 in float32), else
        HyperparameterError (a smaller ε rounds to 0 there, and 0 / 0 makes NaN).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for binary
        classification only, as in scikit-learn) and stop when its score (accuracy or R²) has
        not improved by ``tol`` for more than ``n_iter_no_change`` epochs; the best epoch's
        weights are kept. Not available with ``partial_fit`` (HyperparameterError).
    validation_fraction : float in [0, 1), default=0.1
        The held-out fraction for ``early_stopping`` (read only then: 0 is taken without it, as
        scikit-learn takes it). A fraction that leaves fewer than 2 validation samples (0
        included), no training sample, or (binary) too few samples of a class to stratify
        raises HyperparameterError.
    random_state : int, RandomState, Generator or None, default=None
        Draws the initial weights and biases, the validation split and each epoch's order of
        the rows, as scikit-learn's MLP draws them: an int (0 to 2**32 - 1, as scikit-learn
        takes; else HyperparameterError naming it) or a RandomState gives scikit-learn's numbers,
        and with ``dtype="float64"`` its fitted weights to float64 rounding (where the steps are
        the same: see ``chainrule.sklearn._base``). An int seeds a new RandomState at every
        ``fit`` and ``partial_fit`` call, as scikit-learn does: ``fit`` is reproducible, and each
        ``partial_fit`` call orders its rows as the first one would; a RandomState goes on
        drawing from call to call. A Generator seeds a new RandomState at every call from numbers
        it draws. None draws from fresh operating-system entropy (``numpy.random.default_rng()``),
        so each fit differs; unlike scikit-learn, it never reads or advances NumPy's global
        RandomState.
    warm_start : bool, default=False
        ``fit`` continues from the current weights instead of starting afresh. The network
        it continues must still be the one the parameters describe: a ``hidden_layer_sizes``,
        ``activation`` or ``dtype`` changed since the first fit raises HyperparameterError
        naming it (as does ``partial_fit`` after such a change); refit with
        ``warm_start=False`` to start a new network.
    verbose : bool or int, default=False
        Print the loss (and validation score) after each epoch, and, when training stops
        early (or "adaptive" lowers the learning rate), scikit-learn's line saying why.
    max_fun : int >= 1, default=15000
        scikit-learn's limit on the loss evaluations of its "lbfgs" solver, which chainrule does
        not have: checked as scikit-learn checks it (else InvalidParameterError), and not read.
    dtype : {"float32", "float64"}, default="float32"
        The precision the network computes in. Predictions are returned as float64.
    device : {"cpu"}, default="cpu"
        Where the network runs; "cuda" is reserved and not supported yet.
"""


class EstimatorDivergenceError(DivergenceError, ValueError):
    """The estimators' DivergenceError: also a ValueError, which scikit-learn's MLP raises when its
    solver produced non-finite weights, so that ``except ValueError`` around ``fit`` or
    ``partial_fit`` catches it with either estimator."""


class _EndOfEpoch(Callback):
    """Hands each epoch's training loss to the estimator, which applies scikit-learn's rule."""

    def __init__(self, estimator: "BaseMLP", X_val, T_val, w_val, n_train: int, weight_decay: float) -> None:
        self.estimator, self.X_val, self.T_val, self.w_val, self.n_train = estimator, X_val, T_val, w_val, n_train
        self.weight_decay = weight_decay  # alpha / batch_size, of the penalty in loss_curve_

    def on_epoch_end(self, epoch: int, logs: dict, model) -> bool:
        return self.estimator._end_epoch(logs["loss"], self.X_val, self.T_val, self.w_val, self.n_train,
                                         self.weight_decay)


class BaseMLP(BaseEstimator):
    """Base class of MLPClassifier and MLPRegressor; not to be used directly.

    Subclasses provide the task: ``_encode_targets`` (y as ``validate_data`` leaves it, in
    its own dtype -> targets of shape (n_samples, n_outputs) that the network's dtype can
    hold, setting ``out_activation_``), ``_loss``, ``_stratify`` and ``_validation_score``;
    and, where it is not ``_loss`` itself, ``_training_loss``.
    """

    #: How often learning_rate="adaptive" divided SGD's rate (see ``_learning_rate``). The class's 0 is read by an
    #: estimator pickled by a chainrule without schedules, which divided none.
    _lr_divisions = 0

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "solver": [StrOptions({"sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {numpy.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],  # taken, and read by no solver of ours
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],  # 0 only without early_stopping
        "random_state": ["random_state", numpy.random.Generator],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "dtype": [StrOptions({"float32", "float64"})],
        "device": [StrOptions({"cpu", "cuda"})],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=1e-4,
                 batch_size="auto", learning_rate="constant", learning_rate_init=1e-3, power_t=0.5, max_iter=200,
                 shuffle=True, tol=1e-4, n_iter_no_change=10, momentum=0.9, nesterovs_momentum=True, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, early_stopping=False, validation_fraction=0.1, random_state=None,
                 warm_start=False, verbose=False, max_fun=15000, dtype="float32", device="cpu") -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.max_fun = max_fun
        self.dtype = dtype
        self.device = device

    # -- the fitted network ----------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once there is a network: data that ``fit`` refuses before training (after
        reading ``n_features_in_`` and ``classes_`` from it) leaves an unfitted estimator so."""
        return hasattr(self, "model_")

    @property
    def coefs_(self) -> LayerArrays:
        """Weights of each layer, ``coefs_[i]`` of shape (n_in, n_out); views of the network's.

        ``coefs_[i] = W`` and ``coefs_ = [W, ...]`` copy into them (see ``LayerArrays``)."""
        return self._layer_arrays("W", "coefs_")

    @coefs_.setter
    def coefs_(self, arrays) -> None:
        check_is_fitted(self)
        self.coefs_[:] = arrays

    @property
    def intercepts_(self) -> LayerArrays:
        """Biases of each layer, ``intercepts_[i]`` of shape (n_out,); views of the network's.

        ``intercepts_[i] = b`` and ``intercepts_ = [b, ...]`` copy into them (see ``LayerArrays``)."""
        return self._layer_arrays("b", "intercepts_")

    @intercepts_.setter
    def intercepts_(self, arrays) -> None:
        check_is_fitted(self)
        self.intercepts_[:] = arrays

    def _layer_arrays(self, key: str, name: str) -> LayerArrays:
        """The parameter ``key`` ("W" or "b") of each Linear layer of the network, as ``name``; before
        ``fit``, NotFittedError (an AttributeError, so ``hasattr`` is False), not one naming ``model_``."""
        if not hasattr(self, "model_"):
            check_is_fitted(self)
        return LayerArrays([layer.own_params[key] for layer in self.model_.layers if isinstance(layer, Linear)], name)

    def save(self, path) -> None:
        """Write the fitted estimator to a chainrule model file (safetensors + JSON, no pickle).

        The file holds the network, the hyperparameters, the fitted attributes and the
        optimizer's state; ``type(self).load(path)`` gives back an equal estimator, and
        ``cr.load(path)`` the network alone.

        It holds this estimator alone. Saved from a Pipeline's last step (``pipe[-1].save``),
        it has none of the steps before it (a StandardScaler, a ColumnTransformer): the loaded
        estimator, ``cr.predict`` and ``chainrule predict`` expect rows as that step received
        them, already transformed. Raw rows of the same width (and, where the step kept them,
        the same column names) are predicted without an error, but wrongly.
        To ship scaling without pickle, train the network with ``cr.fit(..., standardize=True)``
        or ``chainrule train``, whose model files hold their standardization and take raw rows.

        A ``random_state`` that is a ``numpy.random.RandomState`` or ``Generator`` cannot be
        written: it is saved as None, with a UserWarning (ChainruleWarning) naming
        random_state, and a loaded estimator then draws from fresh OS entropy. An int is saved,
        and is all a loaded estimator needs to draw what the saved one would have drawn: each
        ``fit`` and ``partial_fit`` call seeds a new RandomState from it, as scikit-learn's does.
        """
        save_estimator(self, path)

    @classmethod
    def load(cls, path):
        """The estimator saved at ``path`` by :meth:`save` (ModelFileError if it is not one)."""
        return load_estimator(cls, path)

    def to_onnx(self, path, *, opset=None):
        """Write the fitted estimator to ``path`` as an ONNX model; returns the ``onnx.ModelProto``.

        The graph takes ``X`` (batch, n_features_in_) in the estimator's ``dtype`` and outputs
        what ``predict`` and ``predict_proba`` return, under skl2onnx's names: a classifier's
        ``"label"`` and ``"probabilities"``, a regressor's ``"Y"`` (see
        ``chainrule.sklearn._onnx`` for each kind of classifier). ``opset`` is the ONNX
        operator set, 13 to the newest the installed ``onnx`` knows (17 by default). An
        existing file is replaced only once the new one is complete.

        Raises NotFittedError before ``fit``; HyperparameterError for a bad ``opset`` or
        without the optional ``onnx`` package (``pip install 'chainrule[onnx]'``);
        ModelFileError for a file that cannot be written, or naming a label of ``classes_`` or a
        name of ``feature_names_in_`` that UTF-8 cannot encode (a lone surrogate), as ``save``
        refuses it; an error leaves an existing file as it was.
        """
        return estimator_to_onnx(self, path, opset)

    def __getstate__(self) -> dict:
        if hasattr(self, "model_"):
            # Each layer keeps its last batch's inputs for backward: let go of them, so that a
            # pickle holds the weights and not the last data predicted on.
            self.model_.release_saved()
        return super().__getstate__()

    # -- training ----------------------------------------------------------------------------
    def _validate_params(self) -> None:
        """scikit-learn's checks of the hyperparameters, run again only when one of them has been
        set since they last passed (``set_params``, or assigned): which values pass depends on
        each value alone, and those that can be changed in place (a list of hidden layer sizes, a
        RandomState) pass whatever their contents, so an unchanged set is known to pass."""
        values = _param_values(self)
        checked = getattr(self, "_checked_params", ())
        if len(checked) == len(values) and all(map(operator.is_, values, checked)):
            return
        state = self.random_state
        if isinstance(state, Integral) and not isinstance(state, bool) and not 0 <= state <= MAX_RANDOM_STATE:
            # scikit-learn refuses it too, but its message cannot show an int of thousands of digits (a bare ValueError)
            raise HyperparameterError(f"random_state: expected None, an int from 0 to 2**32 - 1 (as scikit-learn "
                                      f"takes), a numpy.random.RandomState or a Generator, got {quoted(state)}")
        for name in UNBOUNDED_REALS:
            value = getattr(self, name)
            if isinstance(value, Integral) and not isinstance(value, bool):
                real(value, name)  # an int beyond a float's range: named, rather than an OverflowError where used
        super()._validate_params()
        self._checked_params = values

    def _fit(self, X, y, *, sample_weight, incremental: bool, classes=None):
        """``fit`` (all epochs) or ``partial_fit`` (one epoch, keeping the optimizer's state)."""
        self._validate_params()
        if self.device != "cpu":
            raise HyperparameterError(
                f"device: {self.device!r} is not supported by chainrule.sklearn yet; use device='cpu'"
            )
        if incremental and self.early_stopping:
            raise HyperparameterError("early_stopping: partial_fit does not support early_stopping=True")
        hidden = self._hidden_sizes()
        first_pass = not hasattr(self, "model_") or not (self.warm_start or incremental)
        if not first_pass:
            self._check_same_network(hidden)
        # Reading the data resets n_features_in_, feature_names_in_ and classes_, and a first pass
        # makes a new network: a fit refused before it trains (the data, or a setting the
        # optimizer refuses) puts back what the estimator held, so that it stays as it was.
        held = dict(vars(self))
        refuse_sparse_X(X)
        try:
            ready = None if first_pass else self._continued_arrays(X, y)
            X, y = ready or checked_data(self, X, y, multi_output=True,
                                         dtype=self.dtype if first_pass else self.model_.dtype, reset=first_pass)
            if y.ndim == 2 and y.shape[1] == 1:
                y = column_or_1d(y, warn=True)
            weights = _sample_weights(sample_weight, len(X))  # before _encode_targets sets classes_
            T = self._encode_targets(y, reset=first_pass, classes=classes, incremental=incremental)
            T = T.astype(X.dtype, copy=False)
            if not first_pass and T.shape[1] != self.n_outputs_:
                raise ShapeError(f"y: the network has {self.n_outputs_} outputs, but y has {T.shape[1]} columns")
            # scikit-learn's draws, in its order: the initial weights (a first pass), the split, each epoch's order
            draws = self._draws()
            network = None
            if first_pass:
                network = _network([X.shape[1], *hidden, T.shape[1]], self.activation, draws, self.dtype)
            X_train, T_train, w_train, X_val, T_val, w_val = self._split(X, T, draws, weights)
            batch_size = self._batch_size(len(X_train))
            # The penalty, alpha / batch_size or every batch's alpha / Σw, refused before a network is held or stepped
            alpha = real(self.alpha, "alpha")  # an int too large for a float (10**400) is named, not an OverflowError
            if self.solver == "sgd" and self.learning_rate == "invscaling":
                real(self.power_t, "power_t")  # its only reader: an int such as 10**400 is named, before training
            if w_train is None:
                check_weight_decay(alpha, batch_size, X.dtype)
            else:
                check_batch_weight_decays(alpha, w_train, batch_size, X.dtype)
            if first_pass:
                self._initialize(network)
            # A record without early stopping's best weights (a file that holds none) starts afresh too
            if (first_pass or self.early_stopping != (self.validation_scores_ is not None)
                    or self.early_stopping and not hasattr(self, "_best_theta")):
                self._reset_stopping()
            previous = self._optimizer if incremental else None
            if type(previous) is not SGD:  # a new SGD: "adaptive" starts from learning_rate_init again
                self._lr_divisions = 0
            weight_decay = alpha / batch_size
            optimizer = self._make_optimizer(weight_decay, previous)
            loss = self._training_loss()
        except BaseException:
            vars(self).clear()
            vars(self).update(held)
            raise
        self._optimizer = optimizer
        if w_train is not None:  # the penalty of each batch is alpha / its Σw, as scikit-learn's
            loss = PENALTY_PER_BATCH_WEIGHT[type(loss)](self._optimizer, alpha)
        self.n_iter_ = 0
        try:
            history = fit_network(
                self.model_, X_train, T_train, sample_weight=w_train, loss=loss, optimizer=self._optimizer,
                epochs=1 if incremental else self.max_iter, batch_size=batch_size, seed=0, shuffle=self.shuffle,
                _epoch_order=_SampleOrder(draws) if self.shuffle else None, verbose=0,
                callbacks=[_EndOfEpoch(self, X_val, T_val, w_val, len(X_train), weight_decay)],
            )
        except DivergenceError as error:
            raise self._diverged(error) from None
        self.model_.metadata["training"]["seed"] = None  # cr.fit's seed drew nothing: random_state drew the order
        if w_train is not None:  # the optimizer kept (partial_fit, the estimator's file) holds alpha / batch_size
            self._optimizer.weight_decay = weight_decay
        # the loss trained with, by its public name (not the private class recording scikit-learn's L or
        # setting the penalty), as cr.fit names it and files written before recorded it
        self.model_.metadata["training"]["loss"] = type(self._loss()).__name__
        if self.early_stopping:
            self.model_.flat_parameters().theta[...] = self._best_theta
        if history.stop_reason == "interrupted":
            warnings.warn("Training interrupted by user.")
        elif history.stop_reason == "completed" and not incremental:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                          "optimization hasn't converged yet.", ConvergenceWarning)
        return self

    def _diverged(self, error: DivergenceError) -> EstimatorDivergenceError:
        """``cr.fit``'s DivergenceError in the estimator's terms, and a ValueError as scikit-learn's
        error is: its learning rate is ``learning_rate_init``, and it standardizes nothing itself
        (``cr.fit``'s advice names ``standardize=True``, which it has not), so a loss or gradient
        not finite before any step advises scaling X, and y for a regressor, before ``fit``, as
        scikit-learn does it."""
        what = f"training diverged {error.where}"
        if not error.at_start:
            return EstimatorDivergenceError(f"{what}; the network keeps its last finite weights; try a lower "
                                            f"learning_rate_init than {self.learning_rate_init:g}", where=error.where)
        if not all(numpy.isfinite(value).all() for value in self.model_.params.values()):
            # a network holding NaN before any step (warm_start): the error names the parameter
            return EstimatorDivergenceError(str(error), where=error.where, at_start=True)
        advice = ["scale X first (a StandardScaler before the estimator in a Pipeline)"]
        if is_regressor(self):
            advice.append("scale y (sklearn.compose.TransformedTargetRegressor with a StandardScaler)")
        if self.model_.dtype == numpy.float32:
            advice.append("train in float64 (dtype='float64')")
        return EstimatorDivergenceError(f"{what}; {AT_START}: the rows or their targets are too large for the "
                                        f"network or the loss in {self.model_.dtype}: {', or '.join(advice)}",
                                        where=error.where, at_start=True)

    def _continued_arrays(self, X, y):
        """(X, y) as ``validate_data`` returns them when a fit continues, for the common case it
        spares its per-call cost: NumPy arrays, X of finite floats as wide as the network's input
        (converted to its dtype), y of finite numbers or strings, one row each, and no feature
        names fitted. None for anything else: ``validate_data`` then checks, converts and names
        what is wrong, as it always did (see ``_checked_data``)."""
        if not (type(X) is numpy.ndarray and type(y) is numpy.ndarray and X.ndim == 2 and X.dtype.kind == "f"
                and 0 < len(X) == len(y) and X.shape[1] == self.n_features_in_ and y.dtype.kind in "iufU"
                and (y.ndim == 1 or (y.ndim == 2 and y.shape[1] > 0)) and not hasattr(self, "feature_names_in_")):
            return None
        # A value too large for the network's dtype, or an inf, is left for checked_data to name, silently here;
        # a tiny one is no error (see _predict_outputs).
        with numpy.errstate(over="ignore", invalid="ignore", under="ignore"):
            X = X.astype(self.dtype, copy=False)  # the network's dtype, as _check_same_network found
            if not numpy.isfinite(X.sum()) or (y.dtype.kind == "f" and not numpy.isfinite(y.sum())):
                return None
        return X, y

    def _draws(self) -> numpy.random.RandomState:
        """The RandomState this ``fit`` or ``partial_fit`` call draws from: what scikit-learn's
        ``check_random_state`` makes of ``random_state``, a RandomState itself (each call goes on
        drawing from it) or, for an int, a new ``RandomState(random_state)`` at every call (so each
        call draws the same numbers). A ``Generator``, which scikit-learn does not take, seeds one
        at every call with four 32-bit words it draws, and None likewise from a new
        ``numpy.random.default_rng()`` of fresh OS entropy: never NumPy's global RandomState, which
        scikit-learn's ``check_random_state(None)`` returns, so fitting neither reads nor advances it.

        Rather than a new one, the estimator keeps one RandomState and seeds it again at every
        call (``RandomState.seed``, as ``RandomState(seed)`` seeds a new one: the same numbers).
        Making one takes about 210 µs (NumPy seeds its MT19937 from OS entropy before it seeds it
        with the int), a quarter of a small ``partial_fit`` call; seeding it again takes about 2 µs
        for an int (for None, the new ``default_rng`` and its four words 60-110 µs): measured in
        ``docs/cpu_speed.md``.
        """
        random_state = self.random_state
        if isinstance(random_state, numpy.random.RandomState):
            return random_state
        if isinstance(random_state, Integral):
            seed = random_state
        else:
            generator = numpy.random.default_rng() if random_state is None else random_state
            seed = generator.integers(2**32, size=4)
        if not hasattr(self, "_own_draws"):
            self._own_draws = numpy.random.RandomState()
        self._own_draws.seed(seed)
        return self._own_draws

    def _hidden_sizes(self) -> list:
        """The widths of ``hidden_layer_sizes`` as ints, checked before a network is built or compared:
        HyperparameterError naming it for a width that is not a positive integer, or for more than
        ``MAX_HIDDEN_LAYERS`` widths, the most a model file holds (``save`` would refuse the network
        only once trained; built, a million layers take minutes). They are counted before they are
        read, so that ``range(10**9)``, which scikit-learn's check takes, is not listed first; one too
        many to count (``range(10**20)``, whose ``len`` raises OverflowError) is named too."""
        sizes = self.hidden_layer_sizes
        try:
            count = operator.length_hint(sizes) if hasattr(sizes, "__iter__") else 1
        except OverflowError:  # a length beyond sys.maxsize
            count = math.inf
        if count > MAX_HIDDEN_LAYERS:
            shown = f"{count:,}" if count < math.inf else f"more than {sys.maxsize:,}"
            raise HyperparameterError(f"hidden_layer_sizes: at most {MAX_HIDDEN_LAYERS:,} hidden layers, the most a "
                                      f"model file holds (each is a Linear layer and its activation; {MAX_LAYERS:,} "
                                      f"layers in all), got {shown}: {quoted(sizes)}")
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if not all(isinstance(size, Integral) and not isinstance(size, bool) and size > 0 for size in sizes):
            raise HyperparameterError(f"hidden_layer_sizes: expected positive integers, "
                                      f"got {quoted(self.hidden_layer_sizes)}")
        return [int(size) for size in sizes]

    def _check_same_network(self, hidden: list, advice: str = "; call fit with warm_start=False for a new network"
                            ) -> None:
        """Before continuing (warm_start, partial_fit), and at load: the hyperparameters that shaped
        the network must still describe it. HyperparameterError naming the first that does not,
        its message ending with ``advice``."""
        fitted_hidden = [W.shape[1] for W in self.coefs_[:-1]]
        if hidden != fitted_hidden:
            raise HyperparameterError(
                f"hidden_layer_sizes: the fitted network has hidden layers {quoted(tuple(fitted_hidden))}, but "
                f"hidden_layer_sizes is now {quoted(self.hidden_layer_sizes)}{advice}"
            )
        fitted_activations = {type(layer) for layer in self.model_.layers if not isinstance(layer, Linear)}
        if fitted_activations - {ACTIVATIONS[self.activation]}:
            fitted_names = sorted({name for name, kind in ACTIVATIONS.items() if kind in fitted_activations})
            raise HyperparameterError(
                f"activation: the fitted network uses {' / '.join(fitted_names)}, but activation is now "
                f"{self.activation!r}{advice}"
            )
        if numpy.dtype(self.dtype) != numpy.dtype(self.model_.dtype):
            raise HyperparameterError(
                f"dtype: the fitted network computes in {numpy.dtype(self.model_.dtype).name}, but dtype is now "
                f"{self.dtype!r}{advice}"
            )

    def _initialize(self, network: Sequential) -> None:
        """The fresh ``network`` (see ``_network``) and fresh training records (scikit-learn's ``_initialize``)."""
        self.model_ = network
        self.n_outputs_ = self.coefs_[-1].shape[1]
        self.n_layers_ = len(self.coefs_) + 1
        self.loss_curve_ = []
        self.t_ = 0
        self._optimizer = None

    def _reset_stopping(self) -> None:
        """Fresh records for the stopping rule: the best training loss or validation score."""
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_, self.best_validation_score_, self.best_loss_ = [], -math.inf, None
            self._best_theta = self.model_.flat_parameters().theta.copy()
        else:
            self.validation_scores_, self.best_validation_score_, self.best_loss_ = None, None, math.inf

    def _split(self, X, T, random_state: numpy.random.RandomState, weights=None):
        """(X_train, T_train, w_train, X_val, T_val, w_val): the held-out set of ``early_stopping``
        (or none), the sample ``weights`` (or None) split with the rows. The split is scikit-learn's
        ``train_test_split`` drawn from ``random_state`` (stratified as there), which nothing else
        draws from without ``early_stopping``."""
        if not self.early_stopping:
            return X, T, weights, None, None, None
        if self.validation_fraction == 0:  # taken without early_stopping, as scikit-learn takes it
            raise HyperparameterError(f"validation_fraction: early_stopping cannot hold out 0 of {len(X)} samples: "
                                      f"it needs a validation set; pass a fraction in (0, 1), such as 0.1")
        arrays = (X, T) if weights is None else (X, T, weights)  # the same split of the rows either way
        try:
            X_train, X_val, T_train, T_val, *split_weights = train_test_split(
                *arrays, test_size=self.validation_fraction, random_state=random_state, stratify=self._stratify(T)
            )
        except ValueError as error:  # too few samples for the split, or for stratifying it
            raise HyperparameterError(
                f"validation_fraction: early_stopping cannot hold out {self.validation_fraction!r} of "
                f"{len(X)} samples: {error}"
            ) from error
        if len(X_val) < 2:
            raise HyperparameterError(
                "validation_fraction: The validation set is too small. Increase 'validation_fraction' or the size "
                f"of your dataset (early_stopping held out {len(X_val)} of {len(X)} samples)."
            )
        w_train, w_val = split_weights or (None, None)
        for part, which in ((w_train, "kept for training"), (w_val, "held out")):
            if part is not None and not part.any():
                raise DataError(f"sample_weight: the weights of all {len(part)} samples early_stopping {which} are "
                                f"zero; expected at least one positive weight among them (another random_state "
                                f"splits otherwise)")
        return X_train, T_train, w_train, X_val, T_val, w_val

    def _batch_size(self, n_train: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_train)
        if self.batch_size > n_train:
            warnings.warn(f"batch_size={self.batch_size} is larger than the {n_train} training samples; "
                          f"it is clipped to {n_train}")
        return min(self.batch_size, n_train)

    def _make_optimizer(self, weight_decay: float, previous=None, *, resumed: bool = False,
                        eps_added_to: str | None = None):
        """The solver for this call; ``previous``'s state (moments, velocity, step count) carries over
        (``resumed``: a state loaded next, from a file, does), and with it SGD's learning-rate
        schedule (see ``_learning_rate``). Adam adds ε to √v, as scikit-learn's (``eps_added_to``
        "sqrt_v"), unless ``previous`` is an Adam that adds it elsewhere, or ``eps_added_to`` (the
        form a file's state was trained with) says otherwise: a state goes on as it was trained.

        A ``previous`` of the same solver, for this network as it is (the size and dtype of its
        parameters) and with the same hyperparameters, is the optimizer that would be made and
        loaded with its state: it is kept, once its state has passed the checks
        ``load_state_dict`` makes (so that the same errors are raised), rather than copied into a
        new one at every ``partial_fit`` call.
        """
        flat = self.model_.flat_parameters()
        if self.solver == "sgd":
            kind, settings = SGD, {"momentum": self.momentum, "nesterov": self.nesterovs_momentum and self.momentum > 0}
        else:
            epsilon(self.epsilon, "epsilon", flat.theta.dtype)  # Adam's own check would name it "eps"
            # ε on √v, as scikit-learn's; a state carried over keeps the form it was trained with (an estimator
            # file written before the form was saved: ε on √v̂, see _model_file._restore_optimizer)
            form = eps_added_to or (previous.eps_added_to if type(previous) is Adam else "sqrt_v")
            kind, settings = Adam, {"beta1": self.beta_1, "beta2": self.beta_2, "eps": self.epsilon,
                                    "eps_added_to": form}
        continuing = self.solver == "sgd" and (resumed or type(previous) is SGD)
        settings.update(lr=self._learning_rate(continuing), weight_decay=weight_decay)
        if (type(previous) is kind and previous.model is self.model_ and previous.schedule is None
                and all(_same_setting(getattr(previous, name), value) for name, value in settings.items())
                and previous.fits(flat)):
            checked_saved_state(kind.__name__, {"t": previous.t, "state": previous.state, "missed": previous.missed},
                                previous.state, flat.names)
            return previous
        made = kind(self.model_, **settings)
        if previous is not None and type(previous) is type(made) and set(previous.state) == set(made.state):
            made.load_state_dict(previous.state_dict())
        return made

    def _training_loss(self):
        """The loss ``fit`` and ``partial_fit`` train with: ``_loss``'s gradient, and its L as scikit-learn's
        MLP records it (``loss_curve_``, the stopping rule); ``_loss`` itself where the two are the same."""
        return self._loss()

    def _end_epoch(self, data_loss: float, X_val, T_val, w_val, n_train: int, weight_decay: float) -> bool:
        """Record an epoch and apply scikit-learn's stopping rule; True to stop. The loss
        recorded adds the penalty (``weight_decay`` / 2) ‖W‖², ``weight_decay`` = alpha / batch_size."""
        penalty = 0.5 * weight_decay * sum(float(numpy.vdot(W, W)) for W in self.coefs_)
        self.loss_ = data_loss + penalty
        self.loss_curve_.append(self.loss_)
        self.n_iter_ += 1
        self.t_ += n_train
        if self.verbose:
            print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
        if X_val is None:
            improved = self.loss_ <= self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, self.loss_)
        else:
            score = self._validation_score(self._outputs(X_val), T_val, w_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            improved = score >= self.best_validation_score_ + self.tol
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_theta = self.model_.flat_parameters().theta.copy()
        self._no_improvement_count = 0 if improved else self._no_improvement_count + 1
        if self.solver == "sgd" and self.learning_rate == "invscaling":
            self._set_learning_rate(self._learning_rate(continuing=True))  # from the t_ just counted
        if self._no_improvement_count <= self.n_iter_no_change:
            return False
        watched = "Training loss" if X_val is None else "Validation score"
        message = (f"{watched} did not improve more than tol={self.tol:f} for {int(self.n_iter_no_change)} "
                   "consecutive epochs.")
        if self.solver == "sgd" and self.learning_rate == "adaptive":
            if self._optimizer.lr > ADAPTIVE_SMALLEST_RATE:  # scikit-learn's rule: divide it by 5 and go on
                self._set_learning_rate(self._optimizer.lr / 5.0)
                self._lr_divisions += 1
                self._no_improvement_count = 0
                if self.verbose:
                    print(f"{message} Setting learning rate to {self._optimizer.lr:f}")
                return False
            message += " Learning rate too small."
        if self.verbose:
            print(f"{message} Stopping.")
        return True

    def _learning_rate(self, continuing: bool) -> float:
        """SGD's learning rate for the next step, as scikit-learn's ``SGDOptimizer`` holds it.

        A new optimizer (``fit``, warm_start included, or the first ``partial_fit``) starts from
        ``learning_rate_init``, as do Adam and the "constant" schedule always. One ``continuing``
        (``partial_fit``, or a loaded file's) is where its schedule left it: for "invscaling",
        η = learning_rate_init / (t_ + 1) ** power_t, t_ the samples seen (scikit-learn sets it
        so after each epoch), and for "adaptive" learning_rate_init divided by 5 as many times
        as the stopping rule did so (``_lr_divisions``), one division at a time, as scikit-learn
        does, so that the same float results (and never past ``ADAPTIVE_SMALLEST_RATE``, where
        the rule stops dividing: a file's count cannot make it 0). Both follow a
        ``learning_rate_init`` or ``power_t`` changed since (scikit-learn's partial_fit would keep
        its optimizer's). A power_t that is not a finite real (an int beyond float's range) or a
        rate so small that it rounds to 0 raises HyperparameterError naming power_t.
        """
        if self.solver != "sgd" or self.learning_rate == "constant" or not continuing:
            return self.learning_rate_init
        rate = real(self.learning_rate_init, "learning_rate_init")  # 10**400 named, as cr.SGD names its lr
        if self.learning_rate == "adaptive":
            for _ in range(self._lr_divisions):
                if rate <= ADAPTIVE_SMALLEST_RATE:  # as far as the rule divides (a file's count, or a smaller init)
                    break
                rate /= 5.0
            return rate
        try:  # in float: (t_ + 1) ** power_t of two ints would be computed exactly, however large
            rate /= float(self.t_ + 1) ** real(self.power_t, "power_t")
        except OverflowError:
            rate = 0.0
        if rate == 0.0:
            raise HyperparameterError(
                f"power_t: learning_rate_init / (t_ + 1) ** power_t = {quoted(self.learning_rate_init)} / "
                f"{self.t_ + 1} ** {quoted(self.power_t)} rounds to 0 after {self.t_} samples; expected a power_t "
                f"that leaves a learning rate > 0, such as the default 0.5"
            )
        return rate

    def _set_learning_rate(self, rate: float) -> None:
        """Set the SGD optimizer's learning rate η to ``rate`` between steps, keeping scikit-learn's step.

        scikit-learn's velocity holds the learning rate (u ← μu − ηg, θ ← θ + u), ``cr.SGD``'s
        does not (v ← μv + g, θ ← θ − ηv): the two agree while u = −ηv, so when η becomes η′ the
        velocity is rescaled to v η / η′, and the next step is scikit-learn's, Nesterov's too.
        """
        optimizer = self._optimizer
        velocity = optimizer.state.get("velocity")  # v itself between epochs (see SGD.stepping)
        if velocity is not None and rate != optimizer.lr:
            velocity *= velocity.dtype.type(optimizer.lr / rate)
        optimizer.lr = rate

    # -- prediction ------------------------------------------------------------------------
    def _outputs(self, X) -> numpy.ndarray:
        """The network's outputs (n_samples, n_outputs) for prepared inputs, in chunks.

        Each chunk is copied into one reused buffer first, so the layers (which keep their
        last input) do not hold on to X, or to the caller's array, once prediction is done.
        """
        return outputs_in_chunks(self.model_, X, self.model_.dtype)

    def _predict_outputs(self, X) -> numpy.ndarray:
        """Check that the estimator is fitted and X fits it; the network's outputs on X, checked
        to be finite as ``cr.predict`` checks them (NonFiniteError naming the row whose finite
        values took the network beyond its dtype, which predict would answer as NaN, inf or the
        first class).

        A value of X that underflows in the cast to the network's dtype (1e-40 in float32) is no
        error, as under NumPy's default, also under a caller's ``numpy.seterr(all="raise")``
        (scikit-learn's MLP, in float64, casts nothing); nor is one in the forward pass (see
        ``outputs_in_chunks``).
        """
        check_is_fitted(self)
        refuse_sparse_X(X)
        dtype, device, _ = self.model_.parameter_facts()  # one walk through the layers (3 µs each)
        X = checked_data(self, X, reset=False, dtype=dtype)
        return checked_outputs(self.model_, X, dtype, device, None)


def _sample_weights(sample_weight, n_samples: int):
    """``sample_weight`` as ``cr.fit`` takes it: None stays None (unweighted training), a real
    number weighs every sample alike (as scikit-learn's ``_check_sample_weight``), anything else
    is checked by ``cr.fit``'s rules (a float64 vector, or a chainrule error naming sample_weight)."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, Real) and not isinstance(sample_weight, bool):
        try:
            number = float(sample_weight)
        except OverflowError:  # an int beyond float64's range (10**400)
            raise int_beyond_float(sample_weight, "sample_weight") from None
        sample_weight = numpy.full(n_samples, number)
    return as_sample_weights(sample_weight, n_samples)


def _network(sizes: list, activation: str, random_state: numpy.random.RandomState, dtype: str) -> Sequential:
    """``cr.mlp(sizes, activation)`` holding the initial weights and biases that scikit-learn's MLP
    draws from ``random_state`` (its ``_init_coef``): layer by layer, W (n_in, n_out) and then b
    (n_out,), each U(−a, a) with a = √(6 / (n_in + n_out)) (Glorot-uniform), or a = √(2 / (n_in +
    n_out)) for the logistic sigmoid ("logistic" and its alias "sigmoid"), drawn in float64 and
    cast to ``dtype``, as scikit-learn casts them to X's dtype. (``cr.mlp`` draws He for the ReLU
    family, and its biases start at 0: with He's larger weights, small data sets such as diabetes
    overfit visibly more than scikit-learn's MLP does with the same hyperparameters.)
    """
    factor = 2.0 if ACTIVATIONS[activation] is ACTIVATIONS["logistic"] else 6.0
    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        bound = numpy.sqrt(factor / (n_in + n_out))
        linear = Linear(n_in, n_out, init="glorot_uniform", dtype=dtype, _draw=False)  # W and b written next
        linear.own_params["W"][...] = random_state.uniform(-bound, bound, (n_in, n_out))
        linear.own_params["b"][...] = random_state.uniform(-bound, bound, n_out)
        layers += [linear, activation_layer(activation)]
    return Sequential(*layers[:-1])


class _SampleOrder:
    """The order of the training rows in each epoch of one ``fit`` or ``partial_fit`` call, as
    scikit-learn's ``_fit_stochastic`` takes them with ``shuffle``: its ``sample_idx`` starts as
    0..n−1 at each call and is shuffled again at every epoch, by ``sklearn.utils.shuffle`` with the
    call's ``random_state`` (so each epoch's order is a permutation of the last one's). That
    shuffle is ``order[random_state.permutation(n)]`` (``resample`` shuffles ``arange(n)`` in place
    and indexes with it, as ``permutation`` shuffles it): the same draws, in 5 µs rather than
    170 µs of checks."""

    def __init__(self, random_state: numpy.random.RandomState) -> None:
        self.random_state, self.order = random_state, None

    def __call__(self, n_train: int) -> numpy.ndarray:
        if self.order is None:
            self.order = numpy.arange(n_train)
        self.order = self.order[self.random_state.permutation(len(self.order))]
        return self.order


def _same_setting(held, value) -> bool:
    """Whether an optimizer's hyperparameter ``held`` is what its setter makes of ``value``:
    equal to it, and ``value`` of a type the setter takes (a bool where a bool is held, a str where a
    str is, else a Python or NumPy int or float), so that making the optimizer anew would hold the same."""
    if isinstance(held, str):  # Adam's eps_added_to
        return held == value
    if isinstance(held, bool):
        return isinstance(value, (bool, numpy.bool_)) and held == value
    number = isinstance(value, (int, float, numpy.integer, numpy.floating)) and not isinstance(value, bool)
    return number and held == value


def _param_values(estimator) -> tuple:
    """The values of the estimator's hyperparameters, named as ``get_params`` finds them in its
    class's constructor (a subclass's may take any number of them, none included)."""
    return tuple(getattr(estimator, name) for name in _param_names(type(estimator)))


@functools.cache
def _param_names(estimator_class) -> tuple:
    """The hyperparameter names of ``estimator_class`` (scikit-learn reads them from its constructor)."""
    return tuple(estimator_class._get_param_names())
