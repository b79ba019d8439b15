"""Writes of the licences app: issuing, suspending, reinstating, revoking and renewing licences,
issuer keys and their rotation, status lists, holder keys, trusted issuers, presentations.

Every write locks what it changes, checks the transition, records an audit entry in the same
transaction (``licences:<subject>:<verb>``) and returns the changed object. Refusals raise
``LicenceError`` (a message for the user, field errors, an HTTP status for the API).

The format (docs/licences.md): SD-JWT VC (draft-ietf-oauth-sd-jwt-vc-11), header
``typ: dc+sd-jwt``, ``alg: EdDSA``, ``kid``; ``iss`` the department's issuer URL; ``vct`` the
type's; ``status`` a Token Status List reference; personal claims as salted disclosures; ``cnf``
when the holder registered a wallet key.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer

from yiwang.audit import merkle, signing
from yiwang.audit import selectors as audit_selectors
from yiwang.audit import services as audit
from yiwang.core.errors import ServiceError
from yiwang.identity import selectors as identity_selectors
from yiwang.identity.models import Department, Enterprise, Person, RealNameLevel, Role
from yiwang.identity.permissions import has_role
from yiwang.lib.idnumbers import birth_date_of
from yiwang.licences import jose, status, vault
from yiwang.licences.models import HolderKey, IssuerKey, Licence, LicenceType, StatusList, TrustedIssuer
from yiwang.licences.types import TYPES

CLAIMS_PURPOSE, CREDENTIAL_PURPOSE, KEY_PURPOSE = (
    vault.CLAIMS_PURPOSE,
    vault.CREDENTIAL_PURPOSE,
    vault.KEY_PURPOSE,
)
TYP = "dc+sd-jwt"
STATUS_LIST_SIZE = 16_384  # entries per list (4 KiB of bits before compression)
# Seconds a verifier may cache a status list token (the token's ``ttl``); LICENCES_STATUS_TTL.
STATUS_TOKEN_TTL = 300
STATUS_TOKEN_LIFETIME = 24 * 3600  # a status list token's exp: verifiers refuse stale lists
# Who manages a department's licences (issue by hand, suspend, reinstate, revoke, renew): the
# approvers, who decide its cases; leaders read the list. Rotating the signing key is the
# department administrator's (two-factor) power.
MANAGE_ROLE = Role.APPROVER
READ_ROLES = (Role.APPROVER, Role.LEADER)
KEY_ROLE = Role.ADMIN
MAX_CLAIM_LENGTH = 500
MAX_REASON = 500


class LicenceError(ServiceError):
    """A refusal of this app's services (see ``core.errors.ServiceError``)."""


class InvalidInput(LicenceError):  # noqa: N818 — named for what happened
    status = 422


class WrongState(LicenceError):  # noqa: N818 — named for what happened
    status = 409


class NotAllowed(LicenceError):  # noqa: N818 — named for what happened
    status = 403


# --- URLs ------------------------------------------------------------------------------------


def public_url() -> str:
    base = getattr(settings, "LICENCES_PUBLIC_URL", "")
    if not base:
        raise ImproperlyConfigured(
            "LICENCES_PUBLIC_URL is required to issue licences (docs/configuration.md)."
        )
    return base


def issuer_url(department: Department) -> str:
    """The department's issuer identifier (``iss``); its metadata is at
    ``<origin>/.well-known/jwt-vc-issuer/licences/issuers/<code>``."""
    return f"{public_url()}/licences/issuers/{department.code}"


def metadata_url(issuer: str) -> str:
    """Where the SD-JWT VC draft puts an issuer's metadata: the well-known segment is inserted
    between the host and the issuer's path."""
    scheme, _sep, rest = issuer.partition("://")
    host, _slash, path = rest.partition("/")
    return f"{scheme}://{host}/.well-known/jwt-vc-issuer" + (f"/{path}" if path else "")


def status_list_url(status_list: StatusList) -> str:
    return f"{public_url()}/licences/status/{status_list.department.code}/{status_list.number}"


# --- licence types -----------------------------------------------------------------------------


@transaction.atomic
def licence_types_sync(*, actor) -> int:
    """Create or update the shipped licence types (``types.TYPES``); returns how many changed."""
    changed = 0
    for spec in TYPES:
        fields = {k: v for k, v in spec.items() if k != "code"}
        fields["vct"] = f"urn:yiwang:licence:{spec['code']}"
        current = LicenceType.objects.filter(code=spec["code"]).first()
        if current is not None and all(getattr(current, k) == v for k, v in fields.items()):
            continue
        lt, _created = LicenceType.objects.update_or_create(code=spec["code"], defaults=fields)
        audit.record(
            actor=actor, event="licences:type:save", target=lt, data={"code": lt.code, "vct": lt.vct}
        )
        changed += 1
    return changed


def department_kind(department: Department) -> str:
    return department.code.rpartition("-")[2]


# --- issuer keys -------------------------------------------------------------------------------


KEY_EVENTS = ("licences:issuer_key:create", "licences:issuer_key:rotate")
KEY_TARGET_TYPE = "licences.issuerkey"


def _key_target(key: IssuerKey) -> tuple[str, str]:
    # The key's thumbprint is its id in the log, and issuer keys are a public object type of the
    # audit log: the public leaf names the key, so other deployments check published keys against it.
    return (KEY_TARGET_TYPE, key.kid)


def _key_audit(key: IssuerKey) -> dict:
    # The public key and its thumbprint are in the log, so a swapped key shows.
    return {"department": key.department.code, "kid": key.kid, "x": key.public_x, "thumbprint": key.kid}


