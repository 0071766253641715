"""The Store contract suite: what every :class:`ontology.store.Store` implementation must pass.

Reusable: subclass :class:`StoreContract` in a ``test_*.py`` module and give it one fixture,
``store_factory``, returning a function ``open(reopen=False) -> Store``:

* ``open()`` returns an open, **empty** store at a fresh (or cleared) location;
* ``open(reopen=True)`` opens the location of the previous ``open()`` again (after the suite closed
  that store when the store is not ``shared``), for the persistence and sharing checks.

The suite closes every store it opens.  Example (a Virtuoso store, say)::

    from tests.ontology.store_contract import StoreContract

    class TestVirtuoso(StoreContract):
        @pytest.fixture
        def store_factory(self, virtuoso_url):          # a fixture that starts or finds the server
            def open_(reopen=False):
                s = RemoteStore(virtuoso_url + "/sparql")
                if not reopen:
                    s._update(["DROP SILENT ALL"])      # each test starts empty
                return s
            return open_

Every test asserts a real outcome on a real store; tests of optional capabilities check the flag both
ways (a capability claimed must work, one not claimed must be refused with ``StoreUnsupported`` or be
visibly absent), so ``capabilities`` stays honest.  tests/ontology/test_store_contract.py runs the
suite on embedded Oxigraph (memory, disk) and on a remote Oxigraph server.
"""
from __future__ import annotations

import dataclasses
import json
import threading

import pytest
from rdflib import BNode, Graph, Literal, URIRef

from ontology.errors import LoadError, QueryError, StoreLocked
from ontology.store import Capabilities, Store, StoreClosed, StoreUnsupported

EX = "https://ex.org/"
G1 = URIRef("https://example.edu/gapmap/graph/framework/t1")
G2 = URIRef("https://example.edu/gapmap/graph/framework/t2")
GC = URIRef("https://example.edu/gapmap/graph/test/counter")
GM = "https://w3id.org/gapmap/ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
S, P = URIRef(EX + "s"), URIRef(EX + "p")
COUNTER, VALUE = URIRef(EX + "counter"), URIRef(EX + "value")


def framework(n: int, fw: str = "t") -> Graph:
    """A small framework graph: ``2 + 4 n`` triples, labels with quotes and markup."""
    g = Graph()
    scheme = URIRef(f"https://example.edu/gapmap/framework/{fw}")
    g.add((scheme, RDF_TYPE, URIRef(GM + "Framework")))
    g.add((scheme, URIRef(SKOS + "notation"), Literal(fw)))
    for i in range(n):
        c = URIRef(f"{scheme}/C{i}")
        g.add((c, RDF_TYPE, URIRef(GM + "Competency")))
        g.add((c, URIRef(SKOS + "inScheme"), scheme))
        g.add((c, URIRef(SKOS + "notation"), Literal(f"C{i}")))
        g.add((c, URIRef(SKOS + "prefLabel"), Literal(f"Competency {i} \"quoted\" <b>", lang="en")))
    return g


def graph_of(triples) -> Graph:
    g = Graph()
    for t in triples:
        g.add(t)
    return g


def norm(g) -> set:
    """Triples compared by value (a plain literal comes back as xsd:string)."""
    return {(s, p, (str(o), type(o).__name__, getattr(o, "language", None))) for s, p, o in g}


def notations(store, fw="t") -> list[str]:
    return [r["notation"] for r in store.select("framework_competencies", fw=Literal(fw))]


def counter(store) -> int:
    vals = [o.toPython() for o in store.graph(GC).objects(COUNTER, VALUE)]
    return vals[0] if vals else 0


