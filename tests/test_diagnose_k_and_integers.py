"""A cut-off k must fit the stored lists of the views a diagnostic reads, and integer parameters
take plain decimal integers only: `2.5`, `0x10`, `1e1` are refused, never read as another number."""

from __future__ import annotations

import json

import pytest
import reference_metrics as ref
from conftest import run_cli

import complement
from complement.errors import ComplementError


def _case() -> dict:
    """Three users with one test item each; view 'long' holds lists of 5, 'short' of 3, and the
    neighbour lists of 'na' hold 4 items, of 'nb' 2."""
    items = [f"i{n}" for n in range(8)]
    users = ["u0", "u1", "u2"]
    interactions = [(u, "i0", "train") for u in users] + [
        ("u0", "i1", "test"),
        ("u1", "i2", "test"),
        ("u2", "i3", "test"),
    ]
    return {
        "items": items,
        "users": users,
        "item_n_train": {i: (3 if i == "i0" else 0) for i in items},
        "user_n_train": {u: 1 for u in users},
        "group_of": {i: "hot" if i == "i0" else "cold" for i in items},
        "interactions": interactions,
        "lists": {
            "long": {u: ["i1", "i2", "i3", "i4", "i5"] for u in users},
            "short": {u: ["i3", "i4", "i5"] for u in users},
        },
        "neighbors": {
            "na": {i: [j for j in items if j != i][:4] for i in items},
            "nb": {i: [j for j in items if j != i][:2] for i in items},
        },
    }


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return ref.write_case(tmp_path_factory.mktemp("klen"), _case())


@pytest.mark.parametrize(
    "name,params,view,length",
    [
        ("metrics", {"k": 6}, "short", 3),  # every view (empty views list): the shortest is 'short'
        ("metrics", {"k": 4, "views": ["short"]}, "short", 3),
        ("metrics", {"k": 6, "views": ["long"]}, "long", 5),
        ("overlap", {"k": 4, "view_a": "long", "view_b": "short"}, "short", 3),
        ("seed_summary", {"k": 1000000}, "short", 3),  # no view parameter: every view is read
        ("item_agreement", {"k": 3, "view_a": "na", "view_b": "nb"}, "nb", 2),
        ("metrics", {"k": [2, 3, 4]}, "short", 3),  # a list: refused before any K runs
    ],
)
def test_k_longer_than_the_stored_lists_is_refused_naming_the_view(ws, name, params, view, length):
    with pytest.raises(ComplementError, match=rf"view '{view}' .*\({length}\); pass k <= {length}"):
        complement.diagnose(ws, name, **params)


def test_k_up_to_the_shortest_list_runs_and_means_what_it_says(ws):
    table = complement.diagnose(ws, "metrics", k=3, views=["long", "short"])
    recall = dict(zip(table.column("view").to_pylist(), table.column("recall").to_pylist(), strict=True))
    # long@3 = [i1, i2, i3]: each user's one test item is in it; short@3 = [i3, i4, i5]: only u2's
    assert recall == {"long": 1.0, "short": pytest.approx(1 / 3)}
    complement.diagnose(ws, "metrics", k=5, views=["long"])  # the long view alone allows 5
    complement.diagnose(ws, "item_agreement", k=4, view_a="na", view_b="na")


def test_cli_k_too_long_is_one_line(ws, capsys):
    code, out, err = run_cli(capsys, "diagnose", "-w", str(ws.root), "--sql", "metrics", "--k", "1000000")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "k = 1000000 is longer than the lists stored for view 'short'" in err


@pytest.mark.parametrize("value", ["2.5", "0x10", "1e1", "1_0", "ten", "", "2.0", "--3", "١٢"])
def test_integer_parameters_take_plain_decimal_digits_only(ws, capsys, value):
    code, out, err = run_cli(
        capsys,
        "diagnose",
        "-w",
        str(ws.root),
        "--sql",
        "compare",
        "--views",
        "long,short",
        "-p",
        "k",
        "2",
        "-p",
        "n_boot",
        value,
    )
    # text that does not read as the type is a usage error (exit 2), like --k ten (docs/design.md)
    assert code == 2 and out == ""
    assert "Invalid value for -p: diagnostic 'compare': parameter n_boot expects INTEGER, a whole number" in err


