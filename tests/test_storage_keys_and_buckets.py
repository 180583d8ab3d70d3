"""The diagnostics join on the integer keys: a legacy workspace (keys missing or NULL) reads with the
keys filled in at registration and gives the same rows; a large view stored as several user-bucket
files reads as one table and gives the same rows as one file."""

from __future__ import annotations

import json

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import reference_metrics as ref
from engine_cases import VIEWS, K, all_diagnostics, assert_same_rows, params_for, rich_workspace

import complement
from complement import tables
from complement.diagnostics.standalone import standalone_sql
from complement.workspace import Workspace

KEYED = ("topk", "interactions", "neighbors")


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    return rich_workspace(tmp_path_factory.mktemp("keys_rich"))


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    """The rich workspace with the integer keys dropped from every file that carries them (as files
    written before the keys existed)."""
    copy = rich_workspace(tmp_path_factory.mktemp("keys_legacy"))[0]
    for name in KEYED:
        for path in copy.table_files(name):
            table = pq.read_table(path)
            keys = [c for c, _, _ in tables.INDEX_KEYS[name]]
            pq.write_table(table.drop_columns(keys), path)
    # files written then were committed before sizes were recorded, too (tables.check_tables)
    catalog = copy.tables_dir / "_catalog.json"
    data = json.loads(catalog.read_text(encoding="utf-8"))
    for entry in data["entries"].values():
        entry.pop("sizes", None)
    catalog.write_text(json.dumps(data), encoding="utf-8")
    return copy


def test_a_legacy_file_without_keys_reads_with_the_keys_of_users_and_items(rich, legacy):
    _, case = rich
    got = legacy.query("SELECT user_id, user_idx, item_id, item_idx FROM topk ORDER BY view, user_id, rank")
    users = {u: n for n, u in enumerate(case["users"])}
    items = {i: n for n, i in enumerate(case["items"])}
    rows = got.to_pylist()
    assert rows and all(r["user_idx"] == users[r["user_id"]] and r["item_idx"] == items[r["item_id"]] for r in rows)
    # the columns keep the contract's order: the keys come last, as in a current file
    assert legacy.query("SELECT * FROM topk LIMIT 0").column_names == tables.SCHEMAS["topk"].names


@pytest.mark.parametrize("diagnostic", all_diagnostics(), ids=lambda d: d.name)
def test_every_diagnostic_gives_the_same_rows_on_a_legacy_workspace(rich, legacy, diagnostic):
    ws, _ = rich
    params = params_for(diagnostic)
    assert_same_rows(
        complement.diagnose(ws, diagnostic.name, **params), complement.diagnose(legacy, diagnostic.name, **params)
    )


def test_the_standalone_sql_of_a_legacy_workspace_fills_the_keys_too(rich, legacy):
    import duckdb

    ws, _ = rich
    params = {"view_a": "a", "view_b": "b", "k": K}
    want = complement.diagnose(ws, "oracle", **params)
    assert_same_rows(want, duckdb.sql(standalone_sql(legacy, "oracle", **params)).to_arrow_table())


def test_user_sql_sees_the_filled_keys(legacy):
    from complement.db import run_sql

    got = run_sql(legacy, "SELECT count(*) AS n, count(user_idx) AS keyed FROM interactions").to_pylist()[0]
    assert got["n"] == got["keyed"] > 0


def test_without_users_and_items_the_keys_number_the_ids_consistently_across_tables(tmp_path, rich):
    """Topk and interactions written into a workspace that has no users/items table hold NULL keys;
    readers number the ids (dense rank) the same way in both tables, so the joins still match."""
    _, case = rich
    bare = Workspace(tmp_path / "bare")
    full = ref.write_case(tmp_path / "full", case)
    for name in ("interactions", "topk"):
        for part in full.parts(name) if name == "topk" else [None]:
            table = full.read_table(name, part) if part else pq.read_table(full.table_files(name))
            keys = [c for c, _, _ in tables.INDEX_KEYS[name]]
            bare.write_table(name, table.drop_columns(keys), part=part)
    with bare.transaction() as txn:  # what the lists claim to mask (check_no_seen_items reads it)
        txn.add_runs(pq.read_table(full.table_files("runs")))
    assert bare.query("SELECT count(*) FROM topk WHERE user_idx IS NULL").column(0)[0].as_py() == 0
    for name in ("overlap", "rbo", "rank_correlation", "check_no_seen_items"):
        params = {"view_a": "a", "view_b": "b", "k": K} if name != "check_no_seen_items" else {}
        assert_same_rows(complement.diagnose(full, name, **params), complement.diagnose(bare, name, **params))


