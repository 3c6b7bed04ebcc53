"""The page's JavaScript takes the numbers it shares with Python from one home, Python's."""

import re

from node_runner import WEB

from cellseg.web_constants import CONSTANTS_JS, module_text, shared_constants


def test_constants_js_is_what_the_python_constants_write():
    assert CONSTANTS_JS.read_text() == module_text(), (
        "cellseg/web/constants.js is out of date: run python -m cellseg.web_constants"
    )


def test_no_page_module_keeps_its_own_copy_of_a_shared_constant():
    names = "|".join(shared_constants())
    copies = [
        f"{path.name}: {match[0]}"
        for path in sorted(WEB.glob("*.js"))
        if path != CONSTANTS_JS
        for match in re.finditer(rf"\bconst ({names})\s*=\s*[-\d.\[{{]", path.read_text())
    ]  # a literal: the derived float32 matrices of counterstain.js are not copies
    assert copies == []


def test_a_changed_python_constant_changes_the_page(monkeypatch):
    from cellseg.preprocessing import colour

    monkeypatch.setattr(colour, "MOST_COUNTERSTAIN", 3.0)
    assert "export const MOST_COUNTERSTAIN = 3.0;" in module_text()
