"""Framework crosswalks: map one framework's competencies onto another's, review, and reuse the mappings.

A crosswalk from framework ``a`` (source) to ``b`` (target) is computed by the alignment engine: a
:class:`~linking.engine.Linker` over ``b``'s competencies ranks them for each ``a`` competency's
label and definition.  Each suggestion is a ``gm:CompetencyMapping`` (a kind of ``gm:Alignment``) with
``gm:mappingSource`` / ``gm:mappingTarget``, a proposed SKOS relation (``gm:mappingRelation``: exact, close,
broader, narrower, related = ``skos:exactMatch`` … ``skos:relatedMatch``), score, calibrated precision,
evidence and PROV, in the graph ``graph/crosswalk/{a}--{b}``.  Reviewers accept (choosing the relation),
reject or reset each mapping; decisions carry PROV (who, when, previous status and relation) in
``graph/crosswalk-reviews/{a}--{b}``, and an accepted mapping also states the plain SKOS triple
(``a-concept skos:closeMatch b-concept``) so SPARQL users see standard SKOS.  Re-running a crosswalk
replaces only undecided suggestions.

:func:`gap_report_via` uses accepted mappings so that a curriculum aligned to ``a`` gets a gap report against
``b`` without being re-aligned: a ``b`` competency is taught (assessed) where an ``a`` competency mapped to it
by an exact, close or broader match (``a`` is narrower than ``b``) is taught (assessed).
"""
from __future__ import annotations

import hashlib
import re
import threading
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from .errors import GapmapError, NotFound
from .store import Store
from .vocab import ACCEPTED, GM, PROV, RDF, RDFS, REJECTED, SKOS, SUGGESTED

RELATIONS = {"exact": SKOS.exactMatch, "close": SKOS.closeMatch, "broader": SKOS.broadMatch,
             "narrower": SKOS.narrowMatch, "related": SKOS.relatedMatch}
RELATION_NAMES = {str(v): k for k, v in RELATIONS.items()}
#: relations through which teaching a source competency counts for the target one
COUNTING = ("exact", "close", "broader")
DECISIONS = {"accept": ACCEPTED, "reject": REJECTED, "reset": SUGGESTED}
ENGINE_AGENT = "gapmap-aligner"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


_LOCKS: dict[str, threading.Lock] = defaultdict(threading.Lock)
_LOCKS_GUARD = threading.Lock()


def _lock(a: str, b: str) -> threading.Lock:
    """One lock per crosswalk: a re-run (read decided mappings, replace the graph) and a decision never
    interleave in this process, so a decision taken during a re-run is not lost."""
    with _LOCKS_GUARD:
        return _LOCKS[key(a, b)]


class CrosswalkError(GapmapError):
    status = 400
    title = "Invalid crosswalk request"


def key(a: str, b: str) -> str:
    return f"{a}--{b}"


def graph_name(ids, a: str, b: str) -> URIRef:
    return ids.graph("crosswalk", key(a, b))


def reviews_graph(ids, a: str, b: str) -> URIRef:
    return ids.graph("crosswalk-reviews", key(a, b))


def mapping_iri(ids, source: str, target: str) -> URIRef:
    h = hashlib.sha1(f"{source}\n{target}".encode()).hexdigest()[:16]
    return ids.iri("mapping", h)


def query_text(label: str, definition: str | None) -> str:
    """What a source competency is ranked by: its label and definition."""
    definition = (definition or "").strip()
    return f"{label}. {definition}" if definition else label


@dataclass(frozen=True)
class CrosswalkResult:
    source: str
    target: str
    competencies: int
    suggestions: int
    kept_decisions: int
    model_version: str

    def to_dict(self) -> dict:
        return asdict(self)


def check_framework(fw: str, field: str) -> str:
    if not isinstance(fw, str) or not _ID.match(fw):
        raise CrosswalkError(f"{field} must be a framework id", field=field)
    return fw


def _now() -> Literal:
    return Literal(datetime.now(timezone.utc).isoformat(timespec="milliseconds"), datatype=XSD.dateTime)


def suggest_relation(src_label: str, tgt_label: str) -> str:
    """Exact when the labels say the same (case and spacing aside), else close (the reviewer refines it)."""
    norm = lambda s: " ".join(re.sub(r"[^\w ]", " ", s.lower()).split())  # noqa: E731
    return "exact" if norm(src_label) == norm(tgt_label) else "close"


