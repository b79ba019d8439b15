"""Writes of the identity app. Each is keyword-only, atomic and audited in the same transaction.

Bad input raises ``ValidationError`` with a dict of field → messages (forms map it onto their
fields); missing rights raise ``PermissionDenied``. Clear identity numbers never reach the
audit log: only the masked form does.
"""

import logging
import re
from datetime import timedelta

import pyotp
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yiwang.audit import services as audit
from yiwang.core import context, throttle
from yiwang.identity import legalentities, notice_texts, pii, realname
from yiwang.identity.models import (
    AccountNotice,
    Department,
    Enterprise,
    EnterpriseAgent,
    Official,
    Person,
    RealNameAttempt,
    RealNameLevel,
    Region,
    Role,
    RoleGrant,
    User,
)
from yiwang.identity.permissions import ensure_role, has_role, is_superuser
from yiwang.lib import crypto
from yiwang.lib.bilingual import pick
from yiwang.lib.idnumbers import validate_id_number
from yiwang.lib.uscc import validate_credit_code

log = logging.getLogger(__name__)

PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,63}$")
TOTP_DIGITS = 6
TOTP_VALID_WINDOW = 1  # accept the previous and next 30-second step for clock drift
# The published TOTP secret of the demo administrators (README). Demo only: refused at sign-in
# unless YIWANG_DEV is on, so a demo database copied to production cannot be signed into.
DEMO_TOTP_SECRET = "YIWANGDEMOTOTPSECRETFAKEDEMOONLY"  # noqa: S105


def _raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError({field: messages for field, messages in errors.items() if messages})


def _check_username(username: str, errors: dict) -> str:
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        errors.setdefault("username", []).append(
            _("Use 3 to 64 letters, digits, dots, hyphens or underscores, starting with a letter or digit.")
        )
    elif User.objects.filter(username__iexact=username).exists():
        errors.setdefault("username", []).append(_("This user name is taken; choose another one."))
    return username


def _check_phone(phone: str, errors: dict) -> str:
    phone = re.sub(r"[\s-]", "", phone or "")
    if not PHONE_RE.match(phone):
        errors.setdefault("phone", []).append(
            _("Enter an 11-digit mainland mobile number, e.g. 13812345678.")
        )
    return phone


def _check_password(password: str, user: User, errors: dict) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        errors.setdefault("password", []).extend(exc.messages)


# --- Persons ---------------------------------------------------------------------------------

REALNAME_ATTEMPT_LIMIT = 5  # failed real-name checks per account ...
REALNAME_ATTEMPT_WINDOW = timedelta(hours=24)  # ... per day: the register is not a guessing oracle


def _generic_refusal() -> str:
    # One message for "not in the register", "name does not match" and "bound to another
    # account", so the answer reveals nothing about whose number it is.
    return _(
        "Your name and identity number could not be confirmed with the population register. "
        "Check them against your identity card. If they are right, have your identity checked in "
        "person at a government service hall."
    )


def _declared_identity(name: str, id_number: str, errors: dict) -> tuple[str, str]:
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Enter your name as it is written on your identity card.")]
    try:
        id_number = validate_id_number(id_number)
    except ValidationError as exc:
        errors["id_number"] = exc.messages
    return name, id_number


def _verified_holder(id_number_index: str, *, other_than: Person | None = None) -> Person | None:
    """The verified (L2+) person bound to this identity number, if any."""
    holders = Person.objects.select_related("user").filter(
        id_number_index=id_number_index, realname_level__gte=RealNameLevel.REGISTER
    )
    if other_than is not None:
        holders = holders.exclude(pk=other_than.pk)
    return holders.first()


def account_notify(*, user: User | None, key: str, params: dict | None = None) -> AccountNotice | None:
    """An in-site notice to ``user`` (shown on "My account"), stored as a message key of
    ``notice_texts`` with its parameters and rendered in the reader's language; the email
    (zh-Hans) goes after commit through the task queue when the account has an address.
    No-op without a user."""
    if key not in notice_texts.MESSAGES:
        raise ValueError(f"no account notice message {key!r}")
    if user is None:
        return None
    params = dict(params or {})
    subject, body = notice_texts.stored(key, params)
    notice = AccountNotice.objects.create(
        user=user, subject=subject[:200], body=body, message_key=key, params=params
    )

    def send():
        from yiwang.identity.tasks import send_account_notice_email

        send_account_notice_email.enqueue(notice_id=notice.pk)

    transaction.on_commit(send)
    return notice


