"""The command that prints a report section's numbers again: complete (workspace, views, cut-offs), so a
reader can paste it into a shell as it stands."""

from __future__ import annotations

import shlex

from .gather import PAIR_DIAGNOSTICS, ReportData, main_k, rows_at

#: sections shown at one cut-off only (the report's main K)
MAIN_K_ONLY = ("who_benefits", "case_study")


def diagnose_command(data: ReportData, name: str) -> str:
    """``complement diagnose --sql NAME -w WORKSPACE [--views A,B] [--k K1,K2]`` for the rows the report shows
    of diagnostic ``name``: the pair compared, the K of those rows, the fused views of ``fusion_gap``, and
    ``--allow-stale`` when the report shows stale views."""
    rows = data.results.get(name) or []
    if name in MAIN_K_ONLY:
        rows = rows_at(rows, main_k(rows))
    words = ["complement", "diagnose", "--sql", name, "-w", str(data.workspace.root)]
    if name in PAIR_DIAGNOSTICS and data.pair:
        a, b = data.pair
        if name == "fusion_gap":  # --views sets the pair; the fused views are a parameter of their own
            fused = ",".join(dict.fromkeys(str(r["view"]) for r in rows))
            words += ["-p", f"view_a={a}", "-p", f"view_b={b}", "-p", f"views={fused}"]
        else:
            words += ["--views", f"{a},{b}"]
    ks = list(dict.fromkeys(r["k"] for r in rows if r.get("k") is not None))
    if ks:
        words += ["--k", ",".join(str(k) for k in ks)]
    if data.stale or data.stale_probes:
        words.append("--allow-stale")
    return shlex.join(words)
