"""The defences every upload goes through, whatever its format (one place, used by all loaders).

* :func:`check_zip` - any zip container (XLSX, DOCX): entry count, total uncompressed size,
  per-entry compression ratio, encryption, compression method and zip version, all read from the
  central directory before a single entry is inflated.  The 307 KB XLSX holding one 300 MiB cell
  is refused in milliseconds, allocating nothing.
* :func:`check_xml` - any XML (RDF/XML, XHTML): no external entities (SYSTEM/PUBLIC), no parameter
  entities, no entity defined through other entities (the "billion laughs"), and a bound on how much
  the remaining plain entities (``<!ENTITY skos "http://...">``, common in ontology exports) can add.
* :func:`parse_json` - THE JSON rule (uploads and API request bodies): not JSON or nesting deeper
  than ``MAX_JSON_DEPTH`` (200) levels is a clear error, never a RecursionError.
* :func:`check_json` - JSON/JSON-LD: parsed with a nesting bound (deep nesting is a 422, not a
  RecursionError), and for JSON-LD no remote context anywhere (``@context`` strings, ``@import``).
  rdflib's JSON-LD context fetcher is also disabled for the whole process (:func:`_no_fetch`).
* :func:`check_iris` - every IRI of a parsed graph is one Oxigraph accepts (a Turtle IRI with a
  space is a 422 naming it, not a 500 when the graph is stored).
* :func:`csv_error` - a malformed CSV is a 422 in our words naming file and line.
* :func:`max_length` / :func:`check_lengths` - THE text length rule (names 200, titles and labels 500,
  texts 5,000, lists 20,000 characters), for every table a loader reads and every API body field.
* :func:`check_rows` - a table may have at most ``max_rows()`` rows (``GAPMAP_MAX_UPLOAD_ROWS``).
"""
from __future__ import annotations

import io
import json
import os
import re
import zipfile

from ontology.errors import InputTooLarge, LoadError

#: zip containers
MAX_ZIP_ENTRIES = 2000
MAX_ZIP_RATIO = 100            # per entry, for entries over 1 MiB uncompressed
MAX_UNCOMPRESSED_FACTOR = 5    # total uncompressed size <= 5 x the upload limit
DEFAULT_MAX_BYTES = 20 * 2**20
#: XML entities
MAX_ENTITY_DECLS = 200
MAX_ENTITY_EXPANSION = 4 * 2**20  # bytes the plain entities may add, all references counted
#: JSON nesting
MAX_JSON_DEPTH = 200
_SUPPORTED_COMPRESSION = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


_MAX_ROWS: int | None = None


def configure(*, max_rows: int | None = None) -> None:
    """Set the row limit for this process (the service passes its ``MAX_UPLOAD_ROWS``)."""
    global _MAX_ROWS
    _MAX_ROWS = int(max_rows) if max_rows else None


def max_rows() -> int:
    """Rows one table upload may have (``configure``, else env ``GAPMAP_MAX_UPLOAD_ROWS``, else 100,000)."""
    if _MAX_ROWS:
        return _MAX_ROWS
    try:
        return max(1, int(os.environ.get("GAPMAP_MAX_UPLOAD_ROWS") or 100_000))
    except ValueError:
        return 100_000


def check_rows(n: int, name: str, what: str = "rows", *, limit: int | None = None) -> None:
    limit = limit or max_rows()
    if n > limit:
        raise InputTooLarge(f"the file has more than {limit:,} {what} (the limit for this loader, from "
                            "GAPMAP_MAX_UPLOAD_ROWS); "
                            "split it or ask an administrator to raise the limit", file=name, row=limit + 2)


def csv_error(e: Exception, name: str) -> LoadError:
    """A pandas CSV parser error in our words, naming the file and line (never "Error tokenizing data.
    C error: ..."); every CSV reader raises this."""
    msg = str(e)
    m = re.search(r"EOF inside string starting at row (\d+)", msg)
    if m:
        line = int(m.group(1)) + 1
        return LoadError(f"malformed CSV: the quoted cell starting on line {line} is never closed (a \" "
                         "without its closing \"); the rest of the file was read as that one cell",
                         file=name, row=line)
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
    if m:
        want, line, got = (int(g) for g in m.groups())
        return LoadError(f"malformed CSV: row {line} has {got} cells but the header has {want} (a stray "
                         "comma, or a cell holding a comma that is not in double quotes)", file=name, row=line)
    m = re.search(r"line (\d+)", msg)
    line = int(m.group(1)) if m else None
    return LoadError("malformed CSV: the file is not a well-formed comma-separated table"
                     + (f" (from line {line})" if line else "") + "; save it again as CSV (UTF-8)",
                     file=name, row=line)


