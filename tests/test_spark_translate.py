"""Translation of the diagnostics to Spark SQL (sqlglot plus complement's rewrites), checked on the
text: one test per rewrite of complement/diagnostics/translate.py. No Spark is needed here; the
same rewrites are executed on Spark in test_spark_engine.py."""

from __future__ import annotations

import pytest

pytest.importorskip("sqlglot", reason="sqlglot is not installed (pip install 'sqlglot>=30')")

from conftest import run_cli
from engine_cases import all_diagnostics

from complement.diagnostics import find
from complement.diagnostics.headers import used_bindings
from complement.diagnostics.render import shared_macros
from complement.diagnostics.translate import spark_sql, to_spark


def flat(sql: str) -> str:
    return " ".join(sql.upper().split()).replace("( ", "(").replace(" )", ")")


def test_materialized_hint_is_dropped():
    out = flat(
        to_spark("WITH a AS MATERIALIZED (SELECT 1 AS x), b AS NOT MATERIALIZED (SELECT 2 AS y) SELECT x, y FROM a, b")
    )
    assert "MATERIALIZED" not in out
    assert "WITH A AS (SELECT 1 AS X), B AS (SELECT 2 AS Y)" in out


def test_hash60_becomes_conv_of_an_md5_prefix():
    out = flat(to_spark("SELECT hash60(concat_ws('|', 'x', id)) AS h FROM t"))
    assert "CAST(CONV(SUBSTRING(MD5(CONCAT_WS('|', 'X', ID)), 1, 15), 16, 10) AS BIGINT) AS H" in out


def test_quantile_cont_becomes_percentile():
    out = flat(to_spark("SELECT quantile_cont(x, 0.25) AS q FROM t"))
    assert "PERCENTILE(X, 0.25) AS Q" in out and "PERCENTILE_CONT" not in out


def test_error_becomes_raise_error():
    assert "RAISE_ERROR('BAD ' || X)" in flat(to_spark("SELECT error('bad ' || x) FROM t"))


def test_list_sum_becomes_aggregate():
    assert "AGGREGATE(V, CAST(0 AS DOUBLE), (ACC, X) -> ACC + X)" in flat(to_spark("SELECT list_sum(v) FROM t"))


def test_isfinite_becomes_not_nan_and_not_infinite():
    out = flat(to_spark("SELECT isfinite(x) FROM t"))
    assert "(NOT ISNAN(X) AND ABS(X) <> CAST('INFINITY' AS DOUBLE))" in out


def test_std_sorted_becomes_an_aggregate_over_the_sorted_values():
    out = flat(to_spark("SELECT std_sorted(x) FROM t GROUP BY g"))
    assert "AGGREGATE(ARRAY_SORT(COLLECT_LIST(CAST(X AS DOUBLE)))" in out
    assert "STD_SORTED" not in out and "STDDEV" not in out


def test_exact_avg_translates_to_decimal_sums():
    """exact_avg is inlined (a plain macro): Spark gets its DECIMAL sum, bool_and and the avg() fallback."""
    from complement.diagnostics.render import render

    out = flat(to_spark(render("SELECT exact_avg(x) AS m FROM t")))
    assert "BOOL_AND(" in out and "DECIMAL(38, 18)" in out and "AVG(X)" in out


def test_table_names_are_mapped_but_ctes_of_the_same_name_are_not():
    out = flat(
        to_spark(
            "WITH items AS (SELECT 1 AS item_id) SELECT * FROM topk JOIN items USING (item_id)",
            tables={"topk": "lake.recs", "items": "lake.items"},
        )
    )
    assert "FROM LAKE.RECS AS TOPK" in out
    assert "JOIN ITEMS USING" in out and "LAKE.ITEMS" not in out


def test_sqlglot_forms_the_macros_rely_on():
    """What the text is written in, rather than rewritten: array_length on lists (len would become
    string LENGTH), unnest(generate_series) for integer rows, $name as a :name marker."""
    out = flat(to_spark("SELECT array_length($views) AS n, unnest(generate_series(1, $k)) AS i"))
    assert "SIZE(:VIEWS) AS N" in out and "EXPLODE(SEQUENCE(1, :K)) AS I" in out


@pytest.mark.parametrize("diagnostic", all_diagnostics(), ids=lambda d: d.name)
def test_every_diagnostic_translates_without_duckdb_only_syntax(diagnostic):
    out = spark_sql(diagnostic)
    body = flat("\n".join(line for line in out.splitlines() if not line.startswith("--")))
    for name in shared_macros():
        assert f"{name.upper()}(" not in body, name
    assert used_bindings(body) == frozenset()
    for duckdb_only in ("MATERIALIZED", "QUANTILE_CONT", "LIST_SUM", "ISFINITE", "HASH(", " LEN("):
        assert duckdb_only not in body, duckdb_only
    assert out.startswith(f"-- name: {diagnostic.name}\n")


def test_parameter_values_are_inlined_as_spark_literals_and_quoted():
    out = spark_sql(find("probe_summary"), values={"run_id": "it's", "source": "", "target": ""})
    assert "'it\\'s'" in out and ":run_id" not in out
    out = spark_sql(find("overlap"), values={"k": 5})
    assert ":view_a" in out and "CAST(5 AS INT)" in out


def test_cli_show_dialect_spark_inlines_given_and_default_parameters(capsys):
    code, out, err = run_cli(capsys, "diagnose", "show", "overlap", "--dialect", "spark", "--views", "a,b")
    assert code == 0, err
    assert out.startswith("-- name: overlap\n")
    assert "view = 'a'" in out and "CAST(20 AS INT)" in out and "PERCENTILE(" in out
    code, _, err = run_cli(capsys, "diagnose", "show", "overlap", "--dialect", "spark", "-p", "nope", "1")
    assert code == 2 and "has no parameter 'nope'" in err


def test_cli_refuses_an_unknown_engine_and_a_master_without_spark(tmp_path, capsys):
    code, _, err = run_cli(capsys, "diagnose", "--sql", "metrics", "--engine", "flink", "-w", str(tmp_path))
    assert code == 2 and "Invalid value for '--engine'" in err and "'flink' is not one of 'duckdb', 'spark'" in err
    code, _, err = run_cli(capsys, "diagnose", "run", "metrics", "--master", "local[1]", "-w", str(tmp_path))
    assert code == 1 and "Error: --master applies to --engine spark only" in err


def test_cli_show_dialect_spark_reads_the_users_tables(capsys):
    code, out, err = run_cli(capsys, "diagnose", "show", "metrics", "--dialect", "spark", "--table", "topk=lake.recs")
    assert code == 0, err
    assert "FROM lake.recs AS l" in out and "FROM lake.recs AS topk" in out and "FROM interactions" in out
    code, _, err = run_cli(capsys, "diagnose", "show", "metrics", "--dialect", "spark", "--table", "recs=lake.recs")
    assert code == 1 and "'recs' is not a workspace table" in err
    code, _, err = run_cli(capsys, "diagnose", "show", "metrics", "--table", "topk=lake.recs")
    assert code == 1 and "--table applies to --dialect spark only" in err
