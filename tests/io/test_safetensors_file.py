"""chainrule.io.safetensors_file: the safetensors container read without trusting it, as model
files and weights files both read it (each refusal here is one that both give)."""

import json
import os
import tracemalloc

import numpy as np
import pytest
import safetensors.numpy

from chainrule.errors import HyperparameterError, ModelFileError
from chainrule.io import safetensors_file
from chainrule.io.safetensors_file import (
    ITEMSIZES, MAX_DIMS, MAX_HEADER_BYTES, check_spans, open_tensors, read_header, read_tensor, tensor_entries,
)


def write_safetensors(path, header, body=b""):
    """A safetensors file with exactly this header (a dict made JSON) and body."""
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + body)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "t.safetensors"
    path.write_bytes(safetensors.numpy.save({"a": np.arange(6, dtype=np.float32).reshape(2, 3),
                                             "n": np.array([7], dtype=np.int64)}, metadata={"k": "v"}))
    return path


def test_reads_the_header_and_the_body_size(saved):
    header, body_size = read_header(saved)
    assert header["__metadata__"] == {"k": "v"}
    assert sorted(tensor_entries(header, saved)) == ["a", "n"]
    assert body_size == 6 * 4 + 8
    check_spans(tensor_entries(header, saved), body_size, saved)
    with open_tensors(saved) as file:
        np.testing.assert_array_equal(read_tensor(file, "a", np.dtype("float32"), (2, 3), saved),
                                      np.arange(6).reshape(2, 3))


def test_itemsizes_cover_what_safetensors_numpy_writes():
    assert ITEMSIZES["F32"] == 4 and ITEMSIZES["F64"] == 8 and ITEMSIZES["BOOL"] == 1 and "BF16" not in ITEMSIZES


@pytest.mark.parametrize("what", ["model file", "weights file"])
def test_messages_name_what_is_read(tmp_path, what):
    with pytest.raises(ModelFileError, match=f"nope: no such {what}$"):
        read_header(tmp_path / "nope", what)
    with pytest.raises(ModelFileError, match=f"is a directory, not a {what}$"):
        read_header(tmp_path, what)
    (tmp_path / "short").write_bytes(b"abc")
    with pytest.raises(ModelFileError, match=f"not a chainrule {what}, or a damaged one: it is only 3 bytes long"):
        read_header(tmp_path / "short", what)


def test_a_crafted_header_length_is_refused_without_reading_it(saved):
    saved.write_bytes((2**62).to_bytes(8, "little") + saved.read_bytes()[8:])
    with pytest.raises(ModelFileError, match=f"header length of {2**62} bytes, but only"):
        read_header(saved)


