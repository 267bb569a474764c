"""The GPU benchmark's parts that run without a GPU: FLOP counts, figures, the report, the CPU-capable contenders."""

import json
import os

import numpy
import pytest

from benchmarks import gpu, gpu_report
from benchmarks.data import teacher_data
from benchmarks.gpu_contenders import EAGER, GRAPH, PYTORCH, ChainruleFit, PlainLoop, TorchEager
from benchmarks.gpu_environment import TF32_LIMIT, relative_gemm_error, switch_off_tf32
from benchmarks.gpu_results import ratio_to_pytorch, step_figures, summary_lines, target_verdicts
from benchmarks.networks import gemm_flops
from benchmarks.numpy_mlp import NumpyMLP
from chainrule.backend import cuda_available

SMALL, LARGE = (784, 512, 256, 10), (784, 4096, 4096, 10)
TF32_VARIABLES = ("NVIDIA_TF32_OVERRIDE", "CUPY_TF32", "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE")


@pytest.fixture
def tf32_environment(monkeypatch):
    """Whatever the test does to the TF32 variables is undone afterwards."""
    for name in TF32_VARIABLES:
        monkeypatch.setenv(name, "placeholder")  # records the original value for the undo
        monkeypatch.delenv(name)


def contender_entry(epoch_seconds, error=None):
    return {"epoch_seconds": epoch_seconds, "error": error, "traceback": None}


def hand_made_results():
    """Two measured configurations with targets (one with a failed contender) and one skipped."""
    small = {"network": "784-512-256-10", "sizes": list(SMALL), "batch": 128, "rows": 32768, "steps_per_epoch": 256,
             "gemm_flops_per_step": gemm_flops(SMALL, 128), "status": "measured", "contenders": {
                 GRAPH: contender_entry([0.064, 0.0512, 0.0768]),  # 200 µs (250–300) a step
                 EAGER: contender_entry([], "TypeError: fit() got an unexpected keyword argument 'graph'"),
                 PYTORCH: contender_entry([0.256, 0.2304, 0.3072]),  # 1,000 µs a step
                 "plain CuPy loop": contender_entry([0.2816, 0.2816, 0.2816])}}
    large = {"network": "784-4096-4096-10", "sizes": list(LARGE), "batch": 8192, "rows": 131072, "steps_per_epoch": 16,
             "gemm_flops_per_step": gemm_flops(LARGE, 8192), "status": "measured", "contenders": {
                 GRAPH: contender_entry([0.32] * 3), EAGER: contender_entry([0.3424] * 3),
                 PYTORCH: contender_entry([0.32] * 3)}}
    skipped = {"network": "784-512-256-10", "sizes": list(SMALL), "batch": 1024, "rows": 32768, "steps_per_epoch": 32,
               "gemm_flops_per_step": gemm_flops(SMALL, 1024), "status": "skipped",
               "skip_reason": "the time budget of 240 s had passed (251 s elapsed)", "contenders": {}}
    return {"args": {"repeats": 3, "blocks": 2, "budget_seconds": 240.0, "smoke": False, "device": "cuda"},
            "plan": {"networks": {"784-512-256-10": list(SMALL), "784-4096-4096-10": list(LARGE)},
                     "batches": [128, 1024, 8192], "repeats": 3, "blocks": 2},
            "environment": {"device": {"name": "NVIDIA H200", "memory_gib": 139.8, "compute_capability": "9.0",
                                       "cuda_driver_api": "13.0", "cuda_runtime": "13.0"},
                            "nvidia_smi": {"driver_version": "580.95.05"},
                            "versions": {"python": "3.12.3", "numpy": "2.5.0", "cupy": "14.2.0", "torch": "2.11.0"},
                            "tf32": {"environment": {"before": {}, "loaded_before": []},
                                     "gemm_error": {"cupy": 2.1e-7, "torch": 2.3e-7}}},
            "configs": [small, large, skipped], "seconds": 123.0, "finished": True}


def test_gemm_flops_count_every_executed_gemm_but_the_first_layers_input_gradient():
    for sizes, batch in ((SMALL, 128), (LARGE, 8192), ((16, 32, 8, 4), 8)):
        pairs = sum(n_in * n_out for n_in, n_out in zip(sizes, sizes[1:]))
        assert gemm_flops(sizes, batch) == 6 * batch * pairs - 2 * batch * sizes[0] * sizes[1]
    # The 19.2 ms a step at batch 8192 on the large network is 48.5 TFLOP/s executed
    # (its ≈51 TFLOP/s counts the first layer's input gradient too).
    assert gemm_flops(LARGE, 8192) / 19.2e-3 / 1e12 == pytest.approx(48.5, abs=0.05)
    assert 6 * 8192 * (784 * 4096 + 4096 * 4096 + 4096 * 10) / 19.2e-3 / 1e12 == pytest.approx(51.3, abs=0.05)


