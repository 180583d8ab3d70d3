"""``fusion``: the paper's dual-branch model (Wang et al., 2026) — fuse the views, do not align them.

- semantic branch: ``s_i = W t̂_i`` for item i (``t̂`` = L2-normalised text vector, ``W`` linear d→64,
  no bias) and ``s_u = W mean_{i ∈ train(u)} t̂_i`` for user u;
- collaborative branch: 64-d ID embeddings smoothed by LightGCN over the train graph (2 layers), ``c``;
- fused vector ``f = normalise([normalise(s), normalise(c)])`` for users and items alike, so the
  score is ``f_u · f_i = (cos(s_u, s_i) + cos(c_u, c_i)) / 2``;
- one InfoNCE loss on the fused score (τ = 0.15): for each (u, i⁺) of a batch, 512 items are
  sampled uniformly and the 256 hardest (highest fused score, the positive itself excluded) are kept
  as that user's negatives. No alignment loss ties the two branches together, so each keeps its
  private signal.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from ..graph import BipartiteGraph
from ..train import TrainData
from .base import TorchRecommender
from .semantic import require_text, user_mean_text


def hardest_columns(scores: np.ndarray, kept: int, masked: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """int64 ``[B, kept]``: each row's columns of its ``kept`` highest scores once the ``masked``
    (row, column) pairs are set to -inf, in column order; among entries tied at the cut-off the
    lowest columns (ties are duplicate candidates, i.e. the same item, so any choice gives the same loss).

    One ``np.partition`` finds each row's cut-off (SIMD introselect: about 3x faster than
    ``torch.topk`` or ``np.argpartition`` on 512-wide rows) and a compare selects the columns."""
    n_rows, width = scores.shape
    if kept >= width:
        return np.tile(np.arange(width, dtype=np.int64), (n_rows, 1))
    selectable = scores.copy()
    selectable[masked] = -np.inf
    cut = np.partition(selectable, width - kept, axis=1)[:, width - kept]
    keep = selectable >= cut[:, None]
    extra = keep.sum(axis=1) - kept
    rows = np.flatnonzero(extra)
    if rows.size:  # more than `kept` at or above the cut: drop the highest-column ties
        tied = selectable[rows] == cut[rows, None]
        allowed = tied.sum(axis=1) - extra[rows]
        keep[rows] &= ~(tied & (np.cumsum(tied, axis=1) > allowed[:, None]))
    return np.nonzero(keep)[1].reshape(n_rows, kept)


def matches(positive_items: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, columns)`` where ``candidates[column] == positive_items[row]``, without the ``B x S``
    comparison: a row's positive is among the candidates only for a few rows."""
    order = np.argsort(candidates, kind="stable")
    first = np.searchsorted(candidates[order], positive_items, side="left")
    last = np.searchsorted(candidates[order], positive_items, side="right")
    counts = last - first
    rows = np.repeat(np.arange(len(positive_items)), counts)
    starts = np.repeat(first - (np.cumsum(counts) - counts), counts)
    return rows, order[starts + np.arange(len(rows))]


def hard_negative_info_nce(
    user: torch.Tensor,
    positive: torch.Tensor,
    candidate: torch.Tensor,
    positive_items: torch.Tensor,
    candidates: torch.Tensor,
    *,
    kept: int,
    temperature: float,
) -> torch.Tensor:
    """InfoNCE with per-user hard negatives: of the ``S`` shared candidate items, each row keeps the
    ``kept`` highest-scoring ones (its own positive excluded) as negatives.

    ``user``, ``positive`` [B, d] and ``candidate`` [S, d] are unit vectors; ``positive_items`` [B]
    and ``candidates`` [S] their item indices. On the CPU the positives are found among the
    candidates by a sorted search (a few rows have one) rather than a ``B x S`` comparison, and the
    selection is :func:`hardest_columns`."""
    scores = user @ candidate.T
    kept = min(kept, scores.shape[1])
    with torch.no_grad():
        if scores.device.type == "cpu":
            masked = matches(positive_items.numpy(), candidates.numpy())
            top = torch.from_numpy(hardest_columns(scores.detach().numpy(), kept, masked))
            is_positive = torch.zeros(scores.shape, dtype=torch.bool)
            is_positive[masked] = True
        else:
            is_positive = candidates.unsqueeze(0) == positive_items.unsqueeze(1)
            top = scores.detach().masked_fill(is_positive, float("-inf")).topk(kept, dim=1, sorted=False).indices
        # a masked positive is among the kept only when a row has fewer than `kept` other candidates
        positive_kept = is_positive.gather(1, top)
    negative_scores = scores.gather(1, top)
    if bool(positive_kept.any()):
        negative_scores = negative_scores.masked_fill(positive_kept, float("-inf"))
    positive_scores = (user * positive).sum(1, keepdim=True)
    logits = torch.cat([positive_scores, negative_scores], 1) / temperature
    return F.cross_entropy(logits, torch.zeros(len(user), dtype=torch.long, device=user.device))


