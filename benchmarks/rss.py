"""Peak resident memory per contender, each in a fresh process.

``python -m benchmarks.rss NAME --samples N --batch B --sizes 784,512,256,10 --threads T``
makes the data, builds the contender, trains one epoch and prints its own peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, KiB on Linux) as JSON. The figure is the
whole process: interpreter, imported libraries, the data set (float64 copy for sklearn f64)
and training; the data set is the same for all.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

from .contenders import CONTENDERS
from .data import teacher_data
from .threads import limit_threads


def peak_rss_mib(name: str, sizes, batch: int, n_samples: int, threads: int, cwd=None) -> float:
    """Peak RSS in MiB of a fresh process training ``name`` for one epoch."""
    command = [sys.executable, "-m", "benchmarks.rss", name, "--samples", str(n_samples), "--batch", str(batch),
               "--sizes", ",".join(map(str, sizes)), "--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=cwd)
    return json.loads(done.stdout.strip().splitlines()[-1])["max_rss_kib"] / 1024


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rss")
    parser.add_argument("name", choices=sorted(CONTENDERS))
    parser.add_argument("--samples", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--sizes", required=True)
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    limiter = limit_threads(args.threads)
    X, y = teacher_data(args.samples, sizes[0], sizes[-1])
    CONTENDERS[args.name](sizes, args.batch, X, y).epoch()
    del limiter
    print(json.dumps({"max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main()
