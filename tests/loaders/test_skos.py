"""The SKOS loader: a hand-made scheme, every RDF syntax, a SKOS export of the real AAMC PCRS, bad input."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef

from loaders import for_media_type, get
from loaders.base import Context, Source
from ontology.errors import LoadError
from ontology.ids import Ids
from ontology.vocab import DCTERMS, GM, RDF, SKOS

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "skos" / "clinical_reasoning.ttl"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
PCRS = SHARED / "frameworks" / "aamc_pcrs" / "pcrs_competencies.csv"
CR = Namespace("http://example.org/clinical-reasoning/")
IDS = Ids()
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


def load(path: Path, **options):
    return get("skos").load(Source.from_path(path), Context(ids=IDS, options=options))


def c(notation, fw="cr"):
    return IDS.concept(fw, notation)


@pytest.fixture(scope="module")
def delta():
    return load(FIXTURE)


@pytest.fixture(scope="module")
def g(delta):
    return delta.graphs[IDS.graph("framework", "cr")]


def test_registered_for_rdf_media_types():
    for mt in ("text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples"):
        assert for_media_type(mt).name == "skos"


def test_scheme_becomes_framework(delta, g):
    assert delta.summary == {"domains": 2, "competencies": 4}
    fw = IDS.framework("cr")
    assert (fw, RDF.type, GM.Framework) in g
    assert str(g.value(fw, DCTERMS.title)) == "Clinical Reasoning Framework"
    assert g.value(fw, DCTERMS.hasVersion) == Literal("2024.1")
    assert g.value(fw, DCTERMS.source) == CR.scheme
    assert set(g.objects(fw, SKOS.hasTopConcept)) == {c("DG"), c("MG")}


def test_concepts_reminted(g):
    # top concepts declared either way are domains
    for d in ("DG", "MG"):
        assert (c(d), RDF.type, GM.Domain) in g and (c(d), SKOS.topConceptOf, IDS.framework("cr")) in g
    assert {o.language for o in g.objects(c("DG"), SKOS.prefLabel)} == {"en", "fr"}
    # skos:narrower on the parent is read as broader; labels, definitions, original IRI kept
    dg1 = c("DG1")
    assert (dg1, RDF.type, GM.Competency) in g and g.value(dg1, SKOS.broader) == c("DG")
    assert {str(o) for o in g.objects(dg1, SKOS.altLabel)} == {"Differential", "DDx"}
    assert str(g.value(dg1, SKOS.definition)).startswith("Build a prioritised differential")
    assert g.value(dg1, SKOS.exactMatch) == CR.DG1
    # no notation: slug of the IRI's last segment; invalid notation: slugged
    sdm = c("shared-decision-making")
    assert g.value(sdm, SKOS.notation) == Literal("shared-decision-making")
    assert g.value(sdm, SKOS.broader) == c("MG")
    assert g.value(c("DG1-a"), SKOS.broader) == dg1  # a sub-competency
    assert g.value(c("DG1-a"), SKOS.exactMatch) == CR.DG1a
    # nothing of the source IRIs is used as a subject
    assert not {s for s in g.subjects() if str(s).startswith(str(CR))}


def test_options_override(tmp_path):
    d = load(FIXTURE, id="reasoning", title="Reasoning", version="2")
    g = d.graphs[IDS.graph("framework", "reasoning")]
    assert str(g.value(IDS.framework("reasoning"), DCTERMS.title)) == "Reasoning"
    assert g.value(IDS.framework("reasoning"), DCTERMS.hasVersion) == Literal("2")
    assert (c("DG1", "reasoning"), RDF.type, GM.Competency) in g


@pytest.mark.parametrize("fmt,ext", [("xml", ".rdf"), ("json-ld", ".jsonld"), ("nt", ".nt"), ("xml", ""),
                                     ("json-ld", ""), ("nt", "")])
def test_every_syntax_gives_the_same_graph(tmp_path, g, fmt, ext):
    src = Graph().parse(FIXTURE)
    path = tmp_path / f"scheme{ext}"
    path.write_text(src.serialize(format=fmt), "utf-8")
    other = load(path).graphs[IDS.graph("framework", "cr")]
    assert set(other) == set(g)


def pcrs_scheme(tmp_path: Path) -> Path:
    """A SKOS export of the real PCRS CSV, made at test time (never committed)."""
    ns = Namespace("https://example.org/aamc-pcrs/")
    out = Graph()
    out.add((ns.scheme, RDF.type, SKOS.ConceptScheme))
    out.add((ns.scheme, DCTERMS.title, Literal("AAMC Physician Competency Reference Set", lang="en")))
    out.add((ns.scheme, SKOS.notation, Literal("pcrs")))
    with PCRS.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            dom = ns[f"d{row['domain_id']}"]
            out.add((dom, RDF.type, SKOS.Concept))
            out.add((dom, SKOS.topConceptOf, ns.scheme))
            out.add((dom, SKOS.notation, Literal(row["domain_id"])))
            out.add((dom, SKOS.prefLabel, Literal(row["domain"], lang="en")))
            comp = ns[row["id"].rsplit("-", 1)[-1]]  # aamc-pcrs-comp-c0101 -> c0101, no skos:notation
            out.add((comp, RDF.type, SKOS.Concept))
            out.add((comp, SKOS.inScheme, ns.scheme))
            out.add((comp, SKOS.broader, dom))
            out.add((comp, SKOS.prefLabel, Literal(row["label"], lang="en")))
            out.add((comp, SKOS.definition, Literal(row["description"], lang="en")))
    path = tmp_path / "pcrs.ttl"
    path.write_text(out.serialize(format="turtle"), "utf-8")
    return path


@pytest.mark.skipif(not PCRS.is_file(), reason=f"reference data not present: {PCRS}")
def test_pcrs_export(tmp_path):
    d = load(pcrs_scheme(tmp_path))
    assert d.summary == {"domains": 8, "competencies": 66}
    g = d.graphs[IDS.graph("framework", "pcrs")]
    comp = c("c0102", "pcrs")
    assert str(g.value(comp, SKOS.prefLabel)) == "Patient Care 1.2"
    assert str(g.value(comp, SKOS.definition)).startswith("Gather essential and accurate information about patients")
    assert g.value(comp, SKOS.broader) == c("01", "pcrs")
    assert str(g.value(c("01", "pcrs"), SKOS.prefLabel)) == "Patient Care"
    assert g.value(comp, SKOS.exactMatch) == URIRef("https://example.org/aamc-pcrs/c0102")

    from ontology.store import open_store
    s = open_store(None)
    s.replace_graphs(d.graphs)
    q = """SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {
             ?c a gm:Competency ; skos:broader ?d . ?d a gm:Domain ; skos:inScheme ?fw . ?fw skos:notation "pcrs" }"""
    assert int(next(iter(s.query(q)))[0]) == 66


def test_delta_loads_into_store_and_conforms(delta):
    from ontology.store import open_store
    s = open_store(None)
    s.replace_graphs(delta.graphs)
    q = "SELECT (COUNT(?c) AS ?n) WHERE { ?c a gm:Competency ; skos:inScheme ?fw . ?fw skos:notation 'cr' }"
    assert int(next(iter(s.query(q)))[0]) == 4
    pytest.importorskip("ontology.shacl")
    from ontology.ingest import ingest
    ingest(open_store(None), delta)


def test_flat_scheme_gets_one_domain(tmp_path):
    path = tmp_path / "flat.ttl"
    path.write_text("""@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<http://x.org/s> a skos:ConceptScheme ; skos:prefLabel "Flat list"@en .
