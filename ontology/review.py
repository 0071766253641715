"""Review decisions on alignments, with PROV: who decided what, when, and over what.

Every decision changes the alignment's ``gm:status`` in place and appends a
``gm:ReviewDecision`` (a ``prov:Activity``) to the program's reviews graph, in the same
transaction: the previous status, the new one, the score and model that proposed it, the
agent and the time.  History is therefore plain RDF, queryable over SPARQL.
"""
from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from .errors import GapmapError, NotFound
from .store import Store
from .vocab import ACCEPTED, GM, PROV, RDF, RDFS, REJECTED, STATUSES, SUGGESTED

DECISIONS = {"accept": ACCEPTED, "reject": REJECTED, "reset": SUGGESTED}


class ReviewError(GapmapError):
    status = 400
    title = "Invalid review decision"


@dataclass(frozen=True)
class Decision:
    decision: str
    alignment: str
    user: str
    at: str
    previous: str | None
    new: str
    replacement: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _short(iri) -> str:
    return str(iri).rsplit("#", 1)[-1].lower()


def _now() -> Literal:
    return Literal(datetime.now(timezone.utc).isoformat(timespec="milliseconds"), datatype=XSD.dateTime)


def _check_user(user: str | None) -> str:
    user = (user or "").strip()
    if not user or len(user) > 100 or any(c in user for c in "<>\"{}|\\^`\n\r\t"):
        raise ReviewError("a reviewer name is required (1-100 plain characters)", field="user")
    return user


def _agent_triples(ids, user, graph):
    agent = ids.agent(user)
    return agent, [(agent, RDF.type, PROV.Person, graph), (agent, RDFS.label, Literal(user), graph)]


def _decision_quads(ids, graph, alignment, user, previous, new, score=None, model=None, note=None, at=None):
    at = at or _now()
    d = ids.decision(uuid.uuid4().hex)
    agent, quads = _agent_triples(ids, user, graph)
    quads += [(d, RDF.type, GM.ReviewDecision, graph), (d, RDF.type, PROV.Activity, graph),
              (d, PROV.used, alignment, graph), (d, PROV.wasAssociatedWith, agent, graph),
              (d, PROV.endedAtTime, at, graph), (d, GM.newStatus, new, graph)]
    if previous is not None:
        quads.append((d, GM.previousStatus, previous, graph))
    if score is not None:
        quads.append((d, GM.score, Literal(str(score), datatype=XSD.decimal), graph))
    if model:
        quads.append((d, GM.modelVersion, Literal(model), graph))
    if note:
        quads.append((d, RDFS.comment, Literal(note), graph))
    return d, at, quads


def _alignment(store: Store, iri: URIRef) -> dict:
    rows = store.select("alignment_detail", alignment=iri)
    if not rows:
        raise NotFound(f"no alignment {iri}", field="alignment")
    return rows[0]


def decide(store: Store, ids, alignment: URIRef, decision: str, user: str, *, note: str | None = None) -> Decision:
    """Accept, reject or reset (back to suggested) one alignment."""
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}", field="decision")
    user = _check_user(user)
    a = _alignment(store, alignment)
    if URIRef(a["method"]) == GM.CuratorMethod:
        raise ReviewError("curator alignments come from the curriculum file; change them there", field="alignment")
    g, prev, new = URIRef(a["g"]), URIRef(a["status"]), DECISIONS[decision]
    reviews = ids.graph("reviews", a["program"])
    d, at, quads = _decision_quads(ids, reviews, alignment, user, prev, new, a["score"], a["model"], note)
    store.apply(delete=[(alignment, GM.status, prev, g)],
                insert=[(alignment, GM.status, new, g), (alignment, GM.lastDecision, d, g), *quads])
    return Decision(decision, str(alignment), user, str(at), _short(prev), _short(new))


