"""The report's explanations: the "Who benefits" table (``who_benefits``) and the "Case study"
(``case_study``): a few users only one view serves, their history titles and both lists, hits marked.

Tables and HTML only (no plots); every text from the workspace is HTML-escaped."""

from __future__ import annotations

import html

from .commands import diagnose_command
from .formatting import md_code
from .gather import ReportData, main_k, rows_at

HIT = "✓"  # marks a list item that is one of the user's test items
#: the groupings of ``who_benefits`` whose statistic (stat_min, stat_max) is a count, n_train: printed as integers
COUNT_GROUPINGS = ("all", "activity")


def who_benefits_rows(data: ReportData) -> list[dict]:
    """``who_benefits`` at the report's main K, with the views' names in the column headers."""
    rows = data.results.get("who_benefits") or []
    k = main_k(rows)
    a, b = data.pair or ("A", "B")
    names = {
        "recall_a": f"recall {a}",
        "recall_b": f"recall {b}",
        "recall_union": "recall union",
        "share_a_only": f"only {a}",
        "share_b_only": f"only {b}",
        "share_one_view": "one view only",
    }
    keep = ("grouping", "bucket", "n_users", "stat_min", "stat_max", *names)
    return [{names.get(c, c): _stat(r, c) for c in keep} for r in rows_at(rows, k)]


def _stat(row: dict, column: str):
    """``row[column]``; a stat_min / stat_max that counts train interactions as the integer it is (3, not 3.0000)."""
    value = row.get(column)
    count = column in ("stat_min", "stat_max") and row.get("grouping") in COUNT_GROUPINGS
    return int(value) if count and isinstance(value, float) and value.is_integer() else value


def _users(data: ReportData) -> list[tuple[str, str, dict[str, list[dict]]]]:
    """(direction, user_id, rows by section) per sampled user, in the diagnostic's order."""
    rows = data.results.get("case_study") or []
    rows = rows_at(rows, main_k(rows))
    users: dict[tuple[str, int, str], dict[str, list[dict]]] = {}
    for r in rows:
        users.setdefault((r["direction"], r["user_rank"], r["user_id"]), {}).setdefault(r["section"], []).append(r)
    return [(d, u, sections) for (d, _, u), sections in users.items()]


def _label(row: dict) -> str:
    return row.get("title") or row["item_id"]


def _direction_text(direction: str, a: str, b: str) -> str:
    return f"hit by {a} only" if direction == "a_only" else f"hit by {b} only"


def case_study_html(data: ReportData) -> str:
    """One block per sampled user: history titles, then both lists side by side with hits in bold and ✓."""
    users = _users(data)
    if not users:
        return ""
    a, b = data.pair or ("A", "B")
    esc = html.escape
    parts = [
        f"<p>Users for whom exactly one view hits (<code>{esc(diagnose_command(data, 'case_study'))}</code>); "
        f"{HIT} and bold: one of the user's test items.</p>"
    ]
    for direction, user, sections in users:
        history = ", ".join(esc(_label(r)) for r in sections.get("history", [])) or "—"
        tests = ", ".join(esc(_label(r)) for r in sections.get("test", [])) or "—"
        parts.append(f"<h3>User {esc(user)} — {esc(_direction_text(direction, a, b))}</h3>")
        parts.append(f"<p><b>History</b> (most recent first): {history}<br><b>Test items</b>: {tests}</p>")
        list_a, list_b = sections.get("a", []), sections.get("b", [])
        depth = max(len(list_a), len(list_b))

        def cell(items: list[dict], i: int) -> str:
            if i >= len(items):
                return "<td></td>"
            text = esc(_label(items[i]))
            return f"<td><b>{HIT} {text}</b></td>" if items[i]["in_test"] else f"<td>{text}</td>"

        body = "".join(f"<tr><td>{i + 1}</td>{cell(list_a, i)}{cell(list_b, i)}</tr>" for i in range(depth))
        parts.append(
            f'<table class="case"><thead><tr><th>rank</th><th>{esc(a)}</th><th>{esc(b)}</th></tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )
    return "\n".join(parts)


def case_study_markdown(data: ReportData) -> str:
    users = _users(data)
    if not users:
        return ""
    a, b = data.pair or ("A", "B")

    def md(text: str) -> str:
        return text.replace("|", "\\|")

    command = md_code(diagnose_command(data, "case_study"))
    out = [f"Users for whom exactly one view hits ({command}); {HIT} marks one of the user's test items.", ""]
    for direction, user, sections in users:
        out += [
            f"### User {md(user)} — {_direction_text(direction, a, b)}",
            "",
            "History (most recent first): " + (", ".join(md(_label(r)) for r in sections.get("history", [])) or "—"),
            "",
            "Test items: " + (", ".join(md(_label(r)) for r in sections.get("test", [])) or "—"),
            "",
        ]
        list_a, list_b = sections.get("a", []), sections.get("b", [])

        def cell(items: list[dict], i: int) -> str:
            if i >= len(items):
                return ""
            return (f"**{HIT} " + md(_label(items[i])) + "**") if items[i]["in_test"] else md(_label(items[i]))

        out += [f"| rank | {md(a)} | {md(b)} |", "|---|---|---|"]
        out += [f"| {i + 1} | {cell(list_a, i)} | {cell(list_b, i)} |" for i in range(max(len(list_a), len(list_b)))]
        out.append("")
    return "\n".join(out)
