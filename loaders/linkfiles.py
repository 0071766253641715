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
from collections import ChainMap
from pathlib import Path
from typing import Iterator

from ontology.errors import LoadError

from .safety import parse_json

from linking.choice import linker_for
from linking.encoder import start_core_sample
from linking.engine import UNIT_MEMO_MAX, CompetencyText, Linker

BATCH = 256
#: sentences whose query units are encoded in one encoder call (fewer, fuller encoder batches than per BATCH)
ENCODE_BLOCK = 2048


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


def _text(v: str, key: str, p: str, n: int) -> str:
    """``v`` if it is encodable text: JSON may escape a lone UTF-16 surrogate ("\\ud800"), which no encoder or
    UTF-8 output can take."""
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        raise LoadError(f'"{key}" holds a lone surrogate escape (such as \\ud800), which is not text',
                        file=p, row=n, column=key) from None
    return v


def _str(obj: dict, key: str, p: str, n: int, *, required: bool = True) -> str:
    v = obj.get(key)
    if v is None:
        if required:
            raise LoadError(f'missing "{key}"', file=p, row=n, column=key)
        return ""
    if not isinstance(v, str):
        raise LoadError(f'"{key}" must be a string', file=p, row=n, column=key)
    _text(v, key, p, n)
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
        for a in alts:
            _text(a, "alt_labels", p, n)
        desc = _str(obj, "description", p, n, required=False)
        if uri in seen:
            raise LoadError(f"duplicate uri {uri!r} (first on line {seen[uri]})", file=p, row=n, column="uri")
        seen[uri] = n
        out.append(CompetencyText(uri=uri, label=label.strip(),
                                  alt_labels=tuple(a.strip() for a in alts if a.strip()),
                                  description=desc.strip()))
    return out


def read_queries(path: str | os.PathLike) -> list[tuple[object, str]]:
    """(id, text) pairs in file order.  Only ``id`` and ``text`` are looked at.  A repeated id is kept (the
    output mirrors the input line by line) and named once on stderr."""
    p = str(path)
    out = []
    seen: dict[object, int] = {}
    repeated: list[str] = []  # the first five, for the warning
    n_repeated = 0
    for n, obj in _json_lines(p):
        if "id" not in obj:
            raise LoadError('missing "id"', file=p, row=n, column="id")
        qid = obj["id"]
        if not isinstance(qid, (str, int)) or isinstance(qid, bool):
            raise LoadError('"id" must be a string or an integer', file=p, row=n, column="id")
        if isinstance(qid, str):
            _text(qid, "id", p, n)
        text = obj.get("text")
        if not isinstance(text, str):
            raise LoadError('missing "text"' if text is None else '"text" must be a string',
                            file=p, row=n, column="text")
        _text(text, "text", p, n)
        if qid in seen:
            n_repeated += 1
            if len(repeated) < 5:
                repeated.append(f"{qid!r} on lines {seen[qid]} and {n}")
        seen.setdefault(qid, n)
        out.append((qid, text))
    if repeated:
        more = f" and {n_repeated - 5} more" if n_repeated > 5 else ""
        print(f"warning: {p}: repeated id(s): {'; '.join(repeated)}{more} "
              "(each line still gets its own output line)", file=sys.stderr)
    return out


def _output_target(output_path, input_paths) -> tuple[Path, bool]:
    """Where to write and whether atomically: a regular file (or a new path) is written to a temporary file
    beside it and renamed over it; a symlink is followed (the link stays); a device, FIFO or other special
    file (``/dev/stdout``, a named pipe) is written through, never replaced.  Refuses the input files."""
    out = Path(output_path)
    real = Path(os.path.realpath(out))
    for q in input_paths:
        try:
            same = os.path.exists(real) and os.path.samefile(real, q)
        except OSError:
            same = False
        if same:
            raise LoadError(f"--output is the same file as {q}: refusing to overwrite an input", file=str(out))
    for folder in real.parents:  # mkdir would say "File exists" of a file standing where a folder should be
        if folder.exists():
            if not folder.is_dir():
                raise LoadError(f"--output's folder {folder} is a file", file=str(out))
            break
    if real.exists() and not real.is_file():
        if real.is_dir():
            raise LoadError("--output is a folder", file=str(out))
        return real, False
    return real, True