def _new_key(department: Department) -> IssuerKey:
    private = Ed25519PrivateKey.generate()
    x = jose.public_x(private)
    raw = private.private_bytes_raw()
    return IssuerKey.objects.create(
        department=department,
        kid=jose.thumbprint(x),
        public_x=x,
        private_ciphertext=vault.seal(jose.b64e(raw), KEY_PURPOSE),
    )


@transaction.atomic
def issuer_key_create(*, department: Department, actor) -> IssuerKey:
    """The department's first signing key (also made on first issuance). Refused when it has an
    active one: use ``issuer_key_rotate``."""
    Department.objects.select_for_update().get(pk=department.pk)
    if IssuerKey.objects.filter(department=department, state=IssuerKey.State.ACTIVE).exists():
        raise WrongState(_("This department already has a signing key; rotate it instead."))
    key = _new_key(department)
    audit.record(
        actor=actor, event="licences:issuer_key:create", target=_key_target(key), data=_key_audit(key)
    )
    return key


def active_key(department: Department, *, actor) -> IssuerKey:
    """The department's active signing key, made (and audited) on first use."""
    key = IssuerKey.objects.filter(department=department, state=IssuerKey.State.ACTIVE).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return issuer_key_create(department=department, actor=actor)
    except (WrongState, IntegrityError):
        return IssuerKey.objects.get(department=department, state=IssuerKey.State.ACTIVE)


@transaction.atomic
def issuer_key_rotate(*, department: Department, actor, reason: str = "") -> IssuerKey:
    """Retire the department's active key and make a new one. Licences signed with the retired
    key still verify (its public key stays published); new licences and status lists are signed
    with the new one. Department administrators of the department (or above) only, when ``actor``
    is a user; the system (a label) may rotate too."""
    if not isinstance(actor, str | None) and not has_role(actor, KEY_ROLE, department):
        raise PermissionDenied("department administrator required")
    Department.objects.select_for_update().get(pk=department.pk)
    old = (
        IssuerKey.objects.select_for_update()
        .filter(department=department, state=IssuerKey.State.ACTIVE)
        .first()
    )
    if old is not None:
        old.state, old.retired_at = IssuerKey.State.RETIRED, timezone.now()
        old.save(update_fields=["state", "retired_at"])
    key = _new_key(department)
    # Status list tokens are signed anew with the new key.
    StatusList.objects.filter(department=department).update(token_version=0)
    audit.record(
        actor=actor,
        event="licences:issuer_key:rotate",
        target=_key_target(key),
        data={**_key_audit(key), "retired_kid": old.kid if old else "", "reason": reason[:MAX_REASON]},
    )
    return key


@lru_cache(maxsize=256)
def _private_key(kid: str, ciphertext: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(jose.b64d(vault.unseal(ciphertext, KEY_PURPOSE)))


def signing_key(key: IssuerKey) -> Ed25519PrivateKey:
    """The decrypted private key (kept in memory, keyed by its ciphertext)."""
    return _private_key(key.kid, bytes(key.private_ciphertext))


def department_jwks(department: Department) -> dict:
    """Every key of the department, active and retired: old licences must keep verifying."""
    keys = IssuerKey.objects.filter(department=department).order_by("-created_at")
    return {"keys": [k.public_jwk for k in keys]}


AUDIT_API_PATH = "/api/audit"


def issuer_metadata(department: Department) -> dict:
    """The issuer metadata another deployment fetches: the issuer URL, every key, and where in this
    deployment's public audit log each key's creation is (``audit_log``: the log's API and, per
    ``kid``, the leaf index of its ``licences:issuer_key:create``/``rotate`` entry; a key without
    one is listed with no index, and verifiers refuse it)."""
    jwks = department_jwks(department)
    kids = [k["kid"] for k in jwks["keys"]]
    found = dict(
        audit_selectors.records(target_type=KEY_TARGET_TYPE)
        .filter(target_id__in=kids, event__in=KEY_EVENTS)
        .order_by("-leaf_index")
        .values_list("target_id", "leaf_index")
    )
    return {
        "issuer": issuer_url(department),
        "jwks": jwks,
        "audit_log": {"url": public_url() + AUDIT_API_PATH, "keys": {kid: found.get(kid) for kid in kids}},
    }


# --- status lists ------------------------------------------------------------------------------


def _allocate_index(department: Department) -> tuple[StatusList, int]:
    """The next free index of the department's current list (a new list when it is full).
    Sequential: docs/licences.md says what that reveals and why it is acceptable here."""
    current = StatusList.objects.select_for_update().filter(department=department).order_by("-number").first()
    if current is None or current.next_index >= current.size:
        number = 1 if current is None else current.number + 1
        current = StatusList.objects.create(
            department=department, number=number, size=STATUS_LIST_SIZE, bits=status.empty(STATUS_LIST_SIZE)
        )
        current = StatusList.objects.select_for_update().get(pk=current.pk)
    index = current.next_index
    current.next_index = index + 1
    current.save(update_fields=["next_index"])
    return current, index


def _set_status(licence: Licence, value: int) -> None:
    lst = StatusList.objects.select_for_update().get(pk=licence.status_list_id)
    lst.bits = status.put(bytes(lst.bits), licence.status_index, value)
    lst.version += 1
    lst.updated_at = timezone.now()
    lst.save(update_fields=["bits", "version", "updated_at"])


def status_ttl() -> int:
    """How long (seconds) a verifier may keep a status list token before fetching it again."""
    return int(getattr(settings, "LICENCES_STATUS_TTL", STATUS_TOKEN_TTL))


def status_list_token(status_list: StatusList) -> str:
    """The list's signed ``statuslist+jwt`` for its current version, signed again when the list
    changed, the key was rotated or the last token is about to expire."""
    now = timezone.now()
    fresh = status_list.token_expires_at and status_list.token_expires_at > now + dt.timedelta(hours=1)
    if status_list.token and status_list.token_version == status_list.version and fresh:
        return status_list.token
    with transaction.atomic():
        lst = StatusList.objects.select_for_update().select_related("department").get(pk=status_list.pk)
        key = active_key(lst.department, actor="system:licences")
        iat = int(now.timestamp())
        lst.token = status.token(
            uri=status_list_url(lst),
            bits=bytes(lst.bits),
            kid=key.kid,
            key=signing_key(key),
            iat=iat,
            exp=iat + STATUS_TOKEN_LIFETIME,
            ttl=status_ttl(),
        )
        lst.token_version, lst.token_expires_at = (
            lst.version,
            now + dt.timedelta(seconds=STATUS_TOKEN_LIFETIME),
        )
        lst.save(update_fields=["token", "token_version", "token_expires_at"])
    status_list.token, status_list.token_version = lst.token, lst.token_version
    status_list.token_expires_at = lst.token_expires_at
    return lst.token


# --- holder keys -------------------------------------------------------------------------------


@transaction.atomic
def holder_key_register(*, user, jwk: Mapping, actor, label: str = "") -> HolderKey:
    """Register the public key of the user's wallet (an Ed25519 JWK without ``d``). Replaces the
    user's previous key; licences issued from now on are bound to it (``cnf``). Licences
    already issued keep the key they were bound to (renew them to bind the new one)."""
    if actor is None or getattr(actor, "pk", None) != user.pk:
        raise PermissionDenied("holders register their own keys")
    if not isinstance(jwk, Mapping) or "d" in jwk:
        raise InvalidInput(_("Send the public key only."), {"jwk": _("A public key has no 'd'.")})
    try:
        jose.public_key_from_jwk(dict(jwk))
    except jose.JoseError as exc:
        raise InvalidInput(_("The key is not an Ed25519 public key."), {"jwk": str(exc)}) from exc
    x = str(jwk["x"])
    now = timezone.now()
    HolderKey.objects.select_for_update().filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    key = HolderKey.objects.create(
        user=user, thumbprint=jose.thumbprint(x), jwk=jose.public_jwk(x), label=(label or "")[:100]
    )
    audit.record(
        actor=actor, event="licences:holder_key:register", target=key, data={"thumbprint": key.thumbprint}
    )
    return key


@transaction.atomic
def holder_key_revoke(*, key: HolderKey, actor) -> HolderKey:
    """The holder withdraws a wallet key (a lost phone). Licences bound to it need renewal."""
    if getattr(actor, "pk", None) != key.user_id:
        raise PermissionDenied("holders revoke their own keys")
    key = HolderKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor, event="licences:holder_key:revoke", target=key, data={"thumbprint": key.thumbprint}
        )
    return key


