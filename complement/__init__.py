"""complement: how complementary are the semantic and collaborative views of a recommender?

The library API a notebook uses; the ``complement`` command is a thin layer over it."""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import ComplementError
from .workspace import Workspace

__all__ = ["ComplementError", "Workspace", "__version__"]
