"""The API keys a department's systems call the gateway with (``ApiCredential``).

A key is ``yw_`` + 10 characters of public prefix + ``_`` + 43 characters of secret (256 random
bits, URL-safe base64). It is shown once, when it is created; the platform keeps only the prefix
(to find the credential) and the SHA-256 digest of the whole key (a digest is enough: the secret
is random, nothing to guess by brute force). A key may expire, and its department's stewards
revoke it; an expired or revoked key is refused with a message saying which.

Who manages: the data stewards of the department (or of a department above it). Every creation
and revocation is in the audit log in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.exchange.errors import ExchangeError, InvalidInput, NotAllowed, WrongState
from yiwang.exchange.models import ApiCredential, InformationSystem
from yiwang.identity.models import Department, Role
from yiwang.identity.permissions import has_role

KEY_PREFIX = "yw_"
_PREFIX_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
_PREFIX_LEN = 10
_KEY_PATTERN = re.compile(r"^yw_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$")
MANAGE_ROLE = Role.DATA_STEWARD
MAX_VALID_DAYS = 3 * 366  # a key lives at most about three years; rotate before
# last_used_at is written at most this often per key (not on every call: it is one more write)
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class CredentialRefused(ExchangeError):  # noqa: N818 — named for what happened
    """No key, an unknown key, or a key that expired or was revoked (HTTP 401). ``credential``:
    the credential when the key was genuine (expired or revoked), so the refusal can be logged
    against its department."""

    status = 401

    def __init__(self, message: str, credential: ApiCredential | None = None):
        super().__init__(message)
        self.credential = credential


@dataclass(frozen=True)
class NewKey:
    """A created credential and its key, which is shown this once and never again."""

    credential: ApiCredential
    key: str


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def may_manage(user, department: Department) -> bool:
    """Whether ``user`` manages the API keys of ``department`` (its stewards, or those above it)."""
    return has_role(user, MANAGE_ROLE, department)


def _new_key() -> tuple[str, str]:
    prefix = KEY_PREFIX + "".join(secrets.choice(_PREFIX_CHARS) for _ in range(_PREFIX_LEN))
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


@transaction.atomic
def credential_create(
    *,
    department: Department,
    name: str,
    actor,
    expires_at: dt.datetime | None = None,
    system: InformationSystem | None = None,
) -> NewKey:
    """Create an API key for ``department`` (``actor`` must manage its keys). ``expires_at``:
    when it stops working (default and at most ``MAX_VALID_DAYS`` from now). Audited
    (``exchange:credential:create``, with the prefix, never the key)."""
    if not may_manage(actor, department):
        raise NotAllowed(
            _("Only the data stewards of %(dept)s manage its API keys.") % {"dept": department.name}
        )
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("Give the key a name, e.g. the system that will use it.")
    elif len(name) > 128:
        errors["name"] = _("Use at most 128 characters.")
    now = timezone.now()
    latest = now + dt.timedelta(days=MAX_VALID_DAYS)
    if expires_at is None:
        expires_at = latest
    elif expires_at <= now:
        errors["expires_at"] = _("The expiry must be in the future.")
    elif expires_at > latest:
        errors["expires_at"] = _("A key is valid for at most %(days)d days.") % {"days": MAX_VALID_DAYS}
    if system is not None and system.department_id != department.pk:
        errors["system"] = _("The information system must be one of %(dept)s.") % {"dept": department.name}
    if errors:
        raise InvalidInput(next(iter(errors.values())), errors)
    prefix, key = _new_key()
    credential = ApiCredential.objects.create(
        department=department,
        system=system,
        name=name,
        prefix=prefix,
        key_hash=digest(key),
        created_by=actor,
        expires_at=expires_at,
    )
    audit.record(
        actor=actor,
        event="exchange:credential:create",
        target=credential,
        data={
            "department": department.code,
            "prefix": prefix,
            "name": name,
            "expires_at": expires_at.isoformat(),
        },
    )
    return NewKey(credential=credential, key=key)


@transaction.atomic
def credential_revoke(*, credential: ApiCredential, actor, reason: str = "") -> ApiCredential:
    """Revoke a key at once (``actor`` must manage its department's keys); a second revoke is
    refused (409). Audited (``exchange:credential:revoke``)."""
    credential = ApiCredential.objects.select_for_update().select_related("department").get(pk=credential.pk)
    if not may_manage(actor, credential.department):
        raise NotAllowed(
            _("Only the data stewards of %(dept)s manage its API keys.")
            % {"dept": credential.department.name}
        )
    if credential.revoked_at is not None:
        raise WrongState(_("This key was revoked already."))
    credential.revoked_at = timezone.now()
    credential.save(update_fields=["revoked_at"])
    audit.record(
        actor=actor,
        event="exchange:credential:revoke",
        target=credential,
        data={"department": credential.department.code, "prefix": credential.prefix, "reason": reason[:500]},
    )
    return credential


def parse_authorization(authorization: str | None, api_key: str | None) -> str | None:
    """The key a request carries: ``Authorization: Bearer yw_…`` or ``X-API-Key: yw_…``."""
    if api_key and api_key.strip():
        return api_key.strip()
    scheme, _sep, value = (authorization or "").strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def authenticate(key: str | None, *, at: dt.datetime | None = None) -> ApiCredential:
    """The credential of a key in force; raises ``CredentialRefused`` (401) naming why not: no
    key, not a key of this platform, unknown, revoked, expired."""
    if not key:
        raise CredentialRefused(
            _("Send your department's API key: “Authorization: Bearer yw_…” or “X-API-Key: yw_…”.")
        )
    match = _KEY_PATTERN.match(key)
    if match is None:
        raise CredentialRefused(_("This is not an API key of this platform (they start with “yw_”)."))
    prefix = KEY_PREFIX + match.group(1)
    credential = ApiCredential.objects.select_related("department").filter(prefix=prefix).first()
    if credential is None or not hmac.compare_digest(credential.key_hash, digest(key)):
        raise CredentialRefused(_("This API key is not known: check it, or create a new one."))
    at = at or timezone.now()
    if credential.revoked_at is not None:
        raise CredentialRefused(
            _("This API key was revoked on %(when)s: ask your data steward for a new one.")
            % {"when": timezone.localtime(credential.revoked_at).strftime("%Y-%m-%d %H:%M")},
            credential,
        )
    if credential.expires_at is not None and credential.expires_at <= at:
        raise CredentialRefused(
            _("This API key expired on %(when)s: ask your data steward for a new one.")
            % {"when": timezone.localtime(credential.expires_at).strftime("%Y-%m-%d %H:%M")},
            credential,
        )
    if credential.last_used_at is None or at - credential.last_used_at >= LAST_USED_RESOLUTION:
        ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=at)
        credential.last_used_at = at
    return credential
