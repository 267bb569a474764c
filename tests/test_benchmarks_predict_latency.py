"""benchmarks.predict_latency: a smoke run times every contender on one row."""

import numpy

from benchmarks import predict_latency


def test_every_contender_answers_one_row_alike():
    calls = predict_latency.contenders((8, 4, 3))
    forward, predicted = calls["model.forward"](), calls["cr.predict"]()
    assert forward.shape == (1, 3) and numpy.array_equal(forward, predicted)  # a regressor's outputs as they are
    assert abs(float(calls["cr.predict_proba"]().sum()) - 1) < 1e-6


def test_a_smoke_run_prints_each_contender_and_the_overhead(capsys):
    predict_latency.main(["--smoke", "--number", "2"])
    out = capsys.readouterr().out
    assert all(name in out for name in ("numpy loop", "model.forward", "cr.predict", "cr.predict_proba",
                                        "predict - forward"))
