"""`complement report --allow-stale` names the stale views: a note at the top with the commands that refresh
them, and a mark on their rows and on the sections computed from them, in HTML and Markdown alike."""

from __future__ import annotations

import re
import shlex

import pytest
from conftest import run_cli

from complement.data.loaders import ingest
from complement.data.synth import synthesize
from complement.embed.train import train_view
from complement.workspace import Workspace

STALE_MARK = "‡"  # complement.report.staleness.STALE_MARK
REFRESH = "complement train pop --view pop --k 20"


@pytest.fixture
def ws(tmp_path) -> Workspace:
    """View 'pop' trained on the first split, then a new split, then view 'fresh' trained on it."""
    synthesize(tmp_path / "ws", users=120, items=80, seed=4)
    ws = Workspace(tmp_path / "ws")
    train_view(ws, "pop", k=20, announce=False)
    config = ws.config
    config["split"]["seed"] = 99
    ingest(ws, config)
    train_view(ws, "pop", "fresh", k=20, announce=False)
    assert ws.stale("topk", "pop") is not None and ws.stale("topk", "fresh") is None
    return ws


def _report(capsys, ws: Workspace, path, *extra: str) -> str:
    code, _, err = run_cli(
        capsys, "report", "-w", str(ws.root), "--views", "pop,fresh", "--k", "10", "-o", str(path), *extra
    )
    assert code == 0, err
    return path.read_text(encoding="utf-8")


def test_markdown_names_the_stale_views_and_marks_their_rows(ws, tmp_path, capsys):
    text = _report(capsys, ws, tmp_path / "r.md", "--allow-stale")
    assert "Views compared: **pop** ‡ (A) and **fresh** (B)." in text
    note = next(line for line in text.splitlines() if line.startswith(f"> {STALE_MARK} Stale:"))
    assert "view pop —" in note and "'interactions' changed since" in note and "fresh" not in note.split("Refresh")[0]
    assert f"`{REFRESH} -w {ws.root}`" in note
    metrics = text.split("## Metrics", 1)[1].split("## ", 1)[0]
    assert re.search(r"^\| 10 \| pop ‡ \|", metrics, re.M) and re.search(r"^\| 10 \| fresh \|", metrics, re.M)
    assert f"{STALE_MARK} stale: made from older tables" in metrics
    assert "## Overlap ‡" in text and f"{STALE_MARK} Computed from stale view pop." in text


def test_html_names_the_stale_views_and_shades_their_rows(ws, tmp_path, capsys):
    page = _report(capsys, ws, tmp_path / "r.html", "--allow-stale")
    assert "<b>pop</b> ‡ (A) and <b>fresh</b> (B)" in page
    note = re.search(r'<p class="stale">(.*?)</p>', page).group(1)
    assert "view pop —" in note and f"<code>{REFRESH} -w {ws.root}</code>" in note
    metrics = page.split("<h2>Metrics</h2>", 1)[1].split("<h2>", 1)[0]
    assert re.search(r'<tr class="stale" title="stale: [^"]+"><td>10</td><td>pop ‡</td>', metrics)
    assert "<tr><td>10</td><td>fresh</td>" in metrics
    assert "<h2>Overlap ‡</h2>" in page
    # the section's command reads stale views too, so it carries --allow-stale
    assert "--views pop,fresh --k 10 --allow-stale</code>" in page


def test_the_note_s_commands_refresh_the_views_and_the_report_then_has_no_mark(ws, tmp_path, capsys):
    page = _report(capsys, ws, tmp_path / "r.html", "--allow-stale")
    note = re.search(r'<p class="stale">(.*?)</p>', page).group(1)
    commands = re.findall(r"<code>(.*?)</code>", note)
    assert commands[-1] == f"complement report -w {ws.root} --views pop,fresh"
    for command in commands[:-1]:
        code, _, err = run_cli(capsys, *shlex.split(command)[1:])
        assert code == 0, err
    assert ws.stale("topk", "pop") is None
    fresh = _report(capsys, ws, tmp_path / "again.html")  # no --allow-stale needed now
    assert STALE_MARK not in fresh and 'class="stale"' not in fresh
