"""chainrule.io.architecture: configs from layers and back, and every bad config rejected."""

import builtins
import copy
import sys

import pytest

import chainrule as cr
from chainrule.errors import ModelFileError
from chainrule.io.architecture import MAX_DEPTH, from_config, parameter_shapes, to_config

NET = {"type": "Sequential", "layers": [
    {"type": "Linear", "n_in": 4, "n_out": 8, "init": "he_normal"},
    {"type": "LeakyReLU", "alpha": 0.1},
    {"type": "Residual", "f": {"type": "Sequential", "layers": [
        {"type": "Linear", "n_in": 8, "n_out": 8, "init": "auto"}, {"type": "GELU"}]}},
    {"type": "Linear", "n_in": 8, "n_out": 3, "init": "auto"},
    {"type": "Softmax"},
]}


def test_round_trip_of_every_layer_type():
    model = cr.Sequential(
        cr.Linear(4, 8, init="he_normal"), cr.LeakyReLU(0.1),
        cr.Residual(cr.Sequential(cr.Linear(8, 8), cr.GELU())),
        cr.Linear(8, 3), cr.Softmax(),
    )
    assert to_config(model) == NET
    rebuilt = from_config(NET, "float64")
    assert to_config(rebuilt) == NET
    assert {name: array.shape for name, array in rebuilt.params.items()} == parameter_shapes(NET)
    assert rebuilt.dtype == "float64"
    for name in ("Identity", "ReLU", "Sigmoid", "Tanh", "GELU", "Softmax"):
        assert type(from_config({"type": name})).__name__ == name
        assert to_config(getattr(cr, name)()) == {"type": name}


def test_parameter_shapes_follow_paths():
    assert parameter_shapes(NET) == {
        "0.W": (4, 8), "0.b": (8,), "2.f.0.W": (8, 8), "2.f.0.b": (8,), "3.W": (8, 3), "3.b": (3,),
    }


def test_auto_init_is_rebuilt_from_the_following_layer():
    model = cr.Sequential(cr.Linear(2, 4), cr.ReLU(), cr.Linear(4, 2), cr.Tanh())
    rebuilt = from_config(to_config(model))
    assert [layer.resolved_init for layer in rebuilt.layers[::2]] == ["he_normal", "glorot_uniform"]


def test_user_layer_subclass_cannot_be_described():
    class Doubling(cr.Identity):
        def forward(self, X):
            return 2 * X

    with pytest.raises(ModelFileError, match="layer '1' \\(Doubling\\)"):
        to_config(cr.Sequential(cr.ReLU(), Doubling()))


def _with(path, value):
    """NET with the value at ``path`` (a list of keys and indices) replaced; DELETE removes it."""
    config = copy.deepcopy(NET)
    node = config
    for key in path[:-1]:
        node = node[key]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return config


DELETE = object()

BAD = [
    (["layers", 4, "type"], "Conv2d", r"architecture\.layers\[4\]\.type: unknown layer type 'Conv2d'"),
    (["layers", 4, "type"], "os.system", r"architecture\.layers\[4\]\.type: unknown layer type 'os.system'"),
    (["layers", 4, "type"], "Layer", r"unknown layer type 'Layer'"),
    (["layers", 4, "type"], ["ReLU"], r"architecture\.layers\[4\]\.type: unknown"),
    (["layers", 4, "type"], DELETE, r"architecture\.layers\[4\]: missing key 'type'"),
    (["layers", 0, "n_in"], DELETE, r"architecture\.layers\[0\]: missing key 'n_in'"),
    (["layers", 0, "bias"], True, r"architecture\.layers\[0\]: unexpected key 'bias'"),
    (["layers", 4, "alpha"], 0.1, r"architecture\.layers\[4\]: unexpected key 'alpha' for a Softmax"),
    (["layers", 0, "n_in"], -3, r"architecture\.layers\[0\]\.n_in: expected an integer in \[1, 2\*\*31\], got -3"),
    (["layers", 0, "n_in"], 0, r"architecture\.layers\[0\]\.n_in"),
    (["layers", 0, "n_out"], 2**31 + 1, r"architecture\.layers\[0\]\.n_out"),
    (["layers", 3, "n_out"], 10**100, r"architecture\.layers\[3\]\.n_out"),
    (["layers", 0, "n_in"], 4.0, r"architecture\.layers\[0\]\.n_in"),
    (["layers", 0, "n_in"], "4", r"architecture\.layers\[0\]\.n_in"),
    (["layers", 0, "n_in"], True, r"architecture\.layers\[0\]\.n_in"),
    (["layers", 0, "init"], "__import__('os')", r"architecture\.layers\[0\]\.init: unknown initializer"),
    (["layers", 0, "init"], None, r"architecture\.layers\[0\]\.init"),
    (["layers", 1, "alpha"], 1.5, r"architecture\.layers\[1\]\.alpha: expected a number in \[0, 1\)"),
    (["layers", 1, "alpha"], -0.1, r"architecture\.layers\[1\]\.alpha"),
    (["layers", 1, "alpha"], "0.1", r"architecture\.layers\[1\]\.alpha"),
    (["layers", 1, "alpha"], False, r"architecture\.layers\[1\]\.alpha"),
    (["layers", 1, "alpha"], 10**400, r"architecture\.layers\[1\]\.alpha: expected a number in \[0, 1\)"),
    (["layers", 1, "alpha"], -10**400, r"architecture\.layers\[1\]\.alpha: expected a number in \[0, 1\)"),
    (["layers", 1, "alpha"], float("nan"), r"architecture\.layers\[1\]\.alpha"),
    (["layers", 1, "alpha"], float("inf"), r"architecture\.layers\[1\]\.alpha"),
    (["layers", 2, "f"], [], r"architecture\.layers\[2\]\.f: expected an object"),
    (["layers", 2, "f", "layers", 1], "GELU", r"architecture\.layers\[2\]\.f\.layers\[1\]: expected an object"),
    (["layers", 2, "f", "layers", 0, "n_out"], -1, r"architecture\.layers\[2\]\.f\.layers\[0\]\.n_out"),
    (["layers"], {"0": {"type": "ReLU"}}, r"architecture\.layers: expected a list"),
]


