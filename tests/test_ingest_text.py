"""Template rendering: placeholders, lists, empty labelled parts, HTML entities, whitespace."""

import pyarrow as pa
import pytest

from complement.data.text import normalise, render, template_fields
from complement.errors import DataError


def test_render_fills_fields_unescapes_html_and_normalises_whitespace():
    items = pa.table({"item_id": ["1"], "title": ["Tom &amp; Jerry\n  (1940)"], "genres": [["Comedy", "Animation"]]})
    assert render("{title}. Genres: {genres}.", items).to_pylist() == ["Tom & Jerry (1940). Genres: Comedy, Animation."]


def test_an_empty_labelled_part_is_dropped_and_all_empty_is_null():
    items = pa.table({"item_id": ["1", "2"], "title": ["Heat", None], "tags": [None, None]})
    assert render("{title}. Tags: {tags}.", items).to_pylist() == ["Heat.", None]


def test_unknown_field_lists_the_fields():
    items = pa.table({"item_id": ["1"], "title": ["x"], "genres": ["y"]})
    with pytest.raises(DataError, match=r"template field\(s\) \{plot\} not in the item data \(fields: title, genres\)"):
        render("{title} {plot}", items)


def test_bad_template_syntax_is_one_clear_error():
    with pytest.raises(DataError, match="bad template"):
        template_fields("{title")
    with pytest.raises(DataError, match="plain column names"):
        template_fields("{title[0]}")


def test_normalise():
    assert normalise("  a&#39;b \t c ") == "a'b c"
    assert normalise("   ") is None
