"""The cost of one ``partial_fit`` call: chainrule's estimators against scikit-learn's.

Streaming training (scikit-learn's "incremental learning") calls ``partial_fit`` once per
small batch, so what a call costs beyond its arithmetic (argument checks, label mapping, the
optimizer and the training loop it sets up) is most of its time. Each contender makes
``calls`` calls, one per batch of 32 rows of the digits data (64 features, 10 classes, a
hidden layer of 64 units); the contenders alternate, round after round (see
``timing.alternate``), and the median and range of the rounds are printed as µs per call.
``cr.fit(model, X, y, epochs=1)``, a network trained a batch at a time without the
estimator, is timed alongside.

Run ``python -m benchmarks.partial_fit`` from the repository root (``--smoke`` for a short
run).
"""

from __future__ import annotations

import argparse
import warnings

import numpy

from .timing import alternate

BATCH = 32  # rows per partial_fit call
HIDDEN = 64  # units of the hidden layer


def digits() -> tuple[numpy.ndarray, numpy.ndarray]:
    """The digits data: X (1797, 64) in [0, 1] as float32, y the labels 0-9."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(numpy.float32), y


def streaming(partial_fit, X, y, calls: int):
    """A run of ``calls`` calls of ``partial_fit`` on consecutive batches of (X, y), wrapping around."""
    starts = [(i * BATCH) % (len(X) - BATCH + 1) for i in range(calls)]
    batches = [(X[start:start + BATCH], y[start:start + BATCH]) for start in starts]

    def run():
        for X_batch, y_batch in batches:
            partial_fit(X_batch, y_batch)

    return run


def contenders(X, y, calls: int) -> dict:
    """``{name: run}``: each run makes ``calls`` calls of one kind, from an estimator (or network)
    already through its first call."""
    import chainrule as cr
    from chainrule.sklearn import MLPClassifier, MLPRegressor
    from sklearn import neural_network

    classes = numpy.unique(y)
    runs = {}
    for name, estimator in (("chainrule MLPClassifier", MLPClassifier((HIDDEN,), random_state=0)),
                            ("scikit-learn MLPClassifier", neural_network.MLPClassifier((HIDDEN,), random_state=0))):
        estimator.partial_fit(X[:BATCH], y[:BATCH], classes=classes)
        runs[name] = streaming(estimator.partial_fit, X, y, calls)
    target = X[:, :4].sum(axis=1)  # a regression target of the same rows
    for name, estimator in (("chainrule MLPRegressor", MLPRegressor(hidden_layer_sizes=(HIDDEN,), random_state=0)),
                            ("scikit-learn MLPRegressor",
                             neural_network.MLPRegressor(hidden_layer_sizes=(HIDDEN,), random_state=0))):
        estimator.partial_fit(X[:BATCH], target[:BATCH])
        runs[name] = streaming(estimator.partial_fit, X, target, calls)
    model = cr.mlp([X.shape[1], HIDDEN, len(classes)], seed=0)
    optimizer = cr.Adam(model)
    cr.fit(model, X[:BATCH], y[:BATCH], optimizer=optimizer, epochs=1, verbose=0)
    runs["chainrule cr.fit(epochs=1)"] = streaming(
        lambda X_batch, y_batch: cr.fit(model, X_batch, y_batch, optimizer=optimizer, epochs=1, verbose=0), X, y,
        calls)
    return runs


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="partial_fit calls per round (default 200)")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--smoke", action="store_true", help="a short run: 20 calls, 2 rounds")
    args = parser.parse_args(argv)
    calls, rounds = (20, 2) if args.smoke else (args.calls, args.rounds)
    X, y = digits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's ConvergenceWarning at every partial_fit
        rates = alternate(contenders(X, y, calls), calls, rounds, pause=0.05)
    print(f"partial_fit of {BATCH} rows (digits, hidden ({HIDDEN},)), µs per call: "
          f"median [min-max] of {rounds} rounds")
    for name, rate in rates.items():
        print(f"  {name:30s} {1e6 / rate.median:8.0f}  [{1e6 / rate.high:.0f}-{1e6 / rate.low:.0f}]")


if __name__ == "__main__":
    main()
