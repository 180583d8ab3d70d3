"""A write the system refuses names the path asked for and why, never the temporary file beside it that
``atomic_path`` writes first (``Error: /proc/.x.trec.w9axirio.tmp: No such file or directory``)."""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path

import pytest
from conftest import run_cli

from complement import atomic
from complement.atomic import WriteError
from complement.data.synth import synthesize
from complement.errors import ComplementError

PROC = Path("/proc")
needs_proc = pytest.mark.skipif(not PROC.is_dir(), reason="needs a /proc that takes no new files (Linux)")


def _refuse_mkstemp(monkeypatch, number: int, cause: str) -> None:
    def refuse(prefix="", suffix="", dir=None, **_):
        raise OSError(number, cause, str(Path(dir) / f"{prefix}abcd1234{suffix}"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)


@needs_proc
def test_a_folder_that_takes_no_new_files_is_named_with_the_path_asked_for():
    target = PROC / "x.trec"
    with pytest.raises(WriteError) as raised:
        atomic.write_text("x", target)
    error = raised.value
    assert str(error) == f"cannot write {target}: the folder /proc does not take new files (No such file or directory)"
    assert ".tmp" not in str(error)
    # still an OSError of the path asked for, and one line for the CLI (a ComplementError)
    assert isinstance(error, OSError) and isinstance(error, ComplementError)
    assert (error.errno, error.filename) == (errno.ENOENT, str(target))


@needs_proc
def test_a_folder_that_cannot_be_made_is_named():
    target = PROC / "nosuch" / "x.csv"
    with pytest.raises(WriteError, match=r"^cannot write /proc/nosuch/x\.csv: the folder /proc/nosuch does not exist"):
        atomic.write_bytes(b"x", target)


@pytest.mark.parametrize(
    ("number", "cause", "why"),
    [
        (errno.EACCES, "Permission denied", "the folder {folder} is not writable (permission denied)"),
        (errno.EPERM, "Operation not permitted", "the folder {folder} is not writable (operation not permitted)"),
        (errno.EROFS, "Read-only file system", "the file system is read-only"),
        (errno.ENOSPC, "No space left on device", "no space left on the device"),
    ],
)
def test_a_refused_temporary_file_is_said_of_the_path_asked_for(tmp_path, monkeypatch, number, cause, why):
    target = tmp_path / "out" / "r.parquet"
    _refuse_mkstemp(monkeypatch, number, cause)
    with pytest.raises(WriteError) as raised:
        atomic.write_text("x", target)
    assert str(raised.value) == f"cannot write {target}: {why.format(folder=target.parent)}"
    assert raised.value.errno == number


@pytest.mark.parametrize("in_text", [False, True], ids=["filename", "message"])
def test_a_write_refused_half_way_names_the_path_asked_for_and_leaves_nothing(tmp_path, in_text):
    target = tmp_path / "r.parquet"
    with pytest.raises(WriteError) as raised, atomic.atomic_path(target) as tmp:
        if in_text:  # as pyarrow words it: the path in the text, no filename
            raise OSError(f"Failed to write to {tmp}: No space left on device")
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
    assert str(tmp) not in str(raised.value) and str(raised.value).startswith(f"cannot write {target}: ")
    assert "No space left on device" in str(raised.value) or "no space left on the device" in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_an_error_of_the_block_about_something_else_passes_as_it_is(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"input\.csv"), atomic.atomic_path(tmp_path / "r.csv"):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(tmp_path / "input.csv"))
    assert list(tmp_path.iterdir()) == []


def test_a_folder_where_the_file_goes_is_named(tmp_path):
    (tmp_path / "r.csv").mkdir()
    with pytest.raises(WriteError, match=r"^cannot write \S+/r\.csv: it is a folder; give a file path$"):
        atomic.write_text("x", tmp_path / "r.csv")
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]


@pytest.fixture(scope="module")
def small_ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("atomic") / "ws"
    synthesize(root, users=40, items=30, interactions_per_user=6, seed=3)
    import complement

    complement.train(root, "pop", k=20, device="cpu")
    return root


@needs_proc
@pytest.mark.parametrize(
    "args",
    [
        ["sql", "SELECT 1 AS x", "--out", "/proc/x.csv"],
        ["sql", "SELECT 1 AS x", "--out", "/proc/x.parquet"],
        ["diagnose", "--sql", "check_split_disjoint", "--out", "/proc/x.csv"],
        ["report", "--out", "/proc/r.html"],
        ["export", "--view", "pop", "--out", "/proc/x.trec"],
        ["export", "--qrels", "--out", "/proc/q.tsv", "--format", "trec"],
    ],
    ids=lambda a: f"{a[0]}-{Path(a[a.index('--out') + 1]).name}",
)
def test_every_command_s_output_path_is_named_as_given(small_ws, capsys, args):
    out = args[args.index("--out") + 1]
    code, _, err = run_cli(capsys, *args, "-w", str(small_ws))
    assert code == 1 and err.count("\n") == 1, err
    assert err == f"Error: cannot write {out}: the folder /proc does not take new files (No such file or directory)\n"
