"""The ranker over three views (fuse --method ranker --views A,B,C): planted users who follow one of three
views, the candidate features checked against a plain computation, the weight grid, the argument checks
(every other method takes exactly two views) and lineage."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import test_fusion_data as planted
import torch

from complement import Workspace
from complement.errors import ConfigError
from complement.fusion import fuse, parse_views
from complement.fusion.features import candidate_blocks, candidate_feature_names, user_feature_names
from complement.fusion.kernels import SeenMask
from complement.fusion.learned import MAX_START_WEIGHTS, _best_weight, weight_grid

N_USERS, N_ITEMS, DIM = 300, 200, 8
VIEWS = ("a", "b", "c")


def three_kinds_workspace(root, *, test_seed: int | None = None) -> Workspace:
    """User u follows view ``VIEWS[u % 3]`` only: its items are drawn from that view's factors, so each view
    sees the other two kinds as noise. A fusion of two of the views cannot serve the third kind.
    ``test_seed`` replaces every test item by a random unseen one (train and valid unchanged)."""
    rng = np.random.default_rng(5)
    items = {v: rng.normal(size=(N_ITEMS, DIM)) for v in VIEWS}
    users = {v: rng.normal(size=(N_USERS, DIM)) for v in VIEWS}
    pairs: dict[str, list[tuple[int, int]]] = {"train": [], "valid": [], "test": []}
    for u in range(N_USERS):
        view = VIEWS[u % 3]
        logits = items[view] @ users[view][u] * 2.0
        chosen = np.argsort(-(logits + rng.gumbel(size=N_ITEMS)))[:24]
        pairs["test"] += [(u, int(i)) for i in chosen[:3]]
        pairs["valid"] += [(u, int(i)) for i in chosen[3:6]]
        pairs["train"] += [(u, int(i)) for i in chosen[6:]]
    if test_seed is not None:
        planted.replace_test_items(pairs, N_ITEMS, test_seed)
    ws = Workspace(root)
    planted.write_interactions(ws, N_USERS, N_ITEMS, pairs)
    item_ids, user_ids = [f"i{i}" for i in range(N_ITEMS)], [f"u{u}" for u in range(N_USERS)]
    for v in VIEWS:
        ws.write_vectors(v, "item", item_ids, items[v].astype(np.float32))
        ws.write_vectors(v, "user", user_ids, users[v].astype(np.float32))
    return ws


@pytest.fixture(scope="module")
def three_kinds(tmp_path_factory):
    return three_kinds_workspace(tmp_path_factory.mktemp("three_kinds"))


def _recall_of_kind(ws: Workspace, view: str, kind: int) -> float:
    """Test Recall@20 over the users u with u % 3 == kind."""
    return planted.recall_of_users(ws, view, 3, kind)


def test_a_ranker_over_three_views_serves_the_kind_that_two_views_miss(three_kinds):
    result = fuse(three_kinds, "a,b,c", "ranker", "ranker-abc", k=20, exclude="train+valid", device="cpu")
    fuse(three_kinds, "a,b", "ranker", "ranker-ab", k=20, exclude="train+valid", device="cpu")
    start = result.fit["start_weight"]
    assert len(start) == 3 and math.isclose(sum(start), 1.0)
    # the c-users' items come from view c alone: only the three-view ranker has them among its candidates
    assert _recall_of_kind(three_kinds, "ranker-abc", 2) > _recall_of_kind(three_kinds, "ranker-ab", 2) + 0.2
    assert planted.recall_at(three_kinds, "ranker-abc") > planted.recall_at(three_kinds, "ranker-ab") + 0.05
    # and it is at least as good on the kinds that the two-view ranker does see
    for kind in (0, 1):
        assert _recall_of_kind(three_kinds, "ranker-abc", kind) >= _recall_of_kind(three_kinds, "ranker-ab", kind) - 0.1


def test_a_ranker_over_five_views_starts_from_fifths(three_kinds):
    item_ids, user_ids = [f"i{i}" for i in range(N_ITEMS)], [f"u{u}" for u in range(N_USERS)]
    for copy, source in (("d", "a"), ("e", "b")):  # two more views: noisy copies of a and b
        for entity, ids in (("item", item_ids), ("user", user_ids)):
            _, vectors = three_kinds.read_vectors(source, entity)
            noise = np.random.default_rng(len(copy)).normal(scale=0.5, size=vectors.shape).astype(np.float32)
            three_kinds.write_vectors(copy, entity, ids, vectors + noise)
    result = fuse(three_kinds, "a,b,c,d,e", "ranker", "ranker-5", k=20, exclude="train+valid", device="cpu")
    start = result.fit["start_weight"]
    assert len(start) == 5 and math.isclose(sum(start), 1.0) and all(round(5 * w, 9) == round(5 * w) for w in start)
    assert three_kinds.query("SELECT count(*) FROM topk WHERE view = 'ranker-5'").column(0)[0].as_py() == N_USERS * 20


def test_three_view_lists_mask_train_and_valid_and_are_recorded(three_kinds):
    fuse(three_kinds, ["c", "a", "b"], "ranker", "ranker-rec", k=20, exclude="train+valid", device="cpu")
    row = three_kinds.query("SELECT params, metrics FROM runs WHERE step = 'fuse' AND view = 'ranker-rec'").to_pylist()[
        -1
    ]
    assert json.loads(row["params"])["views"] == ["c", "a", "b"]
    assert json.loads(row["metrics"])["fit_users"] == N_USERS
    seen = three_kinds.query(
        """SELECT count(*) FROM topk l JOIN interactions x USING (user_id, item_id)
           WHERE l.view = 'ranker-rec' AND x.split IN ('train', 'valid')"""
    )
    assert seen.column(0)[0].as_py() == 0
    per_user = three_kinds.query(
        "SELECT count(*), count(DISTINCT item_id), min(rank), max(rank) FROM topk "
        "WHERE view = 'ranker-rec' GROUP BY user_id"
    ).to_pylist()
    assert len(per_user) == N_USERS and all(list(r.values()) == [20, 20, 1, 20] for r in per_user)


@pytest.mark.parametrize("fits", [1, 3])
def test_the_three_view_list_does_not_depend_on_the_test_split(tmp_path, fits):
    lists = []
    for seed in (None, 9):
        ws = three_kinds_workspace(tmp_path / f"ws-{seed}", test_seed=seed)
        fuse(ws, "a,b,c", "ranker", "fused", k=20, exclude="train+valid", device="cpu", fits=fits)
        lists.append(
            ws.query("SELECT user_id, rank, item_id, score FROM topk WHERE view = 'fused' ORDER BY ALL").to_pylist()
        )
    assert lists[0] == lists[1]


def test_the_three_view_list_goes_stale_when_the_third_view_changes(three_kinds):
    fuse(three_kinds, "a,b,c", "ranker", "ranker-lineage", k=10, exclude="train+valid", device="cpu")
    assert "embeddings/c" in (planted.staleness_after_changing(three_kinds, "ranker-lineage", "c", N_USERS) or "")


@pytest.mark.parametrize("method", ["score", "rrf", "concat", "gate", "cca"])
def test_every_other_method_takes_exactly_two_views(three_kinds, method):
    with pytest.raises(ConfigError, match=r"two different view names.*ranker takes more"):
        fuse(three_kinds, "a,b,c", method, "nope", device="cpu")
    assert "nope" not in three_kinds.parts("topk")


@pytest.mark.parametrize("views", ["a", "a,a", "a,b,a", ""])
def test_a_ranker_needs_two_or_more_different_views(views):
    with pytest.raises(ConfigError, match="two or more different view names"):
        parse_views(views, "ranker")


def test_the_cli_fuses_three_views_with_the_ranker_only(three_kinds, capsys):
    from complement.cli import app as app_module

    args = ["fuse", "--views", "a,b,c", "--k", "10", "--device", "cpu", "-w", str(three_kinds.root)]
    app_module.main([*args, "--method", "ranker", "--view", "cli-abc", "--exclude", "train+valid"])
    assert three_kinds.query("SELECT count(*) FROM topk WHERE view = 'cli-abc'").column(0)[0].as_py() == N_USERS * 10
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        app_module.main([*args, "--method", "score", "--view", "cli-score"])
    assert exit_info.value.code != 0 and "ranker takes more" in capsys.readouterr().err
    assert "cli-score" not in three_kinds.parts("topk")


def _experiment_with_fusion(tmp_path, views: list[str], method: str, extra: str = ""):
    """An experiment file over synthetic data with views a (mf), b (lightgcn), c (pop) and one fusion f."""
    path = tmp_path / "complement.toml"
    views_toml = "[" + ", ".join(f'"{v}"' for v in views) + "]"
    path.write_text(
        f"""
