"""``complement train MODEL``: fit a recommender and write its view (embeddings + topk)."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from typing import Annotated

import typer

from ..choices import ModelName
from ..steps.declare import option
from ..steps.options import TrainOptions
from .common import WorkspaceOption, workspace
from .options import with_options
from .output import Format, echo_train_summary


@dataclass(frozen=True)
class Hyperparameters:
    """The model hyperparameters ``complement train`` takes as flags: None keeps the model's own default
    (its ``defaults``, docs/design.md "Steps and options"); they are the models', not the step's."""

    epochs: int | None = option(None, "Maximum epochs.", kind=int)
    dim: int | None = option(None, "Embedding size (default 64).", kind=int)
    layers: int | None = option(None, "Propagation layers (lightgcn, alpharec; default 2).", kind=int)
    lr: float | None = option(None, "Adam learning rate.", kind=float)
    batch_size: int | None = option(None, "Train pairs per step.", kind=int)
    reg: float | None = option(None, "L2 weight on the batch's embeddings (BPR models).", kind=float)
    patience: int | None = option(None, "Evaluations without gain before stopping.", kind=int)
    min_epochs: int | None = option(None, "Never stop before this epoch.", kind=int)
    eval_every: int | None = option(None, "Epochs between validation Recall@20 evaluations.", kind=int)
    temperature: float | None = option(None, "InfoNCE temperature (semantic, alpharec).", kind=float)
    negatives: int | None = option(None, "Sampled InfoNCE negatives per batch.", kind=int)
    align_weight: float | None = option(
        None, "Weight of the alignment loss (aligned-contrastive, aligned-mse).", kind=float
    )
    l2: float | None = option(
        None, "L2 weight λ on the item-item weights (ease, ease-text; default: chosen on validation).", kind=float
    )
    text_weight: float | None = option(
        None,
        "Weight of the item text's cosines in the item Gram matrix (ease-text; default: chosen on validation).",
        kind=float,
    )
    seed: int = option(2020, "Random seed.", kind=int)


def register(app: typer.Typer) -> None:
    @app.command("train")
    @with_options(TrainOptions, Hyperparameters)
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
        *,
        hyper: Hyperparameters,
        fmt: Annotated[
            Format | None,
            typer.Option(
                "--format",
                "-f",
                help="Format of the summary row (default: a table on a terminal, else one JSON line).",
                show_default=False,
            ),
        ] = None,
        options: TrainOptions,
    ) -> None:
        """Train MODEL on the train split (early stopping on validation Recall@20) and write its view."""
        from ..steps import train as train_step

        # on a terminal the summary table says what the one-line summary on stderr would
        table = fmt is None and sys.stdout.isatty()
        step = train_step(
            workspace(workspace_dir), model, view, options, announce=not table, **dataclasses.asdict(hyper)
        )
        echo_train_summary(step.details, fmt)
