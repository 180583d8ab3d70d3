"""Commands of this module are added by their issue (work in progress)."""

import typer


def register(app: typer.Typer) -> None:
    pass
