"""The public JSON API of licences (mounted at /api/licences/): verify a licence or a
presentation, and read the licence types (claim labels in both languages)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.security import django_auth

from yiwang.core.api import ApiError
from yiwang.licences import fetch, presentations, selectors, services, verify
from yiwang.licences.models import HolderKey
from yiwang.licences.verify import MAX_INPUT, Verdict
from yiwang.licences.views import claim_rows

router = Router(tags=["licences"])


class VerifyIn(Schema):
    credential: str = Field(..., max_length=MAX_INPUT, description="The SD-JWT VC or presentation text")
    expected_aud: str | None = Field(
        None, max_length=500, description="The audience the holder must have signed for"
    )
    expected_nonce: str | None = Field(
        None, max_length=500, description="The nonce the holder must have signed"
    )
    require_key_binding: bool = False


class ClaimOut(Schema):
    name: str
    label: str
    value: Any


class VerifyOut(Schema):
    verdict: str = Field(
        ...,
        description="valid, expired, not_yet_valid, suspended, revoked, untrusted_issuer, "
        "tampered, key_binding_failed or status_unknown",
    )
    valid: bool
    title: str
    message: str
    issuer: str
    issuer_name: str
    vct: str
    claims: list[ClaimOut]
    holder_bound: bool
    key_binding: bool
    exp: int | None
    nbf: int | None
    iat: int | None


class ClaimSpecOut(Schema):
    name: str
    zh: str
    en: str
    selectively_disclosable: bool
    personal: bool


class LicenceTypeOut(Schema):
    code: str
    vct: str
    name_zh: str
    name_en: str
    holder_kind: str
    validity_years: int | None
    claims: list[ClaimSpecOut]


@router.post(
    "/verify",
    response={200: VerifyOut},
    summary="Verify a licence or a presentation",
    description="Answers 200 with the verdict for anything that parses as an SD-JWT VC (a revoked or "
    "tampered licence is a verdict, not an error) and 400 with the error shape for text that is not one.",
)
def post_verify(request, payload: VerifyIn):
    if presentations.looks_like_link(payload.credential):  # the text of a 亮证 QR code
        result = presentations.verify_text(
            payload.credential, selectors.DatabaseTrust(fetch=fetch.http_get), actor=request.user
        )
    else:
        result = verify.verify(
            payload.credential,
            selectors.DatabaseTrust(fetch=fetch.http_get),
            expected_aud=payload.expected_aud,
            expected_nonce=payload.expected_nonce,
            require_key_binding=payload.require_key_binding,
        )
    if result.verdict == Verdict.MALFORMED:
        raise ApiError(400, _("This is not a licence."), [{"field": "credential", "message": result.message}])
    return {
        "verdict": result.verdict,
        "valid": result.ok,
        "title": result.title,
        "message": result.message,
        "issuer": result.issuer,
        "issuer_name": result.issuer_name,
        "vct": result.vct,
        "claims": claim_rows(result.vct, result.claims),
        "holder_bound": result.holder_bound,
        "key_binding": result.key_binding,
        "exp": result.exp,
        "nbf": result.nbf,
        "iat": result.iat,
    }


@router.get("/types", response=list[LicenceTypeOut], summary="Licence types and their claims")
def get_types(request):
    return [
        {
            "code": lt.code,
            "vct": lt.vct,
            "name_zh": lt.name_zh,
            "name_en": lt.name_en,
            "holder_kind": lt.holder_kind,
            "validity_years": lt.validity_years,
            "claims": [
                {
                    "name": c["name"],
                    "zh": c["zh"],
                    "en": c["en"],
                    "selectively_disclosable": bool(c.get("sd")),
                    "personal": bool(c.get("personal")),
                }
                for c in lt.claims
            ],
        }
        for lt in selectors.licence_types()
    ]


class HolderKeyIn(Schema):
    jwk: dict = Field(
        ..., description='The wallet\'s public key: {"kty": "OKP", "crv": "Ed25519", "x": "..."}'
    )
    label: str = Field("", max_length=100, description="The device, as the holder names it")


class HolderKeyOut(Schema):
    thumbprint: str | None
    jwk: dict | None
    label: str
    registered: str | None


def _holder_key_out(key: HolderKey | None) -> dict:
    if key is None:
        return {"thumbprint": None, "jwk": None, "label": "", "registered": None}
    return {
        "thumbprint": key.thumbprint,
        "jwk": key.jwk,
        "label": key.label,
        "registered": key.created_at.isoformat(),
    }


@router.get(
    "/holder-key", response=HolderKeyOut, auth=django_auth, summary="The wallet key licences are bound to"
)
def get_holder_key(request):
    return _holder_key_out(HolderKey.objects.filter(user=request.user, revoked_at__isnull=True).first())


@router.post(
    "/holder-key",
    response={201: HolderKeyOut},
    auth=django_auth,
    summary="Register the wallet's public key",
    description="Licences issued from now on carry it as `cnf`, so presenting them needs a key-binding JWT "
    "signed by the wallet. Replaces the account's previous key.",
)
def post_holder_key(request, payload: HolderKeyIn):
    try:
        key = services.holder_key_register(
            user=request.user, jwk=payload.jwk, label=payload.label, actor=request.user
        )
    except services.LicenceError as exc:
        errors = [
            {"field": f"jwk.{k}" if k != "jwk" else "jwk", "message": str(v)} for k, v in exc.errors.items()
        ]
        raise ApiError(exc.status, exc.message, errors) from exc
    return Status(201, _holder_key_out(key))
