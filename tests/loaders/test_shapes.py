"""The shared RDF builders: what they write conforms to the SHACL shapes, and texts carry a language tag."""
from __future__ import annotations

from pathlib import Path

from rdflib import Graph, Literal

from loaders import Context, Source, get
from loaders.shapes import add_concept, add_course, add_framework, add_objective, add_program
from ontology.ids import Ids
from ontology.shacl import validate
from ontology.vocab import GM, SKOS

ROOT = Path(__file__).resolve().parents[2]
IDS = Ids()


def test_built_nodes_conform_and_are_tagged():
    g = Graph()
    fw = add_framework(g, IDS.framework("fw"), notation="fw", title="A framework", version="1")
    dom = add_concept(g, IDS.concept("fw", "D"), fw, notation="D", domain=True, label="Domain", definition="d")
    comp = add_concept(g, IDS.concept("fw", "D.1"), fw, notation="D.1", broader=dom, label="Eine Kompetenz",
                       alt_labels=["Kompetenz"], lang="de")
    prog = add_program(g, IDS.program("p"), notation="p", title="P", framework=fw)
    course = add_course(g, IDS.course("C-1"), code="C-1", title="Course", program=prog, year=2)
    o = add_objective(g, IDS.objective("o1"), notation="o1", text="Beschreiben Sie X.", course=course, lang="de",
                      level=2)
    assert validate(g) == []
    assert (fw, SKOS.hasTopConcept, dom) in g and (comp, SKOS.hasTopConcept, None) not in g
    assert g.value(comp, SKOS.prefLabel) == Literal("Eine Kompetenz", lang="de")
    assert g.value(dom, SKOS.prefLabel) == Literal("Domain", lang="en")  # no language given: English
    assert g.value(o, GM.text) == Literal("Beschreiben Sie X.", lang="de")
    g.remove((o, GM.text, None))
    assert validate(g), "a shape that could not fail"  # the objective without its text is refused


def test_objective_texts_are_tagged_with_their_language():
    """Curriculum rows are English; a syllabus's objectives carry the document's detected language."""
    from service.config import Config
    from service.workspace import Workspace

    cfg = Config()
    cfg.STORE_PATH = ""
    ws = Workspace.from_config(cfg)
    ws.load_manifest(ROOT / "tests" / "fixtures" / "mini" / "manifest.json")
    cur = ws.store.graph(IDS.graph("curriculum", "mini"))
    assert {t.language for t in cur.objects(None, GM.text)} == {"en"}
    src = Source.from_path(ROOT / "tests" / "fixtures" / "syllabi" / "urg401_objectifs_fr.md")
    ctx = Context(ids=ws.ids, store=ws.store, options={"program": "mini", "course": "URG-401", "year": 4,
                                                       "user": "dr.chen"})
    delta = get("syllabus").load(src, ctx)
    texts = [t for g in delta.graphs.values() for t in g.objects(None, GM.text)]
    assert texts and {t.language for t in texts} == {"fr"}
