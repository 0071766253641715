"""Who is asking, and may they?  Accounts, sign-in, roles, tenants and web hardening (Flask wiring).

Roles, lowest to highest: viewer < educator < committee < admin.  The permission matrix lives
here and nowhere else; views call ``require(permission)`` (decorator) or ``check(permission)``.

Permissions:
- ``read``          frameworks, curricula, reports, public SPARQL graphs (viewer+; anonymous only
                    with GAPMAP_PUBLIC_READ=1)
- ``read_private``  learner-level results, other people's profiles/evidence/plans (committee, admin)
- ``upload``        upload syllabi / CVs, create courses by upload (educator+; educators: own courses)
- ``review``        decide on alignments (educator+ on own courses; committee, admin anywhere)
- ``review_all``    decisions over a whole program at once: bulk accept (committee, admin)
- ``plan``          drafts, crosswalk review, development plans for others, mentor matching (committee+)
- ``load``          load frameworks/curricula/any loader, run alignment (admin)
- ``admin``         manage users, read the audit log (admin)

How a request is authenticated (``current_user``), first match wins:
1. ``Authorization: Bearer TOKEN`` (API clients; a wrong or revoked token is 401, never anonymous);
2. the trusted header of a reverse proxy doing SSO (only when ``TRUSTED_USER_HEADER`` is set);
3. the signed session cookie of the web sign-in.
Every endpoint needs ``read`` at least (``PUBLIC_ENDPOINTS`` excepted), enforced before any view runs;
writes and private reads add their own ``require``.  Cookie- and header-authenticated writes must carry
the CSRF token (``X-CSRF-Token`` header or ``csrf_token`` form field) and a same-origin Origin/Referer.

Sign-in goes through an ``IdentityProvider`` (``authenticate(request) -> User | None``): local
passwords now; an OIDC or SAML provider is another implementation of the same one-method seam.
"""
from __future__ import annotations

import hmac
import logging
import os
import secrets
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path

from ontology.errors import GapmapError

from .users import DEFAULT_INSTITUTION, ROLES, Account, UserDB  # noqa: F401  (ROLES is part of the contract)

log = logging.getLogger(__name__)

PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "read_private": frozenset({"committee", "admin"}),
    "upload": frozenset({"educator", "committee", "admin"}),
    "review": frozenset({"educator", "committee", "admin"}),
    "review_all": frozenset({"committee", "admin"}),
    "plan": frozenset({"committee", "admin"}),
    "load": frozenset({"admin"}),
    "admin": frozenset({"admin"}),
}
#: permissions an educator holds only for the courses they are responsible for
COURSE_SCOPED = frozenset({"upload", "review"})

