"""Careers API: people's profiles, gaps, development plans, CV evidence, mentor matching, pipeline, catalogue.

Privacy: a person's profile, gap, plan and CV are readable by the person themself (the signed-in
name equals their id or username), by their mentor in a saved matching (reads only) and by roles
holding ``read_private``; matching over the whole
pool and the pipeline report need ``plan``; the catalogue is public (``read``).
"""
from __future__ import annotations

from flask import jsonify, request
from rdflib import URIRef

from ontology import careers as C
from ontology import mentoring as M
from ontology import evidence as E
from ontology.errors import NotFound
from ontology.pipeline import pipeline_report
from ontology.read import catalog
from ontology.read.careers import saved_matches

from ..extensions import gapmap
from ..auth import Forbidden, NotAuthenticated as NotSignedIn, check, current_user, declares, require
from .blueprint import bp
from .params import BadParameter, arg_int, json_body


def need(permission: str):
    """The current user if they hold ``permission`` (401 anonymous, 403 otherwise)."""
    check(permission)
    u = current_user()
    if u is None:
        raise NotSignedIn("sign in first")
    if not u.can(permission):
        raise Forbidden(f"your role ({u.role}) may not {permission.replace('_', ' ')}")
    return u


def is_self(user, person: C.Person) -> bool:
    return bool(user) and user.name in {person.id, person.username}


def is_matched_mentor(user, person: C.Person) -> bool:
    """True when the user is a mentor matched to ``person`` in a saved matching."""
    if not user:
        return False
    rows = saved_matches(gapmap().store, URIRef(person.iri))
    if not rows:
        return False
    me = {p.id for p in C.people(gapmap().store).values() if user.name in {p.id, p.username}}
    return any(r.mentorId in me for r in rows)


def may_see(person: C.Person, permission: str = "read_private", *, mentors: bool = True):
    """The current user if they are ``person``, hold ``permission`` or (for reads) are the person's matched
    mentor in a saved matching; else 401/403."""
    u = current_user()
    if u is None:
        raise NotSignedIn("sign in to see a person's profile")
    if is_self(u, person) or u.can(permission) or (mentors and is_matched_mentor(u, person)):
        return u
    raise Forbidden("a person's profile, gap and plan are visible to the person and to development administrators")


def _person(pid: str) -> C.Person:
    return C.get_person(gapmap().store, pid)


def _target(person: C.Person) -> str:
    role = request.args.get("role") or (person.target_roles[0] if person.target_roles else None)
    if not role:
        raise BadParameter("give a target role (role=...): this person has no goal on file", field="role")
    return role


def _bool_arg(name: str, default: bool) -> bool:
    v = request.args.get(name)
    if v in (None, ""):
        return default
    if v.lower() in ("1", "true", "yes"):
        return True
    if v.lower() in ("0", "false", "no"):
        return False
    raise BadParameter(f"{name} must be true or false", field=name)


_body = json_body  # the request's JSON object (params.json_body)


# ----------------------------------------------------------------------------------------- people
@bp.get("/people")
@require("read_private")
def people_list():
    """People, filtered by id, name, department or role."""
    need("read_private")
    ps = C.people(gapmap().store)
    q = (request.args.get("q") or "").lower()
    out = [{"id": p.id, "name": p.name, "kind": p.kind, "department": p.department, "track": p.track,
            "roles": list(p.roles), "target_roles": list(p.target_roles), "mentor_capacity": p.mentor_capacity}
           for p in ps.values() if not q or q in f"{p.id} {p.name} {p.department} {' '.join(p.roles)}".lower()]
    return jsonify({"count": len(out), "people": out})


@bp.get("/people/<pid>")
@declares("read_private")  # or the person themself, or their matched mentor (checked inside)
def person_profile(pid):
    """A person's competency profile: level, evidence and freshness per competency.

    Also readable by the person themself and by their mentor in a saved matching.
    """
    ws = gapmap()
    may_see(_person(pid))
    return jsonify(C.profile(ws.store, ws.ids, pid).to_dict())


@bp.get("/people/<pid>/gap")
@declares("read_private")  # or the person themself, or their matched mentor (checked inside)
def person_gap(pid):
    """A person's gap to a target role along the career pathway.

    Also readable by the person themself and by their mentor in a saved matching.
    """
    ws = gapmap()
    p = _person(pid)
    may_see(p)
    return jsonify(C.role_gap(ws.store, ws.ids, pid, _target(p)).to_dict())


def _plan(pid, p, role, objective, include_optional):
    ws = gapmap()
    return C.development_plan(ws.store, ws.ids, pid, role, objective=objective, include_optional=include_optional)


