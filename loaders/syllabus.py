"""Syllabus extraction: course title, course code and learning objectives from an uploaded file.

Pure Python (never imports flask).  One entry point::

    extract(data, filename, media_type=None, *, max_bytes=20 * 2**20) -> ExtractedSyllabus

Formats: PDF (pypdf, with page numbers and a simple two-column reorder), DOCX (python-docx:
paragraphs, Word numbering, tables), HTML (beautifulsoup4 with the stdlib ``html.parser``),
Markdown (markdown-it-py tokens) and plain text.  Every format is first turned into a list of
*blocks* (heading / list item / paragraph / table cell); the document's plain text
(:attr:`ExtractedSyllabus.text`) is those blocks, whitespace-normalised, one per line (table
cells of one row joined by `` | ``).  Objectives carry offsets into that text, so
``syllabus.text[o.char_start:o.char_end] == o.text`` holds exactly.

Objectives are found in three ways (``ExtractedObjective.method``):

``list``
    numbered/bulleted items under an objectives heading ("Learning objectives", "Outcomes",
    "Course goals", "Lernziele", "Objetivos de aprendizaje", "Objectifs", ...) up to the next
    heading of the same or a higher level, or after a lead-in paragraph such as "By the end of
    this course, students will be able to:";
``table``
    rows of a table under such a heading, or of a table whose header names an objectives column;
``sentence``
    the fallback when no such section gives anything: sentences that start with a Bloom action
    verb in the imperative ("Describe ...") or say "students will / should be able to <verb>".

Bad input raises a :class:`~ontology.errors.GapmapError` subclass with an HTTP status:
:class:`~ontology.errors.UnsupportedFormat` (415), :class:`~ontology.errors.PayloadTooLarge` (413),
and the 422 :class:`SyllabusError` family defined here (corrupt, encrypted, no text layer, empty,
unsafe).  A readable document with no objectives is not an error: ``objectives`` is empty and
``warnings`` says so.
"""
from __future__ import annotations

import io
import logging
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePath

from ontology.errors import GapmapError, LoadError, PayloadTooLarge, UnsupportedFormat

__all__ = [
    "ExtractedObjective", "ExtractedSyllabus", "extract", "detect_format", "bloom_level",
    "detect_language", "SyllabusError", "CorruptDocument", "EncryptedDocument", "NoTextLayer",
    "EmptyDocument", "UnsafeDocument", "FORMATS", "BLOOM_LEVELS",
]

_log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 2**20
#: DOCX (zip) limits, checked before python-docx sees the file.
from .safety import MAX_UNCOMPRESSED_FACTOR, MAX_ZIP_ENTRIES, MAX_ZIP_RATIO  # noqa: E402,F401 (shared, loaders/safety.py)
MAX_PDF_PAGES = 1000
MAX_OBJECTIVES = 2000

FORMATS = ("pdf", "docx", "html", "markdown", "text")
BLOOM_LEVELS = ("remember", "understand", "apply", "analyze", "evaluate", "create")


# ============================================================================ errors
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


# ============================================================================ results
@dataclass(frozen=True)
class ExtractedObjective:
    text: str
    number: str | None
    page: int | None
    paragraph: int
    char_start: int
    char_end: int
    bloom_level: str | None
    verb: str | None
    method: str  # "list" | "table" | "sentence"

    def to_dict(self) -> dict:
        return {"text": self.text, "number": self.number, "page": self.page, "paragraph": self.paragraph,
                "char_start": self.char_start, "char_end": self.char_end, "bloom_level": self.bloom_level,
                "verb": self.verb, "method": self.method}


@dataclass(frozen=True)
class ExtractedAssessment:
    """One component of a syllabus's assessment/grading section (issue 9)."""
    kind: str             # osce | written exam | portfolio | preceptor evaluation | workplace-based assessment | ...
    title: str            # the line as written (without its weight)
    weight: float | None  # share of the grade, 0..1, when stated
    pass_fail: bool
    paragraph: int
    char_start: int
    char_end: int

    def to_dict(self) -> dict:
        return {"kind": self.kind, "title": self.title, "weight": self.weight, "pass_fail": self.pass_fail,
                "paragraph": self.paragraph, "char_start": self.char_start, "char_end": self.char_end}


@dataclass(frozen=True)
class ExtractedSyllabus:
    title: str | None
    course_code: str | None
    language: str | None
    format: str
    objectives: tuple[ExtractedObjective, ...]
    pages: int | None
    warnings: tuple[str, ...]
    #: the document's plain text; objective offsets index into it
    text: str = field(default="", repr=False)
    filename: str | None = None
    assessments: tuple[ExtractedAssessment, ...] = ()

    def to_dict(self, *, include_text: bool = False) -> dict:
        d = {"filename": self.filename, "title": self.title, "course_code": self.course_code,
             "language": self.language, "format": self.format, "pages": self.pages,
             "objectives": [o.to_dict() for o in self.objectives], "warnings": list(self.warnings),
             "assessments": [a.to_dict() for a in self.assessments]}
        if include_text:
            d["text"] = self.text
        return d


# ============================================================================ blocks
@dataclass
class _Block:
    kind: str                 # heading | item | para | cell
    text: str
    level: int = 0            # heading level (0 = title, 7 = bold pseudo-heading) or list depth
    number: str | None = None  # list label as written ("1.", "a)", "1.2"); None for bullets
    page: int | None = None
    table: int | None = None
    row: int | None = None
    col: int | None = None
    start: int = 0            # offset of text in the full text
    index: int = 0            # 1-based paragraph number

    @property
    def end(self) -> int:
        return self.start + len(self.text)


_WS = re.compile(r"\s+")


def _norm_ws(s: str) -> str:
    return _WS.sub(" ", s.replace("\u00ad", "").replace("\u200b", "")).strip()


# list markers at the start of a line of text
_MARKER = re.compile(
    r"^(?:(?P<m>\(?\d{1,3}[.)](?!\d)|\d{1,2}(?:\.\d{1,2})+\.?(?=\s+[^\W\d_])(?!\s+(?:mg|ml|g|kg|mm|cm|h|min)\b)|\(?[a-h][.)]|\(?(?:i|ii|iii|iv|v|vi|vii|viii|ix|x)[.)]"
    r"|(?:LO|SLO|ILO|CLO)\s?\d{1,3}[.:)]?)\s+"
    r"|(?P<d>[-\u2013\u2014*+])\s+"
    r"|(?P<b>[\u2022\u25cf\u25cb\u25e6\u25aa\u25a0\u25a1\u00b7\u25ba\u27a2\u2713\u2714\u2192\u27a4\u2756\u2043"
    r"\u2219\u2023\x7f-\x9f\ue000-\uf8ff])\s*)"
    r"(?P<t>\S.*)$")


def _split_marker(text: str) -> tuple[str | None, str] | None:
    """``("1.", "Describe ...")`` for a list line, ``(None, "...")`` for a bullet, None otherwise."""
    m = _MARKER.match(text)
    if not m:
        return None
    return m.group("m"), m.group("t")


# ============================================================================ entry point
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
        raise CorruptDocument(f"this {fmt.upper()} file could not be read ({type(e).__name__}: {_short(e)})",
                              file=filename) from None


def _extract(data: bytes, filename: str, fmt: str, max_bytes: int) -> ExtractedSyllabus:
    warnings: list[str] = []
    meta_title: str | None = None
    pages: int | None = None
    if fmt == "pdf":
        blocks, meta_title, pages = _pdf_blocks(data, filename, warnings)
    elif fmt == "docx":
        blocks, meta_title = _docx_blocks(data, filename, max_bytes)
    else:
        text = _decode(data, filename, warnings)
        if fmt == "html":
            _check_markup(text, filename)
            blocks, meta_title = _html_blocks(text)
        elif fmt == "markdown":
            _check_markup(text, filename, markdown=True)
            blocks = _markdown_blocks(text)
        else:
            blocks = _text_blocks(text)
    full_text = _assemble(blocks)
    if not full_text.strip():
        raise EmptyDocument("the document contains no text", file=filename)
    language = detect_language(full_text)
    objectives = _objectives(blocks, language)
    if len(objectives) > MAX_OBJECTIVES:
        warnings.append(f"{len(objectives)} objectives found; only the first {MAX_OBJECTIVES} are kept")
        objectives = objectives[:MAX_OBJECTIVES]
    if not objectives:
        warnings.append("no learning objectives found: no objectives heading or list, and no "
                        "objective-like sentences")
    elif objectives[0].method == "sentence":
        warnings.append("no objectives section found; objectives were picked from objective-like "
                        "sentences (check them)")
    title = _title(blocks, meta_title, fmt)
    code = _course_code(title, full_text)
    return ExtractedSyllabus(title=title, course_code=code, language=language, format=fmt,
                             objectives=tuple(objectives), pages=pages, warnings=tuple(warnings),
                             text=full_text, filename=filename, assessments=tuple(_assessments(blocks)))


# ============================================================================ format detection
_EXT = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html", ".xhtml": "html",
        ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text"}
_MEDIA = {"application/pdf": "pdf", "application/x-pdf": "pdf",
          "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
          "text/html": "html", "application/xhtml+xml": "html",
          "text/markdown": "markdown", "text/x-markdown": "markdown", "text/plain": "text"}
