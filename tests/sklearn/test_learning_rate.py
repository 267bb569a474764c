"""scikit-learn's ``learning_rate`` schedules and ``shuffle`` in the estimators: from the same
weights, in the same (unshuffled) batches, the weights after several epochs are scikit-learn's."""

import numpy
import pytest
from sklearn import neural_network

from chainrule.errors import HyperparameterError
from chainrule.sklearn import MLPClassifier, MLPRegressor

from .test_conformance import blobs, no_convergence_warnings  # noqa: F401 (an autouse fixture, shared)

THEIRS = {MLPClassifier: neural_network.MLPClassifier, MLPRegressor: neural_network.MLPRegressor}


def from_the_same_weights(estimator_class, X, y, **params):
    """(ours, theirs) after one epoch each, then holding scikit-learn's weights, ready for a
    ``warm_start`` fit. alpha=0: an epoch's last, smaller batch is penalized otherwise (see _base)."""
    params = dict(hidden_layer_sizes=(5,), activation="tanh", solver="sgd", learning_rate_init=0.1, alpha=0.0,
                  batch_size=25, max_iter=1, shuffle=False, warm_start=True, random_state=0, **params)
    theirs = THEIRS[estimator_class](**params).fit(X, y)
    ours = estimator_class(**params, dtype="float64").fit(X, y)
    for mine, start in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        mine[...] = start
    return ours, theirs


