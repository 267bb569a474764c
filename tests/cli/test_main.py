"""chainrule.cli.main: dispatch, --help everywhere, and errors as one line and an exit code
(0 success, 2 usage or input error, 1 anything else), with the traceback only on --debug."""

import importlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import types

import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.cli import train as train_command
from chainrule.cli.main import build_parser, parse
from chainrule.cli.option_types import Number

from .helpers import assert_one_line_error, call, run_cli

try:  # what --opset takes: up to the newest opset of the installed onnx, as its range check says
    import onnx
    OPSETS = f"an integer in [13, {onnx.defs.onnx_opset_version()}]"
except ImportError:
    OPSETS = "an integer >= 13"

COMMANDS = ["train", "evaluate", "predict", "gradcheck", "info", "export"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(capsys, command):
    with pytest.raises(SystemExit) as exit:
        main([command, "--help"])
    assert exit.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: chainrule {command}")
    assert "--debug" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_help_is_plain_wrapped_text(capsys, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps the options to the terminal's width
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "``" not in out  # reST markup from the module docstring
    assert max(len(line) for line in out.splitlines()) <= 100


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_no_module_of_chainrules_own_code(capsys, command):
    # predict's said "(chainrule.cli.outputs)" and "io.atomic.check_writable", gradcheck's "GradcheckReport.text",
    # evaluate's "see chainrule.cli.estimator": names a user of the command cannot look up; the docs can be
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert re.findall(r"chainrule\.\w+\.|io\.atomic|GradcheckReport", out) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_help_fits_a_narrow_terminal(capsys, monkeypatch, command):
    # the descriptions were wrapped to 79 columns whatever the terminal's width; the options to its width
    monkeypatch.setenv("COLUMNS", "50")
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    prose = [line for line in out.splitlines() if not line.startswith(" ")]  # train's table of files keeps its lines
    assert max(len(line) for line in prose) <= 48


def test_the_top_level_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--help"])
    assert exit.value.code == 0
    out = capsys.readouterr().out
    assert all(command in out for command in COMMANDS)


def test_help_in_a_subprocess(tmp_path):
    done = run_cli("--help", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("usage: chainrule")


def test_the_console_script_is_installed(tmp_path):
    script = shutil.which("chainrule")
    if script is None:
        pytest.skip("the chainrule console script is not on PATH")
    done = subprocess.run([script, "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, f"chainrule {cr.__version__}")


def test_no_command_is_one_line_naming_the_commands(capsys):
    code, out, err = call(capsys)
    assert out == ""
    line = assert_one_line_error(code, err, "a command is required", "see chainrule --help")
    assert all(command in line for command in COMMANDS)


def test_debug_may_come_before_the_command(capsys, tmp_path):
    code, _, err = call(capsys, "--debug", "info", tmp_path / "missing.safetensors")
    assert code == 2
    assert "Traceback (most recent call last)" in err and "ModelFileError" in err
    assert err.rstrip().splitlines()[-1].startswith("chainrule: error: ")


def test_an_unrecognized_argument_names_the_command_it_was_given_to(capsys):
    code, _, err = call(capsys, "train", "extra")
    assert_one_line_error(code, err, "chainrule train: unrecognized arguments: extra", "see chainrule train --help")


@pytest.mark.parametrize("args, fragment", [
    (["info", "model.safetensors", "--deb"], "chainrule info: unrecognized arguments: --deb"),
    (["--deb", "info", "model.safetensors"], "unrecognized arguments: --deb"),
    (["train", "--epoch", "1"], "chainrule train: unrecognized arguments: --epoch 1"),
    (["train", "--epo=1"], "chainrule train: unrecognized arguments: --epo=1 (did you mean '--epochs'?)"),
    (["predict", "m.safetensors", "iris", "--prob"], "unrecognized arguments: --prob (did you mean '--proba'?)"),
])
def test_an_abbreviated_option_is_refused(capsys, args, fragment):
    code, _, err = call(capsys, *args)
    assert_one_line_error(code, err, fragment)


@pytest.mark.parametrize("args, meant", [
    (["train", "--epoch", "1"], "--epochs"),
    (["train", "--hiden=8"], "--hidden"),
    (["train", "-epochs", "1"], "--epochs"),
    (["info", "model.safetensors", "--jsn"], "--json"),
    (["--deb", "info", "model.safetensors"], "--debug"),
])
def test_a_mistyped_option_ends_with_the_one_meant(capsys, args, meant):
    # the line named the unrecognized argument alone, as a mistyped command or choice no longer is
    code, _, err = call(capsys, *args)
    line = assert_one_line_error(code, err, "unrecognized arguments: ", f"(did you mean '{meant}'?)")
    assert line.endswith("--help)")


def test_an_unrecognized_argument_far_from_any_option_suggests_none(capsys):
    code, _, err = call(capsys, "train", "extra", "--colour", "red")
    line = assert_one_line_error(code, err, "unrecognized arguments: extra --colour red")
    assert "did you mean" not in line


@pytest.mark.parametrize("args, count", [(["x" * 100_000], "1 argument)"),
                                         ([f"file{i}.csv" for i in range(5000)], "5,000 arguments)")])
def test_unrecognized_arguments_are_cut_to_a_line(capsys, args, count):
    """A long argument, or a shell glob that expanded to thousands of files, went whole into the line."""
    code, _, err = call(capsys, "evaluate", "model.safetensors", "data.csv", *args)
    line = assert_one_line_error(code, err, "chainrule evaluate: unrecognized arguments: ", f"... ({count}")
    assert len(line) < 300


@pytest.mark.parametrize("command, meant", [("help", "--help"), ("version", "--version")])
def test_a_command_meant_as_an_option_of_chainrule_ends_with_it(capsys, command, meant):
    code, _, err = call(capsys, command)
    assert_one_line_error(code, err, f"invalid choice: '{command}'", f"(did you mean '{meant}'?)")


def test_every_command_reading_a_model_file_says_which_files_it_reads_alike():
    """evaluate, predict and info answer a file that est.save wrote, as export does, but only
    export's MODEL said so."""
    commands = build_parser()._subparsers._group_actions[0].choices
    helps = {name: action.help for name, parser in commands.items() for action in parser._actions
             if action.metavar == "MODEL"}
    assert sorted(helps) == ["evaluate", "export", "info", "predict"]
    assert len(set(helps.values())) == 1 and "estimator's save" in helps["info"]


@pytest.mark.parametrize("args, start", [(["fly"], "argument COMMAND: invalid choice: 'fly'"),
                                         (["-V"], "unrecognized arguments: -V"),
                                         (["train", "--epochs"], "chainrule train: argument --epochs")])
def test_a_usage_error_names_chainrule_once(capsys, args, start):
    # "chainrule: error: chainrule: argument COMMAND: ..."; a subcommand's is still named
    code, _, err = call(capsys, *args)
    line = assert_one_line_error(code, err)
    assert line.startswith(f"chainrule: error: {start}")


@pytest.mark.parametrize("argv, dest, value", [
    (["train", "--epochs", "5", "--epochs", "10"], "epochs", 10),
    (["train", "--epochs=5", "--epochs", "10"], "epochs", 10),
    (["predict", "m.safetensors", "iris", "-o", "a.csv", "--output", "b.csv"], "output", "b.csv"),
    (["export", "m.safetensors", "--onnx", "a.onnx", "--onnx=b.onnx"], "onnx", "b.onnx"),
])
def test_an_option_given_twice_takes_its_last_value(argv, dest, value):
    """As docs/usage.md says: a script's command line is overridden by appending to it."""
    assert getattr(parse(argv), dest) == value


def test_no_parser_takes_abbreviations():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert sorted(commands) == sorted(COMMANDS)
    assert not any(each.allow_abbrev for each in [parser, *commands.values()])


@pytest.mark.parametrize("args, fragment", [
    (["fly"], "invalid choice: 'fly'"),
    (["train", "--epochs"], "argument --epochs: expected one argument"),
    (["evaluate", "model.safetensors"], "the following arguments are required: DATA"),
    (["export", "model.safetensors"], "the following arguments are required: --onnx"),
])
def test_usage_errors_are_one_line(capsys, args, fragment):
    code, _, err = call(capsys, *args)
    line = assert_one_line_error(code, err, fragment)
    assert line.endswith("--help)")


def test_debug_adds_the_traceback(capsys, tmp_path):
    code, _, err = call(capsys, "info", tmp_path / "missing.safetensors", "--debug")
    assert code == 2
    assert "Traceback (most recent call last)" in err and "ModelFileError" in err
    assert err.rstrip().splitlines()[-1].startswith("chainrule: error: ")


def raises(error):
    def run(args):
        raise error
    return run


def test_an_unexpected_error_exits_1_as_an_internal_error(capsys, monkeypatch):
    monkeypatch.setattr(train_command, "run", raises(RuntimeError("boom")))
    code, _, err = call(capsys, "train")
    assert_one_line_error(code, err, "internal error: boom", exit_code=1)


def test_a_divergence_exits_1(capsys, monkeypatch):
    monkeypatch.setattr(train_command, "run", raises(cr.DivergenceError("training diverged at epoch 3")))
    code, _, err = call(capsys, "train")
    assert_one_line_error(code, err, "training diverged at epoch 3", exit_code=1)


def test_an_input_error_exits_2(capsys, monkeypatch):
    monkeypatch.setattr(train_command, "run", raises(cr.DataError("data.csv: line 3\nis odd")))
    code, _, err = call(capsys, "train")
    assert_one_line_error(code, err, "data.csv: line 3 is odd")  # a newline in a message stays one line


def test_characters_a_terminal_acts_on_are_shown_escaped(capsys, monkeypatch):
    """An error line quotes what a file holds: an escape sequence there cleared the screen or set its title."""
    message = "m.safetensors: type '\x1b]0;t\x07\x1b[2J\r' é"
    monkeypatch.setattr(train_command, "run", raises(cr.ModelFileError(message)))
    code, _, err = call(capsys, "train")
    assert_one_line_error(code, err, r"m.safetensors: type '\x1b]0;t\x07\x1b[2J\r' é")
    assert not any(char in err for char in "\x1b\x07\r")


def test_ctrl_c_outside_training_exits_130(capsys, monkeypatch):
    monkeypatch.setattr(train_command, "run", raises(KeyboardInterrupt()))
    code, _, err = call(capsys, "train")
    assert (code, err) == (130, "chainrule: interrupted\n")


# -- distributed: an error on one rank ends every rank at once -------------------------------------

main_module = importlib.import_module("chainrule.cli.main")  # chainrule.cli.main is the function
MPIEXEC = shutil.which("mpiexec") or shutil.which("mpiexec", path=os.path.dirname(sys.executable))


@pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None or MPIEXEC is None,
                    reason="needs mpi4py and mpiexec: pip install 'chainrule[mpi]'")
def test_an_error_on_rank_0_only_ends_every_rank_at_once_with_its_exit_code(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "other-run.txt").write_text("")  # only rank 0 checks --out
    started = time.monotonic()
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "chainrule", "train", "--distributed",
                           "--distributed-timeout", "30", "--data", "iris", "--epochs", "1", "--out", "full"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    seconds = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert "chainrule: error: rank 0 of 2: --out full: the folder already holds files" in done.stderr
    assert "waited more than" not in done.stderr  # rank 1 did not wait for rank 0 and blame a hang
    assert seconds < 20


class World:
    """MPI's COMM_WORLD with ``size`` ranks as rank ``rank`` sees it, recording the code of an Abort."""

    def __init__(self, size, rank=0):
        self.size, self.rank, self.aborted = size, rank, None

    def Get_size(self):
        return self.size

    def Get_rank(self):
        return self.rank

    def Abort(self, code):
        self.aborted = code


@pytest.mark.parametrize("distributed, size, aborted", [(True, 2, 2), (True, 1, None), (False, 2, None)])
def test_only_a_distributed_run_of_several_processes_aborts_on_an_error(capsys, monkeypatch, distributed, size,
                                                                        aborted):
    world = World(size)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", types.SimpleNamespace(COMM_WORLD=world))
    monkeypatch.setattr(main_module.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(train_command, "run", raises(cr.ConfigError("--out full: the folder already holds files")))
    code, _, err = call(capsys, "train", *(["--distributed"] if distributed else []))
    assert_one_line_error(code, err, "--out full")
    assert world.aborted == aborted


@pytest.mark.parametrize("error, exit_code", [
    (cr.DivergenceError("training diverged at epoch 2, batch 1/4: the loss is not finite", same_on_every_rank=True),
     1),
    (cr.DistributedError("the 2 processes were not given the same data and arguments", same_on_every_rank=True), 2)])
def test_an_error_every_rank_raised_alike_is_shown_by_rank_0_alone_and_aborts_nothing(capsys, monkeypatch, error,
                                                                                      exit_code):
    """A diverged run printed one line per rank, each from that rank's own disk, then MPI_Abort."""
    monkeypatch.setattr(train_command, "run", raises(error))
    for rank in (0, 1):
        world = World(2, rank)
        monkeypatch.setitem(sys.modules, "mpi4py.MPI", types.SimpleNamespace(COMM_WORLD=world))
        code, _, err = call(capsys, "train", "--distributed")
        if rank == 0:
            assert_one_line_error(code, err, str(error), exit_code=exit_code)
        else:
            assert (code, err) == (exit_code, "")
        assert world.aborted is None  # every rank ends with the code, none waiting for another


def test_an_input_error_the_ranks_stopped_on_together_is_shown_by_its_rank_and_aborts_nothing(capsys, monkeypatch):
    error = cr.DataError("iris.csv: no such file")
    error.ranks_stopped_together = True  # as cli.job_end.stop_together marks it
    monkeypatch.setattr(train_command, "run", raises(error))
    world = World(2, rank=1)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", types.SimpleNamespace(COMM_WORLD=world))
    code, _, err = call(capsys, "train", "--distributed")
    assert err == "chainrule: error: rank 1 of 2: iris.csv: no such file\n"  # the rank that found it, named
    assert code == 2 and world.aborted is None  # the other ranks stop with its code, silently


@pytest.mark.parametrize("error, line", [
    (cr.ConfigError("--out full: the folder already holds files"),
     "chainrule: error: rank 1 of 3: --out full: the folder already holds files"),
    (cr.DistributedError("rank 1 of 3: averaging the gradient waited more than 60 s for the other ranks"),
     "chainrule: error: rank 1 of 3: averaging the gradient waited more than 60 s for the other ranks"),
    (cr.DataError("rank 3.csv: no such file"), "chainrule: error: rank 1 of 3: rank 3.csv: no such file"),
    (ValueError("a bug"), "chainrule: error: rank 1 of 3: internal error: a bug")])
def test_a_line_one_rank_prints_names_the_rank_once(capsys, monkeypatch, error, line):
    """Only the rank's own line said which rank (of machines of their own) found the error."""
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", types.SimpleNamespace(COMM_WORLD=World(3, rank=1)))
    monkeypatch.setattr(main_module.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(train_command, "run", raises(error))
    assert call(capsys, "train", "--distributed")[2] == line + "\n"


def test_sigterm_stops_training_as_ctrl_c_does(tmp_path):
    """SIGTERM (timeout, a job scheduler) killed the process: a run folder holding only a
    checkpoint, or a temporary file when it came during a write, and exit 143."""
    process = subprocess.Popen([sys.executable, "-m", "chainrule", "train", "--epochs", "500", "--patience", "0",
                                "--hidden", "64", "--no-plots", "--out", "run"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (tmp_path / "run" / "checkpoint.safetensors").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in out and "resume with: chainrule train --resume" in err
    assert {"model.safetensors", "checkpoint.safetensors", "metrics.json", "config.toml"} <= {
        path.name for path in (tmp_path / "run").iterdir()}
    assert not [path for path in (tmp_path / "run").iterdir() if path.name.startswith(".")]  # no temporary file


def test_the_sigterm_handler_is_put_back_after_a_command(capsys):
    before = signal.getsignal(signal.SIGTERM)
    assert call(capsys, "info", "no-such-file.safetensors")[0] == 2
    assert signal.getsignal(signal.SIGTERM) is before


def test_sigterm_interrupts_where_sigint_is_ignored(monkeypatch):
    """A script's background job starts with SIGINT ignored: SIGTERM turned into a SIGINT was
    ignored too, and the command went on."""
    main_module = importlib.import_module("chainrule.cli.main")  # chainrule.cli.main is also the function
    monkeypatch.setattr(signal, "getsignal", lambda signum: signal.SIG_IGN)
    ctrl_c = main_module._CtrlC()
    with pytest.raises(KeyboardInterrupt):
        ctrl_c.terminate(signal.SIGTERM, None)
    assert ctrl_c.seen


@pytest.mark.parametrize("broken", [ImportError("initialization failed"),
                                    RuntimeError("Error calling __set_name__ on '_axis_method_wrapper' instance")])
def test_an_import_broken_by_sigterm_where_sigint_is_ignored_is_reported_as_the_interruption(capsys, monkeypatch,
                                                                                            broken):
    """A batch job started in the background ('&') ignores SIGINT, so SIGTERM raised KeyboardInterrupt itself;
    when it broke matplotlib's import (a pybind11 module's ImportError, a class's __set_name__ RuntimeError),
    that error was reported as an internal error, exit 1, where a Ctrl-C's was the interruption, exit 130."""
    def interrupted_import(args):
        try:
            signal.raise_signal(signal.SIGTERM)  # main's handler: KeyboardInterrupt, SIGINT being ignored
        except KeyboardInterrupt:
            raise broken from None
    monkeypatch.setattr(importlib.import_module("chainrule.cli.info"), "run", interrupted_import)
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    before_sigterm = signal.getsignal(signal.SIGTERM)
    try:
        code, out, err = call(capsys, "info", "model.safetensors")
        assert (code, err) == (130, "chainrule: interrupted\n")
        assert signal.getsignal(signal.SIGTERM) is before_sigterm  # put back
    finally:
        signal.signal(signal.SIGINT, before)


def test_an_import_broken_by_ctrl_c_is_reported_as_the_interruption(capsys, monkeypatch):
    """A Ctrl-C inside a compiled module's initialization surfaces as that module's error
    (matplotlib's pybind11 modules raise ``ImportError: initialization failed``): it was
    reported as an internal error, exit 1."""
    def interrupted_import(args):
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            raise ImportError("initialization failed") from None
    monkeypatch.setattr(importlib.import_module("chainrule.cli.info"), "run", interrupted_import)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code, out, err = call(capsys, "info", "model.safetensors")
        assert (code, err) == (130, "chainrule: interrupted\n")
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    finally:
        signal.signal(signal.SIGINT, before)


def test_an_error_without_a_ctrl_c_is_still_an_internal_error(capsys, monkeypatch):
    def broken(args):
        raise ImportError("initialization failed")
    monkeypatch.setattr(importlib.import_module("chainrule.cli.info"), "run", broken)
    code, out, err = call(capsys, "info", "model.safetensors")
    assert_one_line_error(code, err, "internal error: initialization failed", exit_code=1)


def test_python_m_exits_130_after_a_ctrl_c_caught_inside_an_exec(tmp_path):
    """SciPy and NumPy's f2py run strings with exec while they import; a Ctrl-C there, caught and
    reported by main, still ended ``python -m chainrule`` by SIGINT (exit status -2), as CPython
    remembers a KeyboardInterrupt that left an exec."""
    (tmp_path / "sitecustomize.py").write_text(
        "import importlib\n"
        "main_module = importlib.import_module('chainrule.cli.main')\n"
        "def parse(argv, parser=None):\n"
        "    exec('raise KeyboardInterrupt')  # a Ctrl-C while an exec'd string runs\n"
        "main_module.parse = parse\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-m", "chainrule", "info", "model.safetensors"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, env=env)
    assert (result.returncode, result.stderr) == (130, "chainrule: interrupted\n")


@pytest.mark.parametrize("args, meant", [(["train", "--device", "CUDA"], "cuda"),
                                         (["train", "--class-weight", "Balanced"], "balanced"),
                                         (["trian"], "train")])
def test_a_mistyped_choice_ends_with_the_one_meant(capsys, args, meant):
    # as a config file's values do; argparse's message listed the choices alone
    code, out, err = call(capsys, *args)
    assert_one_line_error(code, err, f"invalid choice: '{args[-1]}'", f"(did you mean '{meant}'?)")


def test_an_invalid_choice_is_quoted_and_cut(capsys):
    """argparse's value went whole into the line: a 100,000-character --device made a line of that size."""
    code, out, err = call(capsys, "train", "--device", "x" * 100_000)
    line = assert_one_line_error(code, err, "invalid choice: '" + "x" * 59 + "... (choose from 'cpu', 'cuda')")
    assert len(line) < 300


@pytest.mark.parametrize("args, expected", [(["train", "--epochs"], "an integer >= 1"),
                                            (["train", "--lr"], "a number > 0"),
                                            (["gradcheck", "--samples"], "an integer >= 1"),
                                            (["export", "m.safetensors", "--opset"], OPSETS),
                                            (["evaluate", "m.safetensors", "iris", "--test-size"],
                                             "a fraction in (0, 1)")])
def test_a_value_of_the_wrong_type_is_quoted_and_cut(capsys, args, expected):
    """argparse's 'invalid int value' held the value whole: 100,000 characters made a line of that size."""
    code, out, err = call(capsys, *args, "x" * 100_000)
    line = assert_one_line_error(code, err, f"{args[-1]}: expected {expected}, got '" + "x" * 59 + "...")
    assert len(line) < 300
    code, out, err = call(capsys, *args, "nan!")  # a short one as it was
    assert err == f"chainrule: error: {args[-1]}: expected {expected}, got 'nan!'\n"


#: Every option of every command that takes a number, given one that is not, and the line it gets: the words of
#: the option's range check (--epochs 0 is "--epochs: expected an integer >= 1, got 0")
NOT_A_NUMBER = [
    (["train", "--epochs", "1.5"], "--epochs: expected an integer >= 1, got '1.5'"),
    (["train", "--batch-size", "3.0"], "--batch-size: expected an integer >= 1, got '3.0'"),
    (["train", "--checkpoint-every", "x"], "--checkpoint-every: expected an integer >= 1, got 'x'"),
    (["train", "--patience", "1e3"], "--patience: expected an integer >= 0, got '1e3'"),
    (["train", "--seed", "0x10"], "--seed: expected an integer from 0 to 2**128 - 1, got '0x10'"),
    (["train", "--lr", "0,01"], "--lr: expected a number > 0, got '0,01'"),
    (["train", "--weight-decay", "x"], "--weight-decay: expected a number >= 0, got 'x'"),
    (["train", "--validation", "10%"], "--validation: expected a number in [0, 1), got '10%'"),
    (["train", "--test-size", "1/5"], "--test-size: expected a fraction in (0, 1), got '1/5'"),
    (["train", "--distributed-timeout", "1m"], "--distributed-timeout: expected a number > 0, got '1m'"),
    (["gradcheck", "--seed", "1.5"], "--seed: expected an integer from 0 to 2**128 - 1, got '1.5'"),
    (["gradcheck", "--test-size", "x"], "--test-size: expected a fraction in (0, 1), got 'x'"),
    (["gradcheck", "--samples", "2.5"], "--samples: expected an integer >= 1, got '2.5'"),
    (["gradcheck", "--max-checks", "x"], "--max-checks: expected an integer >= 1, got 'x'"),
    (["gradcheck", "--tolerance", "x"], "--tolerance: expected a number > 0, got 'x'"),
    (["gradcheck", "--eps", "x"], "--eps: expected a number in (0, 1), got 'x'"),
    (["evaluate", "m.safetensors", "iris", "--seed", "x"], "--seed: expected an integer from 0 to 2**128 - 1, "
                                                           "got 'x'"),
    (["evaluate", "m.safetensors", "iris", "--test-size", "x"], "--test-size: expected a fraction in (0, 1), got 'x'"),
    (["predict", "m.safetensors", "iris", "--seed", "x"], "--seed: expected an integer from 0 to 2**128 - 1, "
                                                          "got 'x'"),
    (["predict", "m.safetensors", "iris", "--test-size", "x"], "--test-size: expected a fraction in (0, 1), got 'x'"),
    (["export", "m.safetensors", "--onnx", "m.onnx", "--opset", "17.0"], f"--opset: expected {OPSETS}, got '17.0'"),
]


@pytest.mark.parametrize("argv, line", NOT_A_NUMBER)
def test_an_option_given_no_number_says_what_it_expects_as_its_range_check_does(capsys, argv, line):
    """It was argparse's: 'chainrule train: argument --epochs: invalid int value: '1.5' (see chainrule train
    --help)'."""
    code, out, err = call(capsys, *argv)
    assert (code, out, err) == (2, "", f"chainrule: error: {line}\n")


def test_every_option_taking_a_number_is_in_the_list_above_and_none_has_a_bare_int_or_float_type():
    """A new option of type int or float would get argparse's wording back."""
    parser = build_parser()
    commands = next(action for action in parser._actions if action.dest == "command").choices
    typed = {(name, action.option_strings[0]) for name, command in commands.items() for action in command._actions
             if action.type in (int, float) or isinstance(action.type, Number)}
    assert typed == {(argv[0], argv[-2]) for argv, _ in NOT_A_NUMBER}
    assert not any(action.type in (int, float) for command in commands.values() for action in command._actions)


def _real_number_options() -> list[tuple[str, str]]:
    """(command, option) of every option taking a real number (a Number type converting with float)."""
    commands = next(action for action in build_parser()._actions if action.dest == "command").choices
    return sorted((name, action.option_strings[0]) for name, command in commands.items()
                  for action in command._actions if isinstance(action.type, Number) and action.type.convert is float)


def test_the_real_number_options_are_those_expected():
    """The list the test below runs over: a new option taking a real number is in it."""
    assert _real_number_options() == [
        ("evaluate", "--test-size"), ("gradcheck", "--eps"), ("gradcheck", "--test-size"),
        ("gradcheck", "--tolerance"), ("predict", "--test-size"), ("train", "--distributed-timeout"),
        ("train", "--lr"), ("train", "--test-size"), ("train", "--validation"), ("train", "--weight-decay")]


@pytest.mark.parametrize("command, option", _real_number_options())
@pytest.mark.parametrize("text, got", [("nan", "nan"), ("inf", "inf"), ("-Infinity", "-inf"), ("1e999", "inf")])
def test_every_real_number_option_refuses_nan_and_infinity_in_one_wording_naming_it(capsys, tmp_path, monkeypatch,
                                                                                  command, option, text, got):
    """They were refused in three: 'a finite number' (--lr, --test-size), 'a finite real number' (--tolerance,
    --distributed-timeout) and --eps's range ('a number in (0, 1)')."""
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, command, f"{option}={text}")
    assert (code, out, err) == (2, "", f"chainrule: error: {option}: expected a finite number, got {got}\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, dest", [(["train", "--out=--"], "out"), (["train", "--config=--"], "config"),
                                        (["train", "--resume=--"], "resume"), (["train", "--hidden=--"], "hidden"),
                                        (["train", "--data=--"], "data"), (["gradcheck", "--label=--"], "label"),
                                        (["predict", "m.safetensors", "iris", "-o=--"], "output"),
                                        (["predict", "m.safetensors", "iris", "--output=--"], "output"),
                                        (["export", "m.safetensors", "--onnx=--"], "onnx")])
def test_an_option_given_double_dash_after_equals_takes_it_as_its_value(argv, dest):
    """argparse dropped the '--' as the end of the options and gave the option []: --out, --config,
    --resume and -o were then taken as not given (train --config=-- trained on digits)."""
    assert getattr(parse(argv), dest) == "--"


@pytest.mark.parametrize("argv, message", [(["train", "--epochs=--"], "--epochs: expected an integer >= 1, got '--'"),
                                           (["train", "--device=--"], "argument --device: invalid choice: '--'"),
                                           (["train", "--config=--"], "--: config file not found")])
def test_an_option_given_double_dash_after_equals_is_refused_as_that_value(capsys, tmp_path, monkeypatch, argv,
                                                                          message):
    """--epochs=-- was 'expected an integer, got list []'."""
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, *argv)
    assert_one_line_error(code, err, message)
    assert out == "" and list(tmp_path.iterdir()) == []


def test_export_and_predict_write_a_file_named_double_dash(iris_run, tmp_path, monkeypatch, capsys):
    """export --onnx=-- was an internal error (exit 1: a list for a path); predict -o=-- printed the predictions."""
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, "export", iris_run / "model.safetensors", "--onnx=--")
    assert (code, err) == (0, "") and out.startswith("wrote --: ONNX opset")
    (tmp_path / "--").unlink()
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", "iris", "-o=--")
    assert (code, out, err) == (0, "", "")
    assert (tmp_path / "--").read_text().splitlines()[0] == "prediction"


@pytest.mark.parametrize("argv, name", [(["info", "LONG"], "argument MODEL"), (["export", "LONG", "--onnx", "o.onnx"],
                                                                                "argument MODEL"),
                                        (["predict", "M", "iris", "-o", "LONG"], "-o"),
                                        (["export", "M", "--onnx", "LONG"], "--onnx"),
                                        (["train", "--config", "LONG"], "--config"),
                                        (["gradcheck", "--config", "LONG"], "--config"),
                                        (["train", "--resume", "LONG"], "--resume"),
                                        (["train", "--out", "LONG", "--epochs", "1"], "--out"),
                                        (["train", "--data", "LONG", "--epochs", "1"], "--data")])
def test_a_path_longer_than_any_file_name_is_refused_in_a_short_line(iris_run, tmp_path, monkeypatch, capsys, argv,
                                                                     name):
    """The file system's "File name too long" was reported with the path whole: a 5,000-character
    argument (a glob or a file's contents through $(...)) made a line of that size."""
    monkeypatch.chdir(tmp_path)
    given = {"LONG": "x" * 5000, "M": str(iris_run / "model.safetensors")}
    code, out, err = call(capsys, *[given.get(arg, arg) for arg in argv])
    line = assert_one_line_error(code, err, f"{name}: '{'x' * 59}...: a path of 5,000 characters, longer than any "
                                            f"file name (4096)")
    assert len(line) < 300
    assert out == "" and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, fragment", [
    (["info", "LONG"], "LONG: cannot read the model file"),
    (["export", "LONG", "--onnx", "o.onnx"], "LONG: cannot read the model file"),
    (["predict", "LONG", "iris"], "LONG: cannot read the model file"),
    (["evaluate", "LONG", "iris"], "LONG: cannot read the model file"),
    (["predict", "M", "LONG.csv"], "LONG.csv: cannot read the file"),
    (["evaluate", "M", "LONG.npz"], "LONG.npz: cannot read the file"),
    (["predict", "M", "iris", "-o", "LONG"], "-o: LONG: cannot write"),
    (["export", "M", "--onnx", "LONG"], "--onnx: LONG: cannot write"),
    (["train", "--config", "LONG"], "LONG: cannot read config file"),
    (["gradcheck", "--config", "LONG"], "LONG: cannot read config file"),
    (["train", "--data", "LONG.csv", "--epochs", "1"], "LONG.csv: cannot read the file"),
    (["gradcheck", "--data", "LONG.csv"], "LONG.csv: cannot read the file"),
    (["train", "--resume", "LONG"], "--resume: LONG: cannot read the checkpoint"),
    (["train", "--data", "iris", "--epochs", "1", "--out", "LONG"], "--out: LONG: cannot create the run folder"),
    (["train", "--data", "iris", "--epochs", "1", "--out", "new/LONG"],
     "--out: new/LONG: cannot create the run folder"),
    (["train", "--data", "iris", "--epochs", "1", "--out", "LONG/run"],
     "--out: LONG/run: cannot create the run folder")])
def test_a_name_longer_than_the_file_system_takes_is_refused_naming_the_file(iris_run, tmp_path, monkeypatch, capsys,
                                                                           argv, fragment):
    """A name of 300 bytes, within the path's limit but over the file system's for one name (255 bytes on most),
    is the system's "File name too long", said of the file. Before, --out new/LONG was an internal error (exit 1),
    leaving the folder new/ that the run had made; --out LONG was told as the lock file's ("cannot open the run
    folder's lock file"); --resume LONG said "no such checkpoint file"."""
    long_name = "n" * 300
    if hasattr(os, "pathconf") and os.pathconf(tmp_path, "PC_NAME_MAX") >= len(long_name):
        pytest.skip("this file system takes names of 300 bytes")
    monkeypatch.chdir(tmp_path)
    given = {"M": str(iris_run / "model.safetensors")}
    argv = [given.get(arg, arg.replace("LONG", long_name)) for arg in argv]
    code, out, err = call(capsys, *argv)
    assert_one_line_error(code, err, f"{fragment.replace('LONG', long_name)} (File name too long)")
    assert out == "" and list(tmp_path.iterdir()) == []


def test_an_out_folder_too_long_for_the_paths_of_its_files_is_refused_and_nothing_is_made(tmp_path, monkeypatch,
                                                                                           capsys):
    """A folder path of short names, within the limit itself (4,073 characters) but not with a file's name
    added: an internal error, exit 1, after the data were read. Here pathlib's mkdir(parents=True) recursed
    past Python's limit (RecursionError); below an existing deep folder, the run made the missing ones, its
    write test's path was refused, and the deletion of that file, never made, raised OSError (File name too
    long)."""
    monkeypatch.chdir(tmp_path)
    folder = "a/" * 2036 + "b"
    code, out, err = call(capsys, "train", "--data", "iris", "--epochs", "1", "--out", folder)
    assert_one_line_error(code, err, "--out: 'a/a/a/", "...: a folder path of 4,073 characters leaves no room for the "
                          "files a run writes there: their paths would have up to 4,114 bytes, more than the system "
                          "takes (4,095)")
    assert out == "" and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("folder, length", [("a/" * 2026 + "bbb", "4,055 characters"),
                                            ("\u00e9/" * 1355 + "bb", "2,712 characters (4,067 bytes)")],
                         ids=["ascii", "utf-8"])
def test_an_out_folder_whose_files_paths_reach_the_limit_in_bytes_is_refused_before_the_data_are_read(
        tmp_path, monkeypatch, capsys, folder, length):
    """The system takes paths of 4,095 bytes (PATH_MAX, 4,096, counts the NUL that ends one) and counts bytes,
    not characters. Before, a folder of 4,055 ASCII characters, whose temporary files' paths have 4,096, passed
    the check and the write test's file was refused after the data were read, in a line of 4,000 characters;
    one of 2,712 characters of which 1,355 are 'é' (4,067 bytes in UTF-8) was an internal error, exit 1 (the
    write test's unlink raising File name too long)."""
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, "train", "--data", "iris", "--epochs", "1", "--out", folder)
    longest = len(os.fsencode(folder)) + 41
    assert_one_line_error(code, err, f"...: a folder path of {length} leaves no room for the files a run writes "
                          f"there: their paths would have up to {longest:,} bytes, more than the system takes "
                          f"(4,095); give a shorter path")
    assert out == "" and list(tmp_path.iterdir()) == []


def test_an_out_folder_under_a_thousand_missing_folders_is_made(tmp_path, monkeypatch, capsys):
    """pathlib's mkdir(parents=True) calls itself once per missing folder: --out a/a/.../b under 1,100 of
    them raised RecursionError, an internal error (exit 1)."""
    monkeypatch.chdir(tmp_path)
    parts = ["a"] * 1100 + ["b"]
    try:
        code, out, err = call(capsys, "train", "--data", "iris", "--hidden", "4", "--epochs", "1", "--no-plots",
                              "--quiet", "--out", "/".join(parts))
        assert code == 0, err
        assert (tmp_path.joinpath(*parts) / "model.safetensors").is_file()
    finally:  # pytest's rmtree, recursive too, would fail on them
        for depth in range(len(parts), 0, -1):
            folder = tmp_path.joinpath(*parts[:depth])
            if folder.is_dir():
                for path in folder.iterdir():
                    if not path.is_dir():
                        path.unlink()
                folder.rmdir()


@pytest.mark.parametrize("stdout", ["closed", "full"])
@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["info", "-h"]])
def test_help_to_a_stdout_that_cannot_take_it_is_one_line_and_exit_2(tmp_path, argv, stdout):
    """argparse's print of the help passed over an OSError: the command exited 0, having printed nothing."""
    if stdout == "full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    command = [sys.executable, "-m", "chainrule", *argv]
    with open("/dev/full" if stdout == "full" else os.devnull, "w") as full:
        streams = {"stdout": full} if stdout == "full" else {"preexec_fn": lambda: os.close(1)}
        done = subprocess.run(command, cwd=tmp_path, stderr=subprocess.PIPE, text=True, timeout=120, **streams)
    reason = "No space left on device" if stdout == "full" else "it was closed when chainrule started"
    assert_one_line_error(done.returncode, done.stderr, f"stdout: cannot write the output ({reason})")


