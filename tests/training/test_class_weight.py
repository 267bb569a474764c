"""Class weights: cr.fit(class_weight=...) trains as the sample weights they stand for, weights
training only, and refuses what cannot be a class weight by name."""

import re

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.utils.class_weight import compute_class_weight

import chainrule as cr

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
SPECIES = np.array(["setosa", "versicolor", "virginica"])[Y_IRIS]


def trained(y, **weighting) -> np.ndarray:
    """θ after 3 epochs of SGD on iris with ``weighting`` (class_weight and/or sample_weight)."""
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, y, optimizer="sgd", lr=0.05, epochs=3, batch_size=16, standardize=True, verbose=0,
           **weighting)
    return model.flat_parameters().theta.copy()


def test_a_dict_trains_as_the_sample_weights_it_stands_for():
    weights = {"setosa": 0.5, "virginica": 3.0}  # versicolor, unlisted, weighs 1
    per_row = np.array([weights.get(label, 1.0) for label in SPECIES])
    assert np.array_equal(trained(SPECIES, class_weight=weights), trained(SPECIES, sample_weight=per_row))
    assert not np.array_equal(trained(SPECIES, class_weight=weights), trained(SPECIES))


def test_balanced_weighs_classes_as_scikit_learn_computes_them():
    rows = np.r_[0:50, 50:70, 100:150]  # 50 setosa, 20 versicolor, 50 virginica
    X, y = X_IRIS[rows], Y_IRIS[rows]
    expected = compute_class_weight("balanced", classes=np.array([0, 1, 2]), y=y)[y]
    model, reference = cr.mlp([4, 8, 3], seed=0), cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X, y, class_weight="balanced", epochs=2, verbose=0)
    cr.fit(reference, X, y, sample_weight=expected, epochs=2, verbose=0)
    assert np.array_equal(model.flat_parameters().theta, reference.flat_parameters().theta)


def test_class_weights_multiply_the_sample_weights():
    sample = np.random.default_rng(0).uniform(0.5, 2, len(SPECIES))
    weights = {"versicolor": 4.0}
    per_row = sample * np.array([weights.get(label, 1.0) for label in SPECIES])
    assert np.array_equal(trained(SPECIES, class_weight=weights, sample_weight=sample),
                          trained(SPECIES, sample_weight=per_row))


def test_class_weights_weight_training_only_not_the_validation_scores():
    model = cr.mlp([4, 8, 3], seed=0)
    validation = (X_IRIS[::5], SPECIES[::5])
    history = cr.fit(model, X_IRIS, SPECIES, class_weight={"setosa": 10.0}, validation=validation, epochs=2,
                     verbose=0)
    scores = cr.evaluate(model, *validation)
    assert history["val_loss"][-1] == pytest.approx(scores["loss"], rel=1e-6)
    assert history["val_accuracy"][-1] == scores["accuracy"]


