"""Read-only SPARQL 1.1 query evaluation with a hard timeout (no Flask here).

:class:`SparqlEngine` takes a query string, checks it, picks the result format by content
negotiation and evaluates it with Oxigraph, returning ``(body bytes, media type)``.

Checks before evaluation
    The query text is cut into tokens where Oxigraph's parser cuts them, or more conservatively (:func:`tokenize`:
    SPARQL terminals, ``\\uXXXX`` escapes decoded only inside strings and IRIs as Oxigraph does,
    ``ex:a\\#b`` and ``ex:a\\'b`` read as prefixed names, ``"\\u0022"`` as a one-character string).
    It is refused with :class:`QueryError` when it is an UPDATE (INSERT, DELETE, LOAD, CLEAR, DROP,
    CREATE, ADD, MOVE, COPY, WITH) or when any token could be read by Oxigraph as the SERVICE
    keyword: ``SERVICE`` glued to what follows (``SERVICE:ep``, ``SERVICEex:ep``: Oxigraph needs no
    word boundary after a keyword) or to what precedes (``1SERVICE``, ``ex:a.SERVICE``), and the
    text between ``<`` and ``>`` when, read as less-than inside an expression, it would hide a
    clause (``FILTER(?a<?b)SERVICE?v#>``).  ``schema:Service``, ``ex:self-service``, ``?service``
    and SERVICE inside strings, IRIs and comments are fine.  tests/service/test_sparql_fuzz.py
    checks the rule against Oxigraph's own parse: thousands of SERVICE-laden mutations the check
    accepts are run on a bare store next to a listener, which must see no connection.  Syntax
    errors come from Oxigraph's own parser, reported as "syntax error at line 3, column 17:
    expected ..." (line/column also in the error details); an undeclared prefix is named.

No network, whatever the check misses
    Worker processes install a seccomp filter (:mod:`ontology.sandbox`) before evaluating
    anything: creating or using a socket fails with EACCES in the kernel, so Oxigraph's HTTP
    client (SERVICE) cannot connect anywhere.  Error messages never carry a remote answer.

Dataset
    With ``visible_graphs`` (what /sparql passes: the graphs the caller may read), the query's
    dataset is always given explicitly, so ``FROM``, ``FROM NAMED``, ``GRAPH`` and the protocol's
    ``default-graph-uri`` / ``named-graph-uri`` reach only visible graphs (an invisible one reads
    as empty).  The default graph is the union of the visible graphs, unless the query has
    ``FROM``/``FROM NAMED`` or the protocol parameters are given (then those, restricted to the
    visible ones).  Without ``visible_graphs`` (library use) the default graph is the union of
    all graphs.  The prefixes of :data:`ontology.vocab.PREFIXES` are predeclared.

Why evaluation runs in another process
    Oxigraph evaluates in Rust and cannot be interrupted from Python, so a thread cannot stop a
    runaway query.  Queries are therefore evaluated by worker processes (at most ``workers`` at
    once); the main process sends the job down a pipe and waits on the answer with a timeout.
    When the timeout passes the worker gets SIGKILL (reaped on a background thread) and is
    replaced at the next query; the main process was only waiting on a pipe, so it is fully
    usable at once.  Workers also arm ``alarm()`` (timeout + 2 s) for each job, so they die on
    their own should the main process vanish mid-query, and exit on EOF when it is gone.

    * On-disk store: workers are fresh interpreters (``python -c`` running :func:`_worker_main`,
      nothing inherited but two pipes).  They cannot safely open the live RocksDB folder
      read-only while the main process writes to it (pyoxigraph documents that as undefined
      behaviour, and here a ``Store.read_only()`` racing a background compaction failed with
      "No such file or directory: .../000022.sst ... MANIFEST may be corrupted").  So the main
      process makes a RocksDB checkpoint (``Store.backup``: a memtable flush + hard links), under
      the store's write lock so a half-done ``replace_graphs`` is never captured, and workers
      open that immutable snapshot with ``Store.read_only``.  A new snapshot is made lazily, at
      the first query after the store changed, detected by the store's ``generation`` counter
      *or* a file stamp (names and sizes of the WAL/MANIFEST/CURRENT files, which also change on
      writes that bypass ``EmbeddedStore``); a worker reopens when its job names a newer
      snapshot.  Old snapshots are deleted once no worker has them open; a crashed process's
      snapshots are deleted by the next engine on the same store.
    * In-memory store (tests, ``STORE_PATH=""``): workers are ``os.fork()``ed from the main
      process (under the store's write lock) and evaluate on the store they inherited
      copy-on-write.  A worker forked before the last write (``generation`` changed) is retired
      and a fresh one forked, so results are always current for writes made through
      ``EmbeddedStore``; code writing to ``store.ox`` directly must bump ``store.generation``.

Overhead measured (2-core VM, Python 3.11; median of 200; ``SELECT * { ?s ?p ?o } LIMIT 3`` as
SPARQL JSON; direct ``Store.query`` + ``serialize`` in-process takes ~0.015-0.02 ms):

    * steady state: +0.03-0.04 ms per query with forked workers (in-memory), +0.08-0.09 ms with
      snapshot workers (on disk): a pipe round trip and a pickle;
    * first query after a write, on disk: + checkpoint ~35-45 ms (1k or 300k triples: mostly
      the flush's fsyncs) + worker reopen ~25-35 ms; in memory: + one fork, ~1 ms for a 50 MiB
      process but ~40 ms per GiB of parent RSS on this VM (page tables; the child's exit costs as
      much again, which is why reaping is done off the request path);
    * a new snapshot worker costs ~50-90 ms to start (first query, and after each timeout).

Results are serialised by Oxigraph in the child (SPARQL JSON/XML/CSV/TSV; Turtle, N-Triples,
RDF/XML, JSON-LD) and capped at ``max_result_bytes``: a larger result is refused with a
:class:`QueryError` asking for a LIMIT rather than exhausting memory.
"""
from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import weakref
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .errors import GapmapError, QueryError, QueryTimeout, UnsupportedFormat

