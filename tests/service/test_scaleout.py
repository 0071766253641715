"""Two replicas (two app instances in this process) over one SPARQL server (Oxigraph) and one Redis: a job
started through A is polled through B, rate limits hold across both, a rendered report computed by one is
served by the other and invalidated on both by a write (the store's generation changes)."""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import URIRef

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"


@pytest.fixture(scope="module")
def replicas(oxigraph_server, redis_server, tmp_path_factory):
    from service.app import create_app
    from service.extensions import gapmap
    tmp = tmp_path_factory.mktemp("replicas")
    cfg = {"STORE_PATH": oxigraph_server, "TESTING": True, "REDIS_URL": redis_server,
           "USERS_DB": str(tmp / "users.sqlite"), "SECRET_KEY": "k" * 64, "CACHE_DIR": str(tmp / "cache"),
           "RATELIMIT_LOAD": "3/minute", "DRAFTS_DIR": str(tmp / "drafts")}
    a, b = create_app(dict(cfg)), create_app(dict(cfg))
    with a.app_context():
        ws = gapmap()
        ws.store.drop_all()
        ws.load_manifest(MINI / "manifest.json")
    import redis
    redis.Redis.from_url(redis_server).flushdb()
    yield a, b
    for app in (a, b):
        with app.app_context():
            gapmap().jobs.shutdown()


def _clients(a, b, role="admin", name=None):
    """A client of each replica, signed in as the same user (one account database on this host)."""
    from tests.conftest import bearer
    token = bearer(a, role, name or "replica-" + role)["Authorization"]
    out = []
    for app in (a, b):
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = token
        out.append(c)
    return out


