"""Institutions (tenants): users of two institutions × roles × read and write endpoints (API, pages,
SPARQL).  Each institution mints IRIs under its own base, so any IRI of the other one in a response is a
cross-tenant read; each gets a marker course the other must never see; writes aimed at the other's data
must change nothing there."""
from __future__ import annotations

import io
import json
import re

import pytest

from service.auth import ROLES
from tests.conftest import USERS_BACKENDS, bearer, users_db_url
from tests.service.accounts import load_mini, make_app, suggestions

INSTS = ("default", "north")
MARKER = {"default": "HOME-777", "north": "NORTH-555"}
OTHER = {"default": "north", "north": "default"}


@pytest.fixture(scope="module", params=USERS_BACKENDS)
def tenants(request, tmp_path_factory):
    """One app; the mini program in both institutions, plus a course only each one has (by upload); once
    with the accounts on SQLite, once on PostgreSQL."""
    folder = tmp_path_factory.mktemp("tenants")
    app = make_app(folder, USERS_DB=users_db_url(request, request.param, folder))
    from service.auth import users_db
    users_db(app).add_institution("north", "North Medical School")
    t = app.extensions["gapmap_tenants"]
    for inst in INSTS:
        load_mini(t.get(inst))
    c = app.test_client()
    for inst in INSTS:
        h = bearer(app, "admin", institution=inst)
        r = c.post(f"/api/programs/mini/courses/{MARKER[inst]}/syllabus", headers=h, content_type="multipart/form-data",
                   data={"file": (io.BytesIO(b"1. Explain the cardiac cycle.\n2. Take a history.\n"), "s.txt"),
                         "year": "2", "title": f"Only at {inst}", "align": "false"})
        assert r.status_code == 201, r.get_json()
    bases = {inst: t.get(inst).ids.base for inst in INSTS}
    assert bases["default"] != bases["north"] and bases["north"].startswith(bases["default"])
    yield app, bases
    for eng in [app.extensions.get("gapmap_sparql"), *app.extensions.get("gapmap_sparql_tenants", {}).values()]:
        if eng is not None:
            eng.close()


def _headers(app, inst, role):
    return bearer(app, role, institution=inst, courses=["MED-201", MARKER[inst]] if role == "educator" else None)


def _foreign(text: str, inst: str, bases: dict) -> list[str]:
    """What in a response belongs to the other institution: its marker course, or IRIs under its base
    (north's base extends the default's, so for the default any IRI under north's base is foreign)."""
    other = OTHER[inst]
    found = [MARKER[other]] if MARKER[other] in text else []
    iris = re.findall(r"https?://[^\s\"'<>]+", text)
    if other == "north":
        found += [i for i in iris if i.startswith(bases["north"])]
    else:
        found += [i for i in iris if i.startswith(bases["default"]) and not i.startswith(bases["north"])]
    return found


