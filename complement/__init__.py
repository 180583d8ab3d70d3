"""complement: how complementary are the semantic and collaborative views of a recommender?

The library API a notebook uses; the ``complement`` command is a thin layer over it."""

from __future__ import annotations

__version__ = "0.1.0"

import os as _os

# torch's OpenMP threads spin-wait by default; when the cores are shared with anything else that makes
# every op ~20x slower (docs/models.md). Must be set before torch is imported; the user's value wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .diagnostics import diagnose, list_diagnostics, show
from .errors import ComplementError
from .workspace import Workspace

__all__ = ["ComplementError", "Workspace", "__version__", "diagnose", "list_diagnostics", "show"]
