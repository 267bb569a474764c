"""chainrule.cli.run_folder: which folder a training run writes to, and the checks that it is free and writable."""

import re
import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest

import chainrule.cli.run_folder as run_folder_module
import chainrule.io.atomic as atomic_module
from chainrule.cli.config import SavedConfig
from chainrule.cli.main import build_parser
from chainrule.cli.resume_checks import ResumedConfig
from chainrule.cli.run_folder import (CHECKPOINT, CONFIG, LOCK, check_folder_is_free, check_folder_path,
                                      check_holds_the_resumed_run, claim_folder, prepare_folder, release_folder,
                                      remove_stale_temporary_files, resume_option, run_folder)
from chainrule.errors import ConfigError, DataError
from chainrule.io import atomic_open


def test_a_folder_path_is_refused_from_the_length_at_which_its_files_paths_reach_the_limit(tmp_path, monkeypatch):
    """Its files' paths have up to 41 bytes more (a temporary file's name and the '/'); the system takes 4,095
    (PATH_MAX, 4,096, counts the NUL at the end), so 4,054 bytes is the longest folder path a run can write in."""
    monkeypatch.chdir(tmp_path)
    check_folder_path(Path("a/" * 2026 + "bb"))  # 4,054 bytes: nothing is made, nothing refused
    with pytest.raises(ConfigError, match=r"a folder path of 4,055 characters leaves no room"):
        check_folder_path(Path("a/" * 2026 + "bbb"))
    check_folder_path(Path("\u00e9/" * 1351 + "b"))  # 2,703 characters, 4,054 bytes ('\u00e9' is 2 in UTF-8)
    with pytest.raises(ConfigError, match=r"a folder path of 2,704 characters \(4,055 bytes\) leaves no room"):
        check_folder_path(Path("\u00e9/" * 1351 + "bb"))
    assert list(tmp_path.iterdir()) == []


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


def test_the_resumed_checkpoints_folder_is_free_only_as_a_run_folder(tmp_path):
    resume = tmp_path / "iris-ckpt.safetensors"
    resume.write_bytes(b"")
    (tmp_path / LOCK).write_bytes(b"")
    (tmp_path / ".chainrule-0123456789abcdef.tmp").write_bytes(b"")  # left by a run killed mid-write
    check_folder_is_free(tmp_path, resume)  # nothing else there: a run killed before its end
    (tmp_path / "metrics.json").write_text('{"mine": true}')
    with pytest.raises(ConfigError) as caught:
        check_folder_is_free(tmp_path, resume)
    assert str(caught.value) == (f"--resume {resume}: the checkpoint's folder {tmp_path} is not a run folder "
                                 f"(no config.toml) and holds other files, such as 'metrics.json', which the resumed "
                                 f"run's files could replace; pass --out DIR, a new or empty folder, for them")
    (tmp_path / CONFIG).write_text("")  # what chainrule train writes when a run ends
    check_folder_is_free(tmp_path, resume)


def test_prepare_folder_creates_the_folder_holding_only_its_lock_until_released(tmp_path):
    folder = tmp_path / "a" / "b"
    prepare_folder(folder)
    assert [path.name for path in folder.iterdir()] == [LOCK]
    release_folder(folder)
    assert list(folder.iterdir()) == []


def test_the_run_claiming_a_folder_deletes_the_temporary_files_a_killed_run_left_there_and_nothing_else(tmp_path):
    """A write cut short by kill -9 leaves its .chainrule-<16 hex>.tmp, which stayed for good: the resumed run,
    holding the folder's lock (no other run writes there), now deletes those of its own folder, regular files
    of that name pattern only."""
    folder, outside = tmp_path / "run", tmp_path / ".chainrule-fedcba9876543210.tmp"
    folder.mkdir()
    outside.write_bytes(b"beside the run folder")
    (folder / CHECKPOINT).write_bytes(b"the run's")
    (folder / CONFIG).write_text("")
    stale = [".chainrule-0123456789abcdef.tmp", ".chainrule-write-test-4242.tmp"]  # an atomic write's, a write test's
    for name in stale:
        (folder / name).write_bytes(b"half a checkpoint")
    kept = ["notes.tmp", ".chainrule-notes.txt", "chainrule-0123456789abcdef.tmp", ".chainrule-dir.tmp",
            ".chainrule-link.tmp", "sub"]
    (folder / "notes.tmp").write_text("mine")
    (folder / ".chainrule-notes.txt").write_text("mine")
    (folder / "chainrule-0123456789abcdef.tmp").write_text("mine")
    (folder / ".chainrule-dir.tmp").mkdir()
    (folder / ".chainrule-link.tmp").symlink_to(outside)
    (folder / "sub").mkdir()
    (folder / "sub" / ".chainrule-0123456789abcdef.tmp").write_bytes(b"in a subfolder")
    prepare_folder(folder, resume=folder / CHECKPOINT)
    assert sorted(path.name for path in folder.iterdir()) == sorted([CHECKPOINT, CONFIG, LOCK, *kept])
    release_folder(folder)
    assert outside.read_bytes() == b"beside the run folder"
    assert (folder / "sub" / ".chainrule-0123456789abcdef.tmp").exists()