def _line(qid, matches) -> str:
    return json.dumps({
        "id": qid,
        "ranked": [m.uri for m in matches],
        "scores": [round(m.score, 6) for m in matches],
        "evidence": [m.evidence.to_dict() for m in matches],
        "precision": [round(m.precision, 4) for m in matches],
    }, ensure_ascii=False) + "\n"


def _keep(memo: dict, block: dict) -> None:
    """Carry a finished block's unit vectors into the run memo, up to its cap (later blocks repeat clauses)."""
    for u, v in block.items():
        if len(memo) >= UNIT_MEMO_MAX:
            break
        memo.setdefault(u, v)


def link_files(competencies_path, input_path, output_path, top: int = 10, progress: bool = True,
               *, cache_dir=None, linker: Linker | None = None, profile: str = "auto") -> dict:
    """Run the link command.  Returns a small summary (counts, model version).  ``output_path`` "-" writes to
    standard output.  A query whose text is blank gets an empty ranking."""
    if top < 1:
        raise LoadError("--top must be at least 1")
    to_stdout = str(output_path) == "-"
    start_core_sample()  # the encoder's thread count, sampled while the files are read
    target, atomic = (None, False) if to_stdout else _output_target(output_path, [input_path, competencies_path])
    comps = read_competencies(competencies_path)
    if not comps:
        raise LoadError("no competencies", file=str(competencies_path))
    queries = read_queries(input_path)
    if linker is None:  # the representation is chosen from the catalogue itself (engine.catalogue_stats)
        try:
            linker = linker_for(comps, purpose="link", profile=profile, cache_dir=cache_dir, progress=progress)
        except ValueError as e:  # a bad setting (GAPMAP_LINK_MODEL folder, profile): one line, not a traceback
            raise LoadError(str(e)) from None
    # query units repeat across batches (boilerplate clauses): a single-encoder linker encodes each once a run
    memo: dict | None = {} if isinstance(linker, Linker) else None
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}") if target is not None and atomic else None
    bar = None
    if progress and len(queries) > BATCH:
        from tqdm import tqdm

        bar = tqdm(total=len(queries), unit="sent", desc="linking", file=sys.stderr)
    try:
        try:
            if target is not None and atomic:
                target.parent.mkdir(parents=True, exist_ok=True)
            f = sys.stdout if to_stdout else open(tmp or target, "w", encoding="utf-8")
        except OSError as e:
            raise LoadError(f"cannot write --output: {e.strerror or e}", file=str(output_path)) from None
        try:
            block: dict = {}
            block_end = 0
            for b0 in range(0, len(queries), BATCH):
                batch = queries[b0:b0 + BATCH]
                live = [i for i, (_, t) in enumerate(batch) if t.strip()]
                texts = [batch[i][1] for i in live]
                if memo is not None and b0 >= block_end:  # the next block's units, one encoder call
                    _keep(memo, block)
                    block_end = b0 + max(ENCODE_BLOCK, BATCH)
                    block = linker.encode_units([t for _, t in queries[b0:block_end] if t.strip()], memo)
                ranked = linker.rank(texts, top_k=top, memo=ChainMap(block, memo)) if memo is not None \
                    else linker.rank(texts, top_k=top)
                by_row = dict(zip(live, ranked))
                f.write("".join(_line(qid, by_row.get(i, [])) for i, (qid, _) in enumerate(batch)))
                if bar is not None:
                    bar.update(len(batch))
            f.flush()
        finally:
            if f is not sys.stdout:
                f.close()
        if tmp is not None:
            os.replace(tmp, target)
    except OSError as e:  # a full disk, a folder made read-only meanwhile
        raise LoadError(f"cannot write --output: {e.strerror or e}", file=str(output_path)) from None
    finally:
        if bar is not None:
            bar.close()
        if tmp is not None and tmp.exists():
            tmp.unlink()
    return {"competencies": len(comps), "queries": len(queries), "model_version": linker.model_version,
            "profile": getattr(linker, "profile", None)}
