"""IRIs of people, evidence, development opportunities, plans, matches and demand (one place).

Built on :class:`ontology.ids.Ids` so every IRI sits under the configured base and input ids are
escaped the same way (an id cannot climb the path).
"""
from __future__ import annotations

import hashlib

from rdflib import URIRef

from .ids import Ids


def _h(*parts) -> str:
    return hashlib.sha1("\n".join(str(p) for p in parts).encode()).hexdigest()[:16]


def person(ids: Ids, pid: str) -> URIRef:
    return ids.iri("person", pid)


def evidence(ids: Ids, set_id: str, row: int | str) -> URIRef:
    return ids.iri("evidence", set_id, str(row))


def opportunity(ids: Ids, oid: str) -> URIRef:
    return ids.iri("opportunity", oid)


def development(ids: Ids, oid: str, fw: str, notation: str) -> URIRef:
    return ids.iri("opportunity", oid, "develops", fw, notation)


def demand(ids: Ids, set_id: str, org: str, role: str, year: int) -> URIRef:
    return ids.iri("demand", set_id, _h(org, role, year))


def plan(ids: Ids, pid: str, role: str, objective: str) -> URIRef:
    return ids.iri("plan", pid, role, objective)


def match(ids: Ids, mode: str, mentee: str, mentor: str) -> URIRef:
    return ids.iri("match", mode, mentee, mentor)


def cv(ids: Ids, pid: str, key: str) -> URIRef:
    """One uploaded CV; ``key`` is unique per upload, so two uploads at once never share a node."""
    return ids.iri("person", pid, "cv", key)


def suggestion(ids: Ids, pid: str, key: str, start: int, competency: str) -> URIRef:
    return ids.iri("person", pid, "cv", key, "suggestion", _h(start, competency))
