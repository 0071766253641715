"""The committee's workbench: progression, health checks, framework crosswalks and what-if drafts."""
from __future__ import annotations

from flask import jsonify, request

from service.auth import declares, require, who

from ..extensions import gapmap
from .blueprint import bp
from .params import BadParameter, arg_float, arg_int, json_body


def _framework(program: str) -> str:
    return request.args.get("framework") or gapmap().program_framework(program)


def arg_stage(default: str | None = "graduation") -> str | None:
    """``?stage=graduation|end_of_residency|post_training``; ``all`` (or ``final``) = the role's full levels."""
    from ontology.vocab import STAGES
    v = request.args.get("stage")
    if v in (None, ""):
        return default
    if v in ("all", "final"):
        return None
    if v not in STAGES:
        raise BadParameter(f"stage must be one of {', '.join(STAGES)} or all", field="stage")
    return v


body = json_body  # the request's JSON object (params.json_body)


user_name = who  # the PROV "who" of a write: the authenticated user


@bp.get("/programs/<program>/progression")
@require("read")
def program_progression(program):
    """Introduced / reinforced / mastered per competency across the years, with flags."""
    from ontology.progression import progression as run
    ws = gapmap()
    rep = run(ws.store, ws.ids, program, _framework(program), role=request.args.get("role") or None,
              mastery_level=arg_int("mastery_level", 1, 5) or 3,
              include_suggestions=arg_float("include_suggestions"), stage=arg_stage())
    return jsonify(rep.to_dict())


@bp.get("/programs/<program>/health")
@require("read")
def program_health(program):
    """Curriculum health checks (unmapped objectives, empty sessions, unassessed courses…)."""
    from ontology.health import CHECKS, health as run
    ws = gapmap()
    fw = _framework(program)
    checks = tuple(c for c in (request.args.get("checks") or ",".join(CHECKS)).split(",") if c)
    threshold = arg_float("threshold", 0.5, 1.0) or 0.9
    encoder = ws.linker(fw).encoder if "near_duplicates" in checks else None
    return jsonify(run(ws.store, ws.ids, program, fw, encoder=encoder, threshold=threshold,
                       checks=checks).to_dict())


# --- framework crosswalks --------------------------------------------------------------------------
@bp.get("/crosswalks")
@require("read")
def crosswalk_list():
    """Framework crosswalks."""
    from ontology.crosswalk import crosswalks
    return jsonify({"crosswalks": crosswalks(gapmap().store)})


@bp.post("/crosswalks")
@require("plan")
def crosswalk_run():
    """Run (or re-run) the crosswalk ``{"source": a, "target": b, "top_k": 3}``; decisions are kept."""
    b = body()
    top_k = b.get("top_k", 3)
    if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= 10:
        raise BadParameter("top_k must be a whole number from 1 to 10", field="top_k")
    mp = b.get("min_precision", 0.0)
    if not isinstance(mp, (int, float)) or isinstance(mp, bool) or not 0 <= mp <= 1:
        raise BadParameter("min_precision must be a number from 0 to 1", field="min_precision")
    for f in ("source", "target"):
        if not isinstance(b.get(f), str) or not b.get(f):
            raise BadParameter(f"{f} (a framework id) is required", field=f)
    from ontology.crosswalk import check_framework
    check_framework(b["source"], "source")
    check_framework(b["target"], "target")
    if b["source"] == b["target"]:
        raise BadParameter("a crosswalk needs two different frameworks", field="target")
    res = gapmap().run_crosswalk(b["source"], b["target"], top_k=top_k, min_precision=float(mp))
    return jsonify(res.to_dict()), 201


@bp.get("/crosswalks/<a>/<b>")
@require("read")
def crosswalk_get(a, b):
    """Mappings of a crosswalk, with counts by status."""
    from ontology.crosswalk import mappings
    ws = gapmap()
    status = request.args.get("status") or None
    if status not in (None, "suggested", "accepted", "rejected"):
        raise BadParameter("status must be suggested, accepted or rejected", field="status")
    ms = mappings(ws.store, ws.ids, a, b, status=status)
    counts = {s: sum(m.status == s for m in ms) for s in ("suggested", "accepted", "rejected")}
    return jsonify({"source": a, "target": b, "counts": counts, "mappings": [m.to_dict() for m in ms]})


