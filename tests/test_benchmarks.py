"""The benchmark suite's smoke run: tiny sizes, one repeat, every contender present, report written."""

from benchmarks.contenders import torch_available, training_contenders
from benchmarks.run import main


def test_smoke_run_writes_a_row_per_contender(tmp_path):
    has_torch = torch_available()
    out = tmp_path / "benchmarks.md"

    assert main(["--smoke", "--out", str(out)] + ([] if has_torch else ["--no-torch"])) == 0

    text = out.read_text()
    names = [cls.name for cls in training_contenders(has_torch)]
    assert ("torch eager" in names) == has_torch
    training = text.split("## Training throughput")[1].split("## Roofline")[0]
    for name in names:
        assert f"| {name} |" in training
    memory = text.split("## Peak memory")[1]
    for name in names:
        assert f"| {name} |" in memory
    assert (tmp_path / "images" / "benchmarks.png").read_bytes().startswith(b"\x89PNG")
