"""The institution (tenant) id rule and the account error it raises: no database imports, so the CLI checks
``--institution`` on every command without loading the account database's libraries (~0.2 s)."""
from __future__ import annotations

import re

from ontology.errors import GapmapError

DEFAULT_INSTITUTION = "default"
_INSTITUTION = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class AccountError(GapmapError):
    status = 400
    title = "Bad account request"


def check_institution(inst) -> str:
    if not isinstance(inst, str) or not _INSTITUTION.match(inst):
        raise AccountError("an institution id is 1-40 lower-case letters, digits or '-'", field="institution")
    return inst
