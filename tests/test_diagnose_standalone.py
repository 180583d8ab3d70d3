"""Each diagnostic as one self-contained statement: the shared macros rendered as CTEs, and with
--standalone the tables and parameters inlined, so the text runs in a bare DuckDB."""

from __future__ import annotations

import duckdb
import pytest
from conftest import run_cli
from engine_cases import all_diagnostics, assert_same_rows, params_for, rich_workspace

import complement
from complement.diagnostics.headers import used_bindings
from complement.diagnostics.render import parse_macros, render
from complement.diagnostics.standalone import duckdb_literal, standalone_sql
from complement.errors import ComplementError


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    return rich_workspace(tmp_path_factory.mktemp("standalone"))


@pytest.mark.parametrize("diagnostic", all_diagnostics(), ids=lambda d: d.name)
def test_the_standalone_statement_gives_the_rows_of_the_diagnostic(rich, diagnostic):
    ws, _ = rich
    params = params_for(diagnostic)
    want = complement.diagnose(ws, diagnostic.name, **params)
    text = standalone_sql(ws, diagnostic.name, **params)
    assert used_bindings(text) == frozenset()  # every $name inlined
    con = duckdb.connect()  # a bare connection: no macros, no views
    try:
        got = con.sql(text).to_arrow_table()
    finally:
        con.close()
    assert_same_rows(want, got, tol=1e-12)


def test_the_rendered_text_creates_no_macro_and_calls_none():
    macros = parse_macros((complement.diagnostics.headers.MACROS_PATH).read_text())
    assert {"user_metrics", "test_hits", "hit_pairs", "view_selected", "hash60"} <= set(macros)
    for diagnostic in all_diagnostics():
        text = render(diagnostic.sql)
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
        assert "CREATE MACRO" not in body
        for name in macros:
            assert f"{name}(" not in body.replace(" ", ""), (diagnostic.name, name)


def test_a_macro_called_with_two_argument_lists_becomes_two_ctes():
    macros = parse_macros(
        "-- rows of t up to n\nCREATE MACRO upto(n) AS TABLE WITH s AS (SELECT * FROM t) SELECT x FROM s WHERE x <= n;"
    )
    text = render(
        "-- name: x\nSELECT * FROM upto(2) a JOIN upto(3) b USING (x) JOIN upto(2) c USING (x)", macros=macros
    )
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT unnest([1, 2, 3, 4]) AS x")
    assert con.sql(text).fetchall() == [(1,), (2,)]
    assert "upto_2 AS" in text and "upto_s AS" in text and "upto_2_s AS" in text
    assert "-- rows of t up to n" in text


def test_string_parameters_are_quoted_safely():
    literal = duckdb_literal("it's'; DROP TABLE x; --", "VARCHAR")
    assert duckdb.sql(f"SELECT {literal}").fetchall() == [("it's'; DROP TABLE x; --",)]
    assert duckdb.sql(f"SELECT {duckdb_literal(['a', 'b'], 'VARCHAR[]')}").fetchall() == [(["a", "b"],)]
    assert duckdb.sql(f"SELECT {duckdb_literal([], 'VARCHAR[]')}").fetchall() == [([],)]
    assert duckdb.sql(f"SELECT {duckdb_literal(0.05, 'DOUBLE')}").fetchall() == [(0.05,)]


def test_probe_summary_standalone_filters_by_a_quoted_run_id(rich):
    ws, _ = rich
    text = standalone_sql(ws, "probe_summary", run_id="run1'")
    assert duckdb.sql(text).fetchall() == []
    assert len(duckdb.sql(standalone_sql(ws, "probe_summary", run_id="run1")).fetchall()) == 4


def test_standalone_refuses_a_list_of_k_and_a_missing_view(rich):
    ws, _ = rich
    with pytest.raises(ComplementError, match="one K"):
        standalone_sql(ws, "metrics", k=[5, 10])
    with pytest.raises(ComplementError, match="needs parameter view_a"):
        standalone_sql(ws, "overlap")
    with pytest.raises(ComplementError, match="view 'zz' is not in the 'topk' table"):
        standalone_sql(ws, "overlap", view_a="a", view_b="zz")


def test_cli_show_standalone_prints_sql_that_duckdb_runs(rich, capsys):
    ws, _ = rich
    code, out, err = run_cli(
        capsys, "diagnose", "show", "overlap", "--standalone", "--views", "a,b", "-p", "k", "5", "-w", str(ws.root)
    )
    assert code == 0, err
    assert (
        duckdb.sql(out).to_arrow_table().to_pylist()
        == complement.diagnose(ws, "overlap", view_a="a", view_b="b", k=5).to_pylist()
    )


def test_cli_show_refuses_params_without_standalone_or_dialect(rich, capsys):
    ws, _ = rich
    code, _, err = run_cli(capsys, "diagnose", "show", "overlap", "-p", "k", "5", "-w", str(ws.root))
    assert code == 1 and "Error: -p and --views apply to --standalone" in err
    code, _, err = run_cli(capsys, "diagnose", "show", "overlap", "--dialect", "postgres")
    assert code == 2 and "Invalid value for '--dialect'" in err and "'postgres' is not one of" in err


def test_a_cte_named_like_a_macro_cte_is_refused_with_its_name():
    with pytest.raises(ComplementError, match=r"named like a shared macro's \(test_items\)"):
        render("-- name: x\nWITH test_items AS (SELECT 1 AS x) SELECT * FROM test_items, user_metrics(10, [], false)")


def test_sql_text_is_read_outside_comments_and_quoted_strings():
    from complement.diagnostics.sqltext import closing, code_positions, split_with

    text = "a; -- b; (\n'c;''(' \"d;\" (e;)"
    # the characters outside the comment and the two quoted strings, found by hand
    outside = "a; \n  (e;)"
    assert "".join(text[p] for p in code_positions(text)) == outside
    assert [p for p in code_positions(text) if text[p] == ";"] == [1, len(text) - 2]
    assert closing(text, text.rindex("(")) == len(text) - 1
    ctes, final = split_with("WITH x AS (SELECT ')' AS p), -- why\n y AS (SELECT 1) SELECT * FROM y")
    assert ctes == [("x", "(SELECT ')' AS p)", ""), ("y", "(SELECT 1)", "-- why")]
    assert final == "SELECT * FROM y"
