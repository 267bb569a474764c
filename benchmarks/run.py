"""``python -m benchmarks``: measure, then write docs/benchmarks.md and docs/images/benchmarks.png.

Options: ``--smoke`` (tiny sizes, one repeat, seconds: what CI runs), ``--repeats N`` timed
epochs per contender after one warm-up epoch, ``--samples N`` training rows (60000 by
default; at least the largest batch, 4096, or 64 with ``--smoke``), ``--threads N`` for every
contender (2 by default), ``--out PATH`` for the markdown (the plot goes to
``images/benchmarks.png`` and the run's JSON to ``data/cpu_benchmark.json`` beside it;
docs/benchmarks.md by default, ``SMOKE_OUT`` in the temporary directory with ``--smoke``, so
that a smoke run replaces no published page), ``--no-torch``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from .contenders import torch_available, training_contenders
from .data import teacher_data
from .environment import describe
from .inference import batches_runner, inference_contenders
from .networks import NETWORKS, SMOKE_NETWORKS
from .report import write_report
from .roofline import gemm_step_seconds, roofline, square_gemm_rate
from .rss import peak_rss_mib
from .threads import limit_threads
from .timing import PAUSE_SECONDS, alternate

ROOT = Path(__file__).resolve().parent.parent
FULL = {"networks": NETWORKS, "batches": (32, 128, 1024), "inference_batches": (1, 4096),
        "inference_rows": {1: 2000, 4096: 8 * 4096}, "square": 2048, "rss_batch": 128,
        "pause": PAUSE_SECONDS}
SMOKE = {"networks": SMOKE_NETWORKS, "batches": (8, 32), "inference_batches": (1, 64),
         "inference_rows": {1: 50, 64: 256}, "square": 128, "rss_batch": 32,
         "pause": 0.0}
SMOKE_OUT = Path(tempfile.gettempdir()) / "chainrule-benchmarks-smoke" / "benchmarks.md"


def largest_batch(plan) -> int:
    """The most rows one training or inference batch of ``plan`` takes from the data set."""
    return max(*plan["batches"], *plan["inference_batches"])


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and one repeat (seconds)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed epochs per contender, at least 1 (default 3, smoke 1)")
    parser.add_argument("--samples", type=int, default=None,
                        help=f"training rows (default 60000, smoke 256), at least the largest batch: "
                             f"{largest_batch(FULL)} (smoke {largest_batch(SMOKE)})")
    parser.add_argument("--threads", type=int, default=2, help="threads for every contender, at least 1 (default 2)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"markdown report path (default docs/benchmarks.md; with --smoke {SMOKE_OUT})")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when installed")
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else FULL
    if args.repeats is None:
        args.repeats = 1 if args.smoke else 3
    if args.samples is None:
        args.samples = 256 if args.smoke else 60000
    if args.out is None:
        args.out = SMOKE_OUT if args.smoke else ROOT / "docs" / "benchmarks.md"
    smoke = " with --smoke" if args.smoke else ""
    for option, value, least, why in (("--repeats", args.repeats, 1, ""), ("--threads", args.threads, 1, ""),
                                      ("--samples", args.samples, largest_batch(plan), f" (the largest batch{smoke})")):
        if value < least:
            parser.error(f"argument {option}: must be at least {least}{why}, got {value}")
    return args


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def measure_training(plan, args, X, y) -> list:
    """Alternating epochs of every contender, per network and batch size."""
    results = []
    for network, sizes in plan["networks"].items():
        for batch in plan["batches"]:
            contenders = [cls(sizes, batch, X, y) for cls in training_contenders(not args.no_torch)]
            log(f"training {network} batch {batch}: {', '.join(c.name for c in contenders)}")
            rates = alternate({c.name: c.epoch for c in contenders}, len(X), args.repeats, pause=plan["pause"])
            # NumPy's GEMMs alone (the ceiling), and PyTorch's own on the same shapes, in turn
            gemm = gemm_step_seconds(sizes, batch, 0.02 if args.smoke else 0.1, with_torch="torch eager" in rates,
                                     pause=plan["pause"])
            rooflines = {name: roofline(sizes, batch, rate.median, gemm["numpy"])
                         for name, rate in rates.items()}
            results.append({"network": network, "sizes": sizes, "batch": batch, "rates": rates, "roofline": rooflines})
            if "torch" in gemm:
                results[-1]["torch_gemm_seconds"], results[-1]["numpy_gemm_seconds"] = gemm["torch"], gemm["numpy"]
            log("  " + ", ".join(f"{name} {rate.median:,.0f}/s" for name, rate in rates.items()))
    return results


def measure_inference(plan, args, X) -> list:
    results = []
    makers = inference_contenders(not args.no_torch)
    for network, sizes in plan["networks"].items():
        for batch in plan["inference_batches"]:
            n_rows = plan["inference_rows"][batch]
            runs = {name: batches_runner(make(sizes, args.threads), X, batch, n_rows // batch)
                    for name, make in makers.items()}
            log(f"inference {network} batch {batch}: {', '.join(runs)}")
            results.append({"network": network, "batch": batch,
                            "rates": alternate(runs, n_rows, args.repeats, pause=plan["pause"])})
    return results


def measure_rss(plan, args) -> dict:
    network, sizes = next(iter(plan["networks"].items()))
    batch = plan["rss_batch"]
    log(f"peak RSS {network} batch {batch}, one process per contender")
    names = [cls.name for cls in training_contenders(not args.no_torch)]
    return {"network": network, "batch": batch,
            "mib": peak_rss_mib(names, sizes, batch, args.samples, args.threads, cwd=ROOT)}


def main(argv=None) -> int:
    args = parse(argv)
    plan = SMOKE if args.smoke else FULL
    modules = [module for cls in training_contenders(not args.no_torch) for module in cls.modules]
    with limit_threads(args.threads, torch=not args.no_torch and torch_available(), modules=modules):
        started = time.perf_counter()
        sizes = next(iter(plan["networks"].values()))
        X, y = teacher_data(args.samples, sizes[0], sizes[-1])
        results = {"args": {**vars(args), "pause": plan["pause"]}, "progress_bar_drawn": True,
                   "sklearn_partial_fit": True, "training": measure_training(plan, args, X, y)}
        results["environment"] = describe(args.threads)  # after training: every pool is loaded by now
        results["square_gemm"] = {"n": plan["square"],
                                  "rate": square_gemm_rate(plan["square"], 0.05 if args.smoke else 0.3)}
        results["inference"] = measure_inference(plan, args, X)
        results["rss"] = measure_rss(plan, args)
        results["seconds"] = time.perf_counter() - started
    image, data = write_report(results, args.out)
    log(f"wrote {args.out}, {image} and {data} in {results['seconds']:.0f} s")
    return 0
