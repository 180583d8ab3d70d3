"""``complement fetch``: download a public dataset into the cache and print its path (docs/fetch.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..progress import message


def fetch(
    name: Annotated[
        str,
        typer.Argument(
            help="movielens-100k, movielens-1m, movielens-latest-small or amazon-2023:CATEGORY "
            "(e.g. amazon-2023:Video_Games).",
            show_default=False,
        ),
    ],
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir",
            help="Cache folder (default: $COMPLEMENT_CACHE or ~/.cache/complement/datasets).",
            show_default=False,
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="Download from this host (a mirror or a local server) instead of the original.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Download and extract again even when cached.")] = False,
    no_verify: Annotated[
        bool,
        typer.Option(
            "--no-verify",
            help="Fetch a dataset that has no pinned sha256 (its checksum is recorded on first download).",
        ),
    ] = False,
    allow_redirect: Annotated[
        bool, typer.Option("--allow-redirect", help="Follow redirects to another host or from https to http.")
    ] = False,
) -> None:
    """Download a dataset (verified, extracted) and print the path for `complement init --path`."""
    from ..data.fetch import fetch as fetch_dataset

    fetched = fetch_dataset(
        name, cache_dir=cache_dir, base_url=base_url, force=force, verify=not no_verify, allow_redirect=allow_redirect
    )
    message(f"{fetched.name}: {'cached' if fetched.from_cache else 'downloaded'} at {fetched.path}")
    message(f"next: complement init DIR --dataset {fetched.kind} --path {fetched.path}")
    typer.echo(str(fetched.path))


def register(app: typer.Typer) -> None:
    app.command("fetch")(fetch)
