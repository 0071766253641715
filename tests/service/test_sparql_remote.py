"""/sparql over a store whose capabilities do not include SPARQL worker processes (the remote store): the
query is forwarded to the SPARQL server (restricted to the caller's graphs, see test_sparql_security.py), never
a 500 or a worker dying on a missing attribute."""
from __future__ import annotations


def test_sparql_endpoint_over_a_remote_store_forwards_the_query(oxigraph_server, tmp_path):
    from service.app import create_app
    from service.extensions import gapmap
    from tests.conftest import signed_client
    app = create_app({"STORE_PATH": oxigraph_server, "TESTING": True, "CACHE_DIR": str(tmp_path / "cache"),
                      "USERS_DB": str(tmp_path / "users.sqlite")})
    with app.app_context():
        store = gapmap().store
        assert not store.capabilities.workers and store.capabilities.shared
        assert "gapmap_reads" not in app.extensions  # no read-deadline engine over a remote store
    client = signed_client(app, "viewer")
    r = client.get("/sparql?query=ASK%7B%7D", headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.data
    assert r.get_json()["boolean"] is True
    r = client.get("/sparql?query=SELEC%20nonsense", headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 400, r.data  # parsed here first: a syntax error never reaches the server
