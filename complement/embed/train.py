"""Training data, mini-batch sampling, early stopping and the fit loop (validation Recall@K: :mod:`.validation`).

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
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..errors import ConfigError, DataError, WorkspaceError
from ..scoring.steps import DEFAULT_EXCLUDE
from .validation import VALID_SAMPLE_SEED, VALID_SAMPLE_USERS, pair_keys, recall_at_k, validation_users
from .views import DEFAULT_TEXT_VIEW, text_view_for

__all__ = [  # the evaluation helpers live in .validation; these names stay importable from here
    "VALID_SAMPLE_SEED",
    "VALID_SAMPLE_USERS",
    "EarlyStopping",
    "FitResult",
    "SeedBag",
    "TrainData",
    "bag_vectors",
    "epoch_batches",
    "fit_loop",
    "load_train_data",
    "pair_keys",
    "recall_at_k",
    "train_view",
    "uniform_negatives",
    "validation_users",
]

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
            raise WorkspaceError(
                f"no item vectors in view '{text_view}': run `complement embed` first (or pass --text-view NAME)"
            )
        _, data.text_vectors = ws.read_vectors(text_view, "item")
    return data


# ---- sampling -------------------------------------------------------------------------------------
def uniform_negatives(
    rng: np.random.Generator, users: np.ndarray, n_items: int, positive_keys: np.ndarray, rounds: int = 3
) -> np.ndarray:
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
    extra: dict = field(default_factory=dict)  # a model's own figures (EASE: the chosen weights and its grid)

    def metrics(self) -> dict:
        return {
            "epochs_run": self.epochs_run,
            "best_epoch": self.best_epoch,
            "best_valid_recall@20": self.best_valid_recall,
            "train_seconds": round(self.train_seconds, 3),
            **self.extra,
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
#: where a model writes when --view is not given (default: the model name); the trained semantic model
#: writes 'sem', so its name cannot be taken for the text vectors it reads (view 'text', `complement embed`)
DEFAULT_VIEWS = {"semantic": "sem"}


def refresh_command(model: str, view: str, *, k: int, exclude: str, text_view: str, bag: int, **overrides) -> str:
    """``complement train MODEL --view VIEW`` with every setting that is not the default, as flags: what a
    stale view's message tells one to run (the workspace's ``-w`` is added there)."""
    import shlex

    settings = {
        **{name: value for name, value in overrides.items() if value is not None},
        "k": None if k == 100 else k,
        "exclude": None if exclude == DEFAULT_EXCLUDE else exclude,
        "text_view": None if text_view == DEFAULT_TEXT_VIEW else text_view,
        "bag": None if bag == 1 else bag,
    }
    flags = "".join(
        f" --{name.replace('_', '-')} {shlex.quote(str(value))}"
        for name, value in settings.items()
        if value is not None
    )
    return f"complement train {model} --view {view}{flags}"


def train_view(
    ws: Workspace,
    model: str,
    view: str | None = None,
    *,
    k: int = 100,
    exclude: str = DEFAULT_EXCLUDE,
    text_view: str = DEFAULT_TEXT_VIEW,
    device: str = "auto",
    bag: int = 1,
    announce: bool = True,
    **overrides,
) -> dict:
    """Train ``model`` on the workspace's train split and write view ``view`` (default: the model
    name): user and item vectors in ``embeddings``, the top-``k`` lists in ``topk``, one ``runs`` row.

    ``overrides`` are hyperparameters (``epochs``, ``dim``, ``lr`` …; None keeps the model default).
    ``bag`` > 1 trains that many models, member j with seed ``seed + j * BAG_SEED_STEP``, and writes one
    view whose score is the mean of theirs (:func:`bag_vectors`); its metrics sum the members' epochs and
    seconds, give the bag's own validation Recall@20, and list each member's under ``members``.

    Everything is validated before anything is written. Returns the run's metrics, also said in one line
    on stderr unless ``announce`` is off (``complement train`` shows them as a table instead)."""
    from ..checks import SEED_MAX, integer, train_overrides
    from ..choices import BAG_SEED_STEP, MAX_BAG
    from ..device import resolve_device
    from ..progress import epoch_bar, message
    from ..runs import RunRecord, recorded
    from ..scoring import exclude_splits, write_topk
    from ..tables import check_new_view_name, check_tables, check_view_name
    from ..viewkind import TRAINED, check_writable
    from .models import model_class

    cls = model_class(model)
    view = check_new_view_name(view or DEFAULT_VIEWS.get(model, model))
    check_writable(ws, view, TRAINED, f"complement train {model}")
    check_view_name(text_view)
    if cls.needs_text:
        text_view = text_view_for(ws, text_view)
    if cls.needs_text and view == text_view:
        raise ConfigError(
            f"--text-view {text_view} is also the view {model} would write (--view {view}): --text-view names the "
            "text vectors it reads (made by `complement embed`, view 'text' by default) and --view the view it "
            "writes; give them different names"
        )
    train_overrides(overrides)
    integer("--k", k, minimum=1)
    integer("--bag", bag, minimum=1, maximum=MAX_BAG)
    check_view_name(text_view)
    exclude_splits(exclude)
    check_tables(ws, "items", "users", "interactions", *(("embeddings",) if cls.needs_text else ()), views=[text_view])
    torch_device = resolve_device(device)
    recommender = cls(_config(cls, overrides, str(torch_device)))
    last_seed = recommender.config.seed + BAG_SEED_STEP * (bag - 1)
    if last_seed > SEED_MAX:
        raise ConfigError(
            f"a bag of {bag} trains its last model with seed {recommender.config.seed} + {bag - 1} x {BAG_SEED_STEP} "
            f"= {last_seed}, above the largest seed {SEED_MAX}; use a smaller seed or bag"
        )
    data = load_train_data(ws, text_view if cls.needs_text else None)
    if k > data.n_items:
        raise DataError(f"k={k} is larger than the catalogue ({data.n_items} items); use --k {data.n_items} or less")
    params = {"model": model, **recommender.config.to_dict(), "k": k, "exclude": exclude}
    if bag > 1:  # absent for one model, so that a view trained before bags existed stays up to date
        params["bag"] = bag
    if cls.needs_text:
        params["text_view"] = text_view
    defaults = _config(cls, {}, str(torch_device))  # a flag that sets the model's own default is left out
    changed = {name: value for name, value in overrides.items() if value != getattr(defaults, name, None)}
    refresh = refresh_command(model, view, k=k, exclude=exclude, text_view=text_view, bag=bag, **changed)
    inputs = ["interactions", "items#ids", "users#ids"] + ([f"embeddings/{text_view}"] if cls.needs_text else [])
    record_in = RunRecord(
        step="train", view=view, params=params, seed=recommender.config.seed, inputs=inputs, made_by=refresh
    )
    # the vectors, their top-K lists and both runs rows are one commit: a crash leaves the old view whole
    with ws.transaction(view), recorded(ws, record_in) as record:
        members, fits = [], []
        max_epochs = recommender.config.epochs
        for j in range(bag):
            if j:
                seed = recommender.config.seed + BAG_SEED_STEP * j
                members.append(cls(_config(cls, {**overrides, "seed": seed}, str(torch_device))))
            else:
                members.append(recommender)
            label = model if bag == 1 else f"{model} {j + 1}/{bag}"
            with epoch_bar(label) as bar:  # on a terminal a bar; else a line per validation
                report = _reporter(label, message) if bar is None else (lambda entry: bar(entry, max_epochs))
                fits.append(members[-1].fit(data, report=report))
        fitted: Any = members[0] if bag == 1 else SeedBag(members)
        metrics = fits[0].metrics() if bag == 1 else fitted.metrics(fits, data, recommender.config.valid_users)
        metrics["test_recall@20"] = _test_recall(fitted, data, torch_device)
        ws.write_vectors(view, "user", ws.user_ids(), fitted.user_embeddings())
        ws.write_vectors(view, "item", ws.item_ids(), fitted.item_embeddings())
        record.rows = data.n_users + data.n_items
        record.metrics = metrics
        write_topk(ws, view, k=k, exclude=exclude, device=str(torch_device), made_by=refresh)
    if announce and bag > 1:
        message(
            f"trained a bag of {bag} {model} models into view '{view}': {metrics['epochs_run']} epochs in "
            f"{metrics['train_seconds']:.1f} s, valid Recall@20 {_fmt(metrics['best_valid_recall@20'])} (members "
            f"{', '.join(_fmt(m['best_valid_recall@20']) for m in metrics['members'])}), "
            f"test Recall@20 {_fmt(metrics['test_recall@20'])}"
        )
    elif announce and fits[0].extra.get("closed_form"):
        chosen = ", ".join(f"{name} {metrics[name]:g}" for name in ("l2", "text_weight") if name in metrics)
        message(
            f"fitted {model} into view '{view}' in {metrics['train_seconds']:.1f} s ({chosen}), "
            f"valid Recall@20 {_fmt(metrics['best_valid_recall@20'])}, test Recall@20 {_fmt(metrics['test_recall@20'])}"
        )
    elif announce:
        message(
            f"trained {model} into view '{view}': {metrics['epochs_run']} epochs in {metrics['train_seconds']:.1f} s, "
            f"best valid Recall@20 {_fmt(metrics['best_valid_recall@20'])} (epoch {metrics['best_epoch']}), "
            f"test Recall@20 {_fmt(metrics['test_recall@20'])}"
        )
    return {"view": view, "model": model, **metrics}


def bag_vectors(parts: list[np.ndarray], entity: str) -> np.ndarray:
    """One view's vectors from several views' (rows in the same order): side by side, the user vectors
    divided by their number, so that user · item is exactly the mean of the views' dot products."""
    scale = np.float32(len(parts)) if entity == "user" else np.float32(1)
    return np.ascontiguousarray(np.concatenate([p / scale for p in parts], axis=1), dtype=np.float32)


