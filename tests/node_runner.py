"""Run the page's JavaScript modules under Node, for the tests that compare them with Python."""

import json
import shutil
import subprocess
from pathlib import Path

#: The page's modules, imported by the scripts as ``web/...``.
WEB = Path(__file__).resolve().parents[1] / "cellseg" / "web"
NODE = shutil.which("node")


def node(tmp_path, script: str, payload=None, name="script"):
    """Run ``script`` (an ES module importing from WEB as ``web/``) with ``payload``
    written to ``input.json``; returns what it printed, parsed as JSON."""
    path = tmp_path / f"{name}.mjs"
    path.write_text(script.replace('"web/', f'"{WEB.as_posix()}/'))
    if payload is not None:
        (tmp_path / "input.json").write_text(json.dumps(payload))
    result = subprocess.run(
        [NODE, str(path), str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None
