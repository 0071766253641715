"""The OpenAPI 3.1 description of the API, served at /api/openapi.json."""
from __future__ import annotations

from flask import jsonify

from . import bp


def _p(name, where="query", desc="", schema=None, required=False):
    return {"name": name, "in": where, "required": required or where == "path", "description": desc,
            "schema": schema or {"type": "string"}}


_JSON = {"application/json": {"schema": {"type": "object"}}}
_PROBLEM_SCHEMA = {"type": "object", "required": ["title", "status", "detail"], "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"}, "instance": {"type": "string"},
    "field": {"type": "string", "description": "the request field, parameter or header at fault"}}}
_PROBLEM = {"description": "Problem (RFC 9457)",
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _problems(*codes) -> dict:
    """Error responses every operation may give (problem+json), plus ``codes``."""
    # 400 bad parameter, 401 not signed in, 403 not allowed, 404 unknown id, 429 rate limited,
    # 503 store busy / query timed out
    return {str(c): _PROBLEM for c in sorted({400, 401, 403, 404, 429, 503, *codes})}


_WRITE = (409, 413, 415, 422)  # conflict (changed meanwhile), too large, wrong media type, invalid input


def _get(summary, params=(), extra_content=None):
    content = dict(_JSON, **(extra_content or {}))
    return {"get": {"summary": summary, "parameters": list(params),
                    "responses": {"200": {"description": "OK", "content": content}, **_problems(406)}}}


def _post(summary, props, params=(), ok="200", responses=None):
    return {"post": {"summary": summary, "parameters": list(params),
                     "requestBody": {"content": {"application/json": {"schema": {"type": "object",
                                                                                 "properties": props}}}},
                     "responses": {ok: {"description": "OK", "content": _JSON}, **(responses or {}),
                                   **_problems(*_WRITE)}}}


_ETAG = {"ETag": {"description": "the alignment's review state; send it back as If-Match",
                  "schema": {"type": "string"}}}
_DECISION = {"type": "object", "required": ["decision", "alignment", "user", "at", "new"], "properties": {
    "decision": {"type": "string"}, "alignment": {"type": "string"}, "user": {"type": "string"},
    "at": {"type": "string"}, "previous": {"type": ["string", "null"]}, "new": {"type": "string"},
    "replacement": {"type": ["string", "null"]}, "etag": {"type": ["string", "null"]}}}


SPEC = {
    "openapi": "3.1.0",
    # API clients send ``Authorization: Bearer TOKEN`` (``gapmap user add NAME --role ROLE`` prints one).
    "info": {"title": "Gapmap API", "version": "0.1.0",
             "description": "Competency mapping and curriculum gap analysis. Errors are application/problem+json."},
    "components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer",
                   "description": "an API token from `gapmap user add` / `gapmap user token` or POST /api/users"},
        "session": {"type": "apiKey", "in": "cookie", "name": "gapmap_session",
                    "description": "the web sign-in; writes also need the X-CSRF-Token header"}},
        "schemas": {"Problem": _PROBLEM_SCHEMA, "Decision": _DECISION}},
    "security": [{"bearer": []}, {"session": []}],
    "paths": {
        "/api/openapi.json": {"get": {**_get("This document")["get"], "security": []}},
        "/api/health": {"get": {**_get("Store status")["get"], "security": []}},
        "/api/frameworks": _get("Loaded competency frameworks"),
        "/api/frameworks/{fw}/competencies": _get("Competencies of a framework", [
            _p("fw", "path"), _p("q", desc="filter: text in notation, label, alt label or definition")]),
        "/api/competencies": _get("Search competencies in every framework", [
            _p("q", required=True), _p("framework")]),
        "/api/programs": _get("Loaded programs"),
        "/api/programs/{program}/courses": _get("Courses of a program", [_p("program", "path")]),
        "/api/programs/{program}/assessments": _get("Assessments of a program", [_p("program", "path")]),
        "/api/roles": _get("Job roles and career pathway steps"),
        "/api/roles/{role}": _get("Requirements of a role", [_p("role", "path")]),
        "/api/programs/{program}/gaps": _get("Gap report of a program against a framework", [
            _p("program", "path"), _p("framework", desc="default: the program's framework"),
            _p("year", schema={"type": "integer"}), _p("course"), _p("role"),
            _p("include_suggestions", desc="also count unreviewed suggestions with at least this expected precision",
               schema={"type": "number", "minimum": 0, "maximum": 1}),
            _p("format", schema={"enum": ["json", "csv", "ttl", "jsonld"]})],
            {"text/csv": {}, "text/turtle": {}, "application/ld+json": {}}),
        "/api/programs/{program}/changes": _get(
            "What changed in the gap report since the last framework/curriculum reload", [
                _p("program", "path"), _p("since", desc="a saved report (default: the latest)"),
                _p("list", desc="any value: list the saved reports instead")]),
        "/api/programs/{program}/achievement": _get("How each cohort achieves each competency (assessment results)", [
            _p("program", "path"), _p("framework"), _p("cohort")]),
        "/api/programs/{program}/readiness/{role}": _get("Role readiness of a program", [
            _p("program", "path"), _p("role", "path"), _p("framework"),
            _p("include_suggestions", schema={"type": "number"})]),
        "/api/programs/{program}/align": {"post": {
            "summary": "Suggest competencies for every objective of the program (embedding alignment)",
            "parameters": [_p("program", "path"), _p("async", schema={"type": "boolean"})],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                "framework": {"type": "string"}, "top_k": {"type": "integer", "minimum": 1, "maximum": 50},
                "min_precision": {"type": "number", "minimum": 0, "maximum": 1}}}}}},
            "responses": {"200": {"description": "alignment summary", "content": _JSON},
                          "202": {"description": "with ?async=1 or Prefer: respond-async: a job; Location: /api/jobs/{id}",
                                  "content": _JSON},
                          **_problems(*_WRITE)}}},
        "/api/jobs/{job_id}": _get("A job (long work started with ?async=1): status, progress, result or error",
                                   [_p("job_id", "path")]),
        "/api/programs/{program}/review": _get("Review queue: objectives with their suggestions", [
            _p("program", "path"), _p("status", schema={"enum": ["pending", "suggested", "accepted", "rejected", "unmapped", "all"]}),
            _p("course"), _p("year", schema={"type": "integer"}), _p("min_precision", schema={"type": "number"}),
            _p("limit", schema={"type": "integer"})]),
        "/api/alignments/{key}": {"get": {
            "summary": "One alignment's review state, with its ETag; as linked data with an RDF format",
            "parameters": [_p("key", "path"), _p("format", schema={"enum": ["json", "jsonld", "ttl", "nt"]})],
            "responses": {"200": {"description": "OK", "headers": _ETAG, "content": {
                **_JSON, "application/ld+json": {}, "text/turtle": {}, "application/n-triples": {}}},
                **_problems(406)}}},
        "/api/alignments/{key}/decision": {"post": {
            "summary": "Accept, reject, reset or replace a suggestion. Conditional: send the status you saw "
                       "(expected_status) and/or the alignment's ETag (If-Match); 409 if it changed meanwhile",
            "parameters": [_p("key", "path"), _p("If-Match", "header", "the ETag of the alignment as last read")],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                "decision": {"enum": ["accept", "reject", "reset", "replace"]},
                "expected_status": {"enum": ["suggested", "accepted", "rejected"]},
                "competency": {"type": "string"}, "framework": {"type": "string"},
                "competency_iri": {"type": "string"}, "note": {"type": "string"}}}}}},
            "responses": {"200": {"description": "the decision", "headers": _ETAG, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}}},
                **_problems(*_WRITE)}}},
        "/api/alignments/{key}/history": _get("Every decision on an alignment, with who and when", [_p("key", "path")]),
        "/api/objectives/{oid}/alignments": {**_get("Alignments of one objective, best first", [_p("oid", "path")]),
                                             **_post("Add a manual alignment", {
                                                 "competency": {"type": "string"}, "framework": {"type": "string"},
                                                 "competency_iri": {"type": "string"}}, [_p("oid", "path")],
                                                 ok="201")},
        "/api/objectives/{oid}/assessed-by": _post("Mark an objective as assessed by an assessment",
                                                   {"assessment": {"type": "string"}}, [_p("oid", "path")],
                                                   ok="201"),
        "/api/programs/{program}/review/bulk-accept": _post(
            "Accept every suggestion at or above a calibrated precision", {"min_precision": {"type": "number"}},
            [_p("program", "path")]),
        "/api/programs/{program}/courses/{code}/syllabus": {
            **_get("Syllabus versions of a course", [_p("program", "path"), _p("code", "path")]),
            "post": {"summary": "Upload a syllabus (PDF, DOCX, HTML, Markdown, text): objectives are extracted, "
                                "stored as a new version and aligned",
                     "parameters": [_p("program", "path"), _p("code", "path")],
                     "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
                         "file": {"type": "string", "format": "binary"},
                         "year": {"type": "integer", "description": "required when the course is new"},
                         "title": {"type": "string"}, "align": {"type": "boolean"}}}}}},
                     "responses": {"201": {"description": "extracted and stored", "content": _JSON},
                                   **_problems(*_WRITE)}}},
        "/api/loaders": _get("Available loaders and their options"),
        "/api/load": {"post": {
            "summary": "Load a file without naming the loader: chosen by media type, extension and content "
                       "(415 when no loader reads it; 422 when several could and the content does not tell)",
            "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"}, "options": {"type": "string"}}}}}},
            "responses": {"201": {"description": "loaded (the answer names the loader)", "content": _JSON},
                          **_problems(*_WRITE)}}},
        "/api/load/{loader}": {"post": {
            "summary": "Load a file (multipart field 'file'; loader options as form fields)",
            "parameters": [_p("loader", "path")],
            "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"}, "options": {"type": "string"}}}}}},
            "responses": {"201": {"description": "loaded", "content": _JSON}, **_problems(*_WRITE)}}},
        "/api/me": _get("The authenticated user: name, role, institution, courses, permissions"),
        "/api/users": {**_get("Users of the admin's institution (admin)"), "post": {
            "summary": "Create a user of the admin's institution; the answer holds its API token and a one-time "
                       "password (shown once)",
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["name", "role"],
                "properties": {"name": {"type": "string"}, "role": {"enum": ["viewer", "educator", "committee", "admin"]},
                               "courses": {"type": "array", "items": {"type": "string"}},
                               "password": {"type": "string", "minLength": 10}}}}}},
            "responses": {"201": {"description": "created", "content": _JSON}, **_problems(*_WRITE)}}},
        "/api/users/{name}": {"delete": {"summary": "Remove a user of the admin's institution (and its tokens)",
                                         "parameters": [_p("name", "path")],
                                         "responses": {"204": {"description": "removed"}, **_problems()}}},
        "/api/audit": _get("The audit log of the admin's institution, newest first (admin)", [
            _p("page", schema={"type": "integer", "minimum": 1}),
            _p("per_page", schema={"type": "integer", "minimum": 1, "maximum": 500})]),
        "/sparql": {"get": {"summary": "SPARQL 1.1 query (read-only)", "parameters": [_p("query", required=True)],
                            "responses": {"200": {"description": "results"}, **_problems(406)}},
                    "post": {"summary": "SPARQL 1.1 query by POST (form or application/sparql-query)",
                             "responses": {"200": {"description": "results"}, **_problems(406, 413, 415)}}},
    },
}

for _path, _ops in SPEC["paths"].items():
    for _op in _ops.values():
        # public operations (health, this document) never answer 401/403
        if _op.get("security") == []:
            for _code in ("401", "403"):
                _op["responses"].pop(_code, None)


@bp.get("/openapi.json")
def openapi():
    return jsonify(SPEC)
