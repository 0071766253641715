"""1EdTech CASE 1.0/1.1 (Competencies and Academic Standards Exchange): a CFPackage in and out.

Import (loader ``case``): one CFPackage JSON document ``{"CFDocument": …, "CFItems": […],
"CFAssociations": […], "CFDefinitions": {…}}``.

  * CFDocument → ``gm:Framework`` ``B/framework/{id}``; id = option ``id``, else the framework id when the
    document's ``uri`` is one of ours (a Gapmap export), else a lower-case slug of its title.
    Kept: ``identifier`` (dcterms:identifier), ``uri`` (dcterms:source), creator, publisher, description,
    subject, language, version (dcterms:hasVersion), adoptionStatus (schema:creativeWorkStatus),
    licenseURI (dcterms:license), officialSourceURL (schema:url), notes (skos:note), lastChangeDateTime
    (dcterms:modified).
  * CFItems → concepts ``B/framework/{id}/{notation}``; notation = ``humanCodingScheme`` when it is a valid,
    unique id, else the item's ``identifier``.  The hierarchy comes from ``isChildOf`` associations (origin =
    child): a top item (child of the document, or of nothing) with children becomes a ``gm:Domain``, every
    other item a ``gm:Competency`` (``skos:broader`` its parents; a childless top item is a top concept).
    ``fullStatement`` → skos:definition, and skos:prefLabel unless ``abbreviatedStatement`` is given;
    ``alternativeLabel`` → skos:altLabel; ``conceptKeywords`` → schema:keywords; ``notes`` → skos:note;
    ``educationLevel`` → schema:educationalLevel; ``CFItemType`` → dcterms:type, a ``case:CFItemType`` node
    (its uri; dcterms:title, dcterms:identifier, case:typeCode, case:hierarchyCode, dcterms:description as in
    CFDefinitions; not a concept of the scheme); ``identifier``,
    ``uri``, ``lastChangeDateTime`` as for the document; a ``humanCodingScheme`` that could not be the
    notation → schema:codeValue; the isChildOf ``sequenceNumber`` → schema:position.
  * Other associations from an item of the package become links (crosswalk), to the item when the
    destination is in the package, else to the destination's ``uri``: see :data:`LINKS`.

Export (:func:`export_package`): any loaded framework as a CFPackage that validates against the CASE v1p0
JSON Schema, with the framework's SKOS mapping links (also those stored in other graphs, such as a reviewed
crosswalk) as associations.  Identifiers and URIs that came from a CASE import are kept; other nodes get
name-based UUIDs (uuid5 of their IRI) and their Gapmap IRI, so exporting twice gives the same package.
Import → export → import gives the same graph (tests/loaders/test_case.py).

OpenSALT spreadsheet (loader ``case-csv``): the CSV/XLSX OpenSALT imports (``Identifier``, ``fullStatement``,
``Human Coding Scheme``, ``Is Child Of``, …), one row per item; rows are read as CFItems and isChildOf
associations and go through the same mapping.
"""
from __future__ import annotations

import re
import uuid
from collections import defaultdict
from datetime import datetime, timezone

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from ontology.errors import LoadError, NotFound
from ontology.vocab import CASE, DCTERMS, GM, RDF, SCHEMA, SKOS

from .base import ID_RE, Context, Delta, Loader, Source, check_id
from .safety import parse_json
from .shapes import add_concept, add_framework

#: CASE association type -> the predicate linking origin to destination (isChildOf is the hierarchy)
LINKS = {
    "exactMatchOf": SKOS.exactMatch,
    "isRelatedTo": SKOS.relatedMatch,
    "isPeerOf": SKOS.related,
    "isPartOf": DCTERMS.isPartOf,
    "replacedBy": DCTERMS.isReplacedBy,
    "precedes": CASE.precedes,
    "exemplar": CASE.exemplar,
    "hasSkillLevel": CASE.hasSkillLevel,
}
#: on export, SKOS mapping links that have no CASE type of their own
EXPORT_ALSO = {SKOS.closeMatch: "isRelatedTo", SKOS.broadMatch: "isRelatedTo", SKOS.narrowMatch: "isRelatedTo"}
ASSOCIATION_TYPES = ("isChildOf", *LINKS)
UUID_RE = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
IRI_RE = re.compile(r'^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>"{}|\\^`]+$')
COLUMNS = {SKOS.notation: "humanCodingScheme", SKOS.prefLabel: "fullStatement", SKOS.definition: "fullStatement",
           SKOS.broader: "isChildOf", DCTERMS.title: "CFDocument.title"}


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "-", value.strip()).strip("-._")


