"""Committee exports: the gap report, curriculum map, role readiness and cohort achievement of a program as an
XLSX workbook (one sheet per view) and as a printable HTML or PDF report with the heatmap as a picture.

No flask here: :func:`collect` reads the store, the writers turn a :class:`CommitteeData` into bytes.
"""
from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from datetime import datetime, timezone


from ontology.achievement import MIN_GROUP_SIZE, cohort_achievement
from ontology.csvsafe import safe_cell
from ontology.errors import GapmapError, NotFound
from ontology.gaps import STATUS_ORDER, GapReport, RoleReadiness, role_readiness
from ontology.read import catalog, reports

#: level 0..5 shades of the dashboard heatmap (service/web/static/gapmap.css --lv0..--lv5)
LEVEL_FILLS = ["C9D2DD", "DBE9FB", "B6D3F7", "7FB0EE", "3F86DD", "1A5CB0"]
LEVEL_FONT = ["1D2733", "1D2733", "1D2733", "0B2A52", "FFFFFF", "FFFFFF"]
#: gap status -> (fill, label)
STATUS_FILLS = {"not_taught": ("F4C7C3", "not taught"), "assessed_not_taught": ("FCE8B2", "assessed, not taught"),
                "taught_not_assessed": ("FFF2CC", "taught, not assessed"),
                "below_required_level": ("F9CB9C", "below required level"), "covered": ("C6EFCE", "covered")}
READY_FILLS = {"ready": "C6EFCE", "below_level": "F9CB9C", "gap": "F4C7C3"}
MAX_ROLES = 12  # role readiness sheets when no role is chosen


@dataclass
class CommitteeData:
    program: str
    framework: str
    report: GapReport
    courses: list[catalog.Course]
    #: competency IRI -> course code -> highest level taught there (0 = taught, no level), absent = not taught
    levels: dict[str, dict[str, int]]
    assessed: dict[str, set[str]]
    readiness: list[RoleReadiness]
    achievement: object | None
    generated: str
    notes: list[str] = field(default_factory=list)
    #: the program's title ("Doctor of Medicine (MD)"); its id when it has none
    program_title: str = ""

    @property
    def heading(self) -> str:
        """How the reports name the program: its title, with the id when the title does not show it."""
        t = self.program_title or self.program
        return t if self.program.lower() in t.lower() else f"{t} ({self.program})"

    @property
    def filters(self) -> dict:
        r = self.report
        return {k: v for k, v in (("year", r.year), ("course", r.course), ("role", r.role),
                                  ("include_suggestions", r.include_suggestions)) if v is not None}



def _pct_text(x) -> str:
    """A readiness share for a page ("none required" when the role requires nothing: not 0 %)."""
    return f"{x}%" if x is not None else "none required"

def collect(store, ids, program: str, framework: str, *, year=None, course=None, role=None,
            include_suggestions=None, cohort=None, roles_limit: int = MAX_ROLES,
            min_group: int = MIN_GROUP_SIZE) -> CommitteeData:
    rep = reports.gap_report(store, ids, program, framework, year=year, course=course, role=role,
                             include_suggestions=include_suggestions)
    courses = [c for c in catalog.program_courses(store, program)
               if (year is None or c.year == year) and (course is None or c.code == course)]
    levels: dict[str, dict[str, int]] = {}
    assessed: dict[str, set[str]] = {}
    for e in rep.entries:
        row: dict[str, int] = {}
        for t in e.taught_by:
            row[t.course] = max(row.get(t.course, 0), t.level or 0)
        levels[e.competency] = row
        assessed[e.competency] = {a.course for a in e.assessed_by}
    notes = []
    readiness = []
    role_ids = [role] if role else [r.id for r in catalog.roles(store) if r.requirements]
    if len(role_ids) > roles_limit:
        notes.append(f"Role readiness is shown for the first {roles_limit} of {len(role_ids)} roles; "
                     "choose a role to see another.")
        role_ids = role_ids[:roles_limit]
    for rid in role_ids:
        try:
            readiness.append(role_readiness(store, ids, program, rid, include_suggestions=include_suggestions))
        except NotFound:
            continue
    try:
        ach = cohort_achievement(store, ids, program, framework, cohort=cohort, min_group=min_group)
    except GapmapError as e:
        ach, _ = None, notes.append(f"Cohort achievement: {e}")
    return CommitteeData(program=program, framework=framework, report=rep, courses=courses, levels=levels,
                         assessed=assessed, readiness=readiness, achievement=ach,
                         generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), notes=notes,
                         program_title=getattr(catalog.program(store, program), "title", "") or program)