# ---- user buckets ----------------------------------------------------------------------------------
@pytest.fixture
def small_buckets(monkeypatch):
    monkeypatch.setattr(tables, "BUCKET_ROWS", 50)
    monkeypatch.setattr(tables, "ROW_GROUP_ROWS", 16)


@pytest.fixture
def bucketed(tmp_path, small_buckets):
    return rich_workspace(tmp_path / "bucketed")[0]


def test_a_large_view_is_stored_as_contiguous_sorted_user_buckets_in_one_entry(bucketed):
    for view in VIEWS:
        files = bucketed.table_files("topk", view)
        assert len(files) > 2
        previous_last = -1
        for path in files:
            table = pq.read_table(path)
            assert table.num_rows <= 50 + K  # a piece ends at the first user boundary before 50 rows
            users, ranks = table.column("user_idx").to_pylist(), table.column("rank").to_pylist()
            assert list(zip(users, ranks, strict=True)) == sorted(zip(users, ranks, strict=True))
            assert users[0] > previous_last  # contiguous ranges, no user in two files
            previous_last = users[-1]
            assert pq.ParquetFile(path).metadata.num_row_groups == -(-table.num_rows // 16)
        # one catalog entry, one commit: the view reads as one table with every row
        whole = bucketed.read_table("topk", view)
        assert whole.num_rows == sum(pq.ParquetFile(p).metadata.num_rows for p in files)


def test_a_small_view_stays_one_file(rich):
    ws, _ = rich
    assert all(len(ws.table_files("topk", view)) == 1 for view in VIEWS)


@pytest.mark.parametrize("diagnostic", all_diagnostics(), ids=lambda d: d.name)
def test_every_diagnostic_gives_the_same_rows_on_bucketed_views(rich, bucketed, diagnostic):
    ws, _ = rich
    params = params_for(diagnostic)
    assert_same_rows(
        complement.diagnose(ws, diagnostic.name, **params), complement.diagnose(bucketed, diagnostic.name, **params)
    )


def test_bucketed_views_have_stable_fingerprints(tmp_path, small_buckets):
    one = rich_workspace(tmp_path / "one")[0]
    two = rich_workspace(tmp_path / "two")[0]
    for view in VIEWS:
        assert one.entry("topk", view).fingerprint == two.entry("topk", view).fingerprint
    assert one.entry("topk", "a").fingerprint != one.entry("topk", "b").fingerprint


def test_bucketed_rows_are_the_written_rows(rich, bucketed):
    ws, _ = rich
    for view in VIEWS:
        order = [("user_idx", "ascending"), ("rank", "ascending")]
        want = ws.read_table("topk", view).sort_by(order)
        got = bucketed.read_table("topk", view)
        assert got.equals(want)
        assert pc.all(pc.equal(got.column("view"), view)).as_py()


@pytest.mark.spark
@pytest.mark.parametrize("name", ["overlap", "oracle", "who_benefits"])
def test_spark_fills_the_keys_of_a_legacy_workspace_and_reads_bucketed_views(rich, legacy, tmp_path, name):
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'complement[spark]')")
    pytest.importorskip("sqlglot", reason="sqlglot is not installed (pip install 'sqlglot>=30')")
    from complement.diagnostics.spark import diagnose_spark, java_available, session

    if not java_available():
        pytest.skip("Spark needs Java (none on PATH and no JAVA_HOME)")
    spark = session("local[1]")
    spark.sparkContext.setLogLevel("ERROR")
    ws, _ = rich
    params = {"view_a": "a", "view_b": "b", "k": K}
    want = complement.diagnose(ws, name, **params)
    assert_same_rows(want, diagnose_spark(legacy, name, spark=spark, **params))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tables, "BUCKET_ROWS", 50)
        bucketed = rich_workspace(tmp_path / "bucketed")[0]
    assert len(bucketed.table_files("topk", "a")) > 1
    assert_same_rows(want, diagnose_spark(bucketed, name, spark=spark, **params))