@bp.post("/crosswalks/<a>/<b>/mappings/<mid>/decision")
@require("plan")
def crosswalk_decision(a, b, mid):
    """``{"decision": "accept"|"reject"|"reset", "relation": "exact"|"close"|"broader"|"narrower"|"related"}``"""
    bd = body()
    for k in ("decision", "relation", "note"):
        if bd.get(k) is not None and not isinstance(bd[k], str):
            raise BadParameter(f"{k} must be text", field=k)
    return jsonify(gapmap().decide_mapping(a, b, mid, bd.get("decision"), user_name(),
                                           relation=bd.get("relation") or None, note=bd.get("note")))


def report_for(program: str, framework: str, *, via: str | None = None, **kw):
    """The gap report (cached while the store is unchanged), through an accepted crosswalk when ``via``
    (default ``?via=``) names the framework the program is aligned to (a report against another framework
    without re-aligning)."""
    from ontology.read import reports
    ws = gapmap()
    return reports.gap_report(ws.store, ws.ids, program, framework, via=via or request.args.get("via") or None, **kw)


# --- what-if drafts ----------------------------------------------------------------------------------
def drafts():
    """The drafts of the request's institution (``Workspace.drafts``: each institution has its own)."""
    return gapmap().drafts


def _draft_args() -> dict:
    return dict(role=request.args.get("role") or None, year=arg_int("year", 1, 8),
                course=request.args.get("course") or None, stage=arg_stage())


@bp.get("/programs/<program>/drafts")
@require("read")
def draft_list(program):
    """Drafts of a program."""
    gapmap().program_framework(program)
    return jsonify({"program": program, "drafts": drafts().list(program)})


@bp.post("/programs/<program>/drafts")
@require("plan")
def draft_create(program):
    """``{"name": "move-ethics-to-year-2"}``: a draft of the program as it is now."""
    ws = gapmap()
    d = drafts().create(ws.store, ws.ids, body().get("name"), program, user_name())
    return jsonify({k: v for k, v in d.meta().items()}), 201


@bp.get("/drafts/<name>")
@require("read")
def draft_get(name):
    """A draft and its edits."""
    return jsonify(drafts().get(name).meta())


@bp.post("/drafts/<name>/edits")
@require("plan")
def draft_edit(name):
    """One edit ``{"op": "add_course", ...}`` or several ``{"edits": [...]}``, in order and all or nothing
    (a failing edit is named as ``edit``, from 1, and none of the batch is applied)."""
    ws = gapmap()
    b = body()
    ops = b["edits"] if isinstance(b.get("edits"), list) else [b]
    if not 1 <= len(ops) <= 200:
        raise BadParameter("give 1 to 200 edits", field="edits")
    user = user_name()
    done = drafts().edit_all(ws.ids, name, ops, user)
    return jsonify({"draft": name, "done": done, "edits": len(drafts().get(name).edits)})


@bp.get("/drafts/<name>/compare")
@require("read")
def draft_compare(name):
    """Today's gap report next to the draft's."""
    from ontology.drafts import compare
    ws = gapmap()
    return jsonify(compare(ws.store, drafts().get(name), ws.ids, **_draft_args()))


@bp.get("/drafts/<name>/gaps")
@require("read")
def draft_gaps(name):
    """The draft's gap report."""
    from ontology.drafts import draft_framework
    from ontology.read import reports
    ws = gapmap()
    d = drafts().get(name)
    kw = _draft_args()
    return jsonify(reports.gap_report(d.store, ws.ids, d.program, draft_framework(d), cached=False,
                                      include_suggestions=arg_float("include_suggestions"), **kw).to_dict())