def norm_concat_norm(semantic: torch.Tensor, collaborative: torch.Tensor) -> torch.Tensor:
    """``normalise([normalise(s), normalise(c)])`` row by row (``F.normalize``'s eps), as one scale
    per half: each half's norm is known after the first normalisation, so the second needs no pass
    over the concatenated rows."""
    eps = 1e-12
    s_length, c_length = semantic.norm(dim=1, keepdim=True), collaborative.norm(dim=1, keepdim=True)
    s_norm, c_norm = s_length.clamp_min(eps), c_length.clamp_min(eps)
    # lengths of the normalised halves: 1, or below 1 for a (near-)zero row as in F.normalize
    total = ((s_length / s_norm).square() + (c_length / c_norm).square()).sqrt().clamp_min(eps)
    return torch.cat([semantic / (s_norm * total), collaborative / (c_norm * total)], 1)


class DualBranchFusion(TorchRecommender):
    name = "fusion"
    needs_text = True
    item_text: torch.Tensor  # buffers and the projection, set in build()
    user_text: torch.Tensor
    semantic: torch.nn.Linear
    defaults: ClassVar[dict] = {
        "dim": 64,
        "layers": 2,
        "lr": 5e-3,
        "batch_size": 4096,
        "reg": 1e-5,
        "epochs": 200,
        "min_epochs": 30,
        "patience": 10,
        "eval_every": 5,
        "temperature": 0.15,
        "negatives": 256,
    }
    SAMPLED_PER_KEPT = 2  # 512 sampled candidates for the 256 kept hard negatives

    def build(self, data: TrainData, device: torch.device) -> None:
        text = F.normalize(torch.from_numpy(require_text(data, self.name)), dim=1)
        self.register_buffer("item_text", text.to(device))
        self.register_buffer("user_text", user_mean_text(text, data).to(device))
        generator = torch.Generator().manual_seed(self.config.seed)
        self.semantic = torch.nn.Linear(text.shape[1], self.config.dim, bias=False)
        torch.nn.init.normal_(self.semantic.weight, std=text.shape[1] ** -0.5, generator=generator)
        self.graph = BipartiteGraph.from_pairs(
            data.n_users, data.n_items, *data.train, device=device, dtype=self.dtype_on(device)
        )
        self.user_embedding = torch.nn.Embedding(data.n_users, self.config.dim)
        self.item_embedding = torch.nn.Embedding(data.n_items, self.config.dim)
        torch.nn.init.normal_(self.user_embedding.weight, std=0.1, generator=generator)
        torch.nn.init.normal_(self.item_embedding.weight, std=0.1, generator=generator)

    def branches(self) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
        """``((s_users, s_items), (c_users, c_items))``, each L2-normalised."""
        semantic = (
            F.normalize(self.semantic(self.user_text), dim=1),
            F.normalize(self.semantic(self.item_text), dim=1),
        )
        users, items = self.collaborative()
        return semantic, (F.normalize(users, dim=1), F.normalize(items, dim=1))

    def collaborative(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The collaborative branch before normalisation: ID embeddings after LightGCN smoothing."""
        users, items = self.user_embedding.weight, self.item_embedding.weight
        if self.config.layers > 0:
            users, items = self.graph.propagate(users, items, self.config.layers)
        return users, items

    def propagate(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Fused user and item vectors: ``normalise([s, c])`` (Norm-Concat-Norm)."""
        c_users, c_items = self.collaborative()
        return (
            norm_concat_norm(self.semantic(self.user_text), c_users),
            norm_concat_norm(self.semantic(self.item_text), c_items),
        )

    def batch_loss(self, rows: np.ndarray, generator: torch.Generator) -> torch.Tensor:
        # the graph must be propagated whole, but the semantic branch and every normalisation are
        # computed for the batch's users, sampled candidates and positives only (row-wise operations
        # commute with selecting rows), candidates and positives in one projection
        device = self.item_text.device
        users, positives = self.batch_pairs(rows, device)
        sampled = self.SAMPLED_PER_KEPT * self.config.negatives
        candidates = self.sampled_items(sampled, generator, device)
        c_users, c_items = self.collaborative()
        items = torch.cat([candidates, positives])
        fused_items = norm_concat_norm(
            self.semantic(self.item_text.index_select(0, items)), c_items.index_select(0, items)
        )
        fused_users = norm_concat_norm(
            self.semantic(self.user_text.index_select(0, users)), c_users.index_select(0, users)
        )
        loss = hard_negative_info_nce(
            fused_users,
            fused_items[sampled:],
            fused_items[:sampled],
            positives,
            candidates,
            kept=min(self.config.negatives, sampled),
            temperature=self.config.temperature,
        )
        ego = self.user_embedding(users).pow(2).sum() + self.item_embedding(positives).pow(2).sum()
        return loss + self.config.reg * ego / (2 * len(rows))
