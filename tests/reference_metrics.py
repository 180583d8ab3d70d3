"""An independent, plain-Python implementation of the diagnostics (sets and loops, no SQL), and
builders of small random workspaces. The SQL in complement/sql is tested against these.

Written from docs/design.md's definitions only: lists are dicts {user: [item at rank 1, rank 2, ...]},
truth is {user: set(test items)}, evaluated users are those with a non-empty truth set."""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics

import numpy as np
import pyarrow as pa

from complement.runs import RunRecord, append_run
from complement.workspace import Workspace

POP_GROUPS = ("cold", "mid", "hot")


# ---- per-user metrics ------------------------------------------------------------------------
def user_metrics(ranked: list[str], truth: set[str], k: int) -> dict[str, float]:
    """Recall, precision, hit, NDCG (binary gains, IDCG over min(|T|, k)) and RR of one list."""
    top = []
    for item in ranked[:k]:
        if item not in top:
            top.append(item)
    hits = [position for position, item in enumerate(top, start=1) if item in truth]
    dcg = sum(1.0 / math.log2(position + 1) for position in hits)
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(truth), k) + 1))
    return {
        "hits": len(hits),
        "recall": len(hits) / len(truth),
        "precision": len(hits) / k,
        "hit": 1.0 if hits else 0.0,
        "ndcg": dcg / idcg,
        "rr": 1.0 / hits[0] if hits else 0.0,
    }


def metrics(lists: dict[str, list[str]], truth: dict[str, set[str]], k: int) -> dict[str, float]:
    """Mean of the per-user metrics over evaluated users; a user without a list scores 0."""
    rows = [user_metrics(lists.get(u, []), t, k) for u, t in truth.items() if t]
    names = ("recall", "precision", "hit", "ndcg", "rr")
    return {"n_users": len(rows), **{n: sum(r[n] for r in rows) / len(rows) for n in names}}


def restrict(truth: dict[str, set[str]], group_of: dict[str, str], group: str) -> dict[str, set[str]]:
    """Truth restricted to the items of ``group`` ('all' keeps everything); empty users dropped."""
    if group == "all":
        return {u: set(t) for u, t in truth.items() if t}
    kept = {u: {i for i in t if group_of.get(i) == group} for u, t in truth.items()}
    return {u: t for u, t in kept.items() if t}


def top_set(lists, user, k):
    return set(lists.get(user, [])[:k])


# ---- two-view diagnostics --------------------------------------------------------------------
def overlap(lists_a, lists_b, truth, k):
    """Per evaluated user Jaccard (None when both lists are empty) and overlap@k; mean and quartiles."""
    jaccards, overlaps = [], []
    for u, t in truth.items():
        if not t:
            continue
        a, b = top_set(lists_a, u, k), top_set(lists_b, u, k)
        if a | b:
            jaccards.append(len(a & b) / len(a | b))
        overlaps.append(len(a & b) / k)

    def summary(values):
        q = np.percentile(values, [25, 50, 75]) if values else [None] * 3
        return {
            "n_users": len(values),
            "mean": sum(values) / len(values) if values else None,
            "q25": q[0],
            "median": q[1],
            "q75": q[2],
        }

    return {"jaccard": summary(jaccards), "overlap_at_k": summary(overlaps)}


def user_complementarity(lists_a, lists_b, truth, user_n_train, k):
    groups = {g: [] for g in ("both", "a_only", "b_only", "none")}
    for u, t in truth.items():
        if not t:
            continue
        hit_a, hit_b = bool(top_set(lists_a, u, k) & t), bool(top_set(lists_b, u, k) & t)
        group = "both" if hit_a and hit_b else "a_only" if hit_a else "b_only" if hit_b else "none"
        groups[group].append(u)
    n = sum(len(v) for v in groups.values())
    return {
        g: {
            "n_users": len(us),
            "share": len(us) / n,
            "mean_log_train": sum(math.log1p(user_n_train[u]) for u in us) / len(us) if us else None,
        }
        for g, us in groups.items()
    }


def unique_hits(lists_a, lists_b, truth, item_n_train, k):
    found = {"common": [], "a_only": [], "b_only": []}
    for u, t in truth.items():
        h_a, h_b = top_set(lists_a, u, k) & t, top_set(lists_b, u, k) & t
        found["common"] += sorted(h_a & h_b)
        found["a_only"] += sorted(h_a - h_b)
        found["b_only"] += sorted(h_b - h_a)
    total = sum(len(v) for v in found.values())
    out = {g: len(v) for g, v in found.items()}
    for g, items in found.items():
        out[f"share_{g}"] = len(items) / total if total else None
        out[f"log_pop_{g}"] = sum(math.log1p(item_n_train[i]) for i in items) / len(items) if items else None
    out["complementary_hit_ratio"] = (out["a_only"] + out["b_only"]) / total if total else None
    return out


