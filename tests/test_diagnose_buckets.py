"""A diagnostic whose per-user stage runs one user bucket at a time gives the rows it gives when run
whole (complement/diagnostics/buckets.py), for every built-in diagnostic that declares a stage."""

from __future__ import annotations

import math

import pyarrow.compute as pc
import pytest
import reference_metrics as ref

import complement
from complement.diagnostics import buckets, runner
from complement.diagnostics.headers import find, list_diagnostics, parse
from complement.errors import ComplementError, ConfigError

STAGED = sorted(d.name for d in list_diagnostics() if d.stage is not None)
PARAMS = {"view_a": "a", "view_b": "b", "k": 5}


@pytest.fixture(scope="module")
def bucket_ws(tmp_path_factory):
    case = ref.random_case(seed=5, n_users=60, n_items=30, k=8, views=("a", "b", "c"))
    # view c lists only the first 20 users: whole buckets have no row of it
    case["lists"]["c"] = {u: ranked for u, ranked in case["lists"]["c"].items() if u < "u020"}
    ws = ref.write_case(tmp_path_factory.mktemp("buckets"), case)
    # view d: view a's lists written in chunks of users, one file each (as a large view is stored),
    # so a bucket reads only the files whose user_idx range meets it
    rows = ws.query("SELECT * EXCLUDE (view), 'd' AS view FROM topk WHERE view = 'a' ORDER BY user_idx, rank")
    with ws.transaction(view="d"):
        for lo in range(0, 60, 13):
            chunk = rows.filter(pc.and_(pc.greater_equal(rows["user_idx"], lo), pc.less(rows["user_idx"], lo + 13)))
            ws.write_table("topk", chunk.drop_columns(["user_idx", "item_idx"]), part="d", append=True)
    return ws


def _rows(table):
    return sorted(table.to_pylist(), key=lambda row: [str(v) for v in row.values()])


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-12)
    return a == b


def test_the_bucketed_diagnostics_are_the_heavy_per_user_ones():
    assert set(STAGED) >= {"overlap", "unique_hits", "oracle"}


@pytest.mark.parametrize("name", STAGED)
@pytest.mark.parametrize("size,view_b", [(1, "b"), (7, "c"), (25, "b"), (6, "d")])
def test_a_staged_diagnostic_gives_the_same_rows_bucket_by_bucket(bucket_ws, monkeypatch, name, view_b, size):
    params = {**PARAMS, "view_b": view_b}
    monkeypatch.setenv(buckets.BUCKET_ENV, "0")
    whole = _rows(complement.diagnose(bucket_ws, name, **params))

    calls = []
    real = runner.run_in_buckets

    def counted(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(runner, "run_in_buckets", counted)
    monkeypatch.setenv(buckets.BUCKET_ENV, str(size))
    bucketed = _rows(complement.diagnose(bucket_ws, name, **params))
    assert calls == [True]  # it did run in buckets
    assert len(bucketed) == len(whole)
    for got, want in zip(bucketed, whole, strict=True):
        assert got.keys() == want.keys()
        for key in want:
            assert _same(got[key], want[key]), (name, key, got[key], want[key])


def test_a_workspace_within_one_bucket_runs_whole(bucket_ws, monkeypatch):
    monkeypatch.setenv(buckets.BUCKET_ENV, "60")  # 60 users: one bucket
    seen = []
    real = runner.run_in_buckets
    monkeypatch.setattr(runner, "run_in_buckets", lambda *a, **kw: seen.append(real(*a, **kw)) or seen[-1])
    complement.diagnose(bucket_ws, "overlap", **PARAMS)
    assert seen == [None]


def test_the_buckets_cover_every_user_key_once():
    bounds = list(buckets.bucket_bounds(10, 4))
    assert bounds == [(None, 4), (4, 8), (8, None)]
    assert list(buckets.bucket_bounds(0, 4)) == [(None, None)]

    def bucket_of(key):
        return [i for i, (lo, hi) in enumerate(bounds) if (lo is None or key >= lo) and (hi is None or key < hi)]

    # keys outside [0, 10) (a list for a user that has no interaction) still land in one bucket
    assert all(len(bucket_of(key)) == 1 for key in range(-3, 15))


def test_the_split_statement_reads_the_stage_rows_from_the_stage_table():
    staged = buckets.split_at_stage(find("overlap").sql, "scored")
    assert staged.stage.rstrip().endswith("SELECT * FROM scored")
    assert f"scored AS (SELECT * FROM {buckets.STAGE_TABLE})" in staged.rest
    assert "quantile_cont" in staged.rest and "quantile_cont" not in staged.stage


def test_a_stage_that_names_no_cte_is_refused_when_the_file_is_read(tmp_path):
    text = "-- name: x\n-- stage: nope\nWITH a AS (SELECT 1 AS v) SELECT v FROM a;\n"
    with pytest.raises(ConfigError, match="names no CTE"):
        parse(text, tmp_path / "x.sql")
    assert parse(text.replace("nope", "a"), tmp_path / "x.sql").stage == "a"


@pytest.mark.parametrize("value", ["-1", "many", "1.5"])
def test_a_bad_bucket_size_is_one_clear_error(bucket_ws, monkeypatch, value):
    monkeypatch.setenv(buckets.BUCKET_ENV, value)
    with pytest.raises(ComplementError, match=buckets.BUCKET_ENV):
        complement.diagnose(bucket_ws, "overlap", **PARAMS)


def test_the_workspace_tables_are_whole_again_after_a_bucketed_run(bucket_ws, monkeypatch):
    """The narrowed views are dropped even when a bucket fails."""
    from complement.db import connect

    con = connect(bucket_ws, read_only_sql=True)
    runner._load_macros(con)
    before = con.sql("SELECT count(*) FROM topk").fetchall()
    with pytest.raises(Exception, match="boom"):
        buckets.run_in_buckets(con, "WITH s AS (SELECT error('boom') AS v FROM topk) SELECT * FROM s", "s", {}, 7)
    assert con.sql("SELECT count(*) FROM topk").fetchall() == before
    assert con.sql("SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = 'topk'").fetchall() == [(0,)]
    con.close()


def test_a_bucket_reads_only_the_files_that_can_hold_its_users(bucket_ws):
    ranges = buckets.plain_sources(bucket_ws)["topk"]
    d_files = set(bucket_ws.table_files("topk", part="d"))
    assert len(d_files) == 5
    got = sorted((lo, hi) for path, lo, hi in ranges if path in d_files)
    want = bucket_ws.query(
        "SELECT min(user_idx), max(user_idx) FROM topk WHERE view = 'd' GROUP BY user_idx // 13 ORDER BY 1"
    ).to_pylist()
    assert got == [tuple(row.values()) for row in want]
    narrowed = buckets._narrowed("memory.main.topk", 13, 26, ranges)
    read = {path for path in d_files if str(path) in narrowed}
    assert [lo for path, lo, hi in ranges if path in read] == [13]
    assert "user_idx >= 13 AND user_idx < 26" in narrowed
