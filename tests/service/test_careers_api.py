"""Careers API and pages end to end on the bundled data: profile → target role → gap → plan → mentor;
mentor matching; pipeline; CV evidence; privacy."""
from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import pytest

from linking.engine import Evidence, Match

ROOT = Path(__file__).resolve().parents[2]
DEMO = "p030"  # Dr. Rosa Reyes, attending, goal clinician-educator (data/people/make_people.py)
DEMO_USER = "r.reyes"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app over the whole bundled dataset (overrides conftest's per-test app; ``auth`` uses it)."""
    from service.app import create_app
    from service.extensions import gapmap
    app = create_app({"STORE_PATH": "", "TESTING": True, "CACHE_DIR": str(tmp_path_factory.mktemp("cache"))})
    with app.app_context():
        gapmap().load_manifest(ROOT / "data" / "manifest.json")
    return app


def test_people_list_needs_read_private(client, auth):
    assert client.get("/api/people").status_code == 401
    r = client.get("/api/people", headers=auth("committee"))
    assert r.status_code == 200
    body = r.get_json()
    assert body["count"] >= 60
    assert any(p["id"] == DEMO for p in body["people"])
    assert sum(1 for p in body["people"] if p["mentor_capacity"]) >= 15


def test_profile_is_private(app, client, auth):
    assert client.get(f"/api/people/{DEMO}").status_code == 401
    assert client.get(f"/api/people/{DEMO}", headers=auth("viewer")).status_code == 403
    assert client.get(f"/api/people/{DEMO}/plan", headers=auth("educator")).status_code == 403
    # the person themself, whatever their role
    me = client.get(f"/api/people/{DEMO}", headers=auth("viewer", name=DEMO_USER))
    assert me.status_code == 200
    assert me.get_json()["person"]["id"] == DEMO


def test_person_graphs_are_not_public(app):
    from ontology.access import graph_kind, visible_graphs
    from service.extensions import gapmap
    with app.app_context():
        ws = gapmap()
        public = visible_graphs(ws.store, ws.ids, private=False)
        kinds = {graph_kind(ws.ids, g) for g in public}
        assert not kinds & {"people", "evidence", "plans", "matches", "cv"}
        assert {"catalogue", "demand"} <= kinds  # the catalogue and demand are not personal
        every = visible_graphs(ws.store, ws.ids, private=True)
        assert {"people", "evidence"} <= {graph_kind(ws.ids, g) for g in every}


def _count_people(client, headers) -> int:
    r = client.get("/sparql", query_string={"query": "SELECT (COUNT(?p) AS ?n) WHERE { ?p a gm:Person }"},
                   headers={"Accept": "application/sparql-results+json", **headers})
    assert r.status_code == 200, r.get_data(as_text=True)
    return int(r.get_json()["results"]["bindings"][0]["n"]["value"])


def test_sparql_serves_people_only_to_who_may_read_private_data(client, auth):
    assert client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).status_code == 401
    assert _count_people(client, auth("viewer")) == 0
    assert _count_people(client, auth("educator")) == 0
    assert _count_people(client, auth("committee")) >= 60


