"""The loss MLPClassifier records is scikit-learn's, its log loss of the probabilities clipped to
[ε, 1 − ε] (see test_clipped_log_loss.py): so loss_curve_, and the stopping rule that reads it, are
scikit-learn's where outputs saturate (unscaled inputs)."""

import numpy
import pytest
from sklearn import neural_network
from sklearn.datasets import load_breast_cancer, load_iris, make_multilabel_classification

from chainrule.sklearn import MLPClassifier

from .test_conformance import no_convergence_warnings  # noqa: F401 (an autouse fixture, shared)


def saturating(kind: str):
    """(X, y, hyperparameters) of unscaled inputs whose outputs saturate, trained by SGD (whose steps are
    scikit-learn's to rounding) at a rate that lets the stopping rule act."""
    if kind == "binary":  # raw breast_cancer: two classes, one sigmoid output
        X, y = load_breast_cancer(return_X_y=True)
        return X, y, {"hidden_layer_sizes": (32,), "learning_rate_init": 1e-5}
    if kind == "multilabel":  # four sigmoid outputs
        X, Y = make_multilabel_classification(n_samples=300, n_features=10, n_classes=4, random_state=0)
        return 30 * X, Y, {"hidden_layer_sizes": (16,), "learning_rate_init": 1e-4}
    X, y = load_iris(return_X_y=True)  # multiclass: softmax
    return 50 * X, y, {"hidden_layer_sizes": (16,), "learning_rate_init": 1e-6}


@pytest.mark.parametrize("kind", ["binary", "multilabel", "multiclass"])
def test_loss_curve_and_stopping_epoch_are_scikit_learns_on_saturating_data(kind):
    # Before, the exact cross-entropy was recorded: the first epoch's loss of raw breast_cancer was 53.2 here,
    # 22.5 there; on iris × 50 training stopped after 200 epochs here and 40 there
    X, y, params = saturating(kind)
    params.update(solver="sgd", random_state=0)
    ours = MLPClassifier(**params, dtype="float64").fit(X, y)
    theirs = neural_network.MLPClassifier(**params).fit(X, y)
    assert max(theirs.loss_curve_) > 10  # saturated: a row's clipped loss is at most −log ε = 36
    if kind == "multiclass":
        assert theirs.n_iter_ < 200  # the stopping rule stopped it there
    assert ours.n_iter_ == theirs.n_iter_
    numpy.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-5)
    numpy.testing.assert_allclose(ours.best_loss_, theirs.best_loss_, rtol=1e-5)
    # the network's own record names the loss by its public name, as cr.fit and files written before name it
    public = "SoftmaxCrossEntropy" if kind == "multiclass" else "BinaryCrossEntropy"
    assert ours.model_.metadata["training"]["loss"] == public
