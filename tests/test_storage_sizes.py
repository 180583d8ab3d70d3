"""Every committed table file's size is recorded in the catalog, and a step refuses a file whose size moved
since (written over outside complement): for whole tables, appended chunks, views merged from shards and the
runs table; a catalog written before sizes were recorded is read as before."""

from __future__ import annotations

import json
import shlex

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_storage_append import base, lists
from test_topk_shards import make_workspace

from complement.cli.app import main
from complement.errors import WorkspaceError
from complement.scoring import write_neighbors, write_topk
from complement.tables import check_tables


def recorded(ws) -> dict[str, dict[str, int]]:
    return {key: entry.sizes for key, entry in ws.catalog().entries.items()}


def written_over(path) -> None:
    pq.write_table(pq.read_table(path).slice(0, 2), path)


def test_each_committed_file_has_its_size_and_a_file_written_over_is_refused(tmp_path):
    ws = base(tmp_path / "ws")
    with ws.transaction(view="v"):
        for lo in range(0, 9, 4):
            ws.write_table("topk", lists(range(lo, min(9, lo + 4))), part="v", append=True)
    sizes = recorded(ws)
    files = ws.table_files("topk", "v")
    assert len(files) == 3 and sizes["topk/v"] == {
        p.relative_to(ws.tables_dir).as_posix(): p.stat().st_size for p in files
    }
    assert set(sizes["items"]) == {p.relative_to(ws.tables_dir).as_posix() for p in ws.table_files("items")}
    check_tables(ws, "items", "topk", views=["v"])
    written_over(files[1])
    with pytest.raises(WorkspaceError, match=r"table 'topk' \(view 'v'\) file \S+ is [\d,]+ bytes, but was [\d,]+"):
        check_tables(ws, "topk", views=["v"])
    check_tables(ws, "items", "topk", views=[])  # only the parts a step reads are checked
    ws.write_table("topk", lists(range(9)), part="v")  # writing the view again mends it
    check_tables(ws, "topk", views=["v"])


