"""The W3C SPARQL 1.1 Protocol test cases that apply to a read-only query endpoint, re-expressed as our own
tests (https://www.w3.org/2009/sparql/docs/tests/data-sparql11/protocol/manifest.ttl), plus the SPARQL 1.1
Service Description answered to a GET without a query, and the query page's long-query path.

Each test names the W3C case it re-expresses.  Not applicable, because the endpoint is read-only and refuses
every update (SPARQL 1.1 Update is not offered; an update request gets 400, see test_updates_are_refused):
  update_dataset_default_graph, update_dataset_default_graphs, update_dataset_named_graphs,
  update_dataset_full, update_post_form, update_post_direct, update_base_uri, bad_update_get,
  bad_multiple_updates, bad_update_wrong_media_type, bad_update_missing_form_type, bad_update_non_utf8,
  bad_update_syntax, bad_update_dataset_conflict.
"""
from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from .conftest import CURRICULUM_G, EX, FRAMEWORK_G

SD = "http://www.w3.org/ns/sparql-service-description#"
SRX = "{http://www.w3.org/2005/sparql-results#}"
ASK = "ASK { ?s ?p ?o }"
SELECT = "SELECT ?c WHERE { ?c a skos:Concept } ORDER BY ?c"
CONSTRUCT = "CONSTRUCT { ?c a skos:Concept } WHERE { ?c a skos:Concept }"
DESCRIBE = f"DESCRIBE <{EX.c1}>"
GRAPHS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
DEFAULT_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def rows(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [{k: v["value"] for k, v in b.items()} for b in resp.get_json(force=True)["results"]["bindings"]]


def is_client_error(resp):
    return 400 <= resp.status_code < 500


# ------------------------------------------------------------------ positive cases
def test_query_get(sparql_client):
    """query_get: query via GET."""
    r = sparql_client.get("/sparql", query_string={"query": ASK})
    assert r.status_code == 200 and r.get_json(force=True)["boolean"] is True


def test_query_post_form(sparql_client):
    """query_post_form: query via URL-encoded POST."""
    r = sparql_client.post("/sparql", data={"query": ASK})
    assert r.status_code == 200 and r.get_json(force=True)["boolean"] is True


def test_query_post_direct(sparql_client):
    """query_post_direct: query via POST directly (application/sparql-query)."""
    r = sparql_client.post("/sparql", data=ASK.encode(), content_type="application/sparql-query")
    assert r.status_code == 200 and r.get_json(force=True)["boolean"] is True


def test_query_post_direct_utf8_charset(sparql_client):
    """query_post_direct with an explicit UTF-8 charset and non-ASCII text."""
    q = 'SELECT ?x WHERE { BIND("café" AS ?x) }'
    r = sparql_client.post("/sparql", data=q.encode("utf-8"), content_type="application/sparql-query; charset=UTF-8")
    assert rows(r) == [{"x": "café"}]


@pytest.mark.parametrize("accept, media", [
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
])
def test_query_content_type_select(sparql_client, accept, media):
    """query_content_type_select: SELECT answers in a results format the client accepts."""
    r = sparql_client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == media
    if media.endswith("xml"):
        assert len(ET.fromstring(r.data).findall(f"{SRX}results/{SRX}result")) == 3
    elif media == "text/csv":
        assert len(list(csv.reader(io.StringIO(r.get_data(as_text=True))))) == 4


@pytest.mark.parametrize("accept", ["application/sparql-results+xml", "application/sparql-results+json"])
def test_query_content_type_ask(sparql_client, accept):
    """query_content_type_ask: ASK answers in a results format."""
    r = sparql_client.get("/sparql", query_string={"query": ASK}, headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == accept


@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE], ids=["construct", "describe"])
@pytest.mark.parametrize("accept, fmt", [("text/turtle", "turtle"), ("application/rdf+xml", "xml"),
                                         ("application/n-triples", "nt")])
def test_query_content_type_graph(sparql_client, query, accept, fmt):
    """query_content_type_construct / query_content_type_describe: an RDF serialisation the client accepts."""
    r = sparql_client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == accept
    g = Graph().parse(data=r.get_data(as_text=True), format=fmt)
    assert (EX.c1, None, None) in g


def test_query_dataset_default_graph(sparql_client):
    """query_dataset_default_graph: default-graph-uri sets the default graph."""
    r = sparql_client.get("/sparql", query_string={"query": DEFAULT_COUNT, "default-graph-uri": str(CURRICULUM_G)})
    assert rows(r) == [{"n": "3"}]


