"""`complement diagnose` on the command line: list, show, --sql NAME, --k, --out, exit codes."""

from __future__ import annotations

import json
import shlex

import pyarrow.parquet as pq
import pytest
import reference_metrics as ref
from conftest import synthetic_with_random_views
from test_diagnose_hand import hand_case

from complement.cli.app import main


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return ref.write_case(tmp_path_factory.mktemp("cli"), hand_case())


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return exit_info.value.code or 0, out, err


def test_list_names_every_diagnostic_with_its_description(capsys):
    code, out, _ = run(capsys, "diagnose", "list", "--format", "csv")
    assert code == 0
    assert 'overlap,"k INTEGER = 20, view_a VARCHAR, view_b VARCHAR","How different' in out


def test_show_prints_the_sql(capsys):
    code, out, _ = run(capsys, "diagnose", "show", "oracle")
    assert code == 0 and out.startswith("-- name: oracle\n") and "union_at_k" in out


def test_sql_with_views_and_param(ws, capsys):
    code, out, _ = run(
        capsys,
        "diagnose",
        "-w",
        str(ws.root),
        "--sql",
        "unique_hits",
        "--views",
        "a,b",
        "-p",
        "k",
        "3",
        "--format",
        "json",
    )
    assert code == 0
    (row,) = json.loads(out)
    assert (row["common"], row["a_only"], row["b_only"]) == (1, 1, 1)


def test_run_subcommand_and_k_list_add_a_k_column(ws, capsys):
    code, out, _ = run(capsys, "diagnose", "run", "metrics", "-w", str(ws.root), "--k", "1,3", "--format", "csv")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "k,view,n_users,recall,precision,hit_rate,ndcg,mrr"
    assert [line.split(",")[:2] for line in lines[1:]] == [["1", "a"], ["1", "b"], ["3", "a"], ["3", "b"]]


def test_out_writes_parquet_and_prints_nothing(ws, tmp_path, capsys):
    target = tmp_path / "oracle.parquet"
    code, out, err = run(
        capsys, "diagnose", "-w", str(ws.root), "--sql", "oracle", "--views", "a,b", "--out", str(target)
    )
    assert code == 0 and out == "" and "wrote 4 rows" in err
    assert pq.read_table(target).column("pop_group").to_pylist() == ["all", "cold", "mid", "hot"]


@pytest.mark.parametrize("suffix", [".csv", ".json", ".md"])
def test_out_writes_the_text_format_its_suffix_names(ws, tmp_path, capsys, suffix):
    """--out FILE.csv/.json/.md holds exactly what --format csv/json/markdown prints."""
    fmt = {".csv": "csv", ".json": "json", ".md": "markdown"}[suffix]
    target = tmp_path / f"oracle{suffix}"
    args = ("diagnose", "-w", str(ws.root), "--sql", "oracle", "--views", "a,b")
    code, out, err = run(capsys, *args, "--out", str(target))
    assert code == 0 and out == "" and "wrote 4 rows" in err
    code, printed, _ = run(capsys, *args, "--format", fmt)
    assert code == 0 and target.read_text() == printed
    if suffix == ".md":
        assert printed.startswith("| pop_group |") and printed.count("\n") == 6


def test_errors_are_one_line_with_exit_1(ws, capsys):
    code, out, err = run(capsys, "diagnose", "-w", str(ws.root), "--sql", "overlpa")
    assert code == 1 and out == ""
    assert err.startswith("Error: unknown diagnostic 'overlpa' — did you mean 'overlap'?") and err.count("\n") == 1
    code, _, err = run(capsys, "diagnose", "-w", str(ws.root), "--sql", "overlap", "--views", "a,zz")
    assert code == 1 and err == "Error: view 'zz' is not in the 'topk' table (views: a, b)\n"
    code, _, err = run(capsys, "diagnose", "-w", str(ws.root), "--sql", "overlap")
    assert code == 1 and err == "Error: diagnostic 'overlap' needs parameter view_a VARCHAR (pass --views A,B)\n"
    code, _, err = run(capsys, "diagnose", "-w", str(ws.root), "--sql", "metrics", "-p", "kk", "3")
    assert code == 2 and "Invalid value for -p: diagnostic 'metrics' has no parameter 'kk'" in err
    code, _, err = run(capsys, "diagnose", "-w", str(ws.root), "--sql", "metrics", "--out", "x.txt")
    assert code == 1 and "--out must end in .parquet, .csv, .json, .md, not 'x.txt'" in err
    code, _, err = run(capsys, "diagnose", "-w", str(ws.root), "--sql", "metrics", "--out", "x.md", "--format", "csv")
    assert code == 1 and err == "Error: --out takes the format from the file's suffix; drop --format\n"