def run_crosswalk(store: Store, ids, a: str, b: str, linker, *, top_k: int = 3, min_precision: float = 0.0,
                  now: datetime | None = None) -> CrosswalkResult:
    """Suggest up to ``top_k`` ``b`` competencies for each ``a`` competency; replace the undecided suggestions.

    ``linker`` ranks ``b``'s competencies (built over ``competency_texts(store, b)``)."""
    check_framework(a, "source")
    check_framework(b, "target")
    if a == b:
        raise CrosswalkError("a crosswalk needs two different frameworks", field="target")
    src = store.select("framework_competencies", fw=Literal(a))
    if not src:
        raise NotFound(f"framework {a!r} is not loaded", field="source")
    tgt = {r["comp"]: r for r in store.select("framework_competencies", fw=Literal(b))}
    if not tgt:
        raise NotFound(f"framework {b!r} is not loaded", field="target")
    gname = graph_name(ids, a, b)
    ranked = linker.rank([query_text(r["label"], r["definition"]) for r in src], top_k=top_k)
    with _lock(a, b):
        return _write_crosswalk(store, ids, a, b, src, tgt, ranked, linker.model_version, gname, top_k,
                                min_precision, now)


def _write_crosswalk(store, ids, a, b, src, tgt, ranked, model_version, gname, top_k, min_precision, now):
    old = store.graph(gname)
    decided = {m for m in old.subjects(RDF.type, GM.CompetencyMapping) if old.value(m, GM.status) != SUGGESTED}
    g = Graph()
    for m in decided:  # decided mappings (and their SKOS triple) survive a re-run
        for p, o in old.predicate_objects(m):
            g.add((m, p, o))
        if old.value(m, GM.status) == ACCEPTED:
            rel = old.value(m, GM.mappingRelation)
            g.add((old.value(m, GM.mappingSource), rel, old.value(m, GM.mappingTarget)))
    now = now or datetime.now(timezone.utc)
    stamp = Literal(now.isoformat(timespec="seconds"), datatype=XSD.dateTime)
    activity = ids.activity(f"crosswalk-{a}-{b}")
    agent = ids.agent(ENGINE_AGENT)
    g.add((activity, RDF.type, PROV.Activity))
    g.add((activity, PROV.endedAtTime, stamp))
    g.add((activity, PROV.wasAssociatedWith, agent))
    g.add((activity, GM.modelVersion, Literal(model_version)))
    g.add((agent, RDF.type, PROV.SoftwareAgent))
    g.add((agent, RDFS.label, Literal("Gapmap alignment engine")))
    n = 0
    for r, matches in zip(src, ranked):
        for rank, m in enumerate(matches[:top_k], start=1):
            if m.precision < min_precision or m.uri not in tgt:
                continue
            iri = mapping_iri(ids, r["comp"], m.uri)
            if iri in decided:
                continue
            n += 1
            rel = suggest_relation(r["label"], tgt[m.uri]["label"])
            for p, o in ((RDF.type, GM.CompetencyMapping), (GM.mappingSource, URIRef(r["comp"])),
                         (GM.mappingTarget, URIRef(m.uri)), (GM.mappingRelation, RELATIONS[rel]),
                         (GM.status, SUGGESTED), (GM.method, GM.EmbeddingMethod),
                         (GM.score, Literal(f"{m.score:.4f}", datatype=XSD.decimal)),
                         (GM.expectedPrecision, Literal(f"{m.precision:.4f}", datatype=XSD.decimal)),
                         (GM.rank, Literal(rank, datatype=XSD.integer)), (GM.modelVersion, Literal(model_version)),
                         (GM.evidence, Literal(m.evidence.text)), (GM.evidenceField, Literal(m.evidence.field)),
                         (PROV.wasGeneratedBy, activity), (PROV.wasAttributedTo, agent), (PROV.generatedAtTime, stamp)):
                g.add((iri, p, o))
    store.replace_graphs({gname: g})
    return CrosswalkResult(source=a, target=b, competencies=len(src), suggestions=n, kept_decisions=len(decided),
                           model_version=model_version)


@dataclass(frozen=True)
class Mapping:
    id: str
    source: str
    source_notation: str
    source_label: str
    target: str
    target_notation: str
    target_label: str
    relation: str
    status: str
    score: float | None
    precision: float | None
    evidence: str | None
    rank: int | None

    def to_dict(self) -> dict:
        return asdict(self)


def mappings(store: Store, ids, a: str, b: str, *, status: str | None = None) -> list[Mapping]:
    """The mappings of crosswalk ``a``→``b`` (optionally one status), by source notation then rank."""
    rows = store.select("crosswalk_mappings", g=graph_name(ids, check_framework(a, "source"), check_framework(b, "target")))
    out = []
    for r in rows:
        st = str(r["status"]).rsplit("#", 1)[-1].lower()
        if status and st != status:
            continue
        out.append(Mapping(id=r["mapping"].rsplit("/", 1)[-1], source=r["source"], source_notation=r["sn"],
                           source_label=r["sl"], target=r["target"], target_notation=r["tn"], target_label=r["tl"],
                           relation=RELATION_NAMES.get(r["relation"], "close"), status=st,
                           score=r["score"], precision=r["precision"], evidence=r["evidence"], rank=r["rank"]))
    return out


