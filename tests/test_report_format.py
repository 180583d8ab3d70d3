"""How the report prints numbers: noise as 0, identifiers without separators, thin groups greyed and
footnoted, wide tables in a scrolling box."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from complement.report.explain import who_benefits_rows
from complement.report.formatting import fmt
from complement.report.reliability import MIN_BASE, MIN_USERS
from complement.report.render import _html_table, _md_table, _probe_rows


@pytest.mark.parametrize(
    ("value", "column", "expected"),
    [
        (-2.3e-15, "gain", "0"),
        (4e-13, "gain", "0"),
        (-0.0, "gain", "0"),
        (-0.00004, "gain", "0.0000"),  # rounds to zero at 4 places: no sign left
        (-0.25, "gain", "-0.2500"),
        (1234.56, "seconds", "1,234.6"),
        (2020, "seed", "2020"),
        (1999, "year", "1999"),
        (20, "k", "20"),
        (100000, "interactions", "100,000"),
        (None, "x", "—"),
        (float("nan"), "x", "—"),
    ],
)
def test_values_print_as_a_reader_expects(value, column, expected):
    assert fmt(value, column) == expected


def test_runs_table_prints_the_seed_as_a_plain_integer():
    html = _html_table([{"step": "train", "view": "mf", "seed": 2020, "rows": 12345}])
    assert "<td>2020</td>" in html and "2,020" not in html and "<td>12,345</td>" in html


def test_every_table_sits_in_a_sideways_scrolling_box():
    from complement.report.render import STYLE

    html = _html_table([{f"column_{i}": i for i in range(40)}])
    assert html.startswith('<div class="wide"><table>') and html.endswith("</table></div>")
    assert "div.wide{overflow-x:auto" in STYLE


def test_a_tiny_group_is_greyed_marked_where_its_size_stands_and_footnoted():
    """The † sits next to the group's size (12 users), not in the first cell, where it would read as if the
    K (or the label) were unreliable; the same in HTML and Markdown."""
    few = MIN_USERS - 18  # 12 users
    rows = [
        {"k": 20, "pop_group": "all", "n_users": 500, "recall_a": 0.2},
        {"k": 20, "pop_group": "cold", "n_users": few, "recall_a": 0.003},
    ]
    html = _html_table(rows)
    body = html.split("<tbody>", 1)[1]
    first, second = body.split("</tr>")[:2]
    assert first == "<tr><td>20</td><td>all</td><td>500</td><td>0.2000</td>"
    assert second == (
        '<tr class="unreliable" title="unreliable: n = 12 users"><td>20</td><td>cold</td><td>12 †</td><td>0.0030</td>'
    )
    assert '<p class="note">† unreliable: n = 12 users (' in html
    md = _md_table(rows)
    assert "| 20 | cold | 12 † | 0.0030 |" in md and "† unreliable: n = 12 users" in md
    assert "| † " not in md and "<td>† " not in html


def test_a_gain_share_over_a_tiny_base_is_marked_on_the_share():
    """fusion_gap's share of the oracle gain over a base below MIN_BASE: the share carries the †."""
    row = {
        "k": 10,
        "view": "mix",
        "pop_group": "hot",
        "n_users": 200,
        "best_single": 0.9,
        "union_at_k": 0.9 + MIN_BASE / 2,
        "gain": 0.001,
        "share_of_union_at_k_gain": 0.2,
    }
    md = _md_table([row])
    assert "| 10 | mix | hot | 200 | 0.9000 | 0.9050 | 0.0010 | 0.2000 † |" in md and "base = 0.005" in md


def test_a_probe_drop_over_a_tiny_base_is_marked_on_its_mean():
    rows = [{"mapper": "linear", "shift": "cold", "metric": "recall_drop", "mean": -6.0, "std": 0.1}]
    md = _md_table(rows, flags=[{"mean": "base recall = 0.003"}])
    assert "| linear | cold | recall_drop | -6.0000 † | 0.1000 |" in md


def test_every_number_of_a_column_has_the_same_decimals():
    """Coverage's mean_pop of 119.93 and 66.1208 print as 119.9 and 66.1, in HTML and Markdown alike; a
    column of small numbers keeps four decimals."""
    rows = [
        {"k": 20, "view": "pop", "mean_pop": 119.934, "gini": 0.91},
        {"k": 20, "view": "mf", "mean_pop": 66.1208, "gini": 0.5},
        {"k": 20, "view": "sem", "mean_pop": 1234.5, "gini": 0.25},
    ]
    md = _md_table(rows)
    assert "| 20 | pop | 119.9 | 0.9100 |" in md and "| 20 | mf | 66.1 | 0.5000 |" in md
    assert "| 20 | sem | 1,234.5 | 0.2500 |" in md
    assert "<td>66.1</td>" in _html_table(rows) and "66.1208" not in _html_table(rows)
    from complement.report.formatting import places

    assert places([0.5, 66.1, None, float("nan")]) == 4 and places([66.1, 119.9]) == 1
    assert fmt(66.1208, "mean_pop", 1) == "66.1" and fmt(66.1208, "mean_pop") == "66.1208"


def test_who_benefits_prints_counts_of_train_interactions_as_integers():
    """stat_min / stat_max are n_train (an integer) for the groupings all and activity, and a mean
    ln-popularity for taste: 3 and 22, not 3.0000 and 22.0000."""

    def row(grouping, bucket, low, high):
        return {"k": 20, "grouping": grouping, "bucket": bucket, "n_users": 50, "stat_min": low, "stat_max": high}

    rows = [row("all", "all", 3.0, 22.0), row("activity", "1", 3.0, 5.0), row("taste", "niche", 2.6511, 3.0)]
    data = SimpleNamespace(pair=("a", "b"), results={"who_benefits": rows})

    md = _md_table(who_benefits_rows(data))  # type: ignore[arg-type]
    assert "| all | all | 50 | 3 | 22 |" in md and "| activity | 1 | 50 | 3 | 5 |" in md
    assert "| taste | niche | 50 | 2.6511 | 3.0000 |" in md and "3.0000 | 22" not in md


def test_a_recall_drop_over_a_tiny_base_is_marked_unreliable():
    """A -600 % drop relative to a held-out recall of 0.003 (< MIN_BASE) is marked; a drop over a
    healthy base is not."""

    def probe(shift, metric, mean):
        return {
            "run_id": "r",
            "source": "s",
            "target": "t",
            "mapper": "linear",
            "shift": shift,
            "item_set": "held_out",
            "metric": metric,
            "mean": mean,
            "std": 0.0,
            "n_seeds": 3,
        }

    tiny, healthy = 0.003, 0.2
    assert tiny < MIN_BASE <= healthy
    probes = [
        probe("cold", "recall_true", tiny),
        probe("cold", "recall_drop", (tiny - 0.021) / tiny),  # -6.0
        probe("cold", "n_eval_users", 200.0),
        probe("random", "recall_true", healthy),
        probe("random", "recall_drop", 0.1),
        probe("random", "n_eval_users", 200.0),
    ]

    class Data:
        pass

    data = Data()
    data.probes = probes  # type: ignore[attr-defined]
    rows, reasons = _probe_rows(data)  # type: ignore[arg-type]
    marked = {(r["shift"], r["metric"]): why for r, why in zip(rows, reasons, strict=True)}
    assert marked[("cold", "recall_drop")] == "base recall = 0.003"
    assert marked[("random", "recall_drop")] is None
