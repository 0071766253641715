"""Token and session check latency of the account database (service/users.py), per backend, in one run.

Every API request checks its bearer token (``UserDB.by_token``: one indexed SELECT joining tokens and users,
no cache, so a revocation holds at once on every replica); a browser's request checks its session
(``session_user``).  Compared side by side: the previous implementation (stdlib sqlite3, one connection,
the same SQL), the SQLAlchemy one on a SQLite file, and on PostgreSQL (a throwaway local cluster, as the
tests start it: TCP over 127.0.0.1, so a real network adds its round trip).  Also a check from 8 threads
at once (gunicorn's gthread workers).  Writes bench/results/users_token.json.

    .venv/bin/python bench/users_token.py [--n 3000]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _stats(samples: list[float]) -> dict:
    s = sorted(samples)
    return {"p50_us": round(statistics.median(s) * 1e6, 1), "p99_us": round(s[int(len(s) * 0.99) - 1] * 1e6, 1),
            "mean_us": round(statistics.fmean(s) * 1e6, 1), "n": len(s)}


def _time(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _threads(fn, n: int, workers: int = 8) -> dict:
    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        list(ex.map(lambda _: fn(), range(n)))
    s = time.perf_counter() - t
    return {"checks_per_s": round(n / s), "threads": workers}


def _fill(db, users: int = 200) -> tuple[str, str]:
    """``users`` accounts with a token each (and a session for the last): returns (token, session id)."""
    token = sid = ""
    for i in range(users):
        made = db.add_user(f"user{i}", "viewer")
        token = made.token
    sid = db.new_session(f"user{users - 1}")
    return token, sid


def _legacy(path: str, token: str):
    """The previous UserDB.by_token: stdlib sqlite3, one connection behind a lock, the same query."""
    from service.users import hash_token
    con = sqlite3.connect(path, timeout=10.0, check_same_thread=False, isolation_level=None)
    con.row_factory = sqlite3.Row
    lock = threading.RLock()

    def check():
        with lock:
            rows = con.execute("SELECT u.* FROM tokens t JOIN users u ON u.name = t.user "
                               "WHERE t.hash = ? AND t.revoked IS NULL", (hash_token(token),)).fetchall()
        assert rows
    return check


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--out", default=str(ROOT / "bench/results/users_token.json"))
    a = ap.parse_args()
    from service.users import UserDB
    from tests.remote import postgres_bin, start_postgres
    out: dict = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "load_average_start": os.getloadavg(),
                 "cpus": os.cpu_count(), "n": a.n, "users": 200, "backends": {}}
    folder = tempfile.mkdtemp(prefix="gapmap-users-bench-")
    proc = pg_folder = None
    try:
        sqlite_path = os.path.join(folder, "users.sqlite")
        targets = {"sqlite (SQLAlchemy)": sqlite_path}
        if postgres_bin() is not None:
            import socket
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            proc, pg_folder, url = start_postgres(port)
            targets["postgresql (SQLAlchemy + psycopg 3, 127.0.0.1)"] = url
        else:
            out["postgresql"] = "skipped: PostgreSQL is not installed"
        for label, target in targets.items():
            db = UserDB(target)
            token, sid = _fill(db)
            for _ in range(200):  # warm the pool and the statement cache
                db.by_token(token)
            r = {"by_token": _stats(_time(lambda: db.by_token(token), a.n)),
                 "session_user": _stats(_time(lambda: db.session_user(sid), a.n)),
                 "by_token_8_threads": _threads(lambda: db.by_token(token), a.n)}
            if target == sqlite_path:
                legacy = _legacy(sqlite_path, token)
                for _ in range(200):
                    legacy()
                out["backends"]["sqlite (previous: stdlib sqlite3)"] = {
                    "by_token": _stats(_time(legacy, a.n)), "by_token_8_threads": _threads(legacy, a.n)}
            out["backends"][label] = r
            db.close()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)
        if pg_folder:
            shutil.rmtree(pg_folder, ignore_errors=True)
    out["load_average_end"] = os.getloadavg()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
