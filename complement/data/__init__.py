"""Real-data ingestion: loaders for dataset formats, filters, splits, and the pipeline that writes
the ``items``, ``users`` and ``interactions`` tables (see docs/ingestion.md).

    from complement.data import init, ingest
    ws, summary = init("ws", dataset="ml-100k", path="data/ml-100k", min_rating=4)
    print("\\n".join(summary.lines()))
"""

from __future__ import annotations

from .loaders import KINDS, ingest, init, load_dataset, make_config
from .pipeline import IngestSummary, build_tables

__all__ = ["KINDS", "IngestSummary", "build_tables", "ingest", "init", "load_dataset", "make_config"]