# XLSX -------------------------------------------------------------------------------------------------
# A cell value that a spreadsheet never runs as a formula (OWASP CSV/formula injection): one rule for CSV and XLSX.
safe = safe_cell


def workbook(data: CommitteeData) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE3EA")

    def fill(rgb):
        return PatternFill("solid", fgColor=rgb)

    def sheet(ws, header, rows, widths=None, freeze="A2"):
        ws.append([safe(h) for h in header])
        for c in ws[1]:
            c.font, c.fill = bold, head_fill
            c.alignment = Alignment(wrap_text=True, vertical="top")
        for r in rows:
            ws.append([safe(v) for v in r])
        ws.freeze_panes = freeze
        last = get_column_letter(max(1, len(header)))
        ws.auto_filter.ref = f"A1:{last}{max(2, ws.max_row)}"
        for i, w in enumerate(widths or [], start=1):
            ws.column_dimensions[get_column_letter(i)].width = w

    rep = data.report
    # Gap report
    ws = wb.active
    ws.title = "Gap report"
    sheet(ws, ["Domain", "Competency", "Label", "Status", "Taught in", "Objectives", "Assessed by", "Level reached",
               "Required level", "Relation"],
          [[e.domain_label or e.domain or "", e.notation, e.label, STATUS_FILLS[e.status][1], "; ".join(e.courses),
            "; ".join(t.objective_id for t in e.taught_by), "; ".join(a.assessment_id for a in e.assessed_by),
            e.level_reached, e.required_level, e.relation or ""] for e in rep.entries],
          widths=[22, 12, 48, 22, 24, 24, 24, 9, 9, 10])
    for i, e in enumerate(rep.entries, start=2):
        ws.cell(i, 4).fill = fill(STATUS_FILLS[e.status][0])

    # Curriculum map (the heatmap)
    ws = wb.create_sheet("Curriculum map")
    codes = [c.code for c in data.courses]
    header = ["Competency", "Label"] + [f"{c.code} (Y{c.year})" for c in data.courses] + ["Status"]
    rows = []
    for e in rep.entries:
        lv = data.levels.get(e.competency, {})
        rows.append([e.notation, e.label] + [(lv[c] or "·") if c in lv else "" for c in codes]
                    + [STATUS_FILLS[e.status][1]])
    sheet(ws, header, rows, widths=[12, 44] + [11] * len(codes) + [22], freeze="C2")
    for i, e in enumerate(rep.entries, start=2):
        lv = data.levels.get(e.competency, {})
        for j, c in enumerate(codes, start=3):
            cell = ws.cell(i, j)
            cell.alignment = Alignment(horizontal="center")
            if c in lv:
                cell.fill = fill(LEVEL_FILLS[min(lv[c], 5)])
                cell.font = Font(color=LEVEL_FONT[min(lv[c], 5)], bold=c in data.assessed.get(e.competency, ()))
            elif c in data.assessed.get(e.competency, ()):
                cell.value = "A"
        ws.cell(i, len(header)).fill = fill(STATUS_FILLS[e.status][0])

    # Role readiness: one sheet, one block per role
    ws = wb.create_sheet("Role readiness")
    rrows = [[r.title, r.role, i.notation, i.label, i.relation, i.required_level, i.level_reached,
              i.status.replace("_", " "), STATUS_FILLS.get(i.gap_status, ("", i.gap_status))[1]]
             for r in data.readiness for i in r.items]
    sheet(ws, ["Role", "Role id", "Competency", "Label", "Relation", "Required level", "Level reached", "Readiness",
               "Gap status"], rrows, widths=[28, 16, 12, 44, 10, 9, 9, 12, 22])
    row = 2
    for r in data.readiness:
        for i in r.items:
            ws.cell(row, 8).fill = fill(READY_FILLS[i.status])
            row += 1

    # Cohort achievement
    ws = wb.create_sheet("Cohort achievement")
    ach = data.achievement
    arows = [[c.cohort, c.notation, c.label, c.learners, c.pass_rate, c.mean_score,
              "; ".join(a.assessment_id for a in c.assessments)] for c in (ach.competencies if ach else ())]
    sheet(ws, ["Cohort", "Competency", "Label", "Learners", "Pass rate", "Mean score", "Assessments"], arows,
          widths=[10, 12, 44, 9, 10, 10, 30])
    for i, c in enumerate(ach.competencies if ach else (), start=2):
        ws.cell(i, 5).number_format = "0.0%"
        ws.cell(i, 6).number_format = "0.00"
        ws.cell(i, 5).fill = fill("C6EFCE" if c.pass_rate >= 0.9 else "FFF2CC" if c.pass_rate >= 0.75 else "F4C7C3")

    # About
    ws = wb.create_sheet("About")
    about = [["Program", data.program], ["Framework", data.framework], ["Generated", data.generated]]
    about += [[f"Filter: {k}", str(v)] for k, v in data.filters.items()]
    about += [["Competencies", rep.summary["competencies"]], ["Taught %", rep.summary["taught_pct"]],
              ["Assessed %", rep.summary["assessed_pct"]], ["Covered %", rep.summary["covered_pct"]]]
    about += [["Note", n] for n in data.notes]
    about += [["Curriculum map", "cell = highest level taught in that course (· = taught, no level), shade as on "
               "the dashboard; bold = also assessed there; A = assessed there, not taught"]]
    sheet(ws, ["Item", "Value"], about, widths=[22, 90])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# Heatmap picture -------------------------------------------------------------------------------------
