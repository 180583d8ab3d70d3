"""complement: how complementary are the semantic and collaborative views of a recommender?

The library API a notebook uses: the verbs ``init, ingest, embed, train, topk, fuse, probe, diagnose,
report, run, drop, export`` (``complement.steps``), each returning a result that displays as a table; the
``complement`` command is a thin layer over them. Bring your own recommender: ``topk(ws, view, source=FILE)``
imports another tool's ranked lists as a view, ``export`` writes a view's lists, the qrels or the RecBole
split."""

from __future__ import annotations

__version__ = "0.1.0"

import os as _os

# torch's OpenMP threads spin-wait by default; when the cores are shared with anything else that makes
# every op ~20x slower (docs/models.md). Must be set before torch is imported; the user's value wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# MKL's matrix products on Intel AVX-512 CPUs round by the thread count and the row count by default, so a
# view trained on two threads, or text encoded in shards, differed in the last bits from one run on one
# thread or whole; its strict reproducible mode does not (docs/models.md, "Same seed, same vectors"). MKL
# reads it when it first runs; the user's value wins.
_os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

import sys as _sys
import types as _types

from .diagnostics import list_diagnostics, show
from .errors import ComplementError
from .steps import (
    StepResult,
    diagnose,
    drop,
    embed,
    export,
    fuse,
    ingest,
    init,
    probe,
    report,
    run,
    topk,
    train,
)
from .workspace import Workspace


class _FrontDoor(_types.ModuleType):
    """``complement.embed`` and ``complement.report`` are verbs and subpackages at once: importing the
    subpackage sets the package's attribute, which must not replace the verb. The subpackages stay
    importable by name (``from complement.embed import encoder``)."""

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, _types.ModuleType) and callable(self.__dict__.get(name)):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _FrontDoor

__all__ = [
    "ComplementError",
    "StepResult",
    "Workspace",
    "__version__",
    "diagnose",
    "drop",
    "embed",
    "export",
    "fuse",
    "ingest",
    "init",
    "list_diagnostics",
    "probe",
    "report",
    "run",
    "show",
    "topk",
    "train",
]
