"""A small synthetic workspace holding every table the diagnostics read, with planted audit
findings (so the checks return rows), and the parameters that run each diagnostic on it.
Shared by the standalone-SQL and Spark tests, which compare engines on every diagnostic found in
complement/sql/ (a new .sql file is covered without editing them)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import reference_metrics as ref

from complement.diagnostics import list_diagnostics

K = 8
VIEWS = ("a", "b", "c")


def rich_workspace(path, seed: int = 3, n_users: int = 40, n_items: int = 30):
    """random_case's tables plus embeddings (one NaN vector, one of the wrong size), probes, a
    pair in two splits, a seen item in view c's lists, and view b recorded as masking train+valid
    (its lists hold valid items: check_no_seen_items finds them)."""
    case = ref.random_case(seed=seed, n_users=n_users, n_items=n_items, k=K, views=VIEWS)
    user, item = case["users"][0], case["items"][0]
    case["interactions"] = case["interactions"] + [(user, item, "train"), (user, item, "test")]
    seen = next(i for u, i, s in case["interactions"] if u == case["users"][1] and s == "train")
    case["lists"]["c"][case["users"][1]] = [seen] + [
        i for i in case["lists"]["c"].get(case["users"][1], []) if i != seen
    ]
    case["exclude"] = {"b": "train+valid"}  # check_no_seen_items audits b's valid items, a's and c's not
    ws = ref.write_case(path, case)
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n_items, 4)).astype(np.float32)
    vectors[2, 1] = math.nan
    ws.write_vectors("a", "item", case["items"], vectors)
    ws.write_vectors("b", "item", case["items"][:5], rng.normal(size=(5, 3)))
    rows = [
        ("run1", "a", "b", mapper, "none", "all", metric, float(rng.random()), s)
        for mapper in ("cca", "linear")
        for metric in ("r2", "cos")
        for s in range(3)
    ]
    ws.write_table(
        "probes",
        pa.table(
            {
                name: [r[n] for r in rows]
                for n, name in enumerate(
                    ("run_id", "source", "target", "mapper", "shift", "item_set", "metric", "value", "seed")
                )
            }
        ),
        part="run1",
    )
    return ws, case


def params_for(diagnostic) -> dict:
    """Parameters that run ``diagnostic`` on :func:`rich_workspace` (small n_boot / n_perm)."""
    declared = {p.name for p in diagnostic.params}
    params = {}
    if {"view_a", "view_b"} <= declared:
        params.update(view_a="a", view_b="b")
    if "k" in declared:
        params["k"] = K
    if "n_boot" in declared:
        params["n_boot"] = 40
    if "n_perm" in declared:
        params["n_perm"] = 5
    return params


def all_diagnostics():
    return list_diagnostics()


def assert_same_rows(want: pa.Table, got: pa.Table, tol: float = 1e-9) -> None:
    """Same column names, same rows in the same order, numbers equal to ``tol``."""
    assert got.column_names == want.column_names
    want_rows, got_rows = want.to_pylist(), got.to_pylist()
    assert len(got_rows) == len(want_rows)
    for w, g in zip(want_rows, got_rows, strict=True):
        for column, expected in w.items():
            value = g[column]
            if isinstance(expected, float) and value is not None:
                assert (math.isnan(expected) and math.isnan(value)) or abs(value - expected) <= tol, (
                    column,
                    expected,
                    value,
                )
            else:
                assert value == expected, (column, expected, value)
