"""What the numbers were measured on: machine, threads, BLAS kernel, library versions."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess


def cpu_model() -> str:
    """``lscpu``'s model name (falling back to ``platform.processor()``)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def versions() -> dict:
    found = {"python": platform.python_version()}
    for package in ("chainrule", "numpy", "torch", "scikit-learn", "threadpoolctl", "onnxruntime"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def thread_pools() -> list:
    """threadpoolctl's view of the loaded native pools: library, API, kernel, threads."""
    from threadpoolctl import threadpool_info

    return [{"library": info.get("internal_api"), "prefix": info.get("prefix"),
             "kernel": info.get("architecture") or "-", "threads": info.get("num_threads"),
             "version": info.get("version") or "-"} for info in threadpool_info()]


def describe(threads: int) -> dict:
    return {
        "cpu": cpu_model(), "cores": os.cpu_count(), "threads": threads, "versions": versions(),
        "load": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "pools": thread_pools(), "platform": platform.platform(),
        "env": {name: os.environ[name] for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")
                if name in os.environ},
    }
