"""Cells that a spreadsheet would run as formulas, neutralised (CSV/XLSX injection, OWASP).

Every CSV or XLSX Gapmap writes passes its text cells through :func:`safe_cell`: a value starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``, which spreadsheet
programs show as text and never evaluate.  Numbers stay numbers (only strings are touched).
"""
from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(df):
    """A copy of a pandas DataFrame whose text cells (and column names) are safe."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "str"):
            out[col] = out[col].map(safe_cell)
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out
