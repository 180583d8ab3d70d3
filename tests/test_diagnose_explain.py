"""who_benefits and case_study against plain-Python references (sets and loops, no SQL), on a tiny
hand-made workspace with hand-computed values and on the random workspaces of reference_metrics."""

from __future__ import annotations

import math

import pytest
import reference_metrics as ref

import complement

TOL = 1e-9


def ntile(ordered: list, buckets: int) -> dict:
    """SQL ntile: the first ``len % buckets`` buckets get one extra member; bucket numbers from 1."""
    n, out, start = len(ordered), {}, 0
    for b in range(buckets):
        size = n // buckets + (1 if b < n % buckets else 0)
        for x in ordered[start : start + size]:
            out[x] = b + 1
        start += size
    return out


def who_benefits_reference(case: dict, k: int, a: str = "a", b: str = "b") -> dict[tuple[str, str], dict]:
    truth = {u: t for u, t in case["truth"].items() if t}
    users = sorted(truth)
    stats = {}
    for u in users:
        ha = ref.top_set(case["lists"][a], u, k) & truth[u]
        hb = ref.top_set(case["lists"][b], u, k) & truth[u]
        stats[u] = {
            "ra": len(ha) / len(truth[u]),
            "rb": len(hb) / len(truth[u]),
            "ru": len(ha | hb) / len(truth[u]),
            "a_only": bool(ha) and not hb,
            "b_only": bool(hb) and not ha,
        }
    n_train = {u: case["user_n_train"].get(u, 0) for u in users}
    history = {}
    for u, i, split in case["interactions"]:
        if split == "train":
            history.setdefault(u, set()).add(i)
    tau = {
        u: sum(math.log(1 + case["item_n_train"].get(i, 0)) for i in history[u]) / len(history[u])
        for u in users
        if history.get(u)
    }
    decile = ntile(sorted(users, key=lambda u: (n_train[u], u)), 10)
    tercile = ntile(sorted(tau, key=lambda u: (tau[u], u)), 3)
    names = {1: "niche", 2: "middle", 3: "mainstream"}
    groups: dict[tuple[str, str], list[tuple[str, float | None]]] = {}
    for u in users:
        groups.setdefault(("all", "all"), []).append((u, n_train[u]))
        groups.setdefault(("activity", str(decile[u])), []).append((u, n_train[u]))
        groups.setdefault(("taste", names[tercile[u]] if u in tercile else "unknown"), []).append((u, tau.get(u)))
    out = {}
    for key, members in groups.items():
        values = [v for _, v in members if v is not None]
        s = [stats[u] for u, _ in members]

        def mean(f, s=s):
            return sum(f(x) for x in s) / len(s)

        out[key] = {
            "n_users": len(s),
            "stat_min": min(values) if values else None,
            "stat_max": max(values) if values else None,
            "recall_a": mean(lambda x: x["ra"]),
            "recall_b": mean(lambda x: x["rb"]),
            "recall_union": mean(lambda x: x["ru"]),
            "share_a_only": mean(lambda x: x["a_only"]),
            "share_b_only": mean(lambda x: x["b_only"]),
            "share_one_view": mean(lambda x: x["a_only"] or x["b_only"]),
        }
    return out


def case_study_reference(case: dict, user: str, k: int, n_history: int, a: str = "a", b: str = "b") -> list[tuple]:
    """(section, position, item_id, in_test, in_a, in_b) rows of one user; histories are untimed here,
    so they come in item_id order."""
    truth = case["truth"].get(user, set())
    top_a, top_b = ref.top_set(case["lists"][a], user, k), ref.top_set(case["lists"][b], user, k)

    def row(section, position, item):
        return (section, position, item, item in truth, item in top_a, item in top_b)

    history = sorted({i for u, i, s in case["interactions"] if u == user and s == "train"})[:n_history]
    rows = [row("history", p, i) for p, i in enumerate(history, start=1)]
    for section, view in (("a", a), ("b", b)):
        seen = []
        for i in case["lists"][view].get(user, [])[:k]:
            if i not in seen:
                seen.append(i)
        best = {i: case["lists"][view][user].index(i) + 1 for i in seen}
        rows += [row(section, best[i], i) for i in seen]
    rows += [row("test", p, i) for p, i in enumerate(sorted(truth), start=1)]
    return rows