__all__ = ["SparqlEngine", "SparqlResult", "NotAcceptable", "QueryAborted", "inspect_query",
           "negotiate", "RESULTS_MEDIA_TYPES", "GRAPH_MEDIA_TYPES"]


class NotAcceptable(UnsupportedFormat):
    """No result format the client accepts fits the query form."""

    status = 406
    title = "Not acceptable"


class QueryAborted(GapmapError):
    """The evaluating process died (e.g. out of memory) or could not open the store."""

    status = 503
    exit_code = 5
    title = "Query aborted"


# --------------------------------------------------------------------------- formats
#: canonical media type of each format (names of ox.QueryResultsFormat / ox.RdfFormat members)
RESULTS_MEDIA_TYPES = {"JSON": "application/sparql-results+json", "XML": "application/sparql-results+xml",
                       "CSV": "text/csv", "TSV": "text/tab-separated-values"}
GRAPH_MEDIA_TYPES = {"TURTLE": "text/turtle", "N_TRIPLES": "application/n-triples",
                     "RDF_XML": "application/rdf+xml", "JSON_LD": "application/ld+json"}

# media types (and common aliases) accepted in Accept / format=, in order of our preference
_RESULTS_ACCEPT = {"application/sparql-results+json": "JSON", "application/json": "JSON",
                   "application/sparql-results+xml": "XML", "text/csv": "CSV",
                   "text/tab-separated-values": "TSV", "application/xml": "XML", "text/xml": "XML"}
_GRAPH_ACCEPT = {"text/turtle": "TURTLE", "application/x-turtle": "TURTLE",
                 "application/n-triples": "N_TRIPLES", "text/plain": "N_TRIPLES",
                 "application/rdf+xml": "RDF_XML", "application/xml": "RDF_XML", "text/xml": "RDF_XML",
                 "application/ld+json": "JSON_LD", "application/json": "JSON_LD"}
# short names for the ``format`` parameter: name -> (results format, graph format)
_FORMAT_NAMES = {"json": ("JSON", "JSON_LD"), "xml": ("XML", "RDF_XML"), "csv": ("CSV", None),
                 "tsv": ("TSV", None), "turtle": (None, "TURTLE"), "ttl": (None, "TURTLE"),
                 "nt": (None, "N_TRIPLES"), "ntriples": (None, "N_TRIPLES"), "n-triples": (None, "N_TRIPLES"),
                 "rdfxml": (None, "RDF_XML"), "rdf": (None, "RDF_XML"), "rdf+xml": (None, "RDF_XML"),
                 "jsonld": (None, "JSON_LD"), "json-ld": (None, "JSON_LD")}
_DEFAULT = {"results": "JSON", "graph": "TURTLE"}


