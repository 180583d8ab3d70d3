"""User SQL (`complement sql`, a diagnostic .sql file given by path) can write nothing, whatever the
statement: one case per write path DuckDB has. Each case exits 1 with exactly one `Error:` line on
stderr and leaves every file of the workspace (and of the folder around it) byte-identical.

A second table runs the file-touching statements in the sandbox connection itself, without the
statement-type check in front of it, to show the guarantee does not rest on that check."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import run_cli

from complement import Workspace
from complement.sandbox import open_sandbox


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` (hidden ones too) with the sha256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def place(tmp_path):
    """A workspace with every kind of table and a stored result, inside a folder that also holds an
    outside file (``secret.txt``) and an empty output folder."""
    root = tmp_path / "ws"
    ws = Workspace(root)
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": ["i0", "i1", "i2"],
                "item_idx": [0, 1, 2],
                "title": ["a", "b", "c"],
                "text": ["a", "b", "c"],
                "n_train": [1, 1, 0],
                "pop_group": ["hot", "mid", "cold"],
            }
        ),
    )
    ws.write_table("users", pa.table({"user_id": ["u0", "u1"], "user_idx": [0, 1], "n_train": [2, 1]}))
    ws.write_table(
        "interactions",
        pa.table(
            {
                "user_id": ["u0", "u0", "u1", "u1"],
                "item_id": ["i0", "i1", "i0", "i2"],
                "ts": pa.array([None] * 4, pa.int64()),
                "rating": pa.array([None] * 4, pa.float64()),
                "split": ["train", "train", "train", "test"],
            }
        ),
    )
    ws.write_table(
        "topk",
        pa.table(
            {
                "view": ["a"] * 4,
                "user_id": ["u0", "u0", "u1", "u1"],
                "rank": [1, 2, 1, 2],
                "item_id": ["i2", "i0", "i2", "i1"],
                "score": [1.0, 0.5, 1.0, 0.5],
            }
        ),
        part="a",
    )
    (root / "results").mkdir()
    pq.write_table(pa.table({"view": ["a"], "recall": [1.0]}), root / "results" / "metrics.parquet")
    ws.write_config({"dataset": {"name": "tiny"}})
    (tmp_path / "secret.txt").write_text("outside the workspace\n")
    (tmp_path / "out").mkdir()
    return tmp_path


WRITES = {
    "copy_onto_a_table": "COPY (SELECT 1 AS x) TO '{ws}/tables/items.parquet' (FORMAT parquet)",
    "copy_onto_the_catalog": "COPY (SELECT 1 AS x) TO '{ws}/tables/_catalog.json' (FORMAT csv)",
    "explain_analyze_copy_into_a_view_folder": (
        "EXPLAIN ANALYZE COPY (SELECT * FROM topk) TO '{ws}/tables/topk/a/evil.parquet' (FORMAT parquet)"
    ),
    "copy_a_partitioned_table_into_tables": (
        "COPY topk TO '{ws}/tables/topk' (FORMAT parquet, PARTITION_BY (view), OVERWRITE_OR_IGNORE)"
    ),
    "explain_analyze_copy_onto_a_table": (
        "EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{ws}/tables/items.parquet' (FORMAT parquet)"
    ),
    "explain_analyze_copy_a_fake_view": (
        "EXPLAIN ANALYZE COPY (SELECT * FROM topk) TO '{ws}/tables/topk/evil.parquet' (FORMAT parquet)"
    ),
    "explain_options_copy": "EXPLAIN (ANALYZE) COPY items TO '{out}/items.csv'",
    "copy_table_out": "COPY items TO '{out}/items.csv'",
    "copy_onto_the_config": "COPY (SELECT 'x' AS a) TO '{ws}/complement.toml' (FORMAT csv)",
    "export_database": "EXPORT DATABASE '{out}/export'",
    "explain_analyze_export": "EXPLAIN ANALYZE EXPORT DATABASE '{out}/export'",
    "import_database": "IMPORT DATABASE '{out}'",
    "attach_a_new_file": "ATTACH '{out}/new.duckdb' AS x",
    "attach_a_table_file": "ATTACH '{ws}/tables/items.parquet' AS p",
    "attach_in_memory_then_write": "ATTACH ':memory:' AS m; CREATE TABLE m.t AS SELECT 1",
    "copy_from_database": "COPY FROM DATABASE memory TO memory",
    "create_table": "CREATE TABLE t AS SELECT * FROM items",
    "create_temp_table": "CREATE TEMP TABLE t AS SELECT 1",
    "create_view_over_a_table_name": "CREATE OR REPLACE VIEW items AS SELECT 42 AS x",
    "create_macro": "CREATE MACRO m(a) AS a + 1",
    "create_persistent_secret": "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    "create_secret": "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    "insert": "INSERT INTO items SELECT * FROM items",
    "update": "UPDATE items SET title = 'x'",
    "delete": "DELETE FROM items",
    "drop": "DROP VIEW items",
    "alter": "ALTER VIEW items RENAME TO things",
    "install_extension": "INSTALL httpfs",
    "force_install_from_a_path": "FORCE INSTALL '{out}/x.duckdb_extension'",
    "load_extension": "LOAD httpfs",
    "load_extension_file": "LOAD '{out}/x.duckdb_extension'",
    "set_a_setting": "SET threads = 1",
    "set_external_access_back_on": "SET enable_external_access = true",
    "set_profiling_output_file": "SET profiling_output = '{out}/profile.json'",
    "set_variable": "SET VARIABLE v = 1",
    "reset_a_setting": "RESET threads",
    "pragma_profiling": "PRAGMA enable_profiling",
    "pragma_profile_output": "PRAGMA profile_output = '{out}/profile.txt'",
    "call_checkpoint": "CALL force_checkpoint()",
    "checkpoint": "CHECKPOINT",
    "vacuum": "VACUUM",
    "use_other_catalog": "USE memory",
    "detach": "DETACH memory",
    "read_csv_outside": "SELECT * FROM read_csv('{root}/secret.txt')",
    "read_csv_passwd": "SELECT * FROM read_csv('/etc/passwd')",
    "read_text_outside": "SELECT * FROM read_text('{root}/secret.txt')",
    "read_blob_the_config": "SELECT * FROM read_blob('{ws}/complement.toml')",
    "read_parquet_table_file": "SELECT * FROM read_parquet('{ws}/tables/items.parquet')",
    "replacement_scan_of_a_path": "SELECT * FROM '{root}/secret.txt'",
    "read_json_outside": "SELECT * FROM read_json('{root}/secret.txt')",
    "glob_outside": "SELECT * FROM glob('{root}/*')",
    "glob_etc": "SELECT * FROM glob('/etc/*')",
    "sniff_csv": "SELECT * FROM sniff_csv('{root}/secret.txt')",
    "parquet_metadata": "SELECT * FROM parquet_metadata('{ws}/tables/items.parquet')",
    "query_function_wrapping_copy": "SELECT * FROM query('COPY items TO ''{out}/q.csv''')",
    "multi_statement": "SELECT 1; COPY items TO '{out}/m.csv'",
    "statement_after_a_comment": "SELECT 1 /* ; */; -- harmless\n COPY items TO '{out}/c.csv'",
    "statement_inside_leading_comment": "/* SELECT 1; */ COPY items TO '{out}/c.csv'",
    "line_comment_then_write": "-- SELECT 1\nDELETE FROM items",
    "python_variable_scan": "SELECT * FROM con",
}


def _sql(template: str, root: Path) -> str:
    return template.format(ws=root / "ws", out=root / "out", root=root)


def _assert_refused(code: int, err: str) -> None:
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), err


@pytest.mark.parametrize("template", list(WRITES.values()), ids=list(WRITES))
def test_sql_cannot_write_or_read_outside(place, capsys, template):
    before = _tree(place)
    code, out, err = run_cli(capsys, "sql", "-w", str(place / "ws"), "-f", "csv", "--", _sql(template, place))
    _assert_refused(code, err)
    assert out == ""
    assert _tree(place) == before


DIAGNOSTIC_WRITES = {
    "explain_analyze_copy": "EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{ws}/tables/items.parquet' (FORMAT parquet)",
    "copy": "COPY (SELECT * FROM topk) TO '{ws}/tables/topk/evil.parquet' (FORMAT parquet)",
    "read_table_file_directly": "SELECT * FROM read_parquet('{ws}/tables/items.parquet')",
    "read_config": "SELECT * FROM read_text('{ws}/complement.toml')",
    "read_outside": "SELECT * FROM read_csv('{root}/secret.txt')",
    "glob": "SELECT * FROM glob('{ws}/**')",
}


@pytest.mark.parametrize("template", list(DIAGNOSTIC_WRITES.values()), ids=list(DIAGNOSTIC_WRITES))
def test_user_diagnostic_file_cannot_write_or_read_files(place, capsys, template):
    path = place / "out" / "evil.sql"
    path.write_text("-- name: evil\n-- description: tries to escape\n" + _sql(template, place) + "\n")
    before = _tree(place)
    code, _out, err = run_cli(capsys, "diagnose", "-w", str(place / "ws"), "--sql", str(path), "-f", "csv")
    _assert_refused(code, err)
    assert _tree(place) == before


SANDBOX_ALONE = {
    "copy": "COPY (SELECT 1 AS x) TO '{ws}/tables/items.parquet' (FORMAT parquet)",
    "explain_analyze_copy": "EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{ws}/tables/topk/evil.parquet' (FORMAT parquet)",
    "export": "EXPORT DATABASE '{out}/export'",
    "attach_file": "ATTACH '{out}/x.duckdb' AS x",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "persistent_secret": "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    "set": "SET enable_external_access = true",
    "reset": "RESET enable_external_access",
    "pragma": "PRAGMA enable_profiling",
    "profiling_output": "SET profiling_output = '{out}/p.json'",
    "read_csv": "SELECT * FROM read_csv('{root}/secret.txt')",
    "read_text": "SELECT * FROM read_text('{ws}/complement.toml')",
    "read_blob": "SELECT * FROM read_blob('/etc/passwd')",
    "glob": "SELECT * FROM glob('{root}/*')",
}


@pytest.mark.parametrize("template", list(SANDBOX_ALONE.values()), ids=list(SANDBOX_ALONE))
def test_sandbox_connection_refuses_file_access_without_the_statement_check(place, template):
    before = _tree(place)
    con = open_sandbox(Workspace(place / "ws"))
    try:
        with pytest.raises(duckdb.Error):
            con.execute(_sql(template, place)).fetchall()
        # the lock holds after a refused statement: the tables still read
        assert con.execute("SELECT count(*) FROM items").fetchall() == [(3,)]
    finally:
        con.close()
    assert _tree(place) == before


def test_sandbox_reads_every_table_and_the_stored_results(place, capsys):
    query = (
        "SELECT (SELECT count(*) FROM items) AS items, (SELECT count(*) FROM users) AS users, "
        "(SELECT count(*) FROM interactions) AS interactions, (SELECT count(*) FROM topk WHERE view = 'a') AS topk, "
        "(SELECT recall FROM results_metrics) AS recall"
    )
    code, out, err = run_cli(capsys, "sql", "-w", str(place / "ws"), query, "-f", "csv")
    assert (code, err) == (0, "")
    assert out == "items,users,interactions,topk,recall\n3,2,4,4,1.0\n"


def test_user_diagnostic_file_uses_the_shared_macros_in_the_sandbox(place, capsys):
    path = place / "out" / "mine.sql"
    path.write_text(
        "-- name: mine\n-- description: test pairs per user\n-- param: k INTEGER = 1\n-- requires: interactions, topk\n"
        "SELECT user_id, count(*) AS n, $k AS k FROM test_items() GROUP BY user_id ORDER BY user_id\n"
    )
    before = _tree(place)
    code, out, err = run_cli(capsys, "diagnose", "-w", str(place / "ws"), "--sql", str(path), "-f", "csv")
    assert (code, err) == (0, "")
    assert out == "user_id,n,k\nu1,1,1\n"  # u1's one test item, i2
    assert _tree(place) == before


def test_sql_error_in_the_sandbox_is_one_line(place, capsys):
    code, _, err = run_cli(capsys, "sql", "-w", str(place / "ws"), "SELECT no_such_column FROM items")
    _assert_refused(code, err)
    assert err.startswith("Error: SQL error: ")


def test_a_damaged_table_file_is_one_line_naming_it(place, capsys):
    results = place / "ws" / "results" / "broken.parquet"
    results.write_bytes(b"not parquet at all")
    before = _tree(place)
    code, _, err = run_cli(capsys, "sql", "-w", str(place / "ws"), "SELECT count(*) FROM items")
    _assert_refused(code, err)
    assert "results_broken" in err and str(results) in err
    assert _tree(place) == before
