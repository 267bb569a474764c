"""Writing the results: docs/benchmarks.md (tables), docs/images/benchmarks.png (plot) and
docs/data/cpu_benchmark.json (every timed epoch, in the order they ran), atomically.

``python -m benchmarks.report RESULTS.json [--out PATH]`` writes the tables and the plot
again from a run's JSON, so every number in the report can be recomputed from its samples.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

from chainrule.io.atomic import atomic_open

from .gpu_report import BEGIN as GPU_BEGIN, END as GPU_END
from .timing import Rate

# chainrule's throughput over each contender's, from issue 5; None: no target (shown for reference).
TARGETS = {"torch eager": {32: 1.3, 128: 1.3, 1024: 1.15}, "sklearn f32": 1.6, "sklearn f64": 3.0}
ROOFLINE_TARGET = 0.90  # at batch 1024


def target(name: str, batch: int):
    wanted = TARGETS.get(name)
    return wanted.get(batch) if isinstance(wanted, dict) else wanted


def rate_cell(rate) -> str:
    return f"{rate.median:,.0f} ({rate.low:,.0f}–{rate.high:,.0f})"


def verdict(speedup: float, wanted, fastest: float | None = None) -> str:
    """What a chainrule/contender throughput ratio of medians means, said plainly where chainrule
    loses; where the median misses a target, ``fastest`` (the ratio of the fastest epochs) says
    whether chainrule's best reaches it."""
    if speedup < 1:
        said = f"**chainrule loses** ({1 / speedup:.2f}× slower)"
    else:
        said = "chainrule wins"
    if wanted is None:
        return said
    if speedup >= wanted:
        return said + "; meets target"
    said += f"; **misses target ≥ {wanted:g}×**"
    if fastest is not None and fastest >= wanted:
        said += " by the median, meets it by the fastest epochs"
    return said


def training_table(entries) -> list:
    lines = ["| network | batch | contender | samples/s median (min–max) | chainrule ÷ contender | "
             "fastest ÷ fastest | target | result |",
             "|---|---:|---|---:|---:|---:|---:|---|"]
    for entry in entries:
        ours = entry["rates"]["chainrule"]
        for name, rate in entry["rates"].items():
            if name == "chainrule":
                lines.append(f"| {entry['network']} | {entry['batch']} | chainrule | {rate_cell(rate)} | 1.00× | 1.00× | | |")
                continue
            wanted, speedup, fastest = target(name, entry["batch"]), ours.median / rate.median, ours.high / rate.high
            lines.append(f"| {entry['network']} | {entry['batch']} | {name} | {rate_cell(rate)} | {speedup:.2f}× | "
                         f"{fastest:.2f}× | {'' if wanted is None else f'≥ {wanted:g}×'} | "
                         f"{verdict(speedup, wanted, fastest)} |")
    return lines


def roofline_table(entries, names) -> list:
    head = " | ".join(f"{name} GFLOP/s (% of ceiling)" for name in names)
    with_torch = any("torch_gemm_seconds" in entry for entry in entries)  # not in runs before 2026-11-28
    torch_head = " torch.mm ÷ NumPy GEMM time |" if with_torch else ""
    lines = [f"| network | batch | GEMM GFLOP per step | NumPy GEMM ceiling GFLOP/s | {head} |{torch_head}",
             "|---|---:|---:|---:|" + "---:|" * (len(names) + with_torch)]
    for entry in entries:
        first = next(iter(entry["roofline"].values()))
        cells = []
        for name in names:
            point = entry["roofline"].get(name)
            if point is None:
                cells.append("–")
                continue
            flag = " **below 90 % target**" if name == "chainrule" and entry["batch"] >= 1024 and point["share"] < ROOFLINE_TARGET else ""
            cells.append(f"{point['step_rate'] / 1e9:.1f} ({100 * point['share']:.0f} %){flag}")
        if with_torch:
            torch_seconds = entry.get("torch_gemm_seconds")
            cells.append("–" if torch_seconds is None else f"{torch_seconds / entry['numpy_gemm_seconds']:.2f}")
        lines.append(f"| {entry['network']} | {entry['batch']} | {first['flops'] / 1e9:.4f} | "
                     f"{first['gemm_rate'] / 1e9:.1f} | " + " | ".join(cells) + " |")
    return lines


