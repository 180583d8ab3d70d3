"""The dual-branch ``fusion`` model's batch loss equals the straightforward implementation it replaced.

The reference below is the earlier code, kept verbatim in spirit: candidates and positives projected
separately, the hard negatives gathered with ``topk`` + ``gather`` and a 257-column cross-entropy.
The model computes the same loss with one projection and a mask; loss and every gradient must match
to float32 noise on the same batch and the same random candidates."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from complement.embed.models import create_model
from complement.embed.models.fusion import hardest_columns, matches, norm_concat_norm
from complement.embed.train import TrainData


def reference_norm_concat_norm(semantic: torch.Tensor, collaborative: torch.Tensor) -> torch.Tensor:
    return F.normalize(torch.cat([F.normalize(semantic, dim=1), F.normalize(collaborative, dim=1)], 1), dim=1)


def reference_batch_loss(model, rows: np.ndarray, generator: torch.Generator) -> torch.Tensor:
    """The earlier ``DualBranchFusion.batch_loss``: per-row topk + gather of the hardest negatives."""
    users = torch.from_numpy(model.data.train[0][rows])
    positives = torch.from_numpy(model.data.train[1][rows])
    c_users, c_items = model.collaborative()

    def fused_items(idx: torch.Tensor) -> torch.Tensor:
        return reference_norm_concat_norm(model.semantic(model.item_text[idx]), c_items[idx])

    user = reference_norm_concat_norm(model.semantic(model.user_text[users]), c_users[users])
    sampled = model.SAMPLED_PER_KEPT * model.config.negatives
    candidates = torch.randint(0, model.data.n_items, (sampled,), generator=generator)
    scores = user @ fused_items(candidates).T
    scores = scores.masked_fill(candidates.unsqueeze(0) == positives.unsqueeze(1), float("-inf"))
    with torch.no_grad():
        top = scores.topk(min(model.config.negatives, sampled), dim=1, sorted=False).indices
    logits = torch.cat([(user * fused_items(positives)).sum(1, keepdim=True), scores.gather(1, top)], 1)
    loss = F.cross_entropy(logits / model.config.temperature, torch.zeros(len(user), dtype=torch.long))
    ego = model.user_embedding.weight[users].pow(2).sum() + model.item_embedding.weight[positives].pow(2).sum()
    return loss + model.config.reg * ego / (2 * len(rows))


def random_data(n_users: int = 90, n_items: int = 70, per_user: int = 6, dim: int = 24) -> TrainData:
    rng = np.random.default_rng(5)
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    return TrainData(n_users, n_items, (users, items), text_vectors=rng.normal(size=(n_items, dim)).astype(np.float32))


@pytest.mark.parametrize(("negatives", "batch"), [(16, 64), (40, 200), (256, 128)])
def test_fusion_batch_loss_and_gradients_equal_the_gather_implementation(negatives, batch):
    data = random_data()
    model = create_model("fusion", device="cpu", negatives=negatives, seed=4)
    model.data = data
    model.build(data, torch.device("cpu"))
    rows = np.random.default_rng(1).choice(len(data.train[0]), batch, replace=False)

    losses, grads = [], []
    for loss_of in (model.batch_loss, lambda r, g: reference_batch_loss(model, r, g)):
        model.zero_grad(set_to_none=True)
        loss = loss_of(rows, torch.Generator().manual_seed(9))
        loss.backward()
        losses.append(float(loss.detach()))
        grads.append([p.grad.clone() for p in model.parameters()])
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    for new, old in zip(*grads, strict=True):
        torch.testing.assert_close(new, old, rtol=1e-4, atol=1e-6)


def test_norm_concat_norm_equals_normalising_twice_including_zero_rows():
    semantic = torch.tensor([[3.0, 4.0], [0.0, 0.0], [1e-3, 0.0]])
    collaborative = torch.tensor([[0.0, 2.0], [5.0, 0.0], [0.0, 0.0]])
    expected = [[0.6 / 2**0.5, 0.8 / 2**0.5, 0.0, 1 / 2**0.5], [0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]]
    torch.testing.assert_close(norm_concat_norm(semantic, collaborative), torch.tensor(expected))


def test_hard_negatives_are_the_largest_scores_other_than_the_positive():
    scores = np.array([[0.1, 0.9, -1.0, 0.5, 0.7], [3.0, 2.0, 1.0, 0.0, -1.0]], dtype=np.float32)
    rows, columns = matches(np.array([4, 0]), np.array([3, 4, 0, 2, 0]))
    assert sorted(zip(rows.tolist(), columns.tolist(), strict=True)) == [(0, 1), (1, 2), (1, 4)]
    top = hardest_columns(scores, 2, (np.array([0]), np.array([1])))  # 0.9 is row 0's positive
    assert top.tolist() == [[3, 4], [0, 1]]
    tied = np.array([[0.5, 0.2, 0.5, 0.9, 0.5]], dtype=np.float32)  # duplicate candidates tie at the cut
    assert hardest_columns(tied, 3, (np.zeros(0, np.int64), np.zeros(0, np.int64))).tolist() == [[0, 2, 3]]
    assert hardest_columns(scores, 5, (rows, columns)).tolist() == [list(range(5))] * 2
