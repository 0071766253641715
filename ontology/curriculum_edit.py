"""Small edits of the live curriculum: a course's title or year, an objective's target level.

Each edit replaces the value in the graph it sits in (the curriculum file's graph, or the syllabus graph
of an uploaded course) and records who changed what, from which value to which, as a PROV activity in the
program's reviews graph, all in one transaction.  A later reload of the curriculum file replaces the file's
graph as usual (the file is the source of truth for what it holds); bigger changes go through drafts.
"""
from __future__ import annotations

import uuid

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from .errors import GapmapError, NotFound
from .review import check_user, now_literal
from .store import Store
from .vocab import DCTERMS, GM, PROV, RDF, RDFS


class EditError(GapmapError):
    status = 400
    title = "Invalid edit"


def _replace(store: Store, node: URIRef, prop: URIRef, value: Literal) -> tuple[list, list, str | None]:
    rows = store.select("node_value_graphs", n=node, p=prop)
    if not rows:
        raise NotFound(f"{node} has no {prop}", field=str(prop).rsplit("#", 1)[-1].rsplit("/", 1)[-1])
    g = URIRef(rows[0]["g"])
    delete = [(node, prop, _lit(r["v"], prop), URIRef(r["g"])) for r in rows]
    return delete, [(node, prop, value, g)], str(rows[0]["v"])


def _lit(v, prop):
    if prop in (GM.year, GM.targetLevel):
        return Literal(int(v), datatype=XSD.integer)
    return Literal(v)


def _record(ids, program: str, user: str, node: URIRef, what: str):
    reviews = ids.graph("reviews", program)
    d, agent = ids.decision(uuid.uuid4().hex), ids.agent(user)
    return [(agent, RDF.type, PROV.Person, reviews), (agent, RDFS.label, Literal(user), reviews),
            (d, RDF.type, PROV.Activity, reviews), (d, RDF.type, GM.CurriculumEdit, reviews),
            (d, PROV.used, node, reviews), (d, PROV.wasAssociatedWith, agent, reviews),
            (d, PROV.endedAtTime, now_literal(), reviews), (d, DCTERMS.description, Literal(what), reviews)]


def set_course(store: Store, ids, program: str, code: str, user: str, *, title: str | None = None,
               year: int | None = None) -> dict:
    user = check_user(user)
    rows = store.select("course_detail", code=Literal(code))
    if not rows or rows[0]["pid"] != program:
        raise NotFound(f"course {code!r} is not in program {program!r}", field="course")
    if title is None and year is None:
        raise EditError("give a title or a year", field="title")
    c = ids.course(code)
    delete, insert, done = [], [], {}
    if title is not None:
        if not isinstance(title, str) or not title.strip() or len(title) > 300:
            raise EditError("title must be 1-300 characters", field="title")
        d_, i_, old = _replace(store, c, DCTERMS.title, Literal(title.strip()))
        delete += d_
        insert += i_
        done["title"] = {"from": old, "to": title.strip()}
    if year is not None:
        if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 8:
            raise EditError("year must be a whole number from 1 to 8", field="year")
        d_, i_, old = _replace(store, c, GM.year, Literal(year, datatype=XSD.integer))
        delete += d_
        insert += i_
        done["year"] = {"from": int(old), "to": year}
    insert += _record(ids, program, user, c, f"course {code}: " + "; ".join(
        f"{k} {v['from']} -> {v['to']}" for k, v in done.items()))
    store.apply(delete=delete, insert=insert)
    return {"course": code, "user": user, **done}


def set_objective_level(store: Store, ids, oid: str, level: int, user: str) -> dict:
    user = check_user(user)
    rows = store.select("objective_detail", objective=ids.objective(oid))
    if not rows:
        raise NotFound(f"no objective {oid!r}", field="objective")
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
        raise EditError("level must be a whole number from 1 to 5", field="level")
    o = ids.objective(oid)
    old_rows = store.select("node_value_graphs", n=o, p=GM.text)  # the graph the objective lives in
    g = URIRef(old_rows[0]["g"]) if old_rows else ids.graph("curriculum", rows[0]["pid"])
    prev = store.select("node_value_graphs", n=o, p=GM.targetLevel)
    delete = [(o, GM.targetLevel, _lit(r["v"], GM.targetLevel), URIRef(r["g"])) for r in prev]
    insert = [(o, GM.targetLevel, Literal(level, datatype=XSD.integer), g)]
    old = int(prev[0]["v"]) if prev else None
    insert += _record(ids, rows[0]["pid"], user, o, f"objective {oid}: level {old} -> {level}")
    store.apply(delete=delete, insert=insert)
    return {"objective": oid, "user": user, "level": {"from": old, "to": level}, "course": rows[0]["code"]}
