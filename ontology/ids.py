"""Mint instance IRIs from input ids, under one configurable base.

Ids come from the input (course codes, objective ids, notations), never random, so a
reload produces the same IRIs and replaces exactly what it should.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote

from rdflib import URIRef

DEFAULT_BASE = "https://example.edu/gapmap/"


def _seg(value: str) -> str:
    # Keep ids readable but IRI-safe; '/' is escaped so an id cannot climb the path.
    return quote(str(value).strip(), safe="-_.~")


@dataclass(frozen=True)
class Ids:
    base: str = DEFAULT_BASE

    def __post_init__(self):
        if not self.base.endswith("/"):
            object.__setattr__(self, "base", self.base + "/")

    def iri(self, *parts: str) -> URIRef:
        return URIRef(self.base + "/".join(_seg(p) for p in parts))

    # Frameworks
    def framework(self, fw: str) -> URIRef:
        return self.iri("framework", fw)

    def concept(self, fw: str, notation: str) -> URIRef:
        return self.iri("framework", fw, notation)

    def level(self, fw: str, rank: int | str) -> URIRef:
        return self.iri("framework", fw, "level", str(rank))

    def milestone(self, fw: str, notation: str, rank: int | str) -> URIRef:
        return self.iri("framework", fw, notation, "milestone", str(rank))

    # Curriculum
    def program(self, prog: str) -> URIRef:
        return self.iri("program", prog)

    def course(self, code: str) -> URIRef:
        return self.iri("course", code)

    def session(self, code: str, sid: str) -> URIRef:
        return self.iri("course", code, "session", sid)

    def objective(self, oid: str) -> URIRef:
        return self.iri("objective", oid)

    def assessment(self, aid: str) -> URIRef:
        return self.iri("assessment", aid)

    def result(self, aid: str, learner: str, cohort: str | None = None) -> URIRef:
        """One learner's result of one assessment, in one cohort (a repeat year is another result)."""
        if cohort is None:
            return self.iri("assessment", aid, "result", learner)
        return self.iri("assessment", aid, "result", cohort, learner)

    # Roles
    def role(self, rid: str) -> URIRef:
        return self.iri("role", rid)

    def requirement(self, rid: str, fw: str, notation: str, stage: str | None = None) -> URIRef:
        if stage:
            return self.iri("role", rid, "requirement", fw, notation, stage)
        return self.iri("role", rid, "requirement", fw, notation)

    # Alignments and decisions
    def alignment(self, objective: str, competency: str) -> URIRef:
        h = hashlib.sha1(f"{objective}\n{competency}".encode()).hexdigest()[:16]
        return self.iri("alignment", h)

    def alignment_ref(self, key: str) -> URIRef:
        """An alignment by its key (the last segment of its IRI, as the API's ``/alignments/{key}``)."""
        return self.iri("alignment", key)

    def decision(self, key: str) -> URIRef:
        return self.iri("decision", key)

    def agent(self, user: str) -> URIRef:
        return self.iri("agent", user)

    def activity(self, key: str) -> URIRef:
        return self.iri("activity", key)

    def syllabus(self, course_code: str, version: str) -> URIRef:
        return self.iri("syllabus", course_code, version)

    # Named graphs, one per source
    def graph(self, kind: str, key: str) -> URIRef:
        return self.iri("graph", kind, key)

    def is_ours(self, iri: str) -> bool:
        return str(iri).startswith(self.base)
