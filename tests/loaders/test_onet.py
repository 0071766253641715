"""The O*NET loader on the real O*NET 29.3 healthcare subset in ../shared/frameworks."""
from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.loaders import folders
from tests.loaders.folders import edit_line
from rdflib import Literal

from loaders import get
from loaders.base import Context, Source
from loaders.onet import lv_to_level
from ontology import vocab
from ontology.errors import LoadError
from ontology.ids import Ids
from ontology.vocab import DCTERMS, ESCO, GM, RDF, SKOS

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FOLDER = SHARED / "frameworks" / "onet_29_3_healthcare"
pytestmark = pytest.mark.skipif(not FOLDER.is_dir(), reason=f"reference data not present: {FOLDER}")

IDS = Ids()
RN = "onet-29-1141.00"  # Registered Nurses


def load(folder=FOLDER, **options):
    return get("onet").load(Source.from_path(folder), Context(ids=IDS, options=options))


@pytest.fixture(scope="module")
def loaded():
    t0 = time.perf_counter()
    delta = load()
    return delta, time.perf_counter() - t0


@pytest.fixture(scope="module")
def delta(loaded):
    return loaded[0]


@pytest.fixture(scope="module")
def fw_graph(delta):
    return delta.graphs[IDS.graph("framework", "onet")]


@pytest.fixture(scope="module")
def roles_graph(delta):
    return delta.graphs[IDS.graph("roles", "onet")]


def req(element, role=RN, fw="onet"):
    return IDS.requirement(role, fw, element)


def test_loads_fast(loaded):
    assert loaded[1] < 5.0, f"O*NET load took {loaded[1]:.2f} s"


def test_counts(delta, fw_graph, roles_graph):
    s = delta.summary
    # 35 skills + 33 knowledge elements; 7 skill groups + 8 knowledge groups + "Knowledge" itself (2.C.6, 2.C.10)
    assert (s["competencies"], s["domains"]) == (68, 16)
    assert len(set(fw_graph.subjects(RDF.type, GM.Competency))) == 68
    assert len(set(fw_graph.subjects(RDF.type, GM.Domain))) == 16
    # 116 occupations, 99 of them rated
    assert (s["roles"], s["roles_without_ratings"]) == (116, 17)
    assert len(set(roles_graph.subjects(RDF.type, GM.JobRole))) == 116
    assert s["requirements"] == s["essential"] + s["optional"] == 2589
    assert (s["essential"], s["optional"]) == (1344, 1245)
    assert len(set(roles_graph.subjects(RDF.type, GM.RoleRequirement))) == 2589
    assert len(set(roles_graph.subjects(GM.relation, GM.Essential))) == 1344
    assert s["skipped_not_relevant"] == 334 + 519
    levels = {int(o) for o in roles_graph.objects(None, GM.requiredLevel)}
    assert levels <= {1, 2, 3, 4, 5}


def test_competencies_and_domains(fw_graph):
    med = IDS.concept("onet", "2.C.5.a")
    assert str(fw_graph.value(med, SKOS.prefLabel)) == "Medicine and Dentistry"
    assert str(fw_graph.value(med, SKOS.definition)).startswith("Knowledge of the information and techniques")
    assert fw_graph.value(med, SKOS.broader) == IDS.concept("onet", "2.C.5")
    assert str(fw_graph.value(IDS.concept("onet", "2.C.5"), SKOS.prefLabel)) == "Knowledge: Health Services"
    assert str(fw_graph.value(IDS.concept("onet", "2.A.1"), SKOS.prefLabel)) == "Basic Skills: Content"
    assert fw_graph.value(IDS.concept("onet", "2.C.6"), SKOS.broader) == IDS.concept("onet", "2.C")
    assert (IDS.concept("onet", "2.A.1.a"), RDF.type, GM.Competency) in fw_graph