def test_query_dataset_default_graphs_get_and_post(sparql_client):
    """query_dataset_default_graphs_get / _post: several default-graph-uri merge into the default graph."""
    n_fw = int(rows(sparql_client.get("/sparql", query_string={"query": DEFAULT_COUNT,
                                                                  "default-graph-uri": str(FRAMEWORK_G)}))[0]["n"])
    both = [("query", DEFAULT_COUNT), ("default-graph-uri", str(FRAMEWORK_G)), ("default-graph-uri", str(CURRICULUM_G))]
    get = rows(sparql_client.get("/sparql?" + "&".join(f"{k}={v}" for k, v in
                                                       [(k, __import__("urllib.parse").parse.quote(v)) for k, v in both])))
    post = rows(sparql_client.post("/sparql", data=__import__("urllib.parse").parse.urlencode(both),
                                   content_type="application/x-www-form-urlencoded"))
    assert get == post == [{"n": str(n_fw + 3)}]


def test_query_dataset_named_graphs(sparql_client):
    """query_dataset_named_graphs_get / _post: named-graph-uri limits GRAPH ?g to those graphs."""
    for r in (sparql_client.get("/sparql", query_string={"query": GRAPHS, "named-graph-uri": str(CURRICULUM_G)}),
              sparql_client.post("/sparql", data={"query": GRAPHS, "named-graph-uri": str(CURRICULUM_G)})):
        assert [x["g"] for x in rows(r)] == [str(CURRICULUM_G)]


def test_query_dataset_full(sparql_client):
    """query_dataset_full: default and named graphs given together."""
    q = "SELECT ?g (COUNT(*) AS ?n) WHERE { { ?s ?p ?o BIND('default' AS ?g) } UNION { GRAPH ?g { ?s ?p ?o } } } GROUP BY ?g ORDER BY ?g"
    r = sparql_client.get("/sparql", query_string={"query": q, "default-graph-uri": str(CURRICULUM_G),
                                                   "named-graph-uri": str(FRAMEWORK_G)})
    got = {x["g"]: x["n"] for x in rows(r)}
    assert set(got) == {"default", str(FRAMEWORK_G)} and got["default"] == "3"


def test_query_multiple_dataset(sparql_client):
    """query_multiple_dataset: a query's FROM is overridden by the protocol's default-graph-uri."""
    q = f"SELECT (COUNT(*) AS ?n) FROM <{FRAMEWORK_G}> WHERE {{ ?s ?p ?o }}"
    r = sparql_client.get("/sparql", query_string={"query": q, "default-graph-uri": str(CURRICULUM_G)})
    assert rows(r) == [{"n": "3"}]


# ------------------------------------------------------------------ negative cases
def test_bad_query_method(sparql_client):
    """bad_query_method: a method other than GET/POST is refused."""
    for method in ("PUT", "DELETE", "PATCH"):
        r = sparql_client.open("/sparql", method=method, query_string={"query": ASK})
        assert r.status_code == 405, method