def test_a_folder_holding_only_a_killed_runs_lock_and_temporary_files_is_free_for_a_new_run(tmp_path):
    """A run killed as it wrote its first checkpoint left its lock file and the checkpoint's temporary
    file: the same command again (--out the folder) was refused, the folder holding files."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / LOCK).write_text("host 99999\n")  # not locked: its process is gone
    (folder / ".chainrule-0123456789abcdef.tmp").write_bytes(b"half a checkpoint")
    check_folder_is_free(folder, None)
    prepare_folder(folder)
    assert [path.name for path in folder.iterdir()] == [LOCK]
    release_folder(folder)
    assert list(folder.iterdir()) == []


def test_the_temporary_file_of_a_write_still_going_on_in_the_folder_is_not_deleted(tmp_path):
    """Another process writing into the run folder as the run claims it (``chainrule predict --out
    runs/x/predictions.csv``; here this process's own open write): its temporary file was deleted as a killed
    run's, and its rename onto the target then failed. A live write holds a lock on its temporary file."""
    folder = tmp_path / "run"
    folder.mkdir()
    with atomic_open(folder / "predictions.csv", "w") as file:
        file.write("id,label\n")
        prepare_folder(folder)
        release_folder(folder)
        file.write("1,cat\n")
    assert (folder / "predictions.csv").read_text() == "id,label\n1,cat\n"
    assert sorted(path.name for path in folder.iterdir()) == ["predictions.csv"]


def test_a_write_test_cut_short_leaves_no_file(tmp_path, monkeypatch):
    """A Ctrl-C (or kill) between the write test's write and its deletion left .write-test-<pid>, a file
    that made the folder refused as another run's."""
    def written_then_interrupted(path, data):
        Path(path).write_bytes(data)
        raise KeyboardInterrupt
    monkeypatch.setattr(run_folder_module, "atomic_write", written_then_interrupted)
    folder = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        prepare_folder(folder)
    assert list(folder.iterdir()) == []
    monkeypatch.undo()
    prepare_folder(folder)
    release_folder(folder)


def test_prepare_folder_names_a_folder_it_cannot_create(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 'file' / 'run'}: cannot create the run folder")):
        prepare_folder(tmp_path / "file" / "run")


def test_an_empty_out_is_refused():
    """--out '' (an unset $OUT in a script) wrote to runs/<timestamp> with exit 0."""
    with pytest.raises(ConfigError, match=r"^--out: expected a folder name, got ''$"):
        run_folder(SimpleNamespace(out="", resume=None))


def test_holding_the_lock_the_folder_is_checked_again(tmp_path):
    """The check before training and the lock taken after it left a gap: a run that finished
    in between had filled the folder, and the second run wrote over its files."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / CHECKPOINT).write_bytes(b"another run's")
    with pytest.raises(ConfigError, match="the folder already holds files"):
        prepare_folder(folder)
    assert not (folder / LOCK).exists()
    prepare_folder(folder, resume=folder / CHECKPOINT)  # its own run's folder: continued
    release_folder(folder)


def test_a_file_where_the_run_folder_goes_is_named_as_such(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(DataError, match=r"afile: cannot create the run folder: a file of that name is there$"):
        prepare_folder(tmp_path / "afile")


def test_runs_without_out_started_together_each_claim_their_own_folder(tmp_path):
    """A sweep of runs started at once without --out picked one runs/<timestamp>: all but one
    were refused (exit 2), as if the user had given them one --out."""
    folder = tmp_path / "runs" / "20261127-104619"
    prepare_folder(folder)  # another run's claim (in this process: a lock is refused to a second claim alike)
    second = claim_folder(folder, numbered=True)
    assert second == folder.with_name("20261127-104619-2")
    assert claim_folder(folder, numbered=True) == folder.with_name("20261127-104619-3")
    with pytest.raises(ConfigError, match="another chainrule train is writing there"):
        claim_folder(folder)  # a folder the user named: refused
    for claimed in (folder, second, folder.with_name("20261127-104619-3")):
        release_folder(claimed)


@pytest.mark.parametrize("checkpoint, option", [
    ("-run/checkpoint.safetensors", "--resume ./-run/checkpoint.safetensors"),
    ("my run/checkpoint.safetensors", "--resume 'my run/checkpoint.safetensors'"),
    ("/abs/-run/checkpoint.safetensors", "--resume /abs/-run/checkpoint.safetensors"),
])
def test_the_resume_option_printed_can_be_pasted(checkpoint, option):
    # "--resume -run/..." made argparse refuse --resume without its value; a space split the path
    assert resume_option(Path(checkpoint)) == option
    assert build_parser().parse_args(["train", *shlex.split(option)]).resume == shlex.split(option)[1]


def test_a_run_folders_config_toml_is_compared_as_the_run_builds_it_without_hidden_widths_too(tmp_path):
    # without hidden widths there, config.toml's activation was compared as written ('relu, tanh' against the
    # checkpoint's run's ['relu', 'tanh']), and its initializer by name (an alias against the name), so the run's
    # own folder was refused as another run's
    resumed = ResumedConfig({"hidden": "8,4", "activation": "relu,tanh", "init": "glorot_uniform"},
                            SavedConfig(str(tmp_path / "ck.safetensors")))
    (tmp_path / CONFIG).write_text('activation = "relu, tanh"\ninit = "xavier_uniform"\n')
    check_holds_the_resumed_run(tmp_path, tmp_path / "ck.safetensors", resumed, {}, None)
    (tmp_path / CONFIG).write_text('activation = "relu, sigmoid"\n')
    with pytest.raises(ConfigError, match="its config.toml has activation 'relu, sigmoid', the checkpoint's run "
                                          "'relu,tanh'"):
        check_holds_the_resumed_run(tmp_path, tmp_path / "ck.safetensors", resumed, {}, None)


@pytest.mark.parametrize("source, named", [
    (SavedConfig("run/ck.safetensors"), "run/ck.safetensors: metadata.config.hidden"),
    ("link/config.toml", "link/config.toml: key 'hidden'"),  # beside a (linked) checkpoint holding no configuration
])
def test_the_refusal_of_another_runs_folder_names_where_the_runs_value_came_from(tmp_path, source, named):
    # the checkpoint's run's value was quoted without its source, and a value that is not one named as the
    # checkpoint's own, also when it came from the config.toml beside it
    (tmp_path / CONFIG).write_text('hidden = "8"\n')
    with pytest.raises(ConfigError, match=re.escape(f"its config.toml has hidden '8', the checkpoint's run '4' "
                                                    f"({named}); ")):
        check_holds_the_resumed_run(tmp_path, tmp_path / "ck.safetensors", ResumedConfig({"hidden": "4"}, source),
                                    {}, None)
    with pytest.raises(ConfigError, match=re.escape(f"{named}: every width must be >= 1")):
        check_holds_the_resumed_run(tmp_path, tmp_path / "ck.safetensors", ResumedConfig({"hidden": "0"}, source),
                                    {}, None)


@pytest.mark.parametrize("written, saved, differs", [
    ('seed = 0\n', {"seed": 0, "shuffle": False},
     "its config.toml has shuffle True (the key left out: its default), the checkpoint's run False "
     "(run/ck.safetensors: metadata.config.shuffle); "),
    ('seed = 0\nshuffle = false\n', {"seed": 0},
     "its config.toml has shuffle False, the checkpoint's run True (run/ck.safetensors: metadata.config.shuffle "
     "left out: its default); "),
])
def test_a_config_toml_of_before_the_shuffle_key_shuffled(tmp_path, written, saved, differs):
    # shuffle was compared only where both configurations held it: a config.toml written before the key, whose run
    # shuffled, was taken for the run of a checkpoint that did not
    (tmp_path / CONFIG).write_text(written)
    resumed = ResumedConfig(saved, SavedConfig("run/ck.safetensors"))
    with pytest.raises(ConfigError, match=re.escape(differs)):
        check_holds_the_resumed_run(tmp_path, tmp_path / "ck.safetensors", resumed, {}, None)
    (tmp_path / CONFIG).write_text('seed = 0\nshuffle = true\n' if "shuffle" in written else written)
    check_holds_the_resumed_run(tmp_path, tmp_path / "ck.safetensors", ResumedConfig({"seed": 0}, resumed.source),
                                {}, None)  # both left out, or true and left out: the same run


def test_without_flock_a_killed_runs_temporary_file_is_still_deleted(tmp_path, monkeypatch):
    # Windows has no flock: the file is closed before it is deleted (an open file cannot be deleted there)
    monkeypatch.setattr(atomic_module, "fcntl", None)
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / ".chainrule-0123456789abcdef.tmp").write_bytes(b"half a checkpoint")
    assert remove_stale_temporary_files(folder) == [".chainrule-0123456789abcdef.tmp"]
    assert list(folder.iterdir()) == []
