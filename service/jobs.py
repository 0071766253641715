"""Long work (align a program, large loads, syllabus alignment) as jobs with progress.

A job runs in an in-process thread pool by default; its state (status, progress, result or
error) lives behind :class:`JobStates`, a small interface so a shared backend (the store, Redis)
can replace process memory when the service is scaled out to several processes.

    jobs = Jobs()                                   # MemoryJobStates, 2 worker threads
    job = jobs.submit("align", lambda progress: ws.align("md", progress=progress).to_dict())
    jobs.get(job["id"])   # {"id", "kind", "status": queued|running|succeeded|failed, "progress", ...}

The function receives ``progress(done, total, message="")``; its return value (JSON-able) is the
job's result; a :class:`~ontology.errors.GapmapError` becomes the job's ``error`` (problem details),
any other exception a generic 500 problem (logged, never its text: it may hold internals).
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from ontology.errors import GapmapError

log = logging.getLogger(__name__)

STATUSES = ("queued", "running", "succeeded", "failed")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class JobStates(ABC):
    """Where job state lives. Implement these four for a shared backend."""

    @abstractmethod
    def create(self, job: dict) -> None: ...

    @abstractmethod
    def update(self, job_id: str, **fields) -> None: ...

    @abstractmethod
    def get(self, job_id: str) -> dict | None: ...

    @abstractmethod
    def list(self, owner: str | None = None) -> list[dict]: ...


class MemoryJobStates(JobStates):
    """Process memory (the default: one process per store). Keeps the last ``keep`` jobs."""

    def __init__(self, keep: int = 500):
        self.keep = keep
        self._jobs: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, job):
        with self._lock:
            self._jobs[job["id"]] = dict(job)
            while len(self._jobs) > self.keep:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest]["status"] in ("queued", "running"):
                    break  # never forget a live job
                self._jobs.popitem(last=False)

    def update(self, job_id, **fields):
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id].update(fields)

    def get(self, job_id):
        with self._lock:
            j = self._jobs.get(job_id)
            return None if j is None else {k: (dict(v) if isinstance(v, dict) else v) for k, v in j.items()}

    def list(self, owner=None):
        with self._lock:
            return [dict(j) for j in self._jobs.values() if owner is None or j.get("owner") == owner]


class StoreJobStates(JobStates):
    """Job state in the shared store (``put_state``/``get_state`` of :class:`ontology.store_remote.RemoteStore`),
    so every replica answers ``GET /api/jobs/{id}`` for a job another replica runs. The work itself
    runs in the replica that accepted it (a job whose replica dies stays "running": a real queue, e.g.
    Redis + a worker pool, is the next step when that matters)."""

    def __init__(self, store):
        self.store = store
        self._local = MemoryJobStates()  # this replica's jobs, to merge progress updates

    def create(self, job):
        self._local.create(job)
        self.store.put_state(f"job:{job['id']}", json.dumps(job))

    def update(self, job_id, **fields):
        self._local.update(job_id, **fields)
        j = self._local.get(job_id)
        if j is not None:
            self.store.put_state(f"job:{job_id}", json.dumps(j))

    def get(self, job_id):
        raw = self.store.get_state(f"job:{job_id}")
        return json.loads(raw) if raw else None

    def list(self, owner=None):
        return self._local.list(owner)


class Jobs:
    """Submit work; poll its state."""

    def __init__(self, states: JobStates | None = None, workers: int = 2):
        self.states = states or MemoryJobStates()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gapmap-job")

    def submit(self, kind: str, fn, *, owner: str | None = None, params: dict | None = None) -> dict:
        job = {"id": uuid.uuid4().hex, "kind": kind, "status": "queued", "owner": owner,
               "params": params or {}, "progress": {"done": 0, "total": None, "message": "queued"},
               "created": _now(), "started": None, "finished": None, "result": None, "error": None}
        self.states.create(job)
        self._pool.submit(self._run, job["id"], fn)
        return self.states.get(job["id"])

    def _run(self, job_id, fn):
        last = [0.0]

        def progress(done, total=None, message=""):
            # at most ~20 updates a second reach the state backend (it may be remote)
            now = time.monotonic()
            if now - last[0] < 0.05 and (total is None or done < total):
                return
            last[0] = now
            self.states.update(job_id, progress={"done": done, "total": total, "message": message})

        self.states.update(job_id, status="running", started=_now(),
                           progress={"done": 0, "total": None, "message": "started"})
        try:
            result = fn(progress)
        except GapmapError as e:
            self.states.update(job_id, status="failed", finished=_now(), error=e.to_dict(),
                               progress=self._ended(job_id, "failed"))
        except Exception:  # noqa: BLE001 - a job must end in a state, whatever happened
            log.exception("job %s failed", job_id)
            self.states.update(job_id, status="failed", finished=_now(),
                               error={"title": "Internal error", "status": 500,
                                      "detail": "the job failed; see the service log"},
                               progress=self._ended(job_id, "failed"))
        else:
            p = self._ended(job_id, "done")
            p["done"] = p.get("total") or p.get("done") or 0
            self.states.update(job_id, status="succeeded", finished=_now(), result=result, progress=p)

    def _ended(self, job_id: str, message: str) -> dict:
        """The job's progress as it stood, saying how it ended (not "started" on a job that failed)."""
        p = dict((self.states.get(job_id) or {}).get("progress") or {})
        p["message"] = message
        return p

    def get(self, job_id: str) -> dict | None:
        return self.states.get(job_id)

    def wait(self, job_id: str, timeout: float = 60.0) -> dict | None:
        """Poll until the job ends (tests, the CLI)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            j = self.get(job_id)
            if j is None or j["status"] in ("succeeded", "failed"):
                return j
            time.sleep(0.05)
        return self.get(job_id)

    def shutdown(self):
        self._pool.shutdown(wait=False, cancel_futures=True)


class ProgressLinker:
    """A linker that ranks in chunks and reports progress (ranking is per query: chunking does not
    change the result)."""

    def __init__(self, linker, progress, chunk: int = 256):
        self._linker, self._progress, self._chunk = linker, progress, chunk

    def __getattr__(self, name):
        return getattr(self._linker, name)

    def rank(self, texts, top_k: int = 10):
        texts = list(texts)
        out = []
        for i in range(0, len(texts), self._chunk):
            out += self._linker.rank(texts[i:i + self._chunk], top_k=top_k)
            self._progress(len(out), len(texts), f"ranked {len(out)} of {len(texts)} objectives")
        return out