def _holder_user(holder: Person | Enterprise):
    return holder.user if isinstance(holder, Person) else None


def _holder_jwk(holder: Person | Enterprise) -> dict | None:
    user = _holder_user(holder)
    if user is None:
        return None
    key = HolderKey.objects.filter(user=user, revoked_at__isnull=True).first()
    return dict(key.jwk) if key else None


# --- issuing -----------------------------------------------------------------------------------


def _ensure_holder(licence_type: LicenceType, holder) -> None:
    kind = licence_type.holder_kind
    if isinstance(holder, Person):
        if kind == LicenceType.HolderKind.ENTERPRISE:
            raise InvalidInput(
                _("This licence is issued to enterprises only."), {"holder": _("Choose an enterprise.")}
            )
        if holder.realname_level < RealNameLevel.REGISTER:
            raise InvalidInput(
                _(
                    "Licences are issued only to identities checked against the population register "
                    "(L2 or higher)."
                ),
                {"holder": _("The holder's real-name level is too low.")},
            )
    elif isinstance(holder, Enterprise):
        if kind == LicenceType.HolderKind.PERSON:
            raise InvalidInput(
                _("This licence is issued to persons only."), {"holder": _("Choose a person.")}
            )
        if not holder.from_register:
            raise InvalidInput(
                _("Licences are issued only to enterprises confirmed by the legal-entity register."),
                {"holder": _("The enterprise is only declared.")},
            )
    else:
        raise TypeError("a licence holder is a Person or an Enterprise")


def _ensure_issuer(licence_type: LicenceType, department: Department) -> None:
    if department_kind(department) not in licence_type.issuer_kinds:
        raise InvalidInput(
            _("%(department)s does not issue %(type)s.")
            % {"department": department.name, "type": licence_type.name_zh},
            {"type": _("Not issued by this department.")},
        )


def _clean_claims(licence_type: LicenceType, claims: Mapping) -> dict:
    known = {c["name"]: c for c in licence_type.claims}
    errors: dict[str, str] = {}
    clean: dict = {}
    for name, value in claims.items():
        if name not in known:
            errors[str(name)[:40]] = _("This licence has no such field.")
            continue
        if isinstance(value, str):
            value = value.strip()
            if "\x00" in value:
                errors[name] = _("This value is not valid.")
                continue
            if len(value) > MAX_CLAIM_LENGTH:
                errors[name] = _("Use at most %(limit)s characters.") % {"limit": MAX_CLAIM_LENGTH}
                continue
        elif not isinstance(value, bool | int):
            errors[name] = _("This value is not valid.")
            continue
        if value == "":
            continue
        clean[name] = value
    for spec in licence_type.claims:
        if spec.get("from") == "licence.number":
            continue  # given by issuance itself
        if spec.get("required") and spec["name"] not in clean and spec["name"] not in errors:
            errors[spec["name"]] = _("This field is required.")
    if errors:
        raise InvalidInput(_("Some fields of the licence need correcting."), errors)
    return clean


