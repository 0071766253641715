"""Fuzzing the SPARQL endpoint's query parameter (``GAPMAP_FUZZ_EXAMPLES`` inputs each).

1. Through ``/sparql``: never a 500; errors are problem+json.
2. The SERVICE check against the engine itself: every query the check lets through is run on a
   bare, unprotected pyoxigraph store (data in it, the union default graph) next to a local
   listener; no such query may open a connection.  This compares the check with Oxigraph's own
   parse on thousands of SERVICE-laden mutations.
"""
from __future__ import annotations

import os
import random
import time

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ontology.errors import QueryError
from ontology.sparql import inspect_query

from .ssrf_corpus import corpus
from .test_sparql_security import Listener

EXAMPLES = int(os.environ.get("GAPMAP_FUZZ_EXAMPLES", "2000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=bool(os.environ.get("CI")),
                suppress_health_check=list(HealthCheck), print_blob=True)

SEEDS = [
    "SELECT ?c ?label WHERE { ?c a skos:Concept ; skos:prefLabel ?label } ORDER BY ?c LIMIT 5",
    "PREFIX ex: <http://example.org/ns/> SELECT * WHERE { ?s ex:p ?o . FILTER(?o < 3 && ?s != ex:a) } LIMIT 2",
    "ASK { ?s ?p ?o }",
    "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 3",
    "DESCRIBE <http://a/>",
    'SELECT * WHERE { BIND("\\u0022" AS ?x) ?s ?p ?o } LIMIT 1',
    "SELECT (COUNT(*) AS ?n) FROM <http://g/> WHERE { ?s ?p ?o }",
]
TOKENS = ["SERVICE", "service", "SERVICE SILENT", "SERVICE:", "SERVICEex:x", " SERVICE <{url}> {{ ?a ?b ?c }} ",
          "<{url}>", "ex:a\\#b", "ex:a\\'b", '"\\u0022"', "'\\u0027'", "#", "\n", "\\u0053ERVICE", ".", ";",
          "{", "}", "(", ")", "<", ">", "?v", "$v", "FROM", "FROM NAMED", "GRAPH", "BIND(<{url}> AS ?v)",
          "PREFIX : <{url}> ", "BASE <{url}> ", '"""', "'''", "ex:a.", "1", "true", "FILTER(?o<?o)", "UNION",
          "OPTIONAL", "LOAD <{url}>", "INSERT DATA { <a:b> <a:b> <a:b> }", "\\", "SELECT", "WHERE"]


def mutate_query(q: str, rng: random.Random, url: str) -> str:
    toks = [t.format(url=url) if "{url}" in t else t for t in TOKENS]
    for _ in range(rng.randint(1, 6)):
        pos = rng.randint(0, len(q))
        op = rng.randint(0, 3)
        if op == 0:
            q = q[:pos] + rng.choice(toks) + q[pos:]
        elif op == 1:
            q = q[:pos] + q[pos + rng.randint(1, 10):]
        elif op == 2:
            q = q[:pos] + rng.choice(" \t\n#") + q[pos:]
        else:
            q = q[:pos] + chr(rng.randint(32, 0x2FF)) + q[pos:]
    return q


@pytest.fixture(scope="module")
def module_listener():
    lst = Listener()
    yield lst
    lst.close()


def queries(url: str):
    return st.builds(lambda seed, key: mutate_query(seed, random.Random(key), url),
                     st.sampled_from(SEEDS + corpus(url, 40)[:43]), st.integers(0, 2**64 - 1))


def test_fuzz_endpoint_never_500(sparql_app, module_listener):
    client = sparql_app.test_client()

    @FUZZ
    @given(queries(module_listener.url), st.sampled_from(["get", "form", "body"]))
    def prop(q, how):
        if how == "get":
            resp = client.get("/sparql", query_string={"query": q})
        elif how == "form":
            resp = client.post("/sparql", data={"query": q})
        else:
            resp = client.post("/sparql", data=q.encode("utf-8", "surrogatepass"),
                               content_type="application/sparql-query")
        assert resp.status_code < 500 or resp.status_code == 503, resp.get_data(as_text=True)
        if resp.status_code >= 400:
            assert resp.mimetype == "application/problem+json"
    prop()
    time.sleep(0.1)
    assert module_listener.connections == 0


def test_fuzz_check_is_sound_against_oxigraphs_own_parse(module_listener):
    """Whatever the check accepts, bare Oxigraph evaluates without opening a connection."""
    store = ox.Store()
    for s in ("http://a/", "http://b/"):
        store.add(ox.Quad(ox.NamedNode(s), ox.NamedNode("http://example.org/ns/p"), ox.Literal("1"),
                          ox.NamedNode("http://g/")))
    from ontology.vocab import PREFIXES
    accepted = 0

    @FUZZ
    @given(queries(module_listener.url))
    def prop(q):
        nonlocal accepted
        try:
            inspect_query(q, PREFIXES)
        except QueryError:
            return
        accepted += 1
        before = module_listener.connections
        try:
            res = store.query(q, use_default_graph_as_union=True, prefixes=PREFIXES)
            if not isinstance(res, ox.QueryBoolean):
                for _ in zip(range(1000), res):
                    pass
        except (SyntaxError, OSError, RuntimeError, ValueError):
            pass
        assert module_listener.connections == before, f"the check let through a query that reached out: {q!r}"
    prop()
    assert accepted > EXAMPLES // 20  # the property was exercised on accepted queries
