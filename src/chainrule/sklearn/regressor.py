"""MLPRegressor: single- and multi-output regression, scikit-learn style."""

from __future__ import annotations

import numpy
from sklearn.base import MultiOutputMixin, RegressorMixin
from sklearn.metrics import r2_score

from ..checks import check_finite_as, refuse_sparse
from ..errors import DTypeError, HyperparameterError, NonFiniteError, quoted
from ._base import NOT_ACCEPTED, PARAMETERS, BaseMLP
from ._checked_data import dtype_hint, int_beyond_float
from ._loss import HalfSquaredError


class MLPRegressor(MultiOutputMixin, RegressorMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron regressor: a chainrule network in scikit-learn's API.

    A drop-in for ``sklearn.neural_network.MLPRegressor`` with the stochastic solvers, trained
    by ``cr.fit`` on half the squared error (scikit-learn's loss, so ∂L/∂ŷ = ŷ − y), with
    linear outputs: one per target column. The losses it reports (``loss_``, ``loss_curve_``,
    ``best_loss_``, and so what ``tol`` compares) are scikit-learn's: half the mean squared
    error over samples and outputs alike, plus the L2 penalty, which is taken at the epoch's last weights
    (scikit-learn adds each batch's at the weights before its step: with ``alpha`` > 0 the two differ by
    the penalty's change over the epoch, 1.6e-5 relative in one measured case). Its hyperparameters, listed below, have
    scikit-learn's names.
{NOT_ACCEPTED}

    The signature is scikit-learn 1.9's (as from 1.7): ``loss`` first, then
    ``hidden_layer_sizes`` and ``activation``, the rest by keyword only. So
    ``MLPRegressor((16,))`` passes (16,) as ``loss`` and ``fit`` refuses it, as scikit-learn's
    does; write ``MLPRegressor(hidden_layer_sizes=(16,))``. With scikit-learn 1.6, whose
    MLPRegressor has no ``loss``, the signature is still this one.

    ``to_onnx(path)`` writes an ONNX graph whose output ``"Y"`` is what ``predict`` returns:
    (batch,) for one target, (batch, n_outputs) for several.

    Parameters
    ----------
    loss : {{"squared_error"}}, default="squared_error"
        Half the squared error, the only loss offered: anything else raises HyperparameterError
        at ``fit`` (scikit-learn's "poisson" included).
{PARAMETERS}
    Attributes
    ----------
    model_ : chainrule.Sequential
        The trained network: Linear layers with ``activation`` between them.
    coefs_, intercepts_ : list of ndarray
        Each Linear layer's weights (n_in, n_out) and biases (n_out,), views of ``model_``'s.
        As in scikit-learn, ``coefs_[i] = W`` and ``coefs_ = [W, ...]`` set the weights: the
        arrays are copied into the network, cast to ``dtype``; one of another shape raises
        ShapeError, and one with NaN, Inf or values ``dtype`` cannot hold NonFiniteError,
        naming ``coefs_[i]``. The lists cannot change length (ShapeError).
    loss_ : float
        The last epoch's training loss, ½ mean((ŷ − y)²) over samples and outputs, L2
        penalty included.
    loss_curve_ : list of float
        ``loss_`` after each epoch (across ``warm_start`` fits and ``partial_fit`` calls).
    best_loss_ : float or None
        The lowest ``loss_`` (None with ``early_stopping``).
    validation_scores_ : list of float or None
        The held-out R² after each epoch, with ``early_stopping``.
    best_validation_score_ : float or None
        The best of ``validation_scores_``.
    n_iter_ : int
        Epochs run by the last ``fit`` (1 after ``partial_fit``).
    t_ : int
        Training samples seen, in all.
    n_features_in_ : int
        Features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when X had string column names (a DataFrame).
    n_layers_ : int
        Layers of neurons counting the input: ``len(hidden_layer_sizes) + 2``.
    n_outputs_ : int
        Target columns.
    out_activation_ : "identity"
        The output function.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from chainrule.sklearn import MLPRegressor
    >>> X, y = make_regression(n_samples=100, n_features=4, noise=0.1, random_state=0)
    >>> regressor = MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0).fit(X, y / 100)
    >>> regressor.predict(X[:3]).shape
    (3,)
    """

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=1e-4, batch_size="auto", learning_rate="constant", learning_rate_init=1e-3, power_t=0.5,
                 max_iter=200, shuffle=True, tol=1e-4, n_iter_no_change=10, momentum=0.9, nesterovs_momentum=True,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, early_stopping=False, validation_fraction=0.1,
                 random_state=None, warm_start=False, verbose=False, max_fun=15000, dtype="float32",
                 device="cpu") -> None:
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
            learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            shuffle=shuffle, tol=tol, n_iter_no_change=n_iter_no_change, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
            early_stopping=early_stopping, validation_fraction=validation_fraction, random_state=random_state,
            warm_start=warm_start, verbose=verbose, max_fun=max_fun, dtype=dtype, device=device,
        )
        self.loss = loss

    def fit(self, X, y, sample_weight=None):
        """Train on X of shape (n_samples, n_features) and targets y, (n_samples,) or
        (n_samples, n_outputs). Returns self.

        y must hold numbers: strings, even numeric ones ("1.5"), raise DTypeError naming y, as
        scikit-learn refuses them; a value that ``dtype`` cannot hold (1e39 in float32) raises
        NonFiniteError naming it and the dtype's largest value (fit in float64 or rescale y); a
        scipy.sparse y raises DTypeError naming y (pass ``y.toarray()``).

        ``sample_weight`` (n_samples,), or a number for every sample, weights the rows'
        losses and the ``early_stopping`` R², as in scikit-learn; None weighs them alike.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing from the current weights and optimizer state.
        ``sample_weight`` weights the rows as in ``fit``, and y is checked as there."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Predicted values, (n_samples,) or (n_samples, n_outputs), as float64."""
        Y = self._predict_outputs(X).astype(numpy.float64)
        return Y.ravel() if self.n_outputs_ == 1 else Y

    def _encode_targets(self, y, *, reset: bool, classes, incremental: bool):
        """Targets as a matrix (n_samples, n_outputs): numbers (see ``_numeric_targets``) that
        ``dtype`` can hold (else NonFiniteError naming y, the value and the dtype's limit). A
        scipy.sparse y raises DTypeError naming y, as a sparse X does (scikit-learn's raised
        LinAlgError, ours TypeError from ``len``)."""
        refuse_sparse(y, "y")
        y = _numeric_targets(y)
        try:
            check_finite_as(y, self.dtype, "y")  # before the cast to dtype, which would make an inf of it
        except NonFiniteError as error:
            if not numpy.isfinite(y).all():  # a NaN (None in an object array), not a value out of range
                raise
            raise NonFiniteError(f"{error}; {dtype_hint(self.dtype, 'y')}") from None
        self.out_activation_ = "identity"
        return y.reshape(len(y), -1)

    def _validate_params(self) -> None:
        """``loss`` (HyperparameterError naming it), then scikit-learn's checks of the rest."""
        _check_loss(self.loss)
        super()._validate_params()

    def _loss(self):
        return HalfSquaredError()

    def _stratify(self, T):
        return None

    def _validation_score(self, Y, T, weights=None) -> float:
        return float(r2_score(T, Y, sample_weight=weights))


def _numeric_targets(y):
    """``y`` as numbers: an array of booleans, integers or floats as it is, an object array of
    numbers converted to float64 (as scikit-learn's ``y_numeric``). DTypeError naming y for
    anything else, strings and bytes included even where they spell numbers ("1.5"), which
    scikit-learn's regressors refuse too; NonFiniteError naming y for an int beyond float64's range
    (10**400)."""
    if y.dtype.kind == "O" and not any(isinstance(value, (str, bytes)) for value in y.flat):
        try:
            y = y.astype(numpy.float64)
        except (TypeError, ValueError) as error:
            raise DTypeError(f"y: expected numeric targets, got an object array of other values ({error})") from None
        except OverflowError:  # an int beyond float64's range (10**400)
            raise int_beyond_float(y, "y") from None
    if y.dtype.kind not in "biuf":
        got = f"dtype {y.dtype}"
        if y.dtype.kind in "OSU":
            got = f"strings (dtype {y.dtype}); a regressor's targets are numbers (convert numeric strings first)"
        raise DTypeError(f"y: expected numeric targets, got {got}")
    return y


def _check_loss(loss) -> None:
    """HyperparameterError unless ``loss`` is "squared_error", saying why for the likely mistakes:
    scikit-learn's "poisson", and hidden layer sizes passed first, where they came before 1.7."""
    if not isinstance(loss, str):
        raise HyperparameterError(
            f"loss: expected 'squared_error', got {quoted(loss)}: as in scikit-learn 1.9, MLPRegressor's first "
            f"argument is loss and hidden_layer_sizes is the second; pass hidden_layer_sizes={quoted(loss)}"
        )
    if loss == "poisson":
        raise HyperparameterError("loss: chainrule does not offer scikit-learn's 'poisson' loss; "
                                  "the only accepted value is 'squared_error'")
    if loss != "squared_error":
        raise HyperparameterError(f"loss: expected 'squared_error', the only loss offered, got {quoted(loss)}")
