"""Shared fixtures: the real datasets in ../shared/data (skipped when absent) and small workspaces."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("COMPLEMENT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def shared_dataset(name: str) -> Path:
    """Path of a dataset folder in ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"real dataset '{name}' not found at {path} (set COMPLEMENT_SHARED_DATA to its parent folder)")
    return path


def synthetic_with_random_views(root: Path, views, *, dim: int, lists_k: int | None = None, **synth):
    """A synthetic workspace (``complement.data.synth.synthesize(root, **synth)``) plus, for each of ``views``,
    standard-normal user and item vectors of ``dim`` (numpy seed 0) and, with ``lists_k``, their top-K lists."""
    import numpy as np

    from complement import Workspace
    from complement.data.synth import synthesize
    from complement.scoring import write_topk

    synthesize(root, **synth)
    ws = Workspace(root)
    rng = np.random.default_rng(0)
    for view in views:
        ws.write_vectors(view, "item", ws.item_ids(), rng.normal(size=(len(ws.item_ids()), dim)))
        ws.write_vectors(view, "user", ws.user_ids(), rng.normal(size=(len(ws.user_ids()), dim)))
        if lists_k is not None:
            write_topk(ws, view, k=lists_k, device="cpu")
    return ws


def items_table(item_ids: list[str], n_train: int = 0):
    """A minimal ``items`` table: each id is its own title and text, every item ``cold`` with ``n_train``."""
    import pyarrow as pa

    n = len(item_ids)
    return pa.table(
        {
            "item_id": item_ids,
            "item_idx": list(range(n)),
            "title": item_ids,
            "text": item_ids,
            "n_train": [n_train] * n,
            "pop_group": ["cold"] * n,
        }
    )


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run the ``complement`` CLI in process; return (exit status, stdout, stderr)."""
    from complement.cli.app import main

    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    """No progress output in tests, and no network for model hubs."""
    monkeypatch.setenv("COMPLEMENT_QUIET", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, Path]:
    """The base workspaces of the bad-input corpora (tests/badinput.py), built once per test module."""
    from badinput import build_synth

    return {"synth": build_synth(tmp_path_factory.mktemp("base") / "ws")}
