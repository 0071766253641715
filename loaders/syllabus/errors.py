"""The 422 family: a syllabus that cannot be read, with a one-word ``details['code']``."""
from __future__ import annotations

from ontology.errors import LoadError


class SyllabusError(LoadError):
    """A syllabus that cannot be read; ``details['code']`` says why in one word."""

    status = 422
    title = "Unreadable syllabus"
    code = "unreadable"

    def __init__(self, message: str, *, file: str | None = None):
        super().__init__(message, file=file)
        self.details["code"] = self.code


class CorruptDocument(SyllabusError):
    title = "Corrupt document"
    code = "corrupt"


class EncryptedDocument(SyllabusError):
    title = "Encrypted document"
    code = "encrypted"


class NoTextLayer(SyllabusError):
    title = "No text layer"
    code = "no_text_layer"


class EmptyDocument(SyllabusError):
    title = "Empty document"
    code = "empty"


class UnsafeDocument(SyllabusError):
    """Zip bombs, DOCTYPE/entity tricks: refused before any parser expands them."""

    title = "Unsafe document"
    code = "unsafe"


def short_reason(e: Exception) -> str:
    s = str(e).strip() or type(e).__name__
    return s if len(s) < 160 else s[:157] + "..."