def test_end_to_end_profile_gap_plan_mentor(client, auth):
    h = auth("viewer", name=DEMO_USER)
    prof = client.get(f"/api/people/{DEMO}", headers=h).get_json()
    assert prof["summary"]["competencies"] > 10
    held = {c["notation"]: c for c in prof["competencies"]}
    assert all(c["evidence"] for c in held.values())
    assert any(not c["fresh"] for c in held.values()) or prof["summary"]["stale"] == 0
    # pick a target role: clinician-educator is one track change away
    gap = client.get(f"/api/people/{DEMO}/gap?role=program-director", headers=h).get_json()
    assert gap["path"] == ["attending", "clinician-educator", "program-director"]
    assert [s["kind"] for s in gap["steps"]] == ["track_change", "advancement"]
    rels = [r["relation"] for r in gap["requirements"]]
    assert rels == sorted(rels, key=lambda r: r != "essential")  # essential before optional
    plan = client.get(f"/api/people/{DEMO}/plan?role=program-director&objective=hours", headers=h).get_json()
    open_gaps = [g for g in gap["requirements"] if g["status"] != "met"]
    assert plan["gaps"] == len(open_gaps)
    closed = {n for it in plan["items"] for n in it["closes"]}
    assert closed | {g["notation"] for g in plan["open_gaps"]} == {g["notation"] for g in open_gaps}
    assert plan["total_hours"] <= plan["greedy"]["total_hours"]
    for it in plan["items"]:  # each item says which gaps it closes, at the level required
        for n in it["closes"]:
            req = next(g for g in open_gaps if g["notation"] == n)
            assert max(d["level"] for d in it["develops"] if d["notation"] == n) >= req["required_level"]
    cost = client.get(f"/api/people/{DEMO}/plan?role=program-director&objective=cost", headers=h).get_json()
    assert cost["total_cost"] <= plan["total_cost"]
    mentor = client.get(f"/api/people/{DEMO}/mentor", headers=h).get_json()
    assert mentor["match"] is not None
    assert mentor["match"]["covers"] and "covers" in mentor["match"]["explanation"]
    saved = client.post(f"/api/people/{DEMO}/plan", headers=h, json={"role": "program-director"})
    assert saved.status_code == 201 and "/graph/plans/" in saved.get_json()["saved"]


def test_plan_bad_parameters(client, auth):
    h = auth("committee")
    r = client.get(f"/api/people/{DEMO}/plan?objective=fun", headers=h)
    assert r.status_code == 400 and r.get_json()["field"] == "objective"
    assert client.get(f"/api/people/{DEMO}/gap?role=astronaut", headers=h).status_code == 404
    assert client.get("/api/people/nobody", headers=h).status_code == 404


def test_mentoring_match_modes(app, client, auth):
    assert client.get("/api/mentoring/match").status_code == 401
    assert client.get("/api/mentoring/match", headers=auth("educator")).status_code == 403
    h = auth("committee")
    best = client.get("/api/mentoring/match?mode=best", headers=h).get_json()
    full = client.get("/api/mentoring/match?mode=full", headers=h).get_json()
    for res in (best, full):
        load = {}
        for m in res["matches"]:
            load[m["mentor"]] = load.get(m["mentor"], 0) + 1
            assert m["mentor"] != m["mentee"] and m["explanation"]
        caps = {m["mentor"]: m["capacity"] for m in res["mentors"]}
        assert all(n <= caps[k] for k, n in load.items())
    assert full["summary"]["matched"] == min(full["summary"]["mentees"], full["summary"]["capacity"])
    # a rule: same department only
    same = client.get("/api/mentoring/match?mode=full&department=same", headers=h).get_json()
    ps = {p["id"]: p for p in client.get("/api/people", headers=h).get_json()["people"]}
    assert all(ps[m["mentee"]]["department"] == ps[m["mentor"]]["department"] for m in same["matches"])
    bad = client.get("/api/mentoring/match?department=nearby", headers=h)
    assert bad.status_code == 400 and bad.get_json()["field"] == "department"
    saved = client.post("/api/mentoring/match", headers=h, json={"mode": "full"})
    assert saved.status_code == 201


def test_pipeline_report(client, auth):
    assert client.get("/api/pipeline").status_code == 401
    r = client.get("/api/pipeline?demand=northlake", headers=auth("committee"))
    assert r.status_code == 200
    rep = r.get_json()
    assert rep["summary"]["headcount"] == 86
    intern = next(x for x in rep["roles"] if x["role"] == "intern")
    assert intern["partners"] == ["md"]
    assert set(intern["uncovered"]) <= {q["notation"] for q in intern["requirements"]}
    assert rep["uncovered"] and all("catalogue" in u for u in rep["uncovered"])
    assert client.get("/api/pipeline?demand=nowhere", headers=auth("committee")).status_code == 404


