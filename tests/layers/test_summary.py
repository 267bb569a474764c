"""The layer table ``Layer.summary()`` and its rows ``Layer.summary_rows()`` (layers/summary.py)."""

import numpy as np

import chainrule as cr
from chainrule.layers.summary import layer_rows
from tests.layers.test_layer import Scale


def test_summary_of_a_nested_model_with_a_residual_and_a_custom_layer():
    model = cr.Sequential(cr.Linear(3, 4), cr.Residual(cr.Sequential(cr.Linear(4, 4), cr.Tanh())), Scale(4),
                          cr.Linear(4, 12), seed=0)
    assert model.summary() == "\n".join([
        "path   layer                       parameters                count",
        "0      Linear(3, 4, init='auto')   W 3x4, b 4                16",
        "1.f.0  Linear(4, 4, init='auto')   W 4x4, b 4                20",
        "1.f.1  Tanh()                      -                         0",
        "2      Scale()                     s 4                       4",
        "3      Linear(4, 12, init='auto')  W 4x12, b 12              60",
        "",
        "100 parameters, float32",
        "trainable: 100, non-trainable: 0",
    ])
    assert [row["path"] for row in model.summary_rows()] == ["0", "1.f.0", "1.f.1", "2", "3"]
    assert model.summary_rows()[3] == {"path": "2", "layer": "Scale()", "parameters": {"s": [4]}, "count": 4,
                                       "trainable": True}


def test_summary_columns_fit_their_headers_and_long_entries():
    scale = Scale(2)
    scale.own_params = {"scale_of_each_feature": np.ones(2, np.float32), "shift_of_each_feature": np.ones(2, np.float32)}
    scale.own_grads = {name: np.zeros_like(array) for name, array in scale.own_params.items()}
    model = cr.Sequential(cr.Linear(1000, 1000), scale, seed=0)
    lines = model.summary().splitlines()
    assert lines[0].index("layer") == lines[1].index("Linear")  # "path" wider than "0"
    assert lines[0].index("count") == lines[1].index("1,001,000") == lines[2].index("4")  # shapes past 24 characters
    assert cr.ReLU().summary() == "\n".join(["path     layer   parameters                count",
                                             "(model)  ReLU()  -                         0", "", "0 parameters"])


class Gated(cr.Layer):
    """A composite holding a parameter of its own: h = g ⊙ f(x), g of shape (n_features,)."""

    def __init__(self, f, n_features):
        super().__init__()
        self.f = f
        self.own_params["g"] = np.ones(n_features, dtype=np.float32)
        self.own_grads["g"] = np.zeros(n_features, dtype=np.float32)

    def children(self):
        return [("f", self.f)]


def test_a_composite_gets_a_row_for_its_own_parameters_before_its_childrens():
    model = cr.Sequential(Gated(cr.Sequential(cr.Linear(2, 3), cr.ReLU()), 3), seed=0)
    rows = layer_rows(model)
    assert [(row["path"], row["parameters"], row["count"]) for row in rows] == [
        ("0", {"g": [3]}, 3), ("0.f.0", {"W": [2, 3], "b": [3]}, 9), ("0.f.1", {}, 0)]
    assert rows == model.summary_rows()


def test_an_empty_sequential_inside_a_model_is_named_whole():
    """Its row's layer read "Sequential(", the first line of its repr "Sequential(\\n\\n)"."""
    model = cr.Sequential(cr.Linear(3, 3), cr.Sequential(), seed=0)
    assert [row["layer"] for row in model.summary_rows()] == ["Linear(3, 3, init='auto')", "Sequential()"]
    assert model.summary().splitlines()[2] == "1     Sequential()               -                         0"
