"""Who may do what with credit and risk warnings (docs/supervision.md § Credit, § Risk).

- An entity's credit page (score, tier, explanation, all penalties, repair applications): the
  supervising departments' inspectors and managers (any department: credit is shared supervision
  information); deciding a repair: the administrator or leader of the entry's deciding department.
- The public credit record and the list: everybody.
- Applying for repair: the entity's legal representative or agent (anyone else: 404).
- Warnings: the department's inspectors and managers (and those above); the steps per
  ``risk_workflow.TRANSITIONS``.
"""

from django.http import Http404

from yiwang.identity.permissions import has_role, is_row_id
from yiwang.supervision.credit_services import may_apply_for_repair
from yiwang.supervision.models import DishonestyEntry, RiskWarning
from yiwang.supervision.permissions import WORKBENCH_ROLES, may_view


def may_see_credit(user) -> bool:
    return any(has_role(user, role) for role in WORKBENCH_ROLES)


def get_entry_for_repair(user, pk) -> DishonestyEntry:
    """The list entry ``pk`` if ``user`` may apply for its repair (the entity's representative or
    agent); otherwise 404, the same for not listed, not theirs and not there."""
    entry = (
        DishonestyEntry.objects.select_related("entity", "department").filter(pk=pk).first()
        if is_row_id(pk)
        else None
    )
    if entry is None:
        raise Http404
    if not may_apply_for_repair(user, entry):
        raise Http404
    return entry


def get_warning_for_user(user, pk) -> RiskWarning:
    """The warning ``pk`` if its department is one the user's supervision roles reach; else 404."""
    warning = (
        RiskWarning.objects.select_related("entity", "department").filter(pk=pk).first()
        if is_row_id(pk)
        else None
    )
    if warning is None:
        raise Http404
    if not may_view(user, warning.department):
        raise Http404
    return warning
