"""The ``chainrule`` command: parse, dispatch, and turn errors into one line and an exit code.

Exit codes: 0 success; 2 a usage or input error (bad option, unreadable or malformed data,
model or config file, invalid hyperparameter); 1 anything else (a run that diverged, a
gradient check above tolerance, a bug), 130 a run stopped by Ctrl-C. Errors print one line
on stderr; ``--debug`` (before or after the command, not after ``--``) adds the traceback. A stdout that cannot
be written (closed, a full disk) is an error (exit 2); a closed or unwritable stderr only loses
the messages, and a reader of stdout that leaves early (``| head``) ends the command quietly.
Under
``mpiexec -n N`` (N > 1) with ``--distributed``, a rank's error then ends every rank at once
through ``MPI_Abort`` with that exit code, instead of leaving the others to time out; an error
that every rank raised alike (``same_on_every_rank``: ranks given different arguments, a run
that diverged) is printed by rank 0 alone, and every rank ends with its exit code, as they do
on an input error that the ranks stopped on together (:func:`~chainrule.cli.job_end.stop_together`),
printed by the ranks that found it. A line one rank prints names it: ``chainrule: error: rank 1 of 2:
iris.csv: no such file``. A character of the message that a terminal acts on (an escape
sequence from a crafted file) is shown as its escape, ``\\x1b`` (:func:`~chainrule.cli.streams.printable`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sys
import textwrap
import threading
import time
import traceback

from .. import __version__
from ..errors import QUOTE_LIMIT, ChainruleError, DivergenceError, did_you_mean, quoted
from ..training.distributed import ABORT_GRACE_SECONDS
from . import evaluate, export, gradcheck, info, predict, train
from .early_failure import failed_before_mpi, join_to_stop, start_mpi
from .exit_codes import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE
from .job_end import stopped_together
from .option_types import FINITE, Number, NotFinite
from .streams import OutputError, discard_stdout, error_line, printable, standard_streams

COMMANDS = (train, evaluate, predict, gradcheck, info, export)


class UsageError(ChainruleError, ValueError):
    """A command-line usage error (argparse's complaint), reported in one line."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of printing usage and exiting, and takes an option
    only by its full name: ``--deb`` is no ``--debug`` (nor ``--epoch`` an ``--epochs``), so
    that ``_run``'s test for ``--debug`` sees every request for the traceback."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def error(self, message: str):
        """A subcommand's complaint names it (``chainrule train: argument --epochs: ...``); the top
        level's needs no name, the line already beginning ``chainrule: error:``."""
        raise UsageError(f"{_named(self.prog)}{message} (see {self.prog} --help)")

    def _print_message(self, message, file=None):
        """argparse's print (``--help``'s text), without its ``except OSError: pass``: ``--help`` to a
        stdout that cannot be written (``>&-``, ``> /dev/full``) exited 0 having printed nothing; the
        write's :class:`~chainrule.cli.streams.OutputError` now ends it with exit 2, as every
        command's output and ``--version`` do."""
        if message:
            (file or sys.stderr).write(message)

    def exit(self, status=0, message=None):
        """argparse's end after ``--help``: stdout flushed first, so that a write that fails (``> /dev/full``)
        fails here, in ``main``, rather than at the interpreter's exit, which kept exit 0."""
        if message:
            self._print_message(message, sys.stderr)
        sys.stdout.flush()
        raise SystemExit(status)

    def _check_value(self, action, value):
        """argparse's check of a value against the option's ``choices`` (or of a command's name),
        ending with the one meant, as a config file's values do: ``--device CUDA`` ... ``(did you
        mean 'cuda'?)``. A command's name may also be meant as an option of ``chainrule`` itself:
        ``chainrule help`` ... ``(did you mean '--help'?)``, ``chainrule version`` likewise."""
        if action.choices is not None and value not in action.choices:
            choices = ", ".join(repr(choice) for choice in action.choices)
            meant = list(action.choices)
            if isinstance(action, argparse._SubParsersAction):
                meant += [option for each in self._actions for option in each.option_strings if option.startswith("--")]
            raise argparse.ArgumentError(action, f"invalid choice: {quoted(value)} (choose from {choices})"
                                                 f"{did_you_mean(value, meant)}")
        super()._check_value(action, value)

    def _get_values(self, action, arg_strings):
        """An option's values; ``--onnx=--`` takes ``--`` as its value, as ``--onnx=-x`` takes ``-x``.
        argparse removes a ``--`` from every argument's values, as the end of the options that it is
        elsewhere; an option given ``=--`` was then left no value but an empty list, which each took
        as something else: ``--out``, ``--config``, ``--resume``, ``--hidden`` and ``-o`` as not given
        (``train --config=--`` trained on digits, ``predict -o=--`` printed), ``--onnx`` as an internal
        error (exit 1), the others as ``expected an integer, got list []``. (An option never consumes a
        ``--`` given apart: ``--onnx --`` is "expected one argument".)"""
        if action.option_strings and action.nargs is None and arg_strings == ["--"]:
            value = self._get_value(action, "--")
            self._check_value(action, value)
            return value
        return super()._get_values(action, arg_strings)

    def _get_value(self, action, arg_string):
        """argparse's conversion of a value by the option's ``type``. An option taking a number
        (:mod:`~chainrule.cli.option_types`) says what it expects, as its range check does, the value cut as every
        other value of a message is (:func:`~chainrule.errors.quoted`; ``--epochs`` given 5,000 characters, a file's
        contents through ``$(cat ...)``, made a line of 5,000): ``--epochs: expected an integer >= 1, got '1.5'``
        (argparse's read ``argument --epochs: invalid int value``); NaN or infinity, for every option taking a real
        number, in one wording: ``--lr: expected a finite number, got nan``. A ``type`` of chainrule's own
        (``--label``'s :func:`~chainrule.cli.rows.column_name`) says its own; argparse's ``invalid <type> value:
        '...'``, which no option's type gives now (a function raising ValueError would), is cut likewise."""
        if isinstance(action.type, Number):
            try:
                return action.type(arg_string)
            except NotFinite as error:
                raise UsageError(f"{action.option_strings[0]}: expected {FINITE}, got {quoted(error.value)}") from None
            except ValueError:  # int("1.5"), float("abc"), int() of more digits than Python converts
                raise UsageError(f"{action.option_strings[0]}: expected {action.type.expectation()}, "
                                 f"got {quoted(arg_string)}") from None
        try:
            return super()._get_value(action, arg_string)
        except argparse.ArgumentError as error:
            whole = f" value: {arg_string!r}"  # how argparse ends "invalid int value: 'x'"
            if not error.message.endswith(whole):
                raise
            raise argparse.ArgumentError(action, f"{error.message[:-len(whole)]} value: {quoted(arg_string)}") from None


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``chainrule`` and its subcommands."""
    parser = _Parser(prog="chainrule", description="Neural networks trained by backpropagation.")
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMANDS:
        sub = commands.add_parser(module.NAME, help=module.HELP, description=plain_text(module.__doc__),
                                  parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def plain_text(docstring: str, width: int | None = None) -> str:
    """A command module's docstring as its --help description: plain text, wrapped to ``width``,
    by default 79 columns or the terminal's width less 2 where that is narrower (as argparse wraps
    the options), but not below 30 (``COLUMNS=1``).

    The ``double backticks`` of reST go (a terminal shows them as they are); each paragraph of
    prose is rewrapped, and an indented paragraph (a table of files) keeps its lines.
    """
    if width is None:
        width = max(min(79, shutil.get_terminal_size().columns - 2), 30)
    text = docstring.replace("``", "")
    paragraphs = []
    for paragraph in text.strip().split("\n\n"):
        lines = paragraph.split("\n")
        if lines[0].startswith(" "):
            paragraphs.append(paragraph)
        else:
            paragraphs.append(textwrap.fill(" ".join(line.strip() for line in lines), width))
    return "\n\n".join(paragraphs)


def main(argv=None) -> int:
    """Run the command line; returns the exit code.

    No command is a usage error in one line (exit 2), as is an unrecognized argument, which
    is reported as the subcommand's (``chainrule train: unrecognized arguments: ...``).
    SIGTERM (a job scheduler's or ``timeout``'s stop) is taken as Ctrl-C while a command runs:
    training stops after its batch and writes the run's files, and a file being written is
    finished or not there at all, rather than the process dying mid-write. The ranks of a
    distributed run of several processes end ignoring SIGINT and SIGTERM (:mod:`chainrule.cli.job_end`).
    """
    ctrl_c = _CtrlC()
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, ctrl_c.terminate) if on_main_thread else None
    watch_sigint = on_main_thread and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    previous_sigint = signal.signal(signal.SIGINT, ctrl_c) if watch_sigint else None
    try:
        return _run(argv, ctrl_c)
    finally:  # main's own handlers only: a distributed run's ranks end ignoring both (cli.job_end)
        if on_main_thread and signal.getsignal(signal.SIGTERM) == ctrl_c.terminate:
            signal.signal(signal.SIGTERM, previous)
        if watch_sigint and signal.getsignal(signal.SIGINT) is ctrl_c:
            signal.signal(signal.SIGINT, previous_sigint)


class _CtrlC:
    """SIGINT's handler while a command runs: Python's own (KeyboardInterrupt), remembering that
    it ran (``seen``); and SIGTERM's (:meth:`terminate`). An import cut short by a Ctrl-C inside
    a compiled module's initialization raises that module's own error instead (``ImportError:
    initialization failed`` from matplotlib's pybind11 modules; a RuntimeError ``Error calling
    __set_name__ ...`` from a class being made), which ``_run`` then reports as the interruption
    it was, not as a bug."""

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, signum, frame) -> None:
        self.seen = True
        signal.default_int_handler(signum, frame)

    def terminate(self, signum, frame) -> None:
        """SIGTERM's handler: the same as a Ctrl-C (SIGINT's handler then runs: training's, or
        this object's). Where SIGINT is ignored (a script's background job, a batch job started
        with ``&``), no handler would run: KeyboardInterrupt is raised here, and remembered as a
        Ctrl-C's (``seen``); it was not, and a SIGTERM that broke matplotlib's import so was
        reported as an internal error (exit 1)."""
        if not callable(signal.getsignal(signal.SIGINT)):
            self.seen = True
            raise KeyboardInterrupt
        signal.raise_signal(signal.SIGINT)


def _run(argv, ctrl_c: _CtrlC) -> int:
    """``main`` itself: the command's exit code, every error reported in one line."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args, debug = None, False
    with standard_streams():
        try:  # the parser made here, where a Ctrl-C as it is made is reported (and ends every rank) too
            parser = build_parser()
            debug = given_as_option(argv, "--debug", parser)
            args = parse(argv, parser)
            code = args.run(args)
            sys.stdout.flush()  # here, so that a closed pipe is reported below, not at exit
            return code
        except BrokenPipeError:  # stdout's reader left early (chainrule predict ... | head): stop quietly
            discard_stdout()
            code = EXIT_FAILURE
        except OutputError as error:
            discard_stdout()
            code = _report(error, debug, EXIT_USAGE, prefix=_found_on(args, error))
        except ChainruleError as error:  # a run that diverged exits 1, any other error 2
            code = EXIT_FAILURE if isinstance(error, DivergenceError) else EXIT_USAGE
            if getattr(error, "same_on_every_rank", False):  # every rank raised it, and ends with it: no MPI_Abort
                return _report(error, debug, code) if _rank(args) == 0 else code  # shown once, by rank 0
            if stopped_together(error):  # found by this rank and others not: every rank knows, and stops
                return _report(error, debug, code, prefix=_found_on(args, error))
            early = failed_before_mpi(argv, os.environ)
            if early is not None:  # the other ranks wait for this one in MPI_Init: it starts MPI and tells them
                _report(error, debug, code, prefix=f"rank {early[0]} of {early[1]}: ")
                join_to_stop(code)
                return code
            code = _report(error, debug, code, prefix=_found_on(args, error))
        except KeyboardInterrupt:
            error_line("chainrule: interrupted")
            code = EXIT_INTERRUPTED
        except Exception as error:  # a bug: still one line, and the traceback on request
            if ctrl_c.seen:  # what the Ctrl-C broke (see _CtrlC), not a bug
                if debug:
                    traceback.print_exception(error)
                error_line("chainrule: interrupted")
                code = EXIT_INTERRUPTED
            else:
                code = _report(error, debug, EXIT_FAILURE, prefix=f"{_found_on(args, error)}internal error: ")
        _end_every_rank(args, code, argv)
        return code


