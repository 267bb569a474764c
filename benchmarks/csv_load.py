"""CSV load speed: ``chainrule.data.load_csv`` beside ``numpy.loadtxt`` and, when installed, ``pandas.read_csv``.

``python -m benchmarks.csv_load --rows 20000 --features 784 --repeats 3`` writes a seeded CSV
of integer pixels (0-255) and a digit label, shaped like MNIST's, to a temporary folder, reads
it with each contender in turn (A B C A B C ..., see :func:`benchmarks.timing.alternate`) and
prints each one's median seconds (min-max) and its time over ``load_csv``'s.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
from pathlib import Path

import numpy

from chainrule.data.csv_file import load_csv

from .timing import alternate


def write_csv(path: Path, n_rows: int, n_features: int, seed: int = 0) -> None:
    """A CSV of ``n_rows`` rows: ``n_features`` integer pixels in [0, 255] (``p0``...), then a ``label`` in [0, 9]."""
    rng = numpy.random.default_rng(seed)
    table = numpy.column_stack([rng.integers(0, 256, (n_rows, n_features)), rng.integers(0, 10, n_rows)])
    header = ",".join([f"p{j}" for j in range(n_features)] + ["label"])
    numpy.savetxt(path, table, fmt="%d", delimiter=",", header=header, comments="")


def contenders(path: Path) -> dict:
    """``{name: call}``: each reads every row of ``path`` (features and labels)."""
    runs = {
        "chainrule load_csv": lambda: load_csv(path),
        "numpy.loadtxt": lambda: numpy.loadtxt(path, delimiter=",", skiprows=1),
    }
    if importlib.util.find_spec("pandas") is not None:
        import pandas

        runs["pandas.read_csv"] = lambda: pandas.read_csv(path)
    return runs


def main(argv=None) -> dict:
    """Time the contenders; print and return ``{name: (median, min, max) seconds}``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.csv_load")
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--features", type=int, default=784)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pixels.csv"
        write_csv(path, args.rows, args.features)
        size_mb = path.stat().st_size / 1e6
        rates = alternate(contenders(path), n_items=args.rows, repeats=args.repeats, pause=0)
    seconds = {name: (args.rows / rate.median, args.rows / rate.high, args.rows / rate.low)
               for name, rate in rates.items()}
    own = seconds["chainrule load_csv"][0]
    print(f"{args.rows} x {args.features + 1} integer CSV, {size_mb:.1f} MB; median (min-max) of {args.repeats}")
    for name, (median, low, high) in seconds.items():
        print(f"{name:20s} {median:7.3f} s ({low:.3f}-{high:.3f})  {median / own:5.2f} x load_csv")
    return seconds


if __name__ == "__main__":
    main()
