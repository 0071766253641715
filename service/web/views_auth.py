"""Sign-in (name + password through the identity providers), sign-out, and changing one's password."""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, session, url_for

from ..auth import csrf_token, current_user, users_db
from ..users import AccountError, check_password
from .pages import bp


def _weak(password: str, name: str) -> str | None:
    """Why ``password`` breaks the password rule (service.users.check_password), or None."""
    try:
        check_password(password, name)
    except AccountError as e:
        return e.message
    return None


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if not target:
        return url_for("web.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return url_for("web.home")
    return target


def signin_required():
    """The redirect to the sign-in page (coming back here after) for a page that needs a user, or None."""
    if current_user() is not None:
        return None
    return redirect(url_for("web.signin", next=request.full_path.rstrip("?")))


def start_session(user) -> None:
    """A fresh session for ``user``: everything before is dropped; a new server-side session id (ended by
    signing out, a password change or removing the user) and a new CSRF token."""
    old = session.get("sid")
    if old:
        users_db().end_session(old)
    session.clear()
    session["uid"], session["inst"] = user.name, user.institution
    session["sid"] = users_db().new_session(user.name, current_app.config.get("SESSION_HOURS", 12.0))
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = False
    g.user, g.auth_via = user, "session"


@bp.route("/signin", methods=["GET", "POST"])
def signin():
    error = None
    nxt = request.values.get("next")
    if request.method == "POST":
        g.signin_name = (request.form.get("name") or "")[:100]
        for p in current_app.extensions["gapmap_idp"]:
            if p.interactive:
                user = p.authenticate(request)
                if user:
                    start_session(user)
                    g.signin_institution = user.institution
                    acc = users_db().get(user.name)
                    if acc is not None and acc.must_change:
                        return redirect(url_for("web.account", next=_safe_next(nxt)))
                    return redirect(_safe_next(nxt))
        error = "wrong name or password"
        tried = users_db().get(g.signin_name) if g.signin_name else None
        g.signin_institution = tried.institution if tried else None  # the attempt shows in that audit log
    csrf_token()
    return render_template("signin.html", error=error, next=nxt or "",
                           name=request.form.get("name", "")), (401 if error else 200)


@bp.post("/signout")
def signout():
    if session.get("sid"):
        users_db().end_session(session["sid"])
    session.clear()
    return redirect(url_for("web.signin"))


@bp.route("/account", methods=["GET", "POST"])
def account():
    """Change one's password (required after a one-time password)."""
    u = current_user()
    if u is None:
        return signin_required()
    error = done = None
    acc = users_db().get(u.name)
    if request.method == "POST":
        old, new = request.form.get("password", ""), request.form.get("new_password", "")
        if acc is not None and acc.has_password and not users_db().verify_password(u.name, old):
            error = "the current password is wrong"
        elif new != request.form.get("new_password2", ""):
            error = "the new passwords differ"
        elif (weak := _weak(new, u.name)):
            error = weak
        elif new == old or users_db().is_current_password(u.name, new):
            error = ("the new password must differ from the current one"
                     + (" (the one-time password)" if acc is not None and acc.must_change else ""))
        else:
            users_db().set_password(u.name, new)  # ends every session of the user
            start_session(u)
            nxt = request.values.get("next")
            if nxt:
                return redirect(_safe_next(nxt))
            done = "Your password is changed."
    return render_template("account.html", error=error, done=done, acc=acc, next=request.values.get("next", "")), \
        (400 if error else 200)
