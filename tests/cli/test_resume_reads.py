"""chainrule train --resume reads its checkpoint once: the configuration it compares and the
state it resumes come from one file, even if another process replaces the file meanwhile."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import config as config_module, resume_checks, run_folder, train as train_command
from chainrule.io import model_file, read, save
from chainrule.training.checkpoint import read_checkpoint

from .helpers import call

IRIS = ["--data", "iris", "--hidden", "8", "--patience", "0", "--quiet", "--no-plots"]


def test_resume_reads_the_checkpoint_once(tmp_path, capsys, monkeypatch):
    assert call(capsys, "train", *IRIS, "--epochs", "2", "--out", tmp_path / "cut")[0] == 0
    checkpoint = tmp_path / "cut" / "checkpoint.safetensors"
    reads = []
    read_header = model_file.read_header  # every chainrule.io.read starts here

    def counted_read_header(path, *args, **kwargs):
        if Path(path).resolve() == checkpoint.resolve():
            reads.append(path)
        return read_header(path, *args, **kwargs)

    monkeypatch.setattr(model_file, "read_header", counted_read_header)
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "3", "--quiet")
    assert code == 0, err
    assert len(reads) == 1


@pytest.mark.parametrize("run_ids", [True, False])
def test_resume_reads_the_config_toml_beside_a_checkpoint_without_configuration_once(tmp_path, capsys, monkeypatch,
                                                                                     run_ids):
    # each step that needed the run's values read it again: resolving the configuration, the check that the folder
    # holds the run (which, without run ids, read it once more as the folder's), and the checks of the data's
    # widths and file when they differ from the run's
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--out", tmp_path / "run")[0] == 0
    checkpoint = tmp_path / "run" / "checkpoint.safetensors"
    model, tensors, extra = read(checkpoint)
    del model.metadata["config"]  # as a chainrule train of long ago saved it
    save(model, checkpoint, extra_tensors=tensors, extra_json=extra)
    if not run_ids:  # a run of before run ids: the folder's config.toml is compared with the run's
        metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
        del metrics["run_id"]
        (tmp_path / "run" / "metrics.json").write_text(json.dumps(metrics))
    beside = tmp_path / "run" / "config.toml"
    reads = []
    for module in (config_module, resume_checks, run_folder, train_command):  # each holds read_config by name
        read_config = module.read_config
        monkeypatch.setattr(module, "read_config", lambda path, read_config=read_config: (
            reads.append(path) if Path(path).resolve() == beside.resolve() else None) or read_config(path))
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "2", "--quiet")
    assert code == 0, err
    assert len(reads) == 1


def test_resume_continues_the_checkpoint_it_read_when_the_file_is_replaced(tmp_path, capsys, monkeypatch):
    # Another process writes a later checkpoint (atomically) while the resumed run loads its data.
    assert call(capsys, "train", *IRIS, "--epochs", "2", "--out", tmp_path / "cut")[0] == 0
    # Another run of the same network (another learning rate): its checkpoint would be accepted.
    assert call(capsys, "train", *IRIS, "--lr", "0.3", "--epochs", "3", "--out", tmp_path / "later")[0] == 0
    assert call(capsys, "train", *IRIS, "--epochs", "4", "--out", tmp_path / "whole")[0] == 0
    checkpoint = tmp_path / "cut" / "checkpoint.safetensors"
    read_data = train_command.read_data

    def read_data_while_replaced(*args, **kwargs):
        shutil.copyfile(tmp_path / "later" / "checkpoint.safetensors", tmp_path / "replacement")
        (tmp_path / "replacement").replace(checkpoint)
        return read_data(*args, **kwargs)

    monkeypatch.setattr(train_command, "read_data", read_data_while_replaced)
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "4", "--quiet")
    assert code == 0, err
    resumed, whole = (cr.load(tmp_path / name / "model.safetensors") for name in ("cut", "whole"))
    assert resumed.metadata["training"]["epochs"] == 4
    assert all(np.array_equal(resumed.params[name], whole.params[name]) for name in whole.params)


def test_a_read_checkpoint_is_taken_once_then_read_again(tmp_path, monkeypatch):
    # cr.fit takes what read_checkpoint read (training holds no second copy of the state);
    # given the same object again, it reads the file, as for a plain path.
    X, y = np.random.default_rng(0).normal(size=(30, 3)), np.arange(30) % 2
    checkpoint = tmp_path / "checkpoint.safetensors"
    cr.fit(cr.mlp([3, 4, 2], seed=0), X, y, epochs=1, checkpoint=checkpoint, seed=0, verbose=0)
    read_once = read_checkpoint(checkpoint)
    assert str(read_once) == str(checkpoint) and read_once.extra["epoch"] == 1
    reads = []
    read_header = model_file.read_header
    monkeypatch.setattr(model_file, "read_header", lambda path, *args: reads.append(path) or read_header(path, *args))
    for expected_reads in (0, 1):
        history = cr.fit(cr.mlp([3, 4, 2], seed=0), X, y, epochs=2, seed=0, verbose=0, resume=read_once)
        assert history.epochs == 2 and len(reads) == expected_reads
        assert (read_once.model, read_once.tensors, read_once.extra) == (None, None, None)
