"""Every integer and float option of the CLI reads plain ASCII numbers only: ``int()`` and ``float()`` (which
typer and click call) also read other scripts' digits (full-width or Arabic-Indic ones) and Python's '_'
separators ('1_000'), which a number typed in a flag never means. The options are found by walking the
command tree, so a new option that forgets the shared parser (``cli.options.number_parser``) fails here."""

from __future__ import annotations

import pytest
from conftest import run_cli

from complement.cli.docgen import root_command, walk


def _numeric_options() -> list[tuple[list[str], str, type]]:
    """(command path, flag, int or float) for every visible numeric option."""
    found = []
    for command, ctx in walk(root_command()):
        path = ctx.command_path.split()[1:]
        for param in command.params:
            if getattr(param, "hidden", False) or not getattr(param, "opts", None) or param.opts[0][0] != "-":
                continue
            descriptor = getattr(param, "type_descriptor", None)  # typer >= 0.2x
            if descriptor is not None:
                kind = descriptor.annotation if descriptor.annotation in (int, float) else None
            else:  # click's own types
                name = getattr(param.type, "name", "")
                kinds = {"integer": int, "integer range": int, "int": int, "float": float, "float range": float}
                kind = kinds.get(name)
            if kind is not None:
                found.append((path, param.opts[0], kind))
    return found


NUMERIC = _numeric_options()


def test_the_walk_finds_every_command_s_numeric_options():
    flags = {(" ".join(path), flag) for path, flag, _ in NUMERIC}
    for expected in [
        ("init", "--kcore"),
        ("init", "--min-rating"),
        ("synth", "--users"),
        ("train", "--lr"),
        ("topk", "--k"),
        ("neighbors", "--k"),
        ("fuse", "--rrf-k"),
        ("probe", "--seeds"),
        ("sql", "--timeout"),
    ]:
        assert expected in flags
    assert len(NUMERIC) >= 40


@pytest.mark.parametrize("text", ["1_0", "\uff12\uff10", "\u0663", "1_0.5"])
@pytest.mark.parametrize(("path", "flag", "kind"), NUMERIC, ids=lambda v: "-".join(v) if isinstance(v, list) else None)
def test_numeric_options_refuse_other_digits_and_underscores(capsys, path, flag, kind, text):
    if kind is int and text == "1_0.5":
        text = "1_000"
    code, out, err = run_cli(capsys, *path, flag, text)
    assert code == 2, (path, flag, err)
    assert f"Invalid value for '{flag}'" in err and "plain ASCII digits" in err
    assert err.count("\n") <= 4 and out == ""


@pytest.mark.parametrize("value", ["0_.05", "\uff10.05"])
def test_a_diagnostic_s_float_parameter_from_the_command_line_is_plain_ascii(value):
    # DuckDB's cast reads '0_.05' as 0.05 (and '1_0.5' as 10.5)
    from complement.diagnostics.headers import list_diagnostics
    from complement.diagnostics.runner import coerce
    from complement.errors import ComplementError

    diagnostic = next(d for d in list_diagnostics() if d.name == "compare")
    alpha = next(p for p in diagnostic.params if p.name == "alpha")
    assert coerce(diagnostic, alpha, "0.05") == 0.05
    with pytest.raises(ComplementError, match=r"parameter alpha expects DOUBLE, a number in plain ASCII digits"):
        coerce(diagnostic, alpha, value)


@pytest.mark.parametrize("raw", ["1_000", "0x10", "[5,1_0]", "0o17"])
def test_set_overrides_take_numbers_in_plain_decimal_digits(raw):
    from complement.errors import ConfigError
    from complement.experiment.schema import set_override

    with pytest.raises(ConfigError, match=r"^--set split\.seed: write numbers in plain decimal digits"):
        set_override({}, f"split.seed={raw}")
    config: dict = {}
    for ok in ("split.seed=7", 'view.name="v_1_2"', "dataset.path=../data_1", "split.ratios=[0.8,0.1,0.1]"):
        set_override(config, ok)
    assert config["split"] == {"seed": 7, "ratios": [0.8, 0.1, 0.1]} and config["dataset"]["path"] == "../data_1"
