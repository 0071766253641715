"""JSON-LD with a published context: competency, course, objective, alignment and gap report resources give the
same triples, with the same IRIs, as the SPARQL endpoint."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import XSD

from ontology.ids import Ids
from ontology.vocab import GM, RDF

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"
IDS = Ids()


@pytest.fixture
def client(app):
    from service.extensions import gapmap
    with app.app_context():
        gapmap().load_manifest(MINI / "manifest.json")
    from tests.conftest import signed_client
    return signed_client(app, "viewer")


def plain(g: Graph) -> Graph:
    out = Graph()
    for s, p, o in g:
        out.add((s, p, Literal(str(o)) if isinstance(o, Literal) and o.datatype == XSD.string else o))
    return out


def parse_ld(client, resp) -> Graph:
    """Parse a JSON-LD response; its inline context is the published one (/ns/context.jsonld)."""
    doc = json.loads(resp.get_data(as_text=True))
    ctx = client.get("/ns/context.jsonld")
    assert ctx.status_code == 200 and ctx.mimetype == "application/ld+json"
    assert doc["@context"] == ctx.get_json()["@context"]
    assert resp.headers["Link"].startswith("<http://localhost/ns/context.jsonld>")
    return Graph().parse(data=json.dumps(doc), format="json-ld")


def test_context_by_url(client):
    """?context=url names the published context instead; with it resolved, the same triples."""
    inline = client.get("/api/objectives/O2", headers={"Accept": "application/ld+json"})
    r = client.get("/api/objectives/O2?context=url", headers={"Accept": "application/ld+json"})
    doc = json.loads(r.get_data(as_text=True))
    assert doc["@context"] == "http://localhost/ns/context.jsonld"
    doc["@context"] = client.get("/ns/context.jsonld").get_json()["@context"]
    assert isomorphic(Graph().parse(data=json.dumps(doc), format="json-ld"), parse_ld(client, inline))


def sparql_describe(client, iri) -> Graph:
    r = client.post("/sparql", data={"query": f"CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ <{iri}> ?p ?o }}"},
                    headers={"Accept": "text/turtle"})
    assert r.status_code == 200, r.get_data(as_text=True)
    return Graph().parse(data=r.get_data(as_text=True), format="turtle")


def alignment_key(client):
    rows = client.get("/api/objectives/O2/alignments").get_json()["alignments"]
    return rows[0]["iri"].rsplit("/", 1)[-1], rows[0]["iri"]


@pytest.mark.parametrize("path, iri", [
    ("/api/competencies/mini/PC2.1", IDS.concept("mini", "PC2.1")),
    ("/api/courses/MED-101", IDS.course("MED-101")),
    ("/api/objectives/O2", IDS.objective("O2")),
    (None, None),  # an alignment
])
def test_resource_jsonld_matches_sparql(client, path, iri):
    if path is None:
        key, iri = alignment_key(client)
        path = f"/api/alignments/{key}"
    r = client.get(path, headers={"Accept": "application/ld+json"})
    assert r.status_code == 200 and r.mimetype == "application/ld+json"
    assert "json-ld#context" in r.headers["Link"]
    g = parse_ld(client, r)
    assert len(g) > 3 and set(g.subjects()) == {URIRef(iri)}
    want = plain(sparql_describe(client, iri))
    if not isomorphic(plain(g), want):
        _, a, b = graph_diff(to_isomorphic(plain(g)), to_isomorphic(want))
        pytest.fail(f"JSON-LD only {sorted(a)[:4]}; SPARQL only {sorted(b)[:4]}")


def test_short_terms_from_the_context(client):
    doc = client.get("/api/objectives/O2", headers={"Accept": "application/ld+json"}).get_json()
    node = doc if "id" in doc else next(n for n in doc["@graph"] if n["id"].endswith("/objective/O2"))
    assert node["inCourse"] == str(IDS.course("MED-101")) and node["notation"] == "O2"


def test_turtle_and_default_json(client):
    r = client.get("/api/courses/MED-101?format=ttl")
    assert r.mimetype == "text/turtle"
    g = Graph().parse(data=r.get_data(as_text=True), format="turtle")
    assert (IDS.course("MED-101"), RDF.type, GM.Course) in g
    r = client.get("/api/courses/MED-101", headers={"Accept": "application/json"})
    assert r.mimetype == "application/json" and r.get_json()["@context"]["gm"] == str(GM)


def test_unknown_resources_404(client):
    for path in ("/api/courses/NOPE", "/api/objectives/nope", "/api/competencies/mini/XX", "/api/alignments/0"):
        r = client.get(path, headers={"Accept": "application/ld+json"})
        assert r.status_code == 404 and r.mimetype == "application/problem+json", path


def test_gap_report_jsonld_uses_the_context(client):
    r = client.get("/api/programs/mini/gaps", headers={"Accept": "application/ld+json"})
    assert r.mimetype == "application/ld+json"
    g = parse_ld(client, r)
    reports = list(g.subjects(RDF.type, GM.GapReport))
    assert len(reports) == 1 and (reports[0], GM.reportFor, IDS.program("mini")) in g
    assert len(list(g.objects(reports[0], GM.hasEntry))) == 6
