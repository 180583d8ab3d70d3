"""build_tables on tiny handmade interactions: filters, indices, n_train, pop_group, errors."""

import numpy as np
import pyarrow as pa
import pytest

from complement import Workspace
from complement.data.pipeline import build_tables, natural_order, pop_groups
from complement.errors import DataError


def _interactions(rows):
    users, items, ts, ratings = zip(*rows, strict=True)
    return pa.table({"user_id": list(users), "item_id": list(items), "ts": list(ts), "rating": list(ratings)})


ROWS = [
    ("u1", "10", 3, 5.0),
    ("u1", "2", 1, 4.0),
    ("u1", "2", 2, 1.0),  # repeat of (u1, 2), later: collapsed away
    ("u2", "10", 5, 2.0),
    ("u2", "3", 4, 5.0),
    ("u3", "3", 6, 5.0),
]


def test_items_are_indexed_in_numeric_order_and_repeats_collapse_to_the_earliest(tmp_path):
    ws = Workspace(tmp_path)
    summary = build_tables(ws, _interactions(ROWS), None, seed=1)
    assert ws.item_ids().tolist() == ["2", "3", "10"]  # 2 < 3 < 10 numerically
    assert ws.user_ids().tolist() == ["u1", "u2", "u3"]
    kept = ws.query("SELECT ts, rating FROM interactions WHERE user_id = 'u1' AND item_id = '2'").to_pylist()
    assert kept == [{"ts": 1, "rating": 4.0}]
    assert summary.dropped == {"repeats": 1}
    assert (summary.users, summary.items, summary.interactions) == (3, 3, 5)
    assert summary.density == pytest.approx(5 / 9)
    assert summary.items_without_text == 3


def test_min_rating_then_kcore_drop_what_the_hand_computation_says(tmp_path):
    ws = Workspace(tmp_path)
    # rating >= 4 keeps (u1,10) (u1,2@1) (u2,3) (u3,3); 2-core: items 10 and 2 have one user -> u1 goes,
    # leaving (u2,3) (u3,3): users u2, u3 have 1 interaction each -> everything goes.
    with pytest.raises(DataError, match="kcore"):
        build_tables(ws, _interactions(ROWS), None, min_rating=4, kcore=2)
    assert not ws.has_table("interactions")
    summary = build_tables(ws, _interactions(ROWS), None, min_rating=4)
    assert summary.dropped["min-rating"] == 2
    assert summary.interactions == 4


def test_min_rating_that_removes_everything_names_the_filter(tmp_path):
    with pytest.raises(DataError, match="min-rating"):
        build_tables(Workspace(tmp_path), _interactions(ROWS), None, min_rating=6)
    assert not (tmp_path / "tables").exists()


def test_kcore_is_iterative():
    # a 2-core: u1,u2 x i1,i2 form a square; u3-i3 and (u3,i1) hang off it. Removing i3 (1 user)
    # leaves u3 with 1 interaction, which then goes too.
    rows = [
        ("u1", "i1", 1, None),
        ("u1", "i2", 2, None),
        ("u2", "i1", 3, None),
        ("u2", "i2", 4, None),
        ("u3", "i3", 5, None),
        ("u3", "i1", 6, None),
    ]
    import tempfile

    ws = Workspace(tempfile.mkdtemp())
    summary = build_tables(ws, _interactions(rows), None, kcore=2)
    assert summary.dropped["kcore"] == 2
    assert ws.user_ids().tolist() == ["u1", "u2"]


def test_pop_group_uses_linear_quantiles_over_all_items():
    n_train = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    # q60 = 5.4, q80 = 7.2 -> cold 0..5, mid 6..7, hot 8..9
    assert pop_groups(n_train).tolist() == ["cold"] * 6 + ["mid"] * 2 + ["hot"] * 2


def test_items_metadata_keeps_extra_columns_and_counts_missing_text(tmp_path):
    ws = Workspace(tmp_path)
    items = pa.table(
        {
            "item_id": ["2", "3", "99"],
            "title": ["Two", "Three", "Unused"],
            "text": ["two", "  ", "x"],
            "genres": ["a", "b", "c"],
        }
    )
    summary = build_tables(ws, _interactions(ROWS), items)
    got = ws.query("SELECT item_id, title, text, genres FROM items ORDER BY item_idx").to_pylist()
    assert got == [
        {"item_id": "2", "title": "Two", "text": "two", "genres": "a"},
        {"item_id": "3", "title": "Three", "text": None, "genres": "b"},
        {"item_id": "10", "title": None, "text": None, "genres": None},
    ]
    assert summary.items_without_text == 2


def test_duplicate_item_ids_in_metadata_write_nothing(tmp_path):
    items = pa.table({"item_id": ["2", "2"], "title": ["a", "b"], "text": ["a", "b"]})
    with pytest.raises(DataError, match="duplicate item ids"):
        build_tables(Workspace(tmp_path), _interactions(ROWS), items)
    assert not (tmp_path / "tables").exists()


def test_missing_columns_are_named():
    with pytest.raises(DataError, match=r"lack column\(s\) item_id \(found: user_id, product\)"):
        build_tables(Workspace("/nonexistent-never-written"), pa.table({"user_id": ["a"], "product": ["b"]}), None)


def test_n_train_counts_train_rows_only(tmp_path):
    ws = Workspace(tmp_path)
    build_tables(ws, _interactions(ROWS), None, split="loo")
    # every user has < 3 interactions -> all train
    assert ws.query("SELECT sum(n_train) AS n FROM items").to_pylist() == [{"n": 5}]
    assert ws.query("SELECT user_id, n_train FROM users ORDER BY user_idx").to_pylist() == [
        {"user_id": "u1", "n_train": 2},
        {"user_id": "u2", "n_train": 2},
        {"user_id": "u3", "n_train": 1},
    ]


def test_natural_order_sorts_numbers_numerically_and_strings_lexically():
    assert natural_order(pa.array(["10", "9", "100"])).tolist() == [1, 0, 2]
    assert natural_order(pa.array(["b10", "a", "b9"])).tolist() == [1, 0, 2]


def test_summary_lines_report_counts_splits_filters_and_missing_text(tmp_path):
    # rating >= 2 drops the later (u1, 2) rated 1, so no repeat is left; every user has < 3: all train
    summary = build_tables(Workspace(tmp_path), _interactions(ROWS), None, split="loo", min_rating=2)
    assert summary.lines() == [
        "3 users · 3 items · 5 interactions (density 55.5556%)",
        "split (loo): train 5 · valid 0 · test 0",
        "dropped by filters: min-rating 1 · repeats 0",
        "items without text: 3",
    ]