def oracle(lists_a, lists_b, truth, group_of, k):
    """Per pop_group ('all' and each group with evaluated users): the oracle bounds and gains."""
    result = {}
    for group in ("all", *POP_GROUPS):
        scoped = restrict(truth, group_of, group)
        if not scoped:
            continue
        rows = []
        for u, t in scoped.items():
            a, b = top_set(lists_a, u, k), top_set(lists_b, u, k)
            ha, hb, hu = len(a & t), len(b & t), len((a | b) & t)
            rows.append((ha / len(t), hb / len(t), hu / len(t), min(hu, k) / len(t), max(ha, hb) / len(t)))
        means = [sum(col) / len(rows) for col in zip(*rows, strict=True)]
        best_single = max(means[0], means[1])
        result[group] = {
            "n_users": len(rows),
            "recall_a": means[0],
            "recall_b": means[1],
            "best_single": best_single,
            "union": means[2],
            "union_at_k": means[3],
            "best_view": means[4],
            "union_gain": means[2] - best_single,
            "union_at_k_gain": means[3] - best_single,
            "best_view_gain": means[4] - best_single,
        }
    return result


def by_popularity(lists, truth, group_of, k):
    out = {}
    for group in ("all", *POP_GROUPS):
        scoped = restrict(truth, group_of, group)
        if scoped:
            out[group] = metrics(lists, scoped, k)
    return out


def coverage(lists, item_n_train, k):
    """Catalogue coverage, Gini of exposure over the catalogue, mean popularity of slots."""
    exposure = {i: 0 for i in item_n_train}
    for ranked in lists.values():
        for item in ranked[:k]:
            if item in exposure:
                exposure[item] += 1
    x = sorted(exposure.values())
    n, total = len(x), sum(x)
    gini = sum((2 * j - n - 1) * v for j, v in enumerate(x, start=1)) / (n * total) if total else None
    return {
        "n_items": n,
        "n_recommended": sum(1 for v in x if v),
        "coverage": sum(1 for v in x if v) / n,
        "gini": gini,
        "mean_pop": sum(c * item_n_train[i] for i, c in exposure.items()) / total if total else None,
        "mean_log_pop": sum(c * math.log1p(item_n_train[i]) for i, c in exposure.items()) / total if total else None,
    }


def item_agreement(neigh_a, neigh_b, group_of, k, permutations=()):
    """Mean neighbour-set Jaccard per group; ``permutations`` are dicts id -> relabelled id of view B."""

    def means(b_lists):
        per_group = {}
        for item, a_list in neigh_a.items():
            if item not in b_lists:
                continue
            a, b = set(a_list[:k]), set(b_lists[item][:k])
            j = len(a & b) / len(a | b)
            per_group.setdefault("all", []).append(j)
            if item in group_of:
                per_group.setdefault(group_of[item], []).append(j)
        return {g: sum(v) / len(v) for g, v in per_group.items()}

    observed = means(neigh_b)
    nulls = []
    for pi in permutations:
        relabelled = {pi[item]: [pi[n] for n in ranked[:k]] for item, ranked in neigh_b.items()}
        nulls.append(means(relabelled))
    out = {}
    for g, value in observed.items():
        values = [m[g] for m in nulls if g in m]
        mean = sum(values) / len(values) if values else None
        std = statistics.stdev(values) if len(values) > 1 else None
        out[g] = {"observed": value, "null_mean": mean, "null_std": std, "z": (value - mean) / std if std else None}
    return out


# ---- random workspaces -----------------------------------------------------------------------
def pop_groups(n_train: dict[str, int]) -> dict[str, str]:
    """cold = count <= 0.60 quantile, hot = count > 0.80 quantile, mid otherwise (docs/design.md)."""
    counts = np.array(list(n_train.values()))
    q60, q80 = np.quantile(counts, 0.6), np.quantile(counts, 0.8)
    return {i: "cold" if c <= q60 else "hot" if c > q80 else "mid" for i, c in n_train.items()}


