"""The typed catalogue and report reads (ontology/read/catalog.py, reports.py) on the bundled data."""
from __future__ import annotations

from pathlib import Path

import pytest

from ontology.errors import NotFound
from ontology.gaps import gap_report as compute_gap_report
from ontology.read import catalog, reports
from service.config import Config
from service.workspace import Workspace

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    cfg = Config()
    cfg.STORE_PATH, cfg.CACHE_DIR = "", str(tmp_path_factory.mktemp("cache"))
    w = Workspace.from_config(cfg)
    w.load_manifest(DATA / "manifest.json")
    return w


def test_frameworks_and_their_competencies(ws):
    [hpc] = [f for f in catalog.frameworks(ws.store) if f.id == "hpc"]
    comps = catalog.framework_competencies(ws.store, "hpc")
    assert hpc.version == "2026.1" and hpc.competencies == len({c.comp for c in comps})
    assert hpc.domains == len({c.domainNotation for c in comps if c.domainNotation})
    pc1 = next(c for c in comps if c.notation == "PC1")
    assert pc1.label == "History taking" and "Anamnesis" in pc1.alt_labels
    assert pc1.to_dict()["alt_labels"] == list(pc1.alt_labels) and pc1.to_dict()["iri"] == pc1.comp
    assert catalog.framework_competencies(ws.store, "hpc", q="anamnesis") == [pc1]
    assert catalog.framework_competencies(ws.store, "nope") == []
    assert {f.id for f in catalog.framework_ids(ws.store)} >= {"hpc"}


def test_search_and_competency_detail(ws):
    hits = catalog.search_competencies(ws.store, "history")
    assert any(h.notation == "PC1" for h in hits)
    assert catalog.search_competencies(ws.store, "history", framework="nope") == []
    c = catalog.competency(ws.store, "hpc", "PC1")
    assert c is not None and c.label == "History taking" and c.fwTitle
    assert catalog.competency(ws.store, "hpc", "NOPE") is None
    teaching = catalog.competency_teaching(ws.store, c.comp)
    assert any(t.oid == "MED101-03" and t.method_name == "curator" for t in teaching)
    assert [t.status_name != "accepted" for t in teaching] == sorted(t.status_name != "accepted" for t in teaching)
    milestones = catalog.competency_milestones(ws.store, c.comp)
    assert [m.rank for m in milestones] == sorted(m.rank for m in milestones) and milestones


def test_programs_courses_assessments(ws):
    [md] = catalog.programs(ws.store)
    courses = catalog.program_courses(ws.store, "md")
    assert md.id == "md" and md.fw == "hpc" and md.courses == len(courses) == 30
    assert catalog.program_framework(ws.store, "md") == "hpc"
    with pytest.raises(NotFound):
        catalog.program_framework(ws.store, "nope")
    by_year = catalog.courses_by_year(courses)
    assert [y for y, _ in by_year] == sorted({c.year for c in courses})
    assert all([c.code for c in cs] == sorted(c.code for c in cs) for _, cs in by_year)
    assert courses[0].to_dict() == {"iri": courses[0].course, "code": courses[0].code, "title": courses[0].title,
                                    "year": courses[0].year}
    course = catalog.course(ws.store, "MED-101")
    assert course is not None and course.pid == "md" and course.year == 1
    assessments = catalog.program_assessments(ws.store, ws.ids.program("md"))
    osce = next(a for a in assessments if a.aid == "MED101-OSCE1")
    assert osce.code == "MED-101" and osce.to_dict()["kind"] == "OSCEStation"
    obj = catalog.objective(ws.store, ws.ids.objective("MED101-03"))
    assert obj is not None and obj.code == "MED-101" and obj.pid == "md"
    assert catalog.objective_course(ws.store, ws.ids.objective("MED101-03")) == "MED-101"
    assert catalog.objective_course(ws.store, ws.ids.objective("nope")) == ""


def test_roles_and_requirements(ws):
    roles = {r.id: r for r in catalog.roles(ws.store)}
    intern = roles["intern"]
    assert set(intern.next_ids) <= set(roles) and intern.to_dict()["next"] == list(intern.next_ids)
    assert intern.to_dict()["track"].endswith("Track") and intern.track_name
    reqs = catalog.role_requirements(ws.store, "intern")
    assert reqs and {r.to_dict()["relation"] for r in reqs} <= {"essential", "optional"}
    assert all(r.fw == "hpc" and r.level for r in reqs)
    assert catalog.role_requirements(ws.store, "nope") == []


def test_one_report_path(ws):
    rep = reports.gap_report(ws.store, ws.ids, "md")  # the program's own framework, cached
    assert rep.framework == "hpc"
    assert rep.to_dict() == compute_gap_report(ws.store, ws.ids, "md", "hpc").to_dict()
    assert reports.gap_report(ws.store, ws.ids, "md") is rep  # served from the cache while unchanged
    year1 = reports.gap_report(ws.store, ws.ids, "md", "hpc", year=1, cached=False)
    assert year1.to_dict() == compute_gap_report(ws.store, ws.ids, "md", "hpc", year=1).to_dict()
    assert reports.gap_report(ws.store, ws.ids, "md", via="hpc").to_dict() == rep.to_dict()  # via itself
    with pytest.raises(Exception) as e:
        reports.gap_report(ws.store, ws.ids, "md", via="bad id!")
    assert getattr(e.value, "status", None) == 400
    statuses = reports.competency_statuses(ws.store, ws.ids, "hpc", catalog.competency(ws.store, "hpc", "PC1").comp)
    assert [p.id for p, _ in statuses] == ["md"] and statuses[0][1].notation == "PC1"


def test_report_changes_entry_points(ws):
    assert reports.saved_reports(ws.store, ws.ids, "md") == []  # one load: nothing saved before a reload yet
    first = reports.report_changes(ws.store, ws.ids, "md")
    assert first["program"] == "md"
    with pytest.raises(reports.ChangesError) as e:
        reports.report_changes(ws.store, ws.ids, "md", until="x")
    assert e.value.status == 400
    with pytest.raises(NotFound):
        reports.report_changes(ws.store, ws.ids, "nope")
    with pytest.raises(NotFound):
        reports.saved_reports(ws.store, ws.ids, "nope")
    rd = reports.readiness(ws.store, ws.ids, "md", "intern")
    assert rd.to_dict()["role"] == "intern" and rd.items
