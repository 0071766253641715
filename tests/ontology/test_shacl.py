"""SHACL validation: valid input passes; each broken field is reported at its file, row and column."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from rdflib import Graph, Literal
from rdflib import namespace as rdfns

from ontology.errors import ValidationError
from ontology import vocab
from ontology.ids import Ids
from ontology.shacl import check, validate
from ontology.vocab import DCTERMS, ESCO, GM, PROV, RDF, SKOS

IDS = Ids()
FW = IDS.framework("hpc")
NOW = Literal(datetime(2025, 5, 1, 12, 0, tzinfo=timezone.utc))


def dec(v: str) -> Literal:
    return Literal(v, datatype=rdfns.XSD.decimal)


def framework(g: Graph, n_comp: int = 3) -> None:
    g.add((FW, RDF.type, GM.Framework))
    g.add((FW, DCTERMS.title, Literal("Health professions competencies")))
    g.add((FW, DCTERMS.hasVersion, Literal("1.0")))
    d = IDS.concept("hpc", "PC")
    g += [(d, RDF.type, GM.Domain), (d, SKOS.notation, Literal("PC")), (d, SKOS.prefLabel, Literal("Patient care")),
          (d, SKOS.definition, Literal("Caring for patients.")), (d, SKOS.inScheme, FW), (d, SKOS.topConceptOf, FW),
          (FW, SKOS.hasTopConcept, d)]
    for i in range(1, n_comp + 1):
        c = IDS.concept("hpc", f"PC{i}")
        g += [(c, RDF.type, GM.Competency), (c, SKOS.notation, Literal(f"PC{i}")),
              (c, SKOS.prefLabel, Literal(f"Competency {i}")), (c, SKOS.altLabel, Literal(f"other name {i}")),
              (c, SKOS.definition, Literal("What a graduate can do.")), (c, SKOS.inScheme, FW), (c, SKOS.broader, d)]
    sub = IDS.concept("hpc", "PC1.1")
    g += [(sub, RDF.type, GM.Competency), (sub, SKOS.notation, Literal("PC1.1")), (sub, SKOS.prefLabel, Literal("Sub")),
          (sub, SKOS.definition, Literal("A part of PC1.")), (sub, SKOS.inScheme, FW),
          (sub, SKOS.broader, IDS.concept("hpc", "PC1"))]
    for r in range(1, 6):
        lv = IDS.level("hpc", r)
        g += [(lv, RDF.type, GM.ProficiencyLevel), (lv, GM.rank, Literal(r)), (lv, SKOS.prefLabel, Literal(f"L{r}")),
              (lv, SKOS.definition, Literal("A level.")), (lv, SKOS.inScheme, FW)]
    m = IDS.milestone("hpc", "PC1", 2)
    g += [(m, RDF.type, GM.Milestone), (m, GM.milestoneOf, IDS.concept("hpc", "PC1")),
          (m, GM.atLevel, IDS.level("hpc", 2)), (m, SKOS.definition, Literal("Takes a history with help."))]


def curriculum(g: Graph, n_courses: int = 2, n_obj: int = 3) -> None:
    p = IDS.program("md")
    g += [(p, RDF.type, GM.Program), (p, DCTERMS.title, Literal("Doctor of Medicine")), (p, GM.usesFramework, FW)]
    for c in range(n_courses):
        code = f"MED-{c}"
        k, s = IDS.course(code), IDS.session(code, "s1")
        g += [(k, RDF.type, GM.Course), (k, SKOS.notation, Literal(code)), (k, DCTERMS.title, Literal(f"Course {c}")),
              (k, GM.partOfProgram, p), (k, GM.year, Literal(c % 4 + 1)),
              (s, RDF.type, GM.Session), (s, SKOS.notation, Literal("s1")), (s, DCTERMS.title, Literal("Lecture")),
              (s, GM.partOfCourse, k)]
        for o in range(n_obj):
            oid = f"{code}-o{o}"
            obj = IDS.objective(oid)
            g += [(obj, RDF.type, GM.LearningObjective), (obj, SKOS.notation, Literal(oid)),
                  (obj, GM.text, Literal("Take a focused history from a patient presenting with chest pain.")),
                  (obj, GM.objectiveOf, s if o % 2 else k), (obj, GM.inCourse, k),
                  (obj, GM.targetLevel, Literal(o % 5 + 1))]
            a = IDS.alignment(oid, "PC1")
            g += [(a, RDF.type, GM.Alignment), (a, GM.alignedObjective, obj),
                  (a, GM.alignedCompetency, IDS.concept("hpc", "PC1")), (a, GM.score, dec("0.8123")),
                  (a, GM.status, GM.Suggested), (a, GM.method, GM.EmbeddingMethod), (a, GM.rank, Literal(1)),
                  (a, GM.modelVersion, Literal("all-MiniLM-L6-v2")), (a, GM.evidence, Literal("history taking")),
                  (a, PROV.wasGeneratedBy, IDS.activity("run")), (a, PROV.wasAttributedTo, IDS.agent("engine")),
                  (a, PROV.generatedAtTime, NOW)]
        x = IDS.assessment(f"osce-{c}")
        g += [(x, RDF.type, GM.OSCEStation), (x, SKOS.notation, Literal(f"osce-{c}")), (x, DCTERMS.title, Literal("OSCE")),
              (x, GM.assessmentIn, k), (x, vocab.SCHEMA.assesses, IDS.concept("hpc", "PC1")),
              (x, GM.assessesObjective, IDS.objective(f"{code}-o0")), (x, GM.assessedLevel, Literal(2))]
        res = IDS.result(f"osce-{c}", "L001")
        g += [(res, RDF.type, GM.AssessmentResult), (res, GM.resultOf, x), (res, GM.learner, Literal("L001")),
              (res, GM.cohort, Literal("2027")), (res, GM.score, dec("0.75")), (res, GM.passed, Literal(True))]


def roles(g: Graph) -> None:
    intern, resident = IDS.role("intern"), IDS.role("resident")
    g += [(intern, RDF.type, GM.JobRole), (intern, DCTERMS.title, Literal("Intern")), (intern, GM.track, GM.ClinicalTrack),
          (intern, GM.transitionsTo, resident), (intern, ESCO.relatedEssentialSkill, IDS.concept("hpc", "PC1")),
          (resident, RDF.type, GM.JobRole), (resident, DCTERMS.title, Literal("Resident")),
          (resident, SKOS.definition, Literal("A doctor in specialty training.")), (resident, GM.track, GM.ClinicalTrack)]
    r = IDS.requirement("intern", "hpc", "PC1")
    g += [(r, RDF.type, GM.RoleRequirement), (r, GM.requirementOf, intern),
          (r, GM.requiresCompetency, IDS.concept("hpc", "PC1")), (r, GM.requiredLevel, Literal(3)),
          (r, GM.relation, GM.Essential), (r, GM.importance, dec("3.5"))]
    d = IDS.decision("d1")
    g += [(d, RDF.type, GM.ReviewDecision), (d, PROV.used, IDS.alignment("MED-0-o0", "PC1")),
          (d, PROV.wasAssociatedWith, IDS.agent("ana")), (d, PROV.endedAtTime, NOW),
          (d, GM.previousStatus, GM.Suggested), (d, GM.newStatus, GM.Accepted)]


@pytest.fixture
def good() -> Graph:
    g = Graph()
    framework(g)
    curriculum(g)
    roles(g)
    return g


def test_valid_graph_passes(good):
    assert validate(good) == []
    check(good)  # does not raise


def test_missing_objective_text_names_row_and_column(good):
    obj = IDS.objective("MED-1-o2")
    good.remove((obj, GM.text, None))
    vs = validate(good, origin={obj: ("curriculum.csv", 7)}, columns={GM.text: "objective_text"})
    assert len(vs) == 1
    v = vs[0]
    assert (v.file, v.row, v.column) == ("curriculum.csv", 7, "objective_text")
    assert v.focus == str(obj) and v.path == str(GM.text)
    assert "text" in v.message
    assert str(v).startswith("curriculum.csv:7 [column objective_text]: ")


def test_empty_objective_text_is_a_violation(good):
    obj = IDS.objective("MED-0-o1")
    good.set((obj, GM.text, Literal("")))
    [v] = validate(good)
    assert "must not be empty" in v.message


def test_rank_out_of_range(good):
    lv = IDS.level("hpc", 3)
    good.set((lv, GM.rank, Literal(7)))
    [v] = validate(good, origin={lv: ("framework.csv", 4)}, columns={GM.rank: "id"})
    assert (v.file, v.row, v.column) == ("framework.csv", 4, "id")
    assert "between 1 and 5" in v.message and "(got 7)" in v.message


def test_rank_must_be_an_integer(good):
    lv = IDS.level("hpc", 2)
    good.set((lv, GM.rank, Literal("two")))
    vs = validate(good)
    assert vs and all(v.focus == str(lv) for v in vs)
    assert any("whole number" in v.message for v in vs)


def test_bad_alignment_status(good):
    a = IDS.alignment("MED-0-o1", "PC1")
    good.set((a, GM.status, GM.Pending))
    [v] = validate(good, origin={a: ("alignments.csv", 3)}, columns={GM.status: "status"})
    assert (v.file, v.row, v.column) == ("alignments.csv", 3, "status")
    assert "suggested, accepted or rejected" in v.message and "gm:Pending" in v.message


@pytest.mark.parametrize("mutate, words", [
    (lambda g: g.set((IDS.role("intern"), GM.track, GM.SpaceTrack)), "clinical, research, teaching or leadership"),
    (lambda g: g.set((IDS.requirement("intern", "hpc", "PC1"), GM.relation, GM.Maybe)), "essential or optional"),
    (lambda g: g.set((IDS.result("osce-0", "L001"), GM.score, dec("1.5"))), "between 0 and 1"),
    (lambda g: g.set((IDS.result("osce-0", "L001"), GM.passed, Literal("yes"))), "true or false"),
    (lambda g: g.set((IDS.course("MED-0"), GM.year, Literal(9))), "between 1 and 8"),
    (lambda g: g.remove((IDS.course("MED-1"), GM.partOfProgram, None)), "must belong to a program"),
    (lambda g: g.remove((IDS.assessment("osce-1"), GM.assessmentIn, None)), "exactly one course"),
    (lambda g: g.add((IDS.assessment("osce-1"), RDF.type, GM.Portfolio)), "exactly one kind"),
    (lambda g: g.set((IDS.alignment("MED-0-o0", "PC1"), GM.alignedCompetency, Literal("PC1"))), "exactly one competency"),
    (lambda g: g.remove((IDS.concept("hpc", "PC2"), SKOS.broader, None)), "needs a parent"),
    (lambda g: g.set((IDS.milestone("hpc", "PC1", 2), GM.atLevel, IDS.concept("hpc", "PC2"))), "proficiency level"),
    (lambda g: g.set((IDS.decision("d1"), GM.newStatus, GM.Maybe)), "new status"),
])
def test_each_kind_of_error_is_caught(good, mutate, words):
    mutate(good)
    vs = validate(good)
    assert vs, "expected a violation"
    assert any(words in v.message for v in vs), [v.message for v in vs]


def test_assessment_kinds_are_checked_without_inference(good):
    """Shapes target each kind (gm:WrittenExam ...), since no RDFS inference runs during validation."""
    x = IDS.assessment("exam-9")
    good += [(x, RDF.type, GM.WrittenExam), (x, SKOS.notation, Literal("exam-9"))]
    msgs = {v.message for v in validate(good) if v.focus == str(x)}
    assert any("title" in m for m in msgs) and any("course" in m for m in msgs)


def test_warnings_only_on_request(good):
    c = IDS.concept("hpc", "PC2")
    good.remove((c, SKOS.definition, None))
    assert validate(good) == []
    [w] = validate(good, include_warnings=True)
    assert w.message.startswith("warning: ") and "description" in w.message


def test_results_sorted_by_row_and_check_raises(good):
    o1, o2 = IDS.objective("MED-0-o0"), IDS.objective("MED-1-o1")
    good.remove((o1, GM.text, None))
    good.set((o2, GM.targetLevel, Literal(0)))
    origin = {o1: ("curriculum.csv", 9), o2: ("curriculum.csv", 3)}
    cols = {GM.text: "objective_text", GM.targetLevel: "level"}
    vs = validate(good, origin=origin, columns=cols)
    assert [(v.row, v.column) for v in vs] == [(3, "level"), (9, "objective_text")]
    with pytest.raises(ValidationError) as e:
        check(good, origin=origin, columns=cols)
    assert e.value.violations == vs
    assert e.value.to_dict()["violations"][0] == {
        "focus": str(o2), "path": str(GM.targetLevel), "message": vs[0].message,
        "file": "curriculum.csv", "row": 3, "column": "level"}


def test_several_graphs_are_validated_together(good):
    fw, rest = Graph(), Graph()
    for t in good:
        (fw if str(t[0]).startswith(str(FW)) else rest).add(t)
    assert validate([fw, rest]) == []


def test_five_thousand_triples_well_under_two_seconds():
    g = Graph()
    framework(g, n_comp=40)
    curriculum(g, n_courses=25, n_obj=12)
    roles(g)
    assert 4500 < len(g) < 7000
    validate(g)  # warm-up: the shapes are parsed once
    t0 = time.perf_counter()
    assert validate(g) == []
    assert time.perf_counter() - t0 < 2.0
