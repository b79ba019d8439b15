"""Who may do what in the exchange's catalog, requests and grants.

- The data stewards (``Role.DATA_STEWARD``) of a department — and of the departments above it —
  manage its resources, rows and information systems, decide requests for its resources, grant
  and revoke.
- Any active official of a department acts for it as a consumer: requests data, withdraws its
  requests, files its data demands.
- Every official reads the published catalog; drafts and retired resources only their stewards.
- Superusers (two-factor unlocked) pass every check.

The ``get_<obj>_for_user`` helpers are the only way views and the API fetch these objects: "not
yours" and "does not exist" are the same 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from yiwang.exchange.models import (
    AccessRequest,
    DataDemand,
    DataResource,
    Grant,
    InformationSystem,
    ResourceState,
)
from yiwang.identity.models import Department, Role
from yiwang.identity.permissions import departments_for, has_role, is_row_id, is_superuser, official_of

STEWARD = Role.DATA_STEWARD


def is_official(user) -> bool:
    return official_of(user) is not None or is_superuser(user)


def may_manage_department(user, department: Department | int) -> bool:
    """A data steward whose role reaches ``department`` (or a superuser)."""
    return has_role(user, STEWARD, department)


def may_manage_resource(user, resource: DataResource) -> bool:
    return may_manage_department(user, resource.provider_id)


def may_act_for_department(user, department: Department | int) -> bool:
    """An active official of ``department`` itself (or a superuser)."""
    if is_superuser(user):
        return True
    official = official_of(user)
    dept_id = department if isinstance(department, int) else department.pk
    return official is not None and official.department_id == dept_id


def is_steward(user) -> bool:
    return has_role(user, STEWARD)


def stewarded_ids(user) -> set[int] | None:
    """Ids of the departments the user is a data steward of (None: all; superusers)."""
    return departments_for(user, STEWARD)


def own_department(user) -> Department | None:
    official = official_of(user)
    return official.department if official is not None else None


def visible_resources(user) -> QuerySet[DataResource]:
    """The catalog as the user sees it: published resources for every official, besides every
    resource of the departments they steward. Nobody else sees any."""
    qs = DataResource.objects.select_related("provider")
    if is_superuser(user):
        return qs
    if official_of(user) is None:
        return qs.none()
    ids = stewarded_ids(user) or set()
    return qs.filter(Q(state=ResourceState.PUBLISHED) | Q(provider_id__in=ids))


def _code_ok(code) -> bool:
    text = str(code)
    return text.isascii() and text.isalnum() and 0 < len(text) <= 64


def get_resource_for_user(user, code, *, for_write: bool = False) -> DataResource:
    """A resource by code the user may see (``for_write``: manage); else 404."""
    if not _code_ok(code):
        raise Http404
    resource = visible_resources(user).filter(code=str(code).upper()).first()
    if resource is None or (for_write and not may_manage_resource(user, resource)):
        raise Http404
    return resource


def _ours_or_stewarded(qs: QuerySet, user) -> QuerySet:
    """Rows of ``qs`` (requests or grants) whose consumer is the user's own department or whose
    resource the user stewards; every row for a superuser."""
    if is_superuser(user):
        return qs
    official = official_of(user)
    if official is None:
        return qs.none()
    ids = stewarded_ids(user) or set()
    return qs.filter(Q(consumer_id=official.department_id) | Q(resource__provider_id__in=ids))


def _get_visible(qs: QuerySet, user, pk, *, manage: bool):
    """One row of ``qs`` by id, if visible (``manage``: the user stewards its resource); else 404."""
    if not is_row_id(pk):
        raise Http404
    row = _ours_or_stewarded(qs, user).filter(pk=pk).first()
    if row is None or (manage and not may_manage_resource(user, row.resource)):
        raise Http404
    return row


def requests_visible(user) -> QuerySet[AccessRequest]:
    """Requests of the user's own department, and requests for resources they steward."""
    qs = AccessRequest.objects.select_related("resource", "resource__provider", "consumer")
    return _ours_or_stewarded(qs, user)


def get_request_for_user(user, pk, *, for_decide: bool = False) -> AccessRequest:
    """A request the user sees (``for_decide``: may decide, a steward of the provider); else 404."""
    qs = AccessRequest.objects.select_related("resource", "resource__provider", "consumer")
    return _get_visible(qs, user, pk, manage=for_decide)


def grants_visible(user) -> QuerySet[Grant]:
    """Grants to the user's own department, and grants of resources they steward."""
    qs = Grant.objects.select_related("resource", "resource__provider", "consumer")
    return _ours_or_stewarded(qs, user)


def get_grant_for_user(user, pk, *, for_write: bool = False) -> Grant:
    """A grant the user sees (``for_write``: may revoke, a steward of the provider); else 404."""
    qs = Grant.objects.select_related("resource", "resource__provider", "consumer")
    return _get_visible(qs, user, pk, manage=for_write)


def demands_visible(user) -> QuerySet[DataDemand]:
    """The data demands inventory: every official reads it (stewards look for demands to meet)."""
    if not is_official(user):
        return DataDemand.objects.none()
    return DataDemand.objects.select_related("department")


def get_demand_for_user(user, pk, *, for_write: bool = False) -> DataDemand:
    if not is_row_id(pk):
        raise Http404
    demand = demands_visible(user).filter(pk=pk).first()
    if demand is None or (for_write and not may_act_for_department(user, demand.department_id)):
        raise Http404
    return demand


def systems_visible(user) -> QuerySet[InformationSystem]:
    """The information systems inventory: every official reads it."""
    if not is_official(user):
        return InformationSystem.objects.none()
    return InformationSystem.objects.select_related("department")


def get_system_for_user(user, pk, *, for_write: bool = False) -> InformationSystem:
    if not is_row_id(pk):
        raise Http404
    system = systems_visible(user).filter(pk=pk).first()
    if system is None or (for_write and not may_manage_department(user, system.department_id)):
        raise Http404
    return system
