"""chainrule.cli.run_folder: which folder a training run writes to, and the checks that it is free and writable."""

import re
from types import SimpleNamespace

import pytest

from chainrule.cli.run_folder import CHECKPOINT, check_folder_is_free, prepare_folder, run_folder
from chainrule.errors import ConfigError, DataError


def test_the_folder_is_out_then_the_resumed_checkpoints_folder(tmp_path):
    resume = str(tmp_path / "old" / CHECKPOINT)
    assert run_folder(SimpleNamespace(out=str(tmp_path / "new"), resume=resume)) == tmp_path / "new"
    assert run_folder(SimpleNamespace(out=None, resume=resume)) == tmp_path / "old"


def test_without_out_or_resume_the_folder_is_a_fresh_timestamp_under_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("time.strftime", lambda pattern: "20260101-120000")
    args = SimpleNamespace(out=None, resume=None)
    assert run_folder(args).as_posix() == "runs/20260101-120000"
    (tmp_path / "runs" / "20260101-120000").mkdir(parents=True)
    (tmp_path / "runs" / "20260101-120000-2").mkdir()
    assert run_folder(args).as_posix() == "runs/20260101-120000-3"


def test_the_timestamp_names_the_second(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert re.fullmatch(r"runs/\d{8}-\d{6}", run_folder(SimpleNamespace(out=None, resume=None)).as_posix())


def test_a_missing_or_empty_folder_is_free(tmp_path):
    check_folder_is_free(tmp_path / "absent", None)
    check_folder_is_free(tmp_path, None)


def test_a_folder_holding_files_is_refused_naming_it(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="the folder already holds files") as caught:
        check_folder_is_free(tmp_path, None)
    assert f"--out {tmp_path}:" in str(caught.value)
    assert "--resume" not in str(caught.value)


def test_a_folder_holding_a_checkpoint_is_refused_with_the_resume_hint(tmp_path):
    (tmp_path / CHECKPOINT).write_bytes(b"")
    with pytest.raises(ConfigError, match=re.escape(f"or continue its run with --resume {tmp_path / CHECKPOINT}")):
        check_folder_is_free(tmp_path, None)


def test_the_resumed_checkpoints_own_folder_is_free(tmp_path):
    (tmp_path / CHECKPOINT).write_bytes(b"")
    check_folder_is_free(tmp_path, tmp_path / CHECKPOINT)
    with pytest.raises(ConfigError, match="already holds files"):
        check_folder_is_free(tmp_path, tmp_path / "elsewhere" / CHECKPOINT)


def test_prepare_folder_creates_the_folder_and_leaves_it_empty(tmp_path):
    prepare_folder(tmp_path / "a" / "b")
    assert list((tmp_path / "a" / "b").iterdir()) == []


def test_prepare_folder_names_a_folder_it_cannot_create(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 'file' / 'run'}: cannot create the run folder")):
        prepare_folder(tmp_path / "file" / "run")
