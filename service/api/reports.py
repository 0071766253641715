"""Gap reports, role readiness, and running the alignment."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Response, current_app, jsonify, request

from ontology.read import reports

from ..extensions import gapmap
from ..auth import require, who
from .blueprint import bp
from .jobs import accepted, wants_async
from .params import BadParameter, arg_float, arg_int, check_fields, negotiate, request_json

RDF_FORMATS = {"ttl": ("turtle", "text/turtle"), "jsonld": ("json-ld", "application/ld+json")}


def _framework(program: str) -> str:
    return request.args.get("framework") or gapmap().program_framework(program)


@bp.get("/programs/<program>/gaps")
def gaps(program):
    """Gap report of a program against a framework: each competency taught, assessed, at which level (JSON, CSV, Turtle, JSON-LD)."""
    ws = gapmap()
    fmt = negotiate()
    from .workbench import arg_stage
    args = (program, request.args.get("framework") or None, arg_int("year", 1, 8),
            request.args.get("course") or None, request.args.get("role") or None, arg_float("include_suggestions"),
            arg_stage(), request.args.get("via") or None)
    # Repeat requests are served from memory: the rendered body is cached on (store generation,
    # arguments, format), so no query runs and nothing is serialised again until the next write.
    # (RDF output carries the time it was generated, so it is rendered afresh.)
    if fmt in RDF_FORMATS:
        return _render(ws, fmt, *args)
    # With GAPMAP_REDIS and a remote store, the body is shared with the other replicas (service/shared.py).
    from ..shared import cached_body
    body, mimetype, headers = cached_body(ws, ("gaps-http", ws.ids.base, fmt) + args, lambda: _render(ws, fmt, *args))
    return Response(body, mimetype=mimetype, headers=headers)


def _render(ws, fmt, program, framework, year, course, role, include_suggestions, stage, via):
    from .workbench import report_for
    report = report_for(program, framework or ws.program_framework(program), via=via, year=year, course=course,
                        role=role, include_suggestions=include_suggestions, stage=stage)
    if fmt == "csv":
        name = f"gaps-{program}-{report.framework}.csv"
        return report.to_csv(), "text/csv", {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt in RDF_FORMATS:
        rdf_fmt, mt = RDF_FORMATS[fmt]
        g = report.to_graph(ws.ids, when=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        if fmt == "jsonld":  # compacted with the published context (/ns/context.jsonld)
            from ontology.jsonld import to_jsonld

            from .linked import context_url
            url = context_url()
            return Response(to_jsonld(g, url if request.args.get("context") == "url" else None), mimetype=mt,
                            headers={"Link": f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"'})
        return Response(g.serialize(format=rdf_fmt), mimetype=mt)
    return current_app.json.dumps(report.to_dict()), "application/json", {}


@bp.get("/programs/<program>/readiness/<role>")
def readiness(program, role):
    """Role readiness of a program: which of the role's competencies graduates reach, at which level."""
    ws = gapmap()
    from .workbench import arg_stage
    return jsonify(reports.readiness(ws.store, ws.ids, program, role, framework=request.args.get("framework"),
                                     include_suggestions=arg_float("include_suggestions"), stage=arg_stage()).to_dict())


@bp.post("/programs/<program>/align")
@require("load")
def align(program):
    """Suggest competencies for every objective of the program (embedding alignment); with ?async=1 a job."""
    body = request_json() or {}
    if not isinstance(body, dict):
        raise BadParameter("the body must be a JSON object", field="body")
    check_fields(body)
    top_k = body.get("top_k")
    if top_k is not None and (not isinstance(top_k, int) or not 1 <= top_k <= 50):
        raise BadParameter("top_k must be a whole number from 1 to 50", field="top_k")
    mp = body.get("min_precision")
    if mp is not None and (not isinstance(mp, (int, float)) or not 0 <= mp <= 1):
        raise BadParameter("min_precision must be a number from 0 to 1", field="min_precision")
    ws = gapmap()
    if wants_async():  # 202 + Location: /api/jobs/{id}; the default stays synchronous
        fw = body.get("framework")
        ws.program_framework(program) if not fw else None  # a 404 now, not a failed job later
        return accepted(ws.jobs.submit("align", lambda progress: ws.align(
            program, fw, top_k=top_k, min_precision=mp, progress=progress).to_dict(),
            owner=who(), params={"program": program, "framework": fw, "top_k": top_k, "min_precision": mp}))
    res = ws.align(program, body.get("framework"), top_k=top_k, min_precision=mp)
    return jsonify(res.to_dict())


@bp.get("/programs/<program>/achievement")
def achievement(program):
    """How each cohort achieves each competency (assessment results; groups smaller than the minimum are withheld)."""
    from ontology.achievement import cohort_achievement
    from service.auth import check
    check("read")
    ws = gapmap()
    rep = cohort_achievement(ws.store, ws.ids, program, _framework(program), cohort=request.args.get("cohort"),
                             min_group=int(current_app.config.get("MIN_GROUP_SIZE", 5)))
    return jsonify(rep.to_dict())


@bp.get("/programs/<program>/changes")
def program_changes(program):
    """What changed in the gap report since the last framework/curriculum reload (or a given snapshot)."""
    ws = gapmap()
    if request.args.get("list"):
        return jsonify({"program": program, "snapshots": reports.saved_reports(ws.store, ws.ids, program)})
    return jsonify(reports.report_changes(ws.store, ws.ids, program, since=request.args.get("since") or None,
                                          until=request.args.get("until") or None))
