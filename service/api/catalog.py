"""Read endpoints: frameworks, competencies, programs, courses, roles, alignments of an objective."""
from __future__ import annotations

from flask import jsonify, request
from rdflib import Literal, URIRef

from ontology.errors import NotFound

from ..extensions import gapmap
from . import bp
from .params import BadParameter


def _short(iri):
    return str(iri).rsplit("#", 1)[-1] if iri else None


@bp.get("/health")
def health():
    """Store status: triples and named graphs."""
    s = gapmap().store
    return jsonify({"status": "ok", "triples": len(s), "graphs": len(s.graph_names())})


@bp.get("/frameworks")
def frameworks():
    """Loaded competency frameworks."""
    return jsonify({"frameworks": gapmap().store.select("frameworks")})


@bp.get("/frameworks/<fw>/competencies")
def framework_competencies(fw):
    """Competencies of a framework."""
    rows = gapmap().store.select("framework_competencies", fw=Literal(fw))
    if not rows:
        raise NotFound(f"framework {fw!r} is not loaded", field="framework")
    q = (request.args.get("q") or "").lower()
    out = [{"iri": r["comp"], "notation": r["notation"], "label": r["label"], "definition": r["definition"],
            "alt_labels": [a for a in (r["altLabels"] or "").split(" | ") if a], "parent": r["parent"],
            "domain": r["domainNotation"], "domain_label": r["domainLabel"]} for r in rows]
    if q:
        out = [c for c in out if q in " ".join([c["notation"], c["label"], c["definition"] or "",
                                                 *c["alt_labels"]]).lower()]
    return jsonify({"framework": fw, "count": len(out), "competencies": out})


@bp.get("/competencies")
def search_competencies():
    """Search competencies in every framework (text in notation, label or definition)."""
    q = (request.args.get("q") or "").strip()
    if not q:
        raise BadParameter("give a search text in q", field="q")
    rows = gapmap().store.select("search_competencies", q=Literal(q))
    fw = request.args.get("framework")
    rows = [r for r in rows if not fw or r["fw"] == fw]
    return jsonify({"q": q, "count": len(rows), "competencies": [
        {"iri": r["comp"], "framework": r["fw"], "notation": r["notation"], "label": r["label"],
         "definition": r["definition"]} for r in rows]})


@bp.get("/programs")
def programs():
    """Loaded programs."""
    return jsonify({"programs": gapmap().store.select("programs")})


@bp.get("/programs/<program>/courses")
def program_courses(program):
    """Courses of a program."""
    rows = gapmap().store.select("program_courses", pid=Literal(program))
    if not rows:
        raise NotFound(f"program {program!r} is not loaded", field="program")
    return jsonify({"program": program, "courses": [
        {"iri": r["course"], "code": r["code"], "title": r["title"], "year": r["year"]} for r in rows]})


@bp.get("/programs/<program>/assessments")
def program_assessments(program):
    """Assessments of a program."""
    ws = gapmap()
    rows = ws.store.select("program_assessments", program=ws.ids.program(program))
    return jsonify({"program": program, "assessments": [
        {"iri": r["assessment"], "id": r["aid"], "title": r["title"], "kind": _short(r["kind"]),
         "course": r["code"], "level": r["level"]} for r in rows]})


@bp.get("/roles")
def roles():
    """Job roles and career pathway steps."""
    return jsonify({"roles": [
        {**r, "track": _short(r["track"]), "next": [n for n in (r["next"] or "").split(";") if n]}
        for r in gapmap().store.select("roles")]})


@bp.get("/roles/<role>")
def role(role):
    """Requirements of a role: competencies and required levels."""
    rows = gapmap().store.select("role_requirements", rid=Literal(role))
    if not rows:
        raise NotFound(f"role {role!r} is not loaded", field="role")
    return jsonify({"role": role, "title": rows[0]["title"], "requirements": [
        {"competency": r["comp"], "framework": r["fw"], "notation": r["notation"], "label": r["label"],
         "required_level": r["level"], "relation": _short(r["relation"]).lower(),
         "importance": r["importance"]} for r in rows]})


def _etag(store, alignment: str) -> str | None:
    """The alignment's ETag (for If-Match on a decision), None when it is not reviewable."""
    from ontology.review import alignment_state
    try:
        return alignment_state(store, URIRef(alignment))["etag"]
    except NotFound:
        return None


@bp.get("/objectives/<oid>/alignments")
def objective_alignments(oid):
    """Alignments of one objective, best first, each with its ETag."""
    ws = gapmap()
    rows = ws.store.select("objective_alignments", objective=ws.ids.objective(oid))
    etags = {a: _etag(ws.store, a) for a in {r["alignment"] for r in rows}}
    return jsonify({"objective": oid, "alignments": [
        {"iri": r["alignment"], "id": r["alignment"].rsplit("/", 1)[-1], "etag": etags[r["alignment"]], "competency": r["comp"], "notation": r["notation"], "label": r["label"],
         "score": r["score"], "precision": r["precision"], "status": _short(r["status"]).lower(),
         "method": _short(r["method"]), "model": r["model"], "evidence": r["evidence"], "rank": r["rank"],
         "generated_at": str(r["generatedAt"]) if r["generatedAt"] else None} for r in rows]})
