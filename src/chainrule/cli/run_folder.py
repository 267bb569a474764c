"""The run folder of ``chainrule train``: which folder, and the checks that it is free and writable.

A run folder holds one run's files (the model, its checkpoint, metrics.json, config.toml, the
plots): ``--out``, else the resumed checkpoint's folder (when it is a run folder), else
``runs/<timestamp>/``. While a run writes there it holds the folder's lock
(:mod:`chainrule.cli.folder_lock`): a second ``chainrule train`` into the same folder is
refused rather than mixing its files with the first's (runs started together without
``--out`` take ``runs/<timestamp>-2``, ``-3``...). The resumed checkpoint's folder is taken only
when it holds that checkpoint's run (:func:`check_holds_the_resumed_run`: the run id its
metrics.json records, else config.toml's keys and the loss of epoch 1), not another run's files.
Holding the lock, a run deletes the temporary files (``.chainrule-*.tmp``) that a run killed while it
wrote there left behind (:func:`remove_stale_temporary_files`): no other run writes there meanwhile,
and another command's write going on there holds a lock on its own, which is left.
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import time
from pathlib import Path

from ..errors import MAX_PATH_LENGTH, ConfigError, DataError, ModelFileError, quoted
from ..io import atomic_write
from ..io.atomic import (TEMPORARY_NAME_LENGTH, TEMPORARY_PREFIX, TEMPORARY_SUFFIX, check_writable, is_temporary,
                         refuse_overlong_path, remove_abandoned)
from ..io.model_file import chainrule_document
from ..io.safetensors_file import read_header
from . import folder_lock
from .config import TrainConfig, read_config, value_name
from .network_args import as_built
from .folder_lock import LOCK
from .outputs import named_by_option
from .resume_checks import ResumedConfig

CHECKPOINT = "checkpoint.safetensors"
CONFIG = "config.toml"  # the resolved configuration, written when a run ends: it marks a run folder
METRICS = "metrics.json"  # the run's results, written when it ends, with its run id
OWN_FILES = ".chainrule-"  # how the lock and atomic writes' temporary files are named
# The keys of a run's configuration that no resume changes (resume_checks refuses another value): a config.toml
# whose value of one differs from a checkpoint's was written by another run.
RUN_KEYS = ("hidden", "activation", "init", "dtype", "optimizer", "seed", "shuffle", "test_size", "validation")
# Those of RUN_KEYS whose absence from a run's configuration means their default: configurations saved before
# the key existed, when chainrule train did only that (shuffled: resume_checks.check_same_shuffle reads it so).
# Not init, though it came later too: a resume of a run saved before it may pass --init (nothing to refuse it
# against), so a run whose config.toml lacks it may be continued by checkpoints of another. Not test_size: a run
# whose data has its own test part leaves it out.
DEFAULT_WHEN_ABSENT = ("shuffle",)


def run_folder(args) -> Path:
    """The output folder: --out, the resumed checkpoint's folder, or runs/<timestamp>; ConfigError
    for an empty --out (an unset shell variable would otherwise pick runs/<timestamp> silently)."""
    if args.out == "":
        raise ConfigError("--out: expected a folder name, got ''")
    if args.out is not None:
        refuse_overlong_path(args.out, "--out", ConfigError)
    if args.out:
        return Path(args.out)
    if args.resume:  # a link to a run's checkpoint continues that run, in its folder (not the link's)
        checkpoint = Path(args.resume)
        return Path(os.path.realpath(checkpoint)).parent if checkpoint.is_symlink() else checkpoint.parent
    return next_free(Path("runs") / time.strftime("%Y%m%d-%H%M%S"))


def next_free(folder: Path) -> Path:
    """``folder`` (runs/<timestamp>), or the first of ``folder-2``, ``folder-3``... that does not exist."""
    stamp, n = folder, 1
    while folder.exists():
        n += 1
        folder = stamp.with_name(f"{stamp.name}-{n}")
    return folder


def claim_folder(folder: Path, resume=None, *, numbered: bool = False, outputs: tuple = ()) -> Path:
    """:func:`prepare_folder` on ``folder`` (and the names of the files the run writes there, ``outputs``),
    returning the folder claimed: with ``numbered`` (the runs/<timestamp> no --out named), a folder another
    run took meanwhile is passed over for ``folder-2``, ``folder-3``... instead of refused, so that runs
    started together each get one."""
    candidate, n = folder, 1
    while True:
        try:
            prepare_folder(candidate, resume, outputs)
            return candidate
        except ConfigError:
            if not numbered:
                raise
            n += 1
            candidate = folder.with_name(f"{folder.name}-{n}")


def unresolved_links(path: Path) -> str | None:
    """Why the path's symbolic links, its own or a folder's above it, do not resolve, in words;
    None where they do. The system refuses both (ELOOP) and says "Too many levels of symbolic
    links" for both: "a loop of symbolic links", or "a chain of more symbolic links than the
    system follows" (40 on Linux), which end somewhere.

    Asked of ``stat`` rather than ``Path.resolve``: before Python 3.13 ``resolve`` raised RuntimeError
    ("Symlink loop") for a loop, from 3.13 it returns the path unresolved and the loop surfaced
    only later, as the lock file's ELOOP. The two are then told apart by ``os.path.realpath``,
    which follows the links one at a time with no limit of its own and meets a loop as a link it
    is already resolving (ELOOP again). A path that does not exist, or cannot be read, resolves.
    """
    try:
        path.stat()
    except OSError as error:
        if error.errno != errno.ELOOP:
            return None
    else:
        return None
    try:
        os.path.realpath(path, strict=True)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a loop of symbolic links"
    return "a chain of more symbolic links than the system follows"


def is_resumed_folder(folder: Path, resume) -> bool:
    """Whether ``folder`` is the folder of the checkpoint ``resume`` (None or "" for a run not resumed),
    through any symbolic link to either."""
    return bool(resume) and folder.resolve() == Path(resume).resolve().parent


def check_folder_is_free(folder: Path, resume) -> None:
    """Refuse a run folder that already holds files, unless it is the resumed checkpoint's own
    folder and that is a run folder (:func:`check_resumed_folder`).

    A run folder holds one run's files: writing into another run's folder would mix the two
    (its plots beside this run's model). ConfigError naming the folder and what to do instead;
    DataError for a path that cannot be resolved (:func:`unresolved_links`); either, first, for a path
    that names no folder a run could write in (:func:`check_folder_path`).
    """
    check_folder_path(folder)
    links = unresolved_links(folder)
    if links:
        raise DataError(f"--out: {folder}: cannot be a run folder: its path does not resolve ({links})")
    if folder_lock.held_by_another_run(folder):
        raise folder_lock.busy(folder)
    if is_resumed_folder(folder, resume):
        check_resumed_folder(folder, resume)
        return
    try:  # a killed run's lock file and temporary files are no run's files: the run claiming the folder deletes them
        in_use = folder.is_dir() and any(path.name != LOCK and not is_temporary(path.name)
                                         for path in folder.iterdir())
    except OSError as error:
        raise DataError(f"--out: {folder}: cannot read the run folder ({error.strerror})") from None
    if in_use:
        hint = f", or continue its run with {resume_option(folder / CHECKPOINT)}" if (folder / CHECKPOINT).is_file() else ""
        raise ConfigError(f"--out {folder}: the folder already holds files (another run's?); "
                          f"give --out a new or empty folder{hint}")


def check_folder_path(folder: Path) -> None:
    """Refuse, naming ``--out``, a folder path that no run can write in: one that leaves no room below
    ``MAX_PATH_LENGTH`` bytes for the paths of the files in it (the longest, an atomic write's temporary file,
    adds ``TEMPORARY_NAME_LENGTH`` + 1), a ConfigError; one holding a name longer than the file system takes
    (255 bytes on most: ``File name too long``), a DataError, as the folder's creation would say.

    The system counts bytes (UTF-8: "é" is 2), and Linux's PATH_MAX, 4,096, counts the NUL that ends a path:
    a path of 4,095 bytes is the longest it takes. Before, the first was an internal error (exit 1) after the
    data were read: below an existing deep folder the write test's path was refused, then the deletion of that
    file, never made, raised OSError (File name too long); the second was told as the lock file's ("cannot
    open the run folder's lock file"). A long name below a folder that does not exist yet is found when the
    folder is made (the system says that the folder is missing first)."""
    text = os.fspath(folder)
    size = len(os.fsencode(text))
    longest = size + 1 + TEMPORARY_NAME_LENGTH
    if longest >= MAX_PATH_LENGTH:
        length = f"{len(text):,} characters" + ("" if size == len(text) else f" ({size:,} bytes)")
        raise ConfigError(f"--out: {quoted(text)}: a folder path of {length} leaves no room for the files a run "
                          f"writes there: their paths would have up to {longest:,} bytes, more than the system takes "
                          f"({MAX_PATH_LENGTH - 1:,}); give a shorter path")
    try:
        os.stat(folder)
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            raise DataError(f"--out: {folder}: cannot create the run folder ({error.strerror})") from None


def resume_option(checkpoint: Path) -> str:
    """``--resume CHECKPOINT`` as a shell takes it when pasted: quoted (a path with spaces stays one
    argument), and a relative path beginning with '-' written ./-run/... (argparse would take
    -run/... for an option and refuse --resume without its value)."""
    text = str(checkpoint)
    return f"--resume {shlex.quote('./' + text if text.startswith('-') else text)}"


def check_resumed_folder(folder: Path, resume) -> None:
    """ConfigError naming ``--resume`` unless ``folder``, the folder of the checkpoint ``resume``,
    is a run folder: one holding the config.toml a run writes first when training ends, or nothing
    but the checkpoint (and chainrule's own lock and temporary files: a run killed before its end).

    Any other folder (downloads/ holding a copied checkpoint) may hold a model.safetensors or
    metrics.json of its own, which the resumed run's files would replace.
    """
    try:
        others = sorted(path.name for path in folder.iterdir()
                        if path.name != Path(resume).name and not path.name.startswith(OWN_FILES))
        is_run_folder = (folder / CONFIG).is_file() or not others
    except OSError as error:
        raise DataError(f"--out: {folder}: cannot read the run folder ({error.strerror})") from None
    if not is_run_folder:
        raise ConfigError(f"--resume {resume}: the checkpoint's folder {folder} is not a run folder (no {CONFIG}) "
                          f"and holds other files, such as {quoted(others[0])}, which the resumed run's files could "
                          f"replace; pass --out DIR, a new or empty folder, for them")


def run_id_for(folder: Path, resume, checkpoint) -> str:
    """The id of the run that writes ``folder``: the one ``checkpoint`` (the file ``resume``, as
    ``read_checkpoint`` read it) recorded (``metadata.run_id``) when the run goes on in that checkpoint's
    own folder; else a new one, 16 hexadecimal digits drawn from os.urandom: a run started afresh, a
    repeat of one (``--config`` its config.toml), the resume of a checkpoint that recorded none, and a
    resume into another folder (``--out DIR``: a branch of the run, told apart from the run and from its
    other branches, whose files it may not replace)."""
    kept = checkpoint.model.metadata.get("run_id") if checkpoint is not None else None
    if isinstance(kept, str) and is_resumed_folder(folder, resume):
        return kept
    return os.urandom(8).hex()


def check_holds_the_resumed_run(folder: Path, resume, resumed: ResumedConfig, extra: dict, resumed_id) -> None:
    """ConfigError naming ``--resume`` when ``folder``, the folder of the checkpoint ``resume``, holds the
    files of another run than the checkpoint's, whose configuration is ``resumed`` (as ``resumed_config`` read it:
    the checkpoint's own, or config.toml beside it, each named as such where its value is quoted), training
    state ``extra`` (its ``extra_json``) and run id ``resumed_id`` (its ``metadata.run_id``, None when it has
    none): a checkpoint copied into another run's folder (``cp a/checkpoint.safetensors b/a.safetensors``)
    was resumed there, and its run's files replaced that run's model, checkpoint, metrics and
    configuration. The runs are told apart by their run ids (:func:`run_id_for`), the folder's in its
    metrics.json, else in its own checkpoint.safetensors (a metrics.json of before run ids, whose run a chainrule
    recording them resumed there since; or a run stopped before writing metrics.json). Where the folder or the
    checkpoint has none (files written before chainrule recorded run ids), by the keys of
    config.toml no resume changes (``RUN_KEYS``; one that a configuration saved before it existed lacks, its
    default: ``DEFAULT_WHEN_ABSENT``), then, for runs differing in another (a sweep of ``lr``),
    by the loss of their first epoch: every checkpoint of a run, resumed or not, holds the same (see
    :func:`_first_epoch_loss`); runs differing in neither (a repeat) pass. A config.toml that cannot be
    read, or holds a value no run writes (edited by hand), tells nothing of another run: the resumed run
    writes its own there. The folder's config.toml is not read again when it is the one ``resumed`` came from
    (a checkpoint holding no configuration, in its own folder): it holds the run's keys."""
    config = folder / CONFIG
    if not is_resumed_folder(folder, resume) or not config.is_file():
        return
    recorded_by, folder_id = METRICS, _recorded_run_id(folder / METRICS)
    if folder_id is None:  # a metrics.json of before run ids (the run since resumed there), or none yet
        recorded_by, folder_id = CHECKPOINT, _checkpoint_run_id(folder, resume)
    if folder_id is not None and isinstance(resumed_id, str):
        if folder_id != resumed_id:
            raise _another_run(folder, resume, f"{recorded_by} has run_id {quoted(folder_id)}, the checkpoint's run "
                                               f"{quoted(resumed_id)}")
        return
    if not _is_file(resumed.source, config):
        _check_same_run_keys(folder, resume, resumed)
    _check_same_first_epoch(folder, resume, extra, resumed)


def _is_file(source, path: Path) -> bool:
    """Whether the configuration ``source`` (a path, or the checkpoint's own: ``SavedConfig``) is the file ``path``."""
    return isinstance(source, str) and Path(source).resolve() == path.resolve()


def _check_same_run_keys(folder: Path, resume, resumed: ResumedConfig) -> None:
    """ConfigError naming ``--resume`` when the run ``folder``'s config.toml holds another value of a key of
    ``RUN_KEYS`` than the configuration ``resumed`` of the checkpoint ``resume``'s run, naming where the run's
    value came from (:func:`~chainrule.cli.config.value_name`: the checkpoint's ``metadata.config``, or the
    config.toml beside a checkpoint holding none); see :func:`check_holds_the_resumed_run`."""
    config = folder / CONFIG
    try:
        written = read_config(config)
        theirs = _as_built(written, str(config))
    except ConfigError:
        written, theirs = {}, {}
    ours = _as_built(resumed.values, resumed.source)
    for key in RUN_KEYS:
        if key in theirs and key in ours and theirs[key] != ours[key]:
            folders = _value(written, key) + ("" if key in written else " (the key left out: its default)")
            named = value_name(key, resumed.source) + ("" if key in resumed.values else " left out: its default")
            raise _another_run(folder, resume, f"{CONFIG} has {key} {folders}, the checkpoint's run "
                                               f"{_value(resumed.values, key)} ({named})")


def _value(values: dict, key: str) -> str:
    """The value of ``key`` in a run's configuration ``values``, quoted: its default where they lack it (a key
    of ``DEFAULT_WHEN_ABSENT``, the only one compared when absent)."""
    return quoted(values[key] if key in values else getattr(TrainConfig(), key))


def _another_run(folder: Path, resume, differs: str) -> ConfigError:
    """The refusal of the checkpoint ``resume``'s ``folder`` as another run's: ``differs`` says which of the
    folder's files tells it (its file and value, then the checkpoint's run's)."""
    return ConfigError(f"--resume {resume}: the checkpoint's folder {folder} holds another run's files: its {differs}; "
                       f"the resumed run's files would replace that run's; pass --out DIR, a new or empty folder, "
                       f"for them")


def _recorded_run_id(metrics: Path) -> str | None:
    """The run id a run folder's ``metrics`` file records (its ``run_id``); None where it records none (a run
    of before chainrule recorded one, a run stopped before writing it) or cannot be read."""
    try:
        recorded = json.loads(metrics.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    value = recorded.get("run_id") if isinstance(recorded, dict) else None
    return value if isinstance(value, str) else None


def _own_checkpoint(folder: Path, resume) -> dict | None:
    """chainrule's document (``metadata``, ``extra_json``, ...) of the run ``folder``'s own checkpoint, read from its
    header alone; None where it is ``resume`` itself, is missing or cannot be read: it then tells nothing."""
    own = folder / CHECKPOINT
    try:
        if not own.is_file() or own.samefile(resume):
            return None
        return chainrule_document(read_header(own, "checkpoint")[0], own, "checkpoint")
    except (OSError, ModelFileError):
        return None


def _checkpoint_run_id(folder: Path, resume) -> str | None:
    """The run id that the run ``folder``'s own checkpoint (another file than ``resume``) records in its
    ``metadata.run_id``; None where it records none (written before chainrule recorded one), is ``resume``
    itself, or cannot be read (:func:`_own_checkpoint`)."""
    document = _own_checkpoint(folder, resume)
    value = document["metadata"].get("run_id") if document is not None else None
    return value if isinstance(value, str) else None


def _check_same_first_epoch(folder: Path, resume, extra: dict, resumed: ResumedConfig) -> None:
    """ConfigError naming ``--resume`` when the run folder's own checkpoint (``folder``'s checkpoint.safetensors,
    another file than ``resume``) recorded another first-epoch loss than the resumed checkpoint (its
    ``extra_json`` ``extra``), naming too the keys in which the folder's config.toml differs from the checkpoint's
    run's configuration ``resumed`` (:func:`_differing_keys`: a sweep's ``lr``). Only the header of the folder's
    checkpoint is read; one that cannot be read, or that records no loss, tells nothing and is not compared."""
    document = _own_checkpoint(folder, resume)
    if document is None:
        return
    theirs = _first_epoch_loss(document["extra_json"])
    ours = _first_epoch_loss(extra)
    if theirs is not None and ours is not None and theirs != ours:
        raise _another_run(folder, resume, f"{CHECKPOINT} recorded a loss of {quoted(theirs)} in epoch 1, the "
                                           f"checkpoint's run {quoted(ours)}{_differing_keys(folder, resumed)}")


def _differing_keys(folder: Path, resumed: ResumedConfig) -> str:
    """``; its config.toml has lr 0.1, the checkpoint's run 0.01 (ck.safetensors: metadata.config.lr)``: each key
    whose value the run ``folder``'s config.toml gives otherwise than the configuration ``resumed`` of the
    checkpoint's run, where it came from named; "" where none does, where config.toml cannot be read, and where it
    is the file ``resumed`` came from (a checkpoint holding no configuration, in its own folder: nothing to
    compare it with)."""
    config = folder / CONFIG
    if _is_file(resumed.source, config):
        return ""
    try:
        written = read_config(config)
    except ConfigError:
        return ""
    keys = [key for key in TrainConfig.keys() if key in written and key in resumed.values
            and written[key] != resumed.values[key] and key != "epochs"]
    return "".join(f"; its {CONFIG} has {key} {quoted(written[key])}, the checkpoint's run "
                   f"{quoted(resumed.values[key])} ({value_name(key, resumed.source)})" for key in keys)


def saved_extra(checkpoint: Path) -> dict:
    """The training state (``extra_json``: epoch, history, ...) that ``checkpoint`` records, read from its header
    alone: its tensors, which reading the whole file would load and hash, are not needed. ModelFileError for a
    file that is not a chainrule checkpoint; OSError for one that cannot be read."""
    return chainrule_document(read_header(checkpoint, "checkpoint")[0], checkpoint, "checkpoint")["extra_json"]


def _first_epoch_loss(extra: dict):
    """The training loss a checkpoint's History (``extra["history"]``, of its ``extra_json``) recorded for
    epoch 1, which every later checkpoint of its run keeps, a resume with another lr, batch size or data
    included (a resume goes on after the epochs it restores), while another run's (another lr, weight decay,
    batch size or data) differs from the first step on; None where it records none (an older checkpoint)."""
    history = extra.get("history") if isinstance(extra, dict) else None
    metrics = history.get("metrics") if isinstance(history, dict) else None
    losses = metrics.get("loss") if isinstance(metrics, dict) else None
    return losses[0] if isinstance(losses, list) and losses else None


def _as_built(values: dict, source) -> dict:
    """The ``RUN_KEYS`` that a run's configuration ``values`` (read from ``source``) sets, and those of
    ``DEFAULT_WHEN_ABSENT`` it does not (their defaults), as the run builds them
    (:func:`~chainrule.cli.network_args.as_built`), so that spellings of one value are alike ("8, 4" and
    [8, 4] for "8,4", "f4" for "float32"); ConfigError naming ``source`` and the key for a value that is
    not one."""
    given = {key: value for key, value in values.items() if key in RUN_KEYS and value is not None}
    config = TrainConfig().with_values(given, source)
    keys = {*given, *DEFAULT_WHEN_ABSENT}
    return {key: as_built(key, config, dict.fromkeys(given, source)) for key in keys}


def prepare_folder(folder: Path, resume=None, outputs: tuple = ()) -> None:
    """Create the run folder and take its lock before training starts (ConfigError naming
    ``--out`` when another run holds it), then, holding the lock, prove the folder writable,
    check again that it is free (a run that finished meanwhile may have filled it), check that each
    file of ``outputs`` (the names of the files the run writes there) that the folder holds already (a
    resumed run's) can be replaced (not a directory, nor a file this user may not write: ``chmod 444``)
    and delete the temporary files a killed run left there (:func:`remove_stale_temporary_files`);
    :func:`release_folder` gives the lock back. Each error naming the folder, or a file in it, is led by
    ``--out:`` (its default, runs/<timestamp>, included), as other commands' output errors are by their
    option: found before training, rather than once it is over, when the run's files are written.

    The write test waits for the lock: a run's test file, seen by a run holding the folder,
    was taken for another run's files, and of runs started together into one folder all could
    be refused. It is named as a temporary file (``.chainrule-write-test-<pid>.tmp``), so that one
    a run killed between its write and its deletion left is deleted as those are; before, a
    ``.write-test-<pid>`` left so made the folder refused as another run's."""
    try:
        make_folder(folder)
    except FileExistsError:  # a file of that name
        raise DataError(f"--out: {folder}: cannot create the run folder: a file of that name is there") from None
    except OSError as error:
        raise DataError(f"--out: {folder}: cannot create the run folder ({error.strerror})") from None
    folder_lock.take(folder)
    try:
        probe = folder / f"{TEMPORARY_PREFIX}write-test-{os.getpid()}{TEMPORARY_SUFFIX}"
        try:
            with named_by_option("--out", probe):
                atomic_write(probe, b"")
        finally:  # also after a Ctrl-C that came as the write ended
            probe.unlink(missing_ok=True)
        check_folder_is_free(folder, resume)
        for name in outputs:
            check_writable(folder / name, "--out")
        remove_stale_temporary_files(folder)
    except BaseException:
        release_folder(folder)
        raise


def make_folder(folder: Path) -> None:
    """``folder.mkdir(parents=True, exist_ok=True)``, the missing folders above it made one after the other:
    pathlib's (as ``os.makedirs``) calls itself once per missing folder, and ``--out a/a/.../b`` of 1,500
    missing folders raised RecursionError, an internal error (exit 1). The system's errors are those of
    ``mkdir``: FileExistsError where a file has the folder's name, ENOTDIR where one has a folder's above it."""
    missing = []
    for path in folder.parents:
        if os.path.lexists(path):  # a folder, or a file whose name the mkdir below it reports
            break
        missing.append(path)
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
    folder.mkdir(exist_ok=True)


def remove_stale_temporary_files(folder: Path) -> list[str]:
    """Delete the temporary files of atomic writes (``.chainrule-*.tmp``: :func:`~chainrule.io.atomic.is_temporary`)
    in ``folder``, a run folder whose lock this run holds, and return their names.

    A write cut short by ``kill -9`` (or the out-of-memory killer, a power cut) cannot delete its
    temporary file; nothing reads it. No other ``chainrule train`` writes into the folder while this
    run holds its lock, but another command may (``chainrule predict --out`` into it): a write going
    on holds a lock on its temporary file, which is left (:func:`~chainrule.io.atomic.remove_abandoned`).
    Only regular files of that name pattern are deleted, none outside ``folder`` (nor in its
    subfolders); one that cannot be deleted is left as it is."""
    removed = []
    for path in sorted(folder.iterdir()):
        if not is_temporary(path.name):
            continue
        try:
            if remove_abandoned(path):
                removed.append(path.name)
        except OSError:  # gone meanwhile, or not ours to delete: harmless where it is
            pass
    return removed


def release_folder(folder: Path) -> None:
    """Give back the run folder's lock and delete its file (nothing when this run does not hold it)."""
    folder_lock.release(folder)
