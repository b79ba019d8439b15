"""Reads of the licences app, for its pages and for other apps (the wallet, 免证办).

``DatabaseTrust`` is the trust store the web verifier uses: this deployment's departments with
every key they ever had, and the administrators' ``TrustedIssuer`` list with its cached keys and
status lists. Nothing here fetches from the network, except a trusted issuer's status list past its
ttl when the caller gives ``DatabaseTrust`` a ``fetch`` client (the online verifier does).
"""

from __future__ import annotations

import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db.models import Q, QuerySet

from yiwang.identity.models import Department, Enterprise, Person
from yiwang.identity.permissions import agencies_of
from yiwang.licences import jose, services, status
from yiwang.licences.models import IssuerKey, Licence, LicenceType, StatusList, TrustedIssuer
from yiwang.licences.verify import StaticTrust

ISSUER_PATH = "/licences/issuers/"
STATUS_PATH = "/licences/status/"


def licence_types() -> QuerySet[LicenceType]:
    return LicenceType.objects.filter(is_active=True).order_by("code")


def licence_type_by_code(code: str) -> LicenceType | None:
    return LicenceType.objects.filter(code=code).first()


def licence_by_number(number: str) -> Licence | None:
    return Licence.objects.select_related("type", "department").filter(number=number).first()


def licences_of_person(person: Person) -> QuerySet[Licence]:
    """Licences held by the person themself (not their enterprises'), newest first."""
    return Licence.objects.filter(holder_person=person).select_related("type", "department")


def licences_of_enterprise(enterprise: Enterprise) -> QuerySet[Licence]:
    return Licence.objects.filter(holder_enterprise=enterprise).select_related("type", "department")


def licences_for_user(user) -> QuerySet[Licence]:
    """Every licence the user may hold up in a wallet: their own, and those of the enterprises
    they act for (legal representative or an agent with a current delegation)."""
    enterprise_ids = [a.enterprise_id for a in agencies_of(user)]
    return (
        Licence.objects.filter(Q(holder_person__user=user) | Q(holder_enterprise_id__in=enterprise_ids))
        .select_related("type", "department")
        .order_by("-issued_at", "-pk")
    )


def department_licences(department_ids) -> QuerySet[Licence]:
    """Licences issued by the departments (ids; None for all), newest first."""
    qs = Licence.objects.select_related("type", "department", "holder_person", "holder_enterprise")
    return qs if department_ids is None else qs.filter(department_id__in=department_ids)


def licence_for_case(case_id: int) -> list[Licence]:
    return list(Licence.objects.filter(case_id=case_id).select_related("type"))


def licence_types_replacing(material_licence_type: str) -> list[LicenceType]:
    """The licence types that stand in for a catalog material whose ``licence_type`` is this
    name (免证办): those listing it in ``material_names``, or named so."""
    name = (material_licence_type or "").strip()
    if not name:
        return []
    return [lt for lt in licence_types() if name in (lt.material_names or []) or name == lt.name_zh]


def own_department_code(iss: str) -> str | None:
    """The department code of one of this deployment's issuer URLs, else None."""
    base = settings.LICENCES_PUBLIC_URL
    prefix = f"{base}{ISSUER_PATH}"
    if not base or not iss.startswith(prefix):
        return None
    code = iss[len(prefix) :]
    return code if code and "/" not in code else None


def status_list_for_url(uri: str) -> StatusList | None:
    base = settings.LICENCES_PUBLIC_URL
    prefix = f"{base}{STATUS_PATH}"
    if not base or not uri.startswith(prefix):
        return None
    code, _sep, number = uri[len(prefix) :].partition("/")
    if not number.isdigit() or len(number) > 9:
        return None
    return StatusList.objects.filter(department__code=code, number=int(number)).first()


def _status_bits(uri: str, code: str) -> bytes | None:
    """The bits of one of this deployment's status lists, if ``uri`` is one of ``code``'s."""
    base = settings.LICENCES_PUBLIC_URL
    prefix = f"{base}{STATUS_PATH}{code}/"
    number = uri[len(prefix) :] if base and uri.startswith(prefix) else ""
    if not number.isdigit() or len(number) > 9:
        return None
    found = StatusList.objects.filter(department__code=code, number=int(number))
    bits = found.values_list("bits", flat=True).first()
    return bytes(bits) if bits is not None else None


# Issuer keys are never deleted nor changed (rotation retires a key, it still verifies), so a key
# found once is kept for the process; keys not found are looked up again next time.
_OWN_KEYS: dict[tuple[str, str], Ed25519PublicKey] = {}
_OWN_NAMES: dict[str, str] = {}


