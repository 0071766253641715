"""The OWL vocabulary (ontology/gapmap.ttl) and the SHACL shapes (ontology/shapes.ttl) are complete and sound."""
from __future__ import annotations

import io
import re
from importlib import resources
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS

from ontology import vocab
from ontology.vocab import ESCO, GM, GM_NS, ONTOLOGY_IRI, SH

ROOT = Path(__file__).resolve().parents[2]
DECLARATION_TYPES = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                     OWL.NamedIndividual}


def _parse(name: str) -> Graph:
    return Graph().parse(data=resources.files("ontology").joinpath(name).read_text("utf-8"), format="turtle")


@pytest.fixture(scope="module")
def ont() -> Graph:
    return _parse("gapmap.ttl")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return _parse("shapes.ttl")


def _gm_terms_in(text: str) -> set[URIRef]:
    """gm: terms written as ``GM.Name``, ``gm:Name`` or a full IRI in a piece of source text."""
    names = set(re.findall(r"\bGM\.([A-Za-z_][A-Za-z0-9_]*)", text))
    names |= set(re.findall(r"\bgm:([A-Za-z_][A-Za-z0-9_]*)", text))
    names |= set(re.findall(re.escape(GM_NS) + r"([A-Za-z_][A-Za-z0-9_]*)", text))
    return {GM[n] for n in names}


def _declared(ont: Graph, term: URIRef) -> bool:
    return any((term, RDF.type, t) in ont for t in DECLARATION_TYPES)


