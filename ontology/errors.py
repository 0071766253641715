"""One exception hierarchy for the whole product.

Each error carries an HTTP status (used by the service's problem+json handler) and a
process exit code (used by the CLI), like click's exceptions carry theirs.
"""
from __future__ import annotations

from dataclasses import dataclass


class GapmapError(Exception):
    """Base of every error Gapmap raises on purpose."""

    status = 400
    exit_code = 1
    title = "Bad request"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}

    def to_dict(self) -> dict:
        return {"title": self.title, "status": self.status, "detail": self.message, **self.details}

    def __str__(self) -> str:
        return self.message


class LoadError(GapmapError):
    """Input that cannot be read: names the file, row and column where it can."""

    status = 422
    exit_code = 3
    title = "Invalid input"

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None):
        super().__init__(message, file=file, row=row, column=column)
        self.file, self.row, self.column = file, row, column

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.row) if p is not None)
        col = f" [column {self.column}]" if self.column else ""
        return f"{where}{col}: {self.message}" if where or col else self.message

    def in_file(self, name: str) -> "LoadError":
        """This error naming ``name`` as its file when the loader did not (an option that names a missing
        framework is the file's problem too): never "error:  [column framework]" without a file."""
        if self.file is None and name:
            self.file = name
            self.details["file"] = name
        return self


@dataclass(frozen=True)
class Violation:
    """One SHACL violation, mapped back to the input where possible."""

    focus: str
    path: str | None
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.row) if p is not None) or self.focus
        col = f" [column {self.column}]" if self.column else (f" [{self.path}]" if self.path else "")
        return f"{where}{col}: {self.message}"


class ValidationError(GapmapError):
    """The data broke a SHACL shape; nothing was written."""

    status = 422
    exit_code = 3
    title = "Data does not conform to the Gapmap shapes"

    def __init__(self, violations: list[Violation]):
        self.violations = violations
        first = "; ".join(str(v) for v in violations[:3])
        more = f" (and {len(violations) - 3} more)" if len(violations) > 3 else ""
        super().__init__(f"{len(violations)} violation(s): {first}{more}")
        self.details["violations"] = [v.to_dict() for v in violations]


class NotFound(GapmapError):
    status = 404
    exit_code = 4
    title = "Not found"


class UnsupportedFormat(GapmapError):
    status = 415
    exit_code = 2
    title = "Unsupported format"


class PayloadTooLarge(GapmapError):
    status = 413
    exit_code = 2
    title = "Payload too large"


class QueryError(GapmapError):
    """A SPARQL query that is malformed or not allowed (updates, SERVICE, LOAD)."""

    status = 400
    exit_code = 2
    title = "Bad query"


class QueryTimeout(GapmapError):
    status = 503
    exit_code = 5
    title = "Query timed out"


class Conflict(GapmapError):
    """The resource changed since the client read it (expected status or ETag no longer current)."""

    status = 409
    exit_code = 7
    title = "Conflict"


class StoreLocked(GapmapError):
    """The on-disk store is held by another process (the server, or another command)."""

    status = 503
    exit_code = 8
    title = "Store in use"


class ConsistencyError(GapmapError):
    """The OWL reasoner found the ontology + data inconsistent."""

    status = 409
    exit_code = 6
    title = "Inconsistent data"


__all__ = ["GapmapError", "LoadError", "Violation", "ValidationError", "NotFound", "UnsupportedFormat",
           "PayloadTooLarge", "QueryError", "QueryTimeout", "Conflict", "StoreLocked", "ConsistencyError",
           "InputTooLarge"]



class InputTooLarge(LoadError):
    """An upload over a configured limit (rows, uncompressed size, zip bomb): nothing was read further."""

    status = 413
    exit_code = 3
    title = "Input too large"


class QueryAborted(GapmapError):
    """The evaluating process died (e.g. out of memory) or could not open the store."""

    status = 503
    exit_code = 5
    title = "Query aborted"


class StoreUnavailable(QueryError):
    status = 503
    title = "Store unavailable"


class StoreTimeout(StoreUnavailable):
    """The SPARQL server did not answer in time."""


class StoreAnswerTooLarge(QueryError):
    """The server's answer is larger than the caller allowed (``max_bytes``)."""
