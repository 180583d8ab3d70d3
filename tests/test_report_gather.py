"""What the report reads from `complement run`'s stored results and what it computes: a pair, a K or a view
the stored results do not hold is computed, never left out (an empty filter is not an empty result)."""

from __future__ import annotations

import shutil

import pytest
from conftest import run_cli, synthetic_with_random_views
from test_experiment import SMALL

from complement import Workspace
from complement.diagnostics import diagnose
from complement.experiment import load, run_experiment
from complement.report import collect

#: test_experiment's small experiment without its probe: pair (lightgcn, pop) stored at K = 5, 10, top-K lists
#: of 50, and neighbour lists of 20 for item_agreement
EXPERIMENT = SMALL[: SMALL.index("[[probe]]")] + "neighbors_k = 20\n"
PAIR_SECTIONS = ("overlap", "unique_hits", "oracle", "user_complementarity", "who_benefits", "case_study")


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Workspace:
    root = tmp_path_factory.mktemp("report-gather")
    ws = Workspace(root / "ws")
    (root / "experiment.toml").write_text(EXPERIMENT, encoding="utf-8")
    run_experiment(ws, load(root / "experiment.toml"))
    assert (ws.root / "results" / "overlap.parquet").exists()
    return ws


def _ks(rows: list[dict]) -> list[int]:
    return sorted({r["k"] for r in rows})


def _without_tags(rows: list[dict]) -> list[dict]:
    return [{c: v for c, v in r.items() if c not in ("pair_a", "pair_b", "seed")} for r in rows]


@pytest.mark.parametrize("pair", [("lightgcn", "mix"), ("pop", "lightgcn")])
def test_a_pair_the_run_did_not_store_is_computed(stored, pair):
    """The stored results hold (lightgcn, pop) only: another pair, or the same two views the other way
    round, gets every pair section, computed at the experiment's K."""
    data = collect(stored, pair)
    for name in PAIR_SECTIONS:
        assert data.results.get(name), name
    assert _ks(data.results["overlap"]) == [5, 10]
    expected = diagnose(stored, "unique_hits", k=[5, 10], view_a=pair[0], view_b=pair[1]).to_pylist()
    assert _without_tags(data.results["unique_hits"]) == expected


def test_the_report_of_the_cli_has_the_sections_of_an_unstored_pair(stored, tmp_path, capsys):
    out = tmp_path / "r.md"
    code, _, err = run_cli(capsys, "report", "-w", str(stored.root), "--views", "lightgcn,mix", "-o", str(out))
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    for heading in ("## Overlap", "## Unique hits", "## Oracle fusion", "## User complementarity"):
        assert heading in text, heading


def test_a_k_the_run_did_not_store_is_computed_and_the_report_shows_the_k_asked_for(stored):
    """--k 10,20 on the stored pair: K = 10 from the stored rows, K = 20 computed; K = 5 is not shown."""
    data = collect(stored, ("lightgcn", "pop"), [10, 20])
    for name in ("metrics", "by_popularity", "coverage", "overlap", "unique_hits", "oracle", "fusion_gap"):
        assert _ks(data.results[name]) == [10, 20], name
    at_20 = [r for r in data.results["oracle"] if r["k"] == 20]
    assert _without_tags(at_20) == diagnose(stored, "oracle", k=[20], view_a="lightgcn", view_b="pop").to_pylist()
    # the computed rows carry the columns the stored ones have (the pair), so the table has no holes
    assert {(r["pair_a"], r["pair_b"]) for r in data.results["oracle"]} == {("lightgcn", "pop")}
    assert [r["view"] for r in data.results["metrics"]] == ["lightgcn", "mix", "pop"] * 2


def test_item_agreement_is_shown_at_the_k_its_neighbour_lists_allow(stored):
    """The neighbour lists hold 20 neighbours, the top-K lists 50: --k 10,30 shows item agreement at 10
    instead of failing the report (or showing the stored K = 5, 10)."""
    data = collect(stored, ("lightgcn", "pop"), [10, 30])
    assert _ks(data.results["item_agreement"]) == [10]
    assert _ks(data.results["overlap"]) == [10, 30]


def test_a_view_made_after_the_run_gets_its_rows_and_fusion_gap_compares_fused_views_only(stored, tmp_path):
    """A view trained after `complement run` is in the per-view tables (the stored rows lack it), and a pair
    with it gets the fusion section with the experiment's fused view, not the other single views."""
    from complement.embed.train import train_view

    shutil.copytree(stored.root, tmp_path / "ws")
    ws = Workspace(tmp_path / "ws")
    train_view(ws, "pop", "pop2", k=50, announce=False)
    data = collect(ws, ("pop", "pop2"))
    for name in ("metrics", "by_popularity", "coverage"):
        assert {r["view"] for r in data.results[name]} == {"lightgcn", "mix", "pop", "pop2"}, name
    metrics = {(r["k"], r["view"]): r for r in data.results["metrics"]}
    expected = diagnose(ws, "metrics", k=10, views=["pop2"]).to_pylist()[0]
    assert metrics[(10, "pop2")]["recall"] == expected["recall"]
    assert {r["view"] for r in data.results["fusion_gap"]} == {"mix"}


def test_views_named_as_seeds_get_the_seed_table_without_stored_results(tmp_path):
    """Views a-s1, a-s2 (as `complement run --seeds` names them) are summed up over seeds even when no
    seed_summary was stored."""
    ws = synthetic_with_random_views(
        tmp_path / "ws", ["a-s1", "a-s2"], dim=4, lists_k=20, users=60, items=40, interactions_per_user=8, seed=3
    )
    data = collect(ws, ks=[10])
    rows = data.results.get("seed_summary")
    assert rows and rows[0]["view"] == "a" and rows[0]["n_seeds"] == 2