@pytest.mark.parametrize("value", ["2.5", "0x10", "1e1", "1_0"])
def test_k_list_takes_plain_decimal_digits_only(ws, capsys, value):
    code, _, err = run_cli(capsys, "diagnose", "-w", str(ws.root), "--sql", "metrics", "--k", f"1,{value}")
    assert code == 2 and "Invalid value for '--k': '1," in err and "plain ASCII digits" in err


@pytest.mark.parametrize("value", ["3", " 3 ", "+3", "03"])
def test_plain_integers_with_blanks_or_sign_are_read(ws, capsys, value):
    code, out, err = run_cli(
        capsys, "diagnose", "-w", str(ws.root), "--sql", "metrics", "-p", "k", value, "-p", "views", "long", "-f", "csv"
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[1].startswith("long,3,1.0,")  # Recall@3 of 'long' is 1 (see above)


@pytest.mark.parametrize("value", [2.5, True, "0x10"])
def test_library_integer_parameters_are_not_coerced(ws, value):
    with pytest.raises(ComplementError, match="parameter k expects INTEGER"):
        complement.diagnose(ws, "metrics", k=value)


@pytest.mark.parametrize("type_name", ["BIGINT", "INT", "SMALLINT", "UBIGINT", "INTEGER[]"])
@pytest.mark.parametrize("value", ["2.5", "0x10", "1e1"])
def test_every_integer_type_of_a_user_file_takes_plain_digits_only(ws, tmp_path, capsys, type_name, value):
    path = tmp_path / "mine.sql"
    path.write_text(f"-- name: mine\n-- description: echo\n-- param: n {type_name} = 1\nSELECT $n AS n\n")
    code, out, err = run_cli(capsys, "diagnose", "-w", str(ws.root), "--sql", str(path), "-p", "n", value)
    assert code == 2 and out == ""  # text that does not read as the type: a usage error, like --k ten
    assert f"parameter n expects {type_name}, a whole number in plain decimal digits" in err


def test_a_plain_integer_reaches_the_query_unchanged(ws, tmp_path, capsys):
    path = tmp_path / "mine.sql"
    path.write_text(
        "-- name: mine\n-- description: echo\n-- param: n BIGINT = 1\n-- param: m INTEGER[] = []\n"
        "SELECT $n AS n, $m AS m\n"
    )
    code, out, err = run_cli(
        capsys, "diagnose", "-w", str(ws.root), "--sql", str(path), "-p", "n", "-12", "-p", "m", "3, 04", "-f", "json"
    )
    assert (code, err) == (0, "")
    assert json.loads(out) == [{"n": -12, "m": [3, 4]}]


def test_numpy_integers_from_python_are_whole_numbers(ws):
    import numpy as np

    table = complement.diagnose(ws, "metrics", k=np.int64(3), views=["long"])
    assert table.column("recall").to_pylist() == [1.0]


@pytest.mark.parametrize("value", ["2147483648", "99999999999999999999", "-2147483649"])
def test_an_integer_outside_the_parameter_s_type_is_named_as_such(ws, capsys, value):
    """INTEGER is 32-bit: the line says the value is out of range, not that it is not an integer."""
    code, out, err = run_cli(capsys, "diagnose", "-w", str(ws.root), "--sql", "metrics", "-p", "k", value)
    assert code == 1 and out == ""
    assert err == f"Error: diagnostic 'metrics': parameter k is INTEGER, and {value} is outside its range\n"


def test_the_default_k_over_shorter_lists_runs_with_a_note(ws, capsys, monkeypatch):
    """The default k (20) is the diagnostic's own and is used as it is, but a figure 'at 20' over lists of 3 is
    one at 3: said on stderr, not refused."""
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    code, out, err = run_cli(capsys, "diagnose", "-w", str(ws.root), "--sql", "metrics", "--views", "short")
    assert code == 0 and "short" in out, err
    assert err.startswith("note: diagnostic 'metrics': k = 20 is longer than the lists stored for view 'short'"), err
    assert "the default k is used as it is" in err
