"""Reading safetensors files without trusting them: the container under model and weights files.

A safetensors file is::

    8 bytes        N, the header length (unsigned little-endian)
    N bytes        JSON header: {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]},
                                 ..., "__metadata__": {"key": "string value", ...}}
    the rest       the tensors' bytes, back to back

This module reads the header with a bounded read (never more than the file holds, nor more
than the ``MAX_HEADER_BYTES`` safetensors itself reads and writes), parses
it, checks that each tensor's byte range is exactly what its dtype and shape need and lies
inside the file, and then reads the tensors themselves. What the tensors must be (their
names, dtypes and shapes) is for the caller to check in between: :mod:`.model_file` against
an architecture, :mod:`.weights` against a model. Every failure is a :class:`ModelFileError`
naming the file; ``what`` ("model file", "weights file") says in it what was being read.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
from typing import Iterator

import numpy
from safetensors import SafetensorError, safe_open

from ..checks import is_json_count
from ..errors import ModelFileError, quoted
from .atomic import check_path

PathLike = str | os.PathLike
TEXT_BYTES = frozenset(b"\t\n\r" + bytes(range(0x20, 0x7F)))  # printable ASCII: a text file's first bytes
METADATA = "__metadata__"  # the header entry holding the file's string-to-string metadata
#: the longest header safetensors writes or reads (its MAX_HEADER_SIZE): a longer one is refused before it is
#: read, so that a sparse file of a few bytes on disk, whose size says gigabytes, is not read into memory whole
MAX_HEADER_BYTES = 100_000_000
MAX_DIMS = 64 if int(numpy.__version__.split(".")[0]) >= 2 else 32  # the most dimensions NumPy's arrays have

#: the dtypes that safetensors.numpy writes and reads back (safetensors name -> NumPy name);
#: a header naming another (BF16, F8_E4M3...) is refused before loading
DTYPES = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "U16": "uint16", "I16": "int16", "F16": "float16",
          "U32": "uint32", "I32": "int32", "F32": "float32", "U64": "uint64", "I64": "int64", "F64": "float64"}
#: bytes per element of each dtype above
ITEMSIZES = {code: numpy.dtype(name).itemsize for code, name in DTYPES.items()}


def read_header(path: PathLike, what: str = "model file") -> tuple[dict, int]:
    """The JSON header of the safetensors file at ``path``, and the number of bytes after it.

    The header is read only if the file is long enough to hold it and it is at most
    ``MAX_HEADER_BYTES`` long, so a crafted length never makes this allocate more than the
    file's own size, nor more than 100 MB (a sparse file's size is not what it holds). Raises HyperparameterError if
    ``path`` is not a file path, ModelFileError for a missing, unreadable or foreign file.
    """
    check_path(path)
    head, file_size = _read_head(path, what)
    return _parse_header(head, file_size, path, what)


def tensor_entries(header: dict, path: PathLike) -> dict[str, dict]:
    """The header's tensor entries by name (the metadata left out), each checked to be a JSON object."""
    entries = {name: entry for name, entry in header.items() if name != METADATA}
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            raise ModelFileError(f"{path}: tensor {name!r}: damaged header entry")
    return entries


def check_spans(entries: dict[str, dict], body_size: int, path: PathLike, what: str = "model file") -> None:
    """Each tensor's data_offsets span exactly the bytes its dtype and shape need, and all lie
    within the ``body_size`` bytes after the header: so nothing is allocated for bytes the file
    lacks. ``entries`` as from :func:`tensor_entries`, their dtypes and shapes already checked by
    the caller against what it expects (checked here again only as far as the sizes need)."""
    for name, entry in entries.items():
        if not isinstance(entry.get("dtype"), str) or entry["dtype"] not in ITEMSIZES or not (
                isinstance(entry.get("shape"), list) and all(is_json_count(n) for n in entry["shape"])):
            raise ModelFileError(f"{path}: tensor {name!r}: damaged header entry")
        if len(entry["shape"]) > MAX_DIMS:  # no array has more; and the product below stays small to compute
            raise ModelFileError(f"{path}: tensor {quoted(name)}: a shape of {len(entry['shape'])} dimensions; "
                                 f"an array has at most {MAX_DIMS}")
        offsets = entry.get("data_offsets")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(offset) is int for offset in offsets)
                and 0 <= offsets[0] <= offsets[1]):
            raise ModelFileError(f"{path}: tensor {quoted(name)}: data_offsets {quoted(offsets, 60)}: expected "
                                 f"[begin, end], 0 <= begin <= end")
        size = math.prod(entry["shape"]) * ITEMSIZES[entry["dtype"]]
        if offsets[1] - offsets[0] != size:
            need = size if size.bit_length() <= 64 else f"more than the {body_size} bytes after the header"
            raise ModelFileError(
                f"{path}: tensor {quoted(name)}: its data_offsets {quoted(offsets, 60)} span "
                f"{quoted(offsets[1] - offsets[0], 30)} bytes; its dtype {entry['dtype']} and shape "
                f"{quoted(entry['shape'], 60)} need {need}"
            )
    needed = max((entry["data_offsets"][1] for entry in entries.values()), default=0)  # checked just above
    if needed > body_size:
        raise ModelFileError(
            f"{path}: truncated {what}: its tensors need {needed} bytes after the header, "
            f"only {body_size} are there"
        )


