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


def _remote_app(url, tmp_path):
    from ontology.store_remote import RemoteStore
    RemoteStore(url).drop_all()  # the server is shared by the module's tests: each starts empty
    return _make_app({"STORE_PATH": url, "CACHE_DIR": str(tmp_path / "cache"),
                      "USERS_DB": str(tmp_path / "users.sqlite"), "SECRET_KEY": "t" * 64})


@pytest.fixture
def remote_app(oxigraph_server, tmp_path):
    """Remote store (an Oxigraph server): /sparql forwards queries to the server."""
    app = _remote_app(oxigraph_server, tmp_path)
    yield app
    _close(app)


@pytest.fixture
def virtuoso_app(virtuoso_server, tmp_path):
    """Remote store on Virtuoso Open Source."""
    app = _remote_app(virtuoso_server, tmp_path)
    yield app
    _close(app)


_APPS = {"memory": "sparql_app", "disk": "disk_app", "remote": "remote_app", "virtuoso": "virtuoso_app"}


@pytest.fixture(params=["memory", "disk", "remote", "virtuoso"])
def any_app(request):
    """Every store kind, for the behaviour that must not depend on how queries are evaluated (embedded in
    memory or on disk, or forwarded to a SPARQL server: Oxigraph server, Virtuoso)."""
    return request.getfixturevalue(_APPS[request.param])


@pytest.fixture
def sparql_client(sparql_app):
    return sparql_app.test_client()
