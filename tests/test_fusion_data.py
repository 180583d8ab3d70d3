"""A planted dataset with large private parts in both views, shared by the fusion tests.

Items have shared factors S and two private blocks Pa, Pb; users prefer all three. View ``a`` sees
items as [S, Pa] and users as [u_S, u_Pa]; view ``b`` sees [S, Pb] and [u_S, u_Pb]. Each view alone
misses the other's private signal, so a good fusion beats both on held-out recall."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from reference_metrics import interactions_table

from complement import Workspace


def recall_at(ws: Workspace, view: str, k: int = 20, split: str = "test") -> float:
    """Mean over users with ``split`` items of |top-k ∩ truth| / |truth| (plain SQL, independent of diagnose)."""
    return (
        ws.query(
            """
        WITH truth AS (SELECT user_id, item_id FROM interactions WHERE split = $split),
             sizes AS (SELECT user_id, count(*) AS n FROM truth GROUP BY user_id),
             hits AS (SELECT t.user_id, count(*) AS h FROM truth t JOIN topk l
                      ON l.user_id = t.user_id AND l.item_id = t.item_id AND l.view = $view AND l.rank <= $k
                      GROUP BY t.user_id)
        SELECT avg(coalesce(h, 0) / n) FROM sizes LEFT JOIN hits USING (user_id)
        """,
            {"split": split, "view": view, "k": k},
        )
        .column(0)[0]
        .as_py()
    )


def recall_of_users(ws: Workspace, view: str, modulus: int, remainder: int) -> float:
    """Test Recall@20 of ``view`` over the users ``u<N>`` with ``N % modulus == remainder`` (plain SQL)."""
    return (
        ws.query(
            """
        WITH truth AS (SELECT user_id, item_id FROM interactions
                       WHERE split = 'test' AND CAST(substr(user_id, 2) AS INTEGER) % $m = $r),
             hits AS (SELECT t.user_id, count(l.item_id) AS h, count(*) AS n FROM truth t LEFT JOIN topk l
                      ON l.user_id = t.user_id AND l.item_id = t.item_id AND l.view = $v AND l.rank <= 20
                      GROUP BY t.user_id)
        SELECT avg(h / n) FROM hits
        """,
            {"m": modulus, "r": remainder, "v": view},
        )
        .column(0)[0]
        .as_py()
    )


def replace_test_items(pairs: dict[str, list[tuple[int, int]]], n_items: int, seed: int) -> None:
    """Replace every test pair's item by a random item the user has not seen in train, valid or test."""
    other = np.random.default_rng(seed)
    seen = {(u, i) for split in ("train", "valid") for u, i in pairs[split]}
    new_test = []
    for u, _ in pairs["test"]:
        i = int(other.integers(n_items))
        while (u, i) in seen:
            i = int(other.integers(n_items))
        seen.add((u, i))
        new_test.append((u, i))
    pairs["test"] = new_test


def staleness_after_changing(ws: Workspace, fused: str, source: str, n_users: int) -> str | None:
    """Reverse the user vectors of view ``source`` and return why the ``topk`` of ``fused`` is now stale
    (``None``: it is not; it must be fresh before the change)."""
    assert ws.stale("topk", fused) is None
    _, users = ws.read_vectors(source, "user")
    ws.write_vectors(source, "user", [f"u{u}" for u in range(n_users)], users[::-1].copy())
    reason = ws.stale("topk", fused)
    return None if reason is None else reason.message("topk", fused)


def pop_groups(n_train: np.ndarray) -> list[str]:
    """cold <= 0.60 quantile < mid <= 0.80 quantile < hot (docs/design.md)."""
    low, high = np.quantile(n_train, [0.6, 0.8])
    return ["cold" if c <= low else "hot" if c > high else "mid" for c in n_train]


def write_interactions(ws: Workspace, n_users: int, n_items: int, pairs: dict[str, list[tuple[int, int]]]) -> None:
    """items/users/interactions tables from (user_idx, item_idx) pairs per split."""
    n_train_items = np.zeros(n_items, dtype=np.int64)
    n_train_users = np.zeros(n_users, dtype=np.int64)
    for u, i in pairs["train"]:
        n_train_items[i] += 1
        n_train_users[u] += 1
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": [f"i{i}" for i in range(n_items)],
                "item_idx": list(range(n_items)),
                "title": [f"item {i}" for i in range(n_items)],
                "text": [f"item {i}" for i in range(n_items)],
                "n_train": n_train_items.tolist(),
                "pop_group": pop_groups(n_train_items),
            }
        ),
    )
    ws.write_table(
        "users",
        pa.table(
            {
                "user_id": [f"u{u}" for u in range(n_users)],
                "user_idx": list(range(n_users)),
                "n_train": n_train_users.tolist(),
            }
        ),
    )
    rows = [(f"u{u}", f"i{i}", split) for split, split_pairs in pairs.items() for u, i in split_pairs]
    ws.write_table(
        "interactions",
        interactions_table(rows),
    )


def planted_workspace(
    root,
    *,
    n_users: int = 400,
    n_items: int = 300,
    shared: int = 4,
    private: int = 6,
    per_user: int = 30,
    temperature: float = 0.5,
    seed: int = 7,
    users_see_b_private: bool = True,
) -> Workspace:
    """Write the planted dataset and views ``a`` and ``b`` (user + item vectors, no topk).

    With ``users_see_b_private=False`` users ignore Pb: view ``b`` is then like a text view whose
    private part is irrelevant to behaviour, and only ``a`` has a useful private part."""
    rng = np.random.default_rng(seed)
    items = rng.normal(size=(n_items, shared + 2 * private)).astype(np.float32)
    users = rng.normal(size=(n_users, shared + 2 * private)).astype(np.float32)
    if not users_see_b_private:
        users[:, shared + private :] = 0.0
    logits = users @ items.T / temperature
    gumbel = rng.gumbel(size=logits.shape)
    chosen = np.argsort(-(logits + gumbel), axis=1)[:, :per_user]
    pairs: dict[str, list[tuple[int, int]]] = {"train": [], "valid": [], "test": []}
    n_valid = n_test = per_user // 10
    for u in range(n_users):
        picks = rng.permutation(chosen[u])
        pairs["test"] += [(u, int(i)) for i in picks[:n_test]]
        pairs["valid"] += [(u, int(i)) for i in picks[n_test : n_test + n_valid]]
        pairs["train"] += [(u, int(i)) for i in picks[n_test + n_valid :]]
    ws = Workspace(root)
    write_interactions(ws, n_users, n_items, pairs)
    a_cols = list(range(shared)) + list(range(shared, shared + private))
    b_cols = list(range(shared)) + list(range(shared + private, shared + 2 * private))
    for view, cols in (("a", a_cols), ("b", b_cols)):
        ws.write_vectors(view, "item", [f"i{i}" for i in range(n_items)], items[:, cols])
        ws.write_vectors(view, "user", [f"u{u}" for u in range(n_users)], users[:, cols])
    ws.write_vectors("truth", "item", [f"i{i}" for i in range(n_items)], items)
    ws.write_vectors("truth", "user", [f"u{u}" for u in range(n_users)], users)
    return ws


def test_planted_views_each_miss_the_other_private_part(tmp_path):
    from complement.scoring import write_topk

    ws = planted_workspace(tmp_path)
    for view in ("a", "b", "truth"):
        write_topk(ws, view, k=20, device="cpu")
    truth, a, b = (recall_at(ws, v) for v in ("truth", "a", "b"))
    assert truth > max(a, b) + 0.05
    assert min(a, b) > 0.05
