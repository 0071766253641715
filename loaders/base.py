"""The one small interface every loader implements.

A loader turns one outside source (a file, an upload, a folder of files) into a
:class:`Delta`: named graphs to replace, plus where each node came from so a SHACL
violation can name the file, row and column.  Loaders never write to the store and
never import flask.
"""
from __future__ import annotations

import csv
import io
import re
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rdflib import Graph, URIRef

from ontology.errors import LoadError
from ontology.fastgraph import fast_graph
from ontology.ids import Ids

if TYPE_CHECKING:  # pandas (~0.7 s to import) only where a table is read: `gapmap link` never reads one
    import pandas as pd

__all__ = ["Source", "Context", "Delta", "Loader", "LoadError", "split_list", "ID_RE"]

#: What an id from the input may look like (it becomes part of an IRI).
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class Source:
    """Bytes with a name (an upload), or a path on disk (a file or a folder)."""

    name: str
    data: bytes | None = None
    path: Path | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> "Source":
        p = Path(path)
        if not p.exists():
            raise LoadError("no such file or folder", file=str(p))
        return cls(name=p.name, path=p, data=None if p.is_dir() else p.read_bytes())

    def bytes(self) -> bytes:
        if self.data is None:
            raise LoadError("expected a file, got a folder", file=self.name)
        return self.data

    def text(self) -> str:
        raw = self.bytes()
        if not raw.strip():
            raise LoadError("the file is empty", file=self.name)
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            raise LoadError(f"not valid UTF-8 (byte {e.start}); save the file as UTF-8",
                            file=self.name, row=line) from None

    def table(self, required: list[str], optional: list[str] = (), *, sheet=None,
              row_factor: int = 1) -> pd.DataFrame:
        """The source as a DataFrame of strings (CSV, or XLSX when ``sheet`` is given or the name says so).

        Checks the header: every required column present, no unknown columns.
        """
        import pandas as pd

        from .safety import check_lengths, check_rows, check_zip, csv_error, max_rows
        limit = max_rows() * max(1, int(row_factor))  # e.g. learner results: 10x the table limit
        if sheet is not None or self.name.lower().endswith((".xlsx", ".xlsm")):
            data = self.bytes()
            check_zip(data, self.name, kind="XLSX workbook", max_bytes=max(len(data), 20 * 2**20))
            try:
                df = pd.read_excel(io.BytesIO(data), sheet_name=sheet or 0, dtype=str,
                                   keep_default_na=False, nrows=limit + 1)
            except Exception as e:  # openpyxl raises many kinds for a broken workbook
                msg = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
                raise LoadError(f"not a readable XLSX workbook: {msg}", file=self.name) from None
        else:
            text = self.text()
            check_row_widths(text, self.name)
            try:
                # index_col=False: a first row wider than the header must not become an index (shifting
                # every value one column left); check_row_widths refused any that carries a value
                with warnings.catch_warnings():  # the empty trailing fields it drops were checked above
                    warnings.simplefilter("ignore", pd.errors.ParserWarning)
                    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True,
                                     nrows=limit + 1, index_col=False)
            except pd.errors.ParserError as e:
                raise csv_error(e, self.name) from None
            except pd.errors.EmptyDataError:
                raise LoadError("the file is empty", file=self.name) from None
        check_rows(len(df), self.name, limit=limit)
        df.columns = [str(c).strip() for c in df.columns]
        missing = [c for c in required if c not in df.columns]
        if missing:
            raise LoadError(f"missing column(s): {', '.join(missing)}; the header has: "
                            f"{', '.join(df.columns)}", file=self.name, row=1, column=missing[0])
        unknown = [c for c in df.columns if c not in required and c not in optional]
        if unknown:
            raise LoadError(f"unknown column(s): {', '.join(unknown)}", file=self.name, row=1,
                            column=unknown[0])
        if df.empty:
            raise LoadError("the file has a header but no rows", file=self.name, row=2)
        for c in optional:
            if c not in df.columns:
                df[c] = ""
        df = df.apply(lambda col: col.str.strip())
        check_lengths(df, self.name)  # names 200, titles 500, texts 5,000 characters (loaders.safety)
        return df


@dataclass
class Context:
    """What a loader may know besides its source: how to mint IRIs, the store to resolve ids, options."""

    ids: Ids = field(default_factory=Ids)
    store: object | None = None  # ontology.store.Store, read-only use
    options: dict = field(default_factory=dict)

    def option(self, name: str, default=None, *, required=False):
        v = self.options.get(name, default)
        if required and not v:
            raise LoadError(f"the loader needs the option {name!r}", column=name)
        return v


