"""Standard-format exports: CASE CFPackage, MedBiquitous Curriculum Inventory, committee workbooks/reports."""
from __future__ import annotations

import json

from flask import Response, current_app

from ..extensions import gapmap
from ..auth import require
from .blueprint import bp


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/frameworks/<fw>/case")
def framework_case(fw):
    """The framework (and its mapping links) as a 1EdTech CASE v1p0 CFPackage."""
    from loaders.case import export_package
    ws = gapmap()
    pkg = export_package(ws.store, ws.ids, fw)
    return _download(json.dumps(pkg, indent=2, ensure_ascii=False), "application/json", f"{fw}-case.json")


@bp.get("/programs/<program>/curriculum-inventory")
def program_curriculum_inventory(program):
    """The program as MedBiquitous Curriculum Inventory v1 XML."""
    from loaders.medbiq_ci import export_ci
    ws = gapmap()
    return _download(export_ci(ws.store, ws.ids, program), "application/xml", f"{program}-curriculum-inventory.xml")


COMMITTEE_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   "pdf": "application/pdf", "html": "text/html"}


@bp.get("/programs/<program>/committee.<fmt>")
@require("read_private")
def program_committee(program, fmt):
    """Committee export (gap report, curriculum map, role readiness, cohort achievement) as XLSX, PDF or HTML.

    Same filters as the gap report (framework, year, course, role, include_suggestions) plus cohort.
    Cohort results are private data: committee and admin only.
    """
    from flask import request

    from .. import committee
    from .params import BadParameter, arg_float, arg_int
    if fmt not in COMMITTEE_TYPES:
        raise BadParameter(f"the committee export is .xlsx, .pdf or .html, not .{fmt}", field="format")
    ws = gapmap()
    framework = request.args.get("framework") or ws.program_framework(program)
    data = committee.collect(ws.store, ws.ids, program, framework, year=arg_int("year", 1, 8),
                             course=request.args.get("course") or None, role=request.args.get("role") or None,
                             include_suggestions=arg_float("include_suggestions"),
                             cohort=request.args.get("cohort") or None,
                             min_group=int(current_app.config.get("MIN_GROUP_SIZE", 5)))
    name = f"committee-{program}-{framework}.{fmt}"
    if fmt == "xlsx":
        return _download(committee.workbook(data), COMMITTEE_TYPES[fmt], name)
    if fmt == "pdf":
        return _download(committee.report_pdf(data), COMMITTEE_TYPES[fmt], name)
    return Response(committee.report_html(data), mimetype="text/html")


@bp.get("/programs/<program>/learners/<learner>/ob3")
@require("read_private")
def learner_ob3(program, learner):
    """A learner's demonstrated competencies as an Open Badges 3.0 Achievement alignment list (private)."""
    from ontology.badges import learner_competencies, ob3_achievement
    ws = gapmap()
    lc = learner_competencies(ws.store, ws.ids, program, learner)
    return Response(json.dumps(ob3_achievement(lc, ws.ids), indent=2, ensure_ascii=False),
                    mimetype="application/ld+json", headers={"Cache-Control": "no-store"})
