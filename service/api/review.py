"""The review queue: accept, reject or replace suggestions; manual alignments; assessed-by; bulk accept.

The reviewer (PROV "who") is the authenticated user (``service.auth.who``): never a header or body field.
Educators decide only on objectives of their own courses.
"""
from __future__ import annotations

from flask import jsonify, request
from rdflib import URIRef

from ontology.errors import NotFound
from ontology.read import catalog
from ontology.read import review as queue_read

from ..extensions import gapmap
from ..auth import check, require, who
from .blueprint import bp
from .params import BadParameter, arg_float, arg_int, negotiate, json_body


_body = json_body  # the request's JSON object (params.json_body)


def _objective_course(objective: URIRef) -> str:
    """The course of an objective; "" when it has none (or does not exist): no educator's course then."""
    return catalog.objective_course(gapmap().store, objective)


def current_user_can(permission: str, *, course: str) -> bool:
    from service.auth import current_user
    u = current_user()
    return u is not None and u.can(permission, course=course)


def _check_objective(permission: str, oid: str) -> None:
    """``permission`` for the course the objective belongs to (educators: only their courses)."""
    check(permission, course=_objective_course(gapmap().ids.objective(oid)))


def _check_alignment(key: str) -> None:
    found = queue_read.alignment(gapmap().store, _alignment_iri(key))
    if found is None:  # 404 for every reviewer (not a 403 "may not review for course ''")
        raise NotFound(f"no alignment {key}", field="alignment")
    check("review", course=_objective_course(URIRef(found.objective)))


def _alignment_iri(key: str) -> URIRef:
    return gapmap().ids.alignment_ref(key)


def _competency(body: dict) -> URIRef:
    """The competency named by IRI, or by framework + notation."""
    ws = gapmap()
    for k in ("competency_iri", "framework", "competency"):
        if body.get(k) is not None and not isinstance(body[k], str):
            raise BadParameter(f"{k} must be text", field=k)
    if body.get("competency_iri"):
        return URIRef(body["competency_iri"])
    fw, notation = body.get("framework"), body.get("competency")
    if not notation:
        raise BadParameter("name the competency (competency and framework, or competency_iri)", field="competency")
    if not fw:
        raise BadParameter("give the framework of the competency", field="framework")
    return ws.ids.concept(fw, notation)


STATUS_FILTERS = tuple(queue_read.STATUS_FILTERS)


@bp.get("/programs/<program>/review")
@require("read")
def queue(program):
    """Objectives with their alignments.

    ``status``: ``pending`` (default: a suggestion awaits a decision, or nothing is accepted yet),
    ``suggested``, ``accepted``, ``rejected``, ``unmapped`` (nothing accepted) or ``all``.
    """
    ws = gapmap()
    status = request.args.get("status", "pending")
    if status not in STATUS_FILTERS:
        raise BadParameter(f"status must be one of {', '.join(STATUS_FILTERS)}", field="status")
    course, year = request.args.get("course"), arg_int("year", 1, 8)
    min_p = arg_float("min_precision") or 0.0
    limit = arg_int("limit", 1, 5000) or 200
    items = queue_read.review_queue(ws.store, ws.ids.program(program), course=course, year=year, status=status,
                                    min_precision=min_p)
    return jsonify({"program": program, "count": len(items), "objectives": [o.to_dict() for o in items[:limit]]})


def _expected(body: dict) -> tuple[str | None, str | None]:
    """The state the client decided on: ``expected_status`` in the body and/or an ``If-Match`` ETag."""
    expected = body.get("expected_status")
    if expected is not None and not isinstance(expected, str):
        raise BadParameter("expected_status must be suggested, accepted or rejected", field="expected_status")
    return expected or None, request.headers.get("If-Match")


@bp.get("/alignments/<key>")
def alignment(key):
    """One alignment's review state with its ETag (send it back as If-Match with a decision); asked for as
    JSON-LD, Turtle or N-Triples (``Accept`` or ``?format=jsonld|ttl|nt``), the alignment as linked data."""
    from .linked import alignment_resource
    ws = gapmap()
    state = queue_read.alignment_state(ws.store, _alignment_iri(key))
    fmt = negotiate(("json", "jsonld", "ttl", "nt"))
    resp = jsonify(state.to_dict()) if fmt == "json" else alignment_resource(key)
    resp.headers["ETag"] = state.etag
    return resp