@pytest.mark.parametrize("path, value, message", BAD)
def test_bad_config_is_rejected_naming_its_json_path(path, value, message):
    with pytest.raises(ModelFileError, match=message):
        from_config(_with(path, value))


@pytest.mark.parametrize("config", [None, [], "Sequential", 3])
def test_root_must_be_an_object(config):
    with pytest.raises(ModelFileError, match="^architecture: expected an object"):
        parameter_shapes(config)


def test_deep_nesting_is_rejected_before_recursion_runs_out():
    config = {"type": "ReLU"}
    for _ in range(sys.getrecursionlimit()):
        config = {"type": "Residual", "f": config}
    with pytest.raises(ModelFileError, match="nested more than"):
        from_config(config)


def test_type_names_are_never_imported(monkeypatch):
    imported = []
    real_import = builtins.__import__

    def spy(name, *args, **kwargs):
        imported.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr("builtins.__import__", spy)
    for name in ("subprocess", "os.system", "builtins.eval", "chainrule.layers.Linear"):
        with pytest.raises(ModelFileError, match="unknown layer type"):
            from_config({"type": name})
    assert not {"subprocess", "os", "builtins"} & set(imported)


def test_from_config_without_a_draw_gives_zeros_and_draws_nothing(monkeypatch):
    import chainrule.layers.linear as linear_module

    def no_draw(name):
        raise AssertionError(f"drew {name}")

    monkeypatch.setattr(linear_module, "get_initializer", no_draw)
    config = {**NET, "layers": [{**layer, "init": "auto"} if layer["type"] == "Linear" else layer
                                for layer in NET["layers"]]}
    model = from_config(config, "float64", draw=False)
    assert to_config(model) == config
    assert {name: array.shape for name, array in model.params.items()} == parameter_shapes(config)
    assert all(not array.any() and array.dtype == "float64" for array in model.params.values())
    assert [layer.resolved_init for layer in model.layers[::3]] == ["he_normal", "glorot_uniform"]  # as drawn ones


def test_more_layers_than_max_layers_are_rejected_while_walking(monkeypatch):
    """10**6 layers took 40 s and 1.3 GB to load: only the depth was capped."""
    many = {"type": "Sequential", "layers": [{"type": "ReLU"}] * 1_000_000}
    building = []
    monkeypatch.setattr(cr.ReLU, "__init__", lambda self: building.append(self))
    with pytest.raises(ModelFileError, match=r"^architecture.layers\[99999\]: more than 100,000 layers in all"):
        from_config(many)
    assert not building  # refused before any layer is built


def test_max_layers_counts_the_layers_of_every_composite():
    inner = {"type": "Sequential", "layers": [{"type": "ReLU"}] * 600}
    nested = {"type": "Sequential", "layers": [{"type": "Residual", "f": inner}] * 170}  # 170 · 602 + 1 layers
    # layer 100,001 is ReLU 65 of block 166 (1 + 166·602 + 2 + 66); counting only the ReLUs, it would be ReLU 400
    with pytest.raises(ModelFileError, match=r"^architecture.layers\[166\].f.layers\[65\]: more than 100,000 "
                                             r"layers in all \(this is layer 100,001\)"):
        parameter_shapes(nested)
    assert parameter_shapes({"type": "Sequential", "layers": [{"type": "ReLU"}] * 99_999}) == {}


