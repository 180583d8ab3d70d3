"""The text each item is embedded from: items.text, templates over items columns, the fallback policy."""

from __future__ import annotations

import pyarrow as pa
import pytest

from complement.embed.template import item_texts, render_template, template_fields
from complement.errors import ConfigError, WorkspaceError
from complement.workspace import Workspace


@pytest.fixture
def ws(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    workspace.write_table(
        "items",
        pa.table(
            {
                "item_id": ["m1", "m2", "m3", "m4"],
                "item_idx": [0, 1, 2, 3],
                "title": ["Toy Story", "Heat", None, None],
                "text": ["Toy Story (1995)", None, "", None],
                "n_train": [1, 1, 1, 1],
                "pop_group": ["cold"] * 4,
                "genres": [["Animation", "Comedy"], ["Crime"], None, None],
                "year": [1995.0, 1995.0, None, None],
            }
        ),
    )
    return workspace


def test_default_text_falls_back_to_title_then_item_id(ws):
    texts = item_texts(ws)
    assert texts.texts == ["Toy Story (1995)", "Heat", "m3", "m4"]
    assert (texts.n_from_title, texts.n_from_id) == (1, 2)
    assert list(texts.ids) == ["m1", "m2", "m3", "m4"]


def test_template_renders_extra_columns_lists_and_whole_floats(ws):
    texts = item_texts(ws, "{title} ({year}). {genres}")
    assert texts.texts[:2] == [
        "Toy Story (1995). Animation, Comedy",
        "Heat (1995). Crime",
    ]


def test_template_without_letters_or_digits_counts_as_empty(ws):
    assert item_texts(ws, "{title}. {genres}").texts[2:] == ["m3", "m4"]


def test_template_with_unknown_column_lists_the_columns(ws):
    with pytest.raises(
        ConfigError,
        match=r"unknown item column\(s\) genre \(items columns: item_id, item_idx, title",
    ):
        item_texts(ws, "{title}. {genre}")


def test_template_rejects_attribute_access_and_unbalanced_braces():
    with pytest.raises(ConfigError, match="plain column names"):
        template_fields("{title.upper}")
    with pytest.raises(ConfigError, match="bad --template"):
        template_fields("{title")
    with pytest.raises(ConfigError, match="names no column"):
        template_fields("just text")


def test_render_template_treats_null_as_empty():
    assert render_template("{a}|{b}", [{"a": "x", "b": None}]) == ["x|"]


def test_empty_items_table_is_a_clear_error(tmp_path):
    ws = Workspace(tmp_path / "empty")
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": pa.array([], pa.string()),
                "item_idx": pa.array([], pa.int32()),
                "title": pa.array([], pa.string()),
                "text": pa.array([], pa.string()),
                "n_train": pa.array([], pa.int32()),
                "pop_group": pa.array([], pa.string()),
            }
        ),
    )
    with pytest.raises(WorkspaceError, match="empty 'items' table"):
        item_texts(ws)


def test_workspace_without_items_says_how_to_get_them(tmp_path):
    with pytest.raises(WorkspaceError, match="complement init"):
        item_texts(Workspace(tmp_path / "none"))
