"""`complement report`'s format follows --out's suffix unless --format is given; a mismatch is refused
before anything is written."""

from __future__ import annotations

import pytest
from conftest import run_cli, synthetic_with_random_views

import complement
from complement.errors import ConfigError


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("report-out-format") / "ws"
    return synthetic_with_random_views(
        root, ["a", "b"], dim=4, lists_k=20, users=60, items=40, interactions_per_user=8, seed=3
    )


@pytest.mark.parametrize(
    ("name", "fmt", "kind"),
    [
        ("r.md", None, "markdown"),
        ("r.markdown", None, "markdown"),
        ("r.html", None, "html"),
        ("r.HTM", None, "html"),
        ("r.txt", "markdown", "markdown"),  # an explicit --format takes any other suffix
        ("r.md", "markdown", "markdown"),
    ],
)
def test_the_format_is_the_suffix_s_or_the_one_given(ws, tmp_path, capsys, name, fmt, kind):
    target = tmp_path / name
    code, out, err = run_cli(capsys, "report", "-w", str(ws.root), "-o", str(target), *(["-f", fmt] if fmt else []))
    assert code == 0, err
    assert out.strip() == str(target)
    text = target.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html") if kind == "html" else text.startswith("# ")


@pytest.mark.parametrize(
    ("name", "fmt", "message"),
    [
        ("r.txt", None, r"--out \S+/r\.txt: name an \.html or \.md file, or pass --format html or markdown"),
        ("report", None, r"--out \S+/report: name an \.html or \.md file"),
        ("r.md", "html", r"--format html does not match --out \S+/r\.md \(a markdown file\)"),
        ("r.html", "markdown", r"--format markdown does not match --out \S+/r\.html \(a html file\)"),
    ],
)
def test_a_suffix_that_names_no_format_or_the_other_one_is_refused(ws, tmp_path, capsys, name, fmt, message):
    import re

    target = tmp_path / name
    code, out, err = run_cli(capsys, "report", "-w", str(ws.root), "-o", str(target), *(["-f", fmt] if fmt else []))
    assert code == 1 and out == "" and err.count("\n") == 1 and re.search(message, err), err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ConfigError, match=message):
        complement.report(ws, target, fmt=fmt)


def test_without_out_the_default_is_html_in_the_workspace(ws, capsys):
    code, out, _ = run_cli(capsys, "report", "-w", str(ws.root))
    assert code == 0 and out.strip() == str(ws.root / "report.html")


def test_two_views_with_lists_are_the_pair_without_views(ws, tmp_path, capsys):
    target = tmp_path / "r.md"
    code, _, err = run_cli(capsys, "report", "-w", str(ws.root), "-o", str(target))
    text = target.read_text(encoding="utf-8")
    assert code == 0 and "note:" not in err
    assert "Views compared: **a** (A) and **b** (B)." in text and "## Oracle fusion" in text


def test_without_a_pair_the_report_says_what_it_left_out(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")  # the note goes to stderr like every message
    root = tmp_path / "three"
    synthetic_with_random_views(
        root, ["a", "b", "c"], dim=4, lists_k=20, users=60, items=40, interactions_per_user=8, seed=3
    )
    target = tmp_path / "r.md"
    code, _, err = run_cli(capsys, "report", "-w", str(root), "-o", str(target))
    text = target.read_text(encoding="utf-8")
    note = (
        "No pair of views compared, so overlap, unique hits, the oracle and fusion are left out: pass --views A,B "
        "(views with top-K lists: a, b, c)."
    )
    assert code == 0 and f"note: {note}" in err
    assert note in text and "## Oracle fusion" not in text and "Views compared" not in text
