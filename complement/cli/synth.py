"""``complement synth DIR``: a workspace of synthetic data with a planted shared+private structure."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..data.synth import SynthConfig
from ..progress import message

_DEFAULT = SynthConfig()


def synth(
    directory: Annotated[
        Path, typer.Argument(help="Workspace folder to create or overwrite.", metavar="DIR", show_default=False)
    ],
    users: Annotated[int, typer.Option(help="Number of users.")] = _DEFAULT.users,
    items: Annotated[int, typer.Option(help="Number of items.")] = _DEFAULT.items,
    shared: Annotated[int, typer.Option(help="Dimensions of the factors both views see.")] = _DEFAULT.shared,
    semantic_private: Annotated[
        int, typer.Option(help="Dimensions only the item text carries.")
    ] = _DEFAULT.semantic_private,
    collab_private: Annotated[
        int, typer.Option(help="Dimensions only the interactions carry.")
    ] = _DEFAULT.collab_private,
    pop_skew: Annotated[
        float, typer.Option(help="Zipf exponent of the popularity prior (0 = none).")
    ] = _DEFAULT.pop_skew,
    interactions_per_user: Annotated[
        float, typer.Option(help="Mean interactions per user (each user has at least 5).")
    ] = _DEFAULT.interactions_per_user,
    preference_strength: Annotated[
        float, typer.Option(help="Weight of user preference against the popularity prior.")
    ] = _DEFAULT.preference_strength,
    rotate: Annotated[
        bool, typer.Option("--rotate/--no-rotate", help="Randomly rotate each truth view's coordinates.")
    ] = _DEFAULT.rotate,
    seed: Annotated[int, typer.Option(help="Seed of the generator and of the split.")] = _DEFAULT.seed,
) -> None:
    """Write synthetic items, users, interactions (random 8:1:1 split) and the truth views
    truth_semantic and truth_collab to DIR; the summary goes to stderr."""
    from ..data.synth import synthesize

    config = SynthConfig(
        users=users,
        items=items,
        shared=shared,
        semantic_private=semantic_private,
        collab_private=collab_private,
        pop_skew=pop_skew,
        interactions_per_user=interactions_per_user,
        preference_strength=preference_strength,
        rotate=rotate,
        seed=seed,
    )
    summary = synthesize(directory, config)
    for line in summary.lines():
        message(line)
    message(f"truth views: truth_semantic (items), truth_collab (items, users) → {directory}")


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
