"""How a report prints one value: floating-point noise as 0, identifiers (seeds, years, K) as
plain integers, counts with thousands separators."""

from __future__ import annotations

import math

#: below this magnitude a float is rounding noise of a difference of equal numbers (e.g. -2.3e-15)
NOISE = 1e-12
#: integer columns that name something rather than count it: printed without thousands separators
IDENTIFIER_COLUMNS = frozenset(
    {"seed", "year", "k", "epoch", "best_epoch", "epochs_run", "bucket", "decile", "rank", "user_rank"}
)


def is_identifier(column: str | None) -> bool:
    if not column:
        return False
    name = column.lower()
    return name in IDENTIFIER_COLUMNS or name.endswith(("_id", "_idx", "_seed", "_year"))


def fmt(value, column: str | None = None) -> str:
    """One table cell. ``column`` decides whether an integer is an identifier (2020, not 2,020)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        if abs(value) < NOISE:
            return "0"
        text = f"{value:.4f}" if abs(value) < 100 else f"{value:,.1f}"
        # a tiny negative value rounds to "-0.0000": a sign without a magnitude
        return text.lstrip("-") if float(text.replace(",", "")) == 0 else text
    if isinstance(value, int):
        return str(value) if is_identifier(column) else f"{value:,}"
    return str(value)
