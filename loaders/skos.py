"""A SKOS concept scheme (Turtle, RDF/XML, JSON-LD or N-Triples), re-minted into the Gapmap model.

Source: one file holding one ``skos:ConceptScheme`` (or several, with option ``scheme`` naming one).
The format comes from the option ``format`` (rdflib name: turtle, xml, json-ld, nt), else the file
extension, else the content (``<`` = RDF/XML, ``{``/``[`` = JSON-LD, otherwise Turtle).  JSON-LD with a
remote ``@context`` is refused (nothing is fetched).

Options:
  ``id``        framework id (default: the scheme's skos:notation, else a lower-case slug of its title, else
                of its IRI's last segment)
  ``title``     framework title (default: the scheme's dcterms:title / skos:prefLabel / rdfs:label)
  ``version``   framework version (default: the scheme's dcterms:hasVersion / owl:versionInfo)
  ``scheme``    IRI of the scheme to load when the file has several
  ``format``    rdflib parser name, to override the guess

Mapping:
  * The scheme becomes ``gm:Framework`` ``B/framework/{id}`` (dcterms:source = the original IRI).
  * Its concepts (skos:inScheme / skos:topConceptOf / skos:hasTopConcept, plus every skos:Concept when the
    file has a single scheme) become ``B/framework/{id}/{notation}``; notation = the concept's
    skos:notation when it is a valid id, else a slug of it, else a slug of the last segment of the
    concept IRI.  Top concepts (declared, or without a skos:broader in the scheme) become ``gm:Domain``,
    the others ``gm:Competency`` with ``skos:broader`` re-pointed to the re-minted parents
    (skos:narrower is read as the inverse).  A scheme with no hierarchy at all (no broader/narrower
    between its concepts, top concepts declared or not) gets one domain ``all`` named after the scheme,
    holding every concept as a competency.
  * Kept per concept: skos:prefLabel (rdfs:label if none), skos:altLabel, skos:definition (language tags
    kept), and ``skos:exactMatch`` the original concept IRI.
Parse errors name the line (and column where the parser knows it).
"""
from __future__ import annotations

import json
import re
from collections import defaultdict

from rdflib import Graph, Literal, URIRef
from rdflib.util import guess_format

from ontology.errors import LoadError
from ontology.vocab import DCTERMS, OWL, RDF, RDFS, SKOS

from .base import ID_RE, Context, Delta, Loader, Source, check_id
from .safety import check_iris, check_json, check_xml
from .shapes import add_concept, add_framework

FORMATS = {"turtle": "Turtle", "xml": "RDF/XML", "json-ld": "JSON-LD", "nt": "N-Triples", "n3": "N3",
           "trig": "TriG", "nquads": "N-Quads"}
COLUMNS = {SKOS.notation: "skos:notation", SKOS.prefLabel: "skos:prefLabel", SKOS.altLabel: "skos:altLabel",
           SKOS.definition: "skos:definition", SKOS.broader: "skos:broader", DCTERMS.title: "dcterms:title"}


def slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "-", value.strip()).strip("-._")


def _local_name(iri: str) -> str:
    return re.split(r"[/#]", iri.rstrip("/#"))[-1]


#: every name rdflib (or a user) may give a format, to the parser we run; anything else is refused,
#: so no alias can skip the checks made per format (JSON-LD contexts, XML entities)
FORMAT_ALIASES = {
    "turtle": "turtle", "ttl": "turtle", "text/turtle": "turtle", "application/x-turtle": "turtle",
    "xml": "xml", "rdf": "xml", "rdfxml": "xml", "rdf+xml": "xml", "rdf/xml": "xml", "owl": "xml",
    "application/rdf+xml": "xml", "pretty-xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "json-ld": "json-ld", "jsonld": "json-ld", "application/ld+json": "json-ld", "json": "json-ld",
    "application/json": "json-ld",
    "nt": "nt", "ntriples": "nt", "n-triples": "nt", "nt11": "nt", "application/n-triples": "nt",
    "text/plain": "nt",
    "n3": "n3", "text/n3": "n3", "trig": "trig", "application/trig": "trig",
    "nquads": "nquads", "n-quads": "nquads", "nq": "nquads", "application/n-quads": "nquads",
}


