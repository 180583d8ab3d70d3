"""``complement diagnose``: list, show and run the SQL diagnostics (complement/sql/*.sql)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from ..checks import RepeatedEntry, comma_list
from ..choices import Engine, values
from ..diagnostics import find, list_diagnostics, show
from ..diagnostics.export import SUFFIXES, write_result
from ..errors import CheckFailed, ComplementError, ConfigError
from ..outputs import check_output_path
from .common import FormatOption, WorkspaceOption, comma_option, parse_ks, workspace
from .options import with_options
from .output import echo_table

PARAM_FLAGS = ("-p", "--param")


def join_param_pairs(args: list[str]) -> list[str]:
    """Rewrite ``-p NAME VALUE`` as ``-p NAME=VALUE`` (click options take a fixed number of values;
    ``-p NAME=VALUE`` is accepted as it is)."""
    out, i = [], 0
    while i < len(args):
        token = args[i]
        if token in PARAM_FLAGS and i + 2 < len(args) and "=" not in args[i + 1]:
            out += [token, f"{args[i + 1]}={args[i + 2]}"]
            i += 3
            continue
        out.append(token)
        i += 1
    return out


#: where the group keeps the arguments that follow its subcommand's name (for the hint of a misplaced option)
_SUBCOMMAND_ARGS = "complement.diagnose.subcommand_args"


class _ParamPairsGroup(typer.core.TyperGroup):
    def parse_args(self, ctx, args):
        rest = super().parse_args(ctx, join_param_pairs(list(args)))
        ctx.meta[_SUBCOMMAND_ARGS] = list(rest)  # the arguments after the subcommand's name
        return rest

    def resolve_command(self, ctx, args):
        """``diagnose overlap`` (a diagnostic's name where a subcommand goes) says how to run it."""
        try:
            return super().resolve_command(ctx, args)
        except _usage_error_class() as error:
            name = args[0] if args else ""
            if name and not name.startswith("-") and _is_diagnostic(name):
                raise _usage_error_class()(
                    f"No such command '{name}': run the diagnostic with `complement diagnose --sql {name} …` or "
                    f"`complement diagnose run {name} …`",
                    ctx,
                ) from None
            raise error


def _usage_error_class() -> type[Exception]:
    """The usage error of the click that typer runs (newer typer ships its own copy, with distinct classes)."""
    import importlib

    try:
        return importlib.import_module("typer._click.exceptions").UsageError
    except ImportError:  # an older typer on click itself
        return importlib.import_module("click.exceptions").UsageError


def _is_diagnostic(name: str) -> bool:
    try:
        find(name)
    except ComplementError:
        return False
    return True


diagnose_app = typer.Typer(
    cls=_ParamPairsGroup,
    help="Complementarity diagnostics as plain SQL files: list them, show one, or run one with --sql NAME.",
    invoke_without_command=True,
    no_args_is_help=False,
)

SqlOption = Annotated[
    str | None,
    typer.Option(
        "--sql",
        metavar="NAME",
        help="Diagnostic to run: a name from `complement diagnose list`, or a path to your own .sql file (run in the "
        "read-only sandbox).",
    ),
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        metavar="NAME VALUE",
        help="A parameter as NAME VALUE or NAME=VALUE (repeatable), e.g. -p k 10; integers in plain decimal digits.",
        show_default=False,
    ),
]
ViewsOption = Annotated[
    str | None,
    typer.Option(
        "--views",
        metavar="A,B",
        help="Views to compare, A,B (sets view_a and view_b, or the views list).",
        callback=comma_option("--views"),
    ),
]
KOption = Annotated[
    str | None,
    typer.Option(
        "--k",
        metavar="K1,K2,...",
        help="Run for each K in a list such as 5,10,20 and add a k column; each K at most the stored list length of "
        "the views read.",
    ),
]
AllowStaleOption = Annotated[
    bool,
    typer.Option(
        "--allow-stale",
        help="Score views made from inputs that changed since (another split or dataset) instead of refusing them.",
    ),
]
EngineOption = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="Engine to run on: duckdb, or spark (needs pyspark >= 4.1 and Java: pip install 'complement[spark]').",
    ),
]
MasterOption = Annotated[
    str | None, typer.Option("--master", metavar="URL", help="Spark master for --engine spark (default local[2]).")
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Write the result to FILE.parquet, .csv, .json or .md (atomically) instead of printing it; never "
        "inside the workspace's tables/.",
    ),
]


