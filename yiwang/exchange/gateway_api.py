"""The gateway's JSON API (mounted at /api/exchange/): a department's system queries a resource
it holds a grant for, with its API key.

``GET  /api/exchange/resources/{code}/query?purpose=…&fields=a,b&filters={"a": "x"}&sort=-b&limit=&offset=``
``POST /api/exchange/resources/{code}/query`` with the same as JSON (``fields`` and ``sort`` lists)

The key goes in ``Authorization: Bearer yw_…`` or ``X-API-Key: yw_…`` (no session, no CSRF).
Every refusal is in the platform's one error shape (``Error``): 401 no key, an unknown, expired
or revoked key; 403 no grant in force (the message says which: none, another department's,
revoked, expired …) or fields outside the grant; 404 an unknown resource; 400 a filter, sort or
page that cannot run; 422 values that are not valid (the purpose is required); 429 over the
grant's rate limit, with ``Retry-After``; 502 the upstream system failed; 504 it timed out.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.security import APIKeyHeader, HttpBearer

from yiwang.exchange import credentials, gateway, rowquery
from yiwang.exchange.errors import ExchangeError, RateLimited
from yiwang.exchange.models import ApiCredential, CallOutcome, Channel

router = Router(tags=["exchange gateway"])

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
RESPONSES = {
    "400": {"description": "A filter, sort or page that cannot run.", "content": _ERROR},
    "401": {
        "description": "No API key, or an unknown, expired or revoked one (the message says which).",
        "content": _ERROR,
    },
    "403": {
        "description": "No grant in force for the key's department (the message says why), or "
        "fields outside the grant (named).",
        "content": _ERROR,
    },
    "404": {"description": "No published resource with this code.", "content": _ERROR},
    "429": {
        "description": "Over the grant's calls per minute: wait the seconds of `Retry-After`.",
        "content": _ERROR,
    },
    "502": {"description": "The provider's upstream system failed.", "content": _ERROR},
    "504": {"description": "The provider's upstream system did not answer in time.", "content": _ERROR},
}
_CODE_IN_PATH = re.compile(r"/resources/([^/]{1,64})/query/?$")


class BearerKey(HttpBearer):
    """``Authorization: Bearer yw_…``"""

    def authenticate(self, request: HttpRequest, token: str) -> ApiCredential:
        return credentials.authenticate(token.strip() or None)


class HeaderKey(APIKeyHeader):
    """``X-API-Key: yw_…``; also the last check, refusing a request that carries no key at all."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiCredential:
        return credentials.authenticate((key or "").strip() or None)


API_KEY_AUTH = [BearerKey(), HeaderKey()]


class QueryParams(Schema):
    purpose: str = Field(
        ..., max_length=gateway.MAX_PURPOSE, description="What the data is used for (recorded)"
    )
    fields: str = Field(
        "", max_length=4000, description="Field names, comma-separated (default: every granted field)"
    )
    filters: str = Field(
        "",
        max_length=20000,
        description='A JSON object: field → value or list of values, e.g. {"id_number": "…"}',
    )
    q: str = Field("", max_length=200, description="Text searched in the granted text fields")
    sort: str = Field("", max_length=400, description="Field names, comma-separated; -name for descending")
    limit: int = Field(rowquery.DEFAULT_LIMIT, ge=0, le=rowquery.MAX_LIMIT)
    offset: int = Field(0, ge=0, le=rowquery.MAX_OFFSET)
    reference: str = Field("", max_length=64, description="The caller's own reference (recorded)")


class QueryIn(Schema):
    purpose: str = Field(
        ..., max_length=gateway.MAX_PURPOSE, description="What the data is used for (recorded)"
    )
    fields: list[str] | None = Field(
        None, max_length=gateway.MAX_FIELDS, description="Default: every granted field"
    )
    filters: dict[str, Any] = Field(default_factory=dict, description="Field → value or list of values")
    q: str = Field("", max_length=200)
    sort: list[str] = Field(
        default_factory=list, max_length=5, description="Field names; -name for descending"
    )
    limit: int = Field(rowquery.DEFAULT_LIMIT, ge=0, le=rowquery.MAX_LIMIT)
    offset: int = Field(0, ge=0, le=rowquery.MAX_OFFSET)
    reference: str = Field("", max_length=64)


class ProviderOut(Schema):
    code: str
    name: str


