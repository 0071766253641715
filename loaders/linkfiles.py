"""The ``gapmap link`` command contract: JSONL competencies + JSONL queries -> JSONL predictions.

* COMP.jsonl: one competency a line: ``{"uri", "label", "alt_labels"?: [..], "description"?}``.
* QUERIES.jsonl: ``{"id", "text", ...}``; every other key (``gold`` among them) is ignored and
  never read.
* PRED.jsonl: ``{"id", "ranked": [uri, ...], "scores": [..], "evidence": [..], "precision": [..]}``,
  best first, one line per query, in input order.

Malformed input raises :class:`ontology.errors.LoadError` naming the file and line.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Iterator

from ontology.errors import LoadError

from .safety import parse_json

from linking.choice import linker_for
from linking.engine import CompetencyText, Linker

BATCH = 256


def _json_lines(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    p = str(path)
    try:
        f = open(p, encoding="utf-8")
    except OSError as e:
        raise LoadError(f"cannot open: {e.strerror or e}", file=p) from None
    with f:
        try:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                obj = parse_json(line, p, what="this line",
                                 error=lambda msg, file=None, row=None, n=n: LoadError(msg, file=file, row=n))
                if not isinstance(obj, dict):
                    raise LoadError("expected a JSON object", file=p, row=n)
                yield n, obj
        except UnicodeDecodeError as e:
            raise LoadError(f"not UTF-8 text ({e.reason})", file=p) from None


def _str(obj: dict, key: str, p: str, n: int, *, required: bool = True) -> str:
    v = obj.get(key)
    if v is None:
        if required:
            raise LoadError(f'missing "{key}"', file=p, row=n, column=key)
        return ""
    if not isinstance(v, str):
        raise LoadError(f'"{key}" must be a string', file=p, row=n, column=key)
    if required and not v.strip():
        raise LoadError(f'"{key}" is empty', file=p, row=n, column=key)
    return v


def read_competencies(path: str | os.PathLike) -> list[CompetencyText]:
    p = str(path)
    out: list[CompetencyText] = []
    seen: dict[str, int] = {}
    for n, obj in _json_lines(p):
        uri = _str(obj, "uri", p, n)
        label = _str(obj, "label", p, n)
        alts = obj.get("alt_labels")
        if alts is None:
            alts = []
        if not isinstance(alts, list) or not all(isinstance(a, str) for a in alts):
            raise LoadError('"alt_labels" must be a list of strings', file=p, row=n, column="alt_labels")
        desc = _str(obj, "description", p, n, required=False)
        if uri in seen:
            raise LoadError(f"duplicate uri {uri!r} (first on line {seen[uri]})", file=p, row=n, column="uri")
        seen[uri] = n
        out.append(CompetencyText(uri=uri, label=label.strip(),
                                  alt_labels=tuple(a.strip() for a in alts if a.strip()),
                                  description=desc.strip()))
    return out


def read_queries(path: str | os.PathLike) -> list[tuple[object, str]]:
    """(id, text) pairs in file order.  Only ``id`` and ``text`` are looked at."""
    p = str(path)
    out = []
    for n, obj in _json_lines(p):
        if "id" not in obj:
            raise LoadError('missing "id"', file=p, row=n, column="id")
        qid = obj["id"]
        if not isinstance(qid, (str, int)) or isinstance(qid, bool):
            raise LoadError('"id" must be a string or an integer', file=p, row=n, column="id")
        text = obj.get("text")
        if not isinstance(text, str):
            raise LoadError('missing "text"' if text is None else '"text" must be a string',
                            file=p, row=n, column="text")
        out.append((qid, text))
    return out


def link_files(competencies_path, input_path, output_path, top: int = 10, progress: bool = True,
               *, cache_dir=None, linker: Linker | None = None, profile: str = "auto") -> dict:
    """Run the link command.  Returns a small summary (counts, model version)."""
    if top < 1:
        raise LoadError("--top must be at least 1")
    comps = read_competencies(competencies_path)
    if not comps:
        raise LoadError("no competencies", file=str(competencies_path))
    queries = read_queries(input_path)
    if linker is None:  # the representation is chosen from the catalogue itself (engine.catalogue_stats)
        linker = linker_for(comps, purpose="link", profile=profile, cache_dir=cache_dir, progress=progress)
    out = Path(output_path)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    # query units repeat across batches (boilerplate clauses): a single-encoder linker encodes each once a run
    memo: dict | None = {} if isinstance(linker, Linker) else None
    bar = None
    if progress and len(queries) > BATCH:
        from tqdm import tqdm

        bar = tqdm(total=len(queries), unit="sent", desc="linking", file=sys.stderr)
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            for b0 in range(0, len(queries), BATCH):
                batch = queries[b0:b0 + BATCH]
                texts = [t for _, t in batch]
                ranked = linker.rank(texts, top_k=top, memo=memo) if memo is not None else linker.rank(texts, top_k=top)
                for (qid, _), matches in zip(batch, ranked):
                    f.write(json.dumps({
                        "id": qid,
                        "ranked": [m.uri for m in matches],
                        "scores": [round(m.score, 6) for m in matches],
                        "evidence": [m.evidence.to_dict() for m in matches],
                        "precision": [round(m.precision, 4) for m in matches],
                    }, ensure_ascii=False) + "\n")
                if bar is not None:
                    bar.update(len(batch))
        os.replace(tmp, out)
    finally:
        if bar is not None:
            bar.close()
        if tmp.exists():
            tmp.unlink()
    return {"competencies": len(comps), "queries": len(queries), "model_version": linker.model_version,
            "profile": getattr(linker, "profile", None)}