def parse(argv: list, parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """The parsed arguments of a command by ``parser`` (:func:`build_parser`'s, made when not given);
    UsageError for no command or an unknown argument.

    An unknown argument is named as given to its command (argparse would name "chainrule"), cut
    to a line (a shell glob that expanded to thousands of files), and a mistyped option ends the
    line with the one meant, as a mistyped command or choice does: ``--epoch 3`` ... ``(did you
    mean '--epochs'?)``. ``--version`` after the command prints the version, as before it, where it
    stands as an option (:func:`given_as_option`).
    """
    parser = parser or build_parser()
    if given_as_option(argv, "--version", parser):  # after the command too (argparse knows it only before)
        print(f"chainrule {__version__}")
        raise SystemExit(0)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        prog = f"chainrule {args.command}" if args.command else "chainrule"
        given = _subcommands(parser).choices[args.command] if args.command else parser
        raise UsageError(f"{_named(prog)}unrecognized arguments: {_listed(unknown)}{_option_meant(unknown, given)} "
                         f"(see {prog} --help)")
    if args.command is None:
        names = ", ".join(module.NAME for module in COMMANDS)
        raise UsageError(f"a command is required ({names}); see chainrule --help")
    return args


def given_as_option(argv: list, option: str, parser: argparse.ArgumentParser | None = None) -> bool:
    """Whether ``option`` (``--version``, ``--debug``) stands in ``argv`` as an option, before or after
    the command, as argparse would read it: not after ``--`` (``chainrule info -- --debug``: a MODEL
    file of that name), and not as the value of the option before it that takes one (``--label
    --version``: argparse then says that ``--label`` expected one argument, as it does of ``--label
    -- --version``, where ``--`` is no value; ``--label=--version`` gives it). ``--debug`` is looked
    for before parsing, so that an error of the parse shows its traceback too, and ``--version`` so,
    so that it is printed whatever else the line holds, as before the command. ``parser`` is
    :func:`build_parser`'s, made when not given.
    """
    takes_value = _options_taking_a_value(parser or build_parser())
    words = iter(argv)
    for word in words:
        if word == "--":
            return False
        if word == option:
            return True
        if word in takes_value and next(words, None) == "--":  # no value of it: argparse's "expected one argument"
            return False
    return False


def _options_taking_a_value(parser: argparse.ArgumentParser) -> set:
    """The option strings of ``parser`` and its commands that take a value (``--label``, ``-o``);
    an option takes a value in every command that has it, or in none, and then one (``nargs`` None,
    as tests/cli/test_main.py checks: :func:`given_as_option` skips one word)."""
    parsers = [parser, *_subcommands(parser).choices.values()]
    return {option for each in parsers for action in each._actions if action.nargs != 0
            for option in action.option_strings}


def _named(prog: str) -> str:
    """``"chainrule train: "`` to begin a subcommand's usage error; "" for ``chainrule`` itself,
    which the line names already (it read ``chainrule: error: chainrule: argument COMMAND ...``)."""
    return "" if prog == "chainrule" else f"{prog}: "


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    """The action of ``parser`` that holds the subcommands' parsers (``.choices``)."""
    return next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))