def test_balanced_weights_help_a_rare_class():
    """95 % of one class: unweighted training predicts the majority for most of the rare rows;
    balanced weights recover them (recall of the rare class on its training rows)."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (950, 2)), rng.normal(1.5, 1, (50, 2))])
    y = np.r_[np.zeros(950, int), np.ones(50, int)]
    recalls = {}
    for weighting in (None, "balanced"):
        model = cr.mlp([2, 8, 2], seed=0)
        cr.fit(model, X, y, class_weight=weighting, epochs=10, lr=0.01, verbose=0)
        recalls[weighting] = float(np.mean(cr.predict(model, X[950:]) == 1))
    assert recalls[None] < 0.5 < recalls["balanced"]


@pytest.mark.parametrize("class_weight, y, error, message", [
    ({"daisy": 2.0}, SPECIES, cr.LabelError, "class_weight: 'daisy' is not a class of the model; its classes are "
                                            "'setosa', 'versicolor', 'virginica'"),
    ({"setosa": -1.0}, SPECIES, cr.DataError, r"class_weight\['setosa'\]: expected a non-negative weight"),
    ({"setosa": "heavy"}, SPECIES, cr.HyperparameterError, r"class_weight\['setosa'\]: expected a finite real"),
    ({"setosa": float("nan")}, SPECIES, cr.HyperparameterError, r"class_weight\['setosa'\]: expected a finite"),
    ({"setosa": 0, "versicolor": 0, "virginica": 0}, SPECIES, cr.DataError, "class_weight: all 150 weights are zero"),
    ("equal", SPECIES, cr.HyperparameterError, "class_weight: expected None, 'balanced' or a dict"),
    ([1, 2, 3], SPECIES, cr.HyperparameterError, "class_weight: expected None, 'balanced' or a dict"),
    ("balanced", np.eye(3)[Y_IRIS], cr.HyperparameterError, "class_weight: needs class labels .*probability targets"),
])
def test_bad_class_weights_are_refused_by_name(class_weight, y, error, message):
    loss = "cross_entropy" if y.ndim == 2 else None
    with pytest.raises(error, match=message):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, y, loss=loss, class_weight=class_weight, epochs=1, verbose=0)


@pytest.mark.parametrize("class_weight, error, message", [
    ({10 ** 5000: 2.0}, cr.LabelError, "class_weight: <an int of 16,610 bits> is not a class of the model"),
    ({"setosa": 10 ** 5000}, cr.HyperparameterError,
     "class_weight['setosa']: expected a finite real number, got <an int of 16,610 bits>"),
    ("x" * 100_000, cr.HyperparameterError, "a dict {label: weight}, got '" + "x" * 79 + "..."),
    ([10 ** 5000], cr.HyperparameterError, "a dict {label: weight}, got <list holding an int of more than"),
], ids=["huge_label", "huge_weight", "long_string", "list_of_a_huge_int"])
def test_a_huge_or_long_class_weight_is_quoted_and_cut(class_weight, error, message):
    """A huge integer's repr raised ValueError inside the message, and a long string was cut without "..."."""
    with pytest.raises(error, match=re.escape(message)) as caught:
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, SPECIES, class_weight=class_weight, epochs=1, verbose=0)
    assert len(str(caught.value)) < 300


def test_class_weights_need_a_classification_task():
    with pytest.raises(cr.HyperparameterError, match="class_weight: needs class labels .*targets for regression"):
        cr.fit(cr.mlp([4, 8, 1], seed=0), X_IRIS, X_IRIS[:, 0], class_weight="balanced", epochs=1, verbose=0)


@pytest.mark.parametrize("class_weight", ["balanced", {1: 3.0}])
def test_one_binary_cross_entropy_output_is_weighted_by_its_labels_0_and_1(class_weight):
    """Keras weighs a sigmoid output's rows by their 0/1 label; this was refused as multilabel."""
    y = (Y_IRIS == 2).astype(np.float32)[:, None]
    weights = compute_class_weight(class_weight, classes=np.array([0, 1]), y=y[:, 0].astype(int))
    models = [cr.mlp([4, 8, 1], seed=0) for _ in range(2)]
    cr.fit(models[0], X_IRIS, y, loss="binary_cross_entropy", class_weight=class_weight, epochs=2, verbose=0)
    cr.fit(models[1], X_IRIS, y, loss="binary_cross_entropy", sample_weight=weights[y[:, 0].astype(int)], epochs=2,
           verbose=0)
    np.testing.assert_array_equal(models[0].flat_parameters().theta, models[1].flat_parameters().theta)


def test_boolean_keys_weigh_boolean_labels_of_one_binary_output():
    """class_weight={True: 3} was refused: "True is not a class of the model; its classes are 0, 1"."""
    y = Y_IRIS == 2
    models = [cr.mlp([4, 8, 1], seed=0) for _ in range(2)]
    for model, class_weight in zip(models, ({True: 3.0}, {1: 3.0})):
        cr.fit(model, X_IRIS, y, loss="binary_cross_entropy", class_weight=class_weight, epochs=2, verbose=0)
    np.testing.assert_array_equal(models[0].flat_parameters().theta, models[1].flat_parameters().theta)


@pytest.mark.parametrize("y", [np.eye(3)[Y_IRIS], np.full((150, 1), 0.5)])
def test_class_weights_are_refused_for_several_labels_or_soft_targets(y):
    with pytest.raises(cr.HyperparameterError, match="class_weight: needs class labels .*targets for multilabel"):
        cr.fit(cr.mlp([4, 8, y.shape[1]], seed=0), X_IRIS, y, loss="binary_cross_entropy", class_weight="balanced",
               epochs=1, verbose=0)


