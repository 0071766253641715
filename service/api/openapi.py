"""The OpenAPI 3.1 document of the API, generated from the app and served at /api/openapi.json.

Nothing here lists routes by hand.  For every rule of the Flask ``url_map`` under /api (and /sparql):
- the path, its methods and its typed path parameters come from the rule (``<int:n>`` is an integer);
- the summary (first paragraph) and description come from the view's docstring;
- the permission comes from ``@require`` / ``@declares`` (``view.gapmap_permission``), the roles holding it
  from the matrix in service/auth.py, public endpoints from ``PUBLIC_ENDPOINTS``;
- query parameters, the request body and the success answer come from ``OPERATIONS`` below, keyed by
  endpoint, whose types are the Python shapes of service/api/schemas.py (JSON Schema by pydantic).
apispec assembles the document (components, references).  A route without a docstring or without an entry
in ``OPERATIONS`` is listed in ``undocumented(app)``, which the tests require to be empty.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from flask import current_app, jsonify

from .blueprint import bp
from . import bodies as B
from . import schemas as S

VERSION = "0.1.0"
#: rules outside /api that belong to the API
EXTRA_RULES = ("/sparql",)
#: error answers every operation may give: 400 bad parameter, 401 not signed in, 403 not allowed,
#: 404 unknown id, 406 format not available, 429 rate limited, 503 store busy / query timed out
READ_ERRORS = (400, 401, 403, 404, 406, 429, 503)
#: … and writes: 409 changed meanwhile, 413 too large, 415 wrong media type, 422 invalid input
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422, 429, 503)


# ----------------------------------------------------------------------------------------- parameters
def q(name: str, schema: dict | None = None, desc: str = "", required: bool = False) -> dict:
    """A query parameter."""
    p = {"name": name, "in": "query", "required": required, "schema": schema or {"type": "string"}}
    return {**p, "description": desc} if desc else p


def enum(*values) -> dict:
    return {"type": "string", "enum": list(values)}


def num(lo: float = 0, hi: float = 1) -> dict:
    return {"type": "number", "minimum": lo, "maximum": hi}


def integer(lo: int | None = None, hi: int | None = None) -> dict:
    s: dict = {"type": "integer"}
    s.update({k: v for k, v in (("minimum", lo), ("maximum", hi)) if v is not None})
    return s


BOOL = {"type": "boolean"}
FW = q("framework", desc="framework id (default: the program's framework)")
YEAR = q("year", integer(1, 8), "only courses of this year of study")
COURSE = q("course", desc="only this course (code)")
ROLE = q("role", desc="compare against this role's required levels")
INCL = q("include_suggestions", num(), "also count unreviewed suggestions with at least this expected precision")
STAGE = q("stage", desc="graduation (default), end_of_residency, post_training or all (the role's full level)")
VIA = q("via", desc="framework the program is aligned to: report through the accepted crosswalk via → framework")
LD_FORMAT = q("format", enum("jsonld", "json", "ttl", "nt"), "or by Accept")
LD_CONTEXT = q("context", enum("inline", "url"), "'url': refer to /ns/context.jsonld instead of embedding it")
ASYNC = q("async", BOOL, "answer 202 with a job to poll (also: Prefer: respond-async)")
CV_STATUS = enum("suggested", "accepted", "rejected")
MATCH = (q("mode", enum("best", "full")), q("role"), q("mentees", desc="comma-separated person ids"),
         q("coverage_weight", num(0, 10)), q("track_weight", num(0, 10)), q("department", enum("same", "different")),
         q("conflicts", desc="PERSON:PERSON pairs never matched, comma-separated"), q("require_track", BOOL))

RDF = ("application/ld+json", "text/turtle", "application/n-triples")
COMMITTEE = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "pdf": "application/pdf", "html": "text/html"}


@dataclass(frozen=True)
class Op:
    """What the url_map cannot tell about an operation."""
    #: the success answer's JSON shape (a type of service/api/schemas.py or a dataclass); None: a JSON object
    ok: Any = None
    status: int = 200
    #: query (and header) parameters
    query: tuple[dict, ...] = ()
    #: the JSON body's shape (also accepted as form fields)
    body: Any = None
    #: a multipart/form-data body's shape (uploads)
    form: Any = None
    #: media types the success answer may have besides (or, with ``json=False``, instead of) JSON
    media: tuple[str, ...] = ()
    json: bool = True
    #: schemas of path parameters the rule leaves as plain strings
    path: dict[str, dict] = field(default_factory=dict)
    #: the answer with ?async=1: 202 and a job
    can_defer: bool = False
    headers: dict[str, dict] = field(default_factory=dict)


IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "the ETag of the alignment as last read (409 if it changed meanwhile)"}
ETAG = {"ETag": {"description": "the alignment's review state; send it back as If-Match",
                 "schema": {"type": "string"}}}
#: by endpoint (without the blueprint's "api." prefix)
OPERATIONS: dict[str, Op] = {
    # the API itself
    "openapi": Op(),
    "docs": Op(media=("text/html",), json=False),
    "docs_asset": Op(media=("text/javascript", "text/css", "image/png"), json=False),
    "health": Op(S.Health),
    # catalog
    "frameworks": Op(S.Frameworks),
    "framework_competencies": Op(S.FrameworkCompetencies, query=(
        q("q", desc="filter: text in notation, label, alt label or definition"),)),
    "search_competencies": Op(S.CompetencySearch, query=(q("q", required=True), q("framework"))),
    "programs": Op(S.Programs),
    "program_courses": Op(S.ProgramCourses),
    "program_assessments": Op(S.ProgramAssessments),
    "roles": Op(S.Roles),
    "role": Op(S.RoleRequirements),
    "objective_alignments": Op(S.ObjectiveAlignments),
    # linked data
    "competency_resource": Op(media=RDF, query=(LD_FORMAT, LD_CONTEXT)),
    "course_resource": Op(media=RDF, query=(LD_FORMAT, LD_CONTEXT)),
    "objective_resource": Op(media=RDF, query=(LD_FORMAT, LD_CONTEXT)),
    # reports
    "gaps": Op(S.GapReport, query=(FW, YEAR, COURSE, ROLE, INCL, STAGE, VIA,
                                   q("format", enum("json", "csv", "ttl", "jsonld"), "or by Accept"),
                                   q("context", enum("inline", "url"), "JSON-LD: 'url' refers to the published "
                                                                       "context")),
               media=("text/csv", "text/turtle", "application/ld+json")),
    "readiness": Op(S.RoleReadiness, query=(FW, INCL, STAGE)),
    "achievement": Op(S.Achievement, query=(FW, q("cohort"))),
    "program_changes": Op(query=(q("since", desc="a saved report (default: the latest)"),
                                 q("until", desc="a later saved report: compare two saved reports"),
                                 q("list", desc="any value: list the saved reports instead"))),
    "program_progression": Op(S.ProgressionReport, query=(ROLE, STAGE, q("mastery_level", integer()), FW, INCL)),
    "program_health": Op(S.HealthReport, query=(
        q("checks", desc="comma-separated: unmapped_objectives, empty_sessions, unassessed_courses, "
                         "suggestion_only, broken_chains, near_duplicates"), q("threshold", {"type": "number"}), FW)),
    "align": Op(S.AlignRun, body=B.AlignBody, query=(ASYNC,), can_defer=True),
    "job": Op(S.Job),
    # review
    "queue": Op(S.ReviewQueue, query=(
        q("status", enum("pending", "suggested", "accepted", "rejected", "unmapped", "all")), COURSE, YEAR,
        q("min_precision", num(), "suggestions at or above this expected precision"),
        q("limit", integer(1, 5000), "at most this many objectives (default 200)"))),
    "alignment": Op(S.AlignmentState, query=(q("format", enum("json", "jsonld", "ttl", "nt"), "or by Accept"),),
                    media=RDF, headers=ETAG),
    "decide": Op(S.Decision, body=B.DecisionBody, query=(IF_MATCH,), headers=ETAG),
    "history": Op(S.AlignmentHistory),
    "add_alignment": Op(S.Decision, 201, body=B.ManualAlignmentBody),
    "assessed_by": Op(S.Decision, 201, body=B.AssessedByBody),
    "bulk_accept": Op(S.BulkAccepted, body=B.BulkAcceptBody),
    "bulk_accept_shown": Op(body=B.BulkAcceptShownBody),
    "upload_syllabus": Op(S.SyllabusUploaded, 201, form=B.SyllabusUpload, query=(ASYNC,), can_defer=True),
    "syllabus_versions": Op(S.SyllabusVersions),
    # loading
    "loaders": Op(S.Loaders),
    "load": Op(S.Loaded, 201, form=B.FileUpload, query=(ASYNC,), can_defer=True),
    "load_detected": Op(S.Loaded, 201, form=B.FileUpload, query=(ASYNC,), can_defer=True),
    # accounts
    "me": Op(S.Me),
    "list_users": Op(S.UserList),
    "create_user": Op(S.CreatedUser, 201, body=B.NewUserBody),
    "delete_user": Op(status=204, json=False),
    "audit": Op(S.AuditPage, query=(q("page", integer(1)), q("per_page", integer(1, 500)))),
    # exports
    "framework_case": Op(),
    "program_curriculum_inventory": Op(media=("application/xml",), json=False),
    "program_committee": Op(media=tuple(COMMITTEE.values()), json=False, path={"fmt": enum(*COMMITTEE)},
                            query=(FW, YEAR, COURSE, ROLE, INCL, q("cohort"))),
    "learner_ob3": Op(media=("application/ld+json",), json=False),
    # careers
    "people_list": Op(S.People, query=(q("q", desc="filter: id, name, department, role"),)),
    "person_profile": Op(S.Profile),
    "person_gap": Op(S.RoleGap, query=(q("role", desc="target role (default: the person's first goal)"),)),
    "person_plan": Op(S.Plan, query=(q("role", desc="target role (default: the person's first goal)"),
                                     q("objective", enum("hours", "cost")), q("include_optional", BOOL))),
    "save_plan": Op(S.Plan, 201, body=B.PlanBody),
    "person_mentor": Op(query=(q("mode", enum("best", "full")), q("role"))),
    "upload_cv": Op(status=201, form=B.CvUpload, query=(q("framework"),)),
    "cv_suggestions": Op(query=(q("status", CV_STATUS),)),
    "cv_decision": Op(body=B.CvDecisionBody),
    "mentoring_match": Op(query=(*MATCH, q("method", enum("lsa", "greedy")))),
    "mentoring_match_save": Op(status=201, body=B.MatchBody),
    "pipeline": Op(query=(q("demand", desc="a demand scenario"), q("year", integer(1900, 2200)))),
    "catalogue_list": Op(S.Catalogue, query=(q("kind"), q("competency", desc="notation of a competency developed"),
                                q("suggest", BOOL, "also the competencies the descriptions suggest"))),
    # workbench
    "crosswalk_list": Op(),
    "crosswalk_run": Op(status=201, body=B.CrosswalkBody),
    "crosswalk_get": Op(query=(q("status", CV_STATUS),)),
    "crosswalk_decision": Op(body=B.MappingDecisionBody),
    "draft_list": Op(S.Drafts),
    "draft_create": Op(S.Draft, 201, body=B.NameBody),
    "draft_get": Op(S.Draft),
    "draft_discard": Op(status=204, json=False),
    "draft_edit": Op(body=B.DraftEditBody),
    "draft_compare": Op(query=(ROLE, STAGE, YEAR, COURSE)),
    "draft_gaps": Op(S.GapReport, query=(ROLE, STAGE, YEAR, COURSE, INCL)),
    "draft_apply": Op(),
    "draft_sparql": Op(form=B.SparqlForm, query=(q("query", desc="a SPARQL SELECT/ASK/CONSTRUCT/DESCRIBE query "
                                                                 "(GET)"), q("format")),
                       media=("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                              "text/turtle", "application/n-triples", "application/ld+json"), json=False),
    "version_list": Op(S.Versions),
    "version_create": Op(S.Draft, 201, body=B.NameBody),
    "version_compare": Op(query=(ROLE, STAGE, YEAR, COURSE)),
    "course_edit": Op(body=B.CourseEditBody),
    "objective_edit": Op(body=B.ObjectiveEditBody),
    # SPARQL (outside /api)
    "sparql.sparql": Op(form=B.SparqlForm, query=(q("query", desc="a SPARQL query (GET)"), q("format")),
                        media=("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                               "text/tab-separated-values", "text/turtle", "application/n-triples",
                               "application/ld+json"), json=False),
}


# ----------------------------------------------------------------------------------------- generation
def api_rules(app):
    """The rules the document describes: /api/… and /sparql (static files are not operations)."""
    return [r for r in app.url_map.iter_rules()
            if (r.rule.startswith("/api/") or r.rule in EXTRA_RULES) and not r.endpoint.endswith(".static")]


def methods(rule) -> list[str]:
    return sorted(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})


def openapi_path(rule) -> str:
    """``/api/programs/<program>/x/<int:n>`` → ``/api/programs/{program}/x/{n}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def _key(endpoint: str) -> str:
    return endpoint.removeprefix("api.")


