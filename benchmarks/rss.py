"""Peak resident memory per contender, each in a fresh process.

``python -m benchmarks.rss NAME --samples N --batch B --sizes 784,512,256,10 --threads T``
makes the data, builds the contender, trains one epoch and prints its own peak RSS as JSON:
``VmHWM`` from ``/proc/self/status``, the high-water mark of this process's own memory map,
or null where there is no such line (macOS, Windows): not measured. (``getrusage``'s
``ru_maxrss`` is no good here: Linux carries it across ``execve`` from the forking parent, so
every child would report at least the parent's RSS; macOS gives it in bytes.) The figure is the
whole process: interpreter, imported libraries, the data set (float64 copy for sklearn f64)
and training; the data set is the same for all. The processes run concurrently (no timing
is taken from them; each one's high-water mark is its own).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from .contenders import CONTENDERS
from .data import teacher_data
from .threads import limit_threads

STATUS = "/proc/self/status"


def peak_rss_mib(names, sizes, batch: int, n_samples: int, threads: int, cwd=None) -> dict:
    """``{name: peak RSS in MiB}`` of fresh processes, one per contender, each training one epoch;
    None where the process could not measure its own (no ``VmHWM``)."""
    running = {}
    for name in names:
        command = [sys.executable, "-m", "benchmarks.rss", name, "--samples", str(n_samples), "--batch", str(batch),
                   "--sizes", ",".join(map(str, sizes)), "--threads", str(threads)]
        running[name] = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
    found = {}
    for name, process in running.items():
        out, err = process.communicate()
        if process.returncode:
            raise RuntimeError(f"benchmarks.rss {name} failed with exit status {process.returncode}:\n{err}")
        kib = json.loads(out.strip().splitlines()[-1])["peak_rss_kib"]
        found[name] = None if kib is None else kib / 1024
    return found


def own_peak_rss_kib() -> int | None:
    """This process's resident high-water mark in KiB (``VmHWM``), or None where ``STATUS``
    is missing or has no such line."""
    try:
        with open(STATUS) as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rss")
    parser.add_argument("name", choices=sorted(CONTENDERS))
    parser.add_argument("--samples", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--sizes", required=True)
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    contender = CONTENDERS[args.name]
    with limit_threads(args.threads, torch=args.name == "torch eager", modules=contender.modules):
        X, y = teacher_data(args.samples, sizes[0], sizes[-1])
        contender(sizes, args.batch, X, y).epoch()
    print(json.dumps({"peak_rss_kib": own_peak_rss_kib()}))


if __name__ == "__main__":
    main()
