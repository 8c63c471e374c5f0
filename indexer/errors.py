"""One error hierarchy for the whole project.

Every error carries an HTTP status and a short machine code; the CLI turns it
into a message and a non-zero exit, the web app into the JSON error shape
(``{"error": {"status", "code", "message", "field"}}``) or an error page.
"""
from __future__ import annotations


class SchakelError(Exception):
    status = 500
    code = "error"

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def to_dict(self) -> dict:
        return {"status": self.status, "code": self.code, "message": self.message, "field": self.field}


class InvalidInput(SchakelError):
    status = 400
    code = "invalid_input"


class NotFound(SchakelError):
    status = 404
    code = "not_found"


class IndexMissing(SchakelError):
    status = 503
    code = "no_index"


class CorruptIndex(SchakelError):
    status = 500
    code = "corrupt_index"


class EmbedderMismatch(SchakelError):
    status = 409
    code = "embedder_mismatch"


class EmbedderUnavailable(SchakelError):
    status = 500
    code = "embedder_unavailable"


class IndexBusy(SchakelError):
    status = 409
    code = "index_busy"


class Unauthorized(SchakelError):
    status = 401
    code = "unauthorized"


class Forbidden(SchakelError):
    status = 403
    code = "forbidden"


class RateLimited(SchakelError):
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
