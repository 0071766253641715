"""Read-only SPARQL 1.1 query evaluation with a hard timeout (no Flask, no HTTP here).

:class:`SparqlEngine` takes a query string and the result formats to use (chosen by the caller:
the service negotiates them from ``Accept``/``format`` in :mod:`service.negotiation`), checks the
query and evaluates it with Oxigraph, returning ``(body bytes, media type)``.  It reads the store
only through the :class:`~ontology.store.Store` contract: ``store.capabilities.workers`` says
whether it can, and ``store.worker_access()`` gives what worker processes need (a fork point with
no write half-done, or a read-only checkpoint).

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

Evaluation
    In killable, sandboxed worker processes (:mod:`ontology.sparql_workers`: why, how, and what it
    costs), or in-process when there is no timeout.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass

import pyoxigraph as ox

from .errors import GapmapError, QueryError, QueryTimeout
from .sparql_formats import DEFAULT_FORMATS, GRAPH_MEDIA_TYPES, RESULTS_MEDIA_TYPES, NotAcceptable
from .sparql_inspect import _FORMS, QueryInfo, inspect_query, tokenize  # noqa: F401  (re-exported)
from .sparql_workers import (IDLE_EXIT, QueryAborted, alarm_seconds, ForkPool, InlineExecutor, SnapshotPool,
                             term_out)
from .sparql_inspect import strip_dataset_clauses, vendor_functions
from .store import WorkerAccess

__all__ = ["SparqlEngine", "SparqlResult", "NotAcceptable", "QueryAborted", "inspect_query",
           "RESULTS_MEDIA_TYPES", "GRAPH_MEDIA_TYPES"]


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
    """Evaluates read-only SPARQL queries on a store whose ``capabilities.workers`` is true (embedded
    Oxigraph) with a hard timeout; a :class:`~ontology.store_remote.RemoteStore`'s queries are checked the same way
    and forwarded to its server (:class:`RemoteExecutor`); any other store is a
    :class:`~ontology.store.StoreUnsupported`.

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
        if hasattr(store, "query_raw"):  # a RemoteStore: forwarded to its SPARQL server (RemoteExecutor)
            self.access = None
            self._executor = RemoteExecutor(self)
            return
        #: what worker processes need to read the store (the store's side of the contract)
        self.access: WorkerAccess = store.worker_access()
        if self.timeout is None:
            self._executor = InlineExecutor(self)
        elif self.access.mode == "snapshot":
            self._executor = SnapshotPool(self, self.access.folder)
        elif hasattr(os, "fork"):
            self._executor = ForkPool(self)
        else:  # no fork (Windows) and no on-disk store: no way to stop a query
            self._executor = InlineExecutor(self)

    @property
    def mode(self) -> str:
        return self._executor.mode

    @property
    def isolated(self) -> bool:
        """True when queries run in sandboxed worker processes (no network, killable)."""
        return self._executor.mode != "inline" and self.sandbox

    def run(self, query: str, *, formats=None, default_graph_uris=(), named_graph_uris=(),
            visible_graphs=None) -> SparqlResult:
        """Check and evaluate ``query``; raises a :class:`GapmapError` on any failure.

        ``formats``: ``(results format, graph format)`` (member names of ``pyoxigraph.QueryResultsFormat``
        and ``pyoxigraph.RdfFormat``, e.g. ``("JSON", "TURTLE")``, the default), or a function of the
        query form ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE" or None) returning that pair, called once
        the query is checked (the service passes its Accept negotiation this way).

        ``visible_graphs`` (IRIs) is the whole world the query may see: the default graph is
        their union (or the ones of them named by ``FROM`` / ``default-graph-uri``), and ``GRAPH``
        reaches only them (or those of them named by ``FROM NAMED`` / ``named-graph-uri``).
        A graph named but not visible is an empty graph, exactly like one that does not exist.
        None: every graph of the store (library use)."""
        info = inspect_query(query, self.prefixes)
        if self._executor.mode == "remote" and vendor_functions(query):
            raise QueryError("this query names server-specific functions (bif:, sql:): only standard SPARQL 1.1 "
                             "is forwarded to the store's server")
        if callable(formats):
            formats = formats(info.form)
        results_fmt, graph_fmt = formats or DEFAULT_FORMATS
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
        job = {"query": query, "form": info.form, "prefixes": self.prefixes, "has_dataset": info.has_dataset,
               "default_graph": dg if given else None, "named_graphs": ng if given else None,
               "results_format": results_fmt, "graph_format": graph_fmt, "max_bytes": self.max_result_bytes,
               "alarm": alarm_seconds(self.timeout) if self.timeout else 0}
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
        subs = [(str(k.value if isinstance(k, ox.Variable) else k), term_out(v))
                for k, v in (substitutions or {}).items()]
        job = {"kind": "select", "query": query, "substitutions": subs,
               "alarm": alarm_seconds(self.timeout) if self.timeout else 0}
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