def test_ontology_header(ont):
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ont
    assert ont.value(ONTOLOGY_IRI, OWL.versionInfo)
    assert ont.value(ONTOLOGY_IRI, DCTERMS.title)
    assert len(str(ont.value(ONTOLOGY_IRI, DCTERMS.description))) > 200
    assert ont.value(ONTOLOGY_IRI, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")


def test_every_gm_term_is_documented(ont):
    terms = {s for s in ont.subjects() if isinstance(s, URIRef) and s.startswith(GM_NS)}
    assert len(terms) > 80
    for t in terms:
        assert _declared(ont, t), f"{t} is not declared"
        assert ont.value(t, RDFS.label), f"{t} has no rdfs:label"
        assert len(str(ont.value(t, RDFS.comment) or "")) >= 15, f"{t} has no useful rdfs:comment"
        assert ont.value(t, RDFS.isDefinedBy) == ONTOLOGY_IRI, f"{t} has no rdfs:isDefinedBy"


@pytest.mark.parametrize("source", ["ontology/vocab.py", "docs/model.md", "ontology/shapes.ttl"])
def test_terms_used_are_declared(ont, source):
    path = ROOT / source
    if not path.exists():
        pytest.skip(f"{source} not present")
    used = _gm_terms_in(path.read_text("utf-8"))
    if source == "ontology/vocab.py":  # and every gm: IRI the module exposes
        for value in vars(vocab).values():
            values = value.values() if isinstance(value, dict) else [value]
            used |= {v for v in values if isinstance(v, URIRef) and v.startswith(GM_NS) and v != URIRef(GM_NS)}
    assert used, f"no gm: terms found in {source}"
    missing = sorted(str(t) for t in used if not _declared(ont, t))
    assert not missing, f"used in {source} but not declared in gapmap.ttl: {missing}"


def test_terms_used_by_the_code_are_declared(ont):
    """Every gm: term anywhere in the packages and named queries (loaders, alignment, reviews, reports)."""
    used = set()
    for pkg in ("ontology", "loaders", "service"):
        for f in [*(ROOT / pkg).rglob("*.py"), *(ROOT / pkg).rglob("*.rq")]:
            used |= _gm_terms_in(f.read_text("utf-8"))
    missing = sorted(str(t) for t in used if not _declared(ont, t))
    assert not missing, f"used in the code but not declared in gapmap.ttl: {missing}"


@pytest.mark.parametrize("sub, sup", [
    (GM.Framework, SKOS.ConceptScheme), (GM.Domain, SKOS.Concept), (GM.Competency, SKOS.Concept),
    (GM.Competency, ESCO.Skill), (GM.Program, vocab.SCHEMA.EducationalOccupationalProgram),
    (GM.Course, vocab.SCHEMA.Course), (GM.JobRole, vocab.SCHEMA.Occupation), (GM.JobRole, ESCO.Occupation),
    (GM.Alignment, PROV.Entity), (GM.ReviewDecision, PROV.Activity), (GM.GapReport, PROV.Entity),
    (GM.WrittenExam, GM.Assessment), (GM.OSCEStation, GM.Assessment), (GM.Portfolio, GM.Assessment),
    (GM.WorkplaceBasedAssessment, GM.Assessment),
])
def test_standard_terms_reused(ont, sub, sup):
    assert (sub, RDFS.subClassOf, sup) in ont
    assert (sup, RDF.type, OWL.Class) in ont  # external classes declared: OWL 2 DL on its own


@pytest.mark.parametrize("cls, individuals", [
    (GM.AlignmentStatus, {GM.Suggested, GM.Accepted, GM.Rejected}),
    (GM.RequirementRelation, {GM.Essential, GM.Optional}),
    (GM.CareerTrack, set(vocab.TRACKS.values())),
    (GM.AlignmentMethod, {GM.CuratorMethod, GM.EmbeddingMethod, GM.ManualMethod}),
    (GM.GapStatus, set(vocab.GAP_STATUSES.values())),
])
def test_enumerations(ont, cls, individuals):
    assert set(ont.subjects(RDF.type, cls)) == individuals
    different = [set(Collection(ont, ont.value(a, OWL.distinctMembers)))
                 for a in ont.subjects(RDF.type, OWL.AllDifferent)]
    assert individuals in different


def test_disjointness(ont):
    groups = [set(Collection(ont, ont.value(a, OWL.members))) for a in ont.subjects(RDF.type, OWL.AllDisjointClasses)]
    expected = {GM.Competency, GM.Course, GM.Session, GM.LearningObjective, GM.Assessment, GM.JobRole,
                GM.Program, GM.Alignment}
    assert expected in groups
    assert (GM.Domain, OWL.disjointWith, GM.Competency) in ont


def test_owl2_dl_hygiene(ont):
    """No punning between kinds of entity, and every property used in an axiom is declared."""
    kinds = {}
    for t in DECLARATION_TYPES - {OWL.NamedIndividual}:
        for s in ont.subjects(RDF.type, t):
            assert s not in kinds, f"{s} is declared both {kinds[s]} and {t}"
            kinds[s] = t
    for s, p, o in ont:
        if isinstance(s, URIRef) and p not in (RDF.type, RDF.first, RDF.rest) and not p.startswith(str(OWL)) \
                and p not in (RDFS.subClassOf, RDFS.domain, RDFS.range, RDFS.label, RDFS.comment, RDFS.isDefinedBy):
            assert p in kinds, f"{p} is used but not declared"
    # data properties have datatype ranges, object properties class ranges
    for p in ont.subjects(RDF.type, OWL.DatatypeProperty):
        for r in ont.objects(p, RDFS.range):
            assert str(r).startswith("http://www.w3.org/2001/XMLSchema#"), p
    for p in ont.subjects(RDF.type, OWL.ObjectProperty):
        for r in ont.objects(p, RDFS.range):
            assert isinstance(r, BNode) or kinds.get(r) == OWL.Class, p


def test_owlready2_parses_the_ontology(ont):
    owlready2 = pytest.importorskip("owlready2")
    world = owlready2.World()
    try:
        o = world.get_ontology(str(ONTOLOGY_IRI)).load(
            fileobj=io.BytesIO(ont.serialize(format="nt", encoding="utf-8")), format="ntriples")
        assert o.Competency is not None and o.Course is not None
        assert {c.name for c in o.Course.is_a} == {"Course"}  # schema:Course
        assert o.alignedCompetency.range == [o.Competency]
    finally:
        world.close()


# --- shapes ---------------------------------------------------------------------------------------------------

INPUT_CLASSES = [GM.Framework, GM.Domain, GM.Competency, GM.ProficiencyLevel, GM.Milestone, GM.Program, GM.Course,
                 GM.Session, GM.LearningObjective, GM.Assessment, GM.AssessmentResult, GM.JobRole,
                 GM.RoleRequirement, GM.Alignment, GM.ReviewDecision]


def test_every_input_kind_has_a_shape(shapes):
    targets = set(shapes.objects(None, SH.targetClass))
    missing = [c for c in INPUT_CLASSES if c not in targets]
    assert not missing
    # no inference runs during validation, so every assessment kind is targeted explicitly
    assert set(vocab.ASSESSMENT_KINDS.values()) <= targets


def test_every_constraint_has_a_message(shapes):
    for shape in shapes.objects(None, SH.property):
        assert shapes.value(shape, SH.message), f"property shape on {shapes.value(shape, SH.path)} has no message"
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        if any(shapes.value(shape, p) is not None for p in (SH["or"], SH.nodeKind, SH["class"], SH["in"])):
            assert shapes.value(shape, SH.message), f"{shape} has node constraints but no message"
    for m in shapes.objects(None, SH.message):
        assert isinstance(m, Literal) and m[:1].isupper() and str(m).endswith("."), m


def test_shapes_use_only_declared_predicates(ont, shapes):
    for path in shapes.objects(None, SH.path):
        if isinstance(path, URIRef) and path != RDF.type:
            assert _declared(ont, path), f"shape path {path} is not declared in gapmap.ttl"
