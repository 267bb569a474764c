"""_chainrule_launcher: the console script reports a Ctrl-C while the library loads in one line."""

import importlib.metadata
import subprocess
import sys
import textwrap

import pytest

# A child process whose import of chainrule.cli.main is cut by a Ctrl-C, as a real one would
# be half a second into `chainrule train`; then the console script's entry point runs.
INTERRUPTED_IMPORT = textwrap.dedent("""
    import sys

    class CtrlC:
        def find_spec(self, name, path=None, target=None):
            if name == "chainrule.cli.main":
                raise KeyboardInterrupt
            return None

    sys.meta_path.insert(0, CtrlC())
    sys.argv = ["chainrule", *sys.argv[1:]]
    from _chainrule_launcher import entry_point
    entry_point()
""")


def run_launcher(*args: str, signal_sent: str = "") -> subprocess.CompletedProcess:
    """The launcher in a child whose import of chainrule.cli.main is cut by a Ctrl-C, or by ``signal_sent``
    ("SIGTERM": the child sends it to itself there, as ``timeout`` would)."""
    script = INTERRUPTED_IMPORT
    if signal_sent:
        script = script.replace("raise KeyboardInterrupt",
                                f"import os, signal; os.kill(os.getpid(), signal.{signal_sent}); signal.pause()")
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120)


def test_the_console_script_is_the_launcher():
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="chainrule")
    assert script.value == "_chainrule_launcher:entry_point"


def test_ctrl_c_while_the_library_loads_is_one_line_and_exit_130():
    result = run_launcher("train")
    assert (result.returncode, result.stderr, result.stdout) == (130, "chainrule: interrupted\n", "")


def test_debug_shows_no_traceback_for_a_ctrl_c_as_main_shows_none():
    result = run_launcher("train", "--debug")
    assert (result.returncode, result.stderr) == (130, "chainrule: interrupted\n")


@pytest.mark.parametrize("argv, code", [(["info", "--help"], 0), (["train", "--epochs", "0"], 2)])
def test_once_loaded_the_command_runs_as_main_does(argv, code):
    result = subprocess.run([sys.executable, "-c", "import sys; from _chainrule_launcher import entry_point; "
                             "sys.argv = ['chainrule', *sys.argv[1:]]; entry_point()", *argv],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == code
    assert "Traceback" not in result.stderr


def test_sigterm_while_the_library_loads_is_taken_as_ctrl_c():
    # it killed the process by the signal (exit 143), without a word
    result = run_launcher("train", signal_sent="SIGTERM")
    assert (result.returncode, result.stderr, result.stdout) == (130, "chainrule: interrupted\n", "")
