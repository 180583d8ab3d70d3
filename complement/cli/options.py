"""CLI options generated from a step's options declaration (``complement.steps.options``).

``@with_options(FuseOptions)`` appends one typer option per declared field to the command's
signature (flag, help, default and enum choices all from the declaration) and hands the command one
``options`` object instead of the separate values. Any other dataclass serves as well, its help given
beside it (``with_options(SynthConfig, helps={...})``). A choice typo is a usage error (exit 2) that
suggests the closest choice; bounds are checked by the library with its own one-line errors.

Every integer and float option of the CLI parses its text with :func:`number_parser` (here for the declared
options, ``typer.Option(parser=...)`` for the few declared by hand): plain ASCII only. ``int()`` and
``float()``, which typer and click call, also read other scripts' digits (full-width or Arabic-Indic ones) and Python's
underscore separators ('1_000'), which a number typed in a flag never means."""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import re
import typing
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path, PurePath
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperOption

from ..checks import comma_list
from ..choices import Device, check_device
from ..errors import ConfigError, did_you_mean
from ..steps.options import DEVICE_METAVAR, flag_of

#: how click and typer word a choice typo: "'rff' is not one of 'score', 'rrf', …."
_NOT_ONE_OF = re.compile(r"(?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\") is not one of (?P<choices>.+)\.$")


#: the prefix pydantic puts before a ValueError's text; typer >= 0.2x converts choices through pydantic, so a
#: choice typo read "Invalid value for '--method': Value error, 'RRF' is not one of ..."
_PYDANTIC_PREFIX = "Value error, "


def with_choice_hint(message: str) -> str:
    """A usage error's message without pydantic's ``Value error,`` prefix and, for a choice typo, with the
    closest allowed value suggested (`` — did you mean 'rrf'?``)."""
    message = message.removeprefix(_PYDANTIC_PREFIX)
    found = _NOT_ONE_OF.search(message)
    if found is None or "did you mean" in message:
        return message
    choices = [choice.strip().strip("'\"") for choice in found["choices"].split(",")]
    hint = did_you_mean(ast.literal_eval(found["value"]), choices)
    return f"{message[:-1]}{hint}" if hint else message


def _plain_text(text: str, kind: str) -> str:
    if not text.isascii() or "_" in text:
        raise typer.BadParameter(f"'{text}' is not {kind} in plain ASCII digits (no other scripts' digits, no '_')")
    return text


def plain_int(value: Any) -> int:
    """An integer option's text as an int: ASCII digits with an optional sign, nothing else."""
    if isinstance(value, int) and not isinstance(value, bool):  # a default, already a number
        return value
    try:
        return int(_plain_text(str(value), "an integer"))
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not an integer in plain ASCII digits") from None


def plain_float(value: Any) -> float:
    """A float option's text as a float: ASCII digits, '.', an exponent (and 'nan'/'inf', which the library
    refuses with its own message), no '_' separators."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(_plain_text(str(value), "a number"))
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a number in plain ASCII digits") from None


def path_parser(flag: str, what: str) -> Callable[[Any], Path]:
    """The ``parser=`` of a path option or argument: an empty or blank value (``--path ""``, as a failed
    ``$(complement fetch ...)`` gives) is refused with one line (exit 1) instead of becoming ``Path("")``,
    which is the current folder. ``what`` names what the path should be, for the message."""

    def parse(value: Any) -> Path:
        if isinstance(value, Path):  # a default, already a path
            return value
        if not str(value).strip():
            raise ConfigError(f"{flag} is empty: give {what} (write . for the current folder)")
        return Path(value)

    parse.__name__ = "path"  # what older typer versions show as the metavar
    return parse


#: how ``--help`` labels a path argument or option, as typer labels a plain ``Path`` one (``--out <path>``)
PATH_METAVAR = "<path>"


class _PathArgument(TyperArgument):
    def display_type(self, ctx: Any) -> str:
        return PATH_METAVAR


class _PathOption(TyperOption):
    def display_type(self, ctx: Any) -> str:
        return PATH_METAVAR


_PATH_LABELLED: dict[type, type] = {TyperArgument: _PathArgument, TyperOption: _PathOption}


def label_paths(command: Any) -> None:
    """Label every path argument and option of ``command`` and of its subcommands :data:`PATH_METAVAR` in
    ``--help`` and docs/cli.md. Typer labels a ``Path`` read through ``parser=`` (:func:`path_parser`, which
    refuses an empty path) by its class name, ``DIR <Path>``, while it labels the same type read by itself
    ``<path>``: this one place keeps every declaration as it is. An option's own ``metavar=`` still wins."""
    for param in getattr(command, "params", ()):
        descriptor = getattr(param, "type_descriptor", None)  # typer >= 0.2x; older ones label by the parser's name
        annotation = getattr(descriptor, "annotation", None)
        if (
            type(param) in _PATH_LABELLED
            and isinstance(annotation, type)
            and issubclass(annotation, PurePath)
            and not getattr(descriptor, "is_path", True)  # typer's own path label (path, file or dir) stays
        ):
            param.__class__ = _PATH_LABELLED[type(param)]
    for sub in (getattr(command, "commands", None) or {}).values():
        label_paths(sub)


