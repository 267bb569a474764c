"""A repeated ``chainrule train`` writes the same bytes (docs/usage.md, "Reproducibility"):
whatever Python's string hashing, only what names the run differs."""

import json
import os
import struct
import subprocess
import sys


def train(data, parent, hash_seed: str):
    """``python -m chainrule train`` into ``parent/run`` with PYTHONHASHSEED=``hash_seed``."""
    parent.mkdir()
    command = [sys.executable, "-m", "chainrule", "train", "--data", str(data), "--hidden", "8", "--epochs", "3",
               "--validation", "0.2", "--class-weight", "balanced", "--quiet", "--out", "run"]
    done = subprocess.run(command, cwd=parent, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONHASHSEED": hash_seed})
    assert done.returncode == 0, done.stderr
    return parent / "run"


def checkpoint_parts(path) -> tuple[dict, bytes]:
    """A checkpoint's chainrule metadata without its run id and checksum, and the rest of the file."""
    raw = path.read_bytes()
    size = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + size])
    document = json.loads(header.pop("__metadata__")["chainrule"])
    assert document.pop("sha256") and document["metadata"].pop("run_id")
    return {"tensors": header, "chainrule": document}, raw[8 + size:]


def test_a_repeated_run_writes_the_same_bytes_whatever_the_string_hashing(tmp_path, iris_csv):
    # Text labels (iris.csv's species names) and class weights: a set of them iterated anywhere would
    # order the classes, or the sums over them, by PYTHONHASHSEED.
    first, second = (train(iris_csv, tmp_path / name, seed) for name, seed in (("a", "1"), ("b", "2")))
    for name in ("model.safetensors", "config.toml", "history.png", "gradient_flow.png"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    metrics = [json.loads((folder / "metrics.json").read_text()) for folder in (first, second)]
    assert metrics[0].pop("run_id") != metrics[1].pop("run_id")
    assert metrics[0] == metrics[1]
    assert checkpoint_parts(first / "checkpoint.safetensors") == checkpoint_parts(second / "checkpoint.safetensors")
