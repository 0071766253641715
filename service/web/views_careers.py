"""Careers pages: people, a person's profile (target-role picker, pathway gap, CV evidence), development
plan, mentor matching and the workforce pipeline.  Same permissions as the API (service/api/careers.py)."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from ontology import careers as C
from ontology import mentoring as M
from ontology import evidence as E
from ontology.pipeline import pipeline_report
from ontology.read import catalog

from ..api.careers import Forbidden, NotSignedIn, is_self, match_config_from, may_see, need
from ..api.params import BadParameter
from ..extensions import gapmap
from ..auth import current_user, declares
from .pages import bp

GAP_BADGE = {"met": "ready", "below": "below_level", "missing": "gap"}
STEP_LABELS = {"advancement": "Advancement", "lateral": "Lateral move", "track_change": "Track change",
               "entry": "Entry"}


def _roles():
    return sorted(C.roles(gapmap().store).values(), key=lambda r: r.title)


@bp.get("/people")
def people_page():
    need("read_private")
    ps = sorted(C.people(gapmap().store).values(), key=lambda p: (p.department or "", p.name))
    return render_template("people.html", people=ps)


@bp.get("/people/<pid>")
def person_page(pid):
    ws = gapmap()
    person = C.get_person(ws.store, pid)
    may_see(person)
    prof = C.profile(ws.store, ws.ids, pid)
    role = request.args.get("role") or (person.target_roles[0] if person.target_roles else None)
    gap = C.role_gap(ws.store, ws.ids, pid, role, prof=prof) if role else None
    sugg = E.suggestions(ws.store, ws.ids, pid, "suggested")
    return render_template("person.html", person=person, prof=prof, gap=gap, role=role, roles=_roles(),
                           GAP_BADGE=GAP_BADGE, STEP_LABELS=STEP_LABELS, suggestions=sugg)


@bp.get("/people/<pid>/plan")
def plan_page(pid):
    ws = gapmap()
    person = C.get_person(ws.store, pid)
    may_see(person)
    role = request.args.get("role") or (person.target_roles[0] if person.target_roles else None)
    if not role:
        raise BadParameter("pick a target role", field="role")
    objective = request.args.get("objective") or "hours"
    if objective not in C.OBJECTIVES:
        raise BadParameter(f"objective must be one of {', '.join(C.OBJECTIVES)}", field="objective")
    gap = C.role_gap(ws.store, ws.ids, pid, role)
    plan = C.development_plan(ws.store, ws.ids, pid, role, objective=objective, gap=gap)
    mentor = M.match_mentors(ws.store, ws.ids, mode="full", mentees=[pid], role=role)
    return render_template("plan.html", person=person, gap=gap, plan=plan, role=role, roles=_roles(),
                           objective=objective, mentor=mentor.matches[0] if mentor.matches else None,
                           mentor_why=mentor.unmatched[0] if mentor.unmatched else None, GAP_BADGE=GAP_BADGE)


@bp.post("/people/<pid>/cv")
@declares("read_private")  # a supervisor, or the person themself
def person_cv_upload(pid):
    from loaders.syllabus import extract

    ws = gapmap()
    person = C.get_person(ws.store, pid)
    u = current_user()
    if u is None:
        raise NotSignedIn("sign in to upload a CV")
    if not (is_self(u, person) or (u.can("upload") and u.can("read_private"))):
        raise Forbidden("only the person or a development administrator may upload their CV")
    f = request.files.get("file")
    if f is None or not f.filename:
        raise BadParameter("choose a file", field="file")
    doc = extract(f.read(), f.filename, f.mimetype, max_bytes=ws.config.MAX_UPLOAD_BYTES)
    fws = [x.id for x in catalog.frameworks(ws.store)]
    if not fws:
        raise BadParameter("no framework is loaded", field="framework")
    fw = "hpc" if "hpc" in fws else fws[0]
    ws.add_cv(pid, doc.text, fw, f.filename, u.name)
    return redirect(url_for("web.person_page", pid=pid, role=request.form.get("role") or None) + "#cv")


@bp.post("/people/<pid>/cv/<key>")
@declares("read_private")  # a supervisor, or the person themself
def person_cv_decide(pid, key):
    ws = gapmap()
    u = may_see(C.get_person(ws.store, pid), mentors=False)
    decision = request.form.get("decision") or ""
    ws.decide_cv(pid, key, decision, u.name)
    return redirect(url_for("web.person_page", pid=pid, role=request.form.get("role") or None) + "#cv")


@bp.get("/mentoring")
def mentoring_page():
    need("plan")
    ws = gapmap()
    mode = request.args.get("mode") or "best"
    if mode not in ("best", "full"):
        abort(400, "mode must be best or full")
    res = M.match_mentors(ws.store, ws.ids, mode=mode, cfg=match_config_from(request.args))
    return render_template("mentoring.html", res=res, mode=mode, department=request.args.get("department") or "")


@bp.get("/pipeline")
def pipeline_page():
    need("plan")
    ws = gapmap()
    rep = pipeline_report(ws.store, ws.ids, request.args.get("demand") or None)
    return render_template("pipeline.html", rep=rep)
