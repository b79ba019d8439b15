"""The exchange's catalog API (mounted at ``/api/exchange/``): resources (list, show, register,
publish, load rows), access requests (create, decide, withdraw), grants (list, revoke), the data
demands and information systems inventories.

Session authentication (CSRF applies to writes); the same services and access helpers as the
pages. Refusals use the platform's one error shape: 401 not signed in, 403 not allowed, 404 not
found (or not yours), 409 wrong state, 422 invalid values naming each field. The gateway's data
queries are a separate router (``gateway_api``) under the same prefix.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.security import django_auth
from pydantic import Field

from yiwang.core.api import ApiError
from yiwang.exchange import permissions, services
from yiwang.exchange.errors import ExchangeError, InvalidInput, RateLimited
from yiwang.exchange.models import AccessRequest, DataResource, Grant, RequestState
from yiwang.exchange.selectors import search_resources
from yiwang.identity.models import Department
from yiwang.identity.permissions import is_row_id
from yiwang.identity.services import PasswordConfirmationError, password_confirm

router = Router(tags=["exchange"])

PAGE = 50
OPTIONAL_FILE = File(None)  # ninja's marker: the file is checked in the view, after access
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
WRONG_STATE = {
    "responses": {
        409: {
            "description": "Not in a state that allows this (e.g. the request was decided already).",
            "content": {"application/json": {"schema": _ERROR_REF}},
        }
    }
}


def refusals(view):
    """Turn the exchange's refusals into the API's error shape (with the fields to fix)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not permissions.is_official(request.user):
            raise ApiError(403, _("Only officials use the data sharing exchange."))
        try:
            return view(request, *args, **kwargs)
        except ExchangeError as exc:
            errors = [{"field": k, "message": str(v)} for k, v in exc.errors.items()]
            headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
            raise ApiError(exc.status, exc.message, errors, headers) from exc

    return wrapped


# --- schemas ---------------------------------------------------------------------------------


class FieldIn(Schema):
    name: str = Field(max_length=64)
    label_zh: str = Field(max_length=100)
    label_en: str = Field("", max_length=100)
    type: str = Field("string", max_length=16)
    grade: int = 2
    personal: str = Field("", max_length=16, description="id_number, phone, name, address, other or ''")


class FieldOut(Schema):
    name: str
    label_zh: str
    label_en: str
    type: str
    grade: int
    personal: str


class ResourceIn(Schema):
    provider: str = Field(max_length=32, description="The providing department's code, e.g. 610000-GAT")
    code: str = Field(max_length=64, description="A (basic), B (thematic) or C (departmental) + 5 digits")
    name: str = Field(max_length=200)
    description: str = Field("", max_length=2000)
    kind: str = Field(max_length=16, description="basic, theme or department")
    share_class: str = Field(max_length=16, description="unconditional, conditional or none")
    share_conditions: str = Field("", max_length=2000)
    no_share_basis: str = Field("", max_length=2000)
    open_class: str = Field("none", max_length=16)
    open_conditions: str = Field("", max_length=2000)
    on_negative_list: bool = False
    negative_list_basis: str = Field("", max_length=2000)
    update_frequency: str = Field(max_length=16)
    source_kind: str = Field("table", max_length=8, description="table or http")
    upstream_url: str = Field("", max_length=500)
    upstream_timeout_ms: int = 3000
    key_field: str = Field("", max_length=64)
    themes: list[str] = Field(default_factory=list, max_length=20)
    tags: list[str] = Field(default_factory=list, max_length=20)
    fields: list[FieldIn] = Field(max_length=200)


class ResourceOut(Schema):
    code: str
    name: str
    description: str
    provider: str
    provider_name: str
    kind: str
    share_class: str
    share_conditions: str
    no_share_basis: str
    open_class: str
    on_negative_list: bool
    update_frequency: str
    source_kind: str
    key_field: str
    themes: list[str]
    tags: list[str]
    state: str
    row_count: int
    loaded_at: str | None
    fields: list[FieldOut]


class ResourcePage(Schema):
    count: int
    results: list[ResourceOut]