def _warn_holder(holder: Person) -> None:
    account_notify(user=holder.user, key=notice_texts.NUMBER_USED)


@transaction.atomic
def person_register(
    *,
    name: str,
    id_number: str,
    phone: str,
    username: str,
    password: str,
    email: str = "",
    actor: User | None = None,
) -> Person:
    """Create a sign-in account with a self-declared identity (real-name level L1).

    Validates every field and reports all problems at once. Whether the identity number is
    registered already makes no difference to the answer (no oracle): several L1 accounts may
    declare one number; binding it to one verified person happens at L2 (``person_verify``).
    When a verified account already holds the number, its holder gets an account notice.
    ``actor`` is whoever registers the person (None: the person themself).
    Audits ``identity:person:register`` (no personal data).
    """
    errors: dict[str, list[str]] = {}
    name, id_number = _declared_identity(name, id_number, errors)
    phone = _check_phone(phone, errors)
    username = _check_username(username, errors)
    user = User(username=username, display_name=name, email=(email or "").strip(), phone=phone)
    _check_password(password, user, errors)
    _raise_if(errors)

    user.set_password(password)
    fields = pii.id_number_fields(id_number)
    try:
        with transaction.atomic():
            user.save()
            person = Person.objects.create(
                user=user,
                name=name,
                phone=phone,
                region=Region.objects.filter(code=id_number[:6]).first(),
                realname_level=RealNameLevel.SELF_DECLARED,
                **fields,
            )
    except IntegrityError as exc:  # a concurrent registration with the same user name
        raise ValidationError(
            {"username": [_("This user name was registered a moment ago; choose another one.")]}
        ) from exc
    holder = _verified_holder(fields["id_number_index"], other_than=person)
    if holder is not None:
        _warn_holder(holder)
    audit.record(
        actor=actor or user,
        event="identity:person:register",
        target=person,
        data={"realname_level": int(RealNameLevel.SELF_DECLARED)},
    )
    return person


def realname_attempts_left(user: User) -> int:
    """How many failed real-name checks the account may still make in the current window."""
    since = timezone.now() - REALNAME_ATTEMPT_WINDOW
    used = RealNameAttempt.objects.filter(user=user, at__gte=since).count()
    return max(0, REALNAME_ATTEMPT_LIMIT - used)


def person_verify(*, person: Person, name: str, id_number: str, actor: User) -> Person:
    """Raise ``person`` to L2: the configured ``RealNameVerifier`` (the population register)
    confirms the name and number, and no other verified account holds the number.

    On success the person's name and number become the confirmed ones and the identity is
    bound (unique among verified persons). Every refusal — no match, not in the register, the
    number bound to another account, a concurrent binding — gives the same message; when the
    number belongs to another verified account, that holder gets an account notice. Failures
    are counted per account (``REALNAME_ATTEMPT_LIMIT`` a day). Idempotent for a person already
    at L2 or above. Audits ``identity:person:verify`` or ``identity:person:verify_refused``.
    """
    errors: dict[str, list[str]] = {}
    name, id_number = _declared_identity(name, id_number, errors)
    _raise_if(errors)
    refusal = ""
    with transaction.atomic():
        locked = Person.objects.select_for_update(of=("self",)).select_related("user").get(pk=person.pk)
        if locked.user_id is None or locked.user_id != getattr(actor, "pk", None):
            raise PermissionDenied("only the account holder verifies their own identity")
        if locked.realname_level >= RealNameLevel.REGISTER:
            return locked
        User.objects.select_for_update().filter(pk=locked.user_id).first()  # serialises attempts
        RealNameAttempt.objects.filter(
            user_id=locked.user_id, at__lt=timezone.now() - REALNAME_ATTEMPT_WINDOW
        ).delete()
        client = throttle.attempt(
            (throttle.rule("realname-client"), throttle.normalise_address(context.current().client_ip))
        )
        if not realname_attempts_left(locked.user) or not client.allowed:
            refusal = _("Too many identity checks failed today. Try again tomorrow, or visit a service hall.")
        else:
            holder = _verified_holder(pii.id_number_index(id_number), other_than=locked)
            result = realname.verify(name=name, id_number=id_number)
            if result.ok and holder is None:
                try:
                    with transaction.atomic():
                        _bind(locked, name=name, id_number=id_number, level=RealNameLevel.REGISTER)
                except IntegrityError:  # another account bound the number a moment ago
                    refusal = _generic_refusal()
                else:
                    client.give_back()  # only failed checks count against the address
                    audit.record(
                        actor=actor,
                        event="identity:person:verify",
                        target=locked,
                        data={"realname_level": int(RealNameLevel.REGISTER), "method": "register"},
                    )
                    return locked
            refusal = refusal or _generic_refusal()
            RealNameAttempt.objects.create(user=locked.user)
            if holder is not None:
                _warn_holder(holder)
            log.info("real-name check refused for person %s: %s", locked.pk, result.reason or "bound")
            audit.record(
                actor=actor,
                event="identity:person:verify_refused",
                target=locked,
                data={"method": "register"},
            )
    raise ValidationError({"id_number": [refusal]})


