# ruff: noqa: I001  (complement must be imported before torch)
"""Training speed of `complement train`. Results and commands: docs/models.md.

    python benchmarks/train.py full  -w WS [--model lightgcn]   # whole `train` step: wall time, epochs, test Recall@20
    python benchmarks/train.py epoch -w WS [--model fusion] [--epochs 3]   # seconds per training epoch (no evaluation)
    python benchmarks/train.py batch -w WS --model fusion,lightgcn [--rounds 9]   # CPU ms per mini-batch, interleaved

WS is a workspace with items/users/interactions (e.g. `complement init` of ml-100k or Amazon Games).
Prints one JSON line per measurement on stdout, with torch's thread count. Timings on a busy
machine are noisy: run it alone; ``cpu_seconds_per_epoch`` (process CPU time) is less sensitive to
other jobs than wall time."""

from __future__ import annotations

import argparse
import json
import time
from typing import cast

import complement  # noqa: F401  (first: sets OMP_WAIT_POLICY before torch loads OpenMP)
import numpy as np
import torch

from complement.embed.models import create_model
from complement.embed.models.base import TorchRecommender
from complement.embed.train import epoch_batches, load_train_data, train_view
from complement.workspace import Workspace


def time_full(ws: Workspace, model: str, device: str) -> dict:
    started = time.perf_counter()
    summary = train_view(ws, model, f"bench-{model}", device=device)
    return {"measure": "full", **summary, "wall_seconds": round(time.perf_counter() - started, 2)}


def time_epochs(ws: Workspace, model_name: str, epochs: int, device: str, batch_size: int | None) -> dict:
    from complement.embed.models import model_class

    data = load_train_data(ws, "text" if model_class(model_name).needs_text else None)
    model = cast(TorchRecommender, create_model(model_name, device=device, batch_size=batch_size))
    model.data = data
    model.build(data, torch.device(device))
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=model.config.lr)
    rng = np.random.default_rng(0)
    generator = torch.Generator().manual_seed(0)
    seconds, cpu_seconds = [], []
    for _ in range(epochs):
        started, cpu_started = time.perf_counter(), time.process_time()
        for rows in epoch_batches(rng, len(data.train[0]), model.config.batch_size):
            loss = model.batch_loss(rows, generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu_started)
    return {
        "measure": "epoch",
        "model": model_name,
        "users": data.n_users,
        "items": data.n_items,
        "train_pairs": len(data.train[0]),
        "batch_size": model.config.batch_size,
        "seconds_per_epoch": [round(s, 2) for s in seconds],
        "median": round(float(np.median(seconds)), 2),
        # CPU time of this process: what the epoch costs when it has the cores to itself
        "cpu_seconds_per_epoch": [round(s, 2) for s in cpu_seconds],
    }


def time_batches(ws: Workspace, model_names: list[str], rounds: int, device: str) -> dict:
    """Process CPU milliseconds of one mini-batch step (loss, backward, Adam) of each model, the models
    interleaved round by round on their own random batches; the first round (warm-up) is dropped."""
    from complement.embed.models import model_class

    text_view = "semantic" if any(model_class(name).needs_text for name in model_names) else None
    data = load_train_data(ws, text_view)
    steps: list[tuple[TorchRecommender, torch.optim.Optimizer]] = []
    for name in model_names:
        model = cast(TorchRecommender, create_model(name, device=device))
        model.data = data
        model.build(data, torch.device(device))
        model.to(device)
        steps.append((model, torch.optim.Adam(model.parameters(), lr=model.config.lr)))
    rng = np.random.default_rng(0)
    generator = torch.Generator().manual_seed(0)
    cpu_ms: list[list[float]] = [[] for _ in model_names]
    for _ in range(rounds):
        for (model, optimizer), times in zip(steps, cpu_ms, strict=True):
            rows = epoch_batches(rng, len(data.train[0]), model.config.batch_size)[0]
            started = time.process_time()
            loss = model.batch_loss(rows, generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            times.append(1000 * (time.process_time() - started))
    medians = {name: round(float(np.median(times[1:])), 1) for name, times in zip(model_names, cpu_ms, strict=True)}
    first = np.asarray(cpu_ms[0][1:])
    return {
        "measure": "batch",
        "batch_size": {name: model.config.batch_size for name, (model, _) in zip(model_names, steps, strict=True)},
        "median_cpu_ms_per_batch": medians,
        # per round, first model's time over each other's: the median of those ratios
        "ratio_to_first": {
            name: round(float(np.median(first / np.asarray(times[1:]))), 2)
            for name, times in zip(model_names[1:], cpu_ms[1:], strict=True)
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("measure", choices=["full", "epoch", "batch"])
    parser.add_argument("-w", "--workspace", required=True)
    parser.add_argument("--model", default="lightgcn")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=9, help="batch: interleaved rounds (the first is warm-up)")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    ws = Workspace(args.workspace)
    if args.measure == "full":
        result = time_full(ws, args.model, args.device)
    elif args.measure == "batch":
        result = time_batches(ws, args.model.split(","), max(args.rounds, 2), args.device)
    else:
        result = time_epochs(ws, args.model, args.epochs, args.device, args.batch_size)
    print(json.dumps({**result, "torch_threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
