"""OWL consistency and classification check of the ontology plus data, with owlready2 and HermiT.

SHACL (``ontology/shacl.py``) checks the shape of each input; this module checks what only a
reasoner can: that the data taken together does not contradict the ontology, e.g. a node typed
both ``gm:Course`` and ``gm:Competency`` (declared disjoint), or a node that is inferred to be a
competency because an alignment points to it with ``gm:alignedCompetency`` while it is a course.

Only what OWL needs is handed to the reasoner: the ontology, plus the data's ``rdf:type``
triples whose class the ontology declares and its triples whose predicate is a declared object
property.  Literals (titles, objective texts, embeddings' evidence) cannot make this ontology
inconsistent, so they are dropped; that keeps a 30,000-triple store to a few thousand axioms.
The triples are loaded into an isolated owlready2 ``World`` (never the default world) and HermiT
runs offline (Java) on it.

An inconsistency is reported, not raised: :class:`ConsistencyReport` says which individuals are
to blame.  HermiT only answers "inconsistent", so the culprits are found by a quick structural
check of the same axioms (asserted and domain/range-inferred types against the disjointness
axioms, and functional properties against distinct individuals).  :func:`raise_if_inconsistent`
turns a bad report into :class:`~ontology.errors.ConsistencyError`.
"""
from __future__ import annotations

import io
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

from rdflib import ConjunctiveGraph, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS

from .errors import ConsistencyError
from .vocab import ONTOLOGY_IRI, PREFIXES

__all__ = ["ConsistencyReport", "check_consistency", "raise_if_inconsistent", "ontology_graph"]

_DATA_IRI = "urn:gapmap:reasoning:data"
_lock = threading.Lock()       # owlready2 and a JVM per run: one check at a time is plenty
_ont_lock = threading.Lock()
_ontology: "_Ontology | None" = None


@dataclass(frozen=True)
class ConsistencyReport:
    """The outcome of one reasoner run."""

    consistent: bool
    inconsistent_individuals: tuple[str, ...] = ()
    explanation: str = ""
    #: classes that can have no member (the ontology is incoherent); empty for a sound ontology
    unsatisfiable_classes: tuple[str, ...] = ()
    classes: int = 0
    #: individuals of the data (the ontology's own, such as gm:Accepted, not counted)
    individuals: int = 0
    #: data triples handed to the reasoner (after dropping literals and unknown terms)
    triples: int = 0
    seconds: float = 0.0
    reasoner: str = "HermiT"

    def to_dict(self) -> dict:
        return {
            "consistent": self.consistent,
            "inconsistent_individuals": list(self.inconsistent_individuals),
            "explanation": self.explanation,
            "unsatisfiable_classes": list(self.unsatisfiable_classes),
            "classes": self.classes,
            "individuals": self.individuals,
            "triples": self.triples,
            "seconds": round(self.seconds, 3),
            "reasoner": self.reasoner,
        }

    def __str__(self) -> str:
        if self.consistent:
            return (f"consistent: {self.individuals} individuals, {self.classes} classes "
                    f"({self.seconds:.2f} s, {self.reasoner})")
        return f"inconsistent: {self.explanation}"


# ---------------------------------------------------------------------------------------------
# The ontology, parsed once, with the parts the filter and the explainer need
# ---------------------------------------------------------------------------------------------

@dataclass
class _Ontology:
    graph: Graph
    ntriples: bytes
    classes: frozenset
    object_properties: frozenset
    functional: frozenset
    individuals: frozenset                          # the ontology's own (gm:Accepted, ...)
    supers: dict = field(default_factory=dict)      # class -> set of named superclasses (transitive)
    domains: dict = field(default_factory=dict)     # property -> set of named classes
    ranges: dict = field(default_factory=dict)      # property -> set of named classes
    disjoint: dict = field(default_factory=dict)    # class -> set of classes disjoint with it
    different: dict = field(default_factory=dict)   # individual -> set of individuals different from it


def _members(g: Graph, node) -> list:
    try:
        return list(Collection(g, node))
    except Exception:  # a malformed list: ignore it rather than fail the check
        return []


