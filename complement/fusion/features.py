"""Features of users and of (user, candidate item) pairs for the learned fusions (``gate``, ``ranker``).

Everything here is known before evaluation: the two views' vectors, the train interactions (the
history the views were trained on) and the item text. The *masked* set (train while fitting on
validation, train + valid when writing the fused view) only decides which items are candidates and
the per-user score statistics, exactly as in score fusion.

User features (``USER_FEATURES``): log activity, mean log popularity of the history, the share of
history items with text, and each view's score margin (z-score of its top item minus that of its
20th), which says how sure the view is about the user.

Candidate features (``CANDIDATE_FEATURES``), over the union of the two views' top-``depth`` lists:
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

USER_FEATURES = ("log_activity", "history_log_popularity", "history_text_share", "margin_a", "margin_b")
CANDIDATE_FEATURES = (
    "z_a",
    "z_b",
    "log_rank_a",
    "log_rank_b",
    "top20_a",
    "top20_b",
    "log_popularity",
    "max_similarity_a",
    "max_similarity_b",
    "mean_similarity_a",
    "mean_similarity_b",
)
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
    """One user chunk's candidates, padded to ``2 * depth`` per user."""

    start: int
    stop: int
    items: torch.Tensor  # [chunk, 2*depth] int64 item indices
    valid: torch.Tensor  # [chunk, 2*depth] bool: a real, unmasked, non-duplicate candidate
    features: torch.Tensor  # [chunk, 2*depth, len(CANDIDATE_FEATURES)] float32
    margins: torch.Tensor  # [chunk, 2] float32: margin_a, margin_b
    z_a: torch.Tensor  # [chunk, n_items] z-scores (masked entries 0), for score fusion on the full row
    z_b: torch.Tensor
    mask: torch.Tensor  # [chunk, n_items] bool


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
    items) gives the similarity features."""
    (user_a, item_a), (user_b, item_b) = views
    unit_a, unit_b = (torch.nn.functional.normalize(v.to(torch.float32), dim=1) for v in (item_a, item_b))
    n_items = item_a.shape[0]
    depth = min(depth, n_items)
    chunk_size = chunk_size or default_chunk_size(n_items)
    log_n = float(np.log1p(n_items))
    log_pop = torch.from_numpy(np.log1p(item_popularity.astype(np.float32)) / max(1.0, log_n)).to(device)
    margin_at = min(MARGIN_RANK, n_items) - 1
    for start, stop in user_chunks(user_a.shape[0], chunk_size):
        mask = seen.block(start, stop, device)
        z_a = standardise(scores_block(user_a, item_a, start, stop), mask)
        z_b = standardise(scores_block(user_b, item_b, start, stop), mask)
        masked_a, masked_b = z_a.masked_fill(mask, float("-inf")), z_b.masked_fill(mask, float("-inf"))
        top_a, val_a = topk_rows(masked_a, depth)
        top_b, val_b = topk_rows(masked_b, depth)
        in_a = torch.zeros_like(mask)
        in_a.scatter_(1, top_a, True)
        items = torch.cat([top_a, top_b], dim=1)
        valid = torch.cat([torch.isfinite(val_a), torch.isfinite(val_b) & ~in_a.gather(1, top_b)], dim=1)
        rank_a = full_ranks(masked_a).to(torch.float32)
        rank_b = full_ranks(masked_b).to(torch.float32)
        ra, rb = rank_a.gather(1, items), rank_b.gather(1, items)
        features = torch.stack(
            [
                z_a.gather(1, items),
                z_b.gather(1, items),
                torch.log(ra) / log_n,
                torch.log(rb) / log_n,
                (ra <= MARGIN_RANK).to(torch.float32),
                (rb <= MARGIN_RANK).to(torch.float32),
                log_pop[items],
                *_similarities(unit_a, items, history, start, stop),
                *_similarities(unit_b, items, history, start, stop),
            ],
            dim=2,
        )[:, :, [0, 1, 2, 3, 4, 5, 6, 7, 9, 8, 10]]  # (max_a, mean_a, max_b, mean_b) -> CANDIDATE_FEATURES' order
        full_a, _ = topk_rows(masked_a, margin_at + 1)
        full_b, _ = topk_rows(masked_b, margin_at + 1)
        margins = torch.stack(
            [
                _margin(z_a, full_a),
                _margin(z_b, full_b),
            ],
            dim=1,
        )
        yield CandidateBlock(start, stop, items, valid, torch.nan_to_num(features), margins, z_a, z_b, mask)


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


def _margin(z: torch.Tensor, top: torch.Tensor) -> torch.Tensor:
    """z of the top item minus z of the last of ``top`` (0 where the user has too few items)."""
    first, last = z.gather(1, top[:, :1]), z.gather(1, top[:, -1:])
    return (first - last).squeeze(1)


class Standardiser:
    """Column means and standard deviations of the fitting rows, applied to any rows."""

    def __init__(self, rows: torch.Tensor):
        flat = rows.reshape(-1, rows.shape[-1])
        self.mean = flat.mean(dim=0)
        self.std = flat.std(dim=0).clamp(min=1e-6)

    def __call__(self, rows: torch.Tensor) -> torch.Tensor:
        return (rows - self.mean) / self.std
