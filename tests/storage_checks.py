"""Consistency of a workspace's storage, checked independently of the catalog code's own logic."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` except lock files (whose contents name the last holder)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".locks" not in p.parts
    }


def txn_of(runs_file: str) -> str:
    """The commit id in a runs file's name (``runs/<n>-<commit id>.parquet``)."""
    return Path(runs_file).name.removesuffix(".parquet").split("-", 1)[1]


def assert_consistent(root: Path, *, strict: bool = True) -> None:
    """Every view is whole: files the catalog names exist and (``strict``, after a command that ended
    normally, with no other command reading) no other table file is visible — a crash between rename
    and commit, or a commit made while another command read, may leave files the catalog does not name
    until a commit made while no one reads removes them; user and item
    vectors of a view have one dimension, each top-K list is what the stored vectors score (for
    views that have vectors), and the commit that wrote each entry also wrote its runs row."""
    tables = root / "tables"
    catalog = json.loads((tables / "_catalog.json").read_text())["entries"]
    named = {f for e in catalog.values() for f in e["files"]}
    for f in named:
        assert (tables / f).is_file(), f"catalog names a missing file {f}"
    visible = {
        p.relative_to(tables).as_posix()
        for p in tables.rglob("*.parquet")
        if not any(s.startswith(".") for s in p.relative_to(tables).parts)
    }
    assert visible <= named or not strict, f"files outside the catalog: {sorted(visible - named)}"
    runs_commits = {txn_of(f) for f in catalog.get("runs", {}).get("files", []) if "compacted" not in f}
    compacted = any("compacted" in f for f in catalog.get("runs", {}).get("files", []))
    for key, entry in catalog.items():
        if key != "runs" and not compacted:
            for f in entry["files"]:
                commit = Path(f).name.removesuffix(".parquet")
                assert commit in runs_commits, f"{key} was committed without a runs row"
    for key in catalog:
        table, _, view = key.partition("/")
        if table != "embeddings":
            continue
        vectors = pq.read_table([tables / f for f in catalog[key]["files"]])
        dims = {}
        for entity, vector in zip(
            vectors.column("entity").to_pylist(), vectors.column("vector").to_pylist(), strict=True
        ):
            dims.setdefault(entity, set()).add(len(vector))
        assert all(len(d) == 1 for d in dims.values()), f"{key}: ragged vectors {dims}"
        if "user" in dims and "item" in dims:
            assert dims["user"] == dims["item"], f"{key}: user vectors {dims['user']}-d, item vectors {dims['item']}-d"
            if f"topk/{view}" in catalog:
                _assert_topk_scored_from(tables, catalog, view, vectors)


def _assert_topk_scored_from(tables: Path, catalog: dict, view: str, vectors) -> None:
    topk = pq.read_table([tables / f for f in catalog[f"topk/{view}"]["files"]]).to_pylist()
    rows = vectors.to_pylist()
    users = {r["id"]: np.asarray(r["vector"], np.float64) for r in rows if r["entity"] == "user"}
    items = {r["id"]: np.asarray(r["vector"], np.float64) for r in rows if r["entity"] == "item"}
    for row in topk[:200]:
        expected = float(users[row["user_id"]] @ items[row["item_id"]])
        assert abs(expected - row["score"]) < 1e-4 * max(1.0, abs(expected)), (
            f"topk/{view} is not scored from its vectors"
        )
