"""Ctrl-C, taken where it is safe to stop.

Python raises `KeyboardInterrupt` wherever the main thread happens to be. In the middle of
TensorFlow's own work (tracing a step's graph, a callback it runs) TensorFlow may turn it into
an error of its own (``SystemError: ... bad argument to internal function``, ``AssertionError:
Nesting violated ...``) or lose it, and training goes on. So a command runs `watching()`
Ctrl-C: whatever error ends a command after one is an interruption. Inside `deferred()` (a
training's fit), the first Ctrl-C is only recorded and said, and `raise_if_interrupted()`,
called between steps, raises it there; a second Ctrl-C raises at once.

A SIGINT that is ignored (a job a script starts in the background with ``&``) stays
ignored, and another handler set before is left alone. SIGTERM, which a cluster's
scheduler sends a job it stops (Slurm, before SIGKILL), is taken as a Ctrl-C, and
`terminated()` says it came.
"""

import contextlib
import os
import signal
import threading


class _State:
    received = False  # a Ctrl-C came while watching
    terminated = False  # ... as SIGTERM
    deferred_message: str | None = None  # inside `deferred()`: what the first Ctrl-C says


def _on_sigint(signum, frame):
    first = not _State.received
    _State.received = True
    _State.terminated = _State.terminated or signum == signal.SIGTERM
    if first and _State.deferred_message is not None:
        again = "SIGTERM; another signal" if signum == signal.SIGTERM else "Ctrl-C again"
        # os.write, not print: a handler that prints while the interrupted code prints
        # (a progress bar) would raise "reentrant call".
        os.write(2, f"\n{_State.deferred_message} ({again} stops at once)\n".encode())
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def watching():
    """Within it, Ctrl-C raises `KeyboardInterrupt` as usual and is remembered
    (`interrupted()`), or is held back inside `deferred()`, and SIGTERM does the same
    (`terminated()`). Nothing changes outside the main thread, or for a signal with a
    handler other than Python's own (ignored, say)."""
    _State.received = _State.terminated = False
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum, default in (
        (signal.SIGINT, signal.default_int_handler),
        (signal.SIGTERM, signal.SIG_DFL),
    ):
        if signal.getsignal(signum) is default:
            previous[signum] = signal.signal(signum, _on_sigint)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _State.received = _State.terminated = False


def interrupted() -> bool:
    """Whether a Ctrl-C (or SIGTERM) came within the present `watching()`."""
    return _State.received


def terminated() -> bool:
    """Whether what `interrupted()` tells of was SIGTERM."""
    return _State.terminated


@contextlib.contextmanager
def deferred(message: str):
    """Within it, the first Ctrl-C (or SIGTERM) prints ``message`` and what a second one
    does, and waits for `raise_if_interrupted` (under `watching()`; elsewhere, Ctrl-C is
    left as it is)."""
    previous, _State.deferred_message = _State.deferred_message, message
    try:
        yield
        raise_if_interrupted()  # one that came after the last safe point
    finally:
        _State.deferred_message = previous


def raise_if_interrupted() -> None:
    """Raise `KeyboardInterrupt` if a Ctrl-C came (and was held back)."""
    if _State.received:
        raise KeyboardInterrupt
