"""Complementarity diagnostics: plain ``.sql`` files in ``complement/sql`` run by DuckDB.

``diagnose(workspace, name, **params)`` runs one; ``diagnose_spark(...)`` runs it on Apache Spark
(docs/spark.md); ``list_diagnostics()`` and ``show(name)`` read the headers and the SQL. See docs/diagnostics.md for
every definition."""

from .headers import Diagnostic, Param, find, list_diagnostics, show
from .runner import diagnose
from .spark import diagnose_spark  # pyspark is imported only when it runs

__all__ = ["Diagnostic", "Param", "diagnose", "diagnose_spark", "find", "list_diagnostics", "show"]
