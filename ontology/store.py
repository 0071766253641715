"""The graph store: one small interface, an embedded Oxigraph implementation.

Reads go through rdflib (``Dataset`` over the oxrdflib store) so named queries are bound
with ``initBindings``, which oxrdflib hands to Oxigraph as native substitutions: the query
text is never formatted with user input.  Writes replace whole named graphs (one per
source) in a single Oxigraph transaction.
"""
from __future__ import annotations

import io
import json
import re
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.query import Result

from .errors import LoadError, NotFound, QueryError, StoreLocked
from .vocab import PREFIXES

_STAGING = "urn:gapmap:staging:"


@lru_cache(maxsize=None)
def load_query(name: str) -> str:
    """The text of ``ontology/queries/<name>.rq``."""
    try:
        return resources.files("ontology.queries").joinpath(f"{name}.rq").read_text("utf-8")
    except FileNotFoundError:
        raise NotFound(f"no query named {name!r}") from None


_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def values_block(query: str, subs: Mapping) -> str:
    """``query`` with its bindings as a ``VALUES`` block opening the WHERE clause.

    Used for queries marked ``# bind: values``: Oxigraph's optimiser does not see substituted
    variables as bound, so it may plan a join from the other end (scanning the store); a VALUES
    block makes it start from the bound term.  The terms are serialised by pyoxigraph (N-Triples
    escaping of an already-built ``NamedNode``/``Literal``), never by formatting raw input.
    """
    if not subs:
        return query
    names = " ".join(f"?{v.value}" for v in subs)
    row = " ".join(str(t) for t in subs.values())
    m = _WHERE.search(_strip_comments(query))
    if m is None:
        raise QueryError("a '# bind: values' query needs a WHERE clause")
    return f"{query[:m.end()]} VALUES ({names}) {{ ({row}) }}{query[m.end():]}"


def _strip_comments(query: str) -> str:
    # same length as the input, so positions match; only whole-line comments are used in our .rq files
    return "\n".join(" " * len(line) if line.lstrip().startswith("#") else line for line in query.split("\n"))


_OX_TERMS = (ox.NamedNode, ox.BlankNode, ox.Literal)


def to_ox(term) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, _OX_TERMS):
        return term
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def _ox_quad(s, p, o, g) -> ox.Quad:
    """One quad for Oxigraph; a term Oxigraph refuses (an IRI with a space, ...) is bad input, not a crash."""
    try:
        return ox.Quad(to_ox(s), to_ox(p), to_ox(o), g)
    except (ValueError, TypeError) as e:
        bad = next((t for t in (s, p, o) if not _valid(t)), s)
        raise LoadError(f"cannot store {str(bad)[:200]!r}: {e}") from None


def _valid(term) -> bool:
    try:
        to_ox(term)
        return True
    except (ValueError, TypeError):
        return False


def _py(term):
    """A plain Python value for a result cell (IRIs as str, typed literals converted)."""
    if term is None:
        return None
    if isinstance(term, Literal):
        v = term.toPython()
        return v if not isinstance(v, Literal) else str(v)
    return str(term)