def _format_of(source: Source, ctx: Context, text: str) -> str:
    given = ctx.option("format")
    if given:
        fmt = FORMAT_ALIASES.get(str(given).strip().lower())
        if fmt is None:
            raise LoadError(f"unknown format {str(given)[:60]!r}; use one of {', '.join(sorted(FORMATS))}",
                            file=source.name, column="format")
        return fmt
    fmt = guess_format(source.name)
    if fmt:
        return FORMAT_ALIASES.get(fmt, "turtle" if fmt not in FORMATS else fmt)
    head = text.lstrip()
    if head.startswith(("{", "[")):
        return "json-ld"
    if head.startswith("<") and not re.match(r"<[a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]*>", head):
        return "xml"  # <?xml, <rdf:RDF ...; a Turtle / N-Triples line starts with <scheme:...>
    return "turtle"  # also reads N-Triples


def _parse_error(e: Exception, text: str, fmt: str, name: str) -> LoadError:
    kind = FORMATS.get(fmt, fmt)
    line, col, reason = None, None, str(e)
    if hasattr(e, "getLineNumber"):  # xml.sax.SAXParseException
        line, col, reason = e.getLineNumber(), e.getColumnNumber(), e.getMessage()
    elif isinstance(e, json.JSONDecodeError):
        line, col, reason = e.lineno, e.colno, e.msg
    else:
        m = re.search(r"at line (\d+)", reason) or re.search(r"line (\d+)", reason)
        if m:
            line = int(m.group(1))
        why = re.search(r"Bad syntax \(([^)]*)\)", reason)
        if why:
            reason = why.group(1)
        m = re.match(r"Invalid line: (.*)", reason, re.S)
        if m and line is None:  # N-Triples: find the line whose end is the unparsed rest
            rest = m.group(1).strip()
            for n, ln in enumerate(text.splitlines(), start=1):
                if rest and ln.strip().endswith(rest):
                    line, reason = n, f"cannot parse {ln.strip()!r}"
                    break
    where = f" (column {col})" if col is not None else ""
    return LoadError(f"not valid {kind}{where}: {reason.strip().splitlines()[0] if reason.strip() else kind}",
                     file=name, row=line)


def _first(g: Graph, s, preds) -> Literal | None:
    for p in preds:
        for o in sorted(g.objects(s, p), key=lambda o: (getattr(o, "language", None) not in (None, "en"), str(o))):
            if isinstance(o, Literal) and str(o).strip():
                return o
    return None


