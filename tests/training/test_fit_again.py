"""chainrule.training.fit called again on a model that has a preprocessor (from an earlier fit
or cr.load): training continues with that preprocessor's standardization and classes; an
argument or data that contradicts it is refused saying how to proceed. Also the hints of the
errors that float class labels and a one-output binary model meet."""

import dataclasses

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris

import chainrule as cr
from chainrule.data.preprocessing import Preprocessor

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_CANCER, Y_CANCER = load_breast_cancer(return_X_y=True)


def standardized_iris_model():
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS, epochs=3, standardize=True, verbose=0)
    return model


def almost_no_step(model):
    """An optimizer whose steps leave the predictions as they were."""
    return cr.SGD(model, lr=1e-12)


def test_a_second_fit_with_the_default_keeps_the_standardization():
    model = cr.mlp([30, 16, 2], seed=0)
    cr.fit(model, X_CANCER, Y_CANCER, epochs=5, standardize=True, verbose=0)
    mean, scale = model.preprocessor.mean.copy(), model.preprocessor.scale.copy()
    before = cr.predict_proba(model, X_CANCER)
    cr.fit(model, X_CANCER[:200], Y_CANCER[:200], optimizer=almost_no_step(model), epochs=1, verbose=0)
    assert np.array_equal(model.preprocessor.mean, mean) and np.array_equal(model.preprocessor.scale, scale)
    np.testing.assert_allclose(cr.predict_proba(model, X_CANCER), before, atol=1e-6)


def test_a_second_fit_with_standardize_true_does_not_refit_the_mean_and_scale():
    model = standardized_iris_model()
    mean, scale = model.preprocessor.mean.copy(), model.preprocessor.scale.copy()
    chunk = Y_IRIS > 0  # another mean and deviation than the whole set's
    cr.fit(model, X_IRIS[chunk], Y_IRIS[chunk], epochs=1, standardize=True, verbose=0)
    assert np.array_equal(model.preprocessor.mean, mean) and np.array_equal(model.preprocessor.scale, scale)


@pytest.mark.parametrize("first, second, does", [(True, False, "standardizes"), (False, True, "does not standardize")])
def test_a_standardize_that_contradicts_the_models_preprocessor_is_refused(first, second, does):
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS, epochs=1, standardize=first, verbose=0)
    theta = model.flat_parameters().theta.copy()
    with pytest.raises(cr.HyperparameterError, match=f"standardize={second}: the model's preprocessor {does}") as info:
        cr.fit(model, X_IRIS, Y_IRIS, epochs=1, standardize=second, verbose=0)
    assert "standardize=None to continue with it, or set model.preprocessor = None" in str(info.value)
    assert np.array_equal(model.flat_parameters().theta, theta)


@pytest.mark.parametrize("replace, message", [
    (lambda p: dataclasses.replace(p, classes=[5, 6, 7, 8]),
     r"^model.preprocessor.classes: expected 3 classes, one per output of the network, got 4$"),
    (lambda p: "standardize", r"^model.preprocessor: expected a chainrule Preprocessor \(or None\), got str$"),
    (lambda p: dataclasses.replace(p, scale=np.zeros(4)),
     r"^model.preprocessor.scale\[0\]: expected a finite number > 0"),
])
def test_a_preprocessor_set_by_hand_that_does_not_fit_the_network_is_refused_before_training(replace, message):
    # The fine-tuning recipe with one label too many for the 3-output head used to train, and
    # a preprocessor that is no Preprocessor failed with an AttributeError.
    model = standardized_iris_model()
    model.preprocessor = replace(model.preprocessor)
    theta = model.flat_parameters().theta.copy()
    with pytest.raises(cr.DataError, match=message):
        cr.fit(model, X_IRIS, Y_IRIS + 5, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.flat_parameters().theta, theta)


def test_setting_the_preprocessor_to_none_fits_a_new_one():
    model = standardized_iris_model()
    model.preprocessor = None
    cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0)
    assert model.preprocessor.mean is None


def test_a_second_fit_on_a_subset_of_the_classes_keeps_each_class_in_its_output():
    labels = Y_IRIS + 1  # 1, 2, 3: not the outputs' own numbers
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, labels, epochs=20, lr=0.05, standardize=True, verbose=0)
    before = cr.predict(model, X_IRIS)
    chunk = labels < 3  # 1 and 2 only: in [0, 3), they could pass for output numbers
    cr.fit(model, X_IRIS[chunk], labels[chunk], optimizer=almost_no_step(model), epochs=1, verbose=0)
    assert model.preprocessor.classes == [1, 2, 3]
    assert np.array_equal(cr.predict(model, X_IRIS), before)


@pytest.mark.parametrize("validation", [None, "pair"])
def test_a_label_outside_the_models_classes_names_the_earlier_fit(validation):
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS + 1, epochs=1, verbose=0)  # classes 1, 2, 3
    y, name, kwargs = Y_IRIS, "y", {}
    if validation:
        y, name, kwargs = Y_IRIS + 1, "y_val", {"validation": (X_IRIS, Y_IRIS)}
    with pytest.raises(cr.LabelError, match=rf"^{name}\[0\]: label 0 .*the model's classes come from its earlier fit"):
        cr.fit(model, X_IRIS, y, epochs=1, verbose=0, **kwargs)