def _docstring(view) -> tuple[str, str]:
    """(summary, description) of a view: its docstring's first paragraph, and the rest."""
    doc = inspect.getdoc(view) or ""
    first, _, rest = doc.replace("``", "`").partition("\n\n")
    first = " ".join(first.split())
    if len(first) > 120 and (m := re.search(r"[.;:] ", first)):  # a long first paragraph: its first sentence
        return first[:m.start()], f"{first}\n\n{rest}".strip()
    return first, rest.strip()


_CONVERTERS = {"IntegerConverter": {"type": "integer"}, "FloatConverter": {"type": "number"},
               "UUIDConverter": {"type": "string", "format": "uuid"}}


def _path_params(rule, op: Op) -> list[dict]:
    out = []
    for name, conv in rule._converters.items():
        schema = op.path.get(name) or _CONVERTERS.get(type(conv).__name__, {"type": "string"})
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    return out


def _permission(endpoint: str, view) -> tuple[str | None, list[str]]:
    """(permission, roles holding it); (None, []) for public endpoints."""
    from service.auth import PERMISSIONS, PUBLIC_ENDPOINTS, ROLES
    if endpoint in PUBLIC_ENDPOINTS:
        return None, []
    perm = getattr(view, "gapmap_permission", None) or "read"
    return perm, [r for r in ROLES if r in PERMISSIONS[perm]]


