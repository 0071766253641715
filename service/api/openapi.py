"""The OpenAPI 3.1 description of the API, served at /api/openapi.json."""
from __future__ import annotations

from flask import jsonify

from . import bp


def _p(name, where="query", desc="", schema=None, required=False):
    return {"name": name, "in": where, "required": required or where == "path", "description": desc,
            "schema": schema or {"type": "string"}}


_JSON = {"application/json": {"schema": {"type": "object"}}}
_PROBLEM = {"description": "Problem (RFC 9457)", "content": {"application/problem+json": {"schema": {"type": "object"}}}}


def _get(summary, params=(), extra_content=None):
    content = dict(_JSON, **(extra_content or {}))
    return {"get": {"summary": summary, "parameters": list(params),
                    "responses": {"200": {"description": "OK", "content": content}, "400": _PROBLEM,
                                  "404": _PROBLEM}}}


def _post(summary, props, params=()):
    return {"post": {"summary": summary, "parameters": list(params),
                     "requestBody": {"content": {"application/json": {"schema": {"type": "object",
                                                                                 "properties": props}}}},
                     "responses": {"200": {"description": "OK", "content": _JSON}, "400": _PROBLEM,
                                   "404": _PROBLEM}}}


SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "Gapmap API", "version": "0.1.0",
             "description": "Competency mapping and curriculum gap analysis. Errors are application/problem+json."},
    "paths": {
        "/api/openapi.json": _get("This document"),
        "/api/health": _get("Store status"),
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
                          "400": _PROBLEM, "404": _PROBLEM}}},
        "/api/jobs/{job_id}": _get("A job (long work started with ?async=1): status, progress, result or error",
                                   [_p("job_id", "path")]),
        "/api/programs/{program}/review": _get("Review queue: objectives with their suggestions", [
            _p("program", "path"), _p("status", schema={"enum": ["pending", "suggested", "accepted", "rejected", "unmapped", "all"]}),
            _p("course"), _p("year", schema={"type": "integer"}), _p("min_precision", schema={"type": "number"}),
            _p("limit", schema={"type": "integer"})]),
        "/api/alignments/{key}/decision": _post(
            "Accept, reject, reset or replace a suggestion (reviewer in X-Gapmap-User)",
            {"decision": {"enum": ["accept", "reject", "reset", "replace"]}, "competency": {"type": "string"},
             "framework": {"type": "string"}, "competency_iri": {"type": "string"}, "note": {"type": "string"}},
            [_p("key", "path")]),
        "/api/alignments/{key}/history": _get("Every decision on an alignment, with who and when", [_p("key", "path")]),
        "/api/objectives/{oid}/alignments": {**_get("Alignments of one objective, best first", [_p("oid", "path")]),
                                             **_post("Add a manual alignment", {
                                                 "competency": {"type": "string"}, "framework": {"type": "string"},
                                                 "competency_iri": {"type": "string"}}, [_p("oid", "path")])},
        "/api/objectives/{oid}/assessed-by": _post("Mark an objective as assessed by an assessment",
                                                   {"assessment": {"type": "string"}}, [_p("oid", "path")]),
        "/api/programs/{program}/review/bulk-accept": _post(
            "Accept every suggestion at or above a calibrated precision", {"min_precision": {"type": "number"}},
            [_p("program", "path")]),
        "/api/programs/{program}/courses/{code}/syllabus": {
            **_get("Syllabus versions of a course", [_p("program", "path"), _p("code", "path")]),
            "post": {"summary": "Upload a syllabus (PDF, DOCX, HTML, Markdown, text): objectives are extracted, "
                                "stored as a new version and aligned",
                     "parameters": [_p("program", "path"), _p("code", "path")],
                     "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
                         "file": {"type": "string", "format": "binary"}, "user": {"type": "string"},
                         "year": {"type": "integer", "description": "required when the course is new"},
                         "title": {"type": "string"}, "align": {"type": "boolean"}}}}}},
                     "responses": {"201": {"description": "extracted and stored", "content": _JSON},
                                   "400": _PROBLEM, "413": _PROBLEM, "415": _PROBLEM, "422": _PROBLEM}}},
        "/api/loaders": _get("Available loaders and their options"),
        "/api/load/{loader}": {"post": {
            "summary": "Load a file (multipart field 'file'; loader options as form fields)",
            "parameters": [_p("loader", "path")],
            "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"}, "options": {"type": "string"}}}}}},
            "responses": {"201": {"description": "loaded", "content": _JSON}, "413": _PROBLEM, "415": _PROBLEM,
                          "422": _PROBLEM}}},
        "/sparql": {"get": {"summary": "SPARQL 1.1 query (read-only)", "parameters": [_p("query", required=True)],
                            "responses": {"200": {"description": "results"}, "400": _PROBLEM, "503": _PROBLEM}},
                    "post": {"summary": "SPARQL 1.1 query by POST (form or application/sparql-query)",
                             "responses": {"200": {"description": "results"}, "400": _PROBLEM, "503": _PROBLEM}}},
    },
}


@bp.get("/openapi.json")
def openapi():
    return jsonify(SPEC)
