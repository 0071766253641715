"""The /sparql endpoint, through Flask's test client, as the SPARQL 1.1 Protocol describes it."""
from __future__ import annotations

import csv
import io
import json
import socket
import time
import xml.etree.ElementTree as ET

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from ontology.ids import Ids
from service.extensions import gapmap

from .conftest import BULK_G, CURRICULUM_G, EX, FRAMEWORK_G, bulk_graph

LABELS = "SELECT ?c ?label WHERE { ?c a skos:Concept ; skos:prefLabel ?label } ORDER BY ?c"
SRX = "{http://www.w3.org/2005/sparql-results#}"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"


def bindings(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [{k: v["value"] for k, v in b.items()} for b in resp.get_json(force=True)["results"]["bindings"]]


def assert_problem(resp, status, *words):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["status"] == status
    for w in words:
        assert w.lower() in body["detail"].lower(), body["detail"]
    return body


# ------------------------------------------------------------------ SELECT, three ways in
def test_select_get_defaults_to_sparql_json_without_cors(sparql_client):
    resp = sparql_client.get("/sparql", query_string={"query": LABELS})
    assert resp.mimetype == "application/sparql-results+json"
    assert "Access-Control-Allow-Origin" not in resp.headers  # no CORS unless CORS_ORIGINS allows
    rows = bindings(resp)
    assert [r["label"] for r in rows] == ["Patient care", "Medical knowledge", "Communication"]
    assert rows[0]["c"] == str(EX.c1)


def test_select_post_form(sparql_client):
    resp = sparql_client.post("/sparql", data={"query": LABELS})
    assert len(bindings(resp)) == 3


def test_select_post_sparql_query_body(sparql_client):
    resp = sparql_client.post("/sparql", data=LABELS.encode(), content_type="application/sparql-query")
    assert len(bindings(resp)) == 3


def test_query_over_union_of_named_graphs_with_predeclared_prefixes(any_app):
    q = "SELECT ?x WHERE { ?x a ?t . FILTER(?t IN (skos:Concept, gm:Course)) }"
    rows = bindings(any_app.test_client().get("/sparql", query_string={"query": q}))
    assert {r["x"] for r in rows} == {str(EX.c1), str(EX.c2), str(EX.c3), str(EX.course1)}


# ------------------------------------------------------------------ result formats
@pytest.mark.parametrize("accept,mimetype", [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
])
def test_select_formats_by_accept(sparql_client, accept, mimetype):
    q = "SELECT ?label ?n WHERE { ?c skos:prefLabel ?label ; skos:notation ?n } ORDER BY ?n"
    resp = sparql_client.get("/sparql", query_string={"query": q}, headers={"Accept": accept})
    assert resp.status_code == 200
    assert resp.mimetype == mimetype
    text = resp.get_data(as_text=True)
    if "json" in mimetype:
        rows = [(b["label"]["value"], b["n"]["value"]) for b in json.loads(text)["results"]["bindings"]]
        assert json.loads(text)["results"]["bindings"][0]["label"]["xml:lang"] == "en"
    elif "xml" in mimetype:
        root = ET.fromstring(text)
        assert [v.get("name") for v in root.iter(SRX + "variable")] == ["label", "n"]
        rows = [tuple(r.find(f"{SRX}binding[@name='{n}']/{SRX}literal").text for n in ("label", "n"))
                for r in root.iter(SRX + "result")]
    elif mimetype == "text/csv":
        table = list(csv.reader(io.StringIO(text)))
        assert table[0] == ["label", "n"]
        rows = [tuple(r) for r in table[1:]]
    else:  # TSV keeps RDF term syntax
        lines = text.splitlines()
        assert lines[0].split("\t") == ["?label", "?n"]
        assert lines[1].split("\t") == ['"Patient care"@en', '"C1"']
        rows = [tuple(Literal(c.split('"')[1]) for c in line.split("\t")) for line in lines[1:]]
        rows = [tuple(str(c) for c in r) for r in rows]
    assert rows == [("Patient care", "C1"), ("Medical knowledge", "C2"), ("Communication", "C3")]


def test_accept_with_q_values_and_format_parameter(sparql_client):
    resp = sparql_client.get("/sparql", query_string={"query": LABELS},
                             headers={"Accept": "application/sparql-results+json;q=0.5, text/csv"})
    assert resp.mimetype == "text/csv"
    resp = sparql_client.get("/sparql", query_string={"query": LABELS, "format": "tsv"},
                             headers={"Accept": "application/sparql-results+json"})
    assert resp.mimetype == "text/tab-separated-values"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    resp = sparql_client.get("/sparql", query_string={"query": LABELS}, headers={"Accept": browser})
    assert resp.mimetype == "application/sparql-results+xml"


def test_unacceptable_format_is_406(sparql_client):
    resp = sparql_client.get("/sparql", query_string={"query": LABELS}, headers={"Accept": "image/png"})
    assert_problem(resp, 406, "application/sparql-results+json")
    resp = sparql_client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "csv"})
    assert_problem(resp, 406, "text/turtle")


