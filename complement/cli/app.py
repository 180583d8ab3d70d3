"""The ``complement`` command. Each noun's commands live in their own module with a
``register(app)`` function; this module wires them up and turns library errors into one line."""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import Annotated, Any, Protocol, cast

import typer
from typer.core import TyperGroup

from .. import __version__
from ..catalog import held_for_command
from ..errors import ComplementError
from .options import label_paths, with_choice_hint


class _Group(TyperGroup):
    """The ``complement`` command as typer builds it, its path arguments and options labelled ``<path>`` in
    ``--help`` (:func:`label_paths`)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        label_paths(self)


app = typer.Typer(
    cls=_Group,
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
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
) -> None:
    """complement: semantic vs collaborative views of a recommender."""


def _register_commands() -> None:
    from . import data, demo, diagnose, drop, embed, export, fetch, fuse, probe, report, run, scoring, sql, synth, train

    modules = (data, fetch, synth, embed, train, scoring, fuse, diagnose, probe, sql, run, report, demo, export, drop)
    for module in modules:
        module.register(app)


_register_commands()


class _UsageError(Protocol):
    """What click's usage exceptions (ours or typer's vendored copy) have in common."""

    exit_code: int

    def show(self) -> None: ...


INTERRUPTED = "Interrupted; nothing half-written was kept."


def main(argv: list[str] | None = None) -> None:
    """Console entry point: library errors become ``Error: ...`` on stderr and their exit status;
    Ctrl-C exits 130 and an operating-system error (permissions, full disk) exits 1, each with one line."""
    try:
        # every workspace the command reads keeps its files until the command ends (catalog.reading)
        with held_for_command():
            code = app(args=argv, standalone_mode=False)
    except ComplementError as exc:
        _fail(f"Error: {exc}", exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _fail(INTERRUPTED, 130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # stdout closed early (`| head`): not an error of ours
            _quiet_broken_pipe()
            sys.exit(1)
        _fail(f"Error: {os_error_line(exc)}", 1)
    except MemoryError as exc:  # numpy's failed allocations too (_ArrayMemoryError)
        _fail(f"Error: {OUT_OF_MEMORY}: {_first_line(exc)}", 1)
    except Exception as exc:  # usage errors carry their own exit code and message
        if _is_out_of_memory(exc):
            _fail(f"Error: {OUT_OF_MEMORY}: {_first_line(exc)}", 1)
        if _is_duckdb_io_error(exc):  # a file that could not be read (e.g. removed by hand meanwhile)
            _fail(f"Error: {_first_line(exc)}", 1)
        if isinstance(exc, _usage_errors()):
            usage = cast(_UsageError, exc)
            if isinstance(message := getattr(exc, "message", None), str):  # a choice typo: suggest the closest
                exc.message = with_choice_hint(message)  # type: ignore[attr-defined]
            usage.show()
            sys.exit(usage.exit_code)
        raise
    # Without standalone mode typer returns the status of an Exit instead of raising it, and turns
    # Ctrl-C into Exit(130): both must reach the shell.
    if isinstance(code, int) and not isinstance(code, bool) and code != 0:
        if code == 130:
            _fail(INTERRUPTED, 130)
        sys.exit(code)


#: the line of a command that ran out of memory (the step that ran out committed nothing: a view is one transaction)
OUT_OF_MEMORY = "out of memory (use smaller sizes such as --dim, --batch-size or --users, or more memory)"


def _is_out_of_memory(exc: BaseException) -> bool:
    """A failed allocation of torch (CPU: a RuntimeError from its allocator; CUDA: OutOfMemoryError) or DuckDB."""
    torch, duckdb = sys.modules.get("torch"), sys.modules.get("duckdb")
    if torch is not None and isinstance(exc, getattr(torch, "OutOfMemoryError", ())):
        return True
    if duckdb is not None and isinstance(exc, getattr(duckdb, "OutOfMemoryException", ())):
        return True
    return isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc)


def _is_duckdb_io_error(exc: BaseException) -> bool:
    duckdb = sys.modules.get("duckdb")  # not imported: the error cannot be DuckDB's
    return duckdb is not None and isinstance(exc, duckdb.IOException)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _fail(line: str, code: int) -> None:
    try:
        sys.stdout.flush()
    except OSError:
        pass
    typer.echo(line, err=True)
    sys.exit(code)


def _quiet_broken_pipe() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not complain about the pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def os_error_line(exc: OSError) -> str:
    """One line naming the path and the cause of an operating-system error."""
    causes = {
        errno.ENOSPC: "no space left on the device",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EDQUOT: "disk quota exceeded",
    }
    cause = (
        (causes.get(exc.errno) if exc.errno is not None else None)
        or exc.strerror
        or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    )
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    if exc.errno in (errno.EEXIST, errno.ENOTDIR) and paths:  # a folder was needed where a file is
        from ..atomic import file_in_the_way

        path = Path(paths[0])
        if path.exists() and not path.is_dir():  # mkdir of a path that is a file
            return f"{path} is a file, not a folder"
        if (blocker := file_in_the_way(path)) is not None:
            return f"{path}: {blocker} is a file, not a folder"
    if paths:
        return f"{' -> '.join(paths)}: {cause}"
    detail = (str(exc).strip().splitlines() or [""])[0]
    return f"{cause} ({detail})" if detail and detail != cause and not detail.startswith("[Errno") else cause


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
