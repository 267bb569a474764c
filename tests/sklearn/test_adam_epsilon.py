"""The estimators' Adam adds ε to √v, the uncorrected second moment, as scikit-learn's AdamOptimizer does
(``cr.Adam(..., eps_added_to="sqrt_v")``), where ``cr.fit``'s Adam adds it to √v̂ (PyTorch's): so where √v̂ is
near ε (saturated units, unscaled inputs) the steps, loss_curve_ and the stopping epoch are scikit-learn's."""

import copy

import numpy
import pytest
from sklearn import neural_network
from sklearn.datasets import load_breast_cancer, load_wine

import chainrule as cr
from chainrule.errors import ModelFileError
from chainrule.io import read, save
from chainrule.sklearn import MLPClassifier

from .test_conformance import no_convergence_warnings  # noqa: F401 (an autouse fixture, shared)


def both(X, y, **params):
    """(ours in float64, scikit-learn's), fitted with Adam and the same hyperparameters."""
    params.update(solver="adam", random_state=0)
    return MLPClassifier(**params, dtype="float64").fit(X, y), neural_network.MLPClassifier(**params).fit(X, y)


def test_raw_breast_cancer_trains_the_epochs_scikit_learn_trains():
    # Before, ε on √v̂ stopped ours after 163 epochs (scikit-learn's with that ε also did), theirs ran 200
    X, y = load_breast_cancer(return_X_y=True)
    ours, theirs = both(X, y, hidden_layer_sizes=(32,))
    assert ours.n_iter_ == theirs.n_iter_ == 200
    # Saturated units make the two part by rounding alone later on (2.5e-4 at epoch 63, over 1e-3 from epoch 65, at
    # most 2.2e-2; measured): the first 60 epochs agree to 1.3e-6 (before, to 8e-2), the whole curve to 5e-2 (before,
    # 0.2)
    numpy.testing.assert_allclose(ours.loss_curve_[:60], theirs.loss_curve_[:60], rtol=1e-5)
    numpy.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_[:len(ours.loss_curve_)], rtol=5e-2)


def test_raw_wine_stops_where_scikit_learn_stops_with_its_weights():
    # Before, both stopped after 36 epochs, but the losses were 1.9e-3 apart and the weights 0.024
    X, y = load_wine(return_X_y=True)
    ours, theirs = both(X, y, hidden_layer_sizes=(16,))
    assert ours.n_iter_ == theirs.n_iter_ < 200  # the stopping rule stopped both
    numpy.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-7)
    for mine, expected in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        numpy.testing.assert_allclose(mine, expected, rtol=1e-7, atol=1e-10)


def test_the_estimators_adam_adds_eps_to_sqrt_v_and_cr_fits_to_sqrt_v_hat():
    X, y = load_wine(return_X_y=True)
    estimator = MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    assert estimator._optimizer.eps_added_to == "sqrt_v"
    assert cr.Adam(estimator.model_).eps_added_to == "sqrt_v_hat"
    assert cr.get_optimizer("adam", estimator.model_).eps_added_to == "sqrt_v_hat"


@pytest.fixture()
def saved(tmp_path):
    """(path, estimator) of a fitted Adam MLPClassifier saved to a file."""
    X, y = load_wine(return_X_y=True)
    estimator = MLPClassifier((4,), max_iter=3, random_state=0, dtype="float64").fit(X, y)
    path = tmp_path / "estimator.safetensors"
    estimator.save(path)
    return path, estimator, X, y


def test_an_estimator_file_keeps_where_adam_adds_eps(saved):
    path, estimator, X, y = saved
    assert read(path)[2]["optimizer"]["eps_added_to"] == "sqrt_v"
    loaded = MLPClassifier.load(path)
    assert loaded._optimizer.eps_added_to == "sqrt_v"
    estimator.partial_fit(X, y)
    loaded.partial_fit(X, y)
    numpy.testing.assert_array_equal(loaded.coefs_[0], estimator.coefs_[0])


def resaved(path, target, optimizer_entry):
    """``path`` written again to ``target`` with its extra JSON's optimizer entry replaced."""
    model, tensors, extra_json = read(path)
    save(model, target, extra_tensors=tensors, extra_json={**extra_json, "optimizer": optimizer_entry})
    return target


def test_an_estimator_file_written_before_goes_on_adding_eps_to_sqrt_v_hat(saved, tmp_path):
    """A file without eps_added_to was written when the estimators' Adam added ε to √v̂: its partial_fit
    goes on so, as it did; a new fit makes scikit-learn's Adam."""
    path, estimator, X, y = saved
    entry = dict(read(path)[2]["optimizer"])
    del entry["eps_added_to"]
    loaded = MLPClassifier.load(resaved(path, tmp_path / "before.safetensors", entry))
    assert loaded._optimizer.eps_added_to == "sqrt_v_hat"
    # what it did before: the same state stepped by an Adam adding ε to √v̂
    before = copy.deepcopy(estimator)
    old_adam = cr.Adam(before.model_, lr=before.learning_rate_init, eps=before.epsilon,
                       weight_decay=before._optimizer.weight_decay)
    old_adam.load_state_dict(before._optimizer.state_dict())
    before._optimizer = old_adam
    loaded.partial_fit(X, y)
    before.partial_fit(X, y)
    assert before._optimizer is old_adam  # kept: the same hyperparameters and form
    numpy.testing.assert_array_equal(loaded.coefs_[0], before.coefs_[0])
    assert loaded._optimizer.eps_added_to == "sqrt_v_hat"
    loaded.save(tmp_path / "again.safetensors")  # the form it goes on with is written down now
    assert read(tmp_path / "again.safetensors")[2]["optimizer"]["eps_added_to"] == "sqrt_v_hat"
    assert loaded.fit(X, y)._optimizer.eps_added_to == "sqrt_v"


@pytest.mark.parametrize("value", ["v", 1, None])
def test_an_estimator_file_with_another_eps_added_to_is_refused_naming_it(saved, tmp_path, value):
    path, *_ = saved
    entry = {**read(path)[2]["optimizer"], "eps_added_to": value}
    with pytest.raises(ModelFileError, match=r"extra_json\.optimizer\.eps_added_to: expected one of 'sqrt_v_hat', "
                                             r"'sqrt_v', got "):
        MLPClassifier.load(resaved(path, tmp_path / "crafted.safetensors", entry))
