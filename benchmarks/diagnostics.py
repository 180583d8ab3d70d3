"""Speed of the complementarity diagnostics: our SQL vs a per-user Python set loop vs pandas.

Builds a synthetic workspace (default 1,000,000 users x K=20 x 2 views, 1-4 test items per user)
and times `overlap`, `unique_hits` and `oracle` three ways in one run, checking that all three
agree. Usage::

    python benchmarks/diagnostics.py [--users 1000000] [--items 50000] [--k 20] [--dir /tmp/bench-ws]

The SQL time includes reading the Parquet tables; the loop and pandas times are compute only,
from data already in memory (their load times are printed separately), so the ratios favour them.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import complement
from complement.workspace import Workspace

DIAGNOSTICS = ("overlap", "unique_hits", "oracle")
USERS_PER_CHUNK = 1_000_000


def _ids(prefix: str, numbers: np.ndarray, width: int, chunk: int = 10_000_000) -> pa.ChunkedArray:
    """Zero-padded string ids, built in chunks: one 32-bit-offset string array holds at most 2 GiB of
    text, which 10M users x K = 20 rows pass."""
    parts = []
    for start in range(0, max(len(numbers), 1), chunk):
        text = pc.utf8_lpad(pa.array(numbers[start : start + chunk]).cast(pa.string()), width, "0")
        parts.append(pc.binary_join_element_wise(pa.scalar(prefix), text, ""))
    return pa.chunked_array(parts, type=pa.string())


def build(path: Path, n_users: int, n_items: int, k: int, seed: int = 0) -> Workspace:
    """Write items, users, test interactions and two views' top-k lists (about 20% shared)."""
    rng = np.random.default_rng(seed)
    # Items sorted by popularity: position 0 is the most popular; Zipf-like train counts.
    n_train = np.maximum(1, (2000 / (1 + np.arange(n_items)) ** 0.9).astype(np.int64))
    q60, q80 = np.quantile(n_train, 0.6), np.quantile(n_train, 0.8)
    pop_group = np.where(n_train <= q60, "cold", np.where(n_train > q80, "hot", "mid"))
    ws = Workspace(path)
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": _ids("i", np.arange(n_items), 6),
                "item_idx": np.arange(n_items, dtype=np.int32),
                "title": pa.nulls(n_items, pa.string()),
                "text": pa.nulls(n_items, pa.string()),
                "n_train": n_train.astype(np.int32),
                "pop_group": pa.array(pop_group),
            }
        ),
    )
    ws.write_table(
        "users",
        pa.table(
            {
                "user_id": _ids("u", np.arange(n_users), 7),
                "user_idx": np.arange(n_users, dtype=np.int32),
                "n_train": rng.integers(5, 200, n_users).astype(np.int32),
            }
        ),
    )
    # View A: strictly increasing positions from a popularity-skewed start, so a list has no repeats.
    start = (rng.pareto(1.2, n_users) * 200).astype(np.int64) % n_items
    steps = rng.integers(1, 60, (n_users, k)).cumsum(axis=1)
    pos_a = (start[:, None] + steps) % n_items
    # View B: keeps ~20% of A's slots, the rest shifted half a catalogue away (no repeats either).
    keep = rng.random((n_users, k)) < 0.2
    pos_b = np.where(keep, pos_a, (pos_a + n_items // 2) % n_items)
    # Each view is written in chunks of users (one transaction, one entry of several files), so the
    # generator's memory stays flat in the number of users.
    chunk = max(1, USERS_PER_CHUNK)
    for view, pos in (("view_a", pos_a), ("view_b", pos_b)):
        with ws.transaction(view=view):
            for lo in range(0, n_users, chunk):
                hi = min(n_users, lo + chunk)
                users = np.repeat(np.arange(lo, hi), k)
                ranks = np.tile(np.arange(1, k + 1, dtype=np.int32), hi - lo)
                ws.write_table(
                    "topk",
                    pa.table(
                        {
                            "view": pa.repeat(view, len(users)),
                            "user_id": _ids("u", users, 7),
                            "rank": ranks,
                            "item_id": _ids("i", pos[lo:hi].ravel(), 6),
                            "score": (1.0 / ranks).astype(np.float64),
                        }
                    ),
                    part=view,
                    append=True,
                )
    # Test items: 1-4 per user, a quarter from A's list, a quarter from B's, the rest anywhere.
    n_test = rng.integers(1, 5, n_users)
    test_user = np.repeat(np.arange(n_users), n_test)
    source = rng.random(len(test_user))
    slot = rng.integers(0, k, len(test_user))
    anywhere = (rng.pareto(1.0, len(test_user)) * 300).astype(np.int64) % n_items
    test_pos = np.where(source < 0.25, pos_a[test_user, slot], np.where(source < 0.5, pos_b[test_user, slot], anywhere))
    n = len(test_user)
    ws.write_table(
        "interactions",
        pa.table(
            {
                "user_id": _ids("u", test_user, 7),
                "item_id": _ids("i", test_pos, 6),
                "ts": pa.nulls(n, pa.int64()),
                "rating": pa.nulls(n, pa.float64()),
                "split": pa.array(np.full(n, "test")),
            }
        ),
    )
    return ws


# ---- the per-user Python loop (how research scripts compute it) --------------------------------
def _read(ws: Workspace, name: str, columns: list[str] | None = None, part: str | None = None) -> pa.Table:
    """Every file of a table (or of one view): a large view is stored as several user-bucket files."""
    import pyarrow.parquet as pq

    return pa.concat_tables([pq.read_table(path, columns=columns) for path in ws.table_files(name, part)])


def load_python(ws: Workspace, k: int):
    """{user: [items by rank]} per view, {user: set(test items)}, {item: (n_train, pop_group)}."""

    lists = {}
    for view in ("view_a", "view_b"):
        t = _read(ws, "topk", ["user_id", "rank", "item_id"], part=view).sort_by(
            [("user_id", "ascending"), ("rank", "ascending")]
        )
        by_user: dict = {}
        for u, i in zip(t.column("user_id").to_pylist(), t.column("item_id").to_pylist(), strict=True):
            by_user.setdefault(u, []).append(i)
        lists[view] = {u: items[:k] for u, items in by_user.items()}
    t = _read(ws, "interactions", ["user_id", "item_id", "split"])
    truth: dict = {}
    for u, i, s in zip(
        t.column("user_id").to_pylist(), t.column("item_id").to_pylist(), t.column("split").to_pylist(), strict=True
    ):
        if s == "test":
            truth.setdefault(u, set()).add(i)
    t = _read(ws, "items", ["item_id", "n_train", "pop_group"])
    items = dict(
        zip(
            t.column("item_id").to_pylist(),
            zip(t.column("n_train").to_pylist(), t.column("pop_group").to_pylist(), strict=True),
            strict=True,
        )
    )
    return lists["view_a"], lists["view_b"], truth, items


def loop_overlap(a, b, truth, k):
    jaccard = []
    for u in truth:
        sa, sb = set(a.get(u, ())), set(b.get(u, ()))
        union = sa | sb
        if union:
            jaccard.append(len(sa & sb) / len(union))
    return {"mean_jaccard": sum(jaccard) / len(jaccard)}


def loop_unique_hits(a, b, truth, items, k):
    common = a_only = b_only = 0
    for u, t in truth.items():
        ha, hb = set(a.get(u, ())) & t, set(b.get(u, ())) & t
        common += len(ha & hb)
        a_only += len(ha - hb)
        b_only += len(hb - ha)
    return {"common": common, "a_only": a_only, "b_only": b_only}


def loop_oracle(a, b, truth, items, k):
    sums: dict = {}
    for u, t in truth.items():
        sa, sb = set(a.get(u, ())), set(b.get(u, ()))
        scopes = {"all": t}
        for i in t:
            group = items.get(i, (0, None))[1]
            if group is not None:
                scopes.setdefault(group, set()).add(i)
        for group, tg in scopes.items():
            ha, hb, hu = len(sa & tg), len(sb & tg), len((sa | sb) & tg)
            s = sums.setdefault(group, [0, 0.0, 0.0, 0.0, 0.0])
            s[0] += 1
            s[1] += ha / len(tg)
            s[2] += hb / len(tg)
            s[3] += min(hu, k) / len(tg)
            s[4] += max(ha, hb) / len(tg)
    n, _, _, uk, bv = sums["all"]
    return {"union_at_k": uk / n, "best_view": bv / n}


# ---- pandas -------------------------------------------------------------------------------------
def load_pandas(ws: Workspace):
    import pandas as pd  # noqa: F401  (benchmark-only dependency)

    topk = _read(ws, "topk").to_pandas()
    test = _read(ws, "interactions").to_pandas()
    test = test.loc[test["split"] == "test", ["user_id", "item_id"]].drop_duplicates()
    items = _read(ws, "items", ["item_id", "n_train", "pop_group"]).to_pandas()
    return topk, test, items


def pandas_overlap(topk, test, k):
    top = topk[topk["rank"] <= k]
    a, b = top[top["view"] == "view_a"], top[top["view"] == "view_b"]
    common = a.merge(b, on=["user_id", "item_id"]).groupby("user_id").size()
    sizes = top.groupby(["user_id", "view"]).size().unstack(fill_value=0)
    users = test["user_id"].drop_duplicates()
    sizes = sizes.reindex(users, fill_value=0)
    common = common.reindex(users, fill_value=0)
    union = sizes["view_a"] + sizes["view_b"] - common
    jaccard = (common / union.where(union > 0)).dropna()
    return {"mean_jaccard": float(jaccard.mean())}


def _pandas_hits(topk, test, k):
    top = topk.loc[topk["rank"] <= k, ["view", "user_id", "item_id"]]
    hits = top.merge(test, on=["user_id", "item_id"])
    flags = hits.assign(side=hits["view"].map({"view_a": 1, "view_b": 2})).groupby(["user_id", "item_id"])["side"].sum()
    return flags.reset_index()


def pandas_unique_hits(topk, test, items, k):
    flags = _pandas_hits(topk, test, k)
    counts = flags["side"].value_counts()
    return {"common": int(counts.get(3, 0)), "a_only": int(counts.get(1, 0)), "b_only": int(counts.get(2, 0))}


def pandas_oracle(topk, test, items, k):
    flags = _pandas_hits(topk, test, k)
    per_user = flags.assign(a=(flags["side"] & 1) > 0, b=(flags["side"] & 2) > 0).groupby("user_id")[["a", "b"]].sum()
    per_user["u"] = flags.groupby("user_id").size()
    n_test = test.groupby("user_id").size().rename("n")
    frame = per_user.reindex(n_test.index, fill_value=0).join(n_test)
    union_at_k = (frame["u"].clip(upper=k) / frame["n"]).mean()
    best_view = (frame[["a", "b"]].max(axis=1) / frame["n"]).mean()
    return {"union_at_k": float(union_at_k), "best_view": float(best_view)}


# ---- the run --------------------------------------------------------------------------------------
CPU_SECONDS: dict = {}


def _timed(fn, *args):
    """Wall seconds and result; the process CPU seconds go to CPU_SECONDS (less sensitive to a busy machine)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    CPU_SECONDS[id(result)] = time.process_time() - cpu
    return time.perf_counter() - start, result


def _close(x, y) -> bool:
    return abs(x - y) <= 1e-9 * max(1.0, abs(x))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=None, help="workspace folder (default: a temporary one)")
    parser.add_argument("--skip-pandas", action="store_true")
    args = parser.parse_args(argv)
    root = args.dir or Path(tempfile.mkdtemp(prefix="complement-bench-"))
    k = args.k
    print(f"building {args.users:,} users x K={k} x 2 views in {root} ...", file=sys.stderr, flush=True)
    seconds, ws = _timed(build, root, args.users, args.items, k)
    print(f"built in {seconds:.1f} s", file=sys.stderr, flush=True)
    views = {"view_a": "view_a", "view_b": "view_b", "k": k}
    sql = {name: _timed(lambda n: complement.diagnose(ws, n, **views), name) for name in DIAGNOSTICS}
    for name, (s, _) in sql.items():
        print(f"sql {name}: {s:.2f} s", file=sys.stderr, flush=True)
    load_loop, (a, b, truth, items) = _timed(load_python, ws, k)
    print(f"loop load: {load_loop:.1f} s", file=sys.stderr, flush=True)
    loop = {
        "overlap": _timed(loop_overlap, a, b, truth, k),
        "unique_hits": _timed(loop_unique_hits, a, b, truth, items, k),
        "oracle": _timed(loop_oracle, a, b, truth, items, k),
    }
    for name, (s, _) in loop.items():
        print(f"loop {name}: {s:.2f} s", file=sys.stderr, flush=True)
    del a, b, truth, items
    pandas = {}
    load_pd = math.nan
    if not args.skip_pandas:
        load_pd, (topk, test, items_pd) = _timed(load_pandas, ws)
        pandas = {
            "overlap": _timed(pandas_overlap, topk, test, k),
            "unique_hits": _timed(pandas_unique_hits, topk, test, items_pd, k),
            "oracle": _timed(pandas_oracle, topk, test, items_pd, k),
        }
        print(f"pandas load: {load_pd:.1f} s", file=sys.stderr, flush=True)
        for name, (s, _) in pandas.items():
            print(f"pandas {name}: {s:.2f} s", file=sys.stderr, flush=True)
    # The three ways must agree before their times mean anything.
    ov, uh, orc = (sql[n][1].to_pylist() for n in DIAGNOSTICS)
    expected = {
        "overlap": {"mean_jaccard": next(r["mean"] for r in ov if r["statistic"] == "jaccard")},
        "unique_hits": {key: uh[0][key] for key in ("common", "a_only", "b_only")},
        "oracle": {key: next(r[key] for r in orc if r["pop_group"] == "all") for key in ("union_at_k", "best_view")},
    }
    for way, results in (("loop", loop), ("pandas", pandas)):
        for name, (_, got) in results.items():
            for key, value in expected[name].items():
                if not _close(value, got[key]):
                    print(f"MISMATCH {way} {name} {key}: sql {value} vs {got[key]}", file=sys.stderr)
                    return 1
    print(
        "| diagnostic | SQL (s, incl. Parquet read) | Python loop (s, compute) | pandas (s, compute) | "
        "loop / SQL | pandas / SQL |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    total = {"sql": 0.0, "loop": 0.0, "pandas": 0.0}
    for name in DIAGNOSTICS:
        s, lp = sql[name][0], loop[name][0]
        p = pandas[name][0] if pandas else math.nan
        total["sql"] += s
        total["loop"] += lp
        total["pandas"] += p
        print(f"| {name} | {s:.2f} | {lp:.2f} | {p:.2f} | {lp / s:.1f}x | {p / s:.1f}x |")
    s, lp, p = total["sql"], total["loop"], total["pandas"]
    print(f"| **total** | {s:.2f} | {lp:.2f} | {p:.2f} | {lp / s:.1f}x | {p / s:.1f}x |")

    def cpu(results: dict) -> float:
        return sum(CPU_SECONDS.get(id(r), math.nan) for _, r in results.values()) if results else math.nan

    cs, cl, cp = cpu(sql), cpu(loop), cpu(pandas)
    print(f"| total, process CPU s | {cs:.2f} | {cl:.2f} | {cp:.2f} | {cl / cs:.1f}x | {cp / cs:.1f}x |")
    print(
        f"| total incl. one load | {s:.2f} | {lp + load_loop:.2f} | {p + load_pd:.2f} | {(lp + load_loop) / s:.1f}x | "
        f"{(p + load_pd) / s:.1f}x |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
