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


def program_members(ctx: Context) -> dict[str, set[str]]:
    """IRI -> the programs (notations) its course or objective belongs to in the store (none without a store).

    Course and objective IRIs are minted from their code or id alone (``ids.course``, ``ids.objective``), so
    the same code in a second program's file would merge into the first program's node: loaders refuse it."""
    out: dict[str, set[str]] = {}
    if ctx.store is not None:
        for r in ctx.store.select("program_members"):
            out.setdefault(str(r["node"]), set()).add(str(r["pid"]))
    return out


def check_program_member(members: dict[str, set[str]], node: URIRef, prog: str, what: str, ident: str, *,
                         file: str, row: int, column: str) -> None:
    """A course or objective id already used by another program is a LoadError naming row and column."""
    others = sorted(members.get(str(node), set()) - {prog})
    if others:
        raise LoadError(f"{what} {ident!r} already belongs to program {others[0]!r}: course codes and objective "
                        f"ids are shared by every program of an institution, so give program {prog!r} its own",
                        file=file, row=row, column=column)