def test_step_figures_are_medians_per_step_with_the_extremes():
    config = hand_made_results()["configs"][0]

    figures = step_figures(config, GRAPH)

    assert figures["median_us"] == pytest.approx(250) and figures["low_us"] == pytest.approx(200)
    assert figures["high_us"] == pytest.approx(300) and figures["epochs"] == 3
    assert figures["samples_per_s"] == pytest.approx(128 / 250e-6)
    assert figures["tflops"] == pytest.approx(gemm_flops(SMALL, 128) / 250e-6 / 1e12)
    assert ratio_to_pytorch(config, GRAPH) == pytest.approx(1000 / 250)
    assert step_figures(config, EAGER) is None and ratio_to_pytorch(config, EAGER) is None


def test_targets_are_judged_per_chainrule_mode():
    verdicts = target_verdicts(hand_made_results()["configs"])

    assert [(v["network"], v["batch"], v["wanted"]) for v in verdicts] == [("784-512-256-10", 128, 3.0),
                                                                          ("784-4096-4096-10", 8192, 0.95)]
    small, large = verdicts
    assert small["modes"][GRAPH] == {"ratio": pytest.approx(4.0), "met": True}
    assert small["modes"][EAGER] == {"ratio": None, "met": None}
    assert large["modes"][GRAPH] == {"ratio": pytest.approx(1.0), "met": True}
    assert large["modes"][EAGER] == {"ratio": pytest.approx(0.32 / 0.3424), "met": False}  # 0.93×


def test_summary_table_says_what_failed_and_what_was_skipped():
    text = "\n".join(summary_lines(hand_made_results()["configs"]))

    assert "failed: TypeError: fit() got an unexpected keyword argument 'graph'" in text
    assert "skipped: the time budget of 240 s had passed" in text
    assert "target: 784-512-256-10 at batch 128" in text and "met (4.00×)" in text


def test_report_replaces_the_marked_section_and_keeps_the_rest(tmp_path):
    results_path = tmp_path / "gpu_benchmark.json"
    results_path.write_text(json.dumps(hand_made_results()))
    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\nCPU text.\n\n<!-- gpu:begin -->\nold GPU text\n<!-- gpu:end -->\n\n## After\n\nkept.\n")

    assert gpu_report.main([str(results_path), "--out", str(out)]) == 0

    text = out.read_text()
    assert text.startswith("# Benchmarks\n\nCPU text.\n\n<!-- gpu:begin -->\n## GPU (CUDA)\n")
    assert text.endswith("<!-- gpu:end -->\n\n## After\n\nkept.\n")
    assert "old GPU text" not in text and text.count(gpu_report.BEGIN) == 1
    gpu_part = text.split(gpu_report.BEGIN)[1].split(gpu_report.END)[0]
    assert "**NVIDIA H200**" in gpu_part and "driver 580.95.05" in gpu_part and "cupy 14.2.0" in gpu_part
    assert "| 784-512-256-10 | 128 | 32,768 (256) | chainrule (CUDA graph) | 250 (200–300) | 512,000 |" in gpu_part
    assert "| chainrule (eager) | failed: TypeError: fit() got an unexpected keyword argument 'graph' |" in gpu_part
    assert "| 784-512-256-10 | 1024 | 32,768 (32) | all | skipped: the time budget of 240 s had passed" in gpu_part
    assert "chainrule (CUDA graph): met (4.00×); chainrule (eager): not measured." in gpu_part
    assert "chainrule (eager): not met (0.93×)." in gpu_part
    assert gpu_part.index("| 784-512-256-10 | 1024 |") < gpu_part.index("| 784-4096-4096-10 | 8192 |")  # read in order

    gpu_report.main([str(results_path), "--out", str(out)])  # idempotent
    assert out.read_text() == text


def test_report_is_appended_where_there_are_no_markers(tmp_path):
    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\nCPU text.\n")

    gpu_report.write_section(hand_made_results(), out)

    text = out.read_text()
    assert text.startswith("# Benchmarks\n\nCPU text.\n\n<!-- gpu:begin -->\n## GPU (CUDA)")
    assert text.endswith("<!-- gpu:end -->\n")


def test_report_refuses_a_lone_marker():
    with pytest.raises(ValueError, match="gpu:begin"):
        gpu_report.replace_section("text\n<!-- gpu:end -->\n", "new")


