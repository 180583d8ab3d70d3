"""The README's Python examples run as written, on a small synthetic workspace named `ws` holding the
views the README's commands make (`lightgcn`, and the trained semantic baseline `sem`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import synthetic_with_random_views

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_the_readme_has_a_python_example():
    assert python_blocks("x\n```python\nprint(1)\n```\n") == ["print(1)\n"]
    assert len(python_blocks(README.read_text())) >= 1


@pytest.fixture
def readme_ws(tmp_path, monkeypatch):
    ws = synthetic_with_random_views(
        tmp_path / "ws", ("lightgcn", "sem"), dim=8, lists_k=20, users=40, items=30, interactions_per_user=8, seed=3
    )
    monkeypatch.chdir(tmp_path)
    return ws


@pytest.mark.parametrize("index", range(len(python_blocks(README.read_text()))))
def test_readme_python_block_runs(readme_ws, index, capsys):
    block = python_blocks(README.read_text())[index]
    exec(compile(block, f"README.md python block {index + 1}", "exec"), {"__name__": "__readme__"})
    assert capsys.readouterr().out.strip()  # each example prints its result
