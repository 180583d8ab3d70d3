"""Workspace steps: a view's exact top-K lists (``topk`` table) and item neighbours (``neighbors``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .. import shards
from ..device import resolve_device
from ..errors import ConfigError, DataError, WorkspaceError, unknown_name
from ..progress import message
from ..runs import RunRecord, recorded
from ..tables import check_tables, check_view_name
from .search import check_k, neighbors_indices, topk_indices

EXCLUDE_SPLITS: dict[str, tuple[str, ...]] = {"train": ("train",), "train+valid": ("train", "valid")}
#: lists evaluated on the test split mask everything the user saw before it, train and valid (RecBole's
#: full-ranking protocol), so a view's stored lists give the same test recall as the figure `train` reports
DEFAULT_EXCLUDE = "train+valid"


def exclude_splits(exclude: str) -> tuple[str, ...]:
    """The interaction splits masked by an ``--exclude`` mode (``train`` or ``train+valid``)."""
    if exclude not in EXCLUDE_SPLITS:
        raise ConfigError(unknown_name("exclusion mode", exclude, EXCLUDE_SPLITS))
    return EXCLUDE_SPLITS[exclude]


def _read_view_vectors(ws, view: str, entity: str) -> tuple[np.ndarray, np.ndarray]:
    """A view's vectors in index order, with actionable errors for missing or non-finite ones."""
    if entity == "user" and view in ws.parts("embeddings") and view not in ws.views("user"):
        raise WorkspaceError(
            f"view '{view}' has no user vectors: train a model for it (`complement train MODEL --view {view}`) "
            f"or import user vectors with `complement embed --from FILE --entity user --view {view}`"
        )
    ids, matrix = ws.read_vectors(view, entity, order="index")
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        bad = ids[~finite]
        raise DataError(
            f"view '{view}' has NaN or infinite {entity} vectors for {len(bad)} {entity}(s) (e.g. '{bad[0]}'); "
            "re-create or re-import them"
        )
    return ids, matrix


def ranked_table(
    view: str,
    row_ids,
    col_ids,
    indices: np.ndarray,
    scores: np.ndarray,
    names: tuple[str, ...],
    row_offset: int = 0,
) -> pa.Table:
    """Long table ``view, <row>, rank, <col>, <score>`` from ``[n_rows, k]`` results; ``-1`` slots are
    dropped. ``row_ids`` are rows ``row_offset``, ``row_offset + 1``, … of the index (a shard's users)."""
    n_rows, k = indices.shape
    flat = indices.ravel()
    keep = flat >= 0
    row_positions = np.repeat(np.arange(n_rows, dtype=np.int32), k)[keep]
    col_positions = flat[keep].astype(np.int32)
    row_key = names[0].removesuffix("_id") + "_idx"
    col_key = names[1].removesuffix("_id") + "_idx"
    return pa.table(
        {
            "view": pa.repeat(pa.scalar(view, pa.string()), int(keep.sum())),
            names[0]: pa.array(np.asarray(row_ids, dtype=object), pa.string()).take(pa.array(row_positions)),
            "rank": pa.array(np.tile(np.arange(1, k + 1, dtype=np.int32), n_rows)[keep]),
            names[1]: pa.array(np.asarray(col_ids, dtype=object), pa.string()).take(pa.array(col_positions)),
            names[2]: pa.array(scores.ravel()[keep].astype(np.float64)),
            row_key: pa.array(row_positions + np.int32(row_offset)),  # rows and columns in user_idx / item_idx order
            col_key: pa.array(col_positions),
        }
    )