def _holder_value(source: str, holder, case) -> object:
    """The value a claim's ``from`` names, or None when it has none."""
    person = holder if isinstance(holder, Person) else None
    enterprise = holder if isinstance(holder, Enterprise) else None
    if source == "holder.name":
        return holder.name
    if source == "holder.identifier":
        return identity_selectors.id_number_for_credential(person) if person else enterprise.credit_code
    if source.startswith("person."):
        if person is None:
            return None
        attr = source.removeprefix("person.")
        if attr == "name":
            return person.name
        if attr == "id_number":
            return identity_selectors.id_number_for_credential(
                person
            )  # a system purpose: it goes into the holder's own licence
        if attr == "birth_date":
            try:
                return birth_date_of(identity_selectors.id_number_for_credential(person)).isoformat()
            except (ValueError, TypeError):
                return None
        if attr == "age_over_18":
            age = identity_selectors.age_of(person)
            return None if age is None else age >= 18
        if attr == "realname_level":
            return f"L{int(person.realname_level)}"
        return None
    if source.startswith("enterprise."):
        if enterprise is None:
            return None
        return getattr(enterprise, source.removeprefix("enterprise."), None) or None
    if source.startswith("case.data.") and case is not None:
        value = (case.data or {}).get(source.removeprefix("case.data."))
        return value if isinstance(value, str | int | bool) else None
    if source == "case.number" and case is not None:
        return case.number
    return None


def claims_from_sources(licence_type: LicenceType, holder, case=None) -> dict:
    """The claims issuance can fill in itself (the holder's register data, the case's form)."""
    out = {}
    for spec in licence_type.claims:
        source = spec.get("from")
        if not source or source == "licence.number":
            continue
        value = _holder_value(source, holder, case)
        if isinstance(value, str):
            value = value.strip()[:MAX_CLAIM_LENGTH]
        if value not in (None, ""):
            out[spec["name"]] = value
    return out


def _number(department: Department, lst: StatusList, index: int, year: int) -> str:
    return f"{department.code}-{year}-{lst.number:03d}{index:05d}"


def _validity(licence_type: LicenceType, valid_from: dt.datetime) -> dt.datetime | None:
    if not licence_type.validity_years:
        return None
    try:
        return valid_from.replace(year=valid_from.year + licence_type.validity_years)
    except ValueError:  # 29 February
        return valid_from.replace(year=valid_from.year + licence_type.validity_years, day=28)


def _sign(*, licence: Licence, claims: Mapping, key: IssuerKey, holder_jwk: dict | None) -> str:
    lt = licence.type
    payload: dict = {
        "iss": issuer_url(licence.department),
        "vct": lt.vct,
        "iat": int(licence.issued_at.timestamp()),
        "nbf": int(licence.valid_from.timestamp()),
        "status": {"status_list": {"idx": licence.status_index, "uri": status_list_url(licence.status_list)}},
    }
    if licence.valid_until is not None:
        payload["exp"] = int(licence.valid_until.timestamp())
    values = {**claims}
    if lt.claim_spec("licence_number"):
        values["licence_number"] = licence.number
    for spec in lt.claims:
        name = spec["name"]
        if name not in values:
            continue
        payload[SDObj(name) if spec.get("sd") or spec.get("personal") else name] = values[name]
    issuer = SDJWTIssuer(
        payload,
        _jwcrypto_key(key),
        holder_key=JWK(**holder_jwk) if holder_jwk else None,
        sign_alg="EdDSA",
        extra_header_parameters={"typ": TYP, "kid": key.kid},
    )
    return issuer.sd_jwt_issuance


@lru_cache(maxsize=256)
def _jwcrypto_key_cached(kid: str, ciphertext: bytes) -> JWK:
    return JWK.from_pyca(_private_key(kid, ciphertext))


def _jwcrypto_key(key: IssuerKey) -> JWK:
    return _jwcrypto_key_cached(key.kid, bytes(key.private_ciphertext))


def _store(licence: Licence, claims: Mapping, credential: str) -> None:
    licence.claims_ciphertext = vault.seal(json.dumps(dict(claims), ensure_ascii=False), CLAIMS_PURPOSE)
    licence.credential_ciphertext = vault.seal(credential, CREDENTIAL_PURPOSE)


def _issue(
    *,
    licence_type: LicenceType,
    holder: Person | Enterprise,
    department: Department,
    claims: Mapping,
    actor,
    case=None,
    reason: str = "",
    valid_from: dt.datetime | None = None,
    replaces: Licence | None = None,
    holder_jwk: dict | None = None,
) -> Licence:
    if not licence_type.is_active:
        raise InvalidInput(_("This licence type is no longer issued."), {"type": _("Retired.")})
    _ensure_holder(licence_type, holder)
    _ensure_issuer(licence_type, department)
    clean = _clean_claims(licence_type, claims)
    key = active_key(department, actor=actor)
    lst, index = _allocate_index(department)
    now = timezone.now()
    start = valid_from or now
    licence = Licence(
        type=licence_type,
        number=_number(department, lst, index, timezone.localdate(now).year),
        holder_person=holder if isinstance(holder, Person) else None,
        holder_enterprise=holder if isinstance(holder, Enterprise) else None,
        department=department,
        issuer_key=key,
        status_list=lst,
        status_index=index,
        issued_at=now.replace(microsecond=0),
        valid_from=start.replace(microsecond=0),
        valid_until=_validity(licence_type, start.replace(microsecond=0)),
        issued_by=actor if getattr(actor, "pk", None) and not isinstance(actor, str) else None,
        issue_reason=(reason or "")[:MAX_REASON],
        case_id=getattr(case, "pk", None),
        case_number=(getattr(case, "number", "") or "") if case is not None else "",
        replaces=replaces,
        holder_jwk=holder_jwk if holder_jwk is not None else _holder_jwk(holder),
    )
    if "licence_number" in {c["name"] for c in licence_type.claims}:
        clean["licence_number"] = licence.number
    credential = _sign(licence=licence, claims=clean, key=key, holder_jwk=licence.holder_jwk)
    _store(licence, clean, credential)
    licence.save()
    audit.record(
        actor=actor,
        event="licences:licence:issue",
        target=licence,
        subject=_holder_user(holder),
        data={
            "type": licence_type.code,
            "number": licence.number,
            "department": department.code,
            "kid": key.kid,
            "case": licence.case_number,
            "manual": bool(reason),
            "renews": replaces.number if replaces else "",
            "holder_bound": bool(licence.holder_jwk),
        },
    )
    return licence