READS = [
    ("api", "/api/programs"),
    ("api", "/api/programs/mini/courses"),
    ("api", "/api/programs/mini/gaps"),
    ("api", "/api/programs/mini/gaps?format=ttl"),
    ("api", "/api/programs/mini/review?status=all"),
    ("api", "/api/frameworks/mini/competencies"),
    ("api", "/api/programs/mini/assessments"),
    ("api", "/api/objectives/O1/alignments"),
    ("api", "/api/health"),
    ("sparql", "SELECT DISTINCT ?s WHERE { ?s ?p ?o }"),
    ("sparql", "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"),
    ("sparql", "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"),
    ("page", "/programs/mini"),
    ("page", "/programs/mini/review?status=all"),
    ("page", "/competencies/mini/PC1"),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("inst", INSTS)
def test_reads_see_only_their_institution(tenants, inst, role):
    app, bases = tenants
    c = app.test_client()
    h = _headers(app, inst, role)
    leaks = {}
    own_marker_seen = False
    for kind, target in READS:
        if kind == "sparql":
            r = c.post("/sparql", data={"query": target}, headers={**h, "Accept": "application/sparql-results+json, text/turtle"})
        else:
            r = c.get(target, headers=h)
        assert r.status_code == 200, (kind, target, r.status_code)
        text = r.get_data(as_text=True)
        own_marker_seen |= MARKER[inst] in text
        if _foreign(text, inst, bases):
            leaks[target] = _foreign(text, inst, bases)[:3]
    assert leaks == {}, leaks  # 0 cross-tenant reads
    assert own_marker_seen  # and the institution does see its own data


def test_sparql_sees_only_own_graphs(tenants):
    app, bases = tenants
    c = app.test_client()
    for inst in INSTS:
        r = c.get("/sparql", query_string={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
                  headers={**_headers(app, inst, "viewer"), "Accept": "application/sparql-results+json"})
        graphs = [b["g"]["value"] for b in r.get_json()["results"]["bindings"]]
        assert graphs and all(g.startswith(bases[inst]) for g in graphs)
        assert not _foreign(json.dumps(graphs), inst, bases)
        # naming the other institution's graphs explicitly gives nothing either
        other_graph = bases[OTHER[inst]] + "graph/curriculum/mini"
        r = c.get("/sparql", query_string={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{other_graph}> {{ ?s ?p ?o }} }}"},
                  headers={**_headers(app, inst, "viewer"), "Accept": "application/sparql-results+json"})
        assert r.get_json()["results"]["bindings"][0]["n"]["value"] == "0"


def _state(app, inst):
    """Everything one institution holds: its quads (as a sorted list of strings)."""
    store = app.extensions["gapmap_tenants"].get(inst).store
    return len(store), sorted(store.graph_names())


@pytest.mark.parametrize("role", ["educator", "committee", "admin"])
@pytest.mark.parametrize("inst", INSTS)
def test_writes_cannot_reach_the_other_institution(tenants, inst, role):
    """Every write a user may make, aimed at the other institution's alignments, objectives and courses:
    the other institution's store is unchanged (its triples and graphs) and its alignments keep their status."""
    app, bases = tenants
    c = app.test_client()
    other = OTHER[inst]
    h = _headers(app, inst, role)
    other_h = _headers(app, other, "viewer")
    theirs = [a for a in suggestions(c, other_h)["MED-201"] if a["status"] == "suggested"]
    before = _state(app, other), {a["id"]: a["status"] for a in theirs}
    for a in theirs[:3]:
        # not in this institution: 404 for every role (finding #14: not a 403 "may not review for course ''")
        unknown = 404
        r = c.post(f"/api/alignments/{a['id']}/decision", json={"decision": "accept"}, headers=h)
        assert r.status_code == unknown, r.get_json()
        r = c.post(f"/api/alignments/{a['id']}/decision",
                   json={"decision": "replace", "competency_iri": a["competency"]}, headers=h)
        assert r.status_code == unknown
    # a course only the other institution has: unknown here (an upload would need a year to create it here)
    r = c.post(f"/api/programs/mini/courses/{MARKER[other]}/syllabus", headers=h, content_type="multipart/form-data",
               data={"file": (io.BytesIO(b"1. Explain the heart.\n"), "s.txt"), "align": "false"})
    assert r.status_code in (403, 422)
    if role != "educator":
        assert c.post("/api/programs/mini/review/bulk-accept", json={"min_precision": 0.0}, headers=h).status_code == 200
    if role == "admin":
        r = c.post("/api/load/roles-csv", headers=h, content_type="multipart/form-data",
                   data={"file": (io.BytesIO(b"role_id,title,track,description,next_roles,competency,required_level,relation\n"
                                             b"spy,Spy,clinical,Spy.,,PC2,2,essential\n"), "roles.csv"),
                         "id": "spy-roles", "framework": "mini"})
        assert r.status_code == 201, r.get_json()
    after = _state(app, other), {a["id"]: a["status"] for a in suggestions(c, other_h)["MED-201"]
                                 if a["id"] in before[1]}
    assert after == before  # 0 cross-tenant writes
    # the user's writes landed in their own institution (bulk accept)
    if role != "educator":
        mine = suggestions(c, h)["MED-201"]
        assert not any(a["status"] == "suggested" and (a["precision"] or 0) >= 0 for a in mine)


def test_users_and_audit_are_per_institution(tenants):
    app, _ = tenants
    c = app.test_client()
    for inst in INSTS:
        admin = _headers(app, inst, "admin")
        users = c.get("/api/users", headers=admin).get_json()["users"]
        assert users and all(u["institution"] == inst for u in users)
        audit = c.get("/api/audit?per_page=500", headers=admin).get_json()["entries"]
        assert audit and all(e["institution"] == inst for e in audit)
        # an admin cannot remove the other institution's users
        victim = f"test-viewer-{OTHER[inst]}" if OTHER[inst] != "default" else "test-viewer"
        _headers(app, OTHER[inst], "viewer")
        assert c.delete(f"/api/users/{victim}", headers=admin).status_code == 404


def test_cli_institution_works_on_its_own_store(tmp_path, users_url, monkeypatch):
    monkeypatch.setenv("GAPMAP_USERS_DB", users_url)
    from click.testing import CliRunner

    from service.cli import main
    from tests.service.accounts import MINI
    store = ["--store", str(tmp_path / "store")]
    r = CliRunner().invoke(main, [*store, "--institution", "south", "init", "--data", str(MINI), "--no-align"])
    assert r.exit_code == 2 and "institution add south" in r.output
    assert CliRunner().invoke(main, [*store, "institution", "add", "south"]).exit_code == 0
    r = CliRunner().invoke(main, [*store, "--institution", "south", "init", "--data", str(MINI), "--no-align"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "institutions" / "south" / "store").is_dir()
    r = CliRunner().invoke(main, [*store, "--institution", "south", "report", "mini"])
    assert r.exit_code == 0 and "mini against mini" in r.output
    r = CliRunner().invoke(main, [*store, "report", "mini"])  # the default institution has nothing loaded
    assert r.exit_code == 4
    token = CliRunner().invoke(main, [*store, "--institution", "south", "user", "add", "sam", "--role",
                                      "viewer"]).output.split()[-1]
    from service.app import create_app
    app = create_app({"STORE_PATH": store[1], "TESTING": True, "CACHE_DIR": str(tmp_path / "cache")})
    c = app.test_client()
    h = {"Authorization": f"Bearer {token}"}
    assert c.get("/api/me", headers=h).get_json()["institution"] == "south"
    assert [p["id"] for p in c.get("/api/programs", headers=h).get_json()["programs"]] == ["mini"]
    admin = CliRunner().invoke(main, [*store, "user", "add", "root", "--role", "admin"]).output.split()[-1]
    assert c.get("/api/programs", headers={"Authorization": f"Bearer {admin}"}).get_json()["programs"] == []


def test_drafts_and_versions_are_per_institution(tenants):
    """Finding F7: drafts and frozen versions were one app-wide table, so another school's users read them
    (and their SPARQL), and its admin edited, applied or deleted them.  Now each institution has its own:
    the other's are 404 on every read and write, and the audit entry of an attempt is the actor's."""
    app, bases = tenants
    c = app.test_client()
    home = _headers(app, "default", "committee")
    assert c.post("/api/programs/mini/drafts", json={"name": "home-plan"}, headers=home).status_code == 201
    assert c.post("/api/drafts/home-plan/edits", headers=home,
                  json={"op": "add_course", "code": "HOME-900", "title": "Home only", "year": 3}).status_code == 200
    assert c.post("/api/programs/mini/versions", json={"name": "home-2025"}, headers=home).status_code == 201
    q = {"query": "SELECT ?t WHERE { ?c <http://purl.org/dc/terms/title> ?t }"}
    reads = ["/api/drafts/home-plan", "/api/drafts/home-plan/compare", "/api/drafts/home-plan/gaps",
             "/api/versions/home-2025/compare", "/api/drafts/home-2025"]
    for role in ("viewer", "committee", "admin"):
        h = _headers(app, "north", role)
        for path in reads:
            assert c.get(path, headers=h).status_code == 404, (role, path)
        for m in (c.get, c.post):
            r = m("/api/drafts/home-plan/sparql", headers=h, **({"query_string": q} if m == c.get else {"data": q}))
            assert r.status_code == 404 and "HOME-900" not in r.get_data(as_text=True)
        for kind in ("drafts", "versions"):
            listed = c.get(f"/api/programs/mini/{kind}", headers=h).get_json()[kind]
            assert not {"home-plan", "home-2025"} & {d["name"] for d in listed}
    north = _headers(app, "north", "admin")
    writes = [("post", "/api/drafts/home-plan/edits", {"op": "remove_course", "code": "MED-201"}),
              ("post", "/api/drafts/home-plan/apply", None), ("delete", "/api/drafts/home-plan", None),
              ("delete", "/api/drafts/home-2025", None)]
    for method, path, js in writes:
        assert getattr(c, method)(path, headers=north, json=js).status_code == 404, path
    # nothing of the default's draft reached north's live store (an apply there wrote it into north's graphs)
    r = c.get("/sparql", query_string={"query": 'ASK { ?c <http://www.w3.org/2004/02/skos/core#notation> "HOME-900" }'},
              headers={**north, "Accept": "application/sparql-results+json"})
    assert r.get_json()["boolean"] is False
    # the owner still has both, untouched
    d = c.get("/api/drafts/home-plan", headers=home).get_json()
    assert len(d["edits"]) == 1 and c.get("/api/versions/home-2025/compare", headers=home).status_code == 200
    # the same name is free in the other institution, and its draft is its own
    assert c.post("/api/programs/mini/drafts", json={"name": "home-plan"}, headers=north).status_code == 201
    assert c.get("/api/drafts/home-plan", headers=north).get_json()["edits"] == []
    assert c.delete("/api/drafts/home-plan", headers=north).status_code == 204
    assert len(c.get("/api/drafts/home-plan", headers=home).get_json()["edits"]) == 1
    # the attempts are in north's audit log, none in the default's
    home_admin = _headers(app, "default", "admin")
    audit = c.get("/api/audit?per_page=500", headers=home_admin).get_json()["entries"]
    assert not [e for e in audit if "north" in (e["user"] or "")]
    north_audit = c.get("/api/audit?per_page=500", headers=north).get_json()["entries"]
    assert any(e["path"] == "/api/drafts/home-2025" and e["status"] == 404 for e in north_audit)
    for d in ("home-plan", "home-2025"):
        assert c.delete(f"/api/drafts/{d}", headers=home).status_code == (409 if d == "home-2025" else 204)