def random_case(seed: int, n_users: int = 30, n_items: int = 40, k: int = 10, views=("a", "b")) -> dict:
    """A random small dataset: interactions with disjoint splits, one top-k list per user and view
    (some users missing from a view), and item neighbours per view."""
    rng = random.Random(seed)
    items = [f"i{j:03d}" for j in range(n_items)]
    users = [f"u{j:03d}" for j in range(n_users)]
    weights = [1.0 / (1 + j) ** 0.8 for j in range(n_items)]
    interactions = []
    for u in users:
        chosen = set(rng.choices(items, weights, k=rng.randint(1, n_items // 2)))
        for item in sorted(chosen):
            interactions.append((u, item, rng.choice(["train", "train", "train", "valid", "test"])))
    item_n_train = {i: 0 for i in items}
    user_n_train = {u: 0 for u in users}
    for u, i, s in interactions:
        if s == "train":
            item_n_train[i] += 1
            user_n_train[u] += 1
    seen = {}
    for u, i, s in interactions:
        if s == "train":
            seen.setdefault(u, set()).add(i)
    lists = {}
    for v in views:
        lists[v] = {}
        for u in users:
            if rng.random() < 0.1:
                continue  # a user without a list for this view
            candidates = [i for i in items if i not in seen.get(u, set())]
            rng.shuffle(candidates)
            lists[v][u] = candidates[: rng.randint(k // 2, k + 3)]
    neighbors = {}
    for v in views:
        neighbors[v] = {}
        for i in items:
            if rng.random() < 0.1:
                continue
            others = [j for j in items if j != i]
            rng.shuffle(others)
            neighbors[v][i] = others[:k]
    truth = {}
    for u, i, s in interactions:
        if s == "test":
            truth.setdefault(u, set()).add(i)
    return {
        "items": items,
        "users": users,
        "interactions": interactions,
        "lists": lists,
        "neighbors": neighbors,
        "truth": truth,
        "item_n_train": item_n_train,
        "user_n_train": user_n_train,
        "group_of": pop_groups(item_n_train),
    }


def interactions_table(rows: list[tuple]) -> pa.Table:
    """The ``interactions`` table of (user_id, item_id, split) rows, without times or ratings."""
    return pa.table(
        {
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "ts": pa.array([None] * len(rows), pa.int64()),
            "rating": pa.array([None] * len(rows), pa.float64()),
            "split": [r[2] for r in rows],
        }
    )


def write_lists(ws: Workspace, lists: dict[str, dict[str, list[str]]]) -> None:
    """Each view's ranked lists ({view: {user: [item, ...]}}) as its part of ``topk`` (score 1 / rank)."""
    for view, by_user in lists.items():
        flat = [(u, r, i) for u, ranked in by_user.items() for r, i in enumerate(ranked, start=1)]
        ws.write_table(
            "topk",
            pa.table(
                {
                    "view": [view] * len(flat),
                    "user_id": [f[0] for f in flat],
                    "rank": [f[1] for f in flat],
                    "item_id": [f[2] for f in flat],
                    "score": [1.0 / f[1] for f in flat],
                }
            ),
            part=view,
        )


def write_case(path, case: dict) -> Workspace:
    """Write a case from :func:`random_case` (or built by hand, same keys) as workspace tables.

    Each view's lists are recorded in ``runs`` as a ``topk`` run masking ``case["exclude"][view]``
    (default ``train``, which is what :func:`random_case`'s lists mask)."""
    ws = Workspace(path)
    items = case["items"]
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": items,
                "item_idx": list(range(len(items))),
                "title": items,
                "text": items,
                "n_train": [case["item_n_train"][i] for i in items],
                "pop_group": [case["group_of"][i] for i in items],
            }
        ),
    )
    users = case["users"]
    ws.write_table(
        "users",
        pa.table(
            {
                "user_id": users,
                "user_idx": list(range(len(users))),
                "n_train": [case["user_n_train"][u] for u in users],
            }
        ),
    )
    rows = case["interactions"]
    ws.write_table("interactions", interactions_table(rows))
    write_lists(ws, case["lists"])
    for view in case["lists"]:
        record = RunRecord(step="topk", view=view, params={"exclude": case.get("exclude", {}).get(view, "train")})
        append_run(ws, record, dt.datetime.now(dt.UTC), 0.0)
    for view, lists in case.get("neighbors", {}).items():
        flat = [(i, r, n) for i, ranked in lists.items() for r, n in enumerate(ranked, start=1)]
        ws.write_table(
            "neighbors",
            pa.table(
                {
                    "view": [view] * len(flat),
                    "item_id": [f[0] for f in flat],
                    "rank": [f[1] for f in flat],
                    "neighbor_id": [f[2] for f in flat],
                    "sim": [1.0 / f[1] for f in flat],
                }
            ),
            part=view,
        )
    return ws
