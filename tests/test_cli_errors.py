"""Mistakes a new user makes get one clear line and exit status 1 (or click's usage status 2), never a traceback."""

from __future__ import annotations

import numpy as np
import pytest

from complement import Workspace
from complement.cli.app import main
from complement.data.synth import synthesize


@pytest.fixture(scope="module")
def small_ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("errors") / "ws"
    synthesize(root, users=60, items=40, interactions_per_user=8, seed=3)
    ws = Workspace(root)
    ids = ws.item_ids()
    ws.write_vectors("text", "item", ids, np.random.default_rng(0).normal(size=(len(ids), 8)))
    return root


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return exit_info.value.code, captured.err


@pytest.mark.parametrize(
    "args",
    [["nosuchcommand"], ["topk"], ["train"], ["sql", "SELECT 1", "-f", "yaml"], ["diagnose", "list", "--nope"]],
)
def test_usage_errors_are_one_message_not_a_traceback(capsys, args):
    code, err = run(capsys, *args)
    assert code == 2 and "Error" in err


def test_semantic_model_does_not_overwrite_the_text_vectors_it_reads(small_ws, capsys):
    main(["train", "semantic", "-w", str(small_ws), "--epochs", "2", "--min-epochs", "1", "--k", "20"])
    ws = Workspace(small_ws)
    assert "sem" in ws.parts("topk")
    _, vectors = ws.read_vectors("text", "item")
    assert vectors.shape[1] == 8  # the text vectors are untouched
    code, err = run(capsys, "train", "semantic", "-w", str(small_ws), "--view", "text")
    assert code == 1 and err.startswith("Error: --text-view text is also the view semantic would write (--view text)")
    # the slip a newcomer makes: --text-view naming the output; the line no longer suggests the same name back
    code, err = run(capsys, "train", "semantic", "-w", str(small_ws), "--text-view", "sem")
    assert code == 1 and err.count("\n") == 1
    assert "--text-view sem is also the view semantic would write (--view sem)" in err and "e.g. --view sem" not in err


@pytest.mark.parametrize(("option", "value"), [("--epochs", "-3"), ("--dim", "0"), ("--lr", "0")])
def test_train_rejects_impossible_settings(small_ws, capsys, option, value):
    before = Workspace(small_ws).parts("topk")
    code, err = run(capsys, "train", "pop", "-w", str(small_ws), option, value)
    assert code == 1 and err.startswith(f"Error: {option}")
    assert Workspace(small_ws).parts("topk") == before


def test_diagnose_rejects_k_below_one(small_ws, capsys):
    main(["train", "pop", "-w", str(small_ws), "--k", "20"])
    code, err = run(capsys, "diagnose", "-w", str(small_ws), "--sql", "metrics", "-p", "k", "0")
    assert code == 1 and "k must be at least 1" in err


def test_report_rejects_bad_k_and_a_view_compared_with_itself(small_ws, capsys):
    code, err = run(capsys, "report", "-w", str(small_ws), "--k", "5,x")
    assert code == 2 and "Invalid value for '--k'" in err
    code, err = run(capsys, "report", "-w", str(small_ws), "--k", "5,-1")
    assert code == 1 and "--k takes positive integers" in err
    code, err = run(capsys, "report", "-w", str(small_ws), "--views", "pop,pop")
    assert code == 1 and "two different views" in err


def test_sql_names_the_tables_when_one_is_missing(tmp_path, small_ws, capsys):
    code, err = run(capsys, "sql", "SELECT * FROM nope", "-w", str(small_ws))
    assert code == 1 and "tables in" in err and "items" in err
    code, err = run(capsys, "sql", "SELECT 1", "-w", str(tmp_path / "missing"))
    assert code == 1 and f"workspace {tmp_path / 'missing'} does not exist" in err


def test_init_points_synthetic_users_to_synth(tmp_path, capsys):
    code, err = run(capsys, "init", str(tmp_path / "x"), "--dataset", "synthetic", "--path", str(tmp_path))
    assert code == 1 and "complement synth" in err
