"""Shared plus private fusion: a regularised CCA subspace of the two item spaces, plus each view's residual.

The subspace (closed form, from the item vectors only; the vectors are trained on train). For view A
with item vectors ``x_i`` (rows of ``[n_items, d_A]``), mean ``mu_A`` and covariance
``C_AA = cov(x) + eps * tr(cov(x)) / d_A * I`` (``eps = REGULARISATION``), and likewise for B, the whitened
cross-covariance ``M = C_AA^{-1/2} C_AB C_BB^{-1/2}`` has the SVD ``U diag(rho) V^T``; ``rho`` are the
canonical correlations and the columns of ``U`` / ``V`` the canonical directions in each view's whitened
space.

The maps. Item i of view A goes to ``a(i) = C_AA^{-1/2} (x_i - mu_A)``, user u (vector ``y_u``) to
``a~(u) = C_AA^{1/2} y_u``: the dual (inverse-transpose) of the item map, so that
``a~(u) . a(i) = y_u . x_i - y_u . mu_A`` is the view's own score up to a per-user constant. With
``U_m`` the first ``m`` canonical directions:

- ``shared_A(u, i) = (U_m^T a~(u)) . (U_m^T a(i))`` -- the part of A's score inside the shared subspace;
- ``private_A(u, i) = a~(u) . a(i) - shared_A(u, i)`` -- the residual, orthogonal to it;

and the same for B. Each view's parts are divided by the per-user standard deviation of its whole score
over the unmasked items (score fusion's z-score scale), and the fused score is

    w * (shared_A + lam_A * private_A) / sd_A + (1 - w) * (shared_B + lam_B * private_B) / sd_B

with ``w`` score fusion's weight (``--weight``, or tuned as in :mod:`.score`). ``lam_A = lam_B = 1``
ranks exactly like score fusion with weight ``w`` (any ``m``); ``m = 0`` leaves no shared part;
``w = 1, lam_A = 1`` is view A's ranking. ``m`` and ``lam_A, lam_B`` are chosen on the grid
``DIMENSIONS x LAMBDAS x LAMBDAS`` by validation Recall@20 with the train items masked (ties: nearest
score fusion, i.e. the smallest ``|lam_A - 1| + |lam_B - 1|``, then the smaller ``m``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..device import one_cpu_thread
from ..errors import ConfigError
from .kernels import SeenMask, default_chunk_size, recall_hits, topk_rows, truth_sizes, user_chunks

REGULARISATION = 1e-3
DIMENSIONS = (0, 2, 4, 8, 16, 32, 64, 128)
LAMBDAS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


@dataclass
class SharedSubspace:
    """The CCA of two item spaces: each view's whitening and canonical directions, and the correlations."""

    mean_a: np.ndarray
    mean_b: np.ndarray
    root_a: np.ndarray  # C_AA^{1/2} (maps users)
    root_b: np.ndarray
    inverse_root_a: np.ndarray  # C_AA^{-1/2} (maps items)
    inverse_root_b: np.ndarray
    directions_a: np.ndarray  # [d_A, r] orthonormal, r = min(d_A, d_B)
    directions_b: np.ndarray  # [d_B, r]
    correlations: np.ndarray  # [r], descending


def _float64(values) -> torch.Tensor:
    """A CPU float64 tensor of an array or tensor."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().to(torch.float64)
    return torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64))


def _roots(cov: torch.Tensor, regularisation: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(C^{1/2}, C^{-1/2})`` of the ridge-regularised covariance."""
    d = cov.shape[0]
    ridge = regularisation * max(float(torch.trace(cov)) / d, 1e-12)
    values, vectors = torch.linalg.eigh(cov + ridge * torch.eye(d, dtype=torch.float64))
    values = values.clamp(min=ridge)
    return (vectors * values.sqrt()) @ vectors.T, (vectors / values.sqrt()) @ vectors.T


