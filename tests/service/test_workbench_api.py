"""The committee's workbench over HTTP: progression, health, crosswalks, drafts, stages, versions."""
from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
MINI = TESTS / "fixtures" / "mini"


@pytest.fixture
def loaded(app):
    from service.extensions import gapmap
    with app.app_context():
        gapmap().load_manifest(MINI / "manifest.json")
    from tests.conftest import signed_client
    return signed_client(app, "viewer")  # reads as a viewer; writes send their own role's token


def test_progression_and_health(loaded, auth):
    body = loaded.get("/api/programs/mini/progression?mastery_level=2", headers=auth("viewer")).get_json()
    pc2 = next(c for c in body["competencies"] if c["notation"] == "PC2")
    assert pc2["introduced"] == {"course": "MED-101", "year": 1, "level": 2} and pc2["mastered"]["course"] == "MED-101"
    assert body["summary"]["flags"]["taught_once"] == 3
    r = loaded.get("/api/programs/mini/progression?role=resident&stage=all", headers=auth("viewer"))
    assert r.status_code == 200 and next(c for c in r.get_json()["competencies"] if c["notation"] == "PC2")[
        "required_level"] == 4
    assert loaded.get("/api/programs/mini/progression?mastery_level=9").status_code == 400
    assert loaded.get("/api/programs/mini/progression?stage=someday").get_json()["field"] == "stage"
    assert loaded.get("/api/programs/nope/progression").status_code == 404
    h = loaded.get("/api/programs/mini/health?checks=unmapped_objectives,broken_chains", headers=auth("viewer"))
    assert h.status_code == 200
    checks = {c["name"]: c for c in h.get_json()["checks"]}
    assert [f["objective"] for f in checks["unmapped_objectives"]["findings"]] == ["O5"]
    assert checks["broken_chains"]["count"] == 0
    bad = loaded.get("/api/programs/mini/health?checks=vibes")
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"


def test_readiness_and_gaps_by_stage(loaded, auth):
    r = loaded.get("/api/programs/mini/readiness/intern").get_json()
    assert r["stage"] == "graduation"
    assert loaded.get("/api/programs/mini/readiness/intern?stage=all").get_json()["stage"] is None
    assert loaded.get("/api/programs/mini/gaps?role=intern&stage=nope").status_code == 400
    assert r["applicable"] is True and r["note"] is None and r["summary"]["essential"]["ready_pct"] is not None


def test_readiness_at_a_stage_without_requirements_is_not_applicable(loaded, app, tmp_path):
    """Finding #9: nothing required at the stage → ready_pct null and a note, never 0.0 %."""
    from loaders import Source
    from service.extensions import gapmap
    p = tmp_path / "roles.csv"
    p.write_text("role_id,title,track,competency,required_level,relation,stage\n"
                 "educator,Clinician educator,teaching,PC1,2,essential,graduation\n"
                 "educator,Clinician educator,teaching,CM2,2,optional,graduation\n")
    with app.app_context():
        gapmap().load("roles-csv", Source.from_path(p), {"id": "staged", "framework": "mini"})
    r = loaded.get("/api/programs/mini/readiness/educator?stage=end_of_residency").get_json()
    assert r["requirements"] == [] and r["applicable"] is False
    assert r["summary"]["essential"]["required"] == 0 and r["summary"]["essential"]["ready_pct"] is None
    assert r["summary"]["optional"]["ready_pct"] is None
    assert "no requirements at this stage (end_of_residency)" in r["note"]
    g = loaded.get("/api/programs/mini/readiness/educator?stage=graduation").get_json()
    assert g["applicable"] is True and g["summary"]["essential"]["ready_pct"] is not None


