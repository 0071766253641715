"""Accounts: bearer tokens, roles and the permission matrix, educators' courses, PROV "who", the admin
API, public read, the CLI contract (`gapmap user add` prints a working token last) and the first admin."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.auth import PERMISSIONS, ROLES, User, users_db
from service.cli import main
from tests.conftest import web_sign_in
from tests.service.accounts import MINI, csrf_of, load_mini, make_app, suggestions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(tmp_path, users_url, monkeypatch):
    """The mini program over each account database backend (the CLI of a test uses the same one)."""
    from service.extensions import gapmap
    monkeypatch.setenv("GAPMAP_USERS_DB", users_url)
    app = make_app(tmp_path, USERS_DB=users_url)
    with app.app_context():
        load_mini(gapmap())
    yield app
    users_db(app).close()


@pytest.fixture
def client(app):
    return app.test_client()


# Tokens ---------------------------------------------------------------------------------------

def test_bearer_token_authenticates(client, auth):
    r = client.get("/api/me", headers=auth("committee"))
    assert r.status_code == 200
    me = r.get_json()
    assert (me["name"], me["role"], me["institution"]) == ("test-committee", "committee", "default")
    assert "review_all" in me["permissions"] and "load" not in me["permissions"]
    assert client.get("/api/programs", headers=auth("viewer")).status_code == 200


@pytest.mark.parametrize("value", ["Bearer not-a-real-token-but-long-enough", "Bearer ", "Basic dXNlcjpwYXNz",
                                   "bearer", "Bearer " + "x" * 5000])
def test_wrong_token_is_401_never_anonymous(app, client, value):
    app.config["PUBLIC_READ"] = True  # even when anonymous reads are allowed, a wrong token is refused
    r = client.get("/api/programs", headers={"Authorization": value})
    assert r.status_code == 401 and r.mimetype == "application/problem+json"


def test_revoked_token_and_removed_user_are_401(app, client):
    db = users_db(app)
    made = db.add_user("dr.gone", "committee")
    h = {"Authorization": f"Bearer {made.token}"}
    assert client.get("/api/me", headers=h).status_code == 200
    second = db.new_token("dr.gone")
    assert db.revoke_token(made.token)
    assert client.get("/api/me", headers=h).status_code == 401
    h2 = {"Authorization": f"Bearer {second.token}"}
    assert client.get("/api/me", headers=h2).status_code == 200
    db.remove_user("dr.gone")
    assert client.get("/api/me", headers=h2).status_code == 401


def test_tokens_are_stored_hashed(app):
    made = users_db(app).add_user("dr.hash", "viewer", password="a long password")
    from service.users import TABLES
    with users_db(app).engine.connect() as c:
        dump = "\n".join(repr(tuple(r)) for t in TABLES for r in c.execute(t.select()))
    assert made.token not in dump and "a long password" not in dump
    assert "scrypt:" in dump


# Anonymous and public read ------------------------------------------------------------------

def test_anonymous_gets_401_except_health_and_openapi(client):
    for url in ("/api/frameworks", "/api/programs/mini/gaps", "/api/programs/mini/review", "/api/roles",
                "/api/alignments/x/history", "/api/me", "/sparql?query=ASK%7B%7D"):
        r = client.get(url)
        assert r.status_code == 401, url
        assert r.mimetype == "application/problem+json"
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/openapi.json").status_code == 200
    for url in ("/", "/programs/mini", "/programs/mini/review", "/sparql/ui", "/roles"):
        r = client.get(url)
        assert r.status_code == 302 and "/signin" in r.headers["Location"], url
    assert client.get("/signin").status_code == 200


def test_every_route_refuses_anonymous_callers(app, client):
    """Walk the URL map: every endpoint but the public ones answers an anonymous caller 401 (API) or
    sends it to sign in (pages), whatever the method."""
    from service.auth import PUBLIC_ENDPOINTS
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<{arg}>", "x").replace(f"<path:{arg}>", "x")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            r = client.open(url, method=method)
            assert r.status_code in (401, 302), (method, url, r.status_code)
            checked += 1
    assert checked >= 30


def test_every_write_route_declares_a_permission(app):
    """Unsafe methods go through ``require`` (or are the sign-in flow / a read-only query by POST)."""
    exempt = {"web.signin", "web.signout", "web.account", "sparql.sparql", "api.draft_sparql"}  # the last two: read-only queries by POST
    for rule in app.url_map.iter_rules():
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"} and rule.endpoint not in exempt:
            view = app.view_functions[rule.endpoint]
            perm = getattr(view, "gapmap_permission", None) or getattr(getattr(view, "__wrapped__", None),
                                                                      "gapmap_permission", None)
            assert perm in PERMISSIONS and perm != "read", (rule.rule, perm)


def test_public_read(app, client):
    app.config["PUBLIC_READ"] = True
    assert client.get("/api/programs/mini/gaps").status_code == 200
    assert client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).status_code == 200
    assert client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}).status_code == 200
    assert client.get("/programs/mini").status_code == 200
    # but nothing beyond what a viewer may
    assert client.get("/api/users").status_code == 401
    assert client.get("/api/audit").status_code == 401
    aid = suggestions(client, {})["MED-101"][1]["id"]
    assert client.post(f"/api/alignments/{aid}/decision", json={"decision": "accept"}).status_code == 401
    assert client.post("/api/programs/mini/review/bulk-accept", json={"min_precision": 0}).status_code == 401
    assert client.get("/programs/mini/upload").status_code == 302
    app.config["PUBLIC_READ"] = False
    assert client.get("/api/programs/mini/gaps").status_code == 401


# The permission matrix -----------------------------------------------------------------------

def test_matrix_in_code():
    assert [r for r in ROLES if User("x", r).can("load")] == ["admin"]
    assert [r for r in ROLES if User("x", r).can("review_all")] == ["committee", "admin"]
    assert [r for r in ROLES if User("x", r).can("read")] == list(ROLES)
    ed = User("x", "educator", courses=frozenset({"MED-101"}))
    assert ed.can("review", course="MED-101") and not ed.can("review", course="MED-201")
    assert ed.can("upload", course="MED-101") and not ed.can("upload", course="MED-201")
    assert not User("x", "educator").can("review", course="MED-101")  # an educator without courses: none
    assert User("x", "committee").can("review", course="MED-201")


# (role, request) → expected status: what the README's matrix says
WRITES = {
    "decision": ("POST", "/api/alignments/{aid}/decision", {"json": {"decision": "reject"}}),
    "manual": ("POST", "/api/objectives/O4/alignments", {"json": {"competency": "PC3", "framework": "mini"}}),
    "bulk": ("POST", "/api/programs/mini/review/bulk-accept", {"json": {"min_precision": 0.99}}),
    "align": ("POST", "/api/programs/nope/align", {"json": {}}),  # 404 once allowed: the model never loads
    "load": ("POST", "/api/load/roles-csv", {"data": {}}),  # 400 (no file) once allowed
    "upload": ("POST", "/api/programs/mini/courses/MED-201/syllabus", {"data": {}}),  # 400 once allowed
    "users": ("GET", "/api/users", {}),
    "audit": ("GET", "/api/audit", {}),
}
ALLOWED = {
    "viewer": set(),
    "educator": {"decision", "manual", "upload"},  # on their course MED-201 only
    "committee": {"decision", "manual", "bulk", "upload"},
    "admin": set(WRITES),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(WRITES))
def test_role_matrix(client, auth, role, action):
    h = auth(role, courses=["MED-201"] if role == "educator" else None)
    aid = next(a["id"] for a in suggestions(client, h)["MED-201"] if a["status"] == "suggested")
    method, url, kw = WRITES[action]
    r = client.open(url.replace("{aid}", aid), method=method, headers=h, **kw)
    if action in ALLOWED[role]:
        assert r.status_code in (200, 201, 400, 404), (role, action, r.get_json())
    else:
        assert r.status_code == 403, (role, action, r.status_code)
        assert r.get_json()["title"] == "Forbidden"


def test_educator_reviews_and_uploads_only_their_courses(client, auth):
    ed = auth("educator", "dr.ed", courses=["MED-101"])
    by_course = suggestions(client, ed)
    mine = next(a for a in by_course["MED-101"] if a["status"] == "suggested")
    theirs = next(a for a in by_course["MED-201"] if a["status"] == "suggested")
    r = client.post(f"/api/alignments/{theirs['id']}/decision", json={"decision": "accept"}, headers=ed)
    assert r.status_code == 403 and r.get_json()["course"] == "MED-201"
    assert client.post("/api/objectives/O4/alignments", json={"competency": "PC3", "framework": "mini"},
                       headers=ed).status_code == 403  # O4 is in MED-201
    assert client.post("/api/objectives/O4/assessed-by", json={"assessment": "A1"}, headers=ed).status_code == 403
    r = client.post(f"/api/alignments/{mine['id']}/decision", json={"decision": "accept"}, headers=ed)
    assert r.status_code == 200 and r.get_json()["user"] == "dr.ed"
    after = {a["id"]: a["status"] for c in suggestions(client, ed).values() for a in c}
    assert after[mine["id"]] == "accepted" and after[theirs["id"]] == "suggested"
    r = client.post("/api/programs/mini/courses/MED-201/syllabus", headers=ed, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(b"1. Explain the heart."), "s.txt")})
    assert r.status_code == 403


def test_prov_who_is_the_authenticated_user_only(client, auth):
    h = {**auth("committee", "dr.real"), "X-Gapmap-User": "mallory"}
    aid = next(a["id"] for a in suggestions(client, h)["MED-101"] if a["status"] == "suggested")
    # a "user" field is not a field of a decision: refused (400 naming it), never taken as the PROV who
    r = client.post(f"/api/alignments/{aid}/decision", json={"decision": "accept", "user": "mallory"}, headers=h)
    assert r.status_code == 400 and r.get_json()["field"] == "user"
    r = client.post(f"/api/alignments/{aid}/decision", json={"decision": "accept"}, headers=h)
    assert r.status_code == 200 and r.get_json()["user"] == "dr.real"
    hist = client.get(f"/api/alignments/{aid}/history", headers=h).get_json()["history"]
    assert [x["user"] for x in hist] == ["dr.real"]
    # the legacy header alone authenticates nobody
    assert client.post(f"/api/alignments/{aid}/decision", json={"decision": "reject"},
                       headers={"X-Gapmap-User": "mallory"}).status_code == 401


# Admin API -------------------------------------------------------------------------------------

def test_admin_manages_users_of_their_institution(client, auth):
    admin = auth("admin")
    r = client.post("/api/users", json={"name": "dr.new", "role": "educator", "courses": ["MED-101"]}, headers=admin)
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    assert made["courses"] == ["MED-101"] and made["password"] and made["must_change_password"]
    new = {"Authorization": f"Bearer {made['token']}"}
    assert client.get("/api/me", headers=new).get_json()["role"] == "educator"
    names = [u["name"] for u in client.get("/api/users", headers=admin).get_json()["users"]]
    assert "dr.new" in names and all("token" not in u and "pw_hash" not in u
                                     for u in client.get("/api/users", headers=admin).get_json()["users"])
    assert client.post("/api/users", json={"name": "dr.new", "role": "viewer"}, headers=admin).status_code == 409
    for bad, field in (({"name": "x y", "role": "viewer"}, "name"), ({"name": "ok", "role": "root"}, "role"),
                       ({"name": "ok2", "role": "viewer", "password": "short"}, "password"),
                       ({"name": "ok3", "role": "viewer", "institution": "elsewhere"}, "institution")):
        r = client.post("/api/users", json=bad, headers=admin)
        assert r.status_code == 400 and r.get_json()["field"] == field, bad
    assert client.post("/api/users", json={"name": "x", "role": "admin"}, headers=auth("committee")).status_code == 403
    assert client.delete("/api/users/dr.new", headers=admin).status_code == 204
    assert client.get("/api/me", headers=new).status_code == 401
    assert client.delete("/api/users/dr.new", headers=admin).status_code == 404
    assert client.delete("/api/users/test-admin", headers=admin).status_code == 400  # not yourself


# Web sign-in with a one-time password ----------------------------------------------------------

def test_one_time_password_must_be_changed(app):
    made = users_db(app).add_user("dr.once", "viewer", generate_password=True)
    c = app.test_client()
    page = c.get("/signin").get_data(as_text=True)
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = c.post("/signin", data={"name": "dr.once", "password": made.password, "csrf_token": tok, "next": "/roles"})
    assert r.status_code == 302 and r.headers["Location"].startswith("/account")
    assert c.get("/account").status_code == 200
    # nothing else until the one-time password is changed: pages send to /account, the API refuses
    r = c.get("/programs/mini")
    assert r.status_code == 302 and r.headers["Location"].startswith("/account")
    assert c.get("/api/programs").status_code == 403
    csrf = csrf_of(c)
    # finding #20: the one-time password itself is not a new password
    r = c.post("/account", data={"password": made.password, "new_password": made.password,
                                 "new_password2": made.password, "csrf_token": csrf})
    assert r.status_code == 400 and "must differ from the current one (the one-time password)" in r.get_data(as_text=True)
    assert users_db(app).get("dr.once").must_change
    r = c.post("/account", data={"password": made.password, "new_password": "a new long password",
                                 "new_password2": "a new long password", "csrf_token": csrf, "next": "/roles"})
    assert r.status_code == 302 and r.headers["Location"] == "/roles"
    assert users_db(app).verify_password("dr.once", "a new long password") is not None
    assert not users_db(app).get("dr.once").must_change
    assert c.get("/api/programs").status_code == 200
    c2 = app.test_client()
    web_sign_in(c2, "dr.once", "a new long password")
    assert c2.get("/roles").status_code == 200


# The CLI contract ----------------------------------------------------------------------------------

def test_gapmap_user_add_prints_a_working_token_last(tmp_path, users_url, monkeypatch):
    """`gapmap user add NAME --role ROLE`: the last word of its output is an API token the server accepts."""
    store = str(tmp_path / "store")
    monkeypatch.setenv("GAPMAP_USERS_DB", users_url)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GAPMAP_STORE": store}
    out = subprocess.run([sys.executable, "-m", "service.cli", "user", "add", "dr.cli", "--role", "committee"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    token = out.stdout.split()[-1]
    r = CliRunner().invoke(main, ["--store", store, "user", "add", "dr.ed", "--role", "educator",
                                  "--course", "MED-101"])
    assert r.exit_code == 0, r.output
    ed_token = r.output.split()[-1]
    r = CliRunner().invoke(main, ["--store", store, "user", "add", "dr.cli", "--role", "viewer"])
    assert r.exit_code != 0 and "exists" in r.output
    from service.app import create_app
    app = create_app({"STORE_PATH": store, "TESTING": True, "CACHE_DIR": str(tmp_path / "cache")})
    c = app.test_client()
    me = c.get("/api/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert (me["name"], me["role"]) == ("dr.cli", "committee")
    me = c.get("/api/me", headers={"Authorization": f"Bearer {ed_token}"}).get_json()
    assert (me["role"], me["courses"]) == ("educator", ["MED-101"])
    # token rotation and revocation from the CLI
    r = CliRunner().invoke(main, ["--store", store, "user", "token", "dr.cli"])
    new = r.output.split()[-1]
    assert c.get("/api/me", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    CliRunner().invoke(main, ["--store", store, "user", "token", "dr.cli", "--revoke"])
    for t in (token, new):
        assert c.get("/api/me", headers={"Authorization": f"Bearer {t}"}).status_code == 401
    r = CliRunner().invoke(main, ["--store", store, "user", "list"])
    assert "dr.cli" in r.output and "committee" in r.output


def test_first_admin_is_created_once(tmp_path, users_url, monkeypatch):
    monkeypatch.setenv("GAPMAP_USERS_DB", users_url)
    store = ["--store", str(tmp_path / "store")]
    r = CliRunner().invoke(main, [*store, "init", "--data", str(MINI), "--no-align"])
    assert r.exit_code == 0, r.output
    assert "First admin created" in r.output
    lines = {ln.split(":", 1)[0].strip(): ln.split(":", 1)[1].strip() for ln in r.output.splitlines()
             if ln.startswith("  ") and ":" in ln}
    password, token = lines["one-time password"], lines["API token"]
    r = CliRunner().invoke(main, [*store, "init", "--data", str(MINI), "--no-align"])
    assert r.exit_code == 0 and "First admin" not in r.output
    from service.app import create_app
    app = create_app({"STORE_PATH": store[1], "TESTING": True, "CACHE_DIR": str(tmp_path / "cache")})
    c = app.test_client()
    assert c.get("/api/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert users_db(app).verify_password("admin", password).must_change
    assert [a.name for a in users_db(app).users() if a.role == "admin"] == ["admin"]


def test_user_db_is_safe_for_concurrent_use(users_url):
    """Threads of the server and a second connection (the CLI) writing at once: nothing lost, no errors."""
    import threading

    from service.users import UserDB
    path = users_url
    server, cli = UserDB(path), UserDB(path)
    tokens = [server.add_user(f"u{i}", "viewer").token for i in range(4)]
    errors = []

    def work(db, n):
        try:
            for j in range(40):
                db.audit(user=f"w{n}", institution="default", method="POST", path=f"/x/{j}", status=200)
                assert db.by_token(tokens[j % 4]) is not None
                if j % 10 == 0:
                    db.new_token(f"u{n % 4}")
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=work, args=(server if n % 2 else cli, n)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert server.audit_rows(per_page=1)["total"] == 8 * 40
    assert UserDB(path).audit_rows(per_page=1)["total"] == 8 * 40


def test_signing_out_ends_the_session_server_side(app):
    """A copied session cookie is worthless after sign-out, a password change or the user's removal."""
    users_db(app).add_user("dr.s", "committee", password="a long password")
    c = app.test_client()
    web_sign_in(c, "dr.s", "a long password")
    cookie = c.get_cookie("gapmap_session").value
    assert c.get("/api/me").status_code == 200
    thief = app.test_client()
    thief.set_cookie("gapmap_session", cookie)
    assert thief.get("/api/me").get_json()["name"] == "dr.s"
    assert c.post("/signout", data={"csrf_token": csrf_of(c)}).status_code == 302
    assert thief.get("/api/me").status_code == 401
    # a password change (here by the CLI) signs the user out everywhere
    web_sign_in(c, "dr.s", "a long password")
    assert c.get("/api/me").status_code == 200
    users_db(app).set_password("dr.s", "another long password")
    assert c.get("/api/me").status_code == 401
    web_sign_in(c, "dr.s", "another long password")
    users_db(app).remove_user("dr.s")
    assert c.get("/api/me").status_code == 401


def test_trusted_header_provider_only_when_configured(tmp_path, users_url):
    app = make_app(tmp_path, USERS_DB=users_url)
    users_db(app).add_user("dr.sso", "educator", courses=["MED-101"])
    c = app.test_client()
    assert c.get("/api/me", headers={"X-Remote-User": "dr.sso"}).status_code == 401  # off by default
    app2 = make_app(tmp_path / "2", USERS_DB=users_url, TRUSTED_USER_HEADER="X-Remote-User")  # same accounts
    c2 = app2.test_client()
    me = c2.get("/api/me", headers={"X-Remote-User": "dr.sso"}).get_json()
    assert (me["name"], me["role"], me["courses"]) == ("dr.sso", "educator", ["MED-101"])
    assert c2.get("/api/me", headers={"X-Remote-User": "nobody"}).status_code == 401
    # the browser's credential is ambient: its writes need the CSRF token like a cookie session's
    r = c2.post("/api/objectives/O1/alignments", json={"competency": "PC1", "framework": "mini"},
                headers={"X-Remote-User": "dr.sso"})
    assert r.status_code == 403 and r.get_json()["reason"] == "csrf"
