"""Resolve ids in the input against what is already in the store."""
from __future__ import annotations

from rdflib import Literal, URIRef

from ontology.errors import LoadError

from .base import Context


def competency_index(ctx: Context, fw: str) -> dict[str, URIRef]:
    """Notation -> IRI for the competencies (not domains) of framework ``fw`` in the store."""
    if ctx.store is None:
        raise LoadError(f"cannot resolve competencies of framework {fw!r}: no store given", column="framework")
    rows = ctx.store.select("framework_concepts", fw=Literal(fw))
    if not rows:
        raise LoadError(f"framework {fw!r} is not loaded; load it first", column="framework")
    return {r["notation"]: URIRef(r["concept"]) for r in rows if not r["domain"]}
