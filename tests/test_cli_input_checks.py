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


# ---- stale views -------------------------------------------------------------------------------------
def test_a_stale_view_s_hint_is_a_command_one_can_paste(tmp_path, capsys):
    root = tmp_path / "ws"
    synthesize(root, users=40, items=30, interactions_per_user=8, seed=3)
    for args in (
        ["train", "pop", "--view", "pop", "--k", "20"],
        ["train", "random", "--view", "rnd", "--k", "20", "--seed", "7"],
        ["fuse", "--views", "pop,rnd", "--method", "rrf", "--view", "f", "--k", "20", "--rrf-k", "10"],
        ["train", "pop", "--view", "other", "--k", "20"],
    ):
        assert run_cli(capsys, *args, "-w", str(root))[0] == 0
    config = root / "complement.toml"
    head, split = config.read_text(encoding="utf-8").split("[split]")
    config.write_text(head + "[split]" + split.replace("seed = 3", "seed = 8", 1), encoding="utf-8")
    assert run_cli(capsys, "ingest", "-w", str(root))[0] == 0
    w = f"-w {root}"
    train_pop = f"`complement train pop --view pop --k 20 {w}`"
    train_rnd = f"`complement train random --view rnd --seed 7 --k 20 {w}`"
    fuse = f"`complement fuse --views pop,rnd --method rrf --view f --k 20 --rrf-k 10.0 {w}`"

    def stale_error(*views: str) -> str:
        code, out, err = run_cli(capsys, "diagnose", "-w", str(root), "--sql", "metrics", "--views", ",".join(views))
        assert code == 1 and out == "" and err.count("\n") == 1, err
        return err

    assert f"refresh it with {train_rnd}, or pass" in stale_error("rnd")  # -w and the recorded settings
    assert f"refresh it with {train_pop} then {fuse}, or pass" in stale_error("f")  # a fused view: fuse again
    err = stale_error("rnd", "f", "pop")  # every stale view named, a fusion after its sources
    assert err.startswith("Error: views 'rnd', 'f', 'pop' are stale"), err
    assert f"refresh them with {train_rnd}, then {train_pop}, then {fuse}, or pass" in err, err
    assert "other" not in err  # a view not asked for is not read, and not named


# ---- empty and repeated entries in comma-separated options -------------------------------------------
PROBE = ["probe", "--source", "pop", "--target", "rnd"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["diagnose", "--sql", "overlap", "--views", "pop,rnd", "--k", "5,,10"],
            2,
            r"--k has an empty entry in '5,,10'",
        ),
        (["diagnose", "--sql", "overlap", "--views", "pop,rnd", "--k", "5,10,"], 2, r"--k has an empty entry"),
        (["diagnose", "--sql", "metrics", "--views", "pop,,rnd"], 2, r"--views has an empty entry in 'pop,,rnd'"),
        (["diagnose", "--sql", "metrics", "-p", "views", "pop,,rnd"], 2, r"parameter views has an empty entry"),
        (["report", "--views", "pop,,rnd"], 2, r"--views has an empty entry"),
        (["report", "--k", ",5"], 2, r"--k has an empty entry"),
        (["fuse", "--views", "pop,,rnd", "--method", "rrf", "--view", "f"], 2, r"--views has an empty entry"),
        (["run", "--seeds", "1,,2"], 2, r"--seeds has an empty entry"),
        ([*PROBE, "--mapper", "linear,,mlp1"], 2, r"--mapper has an empty entry in 'linear,,mlp1'"),
        ([*PROBE, "--shift", "random,"], 2, r"--shift has an empty entry in 'random,'"),
    ],
    ids=lambda v: "-".join(v[:4]) if isinstance(v, list) else None,
)
def test_an_empty_entry_in_a_comma_separated_option_is_refused(ws, capsys, args, code, message):
    """An option's text with an empty entry cannot be read: a usage error (exit 2) from the parser. A
    diagnostic's -p value is typed by its SQL header, so the library refuses it (exit 1)."""
    import re

    got, out, err = run_cli(capsys, *args, "-w", str(ws))
    assert got == code and out == "", err
    line = err.strip() if code == 1 else usage_error(err)
    assert "\n" not in line and re.search(message, line), line
    assert "separate the entries with single commas" in line


@pytest.mark.parametrize(
    ("value", "example"), [("lightgcn,", "a,b"), (",", "a,b"), ("a,,b", "a,b"), ("a,b,,c", "a,b,c")]
)
def test_the_empty_entry_line_shows_a_list_as_its_example(value, example):
    from complement.checks import comma_list
    from complement.errors import ConfigError

    with pytest.raises(ConfigError) as error:
        comma_list("--views", value)
    assert str(error.value).endswith(f"separate the entries with single commas, e.g. {example}")


# Where a view named twice is refused: a diagnostic's list of views (new), fuse --views (every method, as
# before), report --views and probe --source = --target (as before). probe --shift and run --seeds drop or keep a
# repeat (harmless there). A pair diagnostic takes A,A: a view compared with itself is the identity check the
# reference tests run (tests/test_diagnose_reference.py, test_diagnose_compare.py), below.
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diagnose", "--sql", "metrics", "--views", "pop,rnd,pop"], r"--views names 'pop' twice"),
        (["diagnose", "--sql", "metrics", "-p", "views", "rnd,rnd"], r"parameter views names 'rnd' twice"),
        (["fuse", "--views", "pop,pop", "--method", "rrf", "--view", "f"], r"two different view names"),
        (["fuse", "--views", "pop,rnd,pop", "--method", "ranker", "--view", "f"], r"two or more different view names"),
        (["report", "--views", "pop,pop"], r"two different views"),
        ([*PROBE[:3], "--target", "pop"], r"two different views"),
    ],
    ids=lambda v: "-".join(v[:5]) if isinstance(v, list) else None,
)
def test_a_view_named_twice_is_refused_where_it_makes_no_sense(ws, capsys, args, message):
    import re

    code, out, err = run_cli(capsys, *args, "-w", str(ws))
    assert code == 1 and out == "" and err.count("\n") == 1 and re.search(message, err), err


@pytest.mark.parametrize(
    "args",
    [["--views", "pop,pop"], ["-p", "view_a", "pop", "-p", "view_b", "pop"]],
    ids=["views", "params"],
)
def test_a_pair_diagnostic_compares_a_view_with_itself(ws, capsys, args):
    import csv
    import io

    code, out, err = run_cli(capsys, "diagnose", "--sql", "overlap", *args, "-w", str(ws), "-f", "csv")
    assert code == 0, err
    rows = [r for r in csv.DictReader(io.StringIO(out)) if r["statistic"] == "jaccard"]
    assert rows and all(float(r["mean"]) == 1.0 for r in rows)
