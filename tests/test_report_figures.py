"""The report's figures: matplotlib SVG inline (reproducible bytes), PDF + SVG files with --figures,
tables only (and one hint) without matplotlib, and no figure whose data is absent."""

from __future__ import annotations

import re
import sys

import pytest
from conftest import run_cli
from test_report import hand_explained_workspace

from complement.report import ReportData, figures, write_report

HINT = "pip install 'complement[report]'"


def _need_matplotlib() -> None:
    pytest.importorskip("matplotlib", reason="the plots need the 'report' extra")


@pytest.fixture
def ws(tmp_path):
    return hand_explained_workspace(tmp_path / "ws")


def _no_matplotlib(monkeypatch) -> None:
    """Make ``import matplotlib`` fail, as on an install without the report extra."""
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


def test_html_report_inlines_one_matplotlib_svg_per_figure_with_the_same_bytes_twice(ws, tmp_path):
    _need_matplotlib()
    first = write_report(ws, tmp_path / "a.html", pair=("a", "b"), ks=[2]).read_bytes()
    second = write_report(ws, tmp_path / "b.html", pair=("a", "b"), ks=[2]).read_bytes()
    assert first == second
    page = first.decode("utf-8")
    names = re.findall(r'<figure data-section="[^"]+" data-name="([^"]+)">', page)
    assert {"overlap", "unique_hits", "oracle"} <= set(names)
    assert page.count("<svg") == len(names) and "<?xml" not in page and "matplotlib" in page  # the SVG's generator
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "two inline figures share an element id"
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert HINT not in page


def test_report_without_matplotlib_has_its_tables_and_says_once_how_to_get_the_plots(ws, tmp_path, capsys, monkeypatch):
    _no_matplotlib(monkeypatch)
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    page = write_report(ws, tmp_path / "r.html", pair=("a", "b"), ks=[2]).read_text(encoding="utf-8")
    assert "<svg" not in page and "<h2>Oracle fusion</h2>" in page and "<h2>Who benefits</h2>" in page
    assert page.count(HINT) == 1
    assert capsys.readouterr().err.count(HINT) == 1


def test_figures_option_writes_each_figure_as_pdf_and_svg_with_the_same_bytes_twice(ws, tmp_path, capsys):
    _need_matplotlib()
    folder = tmp_path / "figs"
    code, _, err = run_cli(capsys, "report", "-w", str(ws.root), "--views", "a,b", "--k", "2", "--figures", str(folder))
    assert code == 0, err
    written = sorted(p.name for p in folder.iterdir())
    stems = sorted({name.rsplit(".", 1)[0] for name in written})
    assert "oracle" in stems and written == sorted(f"{s}.{ext}" for s in stems for ext in ("pdf", "svg"))
    assert (folder / "oracle.pdf").read_bytes().startswith(b"%PDF")
    svg = (folder / "oracle.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "<dc:date>" not in svg
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    run_cli(capsys, "report", "-w", str(ws.root), "--views", "a,b", "--k", "2", "--figures", str(folder))
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.parametrize("where", ["tables/figs", "tables"])
def test_figures_option_refuses_a_folder_in_tables_before_writing_anything(ws, tmp_path, capsys, where):
    out = tmp_path / "r.html"
    code, _, err = run_cli(
        capsys, "report", "-w", str(ws.root), "--views", "a,b", "-o", str(out), "--figures", str(ws.root / where)
    )
    assert code == 1 and "--figures" in err and "tables folder" in err
    assert not out.exists() and not (ws.root / "tables" / "figs").exists()


def test_figures_option_refuses_a_file_and_a_missing_matplotlib_before_writing(ws, tmp_path, capsys, monkeypatch):
    out, afile = tmp_path / "r.html", tmp_path / "file.txt"
    afile.write_text("x")
    code, _, err = run_cli(capsys, "report", "-w", str(ws.root), "-o", str(out), "--figures", str(afile))
    assert code == 1 and "is a file; give a folder" in err and not out.exists()
    _no_matplotlib(monkeypatch)
    code, _, err = run_cli(capsys, "report", "-w", str(ws.root), "-o", str(out), "--figures", str(tmp_path / "f"))
    assert code == 1 and HINT in err and not out.exists() and not (tmp_path / "f").exists()


def _data(results: dict, probes: list[dict] | None = None) -> ReportData:
    return ReportData(None, ("a", "b"), {}, [], results=results, probes=probes or [])  # type: ignore[arg-type]


def _oracle_row(group: str, value: float | None, n_users: int = 100) -> dict:
    cols = ("recall_a", "recall_b", "best_view", "union_at_k", "union")
    return {"k": 20, "pop_group": group, "n_users": n_users, **dict.fromkeys(cols, value)}


def test_no_figure_is_listed_whose_data_is_absent():
    assert figures(_data({})) == []
    # oracle rows whose every value is missing, and no probes: neither an oracle nor a probe figure
    assert figures(_data({"oracle": [_oracle_row("all", None), _oracle_row("cold", None)]})) == []
    names = [f.name for f in figures(_data({"oracle": [_oracle_row("all", 0.2)]}))]
    assert names == ["oracle"]
    # probes with no r2 rows and no recall drop: no probe figure
    probes = [{"mapper": "linear", "shift": "random", "item_set": "fit", "metric": "cosine", "mean": 0.5, "std": 0.0}]
    assert [f.name for f in figures(_data({}, probes))] == []


def test_a_tiny_group_is_marked_unreliable_in_the_figure():
    data = _data({"oracle": [_oracle_row("all", 0.2, n_users=500), _oracle_row("cold", 0.01, n_users=12)]})
    (oracle,) = figures(data)
    assert oracle.categories == ["all", "cold"] and oracle.unreliable == [None, "n = 12 users"]
    assert oracle.footnote() == "† unreliable — cold: n = 12 users."
