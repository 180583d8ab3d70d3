"""Terminal output: tables never cut a header, `train` shows a table on a terminal and one JSON line
when piped, its epoch bar counts epochs of the maximum, and `embed`'s bar counts what its summary line
counts."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pyarrow as pa
import pytest
from rich.console import Console
from rich.progress import Progress

from complement.cli.output import echo_train_summary, render
from complement.embed import encoder
from complement.embed.cache import EmbeddingCache
from complement.progress import EpochBar

LONG = ["view", "best_valid_recall@20", "share_of_union_at_k_gain", "items_without_text"]
SUMMARY = {
    "view": "lightgcn",
    "model": "lightgcn",
    "epochs_run": 120,
    "best_epoch": 80,
    "best_valid_recall@20": 0.1234,
    "train_seconds": 12.5,
    "test_recall@20": 0.1111,
}


@pytest.mark.parametrize("width", [20, 40, 80])
def test_a_narrow_table_keeps_every_header_whole(width):
    table = pa.table({name: [f"value-of-{name}" * 3] for name in LONG})
    text = render(table, "table", width=width)
    header = text.splitlines()[0]
    assert "…" not in text
    assert [cell.strip() for cell in header.split("┃")] == LONG


def test_a_table_that_fits_is_not_folded():
    table = pa.table({"view": ["mf"], "recall": [0.25]})
    lines = render(table, "table", width=80).splitlines()
    assert len(lines) == 3 and lines[2].split() == ["mf", "│", "0.25"]


def _tty(monkeypatch, is_tty: bool, columns: int = 120) -> None:
    import os
    import shutil

    monkeypatch.setattr(sys.stdout, "isatty", lambda: is_tty)
    monkeypatch.setattr(shutil, "get_terminal_size", lambda *a: os.terminal_size((columns, 24)))


def test_train_summary_piped_is_one_json_line(capsys, monkeypatch):
    _tty(monkeypatch, False)
    echo_train_summary(SUMMARY)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and json.loads(out) == SUMMARY


def test_train_summary_on_a_terminal_is_a_small_table(capsys, monkeypatch):
    _tty(monkeypatch, True)
    echo_train_summary(SUMMARY)
    header, _, row = capsys.readouterr().out.splitlines()
    headers = ["view", "epochs run", "best epoch", "valid Recall@20", "test Recall@20", "seconds"]
    assert [h.strip() for h in header.split("┃")] == headers
    assert [c.strip() for c in row.split("│")] == ["lightgcn", "120", "80", "0.1234", "0.1111", "12.5"]


def test_train_summary_in_a_given_format_keeps_every_column(capsys, monkeypatch):
    _tty(monkeypatch, True)
    echo_train_summary(SUMMARY, "csv")
    header, _ = capsys.readouterr().out.splitlines()
    assert header.split(",") == list(SUMMARY)


def test_epoch_bar_counts_epochs_of_the_maximum_and_keeps_the_last_validation():
    progress = Progress(console=Console(file=io.StringIO()))
    bar = EpochBar("mf", progress)
    bar({"epoch": 1, "loss": 0.7}, 300)
    bar({"epoch": 2, "loss": 0.6, "valid_recall@20": 0.12345}, 300)
    bar({"epoch": 3, "loss": 0.5}, 300)
    (task,) = progress.tasks
    assert (task.description, task.total, task.completed) == ("mf epoch", 300, 3)
    assert task.fields == {"valid": "0.1235", "loss": "0.5000"}


def test_epoch_bar_counts_the_grid_points_of_a_closed_form_model():
    progress = Progress(console=Console(file=io.StringIO()))
    bar = EpochBar("ease", progress)
    for point in (1, 2):
        bar({"epoch": point, "of": 8, "setting": f"l2 {25 * point}", "valid_recall@20": 0.3 + point / 100}, 0)
    (task,) = progress.tasks
    assert (task.description, task.total, task.completed) == ("ease grid point", 8, 2)
    assert task.fields == {"valid": "0.3200", "loss": "—"}


def test_train_lines_say_each_grid_point_of_a_closed_form_model():
    from complement.embed.train import _reporter

    lines: list[str] = []
    _reporter("ease-text", lines.append)(
        {"epoch": 3, "of": 56, "setting": "l2 100, text_weight 0", "valid_recall@20": 0.5}
    )
    assert lines == ["ease-text l2 100, text_weight 0 (3/56): valid Recall@20 0.5000"]


class _Model:
    def encode(self, texts, **kwargs):
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_embed_bar_counts_items_so_it_ends_at_the_summary_count(tmp_path, monkeypatch):
    """Three items share text h1 and one has h2: two texts are encoded, and the bar says 4 items, as
    the summary line does ("encoded 4 of … items")."""
    seen: dict[str, float] = {}

    class Recorder:
        def __init__(self, *columns):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def add_task(self, description, total):
            seen["total"], seen["done"] = total, 0
            return 0

        def advance(self, task, n):
            seen["done"] += n

    monkeypatch.setattr(encoder, "progress", Recorder)
    cache = EmbeddingCache(tmp_path / "cache.parquet")
    encoder.encode_into_cache(_Model(), cache, {"h1": "same", "h2": "other"}, 2, {"h1": 3, "h2": 1})
    assert seen == {"total": 4, "done": 4} and sorted(cache.index) == ["h1", "h2"]
