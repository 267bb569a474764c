"""A training step captured once into a CUDA graph and replayed for every batch of the same shape.

A small network's step on a GPU is some fifty short kernels, each costing more to launch
from Python than to run. Stream capture records them once (cudaStreamBeginCapture) into a
graph that one call replays, with the arguments and addresses they had when recorded. So
the step must read and write fixed buffers only: the minibatch rows are copied into a
fixed index vector before each replay, θ, ∂L/∂θ and the optimizer state live in the flat
buffer, the metrics and the divergence status are summed in place, and η and t are read
from the device vector ``hyper`` (chainrule.cuda.kernels).

Two things CuPy does not do for us during a capture:

- cuBLAS: CuPy refuses it, so the GEMMs go through :class:`chainrule.cuda.cublas.Gemm`
  (routed by ``chainrule.backend.matmul``) while the step is warmed up and captured;
- memory: the temporaries of the step (activations, dY, ...) are allocated while
  recording and the graph keeps using those addresses. They come from a memory pool of
  the graph's own that nothing else allocates from afterwards, so no later array can be
  given memory a replay writes to.

The step is run once for real before it is recorded: that compiles every kernel and fills
the private pool, and it is the batch's actual training step (the recording runs nothing).
"""

from __future__ import annotations

import contextlib

from .. import backend
from ..backend import module_for
from ..errors import DeviceError
from .cublas import Gemm


class CapturedStep:
    """``step()`` recorded on ``stream``; ``replay()`` runs it again on the current buffers.

    Parameters
    ----------
    step : callable
        The training step, reading and writing fixed buffers only (see the module docstring).
    stream : cupy.cuda.Stream
        A non-default stream; the training loop runs all its GPU work on it.
    """

    def __init__(self, step, stream) -> None:
        cupy = module_for("cuda")
        self.step, self.stream = step, stream
        self.pool = cupy.cuda.MemoryPool()  # the graph's memory, never handed out again
        self.gemm = Gemm(stream)
        self.graph = None
        self.warmed_up = False  # the real step before the recording has run

    @contextlib.contextmanager
    def _routed(self):
        """GEMMs through our cuBLAS handle and allocations from the graph's pool, inside the block."""
        cupy = module_for("cuda")
        backend._gemm_override = self.gemm
        try:
            with cupy.cuda.using_allocator(self.pool.malloc):
                yield
        finally:
            backend._gemm_override = None

    def warm_up_and_capture(self) -> None:
        """Run the step once for real, then record it; raises DeviceError if it cannot be recorded."""
        with self._routed():
            self.step()
            self.warmed_up = True
            self.stream.begin_capture()
            try:
                self.step()
            except Exception as error:
                with contextlib.suppress(Exception):
                    self.stream.end_capture()
                raise DeviceError(f"CUDA graph capture of the training step failed: {error}") from error
            try:
                self.graph = self.stream.end_capture()
            except Exception as error:
                raise DeviceError(f"CUDA graph capture of the training step failed: {error}") from error

    def replay(self) -> None:
        """Run the recorded step once more, on the stream it was recorded on."""
        self.graph.launch(self.stream)

    def close(self) -> None:
        """Release the graph and the cuBLAS handle (the pool goes when its last array does)."""
        self.graph = None
        self.gemm.close()