def test_a_header_longer_than_safetensors_reads_is_refused_without_reading_it(tmp_path):
    # A sparse file: a few bytes on disk, gigabytes by its size, which the header length fits in; the
    # header was read whole (here 100 MB of zeros; 3 GB for a 4 GB file) before its JSON was refused.
    path = tmp_path / "sparse.safetensors"
    with open(path, "wb") as file:
        file.write((MAX_HEADER_BYTES + 1).to_bytes(8, "little") + b"{")
        file.truncate(8 + MAX_HEADER_BYTES + 1)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=f"header length of {MAX_HEADER_BYTES + 1:,} bytes, more than the "
                                                 f"{MAX_HEADER_BYTES:,} a safetensors header may have"):
            read_header(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def test_a_header_of_the_most_safetensors_writes_is_not_refused_as_too_long(saved, monkeypatch):
    # The limit lowered to this file's header length: a header of exactly the limit is read, one byte over is
    # refused (a file of 100 MB of header would test the same at the real limit, reading all of it).
    length = int.from_bytes(saved.read_bytes()[:8], "little")
    monkeypatch.setattr(safetensors_file, "MAX_HEADER_BYTES", length)
    header, _ = read_header(saved)
    assert header["__metadata__"] == {"k": "v"}
    monkeypatch.setattr(safetensors_file, "MAX_HEADER_BYTES", length - 1)
    with pytest.raises(ModelFileError, match=f"header length of {length:,} bytes, more than the {length - 1:,}"):
        read_header(saved)


@pytest.mark.parametrize("head, onnx", [
    (b"\x08\x08\x12\tchainrule", True),  # ir_version 8, producer_name: what chainrule export --onnx writes
    (b"\x08\x07\x3a\x93\x03\n\x0c", True),  # ir_version 7, then the graph
    (b"\x08\x08\x28\x01\x3a\x93\x03\n", True),  # ir_version 8, model_version 1 (a varint), then the graph
    (b"\x08\x08\x2a\x01\x3a\x93\x03\n", False),  # field 5 length-delimited: no ModelProto writes it so
    (b"\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08", False),  # another varint after ir_version: no ModelProto
    (b"\x09\x08\x12\tchainrule", False),
])
def test_an_onnx_model_is_named_as_such(tmp_path, head, onnx):
    # its first 8 bytes were read as "a header length of 7593465221286594568 bytes", a ModelProto's tags
    path = tmp_path / "model.safetensors"
    path.write_bytes(head + bytes(40))
    with pytest.raises(ModelFileError) as raised:
        read_header(path)
    message = str(raised.value)
    assert (message == f"{path}: an ONNX model (as chainrule export --onnx writes), not a chainrule model file; run "
                       f"it with an ONNX runtime, or give chainrule the .safetensors file it was exported from (or, to "
                       f"resume a run, the run's checkpoint.safetensors)") == onnx
    assert ("header length" in message) != onnx


def test_path_must_be_a_file_path():
    with pytest.raises(HyperparameterError, match=r"path: expected a file path \(str or os\.PathLike\), got int 3"):
        read_header(3)


def test_entries_must_be_objects(tmp_path):
    write_safetensors(tmp_path / "t", {"a": [1, 2]})
    header, _ = read_header(tmp_path / "t")
    with pytest.raises(ModelFileError, match="tensor 'a': damaged header entry"):
        tensor_entries(header, tmp_path / "t")


@pytest.mark.parametrize("entry, body, message", [
    ({"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}, 4, "tensor 'a': damaged header entry"),
    ({"dtype": "F32", "shape": [-2], "data_offsets": [0, 4]}, 4, "tensor 'a': damaged header entry"),
    ({"dtype": "F32", "shape": [2], "data_offsets": [4, 0]}, 8, r"data_offsets \[4, 0\]: expected \[begin, end\]"),
    ({"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}, 8, r"its data_offsets \[0, 4\] span 4 bytes; its dtype "
                                                              r"F32 and shape \[2\] need 8"),
    ({"dtype": "F32", "shape": [2**40], "data_offsets": [0, 2**42]}, 8, "truncated weights file: its tensors need "
                                                                       f"{2**42} bytes after the header, only 8"),
    # 240 dimensions of 2**62 made a product too long for an error message: a raw ValueError from
    # int-to-str; 120,000 of them took 70 s of big-integer products first.
    ({"dtype": "U8", "shape": [2**62] * 240, "data_offsets": [0, 0]}, 0,
     f"tensor 'a': a shape of 240 dimensions; an array has at most {MAX_DIMS}$"),
    ({"dtype": "U8", "shape": [2**62] * MAX_DIMS, "data_offsets": [0, 0]}, 8,
     r"span 0 bytes; its dtype U8 and shape \[4611686018427387904, .*\.\.\. need more than the 8 bytes after the "
     r"header$"),
])
def test_spans_must_hold_exactly_each_tensor_inside_the_file(tmp_path, entry, body, message):
    with pytest.raises(ModelFileError, match=message):
        check_spans({"a": entry}, body, tmp_path / "t", "weights file")


def test_damaged_tensor_data_is_a_model_file_error(tmp_path):
    write_safetensors(tmp_path / "t", {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, bytes(12))
    with pytest.raises(ModelFileError, match="damaged tensor data"):
        with open_tensors(tmp_path / "t") as file:
            file.get_tensor("a")


def test_a_tensor_that_changed_since_the_header_was_read_is_refused(saved):
    with open_tensors(saved) as file:
        with pytest.raises(ModelFileError, match=r"tensor 'a' has dtype float32 and shape \[2, 3\], expected "
                                                 r"float64 and \[2, 3\] \(was the file replaced while being read\?\)"):
            read_tensor(file, "a", np.dtype("float64"), (2, 3), saved)


def test_a_dtype_that_is_not_a_string_is_a_damaged_entry(tmp_path):
    with pytest.raises(ModelFileError, match="t: tensor 'a': damaged header entry"):
        check_spans({"a": {"dtype": ["F32"], "shape": [2], "data_offsets": [0, 8]}}, 8, tmp_path / "t")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo (POSIX)")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    """open() of a FIFO blocked until a writer came: cr.load, load_weights and the CLI hung forever."""
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ModelFileError, match=r"pipe: not a regular file \(a pipe, device or socket\); a weights file"):
        read_header(tmp_path / "pipe", "weights file")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_refused_as_not_a_regular_file():
    """Its size is 0 for fstat: the message spoke of a header length with -8 bytes following."""
    with pytest.raises(ModelFileError, match="^/dev/zero: not a regular file"):
        read_header("/dev/zero")


@pytest.mark.parametrize("number", ["1e309", "-1e400"])
def test_a_json_number_beyond_a_float_is_refused(tmp_path, number):
    """json read 1e309 as infinity, which saving refuses: the file loaded and could not be saved again."""
    text = b'{"__metadata__": {"k": "v"}, "x": ' + number.encode() + b"}"
    (tmp_path / "t").write_bytes(len(text).to_bytes(8, "little") + text)
    with pytest.raises(ModelFileError, match=f"its header is not valid JSON \\(the number '{number}' is beyond a "
                                             f"float's range\\)"):
        read_header(tmp_path / "t")


def test_a_refused_path_leaves_no_file_descriptor_open(tmp_path):
    """open() of a directory's descriptor raised, leaving it open: one descriptor leaked per call."""
    (tmp_path / "folder").mkdir()
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    for _ in range(20):
        with pytest.raises(ModelFileError, match="is a directory"):
            read_header(tmp_path / "folder")
        if hasattr(os, "mkfifo"):
            with pytest.raises(ModelFileError, match="not a regular file"):
                read_header("/dev/null")
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before
