"""Training data, mini-batch sampling, validation Recall@K, early stopping and the fit loop.

The loop is shared by every torch model (:class:`complement.embed.models.base.TorchRecommender`):
one optimiser step per mini-batch of train pairs, validation Recall@20 every ``eval_every`` epochs,
early stopping with patience counted in *evaluations* and never before ``min_epochs`` (LightGCN's
validation curve on ml-100k peaks at epoch 1, dips, then climbs for hundreds of epochs — docs/design.md),
and the best state restored at the end.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..errors import ConfigError, DataError, WorkspaceError

if TYPE_CHECKING:
    from ..workspace import Workspace


@dataclass
class TrainData:
    """Index-space training data: pairs are (user_idx, item_idx) int64 arrays."""

    n_users: int
    n_items: int
    train: tuple[np.ndarray, np.ndarray]
    valid: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    test: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    text_vectors: np.ndarray | None = None  # [n_items, d] float32, rows in item_idx order

    def item_counts(self) -> np.ndarray:
        """Train interactions per item (popularity)."""
        return np.bincount(self.train[1], minlength=self.n_items)


def load_train_data(ws: Workspace, text_view: str | None = None) -> TrainData:
    """Read users, items and the train/valid/test pairs; with ``text_view``, also its item vectors."""
    ws.require("items", "users", "interactions")
    n_users, n_items = len(ws.user_ids()), len(ws.item_ids())
    data = TrainData(
        n_users,
        n_items,
        ws.interaction_indices(("train",)),
        ws.interaction_indices(("valid",)),
        ws.interaction_indices(("test",)),
    )
    if len(data.train[0]) == 0:
        raise DataError("the train split is empty: nothing to train on (check the interactions' split column)")
    if text_view is not None:
        if text_view not in ws.views("item"):
            raise WorkspaceError(f"no item vectors in view '{text_view}': run `complement embed` first (or pass --text-view NAME)")
        _, data.text_vectors = ws.read_vectors(text_view, "item")
    return data


# ---- sampling -------------------------------------------------------------------------------------
def pair_keys(users: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    """Sorted unique ``user * n_items + item`` keys, for fast membership tests."""
    return np.unique(np.asarray(users, np.int64) * n_items + np.asarray(items, np.int64))


def uniform_negatives(rng: np.random.Generator, users: np.ndarray, n_items: int, positive_keys: np.ndarray, rounds: int = 3) -> np.ndarray:
    """One uniformly drawn item per user, redrawn (up to ``rounds`` times) where it is a train positive."""
    negatives = rng.integers(0, n_items, size=len(users))
    for _ in range(rounds):
        keys = users * n_items + negatives
        position = np.minimum(np.searchsorted(positive_keys, keys), len(positive_keys) - 1)
        clash = positive_keys[position] == keys
        if not clash.any():
            break
        negatives[clash] = rng.integers(0, n_items, size=int(clash.sum()))
    return negatives


def epoch_batches(rng: np.random.Generator, n_pairs: int, batch_size: int) -> list[np.ndarray]:
    """A shuffled partition of ``range(n_pairs)`` into batches of ``batch_size``."""
    order = rng.permutation(n_pairs)
    return [order[start : start + batch_size] for start in range(0, n_pairs, batch_size)]


# ---- evaluation -----------------------------------------------------------------------------------
def _csr_rows(users: np.ndarray, items: np.ndarray, n_users: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(users, kind="stable")
    indptr = np.zeros(n_users + 1, np.int64)
    np.cumsum(np.bincount(users, minlength=n_users), out=indptr[1:])
    return indptr, np.asarray(items, np.int64)[order]


#: validation Recall@20 during training is computed on at most this many users with validation items,
#: a fixed uniform sample (seed VALID_SAMPLE_SEED, the same for every model and training seed); datasets
#: with fewer validation users (ml-100k, Scientific) are evaluated on all of them, exactly as before
VALID_SAMPLE_USERS = 10_000
VALID_SAMPLE_SEED = 0


def validation_users(truth_users: np.ndarray, size: int, seed: int = VALID_SAMPLE_SEED) -> np.ndarray:
    """A sorted uniform sample (without replacement) of ``size`` of the distinct ``truth_users``;
    all of them when ``size`` is 0 or covers them. Deterministic for a seed."""
    users = np.unique(np.asarray(truth_users, np.int64))
    if size <= 0 or size >= len(users):
        return users
    return np.sort(np.random.default_rng(seed).choice(users, size=size, replace=False))


def _seen_columns(seen_ptr: np.ndarray, seen_items: np.ndarray, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(row, item)`` pairs of the seen items of ``users`` (rows index ``users``), without a Python loop."""
    counts = seen_ptr[users + 1] - seen_ptr[users]
    rows = np.repeat(np.arange(len(users)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, seen_items[np.repeat(seen_ptr[users], counts) + offsets]


@torch.no_grad()
def recall_at_k(
    user_vecs: torch.Tensor,
    item_vecs: torch.Tensor,
    seen: tuple[np.ndarray, np.ndarray],
    truth: tuple[np.ndarray, np.ndarray],
    k: int = 20,
    chunk_size: int = 4096,
    users: np.ndarray | None = None,
) -> float:
    """Mean Recall@k = |top-k ∩ T(u)| / |T(u)| over users with non-empty truth ``T(u)`` (the set of
    the user's distinct truth items, as the ``metrics`` diagnostic counts it); with ``users``, over
    those of them that are in ``users`` only (a validation sample, :func:`validation_users`).

    Full ranking: score = user · item over every item, ``seen`` pairs masked to -inf, computed in
    chunks of ``chunk_size`` users (memory O(chunk_size × n_items))."""
    n_users, n_items = user_vecs.shape[0], item_vecs.shape[0]
    truth_users = np.unique(truth[0])
    if users is not None:
        truth_users = np.intersect1d(truth_users, np.asarray(users, np.int64))
    if len(truth_users) == 0:
        return 0.0
    k = min(k, n_items)
    unique_keys = pair_keys(truth[0], truth[1], n_items)  # a repeated (user, item) test pair counts once
    truth_keys = torch.from_numpy(unique_keys).to(user_vecs.device)
    truth_count = np.bincount(unique_keys // n_items, minlength=n_users)
    if user_vecs.device.type == "cpu" and bool(torch.isfinite(user_vecs).all()) and bool(torch.isfinite(item_vecs).all()):
        return _recall_blocked(user_vecs, item_vecs, seen, truth_users, truth_keys, truth_count, k)
    seen_ptr, seen_items = _csr_rows(seen[0], seen[1], n_users)
    hits_total = 0.0
    for start in range(0, len(truth_users), chunk_size):
        users = truth_users[start : start + chunk_size]
        scores = user_vecs[torch.from_numpy(users).to(user_vecs.device)] @ item_vecs.T
        rows, cols = _seen_columns(seen_ptr, seen_items, users)
        scores[torch.from_numpy(rows).to(scores.device), torch.from_numpy(cols).to(scores.device)] = -torch.inf
        top = scores.topk(k, dim=1).indices
        keys = torch.from_numpy(users).to(top.device).unsqueeze(1) * n_items + top
        position = torch.searchsorted(truth_keys, keys).clamp_max(len(truth_keys) - 1)
        hits = (truth_keys[position] == keys).sum(1).cpu().numpy()
        hits_total += float((hits / truth_count[users]).sum())
    return hits_total / len(truth_users)


def _recall_blocked(user_vecs, item_vecs, seen, truth_users, truth_keys, truth_count, k: int) -> float:
    """:func:`recall_at_k` through the blocked exact top-K kernel (``complement.scoring.topk_indices``,
    ties by lower item index): about 2x faster than a dense ``torch.topk`` per chunk on Games."""
    from ..scoring import topk_indices

    seen_users, seen_items = np.asarray(seen[0], np.int64), np.asarray(seen[1], np.int64)
    keep = np.isin(seen_users, truth_users)
    local_seen = (np.searchsorted(truth_users, seen_users[keep]), seen_items[keep])
    top, _ = topk_indices(user_vecs[torch.from_numpy(truth_users)], item_vecs, k, seen=local_seen, pad=True)
    top = torch.from_numpy(np.asarray(top, np.int64))
    keys = torch.from_numpy(truth_users).unsqueeze(1) * item_vecs.shape[0] + top
    position = torch.searchsorted(truth_keys, keys).clamp_max(len(truth_keys) - 1)
    hits = ((truth_keys[position] == keys) & (top >= 0)).sum(1).numpy()  # -1: a padded slot, never a hit
    return float((hits / truth_count[truth_users]).sum()) / len(truth_users)


# ---- early stopping and the loop ------------------------------------------------------------------
@dataclass
class EarlyStopping:
    """Stop after ``patience`` evaluations without improvement, but never before ``min_epochs``."""

    patience: int = 10
    min_epochs: int = 50
    best_score: float = -np.inf
    best_epoch: int = 0
    evaluations_without_gain: int = 0

    def update(self, epoch: int, score: float) -> bool:
        """Record ``score`` at ``epoch``; True when it is a new best."""
        if score > self.best_score:
            self.best_score, self.best_epoch, self.evaluations_without_gain = score, epoch, 0
            return True
        self.evaluations_without_gain += 1
        return False

    def should_stop(self, epoch: int) -> bool:
        return epoch >= self.min_epochs and self.evaluations_without_gain >= self.patience


@dataclass
class FitResult:
    """What a fit did: epochs run, best validation Recall@20 and its epoch, seconds, loss history."""

    epochs_run: int = 0
    best_epoch: int = 0
    best_valid_recall: float | None = None
    train_seconds: float = 0.0
    history: list[dict] = field(default_factory=list)

    def metrics(self) -> dict:
        return {
            "epochs_run": self.epochs_run,
            "best_epoch": self.best_epoch,
            "best_valid_recall@20": self.best_valid_recall,
            "train_seconds": round(self.train_seconds, 3),
        }


def fit_loop(
    module: torch.nn.Module,
    batch_loss: Callable[[np.ndarray, torch.Generator], torch.Tensor],
    embeddings: Callable[[], tuple[torch.Tensor, torch.Tensor]],
    data: TrainData,
    config,
    device: torch.device,
    report: Callable[[dict], None] | None = None,
) -> FitResult:
    """Adam over shuffled mini-batches of train pairs; ``batch_loss(pair_rows, generator)`` gives a
    batch's loss, ``embeddings()`` the (user, item) vectors used for validation Recall@20."""
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.Adam(module.parameters(), lr=config.lr)
    stopper = EarlyStopping(config.patience, config.min_epochs)
    result = FitResult()
    has_valid = len(data.valid[0]) > 0
    sample = validation_users(data.valid[0], config.valid_users) if has_valid else None
    best_state = None
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        module.train()
        total, batches = 0.0, epoch_batches(rng, len(data.train[0]), config.batch_size)
        for rows in batches:
            loss = batch_loss(rows, generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(rows)
        entry = {"epoch": epoch, "loss": total / len(data.train[0])}
        result.epochs_run = epoch
        if has_valid and (epoch % config.eval_every == 0 or epoch == config.epochs):
            module.eval()
            users, items = embeddings()
            entry["valid_recall@20"] = recall_at_k(users, items, data.train, data.valid, 20, users=sample)
            if stopper.update(epoch, entry["valid_recall@20"]):
                best_state = copy.deepcopy(module.state_dict())
        result.history.append(entry)
        if report is not None:
            report(entry)
        if has_valid and stopper.should_stop(epoch):
            break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    result.train_seconds = time.perf_counter() - started
    result.best_epoch = stopper.best_epoch if has_valid else result.epochs_run
    result.best_valid_recall = stopper.best_score if has_valid and best_state is not None else None
    return result


# ---- the workspace step ---------------------------------------------------------------------------
#: where a model writes when --view is not given (default: the model name); the semantic model must not
#: overwrite the text vectors it reads, which `complement embed` writes to view 'semantic'
DEFAULT_VIEWS = {"semantic": "sem"}

def train_view(
    ws: Workspace,
    model: str,
    view: str | None = None,
    *,
    k: int = 100,
    exclude: str = "train",
    text_view: str = "semantic",
    device: str = "auto",
    **overrides,
) -> dict:
    """Train ``model`` on the workspace's train split and write view ``view`` (default: the model
    name): user and item vectors in ``embeddings``, the top-``k`` lists in ``topk``, one ``runs`` row.

    ``overrides`` are hyperparameters (``epochs``, ``dim``, ``lr`` …; None keeps the model default).
    Everything is validated before anything is written. Returns the run's metrics."""
    from ..checks import integer, train_overrides
    from ..device import resolve_device
    from ..progress import message
    from ..runs import RunRecord, recorded
    from ..scoring import exclude_splits, write_topk
    from ..tables import check_tables, check_view_name
    from .models import model_class

    cls = model_class(model)
    view = check_view_name(view or DEFAULT_VIEWS.get(model, model))
    if cls.needs_text and view == text_view:
        raise ConfigError(
            f"view '{view}' holds the text vectors {model} reads (--text-view {text_view}); write the model to another view, "
            "e.g. --view sem"
        )
    train_overrides(overrides)
    integer("--k", k, minimum=1)
    integer("--seed", overrides.get("seed"), minimum=0)
    integer("valid_users", overrides.get("valid_users"), minimum=0)
    check_view_name(text_view)
    exclude_splits(exclude)
    check_tables(ws, "items", "users", "interactions", *(("embeddings",) if cls.needs_text else ()), views=[text_view])
    torch_device = resolve_device(device)
    recommender = cls(_config(cls, overrides, str(torch_device)))
    data = load_train_data(ws, text_view if cls.needs_text else None)
    if k > data.n_items:
        raise DataError(f"k={k} is larger than the catalogue ({data.n_items} items); use --k {data.n_items} or less")
    params = {"model": model, **recommender.config.to_dict(), "k": k, "exclude": exclude}
    if cls.needs_text:
        params["text_view"] = text_view
    refresh = f"complement train {model} --view {view}"
    inputs = ["interactions", "items#ids", "users#ids"] + ([f"embeddings/{text_view}"] if cls.needs_text else [])
    record_in = RunRecord(
        step="train", view=view, params=params, seed=recommender.config.seed, inputs=inputs, made_by=refresh
    )
    # the vectors, their top-K lists and both runs rows are one commit: a crash leaves the old view whole
    with ws.transaction(view), recorded(ws, record_in) as record:
        result = recommender.fit(data, report=_reporter(model, message))
        metrics = result.metrics()
        metrics["test_recall@20"] = _test_recall(recommender, data, torch_device)
        ws.write_vectors(view, "user", ws.user_ids(), recommender.user_embeddings())
        ws.write_vectors(view, "item", ws.item_ids(), recommender.item_embeddings())
        record.rows = data.n_users + data.n_items
        record.metrics = metrics
        write_topk(ws, view, k=k, exclude=exclude, device=str(torch_device), made_by=refresh)
    message(
        f"trained {model} into view '{view}': {metrics['epochs_run']} epochs in {metrics['train_seconds']:.1f} s, "
        f"best valid Recall@20 {_fmt(metrics['best_valid_recall@20'])} (epoch {metrics['best_epoch']}), "
        f"test Recall@20 {_fmt(metrics['test_recall@20'])}"
    )
    return {"view": view, "model": model, **metrics}


def _config(cls, overrides: dict, device: str):
    from .models.base import TrainConfig

    # a model may extend TrainConfig (aligned-* add align_weight) through a ``config_class`` attribute
    return getattr(cls, "config_class", TrainConfig).with_overrides(cls.defaults, {**overrides, "device": device})


def _test_recall(recommender, data: TrainData, device: torch.device) -> float | None:
    """Test Recall@20 with train and valid items masked (how RecBole reports its test figures)."""
    if len(data.test[0]) == 0:
        return None
    users = torch.from_numpy(recommender.user_embeddings()).to(device)
    items = torch.from_numpy(recommender.item_embeddings()).to(device)
    seen = (np.concatenate([data.train[0], data.valid[0]]), np.concatenate([data.train[1], data.valid[1]]))
    return recall_at_k(users, items, seen, data.test, 20)


def _reporter(model: str, message: Callable[[str], None]) -> Callable[[dict], None]:
    def report(entry: dict) -> None:
        if "valid_recall@20" in entry:
            message(f"{model} epoch {entry['epoch']}: loss {entry['loss']:.4f}, valid Recall@20 {entry['valid_recall@20']:.4f}")

    return report


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"
