"""Synthetic data with a planted shared-plus-private structure (the known-answer dataset).

The generative model (Wang et al., 2026: semantic and collaborative views share some latent factors
and each keeps private ones):

* every item *i* has shared factors ``S_i`` (``shared`` dims), semantic-private factors ``Ps_i``
  (``semantic_private`` dims) and collaborative-private factors ``Pc_i`` (``collab_private`` dims),
  all i.i.d. N(0, 1);
* every user *u* has preferences ``w_u`` ~ N(0, I) over the collaborative factors ``c_i = [S_i, Pc_i]``;
* item popularity is a Zipf prior over a random ranking of the items, ``log π_i = −pop_skew · log r_i``;
* user *u* interacts with ``n_u`` distinct items drawn without replacement from
  ``softmax_i(β · w_u·c_i / √d_c + log π_i)`` (Gumbel top-k), ``n_u = 5 + Gamma(2, (m−5)/2)`` rounded
  and clipped to ``[5, min(3m, items/2)]``, ``m = interactions_per_user``, β = ``preference_strength``;
* item text is written from topic words tied to ``[S_i, Ps_i]`` only
  (:func:`complement.data.vocabulary.item_text`), so a text encoder can recover the shared and
  semantic-private factors and none of ``Pc``.

Truth views (``embeddings``): ``truth_semantic`` = ``[S, Ps] Q_s`` (items) and ``truth_collab`` =
``[S, Pc] Q_c`` (items) and ``w Q_c`` (users), with ``Q_s``, ``Q_c`` independent random rotations
(so coordinates do not line up across views; rotations keep dot products, so the user·item scores
of ``truth_collab`` are exactly ``w_u·c_i``). The known answer: a linear map from ``truth_semantic`` to
``truth_collab`` explains a share ``shared / (shared + collab_private)`` of the target's variance
(R² uniform over dimensions, in the limit of many items).

Every random draw comes from its own stream of ``numpy.random.SeedSequence(seed)``, so the result is
deterministic under ``seed`` and, e.g., the text does not change when only the user count changes.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..checks import KEY_MAX
from ..checks import seed as check_seed
from ..errors import ConfigError, unknown_name
from .config import DATASET_KEYS, read_config
from .vocabulary import MAX_TEXT_FACTORS, item_text

MIN_PER_USER = 5
FIRST_TIMESTAMP = 1_600_000_000  # 2020-09-13, seconds
TIME_SPAN = 2 * 365 * 24 * 3600
_STREAMS = ("item_factors", "user_preferences", "popularity", "counts", "choices", "timestamps", "text", "rotations")


@dataclass(frozen=True)
class SynthConfig:
    """The knobs of the generator (CLI: ``complement synth DIR --users N ...``)."""

    users: int = 1000
    items: int = 600
    shared: int = 8
    semantic_private: int = 4
    collab_private: int = 4
    pop_skew: float = 1.0
    interactions_per_user: float = 25.0
    preference_strength: float = 3.0
    rotate: bool = True
    seed: int = 2020

    def validate(self, where: str | None = None) -> SynthConfig:
        """The config when every knob is in range, else a :class:`ConfigError` naming the knob: as the key of
        the table ``where`` (``[dataset].users``, for an experiment file or complement.toml), or as the flag of
        ``complement synth`` (``--users``) when ``where`` is None."""

        def name(knob: str) -> str:
            return f"{where}.{knob}" if where else f"--{knob.replace('_', '-')}"

        def need(ok: bool, text: str) -> None:
            if not ok:
                raise ConfigError(text)

        check_seed(name("seed"), self.seed)  # before anything is created: a seed numpy and the runs table both take
        need(self.users >= 1, f"{name('users')} must be at least 1, not {self.users}")
        need(self.items >= 20, f"{name('items')} must be at least 20, not {self.items}")
        for knob in ("users", "items"):  # user_idx and item_idx are 32-bit keys
            count = getattr(self, knob)
            need(count <= KEY_MAX + 1, f"{name(knob)} must be at most {KEY_MAX + 1} (32-bit keys), not {count}")
        for knob in ("shared", "semantic_private", "collab_private"):
            need(getattr(self, knob) >= 0, f"{name(knob)} must be 0 or more, not {getattr(self, knob)}")
        text_dims = self.shared + self.semantic_private
        need(
            1 <= text_dims <= MAX_TEXT_FACTORS,
            f"{name('shared')} + {name('semantic_private')} must be between 1 and {MAX_TEXT_FACTORS} (the topic pairs "
            f"of the vocabulary), not {text_dims}",
        )
        need(self.shared + self.collab_private >= 1, f"{name('shared')} + {name('collab_private')} must be at least 1")
        need(
            math.isfinite(self.pop_skew) and self.pop_skew >= 0,
            f"{name('pop_skew')} must be a finite number, 0 or more, not {self.pop_skew}",
        )
        need(
            math.isfinite(self.preference_strength) and self.preference_strength >= 0,
            f"{name('preference_strength')} must be a finite number, 0 or more, not {self.preference_strength}",
        )
        need(
            MIN_PER_USER <= self.interactions_per_user <= self.items / 2,
            f"{name('interactions_per_user')} must be between {MIN_PER_USER} and {name('items')}/2 = "
            f"{self.items / 2:g}, not {self.interactions_per_user:g}",
        )
        return self

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "[dataset]") -> SynthConfig:
        """The config of a ``[dataset]`` table (``where``: how messages name it) with ``kind = "synthetic"``: its
        keys are the fields of this class and, optionally, ``kind = "synthetic"`` itself. Any other key is refused
        with the known ones (a loader's key such as ``min_rating`` too: synthetic data is generated, not loaded),
        never ignored."""
        known = sorted(f.name for f in dataclasses.fields(cls))
        if values.get("kind", "synthetic") != "synthetic":
            raise ConfigError(f'{where}.kind must be "synthetic" for the generator\'s settings, not {values["kind"]!r}')
        for key in values:
            if key in known or key == "kind":
                continue
            if key in DATASET_KEYS:
                raise ConfigError(
                    f"{where}.{key} does not apply to a synthetic dataset: its data is generated, not loaded "
                    f"(its settings: kind, {', '.join(known)})"
                )
            raise ConfigError(f"{where}: {unknown_name('synthetic dataset setting', str(key), known)}")
        return cls(**{k: v for k, v in values.items() if k != "kind"}).validate(where)


@dataclass
class SyntheticData:
    """The generated tables and the planted truth (unrotated factors and the rotations)."""

    config: SynthConfig
    interactions: pa.Table  # user_id, item_id, ts, rating
    items: pa.Table  # item_id, title, text, description, genres
    user_ids: np.ndarray
    item_ids: np.ndarray
    shared: np.ndarray  # items x shared
    semantic_private: np.ndarray  # items x semantic_private
    collab_private: np.ndarray  # items x collab_private
    user_preferences: np.ndarray  # users x (shared + collab_private)
    popularity_logit: np.ndarray  # items, log of the Zipf prior
    semantic_rotation: np.ndarray
    collab_rotation: np.ndarray

    @property
    def truth_semantic(self) -> np.ndarray:
        """Item vectors of the semantic view: ``[S, Ps] Q_s``."""
        return np.hstack([self.shared, self.semantic_private]) @ self.semantic_rotation

    @property
    def truth_collab(self) -> np.ndarray:
        """Item vectors of the collaborative view: ``[S, Pc] Q_c``."""
        return np.hstack([self.shared, self.collab_private]) @ self.collab_rotation

    @property
    def truth_collab_users(self) -> np.ndarray:
        """User vectors of the collaborative view: ``w Q_c`` (so scores are ``w_u·c_i``)."""
        return self.user_preferences @ self.collab_rotation


def _ids(prefix: str, n: int) -> np.ndarray:
    width = len(str(n))
    return np.array([f"{prefix}{i + 1:0{width}d}" for i in range(n)], dtype=object)


def _rotation(rng: np.random.Generator, d: int, rotate: bool) -> np.ndarray:
    """A Haar-random orthogonal matrix (QR of a Gaussian with the signs fixed), or the identity."""
    if not rotate or d == 0:
        return np.eye(d)
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def _draw_interactions(
    cfg: SynthConfig, prefs: np.ndarray, collab: np.ndarray, log_prior: np.ndarray, rngs: dict
) -> tuple[np.ndarray, np.ndarray]:
    """(user_idx, item_idx) pairs: ``n_u`` distinct items per user by Gumbel top-k over the logits."""
    m = cfg.interactions_per_user
    cap = max(MIN_PER_USER, int(min(3 * m, cfg.items // 2)))
    extra = rngs["counts"].gamma(2.0, max(m - MIN_PER_USER, 0.0) / 2.0, size=cfg.users)
    counts = np.clip(np.rint(MIN_PER_USER + extra), MIN_PER_USER, cap).astype(np.int64)
    scale = cfg.preference_strength / np.sqrt(max(collab.shape[1], 1))
    chunk = max(1, 4_000_000 // cfg.items)
    users, items = [], []
    for start in range(0, cfg.users, chunk):
        stop = min(start + chunk, cfg.users)
        logits = scale * (prefs[start:stop] @ collab.T) + log_prior
        perturbed = logits + rngs["choices"].gumbel(size=logits.shape)
        widest = int(counts[start:stop].max())
        # only the top `widest` of each row matter: partition, then sort those few
        top = np.argpartition(-perturbed, widest - 1, axis=1)[:, :widest]
        rank = np.argsort(-np.take_along_axis(perturbed, top, axis=1), axis=1, kind="stable")
        order = np.take_along_axis(top, rank, axis=1)
        keep = np.arange(widest)[None, :] < counts[start:stop, None]
        items.append(order[keep])
        users.append(np.repeat(np.arange(start, stop), counts[start:stop]))
    return np.concatenate(users), np.concatenate(items)


def generate(config: SynthConfig | None = None, **knobs: Any) -> SyntheticData:
    """Draw a synthetic dataset: ``generate(users=1000, items=600, seed=7)`` or ``generate(SynthConfig(...))``."""
    cfg = config or SynthConfig()
    cfg = dataclasses.replace(cfg, **knobs).validate() if knobs else cfg.validate()
    streams = np.random.SeedSequence(cfg.seed).spawn(len(_STREAMS))
    rngs = {name: np.random.default_rng(s) for name, s in zip(_STREAMS, streams, strict=True)}

    factor_rng = rngs["item_factors"]
    shared = factor_rng.standard_normal((cfg.items, cfg.shared))
    semantic_private = factor_rng.standard_normal((cfg.items, cfg.semantic_private))
    collab_private = factor_rng.standard_normal((cfg.items, cfg.collab_private))
    prefs = rngs["user_preferences"].standard_normal((cfg.users, cfg.shared + cfg.collab_private))
    ranks = rngs["popularity"].permutation(cfg.items) + 1
    log_prior = -cfg.pop_skew * np.log(ranks)

    collab = np.hstack([shared, collab_private])
    user_idx, item_idx = _draw_interactions(cfg, prefs, collab, log_prior, rngs)
    ts = FIRST_TIMESTAMP + rngs["timestamps"].integers(0, TIME_SPAN, size=len(user_idx))

    user_ids, item_ids = _ids("u", cfg.users), _ids("i", cfg.items)
    interactions = pa.table(
        {
            "user_id": pa.array(user_ids[user_idx], pa.string()),
            "item_id": pa.array(item_ids[item_idx], pa.string()),
            "ts": pa.array(ts, pa.int64()),
            "rating": pa.nulls(len(user_idx), pa.float64()),
        }
    )
    text_factors = np.hstack([shared, semantic_private])
    rendered = [item_text(row, rngs["text"]) for row in text_factors]
    items = pa.table(
        {
            "item_id": pa.array(item_ids, pa.string()),
            "title": pa.array([t for t, _, _ in rendered], pa.string()),
            "text": pa.array([f"{t}. {d}" for t, d, _ in rendered], pa.string()),
            "description": pa.array([d for _, d, _ in rendered], pa.string()),
            "genres": pa.array([g for _, _, g in rendered], pa.string()),
        }
    )
    return SyntheticData(
        config=cfg,
        interactions=interactions,
        items=items,
        user_ids=user_ids,
        item_ids=item_ids,
        shared=shared,
        semantic_private=semantic_private,
        collab_private=collab_private,
        user_preferences=prefs,
        popularity_logit=log_prior,
        semantic_rotation=_rotation(rngs["rotations"], cfg.shared + cfg.semantic_private, cfg.rotate),
        collab_rotation=_rotation(rngs["rotations"], cfg.shared + cfg.collab_private, cfg.rotate),
    )


# ---- writing a workspace ------------------------------------------------------------------------
TRUTH_SEMANTIC = "truth_semantic"
TRUTH_COLLAB = "truth_collab"


def load_synthetic(dataset: dict[str, Any]) -> tuple[pa.Table, pa.Table]:
    """``(interactions, items)`` for a ``[dataset] kind = "synthetic"`` table of complement.toml
    (its other keys are :class:`SynthConfig` fields). ``items.text`` is ``"{title}. {description}"``."""
    data = generate(SynthConfig.from_dict(dataset))
    return data.interactions, data.items


def write_truth(ws, data: SyntheticData) -> None:
    """Write the planted vectors as ``embeddings`` views ``truth_semantic`` (items) and
    ``truth_collab`` (items and users), restricted to the ids the workspace kept, in its order."""
    item_ids, user_ids = ws.item_ids(), ws.user_ids()
    item_row = {k: i for i, k in enumerate(data.item_ids)}
    user_row = {k: i for i, k in enumerate(data.user_ids)}
    items = np.array([item_row[k] for k in item_ids], dtype=np.int64)
    users = np.array([user_row[k] for k in user_ids], dtype=np.int64)
    ws.write_vectors(TRUTH_SEMANTIC, "item", item_ids, data.truth_semantic[items])
    ws.write_vectors(TRUTH_COLLAB, "item", item_ids, data.truth_collab[items])
    ws.write_vectors(TRUTH_COLLAB, "user", user_ids, data.truth_collab_users[users])


def ingest_synthetic(ws, config: dict[str, Any]):
    """Build ``items``/``users``/``interactions`` and the truth views of ``ws`` from a complement.toml
    whose ``[dataset]`` has ``kind = "synthetic"`` (``[split]``: method, ratios, seed — default the
    generator's seed — and temporal_cutoffs). What ``complement ingest`` runs for this kind; records a
    ``synth`` row in ``runs``. Returns the :class:`IngestSummary`."""
    from ..runs import RunRecord, recorded
    from .pipeline import build_tables

    cfg = SynthConfig.from_dict(dict(config.get("dataset") or {}))
    split = {"method": "random", "ratios": [0.8, 0.1, 0.1], "seed": cfg.seed, **(config.get("split") or {})}
    check_seed("[split] seed", split["seed"])
    cutoffs = split.get("temporal_cutoffs")
    data = generate(cfg)
    params = {**cfg.as_dict(), "split": split}
    with recorded(ws, RunRecord(step="synth", params=params, seed=cfg.seed)) as record:
        summary = build_tables(
            ws,
            data.interactions,
            data.items,
            split=str(split["method"]),
            ratios=tuple(split["ratios"]),
            seed=int(split["seed"]),
            temporal_cutoffs=tuple(cutoffs) if cutoffs else None,
        )
        write_truth(ws, data)
        record.rows = summary.interactions
        record.metrics = summary.as_dict()
    return summary


def synthesize(
    directory: str | Path,
    config: SynthConfig | None = None,
    *,
    split: str = "random",
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1),
    **knobs: Any,
):
    """Generate a synthetic dataset into the workspace ``directory`` (created if needed).

    Writes ``items``/``users``/``interactions`` through :func:`complement.data.pipeline.build_tables`
    (split seeded with the generator's seed), the truth views, and ``complement.toml`` with a
    ``[dataset] kind = "synthetic"`` table holding the knobs (and a ``[split]`` table) so
    ``complement ingest`` can rebuild the same tables (:func:`ingest_synthetic`). Returns the
    :class:`IngestSummary`."""
    from ..workspace import Workspace

    cfg = config or SynthConfig()
    cfg = dataclasses.replace(cfg, **knobs).validate() if knobs else cfg.validate()
    ws = Workspace(directory)
    settings = dict(read_config(ws.config_path))  # read (and checked) before anything is written
    settings["dataset"] = {"kind": "synthetic", **cfg.as_dict()}
    settings["split"] = {"method": split, "ratios": [float(r) for r in ratios], "seed": cfg.seed}
    summary = ingest_synthetic(ws, settings)
    # from the lineage: every view made from the replaced tables (the truth views' own lists and neighbours too)
    from ..lineage import stale_summary

    if stale := stale_summary(ws.catalog()):
        from ..progress import message

        message(f"note: views computed on the previous data are now stale: {stale}")
    ws.write_config(settings)
    return summary
