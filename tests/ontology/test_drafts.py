"""What-if drafts: edits stay out of the live graph, the draft is compared with today, applied in one go or discarded."""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import URIRef

from loaders import Source
from ontology.changes import changes
from ontology.drafts import DraftConflict, DraftError, Drafts, compare
from ontology.errors import NotFound
from ontology.gaps import gap_report
from ontology.vocab import GM, PROV
from service.config import Config
from service.workspace import Workspace

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture
def ws():
    cfg = Config()
    cfg.STORE_PATH = ""
    ws = Workspace.from_config(cfg)
    ws.load_manifest(TESTS / "fixtures" / "mini" / "manifest.json")
    return ws


def status(store, ids, fw="mini", **kw):
    return {e.notation: e.status for e in gap_report(store, ids, "mini", fw, **kw).entries}


def test_edits_change_only_the_draft(ws):
    drafts = Drafts()
    live_before = status(ws.store, ws.ids)
    n_live = len(ws.store)
    d = drafts.create(ws.store, ws.ids, "plan-a", "mini", "chair")
    drafts.edit(ws.ids, "plan-a", {"op": "add_course", "code": "MED-301", "title": "Palliative care", "year": 3}, "chair")
    drafts.edit(ws.ids, "plan-a", {"op": "add_session", "course": "MED-301", "id": "S1", "title": "Bad news"}, "chair")
    drafts.edit(ws.ids, "plan-a", {"op": "add_objective", "course": "MED-301", "session": "S1", "id": "O9",
                                   "text": "Break bad news using SPIKES.", "level": 3, "competencies": ["CM1"]}, "chair")
    drafts.edit(ws.ids, "plan-a", {"op": "add_assessment", "course": "MED-301", "id": "A9", "kind": "osce_station",
                                   "title": "Bad news OSCE", "objectives": ["O9"], "level": 3}, "chair")
    drafts.edit(ws.ids, "plan-a", {"op": "remove_assessment", "id": "A3"}, "chair")
    drafts.edit(ws.ids, "plan-a", {"op": "set_level", "id": "O3", "level": 4}, "chair")
    assert len(ws.store) == n_live and status(ws.store, ws.ids) == live_before  # live untouched
    after = status(d.store, ws.ids)
    assert after["CM1"] == "covered" and live_before["CM1"] == "not_taught"
    assert after["PC3"] == "not_taught" and live_before["PC3"] == "assessed_not_taught"
    cmp = compare(ws.store, d, ws.ids, role="resident")
    rows = {r["notation"]: r for r in cmp["competencies"]}
    assert rows["CM1"]["changed"] and rows["CM1"]["today"] == "not_taught" and rows["CM1"]["draft"] == "covered"
    assert rows["PC2"]["level_draft"] == 4 and rows["PC2"]["level_today"] == 2
    assert not rows["PC1"]["changed"]
    assert cmp["readiness"]["draft"]["essential"]["ready"] > cmp["readiness"]["today"]["essential"]["ready"]
    assert len(d.edits) == 6 and d.edits[0]["by"] == "chair"


def test_apply_is_one_transaction_with_prov_and_a_snapshot(ws):
    drafts = Drafts()
    drafts.create(ws.store, ws.ids, "move", "mini", "chair")
    drafts.edit(ws.ids, "move", {"op": "move_objective", "id": "O4", "course": "MED-101", "session": "S1"}, "chair")
    drafts.edit(ws.ids, "move", {"op": "move_course", "code": "MED-201", "year": 3}, "chair")
    drafts.edit(ws.ids, "move", {"op": "add_objective", "course": "MED-101", "id": "O8", "text": "Break bad news.",
                                 "competencies": "CM1"}, "chair")
    res = drafts.apply(ws.store, ws.ids, "move", "dean", framework="mini")
    assert res["applied_by"] == "dean" and res["edits"] == 3
    assert str(ws.ids.graph("curriculum", "mini")) in res["graphs"]
    cm2 = next(e for e in gap_report(ws.store, ws.ids, "mini", "mini").entries if e.notation == "CM2")
    assert cm2.courses == ("MED-101",)
    assert {r["year"] for r in ws.store.select("program_courses", pid=__import__("rdflib").Literal("mini"))} == {1, 3}
    prov = ws.store.graph(ws.ids.graph("drafts", "move"))
    act = URIRef(res["activity"])
    assert (act, PROV.wasAssociatedWith, ws.ids.agent("dean")) in prov
    assert (act, GM.modelVersion, None) not in prov and (act, PROV.endedAtTime, None) in prov
    ch = changes(ws.store, ws.ids, "mini")
    assert "applying draft move" in ch.since_label
    assert [(c.notation, c.before, c.after) for c in ch.changes if c.kind == "status"] == [
        ("CM1", "not_taught", "taught_not_assessed")]
    with pytest.raises(NotFound):
        drafts.get("move")  # an applied draft is gone


