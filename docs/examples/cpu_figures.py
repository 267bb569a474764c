"""The CPU figures that docs/usage.md quotes (and docs/cpu_speed.md, where it cites this script).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python docs/examples/cpu_figures.py

Every figure comes from fresh processes, so that none inherits another's warm caches, threads
or memory:

- the time of ``fit``'s check of its input X (60,000×784 float32, the model's own dtype: no
  cast, one finiteness pass: Σ|x| through NumPy's BLAS), the same check as it was before
  2026-11-28 (NumPy's sum in X's own dtype) and before that (the sum accumulated in float64), and one 1024×784 by 784×512 product in float32 and in float64
  (in each process the best of 7 repeats of 20 products): the best of 9 processes;
- the time of ``cr.load`` of a 4096-4096-4096-4096-10 model (50.4M parameters): the best of 3;
- the extra peak memory of ``cr.predict`` on a 200,000×784 X, float32 and float64, for a
  784-512-256-10 network fitted with ``standardize=True``: the rise of the process's ``VmHWM``
  over its resident size just before the call (Linux only), in one process per dtype.

It takes about two minutes and needs about 2 GB of memory and 200 MB of temporary disk.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

import numpy

import chainrule as cr
from chainrule.checks import as_matrix

TIMING_PROCESSES = 9
LOAD_PROCESSES = 3
WORKERS = ("check-and-product", "save", "load", "predict-memory")  # what one_process measures, by name


def time_once(function) -> float:
    """Seconds of one call of ``function``, after one untimed call."""
    function()
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def check_and_product_milliseconds() -> dict:
    """This process's times of the input check and of the product, in milliseconds."""
    X = numpy.random.default_rng(0).standard_normal((60_000, 784), dtype=numpy.float32)
    seconds = {
        "fit's check of X (60,000×784 float32)": time_once(lambda: as_matrix(X, numpy.float32, "X")),
        "the same check as NumPy's sum in float32, as before": time_once(lambda: bool(numpy.isfinite(X.sum()))),
        "the same check summing in float64, as before that": time_once(
            lambda: bool(numpy.isfinite(X.sum(dtype=numpy.float64)))),
    }
    rng = numpy.random.default_rng(0)
    for dtype in ("float32", "float64"):
        A = rng.standard_normal((1024, 784)).astype(dtype)
        B = rng.standard_normal((784, 512)).astype(dtype)
        A @ B  # untimed: the BLAS starts its threads
        seconds[f"1024×784 by 784×512 product, {dtype}"] = min(timeit.repeat(lambda: A @ B, number=20, repeat=7)) / 20
    return {name: value * 1e3 for name, value in seconds.items()}


def load_seconds(path: str) -> float:
    """Seconds that ``cr.load`` takes to read the model file at ``path``."""
    started = time.perf_counter()
    cr.load(path)
    return time.perf_counter() - started


def resident_bytes(field: str) -> int:
    """``field`` (VmRSS, VmHWM) of this process's /proc/self/status, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def predict_extra_bytes(dtype: str) -> dict:
    """The rise of the peak resident memory while ``cr.predict`` runs on a 200,000×784 X of ``dtype``."""
    rng = numpy.random.default_rng(0)
    model = cr.mlp([784, 512, 256, 10], seed=0)
    cr.fit(model, rng.standard_normal((2048, 784)).astype(numpy.float32), rng.integers(0, 10, 2048),
           epochs=1, standardize=True, verbose=0)
    X = rng.standard_normal((200_000, 784)).astype(dtype)
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # resets VmHWM to the current resident size
    before = resident_bytes("VmRSS")
    cr.predict(model, X)
    return {"extra": resident_bytes("VmHWM") - before, "X": X.nbytes}


def in_fresh_process(*arguments: str):
    """What this script prints as JSON when run with ``arguments`` in a new Python process."""
    done = subprocess.run([sys.executable, __file__, *arguments], check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def one_process(arguments: list[str]) -> None:
    """Measure one thing in this process and print it as JSON (the worker side of ``main``)."""
    if arguments[0] == "check-and-product":
        print(json.dumps(check_and_product_milliseconds()))
    elif arguments[0] == "save":
        cr.save(cr.mlp([4096, 4096, 4096, 4096, 10], seed=0), arguments[1])
        print("null")
    elif arguments[0] == "load":
        print(json.dumps(load_seconds(arguments[1])))
    elif arguments[0] == "predict-memory":
        print(json.dumps(predict_extra_bytes(arguments[1])))


def main() -> None:
    if sys.argv[1:2] and sys.argv[1] in WORKERS:  # a worker that in_fresh_process started
        one_process(sys.argv[1:])
        return
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    runs = [in_fresh_process("check-and-product") for _ in range(TIMING_PROCESSES)]
    for name in runs[0]:
        print(f"{name}: {min(run[name] for run in runs):.1f} ms (best of {TIMING_PROCESSES} processes)")
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "model.safetensors")
        in_fresh_process("save", path)
        best = min(in_fresh_process("load", path) for _ in range(LOAD_PROCESSES))
        print(f"cr.load of 4096-4096-4096-4096-10: {best:.2f} s (best of {LOAD_PROCESSES} processes)")
    for dtype in ("float32", "float64"):
        memory = in_fresh_process("predict-memory", dtype)
        print(f"cr.predict on 200,000×784 {dtype}, extra peak memory: {memory['extra'] / memory['X']:.2f}× X "
              f"({memory['extra'] / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
