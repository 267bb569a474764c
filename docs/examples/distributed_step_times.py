"""Single-process training step times, the compute side of docs/distributed.md's scaling model.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python docs/examples/distributed_step_times.py

Prints, per network and batch size, the seconds per step of ``cr.fit`` (float32, Adam) and the
gradient's size in bytes, and the BLAS that threadpoolctl finds.
"""

import argparse
import json
import time

import numpy
from threadpoolctl import threadpool_info

import chainrule as cr

NETWORKS = {"784-512-256-10": [784, 512, 256, 10], "784-256x6-10": [784, *[256] * 6, 10]}


def step_seconds(sizes, batch_size, steps):
    rng = numpy.random.default_rng(0)
    X = rng.normal(size=(batch_size * steps, 784)).astype(numpy.float32)
    y = rng.integers(0, 10, size=len(X))
    model = cr.mlp(sizes, seed=0)
    cr.fit(model, X, y, epochs=1, batch_size=batch_size, verbose=0)  # warm-up
    best = numpy.inf
    for _ in range(3):
        started = time.perf_counter()
        cr.fit(model, X, y, epochs=1, batch_size=batch_size, verbose=0)
        best = min(best, (time.perf_counter() - started) / steps)
    return best, model.flat_parameters().grad.nbytes


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    blas = [{key: pool.get(key) for key in ("internal_api", "version", "architecture", "num_threads")}
            for pool in threadpool_info() if pool["user_api"] == "blas"]
    print(json.dumps({"blas": blas}))
    for name, sizes in NETWORKS.items():
        for batch_size, steps in ((32, 200), (128, 100), (1024, 16)):
            seconds, nbytes = step_seconds(sizes, batch_size, steps)
            print(json.dumps({"network": name, "batch": batch_size, "step_ms": round(seconds * 1e3, 3),
                              "grad_bytes": nbytes}))
