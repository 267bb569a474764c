"""``python -m benchmarks.gpu_ops``: the non-GEMM work of a GPU training step, operation by operation.

A diagnostic: on the large network at batch 8192 the GEMMs of chainrule's step take what
PyTorch's take (``benchmarks.gpu_gemm``), so the rest of the step is where it can lose. This
times each elementwise and reduction piece of chainrule's step (CUDA events, median of 20
after 3 warm-ups) next to the alternatives a fused kernel would replace it with.
"""

from __future__ import annotations

import sys

import numpy

SHAPES = ((8192, 4096), (8192, 512), (128, 512))


def median_ms(run, cupy, repeats=20):
    for _ in range(3):
        run()
    times = []
    for _ in range(repeats):
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        run()
        end.record()
        end.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, end))
    return sorted(times)[len(times) // 2]


def main(argv=None) -> None:
    import cupy

    import chainrule as cr
    from chainrule.cuda import kernels
    from chainrule.training.metrics import Scores

    rng = cupy.random.default_rng(0)
    bias_relu = cupy.ElementwiseKernel("T b", "T z", "z = max(z + b, (T)0)", "trial_bias_relu")
    relu_back = cupy.ElementwiseKernel("T y", "T dy", "dy = y > (T)0 ? dy : (T)0", "trial_relu_backward")
    rows = []
    for batch, width in SHAPES:
        Z = rng.standard_normal((batch, width), dtype=cupy.float32)
        Y = cupy.maximum(Z, 0)
        dY = rng.standard_normal((batch, width), dtype=cupy.float32)
        b = rng.standard_normal(width, dtype=cupy.float32)
        db = cupy.empty(width, cupy.float32)
        ones = cupy.ones((1, batch), cupy.float32)
        X = rng.standard_normal((32768, 784), dtype=cupy.float32)
        Xb = cupy.empty((batch, 784), cupy.float32)
        index = cupy.asarray(numpy.random.default_rng(1).permutation(32768)[:batch])
        logits = rng.standard_normal((batch, 10), dtype=cupy.float32)
        labels = cupy.asarray(numpy.random.default_rng(2).integers(0, 10, batch))
        loss = cr.SoftmaxCrossEntropy()
        scores = Scores("classification")
        value, _ = loss.compute(logits, labels)
        cases = {
            "take X rows (batch x 784)": lambda: cupy.take(X, index, axis=0, out=Xb),
            "Z += b": lambda: Z.__iadd__(b),
            "maximum(Z, 0, out=Z)": lambda: cupy.maximum(Z, 0, out=Z),
            "fused bias+relu (trial)": lambda: bias_relu(b, Z),
            "dY * (Y > 0), out=dY": lambda: cupy.multiply(dY, Y > 0, out=dY),
            "fused relu backward (trial)": lambda: relu_back(Y, dY),
            "sum(dY, axis=0, out=db)": lambda: cupy.sum(dY, axis=0, out=db),
            "ones @ dY (db by GEMM)": lambda: cupy.matmul(ones, dY, out=db[None, :]),
            "softmax cross-entropy (batch x 10)": lambda: loss.compute(logits, labels),
            "scores.add (batch x 10)": lambda: scores.add(logits, labels, value),
        }
        for name, run in cases.items():
            rows.append((f"{batch}x{width}", name, median_ms(run, cupy)))
    for n in (535_818, 20_037_642):
        theta, grad, v, decay = (rng.standard_normal(n, dtype=cupy.float32) for _ in range(4))
        hyper, status = cupy.asarray([0.01, 1.0, 0.9, 0.0, 0.0]), cupy.zeros(2, cupy.int64)  # [η, t, μ, nesterov, -]
        momentum = kernels._compiled()["sgd_momentum"]
        optimizer = cr.SGD(cr.Sequential(cr.Linear(1, 1)).to("cuda"), lr=0.01, momentum=0.9)  # set_hyper reads μ
        cases = {
            "sum_of_squares(grad)": lambda: kernels.sum_of_squares(grad),
            "guard": lambda: kernels.guard(value, kernels.sum_of_squares(grad), status),
            "fused SGD momentum": lambda: momentum(grad, decay, hyper, status, theta, v),
            "set_hyper": lambda: kernels.set_hyper(hyper, optimizer, 0.01, 2),
        }
        for name, run in cases.items():
            rows.append((f"{n} params", name, median_ms(run, cupy)))
    print(f"{'shape':>16}  {'operation':<36} {'µs':>9}")
    for shape, name, ms in rows:
        print(f"{shape:>16}  {name:<36} {ms * 1000:9.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
