"""A GPU run's figures, from its raw epoch times: µs per step, samples/s, GEMM TFLOP/s, ratios, targets.

A configuration (network, batch) in the results JSON holds, per contender, ``epoch_seconds``
(the timed epochs of every block) and ``error`` (the text of a failure, or None). A step's time
is an epoch's time over the epoch's steps; figures are medians over the timed epochs, with the
fastest and slowest epoch beside them. Used by ``benchmarks.gpu`` (the table it prints) and
``benchmarks.gpu_report`` (the markdown).
"""

from __future__ import annotations

import statistics

from .gpu_contenders import EAGER, GRAPH, PYTORCH

# chainrule's samples/s over PyTorch eager's on the same GPU, from issue 6.
TARGETS = {("784-512-256-10", 128): 3.0, ("784-4096-4096-10", 8192): 0.95}


def step_figures(config: dict, name: str) -> dict | None:
    """Median, fastest and slowest µs per step, samples/s and GEMM TFLOP/s at the median; None when not measured."""
    entry = config.get("contenders", {}).get(name)
    if entry is None or entry["error"] is not None or not entry["epoch_seconds"]:
        return None
    per_step = [seconds / config["steps_per_epoch"] for seconds in entry["epoch_seconds"]]
    median = statistics.median(per_step)
    return {"median_us": median * 1e6, "low_us": min(per_step) * 1e6, "high_us": max(per_step) * 1e6,
            "samples_per_s": config["batch"] / median, "tflops": config["gemm_flops_per_step"] / median / 1e12,
            "epochs": len(per_step)}


def ratio_to_pytorch(config: dict, name: str) -> float | None:
    """The contender's median samples/s over PyTorch eager's; None when either was not measured."""
    ours, theirs = step_figures(config, name), step_figures(config, PYTORCH)
    if ours is None or theirs is None:
        return None
    return ours["samples_per_s"] / theirs["samples_per_s"]


def target_verdicts(configs) -> list:
    """For each configuration with a target: the wanted ratio and, per chainrule mode, its ratio and whether it meets it."""
    verdicts = []
    for config in configs:
        wanted = TARGETS.get((config["network"], config["batch"]))
        if wanted is None:
            continue
        modes = {}
        for name in (GRAPH, EAGER):
            ratio = ratio_to_pytorch(config, name)
            modes[name] = {"ratio": ratio, "met": None if ratio is None else ratio >= wanted}
        verdicts.append({"network": config["network"], "batch": config["batch"], "wanted": wanted, "modes": modes})
    return verdicts


def verdict_text(verdict: dict) -> str:
    """One sentence: the target and, per chainrule mode, met / not met with the measured ratio."""
    said = []
    for name, mode in verdict["modes"].items():
        if mode["ratio"] is None:
            said.append(f"{name}: not measured")
        else:
            said.append(f"{name}: {'met' if mode['met'] else 'not met'} ({mode['ratio']:.2f}×)")
    return (f"{verdict['network']} at batch {verdict['batch']}, target ≥ {verdict['wanted']:g}× PyTorch eager's "
            f"samples/s: " + "; ".join(said) + ".")


def failure_or_skip(config: dict, name: str | None = None) -> str | None:
    """Why there are no figures: the configuration was skipped or not reached, or the contender failed."""
    if config["status"] == "skipped":
        return f"skipped: {config['skip_reason']}"
    if config["status"] == "pending":
        return "not reached: the run ended before this configuration"
    entry = config["contenders"].get(name) if name is not None else None
    if entry is not None and entry["error"] is not None:
        return f"failed: {entry['error']}"
    return None


def table_rows(configs):
    """The rows of a results table: ``(config, contender or None, figures, ratio, reason)``.

    A skipped or unreached configuration is one row (contender None) with its reason; a
    contender without figures has its reason; otherwise ``figures`` and the ratio to PyTorch.
    """
    for config in configs:
        reason = failure_or_skip(config)
        if reason is not None:
            yield config, None, None, None, reason
            continue
        for name in config["contenders"]:
            figures = step_figures(config, name)
            if figures is None:
                yield config, name, None, None, failure_or_skip(config, name) or "no timed epoch"
            else:
                yield config, name, figures, ratio_to_pytorch(config, name), None


def times_cell(figures: dict) -> str:
    """µs per step as "median (fastest–slowest)"."""
    return f"{figures['median_us']:,.0f} ({figures['low_us']:,.0f}–{figures['high_us']:,.0f})"


def summary_lines(configs) -> list:
    """A plain-text table of every configuration and contender, then one line per target."""
    lines = [f"{'network':<18} {'batch':>5}  {'contender':<24} {'µs/step median (min–max)':>30} "
             f"{'samples/s':>11} {'TFLOP/s':>8} {'÷ PyTorch':>9}"]
    for config, name, figures, ratio, reason in table_rows(configs):
        head = f"{config['network']:<18} {config['batch']:>5}"
        if figures is None:
            lines.append(f"{head}  {reason}" if name is None else f"{head}  {name:<24} {reason}")
            continue
        lines.append(f"{head}  {name:<24} {times_cell(figures):>30} {figures['samples_per_s']:>11,.0f} "
                     f"{figures['tflops']:>8.2f} {'–' if ratio is None else f'{ratio:.2f}×':>9}")
    lines += [f"target: {verdict_text(verdict)}" for verdict in target_verdicts(configs)]
    return lines
