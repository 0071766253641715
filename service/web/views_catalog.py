"""Framework, competency and role pages."""
from __future__ import annotations

from collections import OrderedDict

from flask import render_template, request
from rdflib import Literal, URIRef

from ontology.errors import NotFound
from ontology.gaps import cached_gap_report as gap_report, role_readiness

from ..api.params import arg_float
from ..extensions import gapmap
from . import bp, short


@bp.get("/frameworks/<fw>")
def framework(fw):
    """Every competency of a framework, grouped by domain, linking to the competency pages."""
    ws = gapmap()
    rows = ws.store.select("framework_competencies", fw=Literal(fw))
    if not rows:
        raise NotFound(f"framework {fw!r} is not loaded", field="framework")
    info = next((f for f in ws.store.select("frameworks") if f["id"] == fw), {"id": fw, "title": fw})
    domains: OrderedDict[str, dict] = OrderedDict()
    for r in rows:
        domains.setdefault(r["domainNotation"] or "", {"notation": r["domainNotation"], "label": r["domainLabel"],
                                                       "competencies": []})["competencies"].append(r)
    return render_template("framework.html", fw=fw, info=info, domains=list(domains.values()))


@bp.get("/competencies/<fw>/<path:notation>")
def competency(fw, notation):
    ws = gapmap()
    rows = ws.store.select("competency_detail", fw=Literal(fw), notation=Literal(notation))
    if not rows:
        raise NotFound(f"no competency {notation!r} in framework {fw!r}", field="competency")
    c = rows[0]
    comp = URIRef(c["comp"])
    alt = [a for a in (c["altLabels"] or "").split(" | ") if a]
    teaching = ws.store.select("competency_teaching", comp=comp)
    for t in teaching:
        t["status_name"] = short(t["status"]).lower()
        t["method_name"] = short(t["method"]).replace("Method", "").lower()
    teaching.sort(key=lambda t: (t["status_name"] != "accepted", t["pid"], t["year"], t["code"], t["oid"]))
    assessing: OrderedDict[str, dict] = OrderedDict()
    for a in ws.store.select("competency_assessing", comp=comp):
        x = assessing.setdefault(a["assessment"], {**a, "kind_name": short(a["kind"]), "vias": set(), "oids": set()})
        x["vias"].add(a["via"])
        if a["oid"]:
            x["oids"].add(a["oid"])
    roles = ws.store.select("competency_roles", comp=comp)
    for r in roles:
        r["relation_name"] = short(r["relation"]).lower()
        r["track_name"] = short(r["track"]).replace("Track", "")
    # the competency's gap status in each program that uses this framework
    statuses = []
    for p in ws.store.select("programs"):
        if p["fw"] == fw:
            entry = next((e for e in gap_report(ws.store, ws.ids, p["id"], fw).entries if e.competency == str(comp)),
                         None)
            if entry:
                statuses.append((p, entry))
    return render_template("competency.html", fw=fw, c=c, alt=alt, teaching=teaching,
                           assessing=list(assessing.values()), roles=roles, statuses=statuses,
                           milestones=ws.store.select("competency_milestones", comp=comp),
                           children=ws.store.select("competency_narrower", comp=comp))


@bp.get("/roles")
def roles():
    ws = gapmap()
    rows = ws.store.select("roles")
    for r in rows:
        r["track_name"] = short(r["track"]).replace("Track", "")
        r["next_ids"] = [n for n in (r["next"] or "").split(";") if n]
    return render_template("roles.html", roles=rows)


@bp.get("/roles/<role>")
def role(role):
    ws = gapmap()
    all_roles = ws.store.select("roles")
    info = next((r for r in all_roles if r["id"] == role), None)
    if info is None:
        raise NotFound(f"role {role!r} is not loaded", field="role")
    programs = ws.store.select("programs")
    program = request.args.get("program") or (programs[0]["id"] if programs else None)
    if program is None:
        raise NotFound("no program is loaded", field="program")
    include = arg_float("include_suggestions")
    rd = role_readiness(ws.store, ws.ids, program, role, include_suggestions=include)
    titles = {r["id"]: r["title"] for r in all_roles}
    nxt = [(n, titles.get(n, n)) for n in (info["next"] or "").split(";") if n]
    prev = [(r["id"], r["title"]) for r in all_roles if role in (r["next"] or "").split(";")]
    fws = {r["notation"]: r["fw"] for r in ws.store.select("role_requirements", rid=Literal(role))}
    groups = [(rel, [i for i in rd.items if i.relation == rel]) for rel in ("essential", "optional")]
    return render_template("role.html", role=role, info=info, track=short(info["track"]).replace("Track", ""),
                           rd=rd, groups=[g for g in groups if g[1]], next_roles=nxt, prev_roles=prev,
                           program=program, programs=programs, fws=fws, include=include)