def _parse_accept(accept: str) -> list[tuple[str, float]]:
    """Media ranges of an Accept header, best first (by q, then specificity, then order)."""
    ranges = []
    for i, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        mt = fields[0].lower()
        if not mt:
            continue
        if "/" not in mt:
            mt = "*/*" if mt == "*" else mt
        q = 1.0
        for f in fields[1:]:
            k, _, v = f.partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        if q > 0:
            spec = 0 if mt == "*/*" else 1 if mt.endswith("/*") else 2
            ranges.append((-q, -spec, i, mt))
    return [(mt, -nq) for nq, _, _, mt in sorted(ranges)]


def _pick(accept: str | None, table: dict[str, str], default: str) -> str | None:
    if not accept or not accept.strip():
        return default
    for mt, _q in _parse_accept(accept):
        if mt == "*/*":
            return default
        if mt.endswith("/*"):
            major = mt[:-1]
            for cand, fmt in table.items():
                if cand.startswith(major):
                    return fmt
            continue
        if mt in table:
            return table[mt]
    return None


def negotiate(form: str | None, accept: str | None = None, fmt: str | None = None) -> tuple[str | None, str | None]:
    """(results format, graph format) for a query of ``form`` ("SELECT", "ASK", "CONSTRUCT",
    "DESCRIBE" or None when unknown).  ``fmt`` (a short name or a media type) beats ``accept``.
    Raises :class:`NotAcceptable` when the form's kind of result has no acceptable format."""
    if fmt:
        key = fmt.strip().lower()
        if key in _FORMAT_NAMES:
            res, graph = _FORMAT_NAMES[key]
        elif key in _RESULTS_ACCEPT or key in _GRAPH_ACCEPT:
            res, graph = _RESULTS_ACCEPT.get(key), _GRAPH_ACCEPT.get(key)
        else:
            names = ", ".join(sorted(_FORMAT_NAMES))
            raise NotAcceptable(f"unknown format {fmt!r}; use one of {names} or a media type", parameter="format")
        what = f"format={fmt}"
    else:
        res = _pick(accept, _RESULTS_ACCEPT, _DEFAULT["results"])
        graph = _pick(accept, _GRAPH_ACCEPT, _DEFAULT["graph"])
        what = f"Accept: {accept}"
    if form in ("SELECT", "ASK") and res is None:
        raise NotAcceptable(f"{what} names no format for {form} results; use one of "
                            + ", ".join(RESULTS_MEDIA_TYPES.values()))
    if form in ("CONSTRUCT", "DESCRIBE") and graph is None:
        raise NotAcceptable(f"{what} names no RDF format for {form} results; use one of "
                            + ", ".join(GRAPH_MEDIA_TYPES.values()))
    if form is None:  # unknown form (probably a syntax error): let either kind through
        res, graph = res or _DEFAULT["results"], graph or _DEFAULT["graph"]
    return res, graph


# --------------------------------------------------------------------------- inspection
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


def inspect_query(query: str, prefixes: dict | None = None) -> QueryInfo:
    """Classify a query; :class:`QueryError` for updates, SERVICE and empty text.

    SERVICE is refused when any token could be read by Oxigraph as the SERVICE keyword (see
    :func:`_name_hides_service`, :func:`_iri_hides_service`); the worker processes are also
    unable to open sockets (:mod:`ontology.sandbox`), so a SERVICE this check missed would still
    reach nothing."""
    if not query or not query.strip():
        raise QueryError("the query is empty", parameter="query")
    toks = tokenize(query)
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


# --------------------------------------------------------------------------- evaluation (any process)
class _CappedBuffer:
    """A write-only byte sink that refuses to grow past ``cap`` bytes."""

    def __init__(self, cap: int | None):
        self.cap, self.parts, self.size, self.overflow = cap, [], 0, False

    def write(self, b) -> int:
        n = len(b)
        if self.cap is not None and self.size + n > self.cap:
            self.overflow = True
            raise OSError("result too large")
        self.parts.append(bytes(b))
        self.size += n
        return n

    def flush(self):
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def _term_out(t) -> tuple:
    if isinstance(t, ox.NamedNode):
        return ("iri", t.value)
    if isinstance(t, ox.BlankNode):
        return ("bnode", t.value)
    return ("lit", t.value, t.datatype.value if t.language is None else None, t.language)


def _term_in(t: tuple):
    if t[0] == "iri":
        return ox.NamedNode(t[1])
    if t[0] == "bnode":
        return ox.BlankNode(t[1])
    if t[3] is not None:
        return ox.Literal(t[1], language=t[3])
    return ox.Literal(t[1], datatype=ox.NamedNode(t[2]))


