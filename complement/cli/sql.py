"""``complement sql``: ad-hoc, read-only SQL over the workspace tables."""

from __future__ import annotations

from typing import Annotated

import typer

from ..db import run_sql
from .common import FormatOption, WorkspaceOption, workspace
from .output import echo_table


def sql(
    query: Annotated[str, typer.Argument(help="SQL over the workspace tables (items, users, interactions, embeddings, topk, neighbors, probes, runs).")],
    workspace_dir: WorkspaceOption = None,
    fmt: FormatOption = None,
) -> None:
    """Run read-only SQL over the workspace tables; statements that would write are refused."""
    echo_table(run_sql(workspace(workspace_dir), query), fmt)


def register(app: typer.Typer) -> None:
    app.command("sql")(sql)
