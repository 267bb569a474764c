"""The benchmark suite's smoke run: tiny sizes, one repeat, every contender present, report written."""

import numpy
import pytest

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


def test_the_report_is_written_again_from_the_runs_json(tmp_path):
    from threadpoolctl import threadpool_info

    from benchmarks.report import from_json, main as report_main
    from benchmarks.timing import Rate
    out = tmp_path / "benchmarks.md"
    numpy.ones((2, 2)) @ numpy.ones((2, 2))  # NumPy's BLAS pool is loaded
    threads = {pool["filepath"]: pool["num_threads"] for pool in threadpool_info()}
    assert main(["--smoke", "--no-torch", "--threads", "1", "--out", str(out)]) == 0
    after = {pool["filepath"]: pool["num_threads"] for pool in threadpool_info()}
    assert {path: after[path] for path in threads} == threads  # its thread cap is undone
    results = from_json((tmp_path / "data" / "cpu_benchmark.json").read_text())
    rates = results["training"][0]["rates"]
    assert set(rates) >= {"chainrule", "numpy loop"} and all(isinstance(rate, Rate) for rate in rates.values())
    assert f"{rates['chainrule'].median:,.0f}" in out.read_text()
    again = tmp_path / "again.md"
    saved = tmp_path / "run5.json"  # rendering an older run's JSON replaces no run's data
    saved.write_bytes((tmp_path / "data" / "cpu_benchmark.json").read_bytes())
    (tmp_path / "data" / "cpu_benchmark.json").write_text("the latest run's data")
    assert report_main([str(saved), "--out", str(again)]) == 0
    assert again.read_text() == out.read_text()
    assert (tmp_path / "data" / "cpu_benchmark.json").read_text() == "the latest run's data"


def test_rewriting_the_cpu_report_keeps_the_gpu_section():
    from benchmarks.gpu_report import BEGIN, END
    from benchmarks.report import keep_gpu_section
    old = f"# old CPU tables\n\n{BEGIN}\n## GPU (CUDA)\nrows\n{END}\n"
    kept = keep_gpu_section(old, "# new CPU tables\n")
    assert kept.startswith("# new CPU tables") and kept.count(BEGIN) == 1 and "rows" in kept and "old CPU" not in kept
    assert keep_gpu_section("# no GPU section\n", "# new\n") == "# new\n"


def test_the_verdict_judges_the_median_and_says_what_the_fastest_epochs_reach():
    from benchmarks.report import verdict
    assert verdict(1.4, 1.3) == "chainrule wins; meets target"
    assert verdict(1.2, 1.3) == "chainrule wins; **misses target ≥ 1.3×**"
    assert verdict(1.2, 1.3, fastest=1.35) == ("chainrule wins; **misses target ≥ 1.3×** by the median, "
                                               "meets it by the fastest epochs")
    assert verdict(0.8, None) == "**chainrule loses** (1.25× slower)"


def test_the_thread_limit_holds_inside_its_block_and_is_undone_after():
    """A benchmark's cap on the BLAS pools (and torch's) must not outlive it: main() called from
    Python, or the test suite after it, would run with the benchmark's thread count."""
    from threadpoolctl import threadpool_info

    from benchmarks.threads import limit_threads
    numpy.ones((2, 2)) @ numpy.ones((2, 2))  # NumPy's BLAS pool is loaded
    before = [pool["num_threads"] for pool in threadpool_info()]
    assert before
    with pytest.raises(RuntimeError, match="inside"):
        with limit_threads(1):
            assert all(pool["num_threads"] == 1 for pool in threadpool_info())
            raise RuntimeError("inside")
    assert [pool["num_threads"] for pool in threadpool_info()] == before


def test_the_torch_thread_count_is_put_back_too():
    torch = pytest.importorskip("torch")
    from benchmarks.threads import limit_threads
    before = torch.get_num_threads()
    with limit_threads(1, torch=True):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
