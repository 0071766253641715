"""Which format a file is (magic bytes, extension, media type; a mismatch is a 415), text decoding, and the
markup safety check (DOCTYPE/entity declarations refused before any parser sees them)."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePath

from ontology.errors import UnsupportedFormat

from .errors import CorruptDocument, UnsafeDocument

FORMATS = ("pdf", "docx", "html", "markdown", "text")


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


def decode_text(data: bytes, filename: str, warnings: list[str]) -> str:
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


_DOCTYPE_SUBSET = re.compile(r"<!DOCTYPE[^>\[]*\[", re.I)


_ENTITY_DECL = re.compile(r"<!ENTITY", re.I)


def check_markup(text: str, filename: str, *, markdown: bool = False) -> None:
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
