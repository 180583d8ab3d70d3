import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from complement import Workspace
from complement.cli.app import main
from complement.errors import WorkspaceError


def _items(n):
    return pa.table(
        {
            "item_id": [f"i{i}" for i in range(n)],
            "item_idx": list(range(n)),
            "title": [f"t{i}" for i in range(n)],
            "text": [f"text {i}" for i in range(n)],
            "n_train": [1] * n,
            "pop_group": ["cold"] * n,
        }
    )


def test_write_and_read_vectors_round_trip_in_index_order(tmp_path):
    ws = Workspace(tmp_path)
    ws.write_table("items", _items(3))
    matrix = np.arange(6, dtype=np.float32).reshape(3, 2)
    ws.write_vectors("sem", "item", ["i2", "i0", "i1"], matrix)
    ids, got = ws.read_vectors("sem", "item")
    assert list(ids) == ["i0", "i1", "i2"]
    np.testing.assert_array_equal(got, matrix[[1, 2, 0]])
    assert ws.views() == ["sem"]


def test_write_vectors_keeps_other_entity(tmp_path):
    ws = Workspace(tmp_path)
    ws.write_vectors("v", "item", ["a"], np.ones((1, 2)))
    ws.write_vectors("v", "user", ["u"], np.zeros((1, 2)))
    ws.write_vectors("v", "item", ["a"], np.full((1, 2), 3.0))
    assert ws.query("SELECT entity, count(*) AS n FROM embeddings GROUP BY 1 ORDER BY 1").to_pylist() == [
        {"entity": "item", "n": 1},
        {"entity": "user", "n": 1},
    ]
    _, m = ws.read_vectors("v", "item", order="stored")
    assert m.tolist() == [[3.0, 3.0]]


def test_missing_user_vectors_say_how_to_get_them(tmp_path):
    ws = Workspace(tmp_path)
    ws.write_vectors("v", "item", ["a"], np.ones((1, 2)))
    with pytest.raises(WorkspaceError, match="no user vectors"):
        ws.read_vectors("v", "user", order="stored")


def test_no_temporary_files_left_after_writes(tmp_path):
    ws = Workspace(tmp_path)
    ws.write_table("items", _items(2))
    ws.write_table("items", _items(3))
    found = (p.relative_to(ws.tables_dir) for p in ws.tables_dir.rglob("*"))
    visible = sorted(p.as_posix() for p in found if not any(part.startswith(".") for part in p.parts))
    assert visible == ["_catalog.json", "items", f"items/{ws.table_path('items').name}"]
    assert not list(ws.tables_dir.rglob("*.tmp")) and not (ws.tables_dir / ".staging").exists()


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM items",
        "DROP VIEW items",
        "COPY items TO 'out.csv'",
        "ATTACH 'other.db'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "CREATE TABLE t AS SELECT 1",
        "PRAGMA enable_profiling",
        "SET threads = 1",
        "SELECT 1; DELETE FROM items",
    ],
)
def test_sql_refuses_writes_and_leaves_tables_untouched(tmp_path, capsys, statement):
    ws = Workspace(tmp_path)
    ws.write_table("items", _items(3))
    before = ws.table_path("items").read_bytes()
    with pytest.raises(SystemExit) as exit_info:
        main(["sql", "-w", str(tmp_path), statement])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: refused:") and "read-only" in err
    assert ws.table_path("items").read_bytes() == before
    assert not (tmp_path / "out.csv").exists()


def test_sql_reads_tables_in_every_format(tmp_path, capsys):
    ws = Workspace(tmp_path)
    ws.write_table("items", _items(2))
    main(["sql", "-w", str(tmp_path), "SELECT item_id, item_idx FROM items ORDER BY item_idx", "-f", "csv"])
    assert capsys.readouterr().out == "item_id,item_idx\ni0,0\ni1,1\n"
    main(["sql", "-w", str(tmp_path), "SELECT count(*) AS n FROM items", "-f", "json"])
    assert capsys.readouterr().out.replace(" ", "").replace("\n", "") == '[{"n":2}]'
    main(["sql", "-w", str(tmp_path), "SELECT count(*) AS n FROM items", "-f", "markdown"])
    assert capsys.readouterr().out == "| n |\n|---|\n| 2 |\n"