def test_every_command_the_page_shows_runs_and_prints_the_section_s_rows(stored, tmp_path, capsys):
    """Each section names the `complement diagnose` command of its numbers with the workspace, the pair and
    the K shown (and fusion_gap's fused views): pasted as it stands, it prints the rows of the table."""
    import csv
    import html
    import io
    import re
    import shlex

    out = tmp_path / "r.html"
    code, _, err = run_cli(
        capsys, "report", "-w", str(stored.root), "--views", "lightgcn,pop", "--k", "10,20", "-o", str(out)
    )
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    sections = re.findall(r"<h2>([^<]+)</h2>\n(.*?)(?=<h2>|</body>)", page, re.S)
    ran = set()
    for heading, body in sections:
        found = re.search(r"<code>(complement diagnose [^<]+)</code>", body)
        if found is None:
            continue
        command = shlex.split(html.unescape(found.group(1)))
        assert command[:5] == ["complement", "diagnose", "--sql", command[3], "-w"] and command[5] == str(stored.root)
        code, printed, err = run_cli(capsys, *command[1:])
        assert code == 0, f"{heading}: {err}"
        rows = list(csv.DictReader(io.StringIO(printed)))
        if command[3] != "case_study":  # its page shows users, not rows
            assert len(rows) == body.split("<tbody>", 1)[1].count("<tr"), heading
        ran.add(command[3])
    assert {"metrics", "overlap", "oracle", "item_agreement", "fusion_gap", "who_benefits", "case_study"} <= ran
    assert "--views lightgcn,pop --k 10,20</code>" in page
    assert "-p view_a=lightgcn -p view_b=pop -p views=mix --k 10,20</code>" in page
    assert "--views lightgcn,pop --k 20</code>" in page  # who benefits and the case study: the main K only


def test_without_an_experiment_fusion_gap_sets_the_fused_views_against_the_pair_not_the_other_views(tmp_path, capsys):
    """Views a, b, c and the fusion ab of a and b (`complement fuse`): the pair (a, b) is compared with ab
    only; c is a single view, not a fusion."""
    ws = synthetic_with_random_views(
        tmp_path / "ws", ["a", "b", "c"], dim=4, lists_k=20, users=60, items=40, interactions_per_user=8, seed=3
    )
    assert collect(ws, ("a", "b"), [10]).results.get("fusion_gap") == []
    code, _, err = run_cli(
        capsys, "fuse", "-w", str(ws.root), "--views", "a,b", "--method", "rrf", "--view", "ab", "--k", "20"
    )
    assert code == 0, err
    rows = collect(ws, ("a", "b"), [10]).results["fusion_gap"]
    assert {r["view"] for r in rows} == {"ab"}


def test_the_markdown_page_names_the_commands_of_the_html_page_and_its_runs(stored, tmp_path, capsys):
    """The Markdown report carries each section's command as the HTML page does (in the same order), and the
    table of runs."""
    import html
    import re

    pages = {}
    for suffix in ("html", "md"):
        out = tmp_path / f"r.{suffix}"
        code, _, err = run_cli(
            capsys, "report", "-w", str(stored.root), "--views", "lightgcn,pop", "--k", "10,20", "-o", str(out)
        )
        assert code == 0, err
        pages[suffix] = out.read_text(encoding="utf-8")
    in_html = [html.unescape(c) for c in re.findall(r"<code>(complement diagnose [^<]+)</code>", pages["html"])]
    in_markdown = re.findall(r"`(complement diagnose [^`]+)`", pages["md"])
    assert in_markdown == in_html and len(in_html) >= 7, (in_markdown, in_html)
    assert "## Runs" in pages["md"] and "<h2>Runs</h2>" in pages["html"]


def test_a_command_with_backticks_is_one_markdown_code_span():
    from complement.report.formatting import md_code

    assert md_code("complement diagnose -w ws") == "`complement diagnose -w ws`"
    assert md_code("complement diagnose -w 'a`b'") == "``complement diagnose -w 'a`b'``"
    assert md_code("`x`") == "`` `x` ``"


def test_a_view_with_lists_shorter_than_the_report_k_is_shown_at_the_k_it_holds(tmp_path, capsys, monkeypatch):
    """An imported top-10 beside lists of 20: the report failed as a whole ("k = 20 is longer than the lists
    stored for view ..."), even for a pair of other views. The short view's per-view rows stop at its length."""
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    ws = synthetic_with_random_views(tmp_path / "ws", ["a", "b"], dim=4, lists_k=20, users=60, items=80)
    from complement.scoring import write_topk

    ws.write_vectors("short", "item", ws.item_ids(), ws.read_vectors("a", "item")[1])
    ws.write_vectors("short", "user", ws.user_ids(), ws.read_vectors("a", "user")[1])
    write_topk(ws, "short", k=10, device="cpu")
    data = collect(ws, ("a", "b"), [5, 10, 20])
    metrics = data.results["metrics"]
    assert sorted({r["k"] for r in metrics if r["view"] == "short"}) == [5, 10]
    assert sorted({r["k"] for r in metrics if r["view"] == "a"}) == [5, 10, 20]
    short = [r for r in metrics if r["view"] == "short"]
    assert short == [r for r in diagnose(ws, "metrics", k=[5, 10], views=["short"]).to_pylist()]
    assert "shown at the K their lists hold only: 'short' (10)" in capsys.readouterr().err
    code, _, err = run_cli(capsys, "report", "-w", str(ws.root), "--views", "a,b", "--k", "5,10,20")
    assert code == 0, err
