"""Careers loaders: people, evidence, milestone ratings, credentials, catalogue CSV, Open Badges 3.0, demand."""
from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from loaders import Source
from ontology.access import graph_kind, is_private
from ontology.errors import LoadError
from service.config import Config
from service.workspace import Workspace

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def base_store():
    """Framework + roles + curriculum (for demand partners), shared read-only by the tests."""
    cfg = Config()
    cfg.STORE_PATH = ""
    ws = Workspace.from_config(cfg)
    ws.load("framework-csv", Source.from_path(DATA / "framework/hpc.csv"), {"id": "hpc", "title": "HPC"})
    ws.load("curriculum-csv", Source.from_path(DATA / "curriculum/md.csv"), {"framework": "hpc"}, keep_report=False)
    ws.load("roles-csv", Source.from_path(DATA / "roles/roles.csv"), {"id": "pathways", "framework": "hpc"})
    return ws.store.dump()


@pytest.fixture
def ws(base_store):
    import pyoxigraph as ox
    cfg = Config()
    cfg.STORE_PATH = ""
    w = Workspace.from_config(cfg)
    w.store.ox.load(base_store, format=ox.RdfFormat.N_QUADS)
    return w


def src(name: str, text: str) -> Source:
    return Source(name=name, data=text.encode())


PEOPLE = """person_id,name,username,kind,department,site,track,roles,past_roles,target_roles,remote,mentor_capacity,mentor_offers
a1,Dr. Ada One,ada,clinician,Internal Medicine,North,clinical,attending,intern;resident-im,clinician-educator,yes,,
m1,Dr. Max Mentor,max,faculty,Internal Medicine,North,teaching,clinician-educator,resident-im;attending,,no,2,teaching
"""


@pytest.fixture
def people(ws):
    ws.load("people-csv", src("people.csv", PEOPLE))
    return ws


def _err(ws, loader, name, text, options=None) -> LoadError:
    with pytest.raises(LoadError) as e:
        ws.load(loader, src(name, text), options or {})
    return e.value


def test_bundled_people_and_evidence_load_into_private_graphs(ws):
    s = ws.load("people-csv", Source.from_path(DATA / "people/people.csv"))
    assert s.summary["people"] >= 60 and s.summary["mentors"] >= 15
    ws.load("catalogue-csv", Source.from_path(DATA / "catalogue/catalogue.csv"), {"framework": "hpc"})
    e = ws.load("evidence-csv", Source.from_path(DATA / "people/evidence.csv"), {"framework": "hpc"})
    m = ws.load("milestones-csv", Source.from_path(DATA / "people/milestones.csv"), {"framework": "hpc"})
    c = ws.load("credentials-csv", Source.from_path(DATA / "people/credentials.csv"), {"framework": "hpc"})
    assert e.summary["evidence"] > 500 and m.summary["evidence"] > 100 and c.summary["evidence"] >= 16
    for res in (s, e, m, c):
        assert all(is_private(ws.ids, g) for g in res.graphs)
    assert {graph_kind(ws.ids, g) for g in (*s.graphs, *e.graphs)} == {"people", "evidence"}
    # reloading replaces
    before = len(ws.store)
    ws.load("credentials-csv", Source.from_path(DATA / "people/credentials.csv"), {"framework": "hpc"})
    assert len(ws.store) == before


def test_person_attributes(people):
    rows = {r["id"]: r for r in people.store.select("people")}
    a = rows["a1"]
    assert a["username"] == "ada" and a["roles"] == "attending" and a["targets"] == "clinician-educator"
    assert set(a["pastRoles"].split(";")) == {"intern", "resident-im"}
    assert a["walkedTracks"].endswith("ClinicalTrack") and a["remote"] is True
    m = rows["m1"]
    assert m["capacity"] == 2 and m["remote"] is False
    assert {t.rsplit("#", 1)[-1] for t in m["walkedTracks"].split(";")} == {"TeachingTrack", "ClinicalTrack"}