def resource_out(resource: DataResource) -> dict:
    return {
        "code": resource.code,
        "name": resource.name,
        "description": resource.description,
        "provider": resource.provider.code,
        "provider_name": resource.provider.name,
        "kind": resource.kind,
        "share_class": resource.share_class,
        "share_conditions": resource.share_conditions,
        "no_share_basis": resource.no_share_basis,
        "open_class": resource.open_class,
        "on_negative_list": resource.on_negative_list,
        "update_frequency": resource.update_frequency,
        "source_kind": resource.source_kind,
        "key_field": resource.key_field,
        "themes": list(resource.themes or []),
        "tags": list(resource.tags or []),
        "state": resource.state,
        "row_count": resource.row_count,
        "loaded_at": resource.loaded_at.isoformat() if resource.loaded_at else None,
        "fields": services.resource_fields_as_specs(resource),
    }


class RequestIn(Schema):
    resource: str = Field(max_length=64, description="The resource's code")
    fields: list[str] = Field(max_length=200)
    purpose: str = Field(max_length=1000)
    legal_basis: str = Field("", max_length=1000)
    valid_until: dt.date = Field(description="The last day the data is needed")
    demand: int | None = None


class DecideIn(Schema):
    approve: bool
    password: str = Field(
        "", max_length=200, description="The signed-in steward's password again (needed to approve)"
    )
    reason: str = Field("", max_length=1000)
    unmasked_fields: list[str] = Field(default_factory=list, max_length=200)
    rate_limit_per_minute: int = services.DEFAULT_RATE_LIMIT


class RequestOut(Schema):
    id: int
    resource: str
    provider: str
    consumer: str
    fields: list[str]
    purpose: str
    legal_basis: str
    valid_until: dt.date
    state: str
    requested_at: str
    decided_at: str | None
    decision_reason: str
    grant: int | None


def request_out(req: AccessRequest) -> dict:
    grant = Grant.objects.filter(request=req).values_list("pk", flat=True).first()
    return {
        "id": req.pk,
        "resource": req.resource.code,
        "provider": req.resource.provider.code,
        "consumer": req.consumer.code,
        "fields": req.fields,
        "purpose": req.purpose,
        "legal_basis": req.legal_basis,
        "valid_until": req.valid_until,
        "state": req.state,
        "requested_at": req.requested_at.isoformat(),
        "decided_at": req.decided_at.isoformat() if req.decided_at else None,
        "decision_reason": req.decision_reason,
        "grant": grant,
    }


class GrantOut(Schema):
    id: int
    resource: str
    provider: str
    consumer: str
    fields: list[str]
    unmasked_fields: list[str]
    purpose: str
    standing: bool
    valid_from: str
    valid_until: str
    rate_limit_per_minute: int
    in_force: bool
    revoked_at: str | None
    revoke_reason: str


def grant_out(grant: Grant) -> dict:
    return {
        "id": grant.pk,
        "resource": grant.resource.code,
        "provider": grant.resource.provider.code,
        "consumer": grant.consumer.code,
        "fields": grant.fields,
        "unmasked_fields": grant.unmasked_fields,
        "purpose": grant.purpose,
        "standing": grant.standing,
        "valid_from": grant.valid_from.isoformat(),
        "valid_until": grant.valid_until.isoformat(),
        "rate_limit_per_minute": grant.rate_limit_per_minute,
        "in_force": grant.in_force(),
        "revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None,
        "revoke_reason": grant.revoke_reason,
    }


class GrantIn(Schema):
    resource: str = Field(max_length=64, description="The resource's code")
    consumer: str = Field(max_length=32, description="The consuming department's code")
    fields: list[str] = Field(max_length=200)
    purpose: str = Field(max_length=1000)
    valid_until: dt.date = Field(description="The last day of the grant")
    standing: bool = Field(False, description="A standing grant for the platform's forms and rules")
    unmasked_fields: list[str] = Field(default_factory=list, max_length=200)
    rate_limit_per_minute: int = services.DEFAULT_RATE_LIMIT
    password: str = Field("", max_length=200, description="The signed-in steward's password again")


class ResourceChangeIn(Schema):
    """Only the keys sent change; ``fields``, when sent, replaces the field list."""

    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    share_class: str | None = Field(None, max_length=16)
    share_conditions: str | None = Field(None, max_length=2000)
    no_share_basis: str | None = Field(None, max_length=2000)
    open_class: str | None = Field(None, max_length=16)
    open_conditions: str | None = Field(None, max_length=2000)
    on_negative_list: bool | None = None
    negative_list_basis: str | None = Field(None, max_length=2000)
    update_frequency: str | None = Field(None, max_length=16)
    source_kind: str | None = Field(None, max_length=8)
    upstream_url: str | None = Field(None, max_length=500)
    upstream_timeout_ms: int | None = None
    key_field: str | None = Field(None, max_length=64)
    themes: list[str] | None = Field(None, max_length=20)
    tags: list[str] | None = Field(None, max_length=20)
    fields: list[FieldIn] | None = Field(None, max_length=200)


