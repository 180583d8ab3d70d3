"""Stale results are refused: each derived table knows the fingerprints of what it was made from."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_cli

from complement.data.loaders import ingest
from complement.data.synth import synthesize
from complement.diagnostics import diagnose
from complement.embed.importer import import_vectors
from complement.embed.train import train_view
from complement.errors import StaleError
from complement.scoring import write_topk
from complement.workspace import Workspace

SMALL = {"users": 120, "items": 80, "seed": 4}


@pytest.fixture
def ws(tmp_path) -> Workspace:
    synthesize(tmp_path / "ws", **SMALL)
    ws = Workspace(tmp_path / "ws")
    train_view(ws, "pop", k=20)
    return ws


def resplit(ws: Workspace, seed: int) -> None:
    config = ws.config
    config["split"]["seed"] = seed
    ingest(ws, config)


def test_a_fresh_view_is_scored(ws):
    assert ws.stale("topk", "pop") is None
    assert diagnose(ws, "metrics", k=10).num_rows == 1


def test_a_new_split_makes_trained_views_stale_and_names_the_refresh(ws, capsys):
    resplit(ws, 99)
    with pytest.raises(StaleError) as info:
        diagnose(ws, "metrics", k=10)
    message = str(info.value)
    assert "view 'pop' is stale" in message and "'interactions'" in message
    # the command as recorded (the settings that were not the defaults), with the workspace to paste it
    assert f"`complement train pop --view pop --k 20 -w {ws.root}`" in message and "--allow-stale" in message
    code, _, err = run_cli(capsys, "diagnose", "--sql", "metrics", "-w", str(ws.root), "--k", "10")
    assert code == 1 and err.strip().splitlines() == [f"Error: {message}"]
    assert diagnose(ws, "metrics", k=10, allow_stale=True).num_rows == 1
    train_view(ws, "pop", k=20)
    assert ws.stale("topk", "pop") is None and diagnose(ws, "metrics", k=10).num_rows == 1


def test_the_same_split_again_keeps_views_fresh(ws):
    resplit(ws, ws.config["split"]["seed"])
    assert ws.stale("topk", "pop") is None


def test_another_dataset_in_the_same_folder_makes_views_stale(ws, tmp_path):
    synthesize(ws.root, **{**SMALL, "seed": 5})
    reason = Workspace(ws.root).stale("topk", "pop")
    assert reason is not None and reason.refresh == "complement train pop --view pop --k 20"


def test_imported_vectors_survive_a_new_split_but_their_lists_do_not(ws, tmp_path):
    items, users = ws.item_ids(), ws.user_ids()
    rng = np.random.default_rng(0)
    np.save(tmp_path / "items.npy", rng.normal(size=(len(items), 4)))
    np.save(tmp_path / "users.npy", rng.normal(size=(len(users), 4)))
    (tmp_path / "items.txt").write_text("\n".join(items))
    (tmp_path / "users.txt").write_text("\n".join(users))
    import_vectors(ws, "mine", tmp_path / "items.npy", tmp_path / "items.txt", entity="item")
    import_vectors(ws, "mine", tmp_path / "users.npy", tmp_path / "users.txt", entity="user")
    write_topk(ws, "mine", k=10)
    resplit(ws, 77)
    assert ws.stale("embeddings", "mine") is None  # the vectors depend on the ids only
    reason = ws.stale("topk", "mine")
    assert (
        reason is not None and reason.entry == "topk/mine" and reason.refresh.startswith("complement topk --view mine")
    )


def test_new_vectors_make_the_old_lists_stale(ws, tmp_path):
    # imported vectors and the lists `topk` computed from them: new item vectors make the lists stale, and the
    # command named to refresh them is that `topk` (importing into a trained view is refused: viewkind.py)
    from complement.scoring import write_topk

    items, users, dim = ws.item_ids(), ws.user_ids(), 4
    rng = np.random.default_rng(0)
    for entity, ids in (("item", items), ("user", users)):
        np.save(tmp_path / f"{entity}s.npy", rng.normal(size=(len(ids), dim)))
        (tmp_path / f"{entity}s.txt").write_text("\n".join(ids))
        import_vectors(ws, "mine", tmp_path / f"{entity}s.npy", tmp_path / f"{entity}s.txt", entity=entity)
    write_topk(ws, "mine", k=10, device="cpu")
    assert ws.stale("topk", "mine") is None
    np.save(tmp_path / "items.npy", np.ones((len(items), dim)))
    import_vectors(ws, "mine", tmp_path / "items.npy", tmp_path / "items.txt", entity="item")
    reason = ws.stale("topk", "mine")
    assert reason is not None and reason.changed == "embeddings/mine"
    assert reason.refresh.startswith("complement topk --view mine")


def test_a_stale_input_makes_everything_made_from_it_stale_and_names_the_root(ws):
    from complement.fusion.run import fuse

    train_view(ws, "mf", k=20, epochs=2, dim=8)
    fuse(ws, "pop,mf", "concat", "both", k=10)
    assert ws.stale("topk", "both") is None
    resplit(ws, 55)
    reason = ws.stale("topk", "both")
    assert reason is not None and reason.entry in ("embeddings/pop", "embeddings/mf")
    assert reason.refresh.startswith("complement train")


def test_the_report_refuses_stale_views_and_ignores_results_stored_from_older_tables(ws, tmp_path):
    from complement.experiment.execute import results_are_current, write_results_lineage
    from complement.report import write_report

    write_results_lineage(ws)
    assert results_are_current(ws)
    write_report(ws, tmp_path / "fresh.html", pair=None, ks=[10])
    resplit(ws, 31)
    assert not results_are_current(ws)
    with pytest.raises(StaleError, match="view 'pop' is stale"):
        write_report(ws, tmp_path / "stale.html", ks=[10])
    assert not (tmp_path / "stale.html").exists()
    assert write_report(ws, tmp_path / "stale.html", ks=[10], allow_stale=True).exists()


def test_imported_and_list_fused_views_go_stale_with_a_new_split(ws, tmp_path, capsys):
    from complement.interop import import_topk

    rows = ws.query(
        "SELECT user_id, item_id, rank, score FROM topk WHERE view = 'pop' ORDER BY user_id, rank"
    ).to_pylist()
    run = tmp_path / "run.trec"
    run.write_text("".join(f"{r['user_id']} Q0 {r['item_id']} {r['rank']} {r['score']} mine\n" for r in rows))
    import_topk(ws, run, "mine", k=20)
    code, _, err = run_cli(
        capsys, "fuse", "-w", str(ws.root), "--views", "mine,pop", "--method", "rrf", "--view", "both"
    )
    assert code == 0, err
    assert ws.stale("topk", "mine") is None and ws.stale("topk", "both") is None
    resplit(ws, 123)
    assert ws.stale("topk", "mine").refresh.startswith(f"complement topk --view mine --from {run}")
    assert ws.stale("topk", "both") is not None


def test_a_workspace_from_before_the_catalog_is_read_as_it_lies_and_adopted_by_its_first_commit(ws, tmp_path):
    import shutil

    import pyarrow.parquet as pq

    legacy = tmp_path / "legacy"
    (legacy / "tables" / "topk").mkdir(parents=True)
    for name in ("items", "users", "interactions"):
        shutil.copy(ws.table_path(name), legacy / "tables" / f"{name}.parquet")
    shutil.copy(ws.table_path("topk", "pop"), legacy / "tables" / "topk" / "pop.parquet")
    old = Workspace(legacy)
    assert old.parts("topk") == ["pop"] and old.stale("topk", "pop") is None
    assert old.catalog().entries["items"].fingerprint == old.catalog().entries["items"].fingerprint
    assert diagnose(old, "metrics", k=10).num_rows == 1
    train_view(old, "mf", k=10, epochs=1, dim=4)  # the first commit writes a catalog naming the old files
    assert (legacy / "tables" / "_catalog.json").exists()
    assert pq.read_table(legacy / "tables" / "topk" / "pop.parquet").num_rows > 0
    assert Workspace(legacy).parts("topk") == ["mf", "pop"] and Workspace(legacy).stale("topk", "mf") is None
