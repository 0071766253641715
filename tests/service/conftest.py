"""Fixtures for the SPARQL endpoint: apps over an in-memory and an on-disk store with a few triples."""
from __future__ import annotations

import pytest
from rdflib import Graph, Literal, Namespace
from rdflib.namespace import RDF, SKOS

from ontology.ids import Ids
from ontology.vocab import GM

EX = Namespace("https://example.edu/test/")
# Graphs minted like the loaders mint them (public kinds), so anonymous queries see them
# (graphs we did not mint count as private: ontology.access).
FRAMEWORK_G = Ids().graph("framework", "test")
CURRICULUM_G = Ids().graph("curriculum", "test")
BULK_G = Ids().graph("framework", "bulk")


def framework_graph() -> Graph:
    g = Graph()
    for i, label in enumerate(["Patient care", "Medical knowledge", "Communication"], start=1):
        c = EX[f"c{i}"]
        g.add((c, RDF.type, SKOS.Concept))
        g.add((c, SKOS.prefLabel, Literal(label, lang="en")))
        g.add((c, SKOS.notation, Literal(f"C{i}")))
    g.add((EX.c3, SKOS.broader, EX.c1))
    return g


def curriculum_graph() -> Graph:
    g = Graph()
    g.add((EX.course1, RDF.type, GM.Course))
    g.add((EX.course1, SKOS.prefLabel, Literal("Clinical skills 1")))
    g.add((EX.course1, GM.credits, Literal(6)))
    return g


def bulk_graph(n: int = 3000) -> Graph:
    """Enough triples that a three-way cross join (n**3 rows) never finishes."""
    g = Graph()
    for i in range(n):
        g.add((EX[f"b{i}"], EX.value, Literal(i)))
    return g


def _make_app(config: dict, role: str = "viewer"):
    """The app with a few triples; its test clients are signed in (bearer token) as a user of ``role``."""
    from flask.testing import FlaskClient

    from service.app import create_app
    from service.extensions import gapmap
    from tests.conftest import bearer
    # PUBLIC_READ: some tests query anonymously, as the public may when GAPMAP_PUBLIC_READ=1
    app = create_app({"TESTING": True, "SPARQL_TIMEOUT": 1.0, "PUBLIC_READ": True, **config})
    with app.app_context():
        gapmap().store.replace_graphs({FRAMEWORK_G: framework_graph(), CURRICULUM_G: curriculum_graph()})
    token = bearer(app, role)["Authorization"]

    class SignedClient(FlaskClient):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.environ_base["HTTP_AUTHORIZATION"] = token
    app.test_client_class = SignedClient
    return app


def _close(app):
    eng = app.extensions.get("gapmap_sparql")
    if eng is not None:
        eng.close()


@pytest.fixture
def sparql_app(tmp_path):
    """In-memory store: queries are evaluated in a forked child."""
    app = _make_app({"STORE_PATH": "", "CACHE_DIR": str(tmp_path / "cache")})
    yield app
    _close(app)


@pytest.fixture
def disk_app(tmp_path):
    """On-disk store: queries are evaluated by worker processes on read-only snapshots."""
    app = _make_app({"STORE_PATH": str(tmp_path / "store"), "CACHE_DIR": str(tmp_path / "cache")})
    yield app
    _close(app)


@pytest.fixture(params=["memory", "disk"])
def any_app(request):
    """Both store kinds, for the behaviour that must not depend on how queries are evaluated."""
    return request.getfixturevalue("sparql_app" if request.param == "memory" else "disk_app")


@pytest.fixture
def sparql_client(sparql_app):
    return sparql_app.test_client()
