"""`complement topk --shard I/N`: N shards together equal the unsharded view (rows and order), in one
process or N processes side by side; shards of another N, or made from older inputs, are refused; a
failing shard leaves the workspace as it was."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from child_env import child_env
from conftest import items_table
from reference_metrics import interactions_table

from complement import shards
from complement.errors import ComplementError
from complement.scoring import steps, write_topk
from complement.workspace import Workspace

N_USERS, N_ITEMS, DIM = 13, 17, 3  # 13 users: ranges of unequal size for N = 2, 3


def make_workspace(path: Path) -> Workspace:
    rng = np.random.default_rng(11)
    ws = Workspace(path)
    item_ids = [f"i{n:02d}" for n in range(N_ITEMS)]
    user_ids = [f"u{n:02d}" for n in range(N_USERS)]
    ws.write_table("items", items_table(item_ids, n_train=0))
    ws.write_table("users", pa.table({"user_id": user_ids, "user_idx": list(range(N_USERS)), "n_train": [0] * N_USERS}))
    rows = [
        (user_ids[u], item_ids[i], split)
        for u in range(N_USERS)
        for i, split in zip(rng.choice(N_ITEMS, size=5, replace=False), ["train"] * 4 + ["test"], strict=True)
    ]
    ws.write_table(
        "interactions",
        interactions_table(rows),
    )
    ws.write_vectors("cf", "item", item_ids, rng.integers(-2, 3, size=(N_ITEMS, DIM)).astype(np.float32))
    ws.write_vectors("cf", "user", user_ids, rng.integers(-2, 3, size=(N_USERS, DIM)).astype(np.float32))
    return ws


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return make_workspace(tmp_path / "ws")


def unsharded(tmp_path: Path) -> pa.Table:
    whole = make_workspace(tmp_path / "whole")
    write_topk(whole, "cf", k=5, device="cpu")
    return whole.read_table("topk", "cf")


@pytest.mark.parametrize("n", [1, 2, 3])
def test_n_shards_together_equal_the_unsharded_view(tmp_path, ws, n):
    want = unsharded(tmp_path)
    for i in range(1, n + 1):
        assert ws.parts("topk") == []  # a staged shard is not a view yet
        write_topk(ws, "cf", k=5, device="cpu", shard=f"{i}/{n}")
    assert ws.parts("topk") == ["cf"]
    assert len(ws.table_files("topk", "cf")) == n  # the shards' files, not a copy
    assert ws.read_table("topk", "cf").equals(want)
    assert shards.staged(ws, "topk", "cf") == {}
    # each part holds a contiguous user_idx range: shard I has users [(I-1)U/N, IU/N)
    for i, path in enumerate(ws.table_files("topk", "cf"), start=1):
        users = set(pq.read_table(path).column("user_idx").to_pylist())
        assert users == set(range((i - 1) * N_USERS // n, i * N_USERS // n))


def test_shards_in_any_order_merge_when_the_last_one_arrives(tmp_path, ws):
    want = unsharded(tmp_path)
    for i in (3, 1, 2):
        write_topk(ws, "cf", k=5, device="cpu", shard=f"{i}/3")
    assert ws.read_table("topk", "cf").equals(want)


def test_shards_run_in_parallel_processes(tmp_path, ws):
    want = unsharded(tmp_path)
    code = "import sys; from complement.scoring import write_topk; from complement.workspace import Workspace; "
    code += "write_topk(Workspace(sys.argv[1]), 'cf', k=5, device='cpu', shard=sys.argv[2])"
    env = child_env()
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(ws.root), f"{i}/3"], env=env, stderr=subprocess.PIPE)
        for i in (1, 2, 3)
    ]
    errors = [p.communicate()[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    assert ws.parts("topk") == ["cf"]
    assert ws.read_table("topk", "cf").equals(want)


def test_a_shard_of_another_n_is_refused(ws):
    write_topk(ws, "cf", k=5, device="cpu", shard="1/3")
    with pytest.raises(ComplementError, match=r"has shard 1/3 of 'topk' staged: run every shard with the same N"):
        write_topk(ws, "cf", k=5, device="cpu", shard="2/2")
    assert sorted(shards.staged(ws, "topk", "cf")) == [(1, 3)]


def test_a_shard_with_other_settings_is_refused(ws):
    write_topk(ws, "cf", k=5, device="cpu", shard="1/3")
    write_topk(ws, "cf", k=5, device="cpu", shard="2/3")
    with pytest.raises(ComplementError, match=r"shard 1/3 of view 'cf' was written with k=5, exclude=train\+valid"):
        write_topk(ws, "cf", k=4, device="cpu", shard="3/3")
    with pytest.raises(ComplementError, match=r"this one would be k=5, exclude=train: run every shard"):
        write_topk(ws, "cf", k=5, exclude="train", device="cpu", shard="3/3")
    assert sorted(shards.staged(ws, "topk", "cf")) == [(1, 3), (2, 3)]
    write_topk(ws, "cf", k=5, device="cpu", shard="3/3")
    assert ws.parts("topk") == ["cf"]


@pytest.mark.parametrize("order", ["same shard first", "other shard first"])
def test_shards_rerun_after_the_inputs_changed_restart_the_staging(tmp_path, ws, order):
    # each staged shard used to be checked against the inputs, its own earlier copy included, so after a change
    # every rerun was refused ("run all 2 shards again" could not be done) and only an unsharded run got out
    write_topk(ws, "cf", k=5, device="cpu", shard="1/2")
    ids, vectors = ws.read_vectors("cf", "user")
    ws.write_vectors("cf", "user", list(ids), vectors + 1)  # new user vectors: the staged shards are out of date
    first, second = ("1/2", "2/2") if order == "same shard first" else ("2/2", "1/2")
    write_topk(ws, "cf", k=5, device="cpu", shard=first)
    assert sorted(shards.staged(ws, "topk", "cf")) == [tuple(int(x) for x in first.split("/"))]
    assert ws.parts("topk") == []
    write_topk(ws, "cf", k=5, device="cpu", shard=second)
    assert ws.parts("topk") == ["cf"] and shards.staged(ws, "topk", "cf") == {}
    whole = make_workspace(tmp_path / "whole")
    whole.write_vectors("cf", "user", list(ids), vectors + 1)
    write_topk(whole, "cf", k=5, device="cpu")
    assert ws.read_table("topk", "cf").equals(whole.read_table("topk", "cf"))


def test_a_failing_shard_leaves_the_workspace_unchanged(ws, monkeypatch):
    write_topk(ws, "cf", k=5, device="cpu", shard="1/2")
    before = (ws.tables_dir / "_catalog.json").read_bytes()
    files = sorted(p.relative_to(ws.root) for p in ws.tables_dir.rglob("*.parquet"))

    def fail(*args, **kwargs):
        raise RuntimeError("device lost")

    monkeypatch.setattr(steps, "topk_indices", fail)
    with pytest.raises(RuntimeError, match="device lost"):
        write_topk(ws, "cf", k=5, device="cpu", shard="2/2")
    assert (ws.tables_dir / "_catalog.json").read_bytes() == before
    assert sorted(p.relative_to(ws.root) for p in ws.tables_dir.rglob("*.parquet")) == files


def test_an_unsharded_write_replaces_staged_shards(tmp_path, ws):
    write_topk(ws, "cf", k=5, device="cpu", shard="1/3")
    write_topk(ws, "cf", k=5, device="cpu")
    assert shards.staged(ws, "topk", "cf") == {}
    assert ws.read_table("topk", "cf").equals(unsharded(tmp_path))


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_a_bad_shard_is_one_line(ws, text):
    with pytest.raises(ComplementError, match="--shard"):
        write_topk(ws, "cf", k=5, device="cpu", shard=text)


def test_the_cli_runs_shards_and_refuses_shard_with_from(tmp_path, ws, capsys):
    from conftest import run_cli

    for i in (1, 2):
        code, out, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "cf", "--k", "5", "--shard", f"{i}/2")
        assert code == 0, err
        assert out == ""
    assert ws.read_table("topk", "cf").equals(unsharded(tmp_path))
    code, _, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "x", "--from", "x.csv", "--shard", "1/2")
    assert code == 1
    assert err.strip() == "Error: --shard applies to scoring vectors, not with --from FILE"
