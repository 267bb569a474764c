"""The fingerprint the ranks of a distributed fit compare: frozen layers and the labels count."""

import numpy as np

import chainrule as cr
from chainrule.training.fingerprint import architecture_checksum, checksum, label_values, validation_fingerprint


def model():
    return cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 3), seed=0)


def test_freezing_changes_the_architecture_checksum():
    trainable, frozen_base, frozen_head = model(), model(), model()
    frozen_base[0].trainable = False
    frozen_head[2].trainable = False
    checksums = {architecture_checksum(m) for m in (trainable, frozen_base, frozen_head)}
    assert len(checksums) == 3


def test_with_nothing_frozen_the_checksum_is_what_it_was():
    # the value before layers could be frozen (chainrule at commit daf9889)
    assert architecture_checksum(model()) == 2127483465832132428


def test_unfreezing_restores_the_checksum():
    a = model()
    before = architecture_checksum(a)
    a[0].trainable = False
    a.trainable = True
    assert architecture_checksum(a) == before


def test_the_checksum_tells_apart_arrays_of_the_same_bytes_in_another_shape_or_dtype():
    X = np.arange(12, dtype=np.float64)
    assert len({checksum(X), checksum(X.reshape(3, 4)), checksum(X.reshape(4, 3)), checksum(X.view(np.int64))}) == 4


def test_the_validation_fingerprint_depends_on_the_validation_weights():
    X, T = np.ones((4, 2)), np.zeros((4, 1))
    w = np.array([1.0, 2.0, 1.0, 1.0])
    prints = {validation_fingerprint(X, T), validation_fingerprint(X, T, w), validation_fingerprint(X, T, 2 * w)}
    assert len(prints) == 3


def test_the_label_values_tell_apart_classes_of_another_type_and_no_preprocessor():
    """A binary classifier fitted on booleans predicts True where one fitted on ints predicts 1,
    though their targets encode alike."""
    y = np.array([0, 1, 1, 0])
    fitted = [cr.Preprocessor.fit(np.ones((4, 2)), labels, "multilabel") for labels in (y, y.astype(bool), y * 1.0)]
    texts = [label_values(preprocessor)["the list of classes"] for preprocessor in fitted]
    assert texts == ["[0, 1]", "[False, True]", "[0.0, 1.0]"]
    assert label_values(None) == {"the list of classes": "None", "the list of feature names": "None"}
