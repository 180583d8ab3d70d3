"""Learned fusions (fuse --method gate | ranker): planted users whose hits come from one view only,
no use of the test split, the CLI choice and lineage."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_fusion_data import (
    recall_at,
    recall_of_users,
    replace_test_items,
    staleness_after_changing,
    write_interactions,
)

from complement import Workspace
from complement.fusion import fuse
from complement.fusion.training import holdout_split

N_USERS, N_ITEMS, DIM = 300, 200, 8


def split_users_workspace(root, *, test_seed: int | None = None) -> Workspace:
    """Two kinds of users: 'a-users' (even) choose items by view a's factors only and have 30 items,
    'b-users' (odd) by view b's only and have 15. Each view sees the other kind as noise, so a single
    weight for everybody fits neither kind while the user's activity tells which view to trust.
    ``test_seed`` replaces every test item by a random unseen one (train and valid unchanged)."""
    rng = np.random.default_rng(11)
    items_a, items_b = rng.normal(size=(N_ITEMS, DIM)), rng.normal(size=(N_ITEMS, DIM))
    users_a, users_b = rng.normal(size=(N_USERS, DIM)), rng.normal(size=(N_USERS, DIM))
    pairs: dict[str, list[tuple[int, int]]] = {"train": [], "valid": [], "test": []}
    for u in range(N_USERS):
        a_user = u % 2 == 0
        logits = (items_a @ users_a[u] if a_user else items_b @ users_b[u]) * 2.0
        n = 30 if a_user else 15
        chosen = np.argsort(-(logits + rng.gumbel(size=N_ITEMS)))[:n]
        n_hold = 3 if a_user else 2
        pairs["test"] += [(u, int(i)) for i in chosen[:n_hold]]
        pairs["valid"] += [(u, int(i)) for i in chosen[n_hold : 2 * n_hold]]
        pairs["train"] += [(u, int(i)) for i in chosen[2 * n_hold :]]
    if test_seed is not None:
        replace_test_items(pairs, N_ITEMS, test_seed)
    ws = Workspace(root)
    write_interactions(ws, N_USERS, N_ITEMS, pairs)
    item_ids, user_ids = [f"i{i}" for i in range(N_ITEMS)], [f"u{u}" for u in range(N_USERS)]
    ws.write_vectors("a", "item", item_ids, items_a.astype(np.float32))
    ws.write_vectors("b", "item", item_ids, items_b.astype(np.float32))
    ws.write_vectors("a", "user", user_ids, users_a.astype(np.float32))
    ws.write_vectors("b", "user", user_ids, users_b.astype(np.float32))
    return ws


@pytest.fixture(scope="module")
def split_users(tmp_path_factory):
    ws = split_users_workspace(tmp_path_factory.mktemp("split_users"))
    fuse(ws, "a,b", "score", "score", k=20, exclude="train+valid", device="cpu")
    return ws


def _lists(ws: Workspace, view: str) -> list[tuple]:
    return [
        tuple(r.values())
        for r in ws.query(
            "SELECT user_id, rank, item_id, score FROM topk WHERE view = $v ORDER BY user_id, rank", {"v": view}
        ).to_pylist()
    ]


def _recall_of(ws: Workspace, view: str, users: str) -> float:
    """Test Recall@20 over the even ('a') or odd ('b') users only."""
    return recall_of_users(ws, view, 2, 0 if users == "a" else 1)


def test_gate_learns_to_pick_the_view_each_kind_of_user_follows(split_users):
    result = fuse(split_users, "a,b", "gate", "gate", k=20, exclude="train+valid", device="cpu")
    per_weight = result.fit["users_per_weight"]
    # a-users (half) need a high weight of view a, b-users a low one; one weight for all sits between
    assert sum(per_weight[str(w)] for w in (0.7, 0.8, 0.9, 1.0)) >= 0.4 * N_USERS
    assert sum(per_weight[str(w)] for w in (0.0, 0.1, 0.2, 0.3)) >= 0.4 * N_USERS
    # one weight (tuned toward the a-users) serves the b-users badly; the gate serves both kinds
    assert _recall_of(split_users, "gate", "a") >= _recall_of(split_users, "score", "a") - 0.01
    assert _recall_of(split_users, "gate", "b") > _recall_of(split_users, "score", "b") + 0.2
    assert recall_at(split_users, "gate") > recall_at(split_users, "score") + 0.1


def test_ranker_learns_which_view_ranks_each_kind_of_user(split_users):
    result = fuse(split_users, "a,b", "ranker", "ranker", k=20, exclude="train+valid", device="cpu")
    assert result.fit["epochs"] > 0
    assert recall_at(split_users, "ranker") > recall_at(split_users, "score") + 0.05


@pytest.mark.parametrize("method", ["gate", "ranker"])
def test_fit_is_recorded_in_runs_and_the_list_masks_train_and_valid(split_users, method):
    fuse(split_users, "a,b", method, f"{method}-rec", k=20, exclude="train+valid", device="cpu")
    row = split_users.query(
        "SELECT params, metrics FROM runs WHERE step = 'fuse' AND view = $v", {"v": f"{method}-rec"}
    ).to_pylist()[-1]
    assert json.loads(row["params"])["method"] == method
    metrics = json.loads(row["metrics"])
    assert metrics["fit_users"] == N_USERS and "0" in metrics["holdout_recall@20"]
    seen = split_users.query(
        """SELECT count(*) FROM topk l JOIN interactions x USING (user_id, item_id)
           WHERE l.view = $v AND x.split IN ('train', 'valid')""",
        {"v": f"{method}-rec"},
    )
    assert seen.column(0)[0].as_py() == 0
    ranks = split_users.query(
        "SELECT min(rank), max(rank), count(*) FROM topk WHERE view = $v", {"v": f"{method}-rec"}
    ).to_pylist()[0]
    assert list(ranks.values()) == [1, 20, N_USERS * 20]


@pytest.mark.parametrize("method", ["gate", "ranker"])
def test_the_fused_lists_do_not_depend_on_the_test_split(tmp_path, method):
    lists = []
    for seed in (None, 5):
        ws = split_users_workspace(tmp_path / f"ws-{seed}", test_seed=seed)
        fuse(ws, "a,b", method, "fused", k=20, exclude="train+valid", device="cpu")
        lists.append(_lists(ws, "fused"))
    assert lists[0] == lists[1]


def test_learned_fusion_needs_a_valid_split(tmp_path):
    from complement.errors import ConfigError

    ws = split_users_workspace(tmp_path)
    ws.write_table(
        "interactions",
        ws.query("SELECT * REPLACE (CASE WHEN split = 'valid' THEN 'train' ELSE split END AS split) FROM interactions"),
    )
    with pytest.raises(ConfigError, match="fits on the valid split"):
        fuse(ws, "a,b", "gate", "gate", k=20, device="cpu")


def test_the_fused_view_goes_stale_when_a_source_view_changes(split_users):
    fuse(split_users, "a,b", "gate", "gate-lineage", k=10, exclude="train+valid", device="cpu")
    assert "embeddings/a" in (staleness_after_changing(split_users, "gate-lineage", "a", N_USERS) or "")


def test_cli_offers_gate_and_ranker(split_users, capsys):
    from complement.cli import app as app_module

    args = ["fuse", "--views", "a,b", "--view", "cli-ranker", "--k", "10", "--device", "cpu"]
    app_module.main([*args, "--method", "ranker", "--exclude", "train+valid", "-w", str(split_users.root)])
    rows = split_users.query("SELECT count(*) FROM topk WHERE view = 'cli-ranker'").column(0)[0].as_py()
    assert rows == N_USERS * 10
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        app_module.main([*args, "--method", "gating", "-w", str(split_users.root)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "gating" in err and "ranker" in err  # a usage error of the parser
    assert "gate" in err and "ranker" in err


def test_holdout_split_is_a_seeded_partition_with_a_fifth_held_out():
    fit, hold = holdout_split(50, seed=3)
    assert len(hold) == 10 and sorted([*fit, *hold]) == list(range(50))
    again_fit, again_hold = holdout_split(50, seed=3)
    assert list(hold) == list(again_hold) and list(fit) == list(again_fit)


def test_the_learned_fusions_compute_their_features_and_fit_in_float64(split_users):
    """A float32 feature or fit differs in the last bit with the CPU's kernels, and the fit amplifies it:
    on ml-100k the same views gave ranker lists whose share of the oracle gain differed by 0.016 between
    torch's vectorised and plain kernels in float32, by less than 1e-6 in float64 (docs/fusion.md)."""
    import torch

    from complement.fusion.features import candidate_blocks
    from complement.fusion.gating import GateModel
    from complement.fusion.kernels import SeenMask
    from complement.fusion.learned import history_of
    from complement.fusion.ranker import RankerModel, fit_ranker

    rng = np.random.default_rng(0)
    views = [
        (torch.from_numpy(rng.normal(size=(N_USERS, DIM)).astype(np.float32)), torch.from_numpy(item))
        for item in (rng.normal(size=(N_ITEMS, DIM)).astype(np.float32) for _ in range(2))
    ]
    history = history_of(split_users, N_USERS, N_ITEMS)
    block = next(
        candidate_blocks(views, history.train, history.item_popularity, depth=20, device="cpu", history=history.train)
    )
    assert block.features.dtype == torch.float64 and block.margins.dtype == torch.float64
    assert all(z.dtype == torch.float64 for z in block.z)
    valid = SeenMask(N_USERS, N_ITEMS, split_users.interaction_indices(("valid",))).block(
        block.start, block.stop, "cpu"
    )
    labels = valid.gather(1, block.items)
    sizes = labels.sum(dim=1).clamp(min=1).to(torch.float64)
    model, _ = fit_ranker(block.features.float(), block.valid, labels, sizes, (0.5, 0.5))
    assert all(p.dtype == torch.float64 for p in model.parameters())
    assert model(block.features.float()).dtype == torch.float64  # float32 rows are computed in float64
    assert isinstance(model, RankerModel)
    assert all(p.dtype == torch.float64 for p in GateModel(3, 11, model.scale, 0).parameters())