class Store(ABC):
    """What the rest of Gapmap needs from a store."""

    @abstractmethod
    def query(self, sparql: str, bindings: Mapping[str, object] | None = None) -> Result:
        """Run a read-only query over the union of all graphs."""

    @abstractmethod
    def replace_graphs(self, graphs: Mapping[URIRef, Graph]) -> None:
        """Replace each named graph by the given triples, all in one transaction."""

    @abstractmethod
    def apply(self, delete: Iterable[tuple], insert: Iterable[tuple]) -> None:
        """Delete then insert quads ``(s, p, o, g)`` in one transaction."""

    @abstractmethod
    def graph_names(self) -> list[str]: ...

    def locked(self):
        """The store's write lock (re-entrant), as a context manager.

        ``replace_graphs`` and ``apply`` take it for each transaction.  A writer whose write depends
        on what it reads (a decision checks the current status, an alignment run keeps the decided
        alignments, an upload numbers its version) holds it around the read *and* the write, so no
        other write can land in between: that is what makes read-check-write sequences atomic in
        this process.  Other processes cannot open an embedded store that is open (see
        :class:`StoreLocked`).
        """
        lock = self.__dict__.get("_write_lock")
        if lock is None:
            lock = self.__dict__.setdefault("_write_lock", threading.RLock())
        return lock

    @abstractmethod
    def graph(self, name: URIRef, subjects: Iterable | None = None) -> Graph:
        """A copy of one named graph (only the triples of ``subjects`` when given)."""

    @abstractmethod
    def __len__(self) -> int: ...

    # Conveniences built on query() -------------------------------------------------
    def select(self, name: str, **bindings) -> list[dict]:
        """Run the named query ``queries/<name>.rq`` and return rows as dicts of Python values."""
        res = self.query(load_query(name), {k: v for k, v in bindings.items() if v is not None})
        return [{str(v): _py(row[v]) for v in res.vars} for row in res]

    def ask(self, name: str, **bindings) -> bool:
        return bool(self.query(load_query(name), bindings).askAnswer)


