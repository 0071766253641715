"""People and their competency evidence: people CSV, evidence CSV, ACGME-style milestone ratings,
completed courses and credentials.  Everything here is personal data: it goes to the private graph
kinds ``people`` and ``evidence`` (ontology/access.py), never to a public one.
"""
from __future__ import annotations

import math
import re
from datetime import date

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from ontology import people_ids as pids
from ontology.errors import LoadError
from ontology.vocab import (DCTERMS, EVIDENCE_SOURCES, GM, PERSON_KINDS, PROV, RDF, SCHEMA, SKOS, TRACKS)

from .base import Context, Delta, Loader, Source, check_id, parse_int, split_list
from .resolve import competency_index

YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}


def known_roles(ctx: Context) -> dict[str, dict]:
    """Role id -> {iri, track} of the roles in the store."""
    if ctx.store is None:
        return {}
    return {r["id"]: r for r in ctx.store.select("roles")}


def known_people(ctx: Context) -> dict[str, URIRef]:
    if ctx.store is None:
        return {}
    return {r["id"]: URIRef(r["person"]) for r in ctx.store.select("people")}


def parse_date(value: str, *, file, row, column) -> date:
    if not value:
        raise LoadError("is empty (a date, YYYY-MM-DD)", file=file, row=row, column=column)
    try:
        d = date.fromisoformat(value)
    except ValueError:
        raise LoadError(f"{value!r} is not a date (YYYY-MM-DD)", file=file, row=row, column=column) from None
    if d > date.today():
        raise LoadError(f"{value} is in the future", file=file, row=row, column=column)
    return d


def parse_levels(cell: str, comps: dict, *, file, row, column) -> list[tuple[str, URIRef, int]]:
    """``"SBP3:4; LTR5:3"`` -> [(notation, iri, level)]."""
    out, seen = [], set()
    for part in split_list(cell):
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*:\s*(\d)", part)
        if not m:
            raise LoadError(f"{part!r} is not COMPETENCY:LEVEL (e.g. SBP3:4)", file=file, row=row, column=column)
        n, lvl = m.group(1), int(m.group(2))
        if n not in comps:
            raise LoadError(f"unknown competency {n!r}", file=file, row=row, column=column)
        if not 1 <= lvl <= 5:
            raise LoadError(f"level {lvl} of {n} is out of range 1..5", file=file, row=row, column=column)
        if n in seen:
            raise LoadError(f"{n} is listed twice", file=file, row=row, column=column)
        seen.add(n)
        out.append((n, comps[n], lvl))
    return out


def _person_ref(pid: str, people: dict, *, file, row, column="person_id") -> URIRef:
    check_id(pid, file=file, row=row, column=column)
    if pid not in people:
        raise LoadError(f"unknown person {pid!r}; load the people file first", file=file, row=row, column=column)
    return people[pid]


def add_evidence(g, node, person, comp, level, source, when: date, *, detail=None, rating=None, derived=None):
    g.add((node, RDF.type, GM.CompetencyEvidence))
    g.add((node, RDF.type, PROV.Entity))
    g.add((node, GM.evidenceFor, person))
    g.add((node, GM.evidencedCompetency, comp))
    g.add((node, GM.evidenceLevel, Literal(level, datatype=XSD.integer)))
    g.add((node, GM.evidenceSource, source))
    g.add((node, PROV.generatedAtTime, Literal(when.isoformat(), datatype=XSD.date)))
    if detail:
        g.add((node, DCTERMS.description, Literal(detail)))
    if rating is not None:
        g.add((node, GM.rating, Literal(f"{rating:g}", datatype=XSD.decimal)))
    if derived is not None:
        g.add((node, PROV.wasDerivedFrom, derived))


EVIDENCE_COLUMNS = {GM.evidenceLevel: "level", GM.evidenceSource: "source", PROV.generatedAtTime: "date",
                    GM.evidencedCompetency: "competency", GM.evidenceFor: "person_id"}