def test_a_loaded_model_continues_with_its_saved_preprocessor(tmp_path):
    model = standardized_iris_model()
    cr.save(model, tmp_path / "iris.crm")
    loaded = cr.load(tmp_path / "iris.crm")
    chunk = Y_IRIS > 0
    cr.fit(loaded, X_IRIS[chunk], Y_IRIS[chunk], epochs=1, verbose=0)
    assert np.array_equal(loaded.preprocessor.mean, model.preprocessor.mean)
    assert loaded.preprocessor.classes == [0, 1, 2]


def test_float_labels_on_a_classification_model_train_as_its_classes_by_default():
    # The default loss is the preprocessor's (it was MSE, from y's floats, and refused); a loss
    # given for another task is refused, and a float that is no class is named.
    model = standardized_iris_model()
    cr.fit(model, X_IRIS, Y_IRIS.astype(float), epochs=1, verbose=0)
    assert model.preprocessor.classes == [0, 1, 2]
    with pytest.raises(cr.HyperparameterError, match=r"is for classification but MSE trains for regression; pass a "
                                                     r"loss for classification"):
        cr.fit(model, X_IRIS, Y_IRIS.astype(float), loss="mse", epochs=1, verbose=0)
    with pytest.raises(cr.LabelError, match=r"y\[0\]: label 0.5 was not among the training classes \[0, 1, 2\]"):
        cr.fit(model, X_IRIS, Y_IRIS + 0.5, epochs=1, verbose=0)


def test_integer_targets_on_a_regression_model_train_as_values_by_default():
    model = cr.mlp([4, 8, 1], seed=0)
    cr.fit(model, X_IRIS, X_IRIS[:, 0], epochs=1, verbose=0)
    history = cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0)
    assert "r2" in history.metrics and model.preprocessor.task == "regression"
    with pytest.raises(cr.HyperparameterError, match="is for regression but SoftmaxCrossEntropy trains for classif"):
        cr.fit(model, X_IRIS, Y_IRIS, loss="cross_entropy", epochs=1, verbose=0)


def test_a_binary_classifier_continues_on_its_labels_without_naming_its_loss_again(tmp_path):
    # It was refused: the default loss, from y's booleans, was SoftmaxCrossEntropy.
    y = X_CANCER[:, 0] > np.median(X_CANCER[:, 0])
    model = cr.mlp([30, 8, 1], seed=0)
    cr.fit(model, X_CANCER, y, loss="binary_cross_entropy", epochs=1, standardize=True, verbose=0)
    cr.save(model, tmp_path / "binary.safetensors")
    loaded = cr.load(tmp_path / "binary.safetensors")
    history = cr.fit(loaded, X_CANCER, y, epochs=1, verbose=0)
    assert loaded.preprocessor.classes == [False, True] and "accuracy" in history.metrics
    with pytest.raises(cr.LabelError, match=r"^y\[0\]: label 2 was not among the training classes \[False, True\]"):
        cr.evaluate(loaded, X_CANCER, np.full(len(y), 2))


def test_a_preprocessor_of_another_width_is_refused():
    model = cr.mlp([4, 8, 3], seed=0)
    model.preprocessor = Preprocessor(n_features=5, task="classification", classes=[0, 1, 2])
    with pytest.raises(cr.ShapeError, match="preprocessor, from its earlier fit, expects rows of 5 features, got 4"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0)


def test_resuming_the_interrupted_model_itself_ends_bit_identical(tmp_path):
    whole = cr.mlp([4, 8, 3], seed=0)
    cr.fit(whole, X_IRIS, Y_IRIS, epochs=4, validation=0.2, standardize=True, verbose=0)
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS, epochs=2, validation=0.2, standardize=True, checkpoint=tmp_path / "run.ckpt",
           verbose=0)
    cr.fit(model, X_IRIS, Y_IRIS, epochs=4, validation=0.2, standardize=True, resume=tmp_path / "run.ckpt", verbose=0)
    assert np.array_equal(model.flat_parameters().theta, whole.flat_parameters().theta)


# 1 and 0.0 were taken for True and False (they compare equal), and an array raised NumPy's "truth value of
# an array with more than one element is ambiguous"; so did one given as standardize_targets or graph.
NOT_BOOLS = ["yes", 2, 1, 0.0, np.array([True, False])]


@pytest.mark.parametrize("value", NOT_BOOLS)
def test_standardize_must_be_none_or_a_bool(value):
    with pytest.raises(cr.HyperparameterError, match="standardize: expected None, True or False"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, standardize=value, verbose=0)


