"""chainrule gradcheck: the configured network's backward against central differences,
one line per parameter, exit 1 above the tolerance."""

import json
import re

import numpy as np
import pytest

import chainrule as cr

from .helpers import assert_one_line_error, call


def test_the_default_network_passes(capsys):
    code, out, err = call(capsys, "gradcheck")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["parameter", "checked", "max", "rel", "error"]
    names = [line.split()[0] for line in lines[1:] if line and not line.startswith("max")]
    assert names == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b", "input"]
    assert all(float(line.split()[-1]) < 1e-6 for line in lines[1:8])
    assert lines[-1].endswith("tolerance 1e-06: passed")


def test_json_reports_each_parameter(capsys):
    code, out, _ = call(capsys, "gradcheck", "--data", "iris", "--hidden", "5,4", "--activation", "tanh", "--json")
    assert code == 0
    report = json.loads(out)
    assert list(report["errors"]) == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b", "input"]
    assert report["passed"] is True and report["max_rel_error"] < 1e-6
    assert report["max_rel_error"] == max(report["errors"].values())
    # what the text output explains its errors by: it said nothing of kinks or rounding
    assert list(report["checked"]) == list(report["kinks"]) == list(report["rounding"]) == list(report["errors"])
    assert all(count == 0 for count in report["kinks"].values())
    assert all(count > 0 for count in report["checked"].values())


@pytest.mark.parametrize("options", [["--data", "diabetes", "--hidden", "6"], ["--activation", "sigmoid"],
                                     ["--activation", "gelu", "--hidden", "8"]])
def test_other_networks_pass(capsys, options):
    code, out, _ = call(capsys, "gradcheck", *options, "--samples", "4", "--max-checks", "20")
    assert code == 0, out


def test_a_tolerance_below_the_errors_exits_1(capsys):
    code, out, _ = call(capsys, "gradcheck", "--data", "iris", "--hidden", "3", "--tolerance", "1e-30")
    assert code == 1
    assert out.splitlines()[-1].endswith("tolerance 1e-30: FAILED (above it: 0.W, 0.b, 2.W, 2.b, input)")


# -- kinks of the ReLUs: the network's biases are 0 -----------------------------------------------
ITS_KINKS = [(0, 64), (0, 120), (1, 8), (5, 32)]  # iris seeds and row counts whose check has kinks


@pytest.mark.parametrize("seed, samples", ITS_KINKS)
def test_a_correct_network_passes_with_its_kinks_left_out_of_the_verdict(capsys, seed, samples):
    """Some ReLU inputs lie at (or within eps of) their kink: a correct backward was FAILED, exit 1."""
    code, out, _ = call(capsys, "gradcheck", "--data", "iris", "--seed", str(seed), "--samples", str(samples))
    assert code == 0, out
    assert re.fullmatch(r"max relative error \S+ \(\S+\) away from the \d+ elements at kinks, left out "
                        r"\(\S+ with them\); tolerance 1e-06: passed", out.splitlines()[-1])
    code, out, _ = call(capsys, "gradcheck", "--data", "iris", "--seed", str(seed), "--samples", str(samples), "--json")
    report = json.loads(out)
    assert report["passed"] is True and sum(report["kinks"].values()) > 0 and report["max_rel_error"] > 1e-6
    assert max(report["errors_away_from_kinks"].values()) < 1e-6 and report["eps"] == 1e-5


@pytest.mark.parametrize("seed, samples", ITS_KINKS)
def test_a_wrong_backward_still_fails_away_from_the_kinks(capsys, monkeypatch, seed, samples):
    correct = cr.Linear.backward

    def doubled_bias_gradient(self, dY, input_grad=True):
        dX = correct(self, dY, input_grad)
        self.own_grads["b"] *= 2
        return dX

    monkeypatch.setattr(cr.Linear, "backward", doubled_bias_gradient)
    code, out, _ = call(capsys, "gradcheck", "--data", "iris", "--seed", str(seed), "--samples", str(samples))
    assert code == 1 and out.endswith("tolerance 1e-06: FAILED (above it: 0.b, 2.b, 4.b)\n")


def test_eps_sets_the_step(capsys):
    code, out, _ = call(capsys, "gradcheck", "--data", "iris", "--samples", "64", "--eps", "1e-7", "--json")
    assert code == 0 and json.loads(out)["eps"] == 1e-7


def test_options_come_from_a_config_file(tmp_path, capsys):
    (tmp_path / "run.toml").write_text('data = "iris"\nhidden = "7"\n')
    code, out, _ = call(capsys, "gradcheck", "--config", tmp_path / "run.toml", "--json")
    assert code == 0
    assert list(json.loads(out)["errors"]) == ["0.W", "0.b", "2.W", "2.b", "input"]