def test_plain_loop_learns_the_teacher_labels():
    X, y = teacher_data(2048, 16, 4)
    model = NumpyMLP((16, 64, 4), seed=0)
    rng = numpy.random.default_rng(0)
    losses = []
    for _ in range(20):
        order = rng.permutation(len(X))
        losses.append(numpy.mean([model.step(X[rows], y[rows], 0.05, 0.9)
                                  for rows in numpy.array_split(order, len(X) // 64)]))

    assert losses[0] < numpy.log(4) * 1.1 and losses[-1] < 0.5 * losses[0]
    assert (model.forward(X).argmax(axis=1) == y).mean() > 0.85


def test_plain_loop_contender_stamps_every_epoch():
    X, y = teacher_data(256, 16, 4)
    loop = PlainLoop((16, 32, 4), 32, X, y, device="cpu")

    stamps = loop.train(3, seed=0)

    assert len(stamps) == 3 and all(numpy.diff(stamps) > 0)


@pytest.fixture
def torch_tf32_settings():
    """PyTorch's TF32 switches, put back as they were after the test (the contender turns them off)."""
    torch = pytest.importorskip("torch")
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.get_float32_matmul_precision())
    yield torch
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved[:2]
    torch.set_float32_matmul_precision(saved[2])


def test_torch_contender_runs_on_the_cpu_with_tf32_off(torch_tf32_settings):
    torch = torch_tf32_settings
    X, y = teacher_data(256, 16, 4)

    stamps = TorchEager((16, 32, 4), 32, X, y, device="cpu").train(2, seed=0)

    assert len(stamps) == 2 and stamps[1] > stamps[0]
    assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32


def test_chainrule_contender_runs_fit_on_the_cpu():
    X, y = teacher_data(256, 16, 4)

    stamps = ChainruleFit((16, 32, 4), 32, X, y, device="cpu", graph=False).train(2, seed=0)

    assert len(stamps) == 2 and stamps[1] > stamps[0]


@pytest.mark.skipif(not cuda_available(), reason="needs a CUDA device")
def test_chainrule_contender_runs_fit_with_a_cuda_graph():
    X, y = teacher_data(512, 16, 4)

    stamps = ChainruleFit((16, 32, 4), 32, X, y, device="cuda", graph=True).train(3, seed=0)

    assert len(stamps) == 3 and all(numpy.diff(stamps) > 0)


def test_tf32_switch_turns_it_off_for_every_library(tf32_environment):
    os.environ["CUPY_TF32"] = "1"

    found = switch_off_tf32()

    assert found["before"]["CUPY_TF32"] == "1"
    assert os.environ["NVIDIA_TF32_OVERRIDE"] == "0" and "CUPY_TF32" not in os.environ


def test_gemm_error_check_tells_float32_from_tf32():
    def tf32_matmul(A, B):  # operands rounded to TF32's 10-bit mantissa (truncated), float32 accumulation
        def to_tf32(M):
            return (M.view(numpy.uint32) & numpy.uint32(0xFFFFE000)).view(numpy.float32)
        return to_tf32(A) @ to_tf32(B)

    assert relative_gemm_error(numpy.matmul, n=256) < TF32_LIMIT / 10
    assert relative_gemm_error(tf32_matmul, n=256) > TF32_LIMIT


def test_configurations_run_the_targets_first_with_whole_batches():
    configs = gpu.configurations(gpu.FULL)

    assert [(c["network"], c["batch"]) for c in configs[:2]] == [("784-512-256-10", 128), ("784-4096-4096-10", 8192)]
    assert len(configs) == 6
    for config in configs:
        assert config["rows"] == config["steps_per_epoch"] * config["batch"] and config["steps_per_epoch"] >= 16


def test_a_failing_contender_is_recorded_and_the_others_still_run(tmp_path, monkeypatch, tf32_environment):
    def broken(sizes, batch, X, y):
        raise RuntimeError("no such device")

    makers = {"broken": broken, "plain NumPy loop": lambda *data: PlainLoop(*data, device="cpu")}
    monkeypatch.setattr(gpu, "gpu_contenders", lambda device: makers)
    out = tmp_path / "results.json"

    assert gpu.main(["--smoke", "--device", "cpu", "--repeats", "1", "--json", str(out)]) == 0

    results = json.loads(out.read_text())
    assert results["finished"] and results["environment"]["tf32"]["environment"]["before"]["CUPY_TF32"] is None
    for config in results["configs"]:
        assert config["status"] == "measured"
        assert config["contenders"]["broken"]["error"] == "RuntimeError: no such device"
        assert len(config["contenders"]["plain NumPy loop"]["epoch_seconds"]) == 2  # 1 timed epoch × 2 blocks


def test_the_budget_skips_what_was_not_started(tmp_path, tf32_environment):
    out = tmp_path / "results.json"

    assert gpu.main(["--smoke", "--device", "cpu", "--budget-seconds", "0", "--json", str(out)]) == 0

    results = json.loads(out.read_text())
    assert {config["status"] for config in results["configs"]} == {"skipped"}
    assert "time budget of 0 s" in gpu_report.section(results)


@pytest.mark.skipif(cuda_available(), reason="checks the refusal on a machine without a GPU")
def test_without_a_gpu_the_benchmark_says_so(tmp_path, tf32_environment, capsys):
    assert gpu.main(["--smoke", "--json", str(tmp_path / "results.json")]) == 2
    assert "no CUDA device" in capsys.readouterr().err
