"""MedBiquitous Curriculum Inventory in and out: the MedBiquitous v1 sample, a Gapmap program exported and
re-imported with its alignments, XSD validity of exports, broken copies, hostile XML, API and CLI."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from loaders import get
from loaders.base import Context, Source
from loaders.medbiq_ci import ci_schema, export_ci
from ontology.errors import LoadError, NotFound
from ontology.ids import Ids
from ontology.ingest import ingest
from ontology.store import open_store
from ontology.vocab import ACCEPTED, DCTERMS, GM, RDF, SCHEMA, SKOS
from tests.conftest import need_shared

IDS = Ids()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MINI = FIXTURES / "mini"
STUBS = FIXTURES / "medbiq_stubs"


def ci_dir() -> Path:
    return need_shared("frameworks", "interop_samples", "medbiq_curriculum_inventory")


@pytest.fixture(scope="module")
def schema():
    return ci_schema(ci_dir() / "v1_curriculuminventory.xsd", STUBS)


@pytest.fixture(scope="module")
def sample_bytes() -> bytes:
    return (ci_dir() / "v1_sample_curriculuminventory.xml").read_bytes()


def load(data: bytes, name="ci.xml", store=None, **options):
    return get("medbiq-ci").load(Source(name=name, data=data), Context(ids=IDS, store=store, options=options))


def only_graph(delta) -> Graph:
    (g,) = delta.graphs.values()
    return g


def assert_same(g1: Graph, g2: Graph):
    if not isomorphic(g1, g2):
        _, a, b = graph_diff(to_isomorphic(g1), to_isomorphic(g2))
        pytest.fail(f"graphs differ: only first {sorted(a)[:5]} only second {sorted(b)[:5]}")


def errors(schema, xml: bytes) -> list[str]:
    return [f"{e.path}: {e.reason}" for e in schema.iter_errors(xml.decode("utf-8"))]


def test_stubbed_schema_accepts_the_medbiquitous_sample(schema, sample_bytes):
    # the stubs are faithful enough that the standard's own sample validates
    assert errors(schema, sample_bytes) == []


def test_sample_import(sample_bytes):
    d = load(sample_bytes)
    assert d.summary == {"programs": 1, "courses": 3, "sessions": 4, "objectives": 2, "alignments": 0,
                         "unplaced_competency_objects": 0}
    g = only_graph(d)
    p = IDS.program("m.d")
    assert str(g.value(p, DCTERMS.title)) == "M.D." and str(g.value(p, DCTERMS.identifier)) == "5678"
    assert str(g.value(p, SCHEMA.provider)) == "NoSuch University School of Medicine"
    # blocks with events are courses with the year of their academic level; "Year 1" (c) only groups blocks
    courses = {str(g.value(c, SKOS.notation)): int(g.value(c, GM.year)) for c in g.subjects(RDF.type, GM.Course)}
    assert courses == {"e": 1, "f": 1, "d": 2}
    s = IDS.session("d", "E3")
    assert g.value(s, GM.partOfCourse) == IDS.course("d") and str(g.value(s, DCTERMS.title)) == "Peds Part 1"
    assert g.value(s, SCHEMA.timeRequired).toPython() is not None
    assert str(g.value(s, SCHEMA.learningResourceType)) == "Clinical Experience - Inpatient"
    # the competency object referenced by events E1 and E2 is an objective of each session
    o = IDS.objective("e.E1.zxcvb")
    assert str(g.value(o, GM.text)) == "Professionalism" and g.value(o, GM.objectiveOf) == IDS.session("e", "E1")
    assert g.value(o, DCTERMS.source) == URIRef("http://nosuchdomain.edu/zxcvb")
    assert (IDS.objective("f.E2.zxcvb"), GM.inCourse, IDS.course("f")) in g


def test_sample_ingests_and_round_trips(schema, sample_bytes):
    d = load(sample_bytes)
    st = open_store(None)
    ingest(st, d)
    xml = export_ci(st, IDS, "m.d")
    assert errors(schema, xml) == []
    assert_same(only_graph(d), only_graph(load(xml)))


@pytest.fixture(scope="module")
def mini_store():
    from service.workspace import Workspace
    from service.config import Config
    st = open_store(None)
    ws = Workspace(store=st, ids=IDS, config=Config())
    ws.load_manifest(MINI / "manifest.json")
    return st


def test_program_export_keeps_alignments(schema, mini_store):
    xml = export_ci(mini_store, IDS, "mini")
    assert errors(schema, xml) == []
    assert b"cf:Relation" in xml
    # into a store with the framework only: objectives, sessions, and the accepted alignments come back
    st = open_store(None)
    ingest(st, get("framework-csv").load(Source.from_path(MINI / "framework.csv"),
                                         Context(ids=IDS, options={"id": "mini"})))
    d = load(xml, store=st, framework="mini")
    assert d.summary["courses"] == 2 and d.summary["objectives"] == 5 and d.summary["sessions"] == 3
    g = only_graph(d)
    aligned = {(str(g.value(a, GM.alignedObjective)).rsplit("/", 1)[-1], str(g.value(a, GM.alignedCompetency)).rsplit("/", 1)[-1])
               for a in g.subjects(RDF.type, GM.Alignment) if (a, GM.status, ACCEPTED) in g}
    assert aligned == {("O1", "PC1"), ("O2", "PC2"), ("O2", "PC2.1"), ("O3", "PC2"), ("O4", "CM2")}
    assert g.value(IDS.objective("O2"), GM.objectiveOf) == IDS.session("MED-101", "S2")
    assert g.value(IDS.objective("O3"), GM.objectiveOf) == IDS.course("MED-201")
    ingest(st, d)
    # round trip: import -> export -> import is the same graph
    xml2 = export_ci(st, IDS, "mini")
    assert errors(schema, xml2) == []
    assert_same(g, only_graph(load(xml2, store=st, framework="mini")))


def test_export_unknown_program(mini_store):
    with pytest.raises(NotFound):
        export_ci(mini_store, IDS, "nope")


# Broken and hostile documents ---------------------------------------------------------------------
def edit(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data, old
    return data.replace(old, new, 1)


def line_of(data: bytes, needle: bytes) -> int:
    return data[: data.index(needle)].count(b"\n") + 1


@pytest.mark.parametrize("old, new, column, match", [
    (b"<Title>Peds Part 1</Title>", b"", "Event[@id='E3']/Title", "has no Title"),
    (b"<EventDuration>PT20H</EventDuration>", b"<EventDuration>20 hours</EventDuration>",
     "Event[@id='E3']/EventDuration", "not a duration"),
    (b"Events/Event[@id='E3']", b"Events/Event[@id='E9']", "SequenceBlock[@id='d']/SequenceBlockEvent/EventReference",
     "no Event has the id 'E9'"),
    (b"Level[@number='2']</Level>", b"Level[@number='7']</Level>", "SequenceBlock[@id='d']/Level",
     "not declared"),
    (b"<Event id=\"E4\">", b"<Event id=\"E3\">", "Event[@id='E3']/@id", "appears twice"),
    (b"lom:entry='zxcvb']</CompetencyObjectReference>\n\t\t\t<InstructionalMethod",
     b"lom:entry='nope']</CompetencyObjectReference>\n\t\t\t<InstructionalMethod",
     "Event[@id='E1']/CompetencyObjectReference", "no CompetencyObject"),
])
def test_broken_copies_name_element_and_line(sample_bytes, old, new, column, match):
    bad = edit(sample_bytes, old, new)
    with pytest.raises(LoadError) as e:
        load(bad, name="broken.xml")
    err = e.value
    assert err.file == "broken.xml" and err.column == column and match in err.message, str(err)
    assert isinstance(err.row, int) and err.row > 1


def test_error_line_is_the_elements_line(sample_bytes):
    bad = edit(sample_bytes, b"<EventDuration>PT20H</EventDuration>", b"<EventDuration>soon</EventDuration>")
    with pytest.raises(LoadError) as e:
        load(bad)
    assert e.value.row == line_of(bad, b"<EventDuration>soon")


def test_not_well_formed_names_the_line(sample_bytes):
    bad = edit(sample_bytes, b"</Description>\n\t\t\t<InstructionalMethod", b"</Descr>\n\t\t\t<InstructionalMethod")
    with pytest.raises(LoadError) as e:
        load(bad)
    assert "not well-formed" in e.value.message and e.value.row == line_of(bad, b"</Descr>")


@pytest.mark.parametrize("doc", [
    b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n<r>&b;</r>',
    b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<r>&x;</r>',
])
def test_hostile_xml_refused(doc):
    with pytest.raises(LoadError, match="refused"):
        load(doc)


def test_wrong_root():
    with pytest.raises(LoadError, match="not a MedBiquitous CurriculumInventory"):
        load(b"<CurriculumReport xmlns='http://ns.medbiq.org/curriculumreport/v1/'/>")


def test_bad_upload_writes_nothing(app, auth, sample_bytes):
    from service.extensions import gapmap
    client = app.test_client()
    with app.app_context():
        before = len(gapmap().store)
    bad = edit(sample_bytes, b"<Title>Peds Part 1</Title>", b"")
    r = client.post("/api/load/medbiq-ci", headers=auth("admin"), data={"file": (io.BytesIO(bad), "ci.xml")})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["column"] == "Event[@id='E3']/Title" and body["row"] == line_of(bad, b'<Event id="E3">')
    with app.app_context():
        assert len(gapmap().store) == before


def test_api_and_cli(app, auth, tmp_path, schema, sample_bytes):
    from click.testing import CliRunner

    from service.cli import main
    client = app.test_client()
    r = client.post("/api/load/medbiq-ci", headers=auth("admin"),
                    data={"file": (io.BytesIO(sample_bytes), "ci.xml"), "program": "nosuch"})
    assert r.status_code == 201, r.get_json()
    r = client.get("/api/programs/nosuch/curriculum-inventory", headers=auth("viewer"))
    assert r.status_code == 200 and r.mimetype == "application/xml"
    assert errors(schema, r.data) == []
    assert client.get("/api/programs/nope/curriculum-inventory", headers=auth("viewer")).status_code == 404

    store = tmp_path / "store"
    runner = CliRunner()
    res = runner.invoke(main, ["--store", str(store), "load", "medbiq-ci",
                               str(ci_dir() / "v1_sample_curriculuminventory.xml"), "-o", "program=md2"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "ci.xml"
    res = runner.invoke(main, ["--store", str(store), "export", "ci", "md2", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert errors(schema, out.read_bytes()) == []


def test_v2_document(sample_bytes):
    """CI v2 names a block's levels with SequenceBlockLevels/StartingAcademicLevel."""
    import re
    v2 = sample_bytes.replace(b"http://ns.medbiq.org/curriculuminventory/v1/", b"http://ns.medbiq.org/curriculuminventory/v2/")
    v2 = re.sub(rb"<Level>([^<]+)</Level>", rb"<SequenceBlockLevels><StartingAcademicLevel>\1</StartingAcademicLevel>"
                rb"<EndingAcademicLevel>\1</EndingAcademicLevel></SequenceBlockLevels>", v2)
    assert_same(only_graph(load(sample_bytes)), only_graph(load(v2)))


def test_course_codes_of_another_program_are_refused(sample_bytes):
    """Block ids become course codes, which are global: a clash with another program's course is an error
    naming the block, and the option prefix avoids it."""
    st = open_store(None)
    ingest(st, load(sample_bytes, program="one"))
    with pytest.raises(LoadError) as e:
        load(sample_bytes, store=st, program="two")
    assert "already belongs to program 'one'" in e.value.message and e.value.column.startswith("SequenceBlock[@id=")
    d = load(sample_bytes, store=st, program="two", prefix="two-")
    assert {str(c).rsplit("/", 1)[-1] for c in only_graph(d).subjects(RDF.type, GM.Course)} == {"two-e", "two-f", "two-d"}
    # reloading the same program is fine
    load(sample_bytes, store=st, program="one")