def test_known_ratings_mapped_as_documented(roles_graph):
    role = IDS.role(RN)
    assert str(roles_graph.value(role, DCTERMS.title)) == "Registered Nurses"
    assert roles_graph.value(role, GM.track) == GM.ClinicalTrack
    assert roles_graph.value(role, vocab.SCHEMA.occupationalCategory) == Literal("29-1141.00")
    assert "Job Zone 4" in str(roles_graph.value(role, vocab.SCHEMA.educationRequirements))
    # Medicine and Dentistry: IM 4.36, LV 4.47 -> level floor(1 + 4*4.47/7 + .5) = 4, essential (IM >= 3.5)
    r = req("2.C.5.a")
    assert roles_graph.value(r, GM.requirementOf) == role
    assert roles_graph.value(r, GM.requiresCompetency) == IDS.concept("onet", "2.C.5.a")
    assert roles_graph.value(r, GM.importance).toPython() == Decimal("4.36")
    assert roles_graph.value(r, GM.requiredLevel) == Literal(4)
    assert roles_graph.value(r, GM.relation) == GM.Essential
    assert (role, ESCO.relatedEssentialSkill, IDS.concept("onet", "2.C.5.a")) in roles_graph
    assert (role, vocab.SCHEMA.competencyRequired, IDS.concept("onet", "2.C.5.a")) in roles_graph
    # Active Learning: IM 3.5 exactly -> essential; LV 4.12 -> 3
    assert roles_graph.value(req("2.A.2.b"), GM.relation) == GM.Essential
    assert roles_graph.value(req("2.A.2.b"), GM.requiredLevel) == Literal(3)
    # Learning Strategies: IM 3.25 -> optional; LV 3.62 -> 3
    assert roles_graph.value(req("2.A.2.c"), GM.relation) == GM.Optional
    assert (role, ESCO.relatedOptionalSkill, IDS.concept("onet", "2.A.2.c")) in roles_graph
    # Operations Monitoring: IM 3.0 exactly -> kept (min_importance 3.0), optional, LV 2.88 -> 3
    assert roles_graph.value(req("2.B.3.g"), GM.relation) == GM.Optional
    assert roles_graph.value(req("2.B.3.g"), GM.requiredLevel) == Literal(3)
    # Biology IM 3.02 kept; Physics (IM < 3) not a requirement
    assert (req("2.C.4.d"), RDF.type, GM.RoleRequirement) in roles_graph
    assert (req("2.C.4.c"), RDF.type, GM.RoleRequirement) not in roles_graph
    assert len(set(roles_graph.subjects(GM.requirementOf, role))) == 29
    # Family Medicine Physicians: Medicine and Dentistry IM 5, LV 5.89 -> 4
    fm = req("2.C.5.a", role="onet-29-1215.00")
    assert roles_graph.value(fm, GM.importance).toPython() == Decimal("5")
    assert roles_graph.value(fm, GM.requiredLevel) == Literal(4)


def test_support_occupations_are_clinical(roles_graph):
    aides = IDS.role("onet-31-1122.00")  # Personal Care Aides
    assert roles_graph.value(aides, GM.track) == GM.ClinicalTrack
    assert set(roles_graph.objects(None, GM.track)) == {GM.ClinicalTrack}


def test_suppressed_and_not_relevant_are_skipped(roles_graph):
    # Sports Medicine Physicians / Science: IM 3.25 but O*NET recommends suppressing its LV estimate
    assert (req("2.A.1.f", role="onet-29-1229.06"), RDF.type, GM.RoleRequirement) not in roles_graph
    d = load(occupations="29-1011.00", min_importance="1")
    g = d.graphs[IDS.graph("roles", "onet")]
    assert (req("2.C.2.b", role="onet-29-1011.00"), None, None) not in g  # Food Production, not_relevant=Y
    assert (req("2.C.1.c", role="onet-29-1011.00"), RDF.type, GM.RoleRequirement) in g  # IM 2.94, relevant


def test_lv_to_level():
    assert [lv_to_level(x) for x in (0, 0.87, 1.75, 3.5, 5.25, 6.99, 7)] == [1, 1, 2, 3, 4, 5, 5]


def test_options():
    d = load(occupations=["29-1141.00", "31-1122.00"], min_importance=4.0, essential_importance="4.5",
             id="onet293", roles_id="onet-nursing", domains="kind")
    g = d.graphs[IDS.graph("roles", "onet-nursing")]
    fw = d.graphs[IDS.graph("framework", "onet293")]
    assert d.summary["roles"] == 2 and d.summary["domains"] == 2 and d.summary["competencies"] == 68
    assert {str(o) for o in fw.objects(None, SKOS.notation)} >= {"skills", "knowledge"}
    r = IDS.requirement("onet-nursing-29-1141.00", "onet293", "2.C.5.a")
    assert g.value(r, GM.relation) == GM.Optional  # 4.36 < 4.5
    assert g.value(r, GM.requiresCompetency) == IDS.concept("onet293", "2.C.5.a")
    assert all(float(o) >= 4.0 for o in g.objects(None, GM.importance))
    with pytest.raises(LoadError) as e:
        load(occupations="29-9999.00")
    assert e.value.column == "occupations"
    with pytest.raises(LoadError) as e:
        load(min_importance="high")
    assert e.value.column == "min_importance"