# ------------------------------------------------------------------ ASK, CONSTRUCT, DESCRIBE
@pytest.mark.parametrize("label,expected", [("Communication", True), ("Surgery", False)])
def test_ask_json_and_xml(sparql_client, label, expected):
    q = f'ASK {{ ?c skos:prefLabel "{label}"@en }}'
    resp = sparql_client.get("/sparql", query_string={"query": q})
    assert resp.get_json(force=True)["boolean"] is expected
    resp = sparql_client.get("/sparql", query_string={"query": q}, headers={"Accept": "application/sparql-results+xml"})
    assert ET.fromstring(resp.data).find(SRX + "boolean").text == str(expected).lower()


CONSTRUCT = "CONSTRUCT { ?c skos:prefLabel ?l } WHERE { ?c a skos:Concept ; skos:prefLabel ?l }"


@pytest.mark.parametrize("accept,rdflib_format", [
    (None, "turtle"), ("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
    ("application/n-triples", "nt"), ("application/rdf+xml", "xml"),
])
def test_construct_formats_parse_back(any_app, accept, rdflib_format):
    headers = {"Accept": accept} if accept else {}
    resp = any_app.test_client().get("/sparql", query_string={"query": CONSTRUCT}, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == (accept or "text/turtle")
    g = Graph().parse(data=resp.data, format=rdflib_format)
    assert len(g) == 3
    assert (EX.c2, SKOS.prefLabel, Literal("Medical knowledge", lang="en")) in g


def test_construct_turtle_uses_known_prefixes(sparql_client):
    text = sparql_client.get("/sparql", query_string={"query": CONSTRUCT}).get_data(as_text=True)
    assert "@prefix skos:" in text and "skos:prefLabel" in text


def test_describe(sparql_client):
    resp = sparql_client.get("/sparql", query_string={"query": f"DESCRIBE <{EX.course1}>"})
    assert resp.mimetype == "text/turtle"
    g = Graph().parse(data=resp.data, format="turtle")
    assert (EX.course1, SKOS.prefLabel, Literal("Clinical skills 1")) in g
    assert set(g.subjects()) == {EX.course1}


# ------------------------------------------------------------------ dataset
def test_default_and_named_graph_uri_parameters(any_app):
    client = any_app.test_client()
    q = "SELECT ?x WHERE { ?x a ?t }"
    rows = bindings(client.get("/sparql", query_string={"query": q, "default-graph-uri": str(CURRICULUM_G)}))
    assert [r["x"] for r in rows] == [str(EX.course1)]
    q = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    rows = bindings(client.post("/sparql", data={"query": q, "named-graph-uri": str(FRAMEWORK_G)}))
    assert [r["g"] for r in rows] == [str(FRAMEWORK_G)]
    resp = client.get("/sparql", query_string={"query": q, "default-graph-uri": "not an iri"})
    assert_problem(resp, 400, "IRI")


def test_from_clause_is_honoured(sparql_client):
    q = f"SELECT ?x FROM <{CURRICULUM_G}> WHERE {{ ?x a ?t }}"
    assert [r["x"] for r in bindings(sparql_client.get("/sparql", query_string={"query": q}))] == [str(EX.course1)]


# ------------------------------------------------------------------ refused requests
@pytest.mark.parametrize("query,word", [
    ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "INSERT"),
    ("PREFIX ex: <urn:x:>\nDELETE WHERE { ?s ?p ?o }", "DELETE"),
    ("LOAD <http://127.0.0.1:1/data.ttl>", "LOAD"),
    ("DROP ALL", "DROP"),
    ("CLEAR GRAPH <urn:test:graph:framework>", "CLEAR"),
])
def test_updates_are_refused(any_app, query, word):
    client = any_app.test_client()
    before = len(gapmap_store(any_app))
    assert_problem(client.get("/sparql", query_string={"query": query}), 400, word, "read-only")
    assert_problem(client.post("/sparql", data={"query": query}), 400, word, "read-only")
    assert_problem(client.post("/sparql", data={"update": query}), 400, "read-only")
    assert_problem(client.post("/sparql", data=query, content_type="application/sparql-update"), 400, "read-only")
    assert len(gapmap_store(any_app)) == before


def gapmap_store(app):
    with app.app_context():
        return gapmap().store


@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?x ?y ?z .SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "PREFIX e: <{url}>\nSELECT * WHERE {{ service e: {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",
])
def test_service_is_refused_and_never_called(sparql_client, template):
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        srv.settimeout(0.3)
        url = f"http://127.0.0.1:{srv.getsockname()[1]}/sparql"
        resp = sparql_client.get("/sparql", query_string={"query": template.format(url=url)})
        assert_problem(resp, 400, "SERVICE")
        with pytest.raises(socket.timeout):
            srv.accept()


def test_names_that_merely_contain_keywords_are_fine(sparql_client):
    q = ('PREFIX ex: <urn:x:>\nSELECT ?service WHERE { ?service a schema:Service ; ex:self-service $service . '
         '# SERVICE <http://x> {}\n FILTER(?service != "SERVICE <http://x> { }") }')
    assert bindings(sparql_client.get("/sparql", query_string={"query": q})) == []


