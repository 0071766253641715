"""Which named graphs are private (learner-level results, person data) and who may see them.

A graph's privacy follows from its kind (the second path segment of ``Ids.graph(kind, key)``):
learner results, people, evidence, plans, mentor matches and the audit log are private; every
other source (frameworks, curricula, assessments, roles, alignments, reviews, reports) is public
to anyone who may read the institution at all.  SPARQL and reports answer over ``visible_graphs``.
"""
from __future__ import annotations

from .ids import Ids
from .store import Store

#: graph kinds whose triples are personal data
PRIVATE_KINDS = frozenset({"results", "people", "evidence", "plans", "matches", "cv", "audit"})


def graph_kind(ids: Ids, graph: str) -> str | None:
    """The kind of one of our named graphs (``…/graph/<kind>/<key>``), or None for foreign graphs."""
    prefix = str(ids.graph("", ""))[:-1]  # …/graph/
    g = str(graph)
    if not g.startswith(prefix):
        return None
    return g[len(prefix):].split("/", 1)[0]


def is_private(ids: Ids, graph: str) -> bool:
    kind = graph_kind(ids, graph)
    # Graphs we did not mint (foreign loads, staging) are not served to anyone without private access.
    return kind is None or kind in PRIVATE_KINDS


def visible_graphs(store: Store, ids: Ids, *, private: bool) -> list[str]:
    """The named graphs a reader may query: all of them with private access, else the public ones."""
    names = store.graph_names()
    return names if private else [g for g in names if not is_private(ids, g)]
