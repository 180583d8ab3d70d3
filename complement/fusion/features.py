"""Features of users and of (user, candidate item) pairs for the learned fusions (``gate``, ``ranker``).

Everything here is known before evaluation: the views' vectors, the train interactions (the
history the views were trained on) and the item text. The *masked* set (train while fitting on
validation, train + valid when writing the fused view) only decides which items are candidates and
the per-user score statistics, exactly as in score fusion.

User features (``USER_FEATURES``): log activity, mean log popularity of the history, the share of
history items with text, and each view's score margin (z-score of its top item minus that of its
20th), which says how sure the view is about the user.

Candidate features (``CANDIDATE_FEATURES``; ``candidate_feature_names(n)`` for n views), over the union of
the views' top-``depth`` lists:
each view's per-user z-score and log rank (in its full ranking of the unmasked items), whether the
item is in that view's top 20, the item's log popularity, and its largest and mean cosine similarity to
the user's train items in each view's item space (what an item-to-item recommender on that view would
say, which the user's single vector may blur)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from .kernels import SeenMask, default_chunk_size, full_ranks, scores_block, topk_rows, user_chunks
from .score import standardise

STATIC_USER_FEATURES = ("log_activity", "history_log_popularity", "history_text_share")


def view_letters(n_views: int) -> str:
    """``a``, ``b``, ``c`` … : the suffixes of the per-view features."""
    return "abcdefghijklmnopqrstuvwxyz"[:n_views]


def user_feature_names(n_views: int) -> tuple[str, ...]:
    """The user features' columns for ``n_views`` views: the static three, then one margin per view."""
    return (*STATIC_USER_FEATURES, *(f"margin_{v}" for v in view_letters(n_views)))


def candidate_feature_names(n_views: int) -> tuple[str, ...]:
    """The candidate features' columns for ``n_views`` views, grouped by kind."""
    letters = view_letters(n_views)
    return (
        *(f"z_{v}" for v in letters),
        *(f"log_rank_{v}" for v in letters),
        *(f"top20_{v}" for v in letters),
        "log_popularity",
        *(f"max_similarity_{v}" for v in letters),
        *(f"mean_similarity_{v}" for v in letters),
    )


#: the columns for two views
USER_FEATURES = user_feature_names(2)
CANDIDATE_FEATURES = candidate_feature_names(2)

MARGIN_RANK = 20


@dataclass
class History:
    """What the user features need from the train split: item popularity and per-user history."""

    train: SeenMask
    item_popularity: np.ndarray  # train interactions per item
    item_has_text: np.ndarray  # bool per item

    def static_user_features(self) -> np.ndarray:
        """``[n_users, 3]``: log activity, mean log popularity of the history, share with text."""
        counts = np.diff(self.train.indptr).astype(np.float64)
        log_pop = np.log1p(self.item_popularity.astype(np.float64))
        starts = self.train.indptr[:-1]
        safe = np.maximum(counts, 1)
        sum_pop = np.add.reduceat(log_pop[self.train.items], starts) if len(self.train.items) else np.zeros_like(counts)
        sum_text = (
            np.add.reduceat(self.item_has_text[self.train.items].astype(np.float64), starts)
            if len(self.train.items)
            else np.zeros_like(counts)
        )
        # reduceat returns the element at a start for empty segments: zero them
        sum_pop = np.where(counts > 0, sum_pop, 0.0)
        sum_text = np.where(counts > 0, sum_text, 0.0)
        return np.stack([np.log1p(counts), sum_pop / safe, sum_text / safe], axis=1)


@dataclass
class CandidateBlock:
    """One user chunk's candidates, padded to ``n_views * depth`` per user."""

    start: int
    stop: int
    items: torch.Tensor  # [chunk, n_views*depth] int64 item indices
    valid: torch.Tensor  # [chunk, n_views*depth] bool: a real, unmasked, non-duplicate candidate
    features: torch.Tensor  # [chunk, n_views*depth, len(candidate_feature_names(n_views))] float64
    margins: torch.Tensor  # [chunk, n_views] float64: one margin per view
    z: list[torch.Tensor]  # per view [chunk, n_items] z-scores (masked entries 0), for score fusion on the full row
    mask: torch.Tensor  # [chunk, n_items] bool

    @property
    def z_a(self) -> torch.Tensor:
        return self.z[0]

    @property
    def z_b(self) -> torch.Tensor:
        return self.z[1]