@pytest.mark.parametrize("options, fragment", [
    (["--samples", "0"], "--samples"),
    (["--max-checks", "0"], "--max-checks"),
    (["--tolerance", "-1"], "--tolerance"),
    (["--eps", "1e-300"], "--eps: 1e-300 is too small for the magnitude of"),  # was "eps:", not the option
    (["--data", "iris", "--samples", "1000"],
     "--samples: 1000 is more than the 120 training samples; pass at most 120"),
    # --test-size, which the config file's test_size set alone, as for train (the split decides the rows checked)
    (["--data", "iris", "--test-size", "0.5", "--samples", "1000"],
     "--samples: 1000 is more than the 75 training samples; pass at most 75"),
    (["--data", "iris", "--test-size", "1.5"], "--test-size: expected a fraction in (0, 1), got 1.5"),
    (["--activation", "swish"], "--activation"),
    (["--hidden", "a"], "--hidden"),
    (["--data", "missing.csv"], "missing.csv"),
    # named by its option, as train names it (the line began "unknown data set 'irsi'")
    (["--data", "irsi"], "chainrule: error: --data: unknown data set 'irsi' (did you mean 'iris'?)"),
])
def test_bad_options_exit_2_in_one_line(capsys, options, fragment):
    code, _, err = call(capsys, "gradcheck", *options)
    assert_one_line_error(code, err, fragment)


@pytest.mark.parametrize("eps, got", [("x", "'x'"), ("0", "0.0"), ("-1", "-1.0"),
                                      ("1", "1.0; the central difference estimates a derivative only over a small "
                                            "step (the default is 1e-05)"),
                                      ("1e3", "1000.0; the central difference estimates a derivative only over a "
                                              "small step (the default is 1e-05)")])  # 1e3 once passed, exit 0
def test_every_refusal_of_eps_says_what_it_takes_in_the_same_words(capsys, eps, got):
    """They were four: 'a number > 0 and below 1' (no number), 'a number > 0' (0), 'a step below 1' (1 or
    more) and 'a finite real number' (nan). NaN and infinity are refused as by every option taking a real number
    (test_main's test_every_real_number_option_refuses_nan_and_infinity_in_one_wording_naming_it)."""
    code, out, err = call(capsys, "gradcheck", "--eps", eps)
    assert (code, out, err) == (2, "", f"chainrule: error: --eps: expected a number in (0, 1), got {got}\n")


def test_a_loss_the_data_cannot_take_is_named_where_it_was_given(tmp_path, capsys):
    (tmp_path / "run.toml").write_text('data = "diabetes"\nloss = "cross_entropy"\n')
    code, _, err = call(capsys, "gradcheck", "--config", tmp_path / "run.toml")
    line = assert_one_line_error(code, err, "run.toml: key 'loss'", "needs class labels")
    assert "--loss" not in line
    code, _, err = call(capsys, "gradcheck", "--data", "diabetes", "--loss", "cross_entropy")
    assert_one_line_error(code, err, "--loss: cross_entropy needs class labels")


# -- class weights: the weighted loss that chainrule train trains with them -----------------------
def test_a_gpu_runs_config_is_checked_on_the_cpu(tmp_path, capsys):
    """A config.toml with device = "cuda" is checked on the CPU, also on a machine without
    CuPy, and with class weights, which train refuses on the GPU."""
    (tmp_path / "run.toml").write_text('data = "iris"\nhidden = "4"\ndevice = "cuda"\nclass_weight = "balanced"\n')
    code, out, err = call(capsys, "gradcheck", "--config", tmp_path / "run.toml", "--samples", "4")
    assert code == 0, err
    assert "0.W" in out


def test_class_weight_in_a_config_checks_the_weighted_loss(tmp_path, capsys, monkeypatch):
    """A run's config.toml with class_weight = "balanced" checks the loss that run trained:
    each sampled row weighted by scikit-learn's balanced weight of its class."""
    from sklearn.utils.class_weight import compute_class_weight

    from chainrule.cli import gradcheck as command
    from chainrule.data import load_data

    given = {}

    def recording(*args, **kwargs):
        given.update(kwargs)
        return cr.gradcheck(*args, **kwargs)

    monkeypatch.setattr(command, "gradcheck", recording)
    (tmp_path / "run.toml").write_text('data = "breast_cancer"\nhidden = "4"\nclass_weight = "balanced"\n')
    code, out, _ = call(capsys, "gradcheck", "--config", tmp_path / "run.toml", "--samples", "6")
    assert code == 0, out
    y = load_data("breast_cancer", test_size=0.2, seed=0).y_train
    expected = compute_class_weight("balanced", classes=np.unique(y), y=y)[np.searchsorted(np.unique(y), y[:6])]
    np.testing.assert_allclose(given["sample_weight"], expected, rtol=1e-12)
    code, out, _ = call(capsys, "gradcheck", "--config", tmp_path / "run.toml", "--class-weight", "none")
    assert code == 0 and given["sample_weight"] is None  # the command line wins