class EmbeddedStore(Store):
    """Embedded Oxigraph store, on disk (``path``) or in memory (``path=None``)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else None
        if self.path:
            self.path.mkdir(parents=True, exist_ok=True)
        try:
            self.ox = ox.Store(str(self.path)) if self.path else ox.Store()
        except OSError as e:
            if "lock" in str(e).lower():
                raise StoreLocked(f"the store {self.path} is in use by another process (a running "
                                  "`gapmap serve`?): stop it first, or use the API", store=str(self.path)) from None
            raise
        self._ds = Dataset(store=OxigraphStore(store=self.ox), default_union=True)
        # Re-entrant: a writer holding locked() around read-check-write calls apply/replace_graphs inside.
        self._write_lock = threading.RLock()
        self._drop_stale_staging()
        #: bumped on every write, so caches (reports, worker processes) can tell they are stale
        self.generation = 0

    def _drop_stale_staging(self):
        # A crash between staging and the atomic MOVE leaves staging graphs: they were never visible.
        for g in list(self.ox.named_graphs()):
            if isinstance(g, ox.NamedNode) and g.value.startswith(_STAGING):
                self.ox.remove_graph(g)

    def query(self, sparql, bindings=None):
        try:
            return self._ds.query(sparql, initBindings=dict(bindings or {}), initNs=PREFIXES)
        except (SyntaxError, RuntimeError) as e:
            raise QueryError(f"query failed: {e}") from None

    def replace_graphs(self, graphs):
        """Replace each named graph, all in one transaction, writing only what changed.

        Each graph's new triples (an rdflib ``Graph`` or any iterable of ``(s, p, o)`` in rdflib or
        pyoxigraph terms) are compared with what the store holds; one update then deletes the triples
        that went and inserts those that came (a re-alignment rewrites a few thousand triples, not
        ~100k, and an on-disk store pays per written quad).  A graph with blank nodes cannot be
        diffed (DELETE DATA takes no blank nodes): it is staged and MOVEd in the same update.
        """
        with self._write_lock:
            staged, deletes, inserts, drops = {}, [], [], []
            iris: dict = {}  # rdflib IRIs repeat (predicates, classes, subjects): convert each once

            def conv(t):
                try:
                    if type(t) is URIRef:
                        o = iris.get(t)
                        if o is None:
                            o = iris[t] = ox.NamedNode(t)
                        return o
                    return to_ox(t)
                except (ValueError, TypeError) as e:  # a term Oxigraph refuses (an IRI with a space, ...)
                    raise LoadError(f"cannot store {str(t)[:200]!r}: {e}") from None
            try:
                for name, g in graphs.items():
                    if not g_is_iri(name):
                        continue
                    gname = ox.NamedNode(str(name))
                    new = {(conv(s), conv(p), conv(o)) for s, p, o in g}
                    if not new:  # an empty graph is dropped (not kept as an empty named graph)
                        if self.ox.contains_named_graph(gname):
                            drops.append(gname)
                        continue
                    old = {(q.subject, q.predicate, q.object)
                           for q in self.ox.quads_for_pattern(None, None, None, gname)}
                    if any(isinstance(t, ox.BlankNode) for tr in (new, old) for x in tr for t in (x[0], x[2])):
                        tmp = ox.NamedNode(_STAGING + uuid.uuid4().hex)
                        staged[name] = tmp
                        self.ox.extend(ox.Quad(s, p, o, tmp) for s, p, o in new)
                        continue
                    deletes += [ox.Quad(s, p, o, gname) for s, p, o in old - new]
                    inserts += [ox.Quad(s, p, o, gname) for s, p, o in new - old]
                if not deletes and not staged and not drops:
                    if inserts:
                        self.ox.extend(inserts)  # one transaction
                else:
                    # MOVE of staged graphs, deletes and inserts in one update: all or nothing.
                    ops = [f"MOVE SILENT GRAPH <{tmp.value}> TO GRAPH <{name}>" for name, tmp in staged.items()
                           if g_is_iri(name)]
                    ops += [f"DROP SILENT GRAPH {g}" for g in drops]
                    if deletes:
                        ops.append("DELETE DATA { " + _quad_block(deletes) + " }")
                    if inserts:
                        ops.append("INSERT DATA { " + _quad_block(inserts) + " }")
                    self.ox.update(" ;\n".join(ops))
            finally:
                for tmp in staged.values():
                    if self.ox.contains_named_graph(tmp):
                        self.ox.remove_graph(tmp)
            self.generation += 1
            self.flush()

    def apply(self, delete, insert):
        def block(quads):
            lines = []
            for s, p, o, g in quads:
                lines.append(f"GRAPH {URIRef(g).n3()} {{ {s.n3()} {p.n3()} {o.n3()} }}")
            return "\n".join(lines)
        delete, insert = list(delete), list(insert)
        parts = []
        if delete:
            parts.append(f"DELETE DATA {{ {block(delete)} }}")
        if insert:
            parts.append(f"INSERT DATA {{ {block(insert)} }}")
        if not parts:
            return
        with self._write_lock:
            # Terms are serialised with rdflib's escaping (n3()); one update = one transaction.
            try:
                self.ox.update(" ;\n".join(parts))
            except SyntaxError as e:  # a term Oxigraph refuses (e.g. an IRI with a space): nothing written
                raise LoadError(f"cannot store these triples: {e}") from None
            self.generation += 1
            self.flush()

    #: when set (the service does, for on-disk stores): ``f(query, substitutions) -> rows`` that
    #: evaluates a named query in a killable worker process under a deadline (SparqlEngine.select)
    read_executor = None

    def select(self, name, **bindings):
        # Same binding mechanism as query()'s initBindings (Oxigraph substitutions), minus rdflib's
        # per-cell Result wrapping, which costs ~8x on report-sized answers (21 ms vs 2.6 ms).
        subs = {ox.Variable(k): to_ox(v) for k, v in bindings.items() if v is not None}
        text = load_query(name)
        if text.startswith("# bind: values"):
            text, subs = values_block(text, subs), {}
        # Reads made while a write holds the lock (possibly this very thread) stay in-process.
        if self.read_executor is not None and not _held(self._write_lock):
            from .sparql import QueryAborted
            try:
                return self.read_executor(text, subs)
            except QueryAborted as e:
                if "could not start" not in str(e):
                    raise
                # no worker process could be started: answer in-process rather than not at all
        try:
            res = self.ox.query(text, use_default_graph_as_union=True, substitutions=subs)
        except (SyntaxError, RuntimeError) as e:
            raise QueryError(f"query {name} failed: {e}") from None
        names = [v.value for v in res.variables]
        return [{n: _ox_py(t) for n, t in zip(names, row)} for row in res]

    def graph_names(self):
        return sorted(g.value for g in self.ox.named_graphs()
                      if isinstance(g, ox.NamedNode) and not g.value.startswith(_STAGING))

    def graph(self, name, subjects=None):
        g = Graph()
        gname = ox.NamedNode(str(name))
        if subjects is None:
            quads = self.ox.quads_for_pattern(None, None, None, gname)
        else:
            quads = (q for s in subjects for q in self.ox.quads_for_pattern(to_ox(s), None, None, gname))
        for q in quads:
            g.add((_from_ox(q.subject), _from_ox(q.predicate), _from_ox(q.object)))
        return g

    def graph_size(self, name) -> int:
        return sum(1 for _ in self.ox.quads_for_pattern(None, None, None, ox.NamedNode(str(name))))

    def dump(self, fmt=ox.RdfFormat.N_QUADS) -> bytes:
        return self.ox.dump(format=fmt)

    def flush(self):
        if self.path:
            self.ox.flush()

    def __len__(self):
        return len(self.ox)


def _held(lock) -> bool:
    """Whether a write holds the store's re-entrant lock: this thread (mid-transaction) or another."""
    if lock._is_owned():
        return True
    if lock.acquire(blocking=False):
        lock.release()
        return False
    return True


