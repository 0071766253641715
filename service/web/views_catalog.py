"""Framework, competency and role pages."""
from __future__ import annotations

from collections import OrderedDict

from flask import render_template, request

from ontology.errors import NotFound
from ontology.read import catalog, reports

from ..api.params import arg_float
from ..extensions import gapmap
from .pages import bp


@bp.get("/frameworks/<fw>")
def framework(fw):
    """Every competency of a framework, grouped by domain, linking to the competency pages."""
    ws = gapmap()
    rows = catalog.framework_competencies(ws.store, fw)
    if not rows:
        raise NotFound(f"framework {fw!r} is not loaded", field="framework")
    info = catalog.framework(ws.store, fw) or {"id": fw, "title": fw}
    domains: OrderedDict[str, dict] = OrderedDict()
    for r in rows:
        domains.setdefault(r.domainNotation or "", {"notation": r.domainNotation, "label": r.domainLabel,
                                                    "competencies": []})["competencies"].append(r)
    return render_template("framework.html", fw=fw, info=info, domains=list(domains.values()))


@bp.get("/competencies/<fw>/<path:notation>")
def competency(fw, notation):
    ws = gapmap()
    c = catalog.competency(ws.store, fw, notation)
    if c is None:
        raise NotFound(f"no competency {notation!r} in framework {fw!r}", field="competency")
    return render_template("competency.html", fw=fw, c=c, alt=list(c.alt_labels),
                           teaching=catalog.competency_teaching(ws.store, c.comp),
                           assessing=catalog.competency_assessing(ws.store, c.comp),
                           roles=catalog.competency_roles(ws.store, c.comp),
                           statuses=reports.competency_statuses(ws.store, ws.ids, fw, c.comp),
                           milestones=catalog.competency_milestones(ws.store, c.comp),
                           children=catalog.competency_narrower(ws.store, c.comp))


@bp.get("/roles")
def roles():
    return render_template("roles.html", roles=catalog.roles(gapmap().store))


@bp.get("/roles/<role>")
def role(role):
    ws = gapmap()
    all_roles = catalog.roles(ws.store)
    info = next((r for r in all_roles if r.id == role), None)
    if info is None:
        raise NotFound(f"role {role!r} is not loaded", field="role")
    programs = catalog.programs(ws.store)
    program = request.args.get("program") or (programs[0].id if programs else None)
    if program is None:
        raise NotFound("no program is loaded", field="program")
    include = arg_float("include_suggestions")
    rd = reports.readiness(ws.store, ws.ids, program, role, include_suggestions=include)
    titles = {r.id: r.title for r in all_roles}
    nxt = [(n, titles.get(n, n)) for n in info.next_ids]
    prev = [(r.id, r.title) for r in all_roles if role in r.next_ids]
    fws = {r.notation: r.fw for r in catalog.role_requirements(ws.store, role)}
    groups = [(rel, [i for i in rd.items if i.relation == rel]) for rel in ("essential", "optional")]
    return render_template("role.html", role=role, info=info, track=info.track_name,
                           rd=rd, groups=[g for g in groups if g[1]], next_roles=nxt, prev_roles=prev,
                           program=program, programs=programs, fws=fws, include=include)
