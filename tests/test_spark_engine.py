"""The diagnostics on Apache Spark (local mode) give DuckDB's rows: every diagnostic in
complement/sql/ on a small synthetic workspace (to 1e-9, the seeded ones included: both engines
draw from the same hash), the rewritten functions, tables a caller registered, the CLI, and (slow)
real ml-100k. Skipped, with the reason, where pyspark or Java is missing."""

from __future__ import annotations

import hashlib

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'complement[spark]')")
pytest.importorskip("sqlglot", reason="sqlglot is not installed (pip install 'sqlglot>=30')")

from conftest import run_cli
from engine_cases import all_diagnostics, assert_same_rows, params_for, rich_workspace

import complement
from complement.diagnostics.spark import diagnose_spark, java_available, register_workspace
from complement.diagnostics.translate import to_spark
from complement.errors import ComplementError

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    if not java_available():
        pytest.skip("Spark needs Java (none on PATH and no JAVA_HOME)")
    from complement.diagnostics.spark import session

    spark = session("local[2]")
    spark.sparkContext.setLogLevel("ERROR")
    spark.conf.set("spark.sql.shuffle.partitions", "2")  # tiny tables: fewer tasks, faster
    yield spark


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    return rich_workspace(tmp_path_factory.mktemp("spark_rich"))


@pytest.mark.parametrize("diagnostic", all_diagnostics(), ids=lambda d: d.name)
def test_every_diagnostic_gives_the_same_rows_on_spark_and_duckdb(spark, rich, diagnostic):
    ws, _ = rich
    params = params_for(diagnostic)
    want = complement.diagnose(ws, diagnostic.name, **params)
    got = diagnose_spark(ws, diagnostic.name, spark=spark, **params)
    assert_same_rows(want, got)


def test_the_rewritten_functions_compute_what_duckdb_computes(spark):
    import duckdb

    from complement.diagnostics.render import render

    texts = ["a", "u001|7", "permutation|0|3|i042", ""]
    python = [int(hashlib.md5(t.encode()).hexdigest()[:15], 16) for t in texts]
    values = ", ".join("('" + t + "')" for t in texts)
    query = render(f"SELECT t, hash60(t) AS h FROM (VALUES {values}) AS v(t) ORDER BY t")
    assert [r[1] for r in duckdb.sql(query).fetchall()] == sorted(python, key=lambda h: texts[python.index(h)])
    spark_rows = spark.sql(
        to_spark(render(f"SELECT t, hash60(t) AS h FROM (VALUES {values}) AS v(t) ORDER BY t", keep=["hash60"]))
    ).collect()
    assert [r["h"] for r in spark_rows] == [h for _, h in sorted(zip(texts, python, strict=True))]

    stats = (
        "SELECT quantile_cont(x, 0.3) AS q, list_sum(CAST([1.5, 2.5] AS DOUBLE[])) AS s, bool_and(isfinite(x)) AS f, "
        "isfinite(CAST('NaN' AS DOUBLE)) AS nan_f, isfinite(-CAST('Infinity' AS DOUBLE)) AS inf_f "
        "FROM (SELECT unnest(CAST([1.0, 2.0, 4.0, 8.0] AS DOUBLE[])) AS x) AS v"
    )
    want = duckdb.sql(stats).fetchall()[0]
    got = tuple(spark.sql(to_spark(stats)).collect()[0])
    assert want == pytest.approx((1.9, 4.0, True, False, False))
    assert got == pytest.approx(want)
    with pytest.raises(Exception, match="n_boot must be"):
        spark.sql(to_spark("SELECT error('n_boot must be at least 1')")).collect()


