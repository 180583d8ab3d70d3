"""`complement topk` / `complement neighbors` on a small workspace: tables, masking, runs, errors."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from conftest import items_table
from reference_metrics import interactions_table

from complement.cli.app import main
from complement.scoring import write_neighbors, write_topk
from complement.workspace import Workspace

N_USERS, N_ITEMS, DIM = 12, 15, 3


@pytest.fixture
def ws(tmp_path) -> Workspace:
    """12 users x 15 items with small-integer vectors (exact ties) in view `cf`; splits train/valid/test."""
    rng = np.random.default_rng(7)
    ws = Workspace(tmp_path)
    item_ids = [f"i{n:02d}" for n in range(N_ITEMS)]
    user_ids = [f"u{n:02d}" for n in range(N_USERS)]
    ws.write_table("items", items_table(item_ids, n_train=0))
    ws.write_table("users", pa.table({"user_id": user_ids, "user_idx": list(range(N_USERS)), "n_train": [0] * N_USERS}))
    rows = []
    for u in range(N_USERS):
        for i, split in zip(rng.choice(N_ITEMS, size=6, replace=False), ["train"] * 4 + ["valid", "test"], strict=True):
            rows.append((user_ids[u], item_ids[i], split))
    ws.write_table(
        "interactions",
        interactions_table(rows),
    )
    # stored in shuffled order: the step must re-order by item_idx / user_idx
    item_order, user_order = rng.permutation(N_ITEMS), rng.permutation(N_USERS)
    ws.item_vectors = rng.integers(-2, 3, size=(N_ITEMS, DIM)).astype(np.float32)
    ws.user_vectors = rng.integers(-2, 3, size=(N_USERS, DIM)).astype(np.float32)
    ws.write_vectors("cf", "item", [item_ids[i] for i in item_order], ws.item_vectors[item_order])
    ws.write_vectors("cf", "user", [user_ids[u] for u in user_order], ws.user_vectors[user_order])
    return ws


def expected_lists(ws: Workspace, k: int, splits: tuple[str, ...]) -> dict[str, list[str]]:
    scores = ws.user_vectors @ ws.item_vectors.T
    seen_users, seen_items = ws.interaction_indices(splits)
    scores[seen_users, seen_items] = -np.inf
    item_ids, user_ids = ws.item_ids(), ws.user_ids()
    out = {}
    for u, row in enumerate(scores):
        order = [i for i in np.lexsort((np.arange(N_ITEMS), -row)) if np.isfinite(row[i])][:k]
        out[user_ids[u]] = [item_ids[i] for i in order]
    return out


def stored_lists(ws: Workspace, view: str) -> dict[str, list[str]]:
    rows = ws.query(
        "SELECT user_id, rank, item_id FROM topk WHERE view = $v ORDER BY user_id, rank", {"v": view}
    ).to_pylist()
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r["user_id"], []).append(r["item_id"])
        assert r["rank"] == len(out[r["user_id"]])  # ranks 1..K without gaps
    return out


@pytest.mark.parametrize(("exclude", "splits"), [("train", ("train",)), ("train+valid", ("train", "valid"))])
def test_topk_cli_writes_exact_masked_lists(ws, capsys, exclude, splits):
    main(["topk", "--view", "cf", "--k", "7", "--exclude", exclude, "--device", "cpu", "-w", str(ws.root)])
    assert capsys.readouterr().out == ""  # stdout carries data only; the summary goes to stderr
    assert stored_lists(ws, "cf") == expected_lists(ws, 7, splits)
    masked = ws.query(
        """SELECT count(*) FROM topk t JOIN interactions x USING (user_id, item_id)
           WHERE list_contains($splits, x.split)""",
        {"splits": list(splits)},
    )
    assert masked.column(0)[0].as_py() == 0
    score = ws.query("SELECT score FROM topk WHERE user_id = 'u00' AND rank = 1").column(0)[0].as_py()
    first = ws.item_ids().tolist().index(stored_lists(ws, "cf")["u00"][0])
    assert score == float(ws.user_vectors[0] @ ws.item_vectors[first])
    run = ws.query("SELECT step, view, rows, params FROM runs WHERE step = 'topk'").to_pylist()[-1]
    assert run["view"] == "cf" and run["rows"] == N_USERS * 7
    assert json.loads(run["params"])["exclude"] == exclude


def test_topk_short_lists_when_user_has_fewer_unmasked_items_than_k(ws):
    rows = write_topk(ws, "cf", k=N_ITEMS, exclude="train+valid", device="cpu")
    assert rows == N_USERS * (N_ITEMS - 5)
    assert stored_lists(ws, "cf") == expected_lists(ws, N_ITEMS, ("train", "valid"))


def test_neighbors_cli_writes_cosine_neighbours_without_self(ws, capsys):
    main(["neighbors", "--view", "cf", "--k", "4", "-w", str(ws.root)])
    table = ws.query("SELECT item_id, rank, neighbor_id, sim FROM neighbors WHERE view = 'cf' ORDER BY item_id, rank")
    assert table.num_rows == N_ITEMS * 4
    rows = table.to_pylist()
    assert all(r["item_id"] != r["neighbor_id"] for r in rows)
    ids = ws.item_ids().tolist()
    unit = ws.item_vectors / np.maximum(np.linalg.norm(ws.item_vectors, axis=1, keepdims=True), 1e-30)
    for r in rows:
        cosine = float(unit[ids.index(r["item_id"])] @ unit[ids.index(r["neighbor_id"])])
        assert r["sim"] == pytest.approx(cosine, abs=1e-6)
    assert ws.query("SELECT count(*) FROM runs WHERE step = 'neighbors'").column(0)[0].as_py() == 1


def run_error(argv, capsys) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1
    return err


def test_topk_on_view_without_user_vectors_says_how_to_get_them(ws, capsys):
    ws.write_vectors("semantic", "item", ws.item_ids(), ws.item_vectors)
    err = run_error(["topk", "--view", "semantic", "-w", str(ws.root)], capsys)
    assert "no user vectors" in err and "complement embed --from" in err and "--entity user" in err
    assert not ws.has_table("topk")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["topk", "--view", "cf", "--k", "16"], "k=16 is larger than the catalogue"),
        (["topk", "--view", "nope"], "no embeddings for view 'nope'"),
        (["neighbors", "--view", "cf", "--k", "15"], "k=15 is larger than the number of other items"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(ws, capsys, argv, message):
    err = run_error([*argv, "-w", str(ws.root)], capsys)
    assert message in err
    assert not ws.has_table("topk") and not ws.has_table("neighbors") and not ws.has_table("runs")


def test_nan_vectors_and_mixed_dimensions_are_rejected(ws, capsys):
    ws.write_vectors("bad", "item", ws.item_ids(), np.where(np.arange(N_ITEMS)[:, None] == 2, np.nan, ws.item_vectors))
    ws.write_vectors("bad", "user", ws.user_ids(), ws.user_vectors)
    assert "NaN or infinite item vectors for 1 item(s) (e.g. 'i02')" in run_error(
        ["topk", "--view", "bad", "-w", str(ws.root)], capsys
    )
    ws.write_vectors("mixed", "item", ws.item_ids(), ws.item_vectors)
    ws.write_vectors("mixed", "user", ws.user_ids(), np.ones((N_USERS, DIM + 1), dtype=np.float32))
    assert "4-d user vectors but 3-d item vectors" in run_error(["topk", "--view", "mixed", "-w", str(ws.root)], capsys)


def test_cuda_without_cuda_is_a_clear_error(ws, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert "no CUDA device" in run_error(["topk", "--view", "cf", "--device", "cuda", "-w", str(ws.root)], capsys)


def test_library_functions_return_rows_written(ws):
    assert write_topk(ws, "cf", k=3, device="cpu", chunk_size=5) == N_USERS * 3
    assert write_neighbors(ws, "cf", k=2, device="cpu") == N_ITEMS * 2
