"""Competency evidence from a person's CV or portfolio: suggestions with evidence spans, reviewed with PROV.

The text (already extracted by the syllabus readers, in the service) is cut into passages (lines and
sentences); the alignment engine ranks the framework's competencies for each passage, and each
competency keeps its best passage at or above a calibrated precision.  The level is read from the
passage's wording (``suggest_level``: "led"/"directed" = 4, "national"/"invited" = 5, "taught"/
"supervised" = 3, "attended"/"completed" = 2; 3 when nothing says otherwise).

Suggestions live in the person's private ``cv`` graph as ``gm:EvidenceSuggestion`` (status Suggested).
The person, or someone who may read private data, accepts or rejects each one: the decision is a
``gm:ReviewDecision`` (prov:Activity: who, when, previous and new status) and an accepted suggestion
becomes ``gm:CompetencyEvidence`` (source: portfolio) in the private graph ``evidence/cv-<person>``,
all in one transaction; rejecting an accepted suggestion removes that evidence again.
"""
from __future__ import annotations

import re
import threading
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from . import people_ids as pids
from .careers import get_person
from .errors import GapmapError, NotFound
from .store import Store
from .vocab import ACCEPTED, DCTERMS, GM, PROV, RDF, RDFS, REJECTED, SUGGESTED

_decide_lock = threading.Lock()  # read-check-write of one decision at a time (per process)

LEVEL_WORDS = [
    (5, r"\b(national(ly)?|international(ly)?|invited (speaker|lecture|talk)|keynote|award(ed)?|professor)\b"),
    (4, r"\b(led|lead(ing)?|direct(ed|or)|chair(ed)?|found(ed)?|establish(ed)?|design(ed)?|head(ed)?|"
        r"principal investigator)\b"),
    (3, r"\b(taught|teach(ing)?|supervis(e|ed|ing)|coordinat(e|ed|ing)|manag(e|ed|ing)|publish(ed)?|present(ed)?|"
        r"mentor(ed|ing)?|facilitat(e|ed|ing)|perform(ed)?)\b"),
    (2, r"\b(attend(ed)?|complet(e|ed)|assist(ed)?|participat(e|ed)|observ(e|ed)|trained in|learn(ed|t)?)\b"),
]


class EvidenceError(GapmapError):
    status = 400
    title = "Invalid evidence decision"


def suggest_level(text: str) -> int:
    for level, pattern in LEVEL_WORDS:
        if re.search(pattern, text, re.I):
            return level
    return 3


def passages(text: str, min_words: int = 4, max_chars: int = 400) -> list[tuple[int, int]]:
    """(start, end) offsets of the lines and sentences of ``text`` worth matching."""
    out = []
    for m in re.finditer(r"[^\n]+", text):
        line_start = m.start()
        line = m.group(0)
        for s in re.finditer(r"[^.;!?]+(?:[.;!?]+|$)", line):
            seg = s.group(0)
            a = line_start + s.start() + (len(seg) - len(seg.lstrip(" \t-•*·")))
            b = line_start + s.start() + len(seg.rstrip())
            if b - a > max_chars:
                b = a + max_chars
            if len(text[a:b].split()) >= min_words:
                out.append((a, b))
    return out


@dataclass(frozen=True)
class Suggestion:
    iri: str
    competency: str
    notation: str
    label: str
    level: int
    score: float
    precision: float
    text: str
    span: tuple[int, int]
    matched: str  # which competency text matched (label / alt label / definition)
    status: str

    def to_dict(self) -> dict:
        d = asdict(self)
        d["span"] = list(self.span)
        return d


@dataclass(frozen=True)
class CVResult:
    person: str
    version: int
    filename: str
    passages: int
    suggestions: tuple[Suggestion, ...]

    def to_dict(self) -> dict:
        return {"person": self.person, "version": self.version, "file": self.filename, "passages": self.passages,
                "suggestions": [s.to_dict() for s in self.suggestions]}


def _now() -> Literal:
    return Literal(datetime.now(timezone.utc).isoformat(timespec="milliseconds"), datatype=XSD.dateTime)


def _label_maps(store: Store, framework: str) -> dict[str, tuple[str, str]]:
    return {r["comp"]: (r["notation"], r["label"]) for r in store.select("framework_competencies",
                                                                         fw=Literal(framework))}


