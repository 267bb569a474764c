"""The file a command writes must not be one of the files it reads.

``chainrule predict MODEL DATA -o MODEL`` or ``chainrule export MODEL --onnx MODEL`` would
replace the input with the output, atomically and without a word. The commands check their
output path against their inputs first, then that it can be written
(``chainrule.io.atomic.check_writable``: not a directory, nor in a missing folder, nor a file
this user may not write, which the atomic write refuses as a shell redirection does), before
their work, naming the option. What only the write itself finds (a full disk, a folder made
read-only or removed meanwhile) names the option too (:func:`named_by_option`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from ..data import BUILTIN_DATASETS
from ..data.files import is_idx_directory, read_paths
from ..data.idx_file import idx_directory_claims
from ..errors import ChainruleError, ConfigError


def refuse_input_as_output(output, option: str, inputs: dict) -> None:
    """ConfigError when ``output`` (given as ``option``) is the same file as an input.

    ``inputs`` maps what each input is ("model file", "data") to its path as given; a data
    spec of several IDX files (``IMAGES, LABELS``) is checked file by file, and so is an IDX
    directory's every file that is read (``mn/t10k-images-idx3-ubyte``). Names that are not
    existing files (a file still to be created) never match, but for one in an IDX directory
    that is the data (:func:`refuse_idx_directory_name`); nor does a "data" spec that is a
    built-in data set's name, even beside a file of that name: the data is then the built-in.
    """
    for what, given in inputs.items():
        if what == "data" and given in BUILTIN_DATASETS:  # read as the built-in, never as the file
            continue
        for part in read_paths(given):
            if _same_file(output, part):
                raise ConfigError(f"{option} {output}: that is the {what} ({part}), which would be overwritten; "
                                  f"write to another file")
        if what == "data":
            refuse_idx_directory_name(output, option, given)


def refuse_idx_directory_name(output, option: str, data) -> None:
    """ConfigError when ``output`` (given as ``option``) would be read as one of the files of ``data``,
    an IDX directory: a name the loader prefers to the file it reads now (``mn/train-images-idx3-ubyte``
    beside ``mn/train-images-idx3-ubyte.gz``), or one of a file the directory lacks (its test images),
    through links too. Nothing would be overwritten, but the directory would then read the CSV
    written there and no longer load. Any other data, and any other name, pass."""
    if not is_idx_directory(data):
        return
    target = os.path.realpath(output)  # where the atomic write puts it, through a link
    if not _same_file(os.path.dirname(target), data):
        return
    claim = idx_directory_claims(data).get(os.path.basename(target))
    if claim is not None:
        role, found = claim
        now = f"in place of {found.name}" if found is not None else "it has none now"
        raise ConfigError(f"{option} {output}: the data, the IDX directory {data}, would read a file of that name "
                          f"as its {role} ({now}), and no longer load; write to another file")


def _same_file(a, b) -> bool:
    """Whether the paths ``a`` and ``b`` name one existing file (links and /dev/stdout followed)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # either does not exist, or cannot be looked at
        return False


@contextlib.contextmanager
def named_by_option(option: str, *outputs) -> Iterator[None]:
    """Inside, an atomic write's error for one of ``outputs`` (``out.csv: cannot write (No space left on
    device)``) is raised again led by the ``option`` that gave it, as :func:`~chainrule.io.atomic.check_writable`
    names it before the work: ``-o: out.csv: cannot write (...)``. Any other error passes as it is."""
    try:
        yield
    except ChainruleError as error:
        message = str(error)
        named = (path for output in outputs for path in (output, Path(output)))
        if not any(message.startswith(f"{path}: cannot write") for path in named):
            raise
        raise type(error)(f"{option}: {message}") from None