class DatabaseTrust:
    """The web verifier's trust store (see the module docstring). One query per verification on
    the warm path: the status list's bits (issuer keys and names are kept once found).

    A trusted issuer's status list is used only within its ``ttl`` of being fetched: past it (or
    when none was fetched yet) it is fetched again with ``fetch`` (the online verifier passes the
    HTTP client), and without ``fetch``, or when the fetch fails, the status is unknown — a stale
    copy never makes a revoked licence look valid."""

    def __init__(self, *, fetch=None):
        self._trusted: dict[str, TrustedIssuer | None] = {}
        self._static: dict[str, StaticTrust] = {}
        self._fetch = fetch

    def _trusted_issuer(self, iss: str) -> TrustedIssuer | None:
        if iss not in self._trusted:
            self._trusted[iss] = TrustedIssuer.objects.filter(issuer=iss, is_active=True).first()
        return self._trusted[iss]

    def _static_for(self, trusted: TrustedIssuer) -> StaticTrust:
        if trusted.issuer not in self._static:
            self._static[trusted.issuer] = StaticTrust(
                {trusted.issuer: {"name": trusted.name, "jwks": trusted.jwks}}, trusted.status_lists or {}
            )
        return self._static[trusted.issuer]

    def issuer_name(self, iss: str) -> str | None:
        code = own_department_code(iss)
        if code is not None:
            if code not in _OWN_NAMES:
                name = Department.objects.filter(code=code).values_list("name", flat=True).first()
                if name is None:
                    return None
                _OWN_NAMES[code] = name
            return _OWN_NAMES[code]
        trusted = self._trusted_issuer(iss)
        return trusted.name if trusted else None

    def issuer_key(self, iss: str, kid: str) -> Ed25519PublicKey | None:
        code = own_department_code(iss)
        if code is not None:
            if (code, kid) not in _OWN_KEYS:
                key = IssuerKey.objects.filter(kid=kid, department__code=code).first()
                if key is None:
                    return None
                _OWN_KEYS[(code, kid)] = jose.public_key_from_jwk(key.public_jwk)
            return _OWN_KEYS[(code, kid)]
        trusted = self._trusted_issuer(iss)
        return self._static_for(trusted).issuer_key(iss, kid) if trusted else None

    def status_of(self, uri: str, idx: int, iss: str) -> int | None:
        code = own_department_code(iss)
        if code is not None:
            bits = _status_bits(uri, code)
            if bits is None:
                return None
            try:
                return status.get(bits, idx)
            except IndexError:
                return None
        trusted = self._trusted_issuer(iss)
        if trusted is None:
            return None
        if not self._fresh(trusted, uri):
            if self._fetch is None:
                return None
            if services.trusted_issuer_status_fetch(trusted=trusted, uri=uri, fetch=self._fetch) is None:
                return None
            self._static.pop(trusted.issuer, None)
        return self._static_for(trusted).status_of(uri, idx, iss)

    @staticmethod
    def _fresh(trusted: TrustedIssuer, uri: str) -> bool:
        token = (trusted.status_lists or {}).get(uri)
        fetched = (trusted.status_fetched or {}).get(uri)
        if not token or not isinstance(fetched, int | float):
            return False
        return time.time() < fetched + status.token_ttl(token)


def enterprise_codes_licensed_for_items(item_codes) -> set[str]:
    """Credit codes of the enterprises holding a licence in force (valid, not past its end) of a
    type issued on approval of one of the catalog items ``item_codes`` (监管与服务关联: who falls in a
    supervision item's post-approval scope)."""
    from django.utils import timezone

    wanted = set(item_codes)
    if not wanted:
        return set()
    types = [t.pk for t in LicenceType.objects.only("pk", "item_codes") if wanted & set(t.item_codes or [])]
    now = timezone.now()
    return set(
        Licence.objects.filter(type_id__in=types, state=Licence.State.VALID, holder_enterprise__isnull=False)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .values_list("holder_enterprise__credit_code", flat=True)
    )


def enterprise_licence_problems(credit_codes) -> dict[str, tuple[list[str], list[str]]]:
    """For credit scoring (yiwang.supervision.credit): credit code → (numbers of its revoked
    licences, numbers of its licences past their end and not revoked) for the enterprises
    ``credit_codes`` that have any. One query."""
    from django.utils import timezone

    codes = list(credit_codes)
    out: dict[str, tuple[list[str], list[str]]] = {}
    if not codes:
        return out
    now = timezone.now()
    rows = (
        Licence.objects.filter(holder_enterprise__credit_code__in=codes)
        .filter(Q(state=Licence.State.REVOKED) | Q(state=Licence.State.VALID, valid_until__lte=now))
        .values_list("holder_enterprise__credit_code", "number", "state")
    )
    for code, number, state in rows:
        revoked, expired = out.setdefault(code, ([], []))
        (revoked if state == Licence.State.REVOKED else expired).append(number)
    return out
