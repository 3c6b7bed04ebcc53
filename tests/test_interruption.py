"""Ctrl-C: held back to a safe point inside `deferred()`, and reported as an interruption by
the command line whatever error TensorFlow makes of it."""

import signal
import sys
import types

import pytest

from cellseg import cli, interruption

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is POSIX"),
    pytest.mark.usefixtures("ctrl_c_as_at_a_terminal"),
]


def ctrl_c():
    signal.raise_signal(signal.SIGINT)


def test_watching_raises_as_usual_remembers_and_restores_the_handler():
    before = signal.getsignal(signal.SIGINT)
    with interruption.watching():
        assert not interruption.interrupted()
        with pytest.raises(KeyboardInterrupt):
            ctrl_c()
        assert interruption.interrupted()
    assert signal.getsignal(signal.SIGINT) is before
    assert not interruption.interrupted()


def test_deferred_holds_the_first_ctrl_c_until_a_safe_point_and_says_so(capfd):
    with interruption.watching():
        with pytest.raises(KeyboardInterrupt):
            with interruption.deferred("x: stopping after this step"):
                ctrl_c()  # held back: the code goes on
                went_on = True
                interruption.raise_if_interrupted()
                pytest.fail("raise_if_interrupted did not raise")
    assert went_on
    assert "x: stopping after this step (Ctrl-C again stops at once)" in capfd.readouterr().err


def test_a_second_ctrl_c_stops_at_once():
    reached = []
    with interruption.watching():
        with pytest.raises(KeyboardInterrupt):
            with interruption.deferred("stopping"):
                ctrl_c()
                reached.append("after the first")
                ctrl_c()
                reached.append("after the second")
    assert reached == ["after the first"]


def test_one_after_the_last_safe_point_is_raised_on_leaving():
    with interruption.watching():
        with pytest.raises(KeyboardInterrupt):
            with interruption.deferred("stopping"):
                ctrl_c()


def test_an_ignored_sigint_stays_ignored():
    """A job started with & or nohup ignores Ctrl-C, and must go on ignoring it."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with interruption.watching():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            ctrl_c()  # nothing happens
            assert not interruption.interrupted()
    finally:
        signal.signal(signal.SIGINT, before)


def run_command(monkeypatch, main) -> int:
    module = types.ModuleType("cellseg_test_command")
    module.main, module.INTERRUPTED = main, "run it again"
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(cli.COMMANDS, "fake", (module.__name__, "a command of the test"))
    return cli.main(["fake"])


def test_an_error_tensorflow_makes_of_a_ctrl_c_is_reported_as_the_interruption(monkeypatch, capsys):
    def main(arguments):
        try:
            ctrl_c()
        except KeyboardInterrupt:  # as TensorFlow does, in the middle of tracing a graph
            raise SystemError(
                "Objects/listobject.c:338: bad argument to internal function"
            ) from None

    assert run_command(monkeypatch, main) == 130
    assert capsys.readouterr().err == "cellseg fake: interrupted; run it again\n"


def test_an_error_without_a_ctrl_c_keeps_its_traceback(monkeypatch):
    def main(arguments):
        raise SystemError("a bug")

    with pytest.raises(SystemError, match="a bug"):
        run_command(monkeypatch, main)


def test_a_batch_held_back_stops_between_items():
    from cellseg.batch import run_each

    done = []

    def process(item):
        if item == 2:
            ctrl_c()  # held back: item 2 is finished
        done.append(item)

    with interruption.watching():
        with pytest.raises(KeyboardInterrupt):
            with interruption.deferred("stopping"):
                run_each([1, 2, 3, 4], process, command="test")
    assert done == [1, 2]