def test_check_with_offending_rows_prints_them_and_exits_3(tmp_path, capsys):
    case = hand_case()
    case["interactions"] = case["interactions"] + [("u1", "i4", "train")]
    ws = ref.write_case(tmp_path, case)
    code, out, err = run(capsys, "diagnose", "-w", str(ws.root), "--sql", "check_no_seen_items", "--format", "csv")
    assert code == 3
    assert out.splitlines() == ["view,user_id,rank,item_id,split", "a,u1,2,i4,train", "b,u1,1,i4,train"]
    assert err == "Error: check_no_seen_items: 2 offending row(s)\n"
    code, out, _ = run(capsys, "diagnose", "-w", str(ws.root), "--sql", "check_split_disjoint", "--format", "csv")
    assert code == 0 and out == "user_id,item_id,splits,problem\n"


def test_a_view_with_vectors_but_without_the_rows_read_gets_the_command_that_makes_them(tmp_path, capsys):
    root = tmp_path / "ws"
    synthetic_with_random_views(root, ("a", "b"), dim=4, users=30, items=25, interactions_per_user=6, seed=1)
    for step in (["topk", "--view", "a", "--k", "10"], ["neighbors", "--view", "a", "--k", "5"]):
        assert run(capsys, *step, "-w", str(root))[0] == 0
    cases = [
        ("overlap", "a,b", "make its lists with `complement topk --view b`"),
        ("overlap", "a,truth_semantic", "view 'truth_semantic' has item vectors only"),
        ("item_agreement", "a,b", "make its item neighbours with `complement neighbors --view b`"),
    ]
    for sql, views, hint in cases:
        code, _, err = run(capsys, "diagnose", "-w", str(root), "--sql", sql, "--views", views)
        assert code == 1 and hint in err, err
    code, _, err = run(capsys, "diagnose", "-w", str(root), "--sql", "overlap", "--views", "a,nosuch")
    assert code == 1 and "complement topk" not in err and "item vectors only" not in err


@pytest.mark.parametrize(
    ("before", "after", "named", "then"),
    [
        (["-w", "{ws}"], ["run", "overlap", "--views", "a,b"], "-w", ": put it after it: "),
        (["--views", "a,b", "-w", "{ws}"], ["run", "overlap"], "--views, -w", ": put them after it: "),
        (["-f", "json"], ["run", "overlap", "-w", "{ws}", "--views", "a,b"], "--format", ": put it after it: "),
        (["-p", "k", "2"], ["run", "metrics", "-w", "{ws}"], "-p", ": put it after it: "),
        (["--k", "2,3", "--allow-stale"], ["run", "metrics", "-w", "{ws}"], "--k, --allow-stale", ": put them after"),
        (["-w", "{ws}"], ["show", "overlap", "--standalone", "--views", "a,b"], "-w", ": put it after it: "),
        # what the subcommand does not take is named as such, not moved into a command that would fail
        (["--sql", "metrics"], ["list"], "--sql", ", and 'list' takes no --sql: run "),
        (["-w", "{ws}"], ["list"], "-w", ", and 'list' takes no -w: run "),
        (["-w", "{ws}", "-f", "csv"], ["list"], "-w, --format", ": put --format after it ('list' takes no -w): "),
        (["-f", "csv", "-o", "{out}"], ["list"], "--format, --out", ": put --format after it ('list' takes no --out)"),
        (["-f", "json", "-w", "{ws}"], ["show", "overlap"], "-w, --format", ": put -w after it ('show' takes no --fo"),
        (
            ["--sql", "metrics", "-w", "{ws}"],
            ["run", "metrics"],
            "--sql, -w",
            ": put -w after it ('run' takes no --sql",
        ),
        (
            ["--engine", "duckdb", "--k", "2"],
            ["show", "metrics"],
            "--k, --engine",
            ", and 'show' takes no --k, --engine",
        ),
    ],
)
def test_the_group_s_options_before_a_subcommand_are_a_usage_error(ws, tmp_path, capsys, before, after, named, then):
    """They belong to --sql: before run/show/list they were silently dropped (run read the current folder). The
    line ends with the command to type instead, and that command works."""
    fill = {"{ws}": str(ws.root), "{out}": str(tmp_path / "r.csv")}
    args = [fill.get(a, a) for a in ["diagnose", *before, *after]]
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith("Usage:")
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"Error: {named} before '{after[0]}' would be ignored{then}"), line
    suggested = line.rpartition(": ")[2].removeprefix("run ")
    assert suggested.split()[:3] == ["complement", "diagnose", after[0]]
    assert "NAME" not in suggested and "DIR" not in suggested
    code, out, err = run(capsys, *shlex.split(suggested)[1:])
    assert code == 0 and out and err == "", (suggested, err)


