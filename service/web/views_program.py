"""Program pages: the gap-report dashboard (heatmap), syllabus upload and the review queue."""
from __future__ import annotations

import re
from collections import OrderedDict, defaultdict
from urllib.parse import urlencode

from flask import render_template, request, url_for
from rdflib import Literal

from ontology.errors import NotFound
from ontology.gaps import cached_gap_report as gap_report

from ..api.params import BadParameter, arg_float, arg_int
from ..extensions import gapmap
from ..auth import check
from . import bp, short
from .views_auth import signin_required


def _courses(program: str) -> list[dict]:
    return gapmap().store.select("program_courses", pid=Literal(program))


def _by_year(courses: list[dict]) -> list[tuple[int, list[dict]]]:
    out: OrderedDict[int, list[dict]] = OrderedDict()
    for c in sorted(courses, key=lambda c: (c["year"], c["code"])):
        out.setdefault(c["year"], []).append(c)
    return list(out.items())


@bp.get("/programs/<program>")
def dashboard(program):
    """The gap report as a competency x course heatmap, with filters and downloads."""
    from .views_workbench import heatmap_context
    ws = gapmap()
    hm = heatmap_context(program)  # a draft's store when ?draft= names one; row filters (status, only gaps)
    store = hm["store"]
    framework = request.args.get("framework") or hm["framework"] or ws.program_framework(program)
    year, course = arg_int("year", 1, 8), request.args.get("course") or None
    role = request.args.get("role") or None
    include = arg_float("include_suggestions")
    report = gap_report(store, ws.ids, program, framework, year=year, course=course, role=role,
                        include_suggestions=include, stage=hm["stage"])
    courses = store.select("program_courses", pid=Literal(program))
    shown = [c for c in courses if (year is None or c["year"] == year) and (course is None or c["code"] == course)]
    parents = {r["comp"]: r["parent"] for r in store.select("framework_competencies", fw=Literal(framework))}

    # cells[competency][course code] = {level, reviewed, objectives, assessed}
    cells: dict[str, dict[str, dict]] = {}
    for e in report.entries:
        row: dict[str, dict] = defaultdict(lambda: {"level": None, "reviewed": False, "objectives": [],
                                                    "assessed": [], "taught": False})
        for t in e.taught_by:
            c = row[t.course]
            c["taught"] = True
            c["reviewed"] = c["reviewed"] or t.reviewed
            c["objectives"].append(t.objective_id + ("" if t.reviewed else " (unreviewed)"))
            if t.level is not None:
                c["level"] = max(c["level"] or 0, t.level)
        for a in e.assessed_by:
            row[a.course]["assessed"].append(a.assessment_id)
        cells[e.competency] = dict(row)

    groups: OrderedDict[str, dict] = OrderedDict()
    summaries = {d.domain: d for d in report.domains}
    for e in report.entries:
        if not hm["keep"](e, report):
            continue
        g = groups.setdefault(e.domain or "", {"domain": e.domain, "label": e.domain_label,
                                               "summary": summaries.get(e.domain), "entries": []})
        g["entries"].append(e)

    filters = {k: v for k, v in (("framework", request.args.get("framework")), ("year", year), ("course", course),
                                 ("role", role), ("include_suggestions", include)) if v not in (None, "")}
    filters.update(hm["filters"])
    api = url_for("api.gaps", program=program)
    downloads = {"CSV": f"{api}?{urlencode({**filters, 'format': 'csv'})}",
                 "JSON": f"{api}?{urlencode({**filters, 'format': 'json'})}"}
    for name, ext in (("XLSX", "xlsx"), ("PDF", "pdf"), ("Report", "html")):  # committee exports (all views)
        q = urlencode(filters)
        downloads[name] = url_for("api.program_committee", program=program, fmt=ext) + (f"?{q}" if q else "")
    downloads["Curriculum Inventory"] = url_for("api.program_curriculum_inventory", program=program)
    def course_link(code):
        return url_for("web.dashboard", program=program, **{**{k: v for k, v in filters.items() if k != "year"},
                                                           "course": code})

    return render_template("dashboard.html", course_link=course_link, program=program, report=report, groups=list(groups.values()),
                           cells=cells, years=_by_year(shown), all_courses=courses,
                           all_years=sorted({c["year"] for c in courses}), roles=ws.store.select("roles"),
                           parents=parents, filters=filters, downloads=downloads, ncols=len(shown), hm=hm,
                           counts=hm["counts"](report))


@bp.get("/programs/<program>/upload")
def upload(program):
    """Upload a syllabus; the page's script sends it to the API and lists what was extracted."""
    ws = gapmap()
    ws.program_framework(program)  # 404 for an unknown program
    need = signin_required()
    if need:
        return need
    user = check("upload", course=request.args.get("course") or None)
    courses = _courses(program)
    if user.role == "educator":  # the courses they may upload for
        courses = [c for c in courses if c["code"] in user.courses]
    return render_template("upload.html", program=program, courses=_by_year(courses),
                           selected=request.args.get("course", ""),
                           max_bytes=ws.config.MAX_UPLOAD_BYTES)


