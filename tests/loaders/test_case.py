"""CASE (1EdTech) in and out: the OpenSALT sample package and spreadsheet, broken copies, export validity,
round trips, the API and CLI."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from loaders import for_media_type, get
from loaders.base import Context, Source
from loaders.case import CASE, export_package, validate_package
from ontology.errors import LoadError, NotFound
from ontology.ids import Ids
from ontology.ingest import ingest
from ontology.store import open_store
from ontology.vocab import DCTERMS, GM, RDF, SCHEMA, SKOS
from tests.conftest import need_shared

IDS = Ids()
FW = "wscb"
MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"
OS = "http://opensalt-staging.opened.com/uri/"


def case_dir() -> Path:
    return need_shared("frameworks", "interop_samples", "case_1edtech")


@pytest.fixture(scope="module")
def sample() -> dict:
    return json.loads((case_dir() / "opensalt_sample_cfpackage.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads((case_dir() / "case-v1p0-cfpackage-schema.json").read_text("utf-8"))


def load_pkg(pkg, fw=FW, name="pkg.json"):
    data = pkg if isinstance(pkg, bytes) else json.dumps(pkg).encode()
    return get("case").load(Source(name=name, data=data), Context(ids=IDS, options={"id": fw} if fw else {}))


def only_graph(delta) -> Graph:
    (g,) = delta.graphs.values()
    return g


def c(notation, fw=FW):
    return IDS.concept(fw, notation)


@pytest.fixture(scope="module")
def g(sample):
    return only_graph(load_pkg(sample))


def assert_same(g1: Graph, g2: Graph):
    if not isomorphic(g1, g2):
        _, a, b = graph_diff(to_isomorphic(g1), to_isomorphic(g2))
        pytest.fail(f"graphs differ: only first {sorted(a)[:5]} only second {sorted(b)[:5]}")


def test_registered():
    assert get("case").name == "case"
    assert for_media_type("application/vnd.1edtech.case+json").name == "case"
    assert get("case-csv").name == "case-csv"


def test_document_becomes_framework(sample, g):
    fw = IDS.framework(FW)
    assert (fw, RDF.type, GM.Framework) in g
    assert str(g.value(fw, DCTERMS.title)) == "What Standards Could Be"
    assert str(g.value(fw, DCTERMS.identifier)) == sample["CFDocument"]["identifier"]
    assert g.value(fw, DCTERMS.source) == URIRef(sample["CFDocument"]["uri"])
    assert str(g.value(fw, DCTERMS.creator)) == "Brandon Dorman"


def test_default_id_is_title_slug(sample):
    d = load_pkg(sample, fw=None)
    assert list(d.graphs) == [IDS.graph("framework", "what-standards-could-be")]


def test_items_hierarchy_and_types(sample, g):
    # 16 items: the two clusters under the document have children -> domains; the rest competencies
    d = load_pkg(sample)
    assert d.summary["domains"] == 2 and d.summary["competencies"] == 14
    dom = c("CCSS.Math.Content.6.RP.A")
    assert (dom, RDF.type, GM.Domain) in g and (dom, SKOS.topConceptOf, IDS.framework(FW)) in g
    assert g.value(dom, SCHEMA.position) == Literal(1)
    child = c("CCSS.Math.Content.6.RP.A.1")
    assert (child, RDF.type, GM.Competency) in g and g.value(child, SKOS.broader) == dom
    t = g.value(child, DCTERMS.type)
    assert (t, RDF.type, CASE.CFItemType) in g and str(g.value(t, DCTERMS.title)) == "Standard"
    assert t == URIRef(OS + "bbc1a9ba-640e-4bf2-a52c-b1cec75b4ee7")
    assert str(g.value(t, DCTERMS.identifier)) == "bbc1a9ba-640e-4bf2-a52c-b1cec75b4ee7"
    assert str(g.value(dom, SKOS.definition)).startswith("Understand ratio concepts")
    assert g.value(dom, SCHEMA.educationalLevel) == Literal("06")
    # every competency reaches a domain
    comps = set(g.subjects(RDF.type, GM.Competency))
    for comp in comps:
        assert any((a, RDF.type, GM.Domain) in g for a in g.transitive_objects(comp, SKOS.broader)), comp


def test_associations_become_links(g):
    ex = list(g.subject_objects(SKOS.exactMatch))
    assert len(ex) == 16 and all(str(o).startswith(OS) for _, o in ex)
    assert (c("CCSS.Math.Content.6.RP.A"), SKOS.exactMatch, URIRef(OS + "5b6c487e-04f1-5ba9-9722-d099849b9167")) in g
    assert len(list(g.subject_objects(SKOS.relatedMatch))) == 2
    assert len(list(g.subject_objects(CASE.precedes))) == 3
    # an intra-package precedes link points at our concept, not the outside uri
    assert (c("CCSS.Math.Content.6.RP.A.1"), CASE.precedes, c("CCSS.Math.Content.6.RP.A.2")) in g
    assert len(list(g.subject_objects(CASE.exemplar))) == 2


def test_ingests_with_shacl(sample):
    st = open_store(None)
    res = ingest(st, load_pkg(sample))
    assert res.triples > 200
    assert {r["id"]: r["competencies"] for r in st.select("frameworks")} == {FW: 14}
    # item types are not concepts of the framework
    assert len(st.select("framework_concepts", fw=Literal(FW))) == 16


def test_export_validates_and_round_trips(sample, schema, g):
    st = open_store(None)
    ingest(st, load_pkg(sample))
    pkg = export_package(st, IDS, FW)
    assert validate_package(pkg, schema) == []
    assert len(pkg["CFItems"]) == 16 and len(pkg["CFAssociations"]) == len(sample["CFAssociations"])
    # the publisher's identifiers are kept
    assert {i["identifier"] for i in pkg["CFItems"]} == {i["identifier"] for i in sample["CFItems"]}
    assert pkg["CFDocument"]["identifier"] == sample["CFDocument"]["identifier"]
    assert {t["identifier"] for t in pkg["CFDefinitions"]["CFItemTypes"]} == \
        {t["identifier"] for t in sample["CFDefinitions"]["CFItemTypes"]}
    assert_same(g, only_graph(load_pkg(pkg)))
    # exporting twice gives the same package (stable identifiers)
    assert export_package(st, IDS, FW) == pkg


def test_export_of_a_csv_framework_round_trips(schema):
    """A framework loaded from CSV → CASE → import → CASE → import: the two imports are the same graph,
    and the first one keeps the labels, definitions and hierarchy of the original."""
    st = open_store(None)
    ingest(st, get("framework-csv").load(Source.from_path(MINI / "framework.csv"),
                                         Context(ids=IDS, options={"id": "mini", "title": "Mini"})))
    pkg = export_package(st, IDS, "mini")
    assert validate_package(pkg, schema) == []
    d1 = load_pkg(pkg, fw=None)  # the document uri is ours: the id comes back as "mini"
    assert list(d1.graphs) == [IDS.graph("framework", "mini")]
    g1 = only_graph(d1)
    orig = st.graph(IDS.graph("framework", "mini"))
    for s, p in ((c("PC2.1", "mini"), SKOS.broader), (c("PC2.1", "mini"), SKOS.prefLabel),
                 (c("PC", "mini"), RDF.type)):
        assert set(orig.objects(s, p)) <= set(g1.objects(s, p)), (s, p)
    st2 = open_store(None)
    ingest(st2, d1)
    assert_same(g1, only_graph(load_pkg(export_package(st2, IDS, "mini"), fw=None)))


def test_cross_framework_mappings_are_exported(sample, schema):
    st = open_store(None)
    ingest(st, load_pkg(sample))
    ingest(st, get("framework-csv").load(Source.from_path(MINI / "framework.csv"),
                                         Context(ids=IDS, options={"id": "mini"})))
    cw = Graph()
    cw.add((c("PC2.1", "mini"), SKOS.closeMatch, c("CCSS.Math.Content.6.RP.A.1")))
    st.replace_graphs({IDS.graph("crosswalk", "mini-wscb"): cw})
    private = Graph()
    private.add((c("PC1", "mini"), SKOS.exactMatch, URIRef("urn:private:someone")))
    st.replace_graphs({IDS.graph("people", "someone"): private})
    pkg = export_package(st, IDS, "mini")
    assert "urn:private:someone" not in json.dumps(pkg)  # links kept in private graphs are not published
    assert validate_package(pkg, schema) == []
    (a,) = [a for a in pkg["CFAssociations"] if a["associationType"] == "isRelatedTo"]
    assert a["destinationNodeURI"]["uri"] == str(c("CCSS.Math.Content.6.RP.A.1"))
    assert a["destinationNodeURI"]["title"].startswith("Use ratio") or a["destinationNodeURI"]["title"]


def test_export_unknown_framework():
    with pytest.raises(NotFound):
        export_package(open_store(None), IDS, "nope")


# Broken copies ------------------------------------------------------------------------------------
def broken(sample, edit) -> dict:
    pkg = json.loads(json.dumps(sample))
    edit(pkg)
    return pkg


@pytest.mark.parametrize("edit, column, match", [
    (lambda p: p.pop("CFDocument"), "CFDocument", "no CFDocument"),
    (lambda p: p["CFDocument"].pop("title"), "CFDocument.title", "no title"),
    (lambda p: p["CFItems"][3].pop("fullStatement"), "CFItems[3].fullStatement", "no fullStatement"),
    (lambda p: p["CFItems"][5].update(identifier=p["CFItems"][4]["identifier"]), "CFItems[5].identifier", "used by"),
    (lambda p: p["CFAssociations"][2].update(associationType="isCousinOf"), "CFAssociations[2].associationType",
     "isCousinOf"),
    (lambda p: p["CFAssociations"][2]["destinationNodeURI"].update(identifier="x", uri="http://nowhere/x"),
     "CFAssociations[2].destinationNodeURI", "neither an item nor the document"),
    (lambda p: p["CFItems"][0].update(lastChangeDateTime="yesterday"), "CFItems[0].lastChangeDateTime",
     "not a date-time"),
    (lambda p: p["CFItems"][0].update(uri="not a uri"), "CFItems[0].uri", "absolute URI"),
    (lambda p: p.update(CFExtras=[]), "CFExtras", "unknown"),
])
def test_broken_packages_name_the_place(sample, edit, column, match):
    with pytest.raises(LoadError) as e:
        load_pkg(broken(sample, edit), name="broken.json")
    assert e.value.file == "broken.json" and e.value.column == column, str(e.value)
    assert match in e.value.message


def test_cycle_is_refused(sample):
    def cyc(p):
        # make the 6.RP.A cluster a child of one of its own standards
        a = next(a for a in p["CFAssociations"] if a["associationType"] == "isChildOf"
                 and a["originNodeURI"]["identifier"] == "edfce0e7-dbbf-40d5-af1a-baccabef85e9")
        a["destinationNodeURI"] = {"title": "x", "identifier": "b6f61076-aa12-450b-8f9d-b86bc071f85e", "uri": OS + "x"}
    with pytest.raises(LoadError, match="cycle: CCSS.Math.Content.6.RP.A → CCSS.Math.Content.6.RP.A.1 → "
                                         "CCSS.Math.Content.6.RP.A"):
        load_pkg(broken(sample, cyc))


def test_deep_hierarchy_does_not_exhaust_the_stack():
    """A 3,000-deep chain of items loads (no recursion), and a cycle at its end is still found."""
    n = 3000
    doc = {"identifier": "00000000-0000-4000-8000-000000000000", "uri": "http://x/doc", "title": "Deep",
           "creator": "t", "lastChangeDateTime": "2024-01-01T00:00:00"}
    ident = [f"00000000-0000-4000-8000-{i:012d}" for i in range(1, n + 1)]
    items = [{"identifier": u, "uri": f"http://x/{u}", "fullStatement": f"item {i}", "humanCodingScheme": f"I{i}"}
             for i, u in enumerate(ident)]
    link = lambda u: {"title": "x", "identifier": u, "uri": f"http://x/{u}"}  # noqa: E731
    assocs = [{"identifier": ident[i], "associationType": "isChildOf", "originNodeURI": link(ident[i]),
               "destinationNodeURI": link(ident[i - 1]) if i else {"title": "d", "identifier": doc["identifier"],
                                                                    "uri": doc["uri"]}} for i in range(n)]
    d = load_pkg({"CFDocument": doc, "CFItems": items, "CFAssociations": assocs}, fw="deep")
    assert d.summary["domains"] == 1 and d.summary["competencies"] == n - 1
    assocs[0]["destinationNodeURI"] = link(ident[-1])
    with pytest.raises(LoadError, match="cycle"):
        load_pkg({"CFDocument": doc, "CFItems": items, "CFAssociations": assocs}, fw="deep")


def test_bad_json_names_the_line(tmp_path):
    text = (case_dir() / "opensalt_sample_cfpackage.json").read_text("utf-8")
    lines = text.split("\n")
    assert lines[5].endswith('"Brandon Dorman",')
    lines[5] = lines[5][:-1]  # drop the comma after the creator
    with pytest.raises(LoadError) as e:
        load_pkg("\n".join(lines).encode(), name="bad.json")
    assert e.value.row == 7 and "not valid JSON" in e.value.message


def test_bad_upload_writes_nothing(app, auth, sample):
    from service.extensions import gapmap
    client = app.test_client()
    with app.app_context():
        before = len(gapmap().store)
    bad = broken(sample, lambda p: p["CFItems"][7].pop("fullStatement"))
    r = client.post("/api/load/case", headers=auth("admin"), data={"file": (io.BytesIO(json.dumps(bad).encode()), "b.json"),
                                                                   "id": "wscb"})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert r.get_json()["column"] == "CFItems[7].fullStatement"
    with app.app_context():
        assert len(gapmap().store) == before


# OpenSALT spreadsheet ---------------------------------------------------------------------------------
def test_opensalt_spreadsheet(schema):
    d = get("case-csv").load(Source.from_path(case_dir() / "opensalt_sample_case_import.csv"),
                             Context(ids=IDS, options={"id": "salt"}))
    g = only_graph(d)
    assert d.summary["domains"] == 1 and d.summary["competencies"] == 9
    assert (c("M", "salt"), RDF.type, GM.Domain) in g
    assert g.value(c("M.F.1-2.S1a", "salt"), SKOS.broader) == c("M.F.1-2.S1", "salt")
    assert (c("M.F", "salt"), SKOS.relatedMatch, URIRef("urn:case:code:CCSS.Math.Content.HSF-IF.C.8b")) in g
    assert (c("M.F.1-2", "salt"), SKOS.relatedMatch, URIRef("http://asn.jesandco.org/resources/S1143417")) in g
    st = open_store(None)
    ingest(st, d)
    assert validate_package(export_package(st, IDS, "salt"), schema) == []


def test_opensalt_spreadsheet_bad_parent(tmp_path):
    src = case_dir() / "opensalt_sample_case_import.csv"
    lines = src.read_bytes().split(b"\n")
    assert b'"More Testing","M.F"' in lines[3]
    lines[3] = lines[3].replace(b'"More Testing","M.F"', b'"More Testing","M.X"', 1)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\n".join(lines))
    with pytest.raises(LoadError) as e:
        get("case-csv").load(Source.from_path(bad), Context(ids=IDS, options={"id": "salt"}))
    assert (e.value.row, e.value.column) == (4, "Is Child Of") and "M.X" in e.value.message


# API and CLI ------------------------------------------------------------------------------------------
def test_api_and_cli_export(app, tmp_path, sample, schema):
    from click.testing import CliRunner

    from service.extensions import gapmap
    from service.cli import main
    with app.app_context():
        gapmap().load("case", Source(name="p.json", data=json.dumps(sample).encode()), {"id": FW})
    from tests.conftest import signed_client
    assert app.test_client().get(f"/api/frameworks/{FW}/case").status_code == 401
    client = signed_client(app, "viewer")
    r = client.get(f"/api/frameworks/{FW}/case")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    assert validate_package(r.get_json(), schema) == []
    assert client.get("/api/frameworks/nope/case").status_code == 404

    store = tmp_path / "store"
    runner = CliRunner()
    res = runner.invoke(main, ["--store", str(store), "load", "case",
                               str(case_dir() / "opensalt_sample_cfpackage.json"), "-o", f"id={FW}"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "out.json"
    res = runner.invoke(main, ["--store", str(store), "export", "case", FW, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert validate_package(json.loads(out.read_text()), schema) == []
    res = runner.invoke(main, ["--store", str(store), "export", "case", "nope"])
    assert res.exit_code == 4