def test_std_sorted_on_spark_is_duckdbs_to_the_last_bit_in_any_row_order(spark):
    """stddev_samp depends on the order it meets the rows (DuckDB's gives several values over shuffles of these);
    std_sorted adds them sorted on both engines, with the same update, so every order gives DuckDB's bits."""
    import random

    import duckdb

    from complement.diagnostics.render import render

    rng = random.Random(3)
    values = [(i % 2, rng.uniform(0, 1) * 10 ** rng.randint(-3, 3)) for i in range(40)]

    def query(order, fn):
        rows = ", ".join(f"({g}, {v!r})" for g, v in order) + ", (1, NULL), (2, 1.5), (3, NULL)"
        return f"SELECT g, {fn}(x) AS s FROM (VALUES {rows}) AS v(g, x) GROUP BY g ORDER BY g"

    want = duckdb.sql(render(query(values, "std_sorted"))).fetchall()
    assert want[2:] == [(2, None), (3, None)]  # one value, no value: NULL, as stddev_samp
    plain, spark_results = set(), set()
    for seed in range(6):
        order = values[:]
        random.Random(seed).shuffle(order)
        plain.add(tuple(duckdb.sql(query(order, "stddev_samp")).fetchall()))
        spark_sql = to_spark(render(query(order, "std_sorted"), keep=["std_sorted"]))
        spark_results.add(tuple(tuple(r) for r in spark.sql(spark_sql).collect()))
    assert len(plain) > 1  # the order matters to a plain stddev_samp
    assert spark_results == {tuple(want)}


def test_a_sql_error_on_spark_is_one_clear_line(spark, rich):
    ws, _ = rich
    with pytest.raises(
        ComplementError, match=r"failed on Spark: .*compare: max_units must be at least 1, got 0"
    ) as info:
        diagnose_spark(ws, "compare", spark=spark, view_a="a", view_b="b", max_units=0)  # raise_error() in the JVM
    assert "\n" not in str(info.value)
    with pytest.raises(ComplementError, match="view 'zz' is not in the 'topk' table"):
        diagnose_spark(ws, "overlap", spark=spark, view_a="a", view_b="zz")


def test_the_library_runs_on_tables_the_caller_registered(spark, rich):
    ws, _ = rich
    registered = register_workspace(spark, ws, ["topk", "interactions", "items"])
    mine = {}
    for table, view in registered.items():
        spark.table(view).createOrReplaceTempView(f"my_{table}_v")
        mine[table] = f"my_{table}_v"
    got = diagnose_spark(None, "metrics", spark=spark, tables=mine, k=[5])
    assert_same_rows(complement.diagnose(ws, "metrics", k=[5]), got)
    with pytest.raises(ComplementError, match="pass spark=SESSION"):
        diagnose_spark(None, "metrics", tables=mine)


def test_multi_view_breaks_ties_over_four_views_as_duckdb_does(spark, tmp_path):
    from test_diagnose_lists import tied_views_ws

    ws = tied_views_ws(tmp_path)
    want = complement.diagnose(ws, "multi_view", k=2)
    assert [r["view_a"] for r in want.to_pylist() if r["statistic"] == "union_recall"] == ["a", "b", "c", "d"]
    assert_same_rows(want, diagnose_spark(ws, "multi_view", spark=spark, k=2))


@pytest.mark.parametrize(
    "name,views,params",
    [("multi_view", "a,b,c", {"views": ["a", "b", "c"]}), ("overlap", "a,b", {"view_a": "a", "view_b": "b"})],
)
def test_the_printed_spark_sql_runs_on_a_session_with_tables_registered_by_hand(
    spark, rich, capsys, name, views, params
):
    ws, _ = rich
    code, text, err = run_cli(capsys, "diagnose", "show", name, "--dialect", "spark", "--views", views, "-p", "k", "5")
    assert code == 0, err
    fresh = spark.newSession()  # its own temporary views: none of complement's
    for table in ("topk", "interactions"):
        fresh.read.parquet(*map(str, ws.table_files(table))).createOrReplaceTempView(table)
    assert_same_rows(complement.diagnose(ws, name, k=5, **params), fresh.sql(text).toArrow())


def test_check_no_seen_items_runs_on_spark_without_a_runs_table(spark, tmp_path):
    from test_diagnose_hand import seen_valid_case_without_runs

    _, bare = seen_valid_case_without_runs(tmp_path)
    want = complement.diagnose(bare, "check_no_seen_items")
    assert [(r["view"], r["item_id"]) for r in want.to_pylist()] == [("a", "i5"), ("b", "i5")]  # train+valid
    assert_same_rows(want, diagnose_spark(bare, "check_no_seen_items", spark=spark))
    mine = register_workspace(spark, bare, ["topk", "interactions"])  # the caller's tables: no runs
    assert not spark.catalog.tableExists("runs")
    assert_same_rows(want, diagnose_spark(None, "check_no_seen_items", spark=spark, tables=mine))
    got = diagnose_spark(None, "check_no_seen_items", spark=spark, tables=mine, exclude="train")
    assert got.num_rows == 0 == complement.diagnose(bare, "check_no_seen_items", exclude="train").num_rows