def test_changes_on_a_fresh_install_and_between_saved_reports(loaded, auth):
    r = loaded.get("/api/programs/mini/changes")
    assert r.status_code == 200
    body = r.get_json()
    assert body["changes"] == [] and body["since"] is None and "no saved report" in body["note"]
    assert loaded.get("/api/programs/nope/changes").status_code == 404
    # two drafts applied one after the other leave two saved reports to compare
    for name, op in (("a", {"op": "set_level", "id": "O1", "level": 3}),
                     ("b", {"op": "add_objective", "course": "MED-101", "id": "O8", "text": "Break bad news.",
                            "competencies": ["CM1"]})):
        assert loaded.post("/api/programs/mini/drafts", json={"name": name}, headers=auth("committee")).status_code == 201
        assert loaded.post(f"/api/drafts/{name}/edits", json=op, headers=auth("committee")).status_code == 200
        assert loaded.post(f"/api/drafts/{name}/apply", headers=auth("committee")).status_code == 200
    snaps = loaded.get("/api/programs/mini/changes?list=1").get_json()["snapshots"]
    assert len(snaps) == 2
    newest, oldest = snaps[0]["report"], snaps[1]["report"]
    cmp = loaded.get(f"/api/programs/mini/changes?since={oldest.rsplit('/', 1)[-1]}&until={newest.rsplit('/', 1)[-1]}")
    assert cmp.status_code == 200
    # between the two snapshots draft "a" raised O1's level: PC1's level changed, not its status or counts
    assert cmp.get_json()["changes"] == []
    now = loaded.get("/api/programs/mini/changes").get_json()
    assert [(c["notation"], c["after"]) for c in now["changes"] if c["kind"] == "status"] == [("CM1", "taught_not_assessed")]
    assert loaded.get("/api/programs/mini/changes?since=x&until=y").status_code == 404
    assert loaded.get("/api/programs/mini/changes?until=y").status_code == 400


