"""chainrule._module_command: ``python -m chainrule`` reports a Ctrl-C while the library loads in one line."""

import os
import subprocess
import sys
import textwrap

import pytest

# Put in place before anything is imported (a sitecustomize): a Ctrl-C as the import of MODULE starts,
# as a real one lands a fraction of a second into `python -m chainrule train`.
CTRL_C_AT = textwrap.dedent("""
    import sys

    class CtrlC:
        def find_spec(self, name, path=None, target=None):
            if name == {module!r}:
                {interrupt}
            return None

    sys.meta_path.insert(0, CtrlC())
""")


def run_interrupted(tmp_path, command: list, module: str, interrupt: str = "raise KeyboardInterrupt"):
    """``python COMMAND`` in a child whose import of ``module`` is cut by ``interrupt``."""
    (tmp_path / "sitecustomize.py").write_text(CTRL_C_AT.format(module=module, interrupt=interrupt))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, *command], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=env)


@pytest.mark.parametrize("module", ["chainrule.errors", "chainrule.gradcheck", "chainrule.training",
                                    "chainrule.cli.main"],
                         ids=["package's first import", "package", "package's last import", "command line"])
@pytest.mark.parametrize("command", [["-m", "chainrule", "train", "--debug"], ["-mchainrule.__main__", "info"]],
                         ids=["-m chainrule", "-mchainrule.__main__"])
def test_ctrl_c_while_the_library_loads_is_one_line_and_exit_130(tmp_path, module, command):
    """It was a traceback and exit status -2 (killed by SIGINT)."""
    result = run_interrupted(tmp_path, command, module)
    assert (result.returncode, result.stderr, result.stdout) == (130, "chainrule: interrupted\n", "")


def test_a_ctrl_c_caught_inside_an_exec_while_the_package_loads_still_exits_130(tmp_path):
    """CPython remembers a KeyboardInterrupt that left an exec (SciPy and f2py run some while they
    import) and ends ``python -m`` by SIGINT after it was caught (see chainrule.__main__)."""
    result = run_interrupted(tmp_path, ["-m", "chainrule", "info"], "chainrule.gradcheck",
                             interrupt="exec('raise KeyboardInterrupt')")
    assert (result.returncode, result.stderr) == (130, "chainrule: interrupted\n")


@pytest.mark.parametrize("command", [["-c", "import chainrule"], ["-m", "other.tool", "--help"]],
                         ids=["a script's import", "another module run by -m"])
def test_an_import_of_the_library_leaves_its_ctrl_c_to_its_caller(tmp_path, command):
    (tmp_path / "other").mkdir()  # a package that imports chainrule while python -m looks for its module
    (tmp_path / "other" / "__init__.py").write_text("import chainrule\n")
    (tmp_path / "other" / "tool.py").write_text("")
    result = run_interrupted(tmp_path, command, "chainrule.gradcheck")
    assert result.returncode == -2 and "KeyboardInterrupt" in result.stderr, result.stderr
    assert "chainrule: interrupted" not in result.stderr