def test_bad_multiple_queries(sparql_client):
    """bad_multiple_queries: two query parameters are a client error."""
    r = sparql_client.get("/sparql?query=" + "ASK%7B%7D" + "&query=" + "ASK%7B%7D")
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    r = sparql_client.post("/sparql", data="query=ASK%7B%7D&query=ASK%7B%7D",
                           content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400


def test_bad_query_wrong_media_type(sparql_client):
    """bad_query_wrong_media_type: POST with a type that is neither form nor sparql-query."""
    r = sparql_client.post("/sparql", data=ASK.encode(), content_type="text/plain")
    assert is_client_error(r)


def test_bad_query_missing_form_type(sparql_client):
    """bad_query_missing_form_type: a form body without its media type."""
    r = sparql_client.post("/sparql", data=b"query=ASK%20%7B%7D", headers={"Content-Type": ""})
    assert is_client_error(r)


def test_bad_query_missing_direct_type(sparql_client):
    """bad_query_missing_direct_type: a direct query body without its media type."""
    r = sparql_client.post("/sparql", data=ASK.encode(), headers={"Content-Type": ""})
    assert is_client_error(r)


def test_bad_query_non_utf8(sparql_client):
    """bad_query_non_utf8: a direct POST declared in another charset."""
    r = sparql_client.post("/sparql", data='ASK { ?s ?p "é" }'.encode("latin-1"),
                           content_type="application/sparql-query; charset=ISO-8859-1")
    assert is_client_error(r)


def test_bad_query_syntax(sparql_client):
    """bad_query_syntax: a syntax error is 400 (problem+json naming the line)."""
    r = sparql_client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"})
    assert r.status_code == 400 and r.mimetype == "application/problem+json"


@pytest.mark.parametrize("kwargs", [
    {"method": "GET", "query_string": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
    {"method": "POST", "data": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
    {"method": "POST", "data": b"INSERT DATA { <urn:a> <urn:b> <urn:c> }", "content_type": "application/sparql-update"},
    {"method": "GET", "query_string": {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
])
def test_updates_are_refused(sparql_client, kwargs):
    """The update cases are not applicable: every form of update is refused with 400 and nothing changes."""
    before = rows(sparql_client.get("/sparql", query_string={"query": DEFAULT_COUNT}))
    r = sparql_client.open("/sparql", **kwargs)
    assert r.status_code == 400
    assert rows(sparql_client.get("/sparql", query_string={"query": DEFAULT_COUNT})) == before


# ------------------------------------------------------------------ service description
@pytest.mark.parametrize("accept, fmt", [(None, "turtle"), ("text/turtle", "turtle"),
                                         ("application/rdf+xml", "xml"), ("application/ld+json", "json-ld"),
                                         ("application/json", "json-ld")])
def test_service_description(sparql_client, accept, fmt):
    r = sparql_client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert r.status_code == 200
    g = Graph().parse(data=r.get_data(as_text=True), format=fmt)
    svc = URIRef("http://localhost/sparql")
    assert (svc, RDF.type, URIRef(SD + "Service")) in g
    assert (svc, URIRef(SD + "endpoint"), svc) in g
    assert (svc, URIRef(SD + "supportedLanguage"), URIRef(SD + "SPARQL11Query")) in g
    assert (svc, URIRef(SD + "supportedLanguage"), URIRef(SD + "SPARQL11Update")) not in g
    assert (svc, URIRef(SD + "feature"), URIRef(SD + "UnionDefaultGraph")) in g
    assert (svc, URIRef(SD + "resultFormat"), URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON")) in g


def test_service_description_lists_public_graphs_only(app):
    """Named graphs of the description: the public ones (a results graph is private)."""
    from pathlib import Path

    from service.extensions import gapmap
    mini = Path(__file__).resolve().parents[1] / "fixtures" / "mini"
    with app.app_context():
        gapmap().load_manifest(mini / "manifest.json")
        ids = gapmap().ids
    from tests.conftest import signed_client
    g = Graph().parse(data=signed_client(app, "viewer").get("/sparql", headers={"Accept": "text/turtle"})
                      .get_data(as_text=True), format="turtle")
    names = {str(o) for o in g.objects(None, URIRef(SD + "name"))}
    assert str(ids.graph("framework", "mini")) in names and str(ids.graph("curriculum", "mini")) in names
    assert not any("/graph/results/" in n for n in names)
    # a reader of private data is told of the graphs their queries see (the admin's count had 15, the list 9)
    admin = signed_client(app, "admin")
    g = Graph().parse(data=admin.get("/sparql", headers={"Accept": "text/turtle"}).get_data(as_text=True),
                      format="turtle")
    listed = {str(o) for o in g.objects(None, URIRef(SD + "name"))}
    queried = {b["g"]["value"] for b in admin.get("/sparql", query_string={
        "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
        headers={"Accept": "application/sparql-results+json"}).get_json()["results"]["bindings"]}
    assert any("/graph/results/" in n for n in listed) and queried <= listed, queried - listed


# ------------------------------------------------------------------ the query page
def test_long_query_by_post_form(sparql_client):
    """What the query page sends: an 8 KB query (a GET URL that long is refused by many servers: 414)."""
    long_q = "# " + "x" * 8000 + "\n" + SELECT
    r = sparql_client.post("/sparql", data={"query": long_q}, headers={"Accept": "application/sparql-results+json"})
    assert len(rows(r)) == 3


def test_query_page_posts_and_is_offline(sparql_app):
    from pathlib import Path
    client = sparql_app.test_client()
    resp = client.get("/sparql/ui")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'id="query-highlight"' in page and '"gm": "https://w3id.org/gapmap/ns#"' in page
    js = (Path(__file__).resolve().parents[2] / "service" / "web" / "static" / "sparql.js").read_text("utf-8")
    assert 'method: "POST"' in js and "application/x-www-form-urlencoded" in js
    # nothing loaded from another origin: every script, stylesheet and image comes from this server
    import re
    loads = re.findall(r'<(?:script|link|img)\b[^>]*?(?:src|href)="([^"]+)"', page)
    assert loads and all(u.startswith(("/", "data:")) for u in loads), loads
