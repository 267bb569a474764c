"""Class weights: each training row weighted by its class, for classes of unequal sizes.

``cr.fit(..., class_weight=...)`` multiplies them into the sample weights of the training
rows, so a batch's loss is the weighted mean Σ_n w_{y_n} l_n / Σ_n w_{y_n}. As in Keras,
they weight training only: validation scores stay unweighted by class.

- a dict ``{label: weight}`` weighs the rows of each listed class by its weight and the rows
  of every other class by 1 (scikit-learn's and Keras's rule);
- ``"balanced"`` weighs class c by n / (K · n_c), with n training rows (those left after a
  validation fraction is held out), K classes among them and n_c training rows of c
  (scikit-learn's ``compute_class_weight("balanced")`` of those rows), so that every class
  present weighs n / K in all and a rare class counts as much as a common one.
"""

from __future__ import annotations

import numpy

from ..checks import is_bool, listing, real
from ..errors import DataError, HyperparameterError, LabelError, quoted


def class_weights_per_row(T: numpy.ndarray, classes: list, class_weight) -> numpy.ndarray:
    """Each training row's weight (float64) from its class index ``T[n]`` into ``classes``.

    Raises HyperparameterError naming ``class_weight`` for anything but "balanced" or a
    dict, or for a weight that is not a finite real; LabelError for a dict key that names no
    class (a boolean key names only a boolean class: ``True`` is not the class 1); DataError
    for a negative weight.
    """
    if isinstance(class_weight, str) and class_weight == "balanced":
        counts = numpy.bincount(T, minlength=len(classes))
        present = counts > 0  # a class without training rows (fit again on a subset) weighs nothing
        per_class = numpy.zeros(len(classes))
        per_class[present] = len(T) / (present.sum() * counts[present])
        return per_class[T]
    if not isinstance(class_weight, dict):
        raise HyperparameterError(
            f"class_weight: expected None, 'balanced' or a dict {{label: weight}}, got {quoted(class_weight, 80)}"
        )
    index = {label: k for k, label in enumerate(classes)}
    per_class = numpy.ones(len(classes))
    for label, weight in class_weight.items():
        if label not in index or is_bool(label) != is_bool(classes[index[label]]):  # True == 1 in Python
            raise LabelError(f"class_weight: {quoted(label)} is not a class of the model; its classes are "
                             f"{listing(classes, 10)}")
        weight = real(weight, f"class_weight[{label!r}]")  # finite, else HyperparameterError
        if weight < 0:
            raise DataError(f"class_weight[{label!r}]: expected a non-negative weight, got {weight!r}")
        per_class[index[label]] = weight
    return per_class[T]
