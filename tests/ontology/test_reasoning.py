"""OWL check with HermiT: consistent data passes; contradictions are reported with the node to blame."""
from __future__ import annotations

import shutil

import pytest
from rdflib import Graph, Literal

from ontology.errors import ConsistencyError
from ontology.ids import Ids
from ontology.reasoning import ConsistencyReport, check_consistency, raise_if_inconsistent
from ontology.vocab import DCTERMS, GM, RDF, SKOS

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java")

IDS = Ids()
COURSE = IDS.course("MED-101")
COMP = IDS.concept("hpc", "PC1")


def small() -> list[Graph]:
    """Framework and curriculum graphs, as two named graphs of the store would hold them."""
    fw, cur = Graph(), Graph()
    f = IDS.framework("hpc")
    fw += [(f, RDF.type, GM.Framework), (f, DCTERMS.title, Literal("HPC")),
           (IDS.concept("hpc", "PC"), RDF.type, GM.Domain), (IDS.concept("hpc", "PC"), SKOS.inScheme, f),
           (COMP, RDF.type, GM.Competency), (COMP, SKOS.broader, IDS.concept("hpc", "PC")), (COMP, SKOS.inScheme, f),
           (COMP, SKOS.definition, Literal("A long description that the reasoner never needs. " * 50))]
    p, s, o, a = IDS.program("md"), IDS.session("MED-101", "s1"), IDS.objective("o1"), IDS.alignment("o1", "PC1")
    cur += [(p, RDF.type, GM.Program), (COURSE, RDF.type, GM.Course), (COURSE, GM.partOfProgram, p),
            (COURSE, GM.year, Literal(1)), (s, RDF.type, GM.Session), (s, GM.partOfCourse, COURSE),
            (o, RDF.type, GM.LearningObjective), (o, GM.objectiveOf, s), (o, GM.inCourse, COURSE),
            (o, GM.text, Literal("Take a history.")),
            (a, RDF.type, GM.Alignment), (a, GM.alignedObjective, o), (a, GM.alignedCompetency, COMP),
            (a, GM.status, GM.Accepted), (a, GM.method, GM.CuratorMethod)]
    return [fw, cur]


@pytest.fixture(scope="module")
def consistent_report() -> ConsistencyReport:
    return check_consistency(small())


def test_consistent_data_passes(consistent_report):
    r = consistent_report
    assert r.consistent
    assert r.inconsistent_individuals == () and r.explanation == "" and r.unsatisfiable_classes == ()
    assert r.classes > 30 and r.individuals == 8
    assert 0 < r.seconds < 30
    d = r.to_dict()
    assert d["consistent"] is True and d["reasoner"] == "HermiT" and d["individuals"] == 8


def test_only_types_and_object_links_reach_the_reasoner(consistent_report):
    graphs = small()
    literals = sum(1 for g in graphs for t in g if isinstance(t[2], Literal))
    types_and_links = sum(len(g) for g in graphs) - literals
    assert consistent_report.triples == types_and_links


def test_course_typed_as_competency_is_inconsistent():
    fw, cur = small()
    cur.add((COURSE, RDF.type, GM.Competency))
    r = check_consistency([fw, cur])
    assert not r.consistent
    assert r.inconsistent_individuals == (str(COURSE),)
    assert "gm:Competency" in r.explanation and "gm:Course" in r.explanation and "disjoint" in r.explanation
    assert str(COURSE) in r.explanation

    with pytest.raises(ConsistencyError) as e:
        raise_if_inconsistent(r)
    assert str(COURSE) in str(e.value) and e.value.details["individuals"] == [str(COURSE)]
    assert e.value.status == 409


def test_inferred_clash_through_a_property_range():
    """An alignment whose competency is a course: gm:alignedCompetency's range makes it a competency too."""
    fw, cur = small()
    bad = IDS.alignment("o1", "MED-101")
    cur += [(bad, RDF.type, GM.Alignment), (bad, GM.alignedCompetency, COURSE)]
    r = check_consistency(fw + cur)
    assert not r.consistent
    assert r.inconsistent_individuals == (str(COURSE),)
    assert "gm:alignedCompetency" in r.explanation


def test_raise_if_inconsistent_passes_consistent_reports(consistent_report):
    assert raise_if_inconsistent(consistent_report) is consistent_report


def test_two_statuses_on_one_alignment_is_inconsistent():
    """gm:status is functional and the statuses are distinct individuals."""
    fw, cur = small()
    a = IDS.alignment("o1", "PC1")
    cur.add((a, GM.status, GM.Rejected))
    r = check_consistency([fw, cur])
    assert not r.consistent
    assert r.inconsistent_individuals == (str(a),)
    assert "gm:status" in r.explanation
