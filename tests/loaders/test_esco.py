"""The ESCO loader on the real ESCO v1.1.1 health subset in ../shared/frameworks."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.loaders import folders
from tests.loaders.folders import edit_line
from rdflib import Literal, URIRef

from loaders import get
from loaders.base import Context, Source
from ontology.errors import LoadError
from ontology.ids import Ids
from ontology import vocab
from ontology.vocab import DCTERMS, ESCO, GM, RDF, SKOS

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FOLDER = SHARED / "frameworks" / "esco_1_1_1_health"
pytestmark = pytest.mark.skipif(not FOLDER.is_dir(), reason=f"reference data not present: {FOLDER}")

IDS = Ids()
GP = "71f09c8b-a172-408c-b9e7-32e580e39ff6"              # general practitioner, ISCO 2211
GP_ESSENTIAL = "371f44ba-4a83-4726-89d1-cb527d7ced5c"    # provide healthcare services to patients in general ...
GP_OPTIONAL = "9437a218-22d2-4eb7-bc64-b4555eb4a95f"     # teach medicine
CLINICAL_INFORMATICS_MANAGER = "ef909843-97c6-4c48-8038-2e7aefdfcad5"  # ISCO 1342


def load(folder=FOLDER, **options):
    return get("esco").load(Source.from_path(folder), Context(ids=IDS, options=options))


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
    return delta.graphs[IDS.graph("framework", "esco")]


@pytest.fixture(scope="module")
def roles_graph(delta):
    return delta.graphs[IDS.graph("roles", "esco")]


def test_loads_fast(loaded):
    assert loaded[1] < 5.0, f"ESCO load took {loaded[1]:.2f} s"


def test_counts(delta, fw_graph, roles_graph):
    assert delta.summary == {"domains": 2, "competencies": 2116, "roles": 130, "requirements": 6609,
                             "essential": 4246, "optional": 2363}
    assert len(set(fw_graph.subjects(RDF.type, GM.Competency))) == 2116
    assert len(set(roles_graph.subjects(RDF.type, GM.JobRole))) == 130
    reqs = set(roles_graph.subjects(RDF.type, GM.RoleRequirement))
    assert len(reqs) == 6609
    assert len(set(roles_graph.subjects(GM.relation, GM.Essential))) == 4246
    assert len(set(roles_graph.subjects(GM.relation, GM.Optional))) == 2363
    assert set(roles_graph.objects(None, GM.requiredLevel)) == {Literal(3)}


def test_skill_keeps_esco_uri_labels_and_domain(fw_graph):
    skill = IDS.concept("esco", GP_ESSENTIAL)
    assert (skill, SKOS.exactMatch, URIRef(f"http://data.europa.eu/esco/skill/{GP_ESSENTIAL}")) in fw_graph
    assert fw_graph.value(skill, SKOS.notation) == Literal(GP_ESSENTIAL)
    label = "provide healthcare services to patients in general medical practice"
    assert str(fw_graph.value(skill, SKOS.prefLabel)) == label
    assert fw_graph.value(skill, SKOS.definition) is not None
    assert fw_graph.value(skill, SKOS.broader) == IDS.concept("esco", "skills")
    # alt labels: the label itself is not repeated as an alt label
    tox = IDS.concept("esco", "000bb1e4-89f0-4b86-be05-05ece3641724")
    alts = {str(a) for a in fw_graph.objects(tox, SKOS.altLabel)}
    assert "apply toxicological testing methods" in alts and "perform toxicological studies" not in alts
    knowledge = IDS.concept("esco", "00506f28-e884-4496-800c-3477c67eb355")  # sport and exercise medicine
    assert fw_graph.value(knowledge, SKOS.broader) == IDS.concept("esco", "knowledge")
    assert (IDS.concept("esco", "knowledge"), RDF.type, GM.Domain) in fw_graph


def test_known_occupation_requirements(roles_graph):
    role = IDS.role(f"esco-{GP}")
    assert str(roles_graph.value(role, DCTERMS.title)) == "general practitioner"
    assert roles_graph.value(role, GM.track) == GM.ClinicalTrack
    assert roles_graph.value(role, vocab.SCHEMA.occupationalCategory) == Literal("2211")
    assert roles_graph.value(role, DCTERMS.identifier) == Literal("2211.1")
    assert (role, SKOS.exactMatch, URIRef(f"http://data.europa.eu/esco/occupation/{GP}")) in roles_graph
    ess, opt = IDS.concept("esco", GP_ESSENTIAL), IDS.concept("esco", GP_OPTIONAL)
    req = IDS.requirement(f"esco-{GP}", "esco", GP_ESSENTIAL)
    assert roles_graph.value(req, GM.requirementOf) == role
    assert roles_graph.value(req, GM.requiresCompetency) == ess
    assert roles_graph.value(req, GM.relation) == GM.Essential
    assert roles_graph.value(req, GM.requiredLevel) == Literal(3)
    assert (role, ESCO.relatedEssentialSkill, ess) in roles_graph
    assert (role, ESCO.relatedOptionalSkill, opt) in roles_graph
    assert (role, ESCO.relatedEssentialSkill, opt) not in roles_graph
    assert roles_graph.value(IDS.requirement(f"esco-{GP}", "esco", GP_OPTIONAL), GM.relation) == GM.Optional
    assert len(set(roles_graph.subjects(GM.requirementOf, role))) == 46


def test_tracks_by_isco_group(roles_graph):
    assert roles_graph.value(IDS.role(f"esco-{CLINICAL_INFORMATICS_MANAGER}"), GM.track) == GM.LeadershipTrack
    leaders = set(roles_graph.subjects(GM.track, GM.LeadershipTrack))
    assert len(leaders) == 3  # two 1342 + one 1343 occupations
    assert len(set(roles_graph.subjects(GM.track, GM.ClinicalTrack))) == 127


def test_options_restrict_and_rename():
    d = load(isco_groups="2211;1343", id="eu-skills", roles_id="eu", domains="reuse_level", required_level="2")
    roles = d.graphs[IDS.graph("roles", "eu")]
    fw = d.graphs[IDS.graph("framework", "eu-skills")]
    assert d.summary["roles"] == 2 and d.summary["competencies"] == 2116 and d.summary["domains"] == 3
    assert set(roles.objects(None, GM.requiredLevel)) == {Literal(2)}
    assert (IDS.role(f"eu-{GP}"), RDF.type, GM.JobRole) in roles
    assert (IDS.concept("eu-skills", "cross-sector"), RDF.type, GM.Domain) in fw
    # an ISCO prefix keeps all groups under it
    assert load(isco_groups=["22"]).summary["roles"] == 59
    with pytest.raises(LoadError) as e:
        load(isco_groups="9999")
    assert e.value.column == "isco_groups"
    with pytest.raises(LoadError):
        load(required_level="7")


def test_delta_loads_into_store(delta):
    from ontology.store import open_store
    s = open_store(None)
    s.replace_graphs(delta.graphs)
    q = """SELECT (COUNT(?r) AS ?n) WHERE {
             ?r a gm:RoleRequirement ; gm:relation gm:Essential ; gm:requiresCompetency ?c .
             ?c a gm:Competency ; skos:inScheme ?fw . ?fw skos:notation "esco" }"""
    assert int(next(iter(s.query(q)))[0]) == 4246


def test_conforms_to_shapes(tmp_path):
    pytest.importorskip("ontology.shacl")
    from ontology.ingest import ingest
    from ontology.store import open_store
    d = load(isco_groups="2211;2212;1342")
    res = ingest(open_store(None), d)
    assert res.summary["roles"] == 4


# --- bad input: a copy of the real folder, broken one way ---------------------------------------------------
def copy_folder(tmp_path: Path) -> Path:
    return folders.copy_folder(FOLDER, tmp_path)


def expect_error(folder, file, row, column, match=None):
    return folders.expect_error(load, folder, file, row, column, match)


def test_missing_file(tmp_path):
    folder = copy_folder(tmp_path)
    (folder / "skills.csv").unlink()
    expect_error(folder, "skills.csv", None, None, "no skills.csv")


def test_missing_column(tmp_path):
    folder = copy_folder(tmp_path)
    edit_line(folder / "occupation_skill_relations.csv", 1, b"skill_uri", b"skill")
    expect_error(folder, "occupation_skill_relations.csv", 1, "skill_uri", "missing column")


def test_empty_file(tmp_path):
    folder = copy_folder(tmp_path)
    (folder / "occupations.csv").write_bytes(b"")
    expect_error(folder, "occupations.csv", None, None, "empty")
    (folder / "occupations.csv").write_bytes((FOLDER / "occupations.csv").read_bytes().split(b"\n")[0] + b"\n")
    expect_error(folder, "occupations.csv", 2, None, "no rows")


def test_not_utf8(tmp_path):
    folder = copy_folder(tmp_path)
    edit_line(folder / "skills.csv", 2, b"perform toxicological studies,", b"perform toxicological st\xfcdies,")
    expect_error(folder, "skills.csv", 2, "label", "UTF-8")


def test_relation_to_unknown_skill(tmp_path):
    folder = copy_folder(tmp_path)
    edit_line(folder / "occupation_skill_relations.csv", 11, b"/esco/skill/", b"/esco/skill/0000")
    expect_error(folder, "occupation_skill_relations.csv", 11, "skill_uri", "unknown skill")


def test_bad_relation_type(tmp_path):
    folder = copy_folder(tmp_path)
    edit_line(folder / "occupation_skill_relations.csv", 5, b",essential,", b",required,")
    expect_error(folder, "occupation_skill_relations.csv", 5, "relation_type")


def test_not_a_folder():
    with pytest.raises(LoadError):
        get("esco").load(Source.from_path(FOLDER / "skills.csv"), Context())
