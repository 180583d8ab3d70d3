"""The ``complement`` command. Each noun's commands live in their own module with a
``register(app)`` function; this module wires them up and turns library errors into one line."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from .. import __version__
from ..errors import ComplementError

app = typer.Typer(
    name="complement",
    help="Measure how complementary the semantic and collaborative views of a recommender are, "
    "and compare fusing the views with aligning them.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"complement {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
) -> None:
    """complement: semantic vs collaborative views of a recommender."""


def _register_commands() -> None:
    from . import data, demo, diagnose, embed, export, fetch, fuse, probe, report, run, scoring, sql, synth, train

    for module in (data, fetch, synth, embed, train, scoring, fuse, diagnose, probe, sql, run, report, demo, export):
        module.register(app)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: library errors become ``Error: ...`` on stderr and their exit status."""
    try:
        app(args=argv, standalone_mode=False)
    except ComplementError as exc:
        typer.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("Interrupted; nothing half-written was kept.", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # usage errors carry their own exit code and message
        if isinstance(exc, _usage_errors()):
            exc.show()
            sys.exit(exc.exit_code)
        raise


def _usage_errors() -> tuple[type, ...]:
    """Click's usage exceptions; newer typer ships its own copy of click, whose classes are distinct."""
    import click

    classes: list[type] = [click.exceptions.ClickException]
    try:
        from typer._click import exceptions as vendored  # typer >= 0.2x

        classes.append(vendored.ClickException)
    except ImportError:
        pass
    return tuple(classes)


if __name__ == "__main__":
    main()
