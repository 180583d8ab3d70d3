"""The `complement embed` command: summary lines on stderr, nothing on stdout, one-line errors."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import run_cli

from complement.workspace import Workspace


@pytest.fixture
def ws(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    workspace.write_table(
        "items",
        pa.table(
            {
                "item_id": ["a", "b"],
                "item_idx": [0, 1],
                "title": ["Alpha", "Beta"],
                "text": [
                    "A film about alpine climbing.",
                    "A cookbook of Greek recipes.",
                ],
                "n_train": [1, 1],
                "pop_group": ["cold", "hot"],
            }
        ),
    )
    workspace.write_table("users", pa.table({"user_id": ["u1"], "user_idx": [0], "n_train": [2]}))
    return workspace


def run(argv, capsys):
    """Run the CLI; return (exit status, stdout, stderr)."""
    return run_cli(capsys, *argv)


def test_embed_twice_reports_zero_new_items(ws, capsys, monkeypatch):
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    code, out, err = run(["embed", "-w", str(ws.root), "--device", "cpu"], capsys)
    assert code == 0 and out == ""
    assert err.startswith(
        "encoded 2 of 2 items (0 from cache): 384-d vectors from all-MiniLM-L6-v2 into view 'text' in "
    )
    code, out, err = run(["embed", "-w", str(ws.root), "--device", "cpu"], capsys)
    assert code == 0 and out == ""
    assert err.startswith("encoded 0 of 2 items (2 from cache): 384-d vectors from all-MiniLM-L6-v2")


def test_import_from_parquet_prints_a_summary(ws, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    pq.write_table(
        pa.table({"id": ["u1"], "vector": [[0.5, 0.5, 0.0]]}),
        tmp_path / "users.parquet",
    )
    code, out, err = run(
        [
            "embed",
            "-w",
            str(ws.root),
            "--view",
            "mine",
            "--from",
            str(tmp_path / "users.parquet"),
            "--entity",
            "user",
        ],
        capsys,
    )
    assert (code, out, err) == (
        0,
        "",
        "imported 1 user vectors (3-d) into view 'mine'\n",
    )
    assert ws.read_vectors("mine", "user")[1].tolist() == [[0.5, 0.5, 0.0]]


def test_import_from_npy_with_ids(ws, tmp_path, capsys):
    np.save(tmp_path / "v.npy", np.eye(2, dtype=np.float32))
    (tmp_path / "ids.txt").write_text("b\na\n")
    code, _, _ = run(
        [
            "embed",
            "-w",
            str(ws.root),
            "--view",
            "npy",
            "--from",
            str(tmp_path / "v.npy"),
            "--ids",
            str(tmp_path / "ids.txt"),
        ],
        capsys,
    )
    assert code == 0
    assert ws.read_vectors("npy", "item")[1].tolist() == [[0.0, 1.0], [1.0, 0.0]]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--ids", "ids.txt"], "Error: --ids goes with --from FILE.npy\n"),
        (
            ["--entity", "user"],
            "Error: user vectors cannot be embedded from text; import them with --from FILE --entity user\n",
        ),
        (
            ["--from", "v.parquet", "--model", "m", "--normalize"],
            "Error: --model, --normalize cannot be combined with --from\n",
        ),
        (
            ["--view", "Bad"],
            "Error: invalid view name 'Bad': use 1 to 100 lower-case letters, digits, '_' and '-'\n",
        ),
        (["--batch-size", "0"], "Error: --batch-size must be at least 1, not 0\n"),
        (
            ["--from", "v.parquet", "--precision", "float64"],
            "Error: --precision cannot be combined with --from\n",
        ),
        (
            ["--device", "cpu", "--precision", "float16"],
            "Error: --precision float16 is for CUDA; on the CPU use float32 (the default) or float64\n",
        ),
        (
            ["--model", "./no-such-folder"],
            "Error: model folder ./no-such-folder does not exist\n",
        ),
    ],
)
def test_bad_options_get_one_line_errors(ws, capsys, extra, expected):
    code, out, err = run(["embed", "-w", str(ws.root), *extra], capsys)
    assert (code, out, err) == (1, "", expected)
    assert not ws.has_table("embeddings")


def test_nan_vectors_exit_1_and_write_nothing(ws, tmp_path, capsys):
    pq.write_table(
        pa.table({"id": ["a", "b"], "vector": [[1.0, float("nan")], [1.0, 2.0]]}),
        tmp_path / "v.parquet",
    )
    code, out, err = run(["embed", "-w", str(ws.root), "--from", str(tmp_path / "v.parquet")], capsys)
    assert (code, out) == (1, "")
    assert err == "Error: vectors of 1 ids contain NaN or inf (or overflow float32): 'a'\n"
    assert not ws.has_table("embeddings")


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
def test_device_cuda_without_cuda_exits_1(ws, capsys):
    code, out, err = run(["embed", "-w", str(ws.root), "--device", "cuda"], capsys)
    assert (code, out) == (1, "")
    assert err.startswith("Error: --device cuda was asked for but no CUDA device is available")


def test_an_unknown_precision_is_a_usage_error(ws, capsys):
    code, out, err = run(["embed", "-w", str(ws.root), "--precision", "double"], capsys)
    assert (code, out) == (2, "")
    assert "'double' is not one of" in err and "float64" in err
    assert not ws.has_table("embeddings")