def _bind(person: Person, *, name: str, id_number: str, level: int, by: User | None = None) -> None:
    """Make the confirmed name and number the person's, at ``level``."""
    fields = pii.id_number_fields(id_number)
    person.name = name
    for key, value in fields.items():
        setattr(person, key, value)
    person.region = Region.objects.filter(code=id_number[:6]).first()
    person.realname_level, person.verified_at, person.verified_by = level, timezone.now(), by
    person.save(
        update_fields=[
            "name",
            *fields,
            "region",
            "realname_level",
            "verified_at",
            "verified_by",
        ]
    )
    if person.user_id:
        User.objects.filter(pk=person.user_id).update(display_name=name)


@transaction.atomic
def person_verify_in_person(*, person: Person, name: str, id_number: str, actor: User) -> Person:
    """Raise ``person`` to L3: an official with the clerk role saw the identity card at a
    service hall and enters its name and number; the register must confirm them too.

    Checking in person outranks a remote check: if another account holds the number at L2,
    that account falls back to L1 (its enterprise roles end) and its holder is notified. A
    number already checked in person for another account is refused. Audits
    ``identity:person:verify`` (method in_person) and ``identity:person:demote``."""
    ensure_role(actor, Role.CLERK)
    errors: dict[str, list[str]] = {}
    name, id_number = _declared_identity(name, id_number, errors)
    _raise_if(errors)
    locked = Person.objects.select_for_update().get(pk=person.pk)
    if locked.user_id == getattr(actor, "pk", None):
        raise PermissionDenied("officials may not check their own identity")
    if not realname.verify(name=name, id_number=id_number).ok:
        raise ValidationError(
            {
                "id_number": [
                    _("The population register does not confirm this name and number. Check the card.")
                ]
            }
        )
    holder = _verified_holder(pii.id_number_index(id_number), other_than=locked)
    if holder is not None:
        holder = Person.objects.select_for_update(of=("self",)).select_related("user").get(pk=holder.pk)
        if holder.realname_level >= RealNameLevel.IN_PERSON:
            raise ValidationError(
                {
                    "id_number": [
                        _(
                            "Another account was already checked in person for this identity number. "
                            "Ask your supervisor to resolve it before checking this one."
                        )
                    ]
                }
            )
        _demote(holder, actor=actor)
    _bind(locked, name=name, id_number=id_number, level=RealNameLevel.IN_PERSON, by=actor)
    audit.record(
        actor=actor,
        event="identity:person:verify",
        target=locked,
        data={"realname_level": int(RealNameLevel.IN_PERSON), "method": "in_person"},
    )
    return locked


def _demote(person: Person, *, actor: User) -> None:
    person.realname_level, person.verified_at, person.verified_by = RealNameLevel.SELF_DECLARED, None, None
    person.save(update_fields=["realname_level", "verified_at", "verified_by"])
    ended = EnterpriseAgent.objects.filter(person=person, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor
    )
    audit.record(actor=actor, event="identity:person:demote", target=person, data={"agencies_ended": ended})
    account_notify(user=person.user, key=notice_texts.DEMOTED)


# --- Enterprises -----------------------------------------------------------------------------

MAX_DELEGATION_DAYS = 3 * 366


def _register_refusal() -> str:
    return _(
        "The legal-entity register does not name you as the legal representative of an enterprise "
        "with this code. If the register is wrong, contact the market regulator; otherwise ask the "
        "legal representative to delegate you."
    )


