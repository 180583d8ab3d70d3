"""The library's front door: a notebook runs the whole pipeline through ``complement.<verb>``, every
result has one shape, and every choice typo fails early (the CLI parser, the experiment loader)."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest

import complement
from complement.choices import (
    Device,
    Engine,
    Exclude,
    FuseMethod,
    ModelName,
    Norm,
    Protocol,
    ReportFormat,
    Shift,
    Split,
    SplitMethod,
)
from complement.cli.app import main
from complement.errors import ConfigError
from complement.experiment.schema import validate
from complement.steps import STEP_OPTIONS, EmbedOptions, FuseOptions, ProbeOptions, StepResult, TopkOptions
from complement.steps.options import flag_of

SYNTH = {
    "users": 150,
    "items": 80,
    "shared": 4,
    "semantic_private": 2,
    "collab_private": 2,
    "interactions_per_user": 12,
    "seed": 7,
}


def _count(ws, sql: str, **params) -> int:
    return ws.query(sql, params).column(0)[0].as_py()


def test_a_notebook_runs_the_whole_pipeline_through_the_verbs(tmp_path):
    made = complement.init(tmp_path / "ws", "synthetic", **SYNTH)
    ws = made.workspace
    n_users = _count(ws, "SELECT count(*) FROM users")
    n_items = _count(ws, "SELECT count(*) FROM items")
    assert isinstance(made, StepResult) and made.step == "init"
    assert (n_users, n_items) == (150, 80)
    assert made.rows == _count(ws, "SELECT count(*) FROM interactions") > 0
    assert any(line.startswith("150 users") for line in made.notes)

    again = complement.ingest(str(ws.root))  # a folder works as well as a Workspace
    assert again.step == "ingest" and again.rows == made.rows

    embedded = complement.embed(ws, "semantic", device="cpu")
    assert (embedded.view, embedded.rows) == ("semantic", n_items)
    assert embedded.settings["device"] == "cpu" and embedded.details["dim"] > 0
    assert _count(ws, "SELECT count(*) FROM embeddings WHERE view = 'semantic' AND entity = 'item'") == n_items

    pop = complement.train(ws, "pop", k=10, device="cpu")
    assert (pop.step, pop.view, pop.rows) == ("train", "pop", n_users * 10)
    mf = complement.train(ws, ModelName.mf, epochs=2, min_epochs=1, eval_every=1, k=10, device=Device.cpu)
    assert mf.view == "mf" and mf.details["epochs_run"] == 2 and mf.settings["epochs"] == 2

    listed = complement.topk(ws, "truth_collab", TopkOptions(k=5, exclude=Exclude.train_valid, device="cpu"))
    assert listed.rows == n_users * 5 == _count(ws, "SELECT count(*) FROM topk WHERE view = 'truth_collab'")
    assert listed.settings["exclude"] == "train+valid"

    fused = complement.fuse(ws, ["pop", "mf"], "rrf", "both", k=10, device="cpu")
    assert (fused.view, fused.rows) == ("both", n_users * 10)
    assert fused.settings["norm"] == "zscore" and fused.settings["rrf_k"] == 60.0  # the declared defaults

    probed = complement.probe(
        ws, "truth_semantic", "truth_collab", mappers="linear", shifts=[Shift.random], seeds=1, device="cpu"
    )
    assert isinstance(probed.table(), pa.Table) and probed.rows == probed.table().num_rows > 0
    assert set(probed.table().column("mapper").to_pylist()) == {"linear", "cca"}
    assert set(probed.column("run_id").to_pylist()) == {probed.details["run_id"]}  # acts as its table

    coverage = complement.diagnose(ws, "coverage", k=5, views=["truth_collab"])
    lists = ws.query("SELECT item_id FROM topk WHERE view = 'truth_collab' AND rank <= 5").column(0).to_pylist()
    (row,) = coverage.to_pylist()
    assert row["coverage"] == pytest.approx(len(set(lists)) / n_items)

    page = complement.report(ws, tmp_path / "report.md", fmt="markdown", ks=[5])
    assert page.details["path"] == str(tmp_path / "report.md")
    assert (tmp_path / "report.md").read_text(encoding="utf-8").startswith("#")

    for result in (made, embedded, pop, fused, probed, coverage, page):
        assert "<table>" in result._repr_html_() and f"<{result.step} result" in repr(result)
        assert result.table().num_rows >= 1


def test_run_brings_an_experiment_up_to_date_and_reports_the_plan(tmp_path):
    experiment = tmp_path / "experiment.toml"
    synth = "\n".join(f"{key} = {value}" for key, value in SYNTH.items())
    experiment.write_text(
        f'[dataset]\nkind = "synthetic"\n{synth}\n\n[[view]]\nname = "pop"\nmodel = "pop"\nk = 20\n\n'
        '[[view]]\nname = "rand"\nmodel = "random"\nk = 20\n\n'
        '[[fusion]]\nname = "both"\nviews = ["pop", "rand"]\nmethod = "rrf"\nk = 20\n\n'
        '[diagnostics]\nnames = ["coverage"]\n',
        encoding="utf-8",
    )
    first = complement.run(tmp_path / "ws", experiment)
    steps = first.table().to_pylist()
    assert [s["step"] for s in steps] == ["ingest", "view:pop", "view:rand", "fusion:both", "diagnostics"]
    assert {s["action"] for s in steps} == {"run"} and first.details["ran"] == 5
    second = complement.run(tmp_path / "ws", experiment)
    assert set(second.column("action").to_pylist()) == {"skip"} and second.details["ran"] == 0


def test_every_verb_is_exported_and_import_stays_light():
    import inspect
    import re
    import subprocess
    import sys

    from complement import steps
    from complement.cli.app import app
    from complement.steps import VERBS, verbs

    # every public function of verbs.py that returns a StepResult is a verb, and each is listed once
    defined = [
        name
        for name, function in vars(verbs).items()
        if inspect.isfunction(function) and function.__module__ == verbs.__name__ and not name.startswith("_")
        if inspect.signature(function).return_annotation in ("StepResult", StepResult)
    ]
    assert sorted(VERBS) == sorted(defined) and "export" in VERBS
    commands = {command.name for command in [*app.registered_commands, *app.registered_groups]}
    for verb in VERBS:
        assert callable(getattr(complement, verb)) and verb in complement.__all__ and verb in steps.__all__
        assert verb in commands  # the command of the same name is a thin layer over the verb
    # the verbs the package's docstring lists (what help(complement) shows) are the verbs, in VERBS' order
    listed = re.search(r"the verbs ``([a-z, \n]+)``", complement.__doc__ or "")
    assert listed is not None and re.split(r",\s+", listed.group(1)) == list(VERBS)
    code = "import complement, sys; print(sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_options_are_given_once_as_an_object_or_as_keywords(tmp_path):
    with pytest.raises(ConfigError, match=r"complement.fuse\(\): unknown key 'nrom' — did you mean 'norm'"):
        complement.fuse(tmp_path, "a,b", "rrf", "x", nrom="zscore")
    with pytest.raises(ConfigError, match="not both"):
        complement.fuse(tmp_path, "a,b", "rrf", "x", FuseOptions(), k=5)
    with pytest.raises(ConfigError, match=r"norm: unknown norm 'l2' \(choose from: minmax, zscore\)"):
        complement.fuse(tmp_path, "a,b", "rrf", "x", norm="l2")
    with pytest.raises(
        ConfigError, match=r"unknown fusion method 'sum' \(choose from: cca, concat, gate, ranker, rrf, score\)"
    ):
        complement.fuse(tmp_path, "a,b", "sum", "x")


def test_a_model_rejects_an_unknown_hyperparameter():
    from complement.embed.models import create_model

    assert create_model("mf", lr=0.25).config.lr == 0.25
    with pytest.raises(ConfigError, match="unknown hyperparameter 'epoch' — did you mean 'epochs'"):
        create_model("mf", epoch=3)


def test_the_model_choices_are_the_registered_models():
    from complement.embed.models import MODELS

    assert [m.value for m in ModelName] == list(MODELS)


# ---- every CLI choice: listed in --help, a typo is a usage error (exit 2) ---------------------------
W = ["-w", "/nonexistent/ws"]
CLI_TYPOS = [
    (["fuse", *W, "--views", "a,b", "--view", "f", "--method", "sum"], "--method", FuseMethod),
    (["fuse", *W, "--views", "a,b", "--view", "f", "--method", "rrf", "--norm", "l2"], "--norm", Norm),
    (["fuse", *W, "--views", "a,b", "--view", "f", "--method", "rrf", "--exclude", "test"], "--exclude", Exclude),
    (["fuse", *W, "--views", "a,b", "--view", "f", "--method", "rrf", "--device", "tpu"], "--device", Device),
    (["topk", *W, "--view", "a", "--exclude", "valid"], "--exclude", Exclude),
    (["topk", *W, "--view", "a", "--device", "gpu"], "--device", Device),
    (["neighbors", *W, "--view", "a", "--device", "gpu"], "--device", Device),
    (["train", "lightgnc", *W], "model", ModelName),
    (["train", "pop", *W, "--exclude", "all"], "--exclude", Exclude),
    (["embed", *W, "--device", "tpu"], "--device", Device),
    (["probe", *W, "--source", "a", "--target", "b", "--protocol", "ours2"], "--protocol", Protocol),
    (["probe", *W, "--source", "a", "--target", "b", "--shift", "random,time"], "--shift", Shift),
    (["probe", *W, "--source", "a", "--target", "b", "--mapper", "linear,svm"], "--mapper", None),
    (["diagnose", *W, "--sql", "overlap", "--engine", "duckdbx"], "--engine", Engine),
    (["diagnose", "show", "overlap", "--dialect", "postgres"], "--dialect", Engine),
    (["export", *W, "--qrels", "--split", "tests"], "--split", Split),
    (["report", *W, "--format", "pdf"], "--format", ReportFormat),
    (["init", "/nonexistent/ws", "-d", "movielens", "-p", "/nonexistent", "--split", "rand"], "--split", SplitMethod),
]


@pytest.mark.parametrize(("argv", "flag", "choices"), CLI_TYPOS, ids=lambda v: v if isinstance(v, str) else None)
def test_a_cli_choice_typo_is_a_usage_error(argv, flag, choices, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert err.startswith("Usage:") and f"Invalid value for '{flag}'" in err
    for choice in choices or []:
        assert choice.value in err  # the message lists what is allowed


@pytest.mark.parametrize("cls", [TopkOptions, EmbedOptions, FuseOptions, ProbeOptions])
def test_help_shows_every_declared_option_with_its_default_and_choices(cls, capsys):
    main([cls.step, "--help"])
    text = " ".join(capsys.readouterr().out.split())  # unwrapped
    for f in dataclasses.fields(cls):
        assert flag_of(f) in text
        choices = f.metadata.get("choices")
        if choices is Device:  # the choices, or cuda:N for one GPU of several
            assert f"{flag_of(f)} <auto|cpu|cuda|cuda:N>" in text
        elif choices is not None and not str(f.type).startswith("tuple"):
            assert f"{flag_of(f)} <{'|'.join(c.value for c in choices)}>" in text
        if f.default is not None and f.metadata.get("show_default", True) and f.default is not False:
            default = f.default.value if hasattr(f.default, "value") else f.default
            assert f"[default: {default}" in text.split(flag_of(f) + " ", 1)[1]


# ---- every experiment-file typo: one ConfigError naming the key and the allowed values -------------
BASE = {"dataset": {"kind": "synthetic"}, "view": [{"name": "pop", "model": "pop"}]}
TOML_TYPOS = [
    ({"fusion": [{"name": "f", "views": ["pop", "truth_collab"], "method": "sum"}]}, "method", FuseMethod),
    (
        {"fusion": [{"name": "f", "views": ["pop", "truth_collab"], "method": "score", "norm": "l2"}]},
        "norm",
        Norm,
    ),
    (
        {"fusion": [{"name": "f", "views": ["pop", "truth_collab"], "method": "rrf", "exclude": "test"}]},
        "exclude",
        Exclude,
    ),
    ({"view": [{"name": "x", "model": "lightgnc"}]}, "model", ModelName),
    ({"view": [{"name": "x", "model": "pop", "exclude": "valid"}]}, "exclude", Exclude),
    ({"view": [{"name": "x", "embed": "default", "device": "tpu"}]}, "device", Device),
    ({"probe": [{"source": "pop", "target": "truth_collab", "protocol": "our"}]}, "protocol", Protocol),
    ({"probe": [{"source": "pop", "target": "truth_collab", "shifts": ["cold", "time"]}]}, "shifts", Shift),
    ({"run": {"device": "gpu"}}, "device", Device),
    ({"split": {"method": "rand"}}, "method", SplitMethod),
]


@pytest.mark.parametrize(("change", "key", "choices"), TOML_TYPOS, ids=lambda v: v if isinstance(v, str) else None)
def test_an_experiment_choice_typo_names_the_key_and_the_allowed_values(change, key, choices):
    with pytest.raises(ConfigError) as info:
        validate({**BASE, **change}, source="experiment.toml")
    message = str(info.value)
    assert "\n" not in message and message.startswith("experiment.toml") and key in message
    assert all(c.value in message for c in choices), message


@pytest.mark.parametrize(
    ("change", "where", "step"),
    [
        (
            {"fusion": [{"name": "f", "views": ["pop", "truth_collab"], "method": "rrf", "rrf": 3}]},
            "fusion 'f'",
            "fuse",
        ),
        ({"probe": [{"source": "pop", "target": "truth_collab", "mapper": "linear"}]}, "probe[0]", "probe"),
        ({"view": [{"name": "x", "embed": "default", "batchsize": 3}]}, "view 'x'", "embed"),
        ({"run": {"seed": [1]}}, "[run]", "run"),
        ({"split": {"ratio": [1, 0, 0]}}, "[split]", "split"),
    ],
)
def test_an_unknown_experiment_key_names_the_step_and_the_allowed_keys(change, where, step):
    with pytest.raises(ConfigError) as info:
        validate({**BASE, **change}, source="experiment.toml")
    message = str(info.value)
    assert message.startswith(f"experiment.toml: {where}: unknown key") and "choose from" in message
    allowed = [key for key in STEP_OPTIONS[step].keys() if not (step == "embed" and key == "model")]
    assert all(key in message for key in allowed), message


def test_the_library_functions_under_the_verbs_default_to_the_declarations():
    """The functions the verbs call keep keyword defaults of their own (other code calls them directly):
    each must equal the step's declared default, so the declaration stays the only source."""
    import inspect

    from complement.embed.encoder import embed
    from complement.embed.train import train_view
    from complement.fusion.run import fuse
    from complement.probes.run import run_probe
    from complement.scoring import write_topk
    from complement.steps import TrainOptions

    pairs = [(write_topk, TopkOptions), (embed, EmbedOptions), (train_view, TrainOptions), (fuse, FuseOptions)]
    pairs.append((run_probe, ProbeOptions))
    for function, cls in pairs:
        defaults = {n: p.default for n, p in inspect.signature(function).parameters.items()}
        for f in dataclasses.fields(cls):
            assert f.name in defaults, (function.__name__, f.name)
            assert defaults[f.name] == f.default, (function.__name__, f.name, defaults[f.name], f.default)


def test_the_split_defaults_of_ingest_are_the_declared_ones():
    import inspect

    from complement.data.loaders import DEFAULT_SPLIT, make_config
    from complement.steps import SplitOptions

    declared = SplitOptions()
    assert DEFAULT_SPLIT == {"method": declared.method, "ratios": list(declared.ratios), "seed": declared.seed}
    parameters = inspect.signature(make_config).parameters
    assert parameters["split"].default == declared.method and parameters["seed"].default == declared.seed
    assert parameters["ratios"].default == declared.ratios


def test_init_of_synthetic_data_takes_the_generator_settings_only(tmp_path):
    with pytest.raises(ConfigError, match=r"generated, not loaded .*unknown generator setting 'path'"):
        complement.init(tmp_path / "ws", "synthetic", path=str(tmp_path))
    assert not (tmp_path / "ws").exists()


def test_a_list_of_diagnostics_shows_their_headers_not_their_sql():
    # a notebook cell ending in complement.list_diagnostics() printed every SQL file in full
    listed = complement.list_diagnostics()
    shown = repr(listed)
    assert "metrics" in shown and "SELECT" not in shown.upper().replace("SELECTED", "")
    assert all(d.sql.strip() for d in listed)  # the text is still there
