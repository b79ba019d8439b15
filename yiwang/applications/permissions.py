"""Who may see and change a case. "Not yours" and "does not exist" give the same 404."""

from __future__ import annotations

from django.http import Http404

from yiwang.identity.models import CASE_ROLES, WORKBENCH_ROLES, Role
from yiwang.identity.permissions import has_role, is_row_id

from .models import Case, Process, Task

# Officials who may read a case of their department (or one under it).
CASE_READER_ROLES = (*WORKBENCH_ROLES, Role.AUDITOR)
QUEUE_ROLES = CASE_ROLES
MAX_VERSION = 2**31 - 1  # a process version is a PositiveIntegerField


def can_read_case_as_official(user, case: Case) -> bool:
    """Status, timeline and waits: any of CASE_READER_ROLES over the case's department."""
    return any(has_role(user, role, case.department_id) for role in CASE_READER_ROLES)


def can_handle_case(user, case: Case) -> bool:
    """The form's personal data and the uploaded files: only the roles that process cases
    (leaders, administrators and auditors see status and times, not the applicant's data)."""
    return any(has_role(user, role, case.department_id) for role in QUEUE_ROLES)


def can_see_applicant_data(user, case: Case) -> bool:
    """The one rule, for pages and API alike, for who sees the applicant's form data and
    materials (file names, links, the files themselves): the applicant, and officials who
    process cases of its department. Everyone else who may read the case sees its status,
    timeline and waits only."""
    if getattr(user, "pk", None) is not None and case.applicant_id == user.pk:
        return True
    return can_handle_case(user, case)


def get_case_for_user(user, number: str, *, for_write: bool = False) -> Case:
    """A case by number the user may see; writes: applicant only. ``draft-<pk>`` names a case
    by its draft id, for its applicant only (a submitted draft keeps answering to it, so a
    double-clicked submit lands on the case rather than on "not found")."""
    by_draft_name = str(number or "").startswith("draft-")
    case = _lookup(number)
    if case is None or not getattr(user, "is_authenticated", False):
        raise Http404("no such case")
    if case.applicant_id == user.pk:
        return case
    if not for_write and not by_draft_name and can_read_case_as_official(user, case):
        return case
    raise Http404("no such case")


def _lookup(number: str) -> Case | None:
    number = str(number or "")
    qs = Case.objects.select_related("item", "item__department", "department", "applicant", "enterprise")
    if number.startswith("draft-"):
        pk = number.removeprefix("draft-")
        return qs.filter(pk=pk).first() if is_row_id(pk) else None
    if len(number) > 32:
        return None
    return qs.filter(number=number).first()


def get_task_for_user(user, pk) -> Task:
    """An official's task of a department and role they hold (open or not), else 404."""
    if not is_row_id(pk) or not getattr(user, "is_authenticated", False):
        raise Http404("no such task")
    task = (
        Task.objects.select_related("case", "case__item", "case__department", "claimed_by")
        .filter(pk=pk)
        .first()
    )
    if task is None:
        raise Http404("no such task")
    if task.role == "applicant":
        if task.case.applicant_id == user.pk:
            return task
        raise Http404("no such task")
    if has_role(user, task.role, task.department_id):
        return task
    raise Http404("no such task")


def get_process_for_user(user, code: str, version) -> Process:
    """A process version of an item, for the administrators of the item's department (or of a
    department above it) only, else 404. Processes are the department's working documents."""
    if not is_row_id(version) or int(version) > MAX_VERSION or len(str(code)) > 64:
        raise Http404("no such process version")
    if not getattr(user, "is_authenticated", False):
        raise Http404("no such process version")
    process = (
        Process.objects.select_related("item", "item__department", "created_by")
        .filter(item__code=code, version=version)
        .first()
    )
    if process is None:
        raise Http404("no such process version")
    if has_role(user, "admin", process.item.department_id):
        return process
    raise Http404("no such process version")
