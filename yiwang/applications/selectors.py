"""Reads for applications: queues, a case's timeline and waits, progress lookup."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.utils import timezone

from yiwang.identity.models import Role
from yiwang.identity.permissions import departments_for
from yiwang.identity.selectors import id_last4_matches
from yiwang.lib.bilingual import pick
from yiwang.lib.workdays import workdays_between

from .models import DECISION_LABELS, Case, CaseEvent, Notice, Rectification, Task
from .permissions import QUEUE_ROLES

QUEUES = ("accept", "review", "approve", "overdue", "due_soon", "mine")
QUEUE_ROLE = {"accept": Role.CLERK, "review": Role.REVIEWER, "approve": Role.APPROVER}
PAGE_SIZE = 50


def _scope(user, role: str) -> Q | None:
    """Open tasks of ``role`` in the departments where the user holds it; None: nothing."""
    departments = departments_for(user, role)
    if departments is None:
        return Q(role=role)
    if not departments:
        return None
    return Q(role=role, department_id__in=sorted(departments))


# What a queue row shows: loading whole cases (their workflow state is ~13 KB of JSON) would
# dominate the page.
QUEUE_ROW_FIELDS = (
    "pk",
    "title",
    "role",
    "department_id",
    "state",
    "decisions",
    "opened_at",
    "due_date",
    "flag",
    "case_id",
    "claimed_by_id",
    "case__number",
    "case__item_id",
    "case__item__name",
    "claimed_by__username",
    "claimed_by__display_name",
)


# Roles that supervise their departments' deadlines without handling cases: they see the overdue
# and due-soon queues of every case role there (read-only: the rows open the case page).
SUPERVISOR_ROLES = ("leader", "admin")


def _supervision_scope(user) -> Q | None:
    found: Q | None = None
    for role in SUPERVISOR_ROLES:
        departments = departments_for(user, role)
        if departments is None:
            return Q(role__in=QUEUE_ROLES)
        if departments:
            scope = Q(role__in=QUEUE_ROLES, department_id__in=sorted(departments))
            found = scope if found is None else found | scope
    return found


def queues_for(user) -> list[str]:
    """The workbench queues that can hold something for ``user``: one per case role they hold,
    the deadline queues for those and for supervisors, "mine" for those who handle cases."""
    handles = [which for which, role in QUEUE_ROLE.items() if departments_for(user, role) != set()]
    supervises = _supervision_scope(user) is not None
    deadlines = ["overdue", "due_soon"] if handles or supervises else []
    return handles + deadlines + (["mine"] if handles else [])


def handled_departments(user) -> dict[str, set[int] | None]:
    """For each case role, the departments where ``user`` handles it (None: all), for marking
    which queue rows the viewer may act on without a query per row."""
    return {role: departments_for(user, role) for role in QUEUE_ROLES}


def queue(user, which: str) -> QuerySet[Task]:
    """The open tasks in one of the workbench queues, oldest first (overdue: most overdue first).
    Narrow rows: page it with ``queue_page``, which loads the shown rows in full."""
    base = Task.objects.filter(state=Task.State.OPEN)
    if which in QUEUE_ROLE:
        scope = _scope(user, QUEUE_ROLE[which])
        # 办结 (handing out the result) is a clerk's task too: it sits in the acceptance queue.
        return base.filter(scope).order_by("opened_at", "pk") if scope is not None else base.none()
    scopes = [s for s in (_scope(user, role) for role in QUEUE_ROLES) if s is not None]
    if which in ("overdue", "due_soon"):
        supervision = _supervision_scope(user)
        if supervision is not None:
            scopes.append(supervision)
    if not scopes:
        return base.none()
    combined = scopes[0]
    for s in scopes[1:]:
        combined |= s
    qs = base.filter(combined)
    if which == "overdue":
        return qs.filter(due_date__lt=timezone.localdate()).order_by("due_date", "pk")
    if which == "due_soon":
        return qs.filter(flag=Task.Flag.DUE_SOON).order_by("due_date", "pk")
    if which == "mine":
        return qs.filter(claimed_by=user).order_by("opened_at", "pk")
    raise ValueError(f"unknown queue {which!r}")


SEARCH_MAX = 64


def search_queue(queryset: QuerySet[Task], *, q: str = "", item: str = "", by_applicant: bool = False):
    """Narrow a queue: ``q`` finds a case by the start of its number or a word of its service's
    name, and — for officials who handle the cases (``by_applicant``) — by the applicant's exact
    name; ``item`` keeps one service item (its code). Supervisors never search by applicant: the
    answer would tell them who applied."""
    q, item = q.strip()[:SEARCH_MAX], item.strip()[:SEARCH_MAX]
    if item:
        queryset = queryset.filter(case__item__code=item)
    if q:
        match = Q(case__number__startswith=q) | Q(case__item__name__icontains=q)
        if by_applicant:
            match |= Q(case__applicant__display_name=q)
        queryset = queryset.filter(match)
    return queryset


def queue_items(user, which: str) -> list[tuple[str, str]]:
    """(code, name) of the service items that have tasks in the queue, for the item filter."""
    rows = queue(user, which).order_by().values_list("case__item__code", "case__item__name").distinct()
    return sorted(set(rows), key=lambda row: row[1])


def queue_page(user, which: str, page_number, per_page: int = PAGE_SIZE, *, q: str = "", item: str = ""):
    """One page of a queue (searched with ``search_queue``): sort and count on the narrow task
    rows only, then load the page's rows with what the queue shows (a constant number of queries
    whatever the page)."""
    # By applicant only where every row is a task the viewer handles.
    by_applicant = which in QUEUE_ROLE or which == "mine" or _supervision_scope(user) is None
    tasks = search_queue(queue(user, which), q=q, item=item, by_applicant=by_applicant)
    paginator = Paginator(tasks.values_list("pk", flat=True), per_page)
    page = paginator.get_page(page_number)
    ids = list(page.object_list)
    rows = (
        Task.objects.filter(pk__in=ids)
        .select_related("case", "case__item", "claimed_by")
        .only(*QUEUE_ROW_FIELDS)
    )
    by_id = {t.pk: t for t in rows}
    page.object_list = [by_id[pk] for pk in ids if pk in by_id]
    return page


def my_cases(user) -> QuerySet[Case]:
    return (
        Case.objects.filter(applicant=user)
        .select_related("item", "department")
        .order_by("-created_at", "-pk")
    )


def open_draft(user, item, enterprise=None) -> Case | None:
    """The applicant's latest draft of this item for the same enterprise (or for themself),
    outside any life-event bundle, or None: "apply" re-opens it instead of starting another."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Case.objects.filter(
            applicant=user,
            item=item,
            enterprise=enterprise,
            status=Case.Status.DRAFT,
            bundle_case__isnull=True,
        )
        .order_by("-updated_at", "-pk")
        .first()
    )