def assert_same_weights(ours, theirs):
    for mine, expected in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        numpy.testing.assert_allclose(mine, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("learning_rate", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_twenty_unshuffled_epochs_are_scikit_learns(learning_rate, momentum, nesterov):
    """With momentum, the velocity is rescaled as the rate changes (``_set_learning_rate``); a tol
    of 10 makes "adaptive" divide the rate every third epoch (and the others would stop there)."""
    X, y = blobs(3, n_samples=90)
    adaptive = learning_rate == "adaptive"
    ours, theirs = from_the_same_weights(MLPClassifier, X, y, learning_rate=learning_rate, power_t=0.3,
                                         momentum=momentum, nesterovs_momentum=nesterov,
                                         tol=10.0 if adaptive else 0.0, n_iter_no_change=2 if adaptive else 50)
    ours.set_params(max_iter=20).fit(X, y)
    theirs.set_params(max_iter=20).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 20 and ours.t_ == theirs.t_ == 21 * 90
    assert ours._optimizer.lr == theirs._optimizer.learning_rate
    if learning_rate != "constant":
        assert ours._optimizer.lr < 0.1
    assert_same_weights(ours, theirs)
    numpy.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=1e-10)  # [0]: other weights


def test_adaptive_stops_once_the_rate_is_at_most_1e_6_as_scikit_learn(capsys):
    X, y = blobs(3, n_samples=90)
    ours, theirs = from_the_same_weights(MLPClassifier, X, y, learning_rate="adaptive", momentum=0.9, tol=10.0,
                                         n_iter_no_change=1, verbose=True)
    ours.set_params(max_iter=100).fit(X, y)
    theirs.set_params(max_iter=100).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ < 100  # 0.1 / 5**7 = 1.3e-6 is divided once more, then it stops
    assert ours._optimizer.lr == theirs._optimizer.learning_rate == pytest.approx(0.1 / 5**8)
    assert_same_weights(ours, theirs)
    printed = capsys.readouterr().out
    assert printed.count("Setting learning rate to 0.020000") == 2  # scikit-learn's lines, ours and theirs
    assert printed.count("Learning rate too small. Stopping.") == 2


@pytest.mark.parametrize("learning_rate", ["invscaling", "adaptive"])
def test_partial_fit_continues_the_schedule_as_scikit_learn(learning_rate, tmp_path):
    """Each call runs one epoch at the rate the last one left, a loaded file's calls too."""
    X, y = blobs(3, n_samples=90)
    ours, theirs = from_the_same_weights(MLPRegressor, X, y.astype(float), learning_rate=learning_rate,
                                         momentum=0.0, tol=10.0, n_iter_no_change=1)
    for _ in range(6):
        ours.partial_fit(X, y.astype(float))
        theirs.partial_fit(X, y.astype(float))
    assert ours._optimizer.lr == theirs._optimizer.learning_rate < 0.1 / 5 ** 2
    assert_same_weights(ours, theirs)
    ours.save(tmp_path / "estimator.safetensors")
    loaded = MLPRegressor.load(tmp_path / "estimator.safetensors")
    assert loaded.get_params() == ours.get_params() and loaded.learning_rate == learning_rate
    assert loaded._optimizer.lr == ours._optimizer.lr
    for estimator in (ours, theirs, loaded):
        estimator.partial_fit(X, y.astype(float))
    assert_same_weights(ours, theirs)
    numpy.testing.assert_array_equal(loaded.model_.flat_parameters().theta, ours.model_.flat_parameters().theta)


def test_a_new_fit_starts_the_schedule_afresh_and_adam_ignores_it():
    """A warm_start fit makes a new optimizer, from learning_rate_init, as scikit-learn's does;
    the stopping rule's count carries over, so its first epoch divides that rate at once."""
    X, y = blobs(3, n_samples=90)
    params = dict(hidden_layer_sizes=(5,), solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1,
                  max_iter=6, random_state=0)
    ours, theirs = MLPClassifier(**params).fit(X, y), neural_network.MLPClassifier(**params).fit(X, y)
    assert ours._optimizer.lr == theirs._optimizer.learning_rate == pytest.approx(1e-3 / 25)
    ours.set_params(warm_start=True, max_iter=1).fit(X, y)
    theirs.set_params(warm_start=True, max_iter=1).fit(X, y)
    assert ours._optimizer.lr == theirs._optimizer.learning_rate == pytest.approx(1e-3 / 5)
    adam = MLPClassifier((5,), learning_rate="invscaling", power_t=0.9, max_iter=4, random_state=0).fit(X, y)
    same = MLPClassifier((5,), max_iter=4, random_state=0).fit(X, y)
    assert adam._optimizer.lr == adam.learning_rate_init
    numpy.testing.assert_array_equal(adam.coefs_[0], same.coefs_[0])


def test_partial_fit_after_a_warm_start_fit_continues_that_fits_rate():
    """The warm_start fit's new optimizer divided its rate once, from learning_rate_init: the count of the
    fit before (two) is not carried into it, so partial_fit (and a saved file) go on from 1e-3 / 5, not / 125."""
    X, y = blobs(3, n_samples=90)
    params = dict(hidden_layer_sizes=(5,), solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1,
                  max_iter=6, random_state=0)
    ours, theirs = MLPClassifier(**params).fit(X, y), neural_network.MLPClassifier(**params).fit(X, y)
    for estimator in (ours, theirs):
        estimator.set_params(warm_start=True, max_iter=1).fit(X, y)
        estimator.partial_fit(X, y)  # no division: the last one reset the stopping rule's count
    assert ours._optimizer.lr == theirs._optimizer.learning_rate == pytest.approx(1e-3 / 5)


def test_adaptive_stops_at_a_rate_of_exactly_1e_6_as_scikit_learn():
    """scikit-learn divides only a rate above 1e-6: one of 1e-6 stops where the rule first would."""
    X, y = blobs(3, n_samples=90)
    params = dict(hidden_layer_sizes=(5,), solver="sgd", learning_rate="adaptive", learning_rate_init=1e-6,
                  tol=10.0, n_iter_no_change=1, max_iter=20, random_state=0)
    ours, theirs = MLPClassifier(**params).fit(X, y), neural_network.MLPClassifier(**params).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 3  # the first epoch improves on no loss
    assert ours._optimizer.lr == theirs._optimizer.learning_rate == 1e-6


def test_an_estimator_pickled_before_the_schedules_continues_and_saves(tmp_path):
    """One pickled by a chainrule without learning_rate holds no division count (it divided none): partial_fit
    with "adaptive" raised AttributeError where the rule divided, and save always."""
    X, y = blobs(3, n_samples=90)
    estimator = MLPClassifier((5,), solver="sgd", max_iter=3, random_state=0).fit(X, y)
    del estimator._lr_divisions  # as unpickled from before
    estimator.save(tmp_path / "estimator.safetensors")
    estimator.set_params(learning_rate="adaptive", tol=10.0, n_iter_no_change=1)
    for _ in range(3):
        estimator.partial_fit(X, y)
    assert estimator._optimizer.lr == pytest.approx(1e-3 / 5)


def test_shuffle_false_changes_the_batches():
    """The network of random_state=0 trained in X's order (as scikit-learn's, above) or shuffled."""
    X, y = blobs(3, n_samples=90)
    fits = [MLPClassifier((5,), shuffle=shuffle, batch_size=10, max_iter=3, random_state=0).fit(X, y).coefs_[0]
            for shuffle in (False, True)]
    assert not numpy.allclose(fits[0], fits[1], rtol=1e-4)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_in_order_continues_as_fits_epochs_also_through_a_saved_file(tmp_path, solver):
    """Without shuffling, each partial_fit takes X in its order as fit's epochs do, from the optimizer
    the last one left: four calls, the last two by an estimator loaded from a file, are fit's four epochs
    (the file keeps shuffle=False; a loaded estimator that shuffled would take other batches)."""
    X, y = blobs(3, n_samples=90)
    params = dict(hidden_layer_sizes=(5,), solver=solver, shuffle=False, batch_size=20, random_state=0)
    whole = MLPClassifier(**params, max_iter=4, tol=0.0, n_iter_no_change=10).fit(X, y)
    calls = MLPClassifier(**params)
    for _ in range(2):
        calls.partial_fit(X, y, classes=[0, 1, 2])
    calls.save(tmp_path / "est.safetensors")
    calls = MLPClassifier.load(tmp_path / "est.safetensors")
    assert calls.shuffle is False
    for _ in range(2):
        calls.partial_fit(X, y)
    assert calls.loss_curve_ == whole.loss_curve_
    for mine, expected in zip(calls.coefs_ + calls.intercepts_, whole.coefs_ + whole.intercepts_):
        numpy.testing.assert_array_equal(mine, expected)


def test_a_power_t_that_rounds_the_rate_to_0_is_named():
    X, y = blobs(3, n_samples=90)
    estimator = MLPClassifier((5,), solver="sgd", learning_rate="invscaling", power_t=1e6, max_iter=2,
                              random_state=0)
    with pytest.raises(HyperparameterError, match=r"power_t: learning_rate_init / \(t_ \+ 1\) \*\* power_t .* "
                                                  r"rounds to 0 after 90 samples"):
        estimator.fit(X, y)


def test_a_power_t_beyond_float_is_refused_before_training_when_read():
    """scikit-learn's range takes 10**400; as an int it would be raised to its exact power (without end)."""
    X, y = blobs(3, n_samples=90)
    estimator = MLPClassifier((5,), solver="sgd", learning_rate="invscaling", power_t=10**400, max_iter=2)
    with pytest.raises(HyperparameterError, match="power_t: expected a finite real number"):
        estimator.fit(X, y)
    assert not hasattr(estimator, "model_")
    assert MLPClassifier((5,), power_t=10**400, max_iter=2, random_state=0).fit(X, y).n_iter_ == 2  # Adam's


def test_an_int_power_t_is_scikit_learns():
    X, y = blobs(3, n_samples=90)
    ours, theirs = from_the_same_weights(MLPClassifier, X, y, learning_rate="invscaling", power_t=2)
    ours.set_params(max_iter=3).fit(X, y)
    theirs.set_params(max_iter=3).fit(X, y)
    assert ours._optimizer.lr == theirs._optimizer.learning_rate == 0.1 / (4 * 90 + 1) ** 2
    assert_same_weights(ours, theirs)


def test_max_fun_is_taken_and_changes_nothing():
    X, y = blobs(3, n_samples=90)
    fits = [MLPClassifier((5,), max_fun=max_fun, max_iter=3, random_state=0).fit(X, y) for max_fun in (1, 15000)]
    numpy.testing.assert_array_equal(fits[0].coefs_[0], fits[1].coefs_[0])


@pytest.mark.parametrize("learning_rate", ["invscaling", "adaptive"])
def test_a_learning_rate_init_beyond_float_is_named_where_the_schedule_continues(learning_rate):
    X, y = blobs(3, n_samples=90)
    estimator = MLPClassifier((5,), solver="sgd", learning_rate=learning_rate, random_state=0)
    estimator.partial_fit(X, y, classes=[0, 1, 2])
    estimator.set_params(learning_rate_init=10**400)
    with pytest.raises(HyperparameterError, match="learning_rate_init: expected a finite real number"):
        estimator.partial_fit(X, y)
