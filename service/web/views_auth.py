"""Sign-in: a reviewer name kept in the session (the review API reads ``session["user"]``)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for

from ontology.review import ReviewError, _check_user

from . import bp


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if not target:
        return url_for("web.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.home")
    return target


def signin_required():
    """The redirect to the sign-in page (coming back here after) for a page that needs a reviewer, or None."""
    if session.get("user"):
        return None
    return redirect(url_for("web.signin", next=request.full_path.rstrip("?")))


@bp.route("/signin", methods=["GET", "POST"])
def signin():
    error = None
    nxt = request.values.get("next")
    if request.method == "POST":
        try:
            session["user"] = _check_user(request.form.get("user"))
            return redirect(_safe_next(nxt))
        except ReviewError as e:
            error = e.message
    return render_template("signin.html", error=error, next=nxt or "",
                           name=request.form.get("user", "")), (400 if error else 200)


@bp.post("/signout")
def signout():
    session.pop("user", None)
    return redirect(url_for("web.home"))
