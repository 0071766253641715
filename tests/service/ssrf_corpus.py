"""A seeded generator of SPARQL queries that hide a SERVICE call from naive checks.

Every query it makes contains a SERVICE clause *as Oxigraph parses it* (the calibration test runs
a sample through a bare, unprotected pyoxigraph store and counts real connections); the forms
are the bypasses found against the old regex check (``ex:a\\#b``, ``ex:a\\'b``, ``"\\u0022"``)
and their relatives: keywords glued to neighbours, comments and escapes between tokens, ``<`` as
less-than so that an "IRI" hides the clause, unusual cases and Unicode case folds.
"""
from __future__ import annotations

import random

PREFIXES = "PREFIX ex: <http://example.org/ns/>\n"


def bypasses(url: str) -> list[str]:
    """The three hand-made bypasses of the issue, evaluated over a non-empty graph."""
    return [
        PREFIXES + f"SELECT * WHERE {{ ?s ?p ?o . ?s ?p ex:a\\#b . SERVICE <{url}> {{ ?a ?b ?c }} }}",
        PREFIXES + f"SELECT * WHERE {{ ?s ?p ?o . ?s ?p ex:a\\'b . SERVICE <{url}> {{ ?a ?b ?c }} }}",
        f'SELECT * WHERE {{ ?s ?p ?o BIND("\\u0022" AS ?x) SERVICE <{url}> {{ ?a ?b ?c }} BIND("\\u0022" AS ?y) }}',
    ]


def _case(rng: random.Random, word: str) -> str:
    r = rng.random()
    if r < 0.3:
        return word.upper()
    if r < 0.5:
        return word.lower()
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in word)


def _gap(rng: random.Random) -> str:
    return rng.choice([" ", "  ", "\t", "\n", " #c\n", "#\\u0022\n", "\r\n", " # SERVICE\n"])


def _endpoint(rng: random.Random, url: str) -> tuple[str, str, bool]:
    """(prologue, endpoint text, needs a space before it?)"""
    base, _, last = url.rstrip("/").rpartition("/")
    k = rng.randrange(6)
    if k == 0:
        return "", f"<{url}>", False
    if k == 1:  # escapes inside the IRI
        esc = "".join(f"\\u{ord(c):04X}" if c.isalpha() and rng.random() < 0.5 else c for c in url)
        return "", f"<{esc}>", False
    if k == 2:
        return f"PREFIX ep: <{base}/>\n", f"ep:{last}", False  # SERVICEep:x parses too
    if k == 3:
        return f"PREFIX : <{base}/>\n", f":{last}", False      # SERVICE:x
    if k == 4:
        return f"BASE <{base}/>\n", f"<{last}>", False
    return "", "?ep", False  # bound below with BIND


def _preamble(rng: random.Random) -> tuple[str, str]:
    """(pattern before SERVICE, glue); the glue ends the previous token without a space."""
    return rng.choice([
        ("?s ?p ?o .", " "),
        ("?s ?p ?o .", ""),                      # .SERVICE
        ("?s ?p ex:a\\#b .", " "),               # PN_LOCAL_ESC \#: not a comment
        ("?s ?p ex:a\\'b .", " "),               # PN_LOCAL_ESC \': not a string
        ("?s ?p ex:a\\'b , ex:c\\'d .", " "),
        ('BIND("\\u0022" AS ?x)', " "),          # an escaped quote, not the end of the string
        ('BIND("\\u0022" AS ?x)', ""),
        ("BIND('\\u0027' AS ?x)", " "),
        ('BIND("""\\u0022\\u0022\\u0022""" AS ?x)', " "),
        ('BIND("a\\"b" AS ?x)', ""),
        ("?s ?p ?o FILTER(?o != <http://example.org/x#frag>)", " "),
        ("?s ?p ?o FILTER(true)", ""),
        ("?s ?p ?o FILTER(?o<?o||true)", ""),    # ``<`` as less-than: ``<?o||true)SERVICE...>``
        ("BIND(1 AS ?one)", " "),
        ("?s ?p ?o . ?s ?p ex:a", "."),          # ex:a.SERVICE reads as ex:a . SERVICE
        ("VALUES ?v { 1 }", ""),
    ])


def variant(rng: random.Random, url: str) -> str:
    prologue, ep, _ = _endpoint(rng, url)
    pre, glue = _preamble(rng)
    kw = _case(rng, "SERVICE")
    if rng.random() < 0.25:
        kw += _gap(rng) + _case(rng, "SILENT")
    sep = _gap(rng) if (ep.startswith("?") or rng.random() < 0.7) else ""
    inner = rng.choice(["{ ?a ?b ?c }", "{?a ?b ?c}", "{ ?a ?b ?c . }", "{ SELECT * { ?a ?b ?c } LIMIT 1 }"])
    bind_ep = f'BIND(<{url}> AS ?ep) ' if ep == "?ep" else ""
    clause = f"{kw}{sep}{ep}{_gap(rng) if rng.random() < 0.5 else ''}{inner}"
    if "<?o||true)" in pre:  # hide the clause in what looks like an IRI after a less-than
        pre = "?s ?p ?o " + bind_ep + "FILTER(?o<?o||true)"
        bind_ep = ""
        clause = f"{kw}{sep if sep.strip() == '' and sep else ' '}{ep}#>\n{inner}"
        if "\n" in sep or "#" in sep:
            clause = f"{kw} {ep}#>\n{inner}"
    wrap = rng.randrange(5)
    body = f"{bind_ep}{pre}{glue}{clause}"
    if wrap == 1:
        body = f"?s ?p ?o OPTIONAL {{ {bind_ep}{pre}{glue}{clause} }}"
    elif wrap == 2:
        body = f"{{ {bind_ep}{pre}{glue}{clause} }} UNION {{ ?s ?p ?o }}"
    elif wrap == 3:
        body = f"?s ?p ?o FILTER EXISTS {{ {bind_ep}{pre}{glue}{clause} }}"
    tail = rng.choice(["", ' BIND("\\u0022" AS ?z)', " # \\u0022 }\n", ' FILTER(?s != "\\u0022")'])
    form = rng.choice(["SELECT * WHERE", "SELECT ?s WHERE", "ASK", "CONSTRUCT { ?s ?p ?o } WHERE", "SELECT *"])
    return f"{prologue}{PREFIXES}{form} {{ {body}{tail} }}" + (" LIMIT 3" if form.startswith("SELECT") else "")


def corpus(url: str, n: int = 2000, seed: int = 8) -> list[str]:
    rng = random.Random(seed)
    out = bypasses(url)
    seen = set(out)
    while len(out) < n + 3:
        q = variant(rng, url)
        if q not in seen:
            seen.add(q)
            out.append(q)
    return out
