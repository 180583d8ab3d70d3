"""Progress bars and messages on stderr (stdout carries data only)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def quiet() -> bool:
    return os.environ.get("COMPLEMENT_QUIET", "") not in ("", "0")


def message(text: str) -> None:
    """A line for the user on stderr."""
    if not quiet():
        stderr.print(text, markup=False) if "[" in text else stderr.print(text)


def progress(*extra_columns, transient: bool = False) -> Progress:
    """A rich progress bar on stderr; disabled when stderr is not a terminal or COMPLEMENT_QUIET is set."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra_columns,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=transient,
        disable=quiet() or not sys.stderr.isatty(),
    )


class EpochBar:
    """The training bar on stderr: "MODEL epoch e / max_epochs", ETA, and the latest validation
    Recall@20. Called with each epoch's history entry by the fit loop (through ``train_view``'s
    ``on_epoch``); a model without epochs (pop, random) never calls it, so no bar appears."""

    def __init__(self, label: str, bar: Progress):
        self.label, self.bar = label, bar
        self.task: TaskID | None = None
        self.valid = "—"

    def __call__(self, entry: dict, max_epochs: int) -> None:
        if "valid_recall@20" in entry:
            self.valid = f"{entry['valid_recall@20']:.4f}"
        # a closed-form model's grid search (EASE) reports grid points ("setting", "of") instead of epochs
        loss = f"{entry['loss']:.4f}" if "loss" in entry else "—"
        if self.task is None:
            what, total = ("grid point", entry["of"]) if "setting" in entry else ("epoch", max_epochs)
            self.task = self.bar.add_task(f"{self.label} {what}", total=total, valid=self.valid, loss=loss)
        self.bar.update(self.task, completed=entry["epoch"], valid=self.valid, loss=loss)


@contextmanager
def epoch_bar(label: str) -> Iterator[EpochBar | None]:
    """An :class:`EpochBar` while stderr is a terminal (and not COMPLEMENT_QUIET), else None, so that
    the caller keeps its plain per-evaluation lines."""
    if quiet() or not sys.stderr.isatty():
        yield None
        return
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("loss {task.fields[loss]} · valid Recall@20 {task.fields[valid]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=stderr,
    )
    with bar:
        yield EpochBar(label, bar)
