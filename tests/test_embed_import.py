"""complement embed --from FILE: Parquet and .npy imports, every validation error, atomicity."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from complement.embed import import_vectors
from complement.errors import ConfigError, DataError
from complement.workspace import Workspace

ITEMS = ["a", "b", "c"]
USERS = ["u1", "u2"]


@pytest.fixture
def ws(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    n = len(ITEMS)
    workspace.write_table(
        "items",
        pa.table(
            {
                "item_id": ITEMS,
                "item_idx": list(range(n)),
                "title": ITEMS,
                "text": ITEMS,
                "n_train": [1] * n,
                "pop_group": ["cold"] * n,
            }
        ),
    )
    workspace.write_table("users", pa.table({"user_id": USERS, "user_idx": [0, 1], "n_train": [1, 1]}))
    return workspace


def vectors_parquet(path, ids, rows, vector_type=None):
    pq.write_table(pa.table({"id": ids, "vector": pa.array(rows, type=vector_type)}), path)
    return path


def test_parquet_list_vectors_round_trip(ws, tmp_path):
    rows = [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]
    result = import_vectors(ws, "bge", vectors_parquet(tmp_path / "v.parquet", ["c", "a", "b"], rows))
    ids, matrix = ws.read_vectors("bge", "item")
    assert (result.n_rows, result.dim, result.n_missing) == (3, 2, 0)
    assert list(ids) == ITEMS
    np.testing.assert_array_equal(matrix, [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])


def test_parquet_fixed_size_list_of_float64(ws, tmp_path):
    path = vectors_parquet(tmp_path / "v.parquet", ITEMS, [[1, 2, 3]] * 3, pa.list_(pa.float64(), 3))
    assert import_vectors(ws, "fixed", path).dim == 3


def test_npy_with_ids_as_text_csv_and_parquet(ws, tmp_path):
    matrix = np.arange(6, dtype=np.float32).reshape(3, 2)
    np.save(tmp_path / "v.npy", matrix)
    (tmp_path / "ids.txt").write_text("b\na\nc\n")
    (tmp_path / "ids.csv").write_text("id,other\nb,1\na,2\nc,3\n")
    pq.write_table(pa.table({"item_id": ["b", "a", "c"]}), tmp_path / "ids.parquet")
    for ids_file in ("ids.txt", "ids.csv", "ids.parquet"):
        import_vectors(ws, "npy", tmp_path / "v.npy", ids_path=tmp_path / ids_file)
        _, stored = ws.read_vectors("npy", "item")
        np.testing.assert_array_equal(stored, matrix[[1, 0, 2]])


def test_user_vectors_join_the_items_of_a_view(ws, tmp_path):
    import_vectors(ws, "mine", vectors_parquet(tmp_path / "i.parquet", ITEMS, [[1.0, 0.0]] * 3))
    import_vectors(
        ws,
        "mine",
        vectors_parquet(tmp_path / "u.parquet", USERS, [[0.0, 1.0]] * 2),
        entity="user",
    )
    assert ws.read_vectors("mine", "item")[1].shape == (3, 2)
    assert list(ws.read_vectors("mine", "user")[0]) == USERS


def test_partial_coverage_is_imported_and_counted(ws, tmp_path):
    result = import_vectors(ws, "part", vectors_parquet(tmp_path / "v.parquet", ["a"], [[1.0]]))
    assert result.n_missing == 2


@pytest.mark.parametrize(
    ("ids", "rows", "message"),
    [
        (
            ["a", "b", "c"],
            [[1.0, float("nan")], [1.0, 2.0], [1.0, float("inf")]],
            r"vectors of 2 ids contain NaN or inf.*'a', 'c'",
        ),
        (
            ["a", "b", "c"],
            [[1.0, 2.0], [1.0, 2.0], [1.0]],
            r"mixed dimensions \(1-d x 1, 2-d x 2\); e.g. ids 'c' are not 2-d",
        ),
        (
            ["a", "zz", "yy"],
            [[1.0]] * 3,
            r"2 of 3 ids are not items of this workspace: 'zz', 'yy'",
        ),
        (
            ["a", "a", "b"],
            [[1.0]] * 3,
            r"ids are not unique: 'a' appear more than once",
        ),
        (["a", "b", "c"], [[1e39], [1.0], [1.0]], r"overflow float32\): 'a'"),
        (["a", "b", "c"], [[1.0], None, [1.0]], r"1 rows have no vector \(ids 'b'\)"),
        (["a", "b", "c"], [[], [], []], r"0 dimensions"),
    ],
)
def test_parquet_validation_errors_name_the_offending_ids(ws, tmp_path, ids, rows, message):
    path = vectors_parquet(tmp_path / "bad.parquet", ids, rows, pa.list_(pa.float64()))
    with pytest.raises(DataError, match=message):
        import_vectors(ws, "bad", path)
    assert not ws.has_table("embeddings") and not ws.has_table("runs")


def test_unknown_user_ids_are_named(ws, tmp_path):
    path = vectors_parquet(tmp_path / "u.parquet", ["u1", "ghost"], [[1.0], [2.0]])
    with pytest.raises(DataError, match="1 of 2 ids are not users of this workspace: 'ghost'"):
        import_vectors(ws, "v", path, entity="user")


def test_parquet_without_id_or_vector_column_lists_columns(ws, tmp_path):
    pq.write_table(pa.table({"key": ["a"], "vector": [[1.0]]}), tmp_path / "noid.parquet")
    with pytest.raises(DataError, match=r"no 'id' \(or 'item_id'\) column \(columns: key, vector\)"):
        import_vectors(ws, "v", tmp_path / "noid.parquet")
    pq.write_table(pa.table({"id": ["a"], "emb": [[1.0]]}), tmp_path / "novec.parquet")
    with pytest.raises(DataError, match="no 'vector' column"):
        import_vectors(ws, "v", tmp_path / "novec.parquet")
    pq.write_table(pa.table({"id": ["a"], "vector": ["1,2"]}), tmp_path / "text.parquet")
    with pytest.raises(DataError, match="must be a list of numbers"):
        import_vectors(ws, "v", tmp_path / "text.parquet")


def test_npy_errors(ws, tmp_path):
    np.save(tmp_path / "v.npy", np.ones((3, 2)))
    with pytest.raises(ConfigError, match="--ids FILE"):
        import_vectors(ws, "v", tmp_path / "v.npy")
    (tmp_path / "two.txt").write_text("a\nb\n")
    with pytest.raises(DataError, match=r"has 3 rows but .* has 2 ids"):
        import_vectors(ws, "v", tmp_path / "v.npy", ids_path=tmp_path / "two.txt")
    np.save(tmp_path / "flat.npy", np.ones(3))
    (tmp_path / "three.txt").write_text("a\nb\nc\n")
    with pytest.raises(DataError, match="1-D array"):
        import_vectors(ws, "v", tmp_path / "flat.npy", ids_path=tmp_path / "three.txt")
    np.save(tmp_path / "obj.npy", np.array([[1, "x"]], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="without pickle"):
        import_vectors(ws, "v", tmp_path / "obj.npy", ids_path=tmp_path / "three.txt")
    (tmp_path / "gap.txt").write_text("a\n\nc\n")
    with pytest.raises(DataError, match=r"blank lines \(line 2\)"):
        import_vectors(ws, "v", tmp_path / "v.npy", ids_path=tmp_path / "gap.txt")


def test_file_and_option_errors(ws, tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        import_vectors(ws, "v", tmp_path / "missing.parquet")
    (tmp_path / "v.json").write_text("{}")
    with pytest.raises(DataError, match=r"use Parquet \(id, vector\) or .npy"):
        import_vectors(ws, "v", tmp_path / "v.json")
    with pytest.raises(ConfigError, match="entity must be 'item' or 'user'"):
        import_vectors(ws, "v", tmp_path / "v.json", entity="shop")
    path = vectors_parquet(tmp_path / "ok.parquet", ITEMS, [[1.0]] * 3)
    with pytest.raises(ConfigError, match=r"--ids is only for \.npy"):
        import_vectors(ws, "v", path, ids_path=tmp_path / "ids.txt")
    with pytest.raises(Exception, match="invalid view name"):
        import_vectors(ws, "Bad View", path)


def test_failed_import_leaves_the_view_and_runs_unchanged(ws, tmp_path):
    import_vectors(ws, "keep", vectors_parquet(tmp_path / "good.parquet", ITEMS, [[1.0, 2.0]] * 3))
    table_file = ws.table_path("embeddings", "keep")
    before, runs_before = table_file.read_bytes(), ws.table_path("runs").read_bytes()
    bad = vectors_parquet(tmp_path / "bad.parquet", ITEMS, [[1.0, 2.0], [float("nan"), 0.0], [1.0, 2.0]])
    with pytest.raises(DataError):
        import_vectors(ws, "keep", bad)
    assert table_file.read_bytes() == before
    assert ws.table_path("runs").read_bytes() == runs_before
    assert sorted(p.name for p in table_file.parent.iterdir()) == [table_file.name]


def test_the_recorded_command_names_the_files_absolutely_and_runs_from_another_folder(ws, tmp_path, monkeypatch):
    import shlex

    from complement.cli.app import main

    folder = tmp_path / "my vectors"
    folder.mkdir()
    vectors_parquet(folder / "v.parquet", ITEMS, [[1.0, 0.0]] * 3)
    monkeypatch.chdir(folder)
    import_vectors(ws, "rel", "v.parquet")
    made_by = ws.catalog().entries["embeddings/rel"].made_by
    assert shlex.split(made_by)[3] == str(folder / "v.parquet")
    monkeypatch.chdir(tmp_path)
    main([*shlex.split(made_by)[1:], "-w", str(ws.root)])  # re-imports over the list it made
    assert ws.read_vectors("rel", "item")[1].shape == (3, 2)
