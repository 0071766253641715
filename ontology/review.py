"""Review decisions on alignments, with PROV: who decided what, when, and over what.

Every decision changes the alignment's ``gm:status`` in place and appends a
``gm:ReviewDecision`` (a ``prov:Activity``) to the program's reviews graph, in the same
transaction: the previous status, the new one, the score and model that proposed it, the
agent and the time.  History is therefore plain RDF, queryable over SPARQL.

Concurrency rule: every function here reads the current status *and* writes the decision while
holding the store's write lock (``store.locked()``), so two decisions on one alignment are
serialised: the second sees the first's outcome as its "previous" status, an alignment never holds
two statuses, and an acknowledged decision is never overwritten by a write that read before it.
A client that decided on what it saw sends ``expected`` (the status it saw) and/or ``etag`` (the
alignment's ETag, see :func:`etag`); if the alignment changed meanwhile, :class:`Conflict` (409).
"""
from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from .errors import Conflict, GapmapError, NotFound
from .store import Store
from .vocab import ACCEPTED, GM, PROV, RDF, RDFS, REJECTED, STATUSES, SUGGESTED
from .read.review import alignment_etag as etag
from .read.review import alignment_history, alignment_state as read_state

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
    #: the alignment's ETag after this decision (send it as If-Match with the next one)
    etag: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _short(iri) -> str:
    return str(iri).rsplit("#", 1)[-1].lower()


def now_literal() -> Literal:
    return Literal(datetime.now(timezone.utc).isoformat(timespec="milliseconds"), datatype=XSD.dateTime)


def check_user(user: str | None) -> str:
    user = (user or "").strip()
    if not user or len(user) > 100 or any(c in user for c in "<>\"{}|\\^`\n\r\t"):
        raise ReviewError("a reviewer name is required (1-100 plain characters)", field="user")
    return user


def _agent_triples(ids, user, graph):
    agent = ids.agent(user)
    return agent, [(agent, RDF.type, PROV.Person, graph), (agent, RDFS.label, Literal(user), graph)]


def decision_quads(ids, graph, alignment, user, previous, new, score=None, model=None, note=None, at=None):
    at = at or now_literal()
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
    """One alignment's detail, with every status (``statuses``) and last decision (``lasts``) its graph
    holds (one each when all is well) and its current ``etag``."""
    rows = store.select("alignment_detail", alignment=iri)
    if not rows:
        raise NotFound(f"no alignment {iri}", field="alignment")
    a = dict(rows[0])
    a["statuses"] = sorted({r["status"] for r in rows if r["g"] == a["g"]})
    a["lasts"] = sorted({r["last"] for r in rows if r["g"] == a["g"] and r["last"]})
    a["etag"] = etag(iri, a["status"], a["lasts"])
    return a


def alignment_state(store: Store, iri: URIRef) -> dict:
    """Status, method and ETag of one alignment (what a client sends back as If-Match)."""
    return read_state(store, iri).to_dict()


def _etag_matches(header: str, current: str) -> bool:
    tags = [t.strip() for t in header.split(",") if t.strip()]
    return any(t == "*" or t.removeprefix("W/") == current for t in tags)


def _check_expected(a: dict, expected: str | None, if_match: str | None) -> None:
    """Raise Conflict when the alignment is no longer what the client decided on."""
    current = _short(a["status"])
    if expected is not None:
        if expected not in ("suggested", "accepted", "rejected"):
            raise ReviewError("expected_status must be suggested, accepted or rejected", field="expected_status")
        if len(a["statuses"]) != 1 or current != expected:
            raise Conflict(f"the alignment is {current} now, not {expected}: someone decided meanwhile; "
                           "reload it and decide again", field="expected_status", current_status=current,
                           etag=a["etag"])
    if if_match is not None and not _etag_matches(if_match, a["etag"]):
        raise Conflict(f"the alignment changed since that ETag (it is {current} now); reload it and decide "
                       "again", field="If-Match", current_status=current, etag=a["etag"])