def test_a_misplaced_option_before_a_subcommand_without_its_name_shows_where_the_name_goes(ws, capsys):
    for after in (["run"], ["run", "--views", "a,b"], ["show", "--standalone"]):
        code, _, err = run(capsys, "diagnose", "-w", str(ws.root), *after)
        assert code == 2
        line = err.strip().splitlines()[-1]
        assert line.endswith(
            f"complement diagnose {after[0]} NAME {' '.join(after[1:])} -w {ws.root}".replace("  ", " ")
        )


def test_the_workspace_from_the_environment_is_no_misplaced_option(ws, capsys, monkeypatch):
    """COMPLEMENT_WORKSPACE sets the group's -w too, but nothing was typed before the subcommand."""
    monkeypatch.setenv("COMPLEMENT_WORKSPACE", str(ws.root))
    code, out, _ = run(capsys, "diagnose", "list", "-f", "csv")
    assert code == 0 and out.startswith("name,params,description")
    code, out, _ = run(capsys, "diagnose", "run", "unique_hits", "--views", "a,b", "-p", "k", "3", "-f", "json")
    assert code == 0 and json.loads(out)[0]["common"] == 1
    code, out, _ = run(capsys, "diagnose", "show", "overlap", "--standalone", "--views", "a,b")
    assert code == 0 and str(ws.root) in out


def test_a_diagnostic_named_where_a_subcommand_goes_says_how_to_run_it(ws, capsys):
    code, _, err = run(capsys, "diagnose", "-w", str(ws.root), "overlap")
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "Error: No such command 'overlap': run the diagnostic with `complement diagnose --sql overlap …` or "
        "`complement diagnose run overlap …`"
    )
    code, _, err = run(capsys, "diagnose", "overlpa")  # not a diagnostic: click's own line
    assert code == 2 and err.strip().splitlines()[-1] == "Error: No such command 'overlpa'."


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        (["--views", "a,b", "-p", "view_a", "b"], "Error: -p view_a and --views both set view_a: give it one way\n"),
        (["--views", "a,b", "-p", "k", "3", "--k", "2"], "Error: -p k and --k both set k: give it one way\n"),
        (["--views", "a,b", "-p", "view_b=a"], "Error: -p view_b and --views both set view_b: give it one way\n"),
    ],
)
def test_a_parameter_set_by_p_and_by_its_own_option_is_refused(ws, capsys, extra, line):
    code, out, err = run(capsys, "diagnose", "-w", str(ws.root), "--sql", "overlap", *extra)
    assert code == 1 and out == "" and err == line


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--sql", "metrics", "-p", "k", "ten"], 2, "parameter k expects INTEGER, a whole number in plain decimal"),
        (["--sql", "metrics", "-p", "k", "2.5"], 2, "parameter k expects INTEGER"),
        (["--sql", "rbo", "--views", "a,b", "-p", "p", "high"], 2, "parameter p expects DOUBLE"),
        (["--sql", "rbo", "--views", "a,b", "-p", "p", "0_9"], 2, "p expects DOUBLE, a number in plain ASCII"),
        (["--sql", "metrics", "-p", "views", "a,,b"], 2, "parameter views"),
        (["--sql", "metrics", "-p", "k"], 2, "takes a name and a value"),
        (["--sql", "metrics", "-p", "nope", "1"], 2, "has no parameter 'nope'"),
        (["--sql", "metrics", "-p", "k", "0"], 1, "parameter k must be at least 1, got 0"),
        (["--sql", "metrics", "-p", "views", "a,a"], 1, "parameter views names 'a' twice"),
        (["--sql", "metrics", "-p", "k", "99999999999"], 1, "99999999999 is outside its range"),
        (["--sql", "rbo", "--views", "a,b", "-p", "p", "1.5"], 1, "p"),
    ],
)
def test_p_values_follow_the_exit_code_rule(ws, capsys, args, code, message):
    """-p text that does not read as its parameter's type is a usage error (2), like --k ten; a readable value
    refused by a bound is 1 (docs/design.md)."""
    got, out, err = run(capsys, "diagnose", "-w", str(ws.root), *args)
    assert (got, out) == (code, ""), err
    assert message in err
    if code == 1:
        assert err.count("\n") == 1
