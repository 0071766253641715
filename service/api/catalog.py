"""Read endpoints: frameworks, competencies, programs, courses, roles, alignments of an objective."""
from __future__ import annotations

from flask import jsonify, request

from ontology.errors import NotFound
from ontology.read import catalog
from ontology.read import review as review_read

from ..extensions import gapmap
from .blueprint import bp
from .params import BadParameter


@bp.get("/health")
def health():
    """Store status: triples and named graphs."""
    s = gapmap().store
    return jsonify({"status": "ok", "triples": len(s), "graphs": len(s.graph_names())})


@bp.get("/frameworks")
def frameworks():
    """Loaded competency frameworks."""
    return jsonify({"frameworks": [f.to_dict() for f in catalog.frameworks(gapmap().store)]})


@bp.get("/frameworks/<fw>/competencies")
def framework_competencies(fw):
    """Competencies of a framework."""
    rows = catalog.framework_competencies(gapmap().store, fw)
    if not rows:
        raise NotFound(f"framework {fw!r} is not loaded", field="framework")
    q = (request.args.get("q") or "").lower()
    out = [c.to_dict() for c in rows if not q or c.matches(q)]
    return jsonify({"framework": fw, "count": len(out), "competencies": out})


@bp.get("/competencies")
def search_competencies():
    """Search competencies in every framework (text in notation, label or definition)."""
    q = (request.args.get("q") or "").strip()
    if not q:
        raise BadParameter("give a search text in q", field="q")
    rows = catalog.search_competencies(gapmap().store, q, request.args.get("framework"))
    return jsonify({"q": q, "count": len(rows), "competencies": [r.to_dict() for r in rows]})


@bp.get("/programs")
def programs():
    """Loaded programs."""
    return jsonify({"programs": [p.to_dict() for p in catalog.programs(gapmap().store)]})


@bp.get("/programs/<program>/courses")
def program_courses(program):
    """Courses of a program."""
    rows = catalog.program_courses(gapmap().store, program)
    if not rows:
        raise NotFound(f"program {program!r} is not loaded", field="program")
    return jsonify({"program": program, "courses": [c.to_dict() for c in rows]})


@bp.get("/programs/<program>/assessments")
def program_assessments(program):
    """Assessments of a program."""
    ws = gapmap()
    rows = catalog.program_assessments(ws.store, ws.ids.program(program))
    return jsonify({"program": program, "assessments": [a.to_dict() for a in rows]})


@bp.get("/roles")
def roles():
    """Job roles and career pathway steps."""
    return jsonify({"roles": [r.to_dict() for r in catalog.roles(gapmap().store)]})


@bp.get("/roles/<role>")
def role(role):
    """Requirements of a role: competencies and required levels."""
    rows = catalog.role_requirements(gapmap().store, role)
    if not rows:
        raise NotFound(f"role {role!r} is not loaded", field="role")
    return jsonify({"role": role, "title": rows[0].title, "requirements": [r.to_dict() for r in rows]})


@bp.get("/objectives/<oid>/alignments")
def objective_alignments(oid):
    """Alignments of one objective, best first, each with its ETag."""
    ws = gapmap()
    rows = review_read.objective_alignments(ws.store, ws.ids.objective(oid))
    return jsonify({"objective": oid, "alignments": [r.to_dict() for r in rows]})
