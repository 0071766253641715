"""SHACL validation of input graphs against ``ontology/shapes.ttl``, with errors mapped back to the input.

Loaders produce a :class:`loaders.base.Delta` (graphs, plus ``origin`` node -> (file, row) and
``columns`` predicate -> column name); :func:`validate` turns every ``sh:ValidationResult`` into a
:class:`~ontology.errors.Violation` naming the file, row and column where it can::

    violations = validate(graph, origin=delta.origin, columns=delta.columns)
    check(graph, origin=delta.origin, columns=delta.columns)   # raises ValidationError

The shapes are parsed once.  Validation runs with no inference and without the ontology graph:
the shapes name every class they target (including each assessment kind), so RDFS inference is
not needed, and skipping it means pyshacl works on the data graph in place instead of copying it.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from importlib import resources

import pyshacl
from rdflib import BNode, ConjunctiveGraph, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from .errors import ValidationError, Violation
from .vocab import PREFIXES, SH

__all__ = ["validate", "check", "shapes_graph"]

_lock = threading.Lock()
_shapes: Graph | None = None


def shapes_graph() -> Graph:
    """The parsed shapes graph (parsed on first use, then shared; treat it as read-only)."""
    global _shapes
    if _shapes is None:
        with _lock:
            if _shapes is None:
                text = resources.files("ontology").joinpath("shapes.ttl").read_text("utf-8")
                g = Graph()
                g.parse(data=text, format="turtle")
                # pyshacl adds a couple of RDFS/OWL axioms to the shapes graph on first use; do
                # that first run here, under the lock, so later (concurrent) runs only read it.
                pyshacl.validate(Graph(), shacl_graph=g, inference="none", do_owl_imports=False)
                _shapes = g
    return _shapes


def _as_graph(data) -> Graph:
    if isinstance(data, ConjunctiveGraph):  # also Dataset: validate the union of its graphs
        union = Graph()
        for s, p, o, _ in data.quads((None, None, None, None)):
            union.add((s, p, o))
        return union
    if isinstance(data, Graph):
        return data
    union = Graph()
    for g in data:
        union += g
    return union


_PLAIN = {XSD.integer, XSD.int, XSD.long, XSD.decimal, XSD.double, XSD.float, XSD.boolean,
          XSD.nonNegativeInteger, XSD.positiveInteger}


def _short(term) -> str:
    """A term as a user reads it: prefixed name for known namespaces, quoted text for literals."""
    if isinstance(term, Literal):
        text = str(term)
        if term.datatype in _PLAIN and not term.ill_typed:
            return text
        return repr(text if len(text) <= 60 else text[:57] + "...")
    s = str(term)
    for prefix, ns in PREFIXES.items():
        if s.startswith(ns) and len(s) > len(ns):
            return f"{prefix}:{s[len(ns):]}"
    return f"<{s}>"


def validate(data: Graph | Iterable[Graph], *, origin: Mapping | None = None,
             columns: Mapping | None = None, include_warnings: bool = False) -> list[Violation]:
    """Validate ``data`` against the Gapmap shapes; an empty list means it conforms.

    ``origin`` maps a focus node to ``(file, row)``; ``columns`` maps a predicate (the result
    path) to the input column it came from.  Warnings (recommendations such as a missing
    description) are left out unless ``include_warnings``.  The result is sorted by file and row.
    """
    graph = _as_graph(data)
    origin = origin or {}
    columns = columns or {}
    # Fast path: data that certainly conforms (every constraint, warnings included) skips pyshacl;
    # anything else goes to pyshacl, which writes the report (see ontology/shacl_fast.py).
    from .shacl_fast import conforms as fast_conforms
    if fast_conforms(graph, shapes_graph()):
        return []
    from .fastgraph import FastStore
    if isinstance(graph.store, FastStore):  # pyshacl wraps the graph's store in a Dataset: needs rdflib's own
        plain = Graph()
        plain += graph
        graph = plain
    conforms, report, _text = pyshacl.validate(
        graph, shacl_graph=shapes_graph(), ont_graph=None, inference="none", abort_on_first=False,
        allow_infos=False, allow_warnings=False, advanced=False, meta_shacl=False, do_owl_imports=False)
    if conforms:
        return []

    out: set[Violation] = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        severity = report.value(result, SH.resultSeverity)
        if severity != SH.Violation and not include_warnings:
            continue
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        message = messages[0] if messages else "does not conform to the Gapmap shapes"
        if value is not None and value != focus and not isinstance(value, BNode):
            message = f"{message.rstrip('.')} (got {_short(value)})."
        if severity == SH.Warning:
            message = f"warning: {message}"
        where = (origin.get(focus) or origin.get(str(focus))) if focus is not None else None
        file, row = where if where else (None, None)
        column = None
        if isinstance(path, URIRef):
            column = columns.get(path) or columns.get(str(path))
        out.add(Violation(
            focus=str(focus) if focus is not None else "",
            path=str(path) if isinstance(path, URIRef) else None,
            message=message, file=file, row=row, column=column,
        ))
    return sorted(out, key=lambda v: (v.file is None, v.file or "", v.row is None, v.row or 0,
                                      v.focus, v.path or "", v.message))


def check(data: Graph | Iterable[Graph], **kw) -> None:
    """Like :func:`validate`, but raise :class:`~ontology.errors.ValidationError` on any violation."""
    violations = validate(data, **kw)
    if violations:
        raise ValidationError(violations)
