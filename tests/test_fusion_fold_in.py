"""``fuse --method ranker --fold-in``: the writing pass's history features (similarity to the history, the
user's activity, history popularity and text share) read the masked items (train + valid) as the history, the
fitting pass is unchanged, the test split is still never read, other methods and exclude = train refuse the
option, and the recorded command makes the same lists again."""

from __future__ import annotations

import json
import shlex

import pytest
from test_fusion_learned import N_USERS, _lists, split_users_workspace

import complement.fusion.learned as learned
from complement.errors import ConfigError
from complement.fusion import fuse


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return split_users_workspace(tmp_path_factory.mktemp("fold_in"))


def _history_items(mask, users: range) -> set[tuple[int, int]]:
    return {(u, int(i)) for u in users for i in mask.items[mask.indptr[u] : mask.indptr[u + 1]]}


def _split_pairs(ws, splits: tuple[str, ...]) -> set[tuple[int, int]]:
    users, items = ws.interaction_indices(splits)
    return set(zip(users.tolist(), items.tolist(), strict=True))


def test_the_writing_pass_reads_train_and_valid_as_history_and_the_fit_is_unchanged(ws, monkeypatch):
    histories = []
    real = learned.candidate_blocks

    def spy(views, seen, item_popularity, *, history, **kw):
        histories.append(_history_items(history, range(N_USERS)))
        return real(views, seen, item_popularity, history=history, **kw)

    monkeypatch.setattr(learned, "candidate_blocks", spy)
    user_histories = []
    real_static = learned.History.static_user_features

    def spy_static(self):
        user_histories.append(_history_items(self.train, range(N_USERS)))
        return real_static(self)

    monkeypatch.setattr(learned.History, "static_user_features", spy_static)
    plain = fuse(ws, "a,b", "ranker", "plain", k=20, exclude="train+valid", device="cpu")
    folded = fuse(ws, "a,b", "ranker", "folded", k=20, exclude="train+valid", device="cpu", fold_in=True)
    train, known = _split_pairs(ws, ("train",)), _split_pairs(ws, ("train", "valid"))
    assert train < known
    # fitting pass, writing pass; without and with fold-in
    assert histories == [train, train, train, known]
    # the user features (activity, history popularity, text share) likewise: fit, then the folded writing pass
    assert user_histories == [train, train, known]
    assert plain.fit == folded.fit  # the same fits, epochs and held-out curves
    assert _lists(ws, "plain") != _lists(ws, "folded")


def test_with_train_masked_alone_there_is_nothing_to_fold_in_and_it_is_refused(ws):
    with pytest.raises(ConfigError, match=r"^--fold-in reads the masked valid items .* exclude train the valid"):
        fuse(ws, "a,b", "ranker", "t-folded", k=20, exclude="train", device="cpu", fold_in=True)
    assert "t-folded" not in ws.parts("topk")


def test_the_folded_lists_do_not_depend_on_the_test_split(tmp_path):
    lists = []
    for seed in (None, 5):
        other = split_users_workspace(tmp_path / f"ws-{seed}", test_seed=seed)
        fuse(other, "a,b", "ranker", "fused", k=20, exclude="train+valid", device="cpu", fold_in=True)
        lists.append(_lists(other, "fused"))
    assert lists[0] == lists[1]


@pytest.mark.parametrize("method", ["score", "rrf", "gate", "cca", "concat"])
def test_other_methods_refuse_fold_in(ws, method):
    with pytest.raises(ConfigError, match=r"--fold-in is read by ranker only, not by " + method):
        fuse(ws, "a,b", method, f"no-{method}", k=20, device="cpu", fold_in=True)
    assert f"no-{method}" not in ws.parts("topk")


def test_the_recorded_command_flags_fold_in_and_makes_the_same_lists(ws):
    from complement.cli.app import main

    argv = ["fuse", "--views", "a,b", "--method", "ranker", "--view", "cli-f", "--k", "10", "--fold-in"]
    main([*argv, "--device", "cpu", "-w", str(ws.root)])
    row = ws.query("SELECT params FROM runs WHERE view = 'cli-f'").to_pylist()[-1]
    assert json.loads(row["params"])["fold_in"] is True
    made_by = ws.catalog().entries["topk/cli-f"].made_by
    assert made_by.endswith("--k 10 --fold-in"), made_by
    first = _lists(ws, "cli-f")
    main([*shlex.split(made_by)[1:], "--device", "cpu", "-w", str(ws.root)])
    assert _lists(ws, "cli-f") == first
    assert len(ws.query("SELECT params FROM runs WHERE view = 'cli-f'").to_pylist()) == 2


def test_an_experiment_fusion_takes_fold_in_for_the_ranker_only(tmp_path):
    from complement.experiment.schema import validate

    base = {
        "dataset": {"kind": "synthetic"},
        "view": [{"name": "a", "model": "pop"}, {"name": "b", "model": "lightgcn"}],
    }
    ok = {**base, "fusion": [{"name": "f", "views": ["a", "b"], "method": "ranker", "fold_in": True}]}
    validate(json.loads(json.dumps(ok)), "exp.toml")
    bad = {**base, "fusion": [{"name": "f", "views": ["a", "b"], "method": "score", "fold_in": True}]}
    with pytest.raises(ConfigError, match=r"fusion 'f'\.fold_in = True is read by ranker only"):
        validate(json.loads(json.dumps(bad)), "exp.toml")
    masked = {"name": "f", "views": ["a", "b"], "method": "ranker", "fold_in": True, "exclude": "train"}
    with pytest.raises(ConfigError, match=r"fusion 'f'\.fold_in = true reads the masked valid items"):
        validate({**base, "fusion": [masked]}, "exp.toml")
