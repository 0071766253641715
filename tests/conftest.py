"""Shared fixtures: an in-memory store, the Flask app and its test client (as in Flask's tutorial)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.remote import drop_postgres_schema, postgres_schema
from tests.remote import oxigraph_server, postgres_server, redis_server, virtuoso_server  # noqa: F401  (fixtures: servers)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
#: the team's reference data beside the repo; absent on a user's fresh clone
SHARED = ROOT.parent / "shared"


def need_shared(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"reference data not available: {p} (../shared is beside the repo only on team machines and CI)")
    return p


@pytest.fixture
def store():
    from ontology.store import open_store
    return open_store(None)


@pytest.fixture
def app(tmp_path):
    from service.app import create_app
    return create_app({"STORE_PATH": "", "TESTING": True, "CACHE_DIR": str(tmp_path / "cache"),
                       "SPARQL_TIMEOUT": 2.0})


#: the account database backends (service/users.py) the account, auth and tenant tests run on
USERS_BACKENDS = ["sqlite", "postgresql"]


def users_db_url(request, backend: str, folder: Path) -> str:
    """A fresh, empty account database for ``GAPMAP_USERS_DB``: a SQLite file in ``folder``, or a new
    schema on the test PostgreSQL server (dropped, with its connections, when ``request``'s scope ends)."""
    if backend == "sqlite":
        return str(folder / "users.sqlite")
    url = postgres_schema(request.getfixturevalue("postgres_server"))
    request.addfinalizer(lambda: drop_postgres_schema(url))
    return url


@pytest.fixture(params=USERS_BACKENDS)
def users_url(request, tmp_path):
    """``GAPMAP_USERS_DB`` of a fresh account database, once on SQLite and once on PostgreSQL."""
    return users_db_url(request, request.param, tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


def bearer(app, role: str = "admin", name: str | None = None, *, institution: str = "default",
           courses=None) -> dict:
    """Request headers (``Authorization: Bearer …``) of a real user of ``app`` with that role, created on
    first use (with its institution when new).  Usable from fixtures of any scope; tests use ``auth``."""
    from service.auth import users_db
    key = name or (f"test-{role}" if institution == "default" else f"test-{role}-{institution}")
    made = app.extensions.setdefault("test_tokens", {})
    if key not in made:
        db = users_db(app)
        if not db.has_institution(institution):
            db.add_institution(institution)
        created = db.add_user(key, role, institution=institution, courses=courses)
        made[key] = {"Authorization": f"Bearer {created.token}"}
    return made[key]


def signed_client(app, role: str = "viewer", name: str | None = None, **kw):
    """A test client whose every request carries a user's bearer token (``bearer``)."""
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = bearer(app, role, name, **kw)["Authorization"]
    return c


def web_sign_in(client, name: str, password: str, next: str = "") -> str:
    """Sign ``client`` in through the sign-in form as a browser does; every later request of the client
    sends the session's CSRF token (as the page scripts do).  Returns the token."""
    import re
    client.environ_base.pop("HTTP_X_CSRF_TOKEN", None)  # a previous session's
    page = client.get("/signin").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post("/signin", data={"name": name, "password": password, "csrf_token": token, "next": next})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    with client.session_transaction() as s:
        client.environ_base["HTTP_X_CSRF_TOKEN"] = s["csrf"]
    return s["csrf"]


#: app fixtures ``auth`` looks for, in this order, among the test's fixtures (default: ``app``)
APP_FIXTURES = ("any_app", "sparql_app", "disk_app", "remote_app", "virtuoso_app", "any_remote_app", "app")


@pytest.fixture
def auth(request):
    """``auth("committee")`` → request headers (``Authorization: Bearer …``) of a real user of that role,
    created on first use in the test's app (``app``, or the SPARQL fixtures' app).

    ``auth("educator", courses=["MED-201"])``, ``auth("viewer", institution="other")`` (the institution is
    created if needed), ``auth(..., name="dr.adams")``; ``auth(..., app=some_app)`` for another app.
    Anonymous requests get 401; tests of writes and private reads send these headers.
    """
    def _app():
        for name in APP_FIXTURES:
            if name in request.fixturenames:
                return request.getfixturevalue(name)
        return request.getfixturevalue("app")

    def headers(role: str = "admin", name: str | None = None, *, institution: str = "default",
                courses=None, app=None) -> dict:
        return bearer(app or _app(), role, name, institution=institution, courses=courses)
    return headers


@pytest.fixture(autouse=True)
def _linking_settings_from_env():
    """create_app fixes the linking settings from its Config; the next test reads the environment again."""
    yield
    from linking import settings
    settings.reset()