def test_syntax_error_has_line_and_column(sparql_client):
    resp = sparql_client.get("/sparql", query_string={"query": "SELECT ?x WHERE {\n  ?x a skos:Concept .\n  FILTER(?x = ) }"})
    body = assert_problem(resp, 400, "syntax error", "line 3")
    assert body["line"] == 3 and body["column"] > 1


def test_undeclared_prefix_is_a_clear_error(sparql_client):
    resp = sparql_client.get("/sparql", query_string={"query": "SELECT * WHERE { ?x nope:p ?y }"})
    assert_problem(resp, 400, "unknown prefix 'nope:'", "PREFIX", "skos")


@pytest.mark.parametrize("kwargs", [
    # (a GET with no parameters at all answers the service description: test_sparql_protocol.py)
    {"method": "GET", "query_string": {"query": "   "}},
    {"method": "POST", "data": {"format": "json"}},
    {"method": "POST", "data": b"", "content_type": "application/sparql-query"},
])
def test_missing_query_names_the_parameter(sparql_client, kwargs):
    body = assert_problem(sparql_client.open("/sparql", **kwargs), 400, "'query'")
    assert body["parameter"] == "query"


def test_browser_without_query(sparql_app):
    client = sparql_app.test_client()
    resp = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    if any(r.rule == "/sparql/ui" for r in sparql_app.url_map.iter_rules()):
        assert resp.status_code == 303 and resp.headers["Location"].endswith("/sparql/ui")
    else:
        assert_problem(resp, 400, "'query'")


def test_other_post_content_types_are_415(sparql_client):
    resp = sparql_client.post("/sparql", data=json.dumps({"query": LABELS}), content_type="application/json")
    assert_problem(resp, 415, "application/sparql-query")


def test_oversized_result_is_refused(sparql_app):
    sparql_app.config["SPARQL_MAX_RESULT_BYTES"] = 200
    resp = sparql_app.test_client().get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert_problem(resp, 400, "LIMIT")


def test_cors_only_for_configured_origins_on_errors_and_preflight(sparql_app):
    client = sparql_app.test_client()
    site = {"Origin": "https://evil.example"}
    assert "Access-Control-Allow-Origin" not in client.get("/sparql", headers=site).headers
    assert "Access-Control-Allow-Origin" not in client.options("/sparql", headers=site).headers
    sparql_app.config["CORS_ORIGINS"] = "https://portal.example.edu, *"  # "*" is ignored
    ok = {"Origin": "https://portal.example.edu"}
    assert client.get("/sparql", headers=ok).headers["Access-Control-Allow-Origin"] == "https://portal.example.edu"
    resp = client.options("/sparql", headers=ok)
    assert resp.headers["Access-Control-Allow-Origin"] == "https://portal.example.edu"
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Origin" not in client.get("/sparql", headers=site).headers


# ------------------------------------------------------------------ timeout and freshness
def test_slow_query_times_out_and_endpoint_keeps_answering(any_app):
    with any_app.app_context():
        gapmap().store.replace_graphs({BULK_G: bulk_graph()})
    client = any_app.test_client()
    t0 = time.monotonic()
    resp = client.get("/sparql", query_string={"query": SLOW})
    elapsed = time.monotonic() - t0
    assert_problem(resp, 503, "exceeded 1 s")
    assert elapsed < 3.0
    # the endpoint, the engine and the store are all still fine
    assert len(bindings(client.get("/sparql", query_string={"query": LABELS}))) == 3
    resp = client.post("/sparql", data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
    assert int(bindings(resp)[0]["n"]) == 3000 + 13
    with any_app.app_context():
        gapmap().store.replace_graphs({BULK_G: Graph()})
    assert int(bindings(client.post("/sparql", data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}))[0]["n"]) == 13
    assert any_app.extensions["gapmap_sparql"].stats["timeouts"] == 1


def test_write_after_worker_started_is_visible(disk_app):
    client = disk_app.test_client()
    q = "SELECT ?l WHERE { ?x a gm:Course ; skos:prefLabel ?l } ORDER BY ?l"
    assert [r["l"] for r in bindings(client.get("/sparql", query_string={"query": q}))] == ["Clinical skills 1"]
    eng = disk_app.extensions["gapmap_sparql"]
    assert eng.mode == "pool" and eng.stats["spawned"] >= 1
    g = Graph()
    g.add((EX.course2, RDF.type, URIRef("https://w3id.org/gapmap/ns#Course")))
    g.add((EX.course2, SKOS.prefLabel, Literal("Clinical skills 2")))
    with disk_app.app_context():
        gapmap().store.replace_graphs({Ids().graph("curriculum", "more"): g})
    labels = [r["l"] for r in bindings(client.get("/sparql", query_string={"query": q}))]
    assert labels == ["Clinical skills 1", "Clinical skills 2"]
    # and a replaced graph is gone
    with disk_app.app_context():
        gapmap().store.replace_graphs({CURRICULUM_G: Graph()})
    labels = [r["l"] for r in bindings(client.get("/sparql", query_string={"query": q}))]
    assert labels == ["Clinical skills 2"]