@transaction.atomic
def licence_issue(
    *,
    licence_type: LicenceType,
    holder: Person | Enterprise,
    department: Department,
    claims: Mapping,
    actor,
    reason: str = "",
    valid_from: dt.datetime | None = None,
) -> Licence:
    """Issue a licence to a verified person (L2+) or a register enterprise, signed with the
    department's active key, with a fresh index in its status list. ``claims`` are merged over
    what the holder's register data fill in (``claims_from_sources``). No permission check:
    callers (manual issue, case approval, the demo) decide who may."""
    filled = {**claims_from_sources(licence_type, holder), **dict(claims)}
    return _issue(
        licence_type=licence_type,
        holder=holder,
        department=department,
        claims=filled,
        actor=actor,
        reason=reason,
        valid_from=valid_from,
    )


@transaction.atomic
def licence_issue_manual(
    *, licence_type: LicenceType, holder: Person | Enterprise, claims: Mapping, reason: str, actor
) -> Licence:
    """An official issues a licence by hand (补发、历史证照电子化), with the reason on record.
    Approvers of a department that issues the type only; the licence is their department's."""
    official = getattr(actor, "official", None)
    if official is None or not has_role(actor, MANAGE_ROLE, official.department):
        raise PermissionDenied("approver role required")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("Give the reason for issuing by hand."), {"reason": _("This field is required.")}
        )
    if len(reason) > MAX_REASON:
        raise InvalidInput(_("The reason is too long."), {"reason": _("Use at most 500 characters.")})
    return licence_issue(
        licence_type=licence_type,
        holder=holder,
        department=official.department,
        claims=claims,
        actor=actor,
        reason=reason,
    )


def licence_types_for_item(item) -> list[LicenceType]:
    """The active licence types an item (or the basic item it implements) issues on approval."""
    codes = {item.code}
    basic = getattr(item, "basic_item", None)
    if basic is not None:
        codes.add(basic.code)
    return [lt for lt in LicenceType.objects.filter(is_active=True) if codes & set(lt.item_codes)]


@transaction.atomic
def licence_issue_for_case(*, case, actor) -> list[Licence]:
    """Issue the licences an approved case's item issues (applications calls this when a case is
    approved or completed). Idempotent: a licence already issued for the case and type is
    returned, not issued again. The holder is the enterprise the case was made for, else the
    applicant; claims come from the holder's register data and the case's form. Returns [] for
    an item that issues nothing. Raises WrongState for a case that is not approved.

    ``case`` is an applications ``Case``; this app sits below applications and does not import
    it, so which statuses count as approved is the case's to say (``Case.is_approved``, from
    ``Case.APPROVED_STATUSES``), not repeated here."""
    if not case.is_approved:
        raise WrongState(_("Only an approved case issues a licence."))
    issued = []
    for lt in licence_types_for_item(case.item):
        existing = Licence.objects.filter(type=lt, case_id=case.pk).first()
        if existing is not None:
            issued.append(existing)
            continue
        if case.enterprise_id and lt.holder_kind != LicenceType.HolderKind.PERSON:
            holder = case.enterprise
        else:
            holder = identity_selectors.person_of(case.applicant)
            if holder is None:
                raise WrongState(_("The applicant has no real-name identity."))
        claims = claims_from_sources(lt, holder, case)
        issued.append(
            _issue(
                licence_type=lt,
                holder=holder,
                department=case.department,
                claims=claims,
                actor=actor,
                case=case,
            )
        )
    return issued


# --- changing a licence's state ----------------------------------------------------------------

# (from, to) pairs a department may make; expiry is by time and changes no state.
TRANSITIONS = {
    (Licence.State.VALID, Licence.State.SUSPENDED),
    (Licence.State.SUSPENDED, Licence.State.VALID),
    (Licence.State.VALID, Licence.State.REVOKED),
    (Licence.State.SUSPENDED, Licence.State.REVOKED),
}
STATUS_VALUE = {
    Licence.State.VALID: status.VALID,
    Licence.State.SUSPENDED: status.SUSPENDED,
    Licence.State.REVOKED: status.INVALID,
}


def may_manage(user, licence: Licence) -> bool:
    """Whether ``user`` may issue, suspend, reinstate, revoke or renew this licence. The state
    services also accept the system (an actor label such as ``"system:demo"``), for commands."""
    return has_role(user, MANAGE_ROLE, licence.department_id)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give a reason."), {"reason": _("The holder is told why.")})
    if len(reason) > MAX_REASON or "\x00" in reason:
        raise InvalidInput(_("The reason is too long."), {"reason": _("Use at most 500 characters.")})
    return reason