class RevokeIn(Schema):
    reason: str = Field(max_length=1000)
    password: str = Field("", max_length=200, description="The signed-in steward's password again")


class DemandIn(Schema):
    title: str = Field(max_length=200)
    description: str = Field(max_length=1000)
    purpose: str = Field(max_length=1000)
    wanted_fields: str = Field("", max_length=1000)


class DemandOut(Schema):
    id: int
    department: str
    title: str
    description: str
    purpose: str
    wanted_fields: str
    state: str
    matched_resources: list[str]
    created_at: str


def demand_out(demand) -> dict:
    return {
        "id": demand.pk,
        "department": demand.department.code,
        "title": demand.title,
        "description": demand.description,
        "purpose": demand.purpose,
        "wanted_fields": demand.wanted_fields,
        "state": demand.state,
        "matched_resources": list(demand.matched_resources.values_list("code", flat=True)),
        "created_at": demand.created_at.isoformat(),
    }


class SystemIn(Schema):
    department: str = Field(max_length=32)
    code: str = Field(max_length=64)
    name: str = Field(max_length=128)
    description: str = Field("", max_length=1000)
    network: str = Field("", max_length=64)
    contact: str = Field("", max_length=128)


class SystemOut(Schema):
    id: int
    department: str
    code: str
    name: str
    description: str
    network: str
    is_active: bool


def system_out(system) -> dict:
    return {
        "id": system.pk,
        "department": system.department.code,
        "code": system.code,
        "name": system.name,
        "description": system.description,
        "network": system.network,
        "is_active": system.is_active,
    }


class LoadOut(Schema):
    code: str
    rows: int


class ResourceFilter(Schema):
    q: str = Field("", max_length=100)
    provider: str = Field("", max_length=32)
    kind: str = Field("", max_length=16)
    share_class: str = Field("", max_length=16)
    state: str = Field("", max_length=16)
    offset: int = Field(0, ge=0, le=1_000_000)
    limit: int = Field(PAGE, ge=1, le=200)


class ListFilter(Schema):
    offset: int = Field(0, ge=0, le=1_000_000)
    limit: int = Field(PAGE, ge=1, le=200)


def _department(code: str, field: str) -> Department:
    department = Department.objects.filter(code=code.strip()).first()
    if department is None:
        raise ApiError(
            422, _("Unknown department."), [{"field": field, "message": _("No department has this code.")}]
        )
    return department


# --- resources -------------------------------------------------------------------------------


@router.get("/resources", response=ResourcePage, auth=django_auth, summary="The resource catalog (search)")
@refusals
def resources_list(request, filters: Query[ResourceFilter]):
    qs = search_resources(
        permissions.visible_resources(request.user),
        q=filters.q,
        provider=filters.provider,
        kind=filters.kind,
        share_class=filters.share_class,
        state=filters.state,
    )
    page = list(qs.prefetch_related("fields")[filters.offset : filters.offset + filters.limit])
    return {"count": qs.count(), "results": [resource_out(r) for r in page]}


@router.get(
    "/resources/{code}", response=ResourceOut, auth=django_auth, summary="One resource and its fields"
)
@refusals
def resource_show(request, code: str):
    return resource_out(permissions.get_resource_for_user(request.user, code))


@router.post(
    "/resources",
    response={201: ResourceOut},
    auth=django_auth,
    summary="Register a resource (a draft) — data stewards of the provider",
)
@refusals
def resource_register(request, payload: ResourceIn):
    provider = _department(payload.provider, "provider")
    data = payload.dict(exclude={"provider", "fields"})
    resource = services.resource_register(
        actor=request.user, provider=provider, data=data, fields=[f.dict() for f in payload.fields]
    )
    return Status(201, resource_out(resource))


@router.put(
    "/resources/{code}",
    response=ResourceOut,
    auth=django_auth,
    summary="Change a resource (the keys sent) — data stewards of the provider",
    openapi_extra=WRONG_STATE,
)
@refusals
def resource_change(request, code: str, payload: ResourceChangeIn):
    resource = permissions.get_resource_for_user(request.user, code, for_write=True)
    data = payload.dict(exclude_unset=True, exclude={"fields"})
    fields = [f.dict() for f in payload.fields] if payload.fields is not None else None
    resource = services.resource_update(actor=request.user, resource=resource, data=data, fields=fields)
    return resource_out(resource)


