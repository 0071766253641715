"""Syllabus extraction: course title, course code and learning objectives from an uploaded file.

Pure Python (never imports flask).  One entry point::

    extract(data, filename, media_type=None, *, max_bytes=20 * 2**20) -> ExtractedSyllabus

Formats: PDF (pypdf, with page numbers and a simple two-column reorder), DOCX (python-docx:
paragraphs, Word numbering, tables), HTML (beautifulsoup4 with the stdlib ``html.parser``),
Markdown (markdown-it-py tokens) and plain text.  Every format is first turned into a list of
*blocks* (heading / list item / paragraph / table cell); the document's plain text
(:attr:`ExtractedSyllabus.text`) is those blocks, whitespace-normalised, one per line (table
cells of one row joined by `` | ``).  Objectives carry offsets into that text, so
``syllabus.text[o.char_start:o.char_end] == o.text`` holds exactly.

Objectives are found in three ways (``ExtractedObjective.method``):

``list``
    numbered/bulleted items under an objectives heading ("Learning objectives", "Outcomes",
    "Course goals", "Lernziele", "Objetivos de aprendizaje", "Objectifs", ...) up to the next
    heading of the same or a higher level, or after a lead-in paragraph such as "By the end of
    this course, students will be able to:";
``table``
    rows of a table under such a heading, or of a table whose header names an objectives column;
``sentence``
    the fallback when no such section gives anything: sentences that start with a Bloom action
    verb in the imperative ("Describe ...") or say "students will / should be able to <verb>".

Bad input raises a :class:`~ontology.errors.GapmapError` subclass with an HTTP status:
:class:`~ontology.errors.UnsupportedFormat` (415), :class:`~ontology.errors.PayloadTooLarge` (413),
and the 422 :class:`SyllabusError` family defined here (corrupt, encrypted, no text layer, empty,
unsafe).  A readable document with no objectives is not an error: ``objectives`` is empty and
``warnings`` says so.

The package follows the reader's stages, one module each:

=================  ==========================================================================
``reader``         :func:`extract`: size checks, format dispatch, assembly of the result
``detect``         :func:`detect_format` (magic bytes, extension, media type), text decoding,
                   markup safety (DOCTYPE/entity refusal)
``pdf``            PDF pages -> lines (two-column reorder, running headers dropped)
``docx``           DOCX paragraphs, Word numbering and tables (zip-bomb/entity checks first)
``html``           HTML elements (layout tables, emphasised pseudo-headings)
``markdown``       Markdown tokens (markdown-it-py)
``text``           plain text (blank lines, form feeds)
``blocks``         the shared block/line model: list markers, lines -> blocks, the plain text
``metadata``       title, course code, language
``bloom``          Bloom action verbs (en/de/es/fr) and :func:`bloom_level`
``objectives``     objectives sections, lead-ins, tables, the sentence fallback
``assessments``    the assessment/grading section's components
``model``          the frozen result types; ``errors``: the 422 :class:`SyllabusError` family
=================  ==========================================================================
"""

from __future__ import annotations

from .assessments import ASSESSMENT_KINDS, assessment_kind
from .bloom import BLOOM_LEVELS, bloom_level
from .detect import FORMATS, detect_format
from .errors import CorruptDocument, EmptyDocument, EncryptedDocument, NoTextLayer, SyllabusError, UnsafeDocument
from .metadata import detect_language
from .model import ExtractedAssessment, ExtractedObjective, ExtractedSyllabus
from .pdf import MAX_PDF_PAGES
from .reader import DEFAULT_MAX_BYTES, MAX_OBJECTIVES, extract

__all__ = [
    "ExtractedObjective", "ExtractedSyllabus", "extract", "detect_format", "bloom_level",
    "detect_language", "SyllabusError", "CorruptDocument", "EncryptedDocument", "NoTextLayer",
    "EmptyDocument", "UnsafeDocument", "FORMATS", "BLOOM_LEVELS",
    "ExtractedAssessment", "assessment_kind", "ASSESSMENT_KINDS", "DEFAULT_MAX_BYTES", "MAX_PDF_PAGES",
    "MAX_OBJECTIVES",
]