def _change(*, licence: Licence, actor, to: str, reason: str, verb: str) -> Licence:
    if not isinstance(actor, str) and not may_manage(actor, licence):
        raise PermissionDenied("approver of the issuing department required")
    reason = _reason(reason)
    licence = Licence.objects.select_for_update().select_related("department", "type").get(pk=licence.pk)
    if (licence.state, to) not in TRANSITIONS:
        refusals = {
            Licence.State.SUSPENDED: _("Only a valid licence can be suspended."),
            Licence.State.VALID: _("Only a suspended licence can be reinstated."),
            Licence.State.REVOKED: _("This licence is revoked already."),
        }
        raise WrongState(refusals[to])
    before = licence.state
    licence.state, licence.state_reason, licence.state_changed_at = to, reason, timezone.now()
    licence.save(update_fields=["state", "state_reason", "state_changed_at"])
    _set_status(licence, STATUS_VALUE[to])
    audit.record(
        actor=actor,
        event=f"licences:licence:{verb}",
        target=licence,
        subject=_holder_user(licence.holder_person) if licence.holder_person_id else None,
        data={"number": licence.number, "from": before, "to": to, "reason": reason},
    )
    return licence


@transaction.atomic
def licence_suspend(*, licence: Licence, actor, reason: str) -> Licence:
    """Suspend a valid licence (暂停): verifiers see "suspended" until it is reinstated."""
    return _change(licence=licence, actor=actor, to=Licence.State.SUSPENDED, reason=reason, verb="suspend")


@transaction.atomic
def licence_reinstate(*, licence: Licence, actor, reason: str) -> Licence:
    """Lift a suspension: the licence verifies as valid again (unless it expired meanwhile)."""
    return _change(licence=licence, actor=actor, to=Licence.State.VALID, reason=reason, verb="reinstate")


@transaction.atomic
def licence_revoke(*, licence: Licence, actor, reason: str) -> Licence:
    """Revoke a licence (吊销/注销) for good: verifiers see "revoked"; it cannot be reinstated."""
    return _change(licence=licence, actor=actor, to=Licence.State.REVOKED, reason=reason, verb="revoke")


@transaction.atomic
def licence_renew(*, licence: Licence, actor, reason: str = "") -> Licence:
    """Renew (延续/换发): a new licence with the same claims, a new number and validity from now,
    bound to the holder's current wallet key; the old one is revoked as replaced."""
    if not isinstance(actor, str) and not may_manage(actor, licence):
        raise PermissionDenied("approver of the issuing department required")
    old = Licence.objects.select_for_update().select_related("type", "department").get(pk=licence.pk)
    if old.state == Licence.State.REVOKED:
        raise WrongState(_("A revoked licence cannot be renewed."))
    holder = old.holder_person or old.holder_enterprise
    claims = licence_claims(old)
    claims.pop("licence_number", None)
    new = _issue(
        licence_type=old.type,
        holder=holder,
        department=old.department,
        claims=claims,
        actor=actor,
        replaces=old,
        reason=(reason or "").strip()[:MAX_REASON],
    )
    old.state, old.state_changed_at = Licence.State.REVOKED, timezone.now()
    old.state_reason = (_("Replaced by %(number)s") % {"number": new.number})[:MAX_REASON]
    old.save(update_fields=["state", "state_reason", "state_changed_at"])
    _set_status(old, status.INVALID)
    audit.record(
        actor=actor,
        event="licences:licence:renew",
        target=old,
        subject=_holder_user(holder),
        data={"number": old.number, "renewed_as": new.number},
    )
    return new


# --- reading the stored credential, presenting it ---------------------------------------------


def licence_claims(licence: Licence) -> dict:
    """The licence's claims, decrypted. Callers have checked the reader may see them."""
    return json.loads(vault.unseal(licence.claims_ciphertext, CLAIMS_PURPOSE))


def licence_credential(licence: Licence) -> str:
    """The issued SD-JWT (every disclosure, no key binding), decrypted: the holder's copy."""
    return vault.unseal(licence.credential_ciphertext, CREDENTIAL_PURPOSE)


def key_binding_jwt(
    *, presentation: str, holder_key: Ed25519PrivateKey, aud: str, nonce: str, iat: int
) -> str:
    """A key-binding JWT (``kb+jwt``, EdDSA) over ``presentation`` (ending in ``~``), as a wallet
    signs it with the holder's private key. Here for tests, the demo and server-side wallets."""
    header = {"alg": "EdDSA", "typ": "kb+jwt"}
    payload = {"iat": iat, "aud": aud, "nonce": nonce, "sd_hash": jose.sd_hash(presentation)}
    return jose.sign_compact(header, payload, holder_key)


def licence_present(
    *,
    licence: Licence,
    disclose: Iterable[str],
    actor,
    aud: str | None = None,
    nonce: str | None = None,
    holder_key: Ed25519PrivateKey | None = None,
) -> str:
    """A presentation (亮证) of the licence revealing only the claims named in ``disclose``
    (claims that are not selectively disclosable are always visible). With ``holder_key``,
    ``aud`` and ``nonce`` it ends in a key-binding JWT; without, it ends in ``~``. Audited as
    ``licences:licence:present`` with the names disclosed (never the values). Callers check the
    actor holds the licence (``permissions.get_licence_for_user``)."""
    names = list(dict.fromkeys(disclose))
    specs = {c["name"]: c for c in licence.type.claims}
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise InvalidInput(
            _("This licence has no such field."), {n[:40]: _("Unknown field.") for n in unknown}
        )
    holder = SDJWTHolder(licence_credential(licence))
    holder.create_presentation({n: True for n in names})
    text = holder.sd_jwt_presentation
    if holder_key is not None:
        if not (aud and nonce):
            raise InvalidInput(_("Key binding needs the verifier's audience and nonce."))
        text += key_binding_jwt(
            presentation=text,
            holder_key=holder_key,
            aud=aud,
            nonce=nonce,
            iat=int(timezone.now().timestamp()),
        )
    with transaction.atomic():
        audit.record(
            actor=actor,
            event="licences:licence:present",
            target=licence,
            data={
                "disclosed": [n for n in names if specs[n].get("sd")],
                "key_binding": holder_key is not None,
            },
        )
    return text


