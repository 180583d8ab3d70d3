"""``complement probe``: alignment probes from one view's item vectors to another's."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .common import DeviceOption, FormatOption, WorkspaceOption, workspace
from .output import Format, echo_table


def register(app: typer.Typer) -> None:
    @app.command("probe")
    def probe(
        source: Annotated[
            str,
            typer.Option(
                "--source",
                help="View whose item vectors are mapped (e.g. text, the MiniLM vectors; the paper maps sem).",
            ),
        ],
        target: Annotated[str, typer.Option("--target", help="View whose item vectors are predicted (e.g. lightgcn).")],
        mapper: Annotated[
            str | None,
            typer.Option(
                "--mapper",
                help="Comma-separated: linear, lowrank:R, mlp1, mlp2, mlp3, mlp:WxW "
                "(default: linear,mlp1,mlp2,mlp3; with --protocol paper: linear,mlp3).",
            ),
        ] = None,
        shift: Annotated[
            str | None,
            typer.Option(
                "--shift",
                help="Comma-separated: random, popularity, cold "
                "(default: random,popularity; with --protocol paper: random).",
            ),
        ] = None,
        protocol: Annotated[
            str,
            typer.Option(
                "--protocol",
                help="ours (MLPs early-stopped on a validation slice) or paper (batch 1024, "
                "a fixed 400 epochs, no early stopping).",
            ),
        ] = "ours",
        seeds: Annotated[int, typer.Option("--seeds", min=1, help="Number of seeds (seed, seed+1, …).")] = 3,
        seed: Annotated[int, typer.Option("--seed", help="First seed.")] = 0,
        cold_n: Annotated[
            int,
            typer.Option(
                "--cold-n", min=0, help="--shift cold tests on items with at most this many train interactions."
            ),
        ] = 5,
        k: Annotated[
            int, typer.Option("--k", min=1, help="K of kNN Jaccard@K, inductive Recall@K and Rec Jaccard@K.")
        ] = 20,
        cca_threshold: Annotated[
            float, typer.Option("--cca-threshold", help="Canonical correlations above this count as shared components.")
        ] = 0.5,
        max_epochs: Annotated[
            int | None,
            typer.Option(
                "--max-epochs",
                min=1,
                help="MLP epochs: the cap with --protocol ours (default 200; early "
                "stopping usually ends sooner), the fixed count with paper (default 400).",
            ),
        ] = None,
        device: DeviceOption = "auto",
        fmt: FormatOption = None,
        workspace_path: WorkspaceOption = None,
    ) -> None:
        """Map SOURCE item vectors to TARGET ones with mappers of rising capacity, on fit and held-out
        items, and write every number to the `probes` table. Prints mean ± std over seeds (a table on a
        terminal / markdown; the long `probe_summary` rows with --format csv or json)."""
        from ..checks import finite, integer
        from ..errors import ConfigError
        from ..probes import probe_summary, run_probe, wide_summary
        from ..tables import check_tables, check_view_name

        finite("--cca-threshold", cca_threshold, minimum=0.0, maximum=1.0)
        integer("--seed", seed, minimum=0)
        check_view_name(source)
        check_view_name(target)
        if source == target:
            raise ConfigError(f"--source and --target must be two different views (got '{source}' for both)")
        ws = workspace(workspace_path)
        check_tables(ws, "items", "users", "interactions", "embeddings", views=[source, target])
        ws.require("items")
        n_items = len(ws.item_ids())
        integer("--k", k, minimum=1, maximum=max(1, n_items - 1))
        rows = run_probe(
            ws,
            source,
            target,
            mappers=mapper,
            shifts=shift,
            seeds=seeds,
            device=device,
            cold_n=cold_n,
            k=k,
            cca_threshold=cca_threshold,
            seed=seed,
            max_epochs=max_epochs,
            protocol=protocol,
        )
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