def _uuid(iri) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, str(iri)))


def _text(obj: dict, key: str, where: str, f: str, *, required: bool = False) -> str | None:
    v = obj.get(key)
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise LoadError(f"{where} has no {key}", file=f, column=f"{where}.{key}")
        return None
    if not isinstance(v, str):
        raise LoadError(f"{where}.{key} must be text, not {type(v).__name__}", file=f, column=f"{where}.{key}")
    return v.strip()


def _iri(value: str, where: str, f: str) -> URIRef:
    if not IRI_RE.match(value or ""):
        raise LoadError(f"{value!r} is not an absolute URI", file=f, column=where)
    return URIRef(value)


def _when(value: str | None, where: str, f: str) -> Literal | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise LoadError(f"{value!r} is not a date-time (YYYY-MM-DDThh:mm:ss)", file=f, column=where) from None
    # a time without an offset (common in CASE packages) is taken as UTC, so exports are valid RFC 3339
    return Literal((t if t.tzinfo else t.replace(tzinfo=timezone.utc)).isoformat(), datatype=XSD.dateTime)


def _strings(v, where: str, f: str) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v.strip()] if v.strip() else []
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return [x.strip() for x in v if x.strip()]
    raise LoadError(f"{where} must be text or a list of texts", file=f, column=where)


def _node_ref(obj, where: str, f: str) -> tuple[str | None, str | None]:
    """(identifier, uri) of an originNodeURI / destinationNodeURI (a LinkGenURI object)."""
    if not isinstance(obj, dict):
        raise LoadError(f"{where} must be an object with identifier and uri", file=f, column=where)
    ident, uri = obj.get("identifier"), obj.get("uri")
    if not (isinstance(ident, str) and ident.strip()) and not (isinstance(uri, str) and uri.strip()):
        raise LoadError(f"{where} has neither identifier nor uri", file=f, column=where)
    return (ident.strip() if isinstance(ident, str) else None), (uri.strip() if isinstance(uri, str) else None)