def _params(diagnostic_name: str, pairs: list[str] | None, views: str | None, ks: str | None) -> dict:
    params: dict = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"takes a name and a value, e.g. -p k 10 (got '{pair}')", param_hint="-p")
        params[name.strip()] = value
    _read_params(diagnostic_name, params)
    for flag, keys, given in (("--views", ("view_a", "view_b", "views"), views), ("--k", ("k",), ks)):
        if given is not None and (twice := [key for key in keys if key in params]):
            raise ComplementError(f"-p {twice[0]} and {flag} both set {twice[0]}: give it one way")
    if views is not None:
        declared = {p.name for p in find(diagnostic_name).params}
        is_pair = {"view_a", "view_b"} <= declared
        # a pair A,A is a view compared with itself (an identity check: Jaccard 1, difference 0); a list names
        # each view once
        names = comma_list("--views", views, distinct=not is_pair)
        if is_pair:
            if len(names) != 2:
                raise ComplementError(f"--views takes two views A,B for this diagnostic, got '{views}'")
            params["view_a"], params["view_b"] = names
        elif "views" in declared:
            params["views"] = names
        else:
            raise ComplementError(f"diagnostic '{find(diagnostic_name).name}' takes no views")
    if ks is not None:
        params["k"] = parse_ks(ks)
    return params


def _read_params(diagnostic_name: str, params: dict) -> None:
    """Each ``-p`` value read as its parameter's type, in the parser: a name the diagnostic does not declare, or
    text that does not read as the type (``-p k ten``), is a usage error (exit 2) like ``--k ten``; a value that
    reads but is out of bounds (``-p k 0``) is left to the library (exit 1)."""
    from ..diagnostics.runner import coerce

    diagnostic = find(diagnostic_name)
    declared = {p.name: p for p in diagnostic.params}
    for name, value in params.items():
        if name not in declared:
            have = ", ".join(declared) or "none"
            raise typer.BadParameter(
                f"diagnostic '{diagnostic.name}' has no parameter '{name}' (its parameters: {have})", param_hint="-p"
            )
        try:
            coerce(diagnostic, declared[name], value)
        except RepeatedEntry:
            pass  # a readable list that names a view twice: the library refuses it (exit 1), as for --views
        except ConfigError as exc:
            raise typer.BadParameter(str(exc), param_hint="-p") from None
        except ComplementError:
            pass  # a bound: the library refuses it, with the same line for every caller


ENGINES = values(Engine)


def _compute(name: str, ws, params: dict, engine: str, master: str | None, allow_stale: bool):
    """The diagnostic's rows from the chosen engine (arguments checked before anything starts)."""
    from ..steps import diagnose as diagnose_step

    return diagnose_step(ws, name, allow_stale=allow_stale, engine=engine, master=master, **params).table()


@dataclass(frozen=True)
class DiagnosticRun:
    """What running a diagnostic takes, with ``diagnose --sql NAME`` and ``diagnose run NAME`` alike."""

    param: ParamOption = None
    views: ViewsOption = None
    k: KOption = None
    workspace_dir: WorkspaceOption = None
    fmt: FormatOption = None
    out: OutOption = None
    allow_stale: AllowStaleOption = False
    engine: EngineOption = Engine.duckdb
    master: MasterOption = None


def _run(name: str, options: DiagnosticRun) -> None:
    ws, out = workspace(options.workspace_dir), options.out
    if out is not None:  # before any work: never into the workspace's tables/ nor onto complement.toml
        if out.suffix.lower() not in SUFFIXES:
            raise ComplementError(f"--out must end in {', '.join(SUFFIXES)}, not '{out.name}'")
        if options.fmt is not None:
            raise ComplementError("--out takes the format from the file's suffix; drop --format")
        check_output_path(ws, out)
    params = _params(name, options.param, options.views, options.k)
    table = _compute(name, ws, params, options.engine, options.master, options.allow_stale)
    if out is not None:
        write_result(table, out)
        typer.echo(f"wrote {table.num_rows} rows to {out}", err=True)
    else:
        echo_table(table, options.fmt)
    diagnostic = find(name)
    if diagnostic.is_check and table.num_rows > 0:
        raise CheckFailed(f"{diagnostic.name}: {table.num_rows} offending row(s)")


