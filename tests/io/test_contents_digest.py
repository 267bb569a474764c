"""chainrule.io.contents_digest: the SHA-256 a sealed model file (a checkpoint) records of its contents."""

import hashlib
import json
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import ModelFileError
from chainrule.io import read, save
from chainrule.io.contents_digest import contents_digest, is_digest


def document_of(path):
    data = path.read_bytes()
    return json.loads(json.loads(data[8:8 + int.from_bytes(data[:8], "little")])["__metadata__"]["chainrule"])


def test_the_digest_ignores_key_order_and_its_own_field_but_not_a_value_or_a_byte():
    tensors = {"a": np.arange(3, dtype=np.float32), "b": np.ones((2, 2))}
    digest = contents_digest({"x": 1, "y": [1.5, None]}, tensors)
    assert is_digest(digest)
    assert contents_digest({"y": [1.5, None], "x": 1, "sha256": digest}, dict(reversed(tensors.items()))) == digest
    assert contents_digest({"x": 2, "y": [1.5, None]}, tensors) != digest
    assert contents_digest({"x": 1, "y": [1.5, None]}, {**tensors, "a": np.arange(3, dtype=np.float64)}) != digest
    assert contents_digest({"x": 1, "y": [1.5, None]}, {"a": tensors["b"], "b": tensors["a"]}) != digest


def test_a_sealed_file_records_its_digest_and_reads_back(tmp_path):
    model = cr.mlp([4, 3, 2], seed=0)
    save(model, tmp_path / "sealed.safetensors", extra_tensors={"m": np.zeros(5)}, extra_json={"epoch": np.int64(3)},
         seal=True)
    save(model, tmp_path / "plain.safetensors")
    assert is_digest(document_of(tmp_path / "sealed.safetensors")["sha256"])
    assert "sha256" not in document_of(tmp_path / "plain.safetensors")
    assert read(tmp_path / "sealed.safetensors")[2] == {"epoch": 3}


@pytest.mark.parametrize("value", ["0" * 63, "A" * 64, 5, None])
def test_a_digest_field_that_is_not_a_sha256_is_refused_naming_it(tmp_path, value):
    path = tmp_path / "sealed.safetensors"
    save(cr.mlp([4, 3, 2], seed=0), path, seal=True)
    data = path.read_bytes()
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    document = json.loads(header["__metadata__"]["chainrule"])
    document["sha256"] = value
    header["__metadata__"]["chainrule"] = json.dumps(document)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + data[8 + size:])
    with pytest.raises(ModelFileError, match="sha256: expected 64 lowercase hexadecimal digits"):
        read(path)


def test_the_digest_covers_a_tensors_shape_as_it_is_even_of_no_dimension():
    # numpy.ascontiguousarray gave a 0-d tensor (a callback's scalar state) shape (1,): the digest recorded
    # the shape [1] for [], though it says it covers each tensor's shape
    assert contents_digest({}, {"a": np.array(1.0)}) != contents_digest({}, {"a": np.array([1.0])})
    assert contents_digest({}, {"a": np.ones((2, 3))[:, ::2]}) == contents_digest({}, {"a": np.ones((2, 2))})


def test_the_digest_reads_each_tensor_where_it_is_without_a_copy():
    # tensor.tobytes() copied every tensor whole: a checkpoint's seal needed as much memory again as its largest
    # tensor (the weights of a layer, Adam's m or v), and twice the time or more (90 MB of float32: 0.10 s against 0.05)
    m = np.ones(1_000_000)
    tracemalloc.start()
    try:
        contents_digest({}, {"m": m})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < m.nbytes / 10
    big_endian = np.arange(4, dtype=">f8")  # hashed as the file holds it, little-endian
    assert contents_digest({}, {"v": big_endian}) == contents_digest({}, {"v": np.arange(4, dtype="<f8")})


def test_the_digest_is_reproduced_from_the_steps_in_docs_design_md(tmp_path):
    # the specification another implementation follows: the file's bytes, the standard library alone
    model = cr.mlp([4, 3, 2], seed=0)
    model.metadata["names"] = ["s\u00e9tosa", "\U0001f600", "a/b\n"]
    save(model, tmp_path / "sealed.safetensors", seal=True,
         extra_tensors={"optimizer.t": np.array(7, dtype=np.int64), "flags": np.array([True, False])},
         extra_json={"sha256": "not the digest", "values": [1e-05, 1e16, -0.0, 2**70, 0.1], "z": {"b": 1, "a": 2}})
    data = (tmp_path / "sealed.safetensors").read_bytes()
    size = int.from_bytes(data[:8], "little")
    header, body = json.loads(data[8:8 + size]), data[8 + size:]
    document = json.loads(header["__metadata__"]["chainrule"])
    recorded = document.pop("sha256")
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False).encode())
    numpy_names = {"BOOL": "bool", "I64": "int64", "F32": "float32"}
    for name in sorted(key for key in header if key != "__metadata__"):
        entry = header[name]
        digest.update(json.dumps([name, numpy_names[entry["dtype"]], entry["shape"]]).encode("ascii"))
        start, end = entry["data_offsets"]
        digest.update(body[start:end])
    assert digest.hexdigest() == recorded
    assert read(tmp_path / "sealed.safetensors")[2]["sha256"] == "not the digest"
