"""``complement embed``: semantic item vectors, or vectors imported with ``--from FILE``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigError
from ..progress import quiet
from .common import DeviceOption, WorkspaceOption, workspace


class Entity(str, Enum):
    item = "item"
    user = "user"


def _summary(line: str) -> None:
    """One unwrapped line on stderr (stdout carries data only)."""
    if not quiet():
        typer.echo(line, err=True)


def embed_command(
    ws_path: WorkspaceOption = None,
    view: Annotated[str, typer.Option("--view", help="View name the vectors are stored under.")] = "text",
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="sentence-transformers model: a local folder or a name in the local Hugging Face "
            "cache (default: the packaged all-MiniLM-L6-v2). Never downloaded.",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Texts per encoder batch.")] = 64,
    device: DeviceOption = "auto",
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            help='Text to embed, rendered from items columns, e.g. "{title}. {genres}" (default: items.text).',
            show_default=False,
        ),
    ] = None,
    normalize: Annotated[
        bool,
        typer.Option("--normalize", help="L2-normalise the vectors (MiniLM already is)."),
    ] = False,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Import precomputed vectors: Parquet (id, vector) or .npy with --ids.",
            show_default=False,
        ),
    ] = None,
    ids_file: Annotated[
        Path | None,
        typer.Option(
            "--ids",
            help="Ids of the .npy rows: one per line, or a .csv/.parquet id column.",
            show_default=False,
        ),
    ] = None,
    entity: Annotated[Entity, typer.Option("--entity", help="What --from vectors describe.")] = Entity.item,
) -> None:
    """Embed every item's text with a sentence-transformers model (cached), or import vectors."""
    from ..checks import integer
    from ..embed import embed, import_vectors
    from ..tables import check_tables, check_view_name

    check_view_name(view)
    integer("--batch-size", batch_size, minimum=1)
    ws = workspace(ws_path)
    check_tables(ws, "items", "users", "embeddings", views=[view])
    if from_file is None:
        if ids_file is not None:
            raise ConfigError("--ids goes with --from FILE.npy")
        if entity is not Entity.item:
            raise ConfigError("user vectors cannot be embedded from text; import them with --from FILE --entity user")
        result = embed(
            ws,
            view=view,
            model=model,
            batch_size=batch_size,
            device=device,
            template=template,
            normalize=normalize,
        )
        rate = (
            f", {result.n_embedded / result.seconds:,.0f} items/s" if result.n_embedded and result.seconds > 0 else ""
        )
        _summary(
            f"embedded {result.n_embedded} new items, {result.n_cached} from cache "
            f"({result.dim}-d, {result.model}) into view '{view}' in {result.seconds:.1f} s{rate}"
        )
        return
    given = [name for name, value in (("--model", model), ("--template", template)) if value is not None]
    if given or normalize:
        raise ConfigError(f"{', '.join(given + (['--normalize'] if normalize else []))} cannot be combined with --from")
    result = import_vectors(ws, view, from_file, ids_path=ids_file, entity=entity.value)
    _summary(f"imported {result.n_rows} {result.entity} vectors ({result.dim}-d) into view '{view}'")


def register(app: typer.Typer) -> None:
    app.command("embed")(embed_command)
