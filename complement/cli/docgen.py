"""The CLI reference, generated from the command tree: ``python -m complement.cli.docgen > docs/cli.md``.

It walks the click command tree behind the ``complement`` app (typer builds one; a plain click group
works as well) through click's public protocol and prints what ``--help`` prints, so it documents
whatever commands, arguments and options exist, however they are declared.
``tests/test_docs_cli.py`` fails when docs/cli.md differs from this output."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from typing import Any

HEADER = """# CLI reference

Generated from the command tree by `python -m complement.cli.docgen > docs/cli.md`; do not edit by hand
(a test compares this file with the generator's output). Every command prints the same with `--help`.
"""


def root_command() -> Any:
    """The click command behind ``complement``: the app itself when it is one, else built from the typer app."""
    from .app import app

    if hasattr(app, "make_context") and hasattr(app, "params"):
        return app
    import typer.main

    return typer.main.get_command(app)


def walk(command: Any, ctx: Any = None, name: str = "complement") -> Iterator[tuple[Any, Any]]:
    """``(command, context)`` for every visible command under ``command`` (itself first), depth first
    in the order the group lists them. Only click's public protocol is used (``list_commands``,
    ``get_command``, ``context_class``), so any way of declaring the commands is documented alike."""
    ctx = command.context_class(command, info_name=name, parent=ctx)
    yield command, ctx
    if hasattr(command, "list_commands"):
        for sub_name in command.list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            if sub is not None and not getattr(sub, "hidden", False):
                yield from walk(sub, ctx, sub_name)


def command_path(ctx: Any) -> str:
    return str(ctx.command_path)


def visible_params(command: Any) -> list[Any]:
    """The arguments and options a user passes (click adds ``--help`` outside ``params``)."""
    return [p for p in command.params if not getattr(p, "hidden", False)]


def param_help(param: Any) -> str:
    """The help text written for an option or argument (empty when there is none)."""
    return " ".join(str(getattr(param, "help", None) or "").split())


def help_record(param: Any, ctx: Any) -> tuple[str, str]:
    """``(names and metavar, help with its [default: ...] / [required] notes)`` as ``--help`` shows them."""
    record = param.get_help_record(ctx)
    if record is None:  # plain click shows arguments in the usage line only
        return (str(param.human_readable_name), param_help(param))
    names, text = record
    return " ".join(names.split()), " ".join(text.split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """The whole reference as Markdown."""
    out = [HEADER]
    for command, ctx in walk(root_command()):
        out.append(f"## `{command_path(ctx)}`\n")
        out.append("```\n" + " ".join(command.get_usage(ctx).split()) + "\n```\n")
        text = inspect.cleandoc(command.help or "")
        if text:
            out.append(text + "\n")
        rows = [help_record(p, ctx) for p in visible_params(command)]
        if rows:
            out.append("| argument / option | help and default |")
            out.append("|---|---|")
            out.extend(f"| `{_cell(names)}` | {_cell(text)} |" for names, text in rows)
            out.append("")
        if hasattr(command, "list_commands"):
            subs = [n for n in command.list_commands(ctx) if not getattr(command.get_command(ctx, n), "hidden", False)]
            out.append("Commands: " + ", ".join(f"`{n}`" for n in subs) + ".\n")
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