def suggest_from_text(store: Store, ids, pid: str, text: str, linker, *, framework: str, filename: str,
                      user: str, min_precision: float = 0.3, top_k: int = 3) -> tuple[CVResult, Graph]:
    """Suggestions for a person from the text of their CV; returns the result and the new ``cv`` graph."""
    person = get_person(store, pid)
    spans = passages(text)
    texts = [text[a:b] for a, b in spans]
    ranked = linker.rank(texts, top_k=top_k) if texts else []
    best: dict[str, tuple] = {}
    for (a, b), t, matches in zip(spans, texts, ranked):
        for m in matches:
            if m.precision < min_precision:
                continue
            if m.uri not in best or m.score > best[m.uri][0].score:
                best[m.uri] = (m, a, b, t)
    labels = _label_maps(store, framework)
    prev = store.select("cv_versions", person=URIRef(person.iri))
    version = (max(int(r["version"]) for r in prev) + 1) if prev else 1
    key = uuid.uuid4().hex[:16]
    doc = pids.cv(ids, pid, key)
    g = Graph()
    at = _now()
    g.add((doc, RDF.type, GM.CurriculumVitae))
    g.add((doc, RDF.type, PROV.Entity))
    g.add((doc, GM.documentOf, URIRef(person.iri)))
    g.add((doc, DCTERMS.title, Literal(filename)))
    g.add((doc, GM.rank, Literal(version, datatype=XSD.integer)))
    g.add((doc, PROV.generatedAtTime, at))
    g.add((doc, PROV.wasAttributedTo, ids.agent(user)))
    out = []
    for uri, (m, a, b, t) in sorted(best.items(), key=lambda kv: -kv[1][0].score):
        notation, label = labels.get(uri, (uri.rsplit("/", 1)[-1], ""))
        level = suggest_level(t)
        s = pids.suggestion(ids, pid, key, a, uri)
        g.add((s, RDF.type, GM.EvidenceSuggestion))
        g.add((s, RDF.type, PROV.Entity))
        g.add((s, GM.suggestionFor, URIRef(person.iri)))
        g.add((s, GM.fromDocument, doc))
        g.add((s, GM.suggestedCompetency, URIRef(uri)))
        g.add((s, GM.suggestedLevel, Literal(level, datatype=XSD.integer)))
        g.add((s, GM.evidenceStatus, SUGGESTED))
        g.add((s, GM.evidenceText, Literal(t)))
        g.add((s, GM.charStart, Literal(a, datatype=XSD.integer)))
        g.add((s, GM.charEnd, Literal(b, datatype=XSD.integer)))
        g.add((s, GM.score, Literal(f"{m.score:.4f}", datatype=XSD.decimal)))
        g.add((s, GM.estimatedPrecision, Literal(f"{m.precision:.4f}", datatype=XSD.decimal)))
        g.add((s, PROV.wasGeneratedBy, doc))
        g.add((s, RDFS.comment, Literal(f"matched {m.evidence.field}: {m.evidence.text}")))
        out.append(Suggestion(iri=str(s), competency=uri, notation=notation, label=label, level=level,
                              score=round(m.score, 4), precision=round(m.precision, 4), text=t, span=(a, b),
                              matched=f"{m.evidence.field}: {m.evidence.text}", status="suggested"))
    return CVResult(person=pid, version=version, filename=filename, passages=len(spans), suggestions=tuple(out)), g


def add_cv(store: Store, ids, pid: str, text: str, linker, *, framework: str, filename: str, user: str,
           min_precision: float = 0.3) -> CVResult:
    """Suggest from a CV's text and add the CV and its suggestions to the person's private ``cv`` graph.

    Checked against the shapes first; added in one transaction without rewriting the graph, so two uploads
    at once both stay (each CV node has its own key), and earlier CVs and their decisions are kept.
    """
    from .shacl import check

    with _decide_lock:  # serialises version numbers within a process
        res, g = suggest_from_text(store, ids, pid, text, linker, framework=framework, filename=filename,
                                   user=user, min_precision=min_precision)
        check(g)
        cvg = ids.graph("cv", pid)
        store.apply(delete=[], insert=[(s, p, o, cvg) for s, p, o in g])
    return res


