"""``python -m benchmarks.fused_floor``: how much compiled, fused elementwise kernels would buy.

A diagnostic for issue 5, not part of chainrule. The question: at batch 128 and 1024 the
step is mostly GEMMs, and what chainrule does around them is written as NumPy passes (bias,
ReLU, its gradient, the optimizer's axpby/asum/axpy). Would kernels that fuse those passes,
as a C extension could, close the gap to the targets?

It compiles four single-threaded C kernels with the system's C compiler (``cc``) and loads
them through ctypes:

- Z ← max(Z + b, 0) in one pass (and Z ← Z + b for the output layer);
- dX ← dX where Y > 0, else 0, in one pass;
- v ← μv + g with Σ|v| in one pass (the divergence guard's norm), then the BLAS axpy;
- v ← μv + g and θ ← θ − ηv in one pass (no guard: the least any step could cost).

It then times the same minimal training step (gather, the GEMMs into reused buffers,
softmax cross-entropy, db as 1ᵀdY, SGD with momentum on one flat θ) with chainrule's NumPy
passes (chainrule's own ``axpby``/``abs_sum``/``axpy`` for the optimizer) and with the fused
kernels, alternating epoch by epoch after a warm-up round, and ``cr.fit`` beside them.
Prints the fastest step of each and its paired median ratio to the NumPy step.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import shutil
import statistics
import subprocess
import tempfile

import numpy

from chainrule.backend import abs_sum, axpby, axpy

from .contenders import NullTerminal
from .networks import LR, MOMENTUM
from .timing import PAUSE_SECONDS, alternate

KERNELS = r"""
#include <math.h>
void bias_relu(float *Z, const float *b, long rows, long cols, int relu) {
    for (long r = 0; r < rows; r++) {
        float *z = Z + r * cols;
        for (long c = 0; c < cols; c++) { float t = z[c] + b[c]; z[c] = (relu && !(t > 0.0f)) ? 0.0f : t; }
    }
}
void relu_backward(float *dX, const float *Y, long n) {
    for (long i = 0; i < n; i++) dX[i] = Y[i] > 0.0f ? dX[i] : 0.0f;
}
float momentum_asum(float *v, const float *g, long n, float mu) {
    float s = 0.0f;
    for (long i = 0; i < n; i++) { float t = mu * v[i] + g[i]; v[i] = t; s += fabsf(t); }
    return s;
}
void sgd_one_pass(float *theta, float *v, const float *g, long n, float mu, float lr) {
    for (long i = 0; i < n; i++) { float t = mu * v[i] + g[i]; v[i] = t; theta[i] -= lr * t; }
}
"""

VARIANTS = ("numpy passes", "fused, guard kept", "fused one-pass SGD, no guard")


def compiler() -> str | None:
    """The C compiler on PATH (``cc``, ``gcc`` or ``clang``), or None."""
    return next((found for name in ("cc", "gcc", "clang") if (found := shutil.which(name))), None)


def build_kernels(folder: str):
    """Compile KERNELS into ``folder`` and load them; the ctypes library.

    Compiled with -ffast-math but linked without it: a shared library linked with it carries
    GCC's crtfastmath, which at load time sets the process's SSE flags to flush denormal
    numbers to zero, changing the arithmetic of everything else in the process (NumPy's
    contenders, and later tests: 0 / 5e-324 became NaN).
    """
    source, library = os.path.join(folder, "fused.c"), os.path.join(folder, "libfused.so")
    objects = os.path.join(folder, "fused.o")
    with open(source, "w") as file:
        file.write(KERNELS)
    subprocess.run([compiler(), "-O3", "-march=native", "-ffast-math", "-fno-finite-math-only", "-fPIC", "-c",
                    source, "-o", objects], check=True)
    subprocess.run([compiler(), "-shared", objects, "-o", library], check=True)
    kernels = ctypes.CDLL(library)
    pointer, long, single = ctypes.c_void_p, ctypes.c_long, ctypes.c_float
    kernels.bias_relu.argtypes = [pointer, pointer, long, long, ctypes.c_int]
    kernels.relu_backward.argtypes = [pointer, pointer, long]
    kernels.momentum_asum.argtypes, kernels.momentum_asum.restype = [pointer, pointer, long, single], single
    kernels.sgd_one_pass.argtypes = [pointer, pointer, pointer, long, single, single]
    return kernels


class MinimalStep:
    """One SGD-with-momentum step of a ReLU MLP on a flat θ, every array made once."""

    def __init__(self, sizes, batch: int, X, y, kernels) -> None:
        self.sizes, self.batch, self.X, self.y, self.kernels = sizes, batch, X, y, kernels
        shapes = list(zip(sizes, sizes[1:]))
        self.n = sum(n_in * n_out + n_out for n_in, n_out in shapes)
        self.theta, self.v, self.g = (numpy.zeros(self.n, numpy.float32) for _ in range(3))
        self.W, self.b = self.views(self.theta)
        self.dW, self.db = self.views(self.g)
        rng = numpy.random.default_rng(0)
        for W in self.W:
            W[...] = rng.standard_normal(W.shape) * numpy.sqrt(2 / W.shape[0])
        self.X_batch = numpy.empty((batch, sizes[0]), numpy.float32)
        self.Z = [numpy.empty((batch, n_out), numpy.float32) for n_out in sizes[1:]]
        self.dX = [numpy.empty((batch, n_in), numpy.float32) for n_in in sizes[:-1]]
        self.mask = [numpy.empty((batch, n_out), bool) for n_out in sizes[1:-1]]
        self.zeros = [numpy.zeros((batch, n_out), numpy.float32) for n_out in sizes[1:-1]]
        self.ones = numpy.ones(batch, numpy.float32)

    def views(self, flat):
        """Per-layer W (n_in, n_out) and b views of a flat vector laid out W0 b0 W1 b1 …"""
        Ws, bs, start = [], [], 0
        for n_in, n_out in zip(self.sizes, self.sizes[1:]):
            Ws.append(flat[start:start + n_in * n_out].reshape(n_in, n_out))
            bs.append(flat[start + n_in * n_out:start + n_in * n_out + n_out])
            start += n_in * n_out + n_out
        return Ws, bs

    def step(self, rows, variant: int) -> None:
        fused, last = variant > 0, len(self.W) - 1
        H = numpy.take(self.X, rows, axis=0, out=self.X_batch, mode="clip")
        for layer, (W, b, Z) in enumerate(zip(self.W, self.b, self.Z)):
            numpy.matmul(H, W, out=Z)
            if fused:
                self.kernels.bias_relu(Z.ctypes.data, b.ctypes.data, Z.shape[0], Z.shape[1], int(layer < last))
            else:
                Z += b
                if layer < last:
                    numpy.maximum(Z, self.zeros[layer], out=Z)
            H = Z
        P = H.T.copy()  # softmax cross-entropy's gradient (P − Y)/N, classes down the rows
        P -= P.max(axis=0)
        numpy.exp(P, out=P)
        P /= P.sum(axis=0)
        dY = P.T.copy()
        dY[numpy.arange(len(rows)), self.y[rows]] -= 1
        dY *= 1 / len(rows)
        for layer in range(last, -1, -1):
            numpy.matmul((self.X_batch if layer == 0 else self.Z[layer - 1]).T, dY, out=self.dW[layer])
            numpy.matmul(self.ones, dY, out=self.db[layer])
            if layer:
                dX, Y = numpy.matmul(dY, self.W[layer].T, out=self.dX[layer]), self.Z[layer - 1]
                if fused:
                    self.kernels.relu_backward(dX.ctypes.data, Y.ctypes.data, dX.size)
                else:
                    numpy.multiply(dX, numpy.greater(Y, 0, out=self.mask[layer - 1]), out=dX)
                dY = dX
        if variant == 2:
            self.kernels.sgd_one_pass(self.theta.ctypes.data, self.v.ctypes.data, self.g.ctypes.data, self.n,
                                      MOMENTUM, LR)
            return
        if fused:
            self.kernels.momentum_asum(self.v.ctypes.data, self.g.ctypes.data, self.n, MOMENTUM)
        else:  # chainrule's own optimizer calls
            axpby(1.0, self.g, MOMENTUM, self.v)
            abs_sum(self.v)
        axpy(-LR, self.v, self.theta)


def measure(sizes, batch: int, rows: int, rounds: int, kernels, pause: float = PAUSE_SECONDS) -> dict:
    """{variant: [µs a step per timed round]} for the minimal step's variants and ``cr.fit``,
    alternating after one warm-up round (``benchmarks.timing.alternate``)."""
    import chainrule as cr

    from .data import teacher_data

    X, y = teacher_data(rows, sizes[0], sizes[-1], seed=0)
    minimal = MinimalStep(sizes, batch, X, y, kernels)
    rng = numpy.random.default_rng(0)
    model = cr.mlp(sizes, seed=0)
    optimizer = cr.SGD(model, lr=LR, momentum=MOMENTUM)

    def minimal_epoch(variant):
        order = rng.permutation(rows)
        for start in range(0, rows - batch + 1, batch):
            minimal.step(order[start:start + batch], variant)

    def fit_epoch():
        with NullTerminal() as terminal, contextlib.redirect_stderr(terminal):  # the bar drawn, as in the suite
            cr.fit(model, X, y, optimizer=optimizer, epochs=1, batch_size=batch, verbose=1, seed=1)

    runs = {name: (lambda variant=variant: minimal_epoch(variant)) for variant, name in enumerate(VARIANTS)}
    runs["cr.fit"] = fit_epoch
    steps = {name: rows // batch for name in VARIANTS} | {"cr.fit": rows / batch}
    epochs_per_second = alternate(runs, 1, rounds, pause=pause)
    return {name: [1e6 / (rate * steps[name]) for rate in epochs_per_second[name].samples] for name in runs}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fused_floor", description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rows", type=int, default=16384, help="training rows (default 16384)")
    parser.add_argument("--rounds", type=int, default=8, help="epochs per variant, alternating (default 8)")
    parser.add_argument("--sizes", default="784-512-256-10", help="layer widths (default 784-512-256-10)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pause", type=float, default=PAUSE_SECONDS, help="idle seconds before each timed epoch")
    args = parser.parse_args(argv)
    if compiler() is None:
        print("no C compiler (cc, gcc or clang) on PATH: the fused kernels cannot be built")
        return 2
    from .threads import limit_threads

    sizes = [int(width) for width in args.sizes.split("-")]
    with limit_threads(args.threads), tempfile.TemporaryDirectory() as folder:
        times = measure(sizes, args.batch, args.rows, args.rounds, build_kernels(folder), args.pause)
    base = times[VARIANTS[0]]
    print(f"{args.sizes}, batch {args.batch}, {args.rows} rows, {args.rounds} rounds, {args.threads} threads")
    for name, values in times.items():
        ratio = statistics.median(value / reference for value, reference in zip(values, base))
        print(f"  {name:30s} fastest {min(values):9,.0f} µs a step   median {statistics.median(values):9,.0f}"
              f"   paired median ÷ numpy passes {ratio:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