class SkosScheme(Loader):
    name = "skos"
    description = "SKOS concept scheme (Turtle, RDF/XML, JSON-LD, N-Triples) re-minted as a framework"
    options = {"id": "framework id (default: the scheme's notation or a slug of its title)",
               "title": "framework title", "version": "framework version",
               "scheme": "IRI of the scheme to load when the file has several",
               "format": "rdflib parser name (turtle, xml, json-ld, nt) to override the guess"}

    @classmethod
    def sniff(cls, data: bytes, filename: str) -> bool:
        return b"www.w3.org/2004/02/skos/core" in data[:2**20]

    def load(self, source: Source, ctx: Context) -> Delta:
        f, ids = source.name, ctx.ids
        text = source.text()
        fmt = _format_of(source, ctx, text)
        if fmt == "json-ld":
            check_json(text, f)  # nesting bound; no remote @context / @import anywhere
        elif fmt == "xml" or text.lstrip("\ufeff \t\r\n").startswith("<?xml"):
            check_xml(text, f, kind=FORMATS.get(fmt, fmt))  # entity expansion, external entities
        src = Graph()
        try:
            src.parse(data=text, format=fmt, publicID="urn:gapmap:upload:")
        except LoadError:
            raise
        except RecursionError:
            raise LoadError(f"this {FORMATS.get(fmt, fmt)} nests too deeply to read", file=f) from None
        except Exception as e:  # each rdflib parser raises its own kinds
            raise _parse_error(e, text, fmt, f) from None
        check_iris(src, f)

        scheme_iri = self._pick_scheme(src, ctx, f)
        members = self._members(src, scheme_iri)
        if not members:
            raise LoadError(f"the concept scheme <{scheme_iri}> has no concepts", file=f)

        # Framework id, title, version.
        title = ctx.option("title") or _first(src, scheme_iri, (DCTERMS.title, SKOS.prefLabel, RDFS.label))
        notation = _first(src, scheme_iri, (SKOS.notation,))
        fw = ctx.option("id") or (str(notation) if notation and ID_RE.match(str(notation)) else "") or \
            slug(str(notation or title or "")).lower() or slug(_local_name(str(scheme_iri))).lower()
        fw = check_id(fw, file=f, row=None, column="id")
        version = ctx.option("version") or _first(src, scheme_iri, (DCTERMS.hasVersion, OWL.versionInfo))

        # Notations: unique, valid ids.
        notation_of: dict = {}
        seen: dict[str, object] = {}
        for c in sorted(members, key=str):
            n = _first(src, c, (SKOS.notation,))
            cand = str(n).strip() if n is not None else ""
            if not ID_RE.match(cand):
                cand = slug(cand) or (slug(_local_name(str(c))) if isinstance(c, URIRef) else "")
            if not cand:
                raise LoadError(f"concept <{c}> has no notation and no IRI to derive one from", file=f,
                                column="skos:notation")
            if cand in seen:
                raise LoadError(f"concepts <{seen[cand]}> and <{c}> both get the notation {cand!r}", file=f,
                                column="skos:notation")
            seen[cand] = c
            notation_of[c] = cand

        # Hierarchy inside the scheme.
        parents: dict = defaultdict(set)
        for c in members:
            for p in src.objects(c, SKOS.broader):
                if p in members and p != c:
                    parents[c].add(p)
            for ch in src.objects(c, SKOS.narrower):
                if ch in members and ch != c:
                    parents[ch].add(c)
        declared_top = {c for c in members if (c, SKOS.topConceptOf, scheme_iri) in src
                        or (scheme_iri, SKOS.hasTopConcept, c) in src}
        flat = not parents

        delta = Delta(columns=dict(COLUMNS))
        g = delta.graph(ids.graph("framework", fw))
        scheme = ids.framework(fw)
        outside = isinstance(scheme_iri, URIRef) and not str(scheme_iri).startswith("urn:gapmap:upload:")
        add_framework(g, scheme, notation=fw, title=str(title) if title is not None else fw, version=version,
                      source=scheme_iri if outside else None)
        delta.origin[scheme] = (f, None)

        if flat:
            if "all" in seen:
                raise LoadError("a concept already has the notation 'all' used for the single domain", file=f,
                                column="skos:notation")
            top = add_concept(g, ids.concept(fw, "all"), scheme, notation="all", domain=True,
                              label=str(title) if title is not None else fw,
                              definition="All concepts of the scheme (it has no hierarchy).")

        counts = {"domains": 1 if flat else 0, "competencies": 0}
        for c in sorted(members, key=lambda c: notation_of[c]):
            node = ids.concept(fw, notation_of[c])
            is_domain = not flat and (c in declared_top or not parents.get(c))
            broader = [] if is_domain else [ids.concept(fw, notation_of[p]) for p in (parents.get(c) or ())]
            add_concept(g, node, scheme, notation=notation_of[c], domain=is_domain,
                        broader=broader + ([top] if flat else []))
            counts["domains" if is_domain else "competencies"] += 1
            labels = [o for o in src.objects(c, SKOS.prefLabel) if isinstance(o, Literal)] or \
                [o for o in src.objects(c, RDFS.label) if isinstance(o, Literal)] or [Literal(notation_of[c])]
            for o in labels:
                g.add((node, SKOS.prefLabel, o))
            for p in (SKOS.altLabel, SKOS.definition):
                for o in src.objects(c, p):
                    if isinstance(o, Literal):
                        g.add((node, p, o))
            if isinstance(c, URIRef) and not str(c).startswith("urn:gapmap:upload:"):
                g.add((node, SKOS.exactMatch, c))
            delta.origin[node] = (f, None)
        delta.summary = counts
        return delta

    @staticmethod
    def _pick_scheme(src: Graph, ctx: Context, f: str):
        schemes = sorted(set(src.subjects(RDF.type, SKOS.ConceptScheme)), key=str)
        wanted = ctx.option("scheme")
        if wanted:
            if URIRef(wanted) not in schemes:
                raise LoadError(f"the file has no concept scheme <{wanted}>", file=f, column="scheme")
            return URIRef(wanted)
        if not schemes:
            raise LoadError("the file has no skos:ConceptScheme", file=f)
        if len(schemes) > 1:
            raise LoadError(f"the file has {len(schemes)} concept schemes ({', '.join(f'<{s}>' for s in schemes)}); "
                            "pick one with the option 'scheme'", file=f, column="scheme")
        return schemes[0]

    @staticmethod
    def _members(src: Graph, scheme) -> set:
        members = set(src.subjects(SKOS.inScheme, scheme)) | set(src.subjects(SKOS.topConceptOf, scheme)) | \
            set(src.objects(scheme, SKOS.hasTopConcept))
        if len(set(src.subjects(RDF.type, SKOS.ConceptScheme))) == 1:
            other = {c for c, s in src.subject_objects(SKOS.inScheme) if s != scheme}
            members |= set(src.subjects(RDF.type, SKOS.Concept)) - other
        return members
