"""The workspace's dataset and exact split as RecBole atomic benchmark files.

``DIR/NAME.train.inter``, ``NAME.valid.inter``, ``NAME.test.inter`` (``user_id:token item_id:token``
plus ``rating:float`` and ``timestamp:float`` when every interaction has them) and ``NAME.item``
(``item_id:token title:token_seq text:token_seq``). NAME is DIR's folder name, as RecBole looks for
``data_path/NAME/NAME.*``; with ``benchmark_filename: [train, valid, test]`` a RecBole model then
trains, validates and tests on exactly this split."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..atomic import write_text
from ..errors import ConfigError, DataError
from ..workspace import Workspace
from .paths import check_out_path

SPLITS = ("train", "valid", "test")
_WHITESPACE = re.compile(r"\s+")


def _clean(text: str | None) -> str:
    """A field without tabs or newlines (they would break the atomic file's rows)."""
    return _WHITESPACE.sub(" ", text or "").strip()


def export_recbole(ws: Workspace, folder: str | os.PathLike) -> dict[str, int]:
    """Write the RecBole benchmark files into ``folder``; returns the rows written per file."""
    target = check_out_path(ws, Path(folder), option="--recbole")
    if target.exists() and not target.is_dir():
        raise ConfigError(f"--recbole {folder} is a file; give a folder")
    name = target.name
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ConfigError(
            f"--recbole folder name '{name}' becomes the RecBole dataset name; use letters, digits, '_', '-', '.'"
        )
    ws.require("items", "interactions")
    full = ws.query("SELECT count(*) AS n, count(ts) AS n_ts, count(rating) AS n_rating FROM interactions").to_pylist()[
        0
    ]
    if full["n"] == 0:
        raise DataError("the workspace has no interactions to export")
    with_rating, with_ts = full["n_rating"] == full["n"], full["n_ts"] == full["n"]
    header = (
        ["user_id:token", "item_id:token"]
        + (["rating:float"] if with_rating else [])
        + (["timestamp:float"] if with_ts else [])
    )
    texts: dict[str, str] = {}
    counts: dict[str, int] = {}
    for split in SPLITS:
        rows = ws.query(
            "SELECT user_id, item_id, rating, ts FROM interactions WHERE split = $s "
            "ORDER BY user_id, ts, item_id, rating",  # a total order: kept repeats of one instant by rating
            {"s": split},
        )
        lines = ["\t".join(header)]
        for u, i, r, t in zip(
            *(rows.column(c).to_pylist() for c in ("user_id", "item_id", "rating", "ts")), strict=True
        ):
            lines.append(
                "\t".join(
                    [_clean(u), _clean(i)] + ([repr(float(r))] if with_rating else []) + ([str(t)] if with_ts else [])
                )
            )
        texts[f"{name}.{split}.inter"] = "\n".join(lines) + "\n"
        counts[f"{name}.{split}.inter"] = rows.num_rows
    items = ws.query("SELECT item_id, title, text FROM items ORDER BY item_idx")
    lines = ["item_id:token\ttitle:token_seq\ttext:token_seq"]
    for i, title, text in zip(*(items.column(c).to_pylist() for c in ("item_id", "title", "text")), strict=True):
        lines.append("\t".join((_clean(i), _clean(title), _clean(text))))
    texts[f"{name}.item"] = "\n".join(lines) + "\n"
    counts[f"{name}.item"] = items.num_rows
    for filename, text in texts.items():  # everything is built before the first file is written
        write_text(text, target / filename)
    return counts