def _quad_block(quads) -> str:
    """Quads as SPARQL data (pyoxigraph's N-Triples serialisation of each term)."""
    by_graph: dict = {}
    for q in quads:
        by_graph.setdefault(q.graph_name, []).append(f"{q.subject} {q.predicate} {q.object} .")
    return " ".join(f"GRAPH {g} {{ {' '.join(lines)} }}" for g, lines in by_graph.items())


def g_is_iri(name) -> bool:
    return isinstance(name, URIRef) and ">" not in name and " " not in name


_XSD = "http://www.w3.org/2001/XMLSchema#"
_CASTS = {_XSD + "integer": int, _XSD + "int": int, _XSD + "long": int, _XSD + "decimal": float,
          _XSD + "double": float, _XSD + "float": float, _XSD + "boolean": lambda v: v in ("true", "1")}


def _ox_py(t):
    """A plain Python value for an Oxigraph result cell (IRIs and other literals as str)."""
    if t is None:
        return None
    if isinstance(t, ox.Literal):
        cast = _CASTS.get(t.datatype.value)
        if cast is not None:
            try:
                return cast(t.value)
            except ValueError:
                return t.value
        return t.value
    if isinstance(t, ox.BlankNode):
        return f"_:{t.value}"
    return t.value


def _from_ox(t):
    if isinstance(t, ox.NamedNode):
        return URIRef(t.value)
    if isinstance(t, ox.BlankNode):
        return BNode(t.value)
    if t.language:
        return Literal(t.value, lang=t.language)
    return Literal(t.value, datatype=URIRef(t.datatype.value))



def open_store(path: str | Path | None) -> Store:
    """The store ``GAPMAP_STORE`` names: a SPARQL server when it is an ``http(s)://`` URL
    (:class:`RemoteStore`), else embedded Oxigraph at ``path`` (in memory when empty/``None``)."""
    if isinstance(path, str) and path.startswith(("http://", "https://")):
        return RemoteStore(path)
    return EmbeddedStore(path)


# ------------------------------------------------------------------------------------------------
# Remote store: any SPARQL 1.1 Query/Update + Graph Store Protocol server
# ------------------------------------------------------------------------------------------------
_META = "urn:gapmap:meta"
_GEN_S, _GEN_P = "urn:gapmap:store", "urn:gapmap:generation"
_STATE = "urn:gapmap:state"


class StoreUnavailable(QueryError):
    status = 503
    title = "Store unavailable"


class StoreTimeout(StoreUnavailable):
    """The SPARQL server did not answer in time."""


class StoreAnswerTooLarge(QueryError):
    """The server's answer is larger than the caller allowed (``max_bytes``)."""