def directions(case: dict, k: int, a: str = "a", b: str = "b") -> dict[str, set[str]]:
    out = {"a_only": set(), "b_only": set()}
    for u, t in case["truth"].items():
        ha, hb = ref.top_set(case["lists"][a], u, k) & t, ref.top_set(case["lists"][b], u, k) & t
        if ha and not hb:
            out["a_only"].add(u)
        if hb and not ha:
            out["b_only"].add(u)
    return out


def hand_case() -> dict:
    """Three users, four items, k = 2. u1 is hit by both views (i3), u2 by A only (i2, i3), u3 by B only (i2)."""
    interactions = [
        ("u1", "i1", "train"),
        ("u1", "i2", "train"),
        ("u2", "i1", "train"),
        ("u2", "i4", "train"),
        ("u3", "i1", "train"),
        ("u3", "i4", "train"),
        ("u1", "i3", "test"),
        ("u2", "i3", "test"),
        ("u2", "i2", "test"),
        ("u3", "i2", "test"),
    ]
    item_n_train = {"i1": 3, "i2": 1, "i3": 0, "i4": 2}
    return {
        "items": ["i1", "i2", "i3", "i4"],
        "users": ["u1", "u2", "u3"],
        "interactions": interactions,
        "lists": {
            "a": {"u1": ["i3", "i4"], "u2": ["i2", "i3"], "u3": ["i3", "i4"]},
            "b": {"u1": ["i4", "i3"], "u2": ["i4", "i1"], "u3": ["i2", "i3"]},
        },
        "truth": {"u1": {"i3"}, "u2": {"i2", "i3"}, "u3": {"i2"}},
        "item_n_train": item_n_train,
        "user_n_train": {"u1": 2, "u2": 2, "u3": 2},
        "group_of": ref.pop_groups(item_n_train),
    }


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    case = hand_case()
    return case, ref.write_case(tmp_path_factory.mktemp("hand"), case)


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    out = []
    for seed in range(4):
        case = ref.random_case(seed, n_users=30 + 7 * seed, n_items=30 + 4 * seed, k=8)
        out.append((case, ref.write_case(tmp_path_factory.mktemp(f"case{seed}"), case)))
    return out


def rows_of(table) -> dict[tuple[str, str], dict]:
    return {(r["grouping"], r["bucket"]): r for r in table.to_pylist()}


def close(x, y) -> bool:
    if x is None or y is None:
        return x is None and y is None
    return abs(x - y) <= TOL * max(1.0, abs(x), abs(y))


def test_who_benefits_on_the_hand_case_gives_the_hand_computed_numbers(hand):
    _, ws = hand
    got = rows_of(complement.diagnose(ws, "who_benefits", k=2, view_a="a", view_b="b"))
    every = got[("all", "all")]
    # recall: A hits u1 (1/1) and u2 (2/2), B hits u1 (1/1) and u3 (1/1); the union hits everyone fully
    assert (every["n_users"], every["recall_a"], every["recall_b"], every["recall_union"]) == (
        3,
        pytest.approx(2 / 3),
        pytest.approx(2 / 3),
        1.0,
    )
    assert every["share_a_only"] == pytest.approx(1 / 3) and every["share_b_only"] == pytest.approx(1 / 3)
    assert every["share_one_view"] == pytest.approx(2 / 3)
    # every user has n_train = 2: the user_id breaks the tie, three users fill deciles 1..3
    assert [k for k in got if k[0] == "activity"] == [("activity", "1"), ("activity", "2"), ("activity", "3")]
    assert got[("activity", "2")]["share_a_only"] == 1.0 and got[("activity", "3")]["share_b_only"] == 1.0
    # taste: u1 trained i1, i2 -> (ln 4 + ln 2) / 2, below u2 and u3 (i1, i4 -> (ln 4 + ln 3) / 2), tied, by user_id
    assert got[("taste", "niche")]["stat_min"] == pytest.approx((math.log(4) + math.log(2)) / 2)
    assert got[("taste", "middle")]["recall_a"] == 1.0 and got[("taste", "middle")]["recall_b"] == 0.0
    assert got[("taste", "mainstream")]["recall_b"] == 1.0 and ("taste", "unknown") not in got