def _execute_select(store: ox.Store, job: dict) -> tuple:
    """A named query of the read layer (``Store.select``): rows of plain Python values."""
    from .store import _ox_py
    subs = {ox.Variable(k): _term_in(v) for k, v in job["substitutions"]}
    try:
        res = store.query(job["query"], use_default_graph_as_union=True, substitutions=subs)
        names = [v.value for v in res.variables]
        rows = [{n: _ox_py(t) for n, t in zip(names, row)} for row in res]
    except SyntaxError as e:
        return ("error", "SyntaxError", str(e))
    except Exception as e:  # noqa: BLE001
        return ("error", type(e).__name__, str(e))
    return ("ok", "rows", rows)


def _execute(store: ox.Store, job: dict) -> tuple:
    """Evaluate ``job`` on ``store``; returns ("ok", media_type, body) or ("error", kind, message)."""
    if job.get("kind") == "select":
        return _execute_select(store, job)
    kw: dict = {"prefixes": job["prefixes"]}
    if job["default_graph"] is not None or job["named_graphs"] is not None:
        # An explicit dataset replaces the query's FROM / FROM NAMED in Oxigraph: what is not
        # listed here cannot be reached by the query, whatever its text says.
        kw["default_graph"] = [ox.NamedNode(u) for u in job["default_graph"] or []]
        kw["named_graphs"] = [ox.NamedNode(u) for u in job["named_graphs"] or []]
    elif not job["has_dataset"]:
        kw["use_default_graph_as_union"] = True
    out = _CappedBuffer(job["max_bytes"])
    try:
        res = store.query(job["query"], **kw)
        if isinstance(res, ox.QueryTriples):
            fmt = job["graph_format"]
            if fmt is None:
                return ("error", "NotAcceptable", "the query returns a graph, but no RDF format was acceptable")
            rdf = getattr(ox.RdfFormat, fmt)
            prefixes = job["prefixes"] if fmt in ("TURTLE", "RDF_XML") else None
            ox.serialize(res, out, rdf, prefixes=prefixes)
            media = GRAPH_MEDIA_TYPES[fmt]
        else:
            fmt = job["results_format"]
            if fmt is None:
                return ("error", "NotAcceptable", "the query returns results, but no results format was acceptable")
            res.serialize(out, getattr(ox.QueryResultsFormat, fmt))
            media = RESULTS_MEDIA_TYPES[fmt]
    except SyntaxError as e:
        return ("error", "SyntaxError", str(e))
    except Exception as e:  # noqa: BLE001 - everything is reported to the caller
        if out.overflow:
            return ("error", "TooLarge", str(job["max_bytes"]))
        return ("error", type(e).__name__, str(e))
    return ("ok", media, out.getvalue())


def _alarm_seconds(timeout: float) -> int:
    return int(math.ceil(timeout)) + 2


#: a worker idle this long exits (the engine starts another when needed), so engines that are
#: no longer used (e.g. apps made by tests) do not keep processes and copy-on-write memory
IDLE_EXIT = 120.0


