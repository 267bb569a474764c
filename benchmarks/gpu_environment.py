"""What the GPU numbers were measured on, and TF32 kept off for every contender.

On an Ampere-or-later GPU, cuBLAS may run float32 GEMMs on tensor cores in TF32, which rounds
the operands to a 10-bit mantissa: faster, and not float32. The benchmark compares true float32:

- ``NVIDIA_TF32_OVERRIDE=0``, NVIDIA's global switch read by cuBLAS and cuDNN when they load: it
  can only turn TF32 off, and covers CuPy, PyTorch and chainrule's own cuBLAS calls alike;
- ``CUPY_TF32`` removed (CuPy uses TF32 only when it is "1") and ``TORCH_ALLOW_TF32_CUBLAS_OVERRIDE``
  removed (it would force TF32 on in PyTorch);
- PyTorch's own flags off (``switch_off_torch_tf32``, called by the PyTorch contender).

The variables are read when the libraries load, so ``switch_off_tf32`` must run before CuPy or
PyTorch is imported. ``gemm_errors`` checks the outcome: the largest error of a 1024² float32
GEMM against float64, relative to the largest entry, is about 1e-6 in float32 and 1e-3 in TF32.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys

import numpy

TF32_SWITCH = ("NVIDIA_TF32_OVERRIDE", "0")
TF32_FORCING = ("CUPY_TF32", "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE")
TF32_LIMIT = 1e-4  # a relative GEMM error above this means the GEMM ran in TF32 (or worse)


def switch_off_tf32() -> dict:
    """Set the environment so that no library may use TF32; returns what it found before.

    ``loaded_before`` names CuPy or PyTorch if either was imported already (then the switch
    comes too late for it, which the report says).
    """
    names = (TF32_SWITCH[0],) + TF32_FORCING
    found = {"before": {name: os.environ.get(name) for name in names},
             "loaded_before": [name for name in ("cupy", "torch") if name in sys.modules]}
    os.environ[TF32_SWITCH[0]] = TF32_SWITCH[1]
    for name in TF32_FORCING:
        os.environ.pop(name, None)
    return found


def switch_off_torch_tf32(torch) -> None:
    """PyTorch's TF32 flags off: GEMMs (cuBLAS) and convolutions (cuDNN) in full float32."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")


def torch_tf32_flags() -> dict:
    """PyTorch's TF32 settings as read back after the run (empty when PyTorch was not loaded)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return {}
    return {"cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
            "float32_matmul_precision": torch.get_float32_matmul_precision()}


def relative_gemm_error(matmul, n: int = 1024) -> float:
    """Largest |matmul(A, B) − A·B| over the largest |A·B|, A and B float32 n×n, A·B exact in float64."""
    rng = numpy.random.default_rng(0)
    A, B = (rng.standard_normal((n, n), dtype=numpy.float32) for _ in range(2))
    exact = A.astype(numpy.float64) @ B.astype(numpy.float64)
    return float(numpy.abs(matmul(A, B) - exact).max() / numpy.abs(exact).max())


def cupy_matmul(A, B):
    import cupy

    return cupy.asnumpy(cupy.asarray(A) @ cupy.asarray(B))


def torch_matmul(A, B):
    import torch

    device = torch.device("cuda")
    return (torch.from_numpy(A).to(device) @ torch.from_numpy(B).to(device)).cpu().numpy()


def gemm_errors() -> dict:
    """``{library: relative error}`` of a float32 GEMM on the GPU (or ``"failed: …"``)."""
    found = {}
    for name, matmul in (("cupy", cupy_matmul), ("torch", torch_matmul)):
        try:
            found[name] = relative_gemm_error(matmul)
        except Exception as error:  # a missing library or device is reported, not fatal
            found[name] = f"failed: {type(error).__name__}: {error}"
    return found


def cuda_version(number: int) -> str:
    """CUDA's integer versions as written: 13000 -> "13.0"."""
    return f"{number // 1000}.{number % 1000 // 10}"


def cupy_device() -> dict:
    """Name, memory, compute capability and CUDA versions of device 0, as CuPy sees them."""
    import cupy

    runtime = cupy.cuda.runtime
    properties = runtime.getDeviceProperties(0)
    name = properties["name"]
    return {"name": name.decode() if isinstance(name, bytes) else str(name),
            "memory_gib": properties["totalGlobalMem"] / 2**30,
            "compute_capability": f"{properties['major']}.{properties['minor']}",
            "cuda_driver_api": cuda_version(runtime.driverGetVersion()),
            "cuda_runtime": cuda_version(runtime.runtimeGetVersion())}


def nvidia_smi() -> dict:
    """The driver version and clocks as ``nvidia-smi`` reports them (empty without it)."""
    fields = ("driver_version", "clocks.max.sm", "power.limit")
    try:
        out = subprocess.run(["nvidia-smi", f"--query-gpu={','.join(fields)}", "--format=csv,noheader"],
                             capture_output=True, text=True, check=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    values = [value.strip() for value in out.splitlines()[0].split(",")] if out.strip() else []
    return dict(zip(fields, values))


def versions() -> dict:
    found = {"python": platform.python_version()}
    for package in ("chainrule", "numpy", "cupy", "torch"):
        try:
            found[package] = sys.modules[package].__version__ if package in sys.modules else importlib.metadata.version(package)
        except (importlib.metadata.PackageNotFoundError, AttributeError):
            pass
    torch = sys.modules.get("torch")
    if torch is not None and torch.version.cuda:
        found["torch CUDA"] = torch.version.cuda
    return found


def describe_gpu() -> dict:
    """The device and the software, each part ``"failed: …"`` rather than missing when it cannot be read."""
    found = {"platform": platform.platform(), "cpu_count": os.cpu_count()}
    try:
        found["device"] = cupy_device()
    except Exception as error:  # no CuPy or no device: say so in the report
        found["device"] = {"name": f"unknown (failed: {type(error).__name__}: {error})"}
    found["nvidia_smi"] = nvidia_smi()
    found["versions"] = versions()
    return found