@contextlib.contextmanager
def open_tensors(path: PathLike, what: str = "model file") -> Iterator:
    """safetensors' reader for ``path``, for :func:`read_tensor`; called once the header is checked.

    safetensors checks the layout again (offsets, sizes, no bytes left over). It reads with
    pread(2) where safetensors offers it: a memory-mapped file would count its size once more
    in the process's memory. A safetensors or OS error inside the ``with`` block becomes a
    ModelFileError naming the file.
    """
    try:
        try:
            reader = safe_open(path, framework="np", backend="pread")
        except TypeError:  # a safetensors without the backend argument: memory-mapped
            reader = safe_open(path, framework="np")
        with reader as file:
            yield file
    except ModelFileError:
        raise
    except (SafetensorError, TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: damaged tensor data ({error})") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read the {what} ({error.strerror or error})") from None


def read_tensor(file, name: str, dtype: numpy.dtype, shape: tuple, path: PathLike) -> numpy.ndarray:
    """Tensor ``name`` from the open safetensors ``file``, which must have ``dtype`` and ``shape``
    (as checked in the header: the file may have been replaced since)."""
    tensor = file.get_tensor(name)
    if tensor.dtype != dtype or tensor.shape != shape:
        raise ModelFileError(
            f"{path}: tensor {name!r} has dtype {tensor.dtype} and shape {list(tensor.shape)}, "
            f"expected {dtype} and {list(shape)} (was the file replaced while being read?)"
        )
    return tensor


def reject_constant(name: str):
    """json.loads hook: NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def finite_float(text: str) -> float:
    """json.loads hook for a number with a fraction or exponent: ValueError for one beyond a
    float's range (1e309), which Python would read as infinity, a value save never writes."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {quoted(text, 30)} is beyond a float's range")
    return value


def _read_head(path: PathLike, what: str) -> tuple[bytes, int]:
    """The first 8 bytes of the file and the header they announce, and the file's size."""
    try:
        # Not blocking: a FIFO would wait for a writer in open(), forever; it is refused below.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        try:
            status = os.fstat(descriptor)
            if stat.S_ISDIR(status.st_mode):  # before open(): it raises on a directory and leaves the descriptor open
                raise IsADirectoryError
            if not stat.S_ISREG(status.st_mode):
                raise ModelFileError(f"{path}: not a regular file (a pipe, device or socket); a {what} is read from "
                                     f"a file, whose size its header is checked against")
        except BaseException:
            os.close(descriptor)
            raise
        with open(descriptor, "rb") as file:
            file_size = status.st_size
            head = file.read(8)
            length = int.from_bytes(head, "little")
            if len(head) == 8 and length <= min(file_size - 8, MAX_HEADER_BYTES):
                head += file.read(length)
            return head, file_size
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a directory, not a {what}") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read the {what} ({error.strerror or error})") from None


def _parse_header(head: bytes, file_size: int, path: PathLike, what: str) -> tuple[dict, int]:
    """The JSON header of a safetensors file from its ``head`` (see :func:`_read_head`), and the
    number of bytes after it."""
    if len(head) < 8:
        raise _foreign(path, head, what, f"it is only {len(head)} bytes long")
    length = int.from_bytes(head[:8], "little")
    if length > file_size - 8:
        raise _foreign(
            path, head, what,
            f"its first 8 bytes give a header length of {length} bytes, but only {file_size - 8} bytes follow"
        )
    if length > MAX_HEADER_BYTES:
        raise _foreign(path, head, what, f"its first 8 bytes give a header length of {length:,} bytes, more than "
                                         f"the {MAX_HEADER_BYTES:,} a safetensors header may have")
    if len(head) < 8 + length:  # the file shrank while being read
        raise _foreign(path, head, what, f"its header ends after {len(head) - 8} of its {length} bytes")
    try:
        header = json.loads(head[8:8 + length].decode("utf-8"), parse_constant=reject_constant,
                            parse_float=finite_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise _foreign(path, head, what, f"its header is not valid JSON ({error})") from None
    if not isinstance(header, dict):
        raise _foreign(path, head, what, "its header is not a JSON object")
    return header, file_size - 8 - length


def _foreign(path: PathLike, data: bytes, what: str, why: str) -> ModelFileError:
    """The error for a file that is not (or no longer) a safetensors file."""
    if looks_like_onnx(data):
        return ModelFileError(f"{path}: an ONNX model (as chainrule export --onnx writes), not a chainrule {what}; "
                              f"run it with an ONNX runtime, or give chainrule the .safetensors file it was exported "
                              f"from (or, to resume a run, the run's checkpoint.safetensors)")
    hint = ""
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        hint = "; it looks like a Python pickle, which chainrule never loads"
    elif data[:4] == b"PK\x03\x04":
        hint = "; it looks like a zip archive (a PyTorch .pt or NumPy .npz file?)"
    elif len(data) >= 8 and all(byte in TEXT_BYTES for byte in data[:8]):  # a length prefix is never text
        hint = f"; it starts with text ({quoted(data[:24].decode('ascii', 'replace'))}), like a CSV or other text file"
    return ModelFileError(f"{path}: not a chainrule {what}, or a damaged one: {why}{hint}")


def looks_like_onnx(data: bytes) -> bool:
    """Whether a file that is no safetensors file starts as a serialized ONNX ModelProto does, whatever
    its name: ir_version (field 1, a varint of one byte), then one of fields 2-8: producer_name,
    producer_version, domain, doc_string, graph and opset_import, length-delimited, or model_version
    (field 5), a varint. Its 8 bytes, read as a header length, exceed any file."""
    return data[:1] == b"\x08" and data[1:2] < b"\x80" and data[2:3] in ONNX_SECOND_TAGS


# The protobuf tags (field << 3 | wire type) of ModelProto's fields 2-8: wire type 2 (length-delimited)
# for all but model_version, an int64 of wire type 0.
ONNX_SECOND_TAGS = {bytes([field << 3 | (0 if field == 5 else 2)]) for field in range(2, 9)}
