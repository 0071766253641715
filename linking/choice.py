"""The one choice logic of ``gapmap link`` and the service: measure the catalogue, pick the representation
(labels lead, or descriptions lead when labels carry little meaning) and its encoder, build the linker; above
both the single-encoder engine and the fused ensemble, so neither imports the other back."""
from __future__ import annotations

from typing import Sequence

from .engine import (CURRICULUM, DESCRIPTIONS, CompetencyText, Linker, catalogue_stats, encoder_for,
                     profile_for)
from .ensemble import fuse_descriptions


def linker_for(competencies: Sequence[CompetencyText], *, purpose: str = "link", profile: str = "auto",
               cache_dir=None, progress: bool = False, encoder=None, minilm=None) -> Linker:
    """The one choice logic of ``gapmap link`` and the service: measure the catalogue, pick the profile and
    its encoder, build the linker.  ``linker.stats`` keeps the measurements and the reason.

    When the cheap measurements say labels lead, the labels' agreement with their own descriptions is measured
    with the labels profile's encoder (the one that linker would use anyway; 2 x 200 short texts, cached).
    When descriptions lead with mpnet, the result is a :class:`linking.ensemble.FusedLinker` (mpnet + MiniLM,
    same ``rank`` contract); ``minilm``: a loaded stock MiniLM encoder to share for that (else one is loaded)."""
    stats = catalogue_stats(competencies)
    labels_enc = None
    if profile == "auto" and stats.lead == "labels" and stats.with_description >= 0.6:
        labels_enc = encoder or encoder_for("labels", purpose, cache_dir=cache_dir)
        stats = catalogue_stats(competencies, encoder=labels_enc, measured=stats)
    lead, cfg = profile_for(competencies, purpose, profile, stats=stats)
    enc = encoder or (labels_enc if lead == "labels" and labels_enc is not None
                      else encoder_for(lead, purpose, cache_dir=cache_dir))
    linker = Linker(competencies, config=cfg, encoder=enc, progress=progress, cache_dir=cache_dir)
    if cfg is DESCRIPTIONS:  # issue 9: mpnet fused with MiniLM (linking/ensemble.py); the labels path is untouched
        linker = fuse_descriptions(linker, cache_dir=cache_dir, progress=progress, minilm=minilm)
    linker.stats = stats
    linker.profile = "descriptions" if lead == "descriptions" else ("curriculum" if cfg is CURRICULUM else "labels")
    return linker