def number_parser(kind: type) -> Callable[[Any], int | float]:
    """The ``parser=`` of an integer (``kind`` int) or float option: plain ASCII digits only. A value
    that does not read as a number is a usage error (exit 2); its bounds are the library's to check
    (exit 1, one line), as for every other option."""
    convert = plain_int if kind is int else plain_float

    def parse(value: Any) -> int | float:
        return convert(value)

    parse.__name__ = kind.__name__  # what older typer versions show as the metavar
    return parse


def _cli_type(f: dataclasses.Field, hint: Any) -> Any:
    choices = f.metadata.get("choices")
    kind = f.metadata.get("kind", hint)
    if choices is not None and choices is not Device and not _is_list(f):
        base: Any = choices
    elif _is_list(f):
        base = str  # comma-separated on the command line
    elif isinstance(kind, tuple):
        base = float
    elif kind is not None:
        base = kind
    else:
        base = str
    return base | None if f.default is None else base


def _is_list(f: dataclasses.Field) -> bool:
    return "tuple" in str(f.type)


def read_in_parser(read: Callable[[Any], object]) -> Callable[[Any], Any]:
    """A typer ``callback=`` that runs ``read`` on the option's value: a :class:`ConfigError` (text that does
    not read) becomes a usage error (exit 2). The value comes back unchanged; None (not given) passes."""

    def check(value: Any) -> Any:
        if value is not None:
            try:
                read(value)
            except ConfigError as exc:
                raise typer.BadParameter(str(exc)) from None
        return value

    return check


def _callback(f: dataclasses.Field) -> Callable[[Any], Any] | None:
    """A comma-separated list of enum values, or a value with its own reading (``parse``), is read in the
    parser too (text that does not read exits 2); a value's own check (``validate``) is the library's."""
    choices: type[StrEnum] | None = f.metadata.get("choices")
    read = f.metadata.get("parse")
    if choices is Device:  # auto, cpu, cuda, or cuda:N for one GPU of several
        read = functools.partial(check_device, where=flag_of(f))
    if read is not None:
        return read_in_parser(read)
    if choices is None or not _is_list(f):
        return None
    allowed = [member.value for member in choices]

    def check(value: str | None) -> str | None:
        try:
            names = comma_list(flag_of(f), value or "")
        except ConfigError as exc:
            raise typer.BadParameter(str(exc)) from None
        for name in names:
            if name not in allowed:
                hint = did_you_mean(name, allowed)
                raise typer.BadParameter(f"'{name}' is not one of {', '.join(allowed)}{hint or '.'}")
        return value

    return check


def cli_parameters(cls: type, helps: Mapping[str, str] | None = None) -> list[inspect.Parameter]:
    """One keyword parameter per declared option, annotated for typer. A field without an ``option(...)``
    declaration takes its type from its annotation and its help from ``helps`` (a flag that is on by
    default can be turned off: ``--rotate/--no-rotate``), or, annotated for typer, is taken as it is."""
    out = []
    hints = typing.get_type_hints(cls, include_extras=True)
    for f in dataclasses.fields(cls):
        if typing.get_origin(hints[f.name]) is Annotated:  # a field annotated for typer is taken as it is
            out.append(
                inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=hints[f.name])
            )
            continue
        meta = f.metadata
        flag = flag_of(f)
        base = _cli_type(f, hints[f.name])
        number = next((kind for kind in (int, float) if base in (kind, kind | None)), None)
        parser = None if number is None else number_parser(number)
        if f.default is True and not meta:  # an undeclared field that is on by default
            flag = f"{flag}/--no-{flag[2:]}"
        info = typer.Option(
            flag,
            help=meta.get("help") or (helps or {}).get(f.name, ""),
            show_default=meta.get("show_default", True),
            callback=_callback(f),
            metavar=DEVICE_METAVAR if meta.get("choices") is Device else None,
            parser=parser,
        )
        out.append(
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=f.default,
                annotation=Annotated[base, info],
            )
        )
    return out


def with_options(
    *classes: type, helps: Mapping[str, str] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the options of each class in ``classes`` (dataclasses): the command declares a
    parameter annotated with the class (``options: FuseOptions``), whose flags stand in its place in
    ``--help``, and receives the class's object there, beside its own parameters."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        declared: dict[str, type] = {}
        params: list[inspect.Parameter] = []
        for p in inspect.signature(func, eval_str=True).parameters.values():
            if p.annotation in classes:
                declared[p.name] = p.annotation
                params += cli_parameters(p.annotation, helps)
            else:
                params.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY))
        missing = [cls.__name__ for cls in classes if cls not in declared.values()]
        if missing:
            raise TypeError(f"{func.__name__} declares no parameter of type {', '.join(missing)}")

        @functools.wraps(func)
        def command(**kwargs: Any) -> Any:
            for name, cls in declared.items():
                kwargs[name] = cls(**{f.name: kwargs.pop(f.name) for f in dataclasses.fields(cls)})
            return func(**kwargs)

        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        del command.__wrapped__  # typer must read the signature above, not the function's own
        return command

    return decorate
