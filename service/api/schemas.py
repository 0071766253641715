"""The shapes of the API's JSON bodies, as Python types: JSON Schema for the OpenAPI document comes from them
(pydantic ``TypeAdapter(...).json_schema()``).

Where a view answers a frozen result's ``to_dict()`` that is ``asdict`` (``Teaching``, ``GapItem``,
``Decision``…), the dataclass itself is the schema; where ``to_dict()`` reshapes it (``GapReport``,
``RoleGap``, ``Plan``), a ``TypedDict`` here says what the JSON holds.  Every key of a ``TypedDict`` is
required unless marked ``NotRequired``; ``X | None`` may be null.  The contract tests
(tests/service/test_openapi.py) check real answers against these schemas.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter
from typing_extensions import NotRequired, TypedDict

from ontology.careers import Addition, EvidenceItem, GapItem, Person
from ontology.gaps import Assessing, DomainSummary, ReadinessItem, Teaching
from ontology.review import Decision

Level = Annotated[int, Field(ge=0, le=5)]  # a proficiency level (0: not held)
Fraction = Annotated[float, Field(ge=0, le=1)]  # an expected precision, 0..1
REF = "#/components/schemas/{model}"


# --------------------------------------------------------------------------------------- errors
class Problem(TypedDict):
    """An error (RFC 9457 problem details, ``application/problem+json``)."""
    type: NotRequired[str]
    title: str
    status: int
    detail: str
    instance: NotRequired[str]
    #: the request field, parameter or header at fault
    field: NotRequired[str]


# --------------------------------------------------------------------------------------- catalog
class Health(TypedDict):
    status: str
    triples: int
    graphs: int


class Framework(TypedDict):
    framework: str
    id: str
    title: str | None
    version: str | None
    competencies: int
    domains: int


class Frameworks(TypedDict):
    frameworks: list[Framework]


class Competency(TypedDict):
    iri: str
    notation: str
    label: str
    definition: str | None
    alt_labels: list[str]
    parent: str | None
    domain: str | None
    domain_label: str | None


class FrameworkCompetencies(TypedDict):
    framework: str
    count: int
    competencies: list[Competency]


class CompetencyHit(TypedDict):
    iri: str
    framework: str
    notation: str
    label: str
    definition: str | None


class CompetencySearch(TypedDict):
    q: str
    count: int
    competencies: list[CompetencyHit]


class Program(TypedDict):
    program: str
    id: str
    title: str | None
    framework: str | None
    fw: str | None
    courses: int
    objectives: int


class Programs(TypedDict):
    programs: list[Program]


class Course(TypedDict):
    iri: str
    code: str
    title: str | None
    year: int | None


class ProgramCourses(TypedDict):
    program: str
    courses: list[Course]


class Assessment(TypedDict):
    iri: str
    id: str
    title: str | None
    kind: str | None
    course: str | None
    level: int | None


class ProgramAssessments(TypedDict):
    program: str
    assessments: list[Assessment]


class Role(TypedDict):
    role: str
    id: str
    title: str | None
    track: str | None
    definition: str | None
    next: list[str]
    requirements: int


class Roles(TypedDict):
    roles: list[Role]


class Requirement(TypedDict):
    competency: str
    framework: str
    notation: str
    label: str
    required_level: int | None
    relation: str
    importance: Any


class RoleRequirements(TypedDict):
    role: str
    title: str | None
    requirements: list[Requirement]


class ObjectiveAlignment(TypedDict):
    iri: str
    id: str
    etag: str | None
    competency: str
    notation: str | None
    label: str | None
    score: float | None
    precision: float | None
    status: str
    method: str | None
    model: str | None
    evidence: str | None
    rank: int | None
    generated_at: str | None


class ObjectiveAlignments(TypedDict):
    objective: str
    alignments: list[ObjectiveAlignment]


class Loader(TypedDict):
    name: str
    description: str
    media_types: list[str]
    options: dict[str, str]


class Loaders(TypedDict):
    loaders: list[Loader]


# --------------------------------------------------------------------------------------- reports
class GapFilters(TypedDict):
    year: int | None
    course: str | None
    role: str | None
    include_suggestions: float | None


class GapCounts(TypedDict):
    not_taught: int
    assessed_not_taught: int
    taught_not_assessed: int
    below_required_level: int
    covered: int


class GapSummary(TypedDict):
    competencies: int
    counts: GapCounts
    taught_pct: float
    assessed_pct: float
    covered_pct: float


GapStatus = Literal["not_taught", "assessed_not_taught", "taught_not_assessed", "below_required_level", "covered"]


class GapEntry(TypedDict):
    """One competency of the report (``ontology.gaps.GapEntry.to_dict``)."""
    competency: str
    notation: str
    label: str
    domain: str | None
    domain_label: str | None
    status: GapStatus
    taught_by: list[Teaching]
    assessed_by: list[Assessing]
    level_reached: int | None
    required_level: int | None
    relation: str | None
    #: codes of the courses that teach it
    courses: list[str]


class GapReport(TypedDict):
    """A program's gap report against a framework (``ontology.gaps.GapReport.to_dict``)."""
    program: str
    framework: str
    filters: GapFilters
    summary: GapSummary
    domains: list[DomainSummary]
    competencies: list[GapEntry]