def write_topk(
    ws,
    view: str,
    k: int = 100,
    exclude: str = DEFAULT_EXCLUDE,
    device="auto",
    chunk_size=None,
    made_by: str | None = None,
    shard: str | tuple[int, int] | None = None,
) -> int:
    """Score every user against every item of ``view`` (score = user · item), mask the ``exclude``
    interactions, and write the exact top-``k`` per user as part ``view`` of the ``topk`` table
    (rank from 1, ties by item index). A user with fewer than ``k`` unmasked items gets a shorter
    list. Records a ``runs`` row; returns the number of rows written.

    ``shard="I/N"`` computes only the I-th of N contiguous user_idx ranges and stages it; the shard
    that completes the set commits the view (:mod:`complement.shards`)."""
    check_view_name(view)
    parsed = shards.parse(shard)
    splits = exclude_splits(exclude)
    dev = resolve_device(device)
    ws.require("items", "users", "interactions", "embeddings")
    item_ids, item_vecs = _read_view_vectors(ws, view, "item")
    user_ids, user_vecs = _read_view_vectors(ws, view, "user")
    if user_vecs.shape[1] != item_vecs.shape[1]:
        raise DataError(
            f"view '{view}' has {user_vecs.shape[1]}-d user vectors but {item_vecs.shape[1]}-d item vectors; "
            "both must come from the same model"
        )
    k = check_k(k, len(item_ids), f"the catalogue of view '{view}'")
    params = {"k": k, "exclude": exclude, "masked_splits": list(splits), "device": str(dev), "chunk_size": chunk_size}
    inputs = [f"embeddings/{view}", "interactions", "items#ids", "users#ids"]
    made_by = made_by or f"complement topk --view {view} --k {k} --exclude {exclude}"
    part, lo, hi, outdated = view, 0, len(user_ids), []
    if parsed is not None:
        outdated = shards.check_can_add(ws, "topk", view, parsed, inputs, {"k": k, "exclude": exclude})
        part = shards.part_name(view, parsed)
        lo, hi = shards.rows_of(parsed, len(user_ids))
        params["shard"] = f"{parsed[0]}/{parsed[1]}"
    record = RunRecord(step="topk", view=part, params=params, inputs=inputs, made_by=made_by)
    with recorded(ws, record) as rec:
        seen_users, seen_items = ws.interaction_indices(splits)
        mine = (seen_users >= lo) & (seen_users < hi)
        seen = (seen_users[mine] - lo, seen_items[mine])
        indices, scores = topk_indices(
            user_vecs[lo:hi], item_vecs, k, seen=seen, device=dev, chunk_size=chunk_size, pad=True, row_offset=lo
        )
        names = ("user_id", "item_id", "score")
        table = ranked_table(view, user_ids[lo:hi], item_ids, indices, scores, names, row_offset=lo)
        ws.write_table("topk", table, part=part)
        if parsed is None:
            shards.drop(ws, "topk", view)  # a whole view replaces any shards staged for it
        elif outdated:  # shards made from earlier inputs: this one restarts the staging
            shards.drop(ws, "topk", view, outdated)
        short_users = int((indices[:, -1] < 0).sum())
        rec.rows = table.num_rows
        rec.metrics = {
            "users": hi - lo,
            "items": len(item_ids),
            "masked_pairs": len(seen[0]),
            "short_users": short_users,
        }
    if outdated:
        message(shards.outdated_note("topk", view, outdated))
    if parsed is not None and shards.merge(ws, "topk", view, made_by):
        message(f"topk: all {parsed[1]} shards of view '{view}' are in; committed them as the view")
    return table.num_rows


def write_neighbors(ws, view: str, k: int = 20, device="auto", chunk_size=None) -> int:
    """Write the exact ``k`` nearest items (cosine, self excluded, ties by item index) of every item
    of ``view`` as part ``view`` of the ``neighbors`` table. Records a ``runs`` row; returns the rows."""
    check_view_name(view)
    dev = resolve_device(device)
    ws.require("items", "embeddings")
    check_tables(ws, "items", "embeddings", views=[view])  # what the library and `run` read, as the CLI checks
    item_ids, item_vecs = _read_view_vectors(ws, view, "item")
    k = check_k(k, len(item_ids) - 1, f"the number of other items in view '{view}'")
    params = {"k": k, "similarity": "cosine", "device": str(dev), "chunk_size": chunk_size}
    record = RunRecord(
        step="neighbors",
        view=view,
        params=params,
        inputs=[f"embeddings/{view}"],
        made_by=f"complement neighbors --view {view} --k {k}",
    )
    with recorded(ws, record) as rec:
        indices, sims = neighbors_indices(item_vecs, k, device=dev, chunk_size=chunk_size)
        table = ranked_table(view, item_ids, item_ids, indices, sims, ("item_id", "neighbor_id", "sim"))
        ws.write_table("neighbors", table, part=view)
        rec.rows = table.num_rows
        rec.metrics = {"items": len(item_ids)}
    return table.num_rows
