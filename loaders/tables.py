"""Reading folders of CSV tables (O*NET, ESCO exports) with errors that name file, row and column."""
from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd

from ontology.errors import LoadError

from .base import Context, Source, split_list
from .safety import check_lengths, csv_error


def folder_of(source: Source) -> Path:
    if source.path is None or not source.path.is_dir():
        raise LoadError("expected a folder of CSV files", file=source.name)
    return source.path


def folder_table(folder: Path, fname: str, required: list[str], *, optional_file: bool = False) -> pd.DataFrame | None:
    """``folder/fname`` as a DataFrame of stripped strings; checks presence, encoding, header and rows.

    Errors name the file as ``<folder>/<fname>``, the spreadsheet row (header = 1) and the column.
    """
    name = f"{folder.name}/{fname}"
    path = folder / fname
    if not path.is_file():
        if optional_file:
            return None
        raise LoadError(f"the folder has no {fname}", file=name)
    raw = path.read_bytes()
    if not raw.strip():
        raise LoadError("the file is empty", file=name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _encoding_error(raw, e, name) from None
    df = _read_csv(text, name)
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise LoadError(f"missing column(s): {', '.join(missing)}; the header has: {', '.join(df.columns)}",
                        file=name, row=1, column=missing[0])
    if df.empty:
        raise LoadError("the file has a header but no rows", file=name, row=2)
    for c in df.columns:
        df[c] = df[c].str.strip()
    check_lengths(df, name)
    return df


def _read_csv(text: str, name: str) -> pd.DataFrame:
    # Folders (ESCO, O*NET exports) are read from the server's disk by an admin, never uploaded:
    # no row limit here (ESCO's relation tables have over 100k rows).
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as e:
        raise csv_error(e, name) from None
    except pd.errors.EmptyDataError:
        raise LoadError("the file is empty", file=name) from None


def _encoding_error(raw: bytes, e: UnicodeDecodeError, name: str) -> LoadError:
    msg = f"not valid UTF-8 (byte {e.start}); save the file as UTF-8"
    line = raw[: e.start].count(b"\n") + 1
    try:  # find the cell that holds the bad byte
        df = pd.read_csv(io.StringIO(raw.decode("utf-8-sig", errors="replace")), dtype=str, keep_default_na=False)
    except Exception:
        return LoadError(msg, file=name, row=line)
    for col in df.columns:
        if "\ufffd" in str(col):
            return LoadError(msg, file=name, row=1, column=str(col).strip())
    hits = df.apply(lambda c: c.str.contains("\ufffd", regex=False))
    rows = hits.any(axis=1)
    if rows.any():
        i = int(rows.to_numpy().nonzero()[0][0])
        col = hits.columns[hits.iloc[i].to_numpy().nonzero()[0][0]]
        return LoadError(msg, file=name, row=i + 2, column=str(col).strip())
    return LoadError(msg, file=name, row=line)


def first_bad(mask: pd.Series) -> int | None:
    """Position (0-based) of the first True in a boolean Series, or None."""
    pos = mask.to_numpy().nonzero()[0]
    return int(pos[0]) if len(pos) else None


def number_column(df: pd.DataFrame, column: str, name: str, lo: float, hi: float) -> pd.Series:
    """The column as floats; a non-number or a value outside lo..hi is an error naming its row."""
    values = pd.to_numeric(df[column], errors="coerce")
    i = first_bad(values.isna())
    if i is not None:
        raise LoadError(f"{df[column].iloc[i]!r} is not a number", file=name, row=int(df.index[i]) + 2,
                        column=column)
    i = first_bad((values < lo) | (values > hi))
    if i is not None:
        raise LoadError(f"{values.iloc[i]} is out of range {lo:g}..{hi:g}", file=name,
                        row=int(df.index[i]) + 2, column=column)
    return values


def float_option(ctx: Context, name: str, default: float) -> float:
    v = ctx.option(name, default)
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise LoadError(f"option {name}={v!r} is not a number", column=name) from None
    if math.isnan(f):
        raise LoadError(f"option {name}={v!r} is not a number", column=name)
    return f


def list_option(ctx: Context, name: str) -> list[str] | None:
    v = ctx.option(name)
    if v in (None, "", []):
        return None
    return split_list(v) if isinstance(v, str) else [str(x).strip() for x in v]