def test_conflict_discard_and_errors(ws):
    drafts = Drafts()
    drafts.create(ws.store, ws.ids, "x", "mini", "chair")
    drafts.edit(ws.ids, "x", {"op": "remove_objective", "id": "O1"}, "chair")
    # the live curriculum changes meanwhile: applying the draft would silently undo that
    ws.load("curriculum-csv", Source.from_path(TESTS / "fixtures" / "mini" / "curriculum.csv"), {"framework": "mini"})
    ws.store.apply(delete=[], insert=[(ws.ids.course("MED-101"), GM.credits, __import__("rdflib").Literal(3),
                                       ws.ids.graph("curriculum", "mini"))])
    before = len(ws.store)
    with pytest.raises(DraftConflict):
        drafts.apply(ws.store, ws.ids, "x", "dean", framework="mini")
    assert len(ws.store) == before
    drafts.discard("x")
    assert drafts.list() == []
    drafts.create(ws.store, ws.ids, "y", "mini", "chair")
    with pytest.raises(DraftConflict):
        drafts.create(ws.store, ws.ids, "y", "mini", "chair")
    for bad, field in (({"op": "explode"}, "op"), ({"op": "add_course", "code": "A B", "title": "t", "year": 1}, "code"),
                       ({"op": "add_course", "code": "MED-101", "title": "t", "year": 1}, "code"),
                       ({"op": "set_level", "id": "O1", "level": 9}, "level"),
                       ({"op": "add_objective", "course": "MED-101", "id": "O99", "text": "x",
                         "competencies": ["NOPE"]}, "competencies")):
        with pytest.raises(DraftError) as e:
            drafts.edit(ws.ids, "y", bad, "chair")
        assert e.value.details["field"] == field
    with pytest.raises(NotFound):
        drafts.edit(ws.ids, "y", {"op": "remove_objective", "id": "O77"}, "chair")
    with pytest.raises(DraftError):
        drafts.apply(ws.store, ws.ids, "y", "dean", framework="mini")  # nothing to apply
    with pytest.raises(DraftError):
        drafts.create(ws.store, ws.ids, "../etc", "mini", "chair")
    with pytest.raises(NotFound):
        drafts.create(ws.store, ws.ids, "z", "nope", "chair")


def test_swap_framework_version(ws, tmp_path):
    # version 2 of the fixture framework: CM1 is gone, the rest keep their notations
    src = (TESTS / "fixtures" / "mini" / "framework.csv").read_text().splitlines()
    p = tmp_path / "framework.csv"
    p.write_text("\n".join(line for line in src if not line.startswith("CM1,")) + "\n")
    ws.load("framework-csv", Source.from_path(p), {"id": "mini-v2", "title": "Mini framework", "version": "2"})
    drafts = Drafts()
    d = drafts.create(ws.store, ws.ids, "v2", "mini", "chair")
    out = drafts.edit(ws.ids, "v2", {"op": "swap_framework", "framework": "mini-v2"}, "chair")
    assert out["alignments_moved"] >= 4
    v2 = status(d.store, ws.ids, fw="mini-v2")
    assert "CM1" not in v2 and v2["PC1"] == status(ws.store, ws.ids)["PC1"]
    cmp = compare(ws.store, d, ws.ids)
    assert cmp["framework"] == {"today": "mini", "draft": "mini-v2"}
    assert next(r for r in cmp["competencies"] if r["notation"] == "CM1")["draft"] is None


def test_drafts_persist_on_disk(ws, tmp_path):
    drafts = Drafts(tmp_path / "drafts")
    drafts.create(ws.store, ws.ids, "keep", "mini", "chair")
    drafts.edit(ws.ids, "keep", {"op": "remove_course", "code": "MED-201"}, "chair")
    del drafts
    again = Drafts(tmp_path / "drafts")
    d = again.get("keep")
    assert d.edits[0]["op"] == "remove_course"
    assert [r["code"] for r in d.store.select("program_courses", pid=__import__("rdflib").Literal("mini"))] == ["MED-101"]
    again.discard("keep")
    assert not (tmp_path / "drafts" / "keep").exists()


def test_applying_the_same_draft_twice_at_once_applies_it_once(ws):
    import threading
    drafts = Drafts()
    drafts.create(ws.store, ws.ids, "race", "mini", "chair")
    drafts.edit(ws.ids, "race", {"op": "add_objective", "course": "MED-101", "id": "O8", "text": "Break bad news.",
                                 "competencies": ["CM1"]}, "chair")
    results, errors = [], []
    barrier = threading.Barrier(2)

    def go():
        barrier.wait()
        try:
            results.append(drafts.apply(ws.store, ws.ids, "race", "dean", framework="mini"))
        except (DraftConflict, NotFound) as e:
            errors.append(e)
    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 1 and len(errors) == 1
    # exactly one PROV record and one saved report
    assert len([g for g in ws.store.graph_names() if "/graph/drafts/" in g]) == 1
    assert len([g for g in ws.store.graph_names() if "/graph/reports/" in g]) == 1
    assert status(ws.store, ws.ids)["CM1"] == "taught_not_assessed"
