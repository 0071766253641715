"""The account database on both backends (service/users.py): replicas writing at once, a SQLite file of
earlier versions, and `gapmap user copy-db` from SQLite to PostgreSQL."""
from __future__ import annotations

import sqlite3
import threading

import pytest
from click.testing import CliRunner

from service.cli import main
from service.users import AccountConflict, AccountDBUnavailable, AccountError, UserDB
from tests.conftest import users_db_url

#: the schema of the SQLite-only versions (service/users.py before SQLAlchemy), verbatim
LEGACY_SCHEMA = """
CREATE TABLE institutions (id TEXT PRIMARY KEY, name TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, institution TEXT NOT NULL REFERENCES institutions(id),
  courses TEXT NOT NULL DEFAULT '[]', pw_hash TEXT, must_change INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL);
CREATE TABLE tokens (
  hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  label TEXT, created TEXT NOT NULL, revoked TEXT);
CREATE INDEX tokens_user ON tokens(user);
CREATE TABLE sessions (
  hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  created TEXT NOT NULL, expires REAL NOT NULL);
CREATE INDEX sessions_user ON sessions(user);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT, institution TEXT,
  method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER, summary TEXT);
CREATE INDEX audit_inst ON audit(institution, id);
"""


def test_two_replicas_adding_one_name_one_wins(users_url):
    """Two processes (replicas) over one database add the same user name at once, many times: exactly
    one succeeds each time, the other gets a 409 naming the user; never two rows, never another error."""
    a, b = UserDB(users_url), UserDB(users_url)
    try:
        for i in range(15):
            name, results = f"dr.race{i}", []
            start = threading.Barrier(2)

            def add(db, role):
                start.wait()
                try:
                    results.append(db.add_user(name, role).account.role)
                except AccountConflict as e:
                    results.append(e)
            threads = [threading.Thread(target=add, args=(db, role)) for db, role in ((a, "viewer"), (b, "admin"))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            won = [r for r in results if isinstance(r, str)]
            lost = [r for r in results if not isinstance(r, str)]
            assert len(won) == 1 and len(lost) == 1, results
            assert lost[0].status == 409 and f"user {name!r} exists" in str(lost[0])
            assert a.get(name).role == b.get(name).role == won[0]
        assert len(a.users()) == 15
    finally:
        a.close(), b.close()


def test_revocation_on_one_replica_holds_on_the_other(users_url):
    a, b = UserDB(users_url), UserDB(users_url)
    try:
        made = a.add_user("dr.r", "committee", password="a long password")
        assert b.by_token(made.token).name == "dr.r"
        sid = b.new_session("dr.r")
        assert a.session_user(sid).name == "dr.r"
        assert a.revoke_token(made.token)
        assert b.by_token(made.token) is None  # no per-process cache to go stale
        a.set_password("dr.r", "another long password")
        assert b.session_user(sid) is None
        assert b.verify_password("dr.r", "another long password") is not None
    finally:
        a.close(), b.close()


def test_a_sqlite_file_of_earlier_versions_opens_and_works(tmp_path):
    path = tmp_path / "users.sqlite"
    con = sqlite3.connect(path)
    con.executescript(LEGACY_SCHEMA)
    con.execute("INSERT INTO institutions VALUES ('default', 'Default institution', '2026-01-01T00:00:00+00:00')")
    con.execute("INSERT INTO audit (at, user, institution, method, path, status, summary) "
                "VALUES ('2026-01-01T00:00:00+00:00', 'old', 'default', 'POST', '/x', 200, '')")
    con.commit()
    con.close()
    db = UserDB(path)
    made = db.add_user("dr.new", "viewer")
    assert db.by_token(made.token).name == "dr.new"
    db.audit(user="new", institution="default", method="POST", path="/y", status=201)
    assert [e["user"] for e in db.audit_rows()["entries"]] == ["new", "old"]
    db.close()


def test_bad_users_db_values_are_clear_errors(postgres_server):
    with pytest.raises(AccountError, match="SQLite file path or a postgresql:// URL"):
        UserDB("mysql://db.internal/gapmap")
    # nothing listens on port 9 (discard): a 503 naming the database without its password
    with pytest.raises(AccountDBUnavailable) as e:
        UserDB("postgresql://gapmap:s3cret@127.0.0.1:9/gapmap?connect_timeout=3")
    assert e.value.status == 503 and "s3cret" not in str(e.value) and "127.0.0.1:9" in str(e.value)


def test_copy_db_moves_sqlite_accounts_to_postgresql(request, tmp_path, monkeypatch):
    """`gapmap user copy-db --to URL`: every row moves; tokens, passwords and sessions go on working there,
    audit ids continue after the copied ones; a second copy into the now non-empty database is refused."""
    src_path = str(tmp_path / "users.sqlite")
    src = UserDB(src_path)
    src.add_institution("north", "North Medical School")
    made = src.add_user("dr.pw", "educator", institution="north", courses=["MED-101"], password="a long password")
    old = src.new_token("dr.pw")
    assert src.revoke_token(old.token)
    sid = src.new_session("dr.pw")
    for i in range(3):
        src.audit(user="dr.pw", institution="north", method="POST", path=f"/x/{i}", status=200)
    src.close()
    url = users_db_url(request, "postgresql", tmp_path)
    monkeypatch.setenv("GAPMAP_USERS_DB", src_path)
    r = CliRunner().invoke(main, ["--store", str(tmp_path / "store"), "user", "copy-db", "--to", url])
    assert r.exit_code == 0, r.output
    assert "2 institutions, 1 users, 2 tokens, 1 sessions, 3 audit" in r.output
    dst = UserDB(url)
    try:
        acc = dst.by_token(made.token)
        assert (acc.name, acc.role, acc.institution, sorted(acc.courses)) == ("dr.pw", "educator", "north", ["MED-101"])
        assert dst.by_token(old.token) is None  # revoked stays revoked
        assert dst.verify_password("dr.pw", "a long password") is not None
        assert dst.session_user(sid).name == "dr.pw"
        assert [i["id"] for i in dst.institutions()] == ["default", "north"]
        entries = dst.audit_rows()["entries"]
        assert [e["id"] for e in entries] == [4, 3, 2, 1] and "copy-db" in entries[0]["summary"]
        dst.audit(user="x", institution="north", method="POST", path="/z", status=200)
        assert dst.audit_rows(per_page=1)["entries"][0]["id"] == 5
    finally:
        dst.close()
    r = CliRunner().invoke(main, ["--store", str(tmp_path / "store"), "user", "copy-db", "--to", url])
    assert r.exit_code != 0 and "already holds" in r.output