def test_cli_engine_spark_prints_duckdbs_rows(spark, rich, capsys):
    ws, _ = rich
    args = ["diagnose", "run", "unique_hits", "--views", "a,b", "-p", "k", "5", "-w", str(ws.root), "--format", "json"]
    code, out_duckdb, err = run_cli(capsys, *args)
    assert code == 0, err
    code, out_spark, err = run_cli(capsys, *args, "--engine", "spark", "--master", "local[2]")
    assert code == 0, err
    assert out_spark == out_duckdb


@pytest.mark.slow
def test_every_diagnostic_agrees_on_real_ml100k(spark, tmp_path):
    from test_diagnose_ml100k import real_ml100k_workspace

    ws, _, _ = real_ml100k_workspace(tmp_path)
    # a third view for multi_view: pop's and noisy's lists interleaved (pop first), repeats dropped, cut at 20
    mixed = ws.query(
        "SELECT 'mixed' AS view, user_id, row_number() OVER (PARTITION BY user_id ORDER BY slot)::INTEGER AS rank, "
        "item_id, 1.0 / row_number() OVER (PARTITION BY user_id ORDER BY slot) AS score "
        "FROM (SELECT user_id, item_id, min(2 * rank + (view = 'noisy')::INTEGER) AS slot FROM topk "
        "GROUP BY user_id, item_id) QUALIFY rank <= 20"
    )
    ws.write_table("topk", mixed, part="mixed")
    assert len(ws.parts("topk")) == 3
    ran = 0
    for diagnostic in all_diagnostics():
        if not all(ws.has_table(t) for t in diagnostic.requires):
            continue
        params = params_for(diagnostic)
        if "view_a" in params:
            params.update(view_a="pop", view_b="noisy")
        params["k"] = 20 if "k" in params else None
        params = {k: v for k, v in params.items() if v is not None}
        if "n_boot" in params:
            params["n_boot"] = 200
        assert_same_rows(
            complement.diagnose(ws, diagnostic.name, **params),
            diagnose_spark(ws, diagnostic.name, spark=spark, **params),
        )
        ran += 1
    assert ran >= 12


def test_a_local_session_gets_the_local_settings(spark):
    from complement.diagnostics.spark import local_config

    # the module's fixture started the JVM through session("local[2]"); Spark puts its own Java
    # options ahead of ours
    for key, value in local_config().items():
        assert spark.sparkContext.getConf().get(key).endswith(value)


def test_the_driver_heap_is_read_from_the_environment():
    from complement.diagnostics.spark import DRIVER_MEMORY_ENV, LOCAL_CONFIG, local_config

    assert local_config({}) == LOCAL_CONFIG
    assert local_config({DRIVER_MEMORY_ENV: "8g"})["spark.driver.memory"] == "8g"
    assert local_config({DRIVER_MEMORY_ENV: ""})["spark.driver.memory"] == LOCAL_CONFIG["spark.driver.memory"]


def test_a_file_written_over_is_refused_on_spark_as_on_duckdb(spark, tmp_path):
    import pyarrow.parquet as pq

    from complement.errors import WorkspaceError

    ws, _ = rich_workspace(tmp_path / "ws")
    path = ws.table_files("topk", "a")[0]
    pq.write_table(pq.read_table(path).slice(0, 3), path)
    for run in (
        lambda: complement.diagnose(ws, "overlap", view_a="a", view_b="b"),
        lambda: diagnose_spark(ws, "overlap", spark=spark, view_a="a", view_b="b"),
    ):
        with pytest.raises(WorkspaceError, match=r"table 'topk' \(view 'a'\) file \S+ is [\d,]+ bytes, but was"):
            run()
