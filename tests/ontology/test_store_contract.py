"""The Store contract suite (tests/ontology/store_contract.py) run on every implementation we ship:
embedded Oxigraph in memory and on disk, and the remote store over SPARQL 1.1 Query/Update + Graph
Store Protocol against an Oxigraph server started here (skipped with the reason when the ``oxigraph``
server CLI is not installed: ``pip install oxigraph``); then what only the remote store promises."""
from __future__ import annotations

import itertools

import pytest
from rdflib import Literal

from ontology.errors import QueryError
from ontology.store import EmbeddedStore, RemoteStore, open_store, to_python

from .store_contract import G1, StoreContract, framework


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


# What only the remote store promises --------------------------------------------------------------
def test_remote_generation_is_shared_between_processes(oxigraph_server):
    a, b = RemoteStore(oxigraph_server), RemoteStore(oxigraph_server)
    before = b.generation
    a.replace_graphs({G1: framework(1)})
    assert b.generation != before and b.generation == a.generation
    assert [r["notation"] for r in b.select("framework_competencies", fw=Literal("t"))] == ["C0"]


def test_remote_failed_update_writes_nothing(oxigraph_server):
    s = RemoteStore(oxigraph_server)
    s.replace_graphs({G1: framework(2)})
    n, gen = len(s), s.generation
    with pytest.raises(QueryError):
        s._update(["INSERT DATA { GRAPH <https://ex.org/g> { <https://ex.org/a> <https://ex.org/p> 1 } }",
                   "THIS IS NOT AN UPDATE"])
    assert len(s) == n and s.generation == gen


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
