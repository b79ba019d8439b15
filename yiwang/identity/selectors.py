"""Reads of the identity app, for its pages and for other apps."""

import functools

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core import context
from yiwang.identity import pii
from yiwang.identity.models import (
    AccountNotice,
    Department,
    Enterprise,
    EnterpriseAgent,
    Official,
    Person,
    RealNameLevel,
    Region,
    Role,
    User,
)
from yiwang.identity.permissions import OFFICIAL_MEMO_ATTR, active_agencies, department_subtree_ids
from yiwang.lib.idnumbers import birth_date_of, validate_id_number

# What each role lets an official do, shown on the account page.
ROLE_ABILITIES = {
    Role.CLERK: _("Accept or turn back applications to your department and the departments under it."),
    Role.REVIEWER: _("Review accepted applications and send them on or back."),
    Role.APPROVER: _("Approve or refuse reviewed applications; approved ones get their licence."),
    Role.DATA_STEWARD: _("Catalogue your department's data and decide requests to share or open it."),
    Role.INSPECTOR: _("Carry out the random inspections you are drawn for and record their results."),
    Role.AUDITOR: _("Read the audit log and the records of who used shared data."),
    Role.ADMIN: _("Manage your department's officials and their roles."),
    Role.LEADER: _("See how your departments' cases are handled and where they wait; answer poor ratings."),
}


