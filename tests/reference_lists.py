"""Plain-Python references for the list-comparison diagnostics (rbo, rank_correlation,
popularity_bias, multi_view), written from the papers' definitions, independent of the SQL."""

from __future__ import annotations

import numpy as np


def rbo_ext(a: list[str], b: list[str], p: float) -> tuple[float, float]:
    """(extrapolated RBO, prefix sum) of Webber, Moffat & Zobel (2010), extrapolated for lists of uneven length."""
    if len(a) > len(b):
        a, b = b, a
    s, n = len(a), len(b)  # the paper's s and l: the lengths of the shorter and the longer list

    def x(d: int) -> int:
        return len(set(a[:d]) & set(b[:d]))

    prefix = sum(x(d) / d * p**d for d in range(1, n + 1))
    tail = sum(x(s) * (d - s) / (s * d) * p**d for d in range(s + 1, n + 1))
    ext = (1 - p) / p * (prefix + tail) + ((x(n) - x(s)) / n + x(s) / s) * p**n
    return ext, (1 - p) / p * prefix


def kendall_tau(a: list[str], b: list[str]) -> float | None:
    """Kendall tau-a of the common items' positions in a and b; None when fewer than 2 are common."""
    common = [i for i in a if i in b]
    if len(common) < 2:
        return None
    net = pairs = 0
    for m in range(len(common)):
        for n in range(m + 1, len(common)):
            i, j = common[m], common[n]
            net += np.sign((a.index(i) - a.index(j)) * (b.index(i) - b.index(j)))
            pairs += 1
    return net / pairs


def short_head(n_train: dict[str, int], share: float) -> set[str]:
    """The most popular items, in order, while the ones before each hold less than ``share`` of all."""
    total = sum(n_train.values())
    head, before = set(), 0
    for item in sorted(n_train, key=lambda i: (-n_train[i], i)):
        if before < share * total:
            head.add(item)
        before += n_train[item]
    return head


def union_recall(lists_by_view: dict, views, truth: dict, k: int) -> float:
    total = 0.0
    for user, relevant in truth.items():
        found = set()
        for v in views:
            found |= set(lists_by_view[v].get(user, [])[:k])
        total += len(found & relevant) / len(relevant)
    return total / len(truth)


def greedy_gains(lists_by_view: dict, truth: dict, k: int) -> list[tuple[str, float, float]]:
    """[(view, union recall after adding it, marginal gain)] in greedy order (ties by name)."""
    chosen: list[str] = []
    out, previous = [], 0.0
    remaining = sorted(lists_by_view)
    while remaining:
        best = max(
            remaining,
            key=lambda v: (round(union_recall(lists_by_view, [*chosen, v], truth, k), 12), -remaining.index(v)),
        )
        chosen.append(best)
        remaining.remove(best)
        now = union_recall(lists_by_view, chosen, truth, k)
        out.append((best, now, now - previous))
        previous = now
    return out


def summary(values: list[float]) -> dict[str, float]:
    """mean and linear-interpolated quartiles (DuckDB's quantile_cont)."""
    arr = np.asarray(values, dtype=float)
    return {
        "n_users": len(arr),
        "mean": arr.mean(),
        "q25": np.percentile(arr, 25),
        "median": np.percentile(arr, 50),
        "q75": np.percentile(arr, 75),
    }
