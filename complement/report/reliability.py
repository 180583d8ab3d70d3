"""Which per-group figures of a report are too thin to read: a group of few users, or a relative
change whose base is close to zero (a recall drop of -600 % from a cold-item recall of 0.003).

Such rows stay in the report, greyed, marked :data:`MARK` and explained in a footnote
("unreliable: n = 12 users"), so a reader sees them and knows not to lean on them."""

from __future__ import annotations

import math

#: fewer evaluated users than this in a group (a popularity group, a decile, a probe's held-out items) is noise
MIN_USERS = 30
#: a relative change (probe recall drop, share of an oracle gain) over a base below this is noise
MIN_BASE = 0.01
MARK = "†"
NOTE = f"{MARK} unreliable: a group of fewer than {MIN_USERS} users, or a relative change over a base below {MIN_BASE}"


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def _users(n: float) -> str:
    count = f"{n:.0f}" if n == int(n) else f"{n:.3g}"
    return f"n = {count} user" + ("" if n == 1 else "s")


def row_flags(row: dict) -> dict[str, str]:
    """Which values of one result row are too thin to read, each with why: ``{"n_users": "n = 12 users"}``,
    ``{"share_of_union_at_k_gain": "base = 0.003"}``; empty when none is. A report marks the value itself.

    Reads the columns the per-group diagnostics share: ``n_users`` (by_popularity, oracle,
    who_benefits, fusion_gap, metrics), and for fusion_gap the base of its gain shares,
    ``union_at_k - best_single``."""
    flags = {}
    n = _number(row.get("n_users"))
    if n is not None and n < MIN_USERS:
        flags["n_users"] = _users(n)
    if "share_of_union_at_k_gain" in row:
        union, best = _number(row.get("union_at_k")), _number(row.get("best_single"))
        if union is not None and best is not None and abs(union - best) < MIN_BASE:
            flags["share_of_union_at_k_gain"] = f"base = {union - best:.3g}"
    return flags


def row_reason(row: dict) -> str | None:
    """Why one result row is unreliable ("n = 12 users", "base = 0.003"), or None (:func:`row_flags`)."""
    return "; ".join(row_flags(row).values()) or None


def probe_reasons(probes: list[dict]) -> dict[tuple, str]:
    """For each ``probe_summary`` row of a relative recall drop, why it is unreliable: the recall it is
    relative to (``recall_true``, or ``recall_true_cos`` for the cosine drop) below :data:`MIN_BASE`, or
    fewer than :data:`MIN_USERS` evaluated users. Keyed by :func:`probe_key`."""
    by_key = {probe_key(p): p for p in probes}
    reasons: dict[tuple, str] = {}
    for p in probes:
        if not p["metric"].startswith("recall_drop"):
            continue
        base_metric = "recall_true_cos" if p["metric"] == "recall_drop_cos" else "recall_true"
        why = []
        n = by_key.get(probe_key(p, "n_eval_users"))
        if n is not None and _number(n["mean"]) is not None and n["mean"] < MIN_USERS:
            why.append(_users(n["mean"]))
        base = by_key.get(probe_key(p, base_metric))
        if base is not None and _number(base["mean"]) is not None and base["mean"] < MIN_BASE:
            why.append(f"base recall = {base['mean']:.3g}")
        if why:
            reasons[probe_key(p)] = "; ".join(why)
    return reasons


def probe_key(row: dict, metric: str | None = None) -> tuple:
    """A probe_summary row's identity, with its metric replaced by ``metric`` when given."""
    return (
        row.get("run_id"),
        row.get("source"),
        row.get("target"),
        row["mapper"],
        row["shift"],
        row["item_set"],
        metric or row["metric"],
    )
