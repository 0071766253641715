"""Career reads the service makes directly: saved mentor matches."""
from __future__ import annotations

from dataclasses import dataclass

from rdflib import URIRef

from ._base import Record, Selecting, opt_float, text


@dataclass(frozen=True)
class SavedMatch(Record):
    match: str
    mentee: str
    mentor: str
    menteeId: str  # noqa: N815
    mentorId: str  # noqa: N815
    mode: str
    score: float | None


def saved_matches(store: Selecting, mentee_iri: URIRef) -> list[SavedMatch]:
    """The mentor matches saved for a mentee."""
    return [SavedMatch(text(r["match"]), text(r["mentee"]), text(r["mentor"]), text(r["menteeId"]),
                       text(r["mentorId"]), text(r["mode"]), opt_float(r.get("score")))
            for r in store.select("saved_matches", mentee=mentee_iri)]
