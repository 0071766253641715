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

from pydantic import ConfigDict, Field, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from typing_extensions import NotRequired, TypedDict, is_typeddict

from ontology.careers import Addition, EvidenceItem, GapItem, Person
from ontology.achievement import AssessmentOutcome
from ontology.gaps import Assessing, DomainSummary, ReadinessItem, Teaching
from ontology.progression import Step as ProgressionStep
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
    field: NotRequired[str]
    """The request field, parameter or header at fault."""


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
    extensions: NotRequired[list[str]]
    """File name extensions it reads (used to choose a loader when none is named)."""
    options: dict[str, str]
    """Its options (form fields of an upload), with what each means."""


class Loaded(TypedDict):
    """What a load wrote: the named graphs replaced, their triples, a summary by kind."""
    loader: NotRequired[str]
    """The loader that read the file (when it was chosen by the file)."""
    graphs: list[str]
    triples: int
    summary: dict[str, Any]
    seconds: float


class Loaders(TypedDict):
    loaders: list[Loader]


# --------------------------------------------------------------------------------------- reports
class GapFilters(TypedDict):
    """Every filter the report applied."""
    year: int | None
    course: str | None
    role: str | None
    include_suggestions: float | None
    stage: str | None
    """The role stage the required levels are taken at (null: the role's full levels)."""
    via: str | None
    """The framework the program is aligned to, when the report goes through a crosswalk."""


class GapBasis(TypedDict):
    """What the counts are over: every competency of the framework; `role_required` of them are the role's."""
    scope: Literal["framework"]
    competencies: int
    role_required: int | None
    note: str


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
    courses: list[str]
    """Codes of the courses that teach it."""


class GapReport(TypedDict):
    """A program's gap report against a framework (``ontology.gaps.GapReport.to_dict``)."""
    program: str
    framework: str
    filters: GapFilters
    basis: GapBasis
    summary: GapSummary
    domains: list[DomainSummary]
    competencies: list[GapEntry]


class RoleReadiness(TypedDict):
    """Which of a role's competencies a program's graduates reach (`ontology.gaps.RoleReadiness.to_dict`)."""
    role: str
    title: str
    program: str
    stage: str | None
    applicable: bool
    """False when the role requires nothing at this stage (then every `ready_pct` is null)."""
    note: str | None
    """Why readiness does not apply ("no requirements at this stage …"), else null."""
    summary: dict[str, Any]
    requirements: list[ReadinessItem]


class Where(TypedDict):
    course: str
    year: int
    level: int | None


class CompetencyProgression(TypedDict):
    competency: str
    notation: str
    label: str
    domain: str | None
    required_level: int | None
    introduced: Where | None
    reinforced: list[Where]
    mastered: Where | None
    flags: list[Literal["taught_once", "lower_after_higher", "mastered_before_introduced", "never_mastered"]]
    steps: list[ProgressionStep]


class ProgressionReport(TypedDict):
    """Where each competency is introduced, reinforced and mastered (`ontology.progression`)."""
    program: str
    framework: str
    role: str | None
    mastery_level: int
    summary: dict[str, Any]
    competencies: list[CompetencyProgression]


class HealthCheck(TypedDict):
    name: str
    title: str
    count: int
    note: str | None
    """Why a check did not run, or what limited it."""
    findings: list[dict[str, Any]]


class HealthReport(TypedDict):
    """Curriculum health checks and what each found (`ontology.health`)."""
    program: str
    framework: str
    summary: dict[str, int]
    checks: list[HealthCheck]


class CompetencyAchievement(TypedDict):
    competency: str
    notation: str
    label: str
    cohort: str
    learners: int
    """Distinct learners (a learner who sat two of its assessments counts once)."""
    pass_rate: float
    mean_score: float
    assessments: list[AssessmentOutcome]
    results: int
    """Results (sittings) the pass rate and mean are over."""


class Suppressed(TypedDict):
    competency: str
    cohort: str


