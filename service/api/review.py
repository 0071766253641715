"""The review queue: accept, reject or replace suggestions; manual alignments; assessed-by; bulk accept.

The reviewer (PROV "who") is the authenticated user (``service.auth.who``): never a header or body field.
Educators decide only on objectives of their own courses.
"""
from __future__ import annotations

from collections import OrderedDict

from flask import jsonify, request
from rdflib import URIRef

from ontology import review
from ontology.errors import NotFound

from ..extensions import gapmap
from ..auth import check, require, who
from . import bp
from .params import BadParameter, arg_float, arg_int, negotiate, json_body


_body = json_body  # the request's JSON object (params.json_body)


def _objective_course(objective: URIRef) -> str:
    """The course of an objective; "" when it has none (or does not exist): no educator's course then."""
    rows = gapmap().store.select("objective_course", objective=objective)
    return str(rows[0]["code"]) if rows else ""


def _check_objective(permission: str, oid: str) -> None:
    """``permission`` for the course the objective belongs to (educators: only their courses)."""
    check(permission, course=_objective_course(gapmap().ids.objective(oid)))


def _check_alignment(key: str) -> None:
    ws = gapmap()
    rows = ws.store.select("alignment_detail", alignment=_alignment_iri(key))
    check("review", course=_objective_course(URIRef(rows[0]["objective"])) if rows else "")


def _alignment_iri(key: str) -> URIRef:
    return gapmap().ids.iri("alignment", key)


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


STATUS_FILTERS = ("pending", "suggested", "accepted", "rejected", "unmapped", "all")


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
    rows = ws.store.select("review_queue", program=ws.ids.program(program))
    objectives: OrderedDict[str, dict] = OrderedDict()
    for r in rows:
        if (course and r["code"] != course) or (year and r["year"] != year):
            continue
        o = objectives.setdefault(r["oid"], {
            "objective": r["oid"], "text": r["text"], "course": r["code"], "course_title": r["ctitle"],
            "year": r["year"], "alignments": []})
        if r["alignment"] is None:
            continue
        o["alignments"].append({"etag": review.etag(r["alignment"], r["status"], [r["last"]]),
            "id": r["alignment"].rsplit("/", 1)[-1], "iri": r["alignment"], "competency": r["comp"],
            "notation": r["notation"], "label": r["label"], "score": r["score"], "precision": r["precision"],
            "status": review._short(r["status"]), "method": review._short(r["method"]),
            "evidence": r["evidence"], "evidence_field": r["field"],
            "query_span": [r["spanStart"], r["spanEnd"]] if r["spanStart"] is not None else None})
    def suggested(o):
        return any(a["status"] == "suggested" and (a["precision"] or 0) >= min_p for a in o["alignments"])

    def unmapped(o):
        return not any(a["status"] == "accepted" for a in o["alignments"])

    keep = {"all": lambda o: True, "suggested": suggested, "unmapped": unmapped,
            "pending": lambda o: suggested(o) or unmapped(o),
            "accepted": lambda o: any(a["status"] == "accepted" for a in o["alignments"]),
            "rejected": lambda o: any(a["status"] == "rejected" for a in o["alignments"])}[status]
    items = [o for o in objectives.values() if keep(o)]
    return jsonify({"program": program, "count": len(items), "objectives": items[:limit]})


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
    state = review.alignment_state(ws.store, _alignment_iri(key))
    fmt = negotiate(("json", "jsonld", "ttl", "nt"))
    resp = jsonify(state) if fmt == "json" else alignment_resource(key)
    resp.headers["ETag"] = state["etag"]
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
    if decision == "replace":
        a = _alignment_iri(key)
        rows = ws.store.select("alignment_detail", alignment=a)
        if not rows:
            raise NotFound(f"no alignment {key}", field="alignment")
        res = review.add_manual(ws.store, ws.ids, rows[0]["oid"], _competency(body), who(),
                                note=_note(body), replaces=a, expected=expected, if_match=if_match)
    else:
        res = review.decide(ws.store, ws.ids, _alignment_iri(key), decision or "", who(), note=_note(body),
                            expected=expected, if_match=if_match)
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
    ws = gapmap()
    a = _alignment_iri(key)
    if not ws.store.select("alignment_detail", alignment=a):
        raise NotFound(f"no alignment {key}", field="alignment")
    return jsonify({"alignment": str(a), "history": review.history(ws.store, a)})


@bp.post("/objectives/<oid>/alignments")
@require("review")
def add_alignment(oid):
    _check_objective("review", oid)
    body = _body()
    ws = gapmap()
    res = review.add_manual(ws.store, ws.ids, oid, _competency(body), who(), note=_note(body))
    return jsonify(res.to_dict()), 201


@bp.post("/objectives/<oid>/assessed-by")
@require("review")
def assessed_by(oid):
    _check_objective("review", oid)
    body = _body()
    if not body.get("assessment") or not isinstance(body["assessment"], str):
        raise BadParameter("name the assessment", field="assessment")
    ws = gapmap()
    return jsonify(review.mark_assessed(ws.store, ws.ids, oid, body["assessment"], who()).to_dict()), 201


@bp.post("/programs/<program>/review/bulk-accept")
@require("review_all")
def bulk_accept(program):
    body = _body()
    mp = body.get("min_precision")
    try:
        mp = float(mp)
    except (TypeError, ValueError):
        raise BadParameter("min_precision (0..1) is required", field="min_precision") from None
    ws = gapmap()
    res = review.bulk_accept(ws.store, ws.ids, program, mp, who())
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
    kw = dict(media_type=f.mimetype, year=year or None, title=request.form.get("title"),
              align=request.form.get("align", "true") != "false")
    from .jobs import accepted, wants_async
    if wants_async():  # extraction + alignment as a job: 202 + Location: /api/jobs/{id}
        return accepted(ws.jobs.submit("syllabus", lambda progress: ws.upload_syllabus(*args, **kw),
                                       params={"program": program, "course": code, "file": f.filename}))
    res = ws.upload_syllabus(*args, **kw)
    return jsonify(res), 201


@bp.get("/programs/<program>/courses/<code>/syllabus")
@require("read")
def syllabus_versions(program, code):
    ws = gapmap()
    rows = ws.store.select("course_syllabi", course=ws.ids.course(code))
    return jsonify({"program": program, "course": code, "versions": [
        {"version": r["version"], "file": r["file"], "at": str(r["at"]) if r["at"] else None, "user": r["user"],
         "objectives": r["objectives"]} for r in rows],
        # every version ever uploaded (``versions`` is the current one, whose objectives are stored)
        "history": ws.syllabus_history(code)})
