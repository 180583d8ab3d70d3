"""Documentation coverage: docs/cli.md is the generated CLI reference, every command, argument and option
has help text, and every diagnostic in complement/sql/ has an entry in docs/diagnostics.md and docs/design.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from complement.cli import docgen

ROOT = Path(__file__).resolve().parents[1]
DIAGNOSTICS = sorted(p.stem for p in (ROOT / "complement" / "sql").glob("*.sql") if not p.stem.startswith("_"))


def test_cli_reference_is_the_generated_text():
    assert (ROOT / "docs" / "cli.md").read_text() == docgen.render(), (
        "docs/cli.md is out of date: run `python -m complement.cli.docgen > docs/cli.md`"
    )


def _commands():
    return [(ctx.command_path, command) for command, ctx in docgen.walk(docgen.root_command())]


def test_the_walk_reaches_nested_commands():
    paths = {path for path, _ in _commands()}
    assert {"complement", "complement train", "complement diagnose", "complement diagnose show"} <= paths


def test_every_command_has_help_text():
    assert [path for path, command in _commands() if not (command.help or "").strip()] == []


def test_every_argument_and_option_has_help_text():
    missing = [
        f"{path} {param.name}"
        for path, command in _commands()
        for param in docgen.visible_params(command)
        if not docgen.param_help(param)
    ]
    assert missing == []


def _entries(doc: str) -> set[str]:
    """Diagnostic names that open a row of a Markdown table in ``doc`` (``| `name` | ...``)."""
    return set(re.findall(r"^\| `([a-z_]+)` \|", (ROOT / "docs" / doc).read_text(), flags=re.MULTILINE))


@pytest.mark.parametrize("doc", ["diagnostics.md", "design.md"])
def test_every_diagnostic_has_an_entry(doc):
    assert len(DIAGNOSTICS) > 10  # the glob found the SQL files
    assert sorted(set(DIAGNOSTICS) - _entries(doc)) == []
