"""A learner's demonstrated competencies, and their export as an Open Badges 3.0 achievement alignment list.

A competency is *demonstrated* by a learner when they passed an assessment of the program that assesses it
directly, or that assesses an objective tied to it by an accepted (reviewed) alignment.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

from rdflib import Literal, URIRef

from .errors import NotFound
from .store import Store

OB3_CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


@dataclass(frozen=True)
class Demonstrated:
    competency: str
    notation: str
    label: str
    definition: str | None
    framework: str
    framework_title: str
    assessments: tuple[str, ...]  # ids of the passed assessments that show it

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LearnerCompetencies:
    program: str
    learner: str
    cohort: str | None
    passed: tuple[str, ...]
    competencies: tuple[Demonstrated, ...]

    def to_dict(self) -> dict:
        return {"program": self.program, "learner": self.learner, "cohort": self.cohort,
                "passed": list(self.passed), "competencies": [c.to_dict() for c in self.competencies]}


_COMPETENCY = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?c ?notation ?label ?definition ?fw ?fwTitle WHERE {
  ?c skos:notation ?notation ; skos:prefLabel ?label ; skos:inScheme ?scheme .
  ?scheme skos:notation ?fw ; dcterms:title ?fwTitle .
  OPTIONAL { ?c skos:definition ?definition }
} LIMIT 1"""


def learner_competencies(store: Store, ids, program: str, learner: str) -> LearnerCompetencies:
    pid = ids.program(program)
    results = store.select("program_learner_results", program=pid, learner=Literal(learner))
    if not results:
        raise NotFound(f"no results for learner {learner!r} in program {program!r}", field="learner")
    passed = {r["assessment"]: r for r in results if r["passed"]}
    shown = defaultdict(set)
    for r in store.select("program_assessing", program=pid):
        if r["assessment"] in passed:
            shown[r["comp"]].add(r["aid"])
    out = []
    for comp, aids in shown.items():
        rows = list(store.query(_COMPETENCY, {"c": URIRef(comp)}))
        if not rows:
            continue
        c = rows[0]
        out.append(Demonstrated(competency=comp, notation=str(c["notation"]), label=str(c["label"]),
                                definition=str(c["definition"]) if c["definition"] is not None else None,
                                framework=str(c["fw"]), framework_title=str(c["fwTitle"]),
                                assessments=tuple(sorted(aids))))
    out.sort(key=lambda d: (d.framework, d.notation))
    cohorts = sorted({r["cohort"] for r in results})
    return LearnerCompetencies(program=program, learner=learner, cohort=cohorts[-1] if cohorts else None,
                               passed=tuple(sorted(r["aid"] for r in passed.values())), competencies=tuple(out))


def ob3_achievement(lc: LearnerCompetencies, ids) -> dict:
    """An Open Badges 3.0 ``Achievement`` whose ``alignment`` lists the demonstrated competencies."""
    program = ids.program(lc.program)
    return {
        "@context": OB3_CONTEXT,
        "id": f"{program}/learner/{lc.learner}/achievement",
        "type": ["Achievement"],
        "achievementType": "Competency",
        "name": f"Competencies demonstrated in {lc.program}",
        "description": f"Competencies that learner {lc.learner} demonstrated by passing assessments of program "
                       f"{lc.program} that assess them (directly, or through reviewed objective alignments).",
        "criteria": {"narrative": "Passed: " + (", ".join(lc.passed) or "none") + "."},
        "alignment": [{
            "type": ["Alignment"],
            "targetName": d.label,
            "targetUrl": d.competency,
            **({"targetDescription": d.definition} if d.definition else {}),
            "targetFramework": d.framework_title,
            "targetCode": d.notation,
            "targetType": "ceasn:Competency",
        } for d in lc.competencies],
    }
