"""The load/align fast paths (docs/scale.md, "Third pass"): the lean delta store gives the same triples
and answers as rdflib's own, and a store's remembered last write never lets a stale diff overwrite
another writer's change."""
from __future__ import annotations

import threading
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from loaders import Context, Source
from loaders import get as get_loader
from ontology.fastgraph import FastStore, fast_graph
from ontology.ids import Ids
from ontology.shacl import shapes_graph, validate
from ontology.shacl_fast import conforms
from ontology.store import EmbeddedStore

DATA = Path(__file__).resolve().parents[2] / "data"
G = URIRef("urn:test:g")
EX = "urn:test:"


_FW: list = []


def _bundled_delta():
    """The bundled MD curriculum (353 rows, with curator alignments) as a loader's delta."""
    if not _FW:
        store = EmbeddedStore()
        fw = get_loader("framework-csv").load(Source.from_path(DATA / "framework/hpc.csv"),
                                              Context(ids=Ids(), store=store, options={"id": "hpc"}))
        store.replace_graphs(fw.graphs)
        _FW.append(store)
    return get_loader("curriculum-csv").load(Source.from_path(DATA / "curriculum/md.csv"),
                                             Context(ids=Ids(), store=_FW[0], options={"framework": "hpc"}))


def test_fast_store_holds_the_same_triples_and_answers_as_rdflib_memory():
    delta = _bundled_delta()
    [fg] = delta.graphs.values()
    assert isinstance(fg.store, FastStore)
    plain = Graph()
    for t in fg:
        plain.add(t)
    assert len(fg) == len(plain) == len(set(fg)) > 3000
    assert set(fg) == set(plain)
    # every lookup pattern answers the same
    s, p, o = next(iter(plain.triples((None, RDF.type, None))))
    for pat in [(s, None, None), (s, p, None), (s, p, o), (None, p, None), (None, p, o), (None, None, o),
                (s, None, o), (None, None, None), (URIRef(EX + "nothing"), None, None)]:
        assert set(fg.triples(pat)) == set(plain.triples(pat)), pat
    assert (s, p, o) in fg and (s, p, URIRef(EX + "x")) not in fg
    # removal keeps both indexes right
    fg.remove((s, None, None))
    plain.remove((s, None, None))
    assert set(fg) == set(plain) and len(fg) == len(plain)
    assert set(fg.subjects(p, o)) == set(plain.subjects(p, o))
    # an existing triple added again is not counted twice
    t = next(iter(plain))
    fg.add(t)
    assert len(fg) == len(plain)


def test_fast_store_delta_validates_and_stores_the_same_as_an_rdflib_graph():
    delta = _bundled_delta()
    [(name, fg)] = delta.graphs.items()
    plain = Graph()
    plain += fg
    assert conforms(fg, shapes_graph()) and conforms(plain, shapes_graph())
    a, b = EmbeddedStore(), EmbeddedStore()
    a.replace_graphs({name: fg})
    b.replace_graphs({name: plain})
    assert sorted(a.dump().splitlines()) == sorted(b.dump().splitlines())


def test_fast_store_broken_delta_is_reported_by_pyshacl_as_with_rdflib():
    delta = _bundled_delta()
    [fg] = delta.graphs.values()
    s = next(fg.subjects(RDF.type, URIRef("https://w3id.org/gapmap/ns#LearningObjective")))
    fg.remove((s, URIRef("https://w3id.org/gapmap/ns#text"), None))
    plain = Graph()
    plain += fg
    got = validate(fg, origin=delta.origin, columns=delta.columns)
    assert got and got == validate(plain, origin=delta.origin, columns=delta.columns)
    assert got[0].column == "objective_text"


def _triples(store, g=G):
    return {(q.subject.value, q.predicate.value, str(q.object)) for q in
            store.ox.quads_for_pattern(None, None, None, ox.NamedNode(str(g)))}


def _graph(*triples):
    g = Graph()
    for t in triples:
        g.add(t)
    return g


S, P, Q = URIRef(EX + "s"), URIRef(EX + "p"), URIRef(EX + "q")


def test_remembered_write_is_not_trusted_after_another_writer_changed_the_graph():
    store = EmbeddedStore()
    store.replace_graphs({G: _graph((S, P, Literal("a")), (S, P, Literal("b")))})
    # another writer (another thread, through apply) changes the graph after the remembered write
    t = threading.Thread(target=store.apply, args=([(S, P, Literal("a"), G)], [(S, Q, Literal("other"), G)]))
    t.start()
    t.join()
    # the next replace must diff against the store, not against the remembered write
    store.replace_graphs({G: _graph((S, P, Literal("c")))})
    assert _triples(store) == {(EX + "s", EX + "p", '"c"')}


def test_remembered_write_is_not_trusted_after_a_transaction_or_another_replace():
    store = EmbeddedStore()
    g2 = URIRef(EX + "g2")
    store.replace_graphs({G: _graph((S, P, Literal("a")))})
    with store.transaction():
        store.apply([], [(S, Q, Literal("tx"), G)])
    store.replace_graphs({G: _graph((S, P, Literal("a")))})
    assert _triples(store) == {(EX + "s", EX + "p", '"a"')}
    # a write of another graph keeps G's remembered triples valid, and they stay right
    store.replace_graphs({g2: _graph((S, P, Literal("x")))})
    store.replace_graphs({G: _graph((S, P, Literal("b")))})
    assert _triples(store) == {(EX + "s", EX + "p", '"b"')}
    assert _triples(store, g2) == {(EX + "s", EX + "p", '"x"')}


def test_remembered_write_holds_literals_as_oxigraph_stores_them():
    # "0.8120"^^xsd:decimal is kept as "0.812": remembering the written form would make the next diff
    # delete a triple that is not there and leave the stored one behind
    store = EmbeddedStore()
    dec, integer = XSD.decimal, XSD.integer
    first = _graph((S, P, Literal("0.8120", datatype=dec)), (S, Q, Literal("01", datatype=integer)))
    store.replace_graphs({G: first})
    assert _triples(store) == {(EX + "s", EX + "p", '"0.812"^^<http://www.w3.org/2001/XMLSchema#decimal>'),
                               (EX + "s", EX + "q", '"1"^^<http://www.w3.org/2001/XMLSchema#integer>')}
    store.replace_graphs({G: _graph((S, P, Literal("0.5", datatype=dec)))})
    assert _triples(store) == {(EX + "s", EX + "p", '"0.5"^^<http://www.w3.org/2001/XMLSchema#decimal>')}
    gen = store.generation
    store.replace_graphs({G: _graph((S, P, Literal("0.50", datatype=dec)))})  # the same value as stored
    assert store.generation != gen
    assert _triples(store) == {(EX + "s", EX + "p", '"0.5"^^<http://www.w3.org/2001/XMLSchema#decimal>')}


def test_remembered_write_survives_a_refused_write_unchanged():
    store = EmbeddedStore()
    store.replace_graphs({G: _graph((S, P, Literal("a")))})
    bad = _graph((S, P, Literal("b")), (URIRef("urn:bad iri"), P, Literal("c")))
    try:
        store.replace_graphs({G: bad})
    except Exception:
        pass
    store.replace_graphs({G: _graph((S, P, Literal("d")))})
    assert _triples(store) == {(EX + "s", EX + "p", '"d"')}


def test_fast_graph_binds_prefixes_like_rdflib():
    g = fast_graph()
    g.bind("ex", EX)
    g.add((S, P, Literal("a")))
    assert "ex:s" in g.serialize(format="turtle")
