"""The project stands alone: no file refers to a document outside the repository (such as a design
document next to it) or to an issue number; the real datasets in ../shared/data are the one allowed
outside path (tests skip without them)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("complement", "docs", "tests", "benchmarks", "examples")
SUFFIXES = {".py", ".md", ".toml", ".sql", ".txt", ".sh", ".cfg", ".yml", ".yaml", ".html", ".json"}

FORBIDDEN = {
    "a design document outside the repository": re.compile(r"DESIGN\.md"),
    "a path outside the repository other than ../shared/data": re.compile(r"\.\./shared/(?!data\b)"),
    "an issue number": re.compile(r"\bissues?\s*(?:no\.?\s*)?#?\d+|(?:^|[\s(\[,;])#\d+\b|/issues/\d+", re.I),
}


def _files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "pyproject.toml"]
    for folder in SCANNED:
        files += [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in SUFFIXES]
    return [p for p in files if p.resolve() != Path(__file__).resolve() and "__pycache__" not in p.parts]


def offenders(text: str) -> list[str]:
    return [what for what, pattern in FORBIDDEN.items() if pattern.search(text)]


def test_the_patterns_catch_what_they_should_and_spare_colours_and_data():
    assert offenders("see ../shared/DESIGN.md") == [
        "a design document outside the repository",
        "a path outside the repository other than ../shared/data",
    ]
    assert offenders("as issue 12 asks") == ["an issue number"]
    assert offenders("fixed in #13") == ["an issue number"]
    assert offenders("(issue #4, item 2)") == ["an issue number"]
    assert offenders('color:#222; stroke="#333" --path ../shared/data/ml-100k docs/design.md') == []


def test_no_file_refers_outside_the_repository_or_to_an_issue():
    found = [
        f"{path.relative_to(ROOT)}:{n}: {what}"
        for path in _files()
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        for what in offenders(line)
    ]
    assert len(_files()) > 50  # the scan sees the tree
    assert found == []
