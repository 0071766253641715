"""The account database: institutions, users, API tokens, web sessions and the audit log (no flask here).

SQLite or PostgreSQL through SQLAlchemy Core, one schema and one behaviour for both (``USERS_DB`` /
``GAPMAP_USERS_DB``): a SQLite file beside the store (``var/users.sqlite`` by default; replicas on one host),
an in-memory SQLite database for tests, or ``postgresql://user:password@host/db`` (psycopg 3), which replicas
on several hosts share.  Every write is one transaction (see ``UserDB``); ``copy_db`` moves a database from
one to the other (``gapmap user copy-db``).

Passwords are stored as werkzeug scrypt hashes; API tokens as the SHA-256 of a
``secrets.token_urlsafe(32)`` token, which is shown once and never stored.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.pool import StaticPool
from werkzeug.security import check_password_hash, generate_password_hash

from ontology.errors import GapmapError

# the institution rule lives in a module without sqlalchemy, so every CLI command can check --institution cheaply
from .institutions import DEFAULT_INSTITUTION, AccountError, check_institution  # noqa: F401 (re-exported)

ROLES = ("viewer", "educator", "committee", "admin")
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
_COURSE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")

# One schema for both backends (SQLAlchemy Core renders it per dialect; "user" is quoted on PostgreSQL, where
# it is a reserved word).  A SQLite file made by earlier versions has these very tables and indexes.
_META = sa.MetaData()
INSTITUTIONS = sa.Table(
    "institutions", _META,
    sa.Column("id", sa.Text, primary_key=True), sa.Column("name", sa.Text, nullable=False),
    sa.Column("created", sa.Text, nullable=False))
USERS = sa.Table(
    "users", _META,
    sa.Column("name", sa.Text, primary_key=True), sa.Column("role", sa.Text, nullable=False),
    sa.Column("institution", sa.Text, sa.ForeignKey("institutions.id"), nullable=False),
    sa.Column("courses", sa.Text, nullable=False, server_default="[]"), sa.Column("pw_hash", sa.Text),
    sa.Column("must_change", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("created", sa.Text, nullable=False))
TOKENS = sa.Table(
    "tokens", _META,
    sa.Column("hash", sa.Text, primary_key=True),
    sa.Column("user", sa.Text, sa.ForeignKey("users.name", ondelete="CASCADE"), nullable=False),
    sa.Column("label", sa.Text), sa.Column("created", sa.Text, nullable=False), sa.Column("revoked", sa.Text),
    sa.Index("tokens_user", "user"))
SESSIONS = sa.Table(
    "sessions", _META,
    sa.Column("hash", sa.Text, primary_key=True),
    sa.Column("user", sa.Text, sa.ForeignKey("users.name", ondelete="CASCADE"), nullable=False),
    sa.Column("created", sa.Text, nullable=False), sa.Column("expires", sa.Float, nullable=False),
    sa.Index("sessions_user", "user"))
AUDIT = sa.Table(
    "audit", _META,
    # SQLite: INTEGER PRIMARY KEY AUTOINCREMENT (ids never reused); PostgreSQL: a bigint identity
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("at", sa.Text, nullable=False), sa.Column("user", sa.Text), sa.Column("institution", sa.Text),
    sa.Column("method", sa.Text, nullable=False), sa.Column("path", sa.Text, nullable=False),
    sa.Column("status", sa.Integer), sa.Column("summary", sa.Text),
    sa.Index("audit_inst", "institution", "id"),
    sqlite_autoincrement=True)
#: in foreign-key order (copy_db inserts in this order)
TABLES = (INSTITUTIONS, USERS, TOKENS, SESSIONS, AUDIT)
_PG_URL = re.compile(r"^postgres(?:ql)?(?:\+psycopg)?://", re.I)
_ANY_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
#: serialises schema creation of replicas starting at once (pg_advisory_xact_lock key; any constant)
_SCHEMA_LOCK = 0x6761706D6170


class AccountNotFound(AccountError):
    status = 404
    title = "Not found"


class AccountConflict(AccountError):
    status = 409
    title = "Conflict"


class AccountDBUnavailable(GapmapError):
    status = 503
    exit_code = 5
    title = "Account database unavailable"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_name(name) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise AccountError("a user name is 1-100 letters, digits, '.', '_', '@' or '-'", field="name")
    return name


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


def is_server_url(target: str | Path | None) -> bool:
    """Whether ``GAPMAP_USERS_DB`` names a PostgreSQL server (else it is a SQLite file path)."""
    return bool(target) and bool(_PG_URL.match(str(target)))


def safe_url(target: str | Path | None) -> str:
    """``target`` for messages and logs: a server URL without its password."""
    if not is_server_url(target):
        return str(target) if target else ":memory:"
    return _pg_url(str(target)).render_as_string(hide_password=True)


def _pg_url(target: str) -> sa.URL:
    url = sa.make_url(_PG_URL.sub("postgresql+psycopg://", target, count=1))
    return url


class UserDB:
    """The account database on SQLite (a file path, or in memory when ``target`` is empty) or on PostgreSQL
    (``postgresql://user:password@host:5432/db``: replicas on several hosts share it).

    Every write is one transaction.  On SQLite it starts with ``BEGIN IMMEDIATE`` (writers of all processes
    queue on the 10 s busy timeout, WAL lets readers go on); on PostgreSQL the unique keys decide between
    replicas writing at once (a second ``add_user`` of one name fails on the primary key: a 409, never a
    duplicate).  Reads (the token and session checks of every request) are one indexed SELECT."""

    def __init__(self, target: str | Path | None):
        self.target = str(target) if target else ":memory:"
        self.server = is_server_url(self.target)
        # the in-memory database is one connection: threads take turns (a file or server: one per thread)
        self._lock: threading.RLock | nullcontext = nullcontext()
        if self.server:
            self.engine = sa.create_engine(_pg_url(self.target), pool_size=5, max_overflow=10, pool_pre_ping=True,
                                           pool_recycle=3600)
            self.path = safe_url(self.target)
        else:
            if _ANY_URL.match(self.target):
                raise AccountError("GAPMAP_USERS_DB is a SQLite file path or a postgresql:// URL, not "
                                   f"{self.target.split(':', 1)[0]}://", field="GAPMAP_USERS_DB")
            self.path = self.target
            memory = self.path == ":memory:"
            if not memory:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(
                "sqlite://" if memory else f"sqlite:///{self.path}",
                connect_args={"timeout": 10.0, "check_same_thread": False},
                **({"poolclass": StaticPool} if memory else {}))
            if memory:
                self._lock = threading.RLock()
            sa.event.listen(self.engine, "connect", _sqlite_connect(wal=not memory))
            sa.event.listen(self.engine, "begin", _sqlite_begin)
        if self.server or self.path != ":memory:":
            _dispose_after_fork(self.engine)
        with self._tx() as c:
            if self.server:  # replicas starting at once: one creates the tables, the others see them
                c.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
            _META.create_all(c)
            c.execute(self._insert(INSTITUTIONS).values(id=DEFAULT_INSTITUTION, name="Default institution",
                                                        created=_now()).on_conflict_do_nothing())
        if not self.server and self.path != ":memory:":
            try:
                Path(self.path).chmod(0o600)
            except OSError:
                pass

    @property
    def _insert(self):
        return pg_insert if self.server else sqlite_insert

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        """A connection for reads (one snapshot until it is given back)."""
        with self._unavailable(), self._lock, self.engine.connect() as c:
            yield c

    @contextmanager
    def _tx(self, conflict: AccountError | None = None) -> Iterator[sa.Connection]:
        """One write transaction; a unique or foreign key broken by a concurrent writer (another replica)
        raises ``conflict`` (default: a generic 409) after the rollback."""
        try:
            with self._unavailable(), self._lock, self.engine.connect() as c:
                c.execution_options(gapmap_write=True)  # SQLite: BEGIN IMMEDIATE (_sqlite_begin)
                with c.begin():
                    yield c
        except sa.exc.IntegrityError as e:
            raise (conflict or AccountConflict("a concurrent change got there first; try again")) from e

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        # the server down or unreachable, SQLite locked past its busy timeout: a 503 naming the database
        try:
            yield
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as e:
            first = (str(e.orig or e).strip().splitlines() or [""])[0][:200]
            raise AccountDBUnavailable(f"the account database {self.path} is unavailable: {first}") from e

    def _rows(self, stmt) -> list[sa.RowMapping]:
        with self._read() as c:
            return list(c.execute(stmt).mappings())

    def _one(self, stmt) -> sa.RowMapping | None:
        rows = self._rows(stmt)
        return rows[0] if rows else None

    def _scalar(self, stmt):
        with self._read() as c:
            return c.execute(stmt).scalar()

    def close(self) -> None:
        with self._lock:
            self.engine.dispose()

    def counts(self) -> dict[str, int]:
        """Rows per table (``gapmap user copy-db`` reports them)."""
        return {t.name: int(self._scalar(sa.select(sa.func.count()).select_from(t))) for t in TABLES}

    # Institutions ----------------------------------------------------------------------------
    def add_institution(self, inst: str, name: str | None = None) -> dict:
        check_institution(inst)
        exists = AccountConflict(f"institution {inst!r} exists", field="institution")
        with self._tx(conflict=exists) as c:
            if c.execute(sa.select(INSTITUTIONS.c.id).where(INSTITUTIONS.c.id == inst)).first():
                raise exists
            c.execute(INSTITUTIONS.insert().values(id=inst, name=name or inst, created=_now()))
        return {"id": inst, "name": name or inst}

    def institutions(self) -> list[dict]:
        return [dict(r) for r in self._rows(sa.select(INSTITUTIONS).order_by(INSTITUTIONS.c.id))]

    def has_institution(self, inst: str) -> bool:
        return self._one(sa.select(INSTITUTIONS.c.id).where(INSTITUTIONS.c.id == inst)) is not None

    # Users -----------------------------------------------------------------------------------
    @staticmethod
    def _account(r: sa.RowMapping) -> Account:
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
        exists = AccountConflict(f"user {name!r} exists", field="name")
        # two replicas adding one name at once: both may pass the SELECT; the primary key fails the second
        with self._tx(conflict=exists) as c:
            if not c.execute(sa.select(INSTITUTIONS.c.id).where(INSTITUTIONS.c.id == institution)).first():
                raise AccountNotFound(f"institution {institution!r} does not exist (gapmap institution add)",
                                      field="institution")
            if c.execute(sa.select(USERS.c.name).where(USERS.c.name == name)).first():
                raise exists
            now = _now()
            c.execute(USERS.insert().values(name=name, role=role, institution=institution,
                                            courses=json.dumps(courses), pw_hash=pw_hash,
                                            must_change=int(must_change), created=now))
            c.execute(TOKENS.insert().values(hash=hash_token(token), user=name, label=token_label, created=now))
        return Created(self._get(name), token, password)

    def _get(self, name: str) -> Account:
        acc = self.get(name)
        if acc is None:  # removed by another process in between
            raise AccountNotFound(f"no user {name!r}", field="name")
        return acc

    def get(self, name: str) -> Account | None:
        r = self._one(sa.select(USERS).where(USERS.c.name == name)) if isinstance(name, str) else None
        return self._account(r) if r else None

    def users(self, institution: str | None = None) -> list[Account]:
        q = sa.select(USERS)
        q = (q.order_by(USERS.c.institution, USERS.c.name) if institution is None
             else q.where(USERS.c.institution == institution).order_by(USERS.c.name))
        return [self._account(r) for r in self._rows(q)]

    def remove_user(self, name: str, *, institution: str | None = None) -> None:
        with self._tx() as c:
            r = c.execute(sa.select(USERS.c.institution).where(USERS.c.name == name)).first()
            if r is None or (institution is not None and r.institution != institution):
                raise AccountNotFound(f"no user {name!r}", field="name")
            c.execute(TOKENS.delete().where(TOKENS.c.user == name))
            c.execute(SESSIONS.delete().where(SESSIONS.c.user == name))
            c.execute(USERS.delete().where(USERS.c.name == name))

    def any_admin(self, institution: str = DEFAULT_INSTITUTION) -> bool:
        return self._one(sa.select(USERS.c.name).where(USERS.c.role == "admin", USERS.c.institution == institution)
                         .limit(1)) is not None

    def set_password(self, name: str, password: str, *, must_change: bool = False) -> None:
        check_password(password, name)
        h = generate_password_hash(password, method="scrypt")
        with self._tx() as c:
            if c.execute(USERS.update().where(USERS.c.name == name)
                         .values(pw_hash=h, must_change=int(must_change))).rowcount != 1:
                raise AccountNotFound(f"no user {name!r}", field="name")
            c.execute(SESSIONS.delete().where(SESSIONS.c.user == name))  # signed out everywhere

    def is_current_password(self, name: str, password: str) -> bool:
        """Whether ``password`` is the user's current password (a new password must differ from it)."""
        r = self._one(sa.select(USERS.c.pw_hash).where(USERS.c.name == name))
        return bool(r and r["pw_hash"] and isinstance(password, str) and check_password_hash(r["pw_hash"], password))

    def verify_password(self, name: str, password: str) -> Account | None:
        r = self._one(sa.select(USERS).where(USERS.c.name == name)) if isinstance(name, str) else None
        if r is None or r["pw_hash"] is None or not isinstance(password, str):
            # the same work either way: no user-enumeration by timing
            check_password_hash(_dummy_hash(), password if isinstance(password, str) else "")
            return None
        return self._account(r) if check_password_hash(r["pw_hash"], password) else None

    # Tokens ----------------------------------------------------------------------------------
    def new_token(self, name: str, label: str = "api") -> Created:
        token = secrets.token_urlsafe(32)
        gone = AccountNotFound(f"no user {name!r}", field="name")
        with self._tx(conflict=gone) as c:  # (the user removed by another replica meanwhile: the foreign key)
            if not c.execute(sa.select(USERS.c.name).where(USERS.c.name == name)).first():
                raise gone
            c.execute(TOKENS.insert().values(hash=hash_token(token), user=name, label=label, created=_now()))
        return Created(self._get(name), token)

    def revoke_tokens(self, name: str) -> int:
        with self._tx() as c:
            return c.execute(TOKENS.update().where(TOKENS.c.user == name, TOKENS.c.revoked.is_(None))
                             .values(revoked=_now())).rowcount

    def revoke_token(self, token: str) -> bool:
        with self._tx() as c:
            return c.execute(TOKENS.update().where(TOKENS.c.hash == hash_token(token), TOKENS.c.revoked.is_(None))
                             .values(revoked=_now())).rowcount == 1

    _BY_TOKEN = (sa.select(USERS).join(TOKENS, TOKENS.c.user == USERS.c.name)
                 .where(TOKENS.c.hash == sa.bindparam("h"), TOKENS.c.revoked.is_(None)))

    def by_token(self, token: str) -> Account | None:
        """The account of an unrevoked API token (every API request: one primary-key lookup, no cache, so
        a revocation on any replica holds at once on all)."""
        if not isinstance(token, str) or not 20 <= len(token) <= 200:
            return None
        with self._read() as c:
            r = c.execute(self._BY_TOKEN, {"h": hash_token(token)}).mappings().first()
        return self._account(r) if r else None

    # Web sessions (server-side: signing out or removing a user ends them; the cookie holds only the id) -----
    def new_session(self, name: str, hours: float = 12.0) -> str:
        sid = secrets.token_urlsafe(32)
        with self._tx(conflict=AccountNotFound(f"no user {name!r}", field="name")) as c:
            c.execute(SESSIONS.delete().where(SESSIONS.c.expires < time.time()))
            c.execute(SESSIONS.insert().values(hash=hash_token(sid), user=name, created=_now(),
                                               expires=time.time() + hours * 3600))
        return sid

    _BY_SESSION = (sa.select(USERS).join(SESSIONS, SESSIONS.c.user == USERS.c.name)
                   .where(SESSIONS.c.hash == sa.bindparam("h"), SESSIONS.c.expires > sa.bindparam("now")))

    def session_user(self, sid: str) -> Account | None:
        if not isinstance(sid, str) or not 20 <= len(sid) <= 200:
            return None
        with self._read() as c:
            r = c.execute(self._BY_SESSION, {"h": hash_token(sid), "now": time.time()}).mappings().first()
        return self._account(r) if r else None

    def end_session(self, sid: str) -> None:
        if isinstance(sid, str):
            with self._tx() as c:
                c.execute(SESSIONS.delete().where(SESSIONS.c.hash == hash_token(sid)))

    def end_sessions(self, name: str) -> int:
        with self._tx() as c:
            return c.execute(SESSIONS.delete().where(SESSIONS.c.user == name)).rowcount

    # Audit -----------------------------------------------------------------------------------
    def audit(self, *, user: str | None, institution: str | None, method: str, path: str,
              status: int | None, summary: str = "") -> None:
        with self._tx() as c:
            c.execute(AUDIT.insert().values(at=_now(), user=user, institution=institution, method=method,
                                            path=path[:500], status=status, summary=(summary or "")[:500]))

    def audit_rows(self, *, institution: str | None = None, page: int = 1, per_page: int = 50) -> dict:
        where = [AUDIT.c.institution == institution] if institution else []
        with self._read() as c:  # one read transaction: the total matches the page
            total = c.execute(sa.select(sa.func.count()).select_from(AUDIT).where(*where)).scalar()
            rows = c.execute(sa.select(AUDIT).where(*where).order_by(AUDIT.c.id.desc())
                             .limit(per_page).offset((page - 1) * per_page)).mappings().all()
        return {"total": total, "page": page, "per_page": per_page, "entries": [dict(r) for r in rows]}


def _sqlite_connect(wal: bool):
    def on_connect(dbapi_con, _record) -> None:
        dbapi_con.isolation_level = None  # the driver's own BEGIN off: _sqlite_begin says which BEGIN
        cur = dbapi_con.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        if wal:
            cur.execute("PRAGMA journal_mode = WAL")
        cur.close()
    return on_connect


def _sqlite_begin(conn: sa.Connection) -> None:
    # writes take the write lock up front (no deadlock upgrading a read lock; others wait on the busy
    # timeout); reads take a snapshot (WAL: never blocked by a writer)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("gapmap_write") else "BEGIN")


def _dispose_after_fork(engine: sa.Engine) -> None:
    """A forked child (gunicorn with --preload, the SPARQL worker processes) must not use, nor close, its
    parent's pooled connections: it starts with an empty pool."""
    ref = weakref.ref(engine)

    def child() -> None:
        e = ref()
        if e is not None:
            e.dispose(close=False)
    os.register_at_fork(after_in_child=child)


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


def copy_db(source: UserDB, dest: UserDB) -> dict[str, int]:
    """Copy every row of ``source`` into ``dest`` (``gapmap user copy-db``: a SQLite file to PostgreSQL, or
    back), in one transaction on ``dest``, which must hold no accounts yet (a fresh database has only the
    default institution).  Password and token hashes, sessions and audit ids are kept as they are, so
    tokens, passwords and signed-in browsers go on working.  Returns the rows copied per table."""
    if source.target == dest.target:
        raise AccountError("copy-db needs two different databases", field="to")
    copied = {}
    with dest._tx() as c:
        for t in (USERS, TOKENS, SESSIONS, AUDIT):
            if c.execute(sa.select(sa.func.count()).select_from(t)).scalar():
                raise AccountConflict(f"{dest.path} already holds {t.name}: copy-db fills an empty account database",
                                      field="to")
        c.execute(INSTITUTIONS.delete())  # the default institution comes from the source like the rest
        with source._read() as s:  # one snapshot of the source (the server may keep running meanwhile)
            for t in TABLES:
                n, batch = 0, []
                for r in s.execute(sa.select(t).order_by(*t.primary_key.columns)).mappings():
                    batch.append(dict(r))
                    if len(batch) == 1000:
                        c.execute(t.insert(), batch)
                        n, batch = n + len(batch), []
                if batch:
                    c.execute(t.insert(), batch)
                    n += len(batch)
                copied[t.name] = n
        if dest.server:  # the audit ids were copied: new rows continue after them
            c.execute(sa.text("SELECT setval(pg_get_serial_sequence('audit', 'id'), "
                              "COALESCE((SELECT MAX(id) FROM audit), 0) + 1, false)"))
    return copied