@bp.get("/people/<pid>/plan")
@declares("read_private")  # or the person themself, or their matched mentor (checked inside)
def person_plan(pid):
    """Development plan: catalogue items closing the gap at least hours or cost (MILP).

    Also readable by the person themself and by their mentor in a saved matching.
    """
    p = _person(pid)
    may_see(p)
    objective = request.args.get("objective") or "hours"
    if objective not in C.OBJECTIVES:
        raise BadParameter(f"objective must be one of {', '.join(C.OBJECTIVES)}", field="objective")
    return jsonify(_plan(pid, p, _target(p), objective, _bool_arg("include_optional", True)).to_dict())


@bp.post("/people/<pid>/plan")
@declares("plan")  # or the person themself
def save_plan(pid):
    """Compute and keep a plan in the person's private plans graph (with PROV: who, when).

    The person themself may save their own plan too.
    """
    ws = gapmap()
    p = _person(pid)
    u = current_user()
    if u is None:
        raise NotSignedIn("sign in to save a plan")
    if not (is_self(u, p) or u.can("plan")):
        raise Forbidden("only the person or a development administrator (plan) may save a plan")
    body = _body()
    role = body.get("role") or (p.target_roles[0] if p.target_roles else None)
    if not role or not isinstance(role, str):
        raise BadParameter("give a target role", field="role")
    objective = body.get("objective") or "hours"
    if objective not in C.OBJECTIVES:
        raise BadParameter(f"objective must be one of {', '.join(C.OBJECTIVES)}", field="objective")
    plan = _plan(pid, p, role, objective, bool(body.get("include_optional", True)))
    name = ws.keep_plan(pid, role, objective, plan, u.name)
    return jsonify({**plan.to_dict(), "saved": str(name)}), 201


@bp.get("/people/<pid>/mentor")
@declares("read_private")  # or the person themself, or their matched mentor (checked inside)
def person_mentor(pid):
    """This person's mentor in a whole-pool matching (``mode`` best or full).

    Also readable by the person themself and by their mentor in a saved matching.
    """
    ws = gapmap()
    p = _person(pid)
    may_see(p)
    mode = request.args.get("mode") or "full"
    role = request.args.get("role")
    res = M.match_mentors(ws.store, ws.ids, mode=mode, role=role) if not role else None
    if res is None or not any(m.mentee == pid for m in res.matches):
        # a goal other than the pool's, or not in the pool: match this person against the mentors' capacity
        res = M.match_mentors(ws.store, ws.ids, mode=mode, mentees=[pid], role=role or _target(p))
    mine = [m.to_dict() for m in res.matches if m.mentee == pid]
    why = [u for u in res.unmatched if u["mentee"] == pid]
    return jsonify({"person": pid, "mode": mode, "match": mine[0] if mine else None,
                    "unmatched": why[0] if why else None})


# ----------------------------------------------------------------------------------------- CV evidence
def _framework() -> str:
    fw = request.args.get("framework") or (request.form.get("framework") if request.form else None)
    fws = [f.id for f in catalog.frameworks(gapmap().store)]
    if fw:
        if fw not in fws:
            raise NotFound(f"framework {fw!r} is not loaded", field="framework")
        return fw
    if not fws:
        raise NotFound("no framework is loaded", field="framework")
    return "hpc" if "hpc" in fws else fws[0]


@bp.post("/people/<pid>/cv")
@declares("read_private")  # a supervisor, or the person themself
def upload_cv(pid):
    """Upload a CV or portfolio (multipart ``file``): competencies are suggested with evidence spans.

    The person themself may upload their own CV; others need ``upload`` as well.
    """
    from loaders.syllabus import extract

    ws = gapmap()
    p = _person(pid)
    u = current_user()
    if u is None:
        raise NotSignedIn("sign in to upload a CV")
    if not (is_self(u, p) or (u.can("upload") and u.can("read_private"))):
        raise Forbidden("only the person or a development administrator may upload their CV")
    f = request.files.get("file")
    if f is None or not f.filename:
        raise BadParameter("send the CV as a multipart field named 'file'", field="file")
    data = f.read()
    doc = extract(data, f.filename, f.mimetype, max_bytes=ws.config.MAX_UPLOAD_BYTES)
    fw = _framework()
    res = ws.add_cv(pid, doc.text, fw, f.filename, u.name)
    return jsonify({**res.to_dict(), "warnings": list(doc.warnings), "format": doc.format}), 201


@bp.get("/people/<pid>/cv")
@declares("read_private")  # or the person themself, or their matched mentor (checked inside)
def cv_suggestions(pid):
    """Competency suggestions from the person's CVs.

    Also readable by the person themself and by their mentor in a saved matching.
    """
    ws = gapmap()
    may_see(_person(pid))
    status = request.args.get("status")
    if status not in (None, "", "suggested", "accepted", "rejected"):
        raise BadParameter("status must be suggested, accepted or rejected", field="status")
    rows = E.suggestions(ws.store, ws.ids, pid, status or None)
    return jsonify({"person": pid, "count": len(rows), "suggestions": rows})