def heatmap_png(data: CommitteeData, *, dpi: int = 110) -> bytes:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    entries = data.report.entries
    codes = [c.code for c in data.courses]
    grid = [[(data.levels[e.competency][c] if c in data.levels.get(e.competency, {}) else -1) for c in codes]
            for e in entries]
    cmap = ListedColormap(["#ffffff"] + ["#" + f for f in LEVEL_FILLS])
    h = max(2.2, 0.2 * len(entries) + 1.3)
    w = max(3.6, 0.4 * len(codes) + 2.2)
    fig, ax = plt.subplots(figsize=(min(w, 16), min(h, 40)), dpi=dpi)
    if codes and entries:
        ax.imshow([[v + 1 for v in row] for row in grid], cmap=cmap, vmin=0, vmax=6, aspect="auto",
                  interpolation="nearest")
        for i, e in enumerate(entries):
            for j, c in enumerate(codes):
                if c in data.assessed.get(e.competency, ()):
                    ax.plot(j + 0.3, i - 0.3, marker="o", markersize=2.5, color="#1d2733")
    ax.set_xticks(range(len(codes)))
    ax.set_xticklabels(codes, rotation=90, fontsize=7)
    ax.set_yticks(range(len(entries)))
    ax.set_yticklabels([e.notation for e in entries], fontsize=7)
    ax.set_title("Competency × course", fontsize=9)
    ax.set_xlabel("shade = highest level taught · dot = assessed there", fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


# Printable HTML ---------------------------------------------------------------------------------------
def report_html(data: CommitteeData, png: bytes | None = None) -> str:
    png = png if png is not None else heatmap_png(data)
    e = html.escape
    rep = data.report
    s = rep.summary
    parts = [f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Committee report: {e(data.heading)}</title>
<style>
body {{ font: 11pt/1.35 system-ui, sans-serif; margin: 1.5cm; color: #1d2733; }}
h1 {{ font-size: 18pt; margin: 0 0 .2em; }} h2 {{ font-size: 13pt; margin-top: 1.2em; break-after: avoid; }}
table {{ border-collapse: collapse; width: 100%; font-size: 9pt; }} th, td {{ border: 1px solid #c9d2dd; padding: 2px 5px; text-align: left; vertical-align: top; }}
th {{ background: #dde3ea; }} thead {{ display: table-header-group; }} tr {{ break-inside: avoid; }}
img {{ max-width: 100%; }} .muted {{ color: #5b6775; }}
@page {{ size: A4; margin: 1.5cm; }} @media print {{ body {{ margin: 0; }} }}
</style></head><body>
<h1>Committee report — {e(data.heading)}</h1>
<p class="muted">Against framework {e(data.framework)} · generated {e(data.generated)}
{' · ' + e(', '.join(f'{k} = {v}' for k, v in data.filters.items())) if data.filters else ''}</p>
<p>{s['competencies']} competencies: taught {s['taught_pct']}%, assessed {s['assessed_pct']}%, covered {s['covered_pct']}%.</p>
<table><thead><tr><th>Status</th><th>Competencies</th></tr></thead><tbody>"""]
    for st in STATUS_ORDER:
        parts.append(f'<tr><td style="background:#{STATUS_FILLS[st][0]}">{e(STATUS_FILLS[st][1])}</td>'
                     f"<td>{s['counts'][st]}</td></tr>")
    parts.append("</tbody></table>")
    parts.append(f'<h2>Curriculum map</h2><img alt="heatmap of competencies by course" '
                 f'src="data:image/png;base64,{base64.b64encode(png).decode()}">')
    parts.append("<h2>Gap report</h2><table><thead><tr><th>Competency</th><th>Label</th><th>Status</th>"
                 "<th>Taught in</th><th>Assessed by</th><th>Level</th></tr></thead><tbody>")
    for en in rep.entries:
        lvl = f"{en.level_reached or '—'}" + (f" / {en.required_level or '—'}" if rep.role else "")
        parts.append(f"<tr><td>{e(en.notation)}</td><td>{e(en.label)}</td>"
                     f'<td style="background:#{STATUS_FILLS[en.status][0]}">{e(STATUS_FILLS[en.status][1])}</td>'
                     f"<td>{e(', '.join(en.courses))}</td><td>{e(', '.join(a.assessment_id for a in en.assessed_by))}</td>"
                     f"<td>{e(lvl)}</td></tr>")
    parts.append("</tbody></table>")
    for r in data.readiness:
        es = r.summary["essential"]
        parts.append(f"<h2>Readiness: {e(r.title)}</h2><p>Essential: {es['ready']} of {es['required']} ready "
                     f"({_pct_text(es['ready_pct'])}), {es['below_level']} below level, {es['gap']} gaps.</p>"
                     "<table><thead><tr><th>Competency</th><th>Label</th><th>Relation</th><th>Required</th>"
                     "<th>Reached</th><th>Readiness</th></tr></thead><tbody>")
        for i in r.items:
            parts.append(f"<tr><td>{e(i.notation)}</td><td>{e(i.label)}</td><td>{e(i.relation)}</td>"
                         f"<td>{i.required_level}</td><td>{i.level_reached or '—'}</td>"
                         f'<td style="background:#{READY_FILLS[i.status]}">{e(i.status.replace("_", " "))}</td></tr>')
        parts.append("</tbody></table>")
    ach = data.achievement
    if ach and ach.competencies:
        parts.append("<h2>Cohort achievement</h2><table><thead><tr><th>Cohort</th><th>Competency</th><th>Label</th>"
                     "<th>Learners</th><th>Pass rate</th><th>Mean score</th></tr></thead><tbody>")
        for c in ach.competencies:
            parts.append(f"<tr><td>{e(c.cohort)}</td><td>{e(c.notation)}</td><td>{e(c.label)}</td><td>{c.learners}</td>"
                         f"<td>{c.pass_rate:.1%}</td><td>{c.mean_score:.2f}</td></tr>")
        parts.append("</tbody></table>")
    for n in data.notes:
        parts.append(f'<p class="muted">{e(n)}</p>')
    parts.append("</body></html>")
    return "".join(parts)


# PDF (reportlab) ---------------------------------------------------------------------------------------
def report_pdf(data: CommitteeData, png: bytes | None = None) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import CondPageBreak, Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    png = png if png is not None else heatmap_png(data)
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    e = html.escape
    rep = data.report
    s = rep.summary
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=1.5 * cm, rightMargin=1.5 * cm, topMargin=1.5 * cm,
                            bottomMargin=1.5 * cm, title=f"Committee report: {data.heading}", author="Gapmap")
    width = A4[0] - 3 * cm
    flow = [Paragraph(f"Committee report — {e(data.heading)}", styles["Title"]),
            Paragraph(e(f"Against framework {data.framework} · generated {data.generated}"
                        + (" · " + ", ".join(f"{k} = {v}" for k, v in data.filters.items()) if data.filters else "")),
                      small),
            Paragraph(f"{s['competencies']} competencies: taught {s['taught_pct']}%, assessed {s['assessed_pct']}%, "
                      f"covered {s['covered_pct']}%.", styles["BodyText"]), Spacer(1, 6)]

    def table(header, rows, col_widths, fills=()):
        t = Table([[Paragraph(e(str(h)), small) for h in header]]
                  + [[Paragraph(e("" if v is None else str(v)), small) for v in r] for r in rows],
                  colWidths=col_widths, repeatRows=1)
        style = [("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#C9D2DD")),
                 ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE3EA")), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        style += [("BACKGROUND", (c, r), (c, r), colors.HexColor("#" + f)) for (c, r, f) in fills]
        t.setStyle(TableStyle(style))
        return t

    def heading(text):
        """A section heading, kept with the start of its section: a new page when less than ~4 cm is left."""
        return [CondPageBreak(4 * cm), Paragraph(text, styles["Heading2"])]

    flow.append(table(["Status", "Competencies"], [[STATUS_FILLS[st][1], s["counts"][st]] for st in STATUS_ORDER],
                      [6 * cm, 3 * cm], [(0, i, STATUS_FILLS[st][0]) for i, st in enumerate(STATUS_ORDER, start=1)]))
    img = ImageReader(io.BytesIO(png))
    iw, ih = img.getSize()
    scale = min(width / iw, (A4[1] - 6 * cm) / ih, 72 / 110 * 1.2)  # never blown up past ~print size
    flow.append(KeepTogether(heading("Curriculum map") + [Image(io.BytesIO(png), width=iw * scale, height=ih * scale)]))
    flow += heading("Gap report")
    rows = [[en.notation, en.label, STATUS_FILLS[en.status][1], ", ".join(en.courses),
             ", ".join(a.assessment_id for a in en.assessed_by),
             f"{en.level_reached or '—'}" + (f" / {en.required_level or '—'}" if rep.role else "")] for en in rep.entries]
    flow.append(table(["Competency", "Label", "Status", "Taught in", "Assessed by", "Level"], rows,
                      [2 * cm, 6.5 * cm, 2.8 * cm, 2.6 * cm, 2.6 * cm, 1.5 * cm],
                      [(2, i, STATUS_FILLS[en.status][0]) for i, en in enumerate(rep.entries, start=1)]))
    for r in data.readiness:
        es = r.summary["essential"]
        flow += heading(f"Readiness: {e(r.title)}")
        flow.append(Paragraph(f"Essential: {es['ready']} of {es['required']} ready ({_pct_text(es['ready_pct'])}), "
                              f"{es['below_level']} below level, {es['gap']} gaps.", small))
        flow.append(table(["Competency", "Label", "Relation", "Required", "Reached", "Readiness"],
                          [[i.notation, i.label, i.relation, i.required_level, i.level_reached or "—",
                            i.status.replace("_", " ")] for i in r.items],
                          [2 * cm, 7.5 * cm, 2 * cm, 1.8 * cm, 1.8 * cm, 2.9 * cm],
                          [(5, n, READY_FILLS[i.status]) for n, i in enumerate(r.items, start=1)]))
    ach = data.achievement
    if ach and ach.competencies:
        flow += heading("Cohort achievement")
        flow.append(table(["Cohort", "Competency", "Label", "Learners", "Pass rate", "Mean"],
                          [[c.cohort, c.notation, c.label, c.learners, f"{c.pass_rate:.1%}", f"{c.mean_score:.2f}"]
                           for c in ach.competencies],
                          [1.8 * cm, 2 * cm, 7.5 * cm, 1.7 * cm, 2 * cm, 2 * cm]))
    for n in data.notes:
        flow.append(Paragraph(e(n), small))
    doc.build(flow)
    return buf.getvalue()