<http://x.org/a> a skos:Concept ; skos:prefLabel "A"@en .
<http://x.org/b> a skos:Concept ; skos:inScheme <http://x.org/s> ; skos:prefLabel "B"@en .
""", "utf-8")
    d = load(path)
    g = d.graphs[IDS.graph("framework", "flat-list")]
    assert d.summary == {"domains": 1, "competencies": 2}
    assert g.value(c("a", "flat-list"), SKOS.broader) == c("all", "flat-list")


# --- bad input ---------------------------------------------------------------------------------------------
def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return p


def lines_of_fixture():
    return FIXTURE.read_text("utf-8").split("\n")


def error(path, **options) -> LoadError:
    with pytest.raises(LoadError) as e:
        load(path, **options)
    return e.value


def test_turtle_syntax_error_names_the_line(tmp_path):
    lines = lines_of_fixture()
    n = next(i for i, ln in enumerate(lines, start=1) if '"Test selection"@en' in ln)
    lines[n - 1] = lines[n - 1].replace('"Test selection"@en', '"Test selection@en')
    err = error(write(tmp_path, "bad.ttl", "\n".join(lines)))
    assert (err.file, err.row) == ("bad.ttl", n)
    assert "not valid Turtle" in err.message


def test_rdfxml_syntax_error_names_the_line(tmp_path):
    text = Graph().parse(FIXTURE).serialize(format="xml")
    lines = text.split("\n")
    n = next(i for i, ln in enumerate(lines, start=1) if "</rdf:Description>" in ln)
    lines[n - 1] = lines[n - 1].replace("</rdf:Description>", "</rdf:Descriptio>")
    err = error(write(tmp_path, "bad.rdf", "\n".join(lines)))
    assert (err.file, err.row) == ("bad.rdf", n) and "RDF/XML" in err.message


def test_jsonld_errors(tmp_path):
    err = error(write(tmp_path, "bad.jsonld", '[\n  {"@id": "http://x.org/a",\n   "http://x.org/p": }\n]'))
    assert (err.file, err.row) == ("bad.jsonld", 3) and "JSON-LD" in err.message
    err = error(write(tmp_path, "remote.jsonld", '{"@context": "http://example.org/ctx.jsonld", "@id": "x"}'))
    assert err.column == "@context" and "not fetched" in err.message


def test_ntriples_error_names_the_line(tmp_path):
    text = "\n".join(sorted(Graph().parse(FIXTURE).serialize(format="nt").strip().split("\n")))
    lines = text.split("\n")
    lines.insert(4, "<http://x.org/a> <http://x.org/p> oops .")
    err = error(write(tmp_path, "bad.nt", "\n".join(lines)))
    assert err.row == 5


def test_not_utf8_and_empty(tmp_path):
    raw = FIXTURE.read_bytes().replace("Differential diagnosis".encode(), b"Diff\xe9rential diagnosis")
    line = FIXTURE.read_bytes()[: raw.index(b"\xe9")].count(b"\n") + 1
    err = error(write(tmp_path, "latin1.ttl", raw))
    assert err.row == line and "UTF-8" in err.message
    assert "empty" in error(write(tmp_path, "empty.ttl", b"\n \n")).message


def test_scheme_count(tmp_path):
    none = write(tmp_path, "none.ttl", "<http://x.org/a> a <http://x.org/C> .")
    assert "no skos:ConceptScheme" in error(none).message
    two = FIXTURE.read_text("utf-8") + """
cr:other a skos:ConceptScheme ; skos:notation "other" .
cr:elsewhere a skos:Concept ; skos:inScheme cr:other ; skos:prefLabel "Elsewhere"@en ; skos:topConceptOf cr:other .
"""
    path = write(tmp_path, "two.ttl", two)
    err = error(path)
    assert err.column == "scheme" and "2 concept schemes" in err.message
    d = load(path, scheme=str(CR.scheme))
    assert d.summary == {"domains": 2, "competencies": 4}
    d = load(path, scheme=str(CR.other))  # no hierarchy: one domain "all" holding its one concept
    assert d.summary == {"domains": 1, "competencies": 1}
    assert (c("elsewhere", "other"), SKOS.broader, c("all", "other")) in d.graphs[IDS.graph("framework", "other")]


def test_duplicate_notation(tmp_path):
    text = FIXTURE.read_text("utf-8").replace('skos:notation "DG2"', 'skos:notation "DG1"')
    err = error(write(tmp_path, "dup.ttl", text))
    assert err.column == "skos:notation" and "'DG1'" in err.message
