"""Bad numbers: seeds beyond 32 bits, a timeout of inf, a rank beyond 64 bits, scores that are NaN or ±inf.
Each case must fail with one clear line and leave every file as it was (tests/badinput.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from badinput import Case, run_case

from complement.checks import SEED_MAX
from complement.sandbox import TIMEOUT_MAX
from complement.workspace import Workspace

W = ["-w", "{ws}"]
PROBE = ["probe", *W, "--source", "semantic", "--target", "pop", "--mapper", "linear", "--shift", "random"]
GENERIC = [
    "-d",
    "generic",
    "-p",
    "{fixtures}/generic/events.csv",
    "--user-col",
    "who",
    "--item-col",
    "what",
    "--items",
    "{fixtures}/generic/things.csv",
]
SYNTHETIC_RUN = '[dataset]\nkind = "synthetic"\nusers = 40\nitems = 60\n[[view]]\nname = "pop"\nmodel = "pop"\n'


# ---- setups ------------------------------------------------------------------------------------------
def first_ids(folder: Path, n: int = 2) -> tuple[list[str], list[str]]:
    """The first ``n`` user ids and item ids of the case's workspace (so the lists reach the number checks)."""
    ws = Workspace(folder / "ws")
    return [str(u) for u in ws.user_ids()[:n]], [str(i) for i in ws.item_ids()[:n]]


def lists_file(name: str, render):
    """Write ``render(users, items)`` (text) to ``name`` in the case folder, with the workspace's real ids."""

    def setup(folder: Path) -> None:
        users, items = first_ids(folder)
        (folder / name).write_text(render(users, items), encoding="utf-8")

    return setup


def parquet_lists(name: str, scores: list[float]):
    def setup(folder: Path) -> None:
        users, items = first_ids(folder)
        table = pa.table({"user": [users[0]] * len(scores), "item": items[: len(scores)], "score": scores})
        pq.write_table(table, folder / name)

    return setup


def write(name: str, content: str):
    def setup(folder: Path) -> None:
        (folder / name).write_text(content, encoding="utf-8")

    return setup


def config_edit(transform):
    def setup(folder: Path) -> None:
        path = folder / "ws" / "complement.toml"
        path.write_text(transform(path.read_text(encoding="utf-8")), encoding="utf-8")

    return setup


def split_seed(value: str):
    """The [split] table's seed (the second ``seed =`` line of the synth workspace's complement.toml)."""

    def transform(text: str) -> str:
        head, split = text.split("[split]")
        lines = [f"seed = {value}" if line.startswith("seed =") else line for line in split.splitlines()]
        return head + "[split]" + "\n".join(lines) + "\n"

    return config_edit(transform)


def topk_from(file: str) -> list[str]:
    return ["topk", *W, "--view", "imported", "--from", "{tmp}/" + file]


NOT_FINITE = r"not (a finite number|finite numbers) \(user/item: "

# ---- the cases --------------------------------------------------------------------------------------
SEEDS = [
    Case(
        "probe-seed-above-32-bits",
        "synth",
        [*PROBE, "--seeds", "1", "--seed", "4294967296"],
        1,
        r"--seed must be at most 2147483647, not 4294967296",
    ),
    Case(
        "probe-seed-run-passes-seed-max",
        "synth",
        [*PROBE, "--seeds", "2", "--seed", str(SEED_MAX)],
        1,
        r"--seed must be at most 2147483646, not 2147483647",
    ),
    Case(
        "probe-seed-above-64-bits",
        "synth",
        [*PROBE, "--seeds", "1", "--seed", str(2**64)],
        1,
        r"--seed must be at most 2147483647, not 18446744073709551616",
    ),
    Case(
        "synth-seed-negative",
        "none",
        ["synth", "{tmp}/new", "--users", "50", "--items", "60", "--seed", "-1"],
        1,
        r"--seed must be at least 0, not -1",
    ),
    Case(
        "synth-seed-above-64-bits",
        "none",
        ["synth", "{tmp}/new", "--users", "50", "--items", "60", "--seed", str(2**64)],
        1,
        r"--seed must be at most 2147483647, not 18446744073709551616",
    ),
    Case(
        "init-synthetic-seed-above-64-bits",
        "none",
        ["init", "{tmp}/new", "-d", "synthetic", "--seed", str(2**64)],
        1,
        r"--seed must be at most 2147483647",
    ),
    Case(
        "init-generic-seed-above-64-bits",
        "none",
        ["init", "{tmp}/new", *GENERIC, "--seed", str(2**64)],
        1,
        r"--seed must be at most 2147483647",
    ),
    Case(
        "run-new-synthetic-seed-negative",
        write("exp.toml", SYNTHETIC_RUN.replace("items = 60\n", "items = 60\nseed = -1\n")),
        ["run", "{tmp}/exp.toml", "-w", "{tmp}/new"],
        1,
        r"exp\.toml: \[dataset\]\.seed must be at least 0, not -1",  # the file's key, not synth's --seed
    ),
    Case(
        "ingest-synthetic-split-seed-negative",
        split_seed("-1"),
        ["ingest", *W],
        1,
        r"\[split\] seed must be at least 0, not -1",
    ),
    Case(
        "ingest-synthetic-split-seed-above-64-bits",
        split_seed(str(2**64)),
        ["ingest", *W],
        1,
        r"\[split\] seed must be at most 2147483647, not 18446744073709551616",
    ),
]

