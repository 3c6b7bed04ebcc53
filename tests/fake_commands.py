"""Programs a script calls (cellseg, docker), replaced by fakes that record their calls."""

from pathlib import Path

#: Between a recorded call's arguments (the ASCII unit separator: no argument holds it).
_SEPARATOR = "\x1f"


def fake_command(folder: Path, name: str) -> Path:
    """Put an executable ``name`` in ``folder`` (to go first on PATH) that records each
    call's arguments; returns the file `recorded_calls` reads them from."""
    folder.mkdir(parents=True, exist_ok=True)
    calls = folder / f"{name}.calls"
    fake = folder / name
    fake.write_text(
        f"#!/usr/bin/env bash\nprintf '%s\\x1f' \"$@\" >> '{calls}'\necho >> '{calls}'\n"
    )
    fake.chmod(0o755)
    return calls


def recorded_calls(calls: Path) -> list[list[str]]:
    """The arguments of each call a `fake_command` recorded, first call first."""
    if not calls.exists():
        return []
    return [line.split(_SEPARATOR)[:-1] for line in calls.read_text().splitlines()]
