"""A small, realistic DOCX syllabus for the browser test (written with python-docx)."""
from __future__ import annotations

from pathlib import Path

OBJECTIVES = [
    ("Conduct a video telehealth consultation with a patient at home, confirming identity, consent and privacy "
     "before starting."),
    ("Adapt history taking and a focused remote examination to a telephone or video visit, recognizing the limits "
     "of virtual assessment."),
    "Decide when a telemedicine encounter must be converted to an in-person evaluation because of red-flag findings.",
    "Document a remote consultation, including the technology used and the safety-net advice given to the patient.",
]


def make_docx(path: Path, title: str = "CCM-403 Virtual Care in Critical Care Follow-up") -> Path:
    import docx

    d = docx.Document()
    d.add_heading(title, level=1)
    d.add_paragraph("Course director: Dr. R. Okafor · Year 4 · 2 weeks · Tele-ICU and post-discharge clinic")
    d.add_heading("Course description", level=2)
    d.add_paragraph("Students join the tele-ICU team and the post-discharge video clinic. They see patients by "
                    "video and telephone under supervision and present them to the attending physician.")
    d.add_heading("Learning objectives", level=2)
    d.add_paragraph("By the end of this course, students will be able to:")
    for o in OBJECTIVES:
        d.add_paragraph(o, style="List Number")
    d.add_heading("Assessment", level=2)
    d.add_paragraph("Two directly observed video consultations and a reflective note.")
    d.save(str(path))
    return path


if __name__ == "__main__":  # python -m tests.browser.syllabus_docx out.docx
    import sys
    print(make_docx(Path(sys.argv[1])))
