"""Which attributes an optimizer may be given: those it has, and new ones only while it is made.

A hyperparameter set under another library's name (``opt.learning_rate = 0.5``, Keras's) or
misspelt (``opt.weight_decy = 0.1``) would otherwise become a new attribute that no step reads,
and training would go on with the old value. So once the outermost ``__init__`` of an optimizer
has returned, assigning a public name the optimizer does not already have (in its ``__dict__``
or on its class: a hyperparameter's property, a method, a class attribute) raises
HyperparameterError naming it, the optimizer's class and the names it takes, with chainrule's
name for another library's (:data:`ALIASES`) or the closest name for a typo; so does a keyword
the constructor does not take (``cr.RMSProp(model, alpha=0.9)``, PyTorch's name for rho). Private names (a
leading underscore) are always taken, and a subclass's ``__init__`` may add any attribute.
"""

from __future__ import annotations

import functools
import inspect

from ..errors import HyperparameterError, did_you_mean, not_an_argument

# Another library's name of a hyperparameter -> chainrule's names it may mean, the first one
# that the optimizer has being suggested.
ALIASES = {
    "learning_rate": ("lr",),  # Keras
    "learning_rate_init": ("lr",),  # scikit-learn
    "beta_1": ("beta1",),  # Keras, scikit-learn
    "beta_2": ("beta2",),
    "epsilon": ("eps",),
    "alpha": ("rho", "weight_decay"),  # PyTorch's RMSprop; scikit-learn's L2 penalty
    "nesterovs_momentum": ("nesterov",),  # scikit-learn
    "iterations": ("t",),  # Keras's step count
}


def constructor(init):
    """``init``, an optimizer class's ``__init__``, marking the optimizer as being made
    (``_constructing``) while the outermost ``__init__`` runs: the one Python called, whose
    ``super().__init__`` calls find the mark already set and leave it to it."""
    @functools.wraps(init)
    def constructing(self, *args, **kwargs) -> None:
        if self.__dict__.get("_constructing"):  # an __init__ called by a subclass's
            init(self, *args, **kwargs)
            return
        self._constructing = True
        try:
            init(self, *args, **kwargs)
        except TypeError:  # Python's "unexpected keyword argument": named as a hyperparameter, with chainrule's name
            parameters = inspect.signature(type(self)).parameters
            takes_any = any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters.values())
            unknown = [keyword for keyword in kwargs if keyword not in parameters]
            if unknown and not takes_any:
                raise HyperparameterError(unknown_argument(type(self), unknown[0])) from None
            raise
        finally:
            self._constructing = False
    return constructing


def unknown_argument(kind: type, name: str) -> str:
    """The message for the keyword ``name`` given to the constructor of the optimizer class ``kind``,
    which takes no such argument: another library's name gets chainrule's (:data:`ALIASES`,
    PyTorch's ``betas`` both betas), a typo the closest name."""
    accepted = [parameter for parameter in inspect.signature(kind).parameters if parameter != "model"]
    meant = [chainrule for chainrule in ALIASES.get(name, ()) if chainrule in accepted]
    if name == "betas" and {"beta1", "beta2"} <= set(accepted):
        hint = " (did you mean beta1 and beta2, PyTorch's betas=(beta1, beta2)?)"
    else:
        hint = f" (did you mean {meant[0]!r}?)" if meant else did_you_mean(name, accepted)
    return not_an_argument(name, kind.__name__, accepted, hint)


def assignable_names(optimizer) -> list[str]:
    """The public names ``optimizer`` takes a value for: its constructor's arguments that it
    has, then the settable properties of its class (lr, weight_decay and each subclass's), then
    the other attributes it keeps (model, t, missed, state and a subclass's own)."""
    names = [name for name in inspect.signature(type(optimizer)).parameters if hasattr(optimizer, name)]
    for kind in reversed(type(optimizer).__mro__):
        names += [name for name, attribute in vars(kind).items()
                  if isinstance(attribute, property) and attribute.fset is not None]
    names += list(optimizer.__dict__)
    return [name for name in dict.fromkeys(names) if not name.startswith("_")]


def unknown_attribute(optimizer, name: str) -> str:
    """The message for ``name`` set on ``optimizer``, which has no attribute of that name."""
    kind = type(optimizer).__name__
    names = assignable_names(optimizer)
    meant = [chainrule for chainrule in ALIASES.get(name, ()) if chainrule in names]
    hint = f" (did you mean {meant[0]!r}?)" if meant else did_you_mean(name, names)
    return (f"{name}: {kind} has no attribute {name!r} to set{hint}; it takes {', '.join(names)}. "
            f"A subclass of Optimizer adds attributes of its own in its __init__")
