"""The shapes of the API's request bodies (JSON and multipart forms), as Python types: the OpenAPI document's
``requestBody`` schemas come from them as from :mod:`service.api.schemas` (the answers)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field
from typing_extensions import NotRequired, TypedDict

from .schemas import Fraction, describe_fields


class AlignBody(TypedDict, total=False):
    framework: str
    """Default: the program's framework."""
    top_k: Annotated[int, Field(ge=1, le=50)]
    """Suggestions kept per objective."""
    min_precision: Fraction
    """Keep only suggestions with at least this expected precision."""


class DecisionBody(TypedDict, total=False):
    """``replace`` adds the named competency as an accepted manual alignment in place of this one."""
    decision: Literal["accept", "reject", "reset", "replace"]
    expected_status: Literal["suggested", "accepted", "rejected"]
    """The status you saw: 409 when it is no longer that."""
    competency: str
    """With framework: the competency's notation (for replace)."""
    framework: str
    competency_iri: str
    note: str


class ManualAlignmentBody(TypedDict, total=False):
    """Name the competency by ``competency_iri``, or by ``framework`` + ``competency`` (its notation)."""
    competency: str
    framework: str
    competency_iri: str
    note: str


class AssessedByBody(TypedDict):
    assessment: str


class BulkAcceptBody(TypedDict):
    min_precision: Fraction


class BulkAcceptShownBody(TypedDict, total=False):
    alignments: list[str]
    min_precision: Fraction
    preview: bool
    """List what would be accepted without writing."""


class NewUserBody(TypedDict):
    name: str
    institution: NotRequired[str]
    """Only the admin's own institution (another is a 400)."""
    role: Literal["viewer", "educator", "committee", "admin"]
    courses: NotRequired[list[str]]
    password: NotRequired[Annotated[str, Field(min_length=12, max_length=200)]]
    """A one-time password is generated when absent.  12-200 characters, two kinds of character (lower, upper,
    digits, others), 6 different ones, and more than the user name."""


class PlanBody(TypedDict, total=False):
    role: str
    objective: Literal["hours", "cost"]
    include_optional: bool


class CvDecisionBody(TypedDict, total=False):
    decision: Literal["accept", "reject", "reset"]
    level: Annotated[int, Field(ge=1, le=5)]
    """Accept at another level than suggested."""


class MatchBody(TypedDict, total=False):
    mode: Literal["best", "full"]
    role: str
    mentees: list[str] | str
    """Person ids, or comma-separated."""
    coverage_weight: Annotated[float, Field(ge=0, le=10)]
    track_weight: Annotated[float, Field(ge=0, le=10)]
    department: Literal["same", "different"]
    conflicts: str | list[list[str]]
    """PERSON:PERSON pairs never matched (comma-separated, or a list of pairs)."""
    require_track: bool


class CrosswalkBody(TypedDict):
    source: str
    target: str
    top_k: NotRequired[Annotated[int, Field(ge=1, le=10)]]
    min_precision: NotRequired[Fraction]


class MappingDecisionBody(TypedDict, total=False):
    decision: Literal["accept", "reject", "reset"]
    relation: Literal["exact", "close", "broader", "narrower", "related"]
    note: str


class NameBody(TypedDict):
    name: str


class DraftEditBody(TypedDict, total=False):
    """One edit (``op`` and its fields, e.g. ``{"op": "add_course", ...}``) or ``{"edits": [...]}``."""
    op: str
    edits: list[dict[str, Any]]


class CourseEditBody(TypedDict, total=False):
    title: str
    year: int


class ObjectiveEditBody(TypedDict):
    level: int


class SyllabusUpload(TypedDict):
    file: bytes
    year: NotRequired[int]
    """Required when the course is new."""
    title: NotRequired[str]
    align: NotRequired[bool]
    """Align the extracted objectives (default true)."""


class FileUpload(TypedDict):
    file: bytes
    options: NotRequired[str]
    """Loader options as a JSON object (or give each as its own form field)."""


class CvUpload(TypedDict):
    file: bytes
    framework: NotRequired[str]


class SparqlForm(TypedDict):
    query: str


describe_fields(globals(), __name__)


def closed(t) -> bool:
    """A body whose unknown fields are refused (400 naming the field; ``additionalProperties: false``)."""
    return (getattr(t, "__pydantic_config__", None) or {}).get("extra") == "forbid"


# Every JSON body is closed: a misspelt or misplaced field (``"preview"`` sent to bulk-accept) is an error,
# never silently ignored while the write goes ahead.  Draft edits are open here: their fields depend on the
# ``op`` and ``ontology.drafts`` refuses the unknown ones per op.  Forms stay open (loader options as fields).
for _t in list(globals().values()):
    if isinstance(_t, type) and _t.__name__.endswith("Body") and _t is not DraftEditBody and \
            getattr(_t, "__module__", None) == __name__:
        _t.__pydantic_config__ = ConfigDict(use_attribute_docstrings=True, extra="forbid")
