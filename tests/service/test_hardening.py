"""Web hardening: CSRF (the cross-site bulk-accept form post), security headers, rate limits, the
persisted secret key, and the audit log of every write."""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from service.auth import users_db
from tests.conftest import web_sign_in
from tests.service.accounts import PASSWORD, csrf_of, load_mini, make_app, suggestions

TEMPLATES = Path(__file__).resolve().parents[2] / "service" / "web" / "templates"


def _app(tmp_path, **config):
    from service.extensions import gapmap
    app = make_app(tmp_path, **config)
    with app.app_context():
        load_mini(gapmap())
    users_db(app).add_user("dr.comm", "committee", password=PASSWORD)
    users_db(app).add_user("dr.admin", "admin", password=PASSWORD)
    return app


@pytest.fixture
def app(tmp_path):
    return _app(tmp_path)


@pytest.fixture
def victim(app):
    """A committee member signed in with the browser (session cookie); the client does NOT add the CSRF token."""
    c = app.test_client()
    web_sign_in(c, "dr.comm", PASSWORD)
    c.environ_base.pop("HTTP_X_CSRF_TOKEN", None)
    return c


def _pending(client, auth) -> int:
    return sum(a["status"] == "suggested" for c in suggestions(client, auth("viewer")).values() for a in c)


# CSRF -------------------------------------------------------------------------------------------

