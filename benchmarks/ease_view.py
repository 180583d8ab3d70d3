"""EASE (Steck 2019, "Embarrassingly shallow autoencoders") as a view: a closed-form item-item model over the
train interactions, a stronger purely collaborative list to try as one more input of the ranker.

    python benchmarks/ease_view.py -w WS --view ease [--lambdas 50,100,200,300,500,800,1200]

With X the users' binary train rows, B = I - P diag(1/diag(P)) with P = (XᵀX + λI)⁻¹ (diagonal 0); the score is
X B, stored as user vectors X and item vectors Bᵀ (n_items dimensions: for catalogues of a few thousand items).
λ is the one with the best validation Recall@20 (train masked, every validation user); the lists mask the
``--exclude`` splits. Used for the EASE rows of docs/fusion.md ("The ranker over a bag of dual-branch models")."""

from __future__ import annotations

import argparse

import numpy as np

import complement
from complement import Workspace
from complement.embed.train import load_train_data, recall_at_k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-w", "--workspace", required=True)
    parser.add_argument("--view", default="ease")
    parser.add_argument("--lambdas", default="50,100,200,300,500,800,1200")
    parser.add_argument("--exclude", default="train+valid", choices=["train", "train+valid"])
    args = parser.parse_args()
    ws = Workspace(args.workspace)
    data = load_train_data(ws)
    x = np.zeros((data.n_users, data.n_items), np.float64)
    x[data.train[0], data.train[1]] = 1
    gram = x.T @ x
    best = None
    for lam in (float(v) for v in args.lambdas.split(",")):
        p = np.linalg.inv(gram + lam * np.eye(data.n_items))
        b = -p / np.diag(p)
        np.fill_diagonal(b, 0)
        items = np.ascontiguousarray(b.T, dtype=np.float32)
        recall = recall_at_k(x.astype(np.float32), items, data.train, data.valid, 20)
        print(f"lambda {lam:g}: valid Recall@20 {recall:.4f}")
        if best is None or recall > best[0]:
            best = (recall, lam, items)
    assert best is not None
    recall, lam, items = best
    ws.write_vectors(args.view, "user", ws.user_ids(), x.astype(np.float32), made_by="benchmarks/ease_view.py")
    ws.write_vectors(args.view, "item", ws.item_ids(), items, made_by="benchmarks/ease_view.py")
    result = complement.topk(ws, args.view, exclude=args.exclude)
    print(f"wrote view '{args.view}' (lambda {lam:g}, valid Recall@20 {recall:.4f}): {result.rows:,} top-K rows")


if __name__ == "__main__":
    main()
