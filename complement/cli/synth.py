"""``complement synth DIR``: a workspace of synthetic data with a planted shared+private structure.
``complement init DIR -d synthetic`` writes the same workspace through :func:`write_synthetic`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from ..data.synth import SynthConfig
from ..progress import message
from .options import path_parser, with_options

#: the help of each generator knob; the flags, types and defaults are SynthConfig's fields
KNOBS = {
    "users": "Number of users.",
    "items": "Number of items.",
    "shared": "Dimensions of the factors both views see.",
    "semantic_private": "Dimensions only the item text carries.",
    "collab_private": "Dimensions only the interactions carry.",
    "pop_skew": "Zipf exponent of the popularity prior (0 = none).",
    "interactions_per_user": "Mean interactions per user (each user has at least 5).",
    "preference_strength": "Weight of user preference against the popularity prior.",
    "rotate": "Randomly rotate each truth view's coordinates.",
    "seed": "Seed of the generator and of the split.",
}


def write_synthetic(directory: Path, *, force: bool, **settings: Any) -> None:
    """Generate the synthetic workspace (``settings``: generator knobs, ``split``, ``ratios``) and report it
    on stderr."""
    from ..steps import init

    result = init(directory, "synthetic", force=force, **settings)
    for line in result.notes:
        message(line)
    message(f"truth views: truth_semantic (items), truth_collab (items, users) → {directory}")


@with_options(SynthConfig, helps=KNOBS)
def synth(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Workspace folder to create or overwrite.",
            metavar="DIR",
            show_default=False,
            parser=path_parser("DIR", "the workspace folder to write"),
        ),
    ],
    *,
    options: SynthConfig,
) -> None:
    """Write synthetic items, users, interactions (random 8:1:1 split) and the truth views
    truth_semantic and truth_collab to DIR; the summary goes to stderr."""
    write_synthetic(directory, force=True, **dataclasses.asdict(options))


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