@pytest.mark.parametrize("argv", [["--version"], ["train", "--version"], ["predict", "m.safetensors", "--version"]])
def test_version_is_printed_before_or_after_the_command(capsys, argv):
    # after the command it was an unrecognized argument (exit 2), where --debug is taken in every position
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code in (0, None)
    assert capsys.readouterr().out == f"chainrule {cr.__version__}\n"


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--data", "d.csv", "--label", "--version"], "argument --label: expected one argument"),
    (["predict", "m.safetensors", "d.csv", "-o", "--version"], "argument -o/--output: expected one argument"),
    (["info", "--", "--version"], "--version: no such model file"),
    (["train", "--data", "d.csv", "--label", "--", "--version"], "argument --label: expected one argument"),
])
def test_version_as_the_value_of_an_option_or_after_double_dash_is_no_request_for_the_version(capsys, argv, fragment):
    # "--version" anywhere in the line printed the version: as --label's value, or a MODEL path after --
    code, out, err = call(capsys, *argv)
    assert out == ""
    assert_one_line_error(code, err, fragment)


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--data", "d.csv", "--label", "--debug"], "argument --label: expected one argument"),
    (["info", "--", "--debug"], "--debug: no such model file"),
    (["train", "--data", "d.csv", "--label", "--", "--debug"], "argument --label: expected one argument"),
])
def test_debug_as_the_value_of_an_option_or_after_double_dash_adds_no_traceback(capsys, argv, fragment):
    # "--debug" anywhere in the line added the traceback, where --version was no longer taken so
    code, _, err = call(capsys, *argv)
    assert_one_line_error(code, err, fragment)