def _content(schema, op: Op) -> dict:
    c = {"application/json": {"schema": schema if schema is not None else {"type": "object"}}} if op.json else {}
    return {**c, **{mt: {} for mt in op.media}}


def _operation(rule, method: str, view, op: Op) -> dict:
    from service.auth import COURSE_SCOPED
    summary, description = _docstring(view)
    perm, roles = _permission(rule.endpoint, view)
    if perm:
        holders = ", ".join(roles) + ("; anonymous too when GAPMAP_PUBLIC_READ=1" if perm == "read" else "")
        note = f"Requires the `{perm}` permission ({holders})."
        if perm in COURSE_SCOPED:
            note += " Educators: for their own courses only."
        description = f"{description}\n\n{note}".strip()
    ok = _ref(op.ok)
    responses: dict = {str(op.status): {"description": _STATUS_TEXT.get(op.status, "OK"), **(
        {"content": _content(ok, op)} if op.status != 204 else {}), **({"headers": op.headers} if op.headers else {})}}
    if op.can_defer:
        responses["202"] = {"description": "accepted as a job (with ?async=1); Location: /api/jobs/{id}",
                            "content": {"application/json": {"schema": "Job"}}}
    codes = set(WRITE_ERRORS if method != "get" else READ_ERRORS)
    if op.media or any(p["name"] == "format" for p in op.query):
        codes.add(406)  # an answer in several media types: none of them acceptable
    for code in sorted(codes):
        if perm is None and code in (401, 403):
            continue  # public: never asks for a sign-in
        responses[str(code)] = "Problem"
    out: dict = {"operationId": _key(rule.endpoint).replace(".", "_") + ("" if len(methods(rule)) == 1
                                                                           else "_" + method),
                 "summary": summary, "tags": [_tag(rule)],
                 "parameters": _path_params(rule, op) + (list(op.query) if method == "get" or not (
                     op.body or op.form) else [p for p in op.query if p["name"] != "query"]),
                 "responses": responses}
    if description:
        out["description"] = description
    if perm is None:
        out["security"] = []
    else:
        out["x-permission"], out["x-roles"] = perm, roles
    if method != "get" and (op.body or op.form):
        if op.body:
            body = {"application/json": {"schema": _ref(op.body)}}
        else:
            body = {"multipart/form-data": {"schema": _ref(op.form)}}
            if op.form is B.SparqlForm:
                body = {"application/x-www-form-urlencoded": {"schema": _ref(op.form)},
                        "application/sparql-query": {"schema": {"type": "string"}}}
        out["requestBody"] = {"required": bool(op.form), "content": body}
    return out