def shared_subspace(items_a: np.ndarray, items_b: np.ndarray, regularisation: float = REGULARISATION) -> SharedSubspace:
    """Regularised CCA of two ``[n_items, d]`` matrices (rows: the same items), in float64.

    Computed with torch on one CPU thread, as the maps below: numpy's products and torch's on several threads
    split their sums by the thread count, which moved the fused scores' last bits with it."""
    with one_cpu_thread():
        x, y = _float64(items_a), _float64(items_b)
        mean_a, mean_b = x.mean(dim=0), y.mean(dim=0)
        x, y = x - mean_a, y - mean_b
        n = max(1, x.shape[0])
        root_a, inverse_a = _roots(x.T @ x / n, regularisation)
        root_b, inverse_b = _roots(y.T @ y / n, regularisation)
        u, rho, vt = torch.linalg.svd(inverse_a @ (x.T @ y / n) @ inverse_b, full_matrices=False)
        parts = (mean_a, mean_b, root_a, root_b, inverse_a, inverse_b, u, vt.T.contiguous(), rho)
    return SharedSubspace(*(part.numpy() for part in parts))


@dataclass
class _ViewMaps:
    users: torch.Tensor  # a~(u), [n_users, d]
    items: torch.Tensor  # a(i), [n_items, d]
    shared_users: torch.Tensor  # U^T a~(u), [n_users, r]
    shared_items: torch.Tensor  # U^T a(i), [n_items, r]


def _maps(space: SharedSubspace, views, device: torch.device) -> tuple[_ViewMaps, _ViewMaps]:
    out = []
    for (users, items), mean, root, inverse, directions in (
        (views[0], space.mean_a, space.root_a, space.inverse_root_a, space.directions_a),
        (views[1], space.mean_b, space.root_b, space.inverse_root_b, space.directions_b),
    ):
        with one_cpu_thread():  # the same bits on any thread count (shared_subspace)
            mapped_users = _float64(users) @ _float64(root)
            mapped_items = (_float64(items) - _float64(mean)) @ _float64(inverse)
            shared = _float64(directions)
            maps = (mapped_users, mapped_items, mapped_users @ shared, mapped_items @ shared)
        out.append(_ViewMaps(*(m.contiguous().to(device) for m in maps)))
    return out[0], out[1]


