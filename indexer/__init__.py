"""Schakel indexer: corpus folders in, a self-describing FAISS + SQLite index out."""
__version__ = "0.1.0"

__all__ = ["build_index", "BuildReport", "read_corpus", "__version__"]


def __getattr__(name: str):
    """``build_index``, ``BuildReport`` and ``read_corpus`` on first use (PEP 562): a server that only
    queries an index never imports the corpus readers (docx, PDF, HTML) and the build."""
    if name in ("build_index", "BuildReport"):
        from . import build

        return getattr(build, name)
    if name == "read_corpus":
        from .corpus import read_corpus

        return read_corpus
    raise AttributeError(f"module 'indexer' has no attribute {name!r}")
