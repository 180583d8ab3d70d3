"""complement embed on the real ml-100k titles (slow: 1,682 MiniLM encodings)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from conftest import shared_dataset

from complement.embed import embed
from complement.workspace import Workspace


@pytest.mark.slow
def test_ml100k_titles_embed_once_then_come_from_cache(tmp_path):
    lines = (shared_dataset("ml-100k") / "u.item").read_text(encoding="latin-1").splitlines()
    rows = [line.split("|") for line in lines]
    n = len(rows)
    ws = Workspace(tmp_path / "ml100k")
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": [r[0] for r in rows],
                "item_idx": list(range(n)),
                "title": [r[1] for r in rows],
                "text": [r[1] for r in rows],
                "n_train": [0] * n,
                "pop_group": ["cold"] * n,
            }
        ),
    )
    first = embed(ws, device="cpu")
    again = embed(ws, device="cpu")
    assert (first.n_items, first.n_embedded, first.dim) == (1682, 1682, 384)
    assert (again.n_embedded, again.n_cached) == (0, 1682)
    ids, matrix = ws.read_vectors("text", "item")
    assert matrix.shape == (1682, 384) and ids[0] == "1"
