"""The account database: institutions, users, API tokens and the audit log (SQLite, stdlib; no flask here).

One file beside the store (``var/users.sqlite`` by default; ``USERS_DB`` / ``GAPMAP_USERS_DB``), or an
in-memory database for tests.  Every operation is one transaction on one connection guarded by a lock
(in-process threads) and SQLite's own locking with a busy timeout (the CLI and the server at once).

Passwords are stored as werkzeug scrypt hashes; API tokens as the SHA-256 of a
``secrets.token_urlsafe(32)`` token, which is shown once and never stored.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from ontology.errors import GapmapError

ROLES = ("viewer", "educator", "committee", "admin")
DEFAULT_INSTITUTION = "default"
MIN_PASSWORD = 12


def check_password(password, name: str) -> str:
    """THE password rule (every way a password is chosen: CLI, API, account page): 12-200 characters, at least
    two kinds of character (lower case, upper case, digits, others: spaces count), at least 6 different
    characters, and still 8 characters long without the user name in it.  A ``field="password"`` error."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= 200:
        raise AccountError(f"a password is {MIN_PASSWORD}-200 characters", field="password")
    kinds = sum(any(f(ch) for ch in password) for f in (str.islower, str.isupper, str.isdigit,
                                                         lambda ch: not ch.isalnum()))
    if kinds < 2:
        raise AccountError("a password mixes at least two kinds of character (lower case, upper case, digits, "
                           "spaces or punctuation)", field="password")
    if len(set(password)) < 6:
        raise AccountError("a password has at least 6 different characters", field="password")
    if name and len(re.sub(re.escape(name), "", password, flags=re.IGNORECASE)) < 8:
        raise AccountError("a password is more than the user name", field="password")
    return password
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_INSTITUTION = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_COURSE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS institutions (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, institution TEXT NOT NULL REFERENCES institutions(id),
  courses TEXT NOT NULL DEFAULT '[]', pw_hash TEXT, must_change INTEGER NOT NULL DEFAULT 0,
  created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
  hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  label TEXT, created TEXT NOT NULL, revoked TEXT);
CREATE INDEX IF NOT EXISTS tokens_user ON tokens(user);
CREATE TABLE IF NOT EXISTS sessions (
  hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  created TEXT NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT, institution TEXT,
  method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER, summary TEXT);
