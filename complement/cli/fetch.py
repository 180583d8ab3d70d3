"""``complement fetch``: download a public dataset into the cache and print its path (docs/fetch.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from ..progress import message
from ..steps.declare import option
from .options import with_options


@dataclass(frozen=True)
class FetchOptions:
    """Where ``complement fetch`` keeps a dataset and how it may download it (``data.fetch.fetch``)."""

    cache_dir: Path | None = option(
        None, "Cache folder (default: $COMPLEMENT_CACHE or ~/.cache/complement/datasets).", kind=Path
    )
    base_url: str | None = option(
        None, "Download from this host (a mirror or a local server) instead of the original.", kind=str
    )
    force: bool = option(False, "Download and extract again even when cached.", kind=bool)
    no_verify: bool = option(
        False, "Fetch a dataset that has no pinned sha256 (its checksum is recorded on first download).", kind=bool
    )
    allow_redirect: bool = option(False, "Follow redirects to another host or from https to http.", kind=bool)


@with_options(FetchOptions)
def fetch(
    name: Annotated[
        str,
        typer.Argument(
            help="movielens-100k, movielens-1m, movielens-latest-small or amazon-2023:CATEGORY "
            "(e.g. amazon-2023:Video_Games).",
            show_default=False,
        ),
    ],
    *,
    options: FetchOptions,
) -> None:
    """Download a dataset (verified, extracted) and print the path for `complement init --path`."""
    from ..data.fetch import fetch as fetch_dataset

    fetched = fetch_dataset(
        name,
        cache_dir=options.cache_dir,
        base_url=options.base_url,
        force=options.force,
        verify=not options.no_verify,
        allow_redirect=options.allow_redirect,
    )
    message(f"{fetched.name}: {'cached' if fetched.from_cache else 'downloaded'} at {fetched.path}")
    message(f"next: complement init DIR --dataset {fetched.kind} --path {fetched.path}")
    typer.echo(str(fetched.path))


def register(app: typer.Typer) -> None:
    app.command("fetch")(fetch)