# ------------------------------------------------------------------ text lengths
MAX_NAME = 200       # ids, codes, names
MAX_TITLE = 500      # titles, labels
MAX_TEXT = 5_000     # objective texts, descriptions, notes: anything else
MAX_LIST = 20_000    # ";"-separated lists (competencies, alt labels, objectives)
_LIST_FIELDS = ("competencies", "alt_labels", "objectives", "next_roles", "courses", "roles", "goals", "skills")


def max_length(field_name: str) -> int:
    """The most characters a text field may hold, by its (column or JSON) name: one rule for all inputs."""
    f = str(field_name).strip().lower()
    if f in _LIST_FIELDS or "labels" in f:  # alt_labels, ESCO altLabels / hiddenLabels
        return MAX_LIST
    if f in ("id", "code", "notation", "cohort") or f.endswith(("_id", "_code", "name", "notation")):
        return MAX_NAME
    if "title" in f or "label" in f:
        return MAX_TITLE
    return MAX_TEXT


def check_lengths(df, name: str, *, first_row: int = 2) -> None:
    """Every cell of a table within :func:`max_length` of its column; else a 422 naming row and column."""
    for col in df.columns:
        limit = max_length(col)
        lengths = df[col].astype(str).str.len()
        over = lengths > limit
        if over.any():
            i = int(over.to_numpy().nonzero()[0][0])
            raise LoadError(f"is {int(lengths.iloc[i]):,} characters long; at most {limit:,} are allowed here",
                            file=name, row=i + first_row, column=str(col))


def check_text(value, field_name: str, error=None) -> None:
    """One text value (an API body field) within :func:`max_length` of its name."""
    if isinstance(value, str) and len(value) > max_length(field_name):
        error = error or (lambda msg, field: LoadError(msg, column=field))
        raise error(f"{field_name} is {len(value):,} characters long; at most {max_length(field_name):,} are "
                    "allowed", field_name)


# ------------------------------------------------------------------ zip
def check_zip(data: bytes, name: str, *, kind: str = "zip", max_bytes: int = DEFAULT_MAX_BYTES,
              unsafe=None, corrupt=None) -> zipfile.ZipFile:
    """The open ZipFile once its central directory says it is safe to read; else ``unsafe``
    (bomb-like: 413 by default) or ``corrupt`` (unreadable / unsupported: 422 by default)."""
    unsafe = unsafe or (lambda msg, file: InputTooLarge(msg, file=file))
    corrupt = corrupt or (lambda msg, file: LoadError(msg, file=file))
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except NotImplementedError as e:  # e.g. "zip file version 9.9", a compression method we lack
        raise corrupt(f"this {kind} needs a zip feature this reader does not support ({_short(e)}); "
                      "re-save the file", file=name) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as e:
        raise corrupt(f"this {kind} is corrupt: not a readable zip ({_short(e)})", file=name) from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise unsafe(f"this {kind} has {len(infos)} parts (at most {MAX_ZIP_ENTRIES}); it looks like a zip bomb",
                     file=name)
    limit = MAX_UNCOMPRESSED_FACTOR * max_bytes
    total = sum(i.file_size for i in infos)
    if total > limit:
        raise unsafe(f"this {kind} would decompress to {total:,} bytes (limit {limit:,}); it looks like a "
                     f"zip bomb", file=name)
    for i in infos:
        if i.file_size > 2**20 and i.file_size > MAX_ZIP_RATIO * max(i.compress_size, 1):
            raise unsafe(f"the {kind} part {i.filename} expands {i.file_size // max(i.compress_size, 1)}:1 "
                         f"(limit {MAX_ZIP_RATIO}:1); it looks like a zip bomb", file=name)
        if i.flag_bits & 0x1:
            raise corrupt(f"the {kind} part {i.filename} is encrypted; save the file without a password",
                          file=name)
        if i.compress_type not in _SUPPORTED_COMPRESSION:
            raise corrupt(f"the {kind} part {i.filename} uses an unsupported compression method "
                          f"({i.compress_type}); re-save the file", file=name)
        if i.extract_version > zipfile.MAX_EXTRACT_VERSION or i.create_version > 255:
            raise corrupt(f"the {kind} part {i.filename} needs zip version {i.extract_version / 10:.1f} "
                          f"(this reader supports up to {zipfile.MAX_EXTRACT_VERSION / 10:.1f}); re-save the file",
                          file=name)
    return z


