"""The development catalogue (CSV and Open Badges 3.0 achievements) and a health system's workforce demand.

Open Badges 3.0 (1EdTech) JSON-LD is read as plain JSON with the fields of the OB 3.0 data model
mapped by name: the OB 3.0 context is well known, and remote contexts are never fetched.  An
``Achievement`` gives the opportunity (id, name, description, achievementType, creator.name as the
provider) and its ``alignment`` entries the framework items it develops (``targetUrl`` = a competency
IRI, or ``targetCode`` = its notation in ``targetFramework`` or the ``framework`` option).  The level
comes from a ``resultDescription`` of type ``RubricCriterionLevel`` whose ``requiredLevel`` names a
``rubricCriterionLevel`` with a numeric ``level``; else the ``level`` option (default 3).  Hours, cost,
format and kind use the Gapmap terms ``gm:hours``, ``gm:cost``, ``gm:format``, ``gm:opportunityKind``
(an inline ``gm`` prefix in the ``@context``, or the full IRIs); the kind defaults from
``achievementType``.
"""
from __future__ import annotations

import re

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from ontology import people_ids as pids
from ontology.errors import LoadError
from ontology.vocab import DCTERMS, GM, GM_NS, OPPORTUNITY_FORMATS, OPPORTUNITY_KINDS, RDF, SCHEMA, SKOS

from .base import ID_RE, Context, Delta, Loader, Source, check_id, parse_int, split_list
from .people import parse_levels
from .resolve import competency_index
from .safety import parse_json

GM_FORMAT = GM["format"]  # GM.format would be str.format
ITEM_COLUMNS = {GM.hours: "hours", GM.cost: "cost", GM.opportunityKind: "kind", GM_FORMAT: "format",
                DCTERMS.title: "title", GM.develops: "competencies", GM.toLevel: "competencies"}

#: OB 3.0 achievementType -> our opportunity kind
OB3_KINDS = {"microcredential": "micro-credential", "badge": "micro-credential", "competency": "micro-credential",
             "certificate": "certificate", "certification": "certificate", "certificateofcompletion": "certificate",
             "course": "course", "learningprogram": "mini-fellowship", "assessment": "simulation",
             "fieldwork": "interim-role", "cocurricular": "elective"}


def _number(value, *, file, row, column) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise LoadError(f"{value!r} is not a number", file=file, row=row, column=column) from None
    if not x >= 0 or x == float("inf"):
        raise LoadError(f"{value!r} must be a number from 0", file=file, row=row, column=column)
    return x


def add_opportunity(g, ids, oid, *, title, kind, hours, cost, develops, fw, fmt=None, provider=None,
                    description=None, url=None, identifier=None):
    item = pids.opportunity(ids, oid)
    g.add((item, RDF.type, GM.Opportunity))
    g.add((item, RDF.type, SCHEMA.LearningResource))
    g.add((item, SKOS.notation, Literal(oid)))
    g.add((item, DCTERMS.title, Literal(title)))
    g.add((item, GM.opportunityKind, Literal(kind)))
    g.add((item, GM.hours, Literal(f"{hours:g}", datatype=XSD.decimal)))
    g.add((item, GM.cost, Literal(f"{cost:g}", datatype=XSD.decimal)))
    if fmt:
        g.add((item, GM_FORMAT, Literal(fmt)))
    if provider:
        g.add((item, GM.providerName, Literal(provider)))
    if description:
        g.add((item, DCTERMS.description, Literal(description)))
    if url:
        g.add((item, DCTERMS.source, Literal(url)))
    if identifier:
        g.add((item, DCTERMS.identifier, Literal(identifier)))
    for notation, comp, level in develops:
        d = pids.development(ids, oid, fw, notation)
        g.add((item, GM.develops, d))
        g.add((d, RDF.type, GM.Development))
        g.add((d, GM.developsCompetency, comp))
        g.add((d, GM.toLevel, Literal(level, datatype=XSD.integer)))
    return item


def course_levels(ctx: Context, code: str, comps: dict, *, file, row) -> list[tuple[str, URIRef, int]]:
    """What a course of a loaded program develops: the competencies its objectives are aligned to (curator or
    accepted alignments), each at the highest target level of those objectives (1 when none is given)."""
    rows = ctx.store.select("course_detail", code=Literal(code)) if ctx.store is not None else []
    if not rows:
        raise LoadError(f"course {code!r} is not in a loaded program", file=file, row=row, column="course")
    by_iri = {str(iri): n for n, iri in comps.items()}
    best: dict[str, int] = {}
    for t in ctx.store.select("program_teaching", program=URIRef(rows[0]["program"])):
        if t["code"] == code and str(t["status"]).endswith("#Accepted") and t["comp"] in by_iri:
            best[t["comp"]] = max(best.get(t["comp"], 0), int(t["level"] or 1))
    if not best:
        raise LoadError(f"course {code!r} teaches no competency of this framework yet (no accepted alignment)",
                        file=file, row=row, column="course")
    return sorted(((by_iri[c], URIRef(c), lv) for c, lv in best.items()), key=lambda x: x[0])


