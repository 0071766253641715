"""Gap report and role readiness on the small fixture program, and on the bundled data's planted gaps."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph

from ontology.errors import NotFound
from ontology.gaps import gap_report, role_readiness
from ontology.vocab import GM
from service.config import Config
from service.workspace import Workspace

TESTS = Path(__file__).resolve().parents[1]
DATA = TESTS.parent / "data"


def _ws():
    cfg = Config()
    cfg.STORE_PATH = ""
    return Workspace.from_config(cfg)


@pytest.fixture(scope="module")
def mini():
    ws = _ws()
    ws.load_manifest(TESTS / "fixtures" / "mini" / "manifest.json")
    return ws


def test_every_status_on_the_fixture(mini):
    rep = gap_report(mini.store, mini.ids, "mini", "mini", role="resident")
    status = {e.notation: e.status for e in rep.entries}
    assert status == {"PC1": "covered", "PC2": "below_required_level", "PC2.1": "taught_not_assessed",
                      "PC3": "assessed_not_taught", "CM1": "not_taught", "CM2": "taught_not_assessed"}
    pc2 = next(e for e in rep.entries if e.notation == "PC2")
    assert pc2.courses == ("MED-101", "MED-201")
    assert [a.via for a in pc2.assessed_by] == ["objective"]  # A2 assesses objective O3, aligned to PC2
    assert (pc2.level_reached, pc2.required_level, pc2.relation) == (2, 4, "essential")
    assert rep.summary["counts"]["covered"] == 1 and rep.summary["taught_pct"] == 66.7
    pc = next(d for d in rep.domains if d.domain == "PC")
    assert pc.competencies == 4 and pc.covered_pct == 25.0


def test_without_role_levels_do_not_matter(mini):
    rep = gap_report(mini.store, mini.ids, "mini", "mini")
    assert rep.by_status("covered") == ["PC1", "PC2"]


def test_year_and_course_filters(mini):
    y1 = gap_report(mini.store, mini.ids, "mini", "mini", year=1)
    assert {e.notation for e in y1.entries if e.taught_by} == {"PC1", "PC2", "PC2.1"}
    c = gap_report(mini.store, mini.ids, "mini", "mini", course="MED-201")
    assert {e.notation for e in c.entries if e.taught_by} == {"PC2", "CM2"}
    assert {e.notation for e in c.entries if e.assessed_by} == {"PC2", "PC3"}
    with pytest.raises(NotFound):
        gap_report(mini.store, mini.ids, "mini", "mini", course="NOPE-1")


def test_unknown_inputs_are_not_found(mini):
    for kw in ({"program": "nope", "framework": "mini"}, {"program": "mini", "framework": "nope"}):
        with pytest.raises(NotFound):
            gap_report(mini.store, mini.ids, **kw)
    with pytest.raises(NotFound):
        gap_report(mini.store, mini.ids, "mini", "mini", role="astronaut")


def test_report_as_csv_and_rdf(mini):
    rep = gap_report(mini.store, mini.ids, "mini", "mini", role="resident")
    df = rep.to_frame()
    assert list(df.loc[df.competency == "PC2", "required_level"]) == [4]
    assert rep.to_csv().splitlines()[0].startswith("domain,domain_label,competency")
    g = Graph().parse(data=rep.to_graph(mini.ids).serialize(format="turtle"), format="turtle")
    assert len(list(g.subjects(None, GM.GapEntry))) == 6
    assert (None, GM.gapStatus, GM.AssessedNotTaught) in g


def test_role_readiness(mini):
    r = role_readiness(mini.store, mini.ids, "mini", "intern")
    items = {i.notation: i.status for i in r.items}
    assert items == {"PC1": "below_level", "PC2": "ready", "CM2": "ready"}
    assert r.summary["essential"] == {"required": 2, "ready": 1, "below_level": 1, "gap": 0, "ready_pct": 50.0}


# --- the bundled data: planted gaps are found, exactly --------------------------------------------
@pytest.fixture(scope="module")
def bundled():
    ws = _ws()
    ws.load_manifest(DATA / "manifest.json")
    return ws, json.loads((DATA / "planted_gaps.json").read_text())


def test_bundled_planted_gaps_found_exactly(bundled):
    ws, planted = bundled
    rep = gap_report(ws.store, ws.ids, planted["program"], planted["framework"])
    assert rep.by_status("not_taught") == sorted(planted["not_taught"])
    assert rep.by_status("taught_not_assessed") == sorted(planted["taught_not_assessed"])
    assert rep.by_status("assessed_not_taught") == sorted(planted["assessed_not_taught"])
    below = planted["below_required_level"]
    with_role = gap_report(ws.store, ws.ids, planted["program"], planted["framework"], role=below["role"])
    assert with_role.by_status("below_required_level") == sorted(below["competencies"])
    # Everything that is neither planted nor below level is covered.
    gaps = {*planted["not_taught"], *planted["taught_not_assessed"], *planted["assessed_not_taught"]}
    assert set(rep.by_status("covered")) == {e.notation for e in rep.entries} - gaps


def test_bundled_role_readiness(bundled):
    ws, planted = bundled
    below = planted["below_required_level"]
    r = role_readiness(ws.store, ws.ids, planted["program"], below["role"])
    statuses = {i.notation: i.status for i in r.items}
    for c in below["competencies"]:
        assert statuses[c] == "below_level"
    for c in planted["not_taught"] + planted["assessed_not_taught"]:
        if c in statuses:
            assert statuses[c] == "gap"


def test_bundled_report_from_the_program_index_equals_the_store_computation(bundled):
    """The report built from the per-program index (rows read once per store generation) is the
    report computed from the store, for every kind of filter, before and after a write."""
    from rdflib import Literal, URIRef

    from ontology.gaps import program_index
    from ontology.vocab import RDF, SUGGESTED

    ws, planted = bundled
    st, ids, prog, fw = ws.store, ws.ids, planted["program"], planted["framework"]
    courses = [r["code"] for r in st.select("program_courses", pid=Literal(prog))]
    roles = [r["id"] for r in st.select("roles")]
    variants = [{}, {"year": 2}, {"year": 4}, {"course": courses[0]}, {"course": courses[-1], "year": 3},
                {"include_suggestions": 0.5}, {"include_suggestions": 0.0}]
    variants += [{"role": r, "stage": s} for r in roles[:3] for s in ("graduation", None)]
    assert len(courses) > 3 and roles

    def check():
        for v in variants:
            assert gap_report(st, ids, prog, fw, **v).to_dict() == \
                gap_report(st, ids, prog, fw, use_index=False, **v).to_dict(), v

    check()
    before = gap_report(st, ids, prog, fw, include_suggestions=0.5)
    assert program_index(st, ids, prog) is program_index(st, ids, prog)  # one read per generation
    # a write (an unreviewed suggestion on a not-taught competency): the index is read again
    comp = next(e.competency for e in before.entries if e.status == "not_taught")
    obj = st.select("program_objectives", program=ids.program(prog))[0]["objective"]
    a, g = URIRef("https://example.edu/gapmap/alignment/test-index"), ids.graph("alignments", prog)
    idx = program_index(st, ids, prog, accepted_only=False)
    st.apply([], [(a, RDF.type, GM.Alignment, g), (a, GM.alignedObjective, URIRef(obj), g),
                  (a, GM.alignedCompetency, URIRef(comp), g), (a, GM.status, SUGGESTED, g),
                  (a, GM.method, GM.EmbeddingMethod, g), (a, GM.expectedPrecision, Literal(0.9), g)])
    try:
        assert program_index(st, ids, prog, accepted_only=False) is not idx
        after = gap_report(st, ids, prog, fw, include_suggestions=0.5)
        assert {e.competency: e.status for e in after.entries}[comp] != "not_taught"
        check()
    finally:
        st.apply([(a, p, o, g) for p, o in [(RDF.type, GM.Alignment), (GM.alignedObjective, URIRef(obj)),
                  (GM.alignedCompetency, URIRef(comp)), (GM.status, SUGGESTED), (GM.method, GM.EmbeddingMethod),
                  (GM.expectedPrecision, Literal(0.9))]], [])
    assert gap_report(st, ids, prog, fw, include_suggestions=0.5).to_dict() == before.to_dict()
