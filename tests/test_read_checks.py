"""Read-side checks of stored tables (tables.check_columns / check_tables), option rules (checks.py)
and complement.toml kinds (data/config.py)."""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from complement import Workspace, checks, tables
from complement.data.config import check_config, read_config
from complement.data.synth import synthesize
from complement.errors import ConfigError, WorkspaceError


@pytest.mark.parametrize("name", tables.TABLE_NAMES)
def test_every_contract_schema_passes_its_own_check(name):
    tables.check_columns(name, tables.SCHEMAS[name])


@pytest.mark.parametrize("name", tables.TABLE_NAMES)
def test_a_missing_contract_column_names_table_column_and_rebuilding_command(name):
    schema = tables.SCHEMAS[name]
    dropped = schema.names[1]
    with pytest.raises(WorkspaceError) as error:
        tables.check_columns(name, schema.remove(1))
    assert str(error.value).startswith(f"table '{name}' has no column '{dropped}' (found: ")
    assert str(error.value).endswith(f"rebuild it with {tables.REBUILT_BY[name]}")


def test_extra_columns_and_a_narrower_integer_pass_but_another_kind_does_not():
    schema = tables.SCHEMAS["items"].append(pa.field("genres", pa.string())).set(1, pa.field("item_idx", pa.int64()))
    tables.check_columns("items", schema)
    with pytest.raises(WorkspaceError, match="column 'item_idx' is double, expected int32"):
        tables.check_columns("items", schema.set(1, pa.field("item_idx", pa.float64())))


@pytest.fixture
def ws(tmp_path):
    synthesize(tmp_path / "ws", users=30, items=20, interactions_per_user=6, seed=1)
    return Workspace(tmp_path / "ws")


def test_check_tables_counts_duplicated_ids_with_three_examples(ws):
    path = ws.table_files("items")[0]
    items = pq.read_table(path)
    ids = items.column("item_id").to_pylist()
    doubled = pa.concat_tables([items, items.slice(0, 4), items.slice(0, 1)])
    pq.write_table(doubled, path)
    expected_first = ids[
        0
    ]  # 3 rows; the other three have 2 rows each, so the examples are the first and the smallest two
    rest = sorted(ids[1:4])[:2]
    with pytest.raises(WorkspaceError) as error:
        tables.check_tables(ws, "items")
    assert str(error.value) == (
        f"table 'items' holds 4 item_id values more than once (9 rows; e.g. '{expected_first}' x3, '{rest[0]}' x2, "
        f"'{rest[1]}' x2): duplicates would be counted twice; rebuild it with {tables.REBUILT_BY['items']}"
    )


def test_check_tables_passes_a_fresh_workspace_and_skips_absent_tables(ws):
    tables.check_tables(ws, *tables.TABLE_NAMES)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1.0, 0.0])
def test_a_positive_float_option_refuses_nan_inf_and_non_positive(value):
    with pytest.raises(ConfigError, match=r"^--lr must be a finite number > 0, not "):
        checks.finite("--lr", value, above=0.0)


def test_bounds_are_inclusive_and_none_means_default():
    assert checks.finite("--weight", 1.0, minimum=0.0, maximum=1.0) == 1.0
    assert checks.finite("--weight", None, minimum=0.0) is None
    assert checks.integer("--k", 1, minimum=1) == 1
    with pytest.raises(ConfigError, match="--k must be at most 29, not 30"):
        checks.integer("--k", 30, minimum=1, maximum=29)
    with pytest.raises(ConfigError, match="--k must be an integer, not True"):
        checks.integer("--k", True, minimum=1)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"dataset": {"kind": "generic", "kcore": "5"}}, r"\[dataset\] kcore must be an integer, not '5'"),
        ({"dataset": {"kind": "generic", "kcore": True}}, r"\[dataset\] kcore must be an integer, not True"),
        ({"dataset": {"kind": "generic", "min_rating": math.nan}}, r"\[dataset\] min_rating must be a finite number"),
        ({"dataset": {"kind": "generic", "text_cols": ["a", 1]}}, r"text_cols must be a list of column names"),
        ({"dataset": {"kind": "synthetic", "items": "20"}}, r"\[dataset\] items must be an integer"),
        ({"split": {"ratios": [0.8, 0.2]}}, r"\[split\] ratios must be 3 finite numbers"),
        ({"split": {"seed": 1.5}}, r"\[split\] seed must be an integer, not 1\.5"),
        ({"dataset": "movielens"}, r"'dataset' must be a table"),
    ],
)
def test_known_config_keys_of_the_wrong_kind_are_one_line(config, message):
    with pytest.raises(ConfigError, match=message):
        check_config(config)


def test_read_config_names_the_line_of_undecodable_bytes(tmp_path):
    path = tmp_path / "complement.toml"
    path.write_bytes(b'[dataset]\nkind = "generic"\npath = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"complement\.toml:3: not UTF-8 text"):
        read_config(path)
    assert read_config(tmp_path / "absent.toml") == {}