def package_delta(pkg, ctx: Context, f: str) -> Delta:
    """The Delta of one parsed CFPackage (also used for the OpenSALT spreadsheet)."""
    ids = ctx.ids
    if not isinstance(pkg, dict):
        raise LoadError("a CFPackage must be a JSON object", file=f)
    unknown = sorted(set(pkg) - {"CFDocument", "CFItems", "CFAssociations", "CFDefinitions", "CFRubrics",
                                 "@context", "CFPackageURI"})
    if unknown:
        raise LoadError(f"unknown CFPackage member(s): {', '.join(unknown)}", file=f, column=unknown[0])
    doc = pkg.get("CFDocument")
    if not isinstance(doc, dict):
        raise LoadError("the package has no CFDocument object (is this a CASE CFPackage?)", file=f,
                        column="CFDocument")
    items = pkg.get("CFItems") or []
    assocs = pkg.get("CFAssociations") or []
    for key, v in (("CFItems", items), ("CFAssociations", assocs)):
        if not isinstance(v, list):
            raise LoadError(f"{key} must be a list", file=f, column=key)

    title = _text(doc, "title", "CFDocument", f, required=True)
    doc_id = _text(doc, "identifier", "CFDocument", f, required=True)
    doc_uri = _text(doc, "uri", "CFDocument", f)
    fw = ctx.option("id")
    if not fw and doc_uri and ids.is_ours(doc_uri):
        m = re.fullmatch(re.escape(ids.base) + r"framework/([^/]+)", doc_uri)
        fw = m.group(1) if m else None
    fw = check_id(fw or _slug(title).lower(), file=f, row=None, column="id")

    delta = Delta(columns=dict(COLUMNS))
    g = delta.graph(ids.graph("framework", fw))
    scheme = ids.framework(fw)
    add_framework(g, scheme, notation=fw, title=title)
    g.add((scheme, DCTERMS.identifier, Literal(doc_id)))
    if doc_uri and not ids.is_ours(doc_uri):
        g.add((scheme, DCTERMS.source, _iri(doc_uri, "CFDocument.uri", f)))
    for key, pred in (("creator", DCTERMS.creator), ("publisher", DCTERMS.publisher),
                      ("description", DCTERMS.description), ("language", DCTERMS.language),
                      ("version", DCTERMS.hasVersion), ("adoptionStatus", SCHEMA.creativeWorkStatus),
                      ("notes", SKOS.note)):
        v = _text(doc, key, "CFDocument", f)
        if v:
            g.add((scheme, pred, Literal(v)))
    for s in _strings(doc.get("subject"), "CFDocument.subject", f):
        g.add((scheme, DCTERMS.subject, Literal(s)))
    if _text(doc, "officialSourceURL", "CFDocument", f):
        g.add((scheme, SCHEMA.url, _iri(doc["officialSourceURL"].strip(), "CFDocument.officialSourceURL", f)))
    lic = doc.get("licenseURI")
    if isinstance(lic, dict) and lic.get("uri"):
        g.add((scheme, DCTERMS.license, _iri(str(lic["uri"]), "CFDocument.licenseURI.uri", f)))
    when = _when(_text(doc, "lastChangeDateTime", "CFDocument", f), "CFDocument.lastChangeDateTime", f)
    if when is not None:
        g.add((scheme, DCTERMS.modified, when))
    delta.origin[scheme] = (f, None)

    # Items: identifiers, notations.
    by_id: dict[str, dict] = {}
    by_uri: dict[str, str] = {}
    where_of: dict[str, str] = {}
    for i, it in enumerate(items):
        where = f"CFItems[{i}]"
        if not isinstance(it, dict):
            raise LoadError(f"{where} must be an object", file=f, column=where)
        ident = _text(it, "identifier", where, f, required=True)
        _text(it, "fullStatement", where, f, required=True)
        if ident in by_id:
            raise LoadError(f"identifier {ident!r} is used by {where_of[ident]} and {where}", file=f,
                            column=f"{where}.identifier")
        by_id[ident], where_of[ident] = it, where
        uri = _text(it, "uri", where, f)
        if uri:
            by_uri.setdefault(uri, ident)
    codes = defaultdict(list)
    for ident, it in by_id.items():
        hcs = _text(it, "humanCodingScheme", where_of[ident], f)
        if hcs:
            codes[hcs].append(ident)
    notation: dict[str, str] = {}
    for ident, it in by_id.items():
        hcs = _text(it, "humanCodingScheme", where_of[ident], f)
        ok = hcs and ID_RE.match(hcs) and len(codes[hcs]) == 1 and hcs not in by_id
        notation[ident] = hcs if ok else check_id(ident, file=f, row=None, column=f"{where_of[ident]}.identifier")

    def resolve(ref_id, ref_uri):
        """An item identifier of the package, or None."""
        if ref_id in by_id:
            return ref_id
        if ref_uri in by_uri:
            return by_uri[ref_uri]
        return None

    # Associations.
    parents: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
    top_seq: dict[str, int | None] = {}
    links: list[tuple[str, URIRef, object, str]] = []
    skipped = 0
    for i, a in enumerate(assocs):
        where = f"CFAssociations[{i}]"
        if not isinstance(a, dict):
            raise LoadError(f"{where} must be an object", file=f, column=where)
        kind = a.get("associationType")
        if kind not in ASSOCIATION_TYPES:
            raise LoadError(f"associationType {kind!r} is not one of {', '.join(ASSOCIATION_TYPES)}", file=f,
                            column=f"{where}.associationType")
        o_id, o_uri = _node_ref(a.get("originNodeURI"), f"{where}.originNodeURI", f)
        d_id, d_uri = _node_ref(a.get("destinationNodeURI"), f"{where}.destinationNodeURI", f)
        seq = a.get("sequenceNumber")
        if isinstance(seq, str) and re.fullmatch(r"\s*-?\d+\s*", seq):
            seq = int(seq)  # OpenSALT writes "1"
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool)):
            raise LoadError(f"sequenceNumber {seq!r} is not a whole number", file=f, column=f"{where}.sequenceNumber")
        origin = resolve(o_id, o_uri)
        dest = resolve(d_id, d_uri)
        if kind == "isChildOf":
            if origin is None:
                raise LoadError(f"isChildOf from {o_id or o_uri!r}, which is not an item of the package", file=f,
                                column=f"{where}.originNodeURI")
            if dest is not None:
                if dest == origin:
                    raise LoadError(f"item {origin!r} is its own parent", file=f, column=f"{where}.destinationNodeURI")
                parents[origin].append((dest, seq))
            elif d_id == doc_id or (d_uri and d_uri == doc_uri):
                top_seq[origin] = seq
            else:
                raise LoadError(f"isChildOf points to {d_id or d_uri!r}, neither an item nor the document", file=f,
                                column=f"{where}.destinationNodeURI")
            continue
        if origin is None:
            skipped += 1  # a link between two outside nodes, or from an outside node: not about this framework
            continue
        if dest is None:
            if not d_uri:
                raise LoadError(f"the destination {d_id!r} is not an item of the package and has no uri", file=f,
                                column=f"{where}.destinationNodeURI.uri")
            target = _iri(d_uri, f"{where}.destinationNodeURI.uri", f)
        else:
            target = dest
        links.append((origin, LINKS[kind], target, where))

    # Cycles in the hierarchy (iterative depth-first search: a deep package cannot exhaust the stack).
    state: dict[str, int] = {}
    for root in by_id:
        if state.get(root):
            continue
        stack = [(root, iter([p for p, _ in parents.get(root, ())]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                path = [n for n, _ in stack] + [nxt]
                path = path[path.index(nxt):]
                raise LoadError(f"isChildOf cycle: {' → '.join(notation[n] for n in path)}", file=f,
                                column="CFAssociations")
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter([p for p, _ in parents.get(nxt, ())])))

    # Item types (CFDefinitions.CFItemTypes, and those the items name): case:CFItemType nodes, by uri.
    type_nodes: dict[str, URIRef] = {}  # title -> node
    defs = pkg.get("CFDefinitions") or {}
    if not isinstance(defs, (dict, list)):
        raise LoadError("CFDefinitions must be an object", file=f, column="CFDefinitions")
    defined = defs.get("CFItemTypes") or [] if isinstance(defs, dict) else []
    if not isinstance(defined, list):
        raise LoadError("CFDefinitions.CFItemTypes must be a list", file=f, column="CFDefinitions.CFItemTypes")

    def add_type(title, uri, ident, where, extra=None):
        t_node = _iri(uri, f"{where}.uri", f) if uri else URIRef(f"{scheme}/item-type/{_slug(title) or 'type'}")
        if title in type_nodes:
            return type_nodes[title]
        type_nodes[title] = t_node
        g.add((t_node, RDF.type, CASE.CFItemType))
        g.add((t_node, DCTERMS.title, Literal(title)))
        if ident:
            g.add((t_node, DCTERMS.identifier, Literal(ident)))
        for key, pred in (("typeCode", CASE.typeCode), ("description", DCTERMS.description),
                          ("hierarchyCode", CASE.hierarchyCode)):
            v = (extra or {}).get(key)
            if isinstance(v, str) and v.strip():
                g.add((t_node, pred, Literal(v.strip())))
        when = _when((extra or {}).get("lastChangeDateTime") if isinstance((extra or {}).get("lastChangeDateTime"), str)
                     else None, f"{where}.lastChangeDateTime", f)
        if when is not None:
            g.add((t_node, DCTERMS.modified, when))
        return t_node

    for i, t in enumerate(defined):
        where = f"CFDefinitions.CFItemTypes[{i}]"
        if not isinstance(t, dict):
            raise LoadError(f"{where} must be an object", file=f, column=where)
        add_type(_text(t, "title", where, f, required=True), _text(t, "uri", where, f), _text(t, "identifier", where, f),
                 where, t)

    def item_type(it, where):
        title = _text(it, "CFItemType", where, f)
        ref = it.get("CFItemTypeURI") if isinstance(it.get("CFItemTypeURI"), dict) else {}
        title = title or (str(ref.get("title") or "").strip() or None)
        if not title:
            return None
        return add_type(title, str(ref.get("uri") or "").strip() or None, str(ref.get("identifier") or "").strip() or None,
                        f"{where}.CFItemTypeURI")

    has_children = {p for n, ps in parents.items() for p, _ in ps}
    node_of = {ident: ids.concept(fw, notation[ident]) for ident in by_id}
    counts = {"domains": 0, "competencies": 0, "links": len(links), "skipped_associations": skipped}
    for ident, it in by_id.items():
        where = where_of[ident]
        node = node_of[ident]
        lang = _text(it, "language", where, f) or "en"
        if not re.fullmatch(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*", lang):
            raise LoadError(f"language {lang!r} is not a language tag", file=f, column=f"{where}.language")
        top = not parents.get(ident)
        domain = top and ident in has_children
        full = _text(it, "fullStatement", where, f)
        short = _text(it, "abbreviatedStatement", where, f)
        alt = _text(it, "alternativeLabel", where, f)
        add_concept(g, node, scheme, notation=notation[ident], domain=domain, top=top, label=short or full,
                    definition=full, alt_labels=[alt] if alt else [], lang=lang)
        g.add((node, DCTERMS.identifier, Literal(ident)))
        counts["domains" if domain else "competencies"] += 1
        if top:
            if top_seq.get(ident) is not None:
                g.add((node, SCHEMA.position, Literal(top_seq[ident], datatype=XSD.integer)))
        for p, seq in parents.get(ident, ()):
            g.add((node, SKOS.broader, node_of[p]))
            if seq is not None:
                g.add((node, SCHEMA.position, Literal(seq, datatype=XSD.integer)))
        hcs = _text(it, "humanCodingScheme", where, f)
        if hcs and hcs != notation[ident]:
            g.add((node, SCHEMA.codeValue, Literal(hcs)))
        for kw in _strings(it.get("conceptKeywords"), f"{where}.conceptKeywords", f):
            g.add((node, SCHEMA.keywords, Literal(kw)))
        for lv in _strings(it.get("educationLevel", it.get("educationalLevel")), f"{where}.educationLevel", f):
            g.add((node, SCHEMA.educationalLevel, Literal(lv)))
        note = _text(it, "notes", where, f)
        if note:
            g.add((node, SKOS.note, Literal(note)))
        t_node = item_type(it, where)
        if t_node is not None:
            g.add((node, DCTERMS.type, t_node))
        uri = _text(it, "uri", where, f)
        if uri and not ids.is_ours(uri):
            g.add((node, DCTERMS.source, _iri(uri, f"{where}.uri", f)))
        when = _when(_text(it, "lastChangeDateTime", where, f), f"{where}.lastChangeDateTime", f)
        if when is not None:
            g.add((node, DCTERMS.modified, when))
        delta.origin[node] = (f, None)
    for origin, pred, target, where in links:
        g.add((node_of[origin], pred, target if isinstance(target, URIRef) else node_of[target]))
    delta.summary = counts
    return delta


def _parse_json(source: Source) -> object:
    return parse_json(source.text(), source.name, what="this CASE package")


class CasePackage(Loader):
    name = "case"
    description = "1EdTech CASE 1.0/1.1 CFPackage (JSON) as a framework, with its crosswalk links"
    options = {"id": "framework id (default: a slug of the CFDocument title)"}

    @classmethod
    def sniff(cls, data: bytes, filename: str) -> bool:
        return b'"CFDocument"' in data[:2**20] or b'"CFItems"' in data[:2**20]

    def load(self, source: Source, ctx: Context) -> Delta:
        return package_delta(_parse_json(source), ctx, source.name)


# OpenSALT spreadsheet ---------------------------------------------------------------------------
SALT_REQUIRED = ["Identifier", "fullStatement", "Human Coding Scheme"]
SALT_OPTIONAL = ["sequenceNumber", "Abbreviated Statement", "ConceptKeywords", "Notes", "Is Child Of", "IsPartOf",
                 "replacedBy", "Exemplar", "hasSkillLevel", "IsRelatedTo", "Language", "educationLevel",
                 "CFItemType", "alternativeLabel", "isPeerOf", "precedes", "exactMatchOf"]
SALT_LINKS = {"IsPartOf": "isPartOf", "replacedBy": "replacedBy", "Exemplar": "exemplar",
              "hasSkillLevel": "hasSkillLevel", "IsRelatedTo": "isRelatedTo", "isPeerOf": "isPeerOf",
              "precedes": "precedes", "exactMatchOf": "exactMatchOf"}


class OpenSaltSpreadsheet(Loader):
    name = "case-csv"
    columns = tuple(SALT_REQUIRED)
    description = "OpenSALT spreadsheet (CASE items, one row each; CSV or XLSX) as a framework"
    options = {"id": "framework id (required)", "title": "framework title (default: the id)",
               "base_uri": "URI prefix of the items' uri (default: the Gapmap framework IRI)"}

    def load(self, source: Source, ctx: Context) -> Delta:
        f, ids = source.name, ctx.ids
        fw = check_id(ctx.option("id", required=True), file=f, row=None, column="id")
        df = source.table(list(self.columns), SALT_OPTIONAL)
        scheme = ids.framework(fw)
        doc_id = _uuid(scheme)
        base = ctx.option("base_uri") or str(scheme) + "/"
        items, assocs, rows = [], [], {}
        code_of = {}
        for i, r in enumerate(df.to_dict("records"), start=2):
            key = r["Identifier"]
            if not key:
                raise LoadError("Identifier is empty", file=f, row=i, column="Identifier")
            if key in rows:
                raise LoadError(f"Identifier {key!r} appears twice (first on row {rows[key]})", file=f, row=i,
                                column="Identifier")
            rows[key] = i
            if not r["fullStatement"]:
                raise LoadError("fullStatement is empty", file=f, row=i, column="fullStatement")
            code_of[r["Human Coding Scheme"] or key] = key
        ident = {k: _uuid(base + k) for k in rows}

        def ref(value, i, column):
            k = code_of.get(value) or (value if value in rows else None)
            if k is None:
                return None
            return {"title": value, "identifier": ident[k], "uri": base + k}
        doc_ref = {"title": ctx.option("title") or fw, "identifier": doc_id, "uri": str(scheme)}
        for i, r in enumerate(df.to_dict("records"), start=2):
            k = r["Identifier"]
            it = {"identifier": ident[k], "uri": base + k, "fullStatement": r["fullStatement"]}
            for col, key in (("Human Coding Scheme", "humanCodingScheme"), ("Abbreviated Statement",
                             "abbreviatedStatement"), ("Notes", "notes"), ("Language", "language"),
                             ("CFItemType", "CFItemType"), ("alternativeLabel", "alternativeLabel"),
                             ("educationLevel", "educationLevel")):
                if r.get(col):
                    it[key] = r[col]
            if r.get("ConceptKeywords"):
                it["conceptKeywords"] = [k2.strip() for k2 in r["ConceptKeywords"].split(",") if k2.strip()]
            items.append(it)
            me = {"title": r["Human Coding Scheme"] or k, "identifier": ident[k], "uri": base + k}
            seq = None
            if r.get("sequenceNumber"):
                if not re.fullmatch(r"\d+", r["sequenceNumber"]):
                    raise LoadError(f"{r['sequenceNumber']!r} is not a whole number", file=f, row=i,
                                    column="sequenceNumber")
                seq = int(r["sequenceNumber"])
            parent = r.get("Is Child Of")
            dest = doc_ref
            if parent:
                dest = ref(parent, i, "Is Child Of")
                if dest is None:
                    raise LoadError(f"parent {parent!r} is not a Human Coding Scheme or Identifier in this file",
                                    file=f, row=i, column="Is Child Of")
            a = {"identifier": _uuid(f"{me['uri']} isChildOf {dest['uri']}"), "associationType": "isChildOf",
                 "originNodeURI": me, "destinationNodeURI": dest}
            if seq is not None:
                a["sequenceNumber"] = seq
            assocs.append(a)
            for col, kind in SALT_LINKS.items():
                for target in (t.strip() for t in (r.get(col) or "").split(",") if t.strip()):
                    dest = ref(target, i, col)
                    if dest is None:
                        if not IRI_RE.match(target):
                            # an outside code (e.g. a CCSS notation): keep it as a URN of that code
                            target_uri = "urn:case:code:" + re.sub(r"[^A-Za-z0-9_.\-]", "-", target)
                        else:
                            target_uri = target
                        dest = {"title": target, "identifier": _uuid(target_uri), "uri": target_uri}
                    assocs.append({"identifier": _uuid(f"{me['uri']} {kind} {dest['uri']}"), "associationType": kind,
                                   "originNodeURI": me, "destinationNodeURI": dest})
        pkg = {"CFDocument": {"identifier": doc_id, "uri": str(scheme), "title": ctx.option("title") or fw,
                              "creator": "OpenSALT spreadsheet"},
               "CFItems": items, "CFAssociations": assocs}
        try:
            return package_delta(pkg, ctx, f)
        except LoadError as e:
            # name the spreadsheet row rather than the package position
            m = re.match(r"CFItems\[(\d+)\]", e.column or "")
            if m:
                raise LoadError(e.message, file=f, row=int(m.group(1)) + 2, column="Identifier") from None
            raise


# Export ------------------------------------------------------------------------------------------
def _stamp(value) -> str:
    """An RFC 3339 date-time, as the CASE schema's ``format: date-time`` requires: a time read without an
    offset (CASE packages often omit it) is taken as UTC."""
    if value is None:
        return "1970-01-01T00:00:00+00:00"
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).isoformat()


def export_package(store, ids, fw: str, *, now: str | None = None) -> dict:
    """The framework ``fw`` as a CASE v1p0 CFPackage (a dict ready for ``json.dumps``)."""
    scheme = ids.framework(fw)
    g = store.graph(ids.graph("framework", fw))
    if (scheme, RDF.type, GM.Framework) not in g:
        raise NotFound(f"framework {fw!r} is not loaded", field="framework")
    now = now or datetime.now(timezone.utc).replace(microsecond=0).isoformat()

    def ident(node):
        v = g.value(node, DCTERMS.identifier)
        return str(v) if v is not None and UUID_RE.match(str(v)) else _uuid(node)

    def uri(node):
        return str(g.value(node, DCTERMS.source) or node)

    doc_uri = uri(scheme)
    doc = {"identifier": ident(scheme), "uri": doc_uri,
           "creator": str(g.value(scheme, DCTERMS.creator) or "Gapmap"),
           "title": str(g.value(scheme, DCTERMS.title) or fw),
           "lastChangeDateTime": _stamp(g.value(scheme, DCTERMS.modified) or now)}
    for key, pred in (("publisher", DCTERMS.publisher), ("description", DCTERMS.description),
                      ("language", DCTERMS.language), ("version", DCTERMS.hasVersion),
                      ("adoptionStatus", SCHEMA.creativeWorkStatus), ("notes", SKOS.note),
                      ("officialSourceURL", SCHEMA.url)):
        v = g.value(scheme, pred)
        if v is not None:
            doc[key] = str(v)
    subjects = sorted(str(s) for s in g.objects(scheme, DCTERMS.subject))
    if subjects:
        doc["subject"] = subjects
    lic = g.value(scheme, DCTERMS.license)
    if lic is not None:
        doc["licenseURI"] = {"title": "License", "identifier": _uuid(lic), "uri": str(lic)}
    doc["CFPackageURI"] = {"title": doc["title"], "identifier": doc["identifier"], "uri": doc_uri}
    doc_link = {"title": doc["title"], "identifier": doc["identifier"], "uri": doc_uri}

    concepts = sorted({c for c in g.subjects(SKOS.inScheme, scheme)
                       if (c, RDF.type, GM.Competency) in g or (c, RDF.type, GM.Domain) in g},
                      key=lambda c: str(g.value(c, SKOS.notation)))
    link_of = {}
    items, types = [], {}
    for c in concepts:
        notation = str(g.value(c, SKOS.notation))
        i_id = ident(c)
        link_of[c] = {"title": notation, "identifier": i_id, "uri": uri(c)}
        labels = list(g.objects(c, SKOS.prefLabel))
        label = next((o for o in labels if getattr(o, "language", None) in (None, "en")), labels[0] if labels else None)
        definition = next(iter(g.objects(c, SKOS.definition)), None)
        full = str(definition if definition is not None else (label if label is not None else notation))
        lang = getattr(definition if definition is not None else label, "language", None)
        it = {"identifier": i_id, "uri": uri(c), "fullStatement": full, "lastChangeDateTime":
              _stamp(g.value(c, DCTERMS.modified) or now), "CFDocumentURI": doc_link}
        code = g.value(c, SCHEMA.codeValue)
        if code is not None:
            it["humanCodingScheme"] = str(code)
        elif notation != i_id:
            it["humanCodingScheme"] = notation
        if label is not None and str(label) != full:
            it["abbreviatedStatement"] = str(label)
        alt = sorted(str(a) for a in g.objects(c, SKOS.altLabel))
        if alt:
            it["alternativeLabel"] = alt[0] if len(alt) == 1 else " | ".join(alt)
        kws = sorted(str(k) for k in g.objects(c, SCHEMA.keywords))
        if kws:
            it["conceptKeywords"] = kws
        lvls = sorted(str(k) for k in g.objects(c, SCHEMA.educationalLevel))
        if lvls:
            it["educationLevel"] = lvls
        note = g.value(c, SKOS.note)
        if note is not None:
            it["notes"] = str(note)
        if lang:
            it["language"] = lang
        t_node = g.value(c, DCTERMS.type)
        if isinstance(t_node, URIRef) and (t_node, RDF.type, CASE.CFItemType) in g:
            t = str(g.value(t_node, DCTERMS.title) or "Item")
            if t not in types:
                types[t] = {"identifier": ident(t_node), "uri": str(t_node), "title": t,
                            "hierarchyCode": str(g.value(t_node, CASE.hierarchyCode) or "1"),
                            "lastChangeDateTime": _stamp(g.value(t_node, DCTERMS.modified) or doc["lastChangeDateTime"])}
                for key, pred in (("typeCode", CASE.typeCode), ("description", DCTERMS.description)):
                    v = g.value(t_node, pred)
                    if v is not None:
                        types[t][key] = str(v)
        else:
            t = "Domain" if (c, RDF.type, GM.Domain) in g else "Competency"
            if t not in types:
                t_iri = f"{scheme}/item-type/{t}"
                types[t] = {"identifier": _uuid(t_iri), "uri": t_iri, "title": t, "hierarchyCode": "1",
                            "typeCode": t, "lastChangeDateTime": doc["lastChangeDateTime"]}
        it["CFItemType"] = t
        it["CFItemTypeURI"] = {"title": t, "identifier": types[t]["identifier"], "uri": types[t]["uri"]}
        items.append(it)

    assocs = []

    def assoc(kind, origin, dest, seq=None):
        a = {"identifier": _uuid(f"{origin['uri']} {kind} {dest['uri']}"),
             "uri": f"{scheme}/association/{_uuid(origin['uri'] + ' ' + kind + ' ' + dest['uri'])}",
             "associationType": kind, "originNodeURI": origin, "destinationNodeURI": dest,
             "lastChangeDateTime": doc["lastChangeDateTime"], "CFDocumentURI": doc_link}
        if seq is not None:
            a["sequenceNumber"] = int(seq)
        assocs.append(a)

    for c in concepts:
        pos = g.value(c, SCHEMA.position)
        parents = [p for p in g.objects(c, SKOS.broader) if p in link_of]
        for p in sorted(parents, key=str):
            assoc("isChildOf", link_of[c], link_of[p], pos)
        if not parents:
            assoc("isChildOf", link_of[c], doc_link, pos)

    # Links: in the framework graph, and mapping links stored anywhere else (a reviewed crosswalk).
    pred_kind = {p: k for k, p in LINKS.items()}
    pred_kind.update(EXPORT_ALSO)
    seen = set()
    from ontology.access import is_private
    rows = [r for r in store.query(_MAPPINGS_QUERY, {"scheme": scheme}) if not is_private(ids, str(r["g"]))]
    outside_labels = {}
    for r in rows:
        outside_labels[r["o"]] = r["olabel"]
    triples = [(s, p, o) for s, p, o in g if s in link_of and p in pred_kind]
    triples += [(r["s"], r["p"], r["o"]) for r in rows if r["s"] in link_of and r["p"] in pred_kind]
    for s, p, o in sorted(set(triples), key=lambda t: (str(t[0]), str(t[1]), str(t[2]))):
        kind = pred_kind[p]
        if (s, kind, o) in seen or not isinstance(o, URIRef):
            continue
        seen.add((s, kind, o))
        if o in link_of:
            dest = link_of[o]
        else:
            label = outside_labels.get(o)
            dest = {"title": str(label) if label is not None else "Destination", "identifier": _uuid(o),
                    "uri": str(o)}
        assoc(kind, link_of[s], dest)

    for t_node in sorted(g.subjects(RDF.type, CASE.CFItemType), key=str):
        t = str(g.value(t_node, DCTERMS.title) or "Item")
        if t not in types:
            types[t] = {"identifier": ident(t_node), "uri": str(t_node), "title": t,
                        "hierarchyCode": str(g.value(t_node, CASE.hierarchyCode) or "1"),
                        "lastChangeDateTime": _stamp(g.value(t_node, DCTERMS.modified) or doc["lastChangeDateTime"])}
            for key, pred in (("typeCode", CASE.typeCode), ("description", DCTERMS.description)):
                v = g.value(t_node, pred)
                if v is not None:
                    types[t][key] = str(v)
    pkg = {"CFDocument": doc, "CFItems": items, "CFAssociations": assocs}
    if types:
        pkg["CFDefinitions"] = {"CFItemTypes": [types[t] for t in sorted(types)]}
    return pkg


_MAPPINGS_QUERY = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT DISTINCT ?scheme ?g ?s ?p ?o ?olabel WHERE {
  ?s skos:inScheme ?scheme .
  VALUES ?p { skos:exactMatch skos:closeMatch skos:relatedMatch skos:broadMatch skos:narrowMatch skos:related }
  GRAPH ?g { ?s ?p ?o }
  OPTIONAL { ?o skos:prefLabel ?olabel }
}
"""


def validate_package(pkg: dict, schema: dict) -> list[str]:
    """Messages of every way ``pkg`` breaks the CASE JSON Schema (empty when valid)."""
    import jsonschema
    v = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in v.iter_errors(pkg)]