def test_job_started_on_a_is_polled_on_b(replicas):
    a, b = replicas
    from service.extensions import gapmap
    from service.shared import RedisJobStates
    with a.app_context():
        assert isinstance(gapmap().jobs.states, RedisJobStates)
    data = (MINI / "roles.csv").read_bytes()
    ca, cb = _clients(a, b)
    r = ca.post("/api/load/roles-csv?async=1", data={
        "file": (__import__("io").BytesIO(data), "roles.csv"), "id": "mini-roles", "framework": "mini"},
        content_type="multipart/form-data")
    assert r.status_code == 202, r.get_data(as_text=True)
    loc = r.headers["Location"]
    import time
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        j = cb.get(loc)
        assert j.status_code == 200, j.get_data(as_text=True)
        if j.get_json()["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.05)
    job = j.get_json()
    assert job["status"] == "succeeded", job
    assert job["kind"] == "load" and job["params"]["file"] == "roles.csv" and job["result"]
    assert cb.get("/api/jobs/" + "0" * 32).status_code == 404


def test_a_draft_and_a_saved_version_made_on_a_are_read_and_edited_on_b(replicas):
    a, b = replicas
    ca, cb = _clients(a, b, "committee", "replica-committee")
    r = ca.post("/api/programs/mini/drafts", json={"name": "plan-r"})
    assert r.status_code == 201, r.get_data(as_text=True)
    for _ in range(3):  # every read through B finds it (it was in A's memory only before)
        assert cb.get("/api/drafts/plan-r").status_code == 200
    r = cb.post("/api/drafts/plan-r/edits", json={"op": "add_course", "code": "MED-309", "title": "T", "year": 3})
    assert r.status_code in (200, 201), r.get_data(as_text=True)
    assert ca.get("/api/drafts/plan-r").get_json()["edits"][0]["code"] == "MED-309"
    assert ca.delete("/api/drafts/plan-r").status_code in (200, 204)
    assert cb.get("/api/drafts/plan-r").status_code == 404
    r = ca.post("/api/programs/mini/versions", json={"name": "2025-26"})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert [v["name"] for v in cb.get("/api/programs/mini/versions").get_json()["versions"]] == ["2025-26"]


def test_rate_limit_is_shared(replicas):
    a, b = replicas
    ca, cb = _clients(a, b, "admin", "replica-limits")
    # RATELIMIT_LOAD 3/minute per user: two loads through A, one through B, then both refuse.
    # (An empty upload is a 400 but still counts: the limit is on requests.)
    codes = [c.post("/api/load/roles-csv", data={}).status_code for c in (ca, ca, cb)]
    assert codes == [400, 400, 400], codes
    assert cb.post("/api/load/roles-csv", data={}).status_code == 429
    assert ca.post("/api/load/roles-csv", data={}).status_code == 429


def test_report_computed_once_and_invalidated_on_both(replicas, monkeypatch):
    a, b = replicas
    from service.api import reports
    calls = []
    real = reports._render
    monkeypatch.setattr(reports, "_render", lambda *args: calls.append(1) or real(*args))
    ca, cb = _clients(a, b, "viewer")
    url = "/api/programs/mini/gaps?role=intern"
    r1 = ca.get(url)
    assert r1.status_code == 200 and len(calls) == 1
    r2 = cb.get(url)  # replica B: from Redis, not computed again
    assert r2.data == r1.data and len(calls) == 1
    before = {e["notation"]: e["status"] for e in r1.get_json()["competencies"]}
    not_taught = [e for e in r1.get_json()["competencies"] if e["status"] == "not_taught"]
    assert not_taught
    # a write through replica A's store: the generation changes, both replicas recompute
    from ontology.ids import Ids
    from ontology.vocab import ACCEPTED, GM, RDF
    from service.extensions import gapmap
    ids = Ids()
    al, g = URIRef("https://example.edu/gapmap/alignment/scaleout"), ids.graph("alignments", "mini")
    with a.app_context():
        gapmap().store.apply([], [(al, RDF.type, GM.Alignment, g), (al, GM.alignedObjective, ids.objective("O1"), g),
                                  (al, GM.alignedCompetency, URIRef(not_taught[0]["competency"]), g),
                                  (al, GM.status, ACCEPTED, g), (al, GM.method, GM.ManualMethod, g)])
    rb = cb.get(url)
    assert len(calls) == 2
    after = {e["notation"]: e["status"] for e in rb.get_json()["competencies"]}
    assert after != before and after[not_taught[0]["notation"]] != "not_taught"
    ra = ca.get(url)
    assert ra.data == rb.data and len(calls) == 2  # A serves what B computed after the write


def test_institutions_of_a_remote_deployment_get_their_own_sparql_server():
    """With a remote default store another institution's store is a SPARQL server (one per tenant, from
    GAPMAP_INSTITUTION_STORES), never an embedded store in one replica's var/."""
    from ontology.errors import StoreUnavailable
    from service.config import Config
    from service.tenants import institution_config
    cfg = Config()
    cfg.STORE_PATH, cfg.INSTITUTION_STORES = "http://127.0.0.1:7878", ""
    with pytest.raises(StoreUnavailable, match="GAPMAP_INSTITUTION_STORES"):
        institution_config(cfg, "north")
    cfg.INSTITUTION_STORES = "http://sparql-{institution}.internal:7878"
    c = institution_config(cfg, "north")
    assert c.STORE_PATH == "http://sparql-north.internal:7878" and c.BASE.endswith("/institutions/north/")


def test_embedded_store_reports_stay_in_process(redis_server, tmp_path):
    """An embedded store's generation is a per-process counter: its rendered reports never go to Redis
    (two processes at generation 5 hold different data), while its jobs still do."""
    import redis

    from service.app import create_app
    from service.extensions import gapmap
    from service.shared import RedisJobStates
    app = create_app({"STORE_PATH": "", "TESTING": True, "REDIS_URL": redis_server,
                      "CACHE_DIR": str(tmp_path / "cache")})
    with app.app_context():
        gapmap().load_manifest(MINI / "manifest.json")
        assert isinstance(gapmap().jobs.states, RedisJobStates)
    r = redis.Redis.from_url(redis_server)
    before = set(r.scan_iter("gapmap:body:*"))
    c = app.test_client()
    from tests.conftest import bearer
    c.environ_base["HTTP_AUTHORIZATION"] = bearer(app, "viewer")["Authorization"]
    assert c.get("/api/programs/mini/gaps?role=intern").status_code == 200
    assert set(r.scan_iter("gapmap:body:*")) == before
    with app.app_context():
        gapmap().jobs.shutdown()


def test_redis_unreachable_is_a_503_not_a_500(tmp_path):
    """A replica whose Redis is gone answers 503 (problem details) for job state; rate limits fall back to
    per-process memory."""
    from service.app import create_app
    from service.extensions import gapmap
    from tests.conftest import bearer
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    app = create_app({"STORE_PATH": "", "TESTING": True, "REDIS_URL": dead, "CACHE_DIR": str(tmp_path / "c")})
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = bearer(app, "admin")["Authorization"]
    r = c.get("/api/jobs/" + "a" * 32)
    assert r.status_code == 503 and "Redis" in r.get_json()["detail"], r.get_data(as_text=True)
    assert c.post("/api/load/roles-csv", data={}).status_code == 400  # the limiter answered from memory
    with app.app_context():
        gapmap().jobs.shutdown()
