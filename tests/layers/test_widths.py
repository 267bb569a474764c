"""chainrule.layers.widths: the number of features a model takes and of outputs it gives."""

import numpy as np

import chainrule as cr
from chainrule.data.preprocessing import Preprocessor
from chainrule.layers.widths import input_width, output_width


def test_input_width_is_the_preprocessors_else_the_first_parameter_layers():
    model = cr.Sequential(cr.ReLU(), cr.Residual(cr.Sequential(cr.Linear(5, 5), cr.Tanh())), cr.Linear(5, 2))
    assert input_width(model) == 5
    assert input_width(model, Preprocessor(n_features=7)) == 7
    assert input_width(cr.Sequential(cr.ReLU(), cr.Tanh())) is None  # nothing says


def test_input_width_is_unknown_when_the_first_parameter_layer_has_no_n_in():
    class Projection(cr.Layer):  # a user's own layer that narrows its input
        def __init__(self):
            super().__init__()
            self.own_params = {"W": np.ones((6, 3), dtype=np.float32)}

    assert input_width(cr.Sequential(Projection(), cr.Linear(3, 2))) is None


def test_input_width_takes_the_first_parameter_layer_from_a_caller_that_has_it():
    model = cr.Sequential(cr.ReLU(), cr.Linear(5, 2))
    model.walk = None  # not walked: the caller (cr.predict, from model.parameter_facts()) found the layer
    assert input_width(model, first=model[1]) == 5
    assert input_width(model, Preprocessor(n_features=7), first=model[1]) == 7


def test_output_width_is_the_last_parameter_layers():
    model = cr.Sequential(cr.Linear(4, 6), cr.ReLU(), cr.Residual(cr.Sequential(cr.Linear(6, 6), cr.Tanh())), cr.Sigmoid())
    assert output_width(model) == 6
    assert output_width(cr.Sequential(cr.Linear(4, 2), cr.Linear(2, 5))) == 5
    assert output_width(cr.Sequential(cr.ReLU(), cr.Tanh())) is None  # nothing says
