"""Schakel indexer: corpus folders in, a self-describing FAISS + SQLite index out."""
__version__ = "0.1.0"

from .build import BuildReport, build_index  # noqa: E402
from .corpus import read_corpus  # noqa: E402

__all__ = ["build_index", "BuildReport", "read_corpus", "__version__"]