@bp.post("/alignments/<key>/decision")
@require("review")
def decide(key):
    """A decision; conditional on ``expected_status`` / ``If-Match`` when given (409 if the alignment changed)."""
    _check_alignment(key)
    body = _body()
    ws = gapmap()
    decision = body.get("decision")
    if decision not in ("accept", "reject", "reset", "replace"):
        raise BadParameter("decision must be one of accept, reject, reset, replace", field="decision")
    expected, if_match = _expected(body)
    if decision == "replace" and queue_read.alignment(ws.store, _alignment_iri(key)) is None:
        raise NotFound(f"no alignment {key}", field="alignment")
    res = ws.decide(key, decision, who(), competency=_competency(body) if decision == "replace" else None,
                    note=_note(body), expected=expected, if_match=if_match)
    resp = jsonify(res.to_dict())
    if res.etag and res.replacement is None:
        resp.headers["ETag"] = res.etag
    return resp


def _note(body: dict) -> str | None:
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise BadParameter("note must be text", field="note")
    return note or None


@bp.get("/alignments/<key>/history")
@require("read")
def history(key):
    """Every decision on an alignment, with who and when."""
    ws = gapmap()
    a = _alignment_iri(key)
    if queue_read.alignment(ws.store, a) is None:
        raise NotFound(f"no alignment {key}", field="alignment")
    return jsonify({"alignment": str(a), "history": [h.to_dict() for h in queue_read.alignment_history(ws.store, a)]})


@bp.post("/objectives/<oid>/alignments")
@require("review")
def add_alignment(oid):
    """Add a manual alignment of an objective to a competency (accepted)."""
    _check_objective("review", oid)
    body = _body()
    ws = gapmap()
    res = ws.add_alignment(oid, _competency(body), who(), note=_note(body))
    return jsonify(res.to_dict()), 201


@bp.post("/objectives/<oid>/assessed-by")
@require("review")
def assessed_by(oid):
    """Mark an objective as assessed by an assessment."""
    _check_objective("review", oid)
    body = _body()
    if not body.get("assessment") or not isinstance(body["assessment"], str):
        raise BadParameter("name the assessment", field="assessment")
    ws = gapmap()
    # the assessment must be one the user may review too (educators: an assessment of their own course,
    # not another course's exam); one outside the objective's program is a 404 below (mark_assessed)
    prog = next((r["pid"] for r in ws.store.select("objective_detail", objective=ws.ids.objective(oid))), None)
    course = next((r["code"] for r in ws.store.select("program_assessments", program=ws.ids.program(prog))
                   if r["aid"] == body["assessment"]), None) if prog else None
    if course is not None and not current_user_can("review", course=course):
        from service.auth import Forbidden
        raise Forbidden(f"assessment {body['assessment']!r} belongs to course {course!r}, which you may not "
                        "review: link an assessment of your own course", field="assessment", course=course)
    return jsonify(ws.mark_assessed(oid, body["assessment"], who()).to_dict()), 201


@bp.post("/programs/<program>/review/bulk-accept")
@require("review_all")
def bulk_accept(program):
    """Accept every suggestion of the program at or above a calibrated precision."""
    body = _body()
    mp = body.get("min_precision")
    try:
        mp = float(mp)
    except (TypeError, ValueError):
        raise BadParameter("min_precision (0..1) is required", field="min_precision") from None
    ws = gapmap()
    res = ws.bulk_accept(program, mp, who())
    return jsonify({"accepted": len(res), "decisions": [d.to_dict() for d in res]})


@bp.post("/programs/<program>/courses/<code>/syllabus")
@require("upload")
def upload_syllabus(program, code):
    """Upload a syllabus (multipart field ``file``): objectives are extracted, stored as a new version, aligned."""
    f = request.files.get("file")
    if f is None or not f.filename:
        raise BadParameter("send the syllabus as multipart/form-data in the field 'file'", field="file")
    year = request.form.get("year")
    if year:
        try:
            year = int(year)
        except ValueError:
            raise BadParameter("year must be a whole number", field="year") from None
    ws = gapmap()
    args = (program, code, f.filename, f.read(), who())
    kw = dict(media_type=f.mimetype, year=year if year not in (None, "") else None, title=request.form.get("title"),
              align=request.form.get("align", "true") != "false")
    from .jobs import accepted, wants_async
    if wants_async():  # extraction + alignment as a job: 202 + Location: /api/jobs/{id}
        return accepted(ws.jobs.submit("syllabus", lambda progress: ws.upload_syllabus(*args, **kw),
                                       owner=who(), params={"program": program, "course": code, "file": f.filename}))
    res = ws.upload_syllabus(*args, **kw)
    return jsonify(res), 201


@bp.get("/programs/<program>/courses/<code>/syllabus")
@require("read")
def syllabus_versions(program, code):
    """Syllabus versions of a course, and every upload ever made."""
    ws = gapmap()
    versions = queue_read.syllabus_versions(ws.store, ws.ids.course(code))
    return jsonify({"program": program, "course": code, "versions": [v.to_dict() for v in versions],
        # every version ever uploaded (``versions`` is the current one, whose objectives are stored)
        "history": ws.syllabus_history(code)})
