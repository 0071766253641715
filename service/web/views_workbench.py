"""Workbench pages: progression, health checks, framework crosswalks and what-if drafts.

Pages are server-rendered from the same functions the API uses; the actions (run a crosswalk, decide a mapping,
create / edit / apply / discard a draft) are done by ``static/workbench.js`` through the JSON API.
"""
from __future__ import annotations

from flask import render_template, request

from ontology.errors import NotFound
from ontology.read import catalog

from ..api.params import arg_float, arg_int
from ..api.workbench import arg_stage, drafts
from ..extensions import gapmap
from .pages import bp


def _stage_label(stage):
    return {"graduation": "graduation", "end_of_residency": "end of residency", "post_training": "post-training",
            None: "the role's full level"}.get(stage, stage)


@bp.get("/programs/<program>/progression")
def progression_page(program):
    from ontology.progression import FLAGS, progression
    ws = gapmap()
    fw = request.args.get("framework") or ws.program_framework(program)
    role = request.args.get("role") or None
    stage = arg_stage()
    rep = progression(ws.store, ws.ids, program, fw, role=role, mastery_level=arg_int("mastery_level", 1, 5) or 3,
                      include_suggestions=arg_float("include_suggestions"), stage=stage)
    flag = request.args.get("flag") or None
    entries = [e for e in rep.entries if flag is None or flag in e.flags]
    return render_template("progression.html", program=program, rep=rep, entries=entries, flags=FLAGS, flag=flag,
                           roles=catalog.roles(ws.store), role=role, stage=stage, stage_label=_stage_label(stage))


@bp.get("/programs/<program>/health")
def health_page(program):
    from ontology.health import CHECKS, health
    ws = gapmap()
    fw = ws.program_framework(program)
    dup = request.args.get("duplicates", "1") != "0"
    threshold = arg_float("threshold", 0.5, 1.0) or 0.9
    checks = CHECKS if dup else tuple(c for c in CHECKS if c != "near_duplicates")
    rep = health(ws.store, ws.ids, program, fw, encoder=ws.linker(fw).encoder if dup else None,
                 threshold=threshold, checks=checks)
    return render_template("health.html", program=program, rep=rep, threshold=threshold, duplicates=dup)


@bp.get("/crosswalks")
def crosswalks_page():
    from ontology.crosswalk import crosswalks
    ws = gapmap()
    return render_template("crosswalks.html", crosswalks=crosswalks(ws.store), frameworks=catalog.framework_ids(ws.store))


@bp.get("/crosswalks/<a>/<b>")
def crosswalk_page(a, b):
    from ontology.crosswalk import RELATIONS, mappings
    ws = gapmap()
    status = request.args.get("status") or None
    if status not in (None, "suggested", "accepted", "rejected"):
        status = None
    ms = mappings(ws.store, ws.ids, a, b)
    if not ms and not any(f.id == a for f in catalog.framework_ids(ws.store)):
        raise NotFound(f"framework {a!r} is not loaded", field="source")
    counts = {s: sum(m.status == s for m in ms) for s in ("suggested", "accepted", "rejected")}
    groups: dict[str, list] = {}
    for m in ms:
        if status is None or m.status == status:
            groups.setdefault(m.source_notation, []).append(m)
    return render_template("crosswalk.html", a=a, b=b, groups=groups, counts=counts, status=status,
                           relations=list(RELATIONS), programs=catalog.programs(ws.store))


@bp.get("/programs/<program>/drafts")
def drafts_page(program):
    ws = gapmap()
    ws.program_framework(program)
    return render_template("drafts.html", program=program, drafts=drafts().list(program),
                           versions=drafts().list(program, frozen=True))


@bp.get("/drafts/<name>")
def draft_page(name):
    from ontology.drafts import OPS, compare
    from ontology.vocab import ASSESSMENT_KINDS
    ws = gapmap()
    d = drafts().get(name)
    role = request.args.get("role") or None
    cmp = compare(ws.store, d, ws.ids, role=role, year=arg_int("year", 1, 8), course=request.args.get("course") or None,
                  stage=arg_stage())
    only = request.args.get("changed") == "1"
    rows = [r for r in cmp["competencies"] if r["changed"] or not only]
    return render_template("draft.html", d=d, cmp=cmp, rows=rows, only_changed=only, role=role, ops=OPS,
                           kinds=list(ASSESSMENT_KINDS), roles=catalog.roles(ws.store),
                           frameworks=catalog.framework_ids(ws.store))


def heatmap_context(program: str) -> dict:
    """What the dashboard needs beyond the live gap report: the store to read (a draft's when ``?draft=``
    names one, with today's statuses to highlight differences), and the row filters ``status`` (a summary
    tile), ``gaps=1`` (only competencies that are not covered) and, with a role, ``all=1`` to show every
    competency rather than only the role's requirements."""
    from ontology.read import reports
    from ontology.vocab import GAP_STATUSES
    ws = gapmap()
    name = request.args.get("draft") or None
    store, framework, live = ws.store, None, {}
    draft = None
    if name:
        from ontology.drafts import draft_framework
        draft = drafts().get(name)
        if draft.program != program:
            raise NotFound(f"draft {name!r} is not a draft of {program!r}", field="draft")
        store, framework = draft.store, draft_framework(draft)
    stage = arg_stage()
    status = request.args.get("status") or None
    if status not in GAP_STATUSES:
        status = None
    only_gaps = request.args.get("gaps") == "1"
    role = request.args.get("role") or None
    all_rows = request.args.get("all") == "1"
    if draft is not None:
        try:
            today = reports.gap_report(ws.store, ws.ids, program, year=arg_int("year", 1, 8),
                                       course=request.args.get("course") or None, role=role, stage=stage)
            live = {e.notation: e.status for e in today.entries}
        except NotFound:
            live = {}

    def keep(e, report) -> bool:
        if status and e.status != status:
            return False
        if only_gaps and e.status == "covered":
            return False
        if role and not all_rows and e.required_level is None:
            return False
        return True

    def counts(report) -> dict:
        """Status counts of the competencies in scope: the role's requirements when a role restricts the rows."""
        es = [e for e in report.entries if not (role and not all_rows and e.required_level is None)]
        return {s: sum(e.status == s for e in es) for s in GAP_STATUSES}

    filters = {k: v for k, v in (("draft", name), ("status", status), ("gaps", "1" if only_gaps else None),
                                 ("all", "1" if all_rows else None)) if v}
    scope = None
    if request.args.get("year") or request.args.get("course"):
        scope = " in " + " · ".join(x for x in (f"year {request.args.get('year')}" if request.args.get("year") else None,
                                                request.args.get("course")) if x)
    return {"store": store, "framework": framework, "draft": name, "live": live, "stage": stage, "status": status,
            "only_gaps": only_gaps, "all_rows": all_rows, "keep": keep, "counts": counts, "filters": filters, "scope": scope}