class CatalogueCSV(Loader):
    name = "catalogue-csv"
    columns = ("item_id", "title", "kind", "hours", "cost")
    description = ("Development catalogue: courses, electives, micro-credentials, CME, certificates, "
                   "mini-fellowships, simulation, QI sprints, interim roles, with competencies:levels developed "
                   "(or a course of a loaded program, whose mapped competencies it develops), hours, cost, format, "
                   "provider")
    options = {"id": "catalogue id (names the graph)", "framework": "framework of the competencies column"}

    def load(self, source: Source, ctx: Context) -> Delta:
        f, ids = source.name, ctx.ids
        set_id = check_id(ctx.option("id", "catalogue"), file=f, row=None, column="id")
        fw = ctx.option("framework", required=True)
        df = source.table(list(self.columns),
                          ["competencies", "course", "provider", "format", "description", "url"])
        comps = competency_index(ctx, fw)
        delta = Delta(columns=dict(ITEM_COLUMNS))
        g = delta.graph(ids.graph("catalogue", set_id))
        seen = {}
        for i, r in enumerate(df.itertuples(index=False), start=2):
            oid = check_id(r.item_id, file=f, row=i, column="item_id")
            if oid in seen:
                raise LoadError(f"item {oid} is listed twice (first on row {seen[oid]})", file=f, row=i,
                                column="item_id")
            seen[oid] = i
            if not r.title:
                raise LoadError("title is empty", file=f, row=i, column="title")
            kind = r.kind.lower()
            if kind not in OPPORTUNITY_KINDS:
                raise LoadError(f"kind {r.kind!r} is not one of {', '.join(OPPORTUNITY_KINDS)}", file=f, row=i,
                                column="kind")
            fmt = r.format.lower() or None
            if fmt and fmt not in OPPORTUNITY_FORMATS:
                raise LoadError(f"format {r.format!r} is not one of {', '.join(OPPORTUNITY_FORMATS)}", file=f,
                                row=i, column="format")
            develops = parse_levels(r.competencies, comps, file=f, row=i, column="competencies")
            if not develops and r.course:
                develops = course_levels(ctx, r.course, comps, file=f, row=i)
            if not develops:
                raise LoadError("is empty: name what the item develops (e.g. SBP3:4; LTR5:3), or the course of a "
                                "loaded program that it is", file=f, row=i, column="competencies")
            item = add_opportunity(
                g, ids, oid, title=r.title, kind=kind, fmt=fmt, provider=r.provider or None,
                hours=_number(r.hours, file=f, row=i, column="hours"),
                cost=_number(r.cost, file=f, row=i, column="cost"), develops=develops, fw=fw,
                description=r.description or None, url=r.url or None)
            delta.origin[item] = (f, i)
        delta.summary = {"opportunities": len(seen)}
        return delta


def _ext(obj: dict, name: str):
    """A Gapmap extension field of an OB3 object, by its prefixed name (gm: + name) or its full IRI."""
    for key in (f"gm:{name}", GM_NS + name):
        if key in obj:
            return obj[key]
    return None


def _achievements(doc, f) -> list[tuple[str, dict]]:
    """(JSON path, Achievement) pairs from an Achievement, a list, an OpenBadgeCredential or {achievements}."""
    def is_cred(o):
        types = o.get("type") if isinstance(o, dict) else None
        types = [types] if isinstance(types, str) else (types or [])
        return any(t in ("OpenBadgeCredential", "AchievementCredential", "VerifiableCredential") for t in types)

    if isinstance(doc, list):
        items = [(f"[{k}]", o) for k, o in enumerate(doc)]
    elif isinstance(doc, dict) and is_cred(doc):
        subj = doc.get("credentialSubject") or {}
        items = [("credentialSubject.achievement", subj.get("achievement"))]
    elif isinstance(doc, dict) and isinstance(doc.get("achievements"), list):
        items = [(f"achievements[{k}]", o) for k, o in enumerate(doc["achievements"])]
    else:
        items = [("", doc)]
    out = []
    for path, o in items:
        if isinstance(o, dict) and is_cred(o):
            o, path = (o.get("credentialSubject") or {}).get("achievement"), f"{path}.credentialSubject.achievement"
        types = o.get("type") if isinstance(o, dict) else None
        types = [types] if isinstance(types, str) else (types or [])
        if "Achievement" not in types:
            raise LoadError("is not an Open Badges 3.0 Achievement (type must include \"Achievement\")", file=f,
                            column=f"{path}.type" if path else "type")
        out.append((path, o))
    if not out:
        raise LoadError("no achievements in the file", file=f)
    return out


