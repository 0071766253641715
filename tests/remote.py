"""SPARQL servers for tests of the remote store, started per module on 127.0.0.1 (ports 5171-5189, or the
range in ``GAPMAP_TEST_PORTS``, e.g. ``5620-5639``): an Oxigraph server (skipped with the reason when the
``oxigraph`` server CLI is not installed: ``pip install oxigraph``), Virtuoso Open Source (skipped without
Debian's ``virtuoso-opensource``) and Redis (skipped without Debian's ``redis-server``)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

def _ports() -> range:
    lo, _, hi = os.environ.get("GAPMAP_TEST_PORTS", "5171-5189").partition("-")
    return range(int(lo), int(hi or lo) + 1)


PORTS = _ports()  # this suite's ports (127.0.0.1 only)
_taken: set[int] = set()  # handed out in this process (a server may not be listening yet)


def oxigraph_binary() -> str | None:
    here = Path(sys.executable).parent / "oxigraph"
    return str(here) if here.exists() else shutil.which("oxigraph")


def _unavailable(server: str, reason: str):
    """Skip (the server is not installed here), or fail when ``GAPMAP_REQUIRE_SERVERS`` names it
    (CI's remote-store job: a skipped contract suite must not pass as green)."""
    required = {s.strip() for s in os.environ.get("GAPMAP_REQUIRE_SERVERS", "").split(",")}
    if server in required:
        pytest.fail(f"{server} is required here (GAPMAP_REQUIRE_SERVERS) but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    for p in PORTS:
        if p in _taken:
            continue
        with socket.socket() as s:
            # as the servers bind: a port whose last connections sit in TIME_WAIT is free
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                continue
        _taken.add(p)
        return p
    if os.environ.get("GAPMAP_REQUIRE_SERVERS"):
        pytest.fail(f"no free port in {PORTS.start}-{PORTS.stop - 1} (GAPMAP_TEST_PORTS)")
    pytest.skip(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def _stop(proc: subprocess.Popen, *ports: int, grace: float = 20) -> None:
    """Stop a server this module started (SIGTERM, then SIGKILL after ``grace`` s) and free its ports."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    _taken.difference_update(ports)


@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory):
    binary = oxigraph_binary()
    if binary is None:
        _unavailable("oxigraph", "the oxigraph server CLI is not installed (pip install oxigraph==0.5.13)")
    port = _free_port()
    loc = tmp_path_factory.mktemp("oxigraph")
    proc = subprocess.Popen([binary, "serve", "--location", str(loc), "--bind", f"127.0.0.1:{port}",
                             "--union-default-graph", "--timeout-s", "10"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/query?query=ASK%7B%7D", timeout=2).read()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("oxigraph server did not start")
    yield url
    _stop(proc, port)




# ------------------------------------------------------------------------------------------------ Virtuoso
VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = .
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 30
MaxQueryCostEstimationTime = 400
"""

#: what the anonymous SPARQL endpoint's user needs to write (run once through isql as dba)
VIRTUOSO_GRANTS = 'grant SPARQL_UPDATE to "SPARQL"; DB.DBA.RDF_DEFAULT_USER_PERMS_SET (\'nobody\', 7);'


def start_virtuoso(folder: Path, http_port: int, sql_port: int, timeout: float = 90) -> subprocess.Popen:
    """Virtuoso Open Source on 127.0.0.1 with its database in ``folder``; returns the process once
    ``/sparql`` answers and the SPARQL user may update (the commands docs/deploy.md shows)."""
    folder.mkdir(parents=True, exist_ok=True)
    ini = folder / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(d=folder, sql_port=sql_port, http_port=http_port))
    proc = subprocess.Popen(["virtuoso-t", "-f", "-c", str(ini)], cwd=folder, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{http_port}/sparql"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"virtuoso-t exited ({proc.returncode}); see {folder / 'virtuoso.log'}")
        try:
            urllib.request.urlopen(url + "?query=ASK%7B%7D", timeout=2).read()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("virtuoso did not start")
    subprocess.run(["isql-vt", str(sql_port), "dba", "dba", f"exec={VIRTUOSO_GRANTS}"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return proc


@pytest.fixture(scope="module")
def virtuoso_server(tmp_path_factory):
    """The ``/sparql`` URL of a fresh Virtuoso (its dialect: see docs/deploy.md)."""
    if shutil.which("virtuoso-t") is None or shutil.which("isql-vt") is None:
        _unavailable("virtuoso", "Virtuoso Open Source is not installed (Debian: apt-get install virtuoso-opensource)")
    http_port, sql_port = _free_port(), _free_port()
    try:
        proc = start_virtuoso(tmp_path_factory.mktemp("virtuoso"), http_port, sql_port)
    except (RuntimeError, subprocess.SubprocessError) as e:
        pytest.fail(f"virtuoso did not start: {e}")
    yield f"http://127.0.0.1:{http_port}/sparql"
    _stop(proc, http_port, sql_port)


# ------------------------------------------------------------------------------------------------ Redis
@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A ``redis://`` URL of a fresh redis-server (no persistence)."""
    binary = shutil.which("redis-server")
    if binary is None:
        _unavailable("redis", "redis-server is not installed (Debian: apt-get install redis-server)")
    try:
        import redis
    except ImportError:
        _unavailable("redis", "the redis client is not installed (pip install redis==5.2.1)")
    port = _free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    _stop(proc, port)


# ------------------------------------------------------------------------------------------------ PostgreSQL
def postgres_bin() -> Path | None:
    """The folder of initdb/pg_ctl/postgres: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / "initdb").exists() and (d / "postgres").exists():
            return d
    return None


def start_postgres(port: int, timeout: float = 60) -> tuple[subprocess.Popen, str, str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1:``port`` in a new temp folder (trust authentication,
    no fsync): (process, folder, URL of its ``gapmap`` database as the ``gapmap`` superuser).  initdb
    refuses to run as root, so as root the cluster belongs to the ``postgres`` (Debian) or ``nobody`` user."""
    import pwd
    import tempfile
    binary = postgres_bin()
    if binary is None:
        raise RuntimeError("PostgreSQL is not installed")
    folder = tempfile.mkdtemp(prefix="gapmap-pg-")
    kw: dict = {}
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            try:
                pw = pwd.getpwnam(name)
                break
            except KeyError:
                continue
        os.chown(folder, pw.pw_uid, pw.pw_gid)
        kw = {"user": pw.pw_uid, "group": pw.pw_gid}
    data = os.path.join(folder, "data")
    subprocess.run([str(binary / "initdb"), "-D", data, "-U", "gapmap", "--auth=trust", "-E", "UTF8", "--no-sync"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120, cwd=folder, **kw)
    proc = subprocess.Popen([str(binary / "postgres"), "-D", data, "-h", "127.0.0.1", "-p", str(port), "-k", folder,
                             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                             "-c", "max_connections=300"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=folder, start_new_session=True, **kw)
    import psycopg
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"postgres exited ({proc.returncode})")
        try:
            with psycopg.connect(f"postgresql://gapmap@127.0.0.1:{port}/postgres", autocommit=True) as c:
                c.execute("CREATE DATABASE gapmap")
            break
        except psycopg.OperationalError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("postgres did not start")
    return proc, folder, f"postgresql://gapmap@127.0.0.1:{port}/gapmap"


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a fresh PostgreSQL database (a throwaway cluster for the whole run)."""
    if postgres_bin() is None:
        _unavailable("postgres", "PostgreSQL is not installed (Debian: apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("postgres", "psycopg is not installed (pip install 'psycopg[binary]==3.3.9')")
    port = _free_port()
    try:
        proc, folder, url = start_postgres(port)
    except (RuntimeError, subprocess.SubprocessError) as e:
        pytest.fail(f"postgres did not start: {e}")
    yield url
    _stop(proc, port)
    shutil.rmtree(folder, ignore_errors=True)


_schemas = iter(range(1, 10**9))


def postgres_schema(url: str) -> str:
    """``url`` with a new empty schema as its search path (and as its application name, so its
    connections can be found): a fresh account database per test without a new database."""
    import psycopg
    name = f"t{os.getpid()}_{next(_schemas)}"
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {name}")
    return f"{url}?application_name={name}&options=-csearch_path%3D{name}"


def drop_postgres_schema(url: str) -> None:
    """Ends the connections of ``postgres_schema``'s URL (pools of apps a test left open) and drops it."""
    import psycopg
    name = url.rsplit("application_name=", 1)[1].split("&")[0]
    with psycopg.connect(url.split("?")[0], autocommit=True) as c:
        c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (name,))
        c.execute(f"DROP SCHEMA {name} CASCADE")