def _enterprise_sync(entity: legalentities.LegalEntity, *, actor: User) -> Enterprise:
    """Bring the local enterprise row in line with the register (created if missing). A row
    that was only declared becomes the register's, and every agency made from the declaration
    ends; so do all agencies of an enterprise no longer in business; legal representatives the
    register no longer names stop acting."""
    enterprise = Enterprise.objects.select_for_update().filter(credit_code=entity.credit_code).first()
    was_declared = enterprise is not None and not enterprise.from_register
    if enterprise is None:
        enterprise = Enterprise(credit_code=entity.credit_code)
    enterprise.name = entity.name[:128]
    enterprise.legal_representative = entity.representative_name[:64]
    enterprise.address = entity.address[:255]
    enterprise.region = Region.objects.filter(code=entity.region_code).first() if entity.region_code else None
    enterprise.source, enterprise.register_checked_at = Enterprise.Source.REGISTER, timezone.now()
    enterprise.save()
    active = EnterpriseAgent.objects.filter(enterprise=enterprise, revoked_at__isnull=True)
    everyone = was_declared or not entity.is_active  # a declaration, or an enterprise wound up
    stale = active if everyone else active.filter(role=EnterpriseAgent.Role.LEGAL_REPRESENTATIVE)
    stale_ids = [
        a.pk
        for a in stale.select_related("person")
        if everyone or not entity.names_as_representative(a.person)
    ]
    if stale_ids:
        EnterpriseAgent.objects.filter(pk__in=stale_ids).update(revoked_at=timezone.now(), revoked_by=actor)
        audit.record(
            actor=actor,
            event="identity:enterprise:sync",
            target=enterprise,
            data={"agencies_ended": len(stale_ids), "was_declared": was_declared},
        )
    return enterprise


@transaction.atomic
def enterprise_claim(*, person: Person, credit_code: str, actor: User) -> Enterprise:
    """Let ``person`` act for the enterprise with ``credit_code`` as its legal representative —
    only when the legal-entity register names them (by their verified identity, L2+).

    The enterprise's name, representative and address are taken from the register, never
    from the applicant. Idempotent for a representative already acting. Audits
    ``identity:enterprise:claim``."""
    if person.user_id != getattr(actor, "pk", None):
        raise PermissionDenied("only the person themself claims their enterprise")
    if not person.is_verified:
        raise ValidationError(
            {"credit_code": [_("Verify your identity first (level L2): the register is checked against it.")]}
        )
    try:
        credit_code = validate_credit_code(credit_code)
    except ValidationError as exc:
        raise ValidationError({"credit_code": exc.messages}) from exc
    entity = legalentities.lookup(credit_code=credit_code)
    if entity is None or not entity.is_active or not entity.names_as_representative(person):
        raise ValidationError({"credit_code": [_register_refusal()]})
    enterprise = _enterprise_sync(entity, actor=actor)
    agency, created = EnterpriseAgent.objects.get_or_create(
        enterprise=enterprise,
        person=person,
        revoked_at__isnull=True,
        defaults={"role": EnterpriseAgent.Role.LEGAL_REPRESENTATIVE},
    )
    if agency.role != EnterpriseAgent.Role.LEGAL_REPRESENTATIVE:  # a delegate who became the representative
        agency.role, agency.valid_until, agency.granted_by = (
            EnterpriseAgent.Role.LEGAL_REPRESENTATIVE,
            None,
            None,
        )
        agency.scope = EnterpriseAgent.Scope.APPLY
        agency.save(update_fields=["role", "valid_until", "granted_by", "scope"])
        created = True
    if created:
        audit.record(
            actor=actor,
            event="identity:enterprise:claim",
            target=enterprise,
            data={"role": EnterpriseAgent.Role.LEGAL_REPRESENTATIVE},
        )
    return enterprise


@transaction.atomic
def enterprise_refresh(*, enterprise: Enterprise, actor: User) -> Enterprise:
    """Bring a register-sourced enterprise in line with the legal-entity register now (name,
    representative, address; representatives it no longer names stop acting). Called when
    someone starts acting for it. A register without the entry changes nothing here; an
    enterprise the register lists as no longer in business loses its representatives."""
    if not enterprise.from_register:
        return enterprise
    entity = legalentities.lookup(credit_code=enterprise.credit_code)
    if entity is None:
        return enterprise
    return _enterprise_sync(entity, actor=actor)