def timeline(case: Case) -> list[CaseEvent]:
    """The case's events in order; each gets a ``label`` to show (step and decision)."""
    events = sorted(case.events.all(), key=lambda e: (e.at, e.pk))  # prefetched ones need no query
    for e in events:
        if e.kind == CaseEvent.Kind.DECIDED:
            e.label = f"{pick(e.step)}: {DECISION_LABELS.get(e.decision, e.decision)}"
        else:
            e.label = e.get_kind_display()
        if e.kind == CaseEvent.Kind.INSTANT:  # the rules' own texts, 中文 | English each
            e.comment = "; ".join(pick(part) for part in e.comment.split("; "))
    return events


@dataclass(frozen=True)
class Wait:
    step: str
    role: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    hours: float
    workdays: int
    decision: str

    @property
    def decision_label(self) -> str:
        """The decision in the reader's language (a process's own codes are shown as they are)."""
        return str(DECISION_LABELS.get(self.decision, self.decision))


def _wait(task: Task, now: dt.datetime) -> Wait:
    end = task.closed_at or now
    return Wait(
        step=pick(task.title),
        role=task.role,
        opened_at=task.opened_at,
        closed_at=task.closed_at,
        hours=round((end - task.opened_at).total_seconds() / 3600, 1),
        workdays=workdays_between(timezone.localdate(task.opened_at), timezone.localdate(end)),
        decision=task.decision,
    )


