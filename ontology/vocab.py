"""The Gapmap vocabulary: every IRI the code uses, in one place.

Namespaces are exposed as rdflib ``Namespace`` objects (``GM.Course``); the same
terms are available as pyoxigraph nodes via :func:`ox`.  No other module spells
out an IRI string.
"""
from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SDO, SKOS, XSD

#: Stable base of the Gapmap vocabulary (dereferenceable at /ns on the service).
GM_NS = "https://w3id.org/gapmap/ns#"
GM = Namespace(GM_NS)
SCHEMA = SDO  # https://schema.org/
ESCO = Namespace("http://data.europa.eu/esco/model#")
SH = Namespace("http://www.w3.org/ns/shacl#")
#: 1EdTech CASE association types with no SKOS/Dublin Core counterpart (precedes, exemplar, hasSkillLevel)
CASE = Namespace("https://purl.imsglobal.org/spec/case/v1p0/vocab#")
ONTOLOGY_IRI = URIRef("https://w3id.org/gapmap/ns")

#: Prefixes offered to SPARQL users and used when serialising.
PREFIXES: dict[str, str] = {
    "gm": GM_NS,
    "skos": str(SKOS),
    "schema": str(SCHEMA),
    "esco": str(ESCO),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
}



def new_graph():
    """An empty rdflib Graph with the prefixes above bound (Turtle shows gm:, not ns1:)."""
    from rdflib import Graph
    g = Graph()
    for p, ns in PREFIXES.items():
        g.bind(p, ns)
    return g


# Alignment statuses (individuals of gm:AlignmentStatus).
SUGGESTED = GM.Suggested
ACCEPTED = GM.Accepted
REJECTED = GM.Rejected
STATUSES = {"suggested": SUGGESTED, "accepted": ACCEPTED, "rejected": REJECTED}

# Requirement kinds, as in ESCO's essential/optional skills.
ESSENTIAL = GM.Essential
OPTIONAL = GM.Optional

# Assessment kinds: input keyword -> class.
ASSESSMENT_KINDS = {
    "written_exam": GM.WrittenExam,
    "osce_station": GM.OSCEStation,
    "portfolio": GM.Portfolio,
    "workplace_based": GM.WorkplaceBasedAssessment,
}

# Career tracks: input keyword -> individual of gm:CareerTrack.
TRACKS = {
    "clinical": GM.ClinicalTrack,
    "research": GM.ResearchTrack,
    "teaching": GM.TeachingTrack,
    "leadership": GM.LeadershipTrack,
}

# Career stages at which a role requirement's level is expected (gm:stage).
STAGES = {
    "graduation": GM.GraduationStage,
    "end_of_residency": GM.EndOfResidencyStage,
    "post_training": GM.PostTrainingStage,
}

# Gap statuses reported per competency (also individuals in the ontology).
GAP_STATUSES = {
    "covered": GM.Covered,
    "not_taught": GM.NotTaught,
    "taught_not_assessed": GM.TaughtNotAssessed,
    "assessed_not_taught": GM.AssessedNotTaught,
    "below_required_level": GM.BelowRequiredLevel,
}

# People and careers (ontology/careers.py): evidence sources, input keyword -> individual.
EVIDENCE_SOURCES = {
    "supervisor": GM.SupervisorRating,
    "self": GM.SelfAssessment,
    "peer": GM.PeerRating,
    "milestone": GM.MilestoneRating,
    "credential": GM.CredentialEvidence,
    "assessment": GM.AssessmentEvidence,
    "portfolio": GM.PortfolioEvidence,
}
#: kinds of development opportunity (gm:opportunityKind) and how they are delivered (gm:format)
OPPORTUNITY_KINDS = ("course", "elective", "micro-credential", "cme", "certificate", "mini-fellowship",
                     "simulation", "qi-sprint", "interim-role")
OPPORTUNITY_FORMATS = ("in-person", "online", "hybrid", "on-the-job")
PERSON_KINDS = ("clinician", "faculty", "resident", "fellow", "nurse", "learner")
SCHEMA_PERSON = SCHEMA.Person

__all__ = [
    "GM", "GM_NS", "SCHEMA", "ESCO", "CASE", "SKOS", "PROV", "DCTERMS", "RDF", "RDFS", "OWL", "XSD", "SH",
    "ONTOLOGY_IRI", "PREFIXES", "new_graph", "SUGGESTED", "ACCEPTED", "REJECTED", "STATUSES", "ESSENTIAL", "OPTIONAL",
    "ASSESSMENT_KINDS", "TRACKS", "GAP_STATUSES", "STAGES",
    "EVIDENCE_SOURCES", "OPPORTUNITY_KINDS", "OPPORTUNITY_FORMATS", "PERSON_KINDS", "SCHEMA_PERSON",
]
