"""The SPARQL query page: a textarea, example queries, results rendered by static/sparql.js."""
from __future__ import annotations

from flask import render_template

from .pages import bp

EXAMPLES = [
    ("Never-taught competencies", """# Competencies of the hpc framework that no accepted alignment teaches
SELECT ?notation ?label WHERE {
  ?c a gm:Competency ; skos:inScheme/skos:notation "hpc" ; skos:notation ?notation ; skos:prefLabel ?label .
  FILTER NOT EXISTS { ?a gm:alignedCompetency ?c ; gm:status gm:Accepted . }
} ORDER BY ?notation"""),
    ("Objectives per course", """# Objectives per course and year, and how many of them are aligned
SELECT ?year ?code (COUNT(DISTINCT ?o) AS ?objectives) (COUNT(DISTINCT ?aligned) AS ?aligned_objectives) WHERE {
  ?course gm:partOfProgram/skos:notation "md" ; skos:notation ?code ; gm:year ?year .
  ?o gm:inCourse ?course .
  OPTIONAL { ?a gm:alignedObjective ?o ; gm:status gm:Accepted . BIND(?o AS ?aligned) }
} GROUP BY ?year ?code ORDER BY ?year ?code"""),
    ("Decisions by reviewer (PROV)", """# Review decisions: who changed which alignment, when, from what to what
SELECT DISTINCT ?reviewer ?at ?objective ?competency ?previous ?new WHERE {
  ?d a gm:ReviewDecision ; prov:wasAssociatedWith/rdfs:label ?reviewer ; prov:endedAtTime ?at ;
     gm:newStatus ?new ; prov:used ?a .
  ?a gm:alignedObjective/skos:notation ?objective ; gm:alignedCompetency/skos:notation ?competency .
  OPTIONAL { ?d gm:previousStatus ?previous }
} ORDER BY DESC(?at) LIMIT 100"""),
    ("Role requirements", """# Essential requirements of the intern role, with the assessments that assess them
SELECT ?notation ?label ?level (GROUP_CONCAT(DISTINCT ?aid; separator=", ") AS ?assessments) WHERE {
  ?role skos:notation "intern" .
  ?req gm:requirementOf ?role ; gm:relation gm:Essential ; gm:requiresCompetency ?c ; gm:requiredLevel ?level .
  ?c skos:notation ?notation ; skos:prefLabel ?label .
  OPTIONAL { ?x schema:assesses ?c ; skos:notation ?aid }
} GROUP BY ?notation ?label ?level ORDER BY ?notation"""),
    ("Career pathways", """# Which role leads to which, by track
SELECT ?from ?track ?to WHERE {
  ?r a gm:JobRole ; skos:notation ?from ; gm:track ?track .
  OPTIONAL { ?r gm:transitionsTo/skos:notation ?to }
} ORDER BY ?track ?from ?to"""),
]


_TERMS = None


def _terms() -> dict:
    """prefix -> local names offered by completion: the Gapmap vocabulary and the common SKOS/PROV/schema terms."""
    global _TERMS
    if _TERMS is None:
        from ontology.vocab import GM_NS, PREFIXES

        from .pages import vocabulary_graph
        g = vocabulary_graph()
        terms = {p: set() for p in PREFIXES}
        for s in set(g.subjects()):
            for p, ns in PREFIXES.items():
                if str(s).startswith(ns) and str(s) != ns:
                    local = str(s)[len(ns):]
                    if local and all(ch.isalnum() or ch in "_-" for ch in local):
                        terms[p].add(local)
        terms["skos"] |= {"Concept", "ConceptScheme", "Collection", "prefLabel", "altLabel", "hiddenLabel",
                          "notation", "definition", "note", "scopeNote", "example", "broader", "narrower",
                          "related", "broaderTransitive", "narrowerTransitive", "inScheme", "hasTopConcept",
                          "topConceptOf", "exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch",
                          "member"}
        terms["prov"] |= {"wasAssociatedWith", "wasGeneratedBy", "used", "startedAtTime", "endedAtTime", "Agent",
                          "Activity", "Entity", "generatedAtTime", "wasAttributedTo", "wasDerivedFrom"}
        terms["schema"] |= {"Course", "EducationalOccupationalProgram", "Occupation", "assesses", "name",
                            "occupationalCategory", "timeRequired", "learningResourceType"}
        terms["dcterms"] |= {"title", "description", "identifier", "source", "created", "modified", "hasVersion",
                             "creator", "publisher", "license"}
        assert GM_NS == PREFIXES["gm"]
        _TERMS = {p: sorted(v) for p, v in terms.items() if v}
    return _TERMS


@bp.get("/sparql/ui")
def sparql_ui():
    from ontology.vocab import PREFIXES
    return render_template("sparql.html", examples=EXAMPLES, config={"prefixes": PREFIXES, "terms": _terms()})
