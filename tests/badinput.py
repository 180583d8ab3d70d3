"""A small harness for table-driven bad-input tests: each :class:`Case` is one CLI invocation on a fresh
copy of a prepared workspace, expected to fail with one clear line and to leave every file as it was.

Add a case by appending a ``Case`` to a list that a test parametrises over (see
``tests/test_bad_inputs.py``)::

    Case("topk-k-zero", "synth", ["topk", "-w", "{ws}", "--view", "pop", "--k", "0"], 1, r"--k must be at least 1")

``argv`` may use ``{ws}`` (the workspace copy), ``{tmp}`` (the case's folder, which holds the workspace
and any input files ``setup`` wrote) and ``{fixtures}`` (``tests/fixtures``).

The outcome rules, one for each exit status:

* ``1`` — a library error: stderr is exactly one line, ``Error: ...``, and it matches ``message``;
* ``2`` — a usage error found by the argument parser (a value of the wrong type, an unknown option):
  click prints its ``Usage:``/``Try`` lines and then one ``Error: ...`` line, which must match
  ``message``; nothing else.

Either way stdout is empty, there is no traceback, and every file and folder under the case's folder
(the workspace and the inputs) is byte-identical afterwards: no file added, removed or changed.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: prepares a case: called with the case folder (its workspace is ``folder / "ws"`` when the case
#: starts from a workspace) after the workspace was copied there
Setup = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """One bad invocation: ``setup`` is a base workspace name (``"synth"``, ``"none"``) or a callable
    ``(case_folder) -> None`` run on a copy of the ``synth`` workspace to plant the bad input."""

    id: str
    setup: str | Setup
    argv: list[str]
    exit_code: int = 1
    message: str = ""

    def __str__(self) -> str:  # pytest ids
        return self.id


# ---- base workspaces --------------------------------------------------------------------------
def build_synth(root: Path) -> Path:
    """A tiny synthetic workspace (40 users, 30 items) with 8-d item vectors in view 'semantic' and a
    trained 'pop' view (user and item vectors, top-20 lists)."""
    from complement import Workspace
    from complement.cli.app import main
    from complement.data.synth import synthesize

    synthesize(root, users=40, items=30, interactions_per_user=8, seed=3)
    ws = Workspace(root)
    ids = ws.item_ids()
    ws.write_vectors("semantic", "item", ids, np.random.default_rng(0).normal(size=(len(ids), 8)))
    try:
        main(["train", "pop", "-w", str(root), "--k", "20"])
    except SystemExit as exc:  # pragma: no cover - a broken base is a test error, not a case failure
        assert not exc.code, f"building the base workspace failed with {exc.code}"
    return root


# ---- snapshots --------------------------------------------------------------------------------
def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file (and ``<dir>`` for every folder) under ``folder``."""
    state: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        state[key] = "<dir>" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def differences(before: dict[str, str], after: dict[str, str]) -> list[str]:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    return [f"added {p}" for p in added] + [f"removed {p}" for p in removed] + [f"changed {p}" for p in changed]


# ---- running a case ---------------------------------------------------------------------------
def prepare(case: Case, folder: Path, bases: dict[str, Path]) -> None:
    """Copy the case's base workspace into ``folder / "ws"`` and run its setup."""
    folder.mkdir(parents=True, exist_ok=True)
    base = "none" if case.setup == "none" else "synth"
    if base != "none":
        shutil.copytree(bases[base], folder / "ws")
    if callable(case.setup):
        case.setup(folder)


def expand(argv: list[str], folder: Path) -> list[str]:
    values = {"ws": str(folder / "ws"), "tmp": str(folder), "fixtures": str(FIXTURES)}
    return [arg.format(**values) for arg in argv]


def check_outcome(case: Case, code: int, out: str, err: str) -> None:
    """The rules of the module docstring for one finished invocation."""
    assert "Traceback" not in err, err
    assert code == case.exit_code, f"exit status {code}, expected {case.exit_code}; stderr:\n{err}"
    assert out == "", f"stdout should be empty on an error, got {out!r}"
    lines = [line for line in err.splitlines()]
    if case.exit_code == 1:
        assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
        line = lines[0]
    else:
        nonblank = [line for line in lines if line.strip()]
        assert nonblank and nonblank[0].startswith("Usage:"), err
        line = nonblank[-1]
        assert sum(1 for entry in nonblank if entry.startswith("Error")) == 1, err
    assert line.startswith("Error: "), line
    assert re.search(case.message, line), f"{line!r} does not match {case.message!r}"


def run_case(case: Case, folder: Path, bases: dict[str, Path], capsys) -> None:
    from conftest import run_cli

    prepare(case, folder, bases)
    before = snapshot(folder)
    capsys.readouterr()
    code, out, err = run_cli(capsys, *expand(case.argv, folder))
    check_outcome(case, code, out, err)
    changes = differences(before, snapshot(folder))
    assert not changes, f"the failed command changed files: {changes}"
