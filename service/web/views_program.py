"""Program pages: the gap-report dashboard (heatmap), syllabus upload and the review queue."""
from __future__ import annotations

from collections import OrderedDict, defaultdict
from urllib.parse import urlencode

from flask import render_template, request, url_for

from ontology.errors import NotFound
from ontology.read import catalog, reports
from ontology.read import review as queue_read

from ..api.params import BadParameter, arg_float, arg_int
from ..extensions import gapmap
from ..auth import check, current_user
from .pages import bp
from .views_auth import signin_required


def _courses(program: str) -> list[catalog.Course]:
    return catalog.program_courses(gapmap().store, program)


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
    via = request.args.get("via") or None  # through the accepted crosswalk via → framework, as the API
    report = reports.gap_report(store, ws.ids, program, framework, via=via, year=year, course=course, role=role,
                                include_suggestions=include, stage=hm["stage"])
    courses = catalog.program_courses(store, program)
    shown = [c for c in courses if (year is None or c.year == year) and (course is None or c.code == course)]
    parents = {c.comp: c.parent for c in catalog.framework_competencies(store, framework)}

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

    filters = {k: v for k, v in (("framework", request.args.get("framework")), ("via", via), ("year", year),
                                 ("course", course),
                                 ("role", role), ("include_suggestions", include)) if v not in (None, "")}
    filters.update(hm["filters"])
    api = url_for("api.gaps", program=program)
    downloads = {"CSV": f"{api}?{urlencode({**filters, 'format': 'csv'})}",
                 "JSON": f"{api}?{urlencode({**filters, 'format': 'json'})}"}
    user = current_user()
    if user is not None and user.can("read_private"):  # committee exports (all views): only who may open them
        for name, ext in (("XLSX", "xlsx"), ("PDF", "pdf"), ("Report", "html")):
            q = urlencode(filters)
            downloads[name] = url_for("api.program_committee", program=program, fmt=ext) + (f"?{q}" if q else "")
    downloads["Curriculum Inventory"] = url_for("api.program_curriculum_inventory", program=program)
    def course_link(code):
        return url_for("web.dashboard", program=program, **{**{k: v for k, v in filters.items() if k != "year"},
                                                           "course": code})

    return render_template("dashboard.html", course_link=course_link, program=program, report=report, groups=list(groups.values()),
                           cells=cells, years=catalog.courses_by_year(shown), all_courses=courses,
                           all_years=sorted({c.year for c in courses}), roles=catalog.roles(ws.store),
                           parents=parents, filters=filters, downloads=downloads, ncols=len(shown), hm=hm,
                           counts=hm["counts"](report), crosswalks=_crosswalks_of(program, ws.program_framework(program)))


def _crosswalks_of(program: str, aligned: str) -> list[dict]:
    """The crosswalks that touch the framework ``program`` is aligned to, with a link to review each and, once it
    has accepted mappings, to the gap report against the other framework through it (``?framework=&via=``)."""
    from ontology.crosswalk import crosswalks
    out = []
    for c in crosswalks(gapmap().store):
        a, b = str(c.get("source")), str(c.get("target"))
        if aligned not in (a, b):
            continue
        other = b if a == aligned else a
        accepted = int(c.get("accepted") or 0)
        out.append({"source": a, "target": b, "other": other, "aligned": aligned, "accepted": accepted,
                    "review": url_for("web.crosswalk_page", a=a, b=b),
                    "report": url_for("web.dashboard", program=program, framework=other, via=aligned)
                    if accepted else None})
    return out


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
        courses = [c for c in courses if c.code in user.courses]
    return render_template("upload.html", program=program, courses=catalog.courses_by_year(courses),
                           selected=request.args.get("course", ""),
                           max_bytes=ws.config.MAX_UPLOAD_BYTES)


PAGE_SIZE = 100  # objectives per page of the review queue

#: which objectives the queue shows (as the review API's ``status``)
QUEUE_FILTERS = queue_read.STATUS_FILTERS


@bp.get("/programs/<program>/review")
def review(program):
    ws = gapmap()
    framework = ws.program_framework(program)
    need = signin_required()
    if need:
        return need
    course = request.args.get("course") or None
    courses = _courses(program)
    if course and not any(c.code == course for c in courses):
        raise NotFound(f"course {course!r} is not in program {program!r}", field="course")
    status = request.args.get("status") or "pending"
    if status not in QUEUE_FILTERS:
        raise BadParameter(f"status must be one of {', '.join(QUEUE_FILTERS)}", field="status")
    min_p = arg_float("min_precision") or 0.0
    year = arg_int("year", 1, 8)
    items = queue_read.review_queue(ws.store, ws.ids.program(program), course=course, year=year, status=status,
                                    min_precision=min_p)
    shown = queue_read.queue_page(items, arg_int("page", 1), PAGE_SIZE)
    args = {k: v for k, v in (("course", course), ("year", year), ("status", status if status != "pending" else None),
                              ("min_precision", min_p or None)) if v}

    def page_link(n):
        return url_for("web.review", program=program, **args, **({"page": n} if n > 1 else {}))

    assessments = catalog.program_assessments(ws.store, ws.ids.program(program))
    return render_template("review.html", program=program, framework=framework, filters=QUEUE_FILTERS,
                           items=shown.items, total=shown.total, start=shown.start, page=shown.page,
                           pages=shown.pages, page_link=page_link, course=course, year=year, status=status,
                           min_precision=min_p, courses=catalog.courses_by_year(courses), assessments=assessments)