def test_draft_flow(loaded, auth):
    c = auth("committee", name="chair")
    assert loaded.post("/api/programs/mini/drafts", json={"name": "plan"}, headers=c).status_code == 201
    assert loaded.post("/api/programs/mini/drafts", json={"name": "plan"}, headers=c).status_code == 409
    assert loaded.post("/api/programs/mini/drafts", json={"name": "../x"}, headers=c).get_json()["field"] == "name"
    r = loaded.post("/api/drafts/plan/edits", headers=c, json={"edits": [
        {"op": "add_course", "code": "MED-301", "title": "Palliative care", "year": 3},
        {"op": "add_objective", "course": "MED-301", "id": "O9", "text": "Break bad news using SPIKES.", "level": 3,
         "competencies": ["CM1"]}]})
    assert r.status_code == 200 and r.get_json()["edits"] == 2
    bad = loaded.post("/api/drafts/plan/edits", headers=c, json={"op": "set_level", "id": "O1", "level": 0})
    assert bad.status_code == 400 and bad.get_json()["field"] == "level"
    cmp = loaded.get("/api/drafts/plan/compare").get_json()
    row = next(x for x in cmp["competencies"] if x["notation"] == "CM1")
    assert (row["today"], row["draft"], row["changed"]) == ("not_taught", "taught_not_assessed", True)
    live = loaded.get("/api/programs/mini/gaps").get_json()
    assert next(x for x in live["competencies"] if x["notation"] == "CM1")["status"] == "not_taught"
    dg = loaded.get("/api/drafts/plan/gaps").get_json()
    assert next(x for x in dg["competencies"] if x["notation"] == "CM1")["courses"] == ["MED-301"]
    # the draft is invisible to SPARQL over the live store
    q = "ASK { ?o <http://www.w3.org/2004/02/skos/core#notation> \"O9\" }"
    assert loaded.get("/sparql", query_string={"query": q}, headers={"Accept": "application/sparql-results+json"}
                      ).get_json()["boolean"] is False
    # ... and visible to SPARQL over the draft, read-only
    r = loaded.get("/api/drafts/plan/sparql", query_string={"query": q}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.get_json()["boolean"] is True
    sel = loaded.post("/api/drafts/plan/sparql", data={"query": "SELECT ?c WHERE { ?c a gm:Course } ORDER BY ?c",
                                                       "format": "csv"})
    assert sel.status_code == 200 and "MED-301" in sel.get_data(as_text=True)
    assert loaded.post("/api/drafts/plan/sparql", data={"update": "DROP ALL"}).status_code == 400
    assert loaded.get("/api/drafts/plan/sparql", query_string={"query": "INSERT DATA { <a:b> <a:c> <a:d> }"}
                      ).status_code == 400
    assert loaded.get("/api/drafts/plan/sparql", query_string={
        "query": "ASK { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?g), '/graph/results/')) }"},
        headers={"Accept": "application/sparql-results+json"}).get_json()["boolean"] is False  # no private data
    assert [d["name"] for d in loaded.get("/api/programs/mini/drafts").get_json()["drafts"]] == ["plan"]
    ap = loaded.post("/api/drafts/plan/apply", headers=c)
    assert ap.status_code == 200 and ap.get_json()["applied_by"] == "chair"
    live = loaded.get("/api/programs/mini/gaps").get_json()
    assert next(x for x in live["competencies"] if x["notation"] == "CM1")["status"] == "taught_not_assessed"
    assert loaded.get("/api/drafts/plan").status_code == 404
    assert loaded.post("/api/programs/mini/drafts", json={"name": "tmp"}, headers=c).status_code == 201
    assert loaded.delete("/api/drafts/tmp", headers=c).status_code == 204
    assert loaded.delete("/api/drafts/tmp", headers=c).status_code == 404


def test_crosswalk_flow(loaded, auth, app):
    from loaders import Source
    from service.extensions import gapmap
    with app.app_context():
        gapmap().load("framework-csv", Source.from_path(TESTS / "fixtures" / "crosswalk" / "framework-b.csv"),
                      {"id": "xb", "title": "Framework B", "version": "1"})
    c = auth("committee", name="chair")
    r = loaded.post("/api/crosswalks", json={"source": "mini", "target": "xb", "top_k": 1}, headers=c)
    assert r.status_code == 201 and r.get_json()["suggestions"] == 6
    assert loaded.post("/api/crosswalks", json={"source": "mini", "target": "mini"}, headers=c).status_code == 400
    assert loaded.post("/api/crosswalks", json={"source": "mini", "target": "zz"}, headers=c).status_code == 404
    assert loaded.post("/api/crosswalks", json={"source": "mini", "target": "xb", "top_k": 99},
                       headers=c).get_json()["field"] == "top_k"
    body = loaded.get("/api/crosswalks/mini/xb").get_json()
    assert body["counts"]["suggested"] == 6
    pc1 = next(m for m in body["mappings"] if m["source_notation"] == "PC1")
    assert pc1["target_notation"] == "X1"
    d = loaded.post(f"/api/crosswalks/mini/xb/mappings/{pc1['id']}/decision", headers=c,
                    json={"decision": "accept", "relation": "exact"})
    assert d.status_code == 200 and d.get_json()["user"] == "chair" and d.get_json()["relation"] == "exact"
    assert loaded.post(f"/api/crosswalks/mini/xb/mappings/{pc1['id']}/decision", headers=c,
                       json={"decision": "accept", "relation": "cousin"}).get_json()["field"] == "relation"
    assert loaded.get("/api/crosswalks").get_json()["crosswalks"][0]["accepted"] == 1
    via = loaded.get("/api/programs/mini/gaps?framework=xb&via=mini").get_json()
    st = {x["notation"]: x["status"] for x in via["competencies"]}
    assert st["X1"] == "covered" and st["X3"] == "not_taught" and via["summary"]["via"] == "mini"
    csv = loaded.get("/api/programs/mini/gaps?framework=xb&via=mini&format=csv")
    assert csv.status_code == 200 and "X1" in csv.get_data(as_text=True)
    assert loaded.get("/api/programs/mini/gaps?framework=xb&via=zz").status_code == 404


def test_pages(loaded, auth):
    c = auth("committee", name="chair")
    page = loaded.get("/programs/mini/progression?mastery_level=2").get_data(as_text=True)
    assert 'id="progression"' in page and 'data-competency="PC2"' in page and "taught once" in page
    flagged = loaded.get("/programs/mini/progression?flag=taught_once").get_data(as_text=True)
    assert 'data-competency="PC1"' in flagged and 'data-competency="PC2"' not in flagged
    h = loaded.get("/programs/mini/health?duplicates=0").get_data(as_text=True)
    assert 'id="unmapped_objectives"' in h and "O5" in h
    assert loaded.get("/crosswalks").status_code == 200
    assert loaded.get("/programs/mini/drafts").status_code == 200
    loaded.post("/api/programs/mini/drafts", json={"name": "p1"}, headers=c)
    loaded.post("/api/drafts/p1/edits", json={"op": "add_objective", "course": "MED-101", "id": "O8",
                                             "text": "Break bad news.", "competencies": ["CM1"]}, headers=c)
    d = loaded.get("/drafts/p1").get_data(as_text=True)
    assert 'data-competency="CM1" data-changed="1"' in d and 'data-competency="PC1" data-changed="0"' in d
    hm = loaded.get("/programs/mini?draft=p1").get_data(as_text=True)
    assert 'class="comp-row changed" data-competency="CM1"' in hm and "draft-banner" in hm
    live = loaded.get("/programs/mini").get_data(as_text=True)
    assert 'data-competency="CM1" data-status="not_taught"' in live and "changed" not in live.split('id="heatmap"')[1]
    assert loaded.get("/programs/mini?draft=nope").status_code == 404
    # summary tiles and "only gaps" filter rows; a role shows only its requirements
    only = loaded.get("/programs/mini?status=not_taught").get_data(as_text=True)
    assert 'data-competency="CM1"' in only and 'class="comp-row" data-competency="PC1"' not in only
    gaps = loaded.get("/programs/mini?gaps=1").get_data(as_text=True)
    assert 'data-status="covered"' not in gaps.split('id="heatmap"')[1]
    role = loaded.get("/programs/mini?role=intern").get_data(as_text=True).split('id="heatmap"')[1]
    assert 'data-competency="PC1"' in role and 'data-competency="CM1"' not in role
    assert 'data-competency="CM1"' in loaded.get("/programs/mini?role=intern&all=1").get_data(as_text=True)
    # cells open their objectives (keyboard reachable)
    assert 'tabindex="0" role="button" data-objectives="O1"' in live
    # not taught with a year filter says where
    assert "Not taught in year 2" in loaded.get("/programs/mini?year=2").get_data(as_text=True)


def test_upload_without_objectives_creates_no_course(loaded, auth):
    import io
    r = loaded.post("/api/programs/mini/courses/NEW-999/syllabus", headers=auth("committee"),
                    data={"file": (io.BytesIO(b"Welcome to the course. Lunch is at noon."), "empty.txt"), "year": "2"},
                    content_type="multipart/form-data")
    assert 400 <= r.status_code < 500 and "no learning objectives" in r.get_json()["detail"]
    courses = [c["code"] for c in loaded.get("/api/programs/mini/courses").get_json()["courses"]]
    assert "NEW-999" not in courses


def test_bulk_accept_acts_only_on_the_shown_suggestions(loaded, auth, app):
    from rdflib import Literal
    from rdflib.namespace import XSD

    from ontology.vocab import GM, RDF, SUGGESTED
    from service.extensions import gapmap
    with app.app_context():
        ws = gapmap()
        g = ws.ids.graph("alignments", "mini")
        quads, keys = [], {}
        for oid, comp, p in (("O5", "CM1", "0.9"), ("O5", "PC3", "0.95"), ("O1", "CM2", "0.3")):
            a = ws.ids.alignment(oid, str(ws.ids.concept("mini", comp)))
            keys[(oid, comp)] = str(a).rsplit("/", 1)[-1]
            quads += [(a, RDF.type, GM.Alignment, g), (a, GM.alignedObjective, ws.ids.objective(oid), g),
                      (a, GM.alignedCompetency, ws.ids.concept("mini", comp), g), (a, GM.status, SUGGESTED, g),
                      (a, GM.method, GM.EmbeddingMethod, g), (a, GM.expectedPrecision, Literal(p, datatype=XSD.decimal), g),
                      (a, GM.score, Literal("0.7", datatype=XSD.decimal), g)]
        ws.store.apply(delete=[], insert=quads)
    url = "/api/programs/mini/review/bulk-accept-shown"
    shown = [keys[("O5", "CM1")], keys[("O1", "CM2")]]  # PC3's suggestion is not on "the page"
    pv = loaded.post(url, json={"alignments": shown, "min_precision": 0.8, "preview": True}, headers=auth("committee"))
    assert pv.status_code == 200
    body = pv.get_json()
    assert [a["alignment"] for a in body["accept"]] == [keys[("O5", "CM1")]] and body["accepted"] == 0
    assert body["skipped"][0]["reason"].startswith("precision below")
    done = loaded.post(url, json={"alignments": shown, "min_precision": 0.8}, headers=auth("committee")).get_json()
    assert done["accepted"] == 1
    q = {a["id"]: a["status"] for o in loaded.get("/api/programs/mini/review?status=all").get_json()["objectives"]
         for a in o["alignments"]}
    assert q[keys[("O5", "CM1")]] == "accepted" and q[keys[("O5", "PC3")]] == "suggested"
    assert q[keys[("O1", "CM2")]] == "suggested"
    again = loaded.post(url, json={"alignments": shown, "min_precision": 0.8}, headers=auth("committee")).get_json()
    assert again["accepted"] == 0 and {s["reason"] for s in again["skipped"]} >= {"already decided"}
    bad = loaded.post(url, json={"alignments": ["../x"], "min_precision": 0.8}, headers=auth("committee"))
    assert bad.status_code == 400 and bad.get_json()["field"] == "alignments"


def test_roll_over_keeps_a_version_to_compare_with(loaded, auth):
    c = auth("committee", name="chair")
    r = loaded.post("/api/programs/mini/versions", json={"name": "2025-26"}, headers=c)
    assert r.status_code == 201 and r.get_json()["frozen"] is True
    # next year's curriculum changes (through a draft); the kept version still says how it was
    loaded.post("/api/programs/mini/drafts", json={"name": "next"}, headers=c)
    loaded.post("/api/drafts/next/edits", json={"op": "add_objective", "course": "MED-101", "id": "O8",
                                               "text": "Break bad news.", "competencies": ["CM1"]}, headers=c)
    assert loaded.post("/api/drafts/next/apply", headers=c).status_code == 200
    cmp = loaded.get("/api/versions/2025-26/compare").get_json()
    cm1 = next(x for x in cmp["competencies"] if x["notation"] == "CM1")
    assert (cm1["today"], cm1["draft"]) == ("taught_not_assessed", "not_taught")  # "draft" = the saved version
    assert [v["name"] for v in loaded.get("/api/programs/mini/versions").get_json()["versions"]] == ["2025-26"]
    assert loaded.get("/api/programs/mini/drafts").get_json()["drafts"] == []  # versions are not drafts
    assert loaded.post("/api/drafts/2025-26/edits", json={"op": "set_level", "id": "O1", "level": 2},
                       headers=c).status_code == 409
    assert loaded.post("/api/drafts/2025-26/apply", headers=c).status_code == 409
    assert loaded.get("/api/versions/next/compare").status_code == 404
    page = loaded.get("/drafts/2025-26").get_data(as_text=True)
    assert "Version <code>2025-26</code>" in page and "draft-apply" not in page and "draft-edit" not in page
    assert 'href="/drafts/2025-26"' in loaded.get("/programs/mini/drafts").get_data(as_text=True)


def test_cli(tmp_path):
    import json

    from click.testing import CliRunner

    from service.cli import main
    store = ["--store", str(tmp_path / "store")]
    r = CliRunner().invoke(main, [*store, "init", "--data", str(MINI), "--no-align"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, [*store, "progression", "mini", "--mastery-level", "2"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["summary"]["flags"]["taught_once"] == 3
    r = CliRunner().invoke(main, [*store, "health", "mini", "--no-duplicates"])
    assert r.exit_code == 0 and json.loads(r.output)["summary"]["unmapped_objectives"] == 1
    r = CliRunner().invoke(main, [*store, "crosswalk", "mini", "nope"])
    assert r.exit_code != 0 and "nope" in r.output


def test_course_title_year_and_objective_level_are_editable(loaded, auth):
    c = auth("committee", name="chair")
    r = loaded.patch("/api/programs/mini/courses/MED-201", json={"title": "Clerkship: Medicine", "year": 3}, headers=c)
    assert r.status_code == 200 and r.get_json()["year"] == {"from": 2, "to": 3} and r.get_json()["user"] == "chair"
    courses = {x["code"]: x for x in loaded.get("/api/programs/mini/courses").get_json()["courses"]}
    assert (courses["MED-201"]["title"], courses["MED-201"]["year"]) == ("Clerkship: Medicine", 3)
    r = loaded.patch("/api/objectives/O3", json={"level": 4}, headers=c)
    assert r.status_code == 200 and r.get_json()["level"] == {"from": 2, "to": 4}
    gaps = loaded.get("/api/programs/mini/gaps").get_json()
    assert next(x for x in gaps["competencies"] if x["notation"] == "PC2")["level_reached"] == 4
    for url, body, field in (("/api/programs/mini/courses/MED-201", {"year": 11}, "year"),
                             ("/api/programs/mini/courses/MED-201", {}, "title"),
                             ("/api/objectives/O3", {"level": "high"}, "level")):
        bad = loaded.patch(url, json=body, headers=c)
        assert bad.status_code == 400 and bad.get_json()["field"] == field
    assert loaded.patch("/api/programs/mini/courses/NOPE-1", json={"year": 1}, headers=c).status_code == 404
    assert loaded.patch("/api/objectives/NOPE", json={"level": 1}, headers=c).status_code == 404
    loaded.post("/signin", data={"user": "chair"})  # the review page needs a signed-in reviewer
    page = loaded.get("/programs/mini/review?course=MED-201&status=all", headers=c).get_data(as_text=True)
    assert 'data-wb-form="course-edit"' in page and 'value="Clerkship: Medicine"' in page
    assert 'value="4" data-edit-level="O3"' in page
    # PROV of the edits in the reviews graph
    q = 'SELECT (COUNT(?a) AS ?n) WHERE { ?a a gm:CurriculumEdit ; prov:wasAssociatedWith/rdfs:label "chair" }'
    n = loaded.get("/sparql", query_string={"query": q}, headers={"Accept": "application/sparql-results+json"}).get_json()
    assert n["results"]["bindings"][0]["n"]["value"] == "2"


def test_gap_report_echoes_every_filter_and_its_basis(loaded):
    """Finding #10: `filters` holds stage (and via), `basis` says what the counts are over."""
    r = loaded.get("/api/programs/mini/gaps?role=intern&stage=end_of_residency&year=1").get_json()
    assert r["filters"] == {"year": 1, "course": None, "role": "intern", "include_suggestions": None,
                            "stage": "end_of_residency", "via": None}
    b = r["basis"]
    assert b["scope"] == "framework" and b["competencies"] == r["summary"]["competencies"] == len(r["competencies"])
    assert b["role_required"] == 3 == sum(1 for c in r["competencies"] if c["required_level"] is not None)
    assert "all 6 competencies of framework mini" in b["note"] and "role intern requires 3" in b["note"]
    plain = loaded.get("/api/programs/mini/gaps").get_json()
    assert plain["filters"]["stage"] == "graduation" and plain["basis"]["role_required"] is None
