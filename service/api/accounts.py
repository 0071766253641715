"""Who am I, user management and the audit log (admins manage their own institution only)."""
from __future__ import annotations

from flask import jsonify

from ..auth import check, require, users_db
from .blueprint import bp
from .params import BadParameter, arg_int, check_fields, check_lengths, request_json


@bp.get("/me")
@require("read")
def me():
    """The authenticated user: name, role, institution, courses, permissions."""
    u = check("read")
    return jsonify(u.to_dict() if u else {"name": None, "role": None, "anonymous": True})


@bp.get("/users")
@require("admin")
def list_users():
    """Users of the admin's institution."""
    u = check("admin")
    return jsonify({"institution": u.institution,
                    "users": [a.to_dict() for a in users_db().users(u.institution)]})


@bp.post("/users")
@require("admin")
def create_user():
    """Create a user of the admin's institution; the answer holds its API token (and a one-time
    password unless one is given) — shown only here."""
    u = check("admin")
    body = request_json()
    if not isinstance(body, dict):
        raise BadParameter("send a JSON object: name, role, courses, password", field="body")
    check_lengths(check_fields(body))
    if body.get("institution") not in (None, u.institution):
        raise BadParameter("admins create users of their own institution", field="institution")
    created = users_db().add_user(body.get("name"), body.get("role"), institution=u.institution,
                                  courses=body.get("courses"), password=body.get("password"),
                                  generate_password=body.get("password") is None, token_label="created by " + u.name)
    return jsonify(created.to_dict()), 201


@bp.delete("/users/<name>")
@require("admin")
def delete_user(name):
    """Remove a user of the admin's institution (and its tokens)."""
    u = check("admin")
    if name == u.name:
        raise BadParameter("you cannot remove yourself", field="name")
    users_db().remove_user(name, institution=u.institution)
    return "", 204


@bp.get("/audit")
@require("admin")
def audit():
    """The audit log of the admin's institution, newest first (``page``, ``per_page`` ≤ 500)."""
    u = check("admin")
    return jsonify(users_db().audit_rows(institution=u.institution, page=arg_int("page", 1, 10**6) or 1,
                                         per_page=arg_int("per_page", 1, 500) or 50))
