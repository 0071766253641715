"""The remote store: Gapmap over any SPARQL 1.1 Query/Update + Graph Store Protocol server (Oxigraph
server, Virtuoso Open Source; their dialect differences are documented in docs/deploy.md), behind the same
:class:`ontology.store.Store` contract as the embedded store (tests/ontology/store_contract.py)."""
from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import Graph

from .errors import (QueryError, StoreAnswerTooLarge, StoreTimeout, StoreUnavailable)
from .vocab import PREFIXES
from .store import STAGING, Capabilities, Snapshot, Store
from .store_terms import (as_quads, from_ox, g_is_iri, load_query, quad_block, strip_comments, to_ox, to_python,
                          values_block)

# ------------------------------------------------------------------------------------------------
# Remote store: any SPARQL 1.1 Query/Update + Graph Store Protocol server
# ------------------------------------------------------------------------------------------------
_META = "urn:gapmap:meta"
_GEN_S, _GEN_P = "urn:gapmap:store", "urn:gapmap:generation"
_STATE = "urn:gapmap:state"


class RemoteStore(Store):
    """A store on a SPARQL server (Oxigraph server, Virtuoso, Fuseki, …), over SPARQL 1.1 Query,
    Update and the Graph Store Protocol; several service processes can share it.

    - Reads: every named query is sent with its bindings as a ``VALUES`` block (standard SPARQL:
      servers have no substitution API); the server must answer over the union of the named graphs
      (``oxigraph serve --union-default-graph``; Virtuoso and Fuseki's ``unionDefaultGraph``).
      ``graph(name)`` is a Graph Store Protocol GET.
    - Writes: one SPARQL Update request per write or :meth:`transaction` (a server applies one request
      as one transaction), which also replaces the store's generation token in the graph
      ``urn:gapmap:meta``; :attr:`generation` reads that token, so caches in every process see every write.
    - :meth:`locked` serialises writers of this process only: replicas writing the same data race
      (last write wins).  :meth:`snapshot` copies the store with one query (O(store)).

    ``RemoteStore("http://host:7878")`` uses Oxigraph's layout (``/query``, ``/update``, ``/store``);
    a URL ending in ``/sparql`` uses it for query and update and ``…/sparql-graph-crud`` (Virtuoso).
    """

    #: graphs a Virtuoso server keeps for itself (its RDF views, LDP and URIQA descriptions): never ours,
    #: never listed, counted, dropped or served (see docs/deploy.md, "Virtuoso")
    VIRTUOSO_SYSTEM_GRAPHS = ("http://www.openlinksw.com/", "http://www.w3.org/ns/ldp#", "http://localuriqaserver/",
                              "http://www.w3.org/2002/07/owl#", "virtrdf:")

    def __init__(self, url: str, *, update_url: str | None = None, gsp_url: str | None = None,
                 timeout: float = 60.0, dialect: str | None = None):
        super().__init__()
        url = url.rstrip("/")
        self.gsp_graph_param = "graph"
        if url.endswith("/sparql"):
            self.query_url, self.update_url = url, update_url or url
            self.gsp_url = gsp_url or url + "-graph-crud"
            self.gsp_graph_param = "graph-uri"  # Virtuoso's name for it
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

    @property
    def location(self) -> str:
        return self.url

    #: a generation token only ever compared for equality; the store's URL scopes shared caches (Redis)
    @property
    def cache_scope(self) -> str:
        return "remote:" + self.url

    def _ours(self, g: str) -> bool:
        return not g.startswith(self.ignore_graphs) if self.ignore_graphs else True

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(workers=False, persistent=True, shared=True, gsp=True, snapshots=True)

    # HTTP -------------------------------------------------------------------------------------
    def _post(self, url: str, data: bytes | None, content_type: str | None, accept: str | None = None,
              method: str = "POST", timeout: float | None = None, max_bytes: int | None = None) -> bytes | None:
        """The answer's body; None for a 404 to a GET (a graph that does not exist)."""
        import urllib.error
        import urllib.request
        self._check_open()
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
            if e.code == 404 and method == "GET":
                return None
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

    def query_raw(self, sparql: str, accept: str, params: Iterable[tuple[str, str]] = (),
                  timeout: float | None = None, max_bytes: int | None = None) -> bytes:
        """POST one query as a form (``query=…`` plus protocol parameters such as ``default-graph-uri``):
        every server takes the form encoding (Virtuoso 7.2 never answers a direct
        ``application/sparql-query`` POST)."""
        from urllib.parse import urlencode
        body = urlencode([("query", sparql), *params]).encode("ascii")
        return self._post(self.query_url, body, "application/x-www-form-urlencoded", accept, timeout=timeout,
                          max_bytes=max_bytes)

    def _select_json(self, sparql: str) -> dict:
        return json.loads(self.query_raw(sparql, "application/sparql-results+json"))

    def drop_all(self) -> None:
        """Drop every graph of ours (data and ``urn:gapmap:`` state), never the server's own (tests, resets)."""
        data = self._select_json(self._graphs_query())
        names = [b["g"]["value"] for b in data["results"]["bindings"] if b.get("g", {}).get("type") == "uri"]
        ops = [f"DROP SILENT GRAPH {ox.NamedNode(g)}" for g in names if self._ours(g)]
        if ops:
            self._update(ops)

    def _graphs_query(self) -> str:
        # Standard SPARQL: GRAPH ?g {} matches once per named graph (Oxigraph: from its graph index, no
        # quad scan).  Virtuoso answers it with one unbound row, and its DISTINCT ?g over the quads takes
        # seconds (4.3 s over 5.5k quads), while GROUP BY ?g takes milliseconds.
        if self.dialect == "virtuoso":
            return "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        return "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"

    def _update(self, ops: list[str]) -> None:
        """Apply update operations: now (one request), or at the commit of the open transaction."""
        with self._write_lock:
            self._check_open()
            if self._tx is not None:
                self._tx.ops += ops
                return
            self._commit(ops)

    def _commit(self, ops, change=None):
        # no journal (changes_between: None): another process's write would leave no trace here
        gen = uuid.uuid4().hex
        ops = list(ops) + [
            f"DELETE WHERE {{ GRAPH <{_META}> {{ <{_GEN_S}> <{_GEN_P}> ?g }} }}",
            f"INSERT DATA {{ GRAPH <{_META}> {{ <{_GEN_S}> <{_GEN_P}> \"{gen}\" }} }}"]
        self._post(self.update_url, " ;\n".join(ops).encode("utf-8"), "application/sparql-update")

    # Store contract ---------------------------------------------------------------------------
    @property
    def generation(self):
        rows = self._select_json(f"SELECT ?g WHERE {{ GRAPH <{_META}> {{ <{_GEN_S}> <{_GEN_P}> ?g }} }}")
        b = rows["results"]["bindings"]
        return b[0]["g"]["value"] if b else None

    def query(self, sparql, bindings=None):
        from rdflib.query import Result as _Result
        subs = {ox.Variable(k): to_ox(v) for k, v in (bindings or {}).items() if v is not None}
        text = with_prefixes(values_block(sparql, subs) if subs else sparql)
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
        return [{n: to_python(b.get(n)) for n in names} for b in data["results"]["bindings"]]

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
                quads = as_quads((s, p, o, name) for s, p, o in g)
                if self.dialect == "virtuoso" and len(quads) >= self.BULK_TRIPLES:
                    tmp = ox.NamedNode(STAGING + uuid.uuid4().hex)
                    self._put_graph(tmp, quads)
                    staged.append(tmp)
                    ops.append(f"MOVE SILENT GRAPH {tmp} TO GRAPH {gname}")
                elif quads:
                    ops += _insert(quads)
            if ops:
                self._update(ops)
        finally:
            if staged and self._tx is None:  # moved (then gone) or failed: never left behind
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
            self._post(f"{self.gsp_url}?{urlencode({self.gsp_graph_param: gname.value})}", body,
                       "application/n-triples", method="PUT")

    def apply(self, delete, insert):
        delete, insert = as_quads(delete), as_quads(insert)
        ops = ["DELETE DATA { " + quad_block(delete[i:i + _CHUNK]) + " }" for i in range(0, len(delete), _CHUNK)]
        if insert:
            ops += _insert(insert)
        if ops:
            self._update(ops)

    def graph_names(self):
        data = self._select_json(self._graphs_query())
        return sorted(b["g"]["value"] for b in data["results"]["bindings"]
                      if b.get("g", {}).get("type") == "uri" and not b["g"]["value"].startswith(("urn:gapmap:", STAGING))
                      and self._ours(b["g"]["value"]))

    def graph(self, name, subjects=None):
        from urllib.parse import urlencode
        gname = ox.NamedNode(str(name))
        if subjects is None:  # Graph Store Protocol: GET the graph
            raw = self._post(f"{self.gsp_url}?{urlencode({self.gsp_graph_param: gname.value})}", None, None,
                             "application/n-triples", method="GET") or b""
        else:
            subjects = [to_ox(s) for s in subjects]
            if not subjects:
                return Graph()
            text = (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {' '.join(str(s) for s in subjects)} }} "
                    f"GRAPH {gname} {{ ?s ?p ?o }} }}")
            raw = self.query_raw(text, "application/n-triples")
        g = Graph()
        for t in ox.parse(raw, format=ox.RdfFormat.N_TRIPLES):
            g.add((from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)))
        return g

    def __len__(self):
        d = self._select_json("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                              "FILTER(!STRSTARTS(STR(?g), 'urn:gapmap:')) } GROUP BY ?g")
        return sum(int(b["n"]["value"]) for b in d["results"]["bindings"] if self._ours(b["g"]["value"]))

    def snapshot(self) -> Store:
        """A copy of every data graph and the generation, read by one query (one consistent read on
        the server), in an in-memory read-only store."""
        d = self._select_json("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                              f"FILTER(!STRSTARTS(STR(?g), 'urn:gapmap:') || ?g = <{_META}>) }}")
        copy, gen = ox.Store(), None
        quads = []
        for b in d["results"]["bindings"]:
            s, p, o, g = (_json_term(b[k]) for k in ("s", "p", "o", "g"))
            if g.value == _META:
                if s.value == _GEN_S and p.value == _GEN_P:
                    gen = o.value
                continue
            if not self._ours(g.value):  # Virtuoso's own graphs
                continue
            quads.append(ox.Quad(s, p, o, g))
        copy.extend(quads)
        return Snapshot(copy, gen, self.url)

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