@pytest.mark.parametrize("value", [3, -1, 1.0, np.array([1, 2]), np.array(1), "1", None])
def test_verbose_takes_0_1_2_or_a_bool(value):
    # An array raised NumPy's "truth value of an array ... is ambiguous"; 1.0 and array(1) passed as 1.
    with pytest.raises(cr.HyperparameterError, match="verbose: expected 0, 1 or 2"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, verbose=value)


def test_a_huge_verbose_or_epochs_is_named_in_the_message():
    """Their repr raised ValueError inside the message that refused them."""
    with pytest.raises(cr.HyperparameterError, match=r"^verbose: expected 0, 1 or 2 .*, got <an int of 16,610 bits>$"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, verbose=10 ** 5000)
    with pytest.raises(cr.HyperparameterError, match=r"^epochs: expected an integer >= 1, got <a negative int of"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=-10 ** 5000, verbose=0)


@pytest.mark.parametrize("value", [0, 2, np.int64(1), True, np.False_])
def test_verbose_accepts_its_levels(value, capsys):
    cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, verbose=value)


@pytest.mark.parametrize("value", NOT_BOOLS)
@pytest.mark.parametrize("argument, expected", [("standardize_targets", "None, True or False"),
                                                ("graph", "'auto', True or False")])
def test_standardize_targets_and_graph_take_only_their_values(argument, expected, value):
    with pytest.raises(cr.HyperparameterError, match=f"{argument}: expected {expected}, got"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, verbose=0, **{argument: value})


def test_float_class_labels_that_fail_as_regression_targets_say_why():
    hint = (r"got \(150,\); y holds floats, so fit took them as regression targets \(MSE\); "
            r"for classes pass integer or string labels, or loss='cross_entropy'")
    with pytest.raises(cr.ShapeError, match=hint):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS.astype(float), epochs=1, verbose=0)


def test_float_one_hot_targets_of_the_wrong_width_say_why():
    with pytest.raises(cr.ShapeError, match="y holds floats, so fit took them as regression targets"):
        cr.fit(cr.mlp([4, 8, 2], seed=0), X_IRIS, np.eye(3)[Y_IRIS], epochs=1, verbose=0)


def test_a_wrong_width_with_an_explicit_loss_has_no_float_hint():
    with pytest.raises(cr.ShapeError) as info:
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS.astype(float), loss="mse", epochs=1, verbose=0)
    assert "y holds floats" not in str(info.value)


def test_two_classes_on_one_output_suggest_binary_cross_entropy_which_works():
    y = (Y_IRIS == 0).astype(int)
    model = cr.mlp([4, 8, 1], seed=0)
    with pytest.raises(cr.LabelError, match="use 2 outputs, or loss='binary_cross_entropy' with 0/1 labels"):
        cr.fit(model, X_IRIS, y, epochs=1, verbose=0)
    cr.fit(model, X_IRIS, y, loss="binary_cross_entropy", epochs=20, lr=0.05, standardize=True, verbose=0)
    assert np.mean(cr.predict(model, X_IRIS).ravel() == y) > 0.9


def _replace_last_layer(model):
    old = model[2].own_params["W"]
    model.layers[2] = cr.Linear(8, 3, seed=5)
    return old


def _move_layers(model):
    model.layers.insert(0, cr.Identity())


def _freeze_first_layer(model):
    model[0].trainable = False


def _replace_a_weight_array(model):
    old = model[0].own_params["W"]
    model[0].own_params["W"] = np.full_like(old, 0.1)
    model[0].own_grads["W"] = np.zeros_like(old)
    return old


@pytest.mark.parametrize("change, trained, kept, norms", [
    (_replace_last_layer, ["0.W", "2.W"], [], ["0", "2"]),
    (_move_layers, ["1.W", "3.W"], [], ["1", "3"]),
    (_freeze_first_layer, ["2.W"], ["0.W"], ["2"]),
    (_replace_a_weight_array, ["0.W", "2.W"], [], ["0", "2"]),
], ids=["layer replaced", "layers moved", "layer frozen", "weight array replaced"])
def test_a_second_fit_trains_the_model_as_it_is_now(change, trained, kept, norms):
    # What fit finds out about the model (its parameters, their paths, which are frozen) is found
    # again at every call, so a change between two calls is what the second one trains, with one
    # optimizer object across both calls as with a new one.
    for same_optimizer in (False, True):
        model = cr.mlp([4, 8, 3], seed=0)
        optimizer = cr.SGD(model, lr=0.1, momentum=0.9, weight_decay=0.01)
        cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer, epochs=1, verbose=0)
        replaced = change(model)
        before = {name: array.copy() for name, array in model.params.items()}
        replaced_values = None if replaced is None else replaced.copy()
        history = cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer if same_optimizer else "sgd", epochs=1,
                         verbose=0)
        for name in trained:
            assert not np.array_equal(model.params[name], before[name]), name
        for name in kept:
            np.testing.assert_array_equal(model.params[name], before[name], err_msg=name)
        assert list(history.grad_norms) == norms
        if replaced is not None:  # out of the model now: the second fit leaves it alone
            np.testing.assert_array_equal(replaced, replaced_values)
