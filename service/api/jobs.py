"""Job resources: long work started with ``?async=1`` (or ``Prefer: respond-async``) answers 202 with
``Location: /api/jobs/{id}``; the client (UI, CLI) polls that resource for status and progress."""
from __future__ import annotations

from flask import jsonify, request, url_for

from ontology.errors import NotFound

from ..auth import current_user, require
from ..extensions import gapmap
from .blueprint import bp


def wants_async() -> bool:
    return (request.args.get("async", "").lower() in ("1", "true", "yes")
            or "respond-async" in request.headers.get("Prefer", "").lower())


def accepted(job: dict):
    """The 202 answer for a submitted job."""
    loc = url_for("api.job", job_id=job["id"])
    resp = jsonify(dict(job, href=loc))
    resp.status_code = 202
    resp.headers["Location"] = loc
    resp.headers["Retry-After"] = "1"
    return resp


@bp.get("/jobs/<job_id>")
@require("read")
def job(job_id):
    """A job (long work started with ?async=1): status, progress, result or error; only its owner (the
    user who started it) or an admin may read it (anyone else: 404, as for a job that does not exist)."""
    j = gapmap().jobs.get(job_id)
    u = current_user()
    if j is None or u is None or (u.role != "admin" and (j.get("owner") is None or j.get("owner") != u.name)):
        raise NotFound(f"no job {job_id!r} of yours (jobs are kept for a while after they end)", field="job")
    return jsonify(dict(j, href=url_for("api.job", job_id=job_id)))
