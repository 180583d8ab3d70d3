"""complement report: a self-contained page with every plot, and Markdown."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_experiment import write_experiment

from complement import Workspace
from complement.cli.app import main
from complement.experiment import load, run_experiment


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    ws = Workspace(root / "ws")
    run_experiment(ws, load(write_experiment(root)))
    return ws


def test_html_report_is_self_contained_with_every_plot(built, capsys):
    pytest.importorskip("matplotlib", reason="the plots need the 'report' extra")
    main(["report", "-w", str(built.root)])
    path = capsys.readouterr().out.strip()
    page = open(path, encoding="utf-8").read()
    sections = re.findall(r'<figure data-section="([^"]+)"', page)
    for section in (
        "Overlap",
        "Unique hits",
        "Popularity of hits",
        "Oracle fusion",
        "Item agreement",
        "Fusion vs alignment",
        "Probes",
    ):
        assert section in sections, section
    assert page.count("<svg") == len(sections)
    assert not re.search(r'(src|href)="(https?:)?//', page), "the page must not load anything from a network"
    assert "<h2>Metrics</h2>" in page and "lightgcn" in page


def test_markdown_report_has_the_tables(built, capsys):
    out = built.root / "r.md"
    main(["report", "-w", str(built.root), "-f", "markdown", "-o", str(out)])
    text = out.read_text(encoding="utf-8")
    assert "## Metrics" in text and "## Oracle fusion" in text and "| k | view |" in text


def test_report_rejects_a_view_without_topk(built, capsys):
    with pytest.raises(SystemExit):
        main(["report", "-w", str(built.root), "--views", "lightgcn,nope"])
    assert "view 'nope' has no topk table" in capsys.readouterr().err


def test_report_says_why_a_vectors_only_view_has_no_lists(built, capsys):
    """truth_semantic has item vectors only (like a text view): the error says so instead of only listing views."""
    with pytest.raises(SystemExit):
        main(["report", "-w", str(built.root), "--views", "lightgcn,truth_semantic"])
    err = capsys.readouterr().err
    assert "view 'truth_semantic' has no topk table" in err and "has item vectors only" in err
    assert err.count("\n") == 1


@pytest.mark.slow
def test_report_renders_in_headless_chromium(built, tmp_path):
    pytest.importorskip("matplotlib", reason="the plots need the 'report' extra")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium not installed (Debian package 'chromium')")
    page = built.root / "report.html"
    main(["report", "-w", str(built.root), "-o", str(page)])
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    # the DOM after load: every inline SVG is parsed as an SVG element (a broken one would not be)
    dom = subprocess.run([chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") == page.read_text(encoding="utf-8").count("<svg") > 0
    shot = tmp_path / "page.png"
    run = subprocess.run(
        [chromium, *flags, "--window-size=1200,3000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and shot.stat().st_size > 10_000
    assert "Uncaught" not in run.stderr and "SyntaxError" not in run.stderr


def test_report_of_a_seeded_run_shows_mean_and_std_over_seeds(tmp_path, capsys):
    """After `complement run --seeds 1,2` the report compares the first seed's pair and adds the
    seed_summary table; a single-seed run has no such table."""
    ws = Workspace(tmp_path / "ws")
    names = '["metrics", "overlap", "unique_hits", "oracle", "seed_summary"]'
    run_experiment(ws, load(write_experiment(tmp_path), ["run.seeds=[1, 2]", f"diagnostics.names={names}"]))
    main(["report", "-w", str(ws.root), "--format", "markdown"])
    page = Path(capsys.readouterr().out.strip()).read_text(encoding="utf-8")
    assert "Views compared: **lightgcn-s1** (A) and **pop-s1** (B)." in page
    section = page.split("## Seeds", 1)[1].split("## ", 1)[0]
    assert "| 10 | lightgcn | 2 |" in section  # k, view, n_seeds


def test_report_of_a_single_seed_run_has_no_seed_table(built, capsys):
    main(["report", "-w", str(built.root), "--format", "markdown"])
    assert "## Seeds" not in Path(capsys.readouterr().out.strip()).read_text(encoding="utf-8")


def hand_explained_workspace(path: Path) -> Workspace:
    """The three-user case of test_diagnose_explain (u2: hit by a only, u3: by b only), with item titles
    that need escaping."""
    import pyarrow as pa
    import reference_metrics as ref
    from test_diagnose_explain import hand_case

    case = hand_case()
    ws = ref.write_case(path, case)
    titles = {"i1": "Heat & Dust", "i2": "<script>alert(1)</script>", "i3": "Brazil | 1985", "i4": "Ran"}
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": case["items"],
                "item_idx": list(range(4)),
                "title": [titles[i] for i in case["items"]],
                "text": case["items"],
                "n_train": [case["item_n_train"][i] for i in case["items"]],
                "pop_group": [case["group_of"][i] for i in case["items"]],
            }
        ),
    )
    return ws


def test_html_report_has_who_benefits_and_an_escaped_case_study_with_hits_marked(tmp_path):
    from complement.report import write_report

    ws = hand_explained_workspace(tmp_path / "ws")
    page = write_report(ws, tmp_path / "r.html", pair=("a", "b"), ks=[2]).read_text(encoding="utf-8")
    who = page.split("<h2>Who benefits</h2>", 1)[1].split("<h2>", 1)[0]
    assert "<th>recall a</th>" in who and "<th>one view only</th>" in who
    # grouping, bucket, n_users, stat_min, stat_max: three users are too few to read, so their count is marked;
    # the range of n_train prints as integers
    assert (
        '<tr class="unreliable" title="unreliable: n = 3 users"><td>all</td><td>all</td><td>3 †</td><td>2</td>' in who
    )
    case = page.split("<h2>Case study</h2>", 1)[1].split("<h2>", 1)[0]
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in case
    assert "<h3>User u2 — hit by a only</h3>" in case and "<h3>User u3 — hit by b only</h3>" in case
    # u2: history i1, i4 (untimed: item_id order); a's list i2, i3 — both test items, so marked
    assert "<b>History</b> (most recent first): Heat &amp; Dust, Ran<br>" in case
    assert "<tr><td>1</td><td><b>✓ &lt;script&gt;alert(1)&lt;/script&gt;</b></td><td>Ran</td></tr>" in case
    assert "<tr><td>2</td><td><b>✓ Brazil | 1985</b></td><td>Heat &amp; Dust</td></tr>" in case


def test_markdown_report_has_the_case_study_with_pipes_escaped(tmp_path):
    from complement.report import write_report

    ws = hand_explained_workspace(tmp_path / "ws")
    text = write_report(ws, tmp_path / "r.md", fmt="markdown", pair=("a", "b"), ks=[2]).read_text(encoding="utf-8")
    assert "## Who benefits" in text and "## Case study" in text
    case = text.split("## Case study", 1)[1]
    assert "| 2 | **✓ Brazil \\| 1985** | Heat & Dust |" in case