def _short(e: Exception) -> str:
    s = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return s[:160]


# ------------------------------------------------------------------ XML
_DOCTYPE = re.compile(r"<!DOCTYPE\b", re.I)
_ENTITY = re.compile(r"""<!ENTITY\s+(%\s+)?([^\s"'>]+)\s*(SYSTEM|PUBLIC)?\s*("([^"]*)"|'([^']*)')?""", re.I)
_XML_ENC = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._\-]+)["']""")


def _xml_text(data: bytes | str, name: str) -> str:
    if isinstance(data, str):
        return data
    head = data[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) == 4 and (head[0] == 0 or head[1] == 0)):
        enc = "utf-16"
    else:
        m = _XML_ENC.match(data[:200])
        enc = m.group(1).decode("ascii") if m else "utf-8-sig"
    try:
        return data.decode(enc)
    except (LookupError, UnicodeDecodeError):
        raise LoadError(f"this XML file is not valid {enc}", file=name) from None


def check_xml(data: bytes | str, name: str, *, kind: str = "XML", error=None) -> None:
    """Refuse entity tricks before an XML parser sees the document (see the module doc)."""
    error = error or (lambda msg, file: LoadError(msg, file=file))
    text = _xml_text(data, name)
    if not _DOCTYPE.search(text) and "<!ENTITY" not in text.upper():
        return
    if re.search(r"<!DOCTYPE\s+[^\s\[>]+\s+(SYSTEM|PUBLIC)\b", text, re.I):
        raise error(f"this {kind} names an external DTD; external documents are never read", file=name)
    decls = list(_ENTITY.finditer(text))
    if len(re.findall(r"<!ENTITY", text, re.I)) != len(decls):
        raise error(f"this {kind} declares an entity this reader cannot check; refused unread", file=name)
    if len(decls) > MAX_ENTITY_DECLS:
        raise error(f"this {kind} declares {len(decls)} entities (at most {MAX_ENTITY_DECLS}); refused unread",
                    file=name)
    sizes = {}
    for m in decls:
        ent = m.group(2)
        if m.group(1):
            raise error(f"this {kind} declares the parameter entity %{ent}; refused unread", file=name)
        if m.group(3):
            raise error(f"this {kind} declares the external entity {ent} ({m.group(3).upper()}); external "
                        "entities are never read", file=name)
        value = m.group(5) if m.group(5) is not None else m.group(6)
        if value is None:
            raise error(f"this {kind} declares the entity {ent} without a value; refused unread", file=name)
        if "&" in value or "%" in value or "<" in value:
            raise error(f"this {kind} defines the entity {ent} through other entities or markup (an "
                        "entity-expansion attack); refused unread", file=name)
        sizes[ent] = len(value)
    if sizes:
        refs = re.findall(r"&([^\s;&#]+);", text)
        added = sum(sizes.get(r, 0) for r in refs)
        if added > MAX_ENTITY_EXPANSION:
            raise error(f"this {kind}'s entities would expand to {added:,} characters (limit "
                        f"{MAX_ENTITY_EXPANSION:,}); refused unread", file=name)


class XmlForbidden(ValueError):
    """A DOCTYPE, entity declaration or external reference in XML that must have none."""


