"""The documentation's code runs, and the command lines it shows match the command-line parser.

Every ```python block of README.md and docs/*.md runs in a fresh namespace, in a temporary
working directory (so the files an example writes never land in the repository). A block that
needs what this machine may lack (a CUDA GPU, torch, an MPI job) is skipped with the reason,
found from the block's own text; it is still compiled and checked to define every name it uses.
A top-level ``print(...)  # comment`` of a block must print what its comment says (``# 0.83``).

The command lines of README.md and the docs (inline code and console blocks) name only
subcommands and options that ``chainrule``'s parser has, and the synopsis of docs/usage.md
lists every option each subcommand has, with the defaults that --help shows. Every link
between them reaches a file, and a heading where it names one.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import importlib.util
import io
import re
import subprocess
import sys
import textwrap
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest

from chainrule.backend import cuda_available
from chainrule.cli.config import TrainConfig, value_name
from chainrule.cli.main import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# The docs whose command lines are about the ``chainrule`` command (benchmarks.md and
# cpu_speed.md show ``python -m benchmarks`` and its own options).
CLI_DOCS = [ROOT / name for name in ("README.md", "docs/usage.md", "docs/design.md",
                                     "docs/distributed.md", "docs/gpu.md")]
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<language>\w*)[ \t]*$")


@dataclass
class CodeBlock:
    """A fenced block of a Markdown file, dedented; ``line`` is the first line of its code (1-based)."""

    path: Path
    line: int
    language: str
    code: str

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def code_blocks(path: Path) -> list[CodeBlock]:
    """Every fenced block of ``path``, including fences indented inside a list item."""
    blocks, lines, start = [], path.read_text(encoding="utf-8").splitlines(), None
    for number, line in enumerate(lines, start=1):
        match = FENCE.match(line)
        if match is None:
            continue
        if start is None:
            start, language = number, match["language"]
        elif not match["language"]:
            code = textwrap.dedent("\n".join(lines[start:number - 1]))
            blocks.append(CodeBlock(path, start + 1, language, code))
            start = None
    return blocks


def python_blocks() -> list[CodeBlock]:
    return [block for path in DOCS for block in code_blocks(path) if block.language == "python"]


def missing_requirement(code: str) -> str | None:
    """Why this machine cannot run ``code``, judged from what the code asks for; None if it can."""
    if '"cuda"' in code and not cuda_available():
        return "needs CuPy and a CUDA GPU (the example asks for device 'cuda')"
    if re.search(r"^\s*(import|from) torch\b", code, re.M) and importlib.util.find_spec("torch") is None:
        return "needs torch (the example imports it)"
    if "distributed=" in code:
        return "needs an MPI job (the example trains with distributed=...): mpiexec -n N python script.py"
    return None


def undefined_names(code: str) -> list[str]:
    """Names ``code`` reads but never binds (a fragment that leans on an earlier block).

    Scope-blind on purpose: a name bound anywhere in the block counts as bound everywhere.
    """
    tree = ast.parse(code)
    bound = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return sorted(read - bound)


PYTHON_BLOCKS = python_blocks()


def test_the_docs_have_python_examples():
    assert len(PYTHON_BLOCKS) >= 5, [block.name for block in PYTHON_BLOCKS]


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda block: block.name)
def test_python_block_is_self_contained(block):
    """Compiles, and defines what it uses: a reader can paste it alone (skipped blocks included)."""
    compile(block.code, block.name, "exec")
    assert undefined_names(block.code) == [], f"{block.name} uses names it does not define"


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda block: block.name)
def test_python_block_runs(block, tmp_path, monkeypatch):
    reason = missing_requirement(block.code)
    if reason:
        pytest.skip(f"{block.name}: {reason}")
    monkeypatch.chdir(tmp_path)
    printed = []

    def recording_print(*args, sep=" ", **kwargs):
        printed.append((sys._getframe(1).f_lineno, sep.join(map(str, args))))
        builtins.print(*args, sep=sep, **kwargs)

    exec(compile(block.code, block.name, "exec"), {"__name__": "__docs__", "print": recording_print})
    wrong = []
    for first, last, comment in printed_claims(block.code):
        texts = [text for line, text in printed if first <= line <= last]
        if len(texts) != 1 or not output_matches(texts[0], comment):  # a top-level print prints once
            wrong.append(f"line {block.line + first - 1}: printed {texts!r}, the comment says # {comment}")
    assert wrong == [], f"{block.name}: a print's comment is not what it prints"


def printed_claims(code: str) -> list[tuple[int, int, str]]:
    """``(first line, last line, comment)`` of each top-level ``print(...)  # comment`` of ``code``:
    the comment says what it prints."""
    comments = {token.start[0]: token.string.lstrip("#").strip()
                for token in tokenize.generate_tokens(io.StringIO(code).readline) if token.type == tokenize.COMMENT}
    return [(node.lineno, node.end_lineno, comments[node.end_lineno]) for node in ast.parse(code).body
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", None) == "print" and node.end_lineno in comments]


def output_matches(text: str, comment: str) -> bool:
    """Whether a print's ``text`` is what its ``comment`` says: the same, or the same followed by
    `` (a remark)``; ``~4e-10`` for a number of that order of magnitude (within a factor of 10); for
    output of several lines, every ``"... quoted"`` part of the comment (one line's end), of which
    there must be one."""
    if "\n" in text:
        quoted = re.findall(r'"(?:\.\.\. )?([^"]+)"', comment)
        return bool(quoted) and all(part in text for part in quoted)
    if comment.startswith("~"):
        return 0.1 < abs(float(text)) / float(comment[1:]) < 10
    return comment == text or comment.startswith(text + " (")


def test_print_check_finds_a_comment_that_is_not_the_output():
    code = "print(1)  # 1\nx = 2  # 3\nprint(0.5,\n      2)  # 0.5 3 (a remark)\nfor i in []:\n    print(i)  # 7\n"
    assert printed_claims(code) == [(1, 1, "1"), (3, 4, "0.5 3 (a remark)")]
    assert output_matches("0.83", "0.83") and output_matches("True", "True (checked in float64)")
    assert not output_matches("0.84", "0.83") and not output_matches("True", "Truer")
    assert output_matches("3.8e-10", "~4e-10") and not output_matches("3.8e-08", "~4e-10")
    assert output_matches("a 1\nb: passed", 'each line, then "... b: passed"')
    assert not output_matches("a 1\nb: FAILED", 'each line, then "... b: passed"')
    assert not output_matches("a 1\nb: FAILED", "each line")  # a comment that quotes nothing claims nothing


# --- command lines ---------------------------------------------------------------------------

def subcommand_parsers() -> dict[str, argparse.ArgumentParser]:
    """``{"train": its parser, ...}``: the subcommands that ``chainrule``'s parser dispatches to."""
    parser = build_parser()
    (commands,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return dict(commands.choices)


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def command_texts(path: Path) -> list[str]:
    """The inline code spans and the lines of non-Python fenced blocks of ``path``."""
    texts = []
    for block in code_blocks(path):
        if block.language != "python":
            texts += block_lines(block.code)
    prose = re.sub(r"^[ \t]*```.*?^[ \t]*```[ \t]*$", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    texts += [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]
    return texts


def block_lines(code: str) -> list[str]:
    """The lines of a console block; one that starts with white space continues the line above
    (the synopsis of docs/usage.md wraps a command's options so)."""
    lines = []
    for line in code.splitlines():
        if line[:1].isspace() and lines:
            lines[-1] += " " + line.strip()
        elif line.strip():
            lines.append(line.strip())
    return lines


def options_in(words: list[str]) -> list[str]:
    """``--epochs`` of ``--epochs``, ``[--epochs`` or ``--seed:``; ``-o`` of ``[-o``."""
    found = (re.match(r"\[?(--?[A-Za-z][A-Za-z0-9-]*)", word) for word in words)
    return [match[1] for match in found if match]


def option_mentions(text: str, commands) -> list[tuple[str | None, str]]:
    """``(subcommand or None, option)`` for each option that ``text`` gives ``chainrule``.

    ``text`` is a command line (``chainrule train --epochs 3``, ``mpiexec -n 2 chainrule
    --debug train ...``), or a mention that starts with a subcommand (``predict -o``) or with
    an option (``--seed``; subcommand None, as for the options before the subcommand).
    A subcommand the parser lacks comes back as ``("?", name)``. Anything else
    (``pip install ...``) mentions nothing.
    """
    words = text.split()
    if "chainrule" in words:
        words = words[words.index("chainrule") + 1:]
        n_top_level = next((i for i, word in enumerate(words) if not word.startswith("-")), len(words))
        top_level, rest = words[:n_top_level], words[n_top_level:]
        mentions = [(None, option) for option in options_in(top_level)]
        if not rest:
            return mentions
        if rest[0] not in commands:
            return mentions + [("?", rest[0])]
        return mentions + [(rest[0], option) for option in options_in(rest[1:])]
    if words and words[0] in commands:
        return [(words[0], option) for option in options_in(words[1:])]
    if words and words[0].startswith("-"):
        return [(None, option) for option in options_in(words)]
    return []


@pytest.mark.parametrize("path", CLI_DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_docs_name_only_subcommands_and_options_the_cli_has(path):
    commands = subcommand_parsers()
    top_level = option_strings(build_parser())
    every_option = top_level.union(*(option_strings(parser) for parser in commands.values()))
    wrong = []
    for text in command_texts(path):
        for command, option in option_mentions(text, commands):
            if command == "?":
                wrong.append(f"{text!r}: no subcommand {option!r}")
            elif command is None and option not in every_option:
                wrong.append(f"{text!r}: no subcommand has {option}")
            elif command is not None and option not in option_strings(commands[command]):
                wrong.append(f"{text!r}: chainrule {command} has no {option}")
    assert wrong == []


def test_command_line_check_finds_a_wrong_option_and_a_wrong_subcommand():
    commands = subcommand_parsers()
    assert option_mentions("chainrule evaluate MODEL DATA [--epochs 3]", commands) == [("evaluate", "--epochs")]
    assert option_mentions("mpiexec -n 2 chainrule --debug trian --seed 1", commands) == [(None, "--debug"),
                                                                                         ("?", "trian")]
    assert option_mentions("predict -o", commands) == [("predict", "-o")]
    assert option_mentions("pip install --no-binary mpi4py mpi4py", commands) == []


def synopsis() -> dict[str, str]:
    """The first fenced block of docs/usage.md, one entry per subcommand: ``{"train": "[--data digits] ..."}``."""
    commands = {}
    block = code_blocks(ROOT / "docs" / "usage.md")[0]
    for text in block_lines(block.code):
        words = text.split()
        assert words[0] == "chainrule", text
        commands[words[1]] = " ".join(words[2:])
    return commands


def test_usage_synopsis_lists_every_subcommand_and_option():
    """Each subcommand's options appear in docs/usage.md's synopsis (``-o`` or ``--output``
    is enough for an option of two spellings); -h/--help and --debug are described once below it."""
    documented = synopsis()
    commands = subcommand_parsers()
    assert sorted(documented) == sorted(commands)
    missing = []
    for name, parser in commands.items():
        mentioned = {option for _, option in option_mentions(f"{name} {documented[name]}", commands)}
        for action in parser._actions:
            spellings = set(action.option_strings) - {"-h", "--help", "--debug"}
            if spellings and not spellings & mentioned:
                missing.append(f"chainrule {name} {'/'.join(action.option_strings)}")
    assert missing == []


def shown_default(help_text: str) -> str | None:
    """The default an option's --help shows at its end, in brackets, up to a ": " or ", " that
    explains it (``[32, or the training rows if fewer]``: ``32``); None where it shows none."""
    bracket = re.search(r"\[([^\[\]]*)\]$", help_text or "")
    return re.split(r": |, |; ", bracket[1])[0] if bracket else None


def same_value(a: str, b) -> bool:
    """``1e-3`` is ``0.001`` and ``0`` is ``0.0``; words are compared as they are."""
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def synopsis_values(text: str) -> dict[str, str]:
    """``{"--epochs": "60", "--seed": "S", ...}`` for each ``[--option VALUE]`` of a synopsis line
    (both spellings of ``[-o/--output FILE]``)."""
    values = {}
    for spellings, value in re.findall(r"\[(-[^\s\]]+) ([^\s\]]+)\]", text):
        for spelling in spellings.split("/"):
            values[spelling] = value
    return values


def test_usage_synopsis_shows_the_defaults_that_help_shows():
    """A value written in lower case in docs/usage.md's synopsis (``[--epochs 60]``) is the
    option's default as its --help shows it (``[60]``; gradcheck's "as for chainrule train" is
    train's), and that is the parser's own default where the parser holds one (train's come from
    TrainConfig); an upper-case value (``[--seed S]``) is a placeholder. ``[--config run.toml]``,
    whose help shows no default, is an example. The synopsis showed ``-o/--output out.csv`` for
    predict, whose --help says stdout."""
    commands = subcommand_parsers()
    wrong = []
    for name, text in synopsis().items():
        for spelling, value in synopsis_values(text).items():
            (action,) = [each for each in commands[name]._actions if spelling in each.option_strings]
            help_text = action.help
            if help_text and help_text.startswith("as for chainrule train"):
                (action_of_train,) = [each for each in commands["train"]._actions if spelling in each.option_strings]
                help_text = action_of_train.help
            default = shown_default(help_text)
            if default is not None and not value.isupper() and not same_value(value, default):
                wrong.append(f"chainrule {name} [{spelling} {value}]: --help shows [{default}]")
            if default is not None and action.default not in (None, False, True) and not same_value(action.default,
                                                                                                     default):
                wrong.append(f"chainrule {name} {spelling}: --help shows [{default}], the parser's default is "
                             f"{action.default!r}")
    assert wrong == []


def test_synopsis_check_reads_defaults_and_placeholders():
    assert shown_default("samples per step [32, or the training rows if fewer]") == "32"
    assert shown_default("weight initializer [auto: he_normal before the ReLU family]") == "auto"
    assert shown_default("TOML file") is None
    assert synopsis_values("[--lr 1e-3] [--no-plots] [-o/--output FILE]") == {"--lr": "1e-3", "-o": "FILE",
                                                                               "--output": "FILE"}
    assert same_value("1e-3", "0.001") and same_value("0", 0.0) and not same_value("out.csv", "stdout")


def test_usage_lists_the_config_keys():
    """docs/usage.md names the config keys (as many as it says), which are TrainConfig's, and
    exactly the options of ``chainrule train`` that are not keys."""
    text = " ".join((ROOT / "docs" / "usage.md").read_text(encoding="utf-8").split())
    listing = re.search(r"These (\d+) keys are accepted, [^:]*: (.*?)\. They are the keys", text)
    assert listing, "docs/usage.md no longer lists the config keys as 'These N keys are accepted, ...: ...'"
    keys = re.findall(r"`(\w+)`", listing[2])
    assert keys == TrainConfig.keys()
    assert int(listing[1]) == len(keys)
    command_line_only = re.search(r"\. ((?:`--[\w-]+`(?:, | and )?)+) are command-line only", text)
    assert command_line_only, "docs/usage.md no longer lists the options that are 'command-line only'"
    options = set(re.findall(r"`(--[\w-]+)`", command_line_only[1]))
    train = option_strings(subcommand_parsers()["train"]) - {"-h", "--help", "--debug"}
    key_options = {value_name(key, None) for key in keys}
    assert key_options <= train
    assert options == train - key_options


@pytest.mark.parametrize("script", sorted(path.name for path in (ROOT / "docs" / "examples").glob("*.py")))
def test_every_example_script_answers_help_without_running(script):
    # cpu_figures.py --help died with an IndexError; three others ignored --help and ran for minutes
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "examples" / script), "--help"], capture_output=True,
                            text=True, timeout=120)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith(f"usage: {script} [-h]")


# --- links -----------------------------------------------------------------------------------

def _without_code(text: str) -> str:
    return re.sub(r"```.*?```", "", text, flags=re.S)


def _heading_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set:
    return {_heading_anchor(found) for found in re.findall(r"^#+ (.*)$", _without_code(path.read_text()), re.M)}


@pytest.mark.parametrize("path", DOCS, ids=lambda path: path.name)
def test_every_link_between_the_docs_reaches_its_file_and_heading(path):
    """docs/benchmarks.md, written again by a run, once lost its GPU section: README.md and docs/gpu.md
    linked to benchmarks.md#gpu-cuda, which no longer existed."""
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _without_code(path.read_text())):
        if target.startswith(("http:", "https:", "mailto:")):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    assert not broken, broken
