"""A keyword ``fit`` does not take, named with the argument meant (:func:`unknown_keyword`).

Keras's ``model.fit(X, y, validation_split=0.1)`` and scikit-learn's ``max_iter`` are what a
user coming from those libraries types first; Python's own refusal, ``fit() got an unexpected
keyword argument 'validation_split'``, says nothing of ``validation=0.1``. So ``cr.fit`` refuses
a keyword it does not take with a HyperparameterError naming it, the arguments it takes and
chainrule's name for another library's (:data:`ALIASES`), or the closest name for a typo, as an
optimizer's constructor refuses ``learning_rate`` (:mod:`chainrule.optimizers.attributes`).
"""

from __future__ import annotations

from ..errors import did_you_mean, not_an_argument

# Another library's name of an argument -> what to write in cr.fit instead.
ALIASES = {
    "validation_split": "validation=0.1 (the fraction held out)",  # Keras
    "validation_data": "validation=(X_val, y_val) or (X_val, y_val, w_val)",  # Keras
    "validation_fraction": "validation=0.1 (the fraction held out)",  # scikit-learn's MLP
    "learning_rate": "lr",  # Keras
    "learning_rate_init": "lr",  # scikit-learn's MLP
    "max_iter": "epochs",  # scikit-learn's MLP
    "nb_epoch": "epochs",  # Keras 1
    "random_state": "seed",  # scikit-learn
    "early_stopping": "callbacks=[cr.EarlyStopping(patience=5)]",  # scikit-learn's MLP
}


def unknown_keyword(name, accepted: list[str]) -> str:
    """The message for the keyword ``name`` that ``fit``, taking ``accepted``, does not take."""
    if name in ALIASES:
        meant = ALIASES[name]
        hint = f" (did you mean {meant!r}?)" if meant.isidentifier() else f" (did you mean {meant}?)"
    else:
        hint = did_you_mean(name, accepted)
    return not_an_argument(name, "fit", accepted, hint)