@pytest.mark.parametrize("layer, key", [
    ({"type": "Linear", "n_in": 10**4000, "n_out": 3, "init": "auto"}, "n_in"),
    ({"type": "LeakyReLU", "alpha": 10**4000}, "alpha"),
    ({"type": "Linear", "n_in": 2, "n_out": 3, "init": "x" * 10**6}, "init"),
    ({"type": "y" * 10**6}, "type"),
])
def test_a_huge_value_is_quoted_in_part(layer, key):
    """The message quoted all 4,000 digits of an n_in or alpha of 10**4000."""
    with pytest.raises(ModelFileError) as caught:
        parameter_shapes({"type": "Sequential", "layers": [layer]})
    assert f"architecture.layers[0].{key}" in str(caught.value)
    assert "..." in str(caught.value) and len(str(caught.value)) < 400


def test_an_alpha_of_1_is_refused_as_the_file_s_error():
    # LeakyReLU refuses 1 too, but as a HyperparameterError naming no file or field.
    with pytest.raises(ModelFileError, match=r"architecture\.layers\[1\]\.alpha: expected a number in \[0, 1\), got 1"):
        from_config(_with(["layers", 1, "alpha"], 1))


def _nested(depth):
    config = {"type": "ReLU"}
    for _ in range(depth):
        config = {"type": "Residual", "f": config}
    return config


def test_layers_nest_up_to_max_depth_and_no_deeper():
    from_config(_nested(MAX_DEPTH))
    with pytest.raises(ModelFileError, match=f"layers nested more than {MAX_DEPTH} deep"):
        from_config(_nested(MAX_DEPTH + 1))


def _linear(n_in, n_out):
    return {"type": "Linear", "n_in": n_in, "n_out": n_out, "init": "auto"}


def _sequential(*layers):
    return {"type": "Sequential", "layers": list(layers)}


RELU, IDENTITY = {"type": "ReLU"}, {"type": "Identity"}


@pytest.mark.parametrize("config, message", [
    (_sequential(_linear(4, 3), RELU, _linear(5, 2)),
     r"^architecture\.layers\[2\]\.n_in: expected 3, the width that reaches layer '2' \(the output of the layers "
     r"before it\), got 5$"),
    (_sequential(_linear(4, 3), _sequential(IDENTITY, _sequential(RELU, _linear(4, 2)))),
     r"^architecture\.layers\[1\]\.layers\[1\]\.layers\[1\]\.n_in: expected 3, the width that reaches "
     r"layer '1\.1\.1'"),
    (_sequential(_linear(4, 3), {"type": "Residual", "f": _linear(3, 3)}, _linear(4, 2)),
     r"^architecture\.layers\[2\]\.n_in: expected 3"),
    (_sequential(_linear(4, 4), {"type": "Residual", "f": _sequential(RELU, _linear(4, 5))}),
     r"^architecture\.layers\[1\]\.f: gives 5 features for an input of 4; the Residual of layer '1' adds f's "
     r"output to its input \(x \+ f\(x\)\), so f must keep the width$"),
    ({"type": "Residual", "f": _sequential(_linear(4, 3))}, r"^architecture\.f: gives 3 features for an input of 4; "
                                                            r"the Residual adds"),
    (_sequential(RELU, {"type": "Residual", "f": _sequential(_linear(4, 4), _linear(4, 3), RELU)}),
     r"^architecture\.layers\[1\]\.f: gives 3 features for an input of 4"),
    (_sequential({"type": "Residual", "f": _linear(4, 4)}, {"type": "Residual", "f": _linear(5, 5)}),
     r"^architecture\.layers\[1\]\.f\.n_in: expected 4"),
], ids=["after-activation", "nested", "after-residual", "residual-f", "residual-root", "residual-first",
        "residuals"])
def test_layers_that_do_not_chain_are_refused_naming_the_layer(config, message):
    with pytest.raises(ModelFileError, match=message):
        parameter_shapes(config)


@pytest.mark.parametrize("config", [
    _sequential(RELU, IDENTITY, _linear(4, 3), {"type": "LeakyReLU", "alpha": 0.1}, _sequential(IDENTITY),
                _linear(3, 2)),
    _sequential(_sequential(_linear(4, 3), RELU), _sequential(_sequential(_linear(3, 2)), {"type": "Softmax"})),
    _sequential({"type": "Residual", "f": RELU},
                {"type": "Residual", "f": _sequential(_linear(4, 5), RELU, _linear(5, 4))},
                _linear(4, 2), {"type": "Residual", "f": _sequential(IDENTITY, _linear(2, 2))}),
    {"type": "Residual", "f": IDENTITY},
    _sequential(),
    NET,
], ids=["activations-between", "nested", "residuals", "residual-without-parameters", "empty", "net"])
def test_layers_without_a_width_pass_the_width_on(config):
    from_config(config)
