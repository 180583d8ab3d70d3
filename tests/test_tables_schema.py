"""The table contract's schemas are written as 'name type, ...' strings (tables.schema_of)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from complement.tables import SCHEMAS, schema_of


def test_a_schema_string_gives_the_arrow_types_in_order():
    assert schema_of("user_id string, user_idx int32, ts int64, score float64") == pa.schema(
        [("user_id", pa.string()), ("user_idx", pa.int32()), ("ts", pa.int64()), ("score", pa.float64())]
    )
    assert schema_of("vector float32[], at timestamp") == pa.schema(
        [("vector", pa.list_(pa.float32())), ("at", pa.timestamp("us", tz="UTC"))]
    )


@pytest.mark.parametrize("bad", ["user_id varchar", "user_id", "user_id string int32", "a string,, b int32"])
def test_a_schema_string_with_an_unknown_type_or_shape_is_refused(bad):
    with pytest.raises(ValueError, match=r"a schema is 'name type, \.\.\.'"):
        schema_of(bad)


def test_the_contract_tables_keep_their_documented_columns():
    # docs/design.md's table of the contract, written out independently
    assert SCHEMAS["users"] == pa.schema([("user_id", pa.string()), ("user_idx", pa.int32()), ("n_train", pa.int32())])
    assert SCHEMAS["topk"].names == ["view", "user_id", "rank", "item_id", "score", "user_idx", "item_idx"]
    assert SCHEMAS["runs"].field("started_at").type == pa.timestamp("us", tz="UTC")
    assert SCHEMAS["embeddings"].field("vector").type == pa.list_(pa.float32())
    assert list(SCHEMAS) == ["items", "users", "interactions", "embeddings", "topk", "neighbors", "probes", "runs"]