class RemoteExecutor:
    """Queries on a :class:`~ontology.store_remote.RemoteStore` are forwarded to its SPARQL server.

    * The query is parsed here first (Oxigraph's parser, on an empty store): only standard SPARQL 1.1 is
      forwarded, so vendor extensions (Virtuoso's ``DEFINE`` pragmas, ``input:`` dataset overrides, sponger
      ``get:`` loading) fail here as syntax errors, with our line/column messages.  SERVICE, updates and
      ``bif:``/``sql:`` functions were refused before (:meth:`SparqlEngine.run`).
    * The dataset goes in the protocol's ``default-graph-uri`` / ``named-graph-uri`` parameters (only
      visible graphs; ``urn:gapmap:empty`` stands for "no graph", which the protocol cannot say), and the
      query's own ``FROM`` / ``FROM NAMED`` clauses are blanked out (:func:`strip_dataset_clauses`), so a
      server that merges them with the parameters (Virtuoso) cannot be steered to other graphs.
    * The server answers SPARQL JSON or N-Triples; the answer is re-serialised here in the negotiated
      format (the same bytes as the embedded path for the same solutions), under ``max_result_bytes``.
    * ``timeout``: the HTTP request's deadline (503 after it).  The server should stop the query too
      (``oxigraph serve --timeout-s``, Virtuoso's ``MaxQueryExecutionTime``): docs/deploy.md.
    """

    mode = "remote"
    _parser = None

    def __init__(self, engine: SparqlEngine):
        self.engine = engine

    def run(self, job):
        from .errors import StoreAnswerTooLarge, StoreTimeout
        from .store_remote import with_prefixes
        store, eng = self.engine.store, self.engine
        if RemoteExecutor._parser is None:
            RemoteExecutor._parser = ox.Store()
        try:  # syntax check only: an empty dataset, solutions never iterated
            RemoteExecutor._parser.query(job["query"], prefixes=job["prefixes"], default_graph=[], named_graphs=[])
        except SyntaxError as e:
            return ("error", "SyntaxError", str(e))
        except Exception:  # noqa: BLE001 - evaluation errors on nothing are not ours to judge; the server's
            pass
        text, params = job["query"], []
        if job["default_graph"] is not None or job["named_graphs"] is not None:
            text = strip_dataset_clauses(text)
            params += [("default-graph-uri", g) for g in (job["default_graph"] or ["urn:gapmap:empty"])]
            params += [("named-graph-uri", g) for g in (job["named_graphs"] or ["urn:gapmap:empty"])]
        text = with_prefixes(text)
        graph = job["form"] in ("CONSTRUCT", "DESCRIBE")
        cap = job["max_bytes"]
        try:
            raw = store.query_raw(text, "application/n-triples" if graph else "application/sparql-results+json",
                                  params, timeout=eng.timeout or 3600.0, max_bytes=None if cap is None else 4 * cap)
        except StoreTimeout as e:
            return ("error", "Timeout", str(e))
        except StoreAnswerTooLarge:
            return ("error", "TooLarge", str(cap))
        except GapmapError as e:
            if "estimated execution time" in str(e):  # Virtuoso refuses, before running, what it expects to be slow
                return ("error", "Timeout", str(e))
            if getattr(e, "status", 400) >= 500:
                return ("error", "Aborted", f"the SPARQL server failed: {str(e)[:200]}")
            return ("error", "Remote", str(e))
        import io
        out = io.BytesIO()  # the input was capped (4 × max_result_bytes): so is this; checked below
        try:
            if graph:
                fmt = job["graph_format"]
                if fmt is None:
                    return ("error", "NotAcceptable", "the query returns a graph, but no RDF format was acceptable")
                prefixes = job["prefixes"] if fmt in ("TURTLE", "RDF_XML") else None
                ox.serialize(ox.parse(raw, format=ox.RdfFormat.N_TRIPLES), out, getattr(ox.RdfFormat, fmt),
                             prefixes=prefixes)
                media = GRAPH_MEDIA_TYPES[fmt]
            else:
                fmt = job["results_format"]
                if fmt is None:
                    return ("error", "NotAcceptable", "the query returns results, but no results format was acceptable")
                res = ox.parse_query_results(raw, format=ox.QueryResultsFormat.JSON)
                res.serialize(out, getattr(ox.QueryResultsFormat, fmt))
                media = RESULTS_MEDIA_TYPES[fmt]
        except Exception as e:  # noqa: BLE001
            return ("error", "Remote", f"the SPARQL server's answer could not be read: {type(e).__name__}")
        body = out.getvalue()
        if cap is not None and len(body) > cap:
            return ("error", "TooLarge", str(cap))
        return ("ok", media, body)

    def close(self):
        pass