@pytest.mark.parametrize("edit,row,column", [
    (lambda t: t.replace("attending,intern", "astronaut,intern"), 2, "roles"),
    (lambda t: t.replace(",clinical,", ",surgical,"), 2, "track"),
    (lambda t: t.replace("m1,", "a1,"), 3, "person_id"),
    (lambda t: t.replace(",max,", ",ada,"), 3, "username"),
    (lambda t: t.replace(",no,2,", ",no,many,"), 3, "mentor_capacity"),
    (lambda t: t.replace(",yes,,", ",perhaps,,"), 2, "remote"),
    (lambda t: t.replace(",clinician,", ",astronaut,"), 2, "kind"),
    (lambda t: t.replace("a1,Dr. Ada One", "a/1,Dr. Ada One"), 2, "person_id"),
])
def test_people_bad_rows(ws, edit, row, column):
    e = _err(ws, "people-csv", "people.csv", edit(PEOPLE))
    assert (e.file, e.row, e.column) == ("people.csv", row, column)
    assert not [g for g in ws.store.graph_names() if "/graph/people/" in g]  # nothing written


EVIDENCE = """person_id,competency,level,source,date,detail
a1,LTR1,3,supervisor,2025-05-01,annual review
a1,LTR2,2,self,2019-01-10,
"""


@pytest.mark.parametrize("edit,row,column", [
    (lambda t: t.replace("a1,LTR1", "zz,LTR1"), 2, "person_id"),
    (lambda t: t.replace("LTR1,3", "LTR1,6"), 2, "level"),
    (lambda t: t.replace("supervisor", "gossip"), 2, "source"),
    (lambda t: t.replace("2025-05-01", "2999-01-01"), 2, "date"),
    (lambda t: t.replace("2019-01-10", "10/01/2019"), 3, "date"),
    (lambda t: t.replace("LTR2", "XYZ9"), 3, "competency"),
])
def test_evidence_bad_rows(people, edit, row, column):
    e = _err(people, "evidence-csv", "evidence.csv", edit(EVIDENCE), {"framework": "hpc"})
    assert (e.file, e.row, e.column) == ("evidence.csv", row, column)


def test_evidence_needs_framework_and_header(people):
    assert _err(people, "evidence-csv", "e.csv", EVIDENCE).column == "framework"
    e = _err(people, "evidence-csv", "e.csv", "person_id,competency,level\na1,LTR1,3\n", {"framework": "hpc"})
    assert e.row == 1 and e.column == "source"


def test_milestones_half_levels(people):
    text = ("person_id,competency,rating,date,rater\n"
            "a1,PC3,3.5,2026-06-15,IM CCC\na1,PC4,0,2026-06-15,IM CCC\n")
    res = people.load("milestones-csv", src("m.csv", text), {"framework": "hpc"})
    assert res.summary == {"ratings": 2, "evidence": 1}  # 0 = not yet level 1: no evidence
    rows = people.store.select("person_evidence")
    pc3 = next(r for r in rows if r["notation"] == "PC3")
    assert pc3["level"] == 3 and pc3["rating"] == 3.5 and pc3["source"].endswith("MilestoneRating")
    e = _err(people, "milestones-csv", "m.csv", text.replace("3.5", "3.3"), {"framework": "hpc"})
    assert (e.row, e.column) == (2, "rating")


CATALOGUE = """item_id,title,kind,provider,format,hours,cost,competencies,description,url
TB,Teaching boot camp,course,Uni,in-person,16,450,LTR1:4;LTR2:4,Two days,
QI,QI sprint,qi-sprint,Health,on-the-job,40,0,SBP3:4,,
"""


def test_catalogue_and_credentials(people):
    res = people.load("catalogue-csv", src("cat.csv", CATALOGUE), {"framework": "hpc"})
    assert res.summary == {"opportunities": 2}
    assert graph_kind(people.ids, res.graphs[0]) == "catalogue" and not is_private(people.ids, res.graphs[0])
    text = "person_id,credential,date,title,competencies\na1,TB,2025-02-01,,\na1,ACLS,2024-01-01,ACLS,PC6.2:4\n"
    c = people.load("credentials-csv", src("cred.csv", text), {"framework": "hpc"})
    assert c.summary == {"credentials": 2, "evidence": 3}
    rows = [r for r in people.store.select("person_evidence") if r["source"].endswith("CredentialEvidence")]
    assert {(r["notation"], r["level"]) for r in rows} == {("LTR1", 4), ("LTR2", 4), ("PC6.2", 4)}
    assert any(r["derivedFrom"] and r["derivedFrom"].endswith("/opportunity/TB") for r in rows)
    e = _err(people, "credentials-csv", "cred.csv", text.replace("a1,TB", "a1,NOPE"), {"framework": "hpc"})
    assert (e.row, e.column) == (2, "credential")