class QueryOut(Schema):
    resource: str = Field(..., description="The resource code")
    resource_name: str
    provider: ProviderOut
    grant: int = Field(..., description="The grant the call was served under")
    call: int = Field(..., description="The call's record (what the provider and the data subjects see)")
    fields: list[str]
    masked_fields: list[str] = Field(..., description="Personal fields whose values are masked")
    total: int
    limit: int
    offset: int
    rows: list[dict[str, Any]]


def _error(status: int, exc: ExchangeError | rowquery.QueryError) -> JsonResponse:
    errors = [{"field": field, "message": str(message)} for field, message in exc.errors.items()]
    response = JsonResponse(
        {"detail": exc.message, "errors": errors}, status=status, json_dumps_params={"ensure_ascii": False}
    )
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(max(1, int(exc.retry_after)))
    response["Cache-Control"] = "no-store, private"
    return response


def _not_stored(response: JsonResponse) -> JsonResponse:
    response["Cache-Control"] = "no-store, private"
    return response


def _call(request, code: str, **params):
    credential: ApiCredential = request.auth
    try:
        result = gateway.query(
            consumer=credential.department,
            resource_code=code,
            channel=Channel.API,
            credential=credential,
            **params,
        )
    except (ExchangeError, rowquery.QueryError) as exc:
        return _error(exc.status, exc)
    body = {
        "resource": result.resource_code,
        "resource_name": result.resource_name,
        "provider": {"code": result.provider.code, "name": result.provider.name},
        "grant": result.grant_id,
        "call": result.call_id,
        "fields": result.fields,
        "masked_fields": result.masked_fields,
        "total": result.total,
        "limit": result.limit,
        "offset": result.offset,
        "rows": result.rows,
    }
    return _not_stored(JsonResponse(body, json_dumps_params={"ensure_ascii": False}))


@router.get(
    "/resources/{code}/query",
    response={200: QueryOut},
    auth=API_KEY_AUTH,
    summary="Query a shared resource (gateway)",
    openapi_extra={"responses": RESPONSES},
)
def query_get(request, code: str, params: Query[QueryParams]):
    """Rows of a resource your department holds a grant for: only granted fields, personal ones
    masked unless the grant hands them over in clear. ``filters`` is a JSON object."""
    filters: Any = {}
    if params.filters.strip():
        try:
            filters = json.loads(params.filters)
        except ValueError:
            message = _('“filters” is not valid JSON: send an object such as {"region": "610102"}.')
            return _error(400, rowquery.QueryError(message, {"filters": message}))
    return _call(
        request,
        code,
        fields=params.fields or None,
        filters=filters,
        q=params.q,
        sort=params.sort,
        limit=params.limit,
        offset=params.offset,
        purpose=params.purpose,
        reference=params.reference,
    )


@router.post(
    "/resources/{code}/query",
    response={200: QueryOut},
    auth=API_KEY_AUTH,
    summary="Query a shared resource (gateway), parameters as JSON",
    openapi_extra={"responses": RESPONSES},
)
def query_post(request, code: str, payload: QueryIn):
    """As the GET, with the parameters in the body (filters that are long, or must not appear
    in a URL or an access log, such as identity numbers)."""
    return _call(
        request,
        code,
        fields=payload.fields,
        filters=payload.filters,
        q=payload.q,
        sort=payload.sort,
        limit=payload.limit,
        offset=payload.offset,
        purpose=payload.purpose,
        reference=payload.reference,
    )


def on_credential_refused(request, exc: credentials.CredentialRefused):
    """401 in the error shape; a genuine key that expired or was revoked is recorded as a
    refused call of its department (what it tried to reach, when)."""
    if exc.credential is not None:
        match = _CODE_IN_PATH.search(request.path)
        gateway.record_refusal(
            consumer=exc.credential.department,
            resource_code=match.group(1) if match else "",
            channel=Channel.API,
            credential=exc.credential,
            outcome=CallOutcome.DENIED,
            error=exc.message,
        )
    response = _error(401, exc)
    response["WWW-Authenticate"] = 'Bearer realm="yiwang-exchange"'
    return response


def install(api) -> None:
    """Register the gateway's refusal of keys on the platform's API (config/api.py)."""
    api.add_exception_handler(credentials.CredentialRefused, on_credential_refused)