def _representative_agency(enterprise: Enterprise, actor: User) -> EnterpriseAgent:
    """The actor's current legal-representative agency, re-checked with the register now.

    Call it outside a transaction: when the register names someone else, the stale agency is
    ended (committed) before ``PermissionDenied`` is raised, so it does not come back."""
    agency = (
        EnterpriseAgent.objects.select_related("person")
        .filter(
            enterprise=enterprise,
            person__user=actor,
            role=EnterpriseAgent.Role.LEGAL_REPRESENTATIVE,
            revoked_at__isnull=True,
            person__realname_level__gte=RealNameLevel.REGISTER,
        )
        .first()
    )
    if agency is None or not enterprise.from_register:
        raise PermissionDenied("only the legal representative may delegate")
    entity = legalentities.lookup(credit_code=enterprise.credit_code)
    if entity is None or not entity.is_active or not entity.names_as_representative(agency.person):
        if entity is not None:
            with transaction.atomic():
                _enterprise_sync(entity, actor=actor)  # ends the stale representative's agency
        raise PermissionDenied("the register no longer names the actor as legal representative")
    return agency


def delegation_grant(
    *,
    enterprise: Enterprise,
    name: str,
    id_number: str,
    scope: str,
    valid_until,
    actor: User,
) -> EnterpriseAgent:
    """The enterprise's legal representative delegates a person (授权委托) to act for it
    within ``scope`` until ``valid_until`` (at most ``MAX_DELEGATION_DAYS`` ahead). The delegate
    is named by their name and identity number and must have a verified account (L2+). The
    representative is re-checked with the register first. The delegate gets an account notice.
    Names that match no verified account are counted per representative (scope
    ``delegation-lookup``), so granting cannot be used to find out who is verified.
    Audits ``identity:delegation:grant``."""
    grantor = _representative_agency(enterprise, actor)  # outside the transaction: see there
    attempt = throttle.attempt((throttle.rule("delegation-lookup"), str(actor.pk)))
    if not attempt.allowed:
        raise ValidationError(
            {
                "id_number": [
                    _("Too many delegations named nobody with a verified identity. Try again tomorrow.")
                ]
            }
        )
    try:
        with transaction.atomic():
            Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
            agency = _delegation_create(enterprise, grantor, name, id_number, scope, valid_until, actor)
    except _DelegateNotFoundError:
        raise  # counted
    except ValidationError:
        attempt.give_back()
        raise
    attempt.give_back()
    return agency


class _DelegateNotFoundError(ValidationError):
    """The name and number match no verified account (counted against the representative)."""


def _delegation_create(enterprise, grantor, name, id_number, scope, valid_until, actor) -> EnterpriseAgent:
    errors: dict[str, list[str]] = {}
    name, id_number = _declared_identity(name, id_number, errors)
    if scope not in EnterpriseAgent.Scope.values:
        errors["scope"] = [_("Choose what the agent may do.")]
    today = timezone.localdate()
    if valid_until is None or valid_until <= today:
        errors["valid_until"] = [_("Choose an end date after today.")]
    elif valid_until > today + timedelta(days=MAX_DELEGATION_DAYS):
        errors["valid_until"] = [_("A delegation may last at most three years.")]
    _raise_if(errors)
    delegate = _verified_holder(pii.id_number_index(id_number))
    if delegate is None or delegate.name != name:
        raise _DelegateNotFoundError(
            {
                "id_number": [
                    _(
                        "No account with a verified identity has this name and identity number. Ask the "
                        "person to register and verify their identity first."
                    )
                ]
            }
        )
    if delegate.pk == grantor.person_id:
        raise ValidationError({"id_number": [_("You already act for the enterprise yourself.")]})
    if EnterpriseAgent.objects.filter(
        enterprise=enterprise, person=delegate, revoked_at__isnull=True
    ).exists():
        raise ValidationError(
            {"id_number": [_("This person already acts for the enterprise. Revoke that first to change it.")]}
        )
    agency = EnterpriseAgent.objects.create(
        enterprise=enterprise,
        person=delegate,
        role=EnterpriseAgent.Role.AGENT,
        scope=scope,
        granted_by=grantor.person,
        valid_until=valid_until,
    )
    audit.record(
        actor=actor,
        event="identity:delegation:grant",
        target=enterprise,
        data={"scope": scope, "valid_until": valid_until.isoformat()},
    )
    account_notify(
        user=delegate.user,
        key=notice_texts.DELEGATION_GRANTED,
        params={"name": enterprise.name, "date": valid_until.isoformat()},
    )
    return agency