[dataset]
kind = "synthetic"
[[view]]
name = "a"
model = "mf"
[[view]]
name = "b"
model = "lightgcn"
[[view]]
name = "c"
model = "pop"
[[fusion]]
name = "f"
views = {views_toml}
method = "{method}"
{extra}
""",
        encoding="utf-8",
    )
    return path


def test_an_experiment_fusion_takes_three_views_for_the_ranker_only(tmp_path):
    from complement.experiment import load

    assert load(_experiment_with_fusion(tmp_path, ["a", "b", "c"], "ranker"))["fusion"][0]["views"] == ["a", "b", "c"]
    with pytest.raises(ConfigError, match="exactly two different views"):
        load(_experiment_with_fusion(tmp_path, ["a", "b", "c"], "score"))
    with pytest.raises(ConfigError, match="two or more different views"):
        load(_experiment_with_fusion(tmp_path, ["a", "b", "a"], "ranker"))


def test_the_weight_grid_is_the_pairs_for_two_views_and_the_simplex_for_three():
    assert weight_grid(2) == [(w, 1.0 - w) for w in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)]
    grid = weight_grid(3)
    assert len(grid) == 66 and len(set(grid)) == 66
    assert all(math.isclose(sum(w), 1.0) and all(round(10 * x, 9) == round(10 * x) for x in w) for w in grid)
    # ties: equal weights (as near as the grid allows), then the smaller first weight; two views: 0.5
    assert grid[_best_weight(np.ones((4, 66)), grid)] == (0.3, 0.3, 0.4)
    assert weight_grid(2)[_best_weight(np.ones((4, 11)), weight_grid(2))][0] == 0.5
    # five views and more: a coarser step keeps the grid within MAX_START_WEIGHTS (built without enumerating
    # every product of steps, which would not finish for ten views)
    assert len(weight_grid(4)) == 286 and len(weight_grid(5)) == 126 and weight_grid(5)[1][-2:] == (0.2, 0.8)
    for n in (5, 6, 7, 8, 10, 30):
        grid_n = weight_grid(n)
        assert 1 < len(grid_n) <= MAX_START_WEIGHTS and all(math.isclose(sum(w), 1.0) for w in grid_n)
        assert all(len(w) == n for w in grid_n) and len(set(grid_n)) == len(grid_n)
    recall = np.zeros((1, 66))
    recall[0, grid.index((0.0, 0.2, 0.8))] = 1.0
    assert grid[_best_weight(recall, grid)] == (0.0, 0.2, 0.8)


def test_the_margin_is_the_z_of_the_top_item_less_that_of_the_20th():
    rng = np.random.default_rng(4)
    n_items = 30
    views = [
        (torch.from_numpy(rng.normal(size=(3, 4))).float(), torch.from_numpy(rng.normal(size=(n_items, 4))).float())
    ]
    views.append(views[0])
    seen = SeenMask(3, n_items, (np.array([0, 2] * 6), np.array(range(12))))  # users 0 and 2: 24 items unmasked
    (block,) = candidate_blocks(
        views, seen, np.ones(n_items, dtype=np.int64), depth=5, device=torch.device("cpu"), history=seen
    )
    for u in range(3):
        z = np.sort(block.z_a[u][~block.mask[u]].numpy())[::-1]
        assert float(block.margins[u, 0]) == pytest.approx(z[0] - z[19], abs=1e-5)


def test_three_view_candidates_and_features_equal_a_plain_computation():
    """Two users, five items, three views of 2-d vectors: the union of the top-2 lists in view order, each
    item valid once, and every feature recomputed with numpy."""
    rng = np.random.default_rng(2)
    n_users, n_items, depth = 2, 5, 2
    views = [(rng.normal(size=(n_users, 2)), rng.normal(size=(n_items, 2))) for _ in range(3)]
    train = (np.array([0, 0, 1]), np.array([0, 3, 4]))
    seen = SeenMask(n_users, n_items, train)
    popularity = np.array([3, 0, 1, 2, 5])
    tensors = [(torch.from_numpy(u).float(), torch.from_numpy(i).float()) for u, i in views]
    (block,) = candidate_blocks(
        tensors, seen, popularity, depth=depth, device=torch.device("cpu"), history=seen, chunk_size=8
    )
    names = candidate_feature_names(3)
    assert block.features.shape == (n_users, 3 * depth, len(names)) and block.margins.shape == (n_users, 3)
    assert len(user_feature_names(3)) == 6 and candidate_feature_names(2)[:2] == ("z_a", "z_b")
    history = {0: [0, 3], 1: [4]}
    for u in range(n_users):
        unmasked = [i for i in range(n_items) if i not in history[u]]
        expected_items, listed = [], set()
        zs, ranks = [], []
        for user, item in views:
            scores = {i: float(np.float32(user[u]) @ np.float32(item[i])) for i in unmasked}
            values = np.array([scores[i] for i in unmasked])
            z = {i: (scores[i] - values.mean()) / values.std() for i in unmasked}
            order = sorted(unmasked, key=lambda i: (-scores[i], i))
            zs.append(z)
            ranks.append({i: order.index(i) + 1 for i in unmasked})
            expected_items += [(i, i not in listed) for i in order[:depth]]
            listed |= set(order[:depth])
        got_items = block.items[u].tolist()
        assert [(i, bool(ok)) for i, ok in zip(got_items, block.valid[u].tolist(), strict=True)] == expected_items
        units = [item / np.linalg.norm(item, axis=1, keepdims=True) for _, item in views]
        for column, i in enumerate(got_items):
            row = dict(zip(names, block.features[u, column].tolist(), strict=True))
            for v, letter in enumerate("abc"):
                assert row[f"z_{letter}"] == pytest.approx(zs[v][i], abs=1e-4)
                assert row[f"log_rank_{letter}"] == pytest.approx(math.log(ranks[v][i]) / math.log1p(n_items), abs=1e-6)
                assert row[f"top20_{letter}"] == (1.0 if ranks[v][i] <= 20 else 0.0)
                cosines = [float(units[v][i] @ units[v][h]) for h in history[u]]
                assert row[f"max_similarity_{letter}"] == pytest.approx(max(cosines), abs=1e-5)
                assert row[f"mean_similarity_{letter}"] == pytest.approx(sum(cosines) / len(cosines), abs=1e-5)
            assert row["log_popularity"] == pytest.approx(math.log1p(popularity[i]) / math.log1p(n_items), abs=1e-6)
        for v in range(3):  # margin: z of the top item minus z of the 20th; 0 with fewer than 20 unmasked items
            assert float(block.margins[u, v]) == 0.0


def test_the_fitted_ranker_comes_back_on_the_cpu():
    from complement.fusion.ranker import fit_ranker

    rng = np.random.default_rng(0)
    inputs = torch.from_numpy(rng.normal(size=(40, 6, 5)).astype(np.float32))
    valid = torch.ones(40, 6, dtype=torch.bool)
    labels = torch.from_numpy(rng.random((40, 6)) < 0.3)
    model, _ = fit_ranker(inputs, valid, labels, labels.sum(dim=1).clamp(min=1), (0.5, 0.5))
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    assert model.scale.mean.device.type == model.scale.std.device.type == "cpu"
    assert model(inputs).shape == (40, 6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_ranker_fitted_on_cuda_serves_like_one_fitted_on_the_cpu(three_kinds):
    """The fit runs on the device; float sums in another order may move a near tie, not the result."""
    cpu = fuse(three_kinds, "a,b,c", "ranker", "ranker-cpu", k=20, exclude="train+valid", device="cpu")
    cuda = fuse(three_kinds, "a,b,c", "ranker", "ranker-cuda", k=20, exclude="train+valid", device="cuda")
    assert cuda.fit["start_weight"] == cpu.fit["start_weight"]
    assert abs(planted.recall_at(three_kinds, "ranker-cuda") - planted.recall_at(three_kinds, "ranker-cpu")) < 0.02


@pytest.mark.parametrize("n_views, grid_kind", [(3, "simplex"), (4, "simplex"), (3, "vertex"), (4, "centre")])
def test_the_grid_of_three_views_or_more_scores_like_the_full_rows(n_views, grid_kind):
    """Score fusion's validation hits for every start-weight vector, computed on the columns that can reach
    a top 20, equal a plain stable sort of the full fused rows: with ties (integer vectors), users with
    fewer unmasked items than 20, and groups of users of different widths."""
    from complement.fusion import learned

    rng = np.random.default_rng(n_views)
    n_users, n_items = 300, 500
    views = [
        (
            torch.from_numpy(rng.integers(-2, 3, size=(n_users, 4)).astype(np.float32)),
            torch.from_numpy(rng.integers(-2, 3, size=(n_items, 4)).astype(np.float32)),
        )
        for _ in range(n_views)
    ]
    pairs = [(u, int(i)) for u in range(n_users) for i in rng.choice(n_items, 30, replace=False)]
    pairs += [(u, i) for u in range(5) for i in range(n_items - 10)]  # five users keep about ten items
    seen = SeenMask(n_users, n_items, (np.array([u for u, _ in pairs]), np.array([i for _, i in pairs])))
    truth_pairs = [(u, int(i)) for u in range(n_users) for i in rng.choice(n_items, 8, replace=False)]
    truth_mask = SeenMask(n_users, n_items, tuple(np.array(c) for c in zip(*truth_pairs, strict=True)))
    grid = {
        "simplex": weight_grid(n_views),
        "vertex": [(1.0,) + (0.0,) * (n_views - 1)],  # a single weight vector: the threshold is its own 20th
        "centre": [(1.0 / n_views,) * n_views],
    }[grid_kind]
    pruned_somewhere = False
    for block in candidate_blocks(
        views, seen, np.ones(n_items), depth=20, device=torch.device("cpu"), history=seen, chunk_size=70
    ):
        truth = truth_mask.block(block.start, block.stop, torch.device("cpu"))
        expected = torch.zeros((block.stop - block.start, len(grid)), dtype=torch.float64)
        for j, weights in enumerate(grid):
            full = learned.weighted_sum(block.z, weights).masked_fill(block.mask, float("-inf"))
            order = torch.sort(full, dim=1, descending=True, stable=True).indices[:, :20]
            expected[:, j] = truth.gather(1, order).sum(dim=1).to(torch.float64)
        assert torch.equal(learned.grid_hits(block, truth, grid), expected)
        best, threshold = learned.reach(block, grid, 20)
        pruned_somewhere |= bool(((best >= threshold.unsqueeze(1)).sum(dim=1) < n_items).any())
        if block.start == 0:
            assert bool(torch.isinf(threshold[:5]).all())  # too few items left: every column
    assert pruned_somewhere


def _fuse_record(ws: Workspace, view: str) -> tuple[dict, dict]:
    row = ws.query(f"SELECT params, metrics FROM runs WHERE step = 'fuse' AND view = '{view}'").to_pylist()[-1]
    return json.loads(row["params"]), json.loads(row["metrics"])


def test_fits_average_rankers_fitted_on_different_held_out_fifths(three_kinds):
    fuse(three_kinds, "a,b,c", "ranker", "fits-1", k=20, exclude="train+valid", device="cpu")
    fuse(three_kinds, "a,b,c", "ranker", "fits-3", k=20, exclude="train+valid", device="cpu", fits=3)
    params_1, metrics_1 = _fuse_record(three_kinds, "fits-1")
    params_3, metrics_3 = _fuse_record(three_kinds, "fits-3")
    assert params_1["fits"] == 1 and params_3["fits"] == 3
    assert "fits" not in metrics_1 and isinstance(metrics_1["epochs"], int)
    assert metrics_3["fits"] == 3 and len(metrics_3["epochs"]) == len(metrics_3["holdout_recall@20"]) == 3
    # the first fit is the single fit (held-out fifth of seed 0); the others hold out other users
    assert metrics_3["epochs"][0] == metrics_1["epochs"]
    assert metrics_3["holdout_recall@20"][0] == metrics_1["holdout_recall@20"]
    assert metrics_3["holdout_recall@20"][1] != metrics_3["holdout_recall@20"][0]
    assert planted.recall_at(three_kinds, "fits-3") >= planted.recall_at(three_kinds, "fits-1") - 0.05


def test_a_bag_scores_the_mean_of_its_fits_and_its_first_fit_is_the_single_one():
    from complement.fusion.ranker import RankerBag, fit_ranker

    rng = np.random.default_rng(1)
    inputs = torch.from_numpy(rng.normal(size=(200, 8, 5)).astype(np.float32))
    valid = torch.ones(200, 8, dtype=torch.bool)
    labels = (inputs[:, :, 2] + 0.5 * torch.from_numpy(rng.normal(size=(200, 8)).astype(np.float32))) > 1.0
    sizes = labels.sum(dim=1).clamp(min=1).to(torch.float64)
    single, _ = fit_ranker(inputs, valid, labels, sizes, (0.5, 0.5))
    bag, reports = fit_ranker(inputs, valid, labels, sizes, (0.5, 0.5), fits=4)
    assert isinstance(bag, RankerBag) and len(bag.models) == len(reports) == 4
    for p, q in zip(single.parameters(), bag.models[0].parameters(), strict=True):
        assert torch.equal(p, q)
    with torch.no_grad():
        expected = torch.stack([m(inputs) for m in bag.models]).mean(dim=0)
        assert torch.equal(bag(inputs), expected)
    assert {p.device.type for p in bag.parameters()} == {"cpu"}


@pytest.mark.parametrize(
    "method, fits, message",
    [
        ("ranker", 0, "whole number from 1 to 50"),
        ("ranker", 2.5, "whole number from 1 to 50"),
        ("ranker", True, "whole number from 1 to 50"),
        ("ranker", 51, "whole number from 1 to 50"),
        ("score", 3, "the ranker's option"),
        ("gate", 2, "the ranker's option"),
    ],
)
def test_bad_fits_are_refused_before_anything_is_written(three_kinds, method, fits, message):
    views = "a,b,c" if method == "ranker" else "a,b"
    with pytest.raises(ConfigError, match=message):
        fuse(three_kinds, views, method, "bad-fits", device="cpu", fits=fits)
    assert "bad-fits" not in three_kinds.parts("topk")


def test_fits_through_the_cli_the_library_and_an_experiment(three_kinds, tmp_path, capsys):
    import complement
    from complement.cli import app as app_module
    from complement.experiment import load

    args = ["fuse", "--views", "a,b,c", "--method", "ranker", "--k", "10", "--device", "cpu"]
    args += ["-w", str(three_kinds.root)]
    app_module.main([*args, "--view", "cli-fits", "--fits", "2", "--exclude", "train+valid"])
    assert _fuse_record(three_kinds, "cli-fits")[1]["fits"] == 2
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        app_module.main([*args, "--view", "cli-fits-0", "--fits", "0"])
    assert exit_info.value.code != 0 and "cli-fits-0" not in three_kinds.parts("topk")
    with pytest.raises(ConfigError, match="fits"):
        complement.fuse(three_kinds, "a,b,c", "ranker", "lib-fits", fits=51, device="cpu")
    assert load(_experiment_with_fusion(tmp_path, ["a", "b"], "ranker", "fits = 3"))["fusion"][0]["fits"] == 3
    with pytest.raises(ConfigError, match=r"fusion 'f'.*the ranker's option"):
        load(_experiment_with_fusion(tmp_path, ["a", "b"], "score", "fits = 3"))


def test_the_fit_is_the_same_on_one_thread_and_on_two():
    """The loop pins torch to one CPU thread: with two, the gradient sums over 3,000 users split across threads
    and the weights differ in the last bits (checked when this was written), which can move a near tie."""
    from complement.fusion.ranker import fit_ranker

    rng = np.random.default_rng(1)
    inputs = torch.from_numpy(rng.normal(size=(3000, 40, 20)).astype(np.float32))
    valid = torch.ones(3000, 40, dtype=torch.bool)
    labels = (inputs[:, :, 2] + torch.from_numpy(rng.normal(size=(3000, 40)).astype(np.float32))) > 1.5
    sizes = labels.sum(dim=1).clamp(min=1).to(torch.float64)
    before = torch.get_num_threads()
    weights = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            model, reports = fit_ranker(inputs, valid, labels, sizes, (0.5, 0.5))
            assert torch.get_num_threads() == threads and reports[0].epochs > 0
            weights.append(torch.cat([p.flatten() for p in model.parameters()]))
    finally:
        torch.set_num_threads(before)
    assert torch.equal(weights[0], weights[1])
