"""The exit codes of the ``chainrule`` command, shared by the entry point and the subcommands."""

# divergence, a gradient check above tolerance, a reader of stdout that left (| head), or an internal error
# (a bug); a distributed rank that hung or died ends the job with MPI_Abort(1) (training.distributed)
EXIT_FAILURE = 1
EXIT_USAGE = 2  # any other ChainruleError: bad input, named in one line
EXIT_INTERRUPTED = 130  # as for any program stopped by SIGINT
