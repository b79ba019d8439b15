"""Writes of the identity app. Each is keyword-only, atomic and audited in the same transaction.

Bad input raises ``ValidationError`` with a dict of field → messages (forms map it onto their
fields); missing rights raise ``PermissionDenied``. Clear identity numbers never reach the
audit log: only the masked form does.
"""

import logging
import re

import pyotp
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.core import throttle
from yiwang.identity import pii, realname
from yiwang.identity.models import (
    Department,
    Enterprise,
    EnterpriseAgent,
    Official,
    Person,
    Region,
    Role,
    RoleGrant,
    User,
)
from yiwang.identity.permissions import ensure_role, has_role, is_superuser
from yiwang.lib import crypto
from yiwang.lib.idnumbers import validate_id_number
from yiwang.lib.masking import mask_phone
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
    """Create a sign-in account and its real-name Person.

    Validates every field and reports all problems at once; refuses an identity number that
    is already registered (blind-index lookup); verifies the name against the number through
    the configured ``RealNameVerifier``. ``actor`` is whoever registers the person (None: the
    person themself). Audits ``identity:person:register`` with the masked number only.
    """
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Enter your name as it is written on your identity card.")]
    try:
        id_number = validate_id_number(id_number)
    except ValidationError as exc:
        errors["id_number"] = exc.messages
    else:
        if Person.objects.filter(id_number_index=pii.id_number_index(id_number)).exists():
            errors["id_number"] = [
                _("This identity number is already registered. Sign in with that account instead.")
            ]
    phone = _check_phone(phone, errors)
    username = _check_username(username, errors)
    user = User(username=username, display_name=name, email=(email or "").strip(), phone=phone)
    _check_password(password, user, errors)
    _raise_if(errors)

    result = realname.get_verifier().verify(name=name, id_number=id_number)
    if not result.ok:
        raise ValidationError(
            {
                "name": [
                    _("Your name and identity number could not be verified: %(reason)s")
                    % {"reason": result.reason}
                ]
            }
        )

    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            person = Person.objects.create(
                user=user,
                name=name,
                phone=phone,
                region=Region.objects.filter(code=id_number[:6]).first(),
                verified_at=timezone.now(),
                **pii.id_number_fields(id_number),
            )
    except IntegrityError as exc:  # a concurrent registration with the same number or user name
        raise ValidationError(
            {"id_number": [_("This identity number or user name was registered a moment ago.")]}
        ) from exc
    audit.record(
        actor=actor or user,
        event="identity:person:register",
        target=person,
        data={"username": username, "id_number_masked": person.id_number_masked, "phone": mask_phone(phone)},
    )
    return person


# --- Enterprises -----------------------------------------------------------------------------


def _is_legal_representative(person: Person, enterprise: Enterprise) -> bool:
    return EnterpriseAgent.objects.filter(
        enterprise=enterprise, person=person, role=EnterpriseAgent.Role.LEGAL_REPRESENTATIVE
    ).exists()


@transaction.atomic
def enterprise_register(
    *, person: Person, name: str, credit_code: str, legal_representative: str, actor: User
) -> Enterprise:
    """Register an enterprise; ``person`` becomes its legal representative when the names
    match, otherwise its authorised agent. Refuses a credit code already registered.
    Audits ``identity:enterprise:register``."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    legal_representative = (legal_representative or "").strip()
    if not name:
        errors["name"] = [_("Enter the enterprise's registered name.")]
    if not legal_representative:
        errors["legal_representative"] = [_("Enter the legal representative's name.")]
    try:
        credit_code = validate_credit_code(credit_code)
    except ValidationError as exc:
        errors["credit_code"] = exc.messages
    else:
        if Enterprise.objects.filter(credit_code=credit_code).exists():
            errors["credit_code"] = [
                _("This enterprise is already registered. Ask its legal representative to add you.")
            ]
    _raise_if(errors)
    role = (
        EnterpriseAgent.Role.LEGAL_REPRESENTATIVE
        if legal_representative == person.name
        else EnterpriseAgent.Role.AGENT
    )
    try:
        with transaction.atomic():
            enterprise = Enterprise.objects.create(
                name=name,
                credit_code=credit_code,
                legal_representative=legal_representative,
                region=Region.objects.filter(code=credit_code[2:8]).first(),
            )
    except IntegrityError as exc:
        raise ValidationError({"credit_code": [_("This enterprise was registered a moment ago.")]}) from exc
    EnterpriseAgent.objects.create(enterprise=enterprise, person=person, role=role)
    audit.record(
        actor=actor,
        event="identity:enterprise:register",
        target=enterprise,
        data={"credit_code": credit_code, "name": name, "agent_person_id": person.pk, "agent_role": role},
    )
    return enterprise


@transaction.atomic
def agent_add(
    *, enterprise: Enterprise, person: Person, role: str = EnterpriseAgent.Role.AGENT, actor: User
) -> EnterpriseAgent:
    """Let ``person`` act for ``enterprise``. Only the enterprise's legal representative (or a
    superuser) may add agents. Audits ``identity:agent:add``."""
    actor_person = Person.objects.filter(user=actor).first() if actor else None
    if not (
        getattr(actor, "is_superuser", False)
        or (actor_person is not None and _is_legal_representative(actor_person, enterprise))
    ):
        raise PermissionDenied("only the legal representative may add agents")
    if role not in EnterpriseAgent.Role.values:
        raise ValidationError({"role": [_("Choose a valid role.")]})
    if EnterpriseAgent.objects.filter(enterprise=enterprise, person=person).exists():
        raise ValidationError({"person": [_("This person already acts for the enterprise.")]})
    agency = EnterpriseAgent.objects.create(enterprise=enterprise, person=person, role=role)
    audit.record(
        actor=actor,
        event="identity:agent:add",
        target=enterprise,
        data={"person_id": person.pk, "role": role},
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
        name=user.username, issuer_name=settings.SITE_NAME
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


def login_attempt(*, username: str, client_ip: str | None) -> throttle.Attempt:
    """Reserve one sign-in attempt (a password or a code) for the account and the client
    address, atomically, before anything is checked. A refused attempt is logged, not audited:
    refusals cost the guesser nothing, so auditing each would let anyone flood the log."""
    attempt = throttle.attempt(
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
