"""The frozen results of an extraction."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExtractedObjective:
    text: str
    number: str | None
    page: int | None
    paragraph: int
    char_start: int
    char_end: int
    bloom_level: str | None
    verb: str | None
    method: str  # "list" | "table" | "sentence"

    def to_dict(self) -> dict:
        return {"text": self.text, "number": self.number, "page": self.page, "paragraph": self.paragraph,
                "char_start": self.char_start, "char_end": self.char_end, "bloom_level": self.bloom_level,
                "verb": self.verb, "method": self.method}


@dataclass(frozen=True)
class ExtractedAssessment:
    """One component of a syllabus's assessment/grading section (issue 9)."""
    kind: str             # osce | written exam | portfolio | preceptor evaluation | workplace-based assessment | ...
    title: str            # the line as written (without its weight)
    weight: float | None  # share of the grade, 0..1, when stated
    pass_fail: bool
    paragraph: int
    char_start: int
    char_end: int

    def to_dict(self) -> dict:
        return {"kind": self.kind, "title": self.title, "weight": self.weight, "pass_fail": self.pass_fail,
                "paragraph": self.paragraph, "char_start": self.char_start, "char_end": self.char_end}


@dataclass(frozen=True)
class ExtractedSyllabus:
    title: str | None
    course_code: str | None
    language: str | None
    format: str
    objectives: tuple[ExtractedObjective, ...]
    pages: int | None
    warnings: tuple[str, ...]
    #: the document's plain text; objective offsets index into it
    text: str = field(default="", repr=False)
    filename: str | None = None
    assessments: tuple[ExtractedAssessment, ...] = ()

    def to_dict(self, *, include_text: bool = False) -> dict:
        d = {"filename": self.filename, "title": self.title, "course_code": self.course_code,
             "language": self.language, "format": self.format, "pages": self.pages,
             "objectives": [o.to_dict() for o in self.objectives], "warnings": list(self.warnings),
             "assessments": [a.to_dict() for a in self.assessments]}
        if include_text:
            d["text"] = self.text
        return d
