"""The command line built from declarations: a choice typo suggests the closest choice, `train` shows its
summary once, and `init -d synthetic` writes what `synth` writes."""

from __future__ import annotations

import json
import re
import sys
import tomllib

import pytest
from conftest import run_cli

from complement.cli.options import with_choice_hint
from complement.workspace import Workspace

W = ["-w", "/nonexistent/ws"]


@pytest.mark.parametrize(
    ("argv", "flag", "typo", "meant"),
    [
        (["fuse", *W, "--views", "a,b", "--view", "f", "--method", "rff"], "--method", "rff", "rrf"),
        (["export", *W, "--qrels", "--split", "tset"], "--split", "tset", "test"),
        (["train", "lightgnc", *W], "model", "lightgnc", "lightgcn"),
        (["report", *W, "--format", "htlm"], "--format", "htlm", "html"),
        (["diagnose", *W, "--sql", "overlap", "--engine", "duckbd"], "--engine", "duckbd", "duckdb"),
        (["probe", *W, "--source", "a", "--target", "b", "--shift", "random,cld"], "--shift", "cld", "cold"),
        (["topk", *W, "--view", "a", "--exclude", "trian"], "--exclude", "trian", "train"),
    ],
)
def test_a_choice_typo_is_a_usage_error_that_suggests_the_closest_choice(capsys, argv, flag, typo, meant):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2, err
    line = err.strip().splitlines()[-1]
    assert f"Invalid value for '{flag}'" in line and f"'{typo}' is not one of" in line
    assert line.endswith(f"— did you mean '{meant}'?")


def test_a_choice_hint_is_left_out_when_no_choice_is_close():
    message = "'xyz' is not one of 'score', 'rrf', 'concat'."
    assert with_choice_hint(message) == message
    assert with_choice_hint("'scre' is not one of 'score', 'rrf'.") == (
        "'scre' is not one of 'score', 'rrf' — did you mean 'score'?"
    )
    assert with_choice_hint("some other usage error.") == "some other usage error."


@pytest.fixture(scope="module")
def small_ws(tmp_path_factory):
    from complement.data.synth import synthesize

    root = tmp_path_factory.mktemp("ws")
    synthesize(root, users=40, items=30, interactions_per_user=8, seed=3)
    return root


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "piped"])
def test_train_prints_its_summary_table_on_a_terminal_and_its_line_otherwise(small_ws, capsys, monkeypatch, terminal):
    monkeypatch.delenv("COMPLEMENT_QUIET")  # the line is a message, which tests otherwise silence
    monkeypatch.setattr(sys.stdout, "isatty", lambda: terminal)
    view = "pop_tty" if terminal else "pop_piped"
    code, out, err = run_cli(capsys, "train", "pop", "-w", str(small_ws), "--view", view, "--k", "5")
    assert code == 0, err
    line = f"trained pop into view '{view}'"
    if terminal:
        assert line not in err
        assert view in out and not out.lstrip().startswith("{")
    else:
        assert line in err
        assert json.loads(out)["view"] == view


def _contents(root) -> dict:
    ws = Workspace.open(root)
    tables = {name: ws.read_table(name).to_pylist() for name in ("items", "users", "interactions")}
    config = tomllib.loads((root / "complement.toml").read_text())
    return {"tables": tables, "config": config, "truth": sorted(ws.parts("embeddings"))}


def test_init_synthetic_writes_what_synth_writes(tmp_path, capsys):
    code, _, err = run_cli(capsys, "synth", str(tmp_path / "a"), "--seed", "5")
    assert code == 0, err
    code, _, err = run_cli(capsys, "init", str(tmp_path / "b"), "-d", "synthetic", "--seed", "5")
    assert code == 0, err
    a, b = _contents(tmp_path / "a"), _contents(tmp_path / "b")
    assert a["truth"] == ["truth_collab", "truth_semantic"]
    assert a == b
    # init refuses to replace a workspace unless --force, as for loaded data
    code, _, err = run_cli(capsys, "init", str(tmp_path / "b"), "-d", "synthetic")
    assert code == 1 and "already exists: pass --force" in err


@pytest.mark.parametrize(
    ("extra", "named"),
    [(["-p", "x"], "--path"), (["--kcore", "3", "--user-col", "u"], "--kcore, --user-col")],
)
def test_init_synthetic_refuses_the_loaders_options(tmp_path, capsys, extra, named):
    code, _, err = run_cli(capsys, "init", str(tmp_path / "ws"), "-d", "synthetic", *extra)
    assert code == 1
    assert err.strip() == (
        f"Error: {named} cannot be used with -d synthetic: its data is generated "
        "(`complement synth DIR` also sets the generator's knobs)"
    )
    assert not (tmp_path / "ws").exists()


def test_init_of_loaded_data_needs_a_path(tmp_path, capsys):
    code, _, err = run_cli(capsys, "init", str(tmp_path / "ws"), "-d", "movielens")
    assert code == 1 and err.startswith("Error: --path is required")
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize(
    ("argv", "row"),
    [
        (["run"], "FILE <path>"),
        (["init"], "DIR <path>"),
        (["synth"], "DIR <path>"),
        (["demo"], "DIR <path>"),
        (["init"], "-p, --path <path>"),
        (["topk"], "-w, --workspace <path>"),
        (["export"], "--out <path>"),
    ],
)
def test_help_labels_a_path_argument_or_option_path_in_lower_case(capsys, argv, row):
    """typer labels a Path read through our parser= by its class name, `<Path>`; --help says `<path>` throughout."""
    code, out, err = run_cli(capsys, *argv, "--help")
    assert code == 0, err
    assert row in out and "<Path>" not in out


def test_every_type_label_in_the_help_is_lower_case_or_a_list_of_choices():
    from complement.cli import docgen

    labels = set(re.findall(r"<[^<>`\s]+>", docgen.render()))
    assert "<path>" in labels
    assert sorted(label for label in labels if "|" not in label and label != label.lower()) == []