class PeopleCSV(Loader):
    name = "people-csv"
    columns = ("person_id", "name", "kind", "department", "track")
    description = "People (clinicians, faculty, residents, learners): roles, track, department, goals, mentor capacity"
    options = {"id": "people set id (names the private graph; default people)"}

    def load(self, source: Source, ctx: Context) -> Delta:
        f, ids = source.name, ctx.ids
        set_id = check_id(ctx.option("id", "people"), file=f, row=None, column="id")
        df = source.table(list(self.columns),
                          ["username", "site", "roles", "past_roles", "target_roles", "remote", "mentor_capacity",
                           "mentor_offers"])
        roles = known_roles(ctx)
        delta = Delta(columns={SCHEMA.name: "name", GM.username: "username", GM.mentorCapacity: "mentor_capacity",
                               GM.onTrack: "track", GM.personKind: "kind", GM.remoteOK: "remote",
                               SKOS.notation: "person_id"})
        g = delta.graph(ids.graph("people", set_id))
        seen, usernames, mentors = {}, {}, 0
        for i, r in enumerate(df.itertuples(index=False), start=2):
            pid = check_id(r.person_id, file=f, row=i, column="person_id")
            if pid in seen:
                raise LoadError(f"person {pid} is listed twice (first on row {seen[pid]})", file=f, row=i,
                                column="person_id")
            seen[pid] = i
            if not r.name:
                raise LoadError("name is empty", file=f, row=i, column="name")
            if r.kind.lower() not in PERSON_KINDS:
                raise LoadError(f"kind {r.kind!r} is not one of {', '.join(PERSON_KINDS)}", file=f, row=i,
                                column="kind")
            track = TRACKS.get(r.track.lower())
            if track is None:
                raise LoadError(f"track {r.track!r} is not one of {', '.join(TRACKS)}", file=f, row=i, column="track")
            p = pids.person(ids, pid)
            delta.origin[p] = (f, i)
            g.add((p, RDF.type, GM.Person))
            g.add((p, RDF.type, SCHEMA.Person))
            g.add((p, SKOS.notation, Literal(pid)))
            g.add((p, SCHEMA.name, Literal(r.name)))
            g.add((p, GM.personKind, Literal(r.kind.lower())))
            g.add((p, GM.department, Literal(r.department)))
            g.add((p, GM.onTrack, track))
            g.add((p, GM.walkedTrack, track))
            if r.username:
                if r.username in usernames:
                    raise LoadError(f"username {r.username!r} is already used on row {usernames[r.username]}",
                                    file=f, row=i, column="username")
                usernames[r.username] = i
                g.add((p, GM.username, Literal(r.username)))
            if r.site:
                g.add((p, GM.site, Literal(r.site)))
            remote = r.remote.lower()
            if remote not in YES | NO:
                raise LoadError(f"remote {r.remote!r} is not yes or no", file=f, row=i, column="remote")
            g.add((p, GM.remoteOK, Literal(remote in YES)))
            for column, prop in (("roles", GM.holdsRole), ("past_roles", GM.heldRole),
                                 ("target_roles", GM.targetRole)):
                for rid in split_list(getattr(r, column)):
                    if rid not in roles:
                        raise LoadError(f"unknown role {rid!r}; load the roles first", file=f, row=i, column=column)
                    g.add((p, prop, URIRef(roles[rid]["role"])))
                    if prop == GM.heldRole:
                        g.add((p, GM.walkedTrack, URIRef(roles[rid]["track"])))
            cap = parse_int(r.mentor_capacity, file=f, row=i, column="mentor_capacity", lo=0, hi=50)
            if cap:
                mentors += 1
                g.add((p, GM.mentorCapacity, Literal(cap, datatype=XSD.integer)))
            if r.mentor_offers:
                g.add((p, GM.mentorOffer, Literal(r.mentor_offers)))
        delta.summary = {"people": len(seen), "mentors": mentors}
        return delta


class _EvidenceBase(Loader):
    default_id = "evidence"
    options = {"id": "evidence set id (names the private graph)", "framework": "framework of the competency column"}

    def _setup(self, source, ctx):
        f = source.name
        set_id = check_id(ctx.option("id", self.default_id), file=f, row=None, column="id")
        fw = ctx.option("framework", required=True)
        delta = Delta(columns=dict(EVIDENCE_COLUMNS))
        return f, set_id, fw, delta, delta.graph(ctx.ids.graph("evidence", set_id))


class EvidenceCSV(_EvidenceBase):
    name = "evidence-csv"
    columns = ("person_id", "competency", "level", "source", "date")
    description = "Competency evidence: person, competency, level 1-5, source, date"

    def load(self, source: Source, ctx: Context) -> Delta:
        f, set_id, fw, delta, g = self._setup(source, ctx)
        df = source.table(list(self.columns), ["detail"])
        comps, people = competency_index(ctx, fw), known_people(ctx)
        for i, r in enumerate(df.itertuples(index=False), start=2):
            person = _person_ref(r.person_id, people, file=f, row=i)
            comp = comps.get(r.competency)
            if comp is None:
                raise LoadError(f"unknown competency {r.competency!r} in framework {fw!r}", file=f, row=i,
                                column="competency")
            level = parse_int(r.level, file=f, row=i, column="level", lo=1, hi=5, required=True)
            src = EVIDENCE_SOURCES.get(r.source.lower())
            if src is None:
                raise LoadError(f"source {r.source!r} is not one of {', '.join(EVIDENCE_SOURCES)}", file=f, row=i,
                                column="source")
            when = parse_date(r.date, file=f, row=i, column="date")
            node = pids.evidence(ctx.ids, set_id, i)
            delta.origin[node] = (f, i)
            add_evidence(g, node, person, comp, level, src, when, detail=r.detail or None)
        delta.summary = {"evidence": len(df)}
        return delta


