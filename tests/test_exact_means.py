"""Every diagnostic gives the same numbers to the last bit on every run of the same workspace.

A DOUBLE avg() or sum() over many rows depends on the order DuckDB's threads happen to add them in, so the
same workspace could give a mean differing in its last digits from one run to the next. The diagnostics
average with the `exact_avg` macro (each value rounded to 18 decimals, summed as a DECIMAL, one division)
and sum per-user and bootstrap terms as DECIMALs (`metrics`' own means: tests/test_metrics_exact_means.py)."""

from __future__ import annotations

import random
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import synthetic_with_random_views

from complement import diagnose
from complement.scoring.steps import write_neighbors

SQL_DIR = Path(__file__).resolve().parent.parent / "complement" / "sql"

PAIR = {"view_a": "a-s1", "view_b": "b"}
CASES = [
    ("oracle", PAIR),
    ("overlap", PAIR),
    ("unique_hits", PAIR),
    ("who_benefits", PAIR),
    ("rank_correlation", PAIR),
    ("rbo", PAIR),
    ("user_complementarity", PAIR),
    ("item_agreement", {**PAIR, "n_perm": 5}),
    ("compare", {**PAIR, "n_boot": 200}),  # one user per unit
    ("fusion_gap", PAIR),
    ("multi_view", {}),
    ("popularity_bias", {}),
    ("coverage", {}),
    ("seed_summary", {}),
    ("compare", {**PAIR, "n_boot": 200, "max_units": 100}),
    ("by_popularity", {}),
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("exact-diagnostics") / "ws"
    ws = synthetic_with_random_views(root, ["a-s1", "a-s2", "b"], dim=8, lists_k=50, users=1500, items=400, seed=11)
    for view in ("a-s1", "b"):
        write_neighbors(ws, view, k=20, device="cpu")
    return ws


IDS = [name + ("-bucketed" if "max_units" in params else "") for name, params in CASES]


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_a_diagnostic_is_the_same_to_the_last_bit_on_every_run(ws, name, params):
    runs = {repr(diagnose(ws, name, **params).to_pylist()) for _ in range(8)}
    assert len(runs) == 1, f"{name} gave {len(runs)} different results over 8 runs of the same workspace"


def test_no_diagnostic_averages_with_a_plain_avg():
    """The class, not the examples: a diagnostic added later must use exact_avg too."""
    offenders = [
        f"{path.name}: {line.strip()}"
        for path in sorted(SQL_DIR.glob("*.sql"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r"(?<![\w])avg\(", line)
        and not line.lstrip().startswith("--")
        and not (path.name == "_macros.sql" and "ELSE avg(x)" in line)
    ]
    assert offenders == []


def _exact_avg(con, values, threads=4):
    con.execute(f"SET threads = {threads}")
    con.execute("CREATE OR REPLACE TABLE v (x DOUBLE)")
    if values:
        con.executemany("INSERT INTO v VALUES (?)", [(x,) for x in values])
    return con.execute("SELECT exact_avg(x) FROM v").fetchall()[0][0]


@pytest.fixture(scope="module")
def con():
    macros = (SQL_DIR / "_macros.sql").read_text(encoding="utf-8")
    con = duckdb.connect()
    con.execute(re.search(r"CREATE MACRO exact_avg\(x\) AS \(.*?\n\);", macros, re.S).group(0))
    return con


def test_exact_avg_is_the_rounded_decimal_mean_in_any_order(con):
    rng = random.Random(3)
    values = [rng.uniform(-5, 5) * 10 ** rng.randint(-6, 3) for _ in range(3000)]
    exact = float(sum(Decimal(x) for x in values)) / len(values)
    results = set()
    for threads in (1, 2, 4, 1, 4):
        rng.shuffle(values)
        results.add(_exact_avg(con, values, threads))
    assert len(results) == 1
    assert results.pop() == pytest.approx(exact, rel=1e-14)


def test_exact_avg_keeps_avgs_meaning_at_the_edges(con):
    assert _exact_avg(con, [1.0, None, 2.0]) == 1.5  # NULLs are skipped, as by avg
    assert _exact_avg(con, []) is None
    assert _exact_avg(con, [1.0, float("nan")]) != _exact_avg(con, [1.0, float("nan")])  # NaN, as avg gives
    assert _exact_avg(con, [1.0, float("inf")]) == float("inf")
    assert _exact_avg(con, [1e12, 3.0]) == pytest.approx(5e11 + 1.5)  # too large for the DECIMAL sum: avg()
    assert _exact_avg(con, [-0.25, 0.75]) == 0.25