def test_float_labels_taken_as_regression_say_so_when_class_weighted():
    """0.0/1.0 labels (as pandas reads them) train MSE by default; the refusal says why."""
    with pytest.raises(cr.HyperparameterError, match="targets for regression; y holds floats.*loss='cross_entropy'"):
        cr.fit(cr.mlp([4, 8, 1], seed=0), X_IRIS, (Y_IRIS == 0).astype(float), class_weight="balanced", epochs=1,
               verbose=0)


def test_balanced_on_a_subset_of_the_models_classes_weighs_the_classes_present():
    """Fit again on rows of two of the model's three classes: scikit-learn's balanced weights
    of those two, the absent class weighing nothing."""
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, SPECIES, epochs=1, verbose=0)
    rows = np.r_[0:50, 50:70]  # setosa and 20 versicolor
    expected = compute_class_weight("balanced", classes=np.unique(SPECIES[rows]), y=SPECIES[rows])
    per_row = expected[np.searchsorted(np.unique(SPECIES[rows]), SPECIES[rows])]
    twin = cr.mlp([4, 8, 3], seed=0)
    cr.fit(twin, X_IRIS, SPECIES, epochs=1, verbose=0)
    cr.fit(model, X_IRIS[rows], SPECIES[rows], class_weight="balanced", epochs=2, verbose=0)
    cr.fit(twin, X_IRIS[rows], SPECIES[rows], sample_weight=per_row, epochs=2, verbose=0)
    assert np.array_equal(model.flat_parameters().theta, twin.flat_parameters().theta)


def test_a_resumed_class_weighted_run_is_bit_identical(tmp_path):
    arguments = dict(class_weight="balanced", validation=0.2, optimizer="sgd", lr=0.05, batch_size=16,
                     checkpoint=tmp_path / "checkpoint.safetensors", verbose=0)
    whole = cr.mlp([4, 8, 3], seed=0)
    cr.fit(whole, X_IRIS[30:], SPECIES[30:], epochs=4, **arguments)
    first, resumed = cr.mlp([4, 8, 3], seed=0), cr.mlp([4, 8, 3], seed=0)
    cr.fit(first, X_IRIS[30:], SPECIES[30:], epochs=2, **arguments)
    cr.fit(resumed, X_IRIS[30:], SPECIES[30:], epochs=4, resume=tmp_path / "checkpoint.safetensors", **arguments)
    assert np.array_equal(resumed.flat_parameters().theta, whole.flat_parameters().theta)


@pytest.mark.parametrize("labels, key", [
    (np.arange(30) % 3, True),          # True == 1 in Python, but True is no class of 0, 1, 2
    (np.arange(30) % 2 == 0, 1),        # nor is 1 a class of False, True
    (np.arange(30) % 2 == 0, np.int64(0)),
])
def test_a_boolean_key_names_only_a_boolean_class(labels, key):
    X = np.random.default_rng(0).normal(size=(30, 4))
    model = cr.mlp([4, 3, len(np.unique(labels))], seed=0)
    with pytest.raises(cr.LabelError, match=re.escape(f"class_weight: {key!r} is not a class of the model")):
        cr.fit(model, X, labels, class_weight={key: 2.0}, epochs=1, batch_size=10, verbose=0)


def test_a_boolean_key_weighs_its_boolean_class():
    X = np.random.default_rng(0).normal(size=(30, 4))
    labels = np.arange(30) % 2 == 0
    weighted, twin = cr.mlp([4, 3, 2], seed=0), cr.mlp([4, 3, 2], seed=0)
    cr.fit(weighted, X, labels, class_weight={np.True_: 3.0}, epochs=1, batch_size=10, verbose=0)
    cr.fit(twin, X, labels, sample_weight=np.where(labels, 3.0, 1.0), epochs=1, batch_size=10, verbose=0)
    assert np.array_equal(weighted.flat_parameters().theta, twin.flat_parameters().theta)