# --- trusted issuers (other deployments) -------------------------------------------------------


def _check_jwks(jwks) -> dict:
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise InvalidInput(_("The issuer's metadata has no keys."), {"issuer": _("No JWKS.")})
    keys = []
    for jwk in jwks["keys"]:
        try:
            jose.public_key_from_jwk(jwk)
        except jose.JoseError:
            continue  # keys of other kinds are not used (only EdDSA licences are accepted)
        if "d" in jwk:
            raise InvalidInput(_("The issuer's metadata holds a private key; refusing it."))
        keys.append({**jose.public_jwk(jwk["x"], jwk.get("kid") or jose.thumbprint(jwk["x"]))})
    if not keys:
        raise InvalidInput(_("The issuer publishes no Ed25519 key."), {"issuer": _("No usable key.")})
    return {"keys": keys}


def _fetch_json(url: str, fetch) -> dict:
    try:
        data = json.loads(fetch(url))
    except (OSError, ValueError) as exc:
        raise InvalidInput(_("Could not read %(url)s.") % {"url": url}, {"issuer": str(exc)[:200]}) from exc
    if not isinstance(data, dict):
        raise InvalidInput(_("Could not read %(url)s.") % {"url": url})
    return data


def issuer_metadata_fetch(issuer: str, fetch, *, pinned: Mapping | None = None) -> dict:
    """Another deployment's issuer metadata with its keys (inline ``jwks`` or ``jwks_uri``),
    checked: the metadata must name the same issuer, and every key must be in the issuer's public
    audit log (``_check_keys_in_log``). Returns ``{"keys": [...], "audit_log": {...}}``, the
    second the tree head the keys were checked against (``pinned``: the one checked last time)."""
    metadata = _fetch_json(metadata_url(issuer), fetch)
    if metadata.get("issuer") != issuer:
        raise InvalidInput(_("The metadata is for another issuer."), {"issuer": _("Issuer mismatch.")})
    jwks = metadata.get("jwks")
    if jwks is None and isinstance(metadata.get("jwks_uri"), str):
        jwks = _fetch_json(metadata["jwks_uri"], fetch)
    jwks = _check_jwks(jwks)
    return {**jwks, "audit_log": _check_keys_in_log(issuer, metadata, jwks, fetch, pinned)}


def _b64std(text, what: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(
            _("The issuer's audit log answered something unreadable (%(what)s).") % {"what": what}
        ) from exc


def _log_refusal(message: str) -> InvalidInput:
    return InvalidInput(message, {"issuer": _("The keys are not backed by the issuer's audit log.")})


def _check_keys_in_log(issuer: str, metadata: Mapping, jwks: Mapping, fetch, pinned) -> dict:  # noqa: C901, PLR0912
    """A key cannot be swapped silently: each key of the issuer must have its creation (or
    rotation) entry in the issuer's public audit log, naming that thumbprint, included in a tree
    head signed by the log's key. The log's key must be the one seen before (``pinned``), and the
    tree must have grown append-only since then (a consistency proof)."""
    log = metadata.get("audit_log")
    origin = issuer.split("/licences/")[0] + "/"
    if (
        not isinstance(log, Mapping)
        or not isinstance(log.get("url"), str)
        or not isinstance(log.get("keys"), Mapping)
    ):
        raise _log_refusal(
            _("The issuer does not say where its keys are in its audit log; its keys cannot be checked.")
        )
    base = log["url"].rstrip("/")
    if not base.startswith(origin):
        raise _log_refusal(_("The issuer's audit log is on another site."))
    public = _fetch_json(f"{base}/public-key", fetch)
    raw = _b64std(public.get("public_key"), "public-key")
    key_id = str(public.get("key_id") or "")
    if len(raw) != 32 or key_id != signing.key_id_for(Ed25519PublicKey.from_public_bytes(raw)):
        raise _log_refusal(_("The issuer's audit log key is not an Ed25519 key."))
    if pinned and pinned.get("key_id") and pinned["key_id"] != key_id:
        raise _log_refusal(_("The issuer's audit log is signed by another key than before; refusing it."))
    head = _fetch_json(f"{base}/sth", fetch)
    size, timestamp = head.get("tree_size"), head.get("timestamp")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1 or not isinstance(timestamp, int):
        raise _log_refusal(_("The issuer's audit log has no signed tree head."))
    root = _b64std(head.get("root_hash"), "sth")
    if len(root) != merkle.HASH_SIZE or timestamp < 0:
        raise _log_refusal(_("The issuer's audit log has no signed tree head."))
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(
            _b64std(head.get("signature"), "sth"),
            signing.tree_head_bytes(timestamp=timestamp, tree_size=size, root_hash=root),
        )
    except InvalidSignature as exc:
        raise _log_refusal(_("The issuer's audit log tree head is not signed by its key.")) from exc
    if pinned and isinstance(pinned.get("tree_size"), int) and pinned["tree_size"] > 0:
        old_size, old_root = pinned["tree_size"], _b64std(pinned.get("root_hash"), "pinned")
        if size < old_size:
            raise _log_refusal(_("The issuer's audit log is shorter than before: it was rewritten."))
        proof = _fetch_json(f"{base}/proof/consistency?first={old_size}&second={size}", fetch)
        path = [_b64std(h, "consistency") for h in proof.get("consistency") or []]
        if not merkle.verify_consistency(old_size, size, old_root, root, path):
            raise _log_refusal(
                _("The issuer's audit log is not an extension of the one seen before: it was rewritten.")
            )
    for jwk in jwks["keys"]:
        kid = jwk["kid"]
        index = log["keys"].get(kid)
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < size:
            raise _log_refusal(
                _("Key %(kid)s is not in the issuer's audit log: it may have been swapped in; refusing it.")
                % {"kid": kid[:64]}
            )
        entries = _fetch_json(f"{base}/entries?start={index}&end={index}", fetch).get("entries")
        first = entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], dict) else {}
        leaf_input = _b64std(first.get("leaf_input", ""), "entries")
        try:
            published = json.loads(leaf_input)
        except ValueError:
            published = {}
        names_key = (
            isinstance(published, dict)
            and published.get("event") in KEY_EVENTS
            and published.get("object") == {"type": KEY_TARGET_TYPE, "id": kid}
        )
        proof = _fetch_json(f"{base}/proof/inclusion?leaf_index={index}&tree_size={size}", fetch)
        path = [_b64std(h, "inclusion") for h in proof.get("audit_path") or []]
        if not names_key or not merkle.verify_inclusion(
            index, size, merkle.leaf_hash(leaf_input), path, root
        ):
            raise _log_refusal(
                _("Key %(kid)s does not match its entry in the issuer's audit log (swapped?); refusing it.")
                % {"kid": kid[:64]}
            )
    return {"url": base, "key_id": key_id, "tree_size": size, "root_hash": head["root_hash"]}