@dataclass
class Delta:
    """Named graphs to replace, with the input position of each node for error messages."""

    graphs: dict[URIRef, Graph] = field(default_factory=dict)
    #: node -> (file, row)
    origin: dict[URIRef, tuple[str, int]] = field(default_factory=dict)
    #: predicate -> input column name
    columns: dict[URIRef, str] = field(default_factory=dict)
    #: counts for the user ("courses": 22, ...)
    summary: dict[str, int] = field(default_factory=dict)

    def graph(self, name: URIRef) -> Graph:
        if name not in self.graphs:
            self.graphs[name] = fast_graph()  # a lean store: ~4x faster to build and to read (ontology/fastgraph.py)
        return self.graphs[name]

    def __len__(self) -> int:
        return sum(len(g) for g in self.graphs.values())


class Loader(ABC):
    """Subclass, set the class attributes, implement :meth:`load`, and add a row for it to the table in
    ``loaders/registry.py`` (name, module, class, media types, extensions).  A loader never imports the
    registry."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    #: option name -> what it means
    options: ClassVar[dict[str, str]] = {}
    #: a table's required header columns (checked when loading, and read by :meth:`sniff`)
    columns: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def load(self, source: Source, ctx: Context) -> Delta: ...

    @classmethod
    def sniff(cls, data: bytes, filename: str) -> bool:
        """Whether the content looks like this loader's input, to choose between loaders that read the same
        media type or extension (``loaders.detect``).  By default: a table whose header has every column
        of :attr:`columns`."""
        return bool(cls.columns) and set(cls.columns) <= set(table_header(data, filename))


def check_row_widths(text: str, filename: str) -> None:
    """A CSV row with more fields than the header is a LoadError naming the row (pandas took a wider first
    row's extra field as an index and shifted every value one column); empty trailing fields pass."""
    width = None
    row = 0
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error:
            return  # text the csv module cannot split: pandas reports it (csv_error), naming the line
        if not fields:
            continue  # blank lines are skipped, as pandas skips them (row numbers stay the loaders')
        row += 1
        if width is None:
            width = len(fields)
        elif len(fields) > width and any(f.strip() for f in fields[width:]):
            # worded as safety.csv_error words pandas' own "Expected N fields" (one message for one fault)
            raise LoadError(f"malformed CSV: row {row} has {len(fields)} cells but the header has {width} (a "
                            "stray comma, or a cell holding a comma that is not in double quotes)",
                            file=filename, row=row, column=None)


def table_header(data: bytes, filename: str) -> list[str]:
    """The header row of a CSV or XLSX file (empty when it cannot be read)."""
    if filename.lower().endswith((".xlsx", ".xlsm")) or data[:4] == b"PK\x03\x04":
        from .safety import check_zip
        check_zip(data, filename, kind="XLSX workbook", max_bytes=max(len(data), 20 * 2**20))
        import pandas as pd

        try:
            head = pd.read_excel(io.BytesIO(data), nrows=0, dtype=str)
        except Exception:  # not a workbook: no header
            return []
        return [str(c).strip() for c in head.columns]
    line = data[:65536].split(b"\n", 1)[0]
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return []
    return [c.strip() for c in next(csv.reader([text]), [])]


def split_list(cell: str, sep: str = ";") -> list[str]:
    return [p.strip() for p in (cell or "").split(sep) if p.strip()]


def check_id(value: str, *, file: str, row: int, column: str) -> str:
    if not value:
        raise LoadError(f"{column} is empty", file=file, row=row, column=column)
    if not ID_RE.match(value):
        raise LoadError(f"{value!r} is not a valid id (letters, digits, '-', '_', '.')",
                        file=file, row=row, column=column)
    return value


def parse_int(value: str, *, file: str, row: int, column: str, lo: int | None = None,
              hi: int | None = None, required: bool = False) -> int | None:
    if value == "" or value is None:
        if required:
            raise LoadError(f"{column} is empty", file=file, row=row, column=column)
        return None
    try:
        n = int(float(value)) if re.fullmatch(r"\d+(\.0+)?", value) else int(value)
    except ValueError:
        raise LoadError(f"{value!r} is not a whole number", file=file, row=row, column=column) from None
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise LoadError(f"{n} is out of range {lo}..{hi}", file=file, row=row, column=column)
    return n
