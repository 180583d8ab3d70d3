"""Running a diagnostic on Apache Spark: a local session, the workspace's Parquet registered as
temporary views, the diagnostic translated by :mod:`.translate`.

``diagnose_spark(workspace, name, ...)`` reads a complement workspace; ``diagnose_spark(None, name,
spark=session, tables={"topk": "db.recs", ...})`` runs on tables the caller has registered in their
own session (columns as in the workspace tables). pyspark (>= 4.1) and Java are needed only here:
``pip install 'complement[spark]'``."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from .. import keys
from .. import tables as workspace_tables
from ..errors import ComplementError
from ..workspace import Workspace
from .headers import Diagnostic, find
from .runner import VIEW_PARAMS, bind, check_views, is_k_list, per_k
from .translate import spark_sql

DEFAULT_MASTER = "local[2]"
# temporary views of a workspace's tables are prefixed, so a session's own views of the same
# names are left alone
VIEW_PREFIX = "complement_"
RAW_PREFIX = "complement_raw_"
EMPTY_PREFIX = "complement_empty_"


def java_available() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java") or (home and os.path.exists(os.path.join(home, "bin", "java"))))


def _pyspark():
    try:
        import pyspark
        from pyspark.sql import SparkSession
    except ImportError:
        raise ComplementError("--engine spark needs pyspark >= 4.1: pip install 'complement[spark]'") from None
    if tuple(int(part) for part in re.findall(r"\d+", pyspark.__version__)[:2]) < (4, 1):  # recursive CTEs
        raise ComplementError(
            f"--engine spark needs pyspark >= 4.1, found {pyspark.__version__}: pip install 'complement[spark]'"
        )
    return SparkSession


#: Settings of a session this module starts in local mode, where one JVM is driver and executors
#: (docs/spark.md "Speed in local mode"): with pyspark's 1 GB heap a sort of 200k users' top-k rows
#: spilled 520 MB and a rerun failed to build a broadcast; G1's concurrent threads took a tenth of
#: the CPU, which the throughput collector saves; a shuffled hash join skips sorting both sides.
LOCAL_CONFIG = {
    "spark.driver.memory": "4g",
    "spark.driver.extraJavaOptions": "-XX:+UseParallelGC",
    "spark.sql.join.preferSortMergeJoin": "false",
}
DRIVER_MEMORY_ENV = "COMPLEMENT_SPARK_DRIVER_MEMORY"


def local_config(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """:data:`LOCAL_CONFIG`, the heap taken from ``$COMPLEMENT_SPARK_DRIVER_MEMORY`` when set (e.g. 8g)."""
    memory = (os.environ if environ is None else environ).get(DRIVER_MEMORY_ENV)
    return {**LOCAL_CONFIG, **({"spark.driver.memory": memory} if memory else {})}


def session(master: str = DEFAULT_MASTER) -> Any:
    """A SparkSession on ``master`` (an existing active session is reused as it is); a local master
    gets :func:`local_config`."""
    spark_session = _pyspark()
    if not java_available():
        raise ComplementError("--engine spark needs Java 17 or newer: install a JDK or set JAVA_HOME")
    builder = (
        spark_session.builder.master(master)
        .appName("complement")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
    )
    for key, value in (local_config() if master.startswith("local") else {}).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def register_workspace(spark: Any, workspace: Workspace, names: Sequence[str] | None = None) -> dict[str, str]:
    """Register each table of ``workspace`` (those in ``names``, else every existing one) as a
    temporary view over its Parquet files; return {table: view name}."""
    wanted = list(names or workspace_tables.TABLE_NAMES)
    files = {name: workspace.table_files(name) for name in workspace_tables.TABLE_NAMES}
    plan = keys.incomplete_keys({name: paths for name, paths in files.items() if name in wanted})
    # a table whose integer keys are filled at read time (complement.keys) reads every table it may key from
    reading = [name for name in workspace_tables.TABLE_NAMES if files[name] and (name in wanted or plan)]
    raw, columns = {}, {}
    for name in reading:
        view = (RAW_PREFIX if plan else VIEW_PREFIX) + name
        # the files of a partitioned table (one per view) may differ in their extra columns
        spark.read.option("mergeSchema", "true").parquet(*map(str, files[name])).createOrReplaceTempView(view)
        raw[name] = view
        if plan:
            columns[name] = keys.columns_of(files[name])
    registered = {}
    for name in reading:
        if name not in wanted:
            continue
        if plan:
            select = (
                keys.keyed_select(name, raw, columns, plan[name], quote="`")
                if name in plan
                else f"SELECT * FROM {raw[name]}"
            )
            spark.sql(select).createOrReplaceTempView(VIEW_PREFIX + name)
        registered[name] = VIEW_PREFIX + name
    return registered


def register_empty(spark: Any, name: str) -> str:
    """Register a temporary view of no rows with the columns of workspace table ``name`` (what a
    diagnostic reads for an optional table that is absent); return its name."""
    view = EMPTY_PREFIX + name
    spark.createDataFrame(workspace_tables.SCHEMAS[name].empty_table()).createOrReplaceTempView(view)
    return view


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def run_spark_sql(spark: Any, diagnostic: Diagnostic, values: Mapping[str, Any], tables: Mapping[str, str]) -> pa.Table:
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    text = spark_sql(diagnostic, values=values, tables=tables, pretty=False)
    try:
        return spark.sql(text).toArrow()
    except (PySparkException, Py4JError) as exc:  # analysis errors, and raise_error() from the JVM
        raise ComplementError(f"diagnostic '{diagnostic.name}' failed on Spark: {_spark_message(exc)}") from None


def _spark_message(exc: BaseException) -> str:
    """The first line of the innermost Java cause (a failed task's py4j error says only which call
    failed), else of the Python exception."""
    from py4j.protocol import Py4JError

    cause = getattr(exc, "java_exception", None)
    try:
        while cause is not None and cause.getCause() is not None:
            cause = cause.getCause()
        message = cause.getMessage() if cause is not None else None
    except Py4JError:
        message = None
    return _first_line(Exception(message)) if message else _first_line(exc)


def diagnose_spark(
    workspace: Workspace | str | os.PathLike | None,
    name: str,
    *,
    spark: Any = None,
    master: str = DEFAULT_MASTER,
    tables: Mapping[str, str] | None = None,
    **params: Any,
) -> pa.Table:
    """Run the diagnostic ``name`` on Spark and return its rows, as :func:`complement.diagnose` does.

    With a workspace its tables are read from their Parquet files; with ``workspace=None`` the
    diagnostic reads the tables the caller registered in ``spark`` under the names in ``tables``
    (a table not named there is read under its own name; an optional one the session lacks, such as
    ``runs?``, as an empty table). ``spark`` defaults to a session on ``master``. Example::

        diagnose_spark(None, "overlap", spark=spark, tables={"topk": "lake.recs_topk",
                       "interactions": "lake.events"}, view_a="als", view_b="text", k=20)
    """
    diagnostic = find(name)
    ks = params.get("k")
    if is_k_list(ks):
        return per_k(
            diagnostic,
            ks,
            lambda k: diagnose_spark(workspace, name, spark=spark, master=master, tables=tables, **{**params, "k": k}),
        )
    bound = bind(diagnostic, params)
    if workspace is not None:
        if not isinstance(workspace, Workspace):
            workspace = Workspace(workspace)
        workspace.require(*diagnostic.requires)
        # the stored files' contract and recorded sizes, as the DuckDB engine checks them (runner.diagnose)
        named = [v for p in VIEW_PARAMS for v in ([bound[p]] if isinstance(bound.get(p), str) else bound.get(p) or [])]
        workspace_tables.check_tables(workspace, *diagnostic.requires, views=named or None)
        check_views(workspace, diagnostic, bound)
    elif spark is None:
        raise ComplementError("diagnose_spark without a workspace reads the caller's tables: pass spark=SESSION")
    spark = spark if spark is not None else session(master)
    if workspace is not None:
        mapping = {**register_workspace(spark, workspace, diagnostic.reads), **(tables or {})}
    else:
        mapping = dict(tables or {})
    for table in diagnostic.optional:
        # an optional table neither registered nor named (nor, without a workspace, in the session
        # under its own name) is read empty
        if table not in mapping and (workspace is not None or not spark.catalog.tableExists(table)):
            mapping[table] = register_empty(spark, table)
    return run_spark_sql(spark, diagnostic, bound, mapping)