class RemoteStore(Store):
    """A store on a SPARQL server (Oxigraph server, Virtuoso, Fuseki, …), over SPARQL 1.1 Query,
    Update and the Graph Store Protocol; several service processes can share it.

    - Reads: every named query is sent with its bindings as a ``VALUES`` block (standard SPARQL:
      servers have no substitution API); the server must answer over the union of the named graphs
      (``oxigraph serve --union-default-graph``; Virtuoso and Fuseki's ``unionDefaultGraph``).
    - Writes: one SPARQL Update request per write (a server applies one request as one
      transaction), which also replaces the store's generation token in the graph ``urn:gapmap:meta``;
      :attr:`generation` reads that token, so caches in every process see every write.

    ``RemoteStore("http://host:7878")`` uses Oxigraph's layout (``/query``, ``/update``, ``/store``);
    a URL ending in ``/sparql`` uses it for query and update and ``…/sparql-graph-crud`` (Virtuoso).
    """

    #: graphs a Virtuoso server keeps for itself (its RDF views, LDP and URIQA descriptions): never ours,
    #: never listed, counted, dropped or served (see docs/deploy.md, "Virtuoso")
    VIRTUOSO_SYSTEM_GRAPHS = ("http://www.openlinksw.com/", "http://www.w3.org/ns/ldp#", "http://localuriqaserver/",
                              "http://www.w3.org/2002/07/owl#", "virtrdf:")

    def __init__(self, url: str, *, update_url: str | None = None, gsp_url: str | None = None,
                 timeout: float = 60.0, dialect: str | None = None):
        url = url.rstrip("/")
        if url.endswith("/sparql"):
            self.query_url, self.update_url = url, update_url or url
            self.gsp_url = gsp_url or url + "-graph-crud"
        elif url.endswith("/query"):
            base = url[: -len("/query")]
            self.query_url, self.update_url, self.gsp_url = url, update_url or base + "/update", gsp_url or base + "/store"
        else:
            self.query_url, self.update_url, self.gsp_url = url + "/query", update_url or url + "/update", \
                gsp_url or url + "/store"
        self.url, self.timeout = url, timeout
        #: "virtuoso" (a URL ending in /sparql) or "standard" (Oxigraph server, Fuseki, …): see the quirks below
        self.dialect = dialect or ("virtuoso" if url.endswith("/sparql") else "standard")
        self.ignore_graphs = self.VIRTUOSO_SYSTEM_GRAPHS if self.dialect == "virtuoso" else ()
        self._write_lock = threading.RLock()  # re-entrant: writers hold locked() around their reads and writes

    #: a generation token only ever compared for equality; the store's URL scopes shared caches (Redis)
    @property
    def cache_scope(self) -> str:
        return "remote:" + self.url

    def _ours(self, g: str) -> bool:
        return not g.startswith(self.ignore_graphs) if self.ignore_graphs else True

    # HTTP -------------------------------------------------------------------------------------
    def _request(self, url: str, data: bytes | None, content_type: str | None, accept: str | None = None,
                 method: str = "POST", not_found_ok: bool = False, timeout: float | None = None,
                 max_bytes: int | None = None) -> bytes:
        import urllib.error
        import urllib.request
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as r:
                if max_bytes is None:
                    return r.read()
                raw = r.read(max_bytes + 1)
                if len(raw) > max_bytes:
                    raise StoreAnswerTooLarge(f"the answer is larger than {max_bytes} bytes")
                return raw
        except urllib.error.HTTPError as e:
            if e.code == 404 and not_found_ok:
                return b""
            body = e.read()[:500].decode("utf-8", "replace")
            if e.code >= 500:
                raise StoreUnavailable(f"the store at {self.url} answered {e.code}: {body}") from None
            raise QueryError(f"the store at {self.url} refused the request ({e.code}): {body}") from None
        except TimeoutError:
            raise StoreTimeout(f"the store at {self.url} did not answer within {timeout or self.timeout:g} s") \
                from None
        except (urllib.error.URLError, OSError) as e:
            if isinstance(getattr(e, "reason", None), TimeoutError):
                raise StoreTimeout(f"the store at {self.url} did not answer within {timeout or self.timeout:g} s") \
                    from None
            raise StoreUnavailable(f"the store at {self.url} is unreachable: {e}") from None

    def _post(self, url: str, data: bytes, content_type: str, accept: str | None = None) -> bytes:
        return self._request(url, data, content_type, accept)

    def query_raw(self, sparql: str, accept: str, params: Iterable[tuple[str, str]] = (),
                  timeout: float | None = None, max_bytes: int | None = None) -> bytes:
        """POST one query as a form (``query=…`` plus protocol parameters such as ``default-graph-uri``):
        every server takes the form encoding (Virtuoso 7.2 never answers a direct
        ``application/sparql-query`` POST)."""
        from urllib.parse import urlencode
        body = urlencode([("query", sparql), *params]).encode("ascii")
        return self._request(self.query_url, body, "application/x-www-form-urlencoded", accept, timeout=timeout,
                             max_bytes=max_bytes)

    def _select_json(self, sparql: str) -> dict:
        return json.loads(self.query_raw(sparql, "application/sparql-results+json"))

    def _update(self, ops: list[str]) -> None:
        gen = uuid.uuid4().hex
        ops = list(ops) + [
            f"DELETE WHERE {{ GRAPH <{_META}> {{ <{_GEN_S}> <{_GEN_P}> ?g }} }}",
            f"INSERT DATA {{ GRAPH <{_META}> {{ <{_GEN_S}> <{_GEN_P}> \"{gen}\" }} }}"]
        with self._write_lock:
            self._post(self.update_url, " ;\n".join(ops).encode("utf-8"), "application/sparql-update")

    def drop_all(self) -> None:
        """Drop every graph of ours (data and ``urn:gapmap:`` state), never the server's own (tests, resets)."""
        data = self._select_json(self._graphs_query())
        names = [b["g"]["value"] for b in data["results"]["bindings"] if b.get("g", {}).get("type") == "uri"]
        ops = [f"DROP SILENT GRAPH {ox.NamedNode(g)}" for g in names if self._ours(g)]
        if ops:
            self._update(ops)

    # Store contract ---------------------------------------------------------------------------
    @property
    def generation(self):
        rows = self._select_json(f"SELECT ?g WHERE {{ GRAPH <{_META}> {{ <{_GEN_S}> <{_GEN_P}> ?g }} }}")
        b = rows["results"]["bindings"]
        return b[0]["g"]["value"] if b else None

    def query(self, sparql, bindings=None):
        from rdflib.query import Result as _Result
        subs = {ox.Variable(k): to_ox(v) for k, v in (bindings or {}).items() if v is not None}
        text = _with_prefixes(values_block(sparql, subs) if subs else sparql)
        kind = _query_kind(text)
        if kind in ("CONSTRUCT", "DESCRIBE"):
            raw = self.query_raw(text, "application/n-triples")
            g = Graph()
            g.parse(data=raw.decode("utf-8"), format="nt")
            res = _Result("CONSTRUCT")
            res.graph = g
            return res
        raw = self.query_raw(text, "application/sparql-results+json")
        return _Result.parse(io.BytesIO(raw), format="json")

    def select(self, name, **bindings):
        subs = {ox.Variable(k): to_ox(v) for k, v in bindings.items() if v is not None}
        data = self._select_json(values_block(load_query(name), subs))
        names = data["head"]["vars"]
        return [{n: _json_py(b.get(n)) for n in names} for b in data["results"]["bindings"]]

    def ask(self, name, **bindings):
        subs = {ox.Variable(k): to_ox(v) for k, v in bindings.items() if v is not None}
        return bool(self._select_json(values_block(load_query(name), subs)).get("boolean"))

    #: graphs of at least this many triples reach a Virtuoso server by the Graph Store Protocol (a PUT to a
    #: staging graph, then MOVE in the update): its SPARQL Update takes minutes for ~10k triples, or times
    #: out ("SR171: Transaction timed out"), where the PUT takes 0.2 s and the MOVE 0.6 s
    BULK_TRIPLES = 500

    def replace_graphs(self, graphs):
        """Replace each named graph in one update request (one transaction on the server).  On Virtuoso a
        large graph is first PUT into a staging graph (``urn:gapmap:staging:…``) and MOVEd in that same
        update; until the update lands a read over the union of all graphs may see the staged triples
        (a report computed then is cached under the old generation, so it is not served after the write)."""
        ops, staged = [], []
        try:
            for name, g in graphs.items():
                if not g_is_iri(name):
                    continue
                gname = ox.NamedNode(str(name))
                ops.append(f"DROP SILENT GRAPH {gname}")
                quads = [ox.Quad(to_ox(s), to_ox(p), to_ox(o), gname) for s, p, o in g]
                if self.dialect == "virtuoso" and len(quads) >= self.BULK_TRIPLES:
                    tmp = ox.NamedNode(_STAGING + uuid.uuid4().hex)
                    self._put_graph(tmp, quads)
                    staged.append(tmp)
                    ops.append(f"MOVE SILENT GRAPH {tmp} TO GRAPH {gname}")
                elif quads:
                    ops += _insert(quads)
            if ops:
                self._update(ops)
        finally:
            if staged:  # moved (then gone) or not: never left behind
                try:
                    self._post(self.update_url, " ;\n".join(f"DROP SILENT GRAPH {t}" for t in staged).encode(),
                               "application/sparql-update")
                except QueryError:
                    pass

    def _put_graph(self, gname, quads) -> None:
        """Graph Store Protocol PUT of ``quads``' triples into ``gname`` (N-Triples)."""
        from urllib.parse import urlencode
        body = "".join(f"{q.subject} {q.predicate} {q.object} .\n" for q in quads).encode("utf-8")
        with self._write_lock:
            self._request(self.gsp_url + "?" + urlencode({"graph": gname.value}), body, "application/n-triples",
                          method="PUT")

    def apply(self, delete, insert):
        delete = [ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.NamedNode(str(g))) for s, p, o, g in delete]
        insert = [ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.NamedNode(str(g))) for s, p, o, g in insert]
        ops = []
        for i in range(0, len(delete), _CHUNK):
            ops.append("DELETE DATA { " + _quad_block(delete[i:i + _CHUNK]) + " }")
        if insert:
            ops += _insert(insert)
        if ops:
            self._update(ops)

    def _graphs_query(self) -> str:
        # Standard SPARQL: GRAPH ?g {} matches once per named graph (Oxigraph: from its graph index, no
        # quad scan).  Virtuoso answers it with one unbound row, and its DISTINCT ?g over the quads takes
        # seconds (4.3 s over 5.5k quads), while GROUP BY ?g takes milliseconds.
        if self.dialect == "virtuoso":
            return "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        return "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"

    def graph_names(self):
        data = self._select_json(self._graphs_query())
        return sorted(b["g"]["value"] for b in data["results"]["bindings"]
                      if b.get("g", {}).get("type") == "uri" and not b["g"]["value"].startswith(("urn:gapmap:", _STAGING))
                      and self._ours(b["g"]["value"]))

    def graph(self, name, subjects=None):
        gname = ox.NamedNode(str(name))
        if subjects is None:
            # Graph Store Protocol: GET ?graph=<iri> (404: no such graph, i.e. empty)
            from urllib.parse import urlencode
            raw = self._request(self.gsp_url + "?" + urlencode({"graph": gname.value}), None, None,
                                "application/n-triples", method="GET", not_found_ok=True)
        else:
            subjects = [to_ox(s) for s in subjects]
            if not subjects:
                return Graph()
            text = (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {' '.join(str(s) for s in subjects)} }} "
                    f"GRAPH {gname} {{ ?s ?p ?o }} }}")
            raw = self.query_raw(text, "application/n-triples")
        g = Graph()
        for t in ox.parse(raw, format=ox.RdfFormat.N_TRIPLES):
            g.add((_from_ox(t.subject), _from_ox(t.predicate), _from_ox(t.object)))
        return g

    def graph_size(self, name) -> int:
        gname = ox.NamedNode(str(name))
        d = self._select_json(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {gname} {{ ?s ?p ?o }} }}")
        return int(d["results"]["bindings"][0]["n"]["value"])

    def flush(self):
        pass

    # Small shared state (job status, …) for several service processes: kept in graph
    # urn:gapmap:state, one JSON text per key; not data, so it does not bump the generation.
    def put_state(self, key: str, value: str | None) -> None:
        s = ox.NamedNode("urn:gapmap:state:" + uuid.uuid5(uuid.NAMESPACE_URL, key).hex)
        ops = [f"DELETE WHERE {{ GRAPH <{_STATE}> {{ {s} ?p ?o }} }}"]
        if value is not None:
            ops.append(f"INSERT DATA {{ GRAPH <{_STATE}> {{ {s} <urn:gapmap:key> {ox.Literal(key)} ; "
                       f"<urn:gapmap:value> {ox.Literal(value)} }} }}")
        self._post(self.update_url, " ;\n".join(ops).encode("utf-8"), "application/sparql-update")

    def get_state(self, key: str) -> str | None:
        s = ox.NamedNode("urn:gapmap:state:" + uuid.uuid5(uuid.NAMESPACE_URL, key).hex)
        d = self._select_json(f"SELECT ?v WHERE {{ GRAPH <{_STATE}> {{ {s} <urn:gapmap:value> ?v }} }}")
        b = d["results"]["bindings"]
        return b[0]["v"]["value"] if b else None

    def __len__(self):
        d = self._select_json("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                              "FILTER(!STRSTARTS(STR(?g), 'urn:gapmap:')) } GROUP BY ?g")
        return sum(int(b["n"]["value"]) for b in d["results"]["bindings"] if self._ours(b["g"]["value"]))