def _serve(cin, cout, open_store, idle_exit: float = IDLE_EXIT, sandbox: bool = True) -> None:
    """A worker's loop: evaluate jobs until EOF or ``idle_exit`` seconds without a job.
    ``open_store(snapshot)`` gives the store to query."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # alarm() kills us if the parent stops watching
    if sandbox:
        from .sandbox import deny_network
        try:
            deny_network()  # before any query: no socket can be opened or used from here on
        except OSError as e:
            cout.send(("nosandbox", f"{e}"))
            return
    cout.send(("ready", os.getpid()))
    store, opened = None, object()
    while True:
        try:
            if not cin.poll(idle_exit):
                break
            job = cin.recv()
        except (EOFError, OSError):
            break
        signal.alarm(job["alarm"])
        try:
            if job["snapshot"] != opened:
                store, opened = None, object()
                store = open_store(job["snapshot"])
                opened = job["snapshot"]
            res = _execute(store, job)
        except Exception as e:  # noqa: BLE001
            res = ("error", "Aborted", f"{type(e).__name__}: {e}")
        signal.alarm(0)
        try:
            cout.send(res)
        except (OSError, EOFError):
            break


def _worker_main(rfd: int, wfd: int, idle_exit: float = IDLE_EXIT, sandbox: bool = True) -> None:
    """Entry point of a snapshot worker process (started with ``python -c``)."""
    from multiprocessing.connection import Connection
    _serve(Connection(rfd, writable=False), Connection(wfd, readable=False), ox.Store.read_only, idle_exit,
           sandbox)
    os._exit(0)


# --------------------------------------------------------------------------- the engine
@dataclass(frozen=True)
class SparqlResult:
    body: bytes
    media_type: str
    form: str | None


_SYNTAX = re.compile(r"error at (\d+):(\d+): (.*)", re.S)


_PNAME_BEFORE = re.compile(r"([A-Za-z][\w.\-]*)?:[^\s]*$")


def _syntax_error(query: str, message: str, prefixes: dict) -> QueryError:
    m = _SYNTAX.match(message)
    if not m:
        return QueryError(f"syntax error: {message}")
    line, col, rest = int(m.group(1)), int(m.group(2)), m.group(3).strip()
    if "Prefix not found" in rest:
        lines = query.splitlines() or [""]
        before = lines[line - 1][:col - 1] if 0 < line <= len(lines) else ""
        p = _PNAME_BEFORE.search(before.rstrip())
        name = f"'{p.group(1) or ''}:' " if p else ""
        return QueryError(f"unknown prefix {name}at line {line}, column {col}: declare it with PREFIX "
                          f"(predeclared: {', '.join(sorted(prefixes))})", line=line, column=col)
    if len(rest) > 240:  # Oxigraph lists every expected token, Unicode ranges included
        rest = rest[:240].rsplit(",", 1)[0] + ", ..."
    return QueryError(f"syntax error at line {line}, column {col}: {rest}", line=line, column=col)


def _raise_error(kind: str, message: str, timeout: float | None, max_bytes: int | None):
    if kind == "NotAcceptable":
        raise NotAcceptable(message)
    if kind == "TooLarge":
        size = f"{max_bytes / 2**20:g} MiB" if max_bytes >= 2**20 else f"{max_bytes} bytes"
        raise QueryError(f"the result is larger than {size}; add a LIMIT or select fewer variables")
    if kind == "Aborted":
        raise QueryAborted(f"the query could not be evaluated: {message}")
    if kind == "Busy":
        raise QueryTimeout(f"the SPARQL endpoint is busy ({message} queries running for over {timeout:g} s); "
                           "try again later", timeout=timeout)
    if kind == "Timeout":
        raise QueryTimeout(f"query exceeded {timeout:g} s; it was stopped. Narrow it (more specific "
                           "patterns, LIMIT) or ask for a longer SPARQL_TIMEOUT", timeout=timeout)
    # Never echo what a failed evaluation carried (e.g. a remote answer): first line, capped.
    first = (message or "").strip().splitlines()[0] if (message or "").strip() else kind
    if re.search(r"https?://|payload|returned by|service", first, re.I):
        first = "the query tried to reach another server, which is not allowed"
    raise QueryError(f"query failed: {first[:200]}")


class SparqlEngine:
    """Evaluates read-only SPARQL queries on an ``EmbeddedStore`` with a hard timeout.

    ``timeout`` in seconds (None or 0: no limit, evaluated in-process); ``workers`` bounds the
    queries evaluated at once; ``max_result_bytes`` caps a serialised result (None: no cap);
    worker processes idle for ``idle_exit`` seconds exit (and are restarted when needed).
    """

    def __init__(self, store, timeout: float | None = 10.0, *, workers: int = 2,
                 max_result_bytes: int | None = 128 * 2**20, prefixes: dict[str, str] | None = None,
                 idle_exit: float = IDLE_EXIT, sandbox: bool | None = None):
        if prefixes is None:
            from .vocab import PREFIXES
            prefixes = PREFIXES
        self.store = store
        self.timeout = float(timeout) if timeout else None
        self.workers = max(1, int(workers))
        self.max_result_bytes = max_result_bytes
        self.idle_exit = float(idle_exit)
        self.prefixes = dict(prefixes)
        #: worker processes cannot open sockets (:mod:`ontology.sandbox`); default: where supported
        from .sandbox import supported
        self.sandbox = supported() if sandbox is None else bool(sandbox)
        #: counters for tests and monitoring: queries, timeouts, snapshots, spawned, killed
        self.stats: Counter = Counter()
        path = getattr(store, "path", None)
        if self.timeout is None:
            self._executor = _InlineExecutor(self)
        elif path:
            self._executor = _SnapshotPool(self, Path(path))
        elif hasattr(os, "fork"):
            self._executor = _ForkPool(self)
        else:  # no fork (Windows) and no on-disk store: no way to stop a query
            self._executor = _InlineExecutor(self)

    @property
    def mode(self) -> str:
        return self._executor.mode

    @property
    def isolated(self) -> bool:
        """True when queries run in sandboxed worker processes (no network, killable)."""
        return self._executor.mode != "inline" and self.sandbox

    def run(self, query: str, *, accept: str | None = None, format: str | None = None,
            default_graph_uris=(), named_graph_uris=(), visible_graphs=None) -> SparqlResult:
        """Check, negotiate and evaluate ``query``; raises a :class:`GapmapError` on any failure.

        ``visible_graphs`` (IRIs) is the whole world the query may see: the default graph is
        their union (or the ones of them named by ``FROM`` / ``default-graph-uri``), and ``GRAPH``
        reaches only them (or those of them named by ``FROM NAMED`` / ``named-graph-uri``).
        A graph named but not visible is an empty graph, exactly like one that does not exist.
        None: every graph of the store (library use)."""
        info = inspect_query(query, self.prefixes)
        results_fmt, graph_fmt = negotiate(info.form, accept, format)
        dg, ng = list(default_graph_uris or ()), list(named_graph_uris or ())
        for iri in dg + ng:
            try:
                ox.NamedNode(iri)
            except ValueError:
                raise QueryError(f"not an absolute IRI: {iri!r}", parameter="default-graph-uri/named-graph-uri") \
                    from None
        given = bool(dg or ng)
        if visible_graphs is not None:
            seen = list(dict.fromkeys(str(g) for g in visible_graphs))
            ok = set(seen)
            if given:
                dg, ng = [g for g in dg if g in ok], [g for g in ng if g in ok]
            elif info.has_dataset:
                # FROM / FROM NAMED, restricted to the visible graphs (an unresolvable name: none)
                dg = [g for g in info.from_graphs or () if g in ok]
                ng = [g for g in info.from_named or () if g in ok]
            else:
                dg, ng = seen, seen
            given = True
        job = {"query": query, "prefixes": self.prefixes, "has_dataset": info.has_dataset,
               "default_graph": dg if given else None, "named_graphs": ng if given else None,
               "results_format": results_fmt, "graph_format": graph_fmt, "max_bytes": self.max_result_bytes,
               "alarm": _alarm_seconds(self.timeout) if self.timeout else 0}
        self.stats["queries"] += 1
        res = self._executor.run(job)
        if res[0] != "ok":
            if res[1] == "Timeout":
                self.stats["timeouts"] += 1
            if res[1] == "SyntaxError":
                raise _syntax_error(query, res[2], self.prefixes)
            _raise_error(res[1], res[2], self.timeout, self.max_result_bytes)
        return SparqlResult(body=res[2], media_type=res[1], form=info.form)

    def select(self, query: str, substitutions: dict | None = None) -> list[dict]:
        """Rows of a read-layer query (``Store.select``'s contract), evaluated under the deadline:
        :class:`QueryTimeout` (503) when it runs longer than ``timeout``."""
        subs = [(str(k.value if isinstance(k, ox.Variable) else k), _term_out(v))
                for k, v in (substitutions or {}).items()]
        job = {"kind": "select", "query": query, "substitutions": subs,
               "alarm": _alarm_seconds(self.timeout) if self.timeout else 0}
        self.stats["selects"] += 1
        res = self._executor.run(job)
        if res[0] != "ok":
            if res[1] == "Timeout":
                self.stats["timeouts"] += 1
                raise QueryTimeout(f"a query of this page ran longer than {self.timeout:g} s and was stopped "
                                   "(QUERY_DEADLINE); try narrower filters", timeout=self.timeout)
            if res[1] == "Busy":
                raise QueryTimeout(f"the server is busy ({res[2]} queries running for over {self.timeout:g} s); "
                                   "try again later", timeout=self.timeout)
            if res[1] == "Aborted":
                raise QueryAborted(f"the query could not be evaluated: {res[2]}")
            raise QueryError(f"query failed: {res[2][:300]}")
        return res[2]

    def close(self) -> None:
        """Stop the worker processes and delete the snapshots (also done at exit / on GC)."""
        self._executor.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _write_lock(store):
    return getattr(store, "_write_lock", None) or nullcontext()


class _InlineExecutor:
    mode = "inline"

    def __init__(self, engine: SparqlEngine):
        self.engine = engine

    def run(self, job):
        return _execute(self.engine.store.ox, job)

    def close(self):
        pass


class _Worker:
    """One evaluating process and its two pipes."""

    def __init__(self, cin, cout, *, proc: subprocess.Popen | None = None, pid: int | None = None,
                 generation=None):
        self.cin, self.cout, self.proc = cin, cout, proc
        self.pid = proc.pid if proc is not None else pid
        self.generation = generation  # fork workers: the store generation they inherited
        self.snapshot: str | None = None  # snapshot workers: the snapshot they have open

    def stop(self):
        """Close the pipes and SIGKILL the process (instant); :meth:`wait` reaps it."""
        for c in (self.cin, self.cout):
            try:
                c.close()
            except OSError:
                pass
        try:
            if self.proc is not None:
                self.proc.kill()
            else:
                os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass

    def alive(self) -> bool:
        """False once the process has exited (it is then reaped)."""
        if self.proc is not None:
            return self.proc.poll() is None
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def wait(self):
        if self.proc is not None:
            self.proc.wait()
        else:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass

    def kill(self):
        self.stop()
        self.wait()


def _reap(worker: _Worker) -> None:
    worker.stop()
    # Tearing down a big forked address space takes ~40 ms per GiB here: not on the request's time.
    threading.Thread(target=worker.wait, name="sparql-reaper", daemon=True).start()


def _shutdown(workers: set, root: Path | None) -> None:
    for w in list(workers):
        w.kill()
    workers.clear()
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Pool:
    """At most ``engine.workers`` evaluating processes; a job is sent to an idle one and the
    process is killed (and later replaced) if no answer comes within the timeout."""

    mode = "?"
    root: Path | None = None

    def __init__(self, engine: SparqlEngine):
        self.engine = engine
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._starting = 0
        self._finalizer = weakref.finalize(self, _shutdown, self._all, self.root)

    def _spawn(self) -> _Worker:
        raise NotImplementedError

    def _acquire(self, fresh) -> _Worker | None:
        deadline = time.monotonic() + self.engine.timeout
        with self._cond:
            while True:
                while self._idle:
                    w = self._idle.pop()
                    if fresh(w) and w.alive():
                        return w
                    self._all.discard(w)  # stale (forked before a write) or exited when idle
                    _reap(w)
                if len(self._all) + self._starting < self.engine.workers:
                    self._starting += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
        try:
            w = self._spawn()
            with self._cond:
                self._all.add(w)
            self.engine.stats["spawned"] += 1
            return w
        finally:
            with self._cond:
                self._starting -= 1
                self._cond.notify()

    def _release(self, w: _Worker):
        with self._cond:
            self._idle.append(w)
            self._cond.notify()

    def _discard(self, w: _Worker):
        with self._cond:
            self._all.discard(w)
            self._cond.notify()
        _reap(w)

    def _exchange(self, job: dict, fresh) -> tuple:
        eng = self.engine
        w = self._acquire(fresh)
        if w is None:
            return ("error", "Busy", str(eng.workers))
        ok = False
        try:
            w.snapshot = job["snapshot"]
            w.cin.send(job)
            if not w.cout.poll(eng.timeout):
                eng.stats["killed"] += 1
                return ("error", "Timeout", "")
            res = w.cout.recv()
            ok = not (res[0] == "error" and res[1] == "Aborted")
            return res
        except (EOFError, OSError):
            return ("error", "Aborted", "the evaluating process died (out of memory?)")
        finally:
            if ok:
                self._release(w)
            else:
                self._discard(w)

    def close(self):
        self._finalizer()


class _ForkPool(_Pool):
    """In-memory store: workers are ``os.fork()``ed from this process and evaluate on the store
    they inherited (copy-on-write).  A worker forked before the last write is retired."""

    mode = "fork"

    def _spawn(self) -> _Worker:
        from multiprocessing.connection import Connection
        store = self.engine.store
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        with self._cond:
            others = [fd for w in self._all for fd in (w.cin.fileno(), w.cout.fileno())]
        with _write_lock(store):  # never fork in the middle of a replace_graphs
            generation = getattr(store, "generation", None)
            pid = os.fork()
        if pid == 0:  # child
            try:
                for fd in (w1, r2, *others):
                    try:
                        os.close(fd)
                    except OSError:
                        pass
                _serve(Connection(r1, writable=False), Connection(w2, readable=False), lambda _snap: store.ox,
                       self.engine.idle_exit, self.engine.sandbox)
            finally:
                os._exit(0)
        os.close(r1)
        os.close(w2)
        w = _Worker(Connection(w1, readable=False), Connection(r2, writable=False), pid=pid, generation=generation)
        hello = w.cout.recv() if w.cout.poll(30) else ("timeout", "")
        if hello[0] != "ready":
            _reap(w)
            raise QueryAborted(f"could not start a SPARQL worker process: {hello[1]}")
        return w

    def run(self, job):
        gen = getattr(self.engine.store, "generation", None)
        return self._exchange(dict(job, snapshot=None), lambda w: w.generation == gen)


class _SnapshotPool(_Pool):
    """On-disk store: worker processes evaluating on read-only checkpoints of the store."""

    mode = "pool"
    _STAMPED = re.compile(r"^(\d+\.log|MANIFEST-\d+|CURRENT)$")

    def __init__(self, engine: SparqlEngine, path: Path):
        self.path = path
        base = path.parent / f".{path.name}.sparql-snapshots"
        base.mkdir(parents=True, exist_ok=True)
        for d in base.iterdir():  # leftovers of engines whose process is gone
            pid = d.name.split("-", 1)[0]
            if pid.isdigit() and not _pid_alive(int(pid)):
                shutil.rmtree(d, ignore_errors=True)
        self.root = base / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.root.mkdir()
        self._snap_lock = threading.Lock()
        self._snap_key = None
        self._snap_dir: str | None = None
        self._inflight: Counter = Counter()
        super().__init__(engine)

    # snapshots ------------------------------------------------------------
    def _stamp(self):
        try:
            return tuple(sorted((e.name, e.stat().st_size) for e in os.scandir(self.path)
                                if self._STAMPED.match(e.name)))
        except OSError:
            return None

    def _snapshot(self) -> str:
        """The current snapshot (made now if the store changed), counted as in use until
        :meth:`_done` is called with it."""
        store = self.engine.store
        with self._snap_lock:
            if self._snap_dir is None or self._snap_key != (store.generation, self._stamp()):
                target = self.root / f"snap-{uuid.uuid4().hex[:12]}"
                try:
                    with _write_lock(store):
                        store.ox.backup(str(target))
                        self._snap_key = (store.generation, self._stamp())
                except (OSError, RuntimeError) as e:
                    shutil.rmtree(target, ignore_errors=True)
                    raise QueryAborted(f"could not snapshot the store for querying: {e}") from None
                self._snap_dir = str(target)
                self.engine.stats["snapshots"] += 1
                self._gc()
            self._inflight[self._snap_dir] += 1
            return self._snap_dir

    def _done(self, snap: str):
        with self._snap_lock:
            self._inflight[snap] -= 1
            if snap != self._snap_dir and self._inflight[snap] <= 0:
                self._gc()

    def _gc(self):
        """Delete snapshots that are neither current, nor about to be used, nor open in a worker.
        Called with ``_snap_lock`` held."""
        with self._cond:
            used = {w.snapshot for w in self._all}
        used |= {d for d, n in self._inflight.items() if n > 0} | {self._snap_dir}
        for d in list(self._inflight):
            if d not in used:
                del self._inflight[d]
        for d in self.root.iterdir():
            if str(d) not in used:
                shutil.rmtree(d, ignore_errors=True)

    # workers --------------------------------------------------------------
    def _spawn(self) -> _Worker:
        from multiprocessing.connection import Connection
        r1, w1 = os.pipe()  # job pipe: parent writes w1, worker reads r1
        r2, w2 = os.pipe()  # result pipe: worker writes w2, parent reads r2
        pkg_root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_root, env.get("PYTHONPATH")) if p)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", "import sys; from ontology.sparql import _worker_main; "
                 "_worker_main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == '1')",
                 str(r1), str(w2), repr(self.engine.idle_exit), "1" if self.engine.sandbox else "0"],
                pass_fds=(r1, w2), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env,
                start_new_session=True)
        finally:
            os.close(r1)
            os.close(w2)
        w = _Worker(Connection(w1, readable=False), Connection(r2, writable=False), proc=proc)
        hello = w.cout.recv() if w.cout.poll(60) else ("timeout", "")
        if hello[0] != "ready":
            w.kill()
            raise QueryAborted(f"could not start a SPARQL worker process: {hello[1]}")
        return w

    def run(self, job):
        snap = self._snapshot()
        try:
            return self._exchange(dict(job, snapshot=snap), lambda w: True)
        finally:
            self._done(snap)