@transaction.atomic
def delegation_revoke(*, agency: EnterpriseAgent, actor: User) -> EnterpriseAgent:
    """End a delegation: the enterprise's legal representative, the delegate themself (giving
    it up) or a superuser may. Idempotent. The other party gets an account notice.
    Audits ``identity:delegation:revoke``."""
    agency = (
        EnterpriseAgent.objects.select_for_update(of=("self",))
        .select_related("enterprise", "person")
        .get(pk=agency.pk)
    )
    if agency.role != EnterpriseAgent.Role.AGENT:
        raise PermissionDenied("the legal representative's role comes from the register")
    is_delegate = agency.person.user_id == getattr(actor, "pk", None)
    if not (getattr(actor, "is_superuser", False) or is_delegate):
        _representative_agency(agency.enterprise, actor)  # raises PermissionDenied
    if agency.revoked_at is not None:
        return agency
    agency.revoked_at, agency.revoked_by = timezone.now(), actor
    agency.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(
        actor=actor,
        event="identity:delegation:revoke",
        target=agency.enterprise,
        data={"by_delegate": is_delegate},
    )
    other = agency.granted_by if is_delegate else agency.person
    account_notify(
        user=other.user if other else None,
        key=notice_texts.DELEGATION_ENDED,
        params={"name": agency.enterprise.name},
    )
    return agency


# --- Officials and roles ---------------------------------------------------------------------


def _check_roles(roles) -> list[str]:
    roles = list(dict.fromkeys(roles))
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise ValidationError({"roles": [_("Unknown role: %(role)s.") % {"role": ", ".join(unknown)}]})
    return roles


@transaction.atomic
def official_create(
    *, username: str, name: str, department: Department, roles, password: str, actor: User, title: str = ""
) -> Official:
    """Create an official's account in ``department`` with ``roles``. The actor must be a
    department administrator whose scope covers the department (or a superuser).
    Audits ``identity:official:create``."""
    ensure_role(actor, Role.ADMIN, department)
    errors: dict[str, list[str]] = {}
    username = _check_username(username, errors)
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Enter the official's name.")]
    user = User(username=username, display_name=name)
    _check_password(password, user, errors)
    try:
        roles = _check_roles(roles)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    _raise_if(errors)
    user.set_password(password)
    user.save()
    official = Official.objects.create(user=user, department=department, title=(title or "").strip())
    RoleGrant.objects.bulk_create([RoleGrant(official=official, role=r) for r in roles])
    audit.record(
        actor=actor,
        event="identity:official:create",
        target=official,
        data={"username": username, "department": department.code, "roles": roles},
    )
    return official


def _ensure_may_change_roles(official: Official, actor: User) -> None:
    ensure_role(actor, Role.ADMIN, official.department_id)
    if official.user_id == getattr(actor, "pk", None) and not actor.is_superuser:
        raise PermissionDenied("officials may not change their own roles")


@transaction.atomic
def role_grant(*, official: Official, role: str, actor: User) -> RoleGrant:
    """Grant ``role`` to ``official`` (idempotent). The actor must administer the official's
    department and may not change their own roles. Audits ``identity:role:grant``."""
    _check_roles([role])
    _ensure_may_change_roles(official, actor)
    grant, created = RoleGrant.objects.get_or_create(official=official, role=role)
    if created:
        audit.record(
            actor=actor,
            event="identity:role:grant",
            target=official,
            data={"role": role, "department": official.department.code},
        )
    return grant


@transaction.atomic
def role_revoke(*, official: Official, role: str, actor: User) -> bool:
    """Revoke ``role`` from ``official``; False when it was not held. Same rights as
    ``role_grant``. Audits ``identity:role:revoke``."""
    _check_roles([role])
    _ensure_may_change_roles(official, actor)
    deleted, _rows = RoleGrant.objects.filter(official=official, role=role).delete()
    if deleted:
        audit.record(
            actor=actor,
            event="identity:role:revoke",
            target=official,
            data={"role": role, "department": official.department.code},
        )
    return bool(deleted)


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str, actor: User) -> None:
    """Change a password after checking the old one and the password rules.
    Audits ``identity:password:change`` (no password material in the entry)."""
    errors: dict[str, list[str]] = {}
    if not user.check_password(old_password or ""):
        errors["old_password"] = [_("The password is not right.")]
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        errors["new_password"] = exc.messages
    _raise_if(errors)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit.record(actor=actor, event="identity:password:change", target=user, data={})


# --- Two-factor sign-in (TOTP, RFC 6238) -----------------------------------------------------


def _locked_user(user: User) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