def torch_gemm_lines(entries) -> list:
    """What the roofline's last column says, when the run measured PyTorch's products."""
    if not any("torch_gemm_seconds" in entry for entry in entries):
        return []
    return ["*torch.mm ÷ NumPy GEMM time*: the same GEMMs timed with PyTorch's own `torch.mm` (oneDNN or MKL, in "
            "`nn.Linear`'s layouts: W stored (out, in)) over NumPy's (OpenBLAS) time for them. Below 1.00, "
            "PyTorch's products are faster on this machine. As the GEMMs become most of both steps (the larger "
            "batches), chainrule's speed over PyTorch's tends to the inverse of this ratio, whatever the loop "
            "around them does (docs/cpu_speed.md).", ""]


def step_budget_table(entries) -> list:
    """Where a median step's time goes against PyTorch, for the runs that timed ``torch.mm``.

    With G the step's GEMMs back to back in NumPy, a step of chainrule meets a target r against
    PyTorch's step T when it spends at most T / r − G beyond G: the budget for everything that is
    not a product (gather, bias, activations, loss, metrics, optimizer, Python) and for the
    products running slower inside the loop than back to back.
    """
    rows = [entry for entry in entries if "torch_gemm_seconds" in entry and "torch eager" in entry["roofline"]]
    if not rows:
        return []
    lines = ["## Where the step's time goes", "",
             "Milliseconds per training step by the medians above (the roofline's step times: a full batch's "
             "share of the epoch). *NumPy GEMMs* "
             "and *torch.mm* are the step's products alone, back to back, from the roofline; *beyond* is a step's "
             "time over its "
             "own library's products. *Budget for the target* is what chainrule may spend beyond NumPy's "
             "products and still reach the target against PyTorch's median step: PyTorch's step ÷ target − "
             "NumPy GEMMs. Where chainrule spends more, the target cannot be met without a cheaper rest "
             "of the step; a budget of none means NumPy's products alone are too slow for it.", "",
             "| network | batch | NumPy GEMMs | torch.mm | chainrule step (beyond) | torch step (beyond) | "
             "budget for the target | chainrule's rest within it |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for entry in rows:
        batch, gemms, torch_gemms = entry["batch"], entry["numpy_gemm_seconds"], entry["torch_gemm_seconds"]
        ours, theirs = (entry["roofline"][name]["flops"] / entry["roofline"][name]["step_rate"]
                        for name in ("chainrule", "torch eager"))
        budget_cell, within = budget_cells(ours - gemms, theirs, gemms, target("torch eager", batch))
        lines.append(f"| {entry['network']} | {batch} | {1e3 * gemms:.2f} | {1e3 * torch_gemms:.2f} | "
                     f"{1e3 * ours:.2f} ({1e3 * (ours - gemms):.2f}) | {1e3 * theirs:.2f} "
                     f"({1e3 * (theirs - torch_gemms):.2f}) | {budget_cell} | {within} |")
    return lines + [""]


def budget_cells(rest: float, theirs: float, gemms: float, wanted) -> tuple[str, str]:
    """The budget PyTorch's step ``theirs`` leaves beyond NumPy's products ``gemms`` for a target
    ``wanted`` (None: no target at this batch size), and whether chainrule's ``rest`` fits in it."""
    if wanted is None:
        return "–", "no target at this batch size"
    budget = theirs / wanted - gemms
    if budget <= 0:
        return "none", "none: unreachable from these products"
    return f"{1e3 * budget:.2f}", "yes" if rest <= budget else f"no, {1e3 * (rest - budget):.2f} ms over"


def inference_table(entries) -> list:
    lines = ["| network | batch | contender | samples/s median (min–max) | chainrule ÷ contender | result |",
             "|---|---:|---|---:|---:|---|"]
    for entry in entries:
        ours = entry["rates"]["chainrule"].median
        for name, rate in entry["rates"].items():
            speedup = ours / rate.median
            result = "" if name == "chainrule" else verdict(speedup, None)
            lines.append(f"| {entry['network']} | {entry['batch']} | {name} | {rate_cell(rate)} | {speedup:.2f}× | {result} |")
    return lines


def rss_table(rss) -> list:
    """The peak RSS rows; a dash where a process could not measure its own (None: no VmHWM)."""
    lines = ["| contender | peak RSS MiB | result |", "|---|---:|---|"]
    torch_mib = rss["mib"].get("torch eager")
    for name, mib in rss["mib"].items():
        result = ""
        if name == "chainrule" and mib is not None and torch_mib is not None:
            result = "≤ torch: meets target" if mib <= torch_mib else "**more than torch: misses target**"
        lines.append(f"| {name} | {'–' if mib is None else f'{mib:.0f}'} | {result} |")
    return lines


def thread_limit(env) -> str:
    """How the thread count was applied, said from the pools as they were after training."""
    other = [f"{pool['library']} `{pool['prefix']}` at {pool['threads']}"
             for pool in env["pools"] if pool["threads"] != env["threads"]]
    if not other:
        return "threadpoolctl limits on every pool, `torch.set_num_threads`"
    return "threadpoolctl limits, `torch.set_num_threads`; **not limited**: " + ", ".join(other)


def environment_lines(env, square) -> list:
    versions = ", ".join(f"{name} {version}" for name, version in env["versions"].items())
    load = "unknown" if env.get("load") is None else ", ".join(f"{value:.2f}" for value in env["load"])
    lines = [f"- CPU: {env['cpu']} ({env['cores']} logical cores), {env['platform']}",
             f"- threads per contender: {env['threads']} ({thread_limit(env)})",
             f"- versions: {versions}",
             f"- load average (1, 5, 15 min) after training: {load} (a load above {env['threads']} means other processes shared the cores)",
             f"- NumPy float32 {square['n']}³ GEMM: {square['rate'] / 1e9:.1f} GFLOP/s",
             f"- environment variables: {env['env'] or 'none of OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE, OMP_NUM_THREADS set'}",
             "- native thread pools (threadpoolctl):", ""]
    lines += ["  | library | kernel | threads | version | path |", "  |---|---|---:|---|---|"]
    lines += [f"  | {p['library']} | {p['kernel']} | {p['threads']} | {p['version']} | `{p['prefix']}` |" for p in env["pools"]]
    return lines


def method_caveats(results) -> list:
    """How chainrule's bar and scikit-learn's epochs were run: what this suite does, or, for the
    JSON of a run made before (runs 1-11, without the keys), what that run did."""
    if results.get("progress_bar_drawn"):
        bar = ("the tqdm progress bar (verbose=1), drawn into a null stream that says it is a terminal, so "
               "tqdm formats and writes it as on a console")
    else:
        bar = ("verbose=1; its stderr was a null stream, which is no terminal, so this run drew no progress "
               "bar (runs 1–11 were timed without it; the suite draws it since, see cpu_speed.md for its cost)")
    if results.get("sklearn_partial_fit"):
        sklearn = ("- scikit-learn runs `partial_fit` per epoch (one epoch per call; its SGD momentum carries "
                   "over and each epoch draws a new shuffle), so its per-call validation is counted too; it "
                   "computes its own loss per epoch.")
    else:
        sklearn = ("- scikit-learn runs `fit` with `warm_start=True, max_iter=1` per epoch, so its per-call "
                   "validation is counted too; it computes its own loss per epoch. Each call made a new "
                   "optimizer (momentum restarted at 0) and re-seeded the shuffle (epochs after the first "
                   "repeated one order); the work per epoch is that of `partial_fit`, which the suite runs since.")
    return [f"- chainrule runs its full `cr.fit` loop each epoch (`epochs=1`, a new seed per call): input "
            f"checks, shuffling, metrics, gradient-norm records, the divergence guard, {bar}. Its per-call "
            "setup is counted in its time.", sklearn]


def markdown(results, image_name: str) -> str:
    args = results["args"]
    names = list(results["training"][0]["rates"]) if results["training"] else []
    roofline_names = [name for name in ("chainrule", "numpy loop", "torch eager") if name in names]
    command = "python -m benchmarks" + (" --smoke" if args["smoke"] else "") + \
        f" --repeats {args['repeats']} --samples {args['samples']} --threads {args['threads']}"
    parts = [
        "# Benchmarks: chainrule on the CPU against NumPy, PyTorch and scikit-learn", "",
        "Generated by `python -m benchmarks`; every number below comes from one run of:", "",
        f"```\n{command}\n```", "",
        f"(about {results['seconds'] / 60:.1f} minutes). Synthetic float32 data, {args['samples']} × "
        f"{results['training'][0]['sizes'][0]} labelled by a fixed random teacher network "
        "(`benchmarks/data.py`), ReLU MLPs (chainrule, the numpy loop and PyTorch start from the same weights, "
        "He normal with zero biases; scikit-learn from its own Glorot-uniform draw), softmax cross-entropy, "
        "SGD lr 0.01 momentum 0.9 (PyTorch's v ← μv + g, θ ← θ − ηv, or its equivalent), "
        f"one epoch per timed sample; each contender gets one untimed warm-up epoch, then {args['repeats']} "
        "timed epoch(s), contenders alternating epoch by epoch (A B C … A B C) in one process, with an "
        f"untimed pause of {args.get('pause', 0):g} s before each timed call (thread pools keep spinning after "
        "their work, PyTorch's OpenMP threads for up to 200 ms, and would share the cores with the next "
        "contender).", "",
        "## Machine", "", *environment_lines(results["environment"], results["square_gemm"]), "",
        "## Training throughput", "",
        "Higher is better. *chainrule ÷ contender* is chainrule's median samples/s over the contender's; "
        "*fastest ÷ fastest* is chainrule's fastest epoch over the contender's fastest: on a shared "
        "machine noise only ever slows an epoch down, so the fastest is the least disturbed (the "
        "convention of Python's `timeit`), while the median shows what a run met. Targets are issue 5's, "
        "judged on the median; the scikit-learn ones are applied at every batch size (the issue measured "
        "scikit-learn at batch 128 only).", "",
        *training_table(results["training"]), "",
        f"![training throughput]({image_name})", "",
        "## Roofline", "",
        "Executed GEMM FLOPs per training step (forward 2·B·in·out per layer, backward twice that, "
        "less the first layer's input gradient) over the median step time (a full batch's share of the "
        "median epoch, so that a last, partial batch counts as the part of a step it is), against NumPy's "
        "float32 throughput on exactly those GEMMs with the same layouts run back to back (the ceiling: "
        "the fastest of 7 timings). "
        "Target: chainrule ≥ 90 % at batch 1024.", "",
        *roofline_table(results["training"], roofline_names), "",
        *torch_gemm_lines(results["training"]),
        *step_budget_table(results["training"]),
        "## Inference", "",
        "Samples/s of a forward pass (no gradients): batch 1 is latency, the large batch throughput. "
        "chainrule is `model.forward`; torch runs under `torch.inference_mode()`; onnxruntime runs "
        "chainrule's own ONNX export; all hold the same weights and return the same logits.", "",
        *inference_table(results["inference"]), "",
        "## Peak memory", "",
        f"Peak RSS of a fresh process per contender (`python -m benchmarks.rss`: make the data, build the "
        f"contender, train one epoch of {results['rss']['network']} at batch {results['rss']['batch']}, "
        "then read its own `VmHWM` from `/proc/self/status`, a dash where there is none; `ru_maxrss` "
        "would carry the parent's peak across `exec`). The processes run concurrently. It includes the "
        "interpreter, the imported "
        "libraries and the data set, the same for all (sklearn f64 also holds a float64 copy).", "",
        *rss_table(results["rss"]), "",
        "## Caveats", "",
        "- Identical runs on a shared 2-core machine vary by up to 3×; only ratios from one run, with "
        "contenders alternating, are comparable. Medians are of the timed epochs; min–max shows the spread.",
        *method_caveats(results),
        "- The numpy loop is a plain loop without metrics or checks: a floor, not a target.",
        "- Thread pools are limited with threadpoolctl; results depend on the BLAS kernel listed above "
        "(OpenBLAS picks it per CPU unless OPENBLAS_CORETYPE forces one).", "",
        "## Reproduce", "",
        "```\npip install -e '.[bench,onnx]'\nenv -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE " + command + "\n```", "",
        "`--smoke` runs tiny sizes in seconds (what the test suite runs) and writes its page to "
        "`chainrule-benchmarks-smoke/benchmarks.md` in the temporary directory (`/tmp` on Linux), not here; "
        "`--out PATH` writes elsewhere. Every timed "
        "epoch's samples/s, in the order the epochs ran, is in `data/cpu_benchmark.json` beside this page; "
        "`python -m benchmarks.report docs/data/cpu_benchmark.json` writes these tables and the plot again "
        "from it.", "",
    ]
    return "\n".join(parts)


def plot(results) -> bytes:
    """The PNG of the training table: drawn on a Figure with the Agg canvas, as chainrule.plots
    draws, so that pyplot's backend and figures (a notebook's, say) are left alone."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    entries = results["training"]
    names = list(entries[0]["rates"])
    figure = Figure(figsize=(max(6, 1.6 * len(entries)), 4))
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        medians = [e["rates"][name].median for e in entries]
        below = [e["rates"][name].median - e["rates"][name].low for e in entries]
        above = [e["rates"][name].high - e["rates"][name].median for e in entries]
        axes.bar([j + i * width for j in range(len(entries))], medians, width, yerr=[below, above], label=name, capsize=2)
    axes.set_xticks([j + 0.4 - width / 2 for j in range(len(entries))])
    axes.set_xticklabels([f"{e['network']}\nbatch {e['batch']}" for e in entries], fontsize=8)
    axes.set_ylabel("training samples/s (median, min–max)")
    axes.legend(fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def to_json(results) -> str:
    """The results as JSON text: each contender's Rate as ``{"samples": [samples/s, ...]}``."""
    def encode(value):
        if isinstance(value, Rate):
            return {"samples": value.samples}
        if isinstance(value, Path):
            return str(value)
        raise TypeError(f"cannot write {type(value).__name__} to the results JSON")
    return json.dumps(results, default=encode, indent=1)


def from_json(text: str) -> dict:
    """Results read back from ``to_json``'s text, with the Rates restored."""
    return json.loads(text, object_hook=lambda entry: Rate(entry["samples"]) if set(entry) == {"samples"} else entry)


def write_report(results, out, *, write_data: bool = True) -> tuple[Path, Path]:
    """Write the markdown to ``out``, the plot to ``images/benchmarks.png`` and (with
    ``write_data``) the results to ``data/cpu_benchmark.json`` beside it; returns the paths of
    the plot and the results. Re-rendering a saved run passes ``write_data=False``, so that
    no run's JSON is replaced by another's."""
    out = Path(out)
    data = out.parent / "data" / "cpu_benchmark.json"
    if write_data:
        data.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(data, "w") as file:
            file.write(to_json(results))
    image = out.parent / "images" / "benchmarks.png"
    image.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(image, "wb") as file:
        file.write(plot(results))
    text = markdown(results, "images/benchmarks.png")
    if out.exists():
        text = keep_gpu_section(out.read_text(), text)
    with atomic_open(out, "w") as file:
        file.write(text)
    return image, data


def keep_gpu_section(old: str, new: str) -> str:
    """``new`` with the GPU section of ``old`` (written by benchmarks.gpu_report) appended, if it had one."""
    begin, end = old.find(GPU_BEGIN), old.find(GPU_END)
    if begin == -1 or end < begin:
        return new
    return new.rstrip("\n") + "\n\n" + old[begin:end + len(GPU_END)] + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report",
                                     description="Write docs/benchmarks.md and its plot again from a run's JSON.")
    parser.add_argument("results", type=Path, help="the JSON a run wrote (docs/data/cpu_benchmark.json)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md",
                        help="markdown report path (default docs/benchmarks.md)")
    args = parser.parse_args(argv)
    results = from_json(args.results.read_text())
    write_report(results, args.out, write_data=False)  # the JSON read is the record; nothing else is replaced
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