class SeedBag:
    """Models of one kind trained with different seeds, scored by their mean: the item vectors are the
    members' side by side, the user vectors the members' side by side divided by their number, so that
    user · item is exactly the mean of the members' dot products (no standardisation: one model's
    scores share a scale). The view is ``bag`` times as wide as one member."""

    def __init__(self, members: list) -> None:
        self.members = members  # trained: their vectors no longer change
        self._vectors: dict[str, np.ndarray] = {}

    def _bagged(self, entity: str) -> np.ndarray:
        # built once: the bag's validation recall, its test recall and the write all read them
        if entity not in self._vectors:
            parts = [m.user_embeddings() if entity == "user" else m.item_embeddings() for m in self.members]
            self._vectors[entity] = bag_vectors(parts, entity)
        return self._vectors[entity]

    def user_embeddings(self) -> np.ndarray:
        return self._bagged("user")

    def item_embeddings(self) -> np.ndarray:
        return self._bagged("item")

    def metrics(self, fits: list[FitResult], data: TrainData, valid_users: int) -> dict:
        """The members' epochs and seconds summed; the bag's validation Recall@20 (train masked, on the
        users the members' early stopping evaluated); each member's own metrics and seed."""
        members = [{"seed": m.config.seed, **fit.metrics()} for m, fit in zip(self.members, fits, strict=True)]
        valid = None
        if len(data.valid[0]):
            sample = validation_users(data.valid[0], valid_users)
            users, items = self.user_embeddings(), self.item_embeddings()
            valid = recall_at_k(users, items, data.train, data.valid, 20, users=sample)
        return {
            "epochs_run": sum(m["epochs_run"] for m in members),
            "best_epoch": None,
            "best_valid_recall@20": valid,
            "train_seconds": round(sum(fit.train_seconds for fit in fits), 3),
            "bag": len(members),
            "members": members,
        }


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
        if "setting" in entry:  # a grid point of a closed-form model (EASE)
            message(
                f"{model} {entry['setting']} ({entry['epoch']}/{entry['of']}): "
                f"valid Recall@20 {entry['valid_recall@20']:.4f}"
            )
        elif "valid_recall@20" in entry:
            message(
                f"{model} epoch {entry['epoch']}: loss {entry['loss']:.4f}, "
                f"valid Recall@20 {entry['valid_recall@20']:.4f}"
            )

    return report


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"