#: endpoints anyone may call, signed in or not
PUBLIC_ENDPOINTS = frozenset({"api.health", "api.openapi", "api.docs", "api.docs_asset", "web.signin", "static",
                              "web.vocabulary"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: how a request was authenticated when the browser sends the credential by itself (CSRF applies)
AMBIENT = frozenset({"session", "header"})
#: limits on expensive writes (per user), overridable in the config (RATELIMIT_<ENDPOINT>)
HEAVY_LIMITS = {"api.align": "RATELIMIT_ALIGN", "api.load": "RATELIMIT_LOAD",
                "api.upload_syllabus": "RATELIMIT_UPLOAD"}


class NotAuthenticated(GapmapError):
    status = 401
    title = "Not signed in"


class Forbidden(GapmapError):
    status = 403
    title = "Forbidden"


class TooManyFailures(GapmapError):
    status = 429
    title = "Too many failed attempts"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    institution: str = DEFAULT_INSTITUTION
    #: course codes an educator is responsible for (empty for other roles)
    courses: frozenset[str] = field(default_factory=frozenset)

    def can(self, permission: str, *, course: str | None = None) -> bool:
        if self.role not in PERMISSIONS[permission]:
            return False
        if self.role == "educator" and course is not None and permission in COURSE_SCOPED:
            return course in self.courses
        return True

    @classmethod
    def of(cls, acc: Account) -> "User":
        return cls(acc.name, acc.role, acc.institution, frozenset(acc.courses) if acc.role == "educator"
                   else frozenset())

    def to_dict(self) -> dict:
        return {"name": self.name, "role": self.role, "institution": self.institution,
                "courses": sorted(self.courses),
                "permissions": sorted(p for p in PERMISSIONS if self.can(p))}


# Identity providers (the SSO seam) --------------------------------------------------------------
class IdentityProvider:
    """Turns a request into a known user, or None.  ``interactive`` providers handle the sign-in form
    (local passwords); others recognise a request by itself (a trusted proxy header; an OIDC callback
    would be one too).  The user must exist in the user database: roles and institutions live there."""

    interactive = False

    def authenticate(self, request) -> User | None:  # pragma: no cover - interface
        raise NotImplementedError


class LocalPasswordProvider(IdentityProvider):
    """The sign-in form: ``name`` and ``password`` checked against the scrypt hash."""

    interactive = True

    def __init__(self, db: UserDB):
        self.db = db

    def authenticate(self, request) -> User | None:
        acc = self.db.verify_password(request.form.get("name", ""), request.form.get("password", ""))
        return User.of(acc) if acc else None


class TrustedHeaderProvider(IdentityProvider):
    """A reverse proxy that did the sign-in (SSO) names the user in a header.  Only enable it
    (``GAPMAP_TRUSTED_USER_HEADER``) behind a proxy that removes that header from clients' requests."""

    def __init__(self, db: UserDB, header: str):
        self.db, self.header = db, header

    def authenticate(self, request) -> User | None:
        name = request.headers.get(self.header)
        acc = self.db.get(name) if name else None
        return User.of(acc) if acc else None


# The current request ----------------------------------------------------------------------------
def users_db(app=None) -> UserDB:
    from flask import current_app
    return (app or current_app).extensions["gapmap_users"]


def _authenticate():
    """(user, how) for this request; a bad bearer token gives (None, "bad-token")."""
    from flask import current_app, request, session
    db = users_db()
    authz = request.headers.get("Authorization")
    if authz is not None:
        scheme, _, token = authz.partition(" ")
        acc = db.by_token(token.strip()) if scheme.lower() == "bearer" else None
        return (User.of(acc), "token") if acc else (None, "bad-token")
    for p in current_app.extensions["gapmap_idp"]:
        if not p.interactive:
            u = p.authenticate(request)
            if u:
                return u, "header"
    sid = session.get("sid")
    if sid:
        acc = db.session_user(sid)
        if acc is not None and acc.name == session.get("uid") and acc.institution == session.get("inst"):
            from flask import g
            g.must_change = bool(acc.must_change)  # a one-time password: nothing but /account until changed
            return User.of(acc), "session"
    return None, None


def current_user() -> User | None:
    """The authenticated user of this request (session cookie or ``Authorization: Bearer``), or None."""
    from flask import g
    if "user" not in g:
        g.user, g.auth_via = _authenticate()
    return g.user


def current_institution() -> str:
    u = current_user()
    return u.institution if u else DEFAULT_INSTITUTION


def _public_read() -> bool:
    from flask import current_app
    return bool(current_app.config.get("PUBLIC_READ"))


def check(permission: str, *, course: str | None = None) -> User | None:
    """The current user if they hold ``permission`` (for ``course``); else 401 (anonymous) / 403.
    Anonymous ``read`` passes (returning None) when GAPMAP_PUBLIC_READ=1."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)
    u = current_user()
    if u is None:
        if permission == "read" and _public_read():
            return None
        raise NotAuthenticated("sign in, or send Authorization: Bearer <token>")
    if not u.can(permission, course=course):
        what = f" for course {course!r}" if course is not None and u.can(permission) else ""
        raise Forbidden(f"the {u.role} role may not {permission.replace('_', ' ')}{what}",
                        permission=permission, course=course)
    return u


def require(permission: str):
    """Decorator form of ``check`` for views (the ``code``/``course`` URL part is the course)."""
    def deco(view):
        @wraps(view)
        def wrapper(*a, **kw):
            check(permission, course=kw.get("code") or kw.get("course"))
            return view(*a, **kw)
        wrapper.gapmap_permission = permission
        return wrapper
    return deco


def declares(permission: str):
    """Marks a view that checks ``permission`` itself, with an exception the matrix cannot express
    (the person themself may act on their own profile): the route audit in the tests reads it."""
    def deco(view):
        view.gapmap_permission = permission
        return view
    return deco


def who() -> str:
    """The PROV "who" of a write: the authenticated user's name (never a header or body field)."""
    u = current_user()
    if u is None:
        raise NotAuthenticated("sign in, or send Authorization: Bearer <token>")
    return u.name


# CSRF -------------------------------------------------------------------------------------------
def csrf_token() -> str:
    """This session's CSRF token (made on first use; renewed at sign-in)."""
    from flask import session
    tok = session.get("csrf")
    if not tok:
        tok = session["csrf"] = secrets.token_urlsafe(32)
    return tok


def _same_origin(url: str) -> bool:
    from urllib.parse import urlsplit

    from flask import request
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}" == request.host_url.rstrip("/")


def _check_csrf() -> None:
    from flask import request, session
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null":
        if not _same_origin(origin):
            raise Forbidden("cross-site request refused (Origin)", reason="origin")
    elif origin == "null" or (request.referrer and not _same_origin(request.referrer)):
        raise Forbidden("cross-site request refused (Referer)", reason="origin")
    sent = request.headers.get("X-CSRF-Token")
    if sent is None and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent = request.form.get("csrf_token")
    expected = session.get("csrf")
    if not sent or not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise Forbidden("missing or wrong CSRF token (send X-CSRF-Token or the form's csrf_token)",
                        reason="csrf")


# Flask wiring -----------------------------------------------------------------------------------
def _gate():
    """Before every request: authenticate, refuse anonymous access, check CSRF on cookie writes."""
    from flask import current_app, g, redirect, request, url_for
    ep = request.endpoint
    u = current_user()
    if g.auth_via == "bad-token":
        limiter = current_app.extensions["gapmap_limiter"]
        if not limiter.fail("token", request.remote_addr or "-"):
            raise TooManyFailures("too many requests with a wrong token; wait a minute")
        raise NotAuthenticated("the bearer token is wrong or revoked")
    if ep is None or request.method == "OPTIONS":
        return None  # 404 / 405: routing answers; CORS preflights carry no credentials and run no view
    if u is None and ep not in PUBLIC_ENDPOINTS and not (_public_read() and request.method in SAFE_METHODS
                                                         or _public_read() and ep == "sparql.sparql"):
        if request.blueprint == "web":
            if request.method in SAFE_METHODS:
                return redirect(url_for("web.signin", next=request.full_path.rstrip("?")))
            return redirect(url_for("web.signin"))
        raise NotAuthenticated("sign in, or send Authorization: Bearer <token>")
    if request.method not in SAFE_METHODS and (g.auth_via in AMBIENT or ep == "web.signin"):
        _check_csrf()
    if g.get("must_change") and ep not in _WHILE_CHANGING and ep not in PUBLIC_ENDPOINTS:
        if request.blueprint == "web" and request.method in SAFE_METHODS:
            return redirect(url_for("web.account", next=request.full_path.rstrip("?")))
        raise Forbidden("change your one-time password first (/account)")
    return None


#: what a web session may do before its one-time password is changed
_WHILE_CHANGING = frozenset({"web.account", "web.signout", "static"})


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
#: body fields never written to the audit log
_SECRET_FIELDS = frozenset({"password", "new_password", "new_password2", "token", "csrf_token"})


def _summary() -> str:
    """A short description of a write for the audit log (endpoint, URL parts, small body fields)."""
    from flask import request
    parts = [request.endpoint or "-"]
    parts += [f"{k}={v}" for k, v in (request.view_args or {}).items()]
    body = {}
    cached = getattr(request, "_cached_json", (Ellipsis, Ellipsis))[0]
    if isinstance(cached, dict):
        body = cached
    elif "form" in request.__dict__:
        body = request.form.to_dict()
    for k in sorted((k for k in body if isinstance(k, str)))[:12]:
        v = body[k]
        if k not in _SECRET_FIELDS and isinstance(v, (str, int, float, bool)) and v != "":
            parts.append(f"{k}={str(v)[:80]}")
    if "files" in request.__dict__:
        parts += [f"{k}={f.filename}" for k, f in request.files.items()]
    return " ".join(parts)


def _after(resp):
    from flask import g, request
    for k, v in SECURITY_HEADERS.items():
        resp.headers.setdefault(k, v)
    if resp.status_code == 401:
        resp.headers.setdefault("WWW-Authenticate", 'Bearer realm="gapmap"')
    elif resp.status_code == 429:
        resp.headers.setdefault("Retry-After", "60")
    # writes by users and sign-in attempts (an anonymous caller turned away with 401 wrote nothing)
    if request.method not in SAFE_METHODS and (g.get("user") is not None or request.endpoint == "web.signin"):
        u = g.get("user")
        name = u.name if u else (g.get("signin_name") and f"anonymous ({g.signin_name})")
        try:
            users_db().audit(user=name or None, institution=u.institution if u else g.get("signin_institution"),
                             method=request.method, path=request.full_path.rstrip("?"),
                             status=resp.status_code, summary=_summary())
        except Exception:  # noqa: BLE001 - log, but never turn a done write into an error
            log.exception("audit log write failed")
    if g.get("user") is not None or "Authorization" in request.headers:
        resp.headers.setdefault("Cache-Control", "private, no-store")
        resp.vary.add("Authorization")
        resp.vary.add("Cookie")
    return resp


class _Limits:
    """flask-limiter for routes, plus counters of authentication failures; in process memory, or in Redis
    (``GAPMAP_RATELIMIT_STORAGE`` / ``GAPMAP_REDIS``) so the limits hold across replicas."""

    def __init__(self, app):
        from flask_limiter import Limiter
        from limits import parse
        self._parse = parse
        self.app = app
        from .shared import ratelimit_storage
        storage = ratelimit_storage(app.config)
        # Redis unreachable: each process falls back to its own memory counters (limits still hold per process)
        self.limiter = Limiter(key_func=_rate_key, app=app, storage_uri=storage, key_prefix="gapmap",
                               in_memory_fallback_enabled=not storage.startswith("memory:"), headers_enabled=True,
                               default_limits=[], enabled=app.config.get("RATELIMIT_ENABLED", True))

    def fail(self, kind: str, key: str) -> bool:
        """Count one failure; False when the limit (``RATELIMIT_AUTH_FAILURES``) is exceeded."""
        if not self.limiter.enabled:
            return True
        item = self._parse(self.app.config.get("RATELIMIT_AUTH_FAILURES", "20/minute"))
        return self.limiter.limiter.hit(item, "authfail", kind, key)

    def blocked(self, kind: str, key: str) -> bool:
        if not self.limiter.enabled:
            return False
        item = self._parse(self.app.config.get("RATELIMIT_AUTH_FAILURES", "20/minute"))
        return not self.limiter.limiter.test(item, "authfail", kind, key)

    def limit(self, endpoint: str, config_key: str, methods=("POST",), deduct_when=None):
        view = self.app.view_functions.get(endpoint)
        if view is not None:
            app = self.app
            self.app.view_functions[endpoint] = self.limiter.limit(
                lambda: app.config.get(config_key, "30/minute"), methods=list(methods),
                deduct_when=deduct_when)(view)


def _rate_key() -> str:
    from flask import request
    try:
        u = current_user()
    except Exception:  # noqa: BLE001
        u = None
    return f"user:{u.institution}:{u.name}" if u else f"ip:{request.remote_addr}"


def secret_key(cfg) -> str:
    """The configured SECRET_KEY, else the one in ``var/secret_key`` (made once, mode 0600);
    random per process only for an in-memory store (tests)."""
    if cfg.SECRET_KEY:
        return cfg.SECRET_KEY
    from .config import var_dir
    var = var_dir(cfg)
    if var is None:
        return secrets.token_hex(32)
    path = var / "secret_key"
    var.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = Path(path).read_text("ascii").strip()
        if len(key) < 32:
            raise RuntimeError(f"{path} holds no usable secret key; delete it to make a new one") from None
        return key
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
        f.flush()
        os.fsync(f.fileno())
    return Path(path).read_text("ascii").strip()


def open_users(cfg) -> UserDB:
    from .config import var_dir
    if cfg.USERS_DB:
        return UserDB(cfg.USERS_DB)
    var = var_dir(cfg)
    return UserDB(var / "users.sqlite" if var else None)


def init_app(app, cfg) -> None:
    """Accounts, sessions, CSRF, security headers, rate limits and the audit log for ``app``
    (call after the blueprints are registered)."""
    app.config["SECRET_KEY"] = secret_key(cfg)
    if cfg.PROXIES:
        # client address (rate limits, audit) and scheme/host (the Origin check) as the proxies saw them
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = int(cfg.PROXIES)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    app.config.update(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SECURE=bool(cfg.SECURE_COOKIES), SESSION_COOKIE_NAME="gapmap_session")
    db = app.extensions.get("gapmap_users") or open_users(cfg)
    app.extensions["gapmap_users"] = db
    idp: list[IdentityProvider] = [LocalPasswordProvider(db)]
    if cfg.TRUSTED_USER_HEADER:
        idp.append(TrustedHeaderProvider(db, cfg.TRUSTED_USER_HEADER))
    app.extensions["gapmap_idp"] = idp
    limits = _Limits(app)
    app.extensions["gapmap_limiter"] = limits
    # The gate runs before flask-limiter's check (so rate keys see the user), then the routes' limits.
    app.before_request_funcs.setdefault(None, []).insert(0, _gate)
    app.after_request(_after)
    # failed sign-ins count (a success redirects): guessing is slowed, colleagues behind one NAT are not
    limits.limit("web.signin", "RATELIMIT_SIGNIN", deduct_when=lambda r: r.status_code != 302)
    for ep, key in HEAVY_LIMITS.items():
        limits.limit(ep, key)
    app.jinja_env.globals["csrf_token"] = csrf_token
