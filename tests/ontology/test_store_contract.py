"""The Store contract, run against every implementation: embedded Oxigraph (memory, disk) and the
remote store over SPARQL 1.1 Query/Update + Graph Store Protocol (an Oxigraph server started here;
skipped with the reason when the ``oxigraph`` server CLI is not installed: ``pip install oxigraph``)."""
from __future__ import annotations

import pytest
from rdflib import BNode, Graph, Literal, URIRef

from ontology.errors import QueryError
from ontology.store import EmbeddedStore, RemoteStore, open_store

EX = "https://ex.org/"
G1, G2 = URIRef("https://example.edu/gapmap/graph/framework/t1"), URIRef("https://example.edu/gapmap/graph/framework/t2")
GM = "https://w3id.org/gapmap/ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


@pytest.fixture(params=["memory", "disk", "remote", "virtuoso"])
def store(request, tmp_path):
    if request.param == "memory":
        yield EmbeddedStore(None)
    elif request.param == "disk":
        yield EmbeddedStore(tmp_path / "store")
    else:
        url = request.getfixturevalue("oxigraph_server" if request.param == "remote" else "virtuoso_server")
        s = open_store(url)
        assert isinstance(s, RemoteStore)
        s.drop_all()  # each test starts empty (Virtuoso's own graphs stay)
        yield s


def _framework(n: int, fw: str = "t") -> Graph:
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


def _norm(g) -> set:
    """Triples compared by value (a plain literal comes back as xsd:string)."""
    return {(s, p, (str(o), type(o).__name__, getattr(o, "language", None))) for s, p, o in g}


def test_replace_select_and_bindings(store):
    store.replace_graphs({G1: _framework(3)})
    rows = store.select("framework_competencies", fw=Literal("t"))
    assert [r["notation"] for r in rows] == ["C0", "C1", "C2"]
    assert rows[0]["label"] == 'Competency 0 "quoted" <b>'
    assert store.select("framework_competencies", fw=Literal("other")) == []
    # a hostile binding is a value, not query text
    assert store.select("framework_competencies", fw=Literal('t" } } ; DROP ALL ; #')) == []
    assert len(store) == 2 + 4 * 3


def test_replace_is_a_replace_and_leaves_other_graphs(store):
    store.replace_graphs({G1: _framework(3), G2: _framework(2, "u")})
    store.replace_graphs({G1: _framework(1)})
    assert len(store.graph(G1)) == 2 + 4 and len(store.graph(G2)) == 2 + 4 * 2
    assert _norm(store.graph(G1)) == _norm(_framework(1))
    assert sorted(store.graph_names()) == sorted([str(G1), str(G2)])
    store.replace_graphs({G1: Graph()})
    assert str(G1) not in store.graph_names()


def test_graph_subset_and_blank_nodes(store):
    g = _framework(2)
    b = BNode()
    g.add((URIRef(EX + "x"), URIRef(EX + "p"), b))
    g.add((b, URIRef(EX + "p"), Literal(3)))
    store.replace_graphs({G1: g})
    assert len(store.graph(G1)) == len(g)
    sub = store.graph(G1, subjects=[URIRef("https://example.edu/gapmap/framework/t/C1")])
    assert len(sub) == 4 and store.graph(G1, subjects=[]).__len__() == 0


def test_apply_and_generation_changes_on_every_write(store):
    store.replace_graphs({G1: _framework(1)})
    g0 = store.generation
    s, p = URIRef(EX + "s"), URIRef(EX + "p")
    store.apply([], [(s, p, Literal("a"), G1), (s, p, Literal(2), G1)])
    g1 = store.generation
    values = lambda: {o.toPython() for o in store.graph(G1).objects(s, p)}  # noqa: E731
    assert g1 != g0 and values() == {"a", 2}
    store.apply([(s, p, Literal("a"), G1)], [])
    assert store.generation not in (g0, g1) and values() == {2}


def test_free_query_and_errors(store):
    store.replace_graphs({G1: _framework(2)})
    res = store.query("SELECT ?c ?s WHERE { ?c skos:inScheme ?s } ORDER BY ?c",
                      {"s": URIRef("https://example.edu/gapmap/framework/t")})
    assert [str(r[0]) for r in res] == ["https://example.edu/gapmap/framework/t/C0",
                                        "https://example.edu/gapmap/framework/t/C1"]
    with pytest.raises(QueryError):
        store.query("SELECT ?x WHERE { this is not sparql }")


SERVERS = ["oxigraph_server", "virtuoso_server"]


@pytest.mark.parametrize("server", SERVERS)
def test_remote_generation_is_shared_between_processes(server, request):
    url = request.getfixturevalue(server)
    a, b = RemoteStore(url), RemoteStore(url)
    before = b.generation
    a.replace_graphs({G1: _framework(1)})
    assert b.generation != before and b.generation == a.generation
    assert [r["notation"] for r in b.select("framework_competencies", fw=Literal("t"))] == ["C0"]


@pytest.mark.parametrize("server", SERVERS)
def test_remote_failed_update_writes_nothing(server, request):
    s = RemoteStore(request.getfixturevalue(server))
    s.replace_graphs({G1: _framework(2)})
    n, gen = len(s), s.generation
    with pytest.raises(QueryError):
        s._update(["INSERT DATA { GRAPH <https://ex.org/g> { <https://ex.org/a> <https://ex.org/p> 1 } }",
                   "THIS IS NOT AN UPDATE"])
    assert len(s) == n and s.generation == gen


def test_virtuoso_system_graphs_are_not_ours(virtuoso_server):
    """Virtuoso keeps graphs of its own (RDF views, LDP): never listed, counted or dropped."""
    s = RemoteStore(virtuoso_server)
    assert s.dialect == "virtuoso"
    s.drop_all()
    assert s.graph_names() == [] and len(s) == 0
    n = int(s._select_json("SELECT (COUNT(*) AS ?n) WHERE { GRAPH <http://www.openlinksw.com/schemas/virtrdf#> "
                           "{ ?s ?p ?o } }")["results"]["bindings"][0]["n"]["value"])
    assert n > 0  # still there: Virtuoso's SPARQL needs it
    s.replace_graphs({G1: _framework(2)})
    assert s.graph_names() == [str(G1)] and len(s) == 2 + 4 * 2


def test_large_graphs_replace_in_one_update(store):
    """Past RemoteStore.BULK_TRIPLES (Virtuoso: staged by a Graph Store Protocol PUT, then MOVEd)."""
    n = RemoteStore.BULK_TRIPLES // 4 + 10  # 4 triples per competency: above the bulk threshold
    store.replace_graphs({G1: _framework(n), G2: _framework(2, "u")})
    assert len(store.graph(G1)) == 2 + 4 * n
    gen = getattr(store, "generation", None)
    store.replace_graphs({G1: _framework(n + 1)})
    assert len(store.graph(G1)) == 2 + 4 * (n + 1) and len(store.graph(G2)) == 2 + 4 * 2
    assert sorted(store.graph_names()) == sorted([str(G1), str(G2)])
    if isinstance(store, RemoteStore):  # no staging graph left on the server
        names = [b["g"]["value"] for b in store._select_json(store._graphs_query())["results"]["bindings"] if "g" in b]
        assert not [g for g in names if g.startswith("urn:gapmap:staging:")]
    assert getattr(store, "generation", None) != gen
    rows = store.select("framework_competencies", fw=Literal("t"))
    assert len(rows) == n + 1
