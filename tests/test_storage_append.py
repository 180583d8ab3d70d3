"""A large view written in chunks (`ws.write_table(..., append=True)` inside one transaction) is one
catalog entry whose files hold every chunk, equal to the view written at once."""

from __future__ import annotations

import pyarrow as pa
import pytest
from conftest import items_table

from complement.errors import WorkspaceError
from complement.workspace import Workspace

USERS, ITEMS, K = 9, 6, 3


def base(path) -> Workspace:
    ws = Workspace(path)
    item_ids = [f"i{n}" for n in range(ITEMS)]
    ws.write_table("items", items_table(item_ids, n_train=1))
    ws.write_table(
        "users",
        pa.table({"user_id": [f"u{n}" for n in range(USERS)], "user_idx": list(range(USERS)), "n_train": [1] * USERS}),
    )
    return ws


def lists(users: range) -> pa.Table:
    rows = [(f"u{u}", r + 1, f"i{(u + r) % ITEMS}") for u in users for r in range(K)]
    return pa.table(
        {
            "view": ["v"] * len(rows),
            "user_id": [r[0] for r in rows],
            "rank": [r[1] for r in rows],
            "item_id": [r[2] for r in rows],
            "score": [1.0 / r[1] for r in rows],
        }
    )


def test_chunks_appended_in_one_transaction_equal_the_view_written_at_once(tmp_path):
    whole, chunked = base(tmp_path / "whole"), base(tmp_path / "chunked")
    whole.write_table("topk", lists(range(USERS)), part="v")
    with chunked.transaction(view="v"):
        for lo in range(0, USERS, 4):
            chunked.write_table("topk", lists(range(lo, min(USERS, lo + 4))), part="v", append=True)
    assert len(chunked.table_files("topk", "v")) == 3  # one entry, one file per chunk
    order = "ORDER BY user_idx, rank"
    assert chunked.query(f"SELECT * FROM topk {order}").equals(whole.query(f"SELECT * FROM topk {order}"))
    assert chunked.parts("topk") == ["v"]


def test_without_append_a_second_write_in_the_block_replaces_the_first(tmp_path):
    ws = base(tmp_path / "ws")
    with ws.transaction(view="v"):
        ws.write_table("topk", lists(range(0, 4)), part="v")
        ws.write_table("topk", lists(range(4, USERS)), part="v")
    assert ws.query("SELECT count(DISTINCT user_id) FROM topk").column(0)[0].as_py() == USERS - 4
    assert len(list((tmp_path / "ws" / "tables" / "topk").rglob("*.parquet"))) == 1  # the replaced file is gone


def test_a_table_with_facets_cannot_be_appended(tmp_path):
    ws = base(tmp_path / "ws")
    with pytest.raises(WorkspaceError, match="written whole"), ws.transaction():
        ws.write_table("items", ws.read_table("items"), append=True)