def _load_ontology() -> _Ontology:
    text = resources.files("ontology").joinpath("gapmap.ttl").read_text("utf-8")
    g = Graph()
    g.parse(data=text, format="turtle")
    classes = frozenset(c for c in g.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef))
    obj_props = frozenset(p for p in g.subjects(RDF.type, OWL.ObjectProperty) if isinstance(p, URIRef))
    functional = frozenset(p for p in g.subjects(RDF.type, OWL.FunctionalProperty) if p in obj_props)

    direct = defaultdict(set)
    for c, sup in g.subject_objects(RDFS.subClassOf):
        if isinstance(c, URIRef) and isinstance(sup, URIRef):
            direct[c].add(sup)
    supers = {}
    for c in classes:
        seen, todo = set(), [c]
        while todo:
            for s in direct.get(todo.pop(), ()):
                if s not in seen:
                    seen.add(s)
                    todo.append(s)
        supers[c] = seen

    def named(prop_axiom):
        out = defaultdict(set)
        for p, c in g.subject_objects(prop_axiom):
            if isinstance(c, URIRef):
                out[p].add(c)
        return dict(out)

    disjoint = defaultdict(set)
    for a, b in g.subject_objects(OWL.disjointWith):
        disjoint[a].add(b)
        disjoint[b].add(a)
    for axiom in g.subjects(RDF.type, OWL.AllDisjointClasses):
        ms = _members(g, g.value(axiom, OWL.members))
        for a in ms:
            disjoint[a].update(m for m in ms if m != a)
    different = defaultdict(set)
    for axiom in g.subjects(RDF.type, OWL.AllDifferent):
        ms = _members(g, g.value(axiom, OWL.distinctMembers) or g.value(axiom, OWL.members))
        for a in ms:
            different[a].update(m for m in ms if m != a)

    individuals = frozenset(g.subjects(RDF.type, OWL.NamedIndividual))
    return _Ontology(graph=g, ntriples=g.serialize(format="nt", encoding="utf-8"), classes=classes,
                     object_properties=obj_props, functional=functional, individuals=individuals,
                     supers=supers,
                     domains=named(RDFS.domain), ranges=named(RDFS.range),
                     disjoint=dict(disjoint), different=dict(different))


def _onto() -> _Ontology:
    global _ontology
    if _ontology is None:
        with _ont_lock:
            if _ontology is None:
                _ontology = _load_ontology()
    return _ontology


def ontology_graph() -> Graph:
    """The Gapmap ontology as an rdflib graph (parsed once; treat it as read-only)."""
    return _onto().graph


# ---------------------------------------------------------------------------------------------
# Data: keep what OWL can use
# ---------------------------------------------------------------------------------------------

def _triples(data):
    if isinstance(data, ConjunctiveGraph):  # also Dataset: every named graph
        for s, p, o, _ in data.quads((None, None, None, None)):
            yield s, p, o
    elif isinstance(data, Graph):
        yield from data
    else:
        for g in data:
            yield from _triples(g)


def _owl_triples(data, onto: _Ontology) -> Graph:
    """The type and object-property triples of ``data`` the ontology gives meaning to."""
    out = Graph()
    for s, p, o in _triples(data):
        if isinstance(s, Literal) or isinstance(o, Literal):
            continue
        if p == RDF.type:
            if o in onto.classes:
                out.add((s, p, o))
        elif p in onto.object_properties:
            out.add((s, p, o))
    return out


# ---------------------------------------------------------------------------------------------
# Explanation of an inconsistency
# ---------------------------------------------------------------------------------------------

def _short(term) -> str:
    s = str(term)
    for prefix, ns in PREFIXES.items():
        if s.startswith(ns) and len(s) > len(ns):
            return f"{prefix}:{s[len(ns):]}"
    return s


