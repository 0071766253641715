"""Curriculum health checks: each problem planted in the small fixture program, then found."""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Literal
from rdflib.namespace import XSD

from ontology.errors import NotFound
from ontology.health import BadCheck
from ontology.health import CHECKS, health
from ontology.vocab import ACCEPTED, DCTERMS, GM, RDF, SKOS, SUGGESTED
from service.config import Config
from service.workspace import Workspace

TESTS = Path(__file__).resolve().parents[1]


def _mini():
    cfg = Config()
    cfg.STORE_PATH = ""
    ws = Workspace.from_config(cfg)
    ws.load_manifest(TESTS / "fixtures" / "mini" / "manifest.json")
    return ws


def plant(ws):
    """Add one instance of every problem to the fixture's graphs."""
    ids = ws.ids
    cur, al = ids.graph("curriculum", "mini"), ids.graph("alignments", "mini")
    prog = ids.program("mini")
    c3 = ids.course("MED-301")
    q = [(c3, RDF.type, GM.Course), (c3, SKOS.notation, Literal("MED-301")), (c3, DCTERMS.title, Literal("Electives")),
         (c3, GM.partOfProgram, prog), (c3, GM.year, Literal(3, datatype=XSD.integer))]
    # an empty session in MED-101
    s3 = ids.session("MED-101", "S3")
    q += [(s3, RDF.type, GM.Session), (s3, SKOS.notation, Literal("S3")), (s3, GM.partOfCourse, ids.course("MED-101"))]
    # MED-301 teaches CM1 (accepted) and nothing assesses it there
    for oid, text in (("O6", "Break bad news to a patient's family in a quiet room."),
                      ("O7", "Take a complete medical history from a standardised patient.")):  # O7 ~ O1 of MED-101
        o = ids.objective(oid)
        q += [(o, RDF.type, GM.LearningObjective), (o, SKOS.notation, Literal(oid)), (o, GM.text, Literal(text, lang="en")),
              (o, GM.inCourse, c3), (o, GM.objectiveOf, c3), (o, GM.targetLevel, Literal(2, datatype=XSD.integer))]
    a = ids.alignment("O6", str(ids.concept("mini", "CM1")))
    q += [(a, RDF.type, GM.Alignment), (a, GM.alignedObjective, ids.objective("O6")),
          (a, GM.alignedCompetency, ids.concept("mini", "CM1")), (a, GM.status, ACCEPTED), (a, GM.method, GM.ManualMethod)]
    # PC3 reached only by an unreviewed suggestion
    s = ids.alignment("O5", str(ids.concept("mini", "PC3")))
    q += [(s, RDF.type, GM.Alignment), (s, GM.alignedObjective, ids.objective("O5")),
          (s, GM.alignedCompetency, ids.concept("mini", "PC3")), (s, GM.status, SUGGESTED),
          (s, GM.method, GM.EmbeddingMethod), (s, GM.expectedPrecision, Literal("0.4", datatype=XSD.decimal))]
    # broken chains: a session of a course that does not exist, a course of no program, an objective whose
    # session belongs to another course
    lost = ids.session("GONE-1", "S1")
    orphan = ids.course("ORPHAN-1")
    q += [(lost, RDF.type, GM.Session), (lost, SKOS.notation, Literal("S1")), (lost, GM.partOfCourse, ids.course("GONE-1")),
          (orphan, RDF.type, GM.Course), (orphan, SKOS.notation, Literal("ORPHAN-1")),
          (ids.objective("O7"), GM.objectiveOf, ids.session("MED-101", "S1"))]
    ws.store.apply(delete=[], insert=[(s_, p, o_, al if p in (GM.status, GM.method, GM.alignedObjective,
                                                            GM.alignedCompetency, GM.expectedPrecision)
                                        or (p == RDF.type and o_ == GM.Alignment) else cur) for s_, p, o_ in q])


class FakeEncoder:
    """Bag-of-words vectors: identical texts → cosine 1, disjoint texts → 0 (deterministic, no model)."""

    def encode(self, texts):
        import numpy as np
        vocab = {}
        rows = []
        for t in texts:
            for w in t.lower().replace(".", "").split():
                vocab.setdefault(w, len(vocab))
        for t in texts:
            v = np.zeros(len(vocab), np.float32)
            for w in t.lower().replace(".", "").split():
                v[vocab[w]] += 1
            rows.append(v)
        return np.vstack(rows)


def test_clean_fixture_has_only_its_known_problems():
    ws = _mini()
    rep = health(ws.store, ws.ids, "mini", "mini", encoder=FakeEncoder())
    assert [f["objective"] for f in rep.check("unmapped_objectives").findings] == ["O5"]
    for name in ("empty_sessions", "unassessed_courses", "suggestion_only", "broken_chains", "near_duplicates"):
        assert rep.check(name).findings == (), name


def test_every_planted_problem_is_found():
    ws = _mini()
    plant(ws)
    rep = health(ws.store, ws.ids, "mini", "mini", encoder=FakeEncoder(), threshold=0.85)
    assert {f["objective"] for f in rep.check("unmapped_objectives").findings} == {"O5", "O7"}
    o5 = next(f for f in rep.check("unmapped_objectives").findings if f["objective"] == "O5")
    assert o5["suggestions"] == 1
    assert [(f["course"], f["session"]) for f in rep.check("empty_sessions").findings] == [("MED-101", "S3")]
    assert [f["course"] for f in rep.check("unassessed_courses").findings] == ["MED-301"]
    so = rep.check("suggestion_only").findings
    assert [(f["notation"], f["objectives"]) for f in so] == [("PC3", ["O5"])]
    kinds = {(f["kind"], f["notation"]) for f in rep.check("broken_chains").findings}
    assert kinds == {("session_without_course", "S1"), ("course_without_program", "ORPHAN-1"),
                     ("objective_session_in_other_course", "O7")}
    dups = rep.check("near_duplicates").findings
    assert [(d["a"]["objective"], d["b"]["objective"]) for d in dups] == [("O1", "O7")]
    assert rep.summary["near_duplicates"] == 1
    # same course pairs are never reported, and a high threshold finds nothing
    assert health(ws.store, ws.ids, "mini", encoder=FakeEncoder(), threshold=0.999,
                  checks=("near_duplicates",)).check("near_duplicates").findings == ()


def test_near_duplicates_with_the_real_encoder(tmp_path):
    from linking.encoder import load_minilm
    from ontology.health import near_duplicates
    rows = [{"oid": "A1", "code": "C1", "text": "Take a complete medical history from a standardized patient."},
            {"oid": "B1", "code": "C2", "text": "Take a complete medical history from a standardised patient."},
            {"oid": "B2", "code": "C2", "text": "Describe the Krebs cycle and oxidative phosphorylation."}]
    found = near_duplicates(rows, load_minilm(cache_dir=tmp_path), threshold=0.9)
    assert [(d["a"]["objective"], d["b"]["objective"]) for d in found] == [("A1", "B1")]
    assert found[0]["cosine"] >= 0.9


def test_errors():
    ws = _mini()
    with pytest.raises(NotFound):
        health(ws.store, ws.ids, "nope")
    with pytest.raises(BadCheck) as e:
        health(ws.store, ws.ids, "mini", checks=("vibes",))
    assert e.value.details["field"] == "checks" and e.value.status == 400
    assert set(CHECKS) == {c.name for c in health(ws.store, ws.ids, "mini").checks}
