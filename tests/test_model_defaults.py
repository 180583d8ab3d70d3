"""The models train with the defaults docs/models.md states (each model declares them as a shared
schedule plus its own values), and the text helpers the text models share match plain computations."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from complement.embed.models import create_model
from complement.embed.models.semantic import user_mean_text, user_text_vectors
from complement.embed.train import TrainData

DOC = Path(__file__).resolve().parent.parent / "docs" / "models.md"
# how the table's cells spell each hyperparameter
SPELLINGS = {
    "dim": r"(\d+)-d\b",
    "layers": r"(\d+) layers",
    "lr": r"\blr ([0-9.e-]+)",
    "batch_size": r"\bbatch (\d+)",
    "reg": r"\breg ([0-9.e-]+)",
    "epochs": r"≤ (\d+) epochs",
    "eval_every": r"eval every (\d+)",
    "patience": r"patience (\d+)",
    "min_epochs": r"\bmin (\d+)",
    "temperature": r"τ = ([0-9.]+)",
    "negatives": r"(\d+) (?:sampled )?negatives",
}


def documented(model: str) -> dict[str, float]:
    row = next(line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith(f"| `{model}` |"))
    found = {key: re.search(pattern, row) for key, pattern in SPELLINGS.items()}
    return {key: float(match.group(1)) for key, match in found.items() if match}


@pytest.mark.parametrize("model", ["lightgcn", "mf", "semantic", "alpharec"])
def test_a_model_trains_with_the_defaults_the_docs_state(model):
    stated = documented(model)
    assert {"dim", "lr", "batch_size", "epochs", "eval_every", "patience", "min_epochs"} <= set(stated)
    config = create_model(model).config
    assert {key: float(getattr(config, key)) for key in stated} == stated


def _tiny_data() -> tuple[TrainData, np.ndarray]:
    # user 0: items 0, 2, 2 (a repeat counts twice); user 1: item 1; user 2: nothing
    data = TrainData(3, 3, (np.array([0, 1, 0, 0]), np.array([0, 1, 2, 2])))
    text = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]], np.float32)
    return data, text


def test_user_mean_text_is_the_plain_mean_of_the_users_train_rows():
    data, text = _tiny_data()
    expected = np.zeros((3, 2))
    for user in range(3):
        rows = [text[i] for u, i in zip(*data.train, strict=True) if u == user]
        if rows:
            expected[user] = [sum(r[j] for r in rows) / len(rows) for j in range(2)]
    got = user_mean_text(torch.from_numpy(text), data)
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


def test_user_text_vectors_are_the_unit_length_user_means():
    data, text = _tiny_data()
    mean = user_mean_text(torch.from_numpy(text), data).numpy()
    lengths = np.linalg.norm(mean, axis=1, keepdims=True)
    expected = np.divide(mean, lengths, out=np.zeros_like(mean), where=lengths > 0)
    np.testing.assert_allclose(user_text_vectors(data, torch.from_numpy(text)).numpy(), expected, rtol=1e-6)