def _status_quads(alignment, a: dict, g) -> list:
    """The quads to delete when replacing an alignment's status and last decision."""
    return ([(alignment, GM.status, URIRef(s), g) for s in a["statuses"]]
            + [(alignment, GM.lastDecision, URIRef(d), g) for d in a["lasts"]])


def decide(store: Store, ids, alignment: URIRef, decision: str, user: str, *, note: str | None = None,
           expected: str | None = None, if_match: str | None = None) -> Decision:
    """Accept, reject or reset (back to suggested) one alignment.

    ``expected`` (a status name) and ``if_match`` (an ETag header value) make it conditional: when
    the alignment is no longer in that state, :class:`Conflict` and nothing is written.
    """
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}", field="decision")
    user = check_user(user)
    with store.locked():  # read the current status and write the decision with no write in between
        a = _alignment(store, alignment)
        if URIRef(a["method"]) == GM.CuratorMethod:
            raise ReviewError("curator alignments come from the curriculum file; change them there",
                              field="alignment")
        _check_expected(a, expected, if_match)
        g, prev, new = URIRef(a["g"]), URIRef(a["status"]), DECISIONS[decision]
        reviews = ids.graph("reviews", a["program"])
        d, at, quads = decision_quads(ids, reviews, alignment, user, prev, new, a["score"], a["model"], note)
        store.apply(delete=_status_quads(alignment, a, g),
                    insert=[(alignment, GM.status, new, g), (alignment, GM.lastDecision, d, g), *quads])
    return Decision(decision, str(alignment), user, str(at), _short(prev), _short(new), etag=etag(alignment, new, [d]))


def add_manual(store: Store, ids, objective_id: str, competency: URIRef, user: str, *,
               note: str | None = None, replaces: URIRef | None = None, expected: str | None = None,
               if_match: str | None = None) -> Decision:
    """A reviewer's own alignment (status accepted, method manual); optionally rejecting another one
    (``expected``/``if_match`` then apply to the replaced alignment, as in :func:`decide`)."""
    user = check_user(user)
    if replaces is not None and replaces == ids.alignment(objective_id, str(competency)):
        # "Replacing" a suggestion by its own competency is accepting it.
        return decide(store, ids, replaces, "accept", user, note=note, expected=expected, if_match=if_match)
    with store.locked():
        return _add_manual(store, ids, objective_id, competency, user, note, replaces, expected, if_match)


def _add_manual(store, ids, objective_id, competency, user, note, replaces, expected, if_match) -> Decision:
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
        cur = _alignment(store, a)
        prev, g = URIRef(cur["status"]), URIRef(cur["g"])
        delete += _status_quads(a, cur, g)
    else:
        prev = None
        agent, _ = _agent_triples(ids, user, g)
        insert += [(a, RDF.type, GM.Alignment, g), (a, GM.alignedObjective, ids.objective(objective_id), g),
                   (a, GM.alignedCompetency, competency, g), (a, GM.method, GM.ManualMethod, g),
                   (a, PROV.wasAttributedTo, agent, g), (a, PROV.generatedAtTime, now_literal(), g)]
    d, at, quads = decision_quads(ids, reviews, a, user, prev, ACCEPTED, note=note)
    insert += [(a, GM.status, ACCEPTED, g), (a, GM.lastDecision, d, g), *quads]
    replaced = None
    if replaces is not None:
        old = _alignment(store, replaces)
        if old["objective"] != str(ids.objective(objective_id)):
            raise ReviewError("the replaced alignment belongs to another objective", field="replaces")
        _check_expected(old, expected, if_match)
        og, oprev = URIRef(old["g"]), URIRef(old["status"])
        d2, _, q2 = decision_quads(ids, reviews, replaces, user, oprev, REJECTED, old["score"], old["model"],
                                    note=f"replaced by {competency}", at=at)
        delete += _status_quads(replaces, old, og)
        insert += [(replaces, GM.status, REJECTED, og), (replaces, GM.lastDecision, d2, og),
                   (d2, GM.replacedBy, a, reviews), *q2]
        replaced = str(replaces)
    store.apply(delete=delete, insert=insert)
    return Decision("replace" if replaced else "add", str(a), user, str(at), _short(prev) if prev else None,
                    "accepted", replacement=replaced, etag=etag(a, ACCEPTED, [d]))


