"""Encoders and models that produce embeddings.

``embed`` (sentence-transformers, cached) and ``import_vectors`` (``--from FILE``) write the
``embeddings`` table; neither imports sentence-transformers until a text actually needs encoding.
"""

from .encoder import EmbedResult, embed, resolve_model
from .importer import ImportResult, import_vectors

__all__ = ["EmbedResult", "ImportResult", "embed", "import_vectors", "resolve_model"]