class RoleReadiness(TypedDict):
    """``ontology.gaps.RoleReadiness.to_dict``"""
    role: str
    title: str
    program: str
    stage: str | None
    summary: dict[str, Any]
    requirements: list[ReadinessItem]


class AlignRun(TypedDict):
    """The summary of an alignment run (``Workspace.align(...).to_dict()``)."""
    program: str
    framework: str
    objectives: int
    competencies: int
    suggestions: int
    kept_decisions: int
    model_version: str
    seconds: float


class JobProgress(TypedDict):
    done: int
    total: int | None
    message: str


class Job(TypedDict):
    """Long work started with ``?async=1``: poll ``href`` until ``status`` is succeeded or failed."""
    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    owner: str | None
    params: dict[str, Any]
    progress: JobProgress
    created: str
    started: str | None
    finished: str | None
    #: what the synchronous call would have answered, once succeeded
    result: Any
    #: a problem (title, status, detail), once failed
    error: dict[str, Any] | None
    href: str


# --------------------------------------------------------------------------------------- review
class QueueAlignment(TypedDict):
    etag: str
    id: str
    iri: str
    competency: str
    notation: str | None
    label: str | None
    score: float | None
    precision: float | None
    status: Literal["suggested", "accepted", "rejected"]
    method: str | None
    evidence: str | None
    evidence_field: str | None
    #: the characters of the objective's text the evidence matched (start, end)
    query_span: list[int] | None


class QueueObjective(TypedDict):
    objective: str
    text: str
    course: str | None
    course_title: str | None
    year: int | None
    alignments: list[QueueAlignment]


class ReviewQueue(TypedDict):
    """Objectives of a program with their alignments (the review queue)."""
    program: str
    count: int
    objectives: list[QueueObjective]


class AlignmentState(TypedDict):
    """One alignment's review state; ``etag`` is also the ETag header (send it back as If-Match)."""
    alignment: str
    status: str
    method: str
    objective: str
    competency: str
    program: str | None
    etag: str


class AlignmentHistory(TypedDict):
    alignment: str
    history: list[dict[str, Any]]


class BulkAccepted(TypedDict):
    accepted: int
    decisions: list[Decision]


class SyllabusVersion(TypedDict):
    version: Any
    file: str | None
    at: str | None
    user: str | None
    objectives: int | None


class SyllabusVersions(TypedDict):
    program: str
    course: str
    versions: list[SyllabusVersion]
    history: list[dict[str, Any]]


# --------------------------------------------------------------------------------------- accounts
class Me(TypedDict):
    """The signed-in user, with the permissions of their role."""
    name: str | None
    role: str | None
    institution: NotRequired[str]
    courses: NotRequired[list[str]]
    permissions: NotRequired[list[str]]
    anonymous: NotRequired[bool]


class UserList(TypedDict):
    institution: str
    users: list[dict[str, Any]]


# --------------------------------------------------------------------------------------- careers
class PersonRow(TypedDict):
    id: str
    name: str
    kind: str | None
    department: str | None
    track: str | None
    roles: list[str]
    target_roles: list[str]
    mentor_capacity: int


class People(TypedDict):
    count: int
    people: list[PersonRow]


class Held(TypedDict):
    competency: str
    notation: str
    label: str
    framework: str
    level: Level
    latest: str | None
    fresh: bool
    evidence: list[EvidenceItem]


class Profile(TypedDict):
    """A person's competency profile: level, evidence and freshness per competency."""
    person: Person
    summary: dict[str, Any]
    competencies: list[Held]