class StoreContract:
    """The contract tests; a subclass provides the ``store_factory`` fixture (see the module docstring)."""

    @pytest.fixture
    def store(self, store_factory):
        s = store_factory()
        assert isinstance(s, Store)
        yield s
        s.close()

    @pytest.fixture
    def opened(self, store_factory):
        """Open more stores (``opened(reopen=True)``); all are closed at the end."""
        stores = []

        def open_(**kw):
            stores.append(store_factory(**kw))
            return stores[-1]
        yield open_
        for s in stores:
            s.close()

    # reads and writes ---------------------------------------------------------------------------
    def test_replace_then_select_binds_values_never_text(self, store):
        store.replace_graphs({G1: framework(3)})
        rows = store.select("framework_competencies", fw=Literal("t"))
        assert [r["notation"] for r in rows] == ["C0", "C1", "C2"]
        assert rows[0]["label"] == 'Competency 0 "quoted" <b>'
        assert notations(store, "other") == []
        # a hostile binding is a value, not query text
        assert notations(store, 't" } } ; DROP ALL ; #') == []
        assert len(store) == 2 + 4 * 3

    def test_select_rows_hold_the_same_plain_values_everywhere(self, store):
        g = framework(3)
        g.add((URIRef("https://example.edu/gapmap/framework/t"), URIRef("http://purl.org/dc/terms/title"),
               Literal("Test framework", lang="en")))
        store.replace_graphs({G1: g})
        assert store.select("frameworks") == [{
            "framework": "https://example.edu/gapmap/framework/t", "id": "t", "title": "Test framework",
            "version": None, "competencies": 3, "domains": 0}]  # IRIs as str, counts as int, unbound None

    def test_free_query_select_ask_construct_and_errors(self, store):
        store.replace_graphs({G1: framework(2)})
        res = store.query("SELECT ?c ?s WHERE { ?c skos:inScheme ?s } ORDER BY ?c",
                          {"s": URIRef("https://example.edu/gapmap/framework/t")})
        assert [str(r[0]) for r in res] == ["https://example.edu/gapmap/framework/t/C0",
                                            "https://example.edu/gapmap/framework/t/C1"]
        assert store.query("ASK { ?c skos:notation 'C1' }").askAnswer is True
        assert store.query("ASK { ?c skos:notation 'C9' }").askAnswer is False
        g = store.query("CONSTRUCT { ?c skos:notation ?n } WHERE { ?c skos:notation ?n }").graph
        assert sorted(str(o) for o in g.objects()) == ["C0", "C1", "t"]
        with pytest.raises(QueryError):
            store.query("SELECT ?x WHERE { this is not sparql }")

    def test_replace_is_a_replace_and_leaves_other_graphs(self, store):
        store.replace_graphs({G1: framework(3), G2: framework(2, "u")})
        store.replace_graphs({G1: framework(1)})
        assert len(store.graph(G1)) == 2 + 4 and len(store.graph(G2)) == 2 + 4 * 2
        assert norm(store.graph(G1)) == norm(framework(1))
        assert sorted(store.graph_names()) == sorted([str(G1), str(G2)])
        store.replace_graphs({G1: Graph()})
        assert str(G1) not in store.graph_names() and len(store.graph(G1)) == 0

    def test_graph_subset_and_blank_nodes(self, store):
        g = framework(2)
        b = BNode()
        g.add((URIRef(EX + "x"), URIRef(EX + "p"), b))
        g.add((b, URIRef(EX + "p"), Literal(3)))
        store.replace_graphs({G1: g})
        assert len(store.graph(G1)) == len(g)
        sub = store.graph(G1, subjects=[URIRef("https://example.edu/gapmap/framework/t/C1")])
        assert len(sub) == 4 and len(store.graph(G1, subjects=[])) == 0
        store.replace_graphs({G1: framework(1)})  # a graph with blank nodes is replaced too
        assert norm(store.graph(G1)) == norm(framework(1))

    def test_apply_deletes_then_inserts(self, store):
        store.apply([], [(S, P, Literal("a"), G1), (S, P, Literal(2), G1)])
        values = lambda: {o.toPython() for o in store.graph(G1).objects(S, P)}  # noqa: E731
        assert values() == {"a", 2}
        store.apply([(S, P, Literal("a"), G1)], [(S, P, Literal("b"), G1)])
        assert values() == {"b", 2}

    def test_a_refused_term_is_a_load_error_and_writes_nothing(self, store):
        store.replace_graphs({G1: framework(1)})
        before, gen = norm(store.graph(G1)), store.generation
        bad = URIRef("https://ex.org/has a space")
        with pytest.raises(LoadError):
            store.replace_graphs({G2: framework(1, "u"), G1: graph_of([(bad, P, Literal(1))])})
        with pytest.raises(LoadError):
            store.apply([], [(S, P, Literal(1), G2), (bad, P, Literal(1), G2)])
        assert norm(store.graph(G1)) == before and store.graph_names() == [str(G1)]
        assert store.generation == gen

    # generation ---------------------------------------------------------------------------------
    def test_generation_changes_on_every_write_and_only_then(self, store):
        g0 = store.generation
        assert store.generation == g0  # reading it is not a write
        store.replace_graphs({G1: framework(1)})
        g1 = store.generation
        assert g1 != g0
        store.select("framework_competencies", fw=Literal("t"))
        store.query("SELECT * WHERE { ?s ?p ?o }")
        store.graph(G1), store.graph_names(), len(store)
        assert store.generation == g1  # reads change nothing
        store.apply([], [(S, P, Literal(1), G1)])
        g2 = store.generation
        assert g2 not in (g0, g1)
        store.apply([(S, P, Literal(1), G1)], [])
        assert store.generation not in (g0, g1, g2)

    def test_journal_is_none_or_lists_every_written_triple(self, store):
        """changes_between may know nothing (None), but what it answers covers every write in between."""
        g0 = store.generation
        assert store.changes_between(g0, g0) == []
        store.apply([], [(S, P, Literal(1), G1)])
        store.apply([(S, P, Literal(1), G1)], [(S, RDF_TYPE, P, G1)])
        changes = store.changes_between(g0, store.generation)
        if changes is not None:
            assert len(changes) == 2
            assert (str(S), str(P), None) in changes[0] and (str(S), str(P), None) in changes[1]
            assert (str(S), str(RDF_TYPE), str(P)) in changes[1]
        store.replace_graphs({G1: Graph()})  # a dropped graph: what went is never claimed known
        assert store.changes_between(g0, store.generation) is None

    # transactions -------------------------------------------------------------------------------
    def test_transaction_commits_all_writes_at_once(self, store):
        g0 = store.generation
        with store.transaction() as tx:
            assert tx is store
            store.replace_graphs({G1: framework(2)})
            store.apply([], [(S, P, Literal(1), G2)])
            # reads inside see the committed state, not the pending writes
            assert notations(store) == [] and store.generation == g0
        assert notations(store) == ["C0", "C1"] and len(store.graph(G2)) == 1
        assert store.generation != g0

    def test_transaction_exception_half_way_leaves_nothing(self, store):
        store.replace_graphs({G1: framework(1)})
        before, g0 = norm(store.graph(G1)), store.generation
        with pytest.raises(RuntimeError, match="half-way"):
            with store.transaction():
                store.replace_graphs({G1: framework(3)})
                store.apply([], [(S, P, Literal(1), G2)])
                raise RuntimeError("died half-way")
        assert norm(store.graph(G1)) == before and store.graph_names() == [str(G1)]
        assert store.generation == g0  # a rolled-back transaction is no write
        with pytest.raises(LoadError):  # a refused term half-way: nothing of the transaction either
            with store.transaction():
                store.replace_graphs({G2: framework(1, "u")})
                store.apply([], [(URIRef("https://ex.org/bad iri"), P, Literal(1), G2)])
        assert store.graph_names() == [str(G1)] and store.generation == g0

    def test_transaction_is_reentrant_and_an_inner_failure_drops_only_its_writes(self, store):
        with store.transaction():
            store.replace_graphs({G1: framework(1)})
            with store.transaction():
                store.apply([], [(S, P, Literal("inner"), G2)])
            try:
                with store.transaction():
                    store.apply([], [(S, P, Literal("dropped"), G2)])
                    raise ValueError("inner")
            except ValueError:
                pass
            with store.locked():  # the write lock is re-entrant inside a transaction too
                store.apply([], [(S, P, Literal("locked"), G2)])
        assert {str(o) for o in store.graph(G2).objects(S, P)} == {"inner", "locked"}
        assert notations(store) == ["C0"]

    def test_a_graph_written_twice_in_a_transaction_ends_as_the_last_write(self, store):
        store.replace_graphs({G1: framework(3)})
        with store.transaction():
            store.apply([], [(S, P, Literal("extra"), G1)])
            store.replace_graphs({G1: framework(1)})
            store.replace_graphs({G1: framework(2)})
        assert norm(store.graph(G1)) == norm(framework(2))

    def test_concurrent_writers_lose_no_write(self, store):
        """Two threads increment one counter with read-check-write under transaction(), and add their own
        triples: every increment and every triple is there at the end."""
        n, errors = 15, []

        def worker(k):
            try:
                for i in range(n):
                    with store.transaction():
                        v = counter(store)
                        store.replace_graphs({GC: graph_of([(COUNTER, VALUE, Literal(v + 1))])})
                    store.apply([], [(URIRef(f"{EX}w{k}"), P, Literal(i), G2)])
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        assert counter(store) == 2 * n
        assert len(store.graph(G2)) == 2 * n

    # snapshots ----------------------------------------------------------------------------------
    def test_snapshot_is_isolated_from_a_concurrent_write(self, store):
        if not store.capabilities.snapshots:
            with pytest.raises(StoreUnsupported):
                store.snapshot()
            return
        store.replace_graphs({G1: framework(2)})
        gen = store.generation
        with store.snapshot() as snap:
            assert isinstance(snap, Store) and snap.generation == gen
            writer = threading.Thread(target=lambda: store.replace_graphs({G1: framework(4), G2: framework(1, "u")}))
            writer.start()
            writer.join(60)
            assert notations(store) == ["C0", "C1", "C2", "C3"]
            assert notations(snap) == ["C0", "C1"] and snap.graph_names() == [str(G1)]
            assert len(snap) == 2 + 4 * 2 and snap.generation == gen != store.generation
            with pytest.raises(StoreUnsupported):
                snap.replace_graphs({G1: Graph()})
        with pytest.raises(StoreClosed):
            snap.select("framework_competencies", fw=Literal("t"))
        assert notations(store) == ["C0", "C1", "C2", "C3"]  # closing the snapshot leaves the store alone

    # lifecycle ----------------------------------------------------------------------------------
    def test_close_then_use_is_a_clear_error(self, store):
        store.replace_graphs({G1: framework(1)})
        store.close()
        assert store.closed
        for use in (lambda: store.select("framework_competencies", fw=Literal("t")),
                    lambda: store.query("ASK {}"), lambda: store.graph(G1), store.graph_names,
                    lambda: len(store), lambda: store.generation, store.snapshot, store.worker_access,
                    lambda: store.replace_graphs({G1: Graph()}), lambda: store.apply([], [(S, P, Literal(1), G1)])):
            with pytest.raises(StoreClosed, match="closed"):
                use()
        with pytest.raises(StoreClosed):
            with store.transaction():
                pass
        store.close()  # idempotent

    def test_context_manager_closes(self, opened):
        with opened() as s:
            s.replace_graphs({G1: framework(1)})
        assert s.closed

    # capabilities -------------------------------------------------------------------------------
    def test_capabilities_are_frozen_flags(self, store):
        caps = store.capabilities
        assert isinstance(caps, Capabilities)
        with pytest.raises(dataclasses.FrozenInstanceError):
            caps.workers = not caps.workers
        assert set(caps.to_dict()) >= {"workers", "persistent", "shared", "gsp", "snapshots"}

    def test_persistent_and_shared_are_honest(self, opened):
        first = opened()
        first.replace_graphs({G1: framework(2)})
        caps = first.capabilities
        if caps.shared:  # a second store at the same place, open at the same time, sees writes and generation
            second = opened(reopen=True)
            assert notations(second) == ["C0", "C1"] and second.generation == first.generation
            second.apply([], [(S, P, Literal(1), G2)])
            assert first.generation == second.generation and len(first.graph(G2)) == 1
        elif caps.persistent:  # one process owns it: a second open is refused while the first is open
            with pytest.raises(StoreLocked):
                opened(reopen=True)
        first.close()
        again = opened(reopen=True)
        assert notations(again) == (["C0", "C1"] if caps.persistent else [])

    def test_workers_capability_is_honest(self, store):
        from ontology.sparql import SparqlEngine
        store.replace_graphs({G1: framework(3)})
        if not store.capabilities.workers:
            with pytest.raises(StoreUnsupported):
                store.worker_access()
            if hasattr(store, "query_raw"):  # a remote store: the engine forwards queries to its server
                with SparqlEngine(store, timeout=10.0) as eng:
                    assert eng.mode == "remote"
                    body = json.loads(eng.run("SELECT (COUNT(*) AS ?n) WHERE { ?c skos:inScheme ?s }").body)
                    assert body["results"]["bindings"][0]["n"]["value"] == "3"
                return
            with pytest.raises(StoreUnsupported):
                SparqlEngine(store, timeout=5.0)
            return
        with SparqlEngine(store, timeout=10.0, workers=1) as eng:
            assert eng.mode in ("fork", "pool")
            body = json.loads(eng.run("SELECT (COUNT(*) AS ?n) WHERE { ?c skos:inScheme ?s }").body)
            assert body["results"]["bindings"][0]["n"]["value"] == "3"
            store.replace_graphs({G1: framework(5)})  # workers see the write
            body = json.loads(eng.run("SELECT (COUNT(*) AS ?n) WHERE { ?c skos:inScheme ?s }").body)
            assert body["results"]["bindings"][0]["n"]["value"] == "5"

    def test_gsp_capability_is_honest(self, store):
        store.replace_graphs({G1: framework(1)})
        if not store.capabilities.gsp:
            assert not hasattr(store, "gsp_url")
            return
        import urllib.parse
        import urllib.request
        url = f"{store.gsp_url}?{urllib.parse.urlencode({store.gsp_graph_param: str(G1)})}"
        req = urllib.request.Request(url, headers={"Accept": "application/n-triples"})
        with urllib.request.urlopen(req, timeout=30) as r:
            g = Graph().parse(data=r.read().decode("utf-8"), format="nt")
        assert norm(g) == norm(framework(1)) == norm(store.graph(G1))
