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

from .errors import GapmapError, QueryError, QueryTimeout
from .sparql_formats import GRAPH_MEDIA_TYPES, RESULTS_MEDIA_TYPES, NotAcceptable, negotiate  # noqa: F401
from .sparql_inspect import _FORMS, QueryInfo, inspect_query, tokenize  # noqa: F401  (re-exported)
from .sparql_inspect import strip_dataset_clauses, vendor_functions

__all__ = ["SparqlEngine", "SparqlResult", "NotAcceptable", "QueryAborted", "inspect_query",
           "negotiate", "RESULTS_MEDIA_TYPES", "GRAPH_MEDIA_TYPES"]




class QueryAborted(GapmapError):
    """The evaluating process died (e.g. out of memory) or could not open the store."""

    status = 503
    exit_code = 5
    title = "Query aborted"


# --------------------------------------------------------------------------- formats: ontology/sparql_formats.py

# --------------------------------------------------------------------------- inspection: ontology/sparql_inspect.py

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
        if hasattr(store, "query_raw"):  # a RemoteStore: forwarded to its SPARQL server (_RemoteExecutor)
            self._executor = _RemoteExecutor(self)
        elif self.timeout is None:
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
        if self._executor.mode == "remote" and vendor_functions(query):
            raise QueryError("this query names server-specific functions (bif:, sql:): only standard SPARQL 1.1 "
                             "is forwarded to the store's server")
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
        job = {"query": query, "form": info.form, "prefixes": self.prefixes, "has_dataset": info.has_dataset,
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


class _RemoteExecutor:
    """Queries on a :class:`~ontology.store.RemoteStore` are forwarded to its SPARQL server.

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
        from .store import StoreAnswerTooLarge, StoreTimeout, _with_prefixes
        store, eng = self.engine.store, self.engine
        if _RemoteExecutor._parser is None:
            _RemoteExecutor._parser = ox.Store()
        try:  # syntax check only: an empty dataset, solutions never iterated
            _RemoteExecutor._parser.query(job["query"], prefixes=job["prefixes"], default_graph=[], named_graphs=[])
        except SyntaxError as e:
            return ("error", "SyntaxError", str(e))
        except Exception:  # noqa: BLE001 - evaluation errors on nothing are not ours to judge; the server's
            pass
        text, params = job["query"], []
        if job["default_graph"] is not None or job["named_graphs"] is not None:
            text = strip_dataset_clauses(text)
            params += [("default-graph-uri", g) for g in (job["default_graph"] or ["urn:gapmap:empty"])]
            params += [("named-graph-uri", g) for g in (job["named_graphs"] or ["urn:gapmap:empty"])]
        text = _with_prefixes(text)
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
        out = _CappedBuffer(cap)
        try:
            if graph:
                fmt = job["graph_format"]
                if fmt is None:
                    return ("error", "NotAcceptable", "the query returns a graph, but no RDF format was acceptable")
                prefixes = job["prefixes"] if fmt in ("TURTLE", "RDF_XML") else None
                ox.serialize(ox.parse(raw, format=ox.RdfFormat.N_TRIPLES), out, getattr(ox.RdfFormat, fmt),
                             prefixes=prefixes)
                return ("ok", GRAPH_MEDIA_TYPES[fmt], out.getvalue())
            fmt = job["results_format"]
            if fmt is None:
                return ("error", "NotAcceptable", "the query returns results, but no results format was acceptable")
            res = ox.parse_query_results(raw, format=ox.QueryResultsFormat.JSON)
            res.serialize(out, getattr(ox.QueryResultsFormat, fmt))
            return ("ok", RESULTS_MEDIA_TYPES[fmt], out.getvalue())
        except Exception as e:  # noqa: BLE001
            if out.overflow:
                return ("error", "TooLarge", str(cap))
            return ("error", "Remote", f"the SPARQL server's answer could not be read: {type(e).__name__}")

    def close(self):
        pass


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
