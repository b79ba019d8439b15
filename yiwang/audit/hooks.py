"""What the audit log needs to know about people, supplied by the app that knows them.

``audit`` imports only ``core``; the identity app plugs in, at start-up, how to describe an acting user
publicly (kind, department, roles) and who may read restricted records. Until something is plugged in
the log fails closed: users are published as "user" with no department, and nobody reads records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActorProfile:
    """The public description of an acting user: never a name, an id or anything that links entries."""

    kind: str  # "person", "official", "administrator"
    department: str = ""  # the acting official's department code
    roles: tuple[str, ...] = ()  # the official's roles, sorted


_actor_profile: Callable[[object], ActorProfile] | None = None
_may_read_all_records: Callable[[object], bool] | None = None


def register(
    *,
    actor_profile: Callable[[object], ActorProfile],
    may_read_all_records: Callable[[object], bool],
) -> None:
    global _actor_profile, _may_read_all_records  # noqa: PLW0603 — set once at start-up
    _actor_profile, _may_read_all_records = actor_profile, may_read_all_records


def actor_profile(user) -> ActorProfile:
    if _actor_profile is None:
        return ActorProfile(kind="user")
    return _actor_profile(user)


def may_read_all_records(user) -> bool:
    """Whether ``user`` may read every restricted record (the auditor role)."""
    if _may_read_all_records is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(_may_read_all_records(user))
