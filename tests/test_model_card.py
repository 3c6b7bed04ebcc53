"""The default model's card stays short, and what it and its experiment log point at exists."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "trained_models" / "default"
CARD = MODEL / "README.md"
EXPERIMENTS = MODEL / "EXPERIMENTS.md"
DOCUMENTS = (CARD, EXPERIMENTS)
MAX_CARD_LINES = 250

#: A benchmark or script path as the documents quote it, e.g. in
#: `python benchmarks/default_vs_classical.py` or `scripts/default_model/train.sh`.
REPOSITORY_PATH = re.compile(r"(?<![\w.-])((?:benchmarks|scripts)/[\w./-]*\w)")
#: The target of a Markdown link: [text](target).
LINK = re.compile(r"\]\(([^)\s]+)\)")


def repository_paths(text: str) -> set[str]:
    """The `benchmarks/...` and `scripts/...` paths named in ``text``."""
    return set(REPOSITORY_PATH.findall(text))


def heading_anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces as -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(markdown: Path) -> set[str]:
    """The anchors of the headings of ``markdown`` (outside fenced code)."""
    found, fenced = set(), False
    for line in markdown.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            found.add(heading_anchor(line.lstrip("#")))
    return found


def table_blocks(text: str) -> list[list[str]]:
    """The Markdown tables of ``text``, each as its lines."""
    tables, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def cells(row: str) -> list[str]:
    """The cells of a table row, split on the pipes that are not escaped."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip().strip("|"))]


def test_card_is_short():
    lines = len(CARD.read_text().splitlines())
    assert lines <= MAX_CARD_LINES, f"{CARD.name}: {lines} lines, at most {MAX_CARD_LINES}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_quoted_commands_name_files_that_exist(document):
    paths = repository_paths(document.read_text())
    assert paths, f"{document.name} quotes no benchmark or script"
    missing = sorted(path for path in paths if not (ROOT / path).is_file())
    assert not missing, f"{document.name} names files that do not exist: {missing}"


def test_repository_paths_are_found_as_quoted():
    text = (
        "run `python benchmarks/speed.py predict`, then scripts/default_model/train.sh; "
        "see [it](../../scripts/default_model/hyperparameters.py), not scripts/."
    )
    assert repository_paths(text) == {
        "benchmarks/speed.py",
        "scripts/default_model/train.sh",
        "scripts/default_model/hyperparameters.py",
    }


def test_card_quotes_the_benchmarks_behind_its_figures():
    paths = repository_paths(CARD.read_text())
    for benchmark in (
        "default_vs_classical",
        "stain_robustness",
        "error_sources",
        "counts",
        "speed",
    ):
        assert f"benchmarks/{benchmark}.py" in paths


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_relative_links_point_at_existing_files(document):
    broken = []
    for target in LINK.findall(document.read_text()):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(target)
    assert not broken, f"{document.name}: broken links {broken}"


def test_card_links_to_its_experiments():
    assert "](EXPERIMENTS.md)" in CARD.read_text()


def test_root_readme_links_to_headings_of_the_card():
    readme = (ROOT / "README.md").read_text()
    linked = re.findall(r"\]\(trained_models/default/README\.md#([^)\s]+)\)", readme)
    assert "speed" in linked
    assert set(linked) <= anchors(CARD)


def test_heading_anchor_follows_github():
    assert heading_anchor(" Speed") == "speed"
    assert heading_anchor("Data and licence") == "data-and-licence"
    assert heading_anchor("Model card: `default`") == "model-card-default"


def test_experiments_are_one_table_with_a_row_per_change():
    tables = table_blocks(EXPERIMENTS.read_text())
    assert len(tables) == 1, f"{EXPERIMENTS.name} has {len(tables)} tables, not one"
    header, rule, *rows = tables[0]
    columns = [column.lower() for column in cells(header)]
    for column in ("change", "option", "validation", "held-out", "verdict"):
        assert any(column in name for name in columns), f"no {column!r} column in {columns}"
    assert set(rule) <= set("|-: ")
    assert len(rows) >= 30
    for row in rows:
        assert len(cells(row)) == len(columns), row
    numbers = [cells(row)[0] for row in rows]
    assert numbers == [str(number) for number in range(1, len(rows) + 1)]
