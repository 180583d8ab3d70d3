"""A seed bag: one view whose score is the mean of several views' scores (e.g. one model trained with
several seeds), written with its top-K lists.

    python benchmarks/bag_views.py -w WS --view fbag-s1 --views fusion-s1,fusionb-s1,fusionc-s1 [--exclude train+valid]

The item vectors are the views' item vectors side by side and the user vectors the views' user vectors side
by side, each divided by the number of views, so that user · item is the mean of the views' dot products
exactly (no per-user standardisation: meant for views of one model, whose scores share a scale). Used for the
rows of docs/fusion.md's "A bag of dual-branch models, and cross-fitted labels for the ranker"; the members are
trained first with ``complement train fusion --view fusionb-sN --seed M``. ``complement train MODEL --bag N`` does the
same for N seeds of one model in one step (the same vectors: both use ``complement.embed.train.bag_vectors``)."""

from __future__ import annotations

import argparse

import numpy as np

import complement
from complement import Workspace
from complement.embed.train import bag_vectors
from complement.embed.validation import recall_at_k


def bag(ws: Workspace, view: str, members: list[str]) -> None:
    for entity in ("item", "user"):
        ids = None
        parts = []
        for member in members:
            member_ids, matrix = ws.read_vectors(member, entity)
            if ids is not None and not np.array_equal(ids, member_ids):
                raise SystemExit(f"{member}'s {entity} ids differ from {members[0]}'s")
            ids = member_ids
            parts.append(matrix)
        assert ids is not None
        ws.write_vectors(view, entity, ids, bag_vectors(parts, entity), made_by="benchmarks/bag_views.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-w", "--workspace", required=True)
    parser.add_argument("--view", required=True, help="the bag view to write")
    parser.add_argument("--views", required=True, help="comma-separated member views (two or more)")
    parser.add_argument("--exclude", default="train+valid", choices=["train", "train+valid"])
    args = parser.parse_args()
    members = args.views.split(",")
    if len(members) < 2 or args.view in members:
        parser.error("--views needs two or more members, and --view must be a new name")
    ws = Workspace(args.workspace)
    bag(ws, args.view, members)
    result = complement.topk(ws, args.view, exclude=args.exclude)
    print(f"wrote view '{args.view}' (mean of {', '.join(members)}): {result.rows:,} top-K rows")
    # the figure `train` stops on: Recall@20 over every validation user, train masked (ml-100k and Scientific
    # have fewer validation users than training's sample, so this equals what `train` prints for one model)
    _, users = ws.read_vectors(args.view, "user")
    _, items = ws.read_vectors(args.view, "item")
    valid = recall_at_k(users, items, ws.interaction_indices(("train",)), ws.interaction_indices(("valid",)))
    print(f"validation Recall@20 of '{args.view}': {valid:.4f}")


if __name__ == "__main__":
    main()
