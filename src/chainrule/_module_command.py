"""``python -m chainrule`` as a command from its first import: a Ctrl-C while the library loads.

``python -m chainrule`` imports the package (``chainrule/__init__``: NumPy and the whole library,
about a quarter of a second) before ``chainrule/__main__`` runs, and ``__main__`` then imports
the command line. A Ctrl-C in that time ended the command with a Python traceback and exit
status -2, where ``main`` reports one in a line and exits 130. The package's ``__init__`` and
``__main__`` catch it around their imports and end here, as the console script
(``_chainrule_launcher``) does. This module imports nothing of the library: it is what runs
while the library is not yet there.

An ``import chainrule`` of a script, a notebook or a test leaves its Ctrl-C to its caller:
``__init__`` ends the process only when ``python -m chainrule`` is being started
(:func:`started_as_command`).
"""

import sys

EXIT_INTERRUPTED = 130  # chainrule.cli.exit_codes.EXIT_INTERRUPTED, not imported: chainrule.cli imports the library
COMMAND_MODULES = ("chainrule", "chainrule.__main__")  # what python -m runs as the chainrule command


def started_as_command() -> bool:
    """Whether this process is ``python -m chainrule`` being started. While ``python -m`` looks
    for the module to run (importing its package), ``sys.argv[0]`` is "-m", and the interpreter's
    own arguments (``sys.orig_argv``) name that module just before the command's arguments:
    ``[python, ..., "-m", "chainrule", *sys.argv[1:]]``, or ``"-mchainrule"``. Another program
    started by ``python -m`` that imports chainrule while it is looked for is not the command."""
    if sys.argv[:1] != ["-m"] or len(sys.orig_argv) < len(sys.argv) + 1:
        return False
    module = sys.orig_argv[-len(sys.argv)]
    return module.removeprefix("-m") in COMMAND_MODULES


def end_interrupted() -> None:
    """End the command as ``main`` ends one stopped by Ctrl-C: ``chainrule: interrupted`` on stderr
    (no traceback, ``--debug`` or not: it is no error) and exit status 130; on a rank of ``mpiexec -n N
    chainrule train --distributed``, through ``MPI_Abort``, as the console script ends it
    (``_chainrule_launcher.end_interrupted``, outside the package: the other ranks would wait in ``MPI_Init``)."""
    from _chainrule_launcher import end_interrupted as end_command
    exec("pass")  # clears CPython's record of a caught KeyboardInterrupt (see chainrule.__main__)
    end_command(sys.argv[1:])