_NO_CLAIM = {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}
_OTHER_MAGIC = [(b"\xd0\xcf\x11\xe0", "a legacy Office file (.doc); save it as .docx"),
                (b"{\\rtf", "an RTF file; save it as .docx or PDF"),
                (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
                (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"), (b"\x1f\x8b", "a gzip file"),
                (b"7z\xbc\xaf", "a 7-zip file"), (b"Rar!", "a RAR file"), (b"\x7fELF", "a program"),
                (b"MZ\x90\x00", "a program")]
_TEXT_FORMATS = ("html", "markdown", "text")


def detect_format(data: bytes, filename: str, media_type: str | None = None) -> str:
    """One of FORMATS: magic bytes first, then extension and media type; a mismatch is a 415."""
    ext = PurePath(filename or "").suffix.lower()
    if not re.fullmatch(r"\.[a-z][a-z0-9]{0,9}", ext):
        ext = ""  # "Syllabus v2.3", "notes.": no extension to go by
    claims: dict[str, str] = {}
    if ext:
        if ext not in _EXT:
            raise UnsupportedFormat(f"unsupported file type {ext!r}; upload PDF, DOCX, HTML, Markdown "
                                    f"or plain text", file=filename)
        claims["extension"] = _EXT[ext]
    mt = (media_type or "").split(";")[0].strip().lower()
    if mt and mt not in _NO_CLAIM:
        if mt in _MEDIA:
            claims["media type"] = _MEDIA[mt]
        elif "extension" not in claims:
            raise UnsupportedFormat(f"unsupported media type {mt!r}", file=filename)

    head = data[:1024]
    magic: str | None = None
    if data.lstrip(b"\x00\t\r\n \xef\xbb\xbf")[:5] == b"%PDF-" or (
            b"%PDF-" in head and b"endobj" in data[:2**20]):  # junk before the header is allowed
        magic = "pdf"
    elif data[:4] == b"PK\x03\x04":
        magic = _zip_kind(data, filename)
    else:
        for sig, what in _OTHER_MAGIC:
            if data.startswith(sig):
                raise UnsupportedFormat(f"this is {what}, not a syllabus format Gapmap reads", file=filename)
        if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise UnsupportedFormat("binary data of an unknown type", file=filename)

    if magic:
        for how, claimed in claims.items():
            if claimed != magic:
                raise UnsupportedFormat(f"the file's content is {magic.upper()} but its {how} says "
                                        f"{claimed}", file=filename)
        return magic
    # text family: the content cannot be PDF or DOCX
    for how, claimed in claims.items():
        if claimed not in _TEXT_FORMATS:
            raise UnsupportedFormat(f"the file's {how} says {claimed.upper()} but the content is not "
                                    f"{claimed.upper()} (no {claimed.upper()} signature)", file=filename)
    if "extension" in claims:
        return claims["extension"]
    if "media type" in claims and claims["media type"] != "text":
        return claims["media type"]
    sniff = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sniff.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<body" in sniff:
        return "html"
    return claims.get("media type", "text")


def _zip_kind(data: bytes, filename: str) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as e:
        raise CorruptDocument(f"the file starts like a DOCX (zip) but cannot be opened: {e}",
                              file=filename) from None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        raise UnsupportedFormat("this is a spreadsheet (.xlsx), not a syllabus document", file=filename)
    if "ppt/presentation.xml" in names:
        raise UnsupportedFormat("this is a presentation (.pptx); export it as PDF", file=filename)
    if "content.xml" in names:
        raise UnsupportedFormat("this is an OpenDocument file; save it as .docx", file=filename)
    raise UnsupportedFormat("this is a zip archive, not a DOCX document", file=filename)


def _decode(data: bytes, filename: str, warnings: list[str]) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise CorruptDocument("the file has a UTF-16 mark but is not valid UTF-16", file=filename) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        warnings.append("the file is not valid UTF-8; it was read as Windows-1252")
        return data.decode("cp1252", errors="replace")


# ============================================================================ markup safety
_DOCTYPE_SUBSET = re.compile(r"<!DOCTYPE[^>\[]*\[", re.I)
_ENTITY_DECL = re.compile(r"<!ENTITY", re.I)


def _check_markup(text: str, filename: str, *, markdown: bool = False) -> None:
    """Refuse DOCTYPE internal subsets and entity declarations; check XHTML with defusedxml."""
    if _ENTITY_DECL.search(text) or _DOCTYPE_SUBSET.search(text):
        raise UnsafeDocument("the document declares XML entities in a DOCTYPE (an entity-expansion or "
                             "external-entity trick); it was refused unread", file=filename)
    if not markdown and text.lstrip("\ufeff \t\r\n").startswith("<?xml"):
        import defusedxml.ElementTree as DET
        from defusedxml import DefusedXmlException

        try:
            DET.fromstring(text.encode("utf-8"), forbid_dtd=False, forbid_entities=True,
                           forbid_external=True)
        except DefusedXmlException as e:
            raise UnsafeDocument(f"the XHTML document uses forbidden XML features ({type(e).__name__})",
                                 file=filename) from None
        except Exception:
            pass  # not well-formed XML: read it as ordinary HTML


# ============================================================================ PDF
@dataclass
class _Line:
    text: str
    page: int | None = None
    x: float = 0.0          # indent (points for PDF, columns for text)
    size: float | None = None
    bold: bool = False
    gap: bool = False       # blank line / vertical space before it
    heading: int | None = None  # forced heading level (setext, #)


class _LogCollector(logging.Handler):
    """Collects pypdf's log warnings (repairs it made) for the result's warnings, instead of stderr."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        msg = record.getMessage()
        if msg not in self.messages and len(self.messages) < 5:
            self.messages.append(msg)


def _pdf_blocks(data: bytes, filename: str, warnings: list[str]):
    log = logging.getLogger("pypdf")
    collector = _LogCollector()
    log.addHandler(collector)
    try:
        return _pdf_read(data, filename, warnings)
    finally:
        log.removeHandler(collector)
        warnings.extend(f"PDF reader: {m}" for m in collector.messages)


def _pdf_read(data: bytes, filename: str, warnings: list[str]):
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception as e:  # pypdf raises many kinds for a broken file
        raise CorruptDocument(f"this PDF is corrupt and cannot be read ({_short(e)})", file=filename) from None
    if encrypted:
        try:
            ok = reader.decrypt("")
        except (DependencyError, NotImplementedError) as e:
            raise EncryptedDocument(f"this PDF is encrypted with a method Gapmap cannot open ({_short(e)}); "
                                    "remove the encryption and upload it again", file=filename) from None
        except Exception:
            ok = 0
        if not ok:
            raise EncryptedDocument("this PDF is encrypted (password-protected); remove the password and "
                                    "upload it again", file=filename)
        warnings.append("the PDF is encrypted with an owner password only; it was read without one")
    try:
        n = len(reader.pages)
    except FileNotDecryptedError:
        raise EncryptedDocument("this PDF is encrypted (password-protected)", file=filename) from None
    except Exception as e:
        raise CorruptDocument(f"this PDF is corrupt: its page tree cannot be read ({_short(e)})",
                              file=filename) from None
    if n == 0:
        raise CorruptDocument("this PDF is corrupt or truncated: no pages could be read", file=filename)
    if n > MAX_PDF_PAGES:
        raise UnsafeDocument(f"this PDF has {n} pages; at most {MAX_PDF_PAGES} are read", file=filename)

    per_page: list[list[_Line]] = []
    empty_pages, bad_pages = [], []
    for pno in range(1, n + 1):
        try:
            page = reader.pages[pno - 1]
            page_lines = _pdf_page_lines(page, pno)
        except (PdfReadError, Exception) as e:  # noqa: B014 - any failure on one page
            bad_pages.append((pno, _short(e)))
            continue
        if not page_lines:
            empty_pages.append(pno)
        per_page.append(page_lines)
    lines: list[_Line] = [ln for page_lines in _drop_furniture(per_page) for ln in page_lines]
    if bad_pages and len(bad_pages) == n:
        raise CorruptDocument(f"this PDF is corrupt: no page could be read ({bad_pages[0][1]})", file=filename)
    if not any(ln.text.strip() for ln in lines):
        if bad_pages:
            raise CorruptDocument(f"this PDF is corrupt: page {bad_pages[0][0]} cannot be read "
                                  f"({bad_pages[0][1]}) and no page has text", file=filename)
        raise NoTextLayer("this PDF has no text layer (scanned?); OCR is not done. Upload the original "
                          "document or a PDF with selectable text", file=filename)
    for pno, why in bad_pages:
        warnings.append(f"page {pno} could not be read ({why})")
    if empty_pages:
        warnings.append(f"page(s) {_ranges(empty_pages)} have no text layer (scanned?); OCR is not done")

    # heading levels from font sizes: the body size is the commonest (by characters)
    sizes = Counter()
    for ln in lines:
        if ln.size:
            sizes[round(ln.size, 1)] += len(ln.text)
    body = sizes.most_common(1)[0][0] if sizes else None
    if body:
        big = sorted({s for s in sizes if s >= body * 1.12}, reverse=True)
        for ln in lines:
            if ln.size and round(ln.size, 1) in big and len(ln.text.split()) <= 20 and not _split_marker(ln.text):
                ln.heading = big.index(round(ln.size, 1)) + 1
            elif ln.bold and len(ln.text.split()) <= 15 and not ln.text.rstrip().endswith(".") \
                    and not _split_marker(ln.text) and (ln.size or 0) >= body * 0.95:
                ln.heading = len(big) + 1
    blocks = _lines_to_blocks(lines, pdf=True)

    meta_title = None
    try:
        meta = reader.metadata
        if meta and meta.title:
            meta_title = _norm_ws(str(meta.title))
    except Exception:
        pass
    if meta_title and _junk_title(meta_title):
        meta_title = None
    return blocks, meta_title, n


def _pdf_page_lines(page, pno: int) -> list[_Line]:
    frags: list[tuple[float, float, float, bool, str]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if not text or not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = (abs(tm[0] * cm[0] + tm[1] * cm[2]) + abs(tm[2] * cm[1] + tm[3] * cm[3])) / 2 or 1.0
        size = float(font_size or 0) * scale
        base = str((font_dict or {}).get("/BaseFont", "")) if font_dict else ""
        bold = bool(re.search(r"bold|black|heavy|semibold", base, re.I))
        for k, part in enumerate(text.split("\n")):
            if part.strip():
                frags.append((x, y - k * size * 1.2, size, bold, part))

    text = page.extract_text(visitor_text=visit) or ""
    if not frags:
        # no positions (unusual producers): fall back to the extracted lines
        return [_Line(t.strip(), page=pno, gap=not t.strip()) for t in text.splitlines() if t.strip()]
    try:
        width = float(page.mediabox.width)
    except Exception:
        width = 612.0
    return _pdf_order(frags, pno, width)


def _pdf_order(frags, pno: int, width: float) -> list[_Line]:
    """Group fragments into lines; read a two-column page column by column."""
    # raw lines: same baseline (within a third of the font size)
    frags = sorted(frags, key=lambda f: (-round(f[1], 1), f[0]))
    rows: list[list] = []
    for f in frags:
        if rows and abs(rows[-1][0][1] - f[1]) <= max(1.0, 0.33 * (f[2] or 10)):
            rows[-1].append(f)
        else:
            rows.append([f])
    # two columns?  fragment starts that line up (>= 3 rows at the same x, +-1 pt) in the middle band
    # of the page and share baselines with text on the left; the boundary is the leftmost such
    # alignment within 40 pt of the commonest one (bullets sit left of the item text)
    raw = Counter(round(f[0]) for row in rows for f in row if 0.3 * width < f[0] < 0.7 * width)
    peaks = {x: raw[x - 1] + raw[x] + raw[x + 1] for x in raw}
    peaks = {x: c for x, c in peaks.items() if c >= 3}
    boundary = None
    if peaks:
        main = max(peaks, key=lambda x: (peaks[x], -x))
        cand = min(x for x in peaks if main - 40 <= x <= main) - 2
        shared = sum(1 for row in rows if any(f[0] >= cand for f in row) and any(f[0] < cand - 20 for f in row))
        right_rows = sum(1 for row in rows if any(f[0] >= cand for f in row))
        # a real column, not a few key/value pairs or a short table: enough lines on the right
        if shared >= 2 and right_rows >= max(6, 0.2 * len(rows)):
            boundary = cand
    segments: list[tuple[str, float, list]] = []  # (column, y, fragments)
    for row in rows:
        row = sorted(row, key=lambda f: f[0])
        if boundary is None:
            segments.append(("all", row[0][1], row))
            continue
        left = [f for f in row if f[0] < boundary]
        right = [f for f in row if f[0] >= boundary]
        if left and not right and _est_end(left) > boundary + 30:
            segments.append(("span", row[0][1], left))
            continue
        if left:
            segments.append(("left", left[0][1], left))
        if right:
            segments.append(("right", right[0][1], right))
    if boundary is not None:
        ordered, band = [], []
        for seg in segments:  # already top to bottom
            if seg[0] == "span":
                ordered += [s for s in band if s[0] == "left"] + [s for s in band if s[0] == "right"]
                ordered.append(seg)
                band = []
            else:
                band.append(seg)
        segments = ordered + [s for s in band if s[0] == "left"] + [s for s in band if s[0] == "right"]
    out: list[_Line] = []
    prev = None
    for col, y, fr in segments:
        text = ""
        for f in fr:
            t = f[4]
            if text and not text[-1].isspace() and not t[:1].isspace():
                text += " "
            text += t
        size = max(f[2] for f in fr)
        gap = True
        if prev is not None and (prev[0] == col or "span" in (prev[0], col)):
            gap = (prev[1] - y) > 1.45 * max(size, prev[2])
        elif prev is not None and col == "right" and prev[0] == "left":
            gap = False  # a paragraph may run on from the foot of the left column
        out.append(_Line(_norm_ws(text), page=pno, x=fr[0][0], size=size, bold=all(f[3] for f in fr), gap=gap))
        prev = (col, y, size)
    return out


_PAGE_NO = re.compile(r"(?i)^(?:-\s*)?(?:page|seite|página|pagina|p\.)?\s*\d{1,4}(?:\s*(?:of|/|von|de|sur)\s*\d{1,4})?"
                      r"(?:\s*-)?$")


_PAGE_TAIL = re.compile(r"(?i)\b(?:page|seite|página|pagina|p\.)\s*\d{1,4}(?:\s*(?:of|/|von|de|sur)\s*\d{1,4})?\s*$")


def _drop_furniture(pages: list[list[_Line]]) -> list[list[_Line]]:
    """Drop running headers/footers (the same line, digits aside, near the top or foot of at least
    half the pages) and bare page numbers; the first line left on a page continues the previous one."""
    def key(t: str) -> str:
        return re.sub(r"\d+", "#", t.lower()).strip()

    edge = lambda pl: pl[:3] + pl[-3:]  # noqa: E731
    counts = Counter()
    for pl in pages:
        counts.update({key(ln.text) for ln in edge(pl)})
    need = max(2, -(-len([p for p in pages if p]) // 2))
    furniture = {k for k, c in counts.items() if c >= need and len([p for p in pages if p]) >= 2}
    out = []
    for pl in pages:
        ids = {id(ln) for ln in edge(pl) if key(ln.text) in furniture or _PAGE_NO.match(ln.text.strip())
               or (_PAGE_TAIL.search(ln.text) and len(ln.text.split()) <= 10)}
        kept = [ln for ln in pl if id(ln) not in ids]
        if kept and out:
            kept[0].gap = False
        out.append(kept)
    return out


def _est_end(frs) -> float:
    last = max(frs, key=lambda f: f[0])
    return last[0] + 0.5 * (last[2] or 10) * len(last[4])


def _junk_title(t: str) -> bool:
    tl = t.lower().strip()
    return (len(tl) < 3 or tl in {"untitled", "unknown", "anonymous", "title", "document", "syllabus"}
            or tl.startswith(("microsoft word", "microsoft powerpoint", "untitled"))
            or bool(re.search(r"\.(docx?|pdf|odt|rtf|tex|indd|pages|pptx?)$", tl)))


def _ranges(nums: list[int]) -> str:
    out, i = [], 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ", ".join(out)


def _short(e: Exception) -> str:
    s = str(e).strip() or type(e).__name__
    return s if len(s) < 160 else s[:157] + "..."


# ============================================================================ lines -> blocks
_LABEL_LINE = re.compile(r"^[A-ZÀ-Þ][\w .'/&-]{0,30}:\s+\S")


def _is_caps_heading(t: str) -> bool:
    letters = [c for c in t if c.isalpha()]
    return (len(letters) >= 3 and all(c.isupper() for c in letters) and len(t.split()) <= 12
            and not t.rstrip().endswith((".", ",", ";")))


def _lines_to_blocks(lines: list[_Line], *, pdf: bool = False, headings: bool = True) -> list[_Block]:
    """Lines of text (a PDF page, a text file, a paragraph broken with <br>) -> blocks: list items
    by their markers, wrapped lines joined, headings by layout (``headings=False`` inside an HTML or
    DOCX paragraph, where only explicit heading markup counts)."""
    blocks: list[_Block] = []
    cur: _Block | None = None
    cur_x = 0.0
    cur_last = ""
    xs: list[float] = []  # indents of the open list levels
    for i, ln in enumerate(lines):
        t = ln.text.strip()
        if not t:
            continue
        mk = _split_marker(t)
        level = ln.heading
        if level is None and not mk and headings:
            if _is_caps_heading(t) and (ln.gap or cur is None):
                level = 2
            elif not pdf and ln.gap and _standalone(lines, i) and _looks_like_heading(t):
                level = 3
        if level is not None:
            blocks.append(_Block("heading", t, level=level, page=ln.page))
            cur, xs = None, []
            continue
        if mk:
            number, body = mk
            if cur is None or cur.kind != "item":
                xs = []
            while xs and ln.x < xs[-1] - 3:
                xs.pop()
            if not xs or abs(ln.x - xs[-1]) > 60:  # first item, or the next column
                xs = [ln.x]
            elif ln.x > xs[-1] + 3:
                xs.append(ln.x)
            depth = len(xs)
            cur = _Block("item", body, level=depth, number=number, page=ln.page)
            blocks.append(cur)
            cur_x, cur_last = ln.x, body
            continue
        if cur is not None and not ln.gap and not (not pdf and _LABEL_LINE.match(t)):
            if cur.kind == "item" and (ln.x > cur_x + 1 or not cur_last.rstrip().endswith((".", ";", "!", "?"))
                                       or not pdf):
                cur.text = _join(cur.text, t)
                cur_last = t
                continue
            if cur.kind == "para":
                cur.text = _join(cur.text, t)
                cur_last = t
                continue
        cur = _Block("para", t, page=ln.page)
        blocks.append(cur)
        cur_x, cur_last = ln.x, t
    return blocks


def _join(a: str, b: str) -> str:
    return a + b if a.endswith("-") and len(a) > 1 and a[-2].isalpha() and b[:1].islower() else a + " " + b


def _standalone(lines: list[_Line], i: int) -> bool:
    nxt = next((ln for ln in lines[i + 1:] if ln.text.strip()), None)
    return nxt is None or nxt.gap


def _looks_like_heading(t: str) -> bool:
    words = t.split()
    return (1 <= len(words) <= 8 and t[:1].isupper() and not t.rstrip(":").endswith((".", ",", ";", "!", "?"))
            and not _LABEL_LINE.match(t))


def _text_blocks(text: str) -> list[_Block]:
    """Plain text: blank lines separate paragraphs; form feeds (text saved from a PDF) separate pages,
    whose running headers and page numbers are dropped."""
    pages: list[list[_Line]] = []
    gap = True
    for page in text.replace("\r\n", "\n").replace("\r", "\n").split("\f"):
        lines: list[_Line] = []
        for r in page.split("\n"):
            s = r.rstrip()
            if not s.strip():
                gap = True
                continue
            if re.fullmatch(r"\s*(=+|-+|_+|\*+)\s*", s) and len(s.strip()) >= 3:
                if lines and not gap and s.strip()[0] in "=-":
                    lines[-1].heading = 1 if s.strip()[0] == "=" else 2
                gap = True
                continue
            m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", s)
            lines.append(_Line(_norm_ws(m.group(2) if m else s), x=len(s) - len(s.lstrip()), gap=gap,
                               heading=len(m.group(1)) if m else None))
            gap = False
        pages.append(lines)
    lines = [ln for pl in (_drop_furniture(pages) if len(pages) > 1 else pages) for ln in pl]
    # the first line is the title when it is short and not a sentence
    if lines and lines[0].heading is None and len(lines[0].text.split()) <= 15 \
            and not lines[0].text.endswith(".") and not _split_marker(lines[0].text):
        lines[0].heading = 1
    return _lines_to_blocks(lines)


# ============================================================================ DOCX
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_blocks(data: bytes, filename: str, max_bytes: int):
    _check_zip(data, filename, max_bytes)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        doc = docx.Document(io.BytesIO(data))
    except Exception as e:
        raise CorruptDocument(f"this DOCX is corrupt and cannot be read ({_short(e)})", file=filename) from None
    numfmt = _numbering_formats(doc)
    counters: dict[tuple[str, int], int] = {}
    blocks: list[_Block] = []
    tables = 0

    def para(p: Paragraph, in_cell=False):
        text = p.text or ""
        if not text.strip():
            return
        sname = ""
        try:
            sname = (p.style.name or "") if p.style is not None else ""
        except Exception:
            pass
        lname = sname.lower()
        hl = None
        if lname == "title":
            hl = 0
        elif m := re.match(r"heading\s*(\d)", lname):
            hl = int(m.group(1))
        else:
            ol = p._p.find(f"{_W}pPr/{_W}outlineLvl")
            if ol is not None and (v := ol.get(f"{_W}val", "")).isdigit() and int(v) < 9:
                hl = int(v) + 1
        if hl is not None and not in_cell:
            blocks.append(_Block("heading", text, level=hl))
            return
        num = _docx_numpr(p)
        if num is None and (lname.startswith("list bullet") or lname.startswith("list number")):
            num = ("style:" + lname, 0)
        if num is not None and not in_cell:
            num_id, ilvl = num
            fmt = numfmt.get((num_id, ilvl)) or ("decimal" if "number" in lname else "bullet")
            for k in [k for k in counters if k[0] == num_id and k[1] > ilvl]:
                del counters[k]
            counters[(num_id, ilvl)] = counters.get((num_id, ilvl), 0) + 1
            label = None if fmt in ("bullet", "none") else _label(fmt, counters[(num_id, ilvl)])
            depth = ilvl + 1 + (int(m.group(1)) - 1 if (m := re.search(r"(\d)$", lname)) else 0)
            for t in text.split("\n"):
                if t.strip():
                    blocks.append(_Block("item", t, level=depth, number=label))
                    label = None
            return
        runs = [r for r in p.runs if r.text.strip()]
        if (not in_cell and runs and all(r.bold for r in runs) and len(text.split()) <= 12
                and not text.rstrip().endswith(".")):
            blocks.append(_Block("heading", text, level=7))
            return
        if ("\n" in text or _split_marker(_norm_ws(text))) and not in_cell:
            blocks.extend(_lines_to_blocks([_Line(_norm_ws(t)) for t in text.split("\n") if t.strip()],
                                            headings=False))
            return
        blocks.append(_Block("para", text))

    def table(t: Table):
        nonlocal tables
        tables += 1
        tno = tables
        for r, row in enumerate(t.rows):
            seen = set()
            c = 0
            for cell in row.cells:
                if id(cell._tc) in seen:
                    continue
                seen.add(id(cell._tc))
                txt = _norm_ws(" ".join(p.text for p in cell.paragraphs))
                if txt:
                    blocks.append(_Block("cell", txt, table=tno, row=r, col=c))
                c += 1

    def body_items(el, depth=0):
        """Paragraphs and tables in document order, including those inside content controls (w:sdt)."""
        for child in el.iterchildren():
            if child.tag == f"{_W}p":
                yield Paragraph(child, doc._body)
            elif child.tag == f"{_W}tbl":
                yield Table(child, doc._body)
            elif child.tag in (f"{_W}sdt", f"{_W}customXml") and depth < 10:
                content = child.find(f"{_W}sdtContent") if child.tag == f"{_W}sdt" else child
                if content is not None:
                    yield from body_items(content, depth + 1)

    try:
        for item in body_items(doc.element.body):
            if isinstance(item, Table):
                table(item)
            else:
                para(item)
    except GapmapError:
        raise
    except Exception as e:
        raise CorruptDocument(f"this DOCX is corrupt: {_short(e)}", file=filename) from None
    meta_title = None
    try:
        meta_title = _norm_ws(doc.core_properties.title or "") or None
    except Exception:
        pass
    if meta_title and _junk_title(meta_title):
        meta_title = None
    return blocks, meta_title


def _check_zip(data: bytes, filename: str, max_bytes: int) -> None:
    """Zip-bomb and XML-entity checks on the raw DOCX before python-docx opens it."""
    from .safety import check_zip
    z = check_zip(data, filename, kind="DOCX", max_bytes=max_bytes,
                  unsafe=lambda msg, file: UnsafeDocument(msg, file=file),
                  corrupt=lambda msg, file: CorruptDocument(msg, file=file))
    infos = z.infolist()
    from .safety import XmlForbidden, check_xml_part

    for i in infos:
        if not i.filename.lower().endswith((".xml", ".rels")):
            continue
        try:
            raw = z.read(i)
        except Exception as e:  # bad CRC, truncated
            raise CorruptDocument(f"this DOCX is corrupt: part {i.filename} cannot be read ({_short(e)})",
                                  file=filename) from None
        try:
            check_xml_part(raw)
        except XmlForbidden:
            raise UnsafeDocument(f"the DOCX part {i.filename} has a DOCTYPE or entity declarations; refused",
                                 file=filename) from None
        except Exception as e:
            raise CorruptDocument(f"this DOCX is corrupt: part {i.filename} is not well-formed XML "
                                  f"({_short(e)})", file=filename) from None


def _docx_numpr(p) -> tuple[str, int] | None:
    """(numId, ilvl) from the paragraph's numPr or its style's; None when not in a list."""
    def from_ppr(ppr):
        if ppr is None:
            return None
        np_ = ppr.find(f"{_W}numPr")
        if np_ is None:
            return None
        nid = np_.find(f"{_W}numId")
        lvl = np_.find(f"{_W}ilvl")
        if nid is None or nid.get(f"{_W}val") in (None, "0"):
            return None
        return nid.get(f"{_W}val"), int(lvl.get(f"{_W}val", "0")) if lvl is not None else 0

    got = from_ppr(p._p.find(f"{_W}pPr"))
    if got:
        return got
    try:
        st = p.style
        while st is not None:
            got = from_ppr(st.element.find(f"{_W}pPr"))
            if got:
                return got
            st = st.base_style
    except Exception:
        pass
    return None


def _numbering_formats(doc) -> dict[tuple[str, int], str]:
    out: dict[tuple[str, int], str] = {}
    try:
        root = doc.part.numbering_part.element
    except Exception:
        return out
    abstract = {}
    for a in root.findall(f"{_W}abstractNum"):
        lv = {}
        for lvl in a.findall(f"{_W}lvl"):
            f = lvl.find(f"{_W}numFmt")
            lv[int(lvl.get(f"{_W}ilvl", "0"))] = f.get(f"{_W}val") if f is not None else "decimal"
        abstract[a.get(f"{_W}abstractNumId")] = lv
    for n in root.findall(f"{_W}num"):
        a = n.find(f"{_W}abstractNumId")
        if a is not None:
            for ilvl, fmt in abstract.get(a.get(f"{_W}val"), {}).items():
                out[(n.get(f"{_W}numId"), ilvl)] = fmt
    return out


def _label(fmt: str, n: int) -> str:
    if fmt == "lowerLetter":
        return f"{chr(96 + (n - 1) % 26 + 1)})"
    if fmt == "upperLetter":
        return f"{chr(64 + (n - 1) % 26 + 1)}."
    if fmt in ("lowerRoman", "upperRoman"):
        r = _roman(n)
        return (r.lower() if fmt == "lowerRoman" else r) + "."
    return f"{n}."


def _roman(n: int) -> str:
    out = ""
    for v, s in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                 (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= v:
            out, n = out + s, n - v
    return out


# ============================================================================ HTML
_BLOCK_TAGS = {"address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "div",
               "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup", "main",
               "p", "pre", "section", "summary", "caption", "html", "hr", "br"}
_SKIP_TAGS = {"script", "style", "noscript", "template", "nav", "head", "svg", "math", "iframe", "object",
              "button", "select", "option", "textarea"}


def _html_blocks(text: str):
    from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction

    soup = BeautifulSoup(text, "html.parser")
    head_title = None
    if soup.title and soup.title.string:
        head_title = _norm_ws(str(soup.title.string)) or None
    blocks: list[_Block] = []
    state = {"tables": 0}
    skip_types = (Comment, Declaration, Doctype, ProcessingInstruction)

    def inline_text(el, *, stop_lists=False) -> str:
        parts: list[str] = []

        def rec(node):
            for ch in node.children:
                if isinstance(ch, skip_types):
                    continue
                if isinstance(ch, NavigableString):
                    parts.append(str(ch))
                    continue
                name = ch.name.lower()
                if name in _SKIP_TAGS or (stop_lists and name in ("ul", "ol")):
                    continue
                if name == "br":
                    parts.append("\n")
                    continue
                if name in ("p", "div", "li", "tr", "dd", "dt"):
                    parts.append("\n")
                if name in ("td", "th"):
                    parts.append(" ")
                rec(ch)
                if name in ("p", "div"):
                    parts.append("\n")
        rec(el)
        return "".join(parts)

    def flush(buf: list[tuple[str, bool]]):
        t = "".join(x for x, _ in buf)
        emph = any(x.strip() for x, _ in buf) and all(e for x, e in buf if x.strip())
        buf.clear()
        one = _norm_ws(t)
        if emph and "\n" not in t.strip() and len(one.split()) <= 12 and not one.endswith("."):
            blocks.append(_Block("heading", one, level=7))  # a bold/large line on its own: a heading
            return
        emit_text(t)

    def emit_text(t: str):
        ls = [_norm_ws(x) for x in t.split("\n")]
        ls = [x for x in ls if x]
        if not ls:
            return
        if len(ls) == 1 and not _split_marker(ls[0]):
            blocks.append(_Block("para", ls[0]))
        else:
            blocks.extend(_lines_to_blocks([_Line(x) for x in ls], headings=False))

    def walk(el, depth: int):
        buf: list[tuple[str, bool]] = []
        for ch in el.children:
            if isinstance(ch, skip_types):
                continue
            if isinstance(ch, NavigableString):
                buf.append((str(ch), False))
                continue
            name = ch.name.lower()
            if name in _SKIP_TAGS:
                continue
            if name == "br":
                buf.append(("\n", False))
                continue
            if re.fullmatch(r"h[1-6]", name):
                flush(buf)
                t = _norm_ws(inline_text(ch))
                if t:
                    blocks.append(_Block("heading", t, level=int(name[1])))
            elif name in ("ul", "ol", "menu"):
                flush(buf)
                lst(ch, depth + 1)
            elif name == "table":
                flush(buf)
                if _layout_table(ch):
                    walk(ch, depth)  # a table used for page layout: its cells are ordinary containers
                else:
                    table(ch)
            elif name == "li":  # stray li outside a list
                flush(buf)
                li(ch, depth + 1, None)
            elif name in _BLOCK_TAGS or name in ("td", "th", "tr", "tbody", "thead", "tfoot"):
                flush(buf)
                walk(ch, depth)
            else:
                if any(getattr(d, "name", None) in ("ul", "ol", "table", "p", "div", "li")
                       or re.fullmatch(r"h[1-6]", getattr(d, "name", "") or "") for d in ch.descendants):
                    flush(buf)
                    walk(ch, depth)
                else:
                    buf.append((inline_text(ch), _emphasised(ch)))
        flush(buf)

    def lst(el, depth: int):
        ordered = el.name.lower() == "ol"
        n = _int(el.get("start"), 1) - 1
        kind = (el.get("type") or "1")
        for ch in el.children:
            if getattr(ch, "name", None) is None:
                continue
            if ch.name.lower() == "li":
                n = _int(ch.get("value"), n + 1)
                label = _ol_label(kind, n) if ordered else None
                li(ch, depth, label)
            elif ch.name.lower() in ("ul", "ol"):
                lst(ch, depth + 1)

    def li(el, depth: int, label):
        t = _norm_ws(inline_text(el, stop_lists=True))
        if t:
            blocks.append(_Block("item", t, level=depth, number=label))
        for sub in el.find_all(["ul", "ol"]):
            if sub.find_parent("li") is el:  # its own sub-lists, not deeper ones
                lst(sub, depth + 1)

    def table(el):
        state["tables"] += 1
        tno = state["tables"]
        for r, tr in enumerate(el.find_all("tr")):
            if tr.find_parent("table") is not el:
                continue
            c = 0
            for cell in tr.find_all(["td", "th"], recursive=False):
                t = _norm_ws(inline_text(cell))
                if t:
                    blocks.append(_Block("cell", t, table=tno, row=r, col=c))
                c += 1

    walk(soup, 0)
    return blocks, head_title


def _emphasised(el, depth: int = 0) -> bool:
    """Bold, or a large <font>/<big>, all the way through (a visual heading in old or CMS HTML)."""
    from bs4 import NavigableString

    name = (el.name or "").lower()
    if name in ("b", "strong", "big"):
        return True
    if name == "font" and re.fullmatch(r"\+?[4-7]", (el.get("size") or "").strip()):
        return True
    if depth > 20 or name not in ("font", "span", "a", "u", "i", "em", "center", "small"):
        return False
    kids = [c for c in el.children if not (isinstance(c, NavigableString) and not str(c).strip())]
    return bool(kids) and all(not isinstance(c, NavigableString) and _emphasised(c, depth + 1) for c in kids)


def _layout_table(t) -> bool:
    """A table used to lay out a page, not to hold data: cells with headings, lists, tables or several
    paragraphs."""
    if (t.get("role") or "").lower() in ("presentation", "none"):
        return True
    for cell in t.find_all(["td", "th"]):
        if cell.find_parent("table") is not t:
            continue
        if cell.find(["h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "form"]) is not None:
            return True
        if len(cell.find_all(["p", "div"])) >= 2 or len(cell.find_all("br")) >= 2:
            return True
    return False


def _all_strong(p) -> bool:
    from bs4 import NavigableString

    strong = False
    for ch in p.children:
        if isinstance(ch, NavigableString):
            if str(ch).strip():
                return False
        elif ch.name in ("strong", "b"):
            strong = True
        else:
            return False
    return strong


def _int(v, default: int) -> int:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return default


def _ol_label(kind: str, n: int) -> str:
    if kind == "a":
        return f"{chr(96 + (n - 1) % 26 + 1)}."
    if kind == "A":
        return f"{chr(64 + (n - 1) % 26 + 1)}."
    if kind in ("i", "I"):
        r = _roman(max(n, 1))
        return (r.lower() if kind == "i" else r) + "."
    return f"{n}."


# ============================================================================ Markdown
def _markdown_blocks(text: str) -> list[_Block]:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    tokens = md.parse(text)
    blocks: list[_Block] = []
    lists: list[dict] = []      # stack: {"ordered", "n"}
    items: list[dict] = []      # stack of open list items: {"block", "label", "depth"}
    tables = 0
    row = col = -1
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        typ = tok.type
        if typ == "heading_open":
            t = _md_inline(tokens[i + 1])
            if t:
                blocks.append(_Block("heading", t, level=int(tok.tag[1])))
            i += 3
            continue
        if typ in ("bullet_list_open", "ordered_list_open"):
            lists.append({"ordered": typ == "ordered_list_open"})
        elif typ in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif typ == "list_item_open":
            label = None
            if lists and lists[-1]["ordered"]:
                label = f"{tok.info}{tok.markup}" if tok.info else None
            items.append({"block": None, "label": label, "depth": len(lists)})
        elif typ == "list_item_close":
            items.pop()
        elif typ == "inline":
            t = _md_inline(tok)
            parent = tokens[i - 1] if i else None
            if not t:
                pass
            elif parent is not None and parent.type in ("th_open", "td_open"):
                col += 1
                blocks.append(_Block("cell", t, table=tables, row=row, col=col))
            elif items:
                it = items[-1]
                lines = [x.strip() for x in (tok.content or "").split("\n") if x.strip()]
                if it["block"] is None and len(lines) > 1 and any(_split_marker(x) for x in lines[1:]):
                    # "a. ..." sub-items that CommonMark does not take for a list lazily continue the
                    # item's paragraph: split them back into items one level deeper
                    groups: list[list] = []
                    for x in lines:
                        mk = _split_marker(x)
                        if mk and groups:
                            groups.append([mk[0], mk[1]])
                        elif groups:
                            groups[-1][1] += " " + x
                        else:
                            groups.append([None, x])
                    it["block"] = _Block("item", _norm_ws(groups[0][1]), level=it["depth"], number=it["label"])
                    blocks.append(it["block"])
                    for mk, x in groups[1:]:
                        blocks.append(_Block("item", _norm_ws(x), level=it["depth"] + 1, number=mk))
                elif it["block"] is None:
                    it["block"] = _Block("item", t, level=it["depth"], number=it["label"])
                    blocks.append(it["block"])
                else:
                    blocks.append(_Block("para", t))
            else:
                if tok.children and _md_all_strong(tok) and len(t.split()) <= 12 and not t.endswith("."):
                    blocks.append(_Block("heading", t, level=7))
                elif "\n" in (tok.content or "") and any(_split_marker(x.strip()) for x in tok.content.split("\n")):
                    blocks.extend(_lines_to_blocks([_Line(_norm_ws(x)) for x in tok.content.split("\n")
                                                    if x.strip()], headings=False))
                else:
                    blocks.append(_Block("para", t))
        elif typ == "table_open":
            tables += 1
            row = -1
        elif typ == "tr_open":
            row += 1
            col = -1
        elif typ == "html_block":
            sub, _ = _html_blocks(tok.content)
            blocks.extend(sub)
        i += 1
    return blocks


def _md_inline(tok) -> str:
    parts: list[str] = []
    for ch in tok.children or []:
        if ch.type in ("text", "code_inline"):
            parts.append(ch.content)
        elif ch.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif ch.type == "image":
            parts.append(ch.content or "")
    return _norm_ws("".join(parts))


def _md_all_strong(tok) -> bool:
    depth, saw = 0, False
    for ch in tok.children:
        if ch.type == "strong_open":
            depth += 1
            saw = True
        elif ch.type == "strong_close":
            depth -= 1
        elif ch.type == "text" and ch.content.strip() and depth == 0:
            return False
    return saw


# ============================================================================ assembly
def _assemble(blocks: list[_Block]) -> str:
    """Normalise block text, drop empty blocks (in place) and lay out the plain text."""
    kept = []
    for b in blocks:
        b.text = _norm_ws(b.text)
        if b.text:
            kept.append(b)
    blocks[:] = kept
    out: list[str] = []
    pos = 0
    prev: _Block | None = None
    for k, b in enumerate(blocks, 1):
        if prev is None:
            sep = ""
        elif b.kind == "cell" and prev.kind == "cell" and prev.table == b.table and prev.row == b.row:
            sep = " | "
        elif b.kind == "heading":
            sep = "\n\n"
        else:
            sep = "\n"
        if b.kind == "item":
            prefix = "  " * max(b.level - 1, 0) + (b.number or "-") + " "
        else:
            prefix = ""
        chunk = sep + prefix
        out.append(chunk)
        pos += len(chunk)
        b.start = pos
        b.index = k
        out.append(b.text)
        pos += len(b.text)
        prev = b
    return "".join(out)


def _title(blocks: list[_Block], meta_title: str | None, fmt: str) -> str | None:
    heads = [b for b in blocks if b.kind == "heading"]
    if fmt == "pdf" and meta_title:
        return meta_title
    for b in heads:
        if b.level == 0:
            return b.text
    top = [b for b in heads if b.level == 1]
    if top and blocks.index(top[0]) <= 3:
        return top[0].text
    if blocks and blocks[0].kind == "heading":  # a bold or large first line is the visible title
        return blocks[0].text
    if meta_title:
        return meta_title
    if heads and blocks.index(heads[0]) <= 3 and heads[0].level < 7:
        return heads[0].text
    for b in blocks:
        if len(b.text.split()) <= 20:
            return b.text
        break
    return None


_CODE = re.compile(r"\b([A-Z][A-Za-z]{1,5})([ \-]?)(\d{3,4}[A-Z]?)\b")
_CODE_STOP = {"ISBN", "ISSN", "ICD", "DSM", "COVID", "SARS", "ECTS", "DOI", "PMID", "ISO", "HL", "PO", "TEL",
              "FAX", "ROOM", "RM", "PAGE", "PP", "VOL", "NO", "ZIP", "PIN", "CEO", "HIV", "ATLS", "NHS", "NICE",
              "BMJ", "JAMA", "NEJM", "WHO", "CDC", "ECG", "EKG", "CT", "MRI", "ICU", "ED", "AE", "BUS", "TEAM", "GROUP",
              "LAB", "WARD", "BED", "BLDG", "BUILDING", "AMC", "OSCE", "MCQ", "SBA", "RCT", "UK", "USA", "EU"}
_MONTHS = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "SEPT", "OCT", "NOV", "DEC",
           "JANUARY", "FEBRUARY", "MARCH", "APRIL", "JUNE", "JULY", "AUGUST", "SEPTEMBER", "OCTOBER",
           "NOVEMBER", "DECEMBER", "SPRING", "SUMMER", "AUTUMN", "FALL", "WINTER", "YEAR", "WEEK"}


def _course_code(title: str | None, text: str) -> str | None:
    def find(s: str):
        for m in _CODE.finditer(s):
            prefix = m.group(1)
            if not prefix.isupper():
                continue
            if prefix in _CODE_STOP or prefix in _MONTHS:
                continue
            if re.fullmatch(r"(19|20)\d\d", m.group(3)) and m.group(2) == " ":  # "MARCH 2026", "WHO 2020"
                continue
            return m.group(0)
        return None

    if title and (c := find(title)):
        return c
    for m in re.finditer(r"(?i)(?:course|module|subject|unit)\s*(?:code|no\.?|number)|kurs(?:nummer|code)"
                         r"|modulnummer|c[oó]digo", text[:5000]):
        if c := find(text[m.end():m.end() + 60]):
            return c
    return find(text[:3000])


# ============================================================================ language
_STOP = {
    "en": "the and of to in is for with will be are on this by an as that students from or at can their".split(),
    "de": "der die das und ist mit für von den des im auf ein eine zu nicht werden sich dem sind oder können "
          "studierenden".split(),
    "es": "el la los las de del y en que con por para una un se es al como su sus estudiante será".split(),
    "fr": "le la les des du de et en est pour une un dans que sur au aux avec ce cours étudiant sera".split(),
}


def detect_language(text: str) -> str | None:
    """'en', 'de', 'es' or 'fr' by stop-word counts; None when too little text to tell."""
    words = re.findall(r"[a-zà-öø-ÿ']+", text.lower())
    counts = Counter(words)
    scores = {lang: sum(counts[w] for w in set(ws)) for lang, ws in _STOP.items()}
    best = max(scores, key=scores.get)
    if scores[best] < 3:
        return None
    return best


# ============================================================================ Bloom verbs
_BLOOM: dict[str, dict[str, str]] = {}


def _add(lang: str, level: str, words: str) -> None:
    for w in words.split():
        _BLOOM.setdefault(lang, {})[w] = level


_add("en", "remember", "define list name recall recognise recognize identify state label memorise memorize "
                       "repeat reproduce cite enumerate know locate match record")
_add("en", "understand", "describe explain summarise summarize discuss interpret paraphrase outline illustrate "
                         "report review restate classify understand clarify trace relate comprehend "
                         "exemplify infer predict")
_add("en", "apply", "apply demonstrate perform use calculate administer conduct execute implement solve practise "
                    "practice prescribe measure obtain elicit take employ operate manage communicate counsel "
                    "document present interview examine carry show undertake complete")
_add("en", "analyze", "analyse analyze compare contrast differentiate distinguish categorise categorize correlate "
                      "investigate deconstruct diagnose discriminate organise organize attribute "
                      "question test")
_add("en", "evaluate", "evaluate assess appraise critique judge justify defend prioritise prioritize recommend "
                       "select argue decide weigh rate reflect critically verify monitor")
_add("en", "create", "create design develop construct formulate plan compose devise generate propose produce "
                     "synthesise synthesize integrate write build invent prepare adapt")
_add("de", "remember", "nennen aufzählen benennen definieren wiedergeben angeben kennen erkennen aufführen "
                       "auflisten identifizieren")
_add("de", "understand", "beschreiben erklären erläutern zusammenfassen darstellen interpretieren verstehen "
                         "einordnen wiedergeben")
_add("de", "apply", "anwenden durchführen berechnen demonstrieren einsetzen umsetzen verordnen dokumentieren "
                    "erheben untersuchen kommunizieren beraten aufklären handhaben")
_add("de", "analyze", "analysieren vergleichen unterscheiden differenzieren ableiten zuordnen abgrenzen "
                      "herleiten")
_add("de", "evaluate", "beurteilen bewerten einschätzen begründen prüfen abwägen entscheiden priorisieren "
                       "reflektieren")
_add("de", "create", "entwickeln entwerfen erstellen planen gestalten konzipieren formulieren")
_add("es", "remember", "definir enumerar nombrar identificar reconocer recordar listar mencionar citar")
_add("es", "understand", "describir explicar resumir interpretar clasificar discutir comprender ilustrar")
_add("es", "apply", "aplicar realizar demostrar calcular utilizar usar ejecutar emplear practicar administrar "
                    "manejar prescribir")
_add("es", "analyze", "analizar comparar diferenciar distinguir examinar relacionar contrastar")
_add("es", "evaluate", "evaluar valorar juzgar justificar argumentar priorizar criticar")
_add("es", "create", "diseñar elaborar crear desarrollar formular planificar proponer construir")
_add("fr", "remember", "définir énumérer nommer citer identifier reconnaître lister")
_add("fr", "understand", "décrire expliquer résumer interpréter classer discuter comprendre illustrer")
_add("fr", "apply", "appliquer réaliser effectuer démontrer calculer utiliser employer pratiquer administrer "
                    "prescrire")
_add("fr", "analyze", "analyser comparer différencier distinguer examiner")
_add("fr", "evaluate", "évaluer juger justifier argumenter critiquer apprécier hiérarchiser prioriser")
_add("fr", "create", "concevoir élaborer créer développer formuler planifier proposer construire")
# Issue 9: a fuller taxonomy (revised Bloom action-verb lists as medical schools publish them, plus the
# psychomotor and affective verbs clinical objectives start with).  setdefault: the levels above win.
for _lvl, _words in (
        ("remember", "arrange duplicate order outline-list quote reproduce select-from tabulate tell "
                     "underline memorize memorise name-the retrieve"),
        ("understand", "convert discuss estimate express extend generalise generalize give indicate "
                       "locate-on recognise-that rephrase translate articulate characterise characterize "
                       "depict detail recount acknowledge"),
        ("apply", "administer change choose compute dramatise dramatize employ interview-a modify obtain "
                  "operate prepare-a produce-a schedule sketch treat assist act adhere advocate auscultate "
                  "collaborate communicate comply conduct consult coordinate co-ordinate counsel deliver "
                  "delegate disclose educate elicit engage escalate explain-to facilitate follow gather "
                  "give handle help inform initiate insert instruct introduce lead listen maintain "
                  "mentor model negotiate palpate participate partner perform provide record refer reconcile "
                  "reassure respond resuscitate share speak suture support teach triage utilise utilize "
                  "write-up empathise empathize interact collect consent apologise apologize "
                  "accommodate abide attend contribute cooperate co-operate display exhibit greet "
                  "incorporate intervene mobilise mobilize notify order place protect recognize-and "
                  "respect seek serve take-part uphold volunteer"),
        ("analyze", "audit break-down calculate-the characterise-the deduce detect diagram dissect examine-the "
                    "explore inspect interpret-the outline-the point-out separate subdivide survey "
                    "troubleshoot map probe scrutinise scrutinize"),
        ("evaluate", "appraise conclude consider convince criticise criticize determine discriminate-between "
                     "estimate-the grade interpret-and measure-the predict-the rank reframe review-and score "
                     "summarise-and support-the triage-and validate value challenge confirm balance"),
        ("create", "adapt anticipate arrange-for collaborate-on combine compile compose construct create "
                   "devise facilitate-a hypothesise hypothesize initiate-a innovate modify-a negotiate-a "
                   "organise-a originate plan-and rearrange reconstruct reorganise revise rewrite set-up "
                   "structure tailor lead-a")):
    for _w in _words.split():
        if "-" in _w and _w not in ("co-ordinate", "co-operate", "write-up", "take-part", "break-down", "set-up"):
            continue  # phrase hints kept for readers of this list, not single verbs
        _BLOOM["en"].setdefault(_w, _lvl)
del _BLOOM["en"]["critically"]  # an adverb, skipped before the verb

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.U)
_SKIP_LEAD = {"to", "be", "able", "will", "should", "can", "also", "and", "then", "effectively", "accurately",
              "safely", "independently", "competently", "appropriately", "confidently", "correctly", "clearly"}


def _lemma_en(w: str) -> str | None:
    t = _BLOOM["en"]
    if w in t:
        return w
    for suf, rep in (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e")):
        if w.endswith(suf) and (w[: -len(suf)] + rep) in t:
            return w[: -len(suf)] + rep
    return None


def _lookup(w: str, langs: list[str]) -> tuple[str, str] | None:
    w = w.lower().strip("'’")
    for lang in langs:
        if lang == "en":
            lem = _lemma_en(w)
            if lem:
                return _BLOOM["en"][lem], lem
        elif w in _BLOOM.get(lang, {}):
            return _BLOOM[lang][w], w
        elif lang == "es" and (m := re.fullmatch(r"(.+[aei])rá(n)?", w)) and (m.group(1) + "r") in _BLOOM["es"]:
            return _BLOOM["es"][m.group(1) + "r"], m.group(1) + "r"
    return None


def _langs(lang: str | None) -> list[str]:
    return [lang] + [x for x in ("en", "de", "es", "fr") if x != lang] if lang in _BLOOM else ["en", "de", "es", "fr"]


def bloom_level(text: str, language: str | None = None) -> tuple[str | None, str | None]:
    """(level, verb) for an objective: its leading action verb, or the verb after "students will ... ",
    or (German) the infinitive at the end; (None, None) when no verb from the tables is found."""
    langs = _langs(language)
    m = _MODAL.search(text)
    if m:
        hit = _lookup(m.group("verb"), langs)
        if hit:
            return hit
    m = _MODAL_OTHER.search(text)
    if m:
        after = _WORD.findall(text[m.end():])[:3]
        for w in after:
            hit = _lookup(w, langs)
            if hit:
                return hit
    words = _WORD.findall(text)
    lead = [w for w in words[:6]]
    k = 0
    while k < len(lead) and (lead[k].lower() in _SKIP_LEAD or lead[k].lower() in _BLOOM_ADVERBS
                             or (lead[k].lower().endswith("ly") and k < 3 and not _lookup(lead[k], langs))):
        k += 1
    if k < len(lead):
        hit = _lookup(lead[k], langs)
        if hit:
            return hit
    # verb-final languages and "die Studierenden können ... erklären": scan from the end
    if "de" in langs[:1] or language is None:
        for w in reversed(words[-4:]):
            hit = _lookup(w, ["de"])
            if hit:
                return hit
    return None, None


_MODAL = re.compile(
    r"\b(?:students?|learners?|participants?|trainees?|graduates?|you|they|we|candidates?|residents?)\s+"
    r"(?:will|should|must|shall|can|are\s+expected\s+to)\s+(?:also\s+)?"
    r"(?:be\s+(?:able|expected|prepared|ready)\s+to\s+|learn\s+(?:how\s+)?to\s+|have\s+the\s+ability\s+to\s+)?"
    r"(?:\w+ly\s+)?(?P<verb>[a-z]+)", re.I)
_MODAL_OTHER = re.compile(
    r"(?i)\b(?:(?:die\s+)?studierenden\s+(?:können|sollen|lernen|sind\s+in\s+der\s+lage)"
    r"|(?:el|la|los|las)\s+(?:estudiantes?|alumn[oa]s?)\s+(?:será[n]?\s+capa(?:z|ces)\s+de|podrá[n]?|deberá[n]?)"
    r"|(?:l['’]|les\s+)étudiant(?:e|s|es)?\s+(?:sera(?:it)?|seront|pourra|pourront|doi[vt]ent?)\b)")


# ============================================================================ objectives
_HEADING_PATTERNS = [re.compile(p, re.I) for p in (
    r"^(?:(?:specific|general|key|main|core|overall|intended|expected|course|module|clerkship|session|block|"
    r"programme|program|unit|lecture|rotation|placement)\s+)*(?:learning\s+|educational\s+|instructional\s+|"
    r"teaching\s+|course\s+|module\s+|performance\s+|behavio(?:u)?ral\s+)?(?:objectives?|outcomes?|goals?|aims?)"
    r"(?:\s+and\s+(?:objectives|outcomes|goals))?(?:\s*\(.*\))?$",
    r"^(?:(?:intended|expected|specific)\s+)?learning\s+(?:objectives?|outcomes?|goals?|aims?)\b",
    r"^(?:aims|goals)\s+and\s+(?:objectives|outcomes)\b",
    r"^(?:ilos?|slos?|clos?|los)$",
    r"^(?:by|at)\s+the\s+end\s+of\s+(?:this|the)\b",
    r"^(?:up)?on\s+(?:the\s+)?(?:successful\s+)?completion\s+of\b",
    r"^after\s+(?:successfully\s+)?(?:completing|finishing)\b",
    r"^(?:the\s+)?(?:students?|learners?|participants?|trainees?|you)\s+(?:will|should|can|shall)\b",
    r"^what\s+(?:you|students)\s+will\s+learn",
    r"^(?:lern|qualifikations|kompetenz|bildungs)?ziele\b",
    r"^lern(?:ergebnisse|inhalte\s+und\s+ziele)\b",
    r"^(?:am\s+ende|nach\s+(?:dem\s+)?(?:erfolgreichen?\s+)?(?:abschluss|teilnahme|besuch))\b",
    r"^(?:die\s+)?studierenden\s+(?:können|sollen|sind\s+in\s+der\s+lage)\b",
    r"^(?:objetivos?|resultados\s+(?:de|del)\s+aprendizaje|competencias)\b",
    r"^al\s+(?:finalizar|final|terminar|concluir|término)\b",
    r"^(?:el|la|los|las)\s+(?:estudiantes?|alumn[oa]s?)\s+(?:será[n]?|podrá[n]?|deberá[n]?)\b",
    r"^(?:objectifs?|acquis\s+d|résultats\s+d['’]apprentissage|compétences\s+visées)",
    r"^(?:à|a)\s+la\s+fin\s+d",
    r"^(?:au\s+terme|à\s+l['’]issue)\s+d",
    r"^(?:l['’]|les\s+)étudiant",
)]
_OBJ_COLUMN = re.compile(r"(?i)objective|outcome|goal|lernziel|ziel|objetivo|resultado|objectif|acquis|competenc")
_NUMBERISH = re.compile(r"^(?:[A-Z]{0,4}\s?\d{1,3}(?:\.\d{1,3})*[.)]?|[a-z][.)])$")
_NOUN_NEXT = {"of", "is", "are", "was", "were", "will", "can", "has", "have", "takes", "take", "sessions",
              "session", "room", "rooms", "materials", "team", "list", "lists", "plan", "plans", "dates", "date",
              "week", "weeks", "day", "days", "time", "times"}


def _clean_heading(t: str) -> str:
    """Lower case, without a leading section number or "Week 3:" / "Session 2 -" / "Lecture 4." prefix."""
    t = t.strip().lower()
    t = re.sub(r"^(?:section|part|chapter|teil|parte|partie)?\s*(?:\d+(?:\.\d+)*|[ivx]+|[a-z])[.):\-]?\s+", "", t)
    t = re.sub(r"^(?:week|session|lecture|day|block|unit|module|topic|seminar|tutorial|practical|woche|sitzung|"
               r"semana|sesión|sesion|tema|semaine|séance|seance)\s*\d+[a-z]?\s*[:.\-\u2013\u2014]?\s*", "", t)
    return t.strip(" :.-\u2013\u2014\t")


#: phrases that name an objectives section wherever they stand in a short heading
_STRONG_HEADING = re.compile(
    r"\b(?:learning|educational|instructional)\s+(?:objectives?|outcomes?)\b|\blernziele\b|\blernergebnisse\b"
    r"|objetivos\s+(?:de\s+aprendizaje|docentes|formativos)|resultados\s+de\s+aprendizaje"
    r"|objectifs\s+(?:d['’]apprentissage|pédagogiques|de\s+formation)|acquis\s+d['’]apprentissage", re.I)


def _is_objective_heading(t: str) -> bool:
    c = _clean_heading(t)
    if not c or len(c.split()) > 16:
        return False
    return any(p.search(c) for p in _HEADING_PATTERNS) or (len(c.split()) <= 10 and bool(_STRONG_HEADING.search(c)))


def _is_lead_in(b: _Block, nxt: _Block | None) -> bool:
    if b.kind not in ("para", "heading"):
        return False
    c = _clean_heading(b.text)
    if len(c.split()) > 30 or not any(p.search(c) for p in _HEADING_PATTERNS):
        return False
    return b.text.rstrip().endswith(":") or (nxt is not None and nxt.kind in ("item", "cell"))


def _objective_like_start(t: str, langs: list[str]) -> tuple[str, str] | None:
    """(level, verb) when the text starts with an imperative/infinitive action verb."""
    words = _WORD.findall(t)
    if len(words) < 3:
        return None
    k = 0
    while k < min(3, len(words)) and (words[k].lower() in ("to", "be", "able") or
                                       words[k].lower() in _BLOOM_ADVERBS):
        k += 1
    if k >= len(words) or not words[k][:1].isalpha():
        return None
    w = words[k]
    if words[k + 1: k + 2] and words[k + 1].lower() in _NOUN_NEXT:
        return None
    for lang in langs:
        tbl = _BLOOM.get(lang, {})
        if lang == "en":
            if w.lower() in tbl:  # the bare imperative only, not "describes"
                return tbl[w.lower()], w.lower()
        elif w.lower() in tbl:
            return tbl[w.lower()], w.lower()
    return None


_BLOOM_ADVERBS = {"critically", "accurately", "safely", "independently", "competently", "appropriately",
                  "confidently", "correctly", "clearly", "effectively", "systematically", "briefly"}


#: verbs too common in practical instructions ("Use the side entrance", "Complete the form") to mark a
#: sentence as an objective on their own in the sentence fallback (they still count in lists)
_GENERIC_IMPERATIVES = set("""use take complete show carry record present prepare write select test question review
report list name state match locate know document build manage monitor verify communicate practise practice plan
rate attribute decide organise organize measure repeat operate label undertake obtain realizar utilizar usar
nennen angeben einsetzen utiliser employer""".split())


def _objective_like_sentence(t: str, lang: str | None) -> bool:
    langs = _langs(lang)
    if len(_WORD.findall(t)) < 4:
        return False
    start = _objective_like_start(t, langs)
    if start and start[1] not in _GENERIC_IMPERATIVES:
        return True
    m = _MODAL.search(t)
    if m and _lookup(m.group("verb"), ["en"]):
        return True
    if _MODAL_OTHER.search(t):
        lvl, _ = bloom_level(t, lang)
        return lvl is not None
    if lang == "de" or lang is None:
        words = _WORD.findall(t)
        if words and _lookup(words[-1], ["de"]) and len(words) <= 25 and words[0][:1].islower():
            return True
    return False


def _objectives(blocks: list[_Block], lang: str | None) -> list[ExtractedObjective]:
    picked: list[tuple[_Block, int, int, str]] = []  # block, start, end (in block), method
    seen: set[int] = set()

    def take(b: _Block, method: str, s: int = 0, e: int | None = None):
        key = id(b) if e is None else (id(b), s)
        if key in seen:
            return
        seen.add(key)
        picked.append((b, s, len(b.text) if e is None else e, method))

    n = len(blocks)
    i = 0
    langs = _langs(lang)
    while i < n:
        b = blocks[i]
        nxt = blocks[i + 1] if i + 1 < n else None
        if b.kind == "heading" and _is_objective_heading(b.text):
            j = i + 1
            while j < n:
                if blocks[j].kind == "heading" and blocks[j].level <= b.level:
                    # a sub-heading set at the same level (bold body text) that the numbering runs across
                    if not (blocks[j].level == b.level and _continues(blocks[i + 1:j], j, blocks)):
                        break
                j += 1
            _section(blocks[i + 1:j], take, langs)
            i = j
            continue
        if _is_lead_in(b, nxt):
            j = i + 1
            if nxt is not None and nxt.kind == "cell":
                t = nxt.table
                while j < n and blocks[j].kind == "cell" and blocks[j].table == t:
                    j += 1
                _table(blocks[i + 1:j], take, under_heading=True, langs=langs)
            else:
                while j < n and blocks[j].kind == "item":
                    j += 1
                _items(blocks[i + 1:j], take, langs)
            i = max(j, i + 1)
            continue
        if b.kind == "cell" and b.row == 0:
            j = i
            while j < n and blocks[j].kind == "cell" and blocks[j].table == b.table:
                j += 1
            _table(blocks[i:j], take, under_heading=False, langs=langs)
            i = max(j, i + 1)
            continue
        i += 1

    if not picked:
        for b in blocks:
            if b.kind == "heading":
                continue
            for s, e in _sentences(b.text):
                if _objective_like_sentence(b.text[s:e], lang):
                    take(b, "sentence", s, e)
    out = []
    for b, s, e, method in sorted(picked, key=lambda p: (p[0].start + p[1])):
        text = b.text[s:e]
        number = b.number if method != "sentence" else None
        if method != "sentence" and number is None:
            mk = _split_marker(text)
            if mk and mk[0]:
                number, rest = mk
                s += len(text) - len(rest)
                text = rest
        level, verb = bloom_level(text, lang)
        out.append(ExtractedObjective(text=text, number=number if method != "table" else b.number,
                                      page=b.page, paragraph=b.index, char_start=b.start + s,
                                      char_end=b.start + s + len(text), bloom_level=level, verb=verb,
                                      method=method))
    return out


def _items(items: list[_Block], take, langs: list[str]) -> None:
    """Top-level items are objectives unless they only introduce sub-items ("Knowledge:", "Students
    will:"); sub-items are objectives when their parent was such a label or when they start with an
    action verb themselves (otherwise they are details of the parent: "including: - hand hygiene")."""
    if not items:
        return
    top = min(b.level for b in items)
    skipped: dict[int, bool] = {}  # level -> was the latest item at that level a skipped label?
    for k, b in enumerate(items):
        nxt = items[k + 1] if k + 1 < len(items) else None
        has_children = nxt is not None and nxt.level > b.level
        parent_skipped = next((skipped[lv] for lv in sorted(skipped, reverse=True) if lv < b.level), False)
        label = has_children and (_is_lead_in(b, nxt) or _is_objective_heading(b.text) or (
            b.text.rstrip().endswith(":") and len(b.text.split()) <= 4) or _category_label(b, nxt, langs))
        skipped = {lv: v for lv, v in skipped.items() if lv < b.level}
        skipped[b.level] = label
        if label:
            continue
        if b.level == top or parent_skipped or _objective_like_start(b.text, langs):
            take(b, "list")


def _category_label(b: _Block, child: _Block, langs: list[str]) -> bool:
    """A short item without an action verb or a full stop whose first sub-item is an objective: a category
    (a numbered competency domain such as "1. Patient Care" over "a. Elicit ..."), not an objective."""
    t = b.text.strip()
    return (len(t.split()) <= 8 and not t.endswith((".", ";")) and _objective_like_start(t, langs) is None
            and _objective_like_start(child.text, langs) is not None)


def _numeric(label: str | None) -> int | None:
    m = re.match(r"^\(?(\d{1,3})[.)]?$", (label or "").strip())
    return int(m.group(1)) if m else None


def _continues(sec: list[_Block], heading_at: int, blocks: list[_Block]) -> bool:
    """Whether the list of an objectives section goes on after a sub-heading at ``blocks[heading_at]``:
    the item right after it continues the section's numbering ("4." after "3."), or the section so far is
    only a lead-in ending with ':' and items follow (typed numbering under bold sub-headings)."""
    nxt = blocks[heading_at + 1] if heading_at + 1 < len(blocks) else None
    if nxt is None or nxt.kind != "item":
        return False
    nums = [_numeric(b.number) for b in sec if b.kind == "item" and _numeric(b.number) is not None]
    if nums:
        return _numeric(nxt.number) == nums[-1] + 1
    body = [b for b in sec if b.kind != "heading"]
    return bool(body) and all(b.kind == "para" for b in body) and body[-1].text.rstrip().endswith(":")


def _section(sec: list[_Block], take, langs: list[str]) -> None:
    """Objectives in the body of an objectives heading."""
    open_ = True
    collected = 0
    run: list[_Block] = []
    k = 0
    while k < len(sec):
        b = sec[k]
        nxt = sec[k + 1] if k + 1 < len(sec) else None
        if b.kind == "item":
            if open_:
                run.append(b)
            k += 1
            continue
        if run:
            _items(run, take, langs)
            collected += len(run)
            run = []
        if b.kind == "heading":
            open_ = True
        elif b.kind == "cell":
            j = k
            while j < len(sec) and sec[j].kind == "cell" and sec[j].table == b.table:
                j += 1
            _table(sec[k:j], take, under_heading=True, langs=langs)
            k = j
            continue
        elif b.kind == "para":
            if _is_lead_in(b, nxt) or b.text.rstrip().endswith(":"):
                open_ = True
            elif _objective_like_start(b.text, langs) and len(b.text) < 400:
                take(b, "list")
                collected += 1
            elif collected:
                open_ = False
        k += 1
    if run:
        _items(run, take, langs)


def _table(cells: list[_Block], take, *, under_heading: bool, langs: list[str] = ("en",)) -> None:
    if not cells:
        return
    rows: dict[int, list[_Block]] = {}
    for c in cells:
        rows.setdefault(c.row, []).append(c)
    order = sorted(rows)
    header = rows[order[0]]
    col = None
    for c in header:
        if _OBJ_COLUMN.search(c.text) and len(c.text.split()) <= 6:
            col = c.col
            break
    body = order[1:] if col is not None else order
    if col is None:
        if not under_heading:
            return
        # the column with the longest text on average
        lens: dict[int, list[int]] = {}
        for r in order:
            for c in rows[r]:
                lens.setdefault(c.col, []).append(len(c.text))
        col = max(lens, key=lambda k: sum(lens[k]) / len(lens[k]))
        if len(rows[order[0]]) > 1 and all(len(c.text.split()) <= 4 for c in rows[order[0]]) and len(order) > 1:
            body = order[1:]
    for r in body:
        target = next((c for c in rows[r] if c.col == col), None)
        if target is None or len(target.text.split()) < 3:
            continue
        if not under_heading and not (_objective_like_start(target.text, list(langs))
                                      or len(target.text.split()) >= 6):
            continue  # "PLO 3 Scholar" in a mapping table is not an objective
        num = next((c.text for c in rows[r] if c.col != col and c.col < col and _NUMBERISH.match(c.text)), None)
        if num and target.number is None:
            target.number = num
        take(target, "table")


_ABBREV = {"dr", "prof", "mr", "mrs", "ms", "e.g", "i.e", "etc", "vs", "cf", "approx", "fig", "no", "nr", "st",
           "z.b", "bzw", "ca", "sr", "sra", "p.ej", "pr", "mme", "dra", "jr", "al", "inc", "ltd", "dept", "min",
           "max", "vol", "ed", "eds", "pp", "resp", "incl", "u.a", "d.h", "usw", "vgl", "ggf"}


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) in a block's text."""
    spans, start = [], 0
    for m in re.finditer(r"[.!?;]+[\"”’')\]]*\s+(?=[\"“‘(¿¡]?[A-ZÀ-ÖØ-Þ])", text):
        end = m.start() + len(m.group(0).rstrip())
        before = text[start:m.start()]
        last = re.search(r"([\w.]+)$", before)
        tok = last.group(1).lower().rstrip(".") if last else ""
        if tok in _ABBREV or (len(tok) == 1 and tok.isalpha()):
            continue
        spans.append((start, end))
        start = m.end()
    if start < len(text) and text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


# ============================================================================ assessments (issue 9)
_ASSESSMENT_HEADING = re.compile(
    r"^(?:(?:course|clerkship|student|methods?\s+of)\s+)?(?:assessments?|grading|evaluation|examinations?|"
    r"assessment\s+(?:and|&)\s+(?:grading|evaluation)|grading\s+(?:and|&)\s+(?:assessment|evaluation)|"
    r"how\s+(?:you|students)\s+(?:will\s+be|are)\s+(?:assessed|graded|evaluated)|grade\s+(?:breakdown|components)|"
    r"evaluation\s+(?:and|&)\s+grading|assessment\s+(?:methods?|components?|scheme|strategy))\b", re.I)
#: (kind, pattern): first match wins, so the specific kinds come before the generic "exam"
ASSESSMENT_KINDS = (
    ("osce", r"\bosces?\b|objective\s+structured\s+clinical"),
    ("workplace-based assessment", r"mini-?cex|\bdops\b|case-based\s+discussion|\bcbd\b|workplace-based|"
                                   r"direct(?:ly)?\s+observ|\bepa\b|entrustable"),
    ("preceptor evaluation", r"preceptor|supervisor|attending|clinical\s+(?:performance\s+)?evaluation|"
                             r"faculty\s+evaluation|evaluation\s+of\s+clinical|clinical\s+performance|ward\s+assessment"),
    ("portfolio", r"portfolio|reflective|reflection|logbook|log\s+book"),
    ("professionalism", r"professionalism|attendance"),
    ("written exam", r"\bexam(?:ination)?s?\b|\bmcqs?\b|multiple[-\s]choice|\bnbme\b|shelf|\bquiz(?:zes)?\b|"
                     r"written\s+(?:test|paper)|single\s+best\s+answer|\bsbas?\b|\btest\b|\bsaqs?\b"),
    ("presentation", r"presentation|case\s+report|poster"),
    ("assignment", r"assignment|essay|project|paper|write-?up"),
    ("participation", r"participation|engagement"),
)
_KIND_RX = [(k, re.compile(p, re.I)) for k, p in ASSESSMENT_KINDS]
_WEIGHT = re.compile(r"(\d{1,3}(?:[.,]\d+)?)\s*(?:%|percent\b|per\s+cent\b)", re.I)
_PASS_FAIL = re.compile(r"\bpass\s*/\s*fail\b|\bpass[-\s]fail\b|\bpass\s+or\s+fail\b|\bungraded\b|"
                        r"\bsatisfactory\s*/\s*unsatisfactory\b", re.I)


def assessment_kind(text: str) -> str | None:
    """The kind named first in the line ("Portfolio with six workplace-based assessments" is a portfolio);
    on a tie the more specific kind (earlier in ASSESSMENT_KINDS) wins."""
    best = None
    for order, (kind, rx) in enumerate(_KIND_RX):
        m = rx.search(text)
        if m and (best is None or (m.start(), order) < best[0]):
            best = ((m.start(), order), kind)
    return best[1] if best else None


def _component(blk: _Block, text: str, a: int, e: int) -> ExtractedAssessment | None:
    kind = assessment_kind(text)
    if kind is None:
        return None
    w = _WEIGHT.search(text)
    weight = round(float(w.group(1).replace(",", ".")) / 100, 4) if w else None
    if weight is not None and not 0 < weight <= 1:
        weight = None
    pf = bool(_PASS_FAIL.search(text))
    if weight is None and not pf and blk.kind not in ("item", "cell") and len(text.split()) > 12:
        return None  # prose without a weight or pass/fail mark: only a short component sentence counts
    title = re.sub(r"\(\s*(?:of\s+the\s+(?:mark|grade)\s*)?\)", "", _WEIGHT.sub("", text.split(" | ")[0]))
    title = re.sub(r"\(?\bpass\s*/\s*fail\b\)?$", "", _norm_ws(title).strip()) if pf and len(title.split()) <= 6 else title
    title = _norm_ws(title).strip(" :;.-\u2013\u2014|(")
    return ExtractedAssessment(kind=kind, title=title or kind, weight=weight, pass_fail=pf,
                               paragraph=blk.index, char_start=a, char_end=e)


def _assessments(blocks: list[_Block]) -> list[ExtractedAssessment]:
    """Components of the assessment/grading section: each line (item, paragraph or table row) that names a
    kind of assessment, with its weight ("40%") or a pass/fail mark.  Only inside a section whose heading (or
    a "Assessment:" label line) is about assessment, so "physical examination" in an objective is never one."""
    out: list[ExtractedAssessment] = []
    n = len(blocks)
    i = 0
    while i < n:
        b = blocks[i]
        head = _clean_heading(b.text).rstrip(":").strip()
        is_head = (b.kind == "heading" or (b.kind == "para" and b.text.rstrip().endswith(":")
                                          and len(b.text.split()) <= 6))
        inline = re.match(r"^\s*([^:]{3,60}):\s+(\S.*)$", b.text) if b.kind == "para" and not is_head else None
        if inline and _ASSESSMENT_HEADING.match(_clean_heading(inline.group(1))):
            # "Assessment: Final exam 70% Logbook (pass/fail) Quiz 30%" (plain text joined into one paragraph):
            # one component per weight or pass/fail mark
            off = b.start + inline.start(2)
            for m in re.finditer(r"\S.*?(?:\d{1,3}(?:[.,]\d+)?\s*%|\(?\bpass\s*/\s*fail\b\)?)", inline.group(2)):
                a_ = _component(b, m.group(0), off + m.start(), off + m.end())
                if a_:
                    out.append(a_)
            i += 1
            continue
        if not (is_head and _ASSESSMENT_HEADING.match(head)):
            i += 1
            continue
        j = i + 1
        lines: list[tuple[_Block, str, int, int]] = []
        while j < n and not (blocks[j].kind == "heading" and (b.kind != "heading" or blocks[j].level <= b.level)):
            c = blocks[j]
            if c.kind == "cell":  # one table row = one line
                t, row = c.table, c.row
                cells = []
                while j < n and blocks[j].kind == "cell" and blocks[j].table == t and blocks[j].row == row:
                    cells.append(blocks[j])
                    j += 1
                lines.append((cells[0], " | ".join(x.text for x in cells), cells[0].start, cells[-1].end))
                continue
            if b.kind == "para" and c.kind == "para" and c.text.rstrip().endswith(":") and lines:
                break  # the next "Label:" section of a plain-text syllabus
            for s_, e_ in (_sentences(c.text) if c.kind == "para" else [(0, len(c.text))]):
                lines.append((c, c.text[s_:e_], c.start + s_, c.start + e_))
            j += 1
        for blk, text, a, e in lines:
            comp = _component(blk, text, a, e)
            if comp:
                out.append(comp)
        i = max(j, i + 1)
    seen, uniq = set(), []
    for a in out:
        key = (a.kind, a.title.lower())
        if key not in seen:
            seen.add(key)
            uniq.append(a)
    return uniq
