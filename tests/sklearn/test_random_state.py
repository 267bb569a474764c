"""random_state as scikit-learn's: an int or a RandomState draws what scikit-learn's MLP draws from it
(the initial weights and biases, early_stopping's split, each epoch's order of the rows), in its order,
so that in float64 the fitted weights are scikit-learn's to float64 rounding (see chainrule.sklearn._base)."""

import numpy
import pytest
from sklearn import neural_network

from chainrule.sklearn import MLPClassifier, MLPRegressor
from chainrule.sklearn._base import _network

from .test_conformance import blobs, no_convergence_warnings  # noqa: F401 (an autouse fixture, shared)

THEIRS = {MLPClassifier: neural_network.MLPClassifier, MLPRegressor: neural_network.MLPRegressor}


def task(kind: str):
    """(estimator class, X, y) of 60 rows for each kind of target."""
    X, labels = blobs(3 if kind in ("multiclass", "multilabel") else 2, n_samples=60)
    if kind == "multilabel":
        return MLPClassifier, X, numpy.column_stack([labels == 0, labels == 1, X[:, 0] > 0]).astype(int)
    if kind == "regression":
        return MLPRegressor, X, labels + X[:, 0]
    if kind == "two outputs":
        return MLPRegressor, X, numpy.column_stack([labels + X[:, 0], X[:, 1]])
    return MLPClassifier, X, labels


def pair(estimator_class, random_state=0, **params):
    """(ours in float64, scikit-learn's) with the same hyperparameters: small, several epochs, no stop."""
    params = {"hidden_layer_sizes": (5, 4), "activation": "tanh", "learning_rate_init": 0.05, "max_iter": 4, "tol": 0.0,
              "n_iter_no_change": 50, **params}
    theirs_state = random_state
    if isinstance(random_state, numpy.random.RandomState):  # another RandomState in the same state: one each
        theirs_state = numpy.random.RandomState()
        theirs_state.set_state(random_state.get_state())
    ours = estimator_class(**params, random_state=random_state, dtype="float64")
    return ours, THEIRS[estimator_class](**params, random_state=theirs_state)