def test_catalogue_is_readable_by_viewers(client, auth):
    assert client.get("/api/catalogue").status_code == 401
    r = client.get("/api/catalogue", headers=auth("viewer"))
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert len(items) >= 30
    badge = next(i for i in items if i["id"] == "MEF-101")
    assert {d["notation"]: d["level"] for d in badge["develops"]} == {"LTR1": 4, "LTR2": 4, "PBL5": 4}
    assert r.get_json()["count"] >= 30
    assert all(i["kind"] == "cme" for i in client.get("/api/catalogue?kind=cme", headers=auth("viewer")).get_json()["items"])


def test_catalogue_suggestions_are_unreviewed(client, word_linker, auth):
    items = client.get("/api/catalogue?suggest=true", headers=auth("viewer")).get_json()["items"]
    assert all("suggested" in i for i in items)
    some = [s for i in items for s in i["suggested"]]
    assert some and all(s["reviewed"] is False for s in some)
    for i in items:  # never one the item already names
        assert not {s["notation"] for s in i["suggested"]} & {d["notation"] for d in i["develops"]}


def test_openapi_lists_careers(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for p in ("/api/people", "/api/people/{pid}/plan", "/api/mentoring/match", "/api/pipeline", "/api/catalogue",
              "/api/people/{pid}/cv"):
        assert p in paths


CV = b"""Dr. Rosa Reyes - Curriculum vitae

Education and teaching
- Directed the internal medicine residency journal club and taught critical appraisal of clinical trials to residents.
- Supervised and gave structured feedback to interns and medical students on the general medicine wards.
- Led a quality improvement project that reduced catheter-associated urinary tract infections using PDSA cycles.

Clinical
- Attended a two-day workshop on point-of-care ultrasound.
"""


class WordLinker:
    """Ranks competencies by words shared with their label, alt labels and definition (the MiniLM engine is
    exercised by the alignment tests; here the CV flow is under test, and it must stay fast)."""

    def __init__(self, comps):
        self._words = [(c, {w for t in (c.label, *c.alt_labels, c.description)
                            for w in re.findall(r"[a-z]{5,}", t.lower())}) for c in comps]

    def rank(self, texts, top_k=5):
        out = []
        for text in texts:
            words = set(re.findall(r"[a-z]{5,}", text.lower()))
            scored = sorted(((len(words & ws), c) for c, ws in self._words if len(words & ws) >= 2),
                            key=lambda x: -x[0])[:top_k]
            out.append([Match(uri=c.uri, score=0.5 + n / 20, precision=min(0.9, 0.3 + n / 10),
                              evidence=Evidence(field="label", text=c.label, query_span=(0, len(text))))
                        for n, c in scored])
        return out


@pytest.fixture
def word_linker(app, monkeypatch):
    from ontology.align import competency_texts
    from service.extensions import gapmap
    with app.app_context():
        ws = gapmap()
        linker = WordLinker(competency_texts(ws.store, "hpc"))
        monkeypatch.setattr(ws, "linker", lambda fw: linker)
    return linker


def test_cv_upload_suggest_and_review(client, auth, word_linker):
    h = auth("viewer", name=DEMO_USER)
    assert client.post(f"/api/people/{DEMO}/cv", data={}).status_code == 401
    r = client.post(f"/api/people/{DEMO}/cv", headers=h, data={"file": (io.BytesIO(CV), "cv.txt")},
                    content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    sug = r.get_json()["suggestions"]
    notations = {s["notation"] for s in sug}
    assert notations & {"SBP3", "LTR1", "LTR2", "PBL2"}
    s = next(s for s in sug if s["notation"] in {"SBP3", "LTR1", "LTR2", "PBL2"})
    assert s["text"] in CV.decode() and 1 <= s["level"] <= 5
    listed = client.get(f"/api/people/{DEMO}/cv", headers=h).get_json()["suggestions"]
    key = next(x["key"] for x in listed if x["notation"] == s["notation"])
    before = client.get(f"/api/people/{DEMO}", headers=h).get_json()
    d = client.post(f"/api/people/{DEMO}/cv/{key}/decision", headers=h, json={"decision": "accept", "level": 5})
    assert d.status_code == 200 and d.get_json()["new"] == "accepted" and d.get_json()["user"] == DEMO_USER
    after = client.get(f"/api/people/{DEMO}", headers=h).get_json()
    comp = next(c for c in after["competencies"] if c["notation"] == s["notation"])
    assert comp["level"] == 5 and any(e["source"] == "portfolio" for e in comp["evidence"])
    assert after["summary"]["evidence"] == before["summary"]["evidence"] + 1
    # rejecting it again removes the evidence
    client.post(f"/api/people/{DEMO}/cv/{key}/decision", headers=h, json={"decision": "reject"})
    again = client.get(f"/api/people/{DEMO}", headers=h).get_json()
    assert again["summary"]["evidence"] == before["summary"]["evidence"]
    bad = client.post(f"/api/people/{DEMO}/cv/{key}/decision", headers=h, json={"decision": "maybe"})
    assert bad.status_code == 400
    r = client.post(f"/api/people/{DEMO}/cv/nope/decision", headers=h, json={"decision": "accept"})
    assert r.status_code == 404


def test_two_cv_uploads_at_once_both_stay(app, auth, word_linker):
    h = auth("viewer", name=DEMO_USER)
    old = app.test_client().get(f"/api/people/{DEMO}/cv", headers=h).get_json()["suggestions"]
    before, top = len(old), max((x["version"] for x in old), default=0)
    codes = []

    def go(text):
        r = app.test_client().post(f"/api/people/{DEMO}/cv", headers=h, data={"file": (io.BytesIO(text), "cv.txt")},
                                   content_type="multipart/form-data")
        codes.append((r.status_code, len(r.get_json().get("suggestions", []))))
    texts = [CV, CV.replace(b"Directed", b"Coordinated")]
    ts = [threading.Thread(target=go, args=(t,)) for t in texts]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert [c for c, _ in codes] == [201, 201]
    after = app.test_client().get(f"/api/people/{DEMO}/cv", headers=h).get_json()["suggestions"]
    assert len(after) == before + sum(n for _, n in codes)
    assert {x["version"] for x in after} - {x["version"] for x in old} == {top + 1, top + 2}  # one each


def test_concurrent_cv_decisions_leave_one_status(app, client, auth):
    from service.extensions import gapmap
    h = auth("committee")
    listed = client.get(f"/api/people/{DEMO}/cv", headers=h).get_json()["suggestions"]
    if not listed:
        pytest.skip("no CV suggestion to decide on")
    key = listed[-1]["key"]
    codes = []

    def go(decision):
        c = app.test_client()
        r = c.post(f"/api/people/{DEMO}/cv/{key}/decision", headers=h, json={"decision": decision})
        codes.append(r.status_code)
    ts = [threading.Thread(target=go, args=(d,)) for d in ("accept", "reject", "accept", "reject")]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert codes == [200] * 4
    with app.app_context():
        from rdflib import URIRef

        from ontology.vocab import GM
        ws = gapmap()
        g = ws.store.graph(ws.ids.graph("cv", DEMO))
        s = next(x for x in g.subjects(GM.evidenceStatus, None) if str(x).endswith(key))
        assert len(list(g.objects(URIRef(s), GM.evidenceStatus))) == 1


def test_pages_profile_plan_mentoring_pipeline(app, client, auth):
    r = client.get("/people")
    assert r.status_code == 302 and "/signin" in r.headers["Location"]
    assert client.get(f"/people/{DEMO}").status_code == 302
    h = auth("committee")
    people = client.get("/people", headers=h)
    assert people.status_code == 200 and b"Dr. Rosa Reyes" in people.data
    me = auth("viewer", name=DEMO_USER)
    page = client.get(f"/people/{DEMO}?role=program-director", headers=me)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="role-picker"' in html and 'value="program-director" selected' in html
    assert 'data-kind="track_change"' in html and 'data-kind="advancement"' in html
    assert 'id="competencies"' in html and "stale" in html
    plan = client.get(f"/people/{DEMO}/plan?role=program-director&objective=cost", headers=me)
    html = plan.get_data(as_text=True)
    assert plan.status_code == 200 and 'id="plan-items"' in html and 'data-item="' in html
    assert 'id="mentor"' in html and "covers" in html
    m = client.get("/mentoring?mode=full", headers=h).get_data(as_text=True)
    assert 'id="matches"' in m and m.count("data-mentee=") >= 10
    p = client.get("/pipeline", headers=h).get_data(as_text=True)
    assert 'data-role="intern"' in p and "no partner" in p
    assert client.get("/mentoring", headers=auth("viewer")).status_code == 403


def test_matched_mentor_may_read_the_mentee(app, client, auth):
    h = auth("committee")
    saved = client.post("/api/mentoring/match", headers=h, json={"mode": "full"}).get_json()
    m = saved["matches"][0]
    people = {p["id"]: p for p in client.get("/api/people", headers=h).get_json()["people"]}
    from service.extensions import gapmap
    with app.app_context():
        from ontology.careers import people as all_people
        usernames = {p.id: p.username for p in all_people(gapmap().store).values()}
    mentor_h = auth("viewer", name=usernames[m["mentor"]])
    assert client.get(f"/api/people/{m['mentee']}", headers=mentor_h).status_code == 200
    other = next(pid for pid in people if pid not in (m["mentee"], m["mentor"]) and
                 not any(x["mentee"] == pid and x["mentor"] == m["mentor"] for x in saved["matches"]))
    assert client.get(f"/api/people/{other}", headers=mentor_h).status_code == 403
    # a mentor may read, not decide on the mentee's CV
    r = client.post(f"/api/people/{m['mentee']}/cv/x/decision", headers=mentor_h, json={"decision": "accept"})
    assert r.status_code == 403


def test_cli_profile_plan_match_pipeline(tmp_path):
    import json as _json

    from click.testing import CliRunner

    from service.cli import main
    runner = CliRunner()
    store = ["--store", str(tmp_path / "store")]
    data = ROOT / "data"
    for loader, path, opts in [
            ("framework-csv", "framework/hpc.csv", ["id=hpc", "title=HPC"]),
            ("curriculum-csv", "curriculum/md.csv", ["framework=hpc"]),
            ("roles-csv", "roles/roles.csv", ["id=pathways", "framework=hpc"]),
            ("people-csv", "people/people.csv", []),
            ("catalogue-csv", "catalogue/catalogue.csv", ["framework=hpc"]),
            ("demand-csv", "workforce/northlake-demand.csv", ["id=northlake"])]:
        r = runner.invoke(main, [*store, "load", loader, str(data / path), *[x for o in opts for x in ("-o", o)]])
        assert r.exit_code == 0, r.output
    ev = tmp_path / "ev.csv"
    ev.write_text("person_id,competency,level,source,date\np030,LTR1,3,supervisor,2026-01-05\n"
                  "p055,LTR1,5,supervisor,2026-01-05\np055,LTR2,5,supervisor,2026-01-05\n")
    assert runner.invoke(main, [*store, "load", "evidence-csv", str(ev), "-o", "framework=hpc"]).exit_code == 0
    r = runner.invoke(main, [*store, "profile", DEMO])
    assert r.exit_code == 0 and "LTR1" in r.output and "Dr. Rosa Reyes" in r.output
    r = runner.invoke(main, [*store, "plan", DEMO, "program-director", "--objective", "cost"])
    assert r.exit_code == 0 and "attending → clinician-educator → program-director" in r.output
    r = runner.invoke(main, [*store, "plan", DEMO, "program-director", "--json"])
    assert _json.loads(r.output)["plan"]["items"]
    r = runner.invoke(main, [*store, "match", "--mode", "full", "--json"])
    assert r.exit_code == 0 and _json.loads(r.output)["summary"]["matched"] > 0
    r = runner.invoke(main, [*store, "pipeline"])
    assert r.exit_code == 0 and "intern" in r.output
    r = runner.invoke(main, [*store, "plan", DEMO, "astronaut"])
    assert r.exit_code == 4 and "not loaded" in r.output


def test_nav_offers_only_the_pages_a_role_may_open(client, auth):
    viewer = client.get("/roles", headers=auth("viewer")).get_data(as_text=True)
    chair = client.get("/roles", headers=auth("committee")).get_data(as_text=True)
    for href in ('href="/people"', 'href="/mentoring"', 'href="/pipeline"'):
        assert href not in viewer and href in chair, href
