"""`complement sql` streams its result in record batches (to stdout or --out) with the same text a
whole-table rendering gives, caps the rows a terminal table shows, and stops at --timeout."""

from __future__ import annotations

import contextlib
import csv
import io
import json

import pyarrow.parquet as pq
import pytest
from conftest import run_cli

from complement.cli import sql as sql_command
from complement.data.synth import synthesize

N = 2345
QUERY = (
    "SELECT a, a / 4 AS q, 'x' || a AS s, CASE WHEN a % 7 = 0 THEN NULL ELSE a END AS n "
    f"FROM range({N}) t(a) ORDER BY a"
)


def _rows() -> list[dict]:
    """The query's rows, computed in plain Python."""
    return [{"a": a, "q": a / 4, "s": f"x{a}", "n": None if a % 7 == 0 else a} for a in range(N)]


def _expected_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["a", "q", "s", "n"])
    for r in _rows():
        writer.writerow([r["a"], repr(r["q"]), r["s"], "" if r["n"] is None else r["n"]])
    return buffer.getvalue()


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("stream") / "ws"
    synthesize(root, users=30, items=30, interactions_per_user=6, seed=2)
    return root


@pytest.fixture
def batches_seen(monkeypatch):
    """Small batches, and the size of each batch the command reads."""
    seen: list[int] = []
    real = sql_command.stream_sql

    @contextlib.contextmanager
    def spy(*args, **kwargs):
        with real(*args, **kwargs) as (schema, batches):
            yield schema, (seen.append(b.num_rows) or b for b in batches)

    monkeypatch.setattr(sql_command, "ROWS_PER_BATCH", 100)
    monkeypatch.setattr(sql_command, "stream_sql", spy)
    return seen


def test_csv_streams_in_batches_with_the_same_text(ws, capsys, batches_seen):
    code, out, err = run_cli(capsys, "sql", "-w", str(ws), QUERY, "-f", "csv")
    assert (code, err) == (0, "")
    assert out == _expected_csv()
    assert sum(batches_seen) == N and len(batches_seen) >= N // 100 and max(batches_seen) <= 100


def test_json_streams_in_batches_with_the_same_text(ws, capsys, batches_seen):
    code, out, err = run_cli(capsys, "sql", "-w", str(ws), QUERY, "-f", "json")
    assert (code, err) == (0, "")
    assert out == json.dumps(_rows(), indent=2) + "\n"
    assert len(batches_seen) >= N // 100


def test_empty_result_in_every_streamed_format(ws, capsys):
    empty = "SELECT 1 AS a WHERE false"
    assert run_cli(capsys, "sql", "-w", str(ws), empty, "-f", "json")[1] == "[]\n"
    assert run_cli(capsys, "sql", "-w", str(ws), empty, "-f", "csv")[1] == "a\n"
    assert run_cli(capsys, "sql", "-w", str(ws), empty, "-f", "markdown")[1] == "| a |\n|---|\n"


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_out_file_is_written_from_batches(ws, tmp_path, capsys, batches_seen, suffix):
    path = tmp_path / f"result{suffix}"
    code, out, err = run_cli(capsys, "sql", "-w", str(ws), QUERY, "--out", str(path))
    assert code == 0 and out == "" and f"wrote {N} rows" in err
    if suffix == ".csv":
        assert path.read_text() == _expected_csv()
    elif suffix == ".json":
        assert json.loads(path.read_text()) == _rows()
    else:
        assert pq.read_table(path).to_pylist() == _rows()
    assert len(batches_seen) >= N // 100
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_table_format_shows_a_capped_number_of_rows(ws, capsys, monkeypatch):
    from complement.cli import output

    monkeypatch.setattr(output, "TABLE_ROWS", 50)
    code, out, err = run_cli(capsys, "sql", "-w", str(ws), QUERY, "-f", "table")
    assert code == 0
    shown = [line for line in out.splitlines() if line.strip().split(" ")[0].isdigit()]
    assert len(shown) == 50
    assert f"showing the first 50 of {N} rows" in err


def test_timeout_stops_the_query_with_one_line(ws, capsys):
    endless = "SELECT sum(a * b) FROM range(100000000) t(a), range(100000) s(b)"
    code, out, err = run_cli(capsys, "sql", "-w", str(ws), endless, "--timeout", "0.5")
    assert code == 1 and out == ""
    assert err == "Error: query exceeded --timeout 0.5 s\n"


def test_a_query_stopped_by_the_timeout_leaves_no_out_file(ws, capsys, tmp_path):
    endless = "SELECT sum(a * b) FROM range(100000000) t(a), range(100000) s(b)"
    target = tmp_path / "result.csv"
    code, out, err = run_cli(capsys, "sql", "-w", str(ws), endless, "--timeout", "0.5", "--out", str(target))
    assert code == 1 and out == "" and err == "Error: query exceeded --timeout 0.5 s\n"
    assert not target.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["0", "-1"])
def test_timeout_must_be_positive(ws, capsys, value):
    code, _, err = run_cli(capsys, "sql", "-w", str(ws), "SELECT 1", "--timeout", value)
    assert code == 1 and err.startswith("Error: --timeout takes a positive number")


@pytest.mark.slow
def test_memory_does_not_grow_with_the_rows_printed(ws):
    """Peak RSS of `complement sql` printing 2M rows stays within 150 MB of printing 100k rows;
    a result held whole as Python rows would take several hundred MB more."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    def peak_rss_kb(rows: int) -> int:
        query = f"SELECT a, a * 2 AS b, a / 3 AS c FROM range({rows}) t(a)"
        process = subprocess.Popen(
            [sys.executable, "-m", "complement", "sql", "-w", str(ws), query, "-f", "csv"],
            cwd=Path(__file__).resolve().parents[1],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _, status, usage = os.wait4(process.pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, process.stderr.read()
        process.stderr.close()
        return usage.ru_maxrss

    small, large = peak_rss_kb(100_000), peak_rss_kb(2_000_000)
    assert large - small < 150 * 1024, (small, large)