class MilestonesCSV(_EvidenceBase):
    name = "milestones-csv"
    columns = ("person_id", "competency", "rating", "date")
    default_id = "milestones"
    description = ("ACGME-style milestone ratings by a clinical competency committee: person, competency, "
                   "rating 0-5 in half levels, review date, rater")

    def load(self, source: Source, ctx: Context) -> Delta:
        f, set_id, fw, delta, g = self._setup(source, ctx)
        df = source.table(list(self.columns), ["rater"])
        delta.columns[GM.rating] = "rating"
        comps, people = competency_index(ctx, fw), known_people(ctx)
        kept = 0
        for i, r in enumerate(df.itertuples(index=False), start=2):
            person = _person_ref(r.person_id, people, file=f, row=i)
            comp = comps.get(r.competency)
            if comp is None:
                raise LoadError(f"unknown competency {r.competency!r} in framework {fw!r}", file=f, row=i,
                                column="competency")
            try:
                rating = float(r.rating)
            except ValueError:
                raise LoadError(f"{r.rating!r} is not a rating", file=f, row=i, column="rating") from None
            if not (0 <= rating <= 5 and rating * 2 == math.floor(rating * 2)):
                raise LoadError(f"rating {r.rating} must be 0 to 5 in half levels (e.g. 3.5)", file=f, row=i,
                                column="rating")
            when = parse_date(r.date, file=f, row=i, column="date")
            if rating < 1:  # "has not yet achieved level 1": no evidence of the competency
                continue
            node = pids.evidence(ctx.ids, set_id, i)
            delta.origin[node] = (f, i)
            detail = f"milestone rating {rating:g}" + (f" by {r.rater}" if r.rater else "")
            add_evidence(g, node, person, comp, int(rating), GM.MilestoneRating, when, detail=detail, rating=rating)
            kept += 1
        delta.summary = {"ratings": len(df), "evidence": kept}
        return delta


class CredentialsCSV(_EvidenceBase):
    name = "credentials-csv"
    columns = ("person_id", "credential", "date")
    default_id = "credentials"
    description = ("Completed courses and credentials: person, credential (a catalogue item id, whose "
                   "competencies and levels become evidence) or a title with competencies (PC3:4;...), date")

    def load(self, source: Source, ctx: Context) -> Delta:
        f, set_id, fw, delta, g = self._setup(source, ctx)
        df = source.table(list(self.columns), ["title", "competencies"])
        comps, people = competency_index(ctx, fw), known_people(ctx)
        catalogue: dict[str, dict] = {}
        for row in (ctx.store.select("catalogue") if ctx.store is not None else []):
            item = catalogue.setdefault(row["id"], {"iri": URIRef(row["item"]), "title": row["title"], "dev": []})
            if row["fw"] == fw:
                item["dev"].append((row["notation"], URIRef(row["comp"]), int(row["level"])))
        n = 0
        for i, r in enumerate(df.itertuples(index=False), start=2):
            person = _person_ref(r.person_id, people, file=f, row=i)
            cred = check_id(r.credential, file=f, row=i, column="credential")
            when = parse_date(r.date, file=f, row=i, column="date")
            if r.competencies:
                dev = parse_levels(r.competencies, comps, file=f, row=i, column="competencies")
                derived, title = None, r.title or cred
            elif cred in catalogue:
                dev, derived, title = catalogue[cred]["dev"], catalogue[cred]["iri"], catalogue[cred]["title"]
            else:
                raise LoadError(f"credential {cred!r} is not in the catalogue; load the catalogue first or give "
                                "its competencies", file=f, row=i, column="credential")
            for k, (notation, comp, level) in enumerate(dev):
                node = pids.evidence(ctx.ids, set_id, f"{i}-{k}")
                delta.origin[node] = (f, i)
                add_evidence(g, node, person, comp, level, GM.CredentialEvidence, when,
                             detail=f"completed: {title}", derived=derived)
                n += 1
        delta.summary = {"credentials": len(df), "evidence": n}
        return delta