def _json_term(cell: dict):
    """The Oxigraph term of a SPARQL JSON results cell."""
    if cell["type"] == "uri":
        return ox.NamedNode(cell["value"])
    if cell["type"] == "bnode":
        return ox.BlankNode(cell["value"])
    if "xml:lang" in cell:
        return ox.Literal(cell["value"], language=cell["xml:lang"])
    return ox.Literal(cell["value"], datatype=ox.NamedNode(cell["datatype"]) if cell.get("datatype") else None)


#: quads per INSERT DATA / DELETE DATA operation (all operations still go in one update request, one
#: transaction): Virtuoso compiles each operation to SQL and refuses one over 10,000 lines of it (~1,500 triples)
_CHUNK = 500


def _insert(quads: list) -> list[str]:
    """``INSERT DATA`` operations for these quads, in chunks of :data:`_CHUNK`; with blank nodes one
    ``INSERT { … } WHERE {}`` (the same fresh nodes, in standard SPARQL: Virtuoso refuses blank nodes in
    INSERT DATA, "not allowed in a constant clause"; a template's blank nodes must stay in one operation)."""
    if any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object)):
        return ["INSERT { " + quad_block(quads) + " } WHERE {}"]
    return ["INSERT DATA { " + quad_block(quads[i:i + _CHUNK]) + " }" for i in range(0, len(quads), _CHUNK)]


def with_prefixes(text: str) -> str:
    """The usual prefixes declared before a free query (the embedded store passes them as initNs)."""
    declared = {m.group(1) for m in re.finditer(r"PREFIX\s+([\w-]*):", text, re.I)}
    head = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items() if p not in declared)
    return head + text


def _query_kind(text: str) -> str:
    m = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", strip_comments(text), re.I)
    return m.group(1).upper() if m else "SELECT"
