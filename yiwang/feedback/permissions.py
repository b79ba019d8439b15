"""Who may do what with feedback items.

- The **filer** (the signed-in account that filed an item) sees it, its routing, deadline and
  reply, and rates the reply. Nobody else sees who filed.
- The **routing officer** (分拨员) is a clerk (``Role.CLERK``) of a 数据和政务服务局 — the office
  that runs the 12345 hotline — whose region is the item's region or above it. The officer
  confirms or changes the classifier's suggestion and routes the item.
- The **department's handlers** are the clerks (``Role.CLERK``) and leaders (``Role.LEADER``)
  of the department an item is routed to, or of a department above it: they accept, transfer
  with a reason, and reply.
- A **department's administrators** (``Role.ADMIN``) keep the routing rules naming their
  department.

``get_item_for_user`` is the only way views fetch an item: "not yours" and "no such item" give
the same 404.
"""

from __future__ import annotations

from django.http import Http404

from yiwang.feedback.models import Item
from yiwang.identity.models import Department, Region, Role
from yiwang.identity.permissions import has_role, is_superuser, official_of

HOTLINE_KIND = "SJJ"  # the department kind that runs 12345 (数据和政务服务局)
HANDLER_ROLES = (Role.CLERK, Role.LEADER)


def region_chain(region: Region | None) -> list[int]:
    """The region's id and its parents' ids, nearest first."""
    chain: list[int] = []
    while region is not None and region.pk not in chain and len(chain) < 8:
        chain.append(region.pk)
        region = region.parent
    return chain


def hotline_office(user) -> Department | None:
    """The 12345 office whose routing officer ``user`` is, or None."""
    official = official_of(user)
    if official is None or not has_role(user, Role.CLERK):
        return None
    department = official.department
    return department if department.code.endswith("-" + HOTLINE_KIND) else None


def is_router(user) -> bool:
    return is_superuser(user) or hotline_office(user) is not None


def may_route(user, region: Region) -> bool:
    """Whether ``user`` routes the items filed in ``region``."""
    if is_superuser(user):
        return True
    office = hotline_office(user)
    if office is None:
        return False
    return office.region_id in region_chain(region)


def handles(user, department: Department | int | None) -> bool:
    """Whether ``user`` handles the items routed to ``department``."""
    if department is None:
        return False
    return any(has_role(user, role, department) for role in HANDLER_ROLES)


def is_handler(user) -> bool:
    return any(has_role(user, role) for role in HANDLER_ROLES)


def may_keep_rules(user, department: Department) -> bool:
    return has_role(user, Role.ADMIN, department)


def may_see(user, item: Item) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if item.filer_id is not None and item.filer_id == user.pk:
        return True
    if handles(user, item.department_id):
        return True
    return may_route(user, item.region)


def get_item_for_user(user, pk, *, for_write: bool = False) -> Item:
    """The item ``pk`` if ``user`` may see it (filer, its department's handlers, its routing
    officer), else Http404 — the same for an item that does not exist."""
    if not str(pk).isdigit() or len(str(pk)) > 12:
        raise Http404
    queryset = Item.objects.select_related("region__parent__parent", "department", "filer")
    if for_write:
        queryset = queryset.select_for_update(of=("self",))
    item = queryset.filter(pk=int(pk)).first()
    if item is None or not may_see(user, item):
        raise Http404
    return item
