"""Scale work: program-anchored report queries, the report cache keyed on the store generation,
and replace_graphs writing only what changed (same outcome as a full replace)."""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef

from loaders import Context, Source
from loaders import get as get_loader
from ontology.gaps import assessing_rows, cached_gap_report, gap_report, report_cache
from ontology.ids import Ids
from ontology.ingest import ingest
from ontology.store import open_store
from ontology.vocab import ACCEPTED, GM, RDF

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"


@pytest.fixture
def mini():
    store, ids = open_store(None), Ids()
    import json
    for e in json.loads((MINI / "manifest.json").read_text()):
        delta = get_loader(e["loader"]).load(Source.from_path(MINI / e["path"]),
                                             Context(ids=ids, store=store, options=e.get("options", {})))
        ingest(store, delta)
    return store, ids


def test_split_assessing_queries_give_the_union_query_rows(mini):
    store, ids = mini
    pid = ids.program("mini")
    key = lambda r: (r["comp"], r["assessment"], r["via"], r["level"])  # noqa: E731
    assert sorted(map(key, assessing_rows(store, pid))) == sorted(map(key, store.select("program_assessing",
                                                                                        program=pid)))
    assert assessing_rows(store, pid)


def test_report_cache_serves_repeats_and_never_a_stale_report(mini):
    store, ids = mini
    r1 = cached_gap_report(store, ids, "mini", "mini")
    assert cached_gap_report(store, ids, "mini", "mini") is r1  # served from memory
    assert r1.to_dict() == gap_report(store, ids, "mini", "mini").to_dict()
    hits = report_cache(store).hits
    before = {e.notation: e.status for e in r1.entries}
    not_taught = next(n for n, s in before.items() if s == "not_taught")
    comp = next(e.competency for e in r1.entries if e.notation == not_taught)
    a = URIRef("https://example.edu/gapmap/alignment/test-1")
    g = ids.graph("alignments", "mini")
    store.apply([], [(a, RDF.type, GM.Alignment, g), (a, GM.alignedObjective, ids.objective("O1"), g),
                     (a, GM.alignedCompetency, URIRef(comp), g), (a, GM.status, ACCEPTED, g),
                     (a, GM.method, GM.ManualMethod, g)])
    r2 = cached_gap_report(store, ids, "mini", "mini")
    assert r2 is not r1 and report_cache(store).hits == hits
    after = {e.notation: e.status for e in r2.entries}
    assert after[not_taught] != "not_taught"
    assert r2.to_dict() == gap_report(store, ids, "mini", "mini").to_dict()


def _norm(g) -> set:
    return {(s, p, (str(o), type(o).__name__, getattr(o, "language", None))) for s, p, o in g}


def test_replace_graphs_writes_the_difference_with_the_outcome_of_a_full_replace():
    store = open_store(None)
    name = URIRef("https://example.edu/gapmap/graph/t")
    other = URIRef("https://example.edu/gapmap/graph/u")
    ex = lambda i: URIRef(f"https://ex.org/{i}")  # noqa: E731
    g1 = Graph()
    for i in range(50):
        g1.add((ex(i), ex("p"), Literal(i)))
    store.replace_graphs({name: g1, other: g1})
    assert len(store) == 100
    gen = store.generation
    g2 = Graph()
    for i in range(25, 75):
        g2.add((ex(i), ex("p"), Literal(i)))
    g2.add((ex(1), ex("q"), Literal("x\"y\n<z>", lang="en")))  # escaping survives the update text
    store.replace_graphs({name: g2})
    assert store.generation == gen + 1
    assert _norm(store.graph(name)) == _norm(g2) and _norm(store.graph(other)) == _norm(g1)
    # blank nodes cannot be diffed: staged and moved, same outcome
    g3 = Graph()
    b = BNode()
    g3.add((ex(1), ex("p"), b))
    g3.add((b, ex("p"), Literal(1)))
    store.replace_graphs({name: g3, other: g2})
    assert len(store.graph(name)) == 2 and _norm(store.graph(other)) == _norm(g2)
    assert not [g for g in store.graph_names() if "staging" in g]
    # pyoxigraph terms are accepted as they are
    import pyoxigraph as ox
    store.replace_graphs({name: [(ox.NamedNode("https://ex.org/a"), ox.NamedNode("https://ex.org/p"),
                                  ox.Literal("1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))]})
    assert set(store.graph(name)) == {(ex("a"), ex("p"), Literal(1))}


def test_values_binding_keeps_user_input_out_of_the_query_text(mini):
    store, ids = mini
    # a hostile value is a literal that matches nothing, not SPARQL
    assert store.select("framework_competencies", fw=Literal('mini" } ; DROP ALL ; #')) == []
    assert store.select("program_courses", pid=Literal("mini"))


def test_program_index_read_while_a_write_lands_is_never_served_after_it(mini, monkeypatch):
    """A write that lands while the index's rows are being read (after the generation was read) files those
    rows under the old generation: the next report reads them again and sees the write."""
    from ontology.gaps import index_cache, program_index

    store, ids = mini
    comp = next(e.competency for e in gap_report(store, ids, "mini", "mini").entries if e.status == "not_taught")
    a, g = URIRef("https://example.edu/gapmap/alignment/test-race"), ids.graph("alignments", "mini")
    quads = [(a, RDF.type, GM.Alignment, g), (a, GM.alignedObjective, ids.objective("O1"), g),
             (a, GM.alignedCompetency, URIRef(comp), g), (a, GM.status, ACCEPTED, g),
             (a, GM.method, GM.ManualMethod, g)]
    real = type(store).select
    landed = []

    def select_then_write(self, name, **kw):  # the concurrent write lands just after this read
        rows = real(self, name, **kw)
        if name == "program_teaching" and not landed:
            landed.append(True)
            self.apply([], quads)
        return rows
    index_cache(store).clear()  # the report above filled it
    monkeypatch.setattr(type(store), "select", select_then_write)
    stale = program_index(store, ids, "mini", generation=None)
    monkeypatch.setattr(type(store), "select", real)
    assert landed and not any(r["comp"] == str(comp) for r in stale.teaching)  # read before the write
    fresh = program_index(store, ids, "mini")
    assert fresh is not stale and any(r["comp"] == str(comp) for r in fresh.teaching)
    assert {e.competency: e.status for e in gap_report(store, ids, "mini", "mini").entries}[comp] != "not_taught"
    assert gap_report(store, ids, "mini", "mini").to_dict() == gap_report(store, ids, "mini", "mini",
                                                                          use_index=False).to_dict()
