"""A view is committed all-or-nothing: kill -9 at any instant, two writers, a full disk."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from child_env import child_env
from storage_checks import assert_consistent, snapshot

from complement.data.synth import synthesize
from complement.transaction import CRASH_ENV
from complement.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
SMALL = {"users": 150, "items": 90, "seed": 5}


def cli(*args: str, env: dict | None = None) -> subprocess.Popen:
    environment = child_env(**(env or {}))
    return subprocess.Popen(
        [sys.executable, "-m", "complement", *args],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def topk_rows(root: Path, view: str) -> list[tuple]:
    table = Workspace(root).read_table("topk", part=view).sort_by([("user_id", "ascending"), ("rank", "ascending")])
    return list(zip(table.column("user_id").to_pylist(), table.column("item_id").to_pylist(), strict=True))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A synthetic workspace with view 'mf' trained at 16 dimensions."""
    root = tmp_path_factory.mktemp("faults") / "ws"
    synthesize(root, **SMALL)
    code, _, err = finish(cli("train", "mf", "-w", str(root), "--dim", "16", "--epochs", "3", "--k", "20"))
    assert code == 0, err
    return root


TRAIN_32 = ("train", "mf", "--dim", "32", "--epochs", "6", "--k", "20", "--seed", "3")


@pytest.mark.parametrize("point", ["staged", "renamed-one", "before-catalog", "committed"])
def test_a_crash_inside_the_commit_leaves_the_old_or_the_new_view_whole(trained, tmp_path, point):
    root = tmp_path / "ws"
    shutil.copytree(trained, root)
    before = topk_rows(root, "mf")
    code, _, _ = finish(cli(*TRAIN_32, "-w", str(root), env={CRASH_ENV: point}))
    assert code == 137
    assert_consistent(root, strict=False)
    dims = {len(v) for v in Workspace(root).read_table("embeddings", part="mf").column("vector").to_pylist()}
    if point == "committed":
        assert dims == {32}
    else:
        assert dims == {16} and topk_rows(root, "mf") == before
    assert finish(cli("topk", "--view", "mf", "--k", "20", "-w", str(root)))[0] == 0
    assert_consistent(root)  # the next commit removed whatever the crash left


@pytest.mark.slow
def test_kill_9_at_random_instants_never_leaves_a_mixed_view_and_a_rerun_matches(trained, tmp_path):
    """SIGKILL at 20 seeded instants across train, topk and neighbors; after each the workspace is
    consistent, and finishing the command gives what an uninterrupted run gives.

    Each instant is a seeded fraction of that command's own uninterrupted duration, measured here, so
    most kills land while the command runs however loaded the machine is (a fixed range in seconds
    missed short commands on a slow CI machine)."""
    reference = tmp_path / "reference"
    shutil.copytree(trained, reference)
    assert finish(cli(*TRAIN_32, "-w", str(reference)))[0] == 0
    timing = tmp_path / "timing"
    shutil.copytree(trained, timing)
    commands = {
        "train": TRAIN_32,
        "topk": ("topk", "--view", "mf", "--k", "10"),
        "neighbors": ("neighbors", "--view", "mf", "--k", "5"),
    }
    durations = {}
    for name, command in commands.items():
        started = time.perf_counter()
        assert finish(cli(*command, "-w", str(timing)))[0] == 0
        durations[name] = time.perf_counter() - started

    root = tmp_path / "ws"
    shutil.copytree(trained, root)
    rng = random.Random(20261130)
    killed = 0
    for name in ["train"] * 10 + ["topk"] * 5 + ["neighbors"] * 5:
        process = cli(*commands[name], "-w", str(root))
        time.sleep(durations[name] * rng.uniform(0.1, 1.2))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.communicate()
        assert_consistent(root, strict=False)
    assert killed >= 5, "the instants were all after the command finished; the test measured nothing"
    assert finish(cli(*TRAIN_32, "-w", str(root)))[0] == 0
    assert_consistent(root)
    assert topk_rows(root, "mf") == topk_rows(reference, "mf")


def test_a_second_writer_of_the_same_view_fails_clearly_and_the_first_finishes(trained, tmp_path):
    import numpy as np

    from complement.runs import RunRecord, recorded

    root = tmp_path / "ws"
    shutil.copytree(trained, root)
    ws = Workspace(root)
    users, items = ws.user_ids(), ws.item_ids()
    with recorded(ws, RunRecord(step="first-writer", view="mf")):  # half-way through its work
        ws.write_vectors("mf", "user", users, np.ones((len(users), 4)))
        second = finish(cli("train", "mf", "--dim", "8", "--epochs", "1", "--k", "20", "-w", str(root)))
        ws.write_vectors("mf", "item", items, np.ones((len(items), 4)))
        ws.delete_part("topk", "mf")
    assert second[0] == 1
    assert second[2].strip().splitlines() == [second[2].strip()]
    assert "view 'mf' is being written by another command; wait for it to finish" in second[2]
    assert_consistent(root)
    dims = {len(v) for v in Workspace(root).read_table("embeddings", part="mf").column("vector").to_pylist()}
    assert dims == {4}


def test_writers_of_different_views_run_side_by_side(trained, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(trained, root)
    processes = [
        cli("train", "mf", "--view", name, "--dim", "8", "--epochs", "2", "--k", "10", "-w", str(root))
        for name in ("a", "b", "c")
    ]
    assert [finish(p)[0] for p in processes] == [0, 0, 0]
    assert_consistent(root)
    assert {"a", "b", "c", "mf"} <= set(Workspace(root).parts("topk"))
    runs = Workspace(root).query("SELECT view FROM runs WHERE step = 'train'").column(0).to_pylist()
    assert sorted(v for v in runs if v in ("a", "b", "c")) == ["a", "b", "c"]


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if not shutil.which("mount") or os.geteuid() != 0:
        return False
    return (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
        ).returncode
        == 0
    )


def test_a_full_disk_leaves_the_workspace_unchanged(trained, tmp_path):
    mount = tmp_path / "small-disk"
    if not _mount_tmpfs(mount, "2m"):
        pytest.skip("cannot mount a small tmpfs here (needs root and mount permission) to fill a disk")
    try:
        root = mount / "ws"
        shutil.copytree(trained, root)
        filler = mount / "filler"
        free = shutil.disk_usage(mount).free
        filler.write_bytes(b"\0" * max(0, free - 30_000))  # room for the lock files, not for a view
        before = snapshot(root)
        code, _, err = finish(cli("train", "mf", "--dim", "64", "--epochs", "1", "--k", "50", "-w", str(root)))
        assert code != 0 and code != 137
        assert "No space left on device" in err or "ENOSPC" in err or "space" in err.lower()
        assert snapshot(root) == before
        assert not any(p.name.endswith(".tmp") for p in root.rglob("*"))
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def test_runs_rows_from_many_commits_are_all_kept_and_compacted(tmp_path):
    from complement import transaction
    from complement.runs import RunRecord, recorded

    root = tmp_path / "ws"
    synthesize(root, **SMALL)
    ws = Workspace(root)
    for i in range(transaction.RUNS_FILES_BEFORE_COMPACTION + 3):
        with recorded(ws, RunRecord(step=f"step-{i}")):
            pass
    steps = set(ws.query("SELECT step FROM runs").column(0).to_pylist())
    assert {f"step-{i}" for i in range(transaction.RUNS_FILES_BEFORE_COMPACTION + 3)} <= steps
    assert len(ws.table_files("runs")) < transaction.RUNS_FILES_BEFORE_COMPACTION
    assert pq.read_table(ws.table_files("runs")).num_rows == len(ws.query("SELECT * FROM runs"))
