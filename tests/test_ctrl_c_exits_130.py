"""Ctrl-C for real: the CLI runs as a subprocess (`python -m complement`), gets SIGINT while it
works, and must exit 130 with one line on stderr, leaving nothing half-written."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from child_env import child_env

from complement.cli.app import INTERRUPTED
from complement.data.synth import synthesize

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # each starts a Python with torch and trains until interrupted


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _default_sigint() -> None:
    """In the child before it runs Python: SIGINT back to its default action. A runner started in the
    background of a non-interactive shell (``nohup ... &``) ignores SIGINT, children inherit that, and a
    Python that starts with SIGINT ignored never turns it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(*args: str) -> subprocess.Popen:
    env = child_env(COMPLEMENT_QUIET="0")
    return subprocess.Popen(
        [sys.executable, "-m", "complement", *args],
        cwd=REPO,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_default_sigint,
    )


def _interrupt_after(process: subprocess.Popen, stream: str, marker: str) -> tuple[int, str, str]:
    """Read ``stream`` until a line holds ``marker`` (the command is at work), send SIGINT, and
    return (exit status, the rest of stdout, the stderr lines written after the marker)."""
    pipe = getattr(process, stream)
    try:
        while True:
            line = pipe.readline()
            assert line, f"the command ended before '{marker}': {process.communicate(timeout=60)}"
            if marker in line:
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
        return process.returncode, out, err
    finally:
        if process.poll() is None:  # it ignored the signal: do not leave it running after the test
            process.kill()
            process.communicate()


LONG_TRAINING = ["--epochs", "100000", "--patience", "100000", "--eval-every", "1", "--k", "10", "--device", "cpu"]


def test_ctrl_c_during_train_exits_130_and_leaves_the_workspace_byte_identical(tmp_path):
    root = tmp_path / "ws"
    synthesize(root, users=60, items=40, interactions_per_user=8, seed=1)
    before = _tree(root)
    code, _, err = _interrupt_after(_start("train", "mf", "-w", str(root), *LONG_TRAINING), "stderr", "epoch 1:")
    lines = [line for line in err.splitlines() if " epoch " not in line]  # the progress lines still in flight
    assert code == 130
    assert lines == [INTERRUPTED]
    assert _tree(root) == before


def test_ctrl_c_during_run_exits_130_and_leaves_no_temporary_file(tmp_path):
    root = tmp_path / "ws"
    experiment = tmp_path / "exp.toml"
    experiment.write_text(
        '[dataset]\nkind = "synthetic"\nusers = 60\nitems = 40\ninteractions_per_user = 8\nseed = 1\n\n'
        '[split]\nmethod = "random"\nseed = 1\n\n'
        '[[view]]\nname = "mf"\nmodel = "mf"\nepochs = 100000\npatience = 100000\neval_every = 1\nk = 10\n'
        "[diagnostics]\nk = [10]\n"
    )
    code, _, err = _interrupt_after(_start("run", str(experiment), "-w", str(root)), "stderr", "epoch 1:")
    lines = [line for line in err.splitlines() if " epoch " not in line]
    assert code == 130
    assert lines == [INTERRUPTED]
    assert not (root / "tables" / "topk").exists()  # the interrupted step wrote nothing
    assert [p for p in root.rglob("*") if p.name.startswith(".") and p.name.endswith(".tmp")] == []


def test_ctrl_c_during_sql_is_one_line_not_a_traceback(tmp_path):
    root = tmp_path / "ws"
    synthesize(root, users=30, items=30, interactions_per_user=6, seed=1)
    # a result that streams for ever: the first row on stdout shows the query is running
    query = "SELECT a FROM range(1000000000000) t(a)"
    code, _, err = _interrupt_after(_start("sql", "-w", str(root), query, "-f", "csv"), "stdout", "a")
    assert code == 130
    assert err.splitlines() == [INTERRUPTED]


@pytest.fixture
def ctrl_c_once_the_query_runs(monkeypatch):
    """Press Ctrl-C (SIGINT to this process) half a second after a query starts; a query that
    ignored it would run until its --timeout safety net instead."""
    import contextlib
    import threading

    from complement import sandbox
    from complement.diagnostics import runner

    real = sandbox.interruptible
    # Python's own Ctrl-C handler for the test, whatever this process inherited (see _default_sigint)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)

    @contextlib.contextmanager
    def pressed(con):
        with real(con):
            threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
            yield

    monkeypatch.setattr(sandbox, "interruptible", pressed)
    monkeypatch.setattr(runner, "interruptible", pressed)
    yield
    signal.signal(signal.SIGINT, previous)


ENDLESS = "SELECT sum(a * b) AS s FROM range(100000000) t(a), range(100000) s(b)"


def test_ctrl_c_stops_a_running_sql_query(tmp_path, capsys, ctrl_c_once_the_query_runs):
    from conftest import run_cli

    synthesize(tmp_path / "ws", users=30, items=30, interactions_per_user=6, seed=1)
    code, out, err = run_cli(capsys, "sql", "-w", str(tmp_path / "ws"), ENDLESS, "--timeout", "120")
    assert (code, out) == (130, "")
    assert err.splitlines() == [INTERRUPTED]


def test_ctrl_c_stops_a_running_user_diagnostic(tmp_path, capsys, ctrl_c_once_the_query_runs):
    from conftest import run_cli

    synthesize(tmp_path / "ws", users=30, items=30, interactions_per_user=6, seed=1)
    path = tmp_path / "endless.sql"
    path.write_text(f"-- name: endless\n-- description: never ends\n{ENDLESS}\n")
    code, out, err = run_cli(capsys, "diagnose", "-w", str(tmp_path / "ws"), "--sql", str(path))
    assert (code, out) == (130, "")
    assert err.splitlines() == [INTERRUPTED]
