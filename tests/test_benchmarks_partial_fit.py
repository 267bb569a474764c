"""benchmarks.partial_fit: a smoke run times every contender."""

from benchmarks import partial_fit


def test_a_smoke_run_prints_every_contender(capsys):
    partial_fit.main(["--smoke"])
    out = capsys.readouterr().out
    for name in ("chainrule MLPClassifier", "scikit-learn MLPClassifier", "chainrule MLPRegressor",
                 "scikit-learn MLPRegressor", "chainrule cr.fit(epochs=1)"):
        assert name in out
