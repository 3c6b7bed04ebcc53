"""Ctrl-C, taken where it is safe to stop.

Python raises `KeyboardInterrupt` wherever the main thread happens to be. In the middle of
TensorFlow's own work (tracing a step's graph, a callback it runs) TensorFlow may turn it into
an error of its own (``SystemError: ... bad argument to internal function``, ``AssertionError:
Nesting violated ...``) or lose it, and training goes on. So a command runs `watching()`
Ctrl-C: whatever error ends a command after one is an interruption. Inside `deferred()` (a
training's fit), the first Ctrl-C is only recorded and said, and `raise_if_interrupted()`,
called between steps, raises it there; a second Ctrl-C raises at once.

A SIGINT that is ignored (a job a script starts in the background with ``&``) stays
ignored, and another handler set before is left alone.
"""

import contextlib
import os
import signal
import threading


class _State:
    received = False  # a Ctrl-C came while watching
    deferred_message: str | None = None  # inside `deferred()`: what the first Ctrl-C says


def _on_sigint(signum, frame):
    first = not _State.received
    _State.received = True
    if first and _State.deferred_message is not None:
        # os.write, not print: a handler that prints while the interrupted code prints
        # (a progress bar) would raise "reentrant call".
        os.write(2, f"\n{_State.deferred_message}\n".encode())
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def watching():
    """Within it, Ctrl-C raises `KeyboardInterrupt` as usual and is remembered
    (`interrupted()`), or is held back inside `deferred()`. Nothing changes outside the
    main thread, or where SIGINT has a handler other than Python's own (ignored, say)."""
    _State.received = False
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _State.received = False


def interrupted() -> bool:
    """Whether a Ctrl-C came within the present `watching()`."""
    return _State.received


@contextlib.contextmanager
def deferred(message: str):
    """Within it, the first Ctrl-C prints ``message`` and waits for `raise_if_interrupted`
    (under `watching()`; elsewhere, Ctrl-C is left as it is)."""
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
