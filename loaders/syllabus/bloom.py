"""Bloom's taxonomy: action verbs per level (en, de, es, fr) and :func:`bloom_level` for an objective's text."""
from __future__ import annotations

import re

BLOOM_LEVELS = ("remember", "understand", "apply", "analyze", "evaluate", "create")


VERBS: dict[str, dict[str, str]] = {}


def _add(lang: str, level: str, words: str) -> None:
    for w in words.split():
        VERBS.setdefault(lang, {})[w] = level


_add("en", "remember", "define list name recall recognise recognize identify state label memorise memorize "
                       "repeat reproduce cite enumerate know locate match record")


_add("en", "understand", "describe explain summarise summarize discuss interpret paraphrase outline illustrate "
                         "report review restate classify understand clarify trace relate comprehend "
                         "exemplify infer predict")


_add("en", "apply", "apply demonstrate perform use calculate administer conduct execute implement solve practise "
                    "practice prescribe measure obtain elicit take employ operate manage communicate counsel "
                    "document present interview examine carry show undertake complete")


_add("en", "analyze", "analyse analyze compare contrast differentiate distinguish categorise categorize correlate "
                      "investigate deconstruct diagnose discriminate organise organize attribute "
                      "question test")


_add("en", "evaluate", "evaluate assess appraise critique judge justify defend prioritise prioritize recommend "
                       "select argue decide weigh rate reflect critically verify monitor")


_add("en", "create", "create design develop construct formulate plan compose devise generate propose produce "
                     "synthesise synthesize integrate write build invent prepare adapt")


_add("de", "remember", "nennen aufzählen benennen definieren wiedergeben angeben kennen erkennen aufführen "
                       "auflisten identifizieren")


_add("de", "understand", "beschreiben erklären erläutern zusammenfassen darstellen interpretieren verstehen "
                         "einordnen wiedergeben")


_add("de", "apply", "anwenden durchführen berechnen demonstrieren einsetzen umsetzen verordnen dokumentieren "
                    "erheben untersuchen kommunizieren beraten aufklären handhaben")


_add("de", "analyze", "analysieren vergleichen unterscheiden differenzieren ableiten zuordnen abgrenzen "
                      "herleiten")


_add("de", "evaluate", "beurteilen bewerten einschätzen begründen prüfen abwägen entscheiden priorisieren "
                       "reflektieren")


_add("de", "create", "entwickeln entwerfen erstellen planen gestalten konzipieren formulieren")


_add("es", "remember", "definir enumerar nombrar identificar reconocer recordar listar mencionar citar")


_add("es", "understand", "describir explicar resumir interpretar clasificar discutir comprender ilustrar")


_add("es", "apply", "aplicar realizar demostrar calcular utilizar usar ejecutar emplear practicar administrar "
                    "manejar prescribir")


_add("es", "analyze", "analizar comparar diferenciar distinguir examinar relacionar contrastar")


_add("es", "evaluate", "evaluar valorar juzgar justificar argumentar priorizar criticar")


_add("es", "create", "diseñar elaborar crear desarrollar formular planificar proponer construir")


_add("fr", "remember", "définir énumérer nommer citer identifier reconnaître lister")


_add("fr", "understand", "décrire expliquer résumer interpréter classer discuter comprendre illustrer")


_add("fr", "apply", "appliquer réaliser effectuer démontrer calculer utiliser employer pratiquer administrer "
                    "prescrire")


_add("fr", "analyze", "analyser comparer différencier distinguer examiner")


_add("fr", "evaluate", "évaluer juger justifier argumenter critiquer apprécier hiérarchiser prioriser")


_add("fr", "create", "concevoir élaborer créer développer formuler planifier proposer construire")


# Issue 9: a fuller taxonomy (revised Bloom action-verb lists as medical schools publish them, plus the
# psychomotor and affective verbs clinical objectives start with).  setdefault: the levels above win.
for _lvl, _words in (
        ("remember", "arrange duplicate order outline-list quote reproduce select-from tabulate tell "
                     "underline memorize memorise name-the retrieve"),
        ("understand", "convert discuss estimate express extend generalise generalize give indicate "
                       "locate-on recognise-that rephrase translate articulate characterise characterize "
                       "depict detail recount acknowledge"),
        ("apply", "administer change choose compute dramatise dramatize employ interview-a modify obtain "
                  "operate prepare-a produce-a schedule sketch treat assist act adhere advocate auscultate "
                  "collaborate communicate comply conduct consult coordinate co-ordinate counsel deliver "
                  "delegate disclose educate elicit engage escalate explain-to facilitate follow gather "
                  "give handle help inform initiate insert instruct introduce lead listen maintain "
                  "mentor model negotiate palpate participate partner perform provide record refer reconcile "
                  "reassure respond resuscitate share speak suture support teach triage utilise utilize "
                  "write-up empathise empathize interact collect consent apologise apologize "
                  "accommodate abide attend contribute cooperate co-operate display exhibit greet "
                  "incorporate intervene mobilise mobilize notify order place protect recognize-and "
                  "respect seek serve take-part uphold volunteer"),
        ("analyze", "audit break-down calculate-the characterise-the deduce detect diagram dissect examine-the "
                    "explore inspect interpret-the outline-the point-out separate subdivide survey "
                    "troubleshoot map probe scrutinise scrutinize"),
        ("evaluate", "appraise conclude consider convince criticise criticize determine discriminate-between "
                     "estimate-the grade interpret-and measure-the predict-the rank reframe review-and score "
                     "summarise-and support-the triage-and validate value challenge confirm balance"),
        ("create", "adapt anticipate arrange-for collaborate-on combine compile compose construct create "
                   "devise facilitate-a hypothesise hypothesize initiate-a innovate modify-a negotiate-a "
                   "organise-a originate plan-and rearrange reconstruct reorganise revise rewrite set-up "
                   "structure tailor lead-a")):
    for _w in _words.split():
        if "-" in _w and _w not in ("co-ordinate", "co-operate", "write-up", "take-part", "break-down", "set-up"):
            continue  # phrase hints kept for readers of this list, not single verbs
        VERBS["en"].setdefault(_w, _lvl)


