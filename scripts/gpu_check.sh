#!/usr/bin/env bash
# The GPU checks of issue 6 in one run, on a machine with CuPy and a CUDA GPU (about 5 minutes):
#   1. the GPU tests (tests/gpu: gradcheck of every layer on CuPy, fused kernels against the
#      NumPy optimizers, cuBLAS GEMMs and CUDA-graph capture, CPU/GPU agreement of training runs);
#   2. the GPU benchmark against PyTorch eager CUDA and a plain CuPy loop (benchmarks/gpu.py).
# Logs and the benchmark's JSON go to $OUT (default: ./gpu_out). chainrule runs from src/, so
# only its dependencies need to be installed: numpy, cupy, safetensors, tqdm, scikit-learn,
# matplotlib, pytest, hypothesis (and torch for the benchmark's PyTorch contender).
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
unset CUPY_TF32  # float32 products in full float32 (no TF32), as for PyTorch in the benchmark
OUT="${OUT:-gpu_out}"
mkdir -p "$OUT"
PYTHON="${PYTHON:-python3}"

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv 2>&1 | tee "$OUT/device.txt"
"$PYTHON" - <<'PY' 2>&1 | tee -a "$OUT/device.txt"
import sys, numpy, cupy
print("python", sys.version.split()[0], "numpy", numpy.__version__, "cupy", cupy.__version__,
      "cuda runtime", cupy.cuda.runtime.runtimeGetVersion(), "device", cupy.cuda.runtime.getDeviceProperties(0)["name"])
PY

status=0
timeout "${TEST_SECONDS:-300}" "$PYTHON" -m pytest -q -p no:cacheprovider -rfE --durations=8 tests/gpu 2>&1 \
    | tee "$OUT/gpu_tests.log" || status=1
timeout "${BENCH_SECONDS:-240}" "$PYTHON" -m benchmarks.gpu --json "$OUT/gpu_benchmark.json" 2>&1 \
    | tee "$OUT/gpu_benchmark.log" || status=1
echo "gpu_check: tests and benchmark done, status $status"
exit $status
