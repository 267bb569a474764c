"""``python -m benchmarks.predict_latency``: the latency of one row, cr.predict against the forward pass.

At batch 1 the arithmetic takes tens of microseconds, so what ``cr.predict`` adds on top of
``model.forward`` (checking X and the model, casting, copying the outputs) shows. This times,
for each network, the plain NumPy loop's forward (benchmarks.numpy_mlp), ``model.forward``,
``cr.predict`` and ``cr.predict_proba`` (the model given a classifier's preprocessor, without
standardization) on one float32 row, in alternating rounds; each round keeps the best of a few
timeit repeats. The medians and minima over the rounds are printed in microseconds, with the
overhead of predict over forward.
"""

from __future__ import annotations

import argparse
import statistics
import timeit

import numpy

from .numpy_mlp import NumpyMLP

NETWORKS = ((784, 512, 256, 10), (784, 256, 256, 256, 256, 256, 256, 10))


def contenders(sizes) -> dict:
    """``{name: call}`` on one row of ``sizes[0]`` features, every model drawn from seed 0."""
    import chainrule as cr

    model = cr.mlp(list(sizes), seed=0)
    classifier = cr.mlp(list(sizes), seed=0)
    classifier.preprocessor = cr.Preprocessor(sizes[0], task="classification", classes=list(range(sizes[-1])))
    plain = NumpyMLP(sizes)
    X = numpy.random.default_rng(0).standard_normal((1, sizes[0]), dtype=numpy.float32)
    return {"numpy loop": lambda: plain.forward(X), "model.forward": lambda: model.forward(X),
            "cr.predict": lambda: cr.predict(model, X), "cr.predict_proba": lambda: cr.predict_proba(classifier, X)}


def alternate(calls: dict, rounds: int, number: int) -> dict:
    """``{name: [µs per call]}``: one entry per round, the best of 5 repeats of ``number`` calls."""
    times = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            times[name].append(min(timeit.repeat(call, number=number, repeat=5)) / number * 1e6)
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.predict_latency")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--number", type=int, default=20, help="calls per timeit repeat")
    parser.add_argument("--smoke", action="store_true", help="tiny networks and 2 rounds (seconds)")
    args = parser.parse_args(argv)
    networks = ((8, 4, 3),) if args.smoke else NETWORKS
    rounds = 2 if args.smoke else args.rounds
    for sizes in networks:
        times = alternate(contenders(sizes), rounds, args.number)
        print(f"{'-'.join(map(str, sizes))}, batch 1: median (min) over {rounds} alternating rounds, µs")
        for name, samples in times.items():
            print(f"  {name:17s} {statistics.median(samples):7.1f} ({min(samples):.1f})")
        overhead = statistics.median(times["cr.predict"]) - statistics.median(times["model.forward"])
        print(f"  predict - forward {overhead:7.1f}")


if __name__ == "__main__":
    main()