@bp.post("/people/<pid>/cv/<key>/decision")
@declares("read_private")  # a supervisor, or the person themself
def cv_decision(pid, key):
    """Accept (optionally at another ``level``), reject or reset a suggestion: the person or a supervisor.

    The person themself may decide on their own suggestions too.
    """
    ws = gapmap()
    u = may_see(_person(pid), mentors=False)
    body = _body()
    level = body.get("level")
    if level is not None:
        try:
            level = int(level)
        except (TypeError, ValueError):
            raise BadParameter("level must be a whole number between 1 and 5", field="level") from None
    return jsonify(ws.decide_cv(pid, key, str(body.get("decision") or ""), u.name, level=level))


# ----------------------------------------------------------------------------------------- mentoring
def match_config_from(args) -> M.MatchConfig:
    def num(name, default):
        v = args.get(name)
        if v in (None, ""):
            return default
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise BadParameter(f"{name} must be a number", field=name) from None
        if not 0 <= x <= 10:
            raise BadParameter(f"{name} must be between 0 and 10", field=name)
        return x
    dept = args.get("department") or None
    if dept not in (None, "same", "different"):
        raise BadParameter("department must be same or different", field="department")
    conflicts = set()
    raw = args.get("conflicts") or ""
    if isinstance(raw, list):
        raw = ",".join(":".join(map(str, c)) if isinstance(c, (list, tuple)) else str(c) for c in raw)
    for pair in [c for c in str(raw).split(",") if c.strip()]:
        parts = [x.strip() for x in pair.split(":")]
        if len(parts) != 2 or not all(parts):
            raise BadParameter(f"conflict {pair!r} is not PERSON:PERSON", field="conflicts")
        conflicts.add(frozenset(parts))
    req_track = args.get("require_track")
    req_track = str(req_track).lower() in ("1", "true", "yes") if req_track not in (None, "") else False
    return M.MatchConfig(coverage_weight=num("coverage_weight", 1.0), track_weight=num("track_weight", 0.3),
                         department=dept, conflicts=frozenset(conflicts), require_track=req_track)


def _mentees(args):
    raw = args.get("mentees")
    if raw in (None, ""):
        return None
    if isinstance(raw, list):
        return [str(x) for x in raw]
    return [m.strip() for m in str(raw).split(",") if m.strip()]


@bp.get("/mentoring/match")
@require("plan")
def mentoring_match():
    """Mentor matching over the whole pool (or the given mentees)."""
    need("plan")
    ws = gapmap()
    mode = request.args.get("mode") or "best"
    method = request.args.get("method") or "lsa"
    if method not in ("lsa", "greedy"):
        raise BadParameter("method must be lsa or greedy", field="method")
    res = M.match_mentors(ws.store, ws.ids, mode=mode, cfg=match_config_from(request.args),
                          mentees=_mentees(request.args), role=request.args.get("role") or None, method=method)
    return jsonify(res.to_dict())


@bp.post("/mentoring/match")
@require("plan")
def mentoring_match_save():
    """Run the matching and keep the matches (private ``matches`` graph of the mode, with PROV)."""
    u = need("plan")
    ws = gapmap()
    body = _body()
    mode = body.get("mode") or "best"
    res = M.match_mentors(ws.store, ws.ids, mode=mode, cfg=match_config_from(body), mentees=_mentees(body),
                          role=body.get("role") or None)
    name = ws.keep_matches(mode, res, u.name)
    return jsonify({**res.to_dict(), "saved": str(name)}), 201


# ----------------------------------------------------------------------------------------- pipeline and catalogue
@bp.get("/pipeline")
@require("plan")
def pipeline():
    """Workforce pipeline: demand against partner programs' readiness."""
    need("plan")
    ws = gapmap()
    return jsonify(pipeline_report(ws.store, ws.ids, request.args.get("demand") or None,
                                   year=arg_int("year", 1900, 2200)).to_dict())


@bp.get("/catalogue")
@require("read")
def catalogue_list():
    """Development catalogue: courses, electives, micro-credentials and what they develop."""
    items = C.catalogue(gapmap().store)
    kind = request.args.get("kind")
    comp = request.args.get("competency")
    if kind:
        items = [i for i in items if i.kind == kind]
    if comp:
        items = [i for i in items if any(n == comp for _, n, _ in i.develops)]
    out = [i.to_dict() for i in items]
    if _bool_arg("suggest", False):
        # competencies the descriptions suggest but the items do not name: unreviewed, never used by plans
        fw = _framework()
        sugg = C.catalogue_suggestions(gapmap().store, items, gapmap().linker(fw), fw)
        for d in out:
            d["suggested"] = sugg.get(d["id"], [])
    return jsonify({"count": len(out), "items": out})