class Achievement(TypedDict):
    """Pass rate and mean score per competency and cohort (groups under `min_group` are suppressed)."""
    program: str
    framework: str
    cohorts: list[str]
    no_results: list[str]
    min_group: int
    suppressed: list[Suppressed]
    competencies: list[CompetencyAchievement]


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
    result: Any
    """What the synchronous call would have answered, once succeeded."""
    error: dict[str, Any] | None
    """A problem (title, status, detail), once failed."""
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
    query_span: list[int] | None
    """The characters of the objective's text the evidence matched (start, end)."""


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


class SyllabusUploaded(TypedDict):
    """A syllabus stored as a new version of the course: what was extracted, stored and aligned."""
    program: str
    course: str
    version: int
    file: str
    extraction: dict[str, Any]
    """The objectives found (text, position, Bloom level, verb), warnings and assessments."""
    stored: Loaded
    objective_ids: list[str]
    alignment: NotRequired[AlignRun]
    """The program's alignment run afterwards (unless align=false)."""


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


class Account(TypedDict):
    name: str
    role: Literal["viewer", "educator", "committee", "admin"]
    institution: str
    courses: list[str]
    has_password: bool
    must_change_password: bool
    created: str


class CreatedUser(Account):
    """A new user; its API token and one-time password are shown here only."""
    token: str
    password: NotRequired[str]
    """Generated when none was given: to be changed at the first sign-in."""


class UserList(TypedDict):
    institution: str
    users: list[Account]


class AuditEntry(TypedDict):
    id: int
    at: str
    user: str | None
    institution: str | None
    method: str
    path: str
    status: int | None
    summary: str | None


class AuditPage(TypedDict):
    total: int
    page: int
    per_page: int
    entries: list[AuditEntry]


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


class PathwayStep(TypedDict):
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
    steps: list[PathwayStep]
    requirements: list[GapItem]


class Draft(TypedDict):
    """A what-if draft of a program (or, ``frozen``, a saved curriculum version)."""
    name: str
    program: str
    created_by: str
    created_at: str
    framework: str | None
    frozen: bool
    edits: list[dict[str, Any]]


class DraftSummary(TypedDict):
    name: str
    program: str
    created_by: str
    created_at: str
    framework: str | None
    frozen: bool
    edits: int
    """How many edits."""


class Drafts(TypedDict):
    program: str
    drafts: list[DraftSummary]


class Versions(TypedDict):
    program: str
    versions: list[DraftSummary]


class Develops(TypedDict):
    competency: str
    notation: str
    level: Level


class Opportunity(TypedDict):
    """An item of the development catalogue and what it develops."""
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


class PlanItem(Opportunity):
    """A catalogue item chosen by the plan, with the gaps it closes."""
    closes: list[str]
    closes_only: list[str]


class CatalogueItem(Opportunity):
    suggested: NotRequired[list[Any]]
    """With suggest=true: competencies the description suggests (unreviewed)."""


class Catalogue(TypedDict):
    count: int
    items: list[CatalogueItem]


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
    saved: NotRequired[str]
    """The named graph the plan was saved in (POST only)."""


# --------------------------------------------------------------------------------------- JSON Schema
def describe_fields(namespace: dict, module: str) -> None:
    """A field's docstring is its description (for every ``TypedDict`` defined in ``module``)."""
    for t in list(namespace.values()):
        if is_typeddict(t) and t.__module__ == module:
            t.__pydantic_config__ = ConfigDict(use_attribute_docstrings=True)


describe_fields(globals(), __name__)


class _Untitled(GenerateJsonSchema):
    """No ``title`` on every property (pydantic's default): the property's name says it."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def json_schema(t) -> tuple[dict, dict[str, dict]]:
    """``t``'s JSON Schema (references to ``#/components/schemas/…``) and the named schemas it refers to."""
    s = TypeAdapter(t).json_schema(mode="serialization", ref_template=REF, schema_generator=_Untitled)
    defs = s.pop("$defs", {})
    for d in (s, *defs.values()):
        _binary(d)
        if "description" in d:
            d["description"] = d["description"].replace("``", "`")
    return s, defs


def _binary(s: dict) -> None:
    """Uploads (``bytes``) as OpenAPI's ``format: binary`` strings (pydantic says ``base64url``)."""
    for p in s.get("properties", {}).values():
        if p.get("format") == "base64url":
            p.update(format="binary")
            p.pop("contentEncoding", None)