def totp_secret_of(user: User) -> str | None:
    """The user's TOTP secret in clear (for the set-up page and verification), or None."""
    if not user.totp_secret_ciphertext:
        return None
    return crypto.decrypt(user.totp_secret_ciphertext, pii.TOTP_PURPOSE)


def totp_provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS).provisioning_uri(
        name=user.username, issuer_name=pick(settings.SITE_NAME, "zh-hans")
    )


@transaction.atomic
def totp_begin(*, user: User, actor: User) -> str:
    """Start two-factor set-up: store a new secret (encrypted), not yet enabled; return it.
    Refused while two-factor sign-in is on. Audits ``identity:totp:begin``."""
    locked = _locked_user(user)
    if locked.totp_enabled:
        raise ValidationError({"code": [_("Two-factor sign-in is already on. Turn it off first.")]})
    secret = pyotp.random_base32()
    locked.totp_secret_ciphertext = crypto.encrypt(secret, pii.TOTP_PURPOSE)
    locked.totp_last_step = None
    locked.save(update_fields=["totp_secret_ciphertext", "totp_last_step"])
    user.totp_secret_ciphertext, user.totp_last_step = locked.totp_secret_ciphertext, None
    audit.record(actor=actor, event="identity:totp:begin", target=user, data={})
    return secret