def person_of(user: User) -> Person | None:
    """The real-name Person of a signed-in user, or None (officials, superusers), with its
    region loaded, as ``select_related("region")`` gives it.

    One prepared statement (the ORM's compiling was most of its cost on the submit path), which
    also asks whether the account has an active Official record. In a request, when it has none
    and nothing asked yet, ``permissions.official_of``'s per-object memo is set to None, so the
    audit leaf's actor description (which asks it of every actor) does not read it again; an
    official's record is still read by ``official_of`` itself, with its department. The memo
    lives on this user object, which the request loaded (never shared across requests);
    outside a request (commands, tasks, tests holding one object across changes) nothing is
    set and ``official_of`` reads as before."""
    if not getattr(user, "is_authenticated", False) or user.pk is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_person_sql(connection.vendor), [user.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    person_fields, region_fields = _person_columns()
    n, m = len(person_fields), len(region_fields)
    person = _from_row(Person, person_fields, row[:n])
    region = None if row[n] is None else _from_row(Region, region_fields, row[n : n + m])
    Person.region.field.set_cached_value(person, region)
    if not row[n + m] and context.current().request_id and not hasattr(user, OFFICIAL_MEMO_ATTR):
        setattr(user, OFFICIAL_MEMO_ATTR, None)  # what official_of would find: no active record
    return person


@functools.cache
def _person_columns() -> tuple[tuple, tuple]:
    return tuple(Person._meta.concrete_fields), tuple(Region._meta.concrete_fields)


@functools.cache
def _person_sql(vendor: str) -> str:
    """The person of an account with its region (a LEFT JOIN: the region may be unset) and
    whether the account has an active Official record."""
    q = connection.ops.quote_name
    person_fields, region_fields = _person_columns()
    official = Official._meta
    selected = [f"p.{q(f.column)}" for f in person_fields] + [f"r.{q(f.column)}" for f in region_fields]
    return (
        f"SELECT {', '.join(selected)}, EXISTS (SELECT 1 FROM {q(official.db_table)} o "  # noqa: S608 — model metadata only
        f"WHERE o.{q(official.get_field('user').column)} = p.{q(Person._meta.get_field('user').column)} "
        f"AND o.{q(official.get_field('is_active').column)}) "
        f"FROM {q(Person._meta.db_table)} p LEFT JOIN {q(Region._meta.db_table)} r "
        f"ON r.{q(Region._meta.pk.column)} = p.{q(Person._meta.get_field('region').column)} "
        f"WHERE p.{q(Person._meta.get_field('user').column)} = %s"
    )


def _from_row(model, fields: tuple, values) -> object:
    """An instance of ``model`` from its columns' raw values, converted as the ORM converts them
    (the backend's and each field's converters: SQLite's dates and booleans, decoded JSON)."""
    converted = []
    for field, value in zip(fields, values, strict=True):
        if value is not None:
            col = field.get_col(model._meta.db_table)
            for converter in connection.ops.get_db_converters(col) + col.get_db_converters(connection):
                value = converter(value, col, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


def person_of_username(username: str) -> Person | None:
    """The Person of the account with this user name (case-insensitive), or None."""
    return Person.objects.filter(user__username__iexact=(username or "").strip()).first()


def realname_level_of(user) -> int:
    """The user's real-name level (``RealNameLevel``), 0 for accounts without a person record
    (officials, superusers, anonymous visitors)."""
    person = person_of(user)
    return int(person.realname_level) if person else 0


def age_of(person: Person) -> int | None:
    """Whole years since the birth date in the person's identity number (None if it has none).
    The number is decrypted here, inside identity, only to compute this; it leaves neither as
    text nor in a log."""
    try:
        born = birth_date_of(pii.id_number_of(person))
    except (ValueError, TypeError):
        return None
    today = timezone.localdate()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def id_number_for_credential(person: Person) -> str:
    """The person's identity number, for a credential the platform issues to that same person
    (an electronic licence: licences encrypts it at rest, discloses it only when the holder
    chooses, and audits the issuance). Not for display: pages show ``id_number_masked``."""
    return pii.id_number_of(person)


def id_number_for_data_record(person: Person) -> str:
    """The verified (L2+) person's identity number, for finding the uses of their data the
    exchange logged under its blind index (我的数据使用记录) and for looking up their own records
    in its base data (the facts a form is bound to, ``applications.facts``); "" for a
    self-declared identity, whose number proves nothing. Not for display: pages show
    ``id_number_masked``."""
    if person is None or person.realname_level < RealNameLevel.REGISTER:
        return ""
    return pii.id_number_of(person)


def id_last4_matches(user_id: int, last4: str) -> bool:
    """Whether ``last4`` is the end of the identity number of the person of ``user_id`` (the
    no-sign-in progress query); compared with the masked form, never decrypting."""
    masked = Person.objects.filter(user_id=user_id).values_list("id_number_masked", flat=True).first()
    return bool(masked) and masked[-4:].upper() == str(last4).upper()


def person_lookup_by_id_number(id_number: str) -> Person | None:
    """Find the verified person (L2+) with this exact identity number through the blind index.

    Raises ValidationError when ``id_number`` is not a well-formed identity number; returns
    None when no verified person has it (self-declared L1 identities are not looked up: they
    prove nothing). Never scans or decrypts stored numbers."""
    normalised = validate_id_number(id_number)
    return (
        Person.objects.filter(
            id_number_index=pii.id_number_index(normalised), realname_level__gte=RealNameLevel.REGISTER
        )
        .select_related("user")
        .first()
    )


def enterprises_of(person: Person) -> QuerySet[Enterprise]:
    """Enterprises the person acts for now (``permissions.active_agencies``)."""
    agencies = active_agencies().filter(person=person)
    return Enterprise.objects.filter(pk__in=agencies.values("enterprise_id")).order_by("name")


def declared_enterprises_of(person: Person) -> QuerySet[Enterprise]:
    """Enterprises the person once typed in themself (before the legal-entity register): shown
    as declared, acted for by nobody until the register confirms them."""
    return Enterprise.objects.filter(
        source=Enterprise.Source.DECLARED, agents__person=person, agents__revoked_at__isnull=True
    ).order_by("name")


def delegations_granted_by(person: Person) -> QuerySet[EnterpriseAgent]:
    """Delegations the person granted as a legal representative, current ones first."""
    return (
        EnterpriseAgent.objects.filter(granted_by=person, role=EnterpriseAgent.Role.AGENT)
        .select_related("enterprise", "person")
        .order_by("revoked_at", "enterprise__name", "-created_at")
    )


def account_notices(user: User, *, limit: int = 20) -> list[AccountNotice]:
    """The user's newest account notices."""
    return list(AccountNotice.objects.filter(user=user)[:limit])


def enterprise_by_credit_code(credit_code: str) -> Enterprise | None:
    return Enterprise.objects.filter(credit_code=(credit_code or "").strip().upper()).first()


def department_by_code(code: str) -> Department | None:
    return Department.objects.filter(code=code).select_related("region").first()


def officials_in_scope(department: Department) -> QuerySet[Official]:
    """Officials of ``department`` and of every department under it, with their roles."""
    return (
        Official.objects.filter(department_id__in=department_subtree_ids(department))
        .select_related("user", "department")
        .prefetch_related("roles")
        .order_by("department__code", "user__username")
    )


def role_abilities(roles) -> list[tuple[str, str, str]]:
    """(role, label, what it allows) for each role, in the order of ``Role``."""
    held = set(roles)
    return [(r.value, r.label, ROLE_ABILITIES[r]) for r in Role if r.value in held]


# The case-deciding roles (受理, 审核, 审批). One official holding two of them in a department
# could decide a case alone wherever a process relaxes separation of duties (四眼原则; see
# docs/applications.md), so granting such a combination warns the granter.
DECIDING_ROLES = (Role.CLERK, Role.REVIEWER, Role.APPROVER)


def separation_of_duties_warning(roles) -> str:
    """A warning for whoever grants roles when ``roles`` (one official's, all scoped to their
    department) include more than one case-deciding role; "" otherwise. No side effects."""
    held = [r for r in DECIDING_ROLES if r.value in {str(x) for x in roles}]
    if len(held) < 2:
        return ""
    return _(
        "This official now holds %(roles)s in one department. Separation of duties stops them "
        "doing more than one of these steps on the same case, but in a process that relaxes it "
        "they could decide a case alone. Grant the roles to different officials where you can."
    ) % {"roles": " + ".join(str(r.label) for r in held)}


def enterprise_ids_by_credit_code(codes) -> dict[str, int]:
    """credit code → id of the enterprise accounts with those codes (those that exist)."""
    from yiwang.identity.models import Enterprise

    return dict(Enterprise.objects.filter(credit_code__in=list(codes)).values_list("credit_code", "pk"))


def officials_with_role(department_id: int, role: str) -> QuerySet:
    """The active officials of exactly department ``department_id`` who hold ``role``."""
    from yiwang.identity.models import Official

    return (
        Official.objects.filter(department_id=department_id, is_active=True, user__is_active=True)
        .filter(roles__role=role)
        .select_related("user")
        .distinct()
        .order_by("pk")
    )
