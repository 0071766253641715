"""Smoke test of the API over the remote store (an Oxigraph server): load, gap report, cache, align job."""
from __future__ import annotations

from pathlib import Path

import pytest

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"


@pytest.mark.parametrize("server", ["oxigraph_server", "virtuoso_server"])
def test_api_over_a_remote_store(server, request, tmp_path):
    oxigraph_server = request.getfixturevalue(server)  # the SPARQL server's URL (Oxigraph or Virtuoso)
    from service.app import create_app
    from service.extensions import gapmap
    from ontology.store_remote import RemoteStore
    app = create_app({"STORE_PATH": oxigraph_server, "TESTING": True, "CACHE_DIR": str(tmp_path / "cache"),
                      "USERS_DB": str(tmp_path / "users.sqlite")})
    with app.app_context():
        ws = gapmap()
        assert isinstance(ws.store, RemoteStore)
        ws.store.drop_all()
        ws.load_manifest(MINI / "manifest.json")
    from tests.conftest import signed_client
    c = signed_client(app, "viewer")
    progs = c.get("/api/programs").get_json()["programs"]
    assert [(p["id"], p["objectives"]) for p in progs] == [("mini", 5)]
    r1 = c.get("/api/programs/mini/gaps?role=intern")
    assert r1.status_code == 200
    rep = r1.get_json()
    assert rep["summary"]["competencies"] == 6 and rep["summary"]["role_required"] >= 1
    assert c.get("/api/programs/mini/gaps?role=intern").data == r1.data  # served from the cache
    # a write from "another replica" (a second RemoteStore on the same server) is seen at once
    other = RemoteStore(oxigraph_server)
    from rdflib import URIRef
    from ontology.vocab import ACCEPTED, GM, RDF
    from ontology.ids import Ids
    ids = Ids()
    not_taught = [e for e in rep["competencies"] if e["status"] == "not_taught"]
    assert not_taught
    a, g = URIRef("https://example.edu/gapmap/alignment/smoke"), ids.graph("alignments", "mini")
    other.apply([], [(a, RDF.type, GM.Alignment, g), (a, GM.alignedObjective, ids.objective("O1"), g),
                     (a, GM.alignedCompetency, URIRef(not_taught[0]["competency"]), g), (a, GM.status, ACCEPTED, g),
                     (a, GM.method, GM.ManualMethod, g)])
    after = {e["notation"]: e["status"] for e in c.get("/api/programs/mini/gaps?role=intern").get_json()["competencies"]}
    assert after[not_taught[0]["notation"]] != "not_taught"


def test_job_state_is_shared_through_the_remote_store(oxigraph_server):
    from ontology.store_remote import RemoteStore
    from service.jobs import Jobs, StoreJobStates
    a = Jobs(StoreJobStates(RemoteStore(oxigraph_server)), workers=1)
    other_replica = StoreJobStates(RemoteStore(oxigraph_server))
    gen = RemoteStore(oxigraph_server).generation
    job = a.submit("x", lambda progress: (progress(1, 2, "half"), {"ok": 1})[1])
    a.wait(job["id"], timeout=20)
    seen = other_replica.get(job["id"])
    assert seen["status"] == "succeeded" and seen["result"] == {"ok": 1} and seen["kind"] == "x"
    assert RemoteStore(oxigraph_server).generation == gen  # job state is not data: caches stay valid
    assert other_replica.get("nope") is None
    a.shutdown()
