"""``complement train MODEL``: fit a recommender and write its view (embeddings + topk)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..choices import ModelName
from ..steps.options import TrainOptions
from .common import WorkspaceOption, workspace
from .options import with_options
from .output import Format, echo_train_summary


def register(app: typer.Typer) -> None:
    @app.command("train")
    @with_options(TrainOptions)
    def train(
        model: Annotated[ModelName, typer.Argument(help="The model to train.", show_default=False)],
        workspace_dir: WorkspaceOption = None,
        view: Annotated[
            str | None,
            typer.Option(
                "--view",
                help="View to write (default: the model name; 'sem' for the semantic model).",
            ),
        ] = None,
        epochs: Annotated[int | None, typer.Option("--epochs", help="Maximum epochs.")] = None,
        dim: Annotated[int | None, typer.Option("--dim", help="Embedding size (default 64).")] = None,
        layers: Annotated[
            int | None, typer.Option("--layers", help="Propagation layers (lightgcn, alpharec; default 2).")
        ] = None,
        lr: Annotated[float | None, typer.Option("--lr", help="Adam learning rate.")] = None,
        batch_size: Annotated[int | None, typer.Option("--batch-size", help="Train pairs per step.")] = None,
        reg: Annotated[
            float | None, typer.Option("--reg", help="L2 weight on the batch's embeddings (BPR models).")
        ] = None,
        patience: Annotated[
            int | None, typer.Option("--patience", help="Evaluations without gain before stopping.")
        ] = None,
        min_epochs: Annotated[int | None, typer.Option("--min-epochs", help="Never stop before this epoch.")] = None,
        eval_every: Annotated[
            int | None, typer.Option("--eval-every", help="Epochs between validation Recall@20 evaluations.")
        ] = None,
        temperature: Annotated[
            float | None, typer.Option("--temperature", help="InfoNCE temperature (semantic, alpharec).")
        ] = None,
        negatives: Annotated[
            int | None, typer.Option("--negatives", help="Sampled InfoNCE negatives per batch.")
        ] = None,
        align_weight: Annotated[
            float | None,
            typer.Option("--align-weight", help="Weight of the alignment loss (aligned-contrastive, aligned-mse)."),
        ] = None,
        seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 2020,
        fmt: Annotated[
            Format | None,
            typer.Option(
                "--format",
                "-f",
                help="Format of the summary row (default: a table on a terminal, else one JSON line).",
                show_default=False,
            ),
        ] = None,
        *,
        options: TrainOptions,
    ) -> None:
        """Train MODEL on the train split (early stopping on validation Recall@20) and write its view."""
        from ..steps import train as train_step

        summary = train_step(
            workspace(workspace_dir),
            model,
            view,
            options,
            epochs=epochs,
            dim=dim,
            layers=layers,
            lr=lr,
            batch_size=batch_size,
            reg=reg,
            patience=patience,
            min_epochs=min_epochs,
            eval_every=eval_every,
            temperature=temperature,
            negatives=negatives,
            seed=seed,
            align_weight=align_weight,
        ).details
        echo_train_summary(summary, fmt)
