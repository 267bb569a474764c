"""``python -m benchmarks.gpu_report RESULTS.json``: the GPU section of docs/benchmarks.md from a GPU run.

The section sits between the marker comments ``<!-- gpu:begin -->`` and ``<!-- gpu:end -->``;
it replaces the text between them and leaves the rest of the file as it was, or is appended
at the end when the markers are absent. ``--out PATH`` writes another markdown file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from chainrule.io.atomic import atomic_open

from .gpu_contenders import PYTORCH
from .gpu_results import TARGETS, failure_or_skip, table_rows, target_verdicts, times_cell, verdict_text

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- gpu:begin -->", "<!-- gpu:end -->"
COMMAND = "python -m benchmarks.gpu"


def ordered(results: dict) -> list:
    """The configurations by network (in the plan's order), then batch: the order they are read in."""
    networks = list(results["plan"]["networks"])
    return sorted(results["configs"], key=lambda config: (networks.index(config["network"]), config["batch"]))


def machine_lines(results: dict) -> list:
    environment = results["environment"]
    device, smi = environment.get("device", {}), environment.get("nvidia_smi", {})
    described = [f"**{device.get('name', 'unknown')}**"]
    if "memory_gib" in device:
        described.append(f"{device['memory_gib']:.0f} GiB")
    if "compute_capability" in device:
        described.append(f"compute capability {device['compute_capability']}")
    if smi.get("clocks.max.sm"):
        described.append(f"max SM clock {smi['clocks.max.sm']}")
    if smi.get("power.limit"):
        described.append(f"power limit {smi['power.limit']}")
    drivers = []
    if smi.get("driver_version"):
        drivers.append(f"driver {smi['driver_version']}")
    if "cuda_driver_api" in device:
        drivers.append(f"CUDA driver API {device['cuda_driver_api']}, CUDA runtime {device['cuda_runtime']}")
    versions = ", ".join(f"{name} {version}" for name, version in environment.get("versions", {}).items())
    lines = [f"- device: {', '.join(described)}"]
    if drivers:
        lines.append(f"- {'; '.join(drivers)}")
    lines.append(f"- versions: {versions}")
    lines.append(f"- host: {environment.get('platform', 'unknown')}, {environment.get('cpu_count', '?')} logical CPUs")
    return lines + tf32_lines(environment.get("tf32", {}))


def tf32_lines(tf32: dict) -> list:
    """How TF32 was kept off, and the GEMM error that shows it."""
    lines = ["- TF32 off: `NVIDIA_TF32_OVERRIDE=0` (cuBLAS's and cuDNN's global switch, for every library "
             "in the process), `CUPY_TF32` and `TORCH_ALLOW_TF32_CUBLAS_OVERRIDE` unset, set before CuPy or "
             "PyTorch was loaded"]
    before = {name: value for name, value in tf32.get("environment", {}).get("before", {}).items() if value is not None}
    if before:
        lines[-1] += " (the run found " + ", ".join(f"`{name}={value}`" for name, value in before.items()) + ")"
    loaded = tf32.get("environment", {}).get("loaded_before")
    if loaded:
        lines[-1] += f"; **{', '.join(loaded)} had been loaded before the switch**"
    if tf32.get("torch"):
        lines.append("- PyTorch: " + ", ".join(f"`{name} = {value}`" for name, value in tf32["torch"].items()))
    errors = tf32.get("gemm_error", {})
    if errors:
        said = ", ".join(f"{name} {value:.1e}" if isinstance(value, float) else f"{name} {value}"
                         for name, value in errors.items())
        lines.append(f"- float32 1024² GEMM, largest error against float64 relative to the largest entry: {said} "
                     "(float32 gives ~1e-6, TF32 ~1e-3)")
    return lines


def method_lines(results: dict) -> list:
    plan = results["plan"]
    return [
        f"Every configuration runs in {plan['blocks']} blocks. In a block each contender in turn trains a fresh "
        f"network for 1 warm-up epoch and {plan['repeats']} timed epochs; the next block runs the contenders in "
        "reverse order (A B C D, then D C B A), so drift of the GPU's clocks falls on all alike. An epoch's time "
        "runs from the end of the previous epoch, after the GPU has finished its work, to the end of this one; "
        "the warm-up epoch (upload, kernel compilation, CUDA-graph capture) is not counted. A step's time is an "
        "epoch's over its steps; the table gives the median over all timed epochs with the fastest and slowest.",
        "",
        "- `chainrule (CUDA graph)` / `chainrule (eager)`: the real `cr.fit` loop, `device=\"cuda\"`, "
        "`graph=True` / `graph=False`, NumPy data uploaded by `fit` once per call and resident on the GPU, "
        "metrics read back once an epoch, `verbose=0`;",
        "- `PyTorch eager`: `nn.Sequential` of `Linear`/`ReLU`, `F.cross_entropy`, `torch.optim.SGD` "
        "(default foreach), tensors made once on the GPU, `torch.randperm` on the GPU and `index_select` per batch, "
        "`zero_grad(set_to_none=True)`, `torch.cuda.synchronize()` at each epoch's end;",
        "- `plain CuPy loop`: `benchmarks/numpy_mlp.py`'s loop (the CPU suite's NumPy floor) run by CuPy, data and "
        "permutation on the GPU, no metrics, no checks;",
        "- all: ReLU MLPs, softmax cross-entropy, SGD lr 0.01 momentum 0.9, float32, synthetic teacher-labelled "
        "data (`benchmarks/data.py`), every batch full (the rows are a whole number of batches).",
        "",
        "GEMM TFLOP/s counts the GEMMs a step executes (forward 2·B·in·out per layer, backward twice that, less "
        "the first layer's input gradient, which no contender computes) over the median step time. The issue's "
        "≈51 TFLOP/s for PyTorch at 19.2 ms counts that gradient too; without it, 19.2 ms is 48.5 TFLOP/s.",
    ]


def table_lines(configs) -> list:
    lines = ["| network | batch | rows (steps an epoch) | contender | µs/step median (min–max) | samples/s | GEMM TFLOP/s "
             "| samples/s ÷ PyTorch eager |",
             "|---|---:|---:|---|---:|---:|---:|---:|"]
    for config, name, figures, ratio, reason in table_rows(configs):
        head = f"| {config['network']} | {config['batch']} | {config['rows']:,} ({config['steps_per_epoch']})"
        if name is None:
            lines.append(f"{head} | all | {reason} | | | |")
        elif figures is None:
            lines.append(f"{head} | {name} | {reason} | – | – | – |")
        else:
            shown = "–" if ratio is None else f"{ratio:.2f}×"
            if (config["network"], config["batch"]) in TARGETS and name != PYTORCH and ratio is not None:
                shown = f"**{shown}**"
            lines.append(f"{head} | {name} | {times_cell(figures)} | {figures['samples_per_s']:,.0f} | "
                         f"{figures['tflops']:.2f} | {shown} |")
    return lines


def target_lines(configs) -> list:
    verdicts = target_verdicts(configs)
    if not verdicts:
        return ["No configuration of this run has a target (issue 6's are 784-512-256-10 at batch 128 and "
                "784-4096-4096-10 at batch 8192)."]
    return [f"- {verdict_text(verdict)}" for verdict in verdicts]


def command(results: dict) -> str:
    """The command line of the run, its options spelled out."""
    args = results["args"]
    words = [COMMAND, "--repeats", str(args["repeats"]), "--blocks", str(args["blocks"]),
             "--budget-seconds", f"{args['budget_seconds']:g}"]
    if args.get("smoke"):
        words.append("--smoke")
    if args.get("device", "cuda") != "cuda":
        words += ["--device", args["device"]]
    return " ".join(words)


def section(results: dict, results_name: str = "gpu_benchmark.json") -> str:
    """The markdown of the GPU section, markers included."""
    configs = ordered(results)
    device = results["environment"].get("device", {}).get("name", "unknown")
    skipped = [config for config in configs if config["status"] != "measured"]
    lines = [BEGIN, "## GPU (CUDA)", "",
             f"Training step time on one **{device}**, chainrule's CUDA loop side by side with PyTorch eager and a "
             "plain CuPy loop in one process (issue 6). Every number below comes from one run of "
             f"`{command(results)}` ({results.get('seconds', 0):.0f} s"
             + ("" if results.get("finished") else ", **cut short**")
             + f"), turned into this section by `python -m benchmarks.gpu_report {results_name}`.", "",
             "### Machine", ""] + machine_lines(results) + ["", "### Method", ""] + method_lines(results)
    lines += ["", "### Training step", "",
              "Lower µs/step is better; *÷ PyTorch eager* is the contender's samples/s over PyTorch's in the same "
              "configuration (bold where issue 6 sets a target).", ""] + table_lines(configs)
    if skipped:
        lines += ["", f"{len(skipped)} configuration(s) not measured: "
                  + "; ".join(f"{c['network']} batch {c['batch']} ({failure_or_skip(c)})" for c in skipped) + "."]
    lines += ["", "### Targets", ""] + target_lines(configs)
    lines += ["", "The issue's reference figures (PyTorch 2.11 eager on an H200: 920 µs a step at batch 128 on "
              "784-512-256-10, 19.2 ms at batch 8192 on 784-4096-4096-10; a plain CuPy loop 1,080 µs and 20.8 ms) "
              "were measured elsewhere; only ratios within one run are compared.", "",
              "### Reproduce", "", "```", "pip install -e '.[cuda,bench]'",
              f"{COMMAND}                # writes gpu_benchmark.json ($OUT/gpu_benchmark.json when OUT is set)",
              "python -m benchmarks.gpu_report gpu_benchmark.json", "```", "",
              "`--budget-seconds S` starts no configuration after S seconds (150 by default; the two with targets run "
              "first); `--repeats N` and `--blocks N` set the timed epochs; `--smoke` runs tiny sizes.", END]
    return "\n".join(lines)


def replace_section(text: str, new_section: str) -> str:
    """``text`` with its marked GPU section replaced by ``new_section``, or with it appended."""
    begin, end = text.find(BEGIN), text.find(END)
    if begin == -1 and end == -1:
        return (text.rstrip("\n") + "\n\n" if text.strip() else "") + new_section + "\n"
    if begin == -1 or end == -1 or end < begin:
        raise ValueError(f"expected both {BEGIN} and then {END}, or neither; found only one or them out of order")
    return text[:begin] + new_section + text[end + len(END):]


def write_section(results: dict, out: Path, results_name: str = "gpu_benchmark.json") -> None:
    """Put the GPU section into the markdown at ``out`` (a new file if there is none), atomically."""
    text = out.read_text() if out.exists() else ""
    with atomic_open(out, "w") as file:
        file.write(replace_section(text, section(results, results_name)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_report", description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the JSON that python -m benchmarks.gpu wrote")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="markdown to update")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    write_section(results, args.out, args.results.name)
    print(f"wrote the GPU section of {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