class _ChunkParts:
    """One user chunk: each view's whole and shared scores on the z-score scale (``w / sd`` folded in)."""

    def __init__(self, maps: tuple[_ViewMaps, _ViewMaps], weight: float, mask: torch.Tensor, start: int, stop: int):
        self.maps, self.mask, self.start, self.stop = maps, mask, start, stop
        self.scale = []
        self.whole = []
        count = (~mask).sum(dim=1, keepdim=True).clamp(min=1).to(torch.float64)
        for view, share in zip(maps, (weight, 1.0 - weight), strict=True):
            with one_cpu_thread():  # float64 sums split by the thread count on some CPUs (AMD EPYC, AVX2)
                whole = view.users[start:stop] @ view.items.T
            centred = whole.masked_fill(mask, 0.0)
            centred = (centred - centred.sum(dim=1, keepdim=True) / count).masked_fill_(mask, 0.0)
            sd = torch.linalg.vector_norm(centred, dim=1, keepdim=True) / count.sqrt()
            scale = share / torch.where(sd > 0, sd, torch.ones_like(sd))
            self.scale.append(scale)
            self.whole.append(whole * scale)

    def at_dimension(self, m: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(shared_A + shared_B, private_A, private_B)`` on the scaled parts for subspace dimension m."""
        shared = []
        for view, scale in zip(self.maps, self.scale, strict=True):
            m_view = min(m, view.shared_users.shape[1])
            users = view.shared_users[self.start : self.stop, :m_view]
            with one_cpu_thread():
                shared.append((users @ view.shared_items[:, :m_view].T) * scale)
        return shared[0] + shared[1], self.whole[0] - shared[0], self.whole[1] - shared[1]


def cca_combine(parts: tuple[torch.Tensor, ...], lambda_a: float, lambda_b: float, mask: torch.Tensor) -> torch.Tensor:
    """``shared + lam_A private_A + lam_B private_B`` with masked entries ``-inf``."""
    shared, private_a, private_b = parts
    fused = torch.add(shared, private_a, alpha=lambda_a).add_(private_b, alpha=lambda_b)
    return fused.masked_fill_(mask, float("-inf"))


def _dimensions(space: SharedSubspace, grid) -> list[int]:
    full = space.directions_a.shape[1]
    return sorted({min(m, full) for m in grid})


@dataclass
class CcaFit:
    dimension: int
    lambda_a: float
    lambda_b: float
    validation_recall: float
    correlations: list[float]

    def metrics(self, weight: float) -> dict:
        return {
            "weight": weight,
            "dimension": self.dimension,
            "lambda_a": self.lambda_a,
            "lambda_b": self.lambda_b,
            "validation_recall@20": self.validation_recall,
            "canonical_correlations": self.correlations,
        }


def tune_cca(
    views,
    space: SharedSubspace,
    *,
    weight: float,
    train: SeenMask,
    valid: SeenMask,
    k: int = 20,
    dimensions=DIMENSIONS,
    lambdas=LAMBDAS,
    device: torch.device,
    chunk_size: int | None = None,
) -> CcaFit:
    """The grid ``(m, lam_A, lam_B)`` with the best validation Recall@k, train items masked."""
    maps = _maps(space, views, device)
    dims = _dimensions(space, dimensions)
    grid = [(m, la, lb) for m in dims for la in lambdas for lb in lambdas]
    totals = dict.fromkeys(grid, 0.0)
    n_users = 0
    chunk_size = chunk_size or default_chunk_size(views[0][1].shape[0])
    for start, stop in user_chunks(views[0][0].shape[0], chunk_size):
        mask = train.block(start, stop, device)
        truth = valid.block(start, stop, device)
        sizes = truth_sizes(truth)
        chunk = _ChunkParts(maps, weight, mask, start, stop)
        # only users with validation items count; the grid is scored in float32 (half the cost of the
        # float64 parts, and a ranking difference only at float32 ties)
        rows = torch.nonzero(sizes > 0).flatten()
        truth, sizes, mask_rows = truth[rows], sizes[rows], mask[rows]
        evaluated = 0
        for m in dims:
            parts = tuple(part[rows].to(torch.float32) for part in chunk.at_dimension(m))
            for la in lambdas:
                for lb in lambdas:
                    top, _ = topk_rows(cca_combine(parts, la, lb, mask_rows), k)
                    hits, evaluated = recall_hits(top, truth, sizes)
                    totals[(m, la, lb)] += hits
        n_users += evaluated
    if n_users == 0:
        raise ConfigError("no user has validation items to tune the CCA fusion on")
    recall = {key: total / n_users for key, total in totals.items()}
    best = max(grid, key=lambda g: (round(recall[g], 12), -abs(g[1] - 1) - abs(g[2] - 1), -g[0]))
    full = space.directions_a.shape[1]
    return CcaFit(
        dimension=best[0],
        lambda_a=best[1],
        lambda_b=best[2],
        validation_recall=recall[best],
        correlations=[round(float(r), 4) for r in space.correlations[: min(best[0], full)]],
    )


def cca_topk(
    views,
    space: SharedSubspace,
    k: int,
    *,
    weight: float,
    dimension: int,
    lambda_a: float,
    lambda_b: float,
    seen: SeenMask,
    device: torch.device,
    chunk_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` items and fused scores per user (``-inf`` where fewer than k items are unmasked)."""
    maps = _maps(space, views, device)
    chunk_size = chunk_size or default_chunk_size(views[0][1].shape[0])
    indices, scores = [], []
    for start, stop in user_chunks(views[0][0].shape[0], chunk_size):
        mask = seen.block(start, stop, device)
        parts = _ChunkParts(maps, weight, mask, start, stop).at_dimension(dimension)
        top, values = topk_rows(cca_combine(parts, lambda_a, lambda_b, mask), k)
        indices.append(top.cpu().numpy())
        scores.append(values.cpu().numpy())
    return np.concatenate(indices), np.concatenate(scores)
