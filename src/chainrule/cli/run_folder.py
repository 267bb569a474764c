"""The run folder of ``chainrule train``: which folder, and the checks that it is free and writable.

A run folder holds one run's files (the model, its checkpoint, metrics.json, config.toml, the
plots): ``--out``, else the resumed checkpoint's folder, else ``runs/<timestamp>/``.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import ConfigError, DataError
from ..io import atomic_write

CHECKPOINT = "checkpoint.safetensors"


def run_folder(args) -> Path:
    """The output folder: --out, the resumed checkpoint's folder, or runs/<timestamp>."""
    if args.out:
        return Path(args.out)
    if args.resume:
        return Path(args.resume).parent
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder, n = Path("runs") / stamp, 1
    while folder.exists():
        n += 1
        folder = Path("runs") / f"{stamp}-{n}"
    return folder


def check_folder_is_free(folder: Path, resume) -> None:
    """Refuse a run folder that already holds files, unless it is the resumed checkpoint's own folder.

    A run folder holds one run's files: writing into another run's folder would mix the two
    (its plots beside this run's model). ConfigError naming the folder and what to do instead.
    """
    if resume and folder.resolve() == Path(resume).resolve().parent:
        return
    try:
        in_use = folder.is_dir() and any(folder.iterdir())
    except OSError as error:
        raise DataError(f"{folder}: cannot read the run folder ({error.strerror})") from None
    if in_use:
        hint = f", or continue its run with --resume {folder / CHECKPOINT}" if (folder / CHECKPOINT).is_file() else ""
        raise ConfigError(f"--out {folder}: the folder already holds files (another run's?); "
                          f"give --out a new or empty folder{hint}")


def prepare_folder(folder: Path) -> None:
    """Create the run folder and prove it writable before training starts."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"{folder}: cannot create the run folder ({error.strerror})") from None
    atomic_write(folder / ".write-test", b"")
    (folder / ".write-test").unlink()
