"""Who may do what in supervision (docs/supervision.md, "Who does what").

- The department's **administrator or leader** keeps its supervision items, plans and runs draws
  and publishes them and their results (one person plans; the seed and the algorithm, not the
  person, choose who is inspected).
- An **inspector** of the department sees the draws of the department and records the result of
  the inspections drawn for them.
- The law library is kept by administrators and leaders of any department (the legal affairs
  office is a department like the others).
- Everybody, signed out too, reads published draws, published results and an entity's public
  record.

Roles reach the official's department and those under it (``identity.permissions``).
"""

from django.http import Http404

from yiwang.identity.models import Role
from yiwang.identity.permissions import has_role, is_row_id
from yiwang.supervision.models import DrawPlan, Inspection, SupervisionItem

MANAGER_ROLES = (Role.ADMIN, Role.LEADER)
WORKBENCH_ROLES = (*MANAGER_ROLES, Role.INSPECTOR)


def may_manage(user, department) -> bool:
    """Whether ``user`` plans, draws and publishes for ``department``."""
    return any(has_role(user, role, department) for role in MANAGER_ROLES)


def may_view(user, department) -> bool:
    return any(has_role(user, role, department) for role in WORKBENCH_ROLES)


def may_keep_laws(user) -> bool:
    return any(has_role(user, role) for role in MANAGER_ROLES)


def get_item_for_user(user, pk, *, for_write: bool = False) -> SupervisionItem:
    """The supervision item ``pk`` if its department is the user's to see (or manage); else 404."""
    item = (
        SupervisionItem.objects.select_related("department").filter(pk=pk).first() if is_row_id(pk) else None
    )
    if item is None:
        raise Http404
    allowed = may_manage(user, item.department) if for_write else may_view(user, item.department)
    if not allowed:
        raise Http404
    return item


def get_plan_for_user(user, pk, *, for_write: bool = False) -> DrawPlan:
    """The plan ``pk`` if its department is the user's to see (or manage); else 404."""
    plan = (
        DrawPlan.objects.select_related("item", "department").filter(pk=pk).first() if is_row_id(pk) else None
    )
    if plan is None:
        raise Http404
    allowed = may_manage(user, plan.department) if for_write else may_view(user, plan.department)
    if not allowed:
        raise Http404
    return plan


def get_inspection_for_user(user, pk) -> Inspection:
    """The inspection ``pk`` if the user is one of its drawn inspectors or manages its department."""
    inspection = (
        Inspection.objects.select_related("plan__item", "plan__department", "entity").filter(pk=pk).first()
        if is_row_id(pk)
        else None
    )
    if inspection is None:
        raise Http404
    official = getattr(user, "official", None) if getattr(user, "is_authenticated", False) else None
    drawn = official is not None and inspection.assignments.filter(official=official).exists()
    if not (drawn and has_role(user, Role.INSPECTOR)) and not may_manage(user, inspection.plan.department):
        raise Http404
    return inspection
