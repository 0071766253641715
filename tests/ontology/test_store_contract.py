"""The Store contract suite (tests/ontology/store_contract.py) run on every implementation we ship:
embedded Oxigraph in memory and on disk, and the remote store over SPARQL 1.1 Query/Update + Graph
Store Protocol against an Oxigraph server started here (skipped with the reason when the ``oxigraph``
server CLI is not installed: ``pip install oxigraph``); then what only the remote store promises."""
from __future__ import annotations

import itertools

import pytest
from rdflib import Literal

from ontology.errors import QueryError
from ontology.store import EmbeddedStore, open_store
from ontology.store_terms import to_python
from ontology.store_remote import RemoteStore

from .store_contract import G1, G2, StoreContract, framework


class TestEmbeddedMemory(StoreContract):
    @pytest.fixture
    def store_factory(self):
        return lambda reopen=False: EmbeddedStore(None)


class TestEmbeddedDisk(StoreContract):
    @pytest.fixture
    def store_factory(self, tmp_path):
        n = itertools.count()
        where = {}

        def open_(reopen=False):
            if not reopen:
                where["path"] = tmp_path / f"store{next(n)}"
            return open_store(str(where["path"]))
        return open_


class TestRemoteOxigraph(StoreContract):
    @pytest.fixture
    def store_factory(self, oxigraph_server):
        def open_(reopen=False):
            s = open_store(oxigraph_server)
            assert isinstance(s, RemoteStore)
            if not reopen:
                s._update(["DROP SILENT ALL"])  # each test starts empty
            return s
        return open_


class TestRemoteVirtuoso(StoreContract):
    """Virtuoso Open Source (Debian virtuoso-opensource; skipped without it): its dialect, docs/deploy.md."""

    @pytest.fixture
    def store_factory(self, virtuoso_server):
        def open_(reopen=False):
            s = open_store(virtuoso_server)
            assert isinstance(s, RemoteStore) and s.dialect == "virtuoso"
            if not reopen:
                s.drop_all()  # each test starts empty (never DROP ALL: Virtuoso's own graphs stay)
            return s
        return open_


# What only the remote store promises --------------------------------------------------------------
SERVERS = ["oxigraph_server", "virtuoso_server"]


@pytest.mark.parametrize("server", SERVERS)
def test_remote_generation_is_shared_between_processes(server, request):
    url = request.getfixturevalue(server)
    a, b = RemoteStore(url), RemoteStore(url)
    before = b.generation
    a.replace_graphs({G1: framework(1)})
    assert b.generation != before and b.generation == a.generation
    assert [r["notation"] for r in b.select("framework_competencies", fw=Literal("t"))] == ["C0"]


@pytest.mark.parametrize("server", SERVERS)
def test_remote_failed_update_writes_nothing(server, request):
    s = RemoteStore(request.getfixturevalue(server))
    s.replace_graphs({G1: framework(2)})
    n, gen = len(s), s.generation
    with pytest.raises(QueryError):
        s._update(["INSERT DATA { GRAPH <https://ex.org/g> { <https://ex.org/a> <https://ex.org/p> 1 } }",
                   "THIS IS NOT AN UPDATE"])
    assert len(s) == n and s.generation == gen


@pytest.mark.parametrize("server", SERVERS)
def test_remote_large_graphs_replace_in_one_update(server, request):
    """Past RemoteStore.BULK_TRIPLES (Virtuoso: staged by a Graph Store Protocol PUT, then MOVEd)."""
    s = RemoteStore(request.getfixturevalue(server))
    s.drop_all()
    n = RemoteStore.BULK_TRIPLES // 4 + 10  # 4 triples per competency: above the bulk threshold
    s.replace_graphs({G1: framework(n), G2: framework(2, "u")})
    assert len(s.graph(G1)) == 2 + 4 * n
    gen = s.generation
    s.replace_graphs({G1: framework(n + 1)})
    assert len(s.graph(G1)) == 2 + 4 * (n + 1) and len(s.graph(G2)) == 2 + 4 * 2
    assert sorted(s.graph_names()) == sorted([str(G1), str(G2)]) and s.generation != gen
    names = [b["g"]["value"] for b in s._select_json(s._graphs_query())["results"]["bindings"] if "g" in b]
    assert not [g for g in names if g.startswith("urn:gapmap:staging:")]  # no staging graph left
    assert len(s.select("framework_competencies", fw=Literal("t"))) == n + 1


def test_virtuoso_system_graphs_are_not_ours(virtuoso_server):
    """Virtuoso keeps graphs of its own (RDF views, LDP): never listed, counted or dropped."""
    s = RemoteStore(virtuoso_server)
    s.drop_all()
    assert s.graph_names() == [] and len(s) == 0
    n = int(s._select_json("SELECT (COUNT(*) AS ?n) WHERE { GRAPH <http://www.openlinksw.com/schemas/virtrdf#> "
                           "{ ?s ?p ?o } }")["results"]["bindings"][0]["n"]["value"])
    assert n > 0  # still there: Virtuoso's SPARQL needs it
    s.replace_graphs({G1: framework(2)})
    assert s.graph_names() == [str(G1)] and len(s) == 2 + 4 * 2


# The one value converter ---------------------------------------------------------------------------
def test_to_python_is_the_same_for_oxigraph_rdflib_and_json_terms():
    import pyoxigraph as ox
    from rdflib import BNode, URIRef
    from rdflib.namespace import XSD
    cases = [(ox.NamedNode("https://ex.org/a"), URIRef("https://ex.org/a"), {"type": "uri", "value": "https://ex.org/a"},
              "https://ex.org/a"),
             (ox.Literal("3", datatype=ox.NamedNode(str(XSD.integer))), Literal(3),
              {"type": "literal", "value": "3", "datatype": str(XSD.integer)}, 3),
             (ox.Literal("0.5", datatype=ox.NamedNode(str(XSD.decimal))), Literal("0.5", datatype=XSD.decimal),
              {"type": "literal", "value": "0.5", "datatype": str(XSD.decimal)}, 0.5),
             (ox.Literal("true", datatype=ox.NamedNode(str(XSD.boolean))), Literal(True),
              {"type": "literal", "value": "true", "datatype": str(XSD.boolean)}, True),
             (ox.Literal("hé", language="fr"), Literal("hé", lang="fr"),
              {"type": "literal", "value": "hé", "xml:lang": "fr"}, "hé"),
             (ox.Literal("2026-01-02", datatype=ox.NamedNode(str(XSD.date))), Literal("2026-01-02", datatype=XSD.date),
              {"type": "literal", "value": "2026-01-02", "datatype": str(XSD.date)}, "2026-01-02"),
             (ox.Literal("x1", datatype=ox.NamedNode(str(XSD.integer))), Literal("x1", datatype=XSD.integer),
              {"type": "literal", "value": "x1", "datatype": str(XSD.integer)}, "x1"),
             (ox.BlankNode("b0"), BNode("b0"), {"type": "bnode", "value": "b0"}, "_:b0")]
    for oxt, rdft, cell, want in cases:
        assert to_python(oxt) == to_python(rdft) == to_python(cell) == want, want
    assert to_python(None) is None
