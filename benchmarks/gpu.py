"""``python -m benchmarks.gpu``: chainrule's CUDA training step against PyTorch eager and a plain CuPy loop.

Issue 6's benchmark. The MLPs 784-512-256-10 and 784-4096-4096-10 (ReLU, softmax cross-entropy,
SGD lr 0.01 momentum 0.9, float32, TF32 off) train at batch 128, 1024 and 8192 on synthetic
teacher-labelled data resident on the GPU, every contender on the same GPU in one process
(``benchmarks.gpu_contenders``). Each configuration runs in blocks: in a block every contender
trains a fresh network for one warm-up epoch and ``--repeats`` timed epochs, one contender after
the other; the second block runs them in reverse order (A B C D, then D C B A), so drift of the
machine falls on all alike. A step's time is a timed epoch's time over its steps.

The two configurations with targets run first. ``--budget-seconds`` skips the configurations
not started when the run has taken that long (the JSON and the table say which). The results
JSON (``--json``; by default ``$OUT/gpu_benchmark.json`` when ``OUT`` is set, else
``gpu_benchmark.json`` here) is rewritten after every configuration, so a run cut short keeps
what it measured; ``python -m benchmarks.gpu_report RESULTS.json`` turns it into the section of
docs/benchmarks.md. ``--smoke`` runs tiny sizes; ``--device cpu`` runs the contenders that can
run on the CPU, to try the script on a machine without a GPU.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import traceback
from pathlib import Path

import numpy

from chainrule.io.atomic import atomic_open

from .data import teacher_data
from .gpu_contenders import GRAPH, gpu_contenders
from .gpu_environment import describe_gpu, gemm_errors, switch_off_tf32, torch_tf32_flags, versions
from .gpu_results import TARGETS, summary_lines
from .networks import gemm_flops

NETWORKS = {"784-512-256-10": (784, 512, 256, 10), "784-4096-4096-10": (784, 4096, 4096, 10)}
SMOKE_NETWORKS = {"16-32-8-4": (16, 32, 8, 4), "16-64-64-4": (16, 64, 64, 4)}
# Rows per configuration: at least min_rows, and at least min_steps full batches.
FULL = {"networks": NETWORKS, "batches": (128, 1024, 8192), "min_rows": 32768, "min_steps": 16}
SMOKE = {"networks": SMOKE_NETWORKS, "batches": (8, 32), "min_rows": 256, "min_steps": 4}

# For the printed estimate only: a step costs a fixed launch floor plus its GEMMs at this rate.
ASSUMED_GEMM_RATE = 50e12  # float32 FLOP/s of an H100/H200 without TF32
ASSUMED_STEP_FLOOR = {GRAPH: 0.25e-3}  # seconds; one CUDA-graph replay
ASSUMED_EAGER_STEP_FLOOR = 1.0e-3  # seconds; a step launched kernel by kernel from Python
ASSUMED_SETUP_SECONDS = 0.5  # per contender and block: a fresh network, the data upload
ASSUMED_START_SECONDS = 30.0  # imports, CUDA start, data, kernel compilation


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny networks and data (seconds)")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per contender and block (default 3)")
    parser.add_argument("--blocks", type=int, default=2, help="blocks per configuration, alternating order (default 2)")
    parser.add_argument("--budget-seconds", type=float, default=150.0,
                        help="start no configuration after this many seconds (default 150)")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda", help="cpu: try the script without a GPU")
    parser.add_argument("--json", type=Path, default=None, help="results path (default $OUT/gpu_benchmark.json)")
    args = parser.parse_args(argv)
    if args.json is None:
        args.json = Path(os.environ["OUT"]) / "gpu_benchmark.json" if os.environ.get("OUT") else Path("gpu_benchmark.json")
    return args


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def configurations(plan) -> list:
    """Every (network, batch) with its data size and GEMM work; the ones with targets first."""
    configs = []
    for network, sizes in plan["networks"].items():
        for batch in plan["batches"]:
            steps = max(plan["min_steps"], -(-plan["min_rows"] // batch))
            configs.append({"network": network, "sizes": list(sizes), "batch": batch, "rows": steps * batch,
                            "steps_per_epoch": steps, "gemm_flops_per_step": gemm_flops(sizes, batch),
                            "status": "pending", "contenders": {}})
    return sorted(configs, key=lambda config: (config["network"], config["batch"]) not in TARGETS)


def estimated_seconds(config: dict, names, epochs_per_block: int, blocks: int) -> float:
    """A rough wall time of one configuration, from the assumed launch floors and GEMM rate."""
    gemm_seconds = config["gemm_flops_per_step"] / ASSUMED_GEMM_RATE
    total = 0.0
    for name in names:
        step = ASSUMED_STEP_FLOOR.get(name, ASSUMED_EAGER_STEP_FLOOR) + gemm_seconds
        total += blocks * (epochs_per_block * config["steps_per_epoch"] * step + ASSUMED_SETUP_SECONDS)
    return total


def failure(error: BaseException) -> dict:
    return {"error": f"{type(error).__name__}: {error}".strip(), "traceback": traceback.format_exc()[-3000:]}


def release_device_memory() -> None:
    """Hand the memory the contenders cached back to the device, between configurations."""
    gc.collect()
    if "cupy" in sys.modules:
        sys.modules["cupy"].get_default_memory_pool().free_all_blocks()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def measure(config: dict, makers: dict, X, y, args) -> None:
    """Fill ``config["contenders"]``: the timed epochs of every contender over the blocks, or its failure."""
    entries = {name: {"epoch_seconds": [], "error": None, "traceback": None} for name in makers}
    config["contenders"] = entries
    contenders = {}
    X, y = X[:config["rows"]], y[:config["rows"]]
    for name, make in makers.items():
        try:
            contenders[name] = make(config["sizes"], config["batch"], X, y)
        except Exception as error:  # one contender's failure is reported, the others still run
            entries[name].update(failure(error))
    epochs = args.repeats + 1
    for block in range(args.blocks):
        order = list(contenders) if block % 2 == 0 else list(reversed(contenders))
        for name in order:
            if entries[name]["error"] is not None:
                continue
            try:
                stamps = contenders[name].train(epochs, seed=block)
                if len(stamps) != epochs:
                    raise RuntimeError(f"{len(stamps)} epochs ended of the {epochs} asked for")
                entries[name]["epoch_seconds"] += [float(seconds) for seconds in numpy.diff(stamps)]
            except Exception as error:
                entries[name].update(failure(error))
                log(f"  {name} failed: {entries[name]['error']}")
    config["status"] = "measured"
    del contenders
    release_device_memory()


def write_json(results: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "w") as file:
        json.dump(results, file, indent=1)


def main(argv=None) -> int:
    args = parse(argv)
    tf32 = switch_off_tf32()  # before anything loads CuPy or PyTorch
    started = time.perf_counter()
    from chainrule.backend import cuda_available

    if args.device == "cuda" and not cuda_available():
        print("benchmarks.gpu: no CUDA device (CuPy missing or sees no GPU); --device cpu tries the script without one",
              file=sys.stderr)
        return 2
    plan = SMOKE if args.smoke else FULL
    makers = gpu_contenders(args.device)
    configs = configurations(plan)
    estimates = [estimated_seconds(config, makers, args.repeats + 1, args.blocks) for config in configs]
    estimate = ASSUMED_START_SECONDS + sum(estimates)
    log(f"{len(configs)} configurations × {len(makers)} contenders ({', '.join(makers)}), "
        f"{args.blocks} blocks × (1 warm-up + {args.repeats} timed epochs); estimated {estimate:.0f} s "
        f"on an H100/H200, budget {args.budget_seconds:g} s; results to {args.json}")
    results = {"args": {**vars(args), "json": str(args.json)}, "device": args.device,
               "plan": {"networks": {name: list(sizes) for name, sizes in plan["networks"].items()},
                        "batches": list(plan["batches"]), "repeats": args.repeats, "blocks": args.blocks,
                        "budget_seconds": args.budget_seconds, "estimated_seconds": estimate},
               "environment": describe_gpu(), "configs": configs, "finished": False}
    environment = results["environment"]
    environment["tf32"] = {"environment": tf32}
    if args.device == "cuda":
        environment["tf32"]["gemm_error"] = gemm_errors()
        log(f"device {environment['device']['name']}; float32 GEMM error against float64 "
            f"(TF32 would be ~1e-3): {environment['tf32']['gemm_error']}")
    else:
        environment["device"] = {"name": "cpu (--device cpu: a try of the script, not a GPU benchmark)"}
    n_rows = max(config["rows"] for config in configs)
    n_features, n_classes = configs[0]["sizes"][0], configs[0]["sizes"][-1]
    X, y = teacher_data(n_rows, n_features, n_classes)
    write_json(results, args.json)
    for config, guess in zip(configs, estimates):
        elapsed = time.perf_counter() - started
        if elapsed > args.budget_seconds:
            config["status"] = "skipped"
            config["skip_reason"] = f"the time budget of {args.budget_seconds:g} s had passed ({elapsed:.0f} s elapsed)"
            log(f"skipping {config['network']} batch {config['batch']}: {config['skip_reason']}")
            continue
        log(f"{config['network']} batch {config['batch']}: {config['rows']} rows, "
            f"{config['steps_per_epoch']} steps an epoch (estimated {guess:.0f} s)")
        measure(config, makers, X, y, args)
        results["seconds"] = time.perf_counter() - started
        write_json(results, args.json)
    environment["tf32"]["torch"] = torch_tf32_flags()
    environment["versions"] = versions()  # now with every library the contenders loaded
    results["seconds"] = time.perf_counter() - started
    results["finished"] = True
    write_json(results, args.json)
    print("\n".join(summary_lines(configs)))
    log(f"done in {results['seconds']:.0f} s (estimated {estimate:.0f} s); wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
