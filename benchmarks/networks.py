"""The benchmarked networks and their GEMM work per training step."""

from __future__ import annotations

NETWORKS = {
    "784-512-256-10": (784, 512, 256, 10),
    "784-256x6-10": (784,) + (256,) * 6 + (10,),
}
SMOKE_NETWORKS = {"16-32-8-4": (16, 32, 8, 4)}

LR = 0.01  # lr 0.1 with momentum 0.9 diverges at batch 32 for every contender (issue 5)
MOMENTUM = 0.9


def gemm_shapes(sizes, batch: int):
    """The (m, k, n) of every GEMM one training step executes: forward, dW, and dX but for layer 0.

    Forward ``Z = X W`` is (B, in) @ (in, out); backward ``dW = Xᵀ dZ`` is (in, B) @ (B, out) and
    ``dX = dZ Wᵀ`` is (B, out) @ (out, in); the first layer's dX is not needed and not counted.
    """
    shapes = []
    for layer, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        shapes.append(("forward", batch, n_in, n_out))
        shapes.append(("dW", n_in, batch, n_out))
        if layer > 0:
            shapes.append(("dX", batch, n_out, n_in))
    return shapes


def gemm_flops(sizes, batch: int) -> int:
    """Executed GEMM FLOPs of one training step: 2·m·k·n summed over ``gemm_shapes``."""
    return sum(2 * m * k * n for _, m, k, n in gemm_shapes(sizes, batch))
