import os
import sys
from contextlib import suppress

from policies.cli import main
from policies.core.errors import EXIT_INPUT_ERROR
from policies.core.outcome import EXIT_FAILURES, EXIT_OK

# What Python's own exit returns when it cannot flush stdout or stderr.
EXIT_UNWRITABLE = 120


def flushed(code: int) -> int:
    """Flush stdout and stderr as Python's own exit would; a stream that cannot be written is exit 120."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: the process was started with that descriptor closed
                stream.flush()
        except OSError as exc:  # a reader that went away, a full disk
            with suppress(OSError):
                print(f"error: cannot write to {stream.name}: {exc}", file=sys.stderr, flush=True)
            code = EXIT_UNWRITABLE
    return code


code = main()
if code in (EXIT_OK, EXIT_FAILURES, EXIT_INPUT_ERROR) and not (sys.gettrace() or sys.getprofile()):
    # A finished run (pass, failures, bad input) has written and closed everything it writes (reports
    # atomically, helm's threads joined and their folder removed), so it ends here rather than in the
    # interpreter's teardown, which frees the Kubernetes schemas and the parsed manifests object by object:
    # 60-170 ms after the work is done. An interrupted run, a profiler or a coverage tracer gets Python's
    # own exit, with its clean-up.
    os._exit(flushed(code))
sys.exit(code)
