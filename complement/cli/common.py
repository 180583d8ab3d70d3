"""Options every command shares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from ..choices import check_device
from ..errors import ConfigError
from ..steps.options import DEVICE_HELP, DEVICE_METAVAR
from ..workspace import ENV_VAR, Workspace
from .options import path_parser, read_in_parser
from .output import Format

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar=ENV_VAR,
        help="Workspace folder (default: the current directory).",
        show_default=False,
        parser=path_parser("-w", "the workspace folder"),
    ),
]

FormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format", "-f", help="Output format (default: table on a terminal, csv otherwise).", show_default=False
    ),
]


def _check_device(value: str) -> str:
    try:
        return check_device(value, "--device")
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None


DeviceOption = Annotated[
    str, typer.Option("--device", help=DEVICE_HELP, callback=_check_device, metavar=DEVICE_METAVAR)
]


def workspace(path: Path | None) -> Workspace:
    return Workspace.open(path)


def parse_ks(text: str) -> list[int]:
    """``--k 5,10,20`` as a list of positive integers. Text that is not a comma list of plain decimal integers
    is a usage error (exit 2, as for every number the CLI cannot read); an integer below 1 is refused (exit 1)."""
    from ..checks import comma_list
    from ..diagnostics.runner import plain_integer

    try:
        parts = comma_list("--k", text)
    except ConfigError as error:
        raise typer.BadParameter(str(error), param_hint="'--k'") from None
    parsed = [plain_integer(part) for part in parts]
    if not parsed or None in parsed:
        raise typer.BadParameter(
            f"'{text}' is not a comma list of integers in plain ASCII digits like 5,10,20", param_hint="'--k'"
        )
    ks = [k for k in parsed if k is not None]
    if min(ks) < 1:
        raise ConfigError(f"--k takes positive integers like 5,10,20, not '{text}'")
    return ks


def comma_option(flag: str, entry: Callable[[str], bool] | None = None, expected: str = "") -> Callable:
    """A typer callback for a comma-separated option: an empty entry ('a,,b', a trailing comma), or with
    ``entry`` one it does not accept, is a usage error (exit 2: text the parser cannot read). The text comes
    back unchanged; what a readable list means (a view that does not exist, one named twice) is the command's
    to refuse (exit 1)."""
    from ..checks import comma_list

    def read(value: str) -> None:
        entries = comma_list(flag, value)
        if entry is not None and not (entries and all(entry(e) for e in entries)):
            raise ConfigError(f"'{value}' is not {expected}")

    return read_in_parser(read)
