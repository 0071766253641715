"""Helpers for breaking a copy of a real reference folder (O*NET, ESCO) one way at a time."""
from __future__ import annotations

from pathlib import Path

import pytest

from ontology.errors import LoadError


def copy_folder(src: Path, tmp_path: Path) -> Path:
    out = tmp_path / src.name
    out.mkdir()
    for f in src.iterdir():
        (out / f.name).write_bytes(f.read_bytes())
    return out


def edit_line(path: Path, lineno: int, old: bytes, new: bytes):
    """Replace ``old`` by ``new`` on line ``lineno`` (1-based physical line)."""
    lines = path.read_bytes().split(b"\n")
    assert old in lines[lineno - 1]
    lines[lineno - 1] = lines[lineno - 1].replace(old, new, 1)
    path.write_bytes(b"\n".join(lines))


def expect_error(load, folder: Path, file, row, column, match=None):
    """``load(folder)`` fails naming ``folder-name/file``, the row and the column."""
    with pytest.raises(LoadError) as e:
        load(folder)
    err = e.value
    assert (err.file, err.row, err.column) == (f"{folder.name}/{file}", row, column), str(err)
    if match:
        assert match in err.message, err.message
    return err