def test_a_view_merged_from_shards_keeps_each_shard_s_size(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    for i in (1, 2, 3):
        write_topk(ws, "cf", k=5, device="cpu", shard=f"{i}/3")
    files = ws.table_files("topk", "cf")
    assert recorded(ws)["topk/cf"] == {p.relative_to(ws.tables_dir).as_posix(): p.stat().st_size for p in files}
    written_over(files[2])
    shard_file = r"table 'topk' \(view 'cf'\) file topk/cf@3of3/\S+ .* rebuild it with `complement topk"
    with pytest.raises(WorkspaceError, match=shard_file):
        check_tables(ws, "topk", views=["cf"])


def test_the_runs_table_keeps_the_size_each_file_had_when_it_was_committed(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    write_topk(ws, "cf", k=5, device="cpu")
    first = dict(recorded(ws)["runs"])
    assert first and all(size > 0 for size in first.values())
    written_over(ws.tables_dir / next(iter(first)))
    write_topk(ws, "cf", k=4, device="cpu")  # a later commit of the runs table does not adopt the new size
    assert {f: s for f, s in recorded(ws)["runs"].items() if f in first} == first
    with pytest.raises(WorkspaceError, match=r"table 'runs' file .* no command remakes: restore the file"):
        check_tables(ws, "runs")


def test_a_catalog_without_sizes_is_read_as_before(tmp_path):
    ws = base(tmp_path / "ws")
    ws.write_table("topk", lists(range(9)), part="v")
    path = ws.tables_dir / "_catalog.json"
    data = json.loads(path.read_text())
    for entry in data["entries"].values():
        entry.pop("sizes")
    path.write_text(json.dumps(data))
    written_over(ws.table_files("topk", "v")[0])
    check_tables(ws, "items", "topk", views=["v"])  # nothing recorded, nothing refused


@pytest.fixture
def tampered(tmp_path):
    """A workspace with vectors and lists of view 'cf', a list view 'lv' imported from cf's lists, and 'cf2'."""
    import complement

    ws = make_workspace(tmp_path / "ws")
    write_topk(ws, "cf", k=5, device="cpu")
    ids, vectors = ws.read_vectors("cf", "item")
    ws.write_vectors("cf2", "item", ids, vectors[::-1].copy())
    users, user_vectors = ws.read_vectors("cf", "user")
    ws.write_vectors("cf2", "user", users, user_vectors)
    complement.export(ws, view="cf", out=tmp_path / "cf.trec")
    complement.topk(ws, "lv", source=tmp_path / "cf.trec")
    complement.topk(ws, "lv2", source=tmp_path / "cf.trec")
    return ws


def _written_over_vectors(ws, view: str) -> None:
    path = ws.table_files("embeddings", view)[0]
    table = pq.read_table(path)
    pq.write_table(table.slice(0, table.num_rows - 1), path, compression="none")


@pytest.mark.parametrize(
    ("edit", "step"),
    [
        ("embeddings/cf", lambda ws, out: __import__("complement").fuse(ws, "cf,cf2", "score", "f", device="cpu")),
        ("embeddings/cf", lambda ws, out: __import__("complement").probe(ws, "cf", "cf2", mappers="linear", seeds=1)),
        ("embeddings/cf", lambda ws, out: write_neighbors(ws, "cf", k=3, device="cpu")),
        ("topk/lv", lambda ws, out: __import__("complement").fuse(ws, "lv,lv2", "rrf", "f", device="cpu")),
        ("topk/cf", lambda ws, out: __import__("complement").export(ws, view="cf", out=out)),
        ("interactions", lambda ws, out: __import__("complement").export(ws, qrels=True, out=out)),
        ("interactions", lambda ws, out: __import__("complement").export(ws, recbole=out)),
    ],
    ids=["fuse", "probe", "neighbors", "fuse-lists", "export-view", "export-qrels", "export-recbole"],
)
def test_the_library_steps_refuse_a_file_written_over_and_write_nothing(tampered, tmp_path, edit, step):
    """The checks live in the library (what `complement run` and a notebook call), not only in the CLI."""
    if edit.startswith("embeddings/"):
        _written_over_vectors(tampered, edit.split("/")[1])
    else:
        name, _, part = edit.partition("/")
        written_over(tampered.table_files(name, part or None)[0])
    before = tampered.catalog().version
    out = tmp_path / "out" / "file.trec"
    with pytest.raises(WorkspaceError, match=r"is [\d,]+ bytes, but was [\d,]+ bytes when complement wrote it"):
        step(tampered, out)
    assert tampered.catalog().version == before and not out.parent.exists()


def _remedy(error: pytest.ExceptionInfo) -> list[str]:
    return shlex.split(str(error.value).split("rebuild it with `")[1].split("`")[0])[1:]


def test_the_command_named_for_lists_written_over_remakes_them(tampered, tmp_path):
    written_over(tampered.table_files("topk", "cf")[0])
    with pytest.raises(WorkspaceError) as error:
        check_tables(tampered, "topk", views=["cf"])
    argv = _remedy(error)
    assert argv[:3] == ["topk", "--view", "cf"] and argv[-2:] == ["-w", str(tampered.root)]
    main(argv)
    check_tables(tampered, "topk", views=["cf"])


def test_imported_vectors_written_over_are_remade_by_their_import_and_a_kept_part_is_refused(tampered, tmp_path):
    ids, vectors = tampered.read_vectors("cf", "item")
    users, user_vectors = tampered.read_vectors("cf", "user")
    items_file, users_file = tmp_path / "items.parquet", tmp_path / "users.parquet"
    for path, keys, matrix in ((items_file, ids, vectors), (users_file, users, user_vectors)):
        pq.write_table(pa.table({"id": list(keys), "vector": [list(map(float, row)) for row in matrix]}), path)
    main(["embed", "--from", str(items_file), "--view", "ev", "-w", str(tampered.root)])
    _written_over_vectors(tampered, "ev")
    with pytest.raises(WorkspaceError) as error:
        write_neighbors(tampered, "ev", k=3, device="cpu")
    main(_remedy(error))  # the import writes the view anew: not refused by the size it replaces
    assert write_neighbors(tampered, "ev", k=3, device="cpu") > 0
    # a view of item and user vectors: writing one entity keeps the other's rows, so a written-over file is refused
    main(["embed", "--from", str(users_file), "--entity", "user", "--view", "ev", "-w", str(tampered.root)])
    _written_over_vectors(tampered, "ev")
    with pytest.raises(
        WorkspaceError,
        match=r"writing its item vectors would keep its other vectors from that file: "
        r"remove the view with `complement drop ev -w \S+` and write it again",
    ):
        tampered.write_vectors("ev", "item", ids, vectors)