def check_xml_part(raw: bytes) -> None:
    """Well-formed XML with no DOCTYPE and no entity declarations (Office parts, XHTML): expat in C,
    no tree built (defusedxml's ``fromstring`` costs ~30 ms per Word part; this ~1 ms).
    Raises :class:`XmlForbidden`, or ``xml.parsers.expat.ExpatError`` when not well-formed."""
    import pyexpat

    def forbid(*_a):
        raise XmlForbidden("DOCTYPE or entity declaration")

    p = pyexpat.ParserCreate()
    p.StartDoctypeDeclHandler = forbid
    p.EntityDeclHandler = forbid
    p.UnparsedEntityDeclHandler = forbid
    p.ExternalEntityRefHandler = forbid
    p.Parse(raw, True)


# ------------------------------------------------------------------ JSON / JSON-LD
def _depth(obj) -> int:
    """Maximum nesting of lists and objects in a parsed document, without recursion."""
    best, stack = 0, [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, dict):
            best = max(best, d)
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            best = max(best, d)
            stack.extend((v, d + 1) for v in o)
    return best


def parse_json(text: str | bytes, name: str | None = None, *, what: str = "JSON", error=None):
    """THE rule for parsing JSON anywhere in Gapmap (uploads and request bodies alike): the parsed
    document, or ``error(message, file=name, row=line)`` (a 422 :class:`LoadError` by default) when
    it is not JSON or nests deeper than ``MAX_JSON_DEPTH`` levels (never a RecursionError / 500)."""
    error = error or (lambda msg, file=None, row=None: LoadError(msg, file=file, row=row))
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise error(f"{what} is not valid UTF-8 (byte {e.start})", file=name) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise error(f"{what} is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})",
                    file=name, row=e.lineno) from None
    except RecursionError:
        raise error(f"{what} nests deeper than {MAX_JSON_DEPTH} levels; refused", file=name) from None
    # a document cannot nest deeper than it has opening brackets (those inside strings only raise the count):
    # counting them (C speed) spares walking the parsed tree of the usual shallow line or body
    if (text.count("[") + text.count("{") > MAX_JSON_DEPTH) and _depth(obj) > MAX_JSON_DEPTH:
        raise error(f"{what} nests deeper than {MAX_JSON_DEPTH} levels; refused", file=name)
    return obj


def check_json(text: str, name: str, *, jsonld: bool = True, kind: str | None = None):
    """The parsed document (:func:`parse_json`); :class:`LoadError` when it is not JSON, nests deeper
    than ``MAX_JSON_DEPTH`` or (JSON-LD) names any remote context."""
    obj = parse_json(text, name, what="this " + (kind or ("JSON-LD" if jsonld else "JSON")))
    if jsonld:
        remote = remote_context(obj)
        if remote:
            raise LoadError(f"remote JSON-LD context {remote!r} is not fetched; inline the context",
                            file=name, column="@context")
    return obj


def remote_context(obj) -> str | None:
    """The first remote reference a JSON-LD processor would fetch: a string ``@context`` (or
    string member of a ``@context`` list) or an ``@import``, anywhere in the document."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "@import":
                    return str(v)
                if k == "@context":
                    for c in v if isinstance(v, list) else [v]:
                        if isinstance(c, str):
                            return c
                stack.append(v)
        elif isinstance(o, list):
            stack.extend(o)
    return None


def _no_fetch():
    """rdflib's JSON-LD parser fetches remote contexts with urllib: make that impossible for the
    process, whatever the format alias, so even a context the check above missed is never read."""
    try:
        from rdflib.plugins.shared.jsonld import context as _ctx
    except ImportError:  # pragma: no cover
        return

    def refuse(source, *a, **kw):
        raise LoadError(f"remote JSON-LD context {str(source)[:200]!r} is not fetched; inline the context",
                        column="@context")
    _ctx.source_to_json = refuse


_no_fetch()


# ------------------------------------------------------------------ IRIs
def check_iris(graph, name: str) -> None:
    """Every IRI in ``graph`` is one the store accepts; else a 422 naming the first bad one."""
    import pyoxigraph as ox
    from rdflib import URIRef
    seen: set = set()
    for t in graph:
        for term in t:
            if isinstance(term, URIRef) and term not in seen:
                seen.add(term)
                try:
                    ox.NamedNode(str(term))
                except ValueError as e:
                    raise LoadError(f"invalid IRI <{str(term)[:200]}>: {e}", file=name) from None