def test_catalogue_item_from_a_program_course(ws):
    text = ("item_id,title,kind,hours,cost,competencies,course\n"
            "ELE-411,Student as teacher,elective,60,0,,ELE-411\n"
            "X,Own list wins,course,10,0,LTR1:2,ELE-411\n")
    ws.load("catalogue-csv", src("cat.csv", text), {"framework": "hpc"})
    dev = {}
    for r in ws.store.select("catalogue"):
        dev.setdefault(r["id"], {})[r["notation"]] = r["level"]
    # what the MD curriculum maps to the course, at the highest target level of its objectives
    assert dev["ELE-411"] == {"LTR1": 4, "LTR2": 3, "PBL5": 3}
    assert dev["X"] == {"LTR1": 2}
    e = _err(ws, "catalogue-csv", "cat.csv", text.replace(",,ELE-411", ",,NOPE-1"), {"framework": "hpc"})
    assert (e.row, e.column) == (2, "course")


@pytest.mark.parametrize("edit,row,column", [
    (lambda t: t.replace("course,Uni", "seminar,Uni"), 2, "kind"),
    (lambda t: t.replace("LTR1:4;LTR2:4", "LTR1-4"), 2, "competencies"),
    (lambda t: t.replace("LTR1:4;LTR2:4", "LTR1:7"), 2, "competencies"),
    (lambda t: t.replace(",40,0,", ",-4,0,"), 3, "hours"),
    (lambda t: t.replace(",40,0,", ",40,free,"), 3, "cost"),
    (lambda t: t.replace("on-the-job", "by-post"), 3, "format"),
    (lambda t: t.replace("SBP3:4", ""), 3, "competencies"),
    (lambda t: t.replace("QI,QI sprint", "TB,QI sprint"), 3, "item_id"),
])
def test_catalogue_bad_rows(people, edit, row, column):
    e = _err(people, "catalogue-csv", "cat.csv", edit(CATALOGUE), {"framework": "hpc"})
    assert (e.file, e.row, e.column) == ("cat.csv", row, column)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("the OB3 loader must not fetch anything")
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_open_badges_bundled(ws, no_network):
    res = ws.load("badges-ob3", Source.from_path(DATA / "catalogue/badges.jsonld"), {"framework": "hpc"})
    assert res.summary == {"opportunities": 5}
    rows = ws.store.select("catalogue")
    by = {}
    for r in rows:
        by.setdefault(r["id"], {})[r["notation"]] = r["level"]
    assert by["MEF-101"] == {"LTR1": 4, "LTR2": 4, "PBL5": 4}  # rubric level "Proficient" = 4
    assert by["QI-COACH"] == {"SBP3": 5, "IPC4": 4, "LTR5": 4}  # two result descriptions
    assert by["DX-EXCEL"] == {"PC3": 5, "PC4": 3, "PR6": 3}  # no rubric for PC4/PR6: the default level
    mef = next(r for r in rows if r["id"] == "MEF-101")
    assert mef["hours"] == 14 and mef["cost"] == 200 and mef["format"] == "online" and mef["kind"] == "micro-credential"
    assert mef["provider"] == "Riverbend School of Medicine"
    assert mef["source"] == "https://badges.riverbend.example.edu/achievements/medical-educator-foundations"


