"""What a competency catalogue's labels and descriptions carry, measured from the catalogue alone, and which of them
leads its representation (``catalogue_stats``); the linker (engine.py) and the choice logic (choice.py) use it."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from .engine import CompetencyText

_CODE = re.compile(r"(?:^|\s)[A-Za-z]{0,4}[-.]?\d+(?:[.\-]\d+)*[a-z]?\s*$|^\s*[A-Z]{1,4}[-.]?\d+(?:[.\-]\d+)*\b")


def label_stem(label: str) -> str:
    """The label without a trailing or leading code ("Patient Care 1.1" -> "patient care")."""
    t = _CODE.sub(" ", label)
    return " ".join(re.sub(r"[^\w\s-]", " ", t).lower().split())


@dataclass(frozen=True)
class CatalogueStats:
    """What a catalogue's labels and descriptions carry, measured from the catalogue alone."""

    competencies: int
    with_description: float  # share of competencies with a description
    code_like_labels: float  # share of labels that are (or end in) a code: "Patient Care 1.1", "EPA 7", "PC3"
    distinct_label_stems: float  # distinct labels once codes are removed / competencies (PCRS: 8/58)
    label_words: float  # mean words in a label (codes removed)
    description_words: float  # mean words in a description
    lead: str  # "labels" | "descriptions"
    reason: str
    #: share of (up to 200 sampled) competencies whose label, encoded, is nearest to its own description
    #: (ESCO 0.92, the bundled framework 0.82, PCRS 0.09, "Competency A..T" 0.05); None when not measured
    label_description_agreement: float | None = None

    def to_dict(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


AGREEMENT_SAMPLE = 200
AGREEMENT_MIN = 0.3


def label_description_agreement(competencies: Sequence[CompetencyText], encoder, n: int = AGREEMENT_SAMPLE) -> float:
    """How often a competency's label (codes removed), encoded, is nearest to its own description among the
    sampled descriptions: labels that carry the competency's meaning score high, labels like "Competency B"
    or "Patient Care 1.1" near chance.  A fixed-seed sample of ``n`` keeps it cheap on 13k-skill catalogues."""
    import random

    cs = [c for c in competencies if (c.description or "").strip()]
    random.Random(0).shuffle(cs)
    cs = cs[:n]
    if len(cs) < 2:
        return 1.0
    lv = encoder.encode([label_stem(c.label) or c.label for c in cs])
    dv = encoder.encode([c.description for c in cs])
    return float(((lv @ dv.T).argmax(axis=1) == np.arange(len(cs))).mean())


def catalogue_stats(competencies: Sequence[CompetencyText], encoder=None, *,
                    measured: CatalogueStats | None = None) -> CatalogueStats:
    """Measure how informative the labels are and choose what represents a competency.

    Descriptions lead when most competencies have one and the labels do not tell competencies apart: once
    codes are removed ("Patient Care 1.1" -> "patient care"), fewer than half the labels are distinct (they
    name a domain, not the competency), or labels are bare codes.  A code beside real words ("PC5 Management
    planning") does not count against a label.  Otherwise labels lead (ESCO, the bundled framework), which is
    the job-ad method the engine was tuned on -- unless, given an ``encoder``, the labels' agreement with their
    own descriptions (:func:`label_description_agreement`) is below AGREEMENT_MIN: distinct but meaningless
    labels ("Competency A", "Outcome B") then let descriptions lead too.
    """
    comps = list(competencies)
    n = len(comps)
    if not n:
        return CatalogueStats(0, 0.0, 0.0, 1.0, 0.0, 0.0, "labels", "empty catalogue")
    if measured is not None and measured.competencies == n:  # the cheap part done already: only the agreement
        m = measured
        with_desc, code_like, distinct, lw, dw = (m.with_description, m.code_like_labels, m.distinct_label_stems,
                                                  m.label_words, m.description_words)
        lead, why = m.lead, m.reason
        return _with_agreement(comps, encoder, n, with_desc, code_like, distinct, lw, dw, lead, why)
    with_desc = sum(bool((c.description or "").strip()) for c in comps) / n
    code_like = sum(bool(_CODE.search(c.label or "")) for c in comps) / n
    stems = [label_stem(c.label or "") for c in comps]
    distinct = len({s for s in stems if s}) / n
    lw = float(np.mean([len(s.split()) for s in stems]))
    dw = float(np.mean([len((c.description or "").split()) for c in comps]))
    if with_desc < 0.6:
        lead, why = "labels", f"only {with_desc:.0%} of competencies have a description"
    elif distinct < 0.5:
        lead, why = "descriptions", (f"labels without their codes are only {distinct:.0%} distinct "
                                     f"({code_like:.0%} of labels hold a code)")
    elif lw < 1.0:
        lead, why = "descriptions", "labels are mostly bare codes"
    else:
        lead, why = "labels", f"labels without their codes are {distinct:.0%} distinct"
    return _with_agreement(comps, encoder, n, with_desc, code_like, distinct, lw, dw, lead, why)


def _with_agreement(comps, encoder, n, with_desc, code_like, distinct, lw, dw, lead, why) -> CatalogueStats:
    agree = None
    if lead == "labels" and with_desc >= 0.6 and encoder is not None:
        agree = label_description_agreement(comps, encoder)
        if agree < AGREEMENT_MIN:
            lead, why = "descriptions", f"labels match their own descriptions only {agree:.0%} of the time"
        else:
            why += f"; labels match their own descriptions {agree:.0%} of the time"
    return CatalogueStats(n, with_desc, code_like, distinct, lw, dw, lead, why, agree)


def choose_lead(competencies: Sequence[CompetencyText]) -> str:
    return catalogue_stats(competencies).lead
