"""Reads of supervision for pages, the API and other apps."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from yiwang.identity.permissions import departments_for
from yiwang.supervision import draw
from yiwang.supervision.models import Clause, DrawPlan, Inspection, Law, MarketEntity, SupervisionItem
from yiwang.supervision.permissions import WORKBENCH_ROLES

PUBLIC_STATES = (DrawPlan.State.PUBLISHED,)


def workbench_departments(user) -> set[int] | None:
    """Ids of the departments whose supervision the user sees; None: all (superuser)."""
    found: set[int] = set()
    for role in WORKBENCH_ROLES:
        ids = departments_for(user, role)
        if ids is None:
            return None
        found |= ids
    return found


def items_for(department_ids) -> QuerySet[SupervisionItem]:
    qs = SupervisionItem.objects.select_related("department", "region").annotate(n_basis=Count("basis"))
    return qs if department_ids is None else qs.filter(department_id__in=department_ids)


def plans_for(department_ids) -> QuerySet[DrawPlan]:
    qs = DrawPlan.objects.select_related("item", "department").defer("inputs")
    return qs if department_ids is None else qs.filter(department_id__in=department_ids)


def inspections_of_official(official) -> QuerySet[Inspection]:
    return (
        Inspection.objects.filter(assignments__official=official)
        .select_related("plan", "entity")
        .order_by("state", "publish_due", "pk")
    )


def overdue(department_ids=None, today=None) -> QuerySet[Inspection]:
    """Recorded results not published by their deadline (flagged on the workbench)."""
    today = today or timezone.localdate()
    qs = Inspection.objects.filter(state=Inspection.State.RECORDED, publish_due__lt=today).select_related(
        "plan", "entity"
    )
    return qs if department_ids is None else qs.filter(plan__department_id__in=department_ids)


def is_overdue(inspection: Inspection, today=None) -> bool:
    today = today or timezone.localdate()
    return bool(
        inspection.state == Inspection.State.RECORDED
        and inspection.publish_due
        and inspection.publish_due < today
    )


def laws() -> QuerySet[Law]:
    return Law.objects.annotate(n_clauses=Count("clauses", filter=Q(clauses__effective_until__isnull=True)))


def clauses_of(law: Law) -> QuerySet[Clause]:
    return Clause.objects.filter(law=law).order_by("number", "version")


def published_plans() -> QuerySet[DrawPlan]:
    return (
        DrawPlan.objects.filter(state__in=PUBLIC_STATES)
        .select_related("item", "department")
        .defer("inputs")
        .annotate(n_drawn=Count("inspections"))
        .order_by("-published_at", "-pk")
    )


def published_plan(pk) -> DrawPlan | None:
    from yiwang.identity.permissions import is_row_id

    if not is_row_id(pk):
        return None
    return (
        DrawPlan.objects.filter(pk=pk, state__in=PUBLIC_STATES).select_related("item", "department").first()
    )


def published_inputs(plan: DrawPlan) -> dict:
    return draw.unpack(plan.inputs)


def public_inspections(plan: DrawPlan) -> QuerySet[Inspection]:
    """A published plan's inspections: entity and position always; the result once published."""
    return (
        Inspection.objects.filter(plan=plan)
        .select_related("entity")
        .prefetch_related("assignments")
        .order_by("position")
    )


def published_results() -> QuerySet[Inspection]:
    return (
        Inspection.objects.filter(state=Inspection.State.PUBLISHED, plan__state__in=PUBLIC_STATES)
        .select_related("plan__item", "plan__department", "entity")
        .order_by("-published_at", "-pk")
    )


def entity_by_code(code: str) -> MarketEntity | None:
    code = (code or "").strip().upper()
    if len(code) != 18:
        return None
    return MarketEntity.objects.filter(credit_code=code).first()


def entity_public_record(entity: MarketEntity) -> dict:
    """What the rules make public about an entity: its register details (name, code, region,
    industry, registration status) and its published inspection results with the item and the
    department. Not public: the tier, the risk level, declared relations, unpublished results."""
    return {
        "entity": entity,
        "results": list(
            Inspection.objects.filter(
                entity=entity, state=Inspection.State.PUBLISHED, plan__state__in=PUBLIC_STATES
            )
            .select_related("plan__item", "plan__department")
            .order_by("-inspected_on", "-pk")
        ),
    }


def search_entities(q: str, limit: int = 20) -> list[MarketEntity]:
    q = (q or "").strip()[:64]
    if not q:
        return []
    if len(q) == 18:
        return list(MarketEntity.objects.filter(credit_code=q.upper())[:1])
    return list(MarketEntity.objects.filter(name__contains=q).order_by("name")[:limit])