class Step(TypedDict):
    from_role: str | None
    to_role: str
    title: str
    kind: Literal["advancement", "lateral", "track_change", "entry"]
    from_track: str | None
    to_track: str
    adds: list[Addition]


class RoleGap(TypedDict):
    """A person's gap to a target role along the career pathway (``ontology.careers.RoleGap.to_dict``)."""
    person: str
    name: str
    role: str
    title: str
    track: str
    path: list[str]
    direct: bool
    summary: dict[str, Any]
    steps: list[Step]
    requirements: list[GapItem]


class Develops(TypedDict):
    competency: str
    notation: str
    level: Level


class PlanItem(TypedDict):
    """A catalogue item chosen by the plan, with the gaps it closes."""
    id: str
    iri: str
    title: str
    kind: str
    hours: float
    cost: float
    format: str | None
    provider: str | None
    description: str | None
    url: str | None
    source: str | None
    develops: list[Develops]
    closes: list[str]
    closes_only: list[str]


class Plan(TypedDict):
    """A development plan: catalogue items closing the gap at least hours or cost (``Plan.to_dict``)."""
    person: str
    role: str
    objective: Literal["hours", "cost"]
    method: str
    optimal: bool
    total_hours: float
    total_cost: float
    gaps: int
    closed: int
    items: list[PlanItem]
    open_gaps: list[GapItem]
    gap_items: list[GapItem]
    greedy: dict[str, Any] | None
    seconds: float
    #: the named graph the plan was saved in (POST only)
    saved: NotRequired[str]


# --------------------------------------------------------------------------------------- request bodies
class AlignBody(TypedDict, total=False):
    #: default: the program's framework
    framework: str
    #: suggestions kept per objective
    top_k: Annotated[int, Field(ge=1, le=50)]
    #: keep only suggestions with at least this expected precision
    min_precision: Fraction


class DecisionBody(TypedDict, total=False):
    """``replace`` adds the named competency as an accepted manual alignment in place of this one."""
    decision: Literal["accept", "reject", "reset", "replace"]
    #: the status you saw: 409 when it is no longer that
    expected_status: Literal["suggested", "accepted", "rejected"]
    #: with framework: the competency's notation (for replace)
    competency: str
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
    #: list what would be accepted without writing
    preview: bool


class NewUserBody(TypedDict):
    name: str
    role: Literal["viewer", "educator", "committee", "admin"]
    courses: NotRequired[list[str]]
    #: a one-time password is generated when absent
    password: NotRequired[Annotated[str, Field(min_length=10)]]


class PlanBody(TypedDict, total=False):
    role: str
    objective: Literal["hours", "cost"]
    include_optional: bool


class CvDecisionBody(TypedDict, total=False):
    decision: Literal["accept", "reject", "reset"]
    #: accept at another level than suggested
    level: Annotated[int, Field(ge=1, le=5)]


class MatchBody(TypedDict, total=False):
    mode: Literal["best", "full"]
    role: str
    #: person ids, or comma-separated
    mentees: list[str] | str
    coverage_weight: Annotated[float, Field(ge=0, le=10)]
    track_weight: Annotated[float, Field(ge=0, le=10)]
    department: Literal["same", "different"]
    #: PERSON:PERSON pairs never matched (comma-separated, or a list of pairs)
    conflicts: str | list[list[str]]
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
    #: required when the course is new
    year: NotRequired[int]
    title: NotRequired[str]
    #: align the extracted objectives (default true)
    align: NotRequired[bool]


class FileUpload(TypedDict):
    file: bytes
    #: loader options as a JSON object (or give each as its own form field)
    options: NotRequired[str]


class CvUpload(TypedDict):
    file: bytes
    framework: NotRequired[str]


class SparqlForm(TypedDict):
    query: str


# --------------------------------------------------------------------------------------- JSON Schema
def json_schema(t) -> tuple[dict, dict[str, dict]]:
    """``t``'s JSON Schema (references to ``#/components/schemas/…``) and the named schemas it refers to."""
    s = TypeAdapter(t).json_schema(mode="serialization", ref_template=REF)
    defs = s.pop("$defs", {})
    for d in (s, *defs.values()):
        _binary(d)
    return s, defs


def _binary(s: dict) -> None:
    """Uploads (``bytes``) as OpenAPI's ``format: binary`` strings (pydantic says ``base64url``)."""
    for p in s.get("properties", {}).values():
        if p.get("format") == "base64url":
            p.update(format="binary")
            p.pop("contentEncoding", None)
