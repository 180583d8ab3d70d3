"""``complement embed``: semantic item vectors, or vectors imported with ``--from FILE``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigError
from ..progress import quiet
from ..shards import read as read_shard
from ..steps.declare import option
from ..steps.options import EmbedOptions
from .common import WorkspaceOption, workspace
from .options import read_in_parser, with_options


class Entity(StrEnum):
    item = "item"
    user = "user"


def _summary(line: str) -> None:
    """One unwrapped line on stderr (stdout carries data only)."""
    if not quiet():
        typer.echo(line, err=True)


@dataclass(frozen=True)
class VectorImport:
    """``embed --from FILE``: vectors made elsewhere (``embed.import_vectors``)."""

    from_file: Path | None = option(
        None, "Import precomputed vectors: Parquet (id, vector) or .npy with --ids.", flag="--from", kind=Path
    )
    ids_file: Path | None = option(
        None, "Ids of the .npy rows: one per line, or a .csv/.parquet id column.", flag="--ids", kind=Path
    )
    entity: Entity = option(Entity.item, "What --from vectors describe.", choices=Entity)


@with_options(EmbedOptions, VectorImport)
def embed_command(
    ws_path: WorkspaceOption = None,
    view: Annotated[str, typer.Option("--view", help="View name the vectors are stored under.")] = "text",
    *,
    imported: VectorImport,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            help="Embed only shard I of N (I/N: the I-th of N item_idx ranges); the last shard to finish "
            "commits the view (docs/design.md, Storage).",
            show_default=False,
            callback=read_in_parser(read_shard),  # text that is not I/N: exit 2; I, N: the step's
        ),
    ] = None,
    options: EmbedOptions,
) -> None:
    """Embed every item's text with a sentence-transformers model (cached), or import vectors."""
    from ..checks import integer
    from ..embed import import_vectors
    from ..shards import parse
    from ..steps import embed
    from ..tables import check_new_view_name, check_tables

    from_file, ids_file, entity = imported.from_file, imported.ids_file, imported.entity
    check_new_view_name(view)
    integer("--batch-size", options.batch_size, minimum=1)
    parsed = parse(shard)
    if parsed is not None and from_file is not None:
        raise ConfigError("--shard applies to embedding text, not with --from FILE")
    ws = workspace(ws_path)
    check_tables(ws, "items", "users", "embeddings", views=[view], replaced=view)
    if from_file is None:
        if ids_file is not None:
            raise ConfigError("--ids goes with --from FILE.npy")
        if entity is not Entity.item:
            raise ConfigError("user vectors cannot be embedded from text; import them with --from FILE --entity user")
        step = embed(ws, view, options, shard=shard)
        d = step.details
        rate = f", {d['n_embedded'] / d['seconds']:,.0f} items/s" if d["n_embedded"] and d["seconds"] > 0 else ""
        shared = f", {d['n_texts']:,} distinct texts" if d["n_texts"] != d["n_embedded"] else ""
        target = f"view '{view}'" if parsed is None else f"shard {parsed[0]}/{parsed[1]} of view '{view}'"
        _summary(
            f"encoded {d['n_embedded']:,} of {d['n_items']:,} items ({d['n_cached']:,} from cache){shared}: "
            f"{d['dim']}-d vectors from {d['model']} into {target} in {d['seconds']:.1f} s{rate}"
        )
        return
    given = [
        name for name, value in (("--model", options.model), ("--template", options.template)) if value is not None
    ]
    given += ["--normalize"] if options.normalize else []
    given += ["--precision"] if options.precision != "auto" else []
    if given:
        raise ConfigError(f"{', '.join(given)} cannot be combined with --from")
    result = import_vectors(ws, view, from_file, ids_path=ids_file, entity=entity.value)
    _summary(f"imported {result.n_rows} {result.entity} vectors ({result.dim}-d) into view '{view}'")


def register(app: typer.Typer) -> None:
    app.command("embed")(embed_command)
