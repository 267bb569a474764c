"""``python -m chainrule`` is the ``chainrule`` command.

One difference from the console script needs undoing here. CPython remembers a
KeyboardInterrupt that passed through an ``exec`` or ``eval`` of a string (SciPy and NumPy's
f2py run some while they import, so a Ctrl-C while a command imports them often lands inside
one), even when ``main`` caught it afterwards; ``python -m`` then ends the process by SIGINT
(exit status -2) instead of with ``main``'s 130. A string run to its end clears that memory,
so one is run after ``main`` returns. The console script exits through another path
(``Py_Exit``), which never looks at it.

A Ctrl-C while the command line imports ends the command as ``main`` ends it, in one line with
exit status 130, as one while the package itself imports does (:mod:`chainrule._module_command`).
"""

import sys

from ._module_command import end_interrupted

try:
    from .cli import main
except KeyboardInterrupt:
    end_interrupted()

code = main()
exec("pass")  # clears CPython's record of a caught KeyboardInterrupt (see above)
sys.exit(code)
