"""The roofline: how close a training step comes to the GEMM throughput NumPy reaches at its shapes.

A step's executed GEMM FLOPs (``networks.gemm_flops``) over its measured time is the step's
GEMM throughput; NumPy's float32 throughput on exactly those GEMMs, with the same operand
layouts (transposes as views), run back to back with nothing else, is the ceiling. Their
ratio is the share of the step spent at the machine's GEMM speed.

PyTorch multiplies with its own GEMM library (oneDNN or MKL), not NumPy's OpenBLAS, so the
same GEMMs are also timed with ``torch.mm`` in ``nn.Linear``'s layouts: their time over
NumPy's is the part of PyTorch's step that no loop around NumPy's products can win back.
Below 1, PyTorch's products are the faster ones on this machine.
"""

from __future__ import annotations

import time

import numpy

from .networks import gemm_flops, gemm_shapes


def _operands(shapes, rng):
    """For each GEMM, the operands laid out as a training step has them."""
    def rand(*shape):
        return rng.standard_normal(shape, dtype=numpy.float32)

    pairs = []
    for kind, m, k, n in shapes:
        if kind == "forward":  # X (B, in) @ W (in, out)
            pairs.append((rand(m, k), rand(k, n)))
        elif kind == "dW":  # Xᵀ: a transposed view of X (B, in), times dZ (B, out)
            pairs.append((rand(k, m).T, rand(k, n)))
        else:  # dZ (B, out) @ Wᵀ: a transposed view of W (in, out)
            pairs.append((rand(m, k), rand(n, k).T))
    return pairs


def _seconds_per_call(run, min_seconds: float) -> float:
    """Mean seconds of one call of ``run``, repeated for at least ``min_seconds``."""
    count, start = 0, time.perf_counter()
    while True:
        run()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / count


def _best_seconds(runs: dict, min_seconds: float, rounds: int = 7, pause: float = 0.0) -> dict:
    """The fastest of ``rounds`` timings of each of ``runs`` (name -> callable), taken in turn
    round by round (A B A B …) so that the machine's drift reaches each alike, with ``pause``
    idle seconds before each timing (PyTorch's threads spin on after its work: see timing.py)."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            time.sleep(pause)
            best[name] = min(best[name], _seconds_per_call(run, min_seconds))
    return best


def _numpy_step(sizes, batch: int):
    """One training step's GEMMs in NumPy float32, as a callable."""
    pairs = _operands(gemm_shapes(sizes, batch), numpy.random.default_rng(0))
    outs = [numpy.empty((a.shape[0], b.shape[1]), numpy.float32) for a, b in pairs]

    def run():
        for (a, b), out in zip(pairs, outs):
            numpy.matmul(a, b, out=out)

    return run


def torch_operands(shapes, torch):
    """For each GEMM of ``shapes``, PyTorch's operands laid out as ``nn.Linear`` has them: W stored
    (out, in), so the forward is X Wᵀ (a transposed view), the weight gradient dWᵀ = dZᵀ X, (out, in),
    and the input gradient dX = dZ W."""
    generator = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float32)

    pairs = []
    for kind, m, k, n in shapes:
        if kind == "forward":  # X (B, in) @ Wᵀ
            pairs.append((rand(m, k), rand(n, k).t()))
        elif kind == "dW":  # dZᵀ (out, B) @ X (B, in)
            pairs.append((rand(k, n).t(), rand(k, m)))
        else:  # dZ (B, out) @ W (out, in)
            pairs.append((rand(m, k), rand(k, n)))
    return pairs


def _torch_step(sizes, batch: int):
    """The same GEMMs with PyTorch's float32 ``torch.mm``, in ``nn.Linear``'s layouts, as a callable."""
    import torch

    pairs = torch_operands(gemm_shapes(sizes, batch), torch)
    outs = [torch.empty(a.shape[0], b.shape[1]) for a, b in pairs]

    def run():
        for (a, b), out in zip(pairs, outs):
            torch.mm(a, b, out=out)

    return run


def gemm_step_seconds(sizes, batch: int, min_seconds: float = 0.1, *, with_torch: bool = False,
                      pause: float = 0.0) -> dict:
    """Seconds one training step's GEMMs alone take: ``{"numpy": s}``, and with ``with_torch``
    also ``"torch"``, PyTorch's ``torch.mm`` on the same GEMMs, the two timed in turn."""
    runs = {"numpy": _numpy_step(sizes, batch)}
    if with_torch:
        runs["torch"] = _torch_step(sizes, batch)
    return _best_seconds(runs, min_seconds, pause=pause if with_torch else 0.0)


def square_gemm_rate(n: int = 2048, min_seconds: float = 0.3) -> float:
    """FLOP/s of a float32 n×n×n GEMM: the machine's reference GEMM rate."""
    rng = numpy.random.default_rng(0)
    a, b = rng.standard_normal((n, n), dtype=numpy.float32), rng.standard_normal((n, n), dtype=numpy.float32)
    out = numpy.empty((n, n), numpy.float32)
    return 2 * n**3 / _best_seconds({"square": lambda: numpy.matmul(a, b, out=out)}, min_seconds, rounds=3)["square"]


def step_seconds(rate: float, batch: int) -> float:
    """Seconds of a full step of ``batch`` rows in an epoch measured at ``rate`` samples/s.

    Every GEMM of a step is linear in its rows, so an epoch executes ``gemm_flops(sizes, 1)``
    per sample whatever its last, partial batch holds; timing it as ``batch`` rows' worth of the
    epoch, not the epoch over its number of steps, counts that batch as the part of a step it is
    (60000 rows at batch 1024 are 58.6 full steps' FLOPs, not 59)."""
    return batch / rate


def roofline(sizes, batch: int, rate: float, gemm_seconds: float) -> dict:
    """The step's executed GEMM FLOP/s and its share of NumPy's GEMM FLOP/s at the same shapes."""
    flops = gemm_flops(sizes, batch)
    step = step_seconds(rate, batch)
    return {"flops": flops, "step_rate": flops / step, "gemm_rate": flops / gemm_seconds, "share": gemm_seconds / step}
