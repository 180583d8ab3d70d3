"""A write the operating system refuses (permissions, a read-only file system, a full disk, a file
where a folder should be) is one `Error:` line naming the path and the cause, exit 1, and leaves
the workspace as it was. A genuine bug keeps its traceback."""

from __future__ import annotations

import contextlib
import errno
import hashlib
from pathlib import Path

import pytest
from conftest import run_cli

from complement import atomic
from complement.cli.app import main
from complement.data.synth import synthesize

FIXTURES = Path(__file__).parent / "fixtures"


def _tree(root: Path) -> dict[str, str]:
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def small_ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("oserr") / "ws"
    synthesize(root, users=40, items=30, interactions_per_user=6, seed=3)
    return root


def _refuse_writes(monkeypatch, number: int, cause: str) -> None:
    """Every atomic write (they all go through ``atomic.atomic_path``) raises the OS error ``number``,
    naming its target, as the file system would."""

    @contextlib.contextmanager
    def refuse(path, suffix=".tmp"):
        raise OSError(number, cause, str(path))
        yield

    monkeypatch.setattr(atomic, "atomic_path", refuse)


def _vectors_file(ws: Path, tmp: Path) -> Path:
    """An .npy of item vectors and its ids file, in workspace item order."""
    import numpy as np

    from complement import Workspace

    ids = Workspace(ws).item_ids()
    np.save(tmp / "v.npy", np.ones((len(ids), 4), dtype=np.float32))
    (tmp / "v_ids.txt").write_text("".join(f"{i}\n" for i in ids))
    return tmp / "v.npy"


def _commands(ws: Path, tmp: Path) -> dict[str, list[str]]:
    return {
        "embed_import": [
            "embed",
            "-w",
            str(ws),
            "--view",
            "imported",
            "--from",
            str(_vectors_file(ws, tmp)),
            "--ids",
            str(tmp / "v_ids.txt"),
        ],
        "synth": ["synth", str(tmp / "new"), "--users", "30", "--items", "30", "--interactions-per-user", "6"],
        "init": ["init", str(tmp / "ml"), "--dataset", "movielens", "--path", str(FIXTURES / "movielens_100k")],
        "train": ["train", "pop", "-w", str(ws), "--k", "10"],
        "diagnose_out": ["diagnose", "-w", str(ws), "--sql", "check_split_disjoint", "--out", str(tmp / "r.parquet")],
        "report": ["report", "-w", str(ws), "--out", str(tmp / "report.html")],
    }


@pytest.mark.parametrize(
    "number,cause,shown",
    [
        (errno.ENOSPC, "No space left on device", "no space left on the device"),
        (errno.EACCES, "Permission denied", "permission denied"),
        (errno.EROFS, "Read-only file system", "the file system is read-only"),
    ],
)
@pytest.mark.parametrize("command", ["synth", "init", "train", "embed_import", "diagnose_out", "report"])
def test_a_refused_write_is_one_line_naming_path_and_cause(
    small_ws, tmp_path, capsys, monkeypatch, command, number, cause, shown
):
    args = _commands(small_ws, tmp_path)[command]
    before_ws, before_tmp = _tree(small_ws), _tree(tmp_path)
    _refuse_writes(monkeypatch, number, cause)
    code, _out, err = run_cli(capsys, *args)
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[-1].startswith("Error: ") and lines[-1].endswith(": " + shown), err
    assert "Traceback" not in err
    assert str(tmp_path) in lines[-1] or str(small_ws) in lines[-1]  # names the path
    assert _tree(small_ws) == before_ws
    assert {k for k in _tree(tmp_path) if not k.startswith("ml/") and not k.startswith("new/")} == set(before_tmp)


def test_sql_out_onto_a_full_disk_is_one_line(small_ws, tmp_path, capsys, monkeypatch):
    import pyarrow.parquet as pq

    class Full:
        def __init__(self, path, *args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pq, "ParquetWriter", Full)
    code, _, err = run_cli(
        capsys, "sql", "-w", str(small_ws), "SELECT * FROM items", "--out", str(tmp_path / "x.parquet")
    )
    assert code == 1 and err.count("\n") == 1 and err.startswith("Error: ") and "no space left on the device" in err
    assert list(tmp_path.iterdir()) == []  # the temporary file is gone too


def test_a_file_where_the_tables_folder_should_be_is_one_line(tmp_path, capsys):
    """Fails as root too: a plain file blocks the folder the workspace needs."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "tables").write_text("not a folder\n")
    before = _tree(root)
    code, _, err = run_cli(capsys, "synth", str(root), "--users", "30", "--items", "30", "--interactions-per-user", "6")
    assert code == 1 and err.count("\n") == 1 and err.startswith("Error: ") and str(root / "tables") in err, err
    assert _tree(root) == before


def test_a_bug_keeps_its_traceback(monkeypatch):
    """Only OS errors and the library's own errors become one line; anything else is a bug to see."""
    from complement.cli import sql as sql_command

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(sql_command, "stream_sql", broken)
    with pytest.raises(ZeroDivisionError):
        main(["sql", "SELECT 1"])


def _torch_out_of_memory() -> BaseException:
    import torch

    return torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")


@pytest.mark.parametrize(
    "error",
    [
        lambda: MemoryError("Unable to allocate 74.5 GiB for an array with shape (100000, 100000)"),
        lambda: RuntimeError(
            "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
            "you tried to allocate 240000000000 bytes."
        ),
        _torch_out_of_memory,
    ],
    ids=["numpy", "torch-cpu", "torch-cuda"],
)
def test_running_out_of_memory_is_one_line_and_commits_nothing(small_ws, tmp_path, capsys, monkeypatch, error):
    """A failed allocation half-way through a view's commit (its vectors staged, its lists not yet made)."""
    import shutil

    from complement import scoring

    root = tmp_path / "ws"
    shutil.copytree(small_ws, root)
    before = _tree(root)

    def fail(*args, **kwargs):
        raise error()

    monkeypatch.setattr(scoring, "write_topk", fail)
    code, out, err = run_cli(capsys, "train", "pop", "-w", str(root), "--k", "10")
    assert code == 1 and out == "" and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("Error: out of memory (use smaller sizes such as --dim"), err
    assert {k: v for k, v in _tree(root).items() if "/.locks/" not in k} == {
        k: v for k, v in before.items() if "/.locks/" not in k
    }


def test_another_runtime_error_keeps_its_traceback(small_ws, tmp_path, monkeypatch):
    import shutil

    from complement import scoring

    root = tmp_path / "ws"
    shutil.copytree(small_ws, root)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(scoring, "write_topk", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["train", "pop", "-w", str(root), "--k", "10"])