def waits(case: Case) -> list[Wait]:
    """How long the case waited at each step (open steps up to now): for leaders."""
    return waits_of_cases([case])[case.pk]


def waits_of_cases(cases) -> dict[int, list[Wait]]:
    """``waits`` for many cases with one query (a page of the waiting-times list)."""
    now = timezone.now()
    result: dict[int, list[Wait]] = {case.pk: [] for case in cases}
    tasks = Task.objects.filter(case_id__in=list(result)).order_by("case_id", "opened_at", "pk")
    for task in tasks.only("case_id", "title", "role", "opened_at", "closed_at", "decision"):
        result[task.case_id].append(_wait(task, now))
    return result


def track(number: str, id_last4: str) -> Case | None:
    """The case for the no-sign-in progress query: the number and the last four characters of
    the applicant's identity number must both match; either wrong gives None (same answer)."""
    number, id_last4 = str(number or "").strip(), str(id_last4 or "").strip().upper()
    if not number or len(number) > 32 or len(id_last4) != 4:
        return None
    case = Case.objects.select_related("item", "department").filter(number=number).first()
    if case is None:
        return None
    if not id_last4_matches(case.applicant_id, id_last4):
        return None
    return case


def own_case_by_number(user, number: str) -> Case | None:
    """The signed-in user's own submitted case with this number, or None."""
    if not getattr(user, "is_authenticated", False) or not number or len(number) > 32:
        return None
    return Case.objects.filter(applicant=user, number=number).first()


def unread_notices(user) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


def rectifications_for(user) -> QuerySet[Rectification]:
    departments = departments_for(user, "admin")
    leader = departments_for(user, "leader")
    qs = Rectification.objects.select_related("rating", "rating__case", "rating__case__item")
    if departments is None or leader is None:
        return qs.order_by("state", "due_date")
    scope = (departments or set()) | (leader or set())
    return qs.filter(department_id__in=sorted(scope)).order_by("state", "due_date")


@dataclass(frozen=True)
class ProcessStep:
    id: str
    title: str
    kind: str  # "user" or "rules"
    role: str
    status: str
    decisions: tuple[str, ...]


@dataclass(frozen=True)
class ProcessOutline:
    """What a process version does, for the versions page: its steps and the form fields it reads."""

    steps: list[ProcessStep]
    fields: list[str]
    error: str = ""  # the model cannot be read any more (refused by a check added later)


def process_outline(process) -> ProcessOutline:
    """The steps (user tasks and decision tables, in document order) of a stored version and
    the form fields its conditions and rules read. Never raises for a bad model."""
    from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
    from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin

    from . import engine, verification

    try:
        spec = engine.parse_process(process.bpmn, [process.dmn] if process.dmn.strip() else [])
    except engine.ModelError as exc:
        return ProcessOutline(steps=[], fields=[], error="; ".join(exc.messages))
    steps = []
    for task_spec in spec.spec.task_specs.values():
        if not getattr(task_spec, "bpmn_id", None):
            continue
        props = (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}
        if isinstance(task_spec, UserTask):
            kind = "user"
        elif isinstance(task_spec, BusinessRuleTaskMixin):
            kind = "rules"
        else:
            continue
        steps.append(
            ProcessStep(
                id=task_spec.bpmn_id,
                title=task_spec.bpmn_name or task_spec.bpmn_id,
                kind=kind,
                role=props.get("role", ""),
                status=props.get("status", ""),
                decisions=tuple(d.strip() for d in props.get("decisions", "").split(",") if d.strip()),
            )
        )
    return ProcessOutline(steps=steps, fields=sorted(verification.names_used(spec)))
