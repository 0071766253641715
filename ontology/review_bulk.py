"""Bulk accept of exactly the suggestions a reviewer sees (the review page's current page), with a preview.

The program-wide ``review.bulk_accept`` accepts every suggestion above a precision; reviewers asked for one
that acts only on what the page shows.  :func:`accept_selected` takes the alignment ids the page lists,
keeps those that are still suggestions of ``program`` at or above ``min_precision`` (anything else, e.g.
decided meanwhile by someone else, is reported as skipped) and accepts them in one transaction, with one
PROV decision each, as ``review.decide`` would; ``preview=True`` returns the same lists without writing.
"""
from __future__ import annotations

import re

from rdflib import URIRef

from .review import Decision, ReviewError, check_user, decision_quads, now_literal
from .store import Store
from .vocab import ACCEPTED, GM, SUGGESTED

_KEY = re.compile(r"^[0-9a-f]{16}$")


def accept_selected(store: Store, ids, program: str, alignments: list[str], min_precision: float, user: str, *,
                    preview: bool = False) -> dict:
    user = check_user(user)
    if not isinstance(alignments, list) or not 1 <= len(alignments) <= 1000 or not all(
            isinstance(a, str) and _KEY.match(a) for a in alignments):
        raise ReviewError("alignments must be a list of 1 to 1000 alignment ids", field="alignments")
    if isinstance(min_precision, bool) or not isinstance(min_precision, (int, float)) or not 0 <= min_precision <= 1:
        raise ReviewError("min_precision must be a number from 0 to 1", field="min_precision")
    wanted = {str(ids.iri("alignment", a)): a for a in alignments}
    teaching = {r["alignment"]: r for r in store.select("program_teaching", program=ids.program(program))
                if r["alignment"] in wanted}
    states = {r["alignment"]: r for r in store.select("program_alignment_states", program=ids.program(program))
              if r["alignment"] in wanted}
    accept, skipped = [], []
    for iri, key in wanted.items():
        r = teaching.get(iri)
        if r is None:
            skipped.append({"alignment": key, "reason": "not an alignment of this program"})
        elif URIRef(r["status"]) != SUGGESTED:
            skipped.append({"alignment": key, "reason": "already decided"})
        elif (r["precision"] or 0) < min_precision:
            skipped.append({"alignment": key, "reason": f"precision below {min_precision}"})
        else:
            accept.append({"alignment": key, "objective": r["oid"], "competency": r["comp"],
                           "precision": r["precision"], "course": r["code"]})
    out = {"preview": preview, "accept": accept, "skipped": skipped, "accepted": 0, "decisions": []}
    if preview or not accept:
        return out
    reviews = ids.graph("reviews", program)
    at = now_literal()
    delete, insert, decisions = [], [], []
    for a in accept:
        iri = ids.iri("alignment", a["alignment"])
        g = URIRef(states[str(iri)]["g"])
        d, _, quads = decision_quads(ids, reviews, iri, user, SUGGESTED, ACCEPTED, teaching[str(iri)]["score"], None,
                                      note=f"bulk accept of the shown suggestions at precision >= {min_precision}",
                                      at=at)
        delete.append((iri, GM.status, SUGGESTED, g))
        insert += [(iri, GM.status, ACCEPTED, g), (iri, GM.lastDecision, d, g), *quads]
        decisions.append(Decision("accept", str(iri), user, str(at), "suggested", "accepted").to_dict())
    store.apply(delete=delete, insert=insert)
    out.update(accepted=len(decisions), decisions=decisions)
    return out
