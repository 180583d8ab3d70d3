"""Bring your own recommender: ranked lists in and out of a workspace.

- :func:`import_topk` reads a TREC run, a ranx run JSON, or CSV/TSV/Parquet lists (LensKit, Elliot,
  Cornac, implicit) into a view's ``topk`` part;
- :func:`export_view` / :func:`export_qrels` write a view's lists / the ground truth as run or qrels
  files (trec, ranx, csv, tsv, parquet);
- :func:`export_recbole` writes the dataset with its exact split as RecBole benchmark files.

One module per format family (:mod:`.trec`, :mod:`.ranx`, :mod:`.tabular`); :mod:`.formats` is the
registry by format name and the guess from a file's extension."""

from .export import export_qrels, export_view
from .formats import QRELS_WRITERS, READERS, RUN_WRITERS
from .importer import import_topk
from .recbole import export_recbole
from .tabular import Columns

__all__ = [
    "QRELS_WRITERS",
    "READERS",
    "RUN_WRITERS",
    "Columns",
    "export_qrels",
    "export_recbole",
    "export_view",
    "import_topk",
]