def suggestions(store: Store, ids, pid: str, status: str | None = None) -> list[dict]:
    person = get_person(store, pid)
    rows = store.select("cv_suggestions", person=URIRef(person.iri))
    out = [{"iri": r["s"], "key": r["s"].rsplit("/", 1)[-1], "version": int(r["version"]), "file": r["file"],
            "competency": r["comp"], "notation": r["notation"], "label": r["label"], "level": int(r["level"]),
            "status": r["status"].rsplit("#", 1)[-1].lower(), "text": r["text"], "score": r["score"],
            "precision": r["precision"], "span": [r["start"], r["end"]]} for r in rows]
    return [s for s in out if status is None or s["status"] == status]


DECISIONS = {"accept": ACCEPTED, "reject": REJECTED, "reset": SUGGESTED}


def decide(store: Store, ids, pid: str, key: str, decision: str, user: str, *, level: int | None = None) -> dict:
    """Accept (optionally at another level), reject or reset one suggestion of a person's CV."""
    if decision not in DECISIONS:
        raise EvidenceError(f"decision must be one of {', '.join(DECISIONS)}", field="decision")
    if level is not None and not (isinstance(level, int) and 1 <= level <= 5):
        raise EvidenceError("level must be a whole number between 1 and 5", field="level")
    person = get_person(store, pid)
    with _decide_lock:
        rows = [r for r in store.select("cv_suggestions", person=URIRef(person.iri))
                if r["s"].rsplit("/", 1)[-1] == key]
        if not rows:
            raise NotFound(f"no suggestion {key!r} for {pid!r}", field="suggestion")
        r = rows[0]
        s, cvg = URIRef(r["s"]), ids.graph("cv", pid)
        prev, new = URIRef(r["status"]), DECISIONS[decision]
        evg = ids.graph("evidence", f"cv-{pid}")
        ev = URIRef(f"{s}/evidence")
        # every status it has (one, unless two processes raced): the decision leaves exactly one
        delete = [(s, GM.evidenceStatus, URIRef(x["status"]), cvg) for x in rows]
        old_ev = store.graph(evg)
        delete += [(a, b, c, evg) for a, b, c in old_ev.triples((ev, None, None))]
        d = ids.decision(uuid.uuid4().hex)
        at = _now()
        agent = ids.agent(user)
        insert = [(s, GM.evidenceStatus, new, cvg),
                  (d, RDF.type, GM.ReviewDecision, cvg), (d, RDF.type, PROV.Activity, cvg), (d, PROV.used, s, cvg),
                  (d, PROV.wasAssociatedWith, agent, cvg), (agent, RDF.type, PROV.Person, cvg),
                  (agent, RDFS.label, Literal(user), cvg), (d, PROV.endedAtTime, at, cvg),
                  (d, GM.previousStatus, prev, cvg), (d, GM.newStatus, new, cvg)]
        final_level = level or int(r["level"])
        if new == ACCEPTED:
            for t in [(ev, RDF.type, GM.CompetencyEvidence), (ev, RDF.type, PROV.Entity),
                      (ev, GM.evidenceFor, URIRef(person.iri)), (ev, GM.evidencedCompetency, URIRef(r["comp"])),
                      (ev, GM.evidenceLevel, Literal(final_level, datatype=XSD.integer)),
                      (ev, GM.evidenceSource, GM.PortfolioEvidence),
                      (ev, PROV.generatedAtTime, Literal(date.today().isoformat(), datatype=XSD.date)),
                      (ev, DCTERMS.description, Literal(f"CV: {r['text'][:200]}")),
                      (ev, PROV.wasDerivedFrom, s), (ev, PROV.wasAttributedTo, agent)]:
                insert.append((*t, evg))
        store.apply(delete=delete, insert=insert)
    return {"suggestion": str(s), "key": key, "decision": decision, "user": user, "at": str(at),
            "previous": str(prev).rsplit("#", 1)[-1].lower(), "new": str(new).rsplit("#", 1)[-1].lower(),
            "level": final_level if new == ACCEPTED else None}


__all__ = ["suggest_from_text", "suggestions", "decide", "suggest_level", "passages", "CVResult", "Suggestion",
           "EvidenceError"]
