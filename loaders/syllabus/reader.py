"""The entry point: :func:`extract` checks the size, detects the format, reads blocks, and finds the
objectives, title, code, language and assessments."""
from __future__ import annotations

import logging

from ontology.errors import GapmapError, PayloadTooLarge

from .assessments import find_assessments
from .blocks import assemble
from .detect import check_markup, decode_text, detect_format
from .docx import docx_blocks
from .errors import CorruptDocument, EmptyDocument, UnsafeDocument, short_reason
from .html import html_blocks
from .markdown import markdown_blocks
from .metadata import detect_language, find_course_code, find_title
from .model import ExtractedSyllabus
from .objectives import find_objectives
from .pdf import pdf_blocks
from .text import text_blocks

_log = logging.getLogger(__name__)


DEFAULT_MAX_BYTES = 20 * 2**20
MAX_OBJECTIVES = 2000


def extract(data: bytes, filename: str, media_type: str | None = None, *,
            max_bytes: int = DEFAULT_MAX_BYTES) -> ExtractedSyllabus:
    """Read one uploaded syllabus.  Raises a GapmapError subclass (4xx) for bad files."""
    if data is None:
        raise EmptyDocument("no file content was sent", file=filename)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the file is {len(data):,} bytes; the limit is {max_bytes:,} bytes",
                              file=filename, limit=max_bytes, size=len(data))
    if not data.strip():
        raise EmptyDocument("the file is empty", file=filename)
    fmt = detect_format(data, filename, media_type)
    try:
        return _extract(data, filename, fmt, max_bytes)
    except GapmapError:
        raise
    except RecursionError:
        raise UnsafeDocument("the document is nested too deeply to read", file=filename) from None
    except Exception as e:  # a parser tripped on malformed input: a 422, but logged in case it is our bug
        _log.exception("syllabus extraction failed on %s (%s)", filename, fmt)
        raise CorruptDocument(f"this {fmt.upper()} file could not be read ({type(e).__name__}: {short_reason(e)})",
                              file=filename) from None


def _extract(data: bytes, filename: str, fmt: str, max_bytes: int) -> ExtractedSyllabus:
    warnings: list[str] = []
    meta_title: str | None = None
    pages: int | None = None
    if fmt == "pdf":
        blocks, meta_title, pages = pdf_blocks(data, filename, warnings)
    elif fmt == "docx":
        blocks, meta_title = docx_blocks(data, filename, max_bytes)
    else:
        text = decode_text(data, filename, warnings)
        if fmt == "html":
            check_markup(text, filename)
            blocks, meta_title = html_blocks(text)
        elif fmt == "markdown":
            check_markup(text, filename, markdown=True)
            blocks = markdown_blocks(text)
        else:
            blocks = text_blocks(text)
    full_text = assemble(blocks)
    if not full_text.strip():
        raise EmptyDocument("the document contains no text", file=filename)
    language = detect_language(full_text)
    objectives = find_objectives(blocks, language)
    if len(objectives) > MAX_OBJECTIVES:
        warnings.append(f"{len(objectives)} objectives found; only the first {MAX_OBJECTIVES} are kept")
        objectives = objectives[:MAX_OBJECTIVES]
    if not objectives:
        warnings.append("no learning objectives found: no objectives heading or list, and no "
                        "objective-like sentences")
    elif objectives[0].method == "sentence":
        warnings.append("no objectives section found; objectives were picked from objective-like "
                        "sentences (check them)")
    title = find_title(blocks, meta_title, fmt)
    code = find_course_code(title, full_text)
    return ExtractedSyllabus(title=title, course_code=code, language=language, format=fmt,
                             objectives=tuple(objectives), pages=pages, warnings=tuple(warnings),
                             text=full_text, filename=filename, assessments=tuple(find_assessments(blocks)))