def mark_assessed(store: Store, ids, objective_id: str, assessment_id: str, user: str) -> Decision:
    """Record that an assessment assesses an objective (kept in the reviews graph, with PROV)."""
    user = check_user(user)
    with store.locked():  # the objective and assessment still exist when the link is written
        return _mark_assessed(store, ids, objective_id, assessment_id, user)


def _mark_assessed(store, ids, objective_id, assessment_id, user) -> Decision:
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
    d, at = ids.decision(uuid.uuid4().hex), now_literal()
    quads += [(a, GM.assessesObjective, o, reviews), (d, RDF.type, GM.ReviewDecision, reviews),
              (d, RDF.type, PROV.Activity, reviews), (d, PROV.used, o, reviews), (d, PROV.used, a, reviews),
              (d, PROV.wasAssociatedWith, agent, reviews), (d, PROV.endedAtTime, at, reviews),
              (d, GM.newStatus, GM.AssessmentLinked, reviews)]
    store.apply(delete=[], insert=quads)
    return Decision("assessed-by", str(a), user, str(at), None, "assessed-by")


def bulk_accept(store: Store, ids, program: str, min_precision: float, user: str) -> list[Decision]:
    """Accept every suggestion of ``program`` whose calibrated precision is at least ``min_precision``.

    Reads and writes under the store's write lock: it accepts exactly what is suggested at that
    moment, so a reject acknowledged before it is never turned into an accept (and one after it
    simply follows it in the history).
    """
    user = check_user(user)
    if not 0 <= min_precision <= 1:
        raise ReviewError("min_precision must be between 0 and 1", field="min_precision")
    with store.locked():
        pid = ids.program(program)
        states: dict[str, dict] = {}
        for r in store.select("program_alignment_states", program=pid):
            st = states.setdefault(r["alignment"], {"g": r["g"], "statuses": set(), "lasts": set()})
            if r["g"] == st["g"]:
                st["statuses"].add(r["status"])
                if r["last"]:
                    st["lasts"].add(r["last"])
        rows = {}
        for r in store.select("program_teaching", program=pid):
            st = states.get(r["alignment"])
            if (st and st["statuses"] == {str(SUGGESTED)} and (r["precision"] or 0) >= min_precision
                    and URIRef(r["method"]) != GM.CuratorMethod):
                rows.setdefault(r["alignment"], r)
        reviews = ids.graph("reviews", program)
        delete, insert, out = [], [], []
        at = now_literal()
        for key, r in rows.items():
            a, st = URIRef(key), states[key]
            g = URIRef(st["g"])
            d, _, quads = decision_quads(ids, reviews, a, user, SUGGESTED, ACCEPTED, r["score"], None,
                                          note=f"bulk accept at precision >= {min_precision}", at=at)
            delete += [(a, GM.status, SUGGESTED, g)] + [(a, GM.lastDecision, URIRef(x), g) for x in st["lasts"]]
            insert += [(a, GM.status, ACCEPTED, g), (a, GM.lastDecision, d, g), *quads]
            out.append(Decision("accept", str(a), user, str(at), "suggested", "accepted", etag=etag(a, ACCEPTED, [d])))
        store.apply(delete=delete, insert=insert)
    return out


def history(store: Store, alignment: URIRef) -> list[dict]:
    """Every decision on an alignment, oldest first (the read layer's rows, as dicts)."""
    return [h.to_dict() for h in alignment_history(store, alignment)]


__all__ = ["decide", "add_manual", "alignment_state", "etag", "mark_assessed", "bulk_accept", "history", "Decision", "ReviewError", "STATUSES"]