@bp.post("/drafts/<name>/apply")
@require("plan")
def draft_apply(name):
    """Apply a draft to the live store in one transaction."""
    ws = gapmap()
    d = drafts().get(name)
    fw = ws.program_framework(d.program)
    return jsonify(drafts().apply(ws.store, ws.ids, name, user_name(), framework=fw))


@bp.delete("/drafts/<name>")
@require("plan")
def draft_discard(name):
    """Discard a draft."""
    drafts().discard(name)
    return "", 204


@bp.post("/programs/<program>/review/bulk-accept-shown")
@require("review")
def bulk_accept_shown(program):
    """Accept exactly the listed suggestions (those a review page shows) at or above ``min_precision``;
    ``{"alignments": [...], "min_precision": 0.8, "preview": true}`` lists them without writing."""
    b = body()
    return jsonify(gapmap().accept_shown(program, b.get("alignments"), b.get("min_precision", 0.0), user_name(),
                                         preview=bool(b.get("preview"))))


@bp.route("/drafts/<name>/sparql", methods=["GET", "POST"])
@require("read")
def draft_sparql(name):
    """Read-only SPARQL over a draft's graphs (public data only: drafts copy no private graph):
    ``?query=`` (GET) or a form field ``query`` (POST); results by ``Accept`` or ``format``."""
    from flask import Response, current_app

    from ontology.errors import QueryError
    params = request.values
    if "update" in params or request.mimetype == "application/sparql-update":
        raise QueryError("SPARQL Update is not allowed: a draft changes only through its edits")
    query = params.get("query")
    if not query or not query.strip():
        raise QueryError("missing the 'query' parameter", parameter="query")
    eng = drafts().get(name).sparql(current_app.config.get("SPARQL_TIMEOUT", 10.0))
    from service.negotiation import sparql_formats_for
    res = eng.run(query, formats=sparql_formats_for(request.headers.get("Accept"), params.get("format")))
    resp = Response(res.body, mimetype=res.media_type)
    resp.headers["Cache-Control"] = "no-store"
    return resp


# --- versions (a curriculum year kept when rolling over) ---------------------------------------------
@bp.get("/programs/<program>/versions")
@require("read")
def version_list(program):
    """Saved curriculum versions (years rolled over)."""
    gapmap().program_framework(program)
    return jsonify({"program": program, "versions": drafts().list(program, frozen=True)})


@bp.post("/programs/<program>/versions")
@require("plan")
def version_create(program):
    """Roll over: keep the curriculum as it stands now as a named version (``{"name": "2025-26"}``); the live
    curriculum continues as next year's, with every alignment and review decision kept."""
    ws = gapmap()
    d = drafts().create(ws.store, ws.ids, body().get("name"), program, user_name(), frozen=True)
    return jsonify(d.meta()), 201


@bp.get("/versions/<name>/compare")
@require("read")
def version_compare(name):
    """The saved version (as ``draft``) next to today's curriculum (as ``today``)."""
    from ontology.drafts import compare
    ws = gapmap()
    d = drafts().get(name)
    if not d.frozen:
        from ontology.errors import NotFound
        raise NotFound(f"no saved version {name!r}", field="version")
    return jsonify(compare(ws.store, d, ws.ids, **_draft_args()))


# --- small live edits: course title / year, objective level ---------------------------------------
@bp.patch("/programs/<program>/courses/<code>")
@declares("upload")  # checked inside, for the course (educators: their own courses)
def course_edit(program, code):
    """``{"title": "...", "year": 2}`` (educators for their own courses, committee, admin)."""
    from service.auth import check

    check("upload", course=code)
    b = body()
    return jsonify(gapmap().edit_course(program, code, user_name(), title=b.get("title"), year=b.get("year")))


@bp.patch("/objectives/<oid>")
@declares("upload")  # checked inside, for the objective's course
def objective_edit(oid):
    """``{"level": 3}``: an objective's target level."""
    from service.auth import check

    from ontology.read import catalog
    ws = gapmap()
    check("upload", course=catalog.objective_course(ws.store, ws.ids.objective(oid)))  # unknown: no one's course
    return jsonify(ws.edit_objective_level(oid, body().get("level"), user_name()))
