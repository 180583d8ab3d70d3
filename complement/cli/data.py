"""``complement init`` and ``complement ingest``: real data into a workspace (docs/ingestion.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..choices import SplitMethod
from ..progress import message
from .common import WorkspaceOption, comma_option, workspace
from .options import number_parser, path_parser, plain_float
from .synth import write_synthetic


def _ratios(text: str) -> tuple[float, float, float]:
    """``--ratios 0.8,0.1,0.1`` (or ``0.8:0.1:0.1``) as three numbers in plain ASCII; anything else is a usage
    error (exit 2). Whether they make a split (non-negative, summing to 1) is the library's to refuse."""
    entries = text.replace(":", ",").split(",")
    try:
        values = tuple(plain_float(entry.strip()) for entry in entries)
    except typer.BadParameter:
        values = ()
    if len(values) != 3:
        raise typer.BadParameter(
            f"'{text}' is not three numbers train,valid,test such as 0.8,0.1,0.1", param_hint="'--ratios'"
        )
    return values  # type: ignore[return-value]


def _check_ratios(text: str) -> str:
    _ratios(text)
    return text


def init(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Workspace folder to create.",
            metavar="DIR",
            show_default=False,
            parser=path_parser("DIR", "the workspace folder to create"),
        ),
    ],
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset",
            "-d",
            help="movielens, recbole, amazon2023 or generic (aliases: ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, "
            "ml-32m, ml-latest, ml-latest-small, unisrec, amazon, csv, tsv, parquet), or synthetic (generated as by "
            "`complement synth`, with its default knobs).",
            show_default=False,
        ),
    ],
    path: Annotated[
        Path | None,
        typer.Option(
            "--path",
            "-p",
            help="Dataset folder or file (not for synthetic).",
            show_default=False,
            parser=path_parser("--path", "the dataset folder or file"),
        ),
    ] = None,
    split: Annotated[
        SplitMethod,
        typer.Option(help="random (per user, seeded), loo (last -> test) or temporal (global time cut-offs)."),
    ] = SplitMethod.random,
    ratios: Annotated[
        str,
        typer.Option(
            help="train,valid,test shares of the random and temporal splits, rescaled to sum to 1 (8,1,1 works); "
            "test must be above 0, valid may be 0 (training then runs every epoch, no early stopping).",
            callback=_check_ratios,
        ),
    ] = "0.8,0.1,0.1",
    kcore: Annotated[
        int,
        typer.Option(
            help="Keep only users and items with at least N interactions (iterated; 0 = off).",
            parser=number_parser(int),
        ),
    ] = 0,
    min_rating: Annotated[
        float | None,
        typer.Option(
            help="Keep interactions rated at least R (implicit feedback).",
            show_default=False,
            parser=number_parser(float),
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random split.", parser=number_parser(int))] = 2020,
    template: Annotated[
        str | None,
        typer.Option(
            help='Item text template, e.g. "{title}. Genres: {genres}." (default per dataset kind).', show_default=False
        ),
    ] = None,
    keep_repeats: Annotated[
        bool | None,
        typer.Option(
            "--keep-repeats/--collapse-repeats",
            help="Keep repeated (user, item) pairs or collapse them to the earliest (default: collapse, keep for "
            "sequence data).",
            show_default=False,
        ),
    ] = None,
    user_col: Annotated[str | None, typer.Option(help="generic: user id column.", show_default=False)] = None,
    item_col: Annotated[
        str | None, typer.Option(help="generic: item id column (also in the items file).", show_default=False)
    ] = None,
    time_col: Annotated[
        str | None, typer.Option(help="generic: time column (numbers or ISO dates).", show_default=False)
    ] = None,
    rating_col: Annotated[str | None, typer.Option(help="generic: rating column.", show_default=False)] = None,
    items: Annotated[
        Path | None,
        typer.Option(
            "--items",
            help="generic: items file (CSV/TSV/Parquet).",
            show_default=False,
            parser=path_parser("--items", "the items file"),
        ),
    ] = None,
    text_cols: Annotated[
        str | None,
        typer.Option(
            help="generic: comma-separated item text columns.",
            show_default=False,
            callback=comma_option("--text-cols"),
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing complement.toml in DIR.")] = False,
) -> None:
    """Create a workspace from a dataset: write DIR/complement.toml and ingest (summary on stderr)."""
    from ..data.loaders import is_synthetic, resolve_kind
    from ..errors import ConfigError
    from ..steps import init as init_workspace
    from ..workspace import Workspace

    if is_synthetic(dataset):
        # the loaders' options do not apply to generated data
        given = [
            flag
            for flag, on in (
                ("--path", path is not None),
                ("--kcore", kcore != 0),
                ("--min-rating", min_rating is not None),
                ("--template", template is not None),
                ("--keep-repeats/--collapse-repeats", keep_repeats is not None),
                ("--user-col", user_col is not None),
                ("--item-col", item_col is not None),
                ("--time-col", time_col is not None),
                ("--rating-col", rating_col is not None),
                ("--items", items is not None),
                ("--text-cols", text_cols is not None),
            )
            if on
        ]
        if given:
            raise ConfigError(
                f"{', '.join(given)} cannot be used with -d synthetic: its data is generated "
                "(`complement synth DIR` also sets the generator's knobs)"
            )
        if (config := Workspace(directory).config_path).exists() and not force:
            raise ConfigError(f"{config} already exists: pass --force to replace it")
        write_synthetic(directory, force=force, split=split, ratios=_ratios(ratios), seed=seed)
        return
    resolve_kind(dataset)  # a mistyped kind first, with the closest kind: not a missing --path
    if path is None:
        raise ConfigError("--path is required: the dataset folder or file (e.g. from `complement fetch`)")
    result = init_workspace(
        directory,
        force=force,
        dataset=dataset,
        path=path,
        split=split,
        ratios=_ratios(ratios),
        seed=seed,
        kcore=kcore,
        min_rating=min_rating,
        template=template,
        collapse_repeats=None if keep_repeats is None else not keep_repeats,
        user_col=user_col,
        item_col=item_col,
        time_col=time_col,
        rating_col=rating_col,
        items=str(items) if items else None,
        text_cols=text_cols,
    )
    for line in result.notes:
        message(line)
    message(f"workspace: {result.workspace.root}")


def ingest(workspace_dir: WorkspaceOption = None) -> None:
    """Rebuild items, users and interactions from the workspace's complement.toml."""
    from ..steps import ingest as ingest_workspace

    for line in ingest_workspace(workspace(workspace_dir)).notes:  # with what is stale now, from the lineage
        message(line)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("ingest")(ingest)
