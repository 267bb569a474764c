"""chainrule train --resume of a checkpoint that cannot be resumed (unreadable, damaged, foreign, a
model file, a directory, missing): one line naming the option and the checkpoint, and what was
expected there, as the other --resume errors do; it said "model file" and named no option."""

import json
import os
import shutil
import struct

import pytest

from chainrule.io import read, save

from .helpers import assert_one_line_error, call, run_bound_by_permissions


def truncated(path):
    path.write_bytes(path.read_bytes()[:1000])


def tensors_cut_short(path):
    path.write_bytes(path.read_bytes()[:-10])


def empty(path):
    path.write_bytes(b"")


def a_directory(path):
    path.unlink()
    path.mkdir()


def a_model_file(path):
    shutil.copy(path.parent / "model.safetensors", path)


def text(path):
    path.write_text('{"epoch": 3}\n')


def a_pickle(path):
    path.write_bytes(b"\x80\x04\x95" + bytes(20))


def header_not_json(path):
    data = path.read_bytes()
    path.write_bytes(data[:8] + b"#" + data[9:])


def metadata_not_json(path):
    data = path.read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    header["__metadata__"]["chainrule"] = header["__metadata__"]["chainrule"][:-3]
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data[8 + length:])


def another_programs_safetensors(path):
    data = path.read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    del header["__metadata__"]
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data[8 + length:])


def a_byte_changed(path):
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))


def epoch_left_out(path):
    model, tensors, extra = read(path)
    del extra["epoch"]
    save(model, path, extra_tensors=tensors, extra_json=extra, seal=True)


BAD = {  # how the checkpoint was spoilt: what the error line says was wrong, or expected
    truncated: "not a chainrule checkpoint, or a damaged one: its first 8 bytes give a header length of",
    tensors_cut_short: "truncated checkpoint: its tensors need",
    empty: "not a chainrule checkpoint, or a damaged one: it is only 0 bytes long",
    a_directory: "is a directory, not a checkpoint file",
    a_model_file: "not a training checkpoint (a model file without training state); expected the checkpoint a run",
    text: "not a chainrule checkpoint, or a damaged one: ",
    a_pickle: "it looks like a Python pickle",
    header_not_json: "not a chainrule checkpoint, or a damaged one: its header is not valid JSON",
    metadata_not_json: "damaged chainrule metadata: not valid JSON",
    another_programs_safetensors: "not a chainrule checkpoint: a safetensors file without chainrule's metadata",
    a_byte_changed: "its contents differ from the SHA-256 it recorded",
    epoch_left_out: "checkpoint field epoch: expected an integer",
}


@pytest.fixture
def run(tmp_path, capsys):
    folder = tmp_path / "run"
    code, _, err = call(capsys, "train", "--data", "iris", "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots",
                        "--out", folder)
    assert code == 0, err
    return folder


@pytest.mark.parametrize("spoil", BAD, ids=lambda spoil: spoil.__name__)
def test_a_checkpoint_that_cannot_be_resumed_is_named_with_the_option(run, capsys, spoil):
    checkpoint = run / "checkpoint.safetensors"
    spoil(checkpoint)
    before = {path.name: path.read_bytes() for path in run.iterdir() if path.is_file()}
    code, out, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "2", "--quiet", "--no-plots")
    line = assert_one_line_error(code, err, f"chainrule: error: --resume: {checkpoint}: ", BAD[spoil])
    if spoil is not a_model_file:
        assert "model file" not in line
    assert out == "" and {path.name: path.read_bytes() for path in run.iterdir() if path.is_file()} == before


def test_a_missing_checkpoint_is_named_with_the_option(tmp_path, capsys):
    code, _, err = call(capsys, "train", "--resume", tmp_path / "gone.safetensors", "--quiet")
    assert_one_line_error(code, err, f"chainrule: error: --resume: {tmp_path / 'gone.safetensors'}: no such "
                                     f"checkpoint file")


@pytest.mark.skipif(os.name != "posix", reason="POSIX file permissions")
def test_an_unreadable_checkpoint_is_named_with_the_option(run):
    checkpoint = run / "checkpoint.safetensors"
    checkpoint.chmod(0)
    try:
        result = run_bound_by_permissions("train", "--resume", checkpoint, "--epochs", "2", "--quiet", "--no-plots")
    finally:
        checkpoint.chmod(0o644)
    assert_one_line_error(result.returncode, result.stderr, f"chainrule: error: --resume: {checkpoint}: cannot read "
                                                            f"the checkpoint (Permission denied)")


def test_a_damaged_copy_of_a_checkpoint_is_not_told_to_resume_the_run_folders_checkpoint(run, capsys):
    """The line of every file --resume could not read in a run folder ended '--resume takes the run's checkpoint:
    RUN/checkpoint.safetensors', as if a copy of it (a snapshot of an earlier epoch) could not be resumed; only a
    model file, which holds no training state, is pointed at the checkpoint beside it."""
    snapshot = run / "epoch-1.safetensors"
    shutil.copy(run / "checkpoint.safetensors", snapshot)
    a_byte_changed(snapshot)
    code, _, err = call(capsys, "train", "--resume", snapshot, "--epochs", "2", "--quiet", "--no-plots")
    line = assert_one_line_error(code, err, f"chainrule: error: --resume: {snapshot}: ", BAD[a_byte_changed])
    assert "checkpoint.safetensors" not in line.replace(str(snapshot), "")
