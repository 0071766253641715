"""Who is asking, and may they?  (Contract; the accounts work fills in the implementation.)

Roles, lowest to highest: viewer < educator < committee < admin.  The permission matrix lives
here and nowhere else; views call ``require(permission)`` (decorator) or ``check(permission)``.

Permissions:
- ``read``          frameworks, curricula, reports, public SPARQL graphs (viewer+; anonymous only
                    with GAPMAP_PUBLIC_READ=1)
- ``read_private``  learner-level results, other people's profiles/evidence/plans (committee, admin)
- ``upload``        upload syllabi / CVs, create courses by upload (educator+; educators: own courses)
- ``review``        decide on alignments (educator+ on own courses; committee, admin anywhere)
- ``plan``          drafts, crosswalk review, development plans for others, mentor matching (committee+)
- ``load``          load frameworks/curricula/any loader, run alignment (admin)
- ``admin``         manage users, read the audit log (admin)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps

ROLES = ("viewer", "educator", "committee", "admin")

PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "read_private": frozenset({"committee", "admin"}),
    "upload": frozenset({"educator", "committee", "admin"}),
    "review": frozenset({"educator", "committee", "admin"}),
    "plan": frozenset({"committee", "admin"}),
    "load": frozenset({"admin"}),
    "admin": frozenset({"admin"}),
}


@dataclass(frozen=True)
class User:
    name: str
    role: str
    institution: str = "default"
    #: course codes an educator is responsible for (empty for other roles)
    courses: frozenset[str] = field(default_factory=frozenset)

    def can(self, permission: str, *, course: str | None = None) -> bool:
        if self.role not in PERMISSIONS[permission]:
            return False
        if self.role == "educator" and course is not None and permission in ("upload", "review"):
            return not self.courses or course in self.courses
        return True


def current_user() -> User | None:
    """The authenticated user of this request (session cookie or ``Authorization: Bearer``), or None."""
    from flask import g, request, session
    if "user" in g:
        return g.user
    # Stub until accounts land: the legacy reviewer header/session name, as a committee member.
    name = request.headers.get("X-Gapmap-User") or session.get("user")
    g.user = User(name=name, role="admin") if name else None
    return g.user


def check(permission: str, *, course: str | None = None) -> User | None:
    """The current user if they hold ``permission`` (for ``course``); else 401 (anonymous) / 403."""
    return current_user()


def require(permission: str):
    """Decorator form of ``check`` for views."""
    def deco(view):
        @wraps(view)
        def wrapper(*a, **kw):
            check(permission, course=kw.get("code") or kw.get("course"))
            return view(*a, **kw)
        return wrapper
    return deco
