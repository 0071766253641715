"""State that replicas share when the service runs as several processes or machines (``GAPMAP_REDIS``).

One process (the default) keeps everything in memory.  With ``GAPMAP_REDIS=redis://host:6379/0``:

* **jobs** (:class:`RedisJobStates`): a job started through replica A is polled from replica B
  (``GET /api/jobs/{id}``); the work runs in the replica that accepted it.
* **rate limits**: flask-limiter's counters live in Redis (``GAPMAP_RATELIMIT_STORAGE``, default the same
  URL), so ``10/minute`` means ten per minute across all replicas, not ten per replica.
* **rendered reports** (:func:`cached_body`): the gap report's rendered JSON/CSV body is kept in Redis under
  (store, generation, arguments), so one replica computes and the others serve it; every write changes the
  store's generation, so no replica serves a body from before a write.  Only stores whose generation means
  the same thing in every process share (the remote store: a token on the server); an embedded store's
  generation is a per-process counter, so its bodies stay in process memory.

Keys are prefixed ``gapmap:`` and scoped per institution (its IRI base) and per store; values are JSON
(never pickles: what Redis holds is data, not code).  Sessions and accounts live in the account
database (``GAPMAP_USERS_DB``: SQLite on one host, PostgreSQL across hosts): see docs/deploy.md.
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading

from .jobs import JobStates, MemoryJobStates

_clients: dict = {}
_lock = threading.Lock()

#: seconds a finished job's state is kept; a rendered report body (its key names a generation, so a stale
#: one is never served: the TTL only bounds memory)
JOB_TTL = 7 * 24 * 3600
BODY_TTL = 3600


def redis_client(url: str):
    """One client (a thread-safe connection pool) per URL and process."""
    c = _clients.get(url)
    if c is None:
        with _lock:
            c = _clients.get(url)
            if c is None:
                import redis
                c = _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5,
                                                         health_check_interval=30)
    return c


def redis_url(cfg) -> str:
    return (getattr(cfg, "REDIS_URL", "") or "").strip()


def ratelimit_storage(cfg) -> str:
    """flask-limiter's storage URI: ``GAPMAP_RATELIMIT_STORAGE``, else ``GAPMAP_REDIS``, else memory."""
    get = cfg.get if isinstance(cfg, dict) else (lambda k, d=None: getattr(cfg, k, d))
    return (get("RATELIMIT_STORAGE", "") or get("REDIS_URL", "") or "memory://").strip()


def _scope(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _unavailable(e):
    from ontology.errors import StoreUnavailable
    return StoreUnavailable(f"the job state store (Redis) is unreachable: {type(e).__name__}")


class RedisJobStates(JobStates):
    """Job state in Redis, one JSON value per job (``gapmap:job:<scope>:<id>``), so every replica answers
    ``GET /api/jobs/{id}``; ``scope`` keeps institutions apart.  Progress updates are merged in the
    replica that runs the job (it alone writes that job's state)."""

    def __init__(self, client, scope: str = ""):
        self.r = client
        self.prefix = f"gapmap:job:{_scope(scope)}:"
        self.index = f"gapmap:jobs:{_scope(scope)}"
        self._local = MemoryJobStates()

    def _put(self, job: dict) -> None:
        import redis
        try:
            self.r.set(self.prefix + job["id"], json.dumps(job), ex=JOB_TTL)
        except redis.RedisError as e:  # the job runs on; its state here is kept and written at the next update
            import logging
            logging.getLogger(__name__).warning("job %s: state not written to Redis (%s)", job["id"], e)

    def create(self, job):
        import redis
        self._local.create(job)
        try:
            pipe = self.r.pipeline()
            pipe.set(self.prefix + job["id"], json.dumps(job), ex=JOB_TTL)
            pipe.lpush(self.index, job["id"])
            pipe.ltrim(self.index, 0, 499)
            pipe.execute()
        except redis.RedisError as e:  # 503 before any work starts
            raise _unavailable(e) from None

    def update(self, job_id, **fields):
        self._local.update(job_id, **fields)
        j = self._local.get(job_id)
        if j is not None:
            self._put(j)

    def get(self, job_id):
        import redis
        if not isinstance(job_id, str) or not job_id.isalnum() or len(job_id) > 64:
            return None
        try:
            raw = self.r.get(self.prefix + job_id)
        except redis.RedisError as e:
            local = self._local.get(job_id)  # this replica's own job: still answerable
            if local is not None:
                return local
            raise _unavailable(e) from None
        return json.loads(raw) if raw else None

    def list(self, owner=None):
        import redis
        try:
            ids = [i.decode() for i in self.r.lrange(self.index, 0, 499)]
        except redis.RedisError:
            return self._local.list(owner)
        if not ids:
            return []
        jobs = [json.loads(v) for v in self.r.mget([self.prefix + i for i in ids]) if v]
        return [j for j in jobs if owner is None or j.get("owner") == owner]


class _Gen:
    """A store stand-in carrying a generation already read (so it is read once per request)."""

    __slots__ = ("generation",)

    def __init__(self, generation):
        self.generation = generation


def cached_body(ws, key: tuple, compute):
    """``compute() -> (body, mimetype, headers)`` cached on (store generation, ``key``): in this process
    (:func:`ontology.gaps.report_cache`) and, with ``GAPMAP_REDIS`` and a store every replica sees the same
    way (``store.cache_scope``), in Redis for the other replicas."""
    from ontology.gaps import report_cache, store_generation
    store = ws.store
    local = report_cache(store)
    url = redis_url(ws.config)
    scope = getattr(store, "cache_scope", None)
    if not url or scope is None:
        return local.get_or_compute(store, key, compute)
    gen = store_generation(store)
    rkey = "gapmap:body:" + _scope(json.dumps([scope, ws.ids.base, str(gen), [str(k) for k in key]]))

    def shared():
        r = redis_client(url)
        try:
            raw = r.get(rkey)
        except Exception:  # noqa: BLE001 - Redis down: serve from this process, do not fail the request
            raw = None
        if raw:
            d = json.loads(raw)
            body = base64.b64decode(d["b"]) if d.get("bin") else d["b"]
            return body, d["m"], d["h"]
        body, mimetype, headers = compute()
        binary = isinstance(body, bytes)
        try:
            r.set(rkey, json.dumps({"b": base64.b64encode(body).decode() if binary else body, "bin": binary,
                                    "m": mimetype, "h": dict(headers or {})}), ex=BODY_TTL)
        except Exception:  # noqa: BLE001
            pass
        return body, mimetype, headers
    return local.get_or_compute(_Gen(gen), key, shared)
