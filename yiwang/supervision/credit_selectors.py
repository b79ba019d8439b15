"""Reads of credit supervision: an entity's credit for officials, its public credit record, the
public serious-dishonesty list, repair applications and risk warnings."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from yiwang.identity.permissions import departments_for
from yiwang.supervision.models import DishonestyEntry, MarketEntity, Penalty, RepairApplication, RiskWarning


def entity_by_code(code: str) -> MarketEntity | None:
    code = (code or "").strip().upper()
    return MarketEntity.objects.filter(credit_code=code).first() if len(code) == 18 else None


def public_record(entity: MarketEntity) -> dict:
    """What the rules make public of an entity's credit (docs/supervision.md § Credit): its list
    entries (in force and removed, with their dates, basis and deciding department) and its public
    penalties (number, date, kind, deciding department). Not the score, the tier, the explanation,
    unpublished penalties, repair statements or warnings."""
    return {
        "entries": list(entity.dishonesty.select_related("department").order_by("-listed_on", "-pk")),
        "penalties": list(Penalty.objects.filter(entity=entity, is_public=True).select_related("department")),
    }


def listed_entries(*, include_removed: bool = False) -> QuerySet[DishonestyEntry]:
    qs = DishonestyEntry.objects.select_related("entity", "department")
    return qs if include_removed else qs.filter(state=DishonestyEntry.State.LISTED)


def repairs_for_entity(entity: MarketEntity) -> QuerySet[RepairApplication]:
    return RepairApplication.objects.filter(entry__entity=entity).select_related("entry")


def warnings_for(user, *, state: str = "") -> QuerySet[RiskWarning]:
    """Warnings of the departments whose supervision ``user`` sees (inspectors and managers)."""
    from yiwang.supervision.permissions import WORKBENCH_ROLES

    ids: set[int] | None = set()
    for role in WORKBENCH_ROLES:
        reach = departments_for(user, role)
        if reach is None:
            ids = None
            break
        ids |= set(reach)
    qs = RiskWarning.objects.select_related("entity", "department")
    if ids is not None:
        qs = qs.filter(department_id__in=ids)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("state", "due_date", "pk")


def overdue(qs: QuerySet[RiskWarning]) -> QuerySet[RiskWarning]:
    return qs.filter(~Q(state=RiskWarning.State.CLOSED), due_date__lt=timezone.localdate())