def _listed(words: list) -> str:
    """Unrecognized arguments as argparse lists them, separated by spaces, cut to QUOTE_LIMIT
    characters with their count after "...": ``a.csv b.csv c.csv ... (2,998 arguments)``."""
    text = " ".join(words)
    if len(text) <= QUOTE_LIMIT:
        return text
    return f"{text[:QUOTE_LIMIT]}... ({len(words):,} argument{'s' if len(words) > 1 else ''})"


def _option_meant(unknown: list, parser: argparse.ArgumentParser) -> str:
    """`` (did you mean '--epochs'?)`` for the first unrecognized word that looks like an option
    (``-``, ``--epoch``, ``--epoch=3``) and is close to one of ``parser``'s; "" for none."""
    options = [option for action in parser._actions for option in action.option_strings]
    for word in unknown:
        if word.startswith("-") and len(word) > 1:
            meant = did_you_mean(word.partition("=")[0], options)
            if meant:
                return meant
    return ""


def _report(error: BaseException, debug: bool, code: int, prefix: str = "") -> int:
    if debug:
        traceback.print_exception(error)
    message = printable(" ".join(str(error).split("\n"))) or type(error).__name__
    error_line(f"chainrule: error: {prefix}{message}")
    return code


def _end_every_rank(args, code: int, argv: list) -> None:
    """After this rank's error in a distributed run of several processes, end the job with ``code``.

    The other ranks may be waiting for this one in a collective (an error found only here,
    such as rank 0's check of --out); they would wait out the whole timeout and then blame a
    hung rank. ``MPI_Abort`` makes ``mpiexec`` end them at once and exit with ``code``. A rank
    stopped before it started MPI (a Ctrl-C as it parsed its command line) starts it first: the
    others would wait for it in ``MPI_Init`` for ever (:mod:`~chainrule.cli.early_failure`).
    """
    world = start_mpi() if failed_before_mpi(argv, os.environ) is not None else _world(args)
    if world is None or world.Get_size() < 2:
        return
    sys.stderr.flush()
    time.sleep(ABORT_GRACE_SECONDS)  # let mpiexec forward the error line before the job ends
    world.Abort(code)


def _world(args):
    """MPI's COMM_WORLD in a distributed run (``args.distributed``, mpi4py imported), else None."""
    MPI = sys.modules.get("mpi4py.MPI")  # imported only by a distributed run
    return MPI.COMM_WORLD if getattr(args, "distributed", False) and MPI is not None else None


def _rank(args) -> int:
    """This process's rank in a distributed run; 0 in any other."""
    world = _world(args)
    return 0 if world is None else world.Get_rank()


def _found_on(args, error: BaseException) -> str:
    """``"rank 1 of 3: "`` before the line of an error this rank of a distributed run of several
    processes found (the ranks may run on machines of their own: which one's file is missing?);
    "" in any other run, and for a message that already names its rank."""
    world = _world(args)
    if world is None or world.Get_size() < 2 or RANK_NAMED.match(str(error)):
        return ""
    return f"rank {world.Get_rank()} of {world.Get_size()}: "


RANK_NAMED = re.compile(r"rank \d+ of \d+: ")  # how Communicator's own errors begin; "rank 3.csv: ..." does not


def entry_point() -> None:
    """The console script: ``sys.exit(main())``."""
    sys.exit(main())