def _explain(owl: Graph, onto: _Ontology) -> tuple[tuple[str, ...], str]:
    """Individuals that break a disjointness or a functional property, with a sentence for each."""
    # (individual, class) -> why it has that type
    types: dict = defaultdict(dict)

    def add(node, cls, why):
        if cls not in types[node]:
            types[node][cls] = why
        for sup in onto.supers.get(cls, ()):
            types[node].setdefault(sup, f"{why}, and {_short(cls)} is a {_short(sup)}")

    for s, p, o in onto.graph.triples((None, RDF.type, None)):  # the ontology's own individuals
        if o in onto.classes:
            add(s, o, "declared so in the ontology")
    for s, o in owl.subject_objects(RDF.type):  # asserted types first: the plainest reason
        add(s, o, "typed so in the data")
    for s, p, o in owl:
        if p == RDF.type:
            continue
        for c in onto.domains.get(p, ()):
            add(s, c, f"it is the subject of {_short(p)}")
        for c in onto.ranges.get(p, ()):
            add(o, c, f"it is the value of {_short(p)} on {_short(s)}")

    culprits: dict[str, str] = {}
    for node, cls_why in types.items():
        if str(node) in culprits:
            continue
        for a in cls_why:
            clash = next((b for b in onto.disjoint.get(a, ()) if b in cls_why), None)
            if clash is None:
                continue
            first, second = sorted((a, clash), key=str)
            culprits[str(node)] = (
                f"{_short(node)} is both a {_short(first)} ({cls_why[first]}) and a "
                f"{_short(second)} ({cls_why[second]}), which are disjoint")
            break

    for p in onto.functional:
        values = defaultdict(set)
        for s, o in owl.subject_objects(p):
            values[s].add(o)
        for s, vs in values.items():
            clash = [(a, b) for a in vs for b in vs if b in onto.different.get(a, ())]
            if clash and str(s) not in culprits:
                a, b = sorted(clash[0], key=str)
                culprits[str(s)] = (f"{_short(s)} has two values of {_short(p)}, {_short(a)} and "
                                    f"{_short(b)}, but it can only have one")

    if not culprits:
        return (), ("HermiT found the ontology and data inconsistent, but the cause is not a simple "
                    "clash of disjoint classes or of a single-valued property; check recent changes "
                    "to the data")
    names = tuple(sorted(culprits))
    return names, "; ".join(culprits[n] for n in names)


# ---------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------

def check_consistency(data: Graph | Iterable[Graph]) -> ConsistencyReport:
    """Run HermiT on the ontology plus ``data`` (a graph, a dataset, or several graphs).

    Returns a :class:`ConsistencyReport`; an inconsistency is part of the report, not an
    exception.  Raises ``RuntimeError`` only when the reasoner itself cannot run (no Java).
    """
    import owlready2
    from owlready2.base import OwlReadyInconsistentOntologyError, OwlReadyJavaError

    onto = _onto()
    t0 = time.perf_counter()
    owl = _owl_triples(data, onto)
    individuals = {n for s, p, o in owl for n in ((s,) if p == RDF.type else (s, o))} - onto.individuals

    with _lock:
        world = owlready2.World()  # isolated, in-memory: nothing leaks into the default world
        try:
            world.get_ontology(str(ONTOLOGY_IRI)).load(
                fileobj=io.BytesIO(onto.ntriples), format="ntriples")
            world.get_ontology(_DATA_IRI).load(
                fileobj=io.BytesIO(owl.serialize(format="nt", encoding="utf-8")), format="ntriples")
            n_classes = sum(1 for _ in world.classes())
            try:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
                consistent = True
                unsat = tuple(sorted(c.iri for c in world.inconsistent_classes()
                                     if c.iri != str(OWL.Nothing)))
            except OwlReadyInconsistentOntologyError:
                consistent, unsat = False, ()
            except (OwlReadyJavaError, OSError) as e:
                raise RuntimeError(f"the OWL reasoner HermiT could not run (is Java installed?): {e}") from e
        finally:
            world.close()

    culprits, explanation = ((), "") if consistent else _explain(owl, onto)
    if consistent and unsat:
        explanation = "classes that can have no member: " + ", ".join(_short(c) for c in unsat)
    return ConsistencyReport(
        consistent=consistent, inconsistent_individuals=culprits, explanation=explanation,
        unsatisfiable_classes=unsat, classes=n_classes, individuals=len(individuals),
        triples=len(owl), seconds=time.perf_counter() - t0)


def raise_if_inconsistent(data: Graph | Iterable[Graph] | ConsistencyReport) -> ConsistencyReport:
    """Check ``data`` (or take a finished report) and raise ``ConsistencyError`` if inconsistent."""
    report = data if isinstance(data, ConsistencyReport) else check_consistency(data)
    if not report.consistent:
        raise ConsistencyError(f"the data contradicts the Gapmap ontology: {report.explanation}",
                               individuals=list(report.inconsistent_individuals) or None)
    return report