def test_class_weight_on_regression_data_exits_2_naming_where_it_was_given(tmp_path, capsys):
    (tmp_path / "run.toml").write_text('data = "diabetes"\nclass_weight = "balanced"\n')
    code, _, err = call(capsys, "gradcheck", "--config", tmp_path / "run.toml")
    assert_one_line_error(code, err, "run.toml: key 'class_weight': class weights need class labels")


@pytest.mark.parametrize("options, fragment", [
    (["--data", "iris", "--loss", "mse", "--class-weight", "balanced"],
     "--class-weight: class weights need a loss that trains for classes, but --loss mse trains for regression"),
    (["--data", "{iris_csv}", "--loss", "mse"], "--loss: mse needs numeric targets, but iris.csv has text labels"),
    (["--data", "iris", "--label", "x"], "--label: 'x' names a CSV column, but --data 'iris' is a built-in data set"),
])
def test_what_train_refuses_gradcheck_refuses_alike(tmp_path, capsys, iris_csv, options, fragment):
    """gradcheck checks the loss train trains: it passed these combinations, which train refuses."""
    options = [option.format(iris_csv=iris_csv) for option in options]
    code, _, err = call(capsys, "train", *options, "--hidden", "4", "--epochs", "1", "--quiet",
                        "--out", tmp_path / "run")
    assert_one_line_error(code, err, fragment)
    code, _, err = call(capsys, "gradcheck", *options, "--hidden", "4")
    assert_one_line_error(code, err, fragment)


def test_a_network_too_large_to_check_is_refused_naming_hidden(capsys):
    """It raised NumPy's MemoryError: "internal error", exit 1."""
    code, _, err = call(capsys, "gradcheck", "--data", "iris", "--hidden", "99999999999")
    assert_one_line_error(code, err, "--hidden: the network [4, 99999999999, 3] has 799,999,999,995 parameters",
                          "checking its gradients holds 4 vectors of that size")


def test_a_test_size_that_leaves_no_training_row_is_named_as_the_config_key(tmp_path, capsys):
    # gradcheck named it "test_size", the Python keyword, where train names the file's key
    config = tmp_path / "g.toml"
    config.write_text('data = "iris"\ntest_size = 0.999\n')
    code, _, err = call(capsys, "gradcheck", "--config", config)
    assert_one_line_error(code, err, f"{config}: key 'test_size': holding out 0.999 of the 150 rows")


def test_a_test_size_for_data_with_a_test_part_of_its_own_is_refused_naming_the_config_key(tmp_path, capsys):
    # as train refuses it: the file's test part is not split, so the key changed nothing
    data = tmp_path / "parts.npz"
    rng = np.random.default_rng(0)
    np.savez(data, X=rng.normal(size=(40, 3)), y=np.arange(40) % 2, X_test=rng.normal(size=(10, 3)),
             y_test=np.arange(10) % 2)
    config = tmp_path / "g.toml"
    config.write_text(f'data = "{data}"\ntest_size = 0.3\n')
    code, _, err = call(capsys, "gradcheck", "--config", config)
    assert_one_line_error(code, err, f"{config}: key 'test_size': the data '{data}' has a test part of its own "
                                     f"(10 rows)", "remove the key")


def test_an_array_whose_every_element_is_at_a_kink_fails_the_check_naming_it(capsys):
    """Two ReLU units both off for a row put the next layer's biases (0) at their kinks for every
    element: nothing of 2.b was compared, and the check said passed."""
    code, out, err = call(capsys, "gradcheck", "--data", "iris", "--hidden", "2,2", "--seed", "0")
    assert (code, err) == (1, "")
    assert "Every checked element is at a kink in: 2.b." in out
    assert out.splitlines()[-1].endswith("FAILED (nothing compared in 2.b: every element at a kink)")


def test_help_shows_the_defaults_of_the_options_it_shares_with_train(capsys, monkeypatch):
    """They said only 'as for chainrule train', where train's own --help shows each default: a user reading
    gradcheck --help could not tell which network it checks without arguments."""
    monkeypatch.setenv("COLUMNS", "200")  # each help on one line (below its option where that is long)
    with pytest.raises(SystemExit):
        call(capsys, "gradcheck", "--help")
    out = capsys.readouterr().out
    shown = dict(re.findall(r"^  (--[a-z-]+) \S+\s+as for chainrule train (\[[^]\n]*\])$", out, re.MULTILINE))
    assert shown == {"--data": "[digits]", "--hidden": "[256,128]", "--activation": "[relu]", "--init": "[auto]",
                     "--loss": "[auto]", "--label": "[the last column]", "--class-weight": "[none]", "--seed": "[0]",
                     "--test-size": "[0.2]"}
