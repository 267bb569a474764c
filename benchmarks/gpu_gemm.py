"""``python -m benchmarks.gpu_gemm``: each GEMM of a training step, timed in every equivalent layout.

A diagnostic for the GPU benchmark's networks at batch 8192, where a step is bound by its
float32 GEMMs. chainrule keeps W as (n_in, n_out) and PyTorch
as (n_out, n_in), so the same three products of a layer (forward Z = XW, dW = XᵀdY,
dX = dYWᵀ) reach cuBLAS with different transpose flags. This times each product through
``cupy.matmul``, chainrule's own cuBLAS call (chainrule.cuda.cublas.Gemm) and ``torch.matmul``
in both storage layouts, with CUDA events, median of 20 after 3 warm-ups, TF32 off.
"""

from __future__ import annotations

import os
import sys

os.environ["NVIDIA_TF32_OVERRIDE"] = "0"
os.environ.pop("CUPY_TF32", None)

NETWORKS = ((784, 4096, 4096, 10), (784, 512, 256, 10))
BATCH = 8192


def median_ms(run, stream, cupy, repeats=20):
    for _ in range(3):
        run()
    times = []
    for _ in range(repeats):
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record(stream)
        run()
        end.record(stream)
        end.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, end))
    return sorted(times)[len(times) // 2]


def main(argv=None) -> None:
    import cupy
    import torch

    from chainrule.cuda.cublas import Gemm

    torch.backends.cuda.matmul.allow_tf32 = False
    stream = cupy.cuda.Stream(non_blocking=False)
    gemm = Gemm(stream)
    rng = cupy.random.default_rng(0)
    rows = []
    with stream:
        torch_stream = torch.cuda.ExternalStream(stream.ptr)
        for n_in, n_out in {pair for sizes in NETWORKS for pair in zip(sizes, sizes[1:])}:
            X = rng.standard_normal((BATCH, n_in), dtype=cupy.float32)
            W = rng.standard_normal((n_in, n_out), dtype=cupy.float32)  # chainrule's layout
            Wt = cupy.ascontiguousarray(W.T)  # PyTorch's layout (n_out, n_in)
            dY = rng.standard_normal((BATCH, n_out), dtype=cupy.float32)
            out_Z, out_dW, out_dX = cupy.empty((BATCH, n_out), "f"), cupy.empty((n_in, n_out), "f"), cupy.empty((BATCH, n_in), "f")
            out_dWt = cupy.empty((n_out, n_in), "f")
            tX, tWt, tdY = (torch.as_tensor(a, device="cuda") for a in (X, Wt, dY))
            flops = 2.0 * BATCH * n_in * n_out
            cases = {
                "Z = X W (cupy)": lambda: cupy.matmul(X, W, out=out_Z),
                "Z = X W (chainrule cuBLAS)": lambda: gemm(X, W, out_Z),
                "Z = X Wtᵀ (cupy, torch layout)": lambda: cupy.matmul(X, Wt.T, out=out_Z),
                "Z = X Wtᵀ (torch)": lambda: torch.matmul(tX, tWt.T),
                "dW = Xᵀ dY (cupy)": lambda: cupy.matmul(X.T, dY, out=out_dW),
                "dW = Xᵀ dY (chainrule cuBLAS)": lambda: gemm(X.T, dY, out_dW),
                "dWt = dYᵀ X (cupy, torch layout)": lambda: cupy.matmul(dY.T, X, out=out_dWt),
                "dWt = dYᵀ X (chainrule cuBLAS)": lambda: gemm(dY.T, X, out_dWt),
                "dWt = dYᵀ X (torch)": lambda: torch.matmul(tdY.T, tX),
                "dX = dY Wᵀ (cupy)": lambda: cupy.matmul(dY, W.T, out=out_dX),
                "dX = dY Wᵀ (chainrule cuBLAS)": lambda: gemm(dY, W.T, out_dX),
                "dX = dY Wt (cupy, torch layout)": lambda: cupy.matmul(dY, Wt, out=out_dX),
                "dX = dY Wt (chainrule cuBLAS)": lambda: gemm(dY, Wt, out_dX),
                "dX = dY Wt (torch)": lambda: torch.matmul(tdY, tWt),
            }
            for name, run in cases.items():
                with torch.cuda.stream(torch_stream):
                    ms = median_ms(run, stream, cupy)
                rows.append((f"{n_in}x{n_out}", name, ms, flops / ms / 1e9))
    gemm.close()
    print(f"{'layer':>10}  {'product':<34} {'ms':>8} {'TFLOP/s':>8}")
    for layer, name, ms, rate in rows:
        print(f"{layer:>10}  {name:<34} {ms:8.3f} {rate:8.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