@diagnose_app.callback()
@with_options(DiagnosticRun)
def diagnose_main(ctx: typer.Context, sql: SqlOption = None, *, options: DiagnosticRun) -> None:
    """Run a diagnostic: complement diagnose --sql NAME [-p k 20] [--views A,B] [--k 5,10,20] [--engine spark]."""
    if ctx.invoked_subcommand is not None:
        # the group's options are --sql's; before `run`/`show`/`list` they would be dropped without a word
        if hint := _misplaced_options(ctx, ctx.invoked_subcommand):
            raise _usage_error_class()(hint, ctx)
        return
    if sql is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    _run(sql, options)


#: how a message names the group's options that have a short form
_SHOWN_FLAG = {"workspace_dir": "-w", "fmt": "--format", "out": "--out", "param": "-p"}


def _missing_arguments(ctx: typer.Context, command, name: str, args: list[str]) -> list[str]:
    """The metavars of the required arguments of subcommand ``command`` that ``args`` leaves out."""
    required = [p for p in (command.params if command else []) if p.param_type_name == "argument" and p.required]
    if not required:
        return []
    try:  # parsed as the subcommand will, without failing on what is missing or wrong
        with command.make_context(name, list(args), parent=ctx, resilient_parsing=True) as sub:
            given = sub.params
    except Exception:  # a hint only: when the arguments do not parse, assume they are there
        return []
    return [(p.metavar or p.name or "NAME").upper() for p in required if given.get(p.name or "") is None]


def _misplaced_options(ctx: typer.Context, name: str) -> str | None:
    """The usage error of the group's options typed on the command line before subcommand ``name`` (they are
    --sql's, and the subcommand would never see them), or None when there are none. The line shows the command
    to type instead, built from what was typed: the options ``name`` takes moved after it, the others named as
    ones it does not take. (An option set by its environment variable, COMPLEMENT_WORKSPACE, is not typed
    before anything: the subcommand reads it too.)"""
    import shlex
    from enum import Enum

    command = ctx.command.get_command(ctx, name)  # type: ignore[attr-defined]
    takes = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)} if command else set()
    moved: list[str] = []
    given: list[str] = []
    accepted: list[str] = []
    refused: list[str] = []
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name or "")
        if param.param_type_name != "option" or source is None or source.name != "COMMANDLINE":
            continue
        shown = _SHOWN_FLAG.get(param.name or "") or next((o for o in param.opts if o.startswith("--")), param.opts[0])
        given.append(shown)
        if not takes & {*param.opts, *param.secondary_opts}:
            refused.append(shown)
            continue
        accepted.append(shown)
        value = ctx.params[param.name or ""]
        if getattr(param, "is_flag", False):
            moved.append(shown)
            continue
        for one in value if isinstance(value, (list, tuple)) else [value]:
            moved += [shown, str(one.value if isinstance(one, Enum) else one)]
    if not given:
        return None
    rest = list(ctx.meta.get(_SUBCOMMAND_ARGS, []))
    if missing := _missing_arguments(ctx, command, name, rest):  # its NAME not typed yet: show where it goes
        rest = missing + rest
    typed = " ".join(["complement diagnose", name, *(shlex.quote(a) for a in [*rest, *moved])])
    ignored = f"{', '.join(given)} before '{name}' would be ignored"
    if not refused:
        return f"{ignored}: put {'it' if len(given) == 1 else 'them'} after it: {typed}"
    takes_no = f"'{name}' takes no {', '.join(refused)}"
    if not accepted:
        return f"{ignored}, and {takes_no}: run {typed}"
    return f"{ignored}: put {', '.join(accepted)} after it ({takes_no}): {typed}"


