"""Every committed table file's size is recorded in the catalog, and a step refuses a file whose size moved
since (written over outside complement): for whole tables, appended chunks, views merged from shards and the
runs table; a catalog written before sizes were recorded is read as before."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from test_storage_append import base, lists
from test_topk_shards import make_workspace

from complement.errors import WorkspaceError
from complement.scoring import write_topk
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
    with pytest.raises(WorkspaceError, match=r"table 'topk' \(view 'cf'\) .* rebuild it with"):
        check_tables(ws, "topk", views=["cf"])


def test_the_runs_table_keeps_the_size_each_file_had_when_it_was_committed(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    write_topk(ws, "cf", k=5, device="cpu")
    first = dict(recorded(ws)["runs"])
    assert first and all(size > 0 for size in first.values())
    written_over(ws.tables_dir / next(iter(first)))
    write_topk(ws, "cf", k=4, device="cpu")  # a later commit of the runs table does not adopt the new size
    assert {f: s for f, s in recorded(ws)["runs"].items() if f in first} == first
    with pytest.raises(WorkspaceError, match=r"table 'runs' file"):
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
