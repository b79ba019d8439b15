"""How the audit log describes people and who reads its restricted records (plugged in at start-up)."""

from yiwang.audit.hooks import ActorProfile
from yiwang.identity.models import Role
from yiwang.identity.permissions import has_role, official_of, roles_of


def actor_profile(user) -> ActorProfile:
    """Officials are published by department and roles; everybody else only by kind."""
    official = official_of(user)
    if official is not None:
        return ActorProfile(
            kind="official", department=official.department.code, roles=tuple(sorted(roles_of(user)))
        )
    if getattr(user, "is_superuser", False):
        return ActorProfile(kind="administrator")
    return ActorProfile(kind="person")


def may_read_all_records(user) -> bool:
    """Auditors (in any department) read every restricted record; superusers too."""
    return has_role(user, Role.AUDITOR)
