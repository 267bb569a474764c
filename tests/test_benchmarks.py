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
    assert ("torch.mm ÷ NumPy GEMM time" in text.split("## Roofline")[1].split("## Inference")[0]) == has_torch
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
    assert {pool["threads"] for pool in results["environment"]["pools"]} == {1}
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


@pytest.mark.parametrize("argv, message", [
    (["--repeats", "0"], "argument --repeats: must be at least 1, got 0"),
    (["--threads", "0"], "argument --threads: must be at least 1, got 0"),
    (["--samples", "4095"], "argument --samples: must be at least 4096 (the largest batch), got 4095"),
    (["--smoke", "--samples", "63"],
     "argument --samples: must be at least 64 (the largest batch with --smoke), got 63"),
    (["--smoke", "--samples", "0"], "argument --samples: must be at least 64"),  # 0 is refused, not the default
])
def test_the_options_are_refused_below_their_minimum(argv, message, capsys):
    from benchmarks.run import parse
    with pytest.raises(SystemExit) as stopped:
        parse(argv)
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(f"python -m benchmarks: error: {message}")


def test_a_smoke_run_writes_to_the_temporary_directory_unless_told():
    import tempfile

    from benchmarks.run import ROOT, SMOKE_OUT, parse
    assert parse(["--smoke"]).out == SMOKE_OUT
    assert SMOKE_OUT.is_relative_to(tempfile.gettempdir()) and not SMOKE_OUT.is_relative_to(ROOT)
    assert parse([]).out == ROOT / "docs" / "benchmarks.md"
    assert parse(["--smoke", "--out", "here.md"]).out.name == "here.md"


def test_the_chainrule_contender_draws_its_progress_bar(tmp_path, monkeypatch):
    """cr.fit draws its bar only where stderr is a terminal; the contender's null stream says it is
    one, so the bar's drawing is timed (os.devnull is pointed at a file here, to read what was drawn)."""
    from benchmarks.contenders import Chainrule, NullTerminal
    from benchmarks.data import teacher_data
    drawn = tmp_path / "stderr.txt"
    monkeypatch.setattr("os.devnull", str(drawn))
    monkeypatch.setenv("TERM", "xterm-256color")  # a TERM=dumb terminal gets no bar
    X, y = teacher_data(64, 16, 4)

    Chainrule((16, 8, 4), 32, X, y).epoch()

    text = drawn.read_bytes().decode()
    assert "training 1 epochs:   0%" in text and "\repoch 1/1: 100%" in text and "64.0/64.0" in text
    with NullTerminal() as terminal:
        assert terminal.isatty()


def test_the_sklearn_contender_continues_from_epoch_to_epoch(monkeypatch):
    """Each epoch keeps the optimizer (its momentum) and draws a new shuffle."""
    from sklearn.neural_network import MLPClassifier

    from benchmarks.contenders import Sklearn
    from benchmarks.data import teacher_data
    X, y = teacher_data(64, 16, 4)
    contender = Sklearn((16, 8, 4), 16, X, y)
    first_rows, backprop = [], MLPClassifier._backprop

    def recording(self, X_batch, *rest):
        first_rows.append(X_batch[0].copy())
        return backprop(self, X_batch, *rest)

    monkeypatch.setattr(MLPClassifier, "_backprop", recording)
    optimizers, orders = [], []
    for _ in range(3):
        first_rows.clear()
        contender.epoch()
        optimizers.append(contender.model._optimizer)
        orders.append(numpy.array(first_rows))
    assert optimizers[0] is optimizers[1] is optimizers[2]
    assert not numpy.array_equal(orders[1], orders[2]) and not numpy.array_equal(orders[0], orders[1])


def test_a_process_without_vmhwm_reports_its_peak_as_not_measured(tmp_path, monkeypatch):
    from benchmarks import rss
    from benchmarks.report import rss_table
    status = tmp_path / "status"
    status.write_text("Name:\tpython\nVmHWM:\t  123456 kB\n")
    monkeypatch.setattr(rss, "STATUS", str(status))
    assert rss.own_peak_rss_kib() == 123456
    status.write_text("Name:\tpython\n")
    assert rss.own_peak_rss_kib() is None
    monkeypatch.setattr(rss, "STATUS", str(tmp_path / "missing"))
    assert rss.own_peak_rss_kib() is None

    rows = rss_table({"mib": {"chainrule": None, "torch eager": 500.0}})
    assert rows[2:] == ["| chainrule | – |  |", "| torch eager | 500 |  |"]


