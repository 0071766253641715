"""What every read module shares: the store protocol it needs, value converters, IRI local names.

A read function takes the store (anything with ``select(name, **bindings)``: the named ``.rq`` queries
of ``ontology/queries/``, parameters bound, never formatted in) and returns frozen row types whose
``to_dict()`` is the JSON the API answers.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

Row = dict[str, Any]


class Selecting(Protocol):
    """The part of :class:`ontology.store.Store` the read layer uses."""

    def select(self, name: str, **bindings: Any) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Record:
    """Base of the row types (frozen dataclasses): ``to_dict()`` gives every field (a subclass may shape
    its JSON)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def text(v: object) -> str:
    return "" if v is None else str(v)


def opt_text(v: object) -> str | None:
    return None if v is None else str(v)


def opt_int(v: object) -> int | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return int(v)
    try:
        return int(str(v))
    except ValueError:
        return None


def opt_float(v: object) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(str(v))
    except ValueError:
        return None


def local_name(iri: object) -> str:
    """The local name of an IRI (``…/ns#WrittenExam`` → ``WrittenExam``, ``…/role/intern`` → ``intern``)."""
    return str(iri).rsplit("#", 1)[-1].rsplit("/", 1)[-1] if iri else ""


def term_name(iri: object) -> str:
    """A vocabulary term's name after ``#``, lower case (``gm:Suggested`` → ``suggested``); what the API
    calls a status or a method."""
    return str(iri).rsplit("#", 1)[-1].lower()


def split_list(v: object, sep: str) -> tuple[str, ...]:
    """A GROUP_CONCAT value as a tuple (empty parts dropped)."""
    return tuple(p for p in text(v).split(sep) if p)