def crosswalks(store: Store) -> list[dict]:
    return store.select("crosswalks")


def decide(store: Store, ids, a: str, b: str, mapping_id: str, decision: str, user: str, *,
           relation: str | None = None, note: str | None = None) -> dict:
    """Accept (with a relation), reject or reset one mapping, with PROV, in one transaction."""
    from .review import check_user
    user = check_user(user)
    if decision not in DECISIONS:
        raise CrosswalkError(f"decision must be one of {', '.join(DECISIONS)}", field="decision")
    if relation is not None and relation not in RELATIONS:
        raise CrosswalkError(f"relation must be one of {', '.join(RELATIONS)}", field="relation")
    if not isinstance(mapping_id, str) or not re.fullmatch(r"[0-9a-f]{16}", mapping_id):
        raise NotFound(f"no mapping {mapping_id!r}", field="mapping")
    gname, rg = graph_name(ids, a, b), reviews_graph(ids, a, b)
    with _lock(a, b):
        return _decide(store, ids, a, b, mapping_id, decision, user, relation, note, gname, rg)


def _decide(store, ids, a, b, mapping_id, decision, user, relation, note, gname, rg):
    m = ids.iri("mapping", mapping_id)
    rows = store.select("crosswalk_mapping", mapping=m, g=gname)
    if not rows:
        raise NotFound(f"no mapping {mapping_id!r} in crosswalk {key(a, b)}", field="mapping")
    r = rows[0]
    prev, prev_rel = URIRef(r["status"]), URIRef(r["relation"])
    new, new_rel = DECISIONS[decision], RELATIONS[relation] if relation else prev_rel
    src, tgt = URIRef(r["source"]), URIRef(r["target"])
    delete = [(m, GM.status, prev, gname), (m, GM.mappingRelation, prev_rel, gname)]
    if prev == ACCEPTED:
        delete.append((src, prev_rel, tgt, gname))
    insert = [(m, GM.status, new, gname), (m, GM.mappingRelation, new_rel, gname)]
    if new == ACCEPTED:
        insert.append((src, new_rel, tgt, gname))
    at = _now()
    d = ids.decision(uuid.uuid4().hex)
    agent = ids.agent(user)
    insert += [(agent, RDF.type, PROV.Person, rg), (agent, RDFS.label, Literal(user), rg),
               (d, RDF.type, GM.ReviewDecision, rg), (d, RDF.type, PROV.Activity, rg), (d, PROV.used, m, rg),
               (d, PROV.wasAssociatedWith, agent, rg), (d, PROV.endedAtTime, at, rg), (d, GM.newStatus, new, rg),
               (d, GM.previousStatus, prev, rg), (d, GM.mappingRelation, new_rel, rg), (m, GM.lastDecision, d, gname)]
    if r["lastDecision"]:
        delete.append((m, GM.lastDecision, URIRef(r["lastDecision"]), gname))
    if note:
        insert.append((d, RDFS.comment, Literal(str(note)[:1000]), rg))
    store.apply(delete=delete, insert=insert)
    return {"mapping": mapping_id, "decision": decision, "user": user, "at": str(at),
            "previous": str(prev).rsplit("#", 1)[-1].lower(), "status": str(new).rsplit("#", 1)[-1].lower(),
            "relation": RELATION_NAMES[str(new_rel)]}


def accepted_map(store: Store, ids, a: str, b: str, relations=COUNTING) -> dict[str, set[str]]:
    """target competency -> the source competencies an accepted mapping with a counting relation ties to it."""
    out: dict[str, set[str]] = defaultdict(set)
    for m in mappings(store, ids, a, b, status="accepted"):
        if m.relation in relations:
            out[m.target].add(m.source)
    return out