def test_delta_loads_into_store(delta):
    from ontology.store import open_store
    s = open_store(None)
    s.replace_graphs(delta.graphs)
    q = """SELECT (COUNT(?r) AS ?n) WHERE {
             ?r a gm:RoleRequirement ; gm:relation gm:Essential ; gm:requirementOf ?role .
             ?role a gm:JobRole . }"""
    assert int(next(iter(s.query(q)))[0]) == 1344
    q = """SELECT ?level WHERE { ?r gm:requirementOf ?role ; gm:requiresCompetency ?c ; gm:requiredLevel ?level .
             ?role dcterms:title "Registered Nurses" . ?c skos:prefLabel "Medicine and Dentistry"@en }"""
    assert [int(row[0]) for row in s.query(q)] == [4]


def test_conforms_to_shapes():
    pytest.importorskip("ontology.shacl")
    from ontology.ingest import ingest
    from ontology.store import open_store
    res = ingest(open_store(None), load(occupations="29-1141.00;29-1215.00;31-1122.00"))
    assert res.summary["roles"] == 3


# --- bad input: a copy of the real folder, broken one way ---------------------------------------------------
def copy_folder(tmp_path: Path) -> Path:
    return folders.copy_folder(FOLDER, tmp_path)


def expect_error(folder, file, row, column, match=None):
    return folders.expect_error(load, folder, file, row, column, match)


def test_missing_file(tmp_path):
    folder = copy_folder(tmp_path)
    (folder / "job_zones.csv").unlink()
    expect_error(folder, "job_zones.csv", None, None, "no job_zones.csv")


def test_missing_column(tmp_path):
    folder = copy_folder(tmp_path)
    edit_line(folder / "skills_im_lv.csv", 1, b"importance_im", b"importance")
    expect_error(folder, "skills_im_lv.csv", 1, "importance_im", "missing column")


def test_empty_file(tmp_path):
    folder = copy_folder(tmp_path)
    (folder / "knowledge_im_lv.csv").write_bytes(b"  \r\n")
    expect_error(folder, "knowledge_im_lv.csv", None, None, "empty")


def test_not_utf8(tmp_path):
    folder = copy_folder(tmp_path)
    edit_line(folder / "occupations.csv", 3, b"Dentists, General", b"Dentists, G\xe9n\xe9ral")
    expect_error(folder, "occupations.csv", 3, "title", "UTF-8")


def test_importance_not_a_number(tmp_path):
    folder = copy_folder(tmp_path)
    edit_line(folder / "skills_im_lv.csv", 772, b",3.88,", b",high,")  # Registered Nurses, Reading Comprehension
    err = expect_error(folder, "skills_im_lv.csv", 772, "importance_im", "not a number")
    assert "'high'" in err.message


def test_level_out_of_range(tmp_path):
    folder = copy_folder(tmp_path)
    edit_line(folder / "knowledge_im_lv.csv", 748, b",4.47,", b",7.5,")  # RN, Medicine and Dentistry
    expect_error(folder, "knowledge_im_lv.csv", 748, "level_lv", "out of range")


def test_unknown_element(tmp_path):
    folder = copy_folder(tmp_path)
    edit_line(folder / "knowledge_im_lv.csv", 748, b",2.C.5.a,", b",2.C.5.z,")
    expect_error(folder, "knowledge_im_lv.csv", 748, "element_id", "not in content_model_reference.csv")


def test_rating_for_unknown_occupation(tmp_path):
    folder = copy_folder(tmp_path)
    edit_line(folder / "skills_im_lv.csv", 2837, b"31-1122.00", b"31-1199.00")
    expect_error(folder, "skills_im_lv.csv", 2837, "onet_soc_code", "not in occupations.csv")
