"""The fast conformance check never says "conforms" when pyshacl does not (it only lets conforming
data skip pyshacl); on the bundled data it does say "conforms", so loads take the fast path."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pyshacl
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

from loaders import Context, Source
from loaders import get as get_loader
from ontology.ids import Ids
from ontology.ingest import ingest
from ontology.shacl import shapes_graph
from ontology.shacl_fast import conforms
from ontology.store import open_store

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini"


def _pyshacl_conforms(g: Graph) -> bool:
    ok, _r, _t = pyshacl.validate(g, shacl_graph=shapes_graph(), inference="none", allow_infos=False,
                                  allow_warnings=False, do_owl_imports=False)
    return ok


def _deltas(manifest: Path):
    store, ids = open_store(None), Ids()
    out = []
    for e in json.loads(manifest.read_text()):
        d = get_loader(e["loader"]).load(Source.from_path(manifest.parent / e["path"]),
                                         Context(ids=ids, store=store, options=e.get("options", {})))
        ingest(store, d, validate=False)
        g = Graph()
        for x in d.graphs.values():
            g += x
        out.append((e["path"], g))
    return out


@pytest.fixture(scope="module")
def mini_graphs():
    return _deltas(MINI / "manifest.json")


def test_bundled_and_fixture_data_take_the_fast_path_and_agree(mini_graphs):
    for path, g in mini_graphs + _deltas(ROOT / "data" / "manifest.json")[:3]:
        assert conforms(g, shapes_graph()) == _pyshacl_conforms(g), path


def _mutations(g: Graph, rng: random.Random, n: int):
    triples = sorted(g, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))
    bad_values = [Literal("x"), Literal(-3), Literal(9, datatype=XSD.integer), Literal("abc", datatype=XSD.integer),
                  Literal("", lang="en"), BNode(), URIRef("https://ex.org/nothing"), Literal("1.5", datatype=XSD.decimal),
                  Literal("2026-13-45", datatype=XSD.date), Literal("fr", lang="fr")]
    for _ in range(n):
        m = Graph()
        m += g
        s, p, o = rng.choice(triples)
        kind = rng.randrange(3)
        if kind == 0:
            m.remove((s, p, o))
        elif kind == 1:
            m.remove((s, p, o))
            m.add((s, p, rng.choice(bad_values)))
        else:
            m.add((s, p, rng.choice(bad_values)))
        yield m


def test_never_conforms_when_pyshacl_finds_a_problem(mini_graphs):
    rng = random.Random(7)
    disagreements, broken = [], 0
    for path, g in mini_graphs:
        for m in _mutations(g, rng, 25):
            fast, slow = conforms(m, shapes_graph()), _pyshacl_conforms(m)
            broken += not slow
            if fast and not slow:
                disagreements.append(path)
    assert broken > 20  # the mutations do break things
    assert disagreements == []
