"""``frameworks.rq`` counts right on a large framework (its speed: bench/frameworks_listing.py)."""
from __future__ import annotations

from rdflib import Graph, Literal

from bench.frameworks_listing import OLD, synthetic_store
from ontology.ids import Ids
from ontology.vocab import DCTERMS, GM, RDF, SKOS


def test_listing_counts_a_4000_competency_framework_and_its_neighbours():
    store = synthetic_store(4000)
    ids = Ids()
    # a second, empty framework (no competencies, no domains, no version) and a small one
    g = Graph()
    empty = ids.framework("empty")
    g.add((empty, RDF.type, GM.Framework))
    g.add((empty, SKOS.notation, Literal("empty")))
    g.add((empty, DCTERMS.title, Literal("Empty")))
    small = ids.framework("small")
    g.add((small, RDF.type, GM.Framework))
    g.add((small, SKOS.notation, Literal("small")))
    g.add((small, DCTERMS.title, Literal("Small")))
    g.add((small, DCTERMS.hasVersion, Literal("2")))
    for i in range(3):
        c = ids.concept("small", f"S{i}")
        g.add((c, RDF.type, GM.Competency))
        g.add((c, SKOS.inScheme, small))
    d = ids.concept("small", "SD")
    g.add((d, RDF.type, GM.Domain))
    g.add((d, SKOS.inScheme, small))
    store.replace_graphs({ids.graph("framework", "extra"): g})
    rows = store.select("frameworks")
    got = {r["id"]: (int(r["competencies"]), int(r["domains"]), r.get("version")) for r in rows}
    assert got == {"big": (4000, 400, "1"), "empty": (0, 0, None), "small": (3, 1, "2")}
    assert [r["id"] for r in rows] == ["big", "empty", "small"]
    assert rows[0]["title"] == "Big" and rows[0]["framework"] == str(ids.framework("big"))


def test_same_answer_as_the_old_form_on_a_small_store():
    store = synthetic_store(60)
    old = [(str(r["id"].value), int(r["competencies"].value), int(r["domains"].value))
           for r in store.ox.query(OLD, use_default_graph_as_union=True)]
    new = [(r["id"], int(r["competencies"]), int(r["domains"])) for r in store.select("frameworks")]
    assert new == old == [("big", 60, 6)]
