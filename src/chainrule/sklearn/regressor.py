"""MLPRegressor: single- and multi-output regression, scikit-learn style."""

from __future__ import annotations

import numpy
from sklearn.base import MultiOutputMixin, RegressorMixin
from sklearn.metrics import r2_score

from ._base import NOT_ACCEPTED, PARAMETERS, BaseMLP
from ._loss import HalfSquaredError


class MLPRegressor(MultiOutputMixin, RegressorMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron regressor: a chainrule network in scikit-learn's API.

    A drop-in for ``sklearn.neural_network.MLPRegressor`` with the stochastic solvers, trained
    by ``cr.fit`` on half the squared error (scikit-learn's loss, so ∂L/∂ŷ = ŷ − y), with
    linear outputs: one per target column. The losses it reports (``loss_``, ``loss_curve_``,
    ``best_loss_``, and so what ``tol`` compares) are scikit-learn's: half the mean squared
    error over samples and outputs alike, plus the L2 penalty. Its hyperparameters, listed below, have
    scikit-learn's names.
{NOT_ACCEPTED}
    Nor is ``loss`` (scikit-learn 1.7 and later): the loss is always the squared error.

    ``to_onnx(path)`` writes an ONNX graph whose output ``"Y"`` is what ``predict`` returns:
    (batch,) for one target, (batch, n_outputs) for several.

    Parameters
    ----------
{PARAMETERS}
    Attributes
    ----------
    model_ : chainrule.Sequential
        The trained network: Linear layers with ``activation`` between them.
    coefs_, intercepts_ : list of ndarray
        Each Linear layer's weights (n_in, n_out) and biases (n_out,), views of ``model_``'s.
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
    >>> regressor = MLPRegressor((16,), learning_rate_init=0.01, random_state=0).fit(X, y / 100)
    >>> regressor.predict(X[:3]).shape
    (3,)
    """

    def fit(self, X, y, sample_weight=None):
        """Train on X of shape (n_samples, n_features) and targets y, (n_samples,) or
        (n_samples, n_outputs). Returns self.

        ``sample_weight`` (n_samples,), or a number for every sample, weights the rows'
        losses and the ``early_stopping`` R², as in scikit-learn; None weighs them alike.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing from the current weights and optimizer state.
        ``sample_weight`` weights the rows as in ``fit``."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Predicted values, (n_samples,) or (n_samples, n_outputs), as float64."""
        Y = self._predict_outputs(X).astype(numpy.float64)
        return Y.ravel() if self.n_outputs_ == 1 else Y

    def _encode_targets(self, y, *, reset: bool, classes, incremental: bool):
        """Targets as a matrix (n_samples, n_outputs)."""
        self.out_activation_ = "identity"
        return y.reshape(len(y), -1)

    def _loss(self):
        return HalfSquaredError()

    def _stratify(self, T):
        return None

    def _validation_score(self, Y, T, weights=None) -> float:
        return float(r2_score(T, Y, sample_weight=weights))