_STATUS_TEXT = {200: "OK", 201: "Created", 204: "No content"}


def _tag(rule) -> str:
    parts = rule.rule.split("/")
    return parts[2] if rule.rule.startswith("/api/") else parts[1]


def _ref(t) -> str | None:
    """The name of a shape's schema in components/schemas (apispec turns it into a $ref), or None."""
    return None if t is None else t.__name__


def _components(spec: APISpec) -> None:
    """Every shape OPERATIONS names, with the schemas they refer to, under components/schemas."""
    seen: dict[str, dict] = {}
    types = {t for op in OPERATIONS.values() for t in (op.ok, op.body, op.form) if t is not None} | {S.Problem, S.Job}
    for t in sorted(types, key=lambda t: t.__name__):
        schema, defs = S.json_schema(t)
        for name, d in {**defs, t.__name__: schema}.items():
            if name in seen and seen[name] != d:
                raise ValueError(f"two API schemas are named {name}")
            seen[name] = d
    for name, d in sorted(seen.items()):
        spec.components.schema(name, d)


def build(app) -> dict:
    """The OpenAPI document of ``app``."""
    spec = APISpec(title="Gapmap API", version=VERSION, openapi_version="3.1.0", info={
        "description": "Competency mapping and curriculum gap analysis. Generated from the code "
                       "(service/api/openapi.py); browse it at /api/docs. Errors are application/problem+json. "
                       "API clients send `Authorization: Bearer TOKEN` (`gapmap user add NAME --role ROLE` or "
                       "POST /api/users prints one); the web sign-in's cookie works too (writes then also need "
                       "the X-CSRF-Token header). Each operation names the permission it needs and the roles "
                       "(viewer < educator < committee < admin) holding it."})
    _components(spec)
    spec.components.security_scheme("bearer", {
        "type": "http", "scheme": "bearer",
        "description": "an API token from `gapmap user add` / `gapmap user token` or POST /api/users"})
    spec.components.security_scheme("session", {
        "type": "apiKey", "in": "cookie", "name": "gapmap_session",
        "description": "the web sign-in; writes also need the X-CSRF-Token header"})
    spec.components.response("Problem", {"description": "Problem (RFC 9457)", "content": {
        "application/problem+json": {"schema": "Problem"}}})
    spec.options["security"] = [{"bearer": []}, {"session": []}]
    paths: dict[str, dict] = {}
    for rule in sorted(api_rules(app), key=lambda r: r.rule):
        op = OPERATIONS.get(_key(rule.endpoint))
        if op is None:
            continue  # reported by undocumented()
        view = app.view_functions[rule.endpoint]
        for m in methods(rule):
            paths.setdefault(openapi_path(rule), {})[m] = _operation(rule, m, view, op)
    for path, ops in paths.items():
        spec.path(path=path, operations=ops)
    for t in sorted({_tag(r) for r in api_rules(app)}):
        spec.tag({"name": t})
    return spec.to_dict()


def undocumented(app) -> list[str]:
    """Endpoints the document cannot describe fully: no entry in OPERATIONS, or a view without a docstring;
    and OPERATIONS entries that name no endpoint."""
    out, keys = [], set()
    for rule in api_rules(app):
        keys.add(_key(rule.endpoint))
        if _key(rule.endpoint) not in OPERATIONS:
            out.append(f"{rule.endpoint} ({rule.rule}): not in OPERATIONS")
        if not _docstring(app.view_functions[rule.endpoint])[0]:
            out.append(f"{rule.endpoint} ({rule.rule}): the view has no docstring")
    out += [f"{k}: in OPERATIONS but no such endpoint" for k in sorted(set(OPERATIONS) - keys)]
    return sorted(set(out))


def document(app=None) -> dict:
    """The app's document, built once (the routes are fixed when the app is created)."""
    app = app or current_app._get_current_object()
    doc = app.extensions.get("gapmap_openapi")
    if doc is None:
        doc = app.extensions["gapmap_openapi"] = build(app)
    return doc


@bp.get("/openapi.json")
def openapi():
    """This document (OpenAPI 3.1, generated from the code)."""
    return jsonify(document())
