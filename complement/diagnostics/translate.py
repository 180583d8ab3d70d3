"""A diagnostic in Spark SQL: the rendered statement (macros as CTEs) translated by sqlglot, plus the
few rewrites sqlglot does not make. docs/spark.md lists them; tests/test_spark_translate.py has one
test per rewrite.

REWRITES, in the order they apply:

- ``AS MATERIALIZED (`` -> ``AS (``: a DuckDB planner hint that sqlglot cannot parse; Spark plans
  CTEs its own way (text rewrite before parsing).
- ``hash60(text)`` -> ``CAST(conv(substr(md5(text), 1, 15), 16, 10) AS BIGINT)``: the shared hash
  (``_macros.sql``); DuckDB reads the hex digits with a ``'0x' ||`` cast that Spark lacks.
- ``quantile_cont(x, p)`` -> ``percentile(x, p)``: both interpolate linearly between order
  statistics; sqlglot writes ``percentile_cont(x, p)``, which Spark refuses.
- ``std_sorted(x)`` -> an ``aggregate`` over ``array_sort(collect_list(x))`` that runs DuckDB's own update
  (Welford's: count, mean, sum of squared differences) over the sorted values, so Spark gives the same
  bits in any row order, and the same bits as DuckDB (``stddev_samp`` added in the order its tasks meet).
- ``error(message)`` -> ``raise_error(message)``.
- ``list_sum(list)`` -> ``aggregate(list, CAST(0 AS DOUBLE), (acc, x) -> acc + x)``.
- ``isfinite(x)`` -> ``(NOT isnan(x) AND abs(x) <> CAST('Infinity' AS DOUBLE))``.
- workspace table names -> the names the caller gives (``tables={"topk": "db.recs"}``).

The text avoids what sqlglot would translate wrongly rather than rewriting it: ``array_length``,
not ``len`` (which becomes string ``LENGTH``), on lists; ``unnest(generate_series(1, n))``, not
``range(1, n + 1) r(n)``; CASTs on both sides of a ``concat_ws`` of numbers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import ComplementError
from .headers import Diagnostic
from .render import render
from .sqltext import header_and_body
from .standalone import inline_params

# scalar macros left as calls by render() because their Spark form differs (see _hash60)
ENGINE_MACROS = ("hash60", "std_sorted")

# DuckDB's stddev_samp update (count n, mean m, sum of squared differences d2; NULL below two values), over the
# values in sorted order: the same result whatever order the rows arrive in
_STD_SORTED = (
    "aggregate(array_sort(collect_list(CAST(_x AS DOUBLE))),"
    " named_struct('n', CAST(0 AS DOUBLE), 'm', CAST(0 AS DOUBLE), 'd2', CAST(0 AS DOUBLE)),"
    " (s, v) -> named_struct('n', s.n + 1, 'm', s.m + (v - s.m) / (s.n + 1),"
    " 'd2', s.d2 + (v - (s.m + (v - s.m) / (s.n + 1))) * (v - s.m)),"
    " s -> CASE WHEN s.n > 1 THEN sqrt(s.d2 / (s.n - 1)) END)"
)

_MATERIALIZED = re.compile(r"\bAS\s+(?:NOT\s+)?MATERIALIZED\s*\(", re.IGNORECASE)


def _sqlglot():
    try:
        import sqlglot
        from sqlglot import exp
    except ImportError:
        raise ComplementError(
            "translating a diagnostic to Spark SQL needs sqlglot: pip install 'sqlglot>=30'"
        ) from None
    return sqlglot, exp


def _spark_template(text: str, placeholder: str, arg: Any) -> Any:
    """The Spark expression ``text`` with every column named ``placeholder`` replaced by (a copy of) ``arg``."""
    sqlglot, exp = _sqlglot()
    return sqlglot.parse_one(text, read="spark").transform(
        lambda n: arg.copy() if isinstance(n, exp.Column) and n.name == placeholder else n
    )


def _rewrite_node(node: Any, exp: Any, tables: Mapping[str, str], cte_names: set[str]) -> Any:
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        args = node.expressions
        if name == "hash60" and len(args) == 1:
            digits = exp.func("substr", exp.func("md5", args[0]), exp.Literal.number(1), exp.Literal.number(15))
            converted = exp.Anonymous(this="conv", expressions=[digits, exp.Literal.number(16), exp.Literal.number(10)])
            return exp.cast(converted, "BIGINT")
        if name == "std_sorted" and len(args) == 1:
            return _spark_template(_STD_SORTED, "_x", args[0])
        if name == "error":
            return exp.Anonymous(this="raise_error", expressions=args)
        if name == "list_sum" and len(args) == 1:
            return _spark_template("aggregate(_list, CAST(0 AS DOUBLE), (acc, x) -> acc + x)", "_list", args[0])
        if name == "isfinite" and len(args) == 1:
            value = args[0]
            return exp.paren(
                exp.and_(
                    exp.not_(exp.Anonymous(this="isnan", expressions=[value.copy()])),
                    exp.NEQ(
                        this=exp.Abs(this=value.copy()), expression=exp.cast(exp.Literal.string("Infinity"), "DOUBLE")
                    ),
                )
            )
    if isinstance(node, exp.PercentileCont):
        return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
    if isinstance(node, exp.Table) and tables and not node.args.get("db"):
        name = node.name.lower()
        if name in tables and name not in cte_names:
            target = exp.to_table(tables[name], dialect="spark")
            if node.alias:
                target.set("alias", node.args.get("alias"))
            else:
                target.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
            return target
    return node


def to_spark(sql: str, tables: Mapping[str, str] | None = None, pretty: bool = True) -> str:
    """Translate one DuckDB statement that uses no macros (see :func:`render`) to Spark SQL.
    ``$name`` bindings left in it become Spark ``:name`` parameter markers."""
    sqlglot, exp = _sqlglot()
    text = _MATERIALIZED.sub("AS (", sql)
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ComplementError(f"cannot translate the diagnostic to Spark SQL: {first}") from None
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    lowered = {k.lower(): v for k, v in (tables or {}).items()}
    tree = tree.transform(lambda node: _rewrite_node(node, exp, lowered, cte_names))
    return tree.sql(dialect="spark", pretty=pretty)


def spark_sql(
    diagnostic: Diagnostic,
    values: Mapping[str, Any] | None = None,
    tables: Mapping[str, str] | None = None,
    pretty: bool = True,
) -> str:
    """The Spark SQL of ``diagnostic``: its parameters with a value in ``values`` inlined as typed
    literals, the others left as ``:name`` markers; the workspace table names mapped by ``tables``."""
    rendered = render(diagnostic.sql, keep=ENGINE_MACROS)
    types = {p.name: p.type for p in diagnostic.params}
    if values:
        rendered = inline_params(rendered, {k: v for k, v in values.items() if k in types}, types)
    header, statement = header_and_body(rendered)
    # the header stays as the file's -- lines (sqlglot would turn it into /* */ comments)
    return header + to_spark(statement, tables=tables, pretty=pretty)