def test_the_thread_limit_reaches_the_pools_of_the_contenders_libraries():
    """threadpoolctl limits only the pools loaded when it is entered: scikit-learn's (SciPy's
    OpenBLAS, its OpenMP) load with it, so a fresh process checks they are limited too."""
    import subprocess
    import sys

    from benchmarks.run import ROOT
    script = ("import numpy\nfrom threadpoolctl import threadpool_info\nfrom benchmarks.threads import limit_threads\n"
              "with limit_threads(1, modules=('sklearn.neural_network',)):\n"
              "    print(sorted({(p['internal_api'], p['num_threads']) for p in threadpool_info()}))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[('openblas', 1), ('openmp', 1)]"


def test_the_report_names_a_pool_the_limit_missed():
    from benchmarks.report import thread_limit
    pools = [{"library": "openblas", "prefix": "libscipy_openblas", "threads": 2}]
    assert thread_limit({"threads": 2, "pools": pools}) == "threadpoolctl limits on every pool, `torch.set_num_threads`"
    assert "**not limited**: openblas `libscipy_openblas` at 2" in thread_limit({"threads": 1, "pools": pools})


def test_pytorchs_gemms_are_the_steps_own_in_nn_linears_layouts():
    torch = pytest.importorskip("torch")
    from benchmarks.networks import gemm_shapes
    from benchmarks.roofline import torch_operands
    shapes = gemm_shapes([6, 5, 4, 3], 2)
    pairs = torch_operands(shapes, torch)
    assert len(pairs) == len(shapes)
    for (kind, m, k, n), (a, b) in zip(shapes, pairs):
        assert a.shape[1] == b.shape[0] == k  # the same inner dimension, so the same FLOPs
        # dW comes out as nn.Linear's weight gradient, (out, in): the transpose of NumPy's (in, out)
        assert (a.shape[0], b.shape[1]) == ((n, m) if kind == "dW" else (m, n))
    forward, dW = pairs[0], pairs[1]
    assert not forward[1].is_contiguous() and forward[1].t().is_contiguous()  # Wᵀ a view of W (out, in)
    assert not dW[0].is_contiguous()  # dZᵀ a view


def test_the_roofline_says_how_pytorchs_products_compare_when_measured():
    from benchmarks.report import roofline_table, torch_gemm_lines
    point = {"flops": 2e9, "step_rate": 1e11, "gemm_rate": 2e11, "share": 0.5}
    old = {"network": "n", "batch": 32, "roofline": {"chainrule": point}}
    assert "torch.mm" not in "".join(roofline_table([old], ["chainrule"])) and torch_gemm_lines([old]) == []
    new = dict(old, torch_gemm_seconds=0.008, numpy_gemm_seconds=0.010)
    head, _, row = roofline_table([new, old], ["chainrule"])[:3]
    assert head.endswith("torch.mm ÷ NumPy GEMM time |") and row.endswith("| 0.80 |")
    assert roofline_table([new, old], ["chainrule"])[3].endswith("| – |")  # an entry without torch's timing
    assert "Below 1.00" in "".join(torch_gemm_lines([new]))


def test_the_step_budget_says_what_chainrule_may_spend_beyond_numpys_products():
    from benchmarks.report import step_budget_table

    def entry(batch, ours_ms, theirs_ms, gemm_ms):  # a step of 1 GFLOP: step_rate = 1e9 / step seconds
        return {"network": "n", "batch": batch, "numpy_gemm_seconds": gemm_ms / 1e3,
                "torch_gemm_seconds": 0.9 * gemm_ms / 1e3,
                "roofline": {"chainrule": {"flops": 1e9, "step_rate": 1e12 / ours_ms},
                             "torch eager": {"flops": 1e9, "step_rate": 1e12 / theirs_ms}}}

    # batch 32 (target 1.3×): PyTorch 13 ms a step leaves 10 ms, 6 ms beyond 4 ms of NumPy GEMMs
    met, missed, none = entry(32, 9.0, 13.0, 4.0), entry(32, 11.0, 13.0, 4.0), entry(1024, 9.0, 9.2, 8.5)
    lines = step_budget_table([met, missed, none, {"network": "n", "batch": 32, "roofline": {}}])
    rows = [line for line in lines if line.startswith("| n |")]
    assert len(rows) == 3  # the entry without torch.mm's timing has no row
    assert rows[0] == "| n | 32 | 4.00 | 3.60 | 9.00 (5.00) | 13.00 (9.40) | 6.00 | yes |"
    assert rows[1].endswith("| 6.00 | no, 1.00 ms over |")
    assert rows[2].endswith("| none | none: unreachable from these products |")  # 9.2 / 1.15 = 8 ms < 8.5
    assert step_budget_table([{"network": "n", "batch": 32, "roofline": {"chainrule": {}}}]) == []
    assert step_budget_table([entry(8, 9.0, 13.0, 4.0)])[-2].endswith("| – | no target at this batch size |")


def test_the_gemm_timings_take_turns_round_by_round():
    from benchmarks.roofline import _best_seconds
    calls = []
    best = _best_seconds({"numpy": lambda: calls.append("numpy"), "torch": lambda: calls.append("torch")}, 0.0, 3)
    assert calls == ["numpy", "torch"] * 3  # A B A B A B: drift reaches both alike
    assert set(best) == {"numpy", "torch"} and all(0 < seconds < 1 for seconds in best.values())


def test_the_step_gemms_are_timed_for_pytorch_only_when_asked():
    from benchmarks.roofline import gemm_step_seconds
    assert set(gemm_step_seconds([6, 5, 3], 4, 0.0)) == {"numpy"}
    if torch_available():
        assert set(gemm_step_seconds([6, 5, 3], 4, 0.0, with_torch=True)) == {"numpy", "torch"}


def test_scikit_learn_trains_on_float32_input_as_given_and_on_a_float64_copy():
    """The peak RSS of each contender counts the same data set: a float32 copy made for
    scikit-learn alone would add the whole data set to its peak."""
    from benchmarks.contenders import Sklearn, Sklearn64
    from benchmarks.data import teacher_data
    X, y = teacher_data(64, 16, 4)
    assert Sklearn((16, 8, 4), 16, X, y).X is X
    assert Sklearn64((16, 8, 4), 16, X, y).X.dtype == numpy.float64


def test_the_rooflines_flops_are_those_the_epoch_executed():
    """60000 rows at batch 1024 are 58 full steps and one of 608 rows: the epoch's GEMM FLOPs are
    gemm_flops per row times 60000, not those of 59 full steps (0.7 % more)."""
    from benchmarks.networks import gemm_flops
    from benchmarks.roofline import roofline
    sizes, rate = (784, 512, 256, 10), 50000.0  # samples/s: the epoch took 1.2 s
    point = roofline(sizes, 1024, rate, gemm_seconds=0.015)
    assert point["step_rate"] == pytest.approx(gemm_flops(sizes, 60000) / 1.2, rel=1e-12)
    assert point["share"] == pytest.approx(0.015 * 60000 / 1024 / 1.2, rel=1e-12)  # the ceiling's time for the epoch
    assert gemm_flops(sizes, 60000) == 60000 * gemm_flops(sizes, 1)


def test_chainrule_the_numpy_loop_and_torch_train_from_one_network():
    """The same initial weights (He normal, zero biases): the same network, and the same logits."""
    from benchmarks.contenders import CONTENDERS, training_contenders
    from benchmarks.data import teacher_data
    X, y = teacher_data(64, 16, 4)
    sizes = (16, 32, 8, 4)
    logits = {"chainrule": numpy.asarray(CONTENDERS["chainrule"](sizes, 16, X, y).model.forward(X)).copy(),
              "numpy loop": CONTENDERS["numpy loop"](sizes, 16, X, y).model.forward(X)}
    if "torch eager" in [cls.name for cls in training_contenders()]:
        import torch
        with torch.no_grad():
            logits["torch eager"] = CONTENDERS["torch eager"](sizes, 16, X, y).model(torch.from_numpy(X)).numpy()
    for name, Z in logits.items():
        numpy.testing.assert_allclose(Z, logits["numpy loop"], rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("batch", [1, 32])
def test_the_inference_contenders_compute_the_same_logits(batch):
    from benchmarks.data import teacher_data
    from benchmarks.inference import inference_contenders
    X = teacher_data(batch, 16, 4)[0]
    sizes = (16, 32, 8, 4)
    makers = inference_contenders()
    outputs = {}
    for name, make in makers.items():
        Z = make(sizes, 1)(X)
        outputs[name] = numpy.asarray(Z[0] if isinstance(Z, list) else Z)
    assert {"chainrule", "numpy loop"} <= set(outputs)
    for name, Z in outputs.items():
        assert Z.shape == (batch, 4) and Z.dtype == numpy.float32, name
        numpy.testing.assert_allclose(Z, outputs["chainrule"], rtol=1e-5, atol=1e-5, err_msg=name)


def test_every_training_contender_learns_the_teachers_labels():
    """A contender that skipped work would look fast: each must fit the synthetic labels (the
    largest class is 29 % of them) as the others do, 85–92 % of the rows after 5 epochs."""
    from benchmarks.contenders import training_contenders
    from benchmarks.data import teacher_data
    X, y = teacher_data(1024, 16, 4)

    def accuracy(contender) -> float:
        if contender.name == "torch eager":
            import torch
            with torch.no_grad():
                Z = contender.model(torch.from_numpy(X)).numpy()
        elif contender.name.startswith("sklearn"):
            Z = contender.model.predict_proba(X.astype(contender.dtype))
        else:
            Z = numpy.asarray(contender.model.forward(X))
        return float((Z.argmax(axis=1) == y).mean())

    for cls in training_contenders():
        contender = cls((16, 32, 8, 4), 16, X, y)
        accuracies = []
        for _ in range(5):
            contender.epoch()
            accuracies.append(accuracy(contender))
        assert accuracies[-1] > accuracies[0] + 0.1 and accuracies[-1] > 0.75, (cls.name, accuracies)