@router.post(
    "/resources/{code}/publish",
    response=ResourceOut,
    auth=django_auth,
    summary="Publish a draft in the catalog",
    openapi_extra=WRONG_STATE,
)
@refusals
def resource_publish(request, code: str):
    resource = permissions.get_resource_for_user(request.user, code, for_write=True)
    return resource_out(services.resource_publish(actor=request.user, resource=resource))


@router.post(
    "/resources/{code}/rows",
    response=LoadOut,
    auth=django_auth,
    summary="Replace the resource's rows with a CSV (UTF-8 or GB18030) or XLSX file",
    description="All rows are replaced in one transaction, or none: every bad cell is named by line "
    "and column in `errors` (422).",
    openapi_extra=WRONG_STATE,
)
@refusals
def resource_rows(request, code: str, file: UploadedFile | None = OPTIONAL_FILE):
    resource = permissions.get_resource_for_user(request.user, code, for_write=True)
    if file is None:  # checked after access, so a stranger learns nothing from a bare request
        message = _("Send the table as the multipart field “file”.")
        raise ApiError(422, message, [{"field": "file", "message": message}])
    if file.size is not None and file.size > services.tables.MAX_BYTES:
        raise ApiError(413, _("The file is too large."))
    n = services.resource_load_rows(
        actor=request.user, resource=resource, content=file.read(), filename=file.name or ""
    )
    return {"code": resource.code, "rows": n}


# --- requests --------------------------------------------------------------------------------


@router.get(
    "/requests",
    response=list[RequestOut],
    auth=django_auth,
    summary="Requests of my department and for my data",
)
@refusals
def requests_list(request, filters: Query[ListFilter], direction: str = "", state: str = ""):
    qs = permissions.requests_visible(request.user)
    own = permissions.own_department(request.user)
    if direction == "out":
        qs = qs.filter(consumer=own) if own else qs.none()
    elif direction == "in":
        ids = permissions.stewarded_ids(request.user)
        qs = qs if ids is None else qs.filter(resource__provider_id__in=ids)
    if state in RequestState.values:
        qs = qs.filter(state=state)
    return [request_out(r) for r in qs[filters.offset : filters.offset + filters.limit]]


@router.post(
    "/requests",
    response={201: RequestOut},
    auth=django_auth,
    summary="Request fields of a resource for my department",
    description="Unconditionally shared resources are granted at once (state approved, with its grant); "
    "conditionally shared ones wait for the provider's data steward; resources not shared are refused (403).",
    openapi_extra=WRONG_STATE,
)
@refusals
def request_create(request, payload: RequestIn):
    resource = permissions.get_resource_for_user(request.user, payload.resource)
    consumer = permissions.own_department(request.user)
    if consumer is None:
        raise ApiError(403, _("Only an official of a department requests data for it."))
    demand = None
    if payload.demand is not None:
        demand = permissions.demands_visible(request.user).filter(pk=payload.demand).first()
        if demand is None:
            raise ApiError(422, _("Unknown demand."), [{"field": "demand", "message": _("No such demand.")}])
    req = services.access_request(
        actor=request.user,
        resource=resource,
        consumer=consumer,
        fields=payload.fields,
        purpose=payload.purpose,
        valid_until=payload.valid_until,
        legal_basis=payload.legal_basis,
        demand=demand,
    )
    return Status(201, request_out(req))


def _password_again(request, password: str) -> None:
    """Re-authentication before granting or revoking access, as on the pages (one check,
    ``identity.services.password_confirm``): a wrong password is a 422 on ``password``, too
    many wrong ones a 429 with Retry-After."""
    try:
        password_confirm(user=request.user, password=password)
    except PasswordConfirmationError as exc:
        if exc.retry_after:
            raise RateLimited(exc.messages[0], retry_after=exc.retry_after) from exc
        raise InvalidInput(exc.messages[0], {"password": exc.messages[0]}) from exc


def _request(request, request_id: str, **kwargs) -> AccessRequest:
    if not is_row_id(request_id):
        raise Http404
    return permissions.get_request_for_user(request.user, request_id, **kwargs)


