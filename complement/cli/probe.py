"""``complement probe``: alignment probes from one view's item vectors to another's."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..steps.options import ProbeOptions
from .common import FormatOption, WorkspaceOption, workspace
from .options import with_options
from .output import Format, echo_table


def register(app: typer.Typer) -> None:
    @app.command("probe")
    @with_options(ProbeOptions)
    def probe(
        source: Annotated[
            str,
            typer.Option(
                "--source",
                help="View whose item vectors are mapped (e.g. text, the MiniLM vectors; the paper maps sem).",
            ),
        ],
        target: Annotated[str, typer.Option("--target", help="View whose item vectors are predicted (e.g. lightgcn).")],
        fmt: FormatOption = None,
        workspace_path: WorkspaceOption = None,
        *,
        options: ProbeOptions,
    ) -> None:
        """Map SOURCE item vectors to TARGET ones with mappers of rising capacity, on fit and held-out
        items, and write every number to the `probes` table. Prints mean ± std over seeds (a table on a
        terminal / markdown; the long `probe_summary` rows with --format csv or json)."""
        from ..checks import SEED_MAX, finite, integer, seed
        from ..errors import ConfigError
        from ..probes import probe_summary, wide_summary
        from ..probes.base import parse_mappers
        from ..steps import probe as probe_step
        from ..tables import check_view_name

        finite("--cca-threshold", options.cca_threshold, minimum=0.0, maximum=1.0)
        if options.mappers is not None:  # read by the parser; a rank or width of 0, or a repeat, is refused here
            try:
                parse_mappers(options.mappers)
            except ConfigError as exc:
                raise ConfigError(f"--mapper {options.mappers}: {exc}") from None
        integer("--seeds", options.seeds, minimum=1, maximum=SEED_MAX + 1)  # before the seeds it counts
        seed("--seed", options.seed, count=options.seeds)
        check_view_name(source)
        check_view_name(target)
        if source == target:
            raise ConfigError(f"--source and --target must be two different views (got '{source}' for both)")
        ws = workspace(workspace_path)
        ws.require("items")
        n_items = len(ws.item_ids())
        integer("--k", options.k, minimum=1, maximum=max(1, n_items - 1))
        rows = probe_step(ws, source, target, options)
        run_id = rows.column("run_id")[0].as_py()
        summary = probe_summary(ws, run_id=run_id)
        chosen = fmt or (Format.table if sys.stdout.isatty() else Format.csv)
        if Format(chosen) in (Format.csv, Format.json):
            echo_table(summary, chosen)
            return
        per_mapper, shared = wide_summary(summary)
        echo_table(per_mapper, chosen)
        typer.echo("")
        echo_table(shared, chosen)
        typer.echo(f"\nrun_id {run_id}: `complement diagnose --sql probe_summary -p run_id {run_id}`", err=True)