@diagnose_app.command("run")
@with_options(DiagnosticRun)
def run_command(
    name: Annotated[str, typer.Argument(help="Diagnostic name or path to a .sql file.")], *, options: DiagnosticRun
) -> None:
    """Run a diagnostic (same as --sql NAME)."""
    _run(name, options)


@diagnose_app.command("list")
def list_command(fmt: FormatOption = None) -> None:
    """Name, parameters and description of every built-in diagnostic."""
    import pyarrow as pa

    found = list_diagnostics()
    echo_table(
        pa.table(
            {
                "name": [d.name for d in found],
                "params": [", ".join(str(p) for p in d.params) for d in found],
                "description": [d.description for d in found],
            }
        ),
        fmt,
    )


@diagnose_app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="Diagnostic name or path to a .sql file.")],
    dialect: Annotated[
        Engine,
        typer.Option(
            "--dialect",
            help="duckdb (the file as it is) or spark (translated: run it on your cluster).",
        ),
    ] = Engine.duckdb,
    standalone: Annotated[
        bool,
        typer.Option(
            "--standalone",
            help="One DuckDB statement over this workspace's Parquet files, parameters inlined: runs as is in the "
            "DuckDB CLI.",
        ),
    ] = False,
    param: ParamOption = None,
    views: ViewsOption = None,
    table: Annotated[
        list[str] | None,
        typer.Option(
            "--table",
            metavar="NAME=TABLE",
            help="With --dialect spark: read workspace table NAME from your TABLE (repeatable), e.g. --table "
            "topk=lake.recs.",
            show_default=False,
        ),
    ] = None,
    workspace_dir: WorkspaceOption = None,
) -> None:
    """Print a diagnostic's SQL (its header documents the parameters and the definition).

    --dialect spark prints Spark SQL with the shared macros as CTEs; parameters given with -p or
    --views, and those with a default, are inlined; a required one left out stays a :name marker."""
    _show(name, dialect, standalone, param, views, workspace_dir, table)


def _table_names(pairs: list[str] | None) -> dict[str, str]:
    from .. import tables

    names = {}
    for pair in pairs or []:
        name, sep, target = pair.partition("=")
        if not sep or not name.strip() or not target.strip():
            raise ComplementError(f"--table takes NAME=TABLE, e.g. --table topk=lake.recs (got '{pair}')")
        if name.strip() not in tables.SCHEMAS:
            raise ComplementError(
                f"--table: '{name.strip()}' is not a workspace table ({', '.join(tables.TABLE_NAMES)})"
            )
        names[name.strip()] = target.strip()
    return names


def _show(name: str, dialect: str, standalone: bool, pairs, views, workspace_dir, table_pairs=None) -> None:
    if dialect not in ENGINES:
        raise ComplementError(f"--dialect must be one of {', '.join(ENGINES)}, got '{dialect}'")
    table_names = _table_names(table_pairs)
    if table_names and dialect != "spark":
        raise ComplementError("--table applies to --dialect spark only")
    if standalone and dialect != "duckdb":
        raise ComplementError("--standalone prints DuckDB SQL; leave out --dialect spark")
    params = _params(name, pairs, views, None)
    if standalone:
        from ..diagnostics.standalone import standalone_sql

        sys.stdout.write(standalone_sql(workspace(workspace_dir), name, **params))
        return
    if dialect == "spark":
        from ..diagnostics.runner import coerce, default_value
        from ..diagnostics.translate import spark_sql

        diagnostic = find(name)
        values = {}
        for p in diagnostic.params:
            if p.name in params:
                values[p.name] = coerce(diagnostic, p, params[p.name])
            elif not p.required:
                values[p.name] = default_value(diagnostic, p)
        for unknown in set(params) - {p.name for p in diagnostic.params}:
            raise ComplementError(f"diagnostic '{diagnostic.name}' has no parameter '{unknown}'")
        sys.stdout.write(spark_sql(diagnostic, values=values, tables=table_names) + "\n")
        return
    if pairs or views:
        raise ComplementError(
            "-p and --views apply to --standalone or --dialect spark; the DuckDB file is shown as it is"
        )
    sys.stdout.write(show(name))


def register(app: typer.Typer) -> None:
    app.add_typer(diagnose_app, name="diagnose")