def _badge(**over):
    a = {"@context": ["https://www.w3.org/ns/credentials/v2",
                      "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
         "id": "https://b.example.org/achievements/x1", "type": ["Achievement"], "name": "X one",
         "description": "Something", "criteria": {"narrative": "Do it."},
         "alignment": [{"type": ["Alignment"], "targetName": "Teaching", "targetCode": "LTR1",
                        "targetUrl": "https://elsewhere.example.org/LTR1"}]}
    a.update(over)
    return a


def test_open_badges_credential_wrapper_and_defaults(ws, no_network):
    cred = {"@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "credentialSubject": {"type": ["AchievementSubject"], "achievement": _badge()}}
    res = ws.load("badges-ob3", src("cred.json", json.dumps(cred)), {"framework": "hpc", "level": "2"})
    assert res.summary == {"opportunities": 1}
    r = ws.store.select("catalogue")[0]
    assert (r["id"], r["notation"], r["level"], r["hours"], r["kind"]) == ("x1", "LTR1", 2, 0, "micro-credential")


@pytest.mark.parametrize("doc,column", [
    (_badge(alignment=[]), "alignment"),
    (_badge(alignment=[{"targetName": "?", "targetCode": "NOPE1"}]), "alignment[0].targetCode"),
    (_badge(name=""), "name"),
    (_badge(type=["Profile"]), "type"),
    (_badge(**{"gm:hours": "lots"}), "gm:hours"),
    (_badge(**{"gm:format": "telepathy"}), "gm:format"),
])
def test_open_badges_errors_name_the_field(ws, doc, column):
    e = _err(ws, "badges-ob3", "b.json", json.dumps([doc]), {"framework": "hpc"})
    assert e.file == "b.json"
    assert e.column.endswith(column)


def test_open_badges_not_json(ws):
    e = _err(ws, "badges-ob3", "b.json", '{"id": ', {"framework": "hpc"})
    assert e.row == 1 and "JSON" in e.message


DEMAND = "organization,role_id,year,headcount,partners\nNH,intern,2027,14,md\nNH,hospitalist,2027,8,\n"


def test_demand(ws):
    res = ws.load("demand-csv", src("d.csv", DEMAND), {"id": "nh"})
    assert res.summary == {"demand": 2}
    rows = ws.store.select("workforce_demand")
    assert {(r["rid"], r["headcount"], r["partners"]) for r in rows} == {("intern", 14, "md"), ("hospitalist", 8, None)}
    for edit, row, column in [(lambda t: t.replace("intern", "astronaut"), 2, "role_id"),
                              (lambda t: t.replace(",14,", ",0,"), 2, "headcount"),
                              (lambda t: t.replace(",md", ",dentistry"), 2, "partners"),
                              (lambda t: t.replace("hospitalist", "intern"), 3, "role_id")]:
        e = _err(ws, "demand-csv", "d.csv", edit(DEMAND), {"id": "nh"})
        assert (e.row, e.column) == (row, column)


def test_shapes_catch_what_the_loader_let_through(people):
    """SHACL is the second line: a hand-made evidence node with a level out of range is refused, nothing written."""
    from rdflib import Graph
    from rdflib.namespace import XSD

    from loaders.base import Delta
    from ontology.errors import ValidationError
    from ontology.ingest import ingest
    from ontology.vocab import GM, PROV, RDF
    d = Delta()
    g = d.graph(people.ids.graph("evidence", "hand"))
    ev = URIRef("https://example.edu/gapmap/evidence/hand/1")
    g.add((ev, RDF.type, GM.CompetencyEvidence))
    g.add((ev, GM.evidenceFor, URIRef("https://example.edu/gapmap/person/a1")))
    g.add((ev, GM.evidencedCompetency, people.ids.concept("hpc", "LTR1")))
    g.add((ev, GM.evidenceLevel, Literal(9, datatype=XSD.integer)))
    g.add((ev, GM.evidenceSource, GM.SupervisorRating))
    g.add((ev, PROV.generatedAtTime, Literal("2025-01-01", datatype=XSD.date)))
    d.origin[ev] = ("hand.csv", 2)
    d.columns[GM.evidenceLevel] = "level"
    with pytest.raises(ValidationError) as e:
        ingest(people.store, d)
    v = e.value.violations[0]
    assert (v.file, v.row, v.column) == ("hand.csv", 2, "level")
    assert str(people.ids.graph("evidence", "hand")) not in people.store.graph_names()
    _ = Graph
