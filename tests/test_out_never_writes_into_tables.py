"""No output option writes inside the workspace's tables/ or results/ folder or onto complement.toml, however
the path is spelled (`..`, a symlink to the folder, a symlink to a table file); the refusal comes
before any work, with one line, and leaves every file as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import run_cli

from complement.data.synth import synthesize


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    base = tmp_path_factory.mktemp("outs")
    synthesize(base / "ws", users=30, items=30, interactions_per_user=6, seed=2)
    (base / "elsewhere").mkdir()
    (base / "link_to_tables").symlink_to(base / "ws" / "tables")
    (base / "elsewhere" / "items_link.parquet").symlink_to(base / "ws" / "tables" / "items.parquet")
    return base


TARGETS = {
    "a_table_file": "ws/tables/items.parquet",
    "a_new_view": "ws/tables/embeddings/evil.parquet",
    "dot_dot_into_tables": "elsewhere/../ws/tables/users.parquet",
    "dot_dot_inside_ws": "ws/results/../tables/interactions.parquet",
    "symlinked_folder": "link_to_tables/items.parquet",
    "symlink_to_a_table_file": "elsewhere/items_link.parquet",
    "the_config": "ws/complement.toml",
    "the_config_via_dot_dot": "ws/tables/../complement.toml",
    "a_stored_result": "ws/results/overlap.parquet",
    "dot_dot_into_results": "elsewhere/../ws/results/new.parquet",
}

# (command, the argument list before --out, a suffix the command accepts)
COMMANDS = {
    "diagnose": (["diagnose", "--sql", "check_split_disjoint"], ".parquet"),
    "diagnose_run": (["diagnose", "run", "check_split_disjoint"], ".csv"),
    "report": (["report"], ".html"),
    "sql": (["sql", "SELECT * FROM items"], ".parquet"),
}


def _with_suffix(target: str, suffix: str) -> str:
    return target if target.endswith((".toml", suffix)) or "link" in target else str(Path(target).with_suffix(suffix))


@pytest.mark.parametrize("target", list(TARGETS.values()), ids=list(TARGETS))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_out_into_tables_or_onto_the_config_is_refused(place, capsys, command, target):
    args, suffix = COMMANDS[command]
    path = place / _with_suffix(target, suffix)
    before = _tree(place / "ws")
    code, out, err = run_cli(capsys, *args, "-w", str(place / "ws"), "--out", str(path))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("Error: "), err
    assert ("tables folder" in err) or ("results folder" in err) or ("complement.toml" in err) or ("must end in" in err)
    assert _tree(place / "ws") == before


@pytest.mark.parametrize("command", list(COMMANDS))
def test_out_elsewhere_still_writes(place, capsys, command):
    args, suffix = COMMANDS[command]
    path = place / "elsewhere" / f"result_{command}{suffix}"
    code, _, err = run_cli(capsys, *args, "-w", str(place / "ws"), "--out", str(path))
    assert code == 0, err
    assert path.stat().st_size > 0


def test_refusal_comes_before_any_work(place, capsys, monkeypatch):
    """The diagnostic never runs when its --out is refused."""
    import complement.steps

    def must_not_run(*args, **kwargs):
        raise AssertionError("the diagnostic ran")

    monkeypatch.setattr(complement.steps, "diagnose", must_not_run)  # the step the command calls
    code, _, err = run_cli(
        capsys, "diagnose", "-w", str(place / "ws"), "--sql", "metrics", "--out", str(place / "ws/tables/items.parquet")
    )
    assert code == 1 and "tables folder" in err