@router.post(
    "/requests/{request_id}/decide",
    response=RequestOut,
    auth=django_auth,
    summary="Approve or refuse a waiting request — data stewards of the provider",
    openapi_extra=WRONG_STATE,
)
@refusals
def request_decide(request, request_id: str, payload: DecideIn):
    req = _request(request, request_id, for_decide=True)
    if payload.approve:
        _password_again(request, payload.password)
    req = services.request_decide(
        actor=request.user,
        request=req,
        approve=payload.approve,
        reason=payload.reason,
        unmasked_fields=payload.unmasked_fields,
        rate_limit_per_minute=payload.rate_limit_per_minute,
    )
    return request_out(req)


@router.post(
    "/requests/{request_id}/withdraw",
    response=RequestOut,
    auth=django_auth,
    summary="Withdraw a waiting request of my department",
    openapi_extra=WRONG_STATE,
)
@refusals
def request_withdraw(request, request_id: str):
    req = _request(request, request_id)
    if not permissions.may_act_for_department(request.user, req.consumer_id):
        raise Http404
    return request_out(services.request_withdraw(actor=request.user, request=req))


# --- grants ----------------------------------------------------------------------------------


@router.get(
    "/grants", response=list[GrantOut], auth=django_auth, summary="Grants to my department and of my data"
)
@refusals
def grants_list(request, filters: Query[ListFilter], in_force: bool = False):
    qs = permissions.grants_visible(request.user)
    if in_force:
        now = timezone.now()
        qs = qs.filter(revoked_at__isnull=True, valid_from__lte=now, valid_until__gt=now)
    return [grant_out(g) for g in qs[filters.offset : filters.offset + filters.limit]]


@router.post(
    "/grants",
    response={201: GrantOut},
    auth=django_auth,
    summary="Grant fields directly (e.g. a standing grant) — data stewards of the provider",
    openapi_extra=WRONG_STATE,
)
@refusals
def grant_create(request, payload: GrantIn):
    resource = permissions.get_resource_for_user(request.user, payload.resource)
    consumer = _department(payload.consumer, "consumer")
    if permissions.may_manage_resource(request.user, resource):  # others are refused by the service
        _password_again(request, payload.password)
    grant = services.grant_create(
        actor=request.user,
        resource=resource,
        consumer=consumer,
        fields=payload.fields,
        purpose=payload.purpose,
        valid_until=payload.valid_until,
        standing=payload.standing,
        unmasked_fields=payload.unmasked_fields,
        rate_limit_per_minute=payload.rate_limit_per_minute,
    )
    return Status(201, grant_out(grant))


@router.post(
    "/grants/{grant_id}/revoke",
    response=GrantOut,
    auth=django_auth,
    summary="Revoke a grant — data stewards of the provider",
    openapi_extra=WRONG_STATE,
)
@refusals
def grant_revoke(request, grant_id: str, payload: RevokeIn):
    grant = permissions.get_grant_for_user(request.user, grant_id, for_write=True)
    _password_again(request, payload.password)
    return grant_out(services.grant_revoke(actor=request.user, grant=grant, reason=payload.reason))


# --- inventories -----------------------------------------------------------------------------


@router.get("/demands", response=list[DemandOut], auth=django_auth, summary="The data demands inventory")
@refusals
def demands_list(request, filters: Query[ListFilter]):
    qs = permissions.demands_visible(request.user).prefetch_related("matched_resources")
    return [demand_out(d) for d in qs[filters.offset : filters.offset + filters.limit]]


@router.post(
    "/demands", response={201: DemandOut}, auth=django_auth, summary="File a data demand of my department"
)
@refusals
def demand_file(request, payload: DemandIn):
    department = permissions.own_department(request.user)
    if department is None:
        raise ApiError(403, _("Only an official of a department files its demands."))
    demand = services.demand_file(actor=request.user, department=department, **payload.dict())
    return Status(201, demand_out(demand))


@router.get(
    "/systems", response=list[SystemOut], auth=django_auth, summary="The information systems inventory"
)
@refusals
def systems_list(request, filters: Query[ListFilter]):
    qs = permissions.systems_visible(request.user)
    return [system_out(s) for s in qs[filters.offset : filters.offset + filters.limit]]


@router.post(
    "/systems",
    response={201: SystemOut},
    auth=django_auth,
    summary="Add an information system — data stewards of the department",
)
@refusals
def system_register(request, payload: SystemIn):
    department = _department(payload.department, "department")
    data = payload.dict(exclude={"department", "code"})
    system = services.system_register(actor=request.user, department=department, code=payload.code, data=data)
    return Status(201, system_out(system))