CREATE INDEX IF NOT EXISTS audit_inst ON audit(institution, id);
"""


class AccountError(GapmapError):
    status = 400
    title = "Bad account request"


class AccountNotFound(AccountError):
    status = 404
    title = "Not found"


class AccountConflict(AccountError):
    status = 409
    title = "Conflict"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_name(name) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise AccountError("a user name is 1-100 letters, digits, '.', '_', '@' or '-'", field="name")
    return name


def check_institution(inst) -> str:
    if not isinstance(inst, str) or not _INSTITUTION.match(inst):
        raise AccountError("an institution id is 1-40 lower-case letters, digits or '-'", field="institution")
    return inst


def check_role(role) -> str:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}", field="role")
    return role


def check_courses(courses) -> list[str]:
    if courses is None:
        return []
    if isinstance(courses, str):
        courses = [c for c in re.split(r"[,\s]+", courses) if c]
    if not isinstance(courses, (list, tuple, set, frozenset)) or not all(
            isinstance(c, str) and _COURSE.match(c) for c in courses):
        raise AccountError("courses is a list of course codes", field="courses")
    return sorted(set(courses))


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    institution: str
    courses: frozenset[str] = field(default_factory=frozenset)
    has_password: bool = False
    must_change: bool = False
    created: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "role": self.role, "institution": self.institution,
                "courses": sorted(self.courses), "has_password": self.has_password,
                "must_change_password": self.must_change, "created": self.created}


@dataclass(frozen=True)
class Created:
    """A new user (or a new token): the secrets are shown once, here."""
    account: Account
    token: str
    password: str | None = None

    def to_dict(self) -> dict:
        return {**self.account.to_dict(), "token": self.token,
                **({"password": self.password} if self.password else {})}


class UserDB:
    def __init__(self, path: str | Path | None):
        self.path = str(path) if path else ":memory:"
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._con = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False, isolation_level=None)
        self._con.row_factory = sqlite3.Row
        self._con.execute("PRAGMA foreign_keys = ON")
        if self.path != ":memory:":
            self._con.execute("PRAGMA journal_mode = WAL")
            try:
                Path(self.path).chmod(0o600)
            except OSError:
                pass
        with self._lock:
            self._con.executescript(SCHEMA)
        with self._tx() as c:
            c.execute("INSERT OR IGNORE INTO institutions VALUES (?, ?, ?)",
                      (DEFAULT_INSTITUTION, "Default institution", _now()))

    @contextmanager
    def _tx(self):
        """One write transaction (BEGIN IMMEDIATE: other processes wait on the busy timeout)."""
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                yield self._con
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")

    def _rows(self, sql: str, args=()) -> list[sqlite3.Row]:
        with self._lock:
            return self._con.execute(sql, args).fetchall()

    def close(self) -> None:
        with self._lock:
            self._con.close()

    # Institutions ----------------------------------------------------------------------------
    def add_institution(self, inst: str, name: str | None = None) -> dict:
        check_institution(inst)
        with self._tx() as c:
            if c.execute("SELECT 1 FROM institutions WHERE id = ?", (inst,)).fetchone():
                raise AccountConflict(f"institution {inst!r} exists", field="institution")
            c.execute("INSERT INTO institutions VALUES (?, ?, ?)", (inst, name or inst, _now()))
        return {"id": inst, "name": name or inst}

    def institutions(self) -> list[dict]:
        return [dict(r) for r in self._rows("SELECT id, name, created FROM institutions ORDER BY id")]

    def has_institution(self, inst: str) -> bool:
        return bool(self._rows("SELECT 1 FROM institutions WHERE id = ?", (inst,)))

    # Users -----------------------------------------------------------------------------------
    @staticmethod
    def _account(r: sqlite3.Row) -> Account:
        return Account(r["name"], r["role"], r["institution"], frozenset(json.loads(r["courses"])),
                       r["pw_hash"] is not None, bool(r["must_change"]), r["created"])

    def add_user(self, name: str, role: str, *, institution: str = DEFAULT_INSTITUTION,
                 courses=None, password: str | None = None, generate_password: bool = False,
                 token_label: str = "created with the account") -> Created:
        """Create a user with an API token; ``generate_password`` makes a one-time password
        (to change at first sign-in).  Both secrets are returned once."""
        check_name(name), check_role(role), check_institution(institution)
        courses = check_courses(courses)
        if password is not None:
            check_password(password, name)
        must_change = False
        if password is None and generate_password:
            password, must_change = secrets.token_urlsafe(12), True
        pw_hash = generate_password_hash(password, method="scrypt") if password else None
        token = secrets.token_urlsafe(32)
        with self._tx() as c:
            if not c.execute("SELECT 1 FROM institutions WHERE id = ?", (institution,)).fetchone():
                raise AccountNotFound(f"institution {institution!r} does not exist (gapmap institution add)",
                                      field="institution")
            if c.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AccountConflict(f"user {name!r} exists", field="name")
            now = _now()
            c.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (name, role, institution, json.dumps(courses), pw_hash, int(must_change), now))
            c.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, NULL)", (hash_token(token), name, token_label, now))
        return Created(self.get(name), token, password)

    def get(self, name: str) -> Account | None:
        rows = self._rows("SELECT * FROM users WHERE name = ?", (name,))
        return self._account(rows[0]) if rows else None

    def users(self, institution: str | None = None) -> list[Account]:
        if institution is None:
            rows = self._rows("SELECT * FROM users ORDER BY institution, name")
        else:
            rows = self._rows("SELECT * FROM users WHERE institution = ? ORDER BY name", (institution,))
        return [self._account(r) for r in rows]

    def remove_user(self, name: str, *, institution: str | None = None) -> None:
        with self._tx() as c:
            r = c.execute("SELECT institution FROM users WHERE name = ?", (name,)).fetchone()
            if r is None or (institution is not None and r["institution"] != institution):
                raise AccountNotFound(f"no user {name!r}", field="name")
            c.execute("DELETE FROM tokens WHERE user = ?", (name,))
            c.execute("DELETE FROM sessions WHERE user = ?", (name,))
            c.execute("DELETE FROM users WHERE name = ?", (name,))

    def any_admin(self, institution: str = DEFAULT_INSTITUTION) -> bool:
        return bool(self._rows("SELECT 1 FROM users WHERE role = 'admin' AND institution = ?", (institution,)))

    def set_password(self, name: str, password: str, *, must_change: bool = False) -> None:
        check_password(password, name)
        h = generate_password_hash(password, method="scrypt")
        with self._tx() as c:
            if c.execute("UPDATE users SET pw_hash = ?, must_change = ? WHERE name = ?",
                         (h, int(must_change), name)).rowcount != 1:
                raise AccountNotFound(f"no user {name!r}", field="name")
            c.execute("DELETE FROM sessions WHERE user = ?", (name,))  # signed out everywhere

    def is_current_password(self, name: str, password: str) -> bool:
        """Whether ``password`` is the user's current password (a new password must differ from it)."""
        rows = self._rows("SELECT pw_hash FROM users WHERE name = ?", (name,))
        return bool(rows and rows[0]["pw_hash"] and isinstance(password, str)
                    and check_password_hash(rows[0]["pw_hash"], password))

    def verify_password(self, name: str, password: str) -> Account | None:
        rows = self._rows("SELECT * FROM users WHERE name = ?", (name,)) if isinstance(name, str) else []
        if not rows or rows[0]["pw_hash"] is None or not isinstance(password, str):
            # the same work either way: no user-enumeration by timing
            check_password_hash(_dummy_hash(), password if isinstance(password, str) else "")
            return None
        return self._account(rows[0]) if check_password_hash(rows[0]["pw_hash"], password) else None

    # Tokens ----------------------------------------------------------------------------------
    def new_token(self, name: str, label: str = "api") -> Created:
        token = secrets.token_urlsafe(32)
        with self._tx() as c:
            if not c.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AccountNotFound(f"no user {name!r}", field="name")
            c.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, NULL)", (hash_token(token), name, label, _now()))
        return Created(self.get(name), token)

    def revoke_tokens(self, name: str) -> int:
        with self._tx() as c:
            return c.execute("UPDATE tokens SET revoked = ? WHERE user = ? AND revoked IS NULL",
                             (_now(), name)).rowcount

    def revoke_token(self, token: str) -> bool:
        with self._tx() as c:
            return c.execute("UPDATE tokens SET revoked = ? WHERE hash = ? AND revoked IS NULL",
                             (_now(), hash_token(token))).rowcount == 1

    def by_token(self, token: str) -> Account | None:
        if not isinstance(token, str) or not 20 <= len(token) <= 200:
            return None
        rows = self._rows("SELECT u.* FROM tokens t JOIN users u ON u.name = t.user "
                          "WHERE t.hash = ? AND t.revoked IS NULL", (hash_token(token),))
        return self._account(rows[0]) if rows else None

    # Web sessions (server-side: signing out or removing a user ends them; the cookie holds only the id) -----
    def new_session(self, name: str, hours: float = 12.0) -> str:
        import time
        sid = secrets.token_urlsafe(32)
        with self._tx() as c:
            c.execute("DELETE FROM sessions WHERE expires < ?", (time.time(),))
            c.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (hash_token(sid), name, _now(), time.time() + hours * 3600))
        return sid

    def session_user(self, sid: str) -> Account | None:
        import time
        if not isinstance(sid, str) or not 20 <= len(sid) <= 200:
            return None
        rows = self._rows("SELECT u.* FROM sessions s JOIN users u ON u.name = s.user "
                          "WHERE s.hash = ? AND s.expires > ?", (hash_token(sid), time.time()))
        return self._account(rows[0]) if rows else None

    def end_session(self, sid: str) -> None:
        if isinstance(sid, str):
            with self._tx() as c:
                c.execute("DELETE FROM sessions WHERE hash = ?", (hash_token(sid),))

    def end_sessions(self, name: str) -> int:
        with self._tx() as c:
            return c.execute("DELETE FROM sessions WHERE user = ?", (name,)).rowcount

    # Audit -----------------------------------------------------------------------------------
    def audit(self, *, user: str | None, institution: str | None, method: str, path: str,
              status: int | None, summary: str = "") -> None:
        with self._tx() as c:
            c.execute("INSERT INTO audit (at, user, institution, method, path, status, summary) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (_now(), user, institution, method, path[:500], status, (summary or "")[:500]))

    def audit_rows(self, *, institution: str | None = None, page: int = 1, per_page: int = 50) -> dict:
        where, args = ("WHERE institution = ?", (institution,)) if institution else ("", ())
        total = self._rows(f"SELECT COUNT(*) AS n FROM audit {where}", args)[0]["n"]
        rows = self._rows(f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                          (*args, per_page, (page - 1) * per_page))
        return {"total": total, "page": page, "per_page": per_page, "entries": [dict(r) for r in rows]}


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(generate_password_hash(secrets.token_hex(8), method="scrypt"))
    return _DUMMY[0]


def ensure_first_admin(db: UserDB, name: str = "admin") -> Created | None:
    """Create the default institution's first admin (one-time password + token), once; None if one exists."""
    if db.any_admin(DEFAULT_INSTITUTION):
        return None
    try:
        return db.add_user(name, "admin", generate_password=True, token_label="first admin")
    except AccountConflict:  # a non-admin of that name, or a concurrent first start
        return None