#: quads per INSERT DATA / DELETE DATA operation (all operations still go in one update request, one
#: transaction): Virtuoso compiles each operation to SQL and refuses one over 10,000 lines of it (~1,500 triples)
_CHUNK = 500


def _insert(quads: list) -> list[str]:
    """``INSERT DATA`` operations for these quads, in chunks of :data:`_CHUNK`; with blank nodes one
    ``INSERT { … } WHERE {}`` (the same fresh nodes, in standard SPARQL: Virtuoso refuses blank nodes in
    INSERT DATA, "not allowed in a constant clause"; a template's blank nodes must stay in one operation)."""
    if any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object)):
        return ["INSERT { " + _quad_block(quads) + " } WHERE {}"]
    return ["INSERT DATA { " + _quad_block(quads[i:i + _CHUNK]) + " }" for i in range(0, len(quads), _CHUNK)]


def _with_prefixes(text: str) -> str:
    """The usual prefixes declared before a free query (the embedded store passes them as initNs)."""
    declared = {m.group(1) for m in re.finditer(r"PREFIX\s+([\w-]*):", text, re.I)}
    head = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items() if p not in declared)
    return head + text


def _query_kind(text: str) -> str:
    m = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", _strip_comments(text), re.I)
    return m.group(1).upper() if m else "SELECT"


def _json_py(cell):
    """A plain Python value for a SPARQL JSON result cell (the same as for an Oxigraph cell)."""
    if cell is None:
        return None
    if cell["type"] == "uri":
        return cell["value"]
    if cell["type"] == "bnode":
        return f"_:{cell['value']}"
    cast = _CASTS.get(cell.get("datatype", ""))
    if cast is not None:
        try:
            return cast(cell["value"])
        except ValueError:
            return cell["value"]
    return cell["value"]
