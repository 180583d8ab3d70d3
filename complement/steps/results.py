"""What every step returns: one small result object that shows itself as a table.

``StepResult.table()`` is a pyarrow table: the step's rows when it returns rows (a diagnostic, a
probe, a run's plan), else one row summarising it. A result with rows also answers the pyarrow
table's own methods (``result.to_pylist()``, ``result.num_rows``), so code written against the
table-returning functions keeps working. In Jupyter it displays as an HTML table."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..workspace import Workspace

#: rows shown by ``repr`` and in Jupyter; ``table()`` has all of them
SHOWN_ROWS = 20


@dataclass
class StepResult:
    """One step's outcome: the view written, its row count, the time taken, the settings used."""

    step: str
    workspace: Workspace
    view: str | None = None
    rows: int = 0
    seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)  # the step's own numbers (epochs, recall …)
    data: pa.Table | None = None  # the rows the step returns, when it returns rows
    notes: list[str] = field(default_factory=list)  # the human summary the CLI prints on stderr

    def table(self) -> pa.Table:
        if self.data is not None:
            return self.data
        summary = {"step": self.step, "view": self.view, "rows": self.rows, "seconds": round(self.seconds, 3)}
        scalars = {k: v for k, v in self.details.items() if isinstance(v, (str, int, float, bool)) or v is None}
        return pa.Table.from_pylist([{**summary, **scalars}])

    def __getattr__(self, name: str) -> Any:
        # only reached for names the dataclass lacks: a result with rows acts as its table
        if name.startswith("_") or self.__dict__.get("data") is None:
            raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")
        return getattr(self.__dict__["data"], name)

    def __len__(self) -> int:
        return self.table().num_rows

    def _rows(self) -> tuple[list[str], list[list[str]], int]:
        table = self.table()
        columns = table.column_names
        shown = table.slice(0, SHOWN_ROWS).to_pylist()
        return columns, [[_cell(row[c]) for c in columns] for row in shown], table.num_rows

    def __repr__(self) -> str:
        columns, rows, total = self._rows()
        widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
        lines = [f"<{self.step} result: {total} row{'s' if total != 1 else ''}>"]
        lines.append("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
        if total > len(rows):
            lines.append(f"… {total - len(rows)} more rows (.table() has them all)")
        return "\n".join(line.rstrip() for line in lines)

    def _repr_html_(self) -> str:
        columns, rows, total = self._rows()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in rows)
        more = f"<p>… {total - len(rows)} more rows</p>" if total > len(rows) else ""
        return f"<p><b>{html.escape(self.step)}</b>: {total} rows</p><table><tr>{head}</tr>{body}</table>{more}"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return str(value)