def test_sql_cannot_read_files_outside_the_workspace(tmp_path, capsys):
    Workspace(tmp_path).write_table("items", _items(1))
    with pytest.raises(SystemExit):
        main(["sql", "-w", str(tmp_path), "SELECT * FROM read_csv('/etc/hostname')"])
    assert "Error:" in capsys.readouterr().err


def _append_runs(root: str, worker: int, n: int) -> None:
    from complement.runs import RunRecord, append_run

    ws = Workspace(root)
    for i in range(n):
        append_run(ws, RunRecord(step="test", view=f"w{worker}-{i}", params={"i": i}), dt.datetime.now(dt.UTC), 0.0)


def test_concurrent_commands_do_not_lose_runs_rows(tmp_path):
    """`runs` is rewritten on each append; two processes appending at once must keep every row."""
    import multiprocessing

    root = str(tmp_path / "ws")
    Workspace(root).tables_dir.mkdir(parents=True)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_runs, args=(root, w, 15)) for w in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    views = Workspace(root).query("SELECT view FROM runs").column("view").to_pylist()
    assert sorted(views) == sorted(f"w{w}-{i}" for w in range(4) for i in range(15))
    finished = Workspace(root).query("SELECT finished_at FROM runs").column("finished_at").to_pylist()
    assert len(set(finished)) == len(finished)  # strictly ordered, whatever the processes' clocks said


def test_runs_rows_finish_in_commit_order_when_the_clock_ties_or_steps_back(tmp_path):
    """ "The latest run" is read as the row with the latest ``finished_at`` (``complement run``'s skip check, the
    shards' settings, ``check_no_seen_items``). A row whose clock ties with or falls behind an earlier commit's is
    moved to 1 µs after it, so ``finished_at`` orders the rows as they were committed; the rest is kept."""
    from complement.experiment.execute import recorded_steps
    from complement.runs import RunRecord, append_run, run_row

    ws = Workspace(tmp_path / "ws")
    ws.tables_dir.mkdir(parents=True)
    now = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
    append_run(ws, RunRecord(step="run:topk", view="first", config_hash="a"), now, 2.0)
    append_run(ws, RunRecord(step="run:topk", view="tie", config_hash="b"), now, 2.0)
    append_run(ws, RunRecord(step="run:topk", view="behind", config_hash="c"), now - dt.timedelta(hours=1), 2.0)
    with ws.transaction() as txn:  # two rows of one commit keep the order they were added in
        txn.add_runs(run_row(RunRecord(step="run:topk", view="same-1", config_hash="d"), now, 1.0))
        txn.add_runs(run_row(RunRecord(step="run:topk", view="same-2", config_hash="e"), now, 1.0))
    rows = ws.query("SELECT view, started_at, finished_at, seconds FROM runs ORDER BY finished_at").to_pylist()
    assert [r["view"] for r in rows] == ["first", "tie", "behind", "same-1", "same-2"]
    base = now + dt.timedelta(seconds=2)
    assert [r["finished_at"] for r in rows] == [base + dt.timedelta(microseconds=i) for i in range(5)]
    assert [r["started_at"] for r in rows] == [now, now, now - dt.timedelta(hours=1), now, now]
    assert [r["seconds"] for r in rows] == [2.0, 2.0, 2.0, 1.0, 1.0]
    assert recorded_steps(ws)["topk"][0] == "e"  # the last committed row is the latest
    later = now + dt.timedelta(minutes=5)
    append_run(ws, RunRecord(step="run:topk", view="later", config_hash="f"), later, 2.0)
    assert ws.query("SELECT max(finished_at) AS t FROM runs").column("t")[0].as_py() == later + dt.timedelta(seconds=2)


def test_config_with_non_ascii_keys_and_unset_values_round_trips(tmp_path):
    ws = Workspace(tmp_path)
    config = {
        "dataset": {"kind": "generic", "path": "données.csv", "min_rating": None},
        "views": [{"name": "café", "model": "mf", "dim": 16}],
        "métadonnées": {"clé spéciale": "v"},
    }
    ws.write_config(config)
    assert ws.config == {
        "dataset": {"kind": "generic", "path": "données.csv"},
        "views": [{"name": "café", "model": "mf", "dim": 16}],
        "métadonnées": {"clé spéciale": "v"},
    }
