"""Commands started as at a terminal, for the tests that stop them with Ctrl-C."""

import signal
import subprocess


def started_as_at_a_terminal(command: list[str]) -> subprocess.Popen:
    """``command`` started where Ctrl-C's SIGINT reaches it as at a terminal, even where this
    test runs with SIGINT ignored (a shell's background job), which a child would inherit."""
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
