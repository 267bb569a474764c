"""Initializers: the variance of each, reproducible seeds, and the choice that follows the activation."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.initializers import ALIASES, INITIALIZERS, as_generator, get_initializer

N_IN, N_OUT = 400, 300  # 120 000 draws: a sample variance within ~0.4% (1 σ) of the true one

VARIANCES = {
    "glorot": 2 / (N_IN + N_OUT),
    "he": 2 / N_IN,
    "lecun": 1 / N_IN,
}


def kurtosis(W):
    """E[w⁴] / E[w²]²: 3 for a normal distribution, 9/5 for a uniform one."""
    centred = W - W.mean()
    return float((centred**4).mean() / (centred**2).mean() ** 2)


def assert_distribution(W, variance, kind):
    assert W.shape == (N_IN, N_OUT)
    assert abs(W.mean()) < 5 * np.sqrt(variance / W.size)
    assert W.var() == pytest.approx(variance, rel=0.02)
    if kind == "uniform":
        limit = np.sqrt(3 * variance)  # U(−a, a) has variance a²/3
        assert np.abs(W).max() <= limit
        assert np.abs(W).max() > 0.999 * limit
        assert kurtosis(W) == pytest.approx(1.8, abs=0.03)
    else:
        assert kurtosis(W) == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize("rule", ["glorot", "he", "lecun"])
@pytest.mark.parametrize("kind", ["uniform", "normal"])
def test_variance(rule, kind):
    W = get_initializer(f"{rule}_{kind}")((N_IN, N_OUT), np.random.default_rng(0))
    assert_distribution(W, VARIANCES[rule], kind)


def test_zeros():
    W = get_initializer("zeros")((3, 2), np.random.default_rng(0))
    np.testing.assert_array_equal(W, np.zeros((3, 2)))


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_same_seed_same_weights(name):
    draw = get_initializer(name)
    first = draw((5, 4), np.random.default_rng(42))
    np.testing.assert_array_equal(first, draw((5, 4), np.random.default_rng(42)))
    if name != "zeros":
        assert not np.array_equal(first, draw((5, 4), np.random.default_rng(43)))


def test_aliases():
    assert ALIASES == {"xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal",
                       "kaiming_uniform": "he_uniform", "kaiming_normal": "he_normal"}
    for alias, name in ALIASES.items():
        assert get_initializer(alias) is get_initializer(name)


def test_unknown_initializer():
    message = "init: unknown initializer 'orthogonal'; expected one of glorot_normal"
    with pytest.raises(cr.HyperparameterError, match=message):
        get_initializer("orthogonal")


@pytest.mark.parametrize("name, shown", [("x" * 100_000, "unknown initializer '" + "x" * 59 + "...; expected"),
                                         (10 ** 5000, "got <an int of 16,610 bits>")], ids=["long", "huge_int"])
def test_the_name_in_an_initializer_error_is_quoted_and_cut(name, shown):
    """The whole name went into the message (100,000 characters), and an int too large for repr raised ValueError."""
    with pytest.raises(cr.HyperparameterError, match=r"^init: ") as caught:
        cr.Linear(2, 2, init=name)
    assert shown in str(caught.value) and len(str(caught.value)) < 400


# An array of names raised NumPy's "truth value of an array ... is ambiguous" from Linear's init != "auto",
# and numpy.array(["auto"]) was kept as Linear's init.
@pytest.mark.parametrize("name", [["he_normal"], None, 3, np.array(["he_normal", "zeros"]), np.array(["auto"])])
def test_an_initializer_that_is_not_a_name_is_refused(name):
    with pytest.raises(cr.HyperparameterError, match=r"init: expected an initializer name, got"):
        get_initializer(name)
    with pytest.raises(cr.HyperparameterError, match=r"init: expected an initializer name"):
        cr.Linear(2, 2, init=name)


def test_a_numpy_string_is_taken_as_the_name():
    assert repr(cr.Linear(2, 2, init=np.str_("zeros"))) == "Linear(2, 2, init='zeros')"


def test_as_generator():
    rng = np.random.default_rng(0)
    assert as_generator(rng) is rng
    assert isinstance(as_generator(None), np.random.Generator)
    assert as_generator(5).normal() == np.random.default_rng(5).normal()
    assert as_generator(np.int64(5)).normal() == np.random.default_rng(5).normal()
    seed_sequence = np.random.SeedSequence(9)
    assert as_generator(seed_sequence).normal() == np.random.default_rng(np.random.SeedSequence(9)).normal()


@pytest.mark.parametrize("seed, message", [
    (-1, "seed: expected a non-negative int, got -1"),
    # a SeedSequence is taken too (the message left it out)
    (1.5, "^seed: expected None, an int, a numpy.random.SeedSequence or a numpy.random.Generator, got 1.5$"),
    ("7", "^seed: expected None, an int, a numpy.random.SeedSequence or a numpy.random.Generator, got '7'$"),
    (True, "^seed: expected None, an int, a numpy.random.SeedSequence or a numpy.random.Generator, got True$"),
    (np.random.RandomState(0), "^seed: expected None, an int, a numpy.random.SeedSequence or a numpy.random.Generator, "
                               "got RandomState"),
    # their repr went whole into the message (raising ValueError for an int too large to write)
    pytest.param([10 ** 5000], "^seed: expected None, .*, got <list holding an int of more than", id="huge int"),
    pytest.param("x" * 100_000, "^seed: expected None, .*, got '" + "x" * 59 + r"\.\.\.$", id="long str"),
])
def test_invalid_seeds(seed, message):
    with pytest.raises(cr.HyperparameterError, match=message):
        as_generator(seed)


def test_seeded_models_are_reproducible():
    first = cr.Linear(6, 5, seed=3)
    np.testing.assert_array_equal(first.params["W"], cr.Linear(6, 5, seed=3).params["W"])
    assert not np.array_equal(first.params["W"], cr.Linear(6, 5, seed=4).params["W"])


def test_float32_and_float64_models_hold_the_same_draw():
    W32 = cr.Linear(6, 5, seed=3).params["W"]
    W64 = cr.Linear(6, 5, seed=3, dtype="float64").params["W"]
    np.testing.assert_array_equal(W32, W64.astype(np.float32))


@pytest.mark.parametrize("activation", [cr.ReLU, cr.LeakyReLU, cr.GELU])
def test_he_for_a_linear_followed_by_the_relu_family(activation):
    model = cr.Sequential(cr.Linear(N_IN, N_OUT), activation(), seed=0)
    assert model[0].resolved_init == "he_normal"
    assert_distribution(model.params["0.W"].astype(np.float64), VARIANCES["he"], "normal")


@pytest.mark.parametrize("following", [cr.Tanh, cr.Sigmoid, cr.Softmax, cr.Identity, None])
def test_glorot_otherwise(following):
    layers = [cr.Linear(N_IN, N_OUT)] + ([following()] if following else [])
    model = cr.Sequential(*layers, seed=0)
    assert model[0].resolved_init == "glorot_uniform"
    assert_distribution(model.params["0.W"].astype(np.float64), VARIANCES["glorot"], "uniform")


def test_glorot_for_a_lone_linear_layer():
    layer = cr.Linear(N_IN, N_OUT, seed=0)
    assert layer.resolved_init == "glorot_uniform"
    assert_distribution(layer.params["W"].astype(np.float64), VARIANCES["glorot"], "uniform")


def test_he_without_a_model_seed():
    model = cr.Sequential(cr.Linear(N_IN, N_OUT, seed=0), cr.ReLU())
    assert_distribution(model.params["0.W"].astype(np.float64), VARIANCES["he"], "normal")


def test_an_explicit_initializer_is_kept():
    model = cr.Sequential(cr.Linear(N_IN, N_OUT, init="lecun_uniform"), cr.ReLU(), seed=0)
    assert model[0].resolved_init == "lecun_uniform"
    assert_distribution(model.params["0.W"].astype(np.float64), VARIANCES["lecun"], "uniform")


def test_mlp_uses_he_below_each_relu_and_glorot_on_the_output():
    model = cr.mlp([64, 128, 64, 10], seed=0)
    assert [layer.resolved_init for layer in model.layers[::2]] == ["he_normal", "he_normal", "glorot_uniform"]
    assert [layer.resolved_init for layer in cr.mlp([4, 8, 2], "tanh").layers[::2]] == ["glorot_uniform"] * 2


def test_biases_start_at_zero():
    model = cr.mlp([5, 7, 3], seed=1)
    assert not model.params["0.b"].any() and not model.params["2.b"].any()


def test_a_negative_numpy_integer_seed_is_refused_as_an_int_is():
    with pytest.raises(cr.HyperparameterError, match=r"seed: expected a non-negative int, got -1$"):
        as_generator(np.int64(-1))