def _matching_step(secret: str, code: str, last_step: int | None) -> int | None:
    code = re.sub(r"\s", "", code or "")
    if not (len(code) == TOTP_DIGITS and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS)
    now_step = totp.timecode(timezone.now())
    for step in range(now_step - TOTP_VALID_WINDOW, now_step + TOTP_VALID_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue  # a code is good once
        if totp.generate_otp(step) == code:
            return step
    return None


@transaction.atomic
def totp_enable(*, user: User, code: str, actor: User) -> None:
    """Turn two-factor sign-in on after the user proves their app shows the right code.
    Audits ``identity:totp:enable``."""
    locked = _locked_user(user)
    secret = totp_secret_of(locked)
    if secret is None:
        raise ValidationError({"code": [_("Start the set-up again: no secret is waiting to be confirmed.")]})
    if locked.totp_enabled:
        raise ValidationError({"code": [_("Two-factor sign-in is already on.")]})
    step = _matching_step(secret, code, locked.totp_last_step)
    if step is None:
        raise ValidationError({"code": [_("That code is not right. Enter the 6 digits your app shows now.")]})
    locked.totp_enabled, locked.totp_last_step = True, step
    locked.save(update_fields=["totp_enabled", "totp_last_step"])
    user.totp_enabled, user.totp_last_step = True, step
    audit.record(actor=actor, event="identity:totp:enable", target=user, data={})


@transaction.atomic
def totp_verify(*, user: User, code: str) -> bool:
    """Check a sign-in code; each code is accepted once. Returns whether it was right."""
    locked = _locked_user(user)
    secret = totp_secret_of(locked)
    if not locked.totp_enabled or secret is None:
        return False
    if secret == DEMO_TOTP_SECRET and not settings.DEV:
        log.error("refused the published demo TOTP secret outside development")
        return False
    step = _matching_step(secret, code, locked.totp_last_step)
    if step is None:
        return False
    locked.totp_last_step = step
    locked.save(update_fields=["totp_last_step"])
    return True


def _totp_clear(user: User) -> None:
    locked = _locked_user(user)
    locked.totp_enabled, locked.totp_secret_ciphertext, locked.totp_last_step = False, None, None
    locked.save(update_fields=["totp_enabled", "totp_secret_ciphertext", "totp_last_step"])
    user.totp_enabled, user.totp_secret_ciphertext, user.totp_last_step = False, None, None


class PasswordConfirmationError(ValidationError):
    """The password given again before a sensitive action is wrong, or too many wrong ones were
    given (``retry_after`` seconds then say how long to wait, else 0)."""

    def __init__(self, message: str, *, retry_after: int = 0):
        super().__init__({"password": [message]})
        self.retry_after = retry_after


def password_confirm(*, user: User, password: str | None) -> None:
    """Re-authentication before a sensitive action (granting or revoking data access, revoking a
    licence, changing roles): the one check the pages and the API share. Raises
    ``PasswordConfirmationError`` (a ``ValidationError`` on ``password``) when the password is not the
    account's, and refuses without checking once ``reauth-account``'s limit of wrong passwords is
    reached, so a stolen session cannot guess the password. A right password does not count."""
    attempt = throttle.attempt((throttle.rule("reauth-account"), str(user.pk)))
    if not attempt.allowed:
        raise PasswordConfirmationError(
            ngettext(
                "Too many wrong passwords. Try again in %(minutes)d minute.",
                "Too many wrong passwords. Try again in %(minutes)d minutes.",
                attempt.minutes,
            )
            % {"minutes": attempt.minutes},
            retry_after=attempt.retry_after,
        )
    if user.check_password(password or ""):
        attempt.give_back()
        return
    raise PasswordConfirmationError(_("The password is not right."))


@transaction.atomic
def totp_disable(*, user: User, password: str, actor: User) -> None:
    """Turn two-factor sign-in off; needs the account's password. Audits ``identity:totp:disable``."""
    if not user.check_password(password or ""):
        raise ValidationError({"password": [_("The password is not right.")]})
    _totp_clear(user)
    audit.record(actor=actor, event="identity:totp:disable", target=user, data={})


@transaction.atomic
def totp_reset(*, user: User, actor: User) -> None:
    """An administrator turns a user's two-factor sign-in off (lost phone). Superusers only.
    Audits ``identity:totp:reset``."""
    if not is_superuser(actor):
        raise PermissionDenied("only a superuser may reset two-factor sign-in")
    _totp_clear(user)
    audit.record(actor=actor, event="identity:totp:reset", target=user, data={})


# --- Sign-in: throttle and audit (the door itself is yiwang.identity.signin) -----------------


def username_key(username: str) -> str:
    """The throttle key of a typed user name (case, width and whitespace do not matter)."""
    return throttle.normalise(username)[:64]


def _account_client_key(username: str, client_ip: str | None) -> str:
    return f"{username_key(username)}\x00{throttle.normalise_address(client_ip)}"


def login_attempt(*, username: str, client_ip: str | None) -> throttle.Attempt:
    """Reserve one sign-in attempt (a password or a code), atomically, before anything is
    checked, under three keys: the account from this client (the strict limit, so a stranger's
    guesses never lock the owner out), the account from anywhere and the client address (both
    far higher: spraying from many addresses, many people behind one address). A refused
    attempt is logged, not audited: refusals cost the guesser nothing, so auditing each would
    let anyone flood the log."""
    attempt = throttle.attempt(
        (throttle.rule("login-account-client"), _account_client_key(username, client_ip)),
        (throttle.rule("login-account"), username_key(username)),
        (throttle.rule("login-address"), throttle.normalise_address(client_ip)),
    )
    if not attempt.allowed:
        log.warning("sign-in refused by the throttle")
    return attempt


def login_failed(*, username: str, step: str, attempt: throttle.Attempt) -> None:
    """Audit a wrong password or code (``identity:session:login_failed``, data: the step,
    "password" or "code"); when it used the last attempt left, audit the lockout too
    (``identity:session:locked``). The attempt stays counted. Nothing typed is recorded."""
    _audit_sign_in("identity:session:login_failed", username, {"step": step})
    if attempt.remaining <= 0:
        _audit_sign_in("identity:session:locked", username, {"step": step, "minutes": attempt.minutes})
    log.warning("failed sign-in (%s step)", step)


def _audit_sign_in(event: str, username: str, data: dict | None = None) -> None:
    # The account, when there is one, is the entry's target; what was typed never is in it.
    target = User.objects.filter(username=(username or "").strip()).first()
    with transaction.atomic():
        audit.record(actor=None, event=event, target=target, data=data or {})


@transaction.atomic
def login_succeeded(*, user: User, method: str) -> None:
    """Forget the account's counted attempts and audit the sign-in (``identity:session:login``,
    data: the method, e.g. "password+totp")."""
    client_ip = context.current().client_ip
    throttle.clear(throttle.rule("login-account-client"), _account_client_key(user.get_username(), client_ip))
    throttle.clear(throttle.rule("login-account"), username_key(user.get_username()))
    audit.record(actor=user, event="identity:session:login", target=user, data={"method": method})


def logout_record(*, user: User) -> None:
    """Audit a sign-out (``identity:session:logout``)."""
    audit.record(actor=user, event="identity:session:logout", target=user, data={})


def is_role_admin_for(actor: User, official: Official) -> bool:
    """Whether ``actor`` may change ``official``'s roles (for pages deciding what to show)."""
    return has_role(actor, Role.ADMIN, official.department_id) and (
        actor.is_superuser or official.user_id != actor.pk
    )