TIMEOUTS = [
    Case(
        f"sql-timeout-{case_id}",
        "synth",
        ["sql", *W, "SELECT 1", "--timeout", value],
        1,
        rf"--timeout takes a positive number of seconds, at most {TIMEOUT_MAX} \(7 days\), not {shown}",
    )
    for case_id, value, shown in (
        ("inf", "inf", "inf"),
        ("1e300", "1e300", r"1e\+300"),
        ("above-7-days", str(TIMEOUT_MAX + 1), str(TIMEOUT_MAX + 1)),
    )
]

IMPORTS = [
    Case(
        "topk-from-trec-rank-above-64-bits",
        lists_file("big.trec", lambda u, i: f"{u[0]} Q0 {i[0]} 99999999999999999999 1.0 run\n"),
        topk_from("big.trec"),
        1,
        r"big\.trec: line 1 \(user '[^']+'\): rank 99999999999999999999 is out of range",
    ),
    *(
        Case(f"topk-from-{case_id}", setup, topk_from(setup_file), 1, message)
        for case_id, setup_file, setup, message in (
            (
                "trec-score-inf",
                "inf.trec",
                lists_file("inf.trec", lambda u, i: f"{u[0]} Q0 {i[0]} 1 1e999 run\n{u[0]} Q0 {i[1]} 2 -inf run\n"),
                r"inf\.trec: 2 scores are " + NOT_FINITE + r"'[^']+'/'[^']+' = 1e999, '[^']+'/'[^']+' = -inf\)",
            ),
            (
                "trec-score-nan",
                "nan.trec",
                lists_file("nan.trec", lambda u, i: f"{u[0]} Q0 {i[0]} 1 nan run\n{u[0]} Q0 {i[1]} 2 0.5 run\n"),
                r"nan\.trec: 1 score is " + NOT_FINITE + r"'[^']+'/'[^']+' = nan\)",
            ),
            (
                "csv-score-nan",
                "nan.csv",
                lists_file("nan.csv", lambda u, i: f"user,item,score\n{u[0]},{i[0]},nan\n{u[0]},{i[1]},1.0\n"),
                r"nan\.csv: 1 score is " + NOT_FINITE + r"'[^']+'/'[^']+' = nan\)",
            ),
            (
                "tsv-headerless-score-inf",
                "inf.tsv",
                lists_file("inf.tsv", lambda u, i: f"{u[0]}\t{i[0]}\tinf\n{u[0]}\t{i[1]}\t1.0\n"),
                r"inf\.tsv: 1 score is " + NOT_FINITE + r"'[^']+'/'[^']+' = inf\)",
            ),
            (
                "ranx-score-nan",
                "nan.json",
                lists_file("nan.json", lambda u, i: f'{{"{u[0]}": {{"{i[0]}": NaN, "{i[1]}": 1.0}}}}'),
                r"nan\.json: 1 score is " + NOT_FINITE + r"'[^']+'/'[^']+' = NaN\)",
            ),
            (
                "ranx-score-infinity",
                "inf.json",
                lists_file("inf.json", lambda u, i: json.dumps({u[0]: {i[0]: float("inf"), i[1]: 1.0}})),
                r"inf\.json: 1 score is " + NOT_FINITE + r"'[^']+'/'[^']+' = Infinity\)",
            ),
            (
                "parquet-score-nan",
                "nan.parquet",
                parquet_lists("nan.parquet", [float("nan"), 1.0]),
                r"nan\.parquet: 1 score is " + NOT_FINITE + r"'[^']+'/'[^']+' = nan\)",
            ),
        )
    ),
]

CASES = SEEDS + TIMEOUTS + IMPORTS


def test_the_case_ids_are_distinct():
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_number_fails_with_one_line_and_changes_nothing(case: Case, bases, tmp_path, capsys):
    run_case(case, tmp_path / "case", bases, capsys)


# ---- the bounds themselves are accepted -------------------------------------------------------------
def test_the_largest_timeout_is_accepted(bases, capsys):
    from conftest import run_cli

    code, out, err = run_cli(capsys, "sql", "-w", str(bases["synth"]), "SELECT 1 AS x", "--timeout", str(TIMEOUT_MAX))
    assert code == 0, err
    assert out.split() == ["x", "1"]


def test_a_probe_run_ending_at_seed_max_is_accepted(bases, tmp_path, capsys):
    import shutil

    from conftest import run_cli

    ws = shutil.copytree(bases["synth"], tmp_path / "ws")
    args = ["--seeds", "2", "--seed", str(SEED_MAX - 1), "--k", "5", "--format", "csv"]
    code, _, err = run_cli(capsys, *[a.format(ws=ws) for a in PROBE], *args)
    assert code == 0, err
    seeds = Workspace(ws).query("SELECT DISTINCT seed FROM probes ORDER BY seed").column("seed").to_pylist()
    assert seeds == [SEED_MAX - 1, SEED_MAX]
