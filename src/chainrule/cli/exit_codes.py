"""The exit codes of the ``chainrule`` command, shared by the entry point and the subcommands."""

EXIT_FAILURE = 1  # divergence, a closed output pipe, or an internal error (a bug)
EXIT_USAGE = 2  # any other ChainruleError: bad input, named in one line
EXIT_INTERRUPTED = 130  # as for any program stopped by SIGINT