def _segments(text: str, span) -> list[tuple[str, bool]]:
    """The objective text cut around the evidence span: [(text, highlighted), ...]."""
    if not span or span[0] is None or span[1] is None:
        return [(text, False)]
    s, e = max(0, int(span[0])), min(len(text), int(span[1]))
    if s >= e:
        return [(text, False)]
    return [(p, h) for p, h in ((text[:s], False), (text[s:e], True), (text[e:], False)) if p]


PAGE_SIZE = 100  # objectives per page of the review queue

#: which objectives the queue shows (as the review API's ``status``)
QUEUE_FILTERS = {"pending": "awaiting a decision, or unmapped", "suggested": "with a pending suggestion",
                 "unmapped": "with nothing accepted", "accepted": "with an accepted alignment",
                 "rejected": "with a rejected alignment", "all": "all"}


def review_queue(program: str, *, course: str | None = None, status: str = "pending",
                 min_precision: float = 0.0) -> list[dict]:
    """Objectives of ``program`` with their alignments (as the review API gives them)."""
    ws = gapmap()
    objectives: OrderedDict[str, dict] = OrderedDict()
    order = {}
    for r in ws.store.select("review_queue", program=ws.ids.program(program)):
        if course and r["code"] != course:
            continue
        order.setdefault(r["oid"], (r["year"], r["code"], r["pos"] if r["pos"] is not None else -1, r["sid"], r["oid"]))
        o = objectives.setdefault(r["oid"], {"objective": r["oid"], "text": r["text"], "course": r["code"],
                                             "course_title": r["ctitle"], "year": r["year"], "level": r["olevel"],
                                             "alignments": []})
        if r["alignment"] is None:  # an objective nothing is aligned to (yet)
            continue
        span = [r["spanStart"], r["spanEnd"]] if r["spanStart"] is not None else None
        o["alignments"].append({
            "id": r["alignment"].rsplit("/", 1)[-1], "competency": r["comp"], "notation": r["notation"],
            "label": r["label"], "framework": r["comp"].rsplit("/", 2)[-2],
            "score": float(r["score"]) if r["score"] is not None else None,
            "precision": float(r["precision"]) if r["precision"] is not None else None,
            "status": short(r["status"]).lower(), "method": short(r["method"]).replace("Method", "").lower(),
            "evidence": r["evidence"], "evidence_field": (r["field"] or "").replace("_", " "),
            "query_span": span, "segments": _segments(r["text"], span)})
    def natural(v):  # "O2" before "O10", "S2" before "S10"
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(v or ""))]
    out = []

    def key(o):
        y, c, pos, sid, oid = order[o["objective"]]
        return (y, c, pos, natural(sid), natural(oid))
    for o in sorted(objectives.values(), key=key):
        o["alignments"].sort(key=lambda a: (a["status"] != "suggested", -(a["score"] or 0)))
        pending = [a for a in o["alignments"] if a["status"] == "suggested" and (a["precision"] or 0) >= min_precision]
        unmapped = not any(a["status"] == "accepted" for a in o["alignments"])
        keep = {"all": True, "suggested": bool(pending), "unmapped": unmapped, "pending": bool(pending) or unmapped,
                "accepted": any(a["status"] == "accepted" for a in o["alignments"]),
                "rejected": any(a["status"] == "rejected" for a in o["alignments"])}[status]
        if keep:
            top = pending[0] if pending else (o["alignments"][0] if o["alignments"] else None)
            o["segments"] = top["segments"] if top else [(o["text"], False)]
            o["pending"] = len(pending)
            o["unmapped"] = unmapped
            out.append(o)
    return out


@bp.get("/programs/<program>/review")
def review(program):
    ws = gapmap()
    framework = ws.program_framework(program)
    need = signin_required()
    if need:
        return need
    course = request.args.get("course") or None
    courses = _courses(program)
    if course and not any(c["code"] == course for c in courses):
        raise NotFound(f"course {course!r} is not in program {program!r}", field="course")
    status = request.args.get("status") or "pending"
    if status not in QUEUE_FILTERS:
        raise BadParameter(f"status must be one of {', '.join(QUEUE_FILTERS)}", field="status")
    min_p = arg_float("min_precision") or 0.0
    items = review_queue(program, course=course, status=status, min_precision=min_p)
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(arg_int("page", 1) or 1, pages)
    start = (page - 1) * PAGE_SIZE
    args = {k: v for k, v in (("course", course), ("status", status if status != "pending" else None),
                              ("min_precision", min_p or None)) if v}

    def page_link(n):
        return url_for("web.review", program=program, **args, **({"page": n} if n > 1 else {}))

    assessments = ws.store.select("program_assessments", program=ws.ids.program(program))
    return render_template("review.html", program=program, framework=framework, filters=QUEUE_FILTERS,
                           items=items[start:start + PAGE_SIZE], total=len(items), start=start, page=page,
                           pages=pages, page_link=page_link, course=course, status=status, min_precision=min_p,
                           courses=_by_year(courses), assessments=assessments)
