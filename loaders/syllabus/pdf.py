"""PDF: pages -> lines (pypdf, with page numbers and a simple two-column reorder) -> blocks."""
from __future__ import annotations

import io
import logging
import re
from collections import Counter

from .blocks import Line, drop_furniture, lines_to_blocks, norm_ws, split_marker
from .errors import CorruptDocument, EncryptedDocument, NoTextLayer, UnsafeDocument, short_reason
from .metadata import junk_title

MAX_PDF_PAGES = 1000


class _LogCollector(logging.Handler):
    """Collects pypdf's log warnings (repairs it made) for the result's warnings, instead of stderr."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        msg = record.getMessage()
        if msg not in self.messages and len(self.messages) < 5:
            self.messages.append(msg)


def pdf_blocks(data: bytes, filename: str, warnings: list[str]):
    log = logging.getLogger("pypdf")
    collector = _LogCollector()
    log.addHandler(collector)
    try:
        return _pdf_read(data, filename, warnings)
    finally:
        log.removeHandler(collector)
        warnings.extend(f"PDF reader: {m}" for m in collector.messages)


def _pdf_read(data: bytes, filename: str, warnings: list[str]):
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception as e:  # pypdf raises many kinds for a broken file
        raise CorruptDocument(f"this PDF is corrupt and cannot be read ({short_reason(e)})", file=filename) from None
    if encrypted:
        try:
            ok = reader.decrypt("")
        except (DependencyError, NotImplementedError) as e:
            raise EncryptedDocument(f"this PDF is encrypted with a method Gapmap cannot open ({short_reason(e)}); "
                                    "remove the encryption and upload it again", file=filename) from None
        except Exception:
            ok = 0
        if not ok:
            raise EncryptedDocument("this PDF is encrypted (password-protected); remove the password and "
                                    "upload it again", file=filename)
        warnings.append("the PDF is encrypted with an owner password only; it was read without one")
    try:
        n = len(reader.pages)
    except FileNotDecryptedError:
        raise EncryptedDocument("this PDF is encrypted (password-protected)", file=filename) from None
    except Exception as e:
        raise CorruptDocument(f"this PDF is corrupt: its page tree cannot be read ({short_reason(e)})",
                              file=filename) from None
    if n == 0:
        raise CorruptDocument("this PDF is corrupt or truncated: no pages could be read", file=filename)
    if n > MAX_PDF_PAGES:
        raise UnsafeDocument(f"this PDF has {n} pages; at most {MAX_PDF_PAGES} are read", file=filename)

    per_page: list[list[Line]] = []
    empty_pages, bad_pages = [], []
    for pno in range(1, n + 1):
        try:
            page = reader.pages[pno - 1]
            page_lines = _pdf_page_lines(page, pno)
        except (PdfReadError, Exception) as e:  # noqa: B014 - any failure on one page
            bad_pages.append((pno, short_reason(e)))
            continue
        if not page_lines:
            empty_pages.append(pno)
        per_page.append(page_lines)
    lines: list[Line] = [ln for page_lines in drop_furniture(per_page) for ln in page_lines]
    if bad_pages and len(bad_pages) == n:
        raise CorruptDocument(f"this PDF is corrupt: no page could be read ({bad_pages[0][1]})", file=filename)
    if not any(ln.text.strip() for ln in lines):
        if bad_pages:
            raise CorruptDocument(f"this PDF is corrupt: page {bad_pages[0][0]} cannot be read "
                                  f"({bad_pages[0][1]}) and no page has text", file=filename)
        raise NoTextLayer("this PDF has no text layer (scanned?); OCR is not done. Upload the original "
                          "document or a PDF with selectable text", file=filename)
    for pno, why in bad_pages:
        warnings.append(f"page {pno} could not be read ({why})")
    if empty_pages:
        warnings.append(f"page(s) {_ranges(empty_pages)} have no text layer (scanned?); OCR is not done")

    # heading levels from font sizes: the body size is the commonest (by characters)
    sizes = Counter()
    for ln in lines:
        if ln.size:
            sizes[round(ln.size, 1)] += len(ln.text)
    body = sizes.most_common(1)[0][0] if sizes else None
    if body:
        big = sorted({s for s in sizes if s >= body * 1.12}, reverse=True)
        for ln in lines:
            if ln.size and round(ln.size, 1) in big and len(ln.text.split()) <= 20 and not split_marker(ln.text):
                ln.heading = big.index(round(ln.size, 1)) + 1
            elif ln.bold and len(ln.text.split()) <= 15 and not ln.text.rstrip().endswith(".") \
                    and not split_marker(ln.text) and (ln.size or 0) >= body * 0.95:
                ln.heading = len(big) + 1
    blocks = lines_to_blocks(lines, pdf=True)

    meta_title = None
    try:
        meta = reader.metadata
        if meta and meta.title:
            meta_title = norm_ws(str(meta.title))
    except Exception:
        pass
    if meta_title and junk_title(meta_title):
        meta_title = None
    return blocks, meta_title, n


def _pdf_page_lines(page, pno: int) -> list[Line]:
    frags: list[tuple[float, float, float, bool, str]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if not text or not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = (abs(tm[0] * cm[0] + tm[1] * cm[2]) + abs(tm[2] * cm[1] + tm[3] * cm[3])) / 2 or 1.0
        size = float(font_size or 0) * scale
        base = str((font_dict or {}).get("/BaseFont", "")) if font_dict else ""
        bold = bool(re.search(r"bold|black|heavy|semibold", base, re.I))
        for k, part in enumerate(text.split("\n")):
            if part.strip():
                frags.append((x, y - k * size * 1.2, size, bold, part))

    text = page.extract_text(visitor_text=visit) or ""
    if not frags:
        # no positions (unusual producers): fall back to the extracted lines
        return [Line(t.strip(), page=pno, gap=not t.strip()) for t in text.splitlines() if t.strip()]
    try:
        width = float(page.mediabox.width)
    except Exception:
        width = 612.0
    return _pdf_order(frags, pno, width)


def _pdf_order(frags, pno: int, width: float) -> list[Line]:
    """Group fragments into lines; read a two-column page column by column."""
    # raw lines: same baseline (within a third of the font size)
    frags = sorted(frags, key=lambda f: (-round(f[1], 1), f[0]))
    rows: list[list] = []
    for f in frags:
        if rows and abs(rows[-1][0][1] - f[1]) <= max(1.0, 0.33 * (f[2] or 10)):
            rows[-1].append(f)
        else:
            rows.append([f])
    # two columns?  fragment starts that line up (>= 3 rows at the same x, +-1 pt) in the middle band
    # of the page and share baselines with text on the left; the boundary is the leftmost such
    # alignment within 40 pt of the commonest one (bullets sit left of the item text)
    raw = Counter(round(f[0]) for row in rows for f in row if 0.3 * width < f[0] < 0.7 * width)
    peaks = {x: raw[x - 1] + raw[x] + raw[x + 1] for x in raw}
    peaks = {x: c for x, c in peaks.items() if c >= 3}
    boundary = None
    if peaks:
        main = max(peaks, key=lambda x: (peaks[x], -x))
        cand = min(x for x in peaks if main - 40 <= x <= main) - 2
        shared = sum(1 for row in rows if any(f[0] >= cand for f in row) and any(f[0] < cand - 20 for f in row))
        right_rows = sum(1 for row in rows if any(f[0] >= cand for f in row))
        # a real column, not a few key/value pairs or a short table: enough lines on the right
        if shared >= 2 and right_rows >= max(6, 0.2 * len(rows)):
            boundary = cand
    segments: list[tuple[str, float, list]] = []  # (column, y, fragments)
    for row in rows:
        row = sorted(row, key=lambda f: f[0])
        if boundary is None:
            segments.append(("all", row[0][1], row))
            continue
        left = [f for f in row if f[0] < boundary]
        right = [f for f in row if f[0] >= boundary]
        if left and not right and _est_end(left) > boundary + 30:
            segments.append(("span", row[0][1], left))
            continue
        if left:
            segments.append(("left", left[0][1], left))
        if right:
            segments.append(("right", right[0][1], right))
    if boundary is not None:
        ordered, band = [], []
        for seg in segments:  # already top to bottom
            if seg[0] == "span":
                ordered += [s for s in band if s[0] == "left"] + [s for s in band if s[0] == "right"]
                ordered.append(seg)
                band = []
            else:
                band.append(seg)
        segments = ordered + [s for s in band if s[0] == "left"] + [s for s in band if s[0] == "right"]
    out: list[Line] = []
    prev = None
    for col, y, fr in segments:
        text = ""
        for f in fr:
            t = f[4]
            if text and not text[-1].isspace() and not t[:1].isspace():
                text += " "
            text += t
        size = max(f[2] for f in fr)
        gap = True
        if prev is not None and (prev[0] == col or "span" in (prev[0], col)):
            gap = (prev[1] - y) > 1.45 * max(size, prev[2])
        elif prev is not None and col == "right" and prev[0] == "left":
            gap = False  # a paragraph may run on from the foot of the left column
        out.append(Line(norm_ws(text), page=pno, x=fr[0][0], size=size, bold=all(f[3] for f in fr), gap=gap))
        prev = (col, y, size)
    return out


def _est_end(frs) -> float:
    last = max(frs, key=lambda f: f[0])
    return last[0] + 0.5 * (last[2] or 10) * len(last[4])


def _ranges(nums: list[int]) -> str:
    out, i = [], 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ", ".join(out)