def gap_report_via(store: Store, ids, program: str, framework: str, via: str, *, role: str | None = None,
                   year: int | None = None, course: str | None = None, include_suggestions: float | None = None,
                   stage: str | None = "graduation", relations=COUNTING):
    """The gap report of ``program`` against ``framework``, from its alignments to ``via`` and the accepted
    crosswalk ``via``→``framework`` (or ``framework``→``via``, read backwards)."""
    from .gaps import DomainSummary, GapEntry, GapReport, STATUS_ORDER, gap_report, gap_status, pct, requirements_at

    base = gap_report(store, ids, program, via, year=year, course=course, include_suggestions=include_suggestions)
    fwd = accepted_map(store, ids, via, framework, relations)
    if not fwd:  # a crosswalk the other way round: flip the relation (broader <-> narrower)
        flip = {"exact": "exact", "close": "close", "broader": "narrower", "narrower": "broader", "related": "related"}
        for m in mappings(store, ids, framework, via, status="accepted"):
            if flip[m.relation] in relations:
                fwd.setdefault(m.source, set()).add(m.target)
    if not fwd:
        raise NotFound(f"no accepted mappings between {via!r} and {framework!r}: run and review the crosswalk first",
                       field="via")
    by_comp = {e.competency: e for e in base.entries}
    comps = store.select("framework_competencies", fw=Literal(framework))
    required = {}
    if role:
        reqs = requirements_at(store.select("role_requirements", rid=Literal(role)), stage)
        required = {r["comp"]: (int(r["level"]), str(r["relation"]).rsplit("#", 1)[-1].lower()) for r in reqs}
    entries = []
    for c in comps:
        srcs = [by_comp[s] for s in sorted(fwd.get(c["comp"], ())) if s in by_comp]
        taught = {(t.objective, t.course): t for e in srcs for t in e.taught_by}
        assessed = {a.assessment: a for e in srcs for a in e.assessed_by}
        t = tuple(sorted(taught.values(), key=lambda x: (x.year, x.course, x.objective_id)))
        a_ = tuple(sorted(assessed.values(), key=lambda x: (x.year, x.course, x.assessment_id)))
        levels = [x.level for x in t if x.level is not None] + [x.level for x in a_ if x.level is not None]
        reached = max(levels) if levels else None
        req, rel = required.get(c["comp"], (None, None))
        entries.append(GapEntry(competency=c["comp"], notation=c["notation"], label=c["label"],
                                domain=c["domainNotation"], domain_label=c["domainLabel"],
                                status=gap_status(bool(t), bool(a_), reached, req), taught_by=t, assessed_by=a_,
                                level_reached=reached, required_level=req, relation=rel))
    n = len(entries)
    counts = {s: sum(1 for e in entries if e.status == s) for s in STATUS_ORDER}
    summary = {"competencies": n, "counts": counts, "taught_pct": pct(sum(bool(e.taught_by) for e in entries), n),
               "assessed_pct": pct(sum(bool(e.assessed_by) for e in entries), n), "covered_pct": pct(counts["covered"], n),
               "via": via, "mapped_competencies": sum(1 for c in comps if fwd.get(c["comp"]))}
    by_domain = defaultdict(list)
    for e in entries:
        by_domain[(e.domain, e.domain_label)].append(e)
    domains = tuple(DomainSummary(
        domain=d, label=lbl, competencies=len(es), counts={s: sum(1 for e in es if e.status == s) for s in STATUS_ORDER},
        taught_pct=pct(sum(bool(e.taught_by) for e in es), len(es)),
        assessed_pct=pct(sum(bool(e.assessed_by) for e in es), len(es)),
        covered_pct=pct(sum(1 for e in es if e.status == "covered"), len(es)))
        for (d, lbl), es in sorted(by_domain.items(), key=lambda kv: kv[0][0] or ""))
    return GapReport(program=program, framework=framework, year=year, course=course, role=role,
                     include_suggestions=include_suggestions, entries=tuple(entries), summary=summary, domains=domains,
                     stage=stage, via=via)


def precision_recall(predicted: dict[str, list[str]], gold: dict[str, set[str]], ks=(1, 3, 5, 10)) -> dict:
    """P@k and R@k of ranked predictions (source -> ranked targets) against gold pairs (source -> targets).

    Only sources with gold pairs are scored; P@k = correct in the top k / (k x sources), R@k = gold pairs
    found in the top k / gold pairs; also MRR and hit@k (share of sources with a correct target in the top k).
    """
    srcs = [s for s in gold if gold[s]]
    n_gold = sum(len(gold[s]) for s in srcs)
    out = {"sources": len(srcs), "gold_pairs": n_gold}
    for k in ks:
        hit = sum(len(set(predicted.get(s, [])[:k]) & gold[s]) for s in srcs)
        out[f"P@{k}"] = round(hit / (k * len(srcs)), 4) if srcs else 0.0
        out[f"R@{k}"] = round(hit / n_gold, 4) if n_gold else 0.0
        out[f"hit@{k}"] = round(sum(bool(set(predicted.get(s, [])[:k]) & gold[s]) for s in srcs) / len(srcs), 4) \
            if srcs else 0.0
    rr = []
    for s in srcs:
        ranks = [i for i, t in enumerate(predicted.get(s, []), start=1) if t in gold[s]]
        rr.append(1.0 / ranks[0] if ranks else 0.0)
    out["MRR"] = round(sum(rr) / len(rr), 4) if rr else 0.0
    return out