def assert_same_weights(ours, theirs):
    assert len(ours.coefs_) == len(theirs.coefs_)
    for mine, expected in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        numpy.testing.assert_allclose(mine, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "sigmoid"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_initial_weights_and_biases_are_scikit_learns_draws(activation, dtype):
    """W then b of each layer, from scikit-learn's own _init_coef ("sigmoid" is our alias of "logistic")."""
    theirs = neural_network.MLPClassifier(activation="logistic" if activation == "sigmoid" else activation)
    theirs._random_state = numpy.random.RandomState(7)
    sizes = [6, 5, 4, 3]
    network = _network(sizes, activation, numpy.random.RandomState(7), dtype)
    linears = [layer for layer in network.layers if "W" in layer.own_params]
    for layer, n_in, n_out in zip(linears, sizes, sizes[1:]):
        W, b = theirs._init_coef(n_in, n_out, numpy.dtype(dtype))
        numpy.testing.assert_array_equal(layer.own_params["W"], W)
        numpy.testing.assert_array_equal(layer.own_params["b"], b)
        assert layer.own_params["W"].dtype == numpy.dtype(dtype)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "regression", "two outputs"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("batch_size", ["auto", 12])
def test_fit_is_scikit_learns(kind, solver, shuffle, early_stopping, batch_size):
    """60 rows, 48 of them trained on with early_stopping: batches of 12 divide both, so alpha penalizes
    every batch alike (see _base)."""
    estimator_class, X, y = task(kind)
    ours, theirs = pair(estimator_class, solver=solver, shuffle=shuffle, early_stopping=early_stopping,
                        validation_fraction=0.2, batch_size=batch_size, alpha=1e-3)
    ours.fit(X, y)
    theirs.fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 4
    assert_same_weights(ours, theirs)
    # the rows' order came from random_state: cr.fit's seed drew nothing, and the summary records none
    assert ours.model_.metadata["training"]["seed"] is None and ours.model_.metadata["training"]["shuffle"] == shuffle
    if early_stopping:
        assert ours.validation_scores_ == pytest.approx(theirs.validation_scores_, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("learning_rate", ["invscaling", "adaptive"])
def test_shuffled_epochs_under_a_learning_rate_schedule_are_scikit_learns(learning_rate):
    """A tol of 10 makes "adaptive" divide the rate every third epoch (see test_learning_rate)."""
    X, y = blobs(3, n_samples=60)
    adaptive = learning_rate == "adaptive"
    ours, theirs = pair(MLPClassifier, solver="sgd", learning_rate=learning_rate, power_t=0.3, batch_size=12,
                        max_iter=12, tol=10.0 if adaptive else 0.0, n_iter_no_change=2 if adaptive else 50)
    ours.fit(X, y)
    theirs.fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 12
    assert ours._optimizer.lr == theirs._optimizer.learning_rate < 0.05
    assert_same_weights(ours, theirs)


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("make_state", [int, numpy.random.RandomState], ids=["int", "RandomState"])
def test_partial_fit_sequences_draw_as_scikit_learns(estimator_class, solver, make_state):
    """An int seeds a new RandomState at each call (each call shuffles its rows alike); a RandomState goes on
    drawing. Calls of 25, 25, 10 and 60 rows, in batches of 10 (a last, smaller one: alpha=0)."""
    X, y = blobs(3, n_samples=60)
    y = y if estimator_class is MLPClassifier else y + X[:, 0]
    ours, theirs = pair(estimator_class, make_state(3), solver=solver, batch_size=10, alpha=0.0)
    extra = {"classes": [0, 1, 2]} if estimator_class is MLPClassifier else {}
    for rows in (slice(0, 25), slice(25, 50), slice(50, 60), slice(0, 60)):
        ours.partial_fit(X[rows], y[rows], **extra)
        theirs.partial_fit(X[rows], y[rows], **extra)
        assert_same_weights(ours, theirs)


@pytest.mark.parametrize("make_state", [int, numpy.random.RandomState], ids=["int", "RandomState"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_warm_start_fits_draw_as_scikit_learns(make_state, early_stopping):
    """A warm_start fit draws no weights: from an int, its split and orders are the first draws of
    RandomState(random_state); from a RandomState, the next ones. A regressor whose R² improves in
    every fit (each keeps its own best epoch: see the test below for one that does not)."""
    X, y = blobs(3, n_samples=60)
    ours, theirs = pair(MLPRegressor, make_state(5), solver="sgd", early_stopping=early_stopping,
                        validation_fraction=0.2, batch_size=12, warm_start=True, learning_rate_init=0.01)
    for fits in range(1, 4):
        ours.fit(X, y + X[:, 0])
        theirs.fit(X, y + X[:, 0])
        assert_same_weights(ours, theirs)
        if early_stopping:
            assert ours.validation_scores_ == pytest.approx(theirs.validation_scores_, rel=1e-12)
            assert max(ours.validation_scores_[-4:]) == ours.best_validation_score_  # a best epoch of its own


def test_a_warm_start_fit_that_never_beats_the_best_score_keeps_the_best_weights():
    """The one difference in the draws' outcome: scikit-learn's early_stopping leaves coefs_ holding the very
    arrays of its best weights, which its next warm_start fit trains in place, so a fit whose validation score
    never beats the earlier best ends at its last epoch's weights there; ours at that earlier best's."""
    X, y = blobs(3, n_samples=60)
    ours, theirs = pair(MLPClassifier, 5, solver="sgd", early_stopping=True, validation_fraction=0.2,
                        batch_size=12, warm_start=True)
    ours.fit(X, y)
    theirs.fit(X, y)
    assert_same_weights(ours, theirs)
    best = ours.model_.flat_parameters().theta.copy()
    assert ours.best_validation_score_ == 1.0
    ours.fit(X, y)
    theirs.fit(X, y)
    assert ours.validation_scores_ == theirs.validation_scores_  # the same split and orders: the same epochs
    assert ours.validation_scores_[4:] == [1.0] * 4  # none better than the first fit's best
    numpy.testing.assert_array_equal(ours.model_.flat_parameters().theta, best)
    assert not numpy.allclose(theirs.coefs_[0], ours.coefs_[0])


def test_a_random_state_object_goes_on_drawing_across_fits():
    """Two fits from one RandomState start from other weights, as scikit-learn's do; each is scikit-learn's."""
    X, y = blobs(3, n_samples=60)
    ours, theirs = pair(MLPClassifier, numpy.random.RandomState(11), solver="adam")
    first = [ours.fit(X, y).coefs_[0].copy(), theirs.fit(X, y).coefs_[0].copy()]
    ours.fit(X, y)
    theirs.fit(X, y)
    assert_same_weights(ours, theirs)
    assert not numpy.allclose(first[0], ours.coefs_[0])


def test_a_loaded_estimator_draws_as_the_saved_one_would(tmp_path):
    """An int random_state is all a file needs: each later call seeds RandomState(random_state) anew."""
    X, y = blobs(3, n_samples=60)
    ours, theirs = pair(MLPClassifier, 2, solver="sgd", batch_size=10)
    for estimator in (ours, theirs):
        estimator.partial_fit(X[:30], y[:30], classes=[0, 1, 2])
    ours.save(tmp_path / "estimator.safetensors")
    loaded = MLPClassifier.load(tmp_path / "estimator.safetensors")
    for estimator in (ours, theirs, loaded):
        estimator.partial_fit(X[30:], y[30:])
    assert_same_weights(loaded, theirs)
    numpy.testing.assert_array_equal(loaded.model_.flat_parameters().theta, ours.model_.flat_parameters().theta)


def test_a_generator_seeds_a_new_random_state_at_each_call():
    """Two Generators in one state give one fit; each fit advances its Generator, so the next one differs."""
    X, y = blobs(3, n_samples=60)
    fits = [MLPClassifier((5,), max_iter=2, random_state=numpy.random.default_rng(4)).fit(X, y) for _ in range(2)]
    numpy.testing.assert_array_equal(fits[0].coefs_[0], fits[1].coefs_[0])
    first = fits[0].coefs_[0].copy()
    assert not numpy.array_equal(fits[0].fit(X, y).coefs_[0], first)
    expected = numpy.random.RandomState(numpy.random.default_rng(4).integers(2**32, size=4))
    drawn = MLPClassifier(random_state=numpy.random.default_rng(4))._draws()
    assert drawn.randint(1000, size=5).tolist() == expected.randint(1000, size=5).tolist()


def test_an_int_draws_the_numbers_of_a_new_random_state_at_every_call():
    """scikit-learn's check_random_state(7) is a new RandomState(7) at every call; the estimator seeds the one it
    keeps again (making one costs about 210 µs: see _base), to the same numbers, a numpy.int64 too; a RandomState
    is itself."""
    expected = numpy.random.RandomState(7).randint(1000, size=5).tolist()
    estimator = MLPClassifier(random_state=7)
    for _ in range(2):
        assert estimator._draws().randint(1000, size=5).tolist() == expected
    assert estimator.set_params(random_state=numpy.int64(7))._draws().randint(1000, size=5).tolist() == expected
    state = numpy.random.RandomState(1)
    assert MLPClassifier(random_state=state)._draws() is state


def test_random_state_none_draws_fresh_entropy_and_never_numpys_global_state():
    before = numpy.random.get_state()
    estimator = MLPClassifier()
    drawn = [estimator._draws().randint(2**31, size=4).tolist() for _ in range(2)]
    after = numpy.random.get_state()
    assert drawn[0] != drawn[1]
    numpy.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]
