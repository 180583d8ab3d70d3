"""Stale views in a report (``complement report --allow-stale``): the note at the top that names them and
the commands that refresh them, and the mark :data:`STALE_MARK` on their rows and sections."""

from __future__ import annotations

import shlex

from ..lineage import Staleness
from .gather import SEEDED_VIEW, ReportData

#: marks a row, view or section made from older tables than the workspace holds now
STALE_MARK = "‡"
STALE_WHAT = "made from older tables than the workspace holds now"


def cause(reason: Staleness) -> str:
    """What changed since a stale entry was made, short: "'interactions' changed since"."""
    if reason.gone:
        return f"{reason.gone_input()} is gone"
    return f"'{reason.changed.partition('#')[0]}' changed since"


def stale_view(data: ReportData, view: str) -> Staleness | None:
    """Why ``view`` is stale, or None; a base name (``lightgcn`` in seed_summary) is stale when one of its
    seeds (``lightgcn-s2``) is."""
    if view in data.stale:
        return data.stale[view]
    seeds = (r for v, r in data.stale.items() if SEEDED_VIEW.search(v) and v[: v.rindex("-s")] == view)
    return next(seeds, None)


def stale_pair(data: ReportData) -> list[str]:
    """The compared views that are stale."""
    return [v for v in data.pair or () if v in data.stale]


def section_mark(data: ReportData, probes: bool = False) -> str:
    """`` ‡`` for the heading of a section computed from a stale view (the pair's, or the probes'), else ""."""
    stale = bool(data.stale_probes) if probes else bool(stale_pair(data))
    return f" {STALE_MARK}" if stale else ""


def section_note(data: ReportData, probes: bool = False) -> str:
    """The sentence under such a heading, or ""."""
    if probes:
        runs = sorted(data.stale_probes)
        return f"{STALE_MARK} Probe runs {', '.join(runs)} are stale: {STALE_WHAT}." if runs else ""
    views = stale_pair(data)
    return f"{STALE_MARK} Computed from stale view{'s' * (len(views) > 1)} {' and '.join(views)}." if views else ""


def top_note(data: ReportData) -> tuple[str, list[str]] | None:
    """The note at the top of a report with stale views: its sentence and the commands that refresh
    them (in order, then the report's own), or None when nothing is stale."""
    if not data.stale and not data.stale_probes:
        return None
    workspace = str(data.workspace.root)
    reasons = {**data.stale, **{f"probes/{run}": r for run, r in data.stale_probes.items()}}
    causes = sorted({cause(r) for r in reasons.values()})
    what = []
    if data.stale:
        what.append(f"view{'s' * (len(data.stale) > 1)} {', '.join(sorted(data.stale))}")
    if data.stale_probes:
        what.append(f"the probe run{'s' * (len(data.stale_probes) > 1)} {', '.join(sorted(data.stale_probes))}")
    sentence = (
        f"{STALE_MARK} Stale: {' and '.join(what)} — {STALE_WHAT} ({'; '.join(causes)}). Their numbers, marked "
        f"{STALE_MARK}, describe the data they were made from, not the workspace's data now."
    )
    commands = dict.fromkeys(c for r in reasons.values() if r.refresh for c in r.commands(workspace))
    ordered = sorted(commands, key=lambda c: "complement fuse" in c)  # a fusion after its sources
    gone = sorted({r.gone_input() for r in reasons.values() if r.gone})
    unknown = sorted({r.entry for r in reasons.values() if not r.refresh})
    if gone:
        sentence += f" Make {' and '.join(gone)} again first (no longer in the workspace: dropped?)."
    if unknown:
        sentence += f" Redo the command that made {', '.join(unknown)}."
    report = ["complement", "report", "-w", workspace]
    if data.pair:
        report += ["--views", ",".join(data.pair)]
    return sentence, [*ordered, shlex.join(report)]
