"""Complementarity diagnostics: plain ``.sql`` files in ``complement/sql`` run by DuckDB.

``diagnose(workspace, name, **params)`` runs one; ``list_diagnostics()`` and ``show(name)`` read
the headers and the SQL. See docs/diagnostics.md for every definition."""

from .headers import Diagnostic, Param, find, list_diagnostics, show
from .runner import diagnose

__all__ = ["Diagnostic", "Param", "diagnose", "find", "list_diagnostics", "show"]