def candidate_blocks(
    views,
    seen: SeenMask,
    item_popularity: np.ndarray,
    *,
    depth: int,
    device: torch.device,
    history: SeenMask,
    chunk_size: int | None = None,
) -> Iterator[CandidateBlock]:
    """Candidates and their features per user chunk, with ``seen`` masked; ``history`` (the train
    items) gives the similarity features. ``views`` is a list of two or more ``(user, item)`` vector
    pairs; the candidates are the union of their top-``depth`` lists, in view order (an item already
    listed by an earlier view is not valid again)."""
    # float64 throughout: a float32 product's last bits depend on the CPU's kernels, and the ranker's fit
    # amplifies them (docs/fusion.md, "Same lists on every CPU")
    items_64 = [item.to(torch.float64) for _, item in views]
    units = [torch.nn.functional.normalize(item, dim=1) for item in items_64]
    n_items = views[0][1].shape[0]
    depth = min(depth, n_items)
    # the default chunk holds two views' blocks; more views take proportionally fewer users
    chunk_size = chunk_size or max(1, default_chunk_size(n_items) * 2 // len(views))
    log_n = float(np.log1p(n_items))
    log_pop = torch.from_numpy(np.log1p(item_popularity.astype(np.float64)) / max(1.0, log_n)).to(device)
    margin_at = min(MARGIN_RANK, n_items) - 1
    for start, stop in user_chunks(views[0][0].shape[0], chunk_size):
        mask = seen.block(start, stop, device)
        zs = [
            standardise(scores_block(user[start:stop].to(torch.float64), item, 0, stop - start), mask)
            for (user, _), item in zip(views, items_64, strict=True)
        ]
        masked = [z.masked_fill(mask, float("-inf")) for z in zs]
        tops, valids = [], []
        listed = torch.zeros_like(mask)
        for row in masked:
            top, values = topk_rows(row, depth)
            valids.append(torch.isfinite(values) & ~listed.gather(1, top))
            listed.scatter_(1, top, True)
            tops.append(top)
        items = torch.cat(tops, dim=1)
        valid = torch.cat(valids, dim=1)
        ranks = [full_ranks(row).gather(1, items) for row in masked]
        similarities = [_similarities(unit, items, history, start, stop) for unit in units]
        features = torch.stack(
            [
                *(z.gather(1, items) for z in zs),
                *(torch.log(rank) / log_n for rank in ranks),
                *((rank <= MARGIN_RANK).to(torch.float64) for rank in ranks),
                log_pop[items],
                *(best for best, _ in similarities),
                *(mean for _, mean in similarities),
            ],
            dim=2,
        )
        margins = torch.stack(
            [_margin(z, *topk_rows(row, margin_at + 1)) for z, row in zip(zs, masked, strict=True)], dim=1
        )
        yield CandidateBlock(start, stop, items, valid, torch.nan_to_num(features), margins, zs, mask)


SIMILARITY_USERS = 128  # users per batched similarity product: [users, candidates, history, dim] stays small


def _similarities(
    unit_items: torch.Tensor, candidates: torch.Tensor, history: SeenMask, start: int, stop: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Largest and mean cosine of each candidate to the user's history items (0 without history)."""
    best, mean = [], []
    for lo_user in range(start, stop, SIMILARITY_USERS):
        hi_user = min(stop, lo_user + SIMILARITY_USERS)
        counts = torch.from_numpy(np.diff(history.indptr[lo_user : hi_user + 1]))
        width = max(1, int(counts.max()))
        padded = torch.zeros((hi_user - lo_user, width), dtype=torch.int64)
        present = torch.arange(width).unsqueeze(0) < counts.unsqueeze(1)
        padded[present] = torch.from_numpy(history.items[history.indptr[lo_user] : history.indptr[hi_user]])
        padded, present = padded.to(unit_items.device), present.to(unit_items.device).unsqueeze(1)
        cands = candidates[lo_user - start : hi_user - start]
        sims = torch.bmm(unit_items[cands], unit_items[padded].transpose(1, 2))  # [users, candidates, history]
        top = sims.masked_fill(~present, float("-inf")).amax(dim=2)
        has = (counts > 0).to(unit_items.device).unsqueeze(1)
        best.append(torch.where(has, top, torch.zeros_like(top)))
        mean.append(sims.masked_fill(~present, 0.0).sum(dim=2) / counts.clamp(min=1).to(sims).unsqueeze(1))
    return torch.cat(best), torch.cat(mean)


def _margin(z: torch.Tensor, top: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """z of the top item minus z of the last of ``top`` (0 where the user has fewer unmasked items than
    ``top`` holds: its last ``values`` entry is -inf)."""
    first, last = z.gather(1, top[:, :1]), z.gather(1, top[:, -1:])
    return torch.where(torch.isfinite(values[:, -1:]), first - last, torch.zeros_like(first)).squeeze(1)


class Standardiser:
    """Column means and standard deviations of the fitting rows (float64), applied to any rows."""

    def __init__(self, rows: torch.Tensor):
        flat = rows.reshape(-1, rows.shape[-1]).to(torch.float64)
        self.mean = flat.mean(dim=0)
        self.std = flat.std(dim=0).clamp(min=1e-6)

    def __call__(self, rows: torch.Tensor) -> torch.Tensor:
        return (rows - self.mean) / self.std

    def to(self, device: torch.device) -> Standardiser:
        moved = object.__new__(Standardiser)
        moved.mean, moved.std = self.mean.to(device), self.std.to(device)
        return moved