@transaction.atomic
def trusted_issuer_add(*, issuer: str, name: str, actor, fetch) -> TrustedIssuer:
    """Trust another deployment's issuer (跨域互认): fetch its metadata and keys once, check every
    key against the issuer's public audit log (``_check_keys_in_log``; adding an issuer again checks
    its log against the tree head kept before), store them, and record every key's thumbprint in
    this deployment's audit log. Platform administrators only.
    ``fetch(url) -> bytes`` is the HTTP client (``yiwang.licences.fetch.http_get``)."""
    if not isinstance(actor, str) and not getattr(actor, "is_superuser", False):
        raise PermissionDenied("platform administrator required")
    issuer = (issuer or "").strip().rstrip("/")
    if not issuer.startswith(("https://", "http://")) or len(issuer) > 300:
        raise InvalidInput(_("Enter the issuer's URL."), {"issuer": _("An https URL.")})
    if issuer.startswith(public_url() + "/"):
        raise InvalidInput(
            _("This deployment's own issuers are trusted already."), {"issuer": _("Own issuer.")}
        )
    known = TrustedIssuer.objects.filter(issuer=issuer).first()
    jwks = issuer_metadata_fetch(issuer, fetch, pinned=(known.jwks or {}).get("audit_log") if known else None)
    trusted, _created = TrustedIssuer.objects.update_or_create(
        issuer=issuer,
        defaults={
            "name": (name or issuer)[:200],
            "jwks": jwks,
            "fetched_at": timezone.now(),
            "is_active": True,
            "added_by": actor if not isinstance(actor, str) else None,
        },
    )
    audit.record(
        actor=actor,
        event="licences:trusted_issuer:add",
        target=trusted,
        data={"issuer": issuer, "thumbprints": [k["kid"] for k in jwks["keys"]]},
    )
    return trusted


@transaction.atomic
def trusted_issuer_refresh(
    *, trusted: TrustedIssuer, actor, fetch, status_uris: Iterable[str] = ()
) -> TrustedIssuer:
    """Fetch a trusted issuer's keys again and the status lists named (or those cached already).
    A key that changed is logged with its thumbprint, like the first ones."""
    trusted = TrustedIssuer.objects.select_for_update().get(pk=trusted.pk)
    jwks = issuer_metadata_fetch(trusted.issuer, fetch, pinned=(trusted.jwks or {}).get("audit_log"))
    lists, fetched = dict(trusted.status_lists or {}), dict(trusted.status_fetched or {})
    for uri in {*lists, *status_uris}:
        if not _serves_list(trusted, uri):
            continue  # only lists the issuer's own origin serves
        try:
            lists[uri] = fetch(uri).decode("ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue  # keep the old copy; its ttl and exp decide whether it is still used
        fetched[uri] = int(timezone.now().timestamp())
    before = {k["kid"] for k in (trusted.jwks or {}).get("keys", [])}
    trusted.jwks, trusted.status_lists, trusted.fetched_at = jwks, lists, timezone.now()
    trusted.status_fetched = fetched
    trusted.save(update_fields=["jwks", "status_lists", "status_fetched", "fetched_at"])
    after = {k["kid"] for k in jwks["keys"]}
    audit.record(
        actor=actor,
        event="licences:trusted_issuer:refresh",
        target=trusted,
        data={"added": sorted(after - before), "removed": sorted(before - after), "lists": len(lists)},
    )
    return trusted


def _serves_list(trusted: TrustedIssuer, uri: str) -> bool:
    return isinstance(uri, str) and uri.startswith(trusted.issuer.split("/licences/")[0] + "/")


def trusted_issuer_status_fetch(*, trusted: TrustedIssuer, uri: str, fetch) -> str | None:
    """Fetch one status list of a trusted issuer again (its cached copy is past its ``ttl`` or
    missing) and keep it; returns the token, or None when it cannot be fetched (the caller then
    answers "status unknown"). The online verifier calls this; reading another deployment's public
    list changes nothing accountable here, so it is not audited (refreshing keys is)."""
    if not _serves_list(trusted, uri):
        return None
    try:
        token = fetch(uri).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    with transaction.atomic():
        locked = TrustedIssuer.objects.select_for_update().get(pk=trusted.pk)
        locked.status_lists = {**(locked.status_lists or {}), uri: token}
        locked.status_fetched = {**(locked.status_fetched or {}), uri: int(timezone.now().timestamp())}
        locked.save(update_fields=["status_lists", "status_fetched"])
    trusted.status_lists, trusted.status_fetched = locked.status_lists, locked.status_fetched
    return token
