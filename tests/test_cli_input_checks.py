"""Input checks found in a new user's pass: names in another case, empty and repeated entries in
comma-separated options, one exit status per kind of bad value, and stale-view hints one can paste."""

from __future__ import annotations

import pytest
from conftest import run_cli

from complement.cli.app import main
from complement.data.synth import synthesize
from complement.errors import did_you_mean


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("checks") / "ws"
    synthesize(root, users=40, items=30, interactions_per_user=8, seed=3)
    for model, view in (("pop", "pop"), ("random", "rnd")):
        with pytest.raises(SystemExit) as done:
            main(["train", model, "-w", str(root), "--view", view, "--k", "20"])
            raise SystemExit(0)
        assert not done.value.code
    return root


def usage_error(err: str) -> str:
    """The one ``Error:`` line of a click usage error (after its Usage/Try lines)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[0].startswith("Usage:") and sum(line.startswith("Error") for line in lines) == 1, err
    return lines[-1]


# ---- names in another case -----------------------------------------------------------------------
def test_did_you_mean_ignores_case_and_prefers_the_same_name_in_another_case():
    assert did_you_mean("LightGCN", ["lightgcn", "light"]) == " — did you mean 'lightgcn'?"
    assert did_you_mean("RRF", ["score", "rrf", "ranker"]) == " — did you mean 'rrf'?"
    assert did_you_mean("LightGC", ["sem", "lightgcn"]) == " — did you mean 'lightgcn'?"  # difflib, folded
    assert did_you_mean("SEMANTIC", ["sem", "text"]) == " — did you mean 'sem'?"  # a prefix, folded
    assert did_you_mean("pop", ["pop", "POP"]) == " — did you mean 'POP'?"
    assert did_you_mean("pop", ["sem", "lightgcn"]) == ""


@pytest.mark.parametrize(
    ("args", "meant"),
    [
        (["train", "LightGCN"], "lightgcn"),
        (["fuse", "--views", "pop,rnd", "--method", "RRF", "--view", "f"], "rrf"),
        (["fuse", "--views", "pop,rnd", "--method", "rff", "--view", "f"], "rrf"),
    ],
)
def test_a_choice_typo_is_one_clean_line_with_a_suggestion(ws, capsys, args, meant):
    code, out, err = run_cli(capsys, *args, "-w", str(ws))
    assert code == 2 and out == ""
    line = usage_error(err)
    assert "Value error" not in line, line  # pydantic's prefix, which typer >= 0.2x passes on
    assert line.endswith(f"— did you mean '{meant}'?"), line


def test_a_view_name_in_another_case_suggests_the_stored_one(ws, capsys):
    code, _, err = run_cli(capsys, "diagnose", "-w", str(ws), "--sql", "overlap", "--views", "RND,pop")
    assert code == 1 and err.count("\n") == 1 and "did you mean 'rnd'?" in err, err