def add_manual(store: Store, ids, objective_id: str, competency: URIRef, user: str, *,
               note: str | None = None, replaces: URIRef | None = None) -> Decision:
    """A reviewer's own alignment (status accepted, method manual); optionally rejecting another one."""
    user = _check_user(user)
    if replaces is not None and replaces == ids.alignment(objective_id, str(competency)):
        # "Replacing" a suggestion by its own competency is accepting it.
        return decide(store, ids, replaces, "accept", user, note=note)
    rows = store.select("objective_detail", objective=ids.objective(objective_id))
    if not rows:
        raise NotFound(f"no objective {objective_id!r}", field="objective")
    if not store.select("competency_exists", comp=competency):
        raise NotFound(f"no competency {competency}", field="competency")
    program = rows[0]["pid"]
    g, reviews = ids.graph("alignments", program), ids.graph("reviews", program)
    a = ids.alignment(objective_id, str(competency))
    existing = store.select("alignment_detail", alignment=a)
    delete, insert = [], []
    if existing:  # the pair exists (e.g. a suggestion): accept it rather than duplicating
        prev = URIRef(existing[0]["status"])
        g = URIRef(existing[0]["g"])
        delete.append((a, GM.status, prev, g))
    else:
        prev = None
        agent, _ = _agent_triples(ids, user, g)
        insert += [(a, RDF.type, GM.Alignment, g), (a, GM.alignedObjective, ids.objective(objective_id), g),
                   (a, GM.alignedCompetency, competency, g), (a, GM.method, GM.ManualMethod, g),
                   (a, PROV.wasAttributedTo, agent, g), (a, PROV.generatedAtTime, _now(), g)]
    d, at, quads = _decision_quads(ids, reviews, a, user, prev, ACCEPTED, note=note)
    insert += [(a, GM.status, ACCEPTED, g), (a, GM.lastDecision, d, g), *quads]
    replaced = None
    if replaces is not None:
        old = _alignment(store, replaces)
        if old["objective"] != str(ids.objective(objective_id)):
            raise ReviewError("the replaced alignment belongs to another objective", field="replaces")
        og, oprev = URIRef(old["g"]), URIRef(old["status"])
        d2, _, q2 = _decision_quads(ids, reviews, replaces, user, oprev, REJECTED, old["score"], old["model"],
                                    note=f"replaced by {competency}", at=at)
        delete.append((replaces, GM.status, oprev, og))
        insert += [(replaces, GM.status, REJECTED, og), (replaces, GM.lastDecision, d2, og),
                   (d2, GM.replacedBy, a, reviews), *q2]
        replaced = str(replaces)
    store.apply(delete=delete, insert=insert)
    return Decision("replace" if replaced else "add", str(a), user, str(at), _short(prev) if prev else None,
                    "accepted", replacement=replaced)


def mark_assessed(store: Store, ids, objective_id: str, assessment_id: str, user: str) -> Decision:
    """Record that an assessment assesses an objective (kept in the reviews graph, with PROV)."""
    user = _check_user(user)
    rows = store.select("objective_detail", objective=ids.objective(objective_id))
    if not rows:
        raise NotFound(f"no objective {objective_id!r}", field="objective")
    program = rows[0]["pid"]
    assessments = {r["aid"] for r in store.select("program_assessments", program=ids.program(program))}
    if assessment_id not in assessments:
        raise NotFound(f"no assessment {assessment_id!r} in program {program!r}", field="assessment")
    reviews = ids.graph("reviews", program)
    a, o = ids.assessment(assessment_id), ids.objective(objective_id)
    agent, quads = _agent_triples(ids, user, reviews)
    d, at = ids.decision(uuid.uuid4().hex), _now()
    quads += [(a, GM.assessesObjective, o, reviews), (d, RDF.type, GM.ReviewDecision, reviews),
              (d, RDF.type, PROV.Activity, reviews), (d, PROV.used, o, reviews), (d, PROV.used, a, reviews),
              (d, PROV.wasAssociatedWith, agent, reviews), (d, PROV.endedAtTime, at, reviews),
              (d, GM.newStatus, GM.AssessmentLinked, reviews)]
    store.apply(delete=[], insert=quads)
    return Decision("assessed-by", str(a), user, str(at), None, "assessed-by")


def bulk_accept(store: Store, ids, program: str, min_precision: float, user: str) -> list[Decision]:
    """Accept every suggestion of ``program`` whose calibrated precision is at least ``min_precision``."""
    user = _check_user(user)
    if not 0 <= min_precision <= 1:
        raise ReviewError("min_precision must be between 0 and 1", field="min_precision")
    rows = [r for r in store.select("program_teaching", program=ids.program(program))
            if URIRef(r["status"]) == SUGGESTED and (r["precision"] or 0) >= min_precision]
    reviews = ids.graph("reviews", program)
    delete, insert, out = [], [], []
    at = _now()
    details = {r["alignment"]: r for r in store.select("program_alignment_states", program=ids.program(program))}
    for r in rows:
        a = URIRef(r["alignment"])
        g = URIRef(details[r["alignment"]]["g"])
        d, _, quads = _decision_quads(ids, reviews, a, user, SUGGESTED, ACCEPTED, r["score"], None,
                                      note=f"bulk accept at precision >= {min_precision}", at=at)
        delete.append((a, GM.status, SUGGESTED, g))
        insert += [(a, GM.status, ACCEPTED, g), (a, GM.lastDecision, d, g), *quads]
        out.append(Decision("accept", str(a), user, str(at), "suggested", "accepted"))
    store.apply(delete=delete, insert=insert)
    return out


def history(store: Store, alignment: URIRef) -> list[dict]:
    return [{"decision": r["decision"], "user": r["user"], "at": str(r["at"]),
             "previous": _short(r["previous"]) if r["previous"] else None, "new": _short(r["new"]),
             "score": r["score"], "model": r["model"], "note": r["note"]}
            for r in store.select("alignment_history", alignment=alignment)]


__all__ = ["decide", "add_manual", "mark_assessed", "bulk_accept", "history", "Decision", "ReviewError", "STATUSES"]
