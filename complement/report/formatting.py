"""How a report prints one value: floating-point noise as 0, identifiers (seeds, years, K) as
plain integers, counts with thousands separators, and the decimals of a column's numbers alike
(:func:`places`: 119.9 next to 66.1, not next to 66.1208)."""

from __future__ import annotations

import math
import re

#: below this magnitude a float is rounding noise of a difference of equal numbers (e.g. -2.3e-15)
NOISE = 1e-12
#: decimals of a column whose numbers are all below :data:`LARGE` in magnitude, and of one that has a larger one
SMALL_PLACES, LARGE_PLACES = 4, 1
LARGE = 100
#: integer columns that name something rather than count it: printed without thousands separators
IDENTIFIER_COLUMNS = frozenset(
    {"seed", "year", "k", "epoch", "best_epoch", "epochs_run", "bucket", "decile", "rank", "user_rank"}
)


def is_identifier(column: str | None) -> bool:
    if not column:
        return False
    name = column.lower()
    return name in IDENTIFIER_COLUMNS or name.endswith(("_id", "_idx", "_seed", "_year"))


def places(values) -> int:
    """The decimals of a column holding ``values``: :data:`LARGE_PLACES` when one of its finite floats is
    :data:`LARGE` or more in magnitude, else :data:`SMALL_PLACES`; the same for every row of the column."""
    large = any(
        isinstance(v, float) and not isinstance(v, bool) and math.isfinite(v) and abs(v) >= LARGE for v in values
    )
    return LARGE_PLACES if large else SMALL_PLACES


def fmt(value, column: str | None = None, decimals: int | None = None) -> str:
    """One table cell. ``column`` decides whether an integer is an identifier (2020, not 2,020);
    ``decimals`` (the column's :func:`places`) the digits of a float, by default its own magnitude's."""
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
        if decimals is None:
            decimals = places([value])
        text = f"{value:,.{decimals}f}"
        # a tiny negative value rounds to "-0.0000": a sign without a magnitude
        return text.lstrip("-") if float(text.replace(",", "")) == 0 else text
    if isinstance(value, int):
        return str(value) if is_identifier(column) else f"{value:,}"
    return str(value)


def md_code(text: str) -> str:
    """``text`` as a Markdown code span (longer fences when it holds backticks itself)."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
