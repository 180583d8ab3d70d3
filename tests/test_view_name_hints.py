"""Every place that takes a view name suggests the closest declared one for a typo: difflib's close matches
('lightgc' -> 'lightgcn') and a name that is a prefix of the other ('semantic' -> 'sem', which difflib's
ratio misses)."""

from __future__ import annotations

import pytest
from conftest import run_cli, synthetic_with_random_views

from complement.errors import ConfigError, did_you_mean
from complement.experiment.schema import validate


def test_did_you_mean_takes_prefixes_as_close():
    assert did_you_mean("semantic", ["sem", "lightgcn", "text"]) == " — did you mean 'sem'?"
    assert did_you_mean("sem", ["semantic", "text"]) == " — did you mean 'semantic'?"
    assert did_you_mean("lightgc", ["sem", "lightgcn"]) == " — did you mean 'lightgcn'?"
    assert did_you_mean("fusion-big", ["fusion", "fusion-b"]) == " — did you mean 'fusion-b'?"  # closest length
    assert did_you_mean("semantic", ["truth_semantic", "sem"]) == " — did you mean 'sem'?"  # a prefix first
    assert did_you_mean("ab", ["abc"]) == " — did you mean 'abc'?"  # difflib's ratio 0.8
    assert did_you_mean("se", ["sem-bag"]) == ""  # a two-letter prefix suggests nothing
    assert did_you_mean("pop", ["sem", "lightgcn"]) == ""


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("hints") / "ws"
    synthetic_with_random_views(
        root, ("sem", "lightgcn"), dim=4, lists_k=10, users=30, items=25, interactions_per_user=6, seed=1
    )
    return root


@pytest.mark.parametrize(
    ("args", "meant"),
    [
        (["diagnose", "--sql", "overlap", "--views", "semantic,lightgcn"], "sem"),
        (["diagnose", "--sql", "overlap", "--views", "sem,lightgc"], "lightgcn"),
        (["diagnose", "--sql", "metrics", "-p", "views", "sem,lightgc"], "lightgcn"),
        (["topk", "--view", "semantic"], "sem"),
        (["neighbors", "--view", "lightgc"], "lightgcn"),
        (["export", "--view", "semantic", "--out", "{tmp}/x.trec"], "sem"),
        (["fuse", "--views", "semantic,lightgcn", "--method", "score", "--view", "f", "--k", "10"], "sem"),
        (["fuse", "--views", "sem,lightgc", "--method", "rrf", "--view", "f", "--k", "10"], "lightgcn"),
        (["probe", "--source", "semantic", "--target", "lightgcn"], "sem"),
        (["report", "--views", "semantic,lightgcn", "--out", "{tmp}/r.md", "--format", "markdown"], "sem"),
    ],
    ids=lambda v: "-".join(v[:3]) if isinstance(v, list) else v,
)
def test_an_unknown_view_on_the_command_line_suggests_the_closest(ws, tmp_path, capsys, args, meant):
    code, _, err = run_cli(capsys, *[a.format(tmp=tmp_path) for a in args], "-w", str(ws))
    assert code == 1, err
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    assert f"did you mean '{meant}'?" in err


BASE = {
    "dataset": {"kind": "synthetic"},
    "view": [{"name": "sem", "model": "pop"}, {"name": "lightgcn", "model": "pop"}],
}


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ({"fusion": [{"name": "f", "method": "score", "views": ["semantic", "lightgcn"]}]}, "fusion 'f'.views"),
        ({"diagnostics": {"pairs": [["semantic", "lightgcn"]]}}, "[diagnostics].pairs"),
        ({"probe": [{"source": "semantic", "target": "lightgcn"}]}, "probe[0].source"),
    ],
)
def test_an_undeclared_view_in_the_experiment_suggests_the_closest(extra, where):
    import copy

    with pytest.raises(ConfigError, match=r"view 'semantic' is not declared — did you mean 'sem'\?") as err:
        validate({**copy.deepcopy(BASE), **extra})
    assert where in str(err.value)