class OpenBadgesAchievements(Loader):
    name = "badges-ob3"
    description = ("Open Badges 3.0 achievements (JSON-LD: an Achievement, a list, or an OpenBadgeCredential) "
                   "with alignments to framework items, as development opportunities")
    options = {"id": "catalogue id (names the graph)", "framework": "framework of alignment targetCode values",
               "level": "level developed when no rubric level is given (default 3)"}

    @classmethod
    def sniff(cls, data: bytes, filename: str) -> bool:
        return b"Achievement" in data[:2**20] or b"OpenBadgeCredential" in data[:2**20]

    def load(self, source: Source, ctx: Context) -> Delta:
        f, ids = source.name, ctx.ids
        set_id = check_id(ctx.option("id", "badges"), file=f, row=None, column="id")
        fw_default = ctx.option("framework", required=True)
        default_level = parse_int(str(ctx.option("level", "3")), file=f, row=None, column="level", lo=1, hi=5)
        doc = parse_json(source.text(), f, what="this Open Badges file")
        indexes = {fw_default: competency_index(ctx, fw_default)}
        by_iri = {str(iri): (fw_default, n, iri) for n, iri in indexes[fw_default].items()}
        delta = Delta(columns=dict(ITEM_COLUMNS))
        g = delta.graph(ids.graph("catalogue", set_id))
        seen = set()
        for k, (path, a) in enumerate(_achievements(doc, f), start=1):
            col = lambda name: f"{path}.{name}" if path else name  # noqa: E731
            for req in ("id", "name", "description"):
                if not isinstance(a.get(req), str) or not a[req].strip():
                    raise LoadError("is missing or empty (required by Open Badges 3.0)", file=f, row=k, column=col(req))
            code = a.get("humanCode") or re.split(r"[/#:]", a["id"].rstrip("/"))[-1]
            oid = re.sub(r"[^A-Za-z0-9_.\-]", "-", str(code)).strip("-.")
            if not oid or not ID_RE.match(oid):
                raise LoadError(f"cannot make an id from {a['id']!r}", file=f, row=k, column=col("id"))
            if oid in seen:
                raise LoadError(f"achievement id {oid!r} is used twice", file=f, row=k, column=col("id"))
            seen.add(oid)
            # levels from the rubric: competency IRI/notation -> level
            rubric_levels: dict[str, int] = {}
            for j, rd in enumerate(a.get("resultDescription") or []):
                if not isinstance(rd, dict) or rd.get("resultType") != "RubricCriterionLevel":
                    continue
                levels = {lv.get("id"): lv.get("level") for lv in rd.get("rubricCriterionLevel") or []
                          if isinstance(lv, dict)}
                lvl = levels.get(rd.get("requiredLevel"))
                try:
                    lvl = int(str(lvl).strip())
                except ValueError:
                    raise LoadError(f"required level {lvl!r} is not a number 1-5", file=f, row=k,
                                    column=col(f"resultDescription[{j}].requiredLevel")) from None
                if not 1 <= lvl <= 5:
                    raise LoadError(f"required level {lvl} is out of range 1..5", file=f, row=k,
                                    column=col(f"resultDescription[{j}].requiredLevel"))
                for al in rd.get("alignment") or []:
                    for key in ("targetUrl", "targetCode"):
                        if isinstance(al, dict) and al.get(key):
                            rubric_levels[str(al[key])] = lvl
            develops, fw_used = [], None
            aligns = a.get("alignment") or []
            if not isinstance(aligns, list) or not aligns:
                raise LoadError("has no alignment to framework items: nothing to develop", file=f, row=k,
                                column=col("alignment"))
            for j, al in enumerate(aligns):
                c = col(f"alignment[{j}]")
                if not isinstance(al, dict):
                    raise LoadError("is not an Alignment object", file=f, row=k, column=c)
                url, code_ = str(al.get("targetUrl") or ""), str(al.get("targetCode") or "")
                hit = by_iri.get(url)
                if hit is None and code_:
                    fw = str(al.get("targetFramework") or fw_default)
                    if fw not in indexes:
                        try:
                            indexes[fw] = competency_index(ctx, fw)
                        except LoadError:
                            fw = fw_default  # targetFramework is a title, not one of our ids
                    comp = indexes[fw].get(code_)
                    hit = (fw, code_, comp) if comp is not None else None
                if hit is None:
                    raise LoadError(f"alignment target {url or code_!r} is not a competency of a loaded framework",
                                    file=f, row=k, column=f"{c}.targetCode" if code_ else f"{c}.targetUrl")
                fw, notation, comp = hit
                if fw_used and fw != fw_used:
                    raise LoadError("all alignments of one achievement must use one framework", file=f, row=k, column=c)
                fw_used = fw
                level = rubric_levels.get(url) or rubric_levels.get(code_) or default_level
                if any(n == notation for n, _, _ in develops):
                    continue
                develops.append((notation, comp, level))
            raw_kind = _ext(a, "opportunityKind") or OB3_KINDS.get(str(a.get("achievementType", "")).lower(),
                                                                   "micro-credential")
            if raw_kind not in OPPORTUNITY_KINDS:
                raise LoadError(f"kind {raw_kind!r} is not one of {', '.join(OPPORTUNITY_KINDS)}", file=f, row=k,
                                column=col("gm:opportunityKind"))
            fmt = _ext(a, "format")
            if fmt is not None and fmt not in OPPORTUNITY_FORMATS:
                raise LoadError(f"format {fmt!r} is not one of {', '.join(OPPORTUNITY_FORMATS)}", file=f, row=k,
                                column=col("gm:format"))
            creator = a.get("creator") if isinstance(a.get("creator"), dict) else {}
            criteria = a.get("criteria") if isinstance(a.get("criteria"), dict) else {}
            desc = a["description"] + (f"\n\nCriteria: {criteria['narrative']}" if criteria.get("narrative") else "")
            item = add_opportunity(
                g, ids, oid, title=a["name"], kind=raw_kind, fmt=fmt, provider=creator.get("name"),
                hours=_number(_ext(a, "hours") if _ext(a, "hours") is not None else 0, file=f, row=k,
                              column=col("gm:hours")),
                cost=_number(_ext(a, "cost") if _ext(a, "cost") is not None else 0, file=f, row=k,
                             column=col("gm:cost")),
                develops=develops, fw=fw_used, description=desc, url=criteria.get("id"), identifier=a["id"])
            delta.origin[item] = (f, k)
        delta.summary = {"opportunities": len(seen)}
        return delta


