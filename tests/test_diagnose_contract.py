"""Contract of every diagnostic .sql file: its header, its bindings, and that it runs on a small
workspace with its default parameters (plus the views it compares)."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest
import reference_metrics as ref

import complement
from complement.diagnostics.headers import SQL_DIR, builtin_paths, load, used_bindings

ALL_FILES = builtin_paths()


@pytest.fixture(scope="module")
def fixture_ws(tmp_path_factory):
    case = ref.random_case(seed=7, views=("a", "b", "c"))
    ws = ref.write_case(tmp_path_factory.mktemp("contract"), case)
    rng = np.random.default_rng(0)
    for view in ("a", "b"):
        ws.write_vectors(view, "item", case["items"], rng.normal(size=(len(case["items"]), 4)))
    ws.write_table(
        "probes",
        pa.table(
            {
                "run_id": ["r1"] * 4,
                "source": ["a"] * 4,
                "target": ["b"] * 4,
                "mapper": ["linear"] * 4,
                "shift": ["random"] * 4,
                "item_set": ["fit", "fit", "held_out", "held_out"],
                "metric": ["r2"] * 4,
                "value": [0.2, 0.3, 0.1, 0.05],
                "seed": [0, 1, 0, 1],
            }
        ),
        part="r1",
    )
    return ws


def test_every_builtin_is_discovered_and_macros_are_not():
    names = {d.name for d in complement.list_diagnostics()}
    assert {
        "metrics",
        "per_user_metrics",
        "overlap",
        "user_complementarity",
        "unique_hits",
        "oracle",
        "by_popularity",
        "item_agreement",
        "coverage",
        "check_topk_ranks",
        "check_no_seen_items",
        "check_split_disjoint",
        "check_embeddings_finite",
    } <= names
    assert "_macros" not in names


@pytest.mark.parametrize("path", ALL_FILES, ids=[p.stem for p in ALL_FILES])
def test_header_name_is_file_stem_and_params_match_bindings(path):
    diagnostic = load(path)
    assert diagnostic.name == path.stem
    assert diagnostic.description
    assert diagnostic.returns
    declared = {p.name for p in diagnostic.params}
    assert used_bindings(diagnostic.sql) == declared, (
        f"declared {sorted(declared)}, used {sorted(used_bindings(diagnostic.sql))}"
    )


@pytest.mark.parametrize("path", ALL_FILES, ids=[p.stem for p in ALL_FILES])
def test_every_diagnostic_runs_with_default_params(fixture_ws, path):
    diagnostic = load(path)
    params = {}
    declared = {p.name for p in diagnostic.params}
    if {"view_a", "view_b"} <= declared:
        params = {"view_a": "a", "view_b": "b"}
    table = complement.diagnose(fixture_ws, str(path), **params).table()
    assert isinstance(table, pa.Table)
    if diagnostic.is_check:
        assert table.num_rows == 0, table.to_pylist()[:3]
    else:
        assert table.num_rows > 0


def test_builtin_name_and_path_give_the_same_rows(fixture_ws):
    by_name = complement.diagnose(fixture_ws, "overlap", view_a="a", view_b="b")
    by_path = complement.diagnose(fixture_ws, str(SQL_DIR / "overlap.sql"), view_a="a", view_b="b")
    # DuckDB's parallel avg may differ in the last bit between two runs of the same query
    assert by_name.column_names == by_path.column_names
    for got, want in zip(by_name.to_pylist(), by_path.to_pylist(), strict=True):
        for column, value in want.items():
            assert got[column] == (pytest.approx(value, rel=1e-12) if isinstance(value, float) else value)


def test_macros_file_is_only_macros():
    import duckdb

    text = (SQL_DIR / "_macros.sql").read_text()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    statements = [" ".join(s.query.split()) for s in duckdb.extract_statements(code)]
    assert statements and all(s.upper().startswith("CREATE MACRO ") for s in statements)


# ---- integer keys -----------------------------------------------------------------------------
_ID = r"\b(?:user_id|item_id|neighbor_id)\b"
_KEYED_CLAUSES = (
    re.compile(r"\bGROUP\s+BY\b(.*?)(?=\bHAVING\b|\bORDER\b|\bUNION\b|\)|;|$)", re.I | re.S),
    re.compile(r"\bPARTITION\s+BY\b(.*?)(?=\bORDER\b|\))", re.I | re.S),
    re.compile(r"\bUSING\s*\(([^)]*)\)", re.I),
    re.compile(r"\bON\b(.*?)(?=\b(?:LEFT|RIGHT|INNER|SEMI|ANTI|CROSS|JOIN|WHERE|GROUP|ORDER)\b|\)|;|$)", re.I | re.S),
)


def id_keyed_clauses(sql: str) -> list[str]:
    """The GROUP BY / PARTITION BY / USING / ON clauses of ``sql`` that name a string id."""
    code = re.sub(r"--[^\n]*|'(?:[^']|'')*'", " ", sql)
    return [m.group(0).strip() for p in _KEYED_CLAUSES for m in p.finditer(code) if re.search(_ID, m.group(1))]


@pytest.mark.parametrize("path", [*ALL_FILES, SQL_DIR / "_macros.sql"], ids=lambda p: p.stem)
def test_joins_and_groupings_use_the_integer_keys_not_the_string_ids(path):
    assert id_keyed_clauses(path.read_text()) == []


def test_the_key_check_finds_a_join_or_grouping_on_string_ids():
    sql = (
        "SELECT a.user_id FROM topk a JOIN topk b ON b.item_id = a.item_id\n"
        "LEFT JOIN x USING (user_id) GROUP BY a.user_id, a.view ORDER BY a.user_id"
    )
    found = id_keyed_clauses(sql)
    assert len(found) == 3 and any("USING" in f for f in found) and any("GROUP BY" in f for f in found)
    assert id_keyed_clauses("SELECT any_value(user_id) FROM t GROUP BY user_idx ORDER BY user_id") == []
