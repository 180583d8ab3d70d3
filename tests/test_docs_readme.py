"""The README's Python examples run as written, on a small synthetic workspace named `ws` holding the
views the README's commands make (`lightgcn`, and the trained semantic baseline `sem`)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from complement import Workspace
from complement.data.synth import synthesize
from complement.scoring import write_topk

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_the_readme_has_a_python_example():
    assert python_blocks("x\n```python\nprint(1)\n```\n") == ["print(1)\n"]
    assert len(python_blocks(README.read_text())) >= 1


@pytest.fixture
def readme_ws(tmp_path, monkeypatch):
    root = tmp_path / "ws"
    synthesize(root, users=40, items=30, interactions_per_user=8, seed=3)
    ws = Workspace(root)
    rng = np.random.default_rng(0)
    for view in ("lightgcn", "sem"):
        ws.write_vectors(view, "user", ws.user_ids(), rng.normal(size=(len(ws.user_ids()), 8)))
        ws.write_vectors(view, "item", ws.item_ids(), rng.normal(size=(len(ws.item_ids()), 8)))
        write_topk(ws, view, k=20, device="cpu")
    monkeypatch.chdir(tmp_path)
    return ws


@pytest.mark.parametrize("index", range(len(python_blocks(README.read_text()))))
def test_readme_python_block_runs(readme_ws, index, capsys):
    block = python_blocks(README.read_text())[index]
    exec(compile(block, f"README.md python block {index + 1}", "exec"), {"__name__": "__readme__"})
    assert capsys.readouterr().out.strip()  # each example prints its result
