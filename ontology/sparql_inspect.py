"""Reading a SPARQL query before it runs: its form, whether it names a dataset, and whether any token could be
read by Oxigraph as SERVICE or an update (split from ``ontology/sparql.py``; the engine calls ``inspect_query``)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import QueryError


# A tokenizer that cuts the query text where Oxigraph's parser does (SPARQL 1.1/1.2 terminals,
# ``\uXXXX`` escapes decoded only inside strings and IRIs, as Oxigraph does: ``SERVIC\u0045`` is a
# syntax error there, while ``"\u0022"`` is a one-character string).  Unterminated strings and
# IRIs are not taken as strings/IRIs: their text stays code, so nothing is ever hidden by them.
_TOKEN = re.compile(r'''
      (?P<ws>[\x20\t\r\n]+)
    | (?P<comment>\#[^\r\n]*)
    | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*""" | \'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'
                 | "(?:[^"\\\n\r]|\\.)*" | '(?:[^'\\\n\r]|\\.)*' )
    | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
    | (?P<var>[?$][0-9A-Za-z_\u00B7\u00C0-\U000EFFFF]+)
    | (?P<num>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)
    | (?P<name>(?:[0-9A-Za-z_\-.:%\u00B7\u00C0-\U000EFFFF]|\\[uU][0-9A-Fa-f]{4}(?:[0-9A-Fa-f]{4})?
                 |\\[_~.\-!$&'()*+,;=/?\#@%])+)
    | (?P<other>.)
''', re.X | re.S)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_WORD_SERVICE = re.compile("service", re.I)
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
_UPDATES = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}


def _unescape(text: str) -> str:
    def sub(m):
        try:
            return chr(int(m.group(1) or m.group(2), 16))
        except (ValueError, OverflowError):
            return "\ufffd"
    return _ESCAPE.sub(sub, text)


def tokenize(query: str) -> list[tuple[str, str]]:
    """``(kind, text)`` for every token but whitespace and comments; kinds: string, iri, var, num,
    name (keywords, prefixed names, ``a``, booleans), other (one punctuation character)."""
    out = []
    for m in _TOKEN.finditer(query):
        kind = m.lastgroup
        if kind not in ("ws", "comment"):
            out.append((kind, m.group()))
    return out


def _name_hides_service(text: str) -> bool:
    """Could Oxigraph read a SERVICE keyword inside this run of name characters?  Yes when
    ``SERVICE`` starts the run (``SERVICE``, ``SERVICE:ep``, ``SERVICEex:ep`` - Oxigraph needs no
    word boundary after a keyword) or follows something that is a whole token without a colon
    (``1SERVICE``, ``trueSERVICE``), or a ``.`` (``ex:a.SERVICE`` reads as ``ex:a . SERVICE``).
    ``ex:self-service`` and ``schema:Service`` are prefixed names and fine."""
    for seg in re.split(r"\\?\.", _unescape(text)):
        for m in _WORD_SERVICE.finditer(seg):
            if ":" not in seg[:m.start()]:
                return True
    return False


def _iri_hides_service(text: str) -> bool:
    """``FILTER(?a<?b)SERVICE?v#>`` + newline + ``{...}``: the text between ``<`` and ``>`` looks
    like an IRI, but in an expression Oxigraph reads ``<`` as less-than, so what follows a ``)`` in
    it may be a SERVICE clause.  Refused whenever a ``)`` is followed by ``service`` in the IRI."""
    body = _unescape(text[1:-1])
    i = body.find(")")
    return i >= 0 and _WORD_SERVICE.search(body, i) is not None


@dataclass(frozen=True)
class QueryInfo:
    form: str | None   # SELECT, ASK, CONSTRUCT, DESCRIBE, or None if not recognised
    has_dataset: bool  # FROM / FROM NAMED present
    #: IRIs of FROM and FROM NAMED (prefixed names resolved); None when one could not be resolved
    from_graphs: tuple | None = ()
    from_named: tuple | None = ()


def _resolve(tok: tuple[str, str], prefixes: dict, base: str | None) -> str | None:
    kind, text = tok
    if kind == "iri":
        iri = _unescape(text[1:-1])
        if base and not re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", iri):
            from urllib.parse import urljoin
            iri = urljoin(base, iri)
        return iri
    if kind == "name" and ":" in text:
        p, _, local = text.partition(":")
        if p in prefixes:
            return prefixes[p] + re.sub(r"\\(.)", r"\1", local)
    return None


#: deepest nesting of { ( [ a query may have (real queries stay far below; thousands crash the parser)
MAX_NESTING = 100


def inspect_query(query: str, prefixes: dict | None = None) -> QueryInfo:
    """Classify a query; :class:`QueryError` for updates, SERVICE and empty text.

    SERVICE is refused when any token could be read by Oxigraph as the SERVICE keyword (see
    :func:`_name_hides_service`, :func:`_iri_hides_service`); the worker processes are also
    unable to open sockets (:mod:`ontology.sandbox`), so a SERVICE this check missed would still
    reach nothing."""
    if not query or not query.strip():
        raise QueryError("the query is empty", parameter="query")
    toks = tokenize(query)
    depth = deepest = 0
    for kind, text in toks:
        if kind == "other" and text in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "other" and text in "})]":
            depth -= 1
    if deepest > MAX_NESTING:  # the parser recurses per level: a very deep query crashed the evaluating process
        raise QueryError(f"the query nests groups, brackets or parentheses {deepest} levels deep: at most "
                         f"{MAX_NESTING} are allowed", parameter="query")
    for kind, text in toks:
        if (kind == "name" and _name_hides_service(text)) or (kind == "iri" and _iri_hides_service(text)):
            raise QueryError("SERVICE (federated query) is not allowed on this endpoint: "
                             "queries run over the local graph only")
    decl = dict(prefixes or {})
    base = None
    i, form = 0, None
    while i < len(toks):  # prologue
        kind, text = toks[i]
        up = text.upper() if kind == "name" else ""
        if up == "BASE" and i + 1 < len(toks) and toks[i + 1][0] == "iri":
            base = _resolve(toks[i + 1], decl, base)
            i += 2
        elif up == "PREFIX" and i + 2 < len(toks) and toks[i + 1][0] == "name" \
                and toks[i + 1][1].endswith(":") and toks[i + 2][0] == "iri":
            decl[toks[i + 1][1][:-1]] = _resolve(toks[i + 2], decl, base)
            i += 3
        else:
            break
    for kind, text in toks[i:]:
        if kind == "name" and (text.upper() in _FORMS or text.upper() in _UPDATES):
            form = text.upper()
            break
    if form in _UPDATES:
        raise QueryError(f"SPARQL Update ({form}) is not allowed: this endpoint is read-only; "
                         "send SELECT, ASK, CONSTRUCT or DESCRIBE queries")
    found: dict[bool, list | None] = {False: [], True: []}  # NAMED? -> IRIs (None: unresolvable)
    has_dataset = False
    for j in range(i, len(toks)):
        if toks[j][0] == "name" and toks[j][1].upper() == "FROM":
            has_dataset = True
            k = j + 1
            named = k < len(toks) and toks[k][0] == "name" and toks[k][1].upper() == "NAMED"
            k += named
            iri = _resolve(toks[k], decl, base) if k < len(toks) else None
            if iri is None or found[named] is None:
                found[named] = None
            else:
                found[named].append(iri)
    from_graphs, from_named = found[False], found[True]
    return QueryInfo(form=form, has_dataset=has_dataset,
                     from_graphs=None if from_graphs is None else tuple(from_graphs),
                     from_named=None if from_named is None else tuple(from_named))


def strip_dataset_clauses(query: str) -> str:
    """``query`` with its ``FROM <g>`` / ``FROM NAMED <g>`` clauses blanked out (same length and lines).

    For a query forwarded to a SPARQL server with the dataset given by the protocol's
    ``default-graph-uri`` / ``named-graph-uri``: the SPARQL Protocol says those replace the query's
    dataset clauses, and Oxigraph server does so, but Virtuoso takes the *union* of both, so a
    ``FROM <private graph>`` would reach past the visible graphs there.  The clauses are cut where the
    tokenizer (the one that checks SERVICE) sees them: a FROM inside a string, IRI or comment is text."""
    spans, toks = [], [(m.lastgroup, m.start(), m.end(), m.group()) for m in _TOKEN.finditer(query)
                        if m.lastgroup not in ("ws", "comment")]
    i = 0
    while i < len(toks):
        kind, start, _, text = toks[i]
        if kind == "name" and text.upper() == "FROM":
            j = i + 1
            if j < len(toks) and toks[j][0] == "name" and toks[j][3].upper() == "NAMED":
                j += 1
            if j < len(toks) and toks[j][0] in ("iri", "name"):
                spans.append((start, toks[j][2]))
                i = j + 1
                continue
        i += 1
    out = query
    for start, end in reversed(spans):
        blank = "".join(c if c in "\r\n" else " " for c in out[start:end])
        out = out[:start] + blank + out[end:]
    return out


_VENDOR_FUNCTIONS = re.compile(r"(bif|sql):|http://www\.openlinksw\.com/", re.I)


def vendor_functions(query: str) -> bool:
    """Does the query name Virtuoso's built-in SQL functions (``bif:…``, ``sql:…``, OpenLink's
    namespaces)?  Refused before a query is forwarded to a remote server: there they would call SQL
    procedures (files, HTTP, sleeps), which the embedded store has no notion of."""
    for kind, text in tokenize(query):
        if kind == "iri" and _VENDOR_FUNCTIONS.match(_unescape(text[1:-1]).strip()):
            return True
        if kind == "name" and _VENDOR_FUNCTIONS.match(_unescape(text)):
            return True
    return False
