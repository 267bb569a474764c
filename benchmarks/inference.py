"""Inference contenders: one forward pass of a batch, no gradients.

``chainrule`` calls ``model.forward`` (the engine; ``cr.predict`` adds input checks and
preprocessing on top), ``torch eager`` calls the module under ``torch.inference_mode()``,
and ``onnxruntime`` runs chainrule's own ONNX export (``cr.to_onnx``) when onnx and
onnxruntime are installed. All hold the same weights (``numpy_mlp.initial_weights``), so
they return the same logits.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile

import numpy

from .contenders import chainrule_mlp, torch_available, torch_mlp
from .numpy_mlp import NumpyMLP


def chainrule_forward(sizes, threads: int):
    return chainrule_mlp(sizes).forward


def numpy_forward(sizes, threads: int):
    return NumpyMLP(sizes).forward


def torch_forward(sizes, threads: int):
    import torch

    model = torch_mlp(sizes).eval()

    def forward(X):
        with torch.inference_mode():
            return model(torch.from_numpy(X))

    return forward


def onnxruntime_forward(sizes, threads: int):
    import chainrule as cr
    import onnxruntime

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.onnx")
        cr.to_onnx(chainrule_mlp(sizes), path)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda X: session.run(None, {name: X})


def inference_contenders(with_torch: bool = True) -> dict:
    """``{name: maker}``; a maker takes (sizes, threads) and returns ``forward(X)``."""
    found = {"chainrule": chainrule_forward, "numpy loop": numpy_forward}
    if with_torch and torch_available():
        found["torch eager"] = torch_forward
    if importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None:
        found["onnxruntime"] = onnxruntime_forward
    return found


def batches_runner(forward, X, batch: int, n_batches: int):
    """A call that runs ``forward`` on ``n_batches`` consecutive batches of X (wrapping around)."""
    starts = [(i * batch) % (len(X) - batch + 1) for i in range(n_batches)]
    chunks = [numpy.ascontiguousarray(X[s:s + batch]) for s in starts]

    def run():
        for chunk in chunks:
            forward(chunk)

    return run
