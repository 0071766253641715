"""The committee's workbench: progression, health checks, framework crosswalks and what-if drafts."""
from __future__ import annotations

from flask import jsonify, request

from service.auth import current_user, require

from ..app import gapmap
from . import bp
from .params import BadParameter, arg_float, arg_int


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


def body() -> dict:
    b = request.get_json(silent=True)
    if b is None:
        b = request.form.to_dict() if request.form else {}
    if not isinstance(b, dict):
        raise BadParameter("the body must be a JSON object", field="body")
    return b


def user_name() -> str:
    u = current_user()
    if u is None:
        raise BadParameter("sign in first", field="user")
    return u.name


@bp.get("/programs/<program>/progression")
@require("read")
def progression(program):
    from ontology.progression import progression as run
    ws = gapmap()
    rep = run(ws.store, ws.ids, program, _framework(program), role=request.args.get("role") or None,
              mastery_level=arg_int("mastery_level", 1, 5) or 3,
              include_suggestions=arg_float("include_suggestions"), stage=arg_stage())
    return jsonify(rep.to_dict())


@bp.get("/programs/<program>/health")
@require("read")
def health(program):
    from ontology.health import CHECKS, health as run
    ws = gapmap()
    fw = _framework(program)
    checks = tuple(c for c in (request.args.get("checks") or ",".join(CHECKS)).split(",") if c)
    threshold = arg_float("threshold", 0.5, 1.0) or 0.9
    encoder = ws.linker(fw).encoder if "near_duplicates" in checks else None
    return jsonify(run(ws.store, ws.ids, program, fw, encoder=encoder, threshold=threshold,
                       checks=checks).to_dict())
