"""One error hierarchy for the whole project.

Every error carries an HTTP status and a short machine code; the CLI turns it
into a message and a non-zero exit, the web app into the JSON error shape
(``{"error": {"status", "code", "message", "field"}}``) or an error page.
"""
from __future__ import annotations


class SchakelError(Exception):
    """Base of every Schakel error: MESSAGE for people, ``code`` for machines, ``status`` the HTTP status,
    ``field`` the parameter, setting or file field at fault (or None)."""
    status = 500
    code = "error"

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def to_dict(self) -> dict:
        """The error as JSON: {status, code, message, field}."""
        return {"status": self.status, "code": self.code, "message": self.message, "field": self.field}


class InvalidInput(SchakelError):
    """Bad input from a user, a request or a file: 400."""
    status = 400
    code = "invalid_input"


class NotFound(SchakelError):
    """An intake, user or record that does not exist: 404."""
    status = 404
    code = "not_found"


class IndexMissing(SchakelError):
    """No published index in HOME yet: 503 (run ``schakel index``)."""
    status = 503
    code = "no_index"


class CorruptIndex(SchakelError):
    """The published index is missing a file, truncated, damaged or of another format: 500 (run ``schakel index
    --rebuild``)."""
    status = 500
    code = "corrupt_index"


class EmbedderMismatch(SchakelError):
    """The query embedder is not the one the index was built with: 409."""
    status = 409
    code = "embedder_mismatch"


class EmbedderUnavailable(SchakelError):
    """The embedder or vector search cannot be loaded (package or model missing): 500."""
    status = 500
    code = "embedder_unavailable"


class IndexBusy(SchakelError):
    """Another ``schakel index`` holds the lock of this HOME: 409."""
    status = 409
    code = "index_busy"


class Unauthorized(SchakelError):
    """Not logged in (or a wrong password): 401."""
    status = 401
    code = "unauthorized"


class Forbidden(SchakelError):
    """Logged in, but the role may not do this (or a bad CSRF token): 403."""
    status = 403
    code = "forbidden"


class RateLimited(SchakelError):
    """Too many requests or failed logins: 429."""
    status = 429
    code = "rate_limited"


class IndexWriteFailed(SchakelError):
    """Writing a new build failed (disk full, read-only, I/O error); the published index is untouched."""

    status = 507
    code = "index_write_failed"


class InstallationBroken(SchakelError):
    """A data file that ships with Schakel (package data, e.g. the built-in thesaurus) is missing or
    unreadable: the installation is incomplete, and Schakel refuses to run without it."""

    status = 500
    code = "installation_broken"


class ReadError(SchakelError):
    """One corpus file (or one of its fields or rows) cannot be indexed as written.

    The one error type for file and field problems: readers raise it for a file they cannot read
    (``ReadError("PDF is encrypted and needs a password to open")``), field checks for a bad value
    (``ReadError("field 'updated' must be a date YYYY-MM-DD", field="updated", line=5)``).
    ``read_corpus`` turns it into a ``Problem`` naming the file, the line where known and the field,
    skips that file (or row) and reads everything else; it never reaches a user as a traceback.
    """

    status = 422
    code = "unreadable_file"

    def __init__(self, message: str, line: int | None = None, *, field: str | None = None):
        super().__init__(message, field=field)
        self.line = line


class EmptyCorpus(SchakelError):
    """The corpus folders hold no record that can be indexed (empty, or every file has a problem);
    nothing is built or published, and the index in use stays as it is."""

    status = 422
    code = "empty_corpus"