del VERBS["en"]["critically"]  # an adverb, skipped before the verb


WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.U)


_SKIP_LEAD = {"to", "be", "able", "will", "should", "can", "also", "and", "then", "effectively", "accurately",
              "safely", "independently", "competently", "appropriately", "confidently", "correctly", "clearly"}


def _lemma_en(w: str) -> str | None:
    t = VERBS["en"]
    if w in t:
        return w
    for suf, rep in (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e")):
        if w.endswith(suf) and (w[: -len(suf)] + rep) in t:
            return w[: -len(suf)] + rep
    return None


def lookup_verb(w: str, langs: list[str]) -> tuple[str, str] | None:
    w = w.lower().strip("'’")
    for lang in langs:
        if lang == "en":
            lem = _lemma_en(w)
            if lem:
                return VERBS["en"][lem], lem
        elif w in VERBS.get(lang, {}):
            return VERBS[lang][w], w
        elif lang == "es" and (m := re.fullmatch(r"(.+[aei])rá(n)?", w)) and (m.group(1) + "r") in VERBS["es"]:
            return VERBS["es"][m.group(1) + "r"], m.group(1) + "r"
    return None


def languages_for(lang: str | None) -> list[str]:
    return [lang] + [x for x in ("en", "de", "es", "fr") if x != lang] if lang in VERBS else ["en", "de", "es", "fr"]


def bloom_level(text: str, language: str | None = None) -> tuple[str | None, str | None]:
    """(level, verb) for an objective: its leading action verb, or the verb after "students will ... ",
    or (German) the infinitive at the end; (None, None) when no verb from the tables is found."""
    langs = languages_for(language)
    m = MODAL.search(text)
    if m:
        hit = lookup_verb(m.group("verb"), langs)
        if hit:
            return hit
    m = MODAL_OTHER.search(text)
    if m:
        after = WORD.findall(text[m.end():])[:3]
        for w in after:
            hit = lookup_verb(w, langs)
            if hit:
                return hit
    words = WORD.findall(text)
    lead = [w for w in words[:6]]
    k = 0
    while k < len(lead) and (lead[k].lower() in _SKIP_LEAD or lead[k].lower() in BLOOM_ADVERBS
                             or (lead[k].lower().endswith("ly") and k < 3 and not lookup_verb(lead[k], langs))):
        k += 1
    if k < len(lead):
        hit = lookup_verb(lead[k], langs)
        if hit:
            return hit
    # verb-final languages and "die Studierenden können ... erklären": scan from the end
    if "de" in langs[:1] or language is None:
        for w in reversed(words[-4:]):
            hit = lookup_verb(w, ["de"])
            if hit:
                return hit
    return None, None


MODAL = re.compile(
    r"\b(?:students?|learners?|participants?|trainees?|graduates?|you|they|we|candidates?|residents?)\s+"
    r"(?:will|should|must|shall|can|are\s+expected\s+to)\s+(?:also\s+)?"
    r"(?:be\s+(?:able|expected|prepared|ready)\s+to\s+|learn\s+(?:how\s+)?to\s+|have\s+the\s+ability\s+to\s+)?"
    r"(?:\w+ly\s+)?(?P<verb>[a-z]+)", re.I)


MODAL_OTHER = re.compile(
    r"(?i)\b(?:(?:die\s+)?studierenden\s+(?:können|sollen|lernen|sind\s+in\s+der\s+lage)"
    r"|(?:el|la|los|las)\s+(?:estudiantes?|alumn[oa]s?)\s+(?:será[n]?\s+capa(?:z|ces)\s+de|podrá[n]?|deberá[n]?)"
    r"|(?:l['’]|les\s+)étudiant(?:e|s|es)?\s+(?:sera(?:it)?|seront|pourra|pourront|doi[vt]ent?)\b)")


BLOOM_ADVERBS = {"critically", "accurately", "safely", "independently", "competently", "appropriately",
                  "confidently", "correctly", "clearly", "effectively", "systematically", "briefly"}