def test_cross_site_form_post_bulk_accept_is_refused(app, victim, auth):
    """The issue's attack: another site's page auto-submits a form to bulk-accept, riding on the cookie."""
    pending = _pending(victim, auth)
    assert pending > 0
    for headers in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/page"}, {}, {"Origin": "null"}):
        r = victim.post("/api/programs/mini/review/bulk-accept", data={"min_precision": "0"},
                        content_type="application/x-www-form-urlencoded", headers=headers)
        assert r.status_code == 403, (headers, r.status_code)
        assert r.get_json()["reason"] in ("csrf", "origin")
    # with the token but from another origin: still refused
    r = victim.post("/api/programs/mini/review/bulk-accept", data={"min_precision": "0", "csrf_token": csrf_of(victim)},
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    # a wrong token
    r = victim.post("/api/programs/mini/review/bulk-accept", json={"min_precision": 0},
                    headers={"X-CSRF-Token": "guess"})
    assert r.status_code == 403
    assert _pending(victim, auth) == pending  # nothing changed
    # the page's own request (same origin, token in the header) goes through
    r = victim.post("/api/programs/mini/review/bulk-accept", json={"min_precision": 0},
                    headers={"X-CSRF-Token": csrf_of(victim), "Origin": "http://localhost"})
    assert r.status_code == 200 and r.get_json()["accepted"] == pending
    assert _pending(victim, auth) == 0


def test_csrf_on_every_cookie_write(victim):
    aid = next(a["id"] for c in suggestions(victim, {}).values() for a in c if a["status"] == "suggested")
    for url, kw in ((f"/api/alignments/{aid}/decision", {"json": {"decision": "accept"}}),
                    ("/api/objectives/O4/alignments", {"json": {"competency": "PC3", "framework": "mini"}}),
                    ("/api/programs/mini/courses/MED-201/syllabus", {"data": {}}),
                    ("/signout", {"data": {}})):
        assert victim.post(url, **kw).status_code == 403, url
    with victim.session_transaction() as s:
        assert s.get("uid") == "dr.comm"  # not even signed out


def test_bearer_requests_need_no_csrf_token(app, auth):
    c = app.test_client()
    r = c.post("/api/programs/mini/review/bulk-accept", json={"min_precision": 0.9}, headers=auth("committee"))
    assert r.status_code == 200


def test_login_csrf_is_refused(app):
    c = app.test_client()
    r = c.post("/signin", data={"name": "dr.comm", "password": PASSWORD})
    assert r.status_code == 403
    with c.session_transaction() as s:
        assert "uid" not in s


def test_session_cookie_flags(app):
    c = app.test_client()
    page = c.get("/signin").get_data(as_text=True)
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = c.post("/signin", data={"name": "dr.comm", "password": PASSWORD, "csrf_token": tok})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and cookie.startswith("gapmap_session=")


# Security headers ------------------------------------------------------------------------------

def test_security_headers_on_every_kind_of_response(app, auth):
    c = app.test_client()
    web_sign_in(c, "dr.comm", PASSWORD)
    for url in ("/", "/programs/mini", "/signin", "/api/programs", "/api/nope", "/api/health", "/static/gapmap.js",
                "/sparql?query=ASK%7B%7D", "/programs/nope", "/ns"):
        r = c.get(url)
        h = r.headers
        csp = h.get("Content-Security-Policy", "")
        script = re.search(r"script-src ([^;]+)", csp).group(1)
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, url
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, url
        assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY", url
        assert h["Referrer-Policy"] == "same-origin", url
    assert "no-store" in c.get("/api/programs").headers["Cache-Control"]


def test_templates_have_no_inline_scripts_or_handlers():
    for t in TEMPLATES.glob("*.html"):
        text = t.read_text()
        # executable inline scripts (a JSON data block is not executed, and the CSP allows it)
        assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", text), t.name
        assert not re.search(r"\son[a-z]+\s*=", text), t.name
        assert "javascript:" not in text, t.name


# Rate limits ------------------------------------------------------------------------------------

def test_sign_in_failures_are_rate_limited(tmp_path):
    app = _app(tmp_path, RATELIMIT_SIGNIN="3/minute")
    c = app.test_client()
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/signin").get_data(as_text=True)).group(1)
    codes = [c.post("/signin", data={"name": "dr.comm", "password": f"guess{i}", "csrf_token": tok}).status_code
             for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    # the right password is refused too while the limit lasts
    assert c.post("/signin", data={"name": "dr.comm", "password": PASSWORD, "csrf_token": tok}).status_code == 429


def test_wrong_tokens_are_rate_limited(tmp_path, auth):
    app = _app(tmp_path, RATELIMIT_AUTH_FAILURES="5/minute")
    c = app.test_client()
    codes = [c.get("/api/programs", headers={"Authorization": f"Bearer wrong-token-number-{i:04d}-xxxxxxxx"}).status_code
             for i in range(7)]
    assert codes == [401] * 5 + [429] * 2


def test_heavy_endpoints_are_rate_limited(tmp_path, auth):
    app = _app(tmp_path, RATELIMIT_ALIGN="2/minute", RATELIMIT_LOAD="2/minute")
    c = app.test_client()
    h = auth("admin", app=app)
    codes = [c.post("/api/programs/nope/align", json={}, headers=h).status_code for _ in range(3)]
    assert codes == [404, 404, 429]
    codes = [c.post("/api/load/roles-csv", data={}, headers=h).status_code for _ in range(3)]
    assert codes == [400, 400, 429]
    r = c.post("/api/programs/nope/align", json={}, headers=auth("admin", "other-admin", app=app))
    assert r.status_code == 404  # per user: another admin is not blocked
    assert c.get("/api/programs", headers=h).status_code == 200  # reads are not limited


# Secret key ----------------------------------------------------------------------------------------

def test_secret_key_is_generated_once_and_kept(tmp_path):
    from service.auth import secret_key
    from service.config import Config
    cfg = Config()
    cfg.STORE_PATH, cfg.SECRET_KEY = str(tmp_path / "var" / "store"), ""
    k1 = secret_key(cfg)
    path = tmp_path / "var" / "secret_key"
    assert path.read_text().strip() == k1 and len(k1) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert secret_key(cfg) == k1  # the next process gets the same one
    from service.app import create_app
    app = create_app({"STORE_PATH": cfg.STORE_PATH, "SECRET_KEY": "", "TESTING": True,
                      "CACHE_DIR": str(tmp_path / "cache")})
    assert app.config["SECRET_KEY"] == k1
    cfg.SECRET_KEY = "configured"
    assert secret_key(cfg) == "configured"


# Audit log ---------------------------------------------------------------------------------------

def test_every_write_is_audited(app, auth):
    c = app.test_client()
    admin, comm = auth("admin"), auth("committee", "dr.audited")
    aid = next(a["id"] for x in suggestions(c, comm).values() for a in x if a["status"] == "suggested")
    assert c.post(f"/api/alignments/{aid}/decision", json={"decision": "reject", "note": "off"}, headers=comm).status_code == 200
    assert c.post("/api/programs/mini/review/bulk-accept", json={"min_precision": 0.9}, headers=auth("viewer")).status_code == 403
    assert c.post("/api/users", json={"name": "dr.x", "role": "viewer", "password": "secret-password-1"},
                  headers=admin).status_code == 201
    c2 = app.test_client()
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c2.get("/signin").get_data(as_text=True)).group(1)
    c2.post("/signin", data={"name": "dr.comm", "password": "not-it-at-all", "csrf_token": tok})
    c.get("/api/programs", headers=comm)  # reads are not audited
    log = c.get("/api/audit?per_page=10", headers=admin).get_json()
    rows = log["entries"]
    assert log["total"] == 4 and len(rows) == 4
    users = c.get("/api/audit?per_page=1&page=2", headers=admin).get_json()
    assert len(users["entries"]) == 1 and users["entries"][0]["id"] == rows[1]["id"]
    decision = next(r for r in rows if "decision" in r["path"])
    assert (decision["user"], decision["institution"], decision["method"], decision["status"]) == \
        ("dr.audited", "default", "POST", 200)
    assert f"key={aid}" in decision["summary"] and "decision=reject" in decision["summary"]
    denied = next(r for r in rows if "bulk-accept" in r["path"])
    assert (denied["user"], denied["status"]) == ("test-viewer", 403)
    created = next(r for r in rows if r["path"] == "/api/users")
    assert "name=dr.x" in created["summary"] and "secret-password-1" not in str(rows)
    signin = next(r for r in rows if r["path"] == "/signin")  # a failed sign-in: anonymous, with the name tried
    assert signin["status"] == 401 and "dr.comm" in signin["user"] and "not-it-at-all" not in str(rows)
    assert c.get("/api/audit", headers=comm).status_code == 403


def test_cli_audit(tmp_path):
    from click.testing import CliRunner

    from service.cli import main
    store = ["--store", str(tmp_path / "store")]
    CliRunner().invoke(main, [*store, "user", "add", "dr.a", "--role", "viewer"])
    r = CliRunner().invoke(main, [*store, "audit", "--json"])
    import json
    entries = json.loads(r.output)["entries"]
    assert entries[0]["method"] == "CLI" and "user add dr.a" in entries[0]["summary"]


def test_behind_a_proxy_the_origin_check_uses_the_forwarded_scheme_and_host(tmp_path):
    app = _app(tmp_path, PROXIES=1)
    c = app.test_client()
    fwd = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "gapmap.school.example", "X-Forwarded-For": "10.1.2.3"}
    page = c.get("/signin", headers=fwd).get_data(as_text=True)
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = c.post("/signin", headers={**fwd, "Origin": "https://gapmap.school.example"},
               data={"name": "dr.comm", "password": PASSWORD, "csrf_token": tok})
    assert r.status_code == 302
    r = c.post("/api/programs/mini/review/bulk-accept", json={"min_precision": 0.99},
               headers={**fwd, "Origin": "https://gapmap.school.example", "X-CSRF-Token": csrf_of(c)})
    assert r.status_code == 200
    r = c.post("/api/programs/mini/review/bulk-accept", json={"min_precision": 0.99},
               headers={**fwd, "Origin": "http://gapmap.school.example", "X-CSRF-Token": csrf_of(c)})
    assert r.status_code == 403  # the scheme differs: another origin