class DemandCSV(Loader):
    name = "demand-csv"
    columns = ("organization", "role_id", "year", "headcount")
    description = "A health system's workforce demand: organization, role, year, headcount, partner programs"
    options = {"id": "demand set id (names the graph)"}

    def load(self, source: Source, ctx: Context) -> Delta:
        f, ids = source.name, ctx.ids
        set_id = check_id(ctx.option("id", "demand"), file=f, row=None, column="id")
        df = source.table(list(self.columns), ["partners"])
        roles = {r["id"]: URIRef(r["role"]) for r in (ctx.store.select("roles") if ctx.store else [])}
        programs = {r["id"] for r in (ctx.store.select("programs") if ctx.store else [])}
        delta = Delta(columns={GM.headcount: "headcount", GM.demandYear: "year", GM.organization: "organization",
                               GM.demandFor: "role_id"})
        g = delta.graph(ids.graph("demand", set_id))
        seen = {}
        for i, r in enumerate(df.itertuples(index=False), start=2):
            if not r.organization:
                raise LoadError("organization is empty", file=f, row=i, column="organization")
            rid = check_id(r.role_id, file=f, row=i, column="role_id")
            if rid not in roles:
                raise LoadError(f"unknown role {rid!r}; load the roles first", file=f, row=i, column="role_id")
            year = parse_int(r.year, file=f, row=i, column="year", lo=1900, hi=2200, required=True)
            head = parse_int(r.headcount, file=f, row=i, column="headcount", lo=1, hi=1_000_000, required=True)
            key = (r.organization, rid, year)
            if key in seen:
                raise LoadError(f"{rid} in {year} is listed twice (first on row {seen[key]})", file=f, row=i,
                                column="role_id")
            seen[key] = i
            node = pids.demand(ids, set_id, *key)
            delta.origin[node] = (f, i)
            g.add((node, RDF.type, GM.WorkforceDemand))
            g.add((node, GM.organization, Literal(r.organization)))
            g.add((node, GM.demandFor, roles[rid]))
            g.add((node, GM.demandYear, Literal(year, datatype=XSD.integer)))
            g.add((node, GM.headcount, Literal(head, datatype=XSD.integer)))
            for p in split_list(r.partners):
                if p not in programs:
                    raise LoadError(f"unknown program {p!r}; load it first", file=f, row=i, column="partners")
                g.add((node, GM.partnerProgram, ids.program(p)))
        delta.summary = {"demand": len(seen)}
        return delta
