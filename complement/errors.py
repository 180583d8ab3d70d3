"""The exception hierarchy. The library raises these with a message a user can act on;
the CLI turns them into one ``Error: ...`` line on stderr and exit status 1 (see cli/app.py).
Any other exception is a bug and keeps its traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ComplementError(Exception):
    """Base class of every error a user can cause and fix."""

    exit_code = 1


class ConfigError(ComplementError):
    """complement.toml or a command-line setting is malformed."""


class DataError(ComplementError):
    """Input data is missing, malformed, or empty after filtering."""


class WorkspaceError(ComplementError):
    """A table or view the command needs is not in the workspace."""


class StaleError(WorkspaceError):
    """A derived table was made from inputs that have changed since."""


class ReadOnlyError(ComplementError):
    """Ad-hoc SQL tried to change or write something."""


class DeviceError(ComplementError):
    """The requested torch device is not available."""


class CheckFailed(ComplementError):
    """A ``check_*`` audit returned offending rows."""

    exit_code = 3


#: the shortest name a prefix match suggests (a one- or two-letter name is a prefix of too much)
PREFIX_MIN = 3


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` — did you mean 'x'?`` for the closest choice, or an empty string. Case is ignored throughout: the
    same name in another case comes first ('LightGCN' suggests 'lightgcn'), then a choice that is a prefix of
    the name or the converse, the shorter at least ``PREFIX_MIN`` characters ('semantic' suggests 'sem', which
    difflib's ratio misses; the closest in length wins), else difflib's closest match of ratio at least 0.6
    ('lightgc' suggests 'lightgcn'). Every message about an unknown view, choice or key ends with this."""
    choices = [c for c in choices if isinstance(c, str)]
    folded = [c for c in choices if c != name and c.casefold() == name.casefold()]
    if folded:  # 'LightGCN' for 'lightgcn', 'RRF' for 'rrf': the same name in another case
        return f" — did you mean '{folded[0]}'?"
    prefixed = [
        c
        for c in choices
        if c != name
        and min(len(c), len(name)) >= PREFIX_MIN
        and (name.casefold().startswith(c.casefold()) or c.casefold().startswith(name.casefold()))
    ]
    close = sorted(prefixed, key=lambda c: (abs(len(c) - len(name)), c))[:1]
    if not close:  # difflib compares case-sensitively: match the folded names, suggest the original
        by_folded = {c.casefold(): c for c in choices}
        close = [by_folded[c] for c in difflib.get_close_matches(name.casefold(), list(by_folded), n=1, cutoff=0.6)]
    return f" — did you mean '{close[0]}'?" if close else ""


def unknown_name(kind: str, name: str, choices: Iterable[str]) -> str:
    """Message for an unknown name: suggests the closest and lists the valid ones."""
    choices = sorted(choices)
    return f"unknown {kind} '{name}'{did_you_mean(name, choices)} (choose from: {', '.join(choices)})"
