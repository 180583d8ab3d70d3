"""``fuse(ws, views, method, view)``: fuse two views (``ranker``: two or more) into a new view.

- ``score``: per-user standardised scores, ``w * A + (1 - w) * B`` (:mod:`.score`); ``w`` tuned on
  the validation split unless given;
- ``rrf``: reciprocal rank fusion over each view's full ranking (:mod:`.rrf`);
- ``concat``: Norm-Concat-Norm user and item vectors (:mod:`.concat`), written as the new view's
  embeddings and ranked by :func:`complement.scoring.write_topk`;
- ``gate``: score fusion with a per-user weight picked by a small model fitted on the valid split
  (:mod:`.gating`);
- ``ranker``: a listwise model over the union of the views' top lists, fitted on the valid split
  (:mod:`.ranker`); the one method that takes more than two views;
- ``cca``: a shared CCA subspace of the two item spaces plus each view's private residual, weighted
  (:mod:`.cca`); the subspace dimension and the private weights tuned on the validation split.

score, rrf, gate, ranker and cca have no vectors: they write the new view's ``topk`` part directly (rank 1..K, seen
items masked, ties by lower item index). Every run appends a ``fuse`` row to ``runs`` with the
settings and, for score fusion, the chosen weight and the validation Recall@20 of each grid weight."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..checks import comma_list
from ..choices import (
    LIST_FUSION_METHODS,
    MULTI_VIEW_METHODS,
    fits_unsuited,
    fold_in_unsuited,
    fusion_views_wanted,
    options_unsuited,
)
from ..device import resolve_device
from ..errors import ConfigError, DataError, WorkspaceError, unknown_name
from ..progress import message
from ..runs import RunRecord, recorded
from ..scoring.steps import DEFAULT_EXCLUDE
from ..steps.options import FuseOptions
from ..tables import check_new_view_name, check_tables
from ..viewkind import FUSED, check_writable
from ..workspace import Workspace
from .cca import cca_topk, shared_subspace, tune_cca
from .concat import norm_concat_norm
from .kernels import SeenMask
from .learned import LEARNED_METHODS, learned_topk
from .rrf import DEFAULT_RRF_K, rrf_topk
from .score import NORMS, WEIGHT_GRID, score_fusion_topk, tune_weight

METHODS = ("score", "rrf", "concat", *LEARNED_METHODS, "cca")
EXCLUDE_SPLITS = {"train": ("train",), "train+valid": ("train", "valid")}
TUNING_K = 20


@dataclass
class FuseResult:
    view: str
    method: str
    rows: int
    weight: float | None = None
    validation_recall: dict[float, float] = field(default_factory=dict)
    fit: dict = field(default_factory=dict)  # gate / ranker / cca: what the fit chose (epochs, dimension, ...)


#: the defaults a fuse command leaves out (FuseOptions' declaration: a test keeps them equal)
FUSE_DEFAULTS = {
    "weight": None,
    "norm": "zscore",
    "rrf_k": 60.0,
    "fits": 1,
    "fold_in": False,
    "k": 100,
    "exclude": "train+valid",
}


def fuse_command(names: Sequence[str], method: str, view: str, settings: dict) -> str:
    """``complement fuse --views A,B --method M --view V`` with the settings that are not the defaults: what a
    stale view's message tells one to run (the workspace's ``-w`` is added there)."""
    flags = "".join(
        f" --{key.replace('_', '-')}" + ("" if value is True else f" {value}")
        for key, value in settings.items()
        if key in FUSE_DEFAULTS and value is not None and value != FUSE_DEFAULTS[key]
    )
    return f"complement fuse --views {','.join(names)} --method {method} --view {view}{flags}"


def parse_views(views: str | Sequence[str], method: str | None = None) -> tuple[str, ...]:
    """``"A,B"`` or ``[A, B]`` -> ``(A, B)``: two different names, or for ``ranker`` two or more."""
    names = comma_list("--views", views) if isinstance(views, str) else [str(v).strip() for v in views]
    names = [n for n in names if n]
    if wanted := fusion_views_wanted(method, names):
        more = "" if method in MULTI_VIEW_METHODS else f" ({', '.join(MULTI_VIEW_METHODS)} takes more)"
        raise ConfigError(
            f"--views takes {wanted.replace('views', 'view names')}, e.g. --views lightgcn,sem{more} "
            f"(got: {','.join(names) or 'nothing'})"
        )
    return tuple(names)


def _read_view(ws: Workspace, name: str, method: str) -> tuple[np.ndarray, np.ndarray]:
    """``(user_vectors, item_vectors)`` of a view in user_idx / item_idx order, checked."""
    if ws.is_list_view(name):
        raise ws.list_view_error(
            name,
            f"it has no user and item vectors, which --method {method} reads; score and rrf fuse list views by their "
            "stored lists",
        )
    if name not in ws.views():
        with_vectors = sorted(set(ws.views("user")) & set(ws.views("item")))
        raise WorkspaceError(
            unknown_name("view", name, with_vectors) + " — fusion needs views with user and item vectors"
        )
    _, users = ws.read_vectors(name, "user")
    _, items = ws.read_vectors(name, "item")
    if users.shape[1] != items.shape[1]:
        raise DataError(f"view '{name}' has {users.shape[1]}-d user vectors but {items.shape[1]}-d item vectors")
    if not (np.isfinite(users).all() and np.isfinite(items).all()):
        raise DataError(f"view '{name}' has NaN or infinite vectors; retrain or re-embed it")
    return users, items


def _check_settings(method, view, sources, weight, norm, rrf_k, k, exclude, n_items) -> None:
    if method not in METHODS:
        raise ConfigError(unknown_name("fusion method", method, METHODS))
    check_new_view_name(view)
    if view in sources:
        raise ConfigError(f"the fused view needs a new name: '{view}' is one of the source views")
    if norm not in NORMS:
        raise ConfigError(unknown_name("norm", norm, NORMS))
    if exclude not in EXCLUDE_SPLITS:
        raise ConfigError(unknown_name("--exclude value", exclude, EXCLUDE_SPLITS))
    if weight is not None and not 0.0 <= weight <= 1.0:
        raise ConfigError(f"--weight must lie in [0, 1], got {weight}")
    if rrf_k < 0:
        raise ConfigError(f"--rrf-k must be >= 0, got {rrf_k}")
    if not 1 <= k <= n_items:
        raise ConfigError(f"--k must be between 1 and the number of items ({n_items}), got {k}")


def _topk_table(view: str, user_ids, item_ids, indices: np.ndarray, scores: np.ndarray) -> pa.Table:
    """The ``topk`` rows of a view; entries scored ``-inf`` (masked fillers) are dropped."""
    n_users, k = indices.shape
    keep = np.isfinite(scores).ravel()
    return pa.table(
        {
            "view": pa.array([view] * int(keep.sum()), pa.string()),
            "user_id": pa.array(np.repeat(np.asarray(user_ids, dtype=object), k)[keep], pa.string()),
            "rank": pa.array(np.tile(np.arange(1, k + 1, dtype=np.int32), n_users)[keep]),
            "item_id": pa.array(np.asarray(item_ids, dtype=object)[indices.ravel()][keep], pa.string()),
            "score": pa.array(scores.ravel()[keep].astype(np.float64)),
            "user_idx": pa.array(np.repeat(np.arange(n_users, dtype=np.int32), k)[keep]),
            "item_idx": pa.array(indices.ravel()[keep].astype(np.int32)),
        }
    )


def fuse(
    ws: Workspace,
    views: str | Sequence[str],
    method: str,
    view: str,
    *,
    weight: float | None = None,
    norm: str = "zscore",
    rrf_k: float = DEFAULT_RRF_K,
    fits: int = 1,
    fold_in: bool = False,
    k: int = 100,
    exclude: str = DEFAULT_EXCLUDE,
    device: str = "auto",
    chunk_size: int | None = None,
) -> FuseResult:
    """Fuse two views (``ranker``: two or more) into ``view`` with ``method`` and write its ``topk`` (and, for
    concat, embeddings)."""
    import torch

    names = parse_views(views, method)
    view_a, view_b = names[0], names[1]
    if problem := fits_unsuited(method, fits):
        raise ConfigError(f"--{problem}")
    given = FuseOptions.changed({"weight": weight, "norm": norm, "rrf_k": rrf_k, "fold_in": fold_in})
    if unsuited := options_unsuited(method, given):
        raise ConfigError(f"--{unsuited[0].replace('_', '-')} {unsuited[1]}")
    if problem := fold_in_unsuited(fold_in, exclude):
        raise ConfigError(f"--fold-in {problem}")
    check_new_view_name(view)
    check_writable(ws, view, FUSED, f"complement fuse --method {method}")
    # the files every path reads (the library and `run` call this, not only the CLI)
    check_tables(ws, "items", "users", "interactions", "embeddings", views=list(names))
    with_vectors = set(ws.views("user")) & set(ws.views("item"))
    if (
        method in LIST_FUSION_METHODS
        and not {view_a, view_b} <= with_vectors
        and {view_a, view_b} <= set(ws.parts("topk"))
    ):
        # a list view (imported, or fused by rank) has no vectors: fuse the two stored lists instead
        from ..interop.fuse_lists import fuse_lists

        check_tables(ws, "topk", views=[view_a, view_b])
        rows = fuse_lists(
            ws,
            view_a,
            view_b,
            method,
            view,
            weight=0.5 if weight is None else weight,
            norm=norm,
            rrf_k=rrf_k,
            k=k,
            exclude=exclude,
        )
        message(f"fused the stored lists of {view_a} + {view_b} with {method} into view '{view}': {rows:,} topk rows")
        return FuseResult(
            view=view, method=method, rows=rows, weight=0.5 if weight is None and method == "score" else weight
        )
    ws.require("items", "users", "interactions")
    item_ids, user_ids = ws.item_ids(), ws.user_ids()
    _check_settings(method, view, names, weight, norm, rrf_k, k, exclude, len(item_ids))
    torch_device = resolve_device(device)
    vectors = [_read_view(ws, name, method) for name in names]
    (user_a, item_a), (user_b, item_b) = vectors[0], vectors[1]
    params = {"views": list(names), "method": method, "k": k, "exclude": exclude, "device": str(torch_device)}
    params.update(
        {"norm": norm, "weight": weight}
        if method == "score"
        else {"weight": weight}
        if method == "cca"
        else {"rrf_k": rrf_k}
        if method == "rrf"
        else {"fits": fits, **({"fold_in": True} if fold_in else {})}  # recorded as before unless given
        if method == "ranker"
        else {}
    )

    settings = {key: value for key, value in params.items() if key not in ("views", "method", "device")}
    refresh = fuse_command(names, method, view, settings)
    record_in = RunRecord(
        step="fuse",
        view=view,
        params=params,
        made_by=refresh,
        inputs=[*(f"embeddings/{name}" for name in names), "interactions", "items#ids", "users#ids"],
    )
    with recorded(ws, record_in) as record:
        result = FuseResult(view=view, method=method, rows=0)
        if method == "concat":
            from ..scoring import write_topk

            ws.write_vectors(view, "item", item_ids, norm_concat_norm(item_a, item_b))
            ws.write_vectors(view, "user", user_ids, norm_concat_norm(user_a, user_b))
            result.rows = write_topk(ws, view, k=k, exclude=exclude, device=device, made_by=refresh)
        else:
            tensors = [(torch.from_numpy(u).to(torch_device), torch.from_numpy(i).to(torch_device)) for u, i in vectors]
            n_users, n_items = len(user_ids), len(item_ids)
            seen = SeenMask(n_users, n_items, ws.interaction_indices(EXCLUDE_SPLITS[exclude]))
            if method in LEARNED_METHODS:
                learned = learned_topk(
                    ws,
                    tensors,
                    method,
                    k,
                    exclude=EXCLUDE_SPLITS[exclude],
                    device=torch_device,
                    chunk_size=chunk_size,
                    fits=fits,
                    fold_in=fold_in,
                )
                indices, scores, result.fit = learned.indices, learned.scores, learned.metrics
            elif method in ("score", "cca"):
                if weight is None:
                    train = SeenMask(n_users, n_items, ws.interaction_indices(("train",)))
                    valid = SeenMask(n_users, n_items, ws.interaction_indices(("valid",)))
                    weight, result.validation_recall = tune_weight(
                        tensors,
                        train=train,
                        valid=valid,
                        norm=norm if method == "score" else "zscore",  # cca's parts are on the z-score scale
                        k=TUNING_K,
                        grid=WEIGHT_GRID,
                        device=torch_device,
                        chunk_size=chunk_size,
                    )
                    message(
                        f"tuned weight w = {weight} on validation Recall@{TUNING_K} = "
                        f"{result.validation_recall[weight]:.4f}"
                    )
                if method == "cca":
                    indices, scores, result.fit = _cca(ws, tensors, k, weight, seen, torch_device, chunk_size)
                    result.fit["weight_tuned"] = bool(result.validation_recall)
                else:
                    result.weight = weight
                    indices, scores = score_fusion_topk(
                        tensors, k, weight=weight, norm=norm, seen=seen, device=torch_device, chunk_size=chunk_size
                    )
            else:
                indices, scores = rrf_topk(
                    tensors, k, rrf_k=rrf_k, seen=seen, device=torch_device, chunk_size=chunk_size
                )
            if view in ws.parts("embeddings"):
                ws.delete_part("embeddings", view)  # stale vectors would disagree with this topk
            table = _topk_table(view, user_ids, item_ids, indices, scores)
            ws.write_table("topk", table, part=view)
            result.rows = table.num_rows
        record.rows = result.rows
        if result.fit:
            record.metrics = result.fit
        if result.weight is not None:
            record.metrics = {
                "weight": result.weight,
                "tuned": bool(result.validation_recall),
                f"validation_recall@{TUNING_K}": {str(w): r for w, r in result.validation_recall.items()},
            }
    message(f"fused {' + '.join(names)} with {method} into view '{view}': {result.rows:,} topk rows")
    return result


def _cca(ws: Workspace, tensors, k: int, weight: float, seen: SeenMask, device, chunk_size: int | None):
    """Shared + private fusion (:mod:`.cca`): the subspace from the item vectors, ``(m, lam_A, lam_B)``
    tuned on validation Recall@20 with train masked, then the list with ``seen`` masked."""
    n_users, n_items = seen.n_users, seen.n_items
    space = shared_subspace(tensors[0][1].cpu().numpy(), tensors[1][1].cpu().numpy())
    train = SeenMask(n_users, n_items, ws.interaction_indices(("train",)))
    valid = SeenMask(n_users, n_items, ws.interaction_indices(("valid",)))
    fit = tune_cca(
        tensors, space, weight=weight, train=train, valid=valid, k=TUNING_K, device=device, chunk_size=chunk_size
    )
    message(
        f"cca: dimension {fit.dimension}, lambda_a {fit.lambda_a}, lambda_b {fit.lambda_b} "
        f"(w = {weight}) on validation Recall@{TUNING_K} = {fit.validation_recall:.4f}"
    )
    indices, scores = cca_topk(
        tensors,
        space,
        k,
        weight=weight,
        dimension=fit.dimension,
        lambda_a=fit.lambda_a,
        lambda_b=fit.lambda_b,
        seen=seen,
        device=device,
        chunk_size=chunk_size,
    )
    return indices, scores, fit.metrics(weight)