@pytest.mark.parametrize("k", [1, 3, 8])
def test_who_benefits_matches_the_reference(cases, k):
    for case, ws in cases:
        got = rows_of(complement.diagnose(ws, "who_benefits", k=k, view_a="a", view_b="b"))
        want = who_benefits_reference(case, k)
        assert list(got) == sorted(
            want,
            key=lambda g: (
                {"all": 0, "activity": 1, "taste": 2}[g[0]],
                int(g[1]) if g[0] == "activity" else ["all", "niche", "middle", "mainstream", "unknown"].index(g[1]),
            ),
        )
        for key, expected in want.items():
            for name, value in expected.items():
                assert close(got[key][name], value), (key, name, got[key][name], value)


def test_case_study_on_the_hand_case_shows_history_both_lists_and_test_items(hand):
    _, ws = hand
    rows = complement.diagnose(ws, "case_study", k=2, view_a="a", view_b="b").to_pylist()
    users = {(r["direction"], r["user_id"]) for r in rows}
    assert users == {("a_only", "u2"), ("b_only", "u3")}
    u2 = [
        (r["section"], r["position"], r["item_id"], r["title"], r["in_test"], r["in_a"], r["in_b"])
        for r in rows
        if r["user_id"] == "u2"
    ]
    assert u2 == [
        ("history", 1, "i1", "i1", False, False, True),
        ("history", 2, "i4", "i4", False, False, True),
        ("a", 1, "i2", "i2", True, True, False),
        ("a", 2, "i3", "i3", True, True, False),
        ("b", 1, "i4", "i4", False, False, True),
        ("b", 2, "i1", "i1", False, False, True),
        ("test", 1, "i2", "i2", True, True, False),
        ("test", 2, "i3", "i3", True, True, False),
    ]


@pytest.mark.parametrize("k", [2, 5])
def test_case_study_samples_one_view_users_and_matches_the_reference_rows(cases, k):
    for case, ws in cases:
        rows = complement.diagnose(
            ws, "case_study", k=k, view_a="a", view_b="b", n_users=2, n_history=3, seed=5
        ).to_pylist()
        truth = directions(case, k)
        sampled = {}
        for r in rows:
            sampled.setdefault(r["direction"], {})[r["user_id"]] = r["user_rank"]
        for direction, users in sampled.items():
            assert set(users) <= truth[direction]
            assert len(users) == min(2, len(truth[direction])) and sorted(users.values()) == list(
                range(1, len(users) + 1)
            )
        for direction, user in {(d, u) for d, us in sampled.items() for u in us}:
            mine = [
                (r["section"], r["position"], r["item_id"], r["in_test"], r["in_a"], r["in_b"])
                for r in rows
                if r["user_id"] == user and r["direction"] == direction
            ]
            assert mine == case_study_reference(case, user, k, 3)


def test_case_study_sample_is_fixed_by_the_seed_and_takes_everyone_when_asked(cases):
    case, ws = cases[3]

    def users(**params):
        table = complement.diagnose(ws, "case_study", k=5, view_a="a", view_b="b", **params)
        return [
            (r["direction"], r["user_rank"], r["user_id"])
            for r in table.to_pylist()
            if r["section"] == "test" and r["position"] == 1
        ]

    assert users(n_users=3, seed=1) == users(n_users=3, seed=1)
    assert users(n_users=3, seed=1) != users(n_users=3, seed=2)
    every = {(d, u) for d, _, u in users(n_users=1000)}
    truth = directions(case, 5)
    assert every == {(d, u) for d, us in truth.items() for u in us}


def test_case_study_rejects_a_non_positive_sample_size(hand):
    _, ws = hand
    with pytest.raises(complement.ComplementError, match="n_users must be at least 1"):
        complement.diagnose(ws, "case_study", k=2, view_a="a", view_b="b", n_users=0)
