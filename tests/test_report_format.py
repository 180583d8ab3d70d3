"""How the report prints numbers: noise as 0, identifiers without separators, thin groups greyed and
footnoted, wide tables in a scrolling box."""

from __future__ import annotations

import pytest

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


def test_a_tiny_group_is_greyed_marked_and_footnoted():
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
        '<tr class="unreliable" title="unreliable: n = 12 users"><td>† 20</td><td>cold</td><td>12</td><td>0.0030</td>'
    )
    assert '<p class="note">† unreliable: n = 12 users (' in html
    md = _md_table(rows)
    assert "| † 20 | cold | 12 | 0.0030 |" in md and "† unreliable: n = 12 users" in md


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
