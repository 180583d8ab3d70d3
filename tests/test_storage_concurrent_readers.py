"""Commands writing different views of one workspace at the same time never delete a file the other
still reads: a commit removes superseded files only while no other command holds the readers lock
(``tables/.locks/readers``, held shared by transactions, reads and DuckDB connections)."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pyarrow as pa
from child_env import child_env
from storage_checks import assert_consistent
from test_storage_append import base, lists

from complement.workspace import Workspace

ENV = child_env()


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "complement", *args], env=ENV, capture_output=True, text=True, timeout=300
    )


def table_files_on_disk(root: Path) -> set[str]:
    tables = root / "tables"
    return {
        p.relative_to(tables).as_posix()
        for p in tables.rglob("*.parquet")
        if not any(s.startswith(".") for s in p.relative_to(tables).parts)
    }


def named_files(ws: Workspace) -> set[str]:
    return {f for entry in ws.catalog().entries.values() for f in entry.files}


def replace_view_in_another_process(root: Path, view: str, users: range) -> None:
    """Commit a new version of ``view`` from a second process (its commit collects garbage)."""
    code = textwrap.dedent(
        f"""
        from complement.workspace import Workspace
        from test_storage_append import lists
        Workspace({str(root)!r}).write_table("topk", lists(range({users.start}, {users.stop})), part={view!r})
        """
    )
    done = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_connection_keeps_its_files_while_another_process_replaces_the_view(tmp_path):
    ws = base(tmp_path / "ws")
    ws.write_table("topk", lists(range(0, 4)), part="v")
    old = set(ws.table_files("topk", "v"))
    con = ws.connect()  # its view `topk` names the old file
    replace_view_in_another_process(ws.root, "v", range(4, 9))
    assert all(f.is_file() for f in old), "a commit deleted a file a live connection reads"
    assert con.execute("SELECT count(DISTINCT user_id) FROM topk").fetchall() == [(4,)]  # the snapshot it was made on
    con.close()
    del con
    gc.collect()
    # no one reads any more: the next commit, from any process, removes the superseded file
    replace_view_in_another_process(ws.root, "w", range(0, 2))
    assert not any(f.exists() for f in old)
    assert table_files_on_disk(ws.root) == named_files(ws)
    assert len(set(ws.read_table("topk", "v").column("user_id").to_pylist())) == 5


def test_a_transaction_reads_its_snapshot_while_another_process_replaces_the_view(tmp_path):
    ws = base(tmp_path / "ws")
    ws.write_table("topk", lists(range(0, 4)), part="v")
    old = set(ws.table_files("topk", "v"))
    with ws.transaction(view="w"):
        replace_view_in_another_process(ws.root, "v", range(4, 9))
        assert all(f.is_file() for f in old)
        snapshot = ws.read_table("topk", "v")  # as the transaction began
        assert sorted(set(snapshot.column("user_id").to_pylist())) == [f"u{n}" for n in range(4)]
        ws.write_table("topk", lists(range(0, 2)).set_column(0, "view", pa.array(["w"] * 6)), part="w")
    # this transaction's own commit ran while it was the only reader: the superseded file is gone
    assert not any(f.exists() for f in old)
    assert table_files_on_disk(ws.root) == named_files(ws)


def test_a_superseded_file_waits_for_a_commit_made_while_no_one_reads(tmp_path):
    ws = base(tmp_path / "ws")
    ws.write_table("topk", lists(range(0, 4)), part="v")
    old = set(ws.table_files("topk", "v"))
    with ws.reading():
        replace_view_in_another_process(ws.root, "v", range(4, 9))
        replace_view_in_another_process(ws.root, "w", range(0, 2))
        assert all(f.is_file() for f in old)  # still read (maybe) here: both commits kept it
    ws.write_table("topk", lists(range(0, 3)), part="x")
    assert not any(f.exists() for f in old)
    assert table_files_on_disk(ws.root) == named_files(ws)


def test_two_commands_training_different_views_at_once_both_succeed(tmp_path):
    """The reproduction: `train pop --view pa` and `train random --view pb` looping side by side."""
    root = tmp_path / "ws"
    done = cli("synth", str(root), "--users", "300", "--items", "200")
    assert done.returncode == 0, done.stderr
    failures: list[str] = []

    def loop(*args: str) -> None:
        for _ in range(3):
            result = cli("train", *args, "-w", str(root))
            if result.returncode != 0 or "Error" in result.stderr or "Traceback" in result.stderr:
                failures.append(f"{args}: rc {result.returncode}: {result.stderr.strip()[-500:]}")

    threads = [
        threading.Thread(target=loop, args=("pop", "--view", "pa")),
        threading.Thread(target=loop, args=("random", "--view", "pb", "--dim", "4")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, "\n".join(failures)
    assert_consistent(root, strict=False)  # the last commits may have run while the other command read
    done = cli("train", "pop", "-w", str(root), "--view", "pa")  # alone: its commit removes what was left
    assert done.returncode == 0, done.stderr
    assert_consistent(root, strict=True)


def test_a_table_file_that_vanished_anyway_is_one_error_line(tmp_path):
    """A file removed by hand (not by a commit): DuckDB's IO error is one `Error:` line, not a traceback."""
    root = tmp_path / "ws"
    assert cli("synth", str(root), "--users", "60", "--items", "60").returncode == 0
    for path in (root / "tables" / "embeddings" / "truth_semantic").glob("*.parquet"):
        path.unlink()
    done = cli("train", "pop", "-w", str(root), "--view", "pa")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "truth_semantic" in lines[0], done.stderr
