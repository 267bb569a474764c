"""Pickles of fitted estimators (joblib in GridSearchCV(n_jobs=2), joblib.dump, copy.deepcopy): the state that
training on needs, and not the optimizer's scratch or the model's flat buffer.

Going on from the copy (``partial_fit``, ``fit`` with ``warm_start``) gives exactly the weights that going on
from the original gives: θ, the optimizer's state and counts, the step count, the learning rate's record, the
stopping rule's record and the random states all survive.
"""

import copy
import pickle
import warnings

import numpy as np
import pytest

from chainrule.sklearn import MLPClassifier, MLPRegressor

SOLVERS = {
    "sgd_momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False, learning_rate_init=0.05),
    "sgd_nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True, learning_rate="adaptive",
                         learning_rate_init=0.05),
    "adam": dict(solver="adam", learning_rate_init=0.01),
}
ESTIMATORS = {"classifier": MLPClassifier, "regressor": MLPRegressor}
COPIES = {"pickle": lambda thing: pickle.loads(pickle.dumps(thing)), "deepcopy": copy.deepcopy}


def data(estimator_class):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 30))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0) if estimator_class is MLPClassifier else X[:, 0] - 2 * X[:, 1]
    return X, y


def fitted(estimator_class, solver: dict, dtype: str, **settings):
    X, y = data(estimator_class)
    estimator = estimator_class(hidden_layer_sizes=(40,), alpha=0.01, batch_size=32, max_iter=3, random_state=0,
                                dtype=dtype, **solver, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        return estimator.fit(X, y), X, y


def assert_same_weights(one, other) -> None:
    for W, W_other in zip(one.coefs_ + one.intercepts_, other.coefs_ + other.intercepts_):
        np.testing.assert_array_equal(W_other, W)
    assert other.t_ == one.t_ and other.n_iter_ == one.n_iter_
    assert other.loss_curve_ == one.loss_curve_


@pytest.mark.parametrize("copied", COPIES.values(), ids=COPIES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("solver", SOLVERS.values(), ids=SOLVERS)
@pytest.mark.parametrize("estimator_class", ESTIMATORS.values(), ids=ESTIMATORS)
def test_partial_fit_on_a_copy_gives_the_weights_of_partial_fit_on_the_original(estimator_class, solver, dtype,
                                                                                 copied):
    estimator, X, y = fitted(estimator_class, solver, dtype)
    estimator_copy = copied(estimator)
    for _ in range(2):
        estimator.partial_fit(X, y)
        estimator_copy.partial_fit(X, y)
    assert_same_weights(estimator, estimator_copy)


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("solver", SOLVERS.values(), ids=SOLVERS)
@pytest.mark.parametrize("estimator_class", ESTIMATORS.values(), ids=ESTIMATORS)
def test_a_warm_start_fit_of_an_unpickled_estimator_gives_the_weights_of_one_of_the_original(
        estimator_class, solver, dtype, early_stopping):
    estimator, X, y = fitted(estimator_class, solver, dtype, warm_start=True, early_stopping=early_stopping,
                             n_iter_no_change=50)
    estimator_copy = pickle.loads(pickle.dumps(estimator))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X, y)
        estimator_copy.fit(X, y)
    assert_same_weights(estimator, estimator_copy)


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("solver", SOLVERS.values(), ids=SOLVERS)
@pytest.mark.parametrize("estimator_class", ESTIMATORS.values(), ids=ESTIMATORS)
def test_a_pickled_estimator_holds_its_state_and_not_the_optimizers_scratch(estimator_class, solver, early_stopping):
    estimator, _, _ = fitted(estimator_class, solver, "float64", early_stopping=early_stopping)
    flat = estimator.model_.flat_parameters()
    # θ, the last ∂L/∂θ, the optimizer's state (velocity; m and v), early stopping's best θ; the random
    # states and the small records fit in the 16 KiB. Before, also the flat buffer's second θ and ∂L/∂θ
    # and the optimizer's _work, _work2 and _decay: five more vectors of θ's size (about 9 times θ for Adam).
    needed = (flat.theta.nbytes + flat.grad.nbytes + sum(array.nbytes for array in estimator._optimizer.state.values())
              + (flat.theta.nbytes if early_stopping else 0))
    size = len(pickle.dumps(estimator))
    assert size < needed + flat.theta.nbytes // 4 + 16384, (size, needed, flat.theta.nbytes)