@pytest.mark.parametrize("argv", [
    ["train", "--label", "y", "--version"], ["info", "--version", "--", "m.safetensors"], ["--version", "--", "x"],
])
def test_version_stands_as_an_option_after_an_options_value_and_before_double_dash(capsys, argv):
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code in (0, None)
    assert capsys.readouterr().out == f"chainrule {cr.__version__}\n"


def test_a_ctrl_c_as_the_parser_is_made_is_reported_in_one_line(capsys, monkeypatch):
    """The parser was made before main's try (since --debug is looked for with it): a KeyboardInterrupt there left
    main with a traceback, and a rank of an MPI launch without the MPI_Abort that ends the others."""
    def interrupted():
        raise KeyboardInterrupt
    monkeypatch.setattr(sys.modules["chainrule.cli.main"], "build_parser", interrupted)
    assert main(["info", "--debug", "model.safetensors"]) == 130
    assert capsys.readouterr().err == "chainrule: interrupted\n"


def test_debug_before_double_dash_adds_the_traceback(capsys, tmp_path):
    code, _, err = call(capsys, "info", "--debug", "--", tmp_path / "missing.safetensors")
    assert code == 2 and "Traceback (most recent call last)" in err and "ModelFileError" in err


def test_an_option_takes_a_value_in_every_command_that_has_it_or_in_none():
    # given_as_option skips the word after an option that takes a value, whichever command it is given to
    parser = build_parser()
    takes_value = {}
    for each in [parser, *parser._subparsers._group_actions[0].choices.values()]:
        for action in each._actions:
            for option in action.option_strings:
                takes_value.setdefault(option, set()).add(action.nargs != 0)
                # and exactly one value, the one word it skips: nargs='?' or '*' would leave '--debug' after the
                # option to argparse as an option, nargs='+' the words after its first value
                assert action.nargs in (None, 0), (option, action.nargs)
    assert {option: kinds for option, kinds in takes_value.items() if len(kinds) > 1} == {}
