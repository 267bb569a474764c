"""The ``--device`` option of train, evaluate and predict: where the model computes.

``cpu`` (NumPy) everywhere; ``cuda`` (CuPy, one NVIDIA GPU) with ``pip install
'chainrule[cuda]'``. The device is checked before any data is read, so a machine that
cannot compute there is refused in one line that names the option and the fix.
"""

from __future__ import annotations

from ..backend import DEVICES, cuda_available, module_for
from ..checks import choice
from ..errors import HyperparameterError


def add_device_argument(parser, default: str | None) -> None:
    """``--device {cpu,cuda}``; ``default`` None leaves the value to a config file."""
    parser.add_argument("--device", choices=DEVICES, default=default,
                        help=f"cpu, or cuda for an NVIDIA GPU (pip install 'chainrule[cuda]') [{default or 'cpu'}]")


def check_device(device: str, name: str = "--device") -> None:
    """Raise HyperparameterError naming ``name`` unless this machine can compute on ``device``."""
    choice(device, name, DEVICES)
    try:
        module_for(device)
    except HyperparameterError as error:
        raise HyperparameterError(f"{name}: {error}") from None
    if device == "cuda" and not cuda_available():
        raise HyperparameterError(f"{name}: device='cuda' needs a CUDA GPU, but CuPy sees none (no GPU or no driver)")
