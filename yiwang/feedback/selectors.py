"""Reads of 12345 feedback, for pages, the Open311 API and other apps (supervision counts
complaints per market entity and per area with ``complaint_counts`` / ``complaints_for_entity``).

What the public may see of an item is ``PublicItem``: never the filer, the contact, the address
or the precise point.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from yiwang.feedback import workflow
from yiwang.feedback.models import Item, RoutingRule
from yiwang.feedback.permissions import region_chain
from yiwang.identity.models import Department, Region
from yiwang.identity.permissions import department_subtree_ids, departments_for, is_superuser, official_of

# A public point is rounded to two decimals of a degree: about 1.1 km north–south.
PUBLIC_POINT_DECIMALS = Decimal("0.01")
PUBLIC_STATUSES = (Item.Status.REPLIED, Item.Status.RATED, Item.Status.CLOSED)
# What may identify a person in free text: long digit runs (phones, identity numbers, house and
# account numbers), e-mail addresses. Names cannot be told reliably; the form asks not to write them.
_PERSONAL_TEXT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+|\d[\d\s-]{5,}[\dXx]")


def redact(text: str) -> str:
    """``text`` with phone, identity and other long numbers and e-mail addresses blotted out."""
    return _PERSONAL_TEXT.sub("＊＊＊", text or "")


def department_for(category: str, region: Region | None) -> Department | None:
    """The department the routing table sends ``category`` in ``region`` to: the rule of the
    region itself, else of the nearest region above it; None when no rule applies."""
    if not category or region is None:
        return None
    chain = region_chain(region)
    rules = {
        r.region_id: r.department
        for r in RoutingRule.objects.filter(category=category, region_id__in=chain).select_related(
            "department"
        )
    }
    return next((rules[pk] for pk in chain if pk in rules), None)


def is_overdue(item: Item, today: dt.date | None = None) -> bool:
    """An item the department still owes a reply to, past its due date."""
    today = today or timezone.localdate()
    return item.status in workflow.OPEN and item.due_date is not None and item.due_date < today


def public_point(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    return value.quantize(PUBLIC_POINT_DECIMALS, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class PublicItem:
    """What anyone may read of an item (public page, Open311)."""

    pk: int
    number: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    category: str
    category_label: str
    area: str
    region_code: str
    latitude: Decimal | None
    longitude: Decimal | None
    text: str
    department: str
    filed_at: dt.datetime
    due_date: dt.date | None
    replied_at: dt.datetime | None
    reply: str
    overdue: bool


def public_view(item: Item) -> PublicItem:
    """The public view of ``item``: the coarse area is the region's name (with the city's) and
    the point rounded to ~1 km; no filer, contact or address."""
    region = item.region
    area = (
        region.name
        if region.parent is None or region.level == Region.Level.CITY
        else (f"{region.parent.name}{region.name}")
    )
    return PublicItem(
        pk=item.pk,
        number=item.number or "",
        kind=item.kind,
        kind_label=item.get_kind_display(),
        status=item.status,
        status_label=item.get_status_display(),
        category=item.category or item.suggested_category,
        category_label=item.get_category_display() if item.category else "",
        area=area,
        region_code=region.code,
        latitude=public_point(item.latitude),
        longitude=public_point(item.longitude),
        text=redact(item.text),
        department=item.department.name if item.department_id else "",
        filed_at=item.filed_at,
        due_date=item.due_date,
        replied_at=item.replied_at,
        reply=redact(item.reply) if item.status in PUBLIC_STATUSES else "",
        overdue=is_overdue(item),
    )


def _base() -> QuerySet[Item]:
    return Item.objects.select_related("region__parent", "department")


def my_items(user) -> QuerySet[Item]:
    if not getattr(user, "is_authenticated", False):
        return Item.objects.none()
    return _base().filter(filer=user)


def department_queue(user) -> QuerySet[Item]:
    """Items routed to the departments ``user`` handles, waiting for them (soonest due first)."""
    from yiwang.feedback.permissions import HANDLER_ROLES

    scope = None
    ids: set[int] = set()
    for role in HANDLER_ROLES:
        found = departments_for(user, role)
        if found is None:
            scope = "all"
            break
        ids |= found
    queryset = _base().filter(status__in=workflow.AWAITING_DEPARTMENT)
    if scope != "all":
        queryset = queryset.filter(department_id__in=ids)
    return queryset.order_by("due_date", "pk")


def department_done(user, limit: int = 20) -> list[Item]:
    """The latest items the departments of ``user`` replied to."""
    from yiwang.feedback.permissions import HANDLER_ROLES

    ids: set[int] = set()
    for role in HANDLER_ROLES:
        found = departments_for(user, role)
        if found is None:
            return list(_base().filter(status__in=PUBLIC_STATUSES).order_by("-replied_at")[:limit])
        ids |= found
    done = _base().filter(status__in=PUBLIC_STATUSES, department_id__in=ids)
    return list(done.order_by("-replied_at")[:limit])


def routing_queue(user) -> QuerySet[Item]:
    """Filed items waiting for ``user`` to route them (their 12345 office's region and below)."""
    from yiwang.feedback.permissions import hotline_office

    queryset = _base().filter(status=Item.Status.FILED).order_by("filed_at", "pk")
    if is_superuser(user):
        return queryset
    office = hotline_office(user)
    if office is None:
        return Item.objects.none()
    region = office.region
    codes = Q(region=region) | Q(region__parent=region) | Q(region__parent__parent=region)
    return queryset.filter(codes)


def handler_departments(user) -> QuerySet[Department]:
    official = official_of(user)
    if is_superuser(user):
        return Department.objects.all()
    if official is None:
        return Department.objects.none()
    return Department.objects.filter(pk__in=department_subtree_ids(official.department_id))


def rule_departments(user) -> QuerySet[Department]:
    """The departments whose routing rules ``user`` keeps (their administrators)."""
    from yiwang.identity.models import Role

    ids = departments_for(user, Role.ADMIN)
    if ids is None:
        return Department.objects.order_by("code")
    return Department.objects.filter(pk__in=ids).order_by("code")


def rules_of(departments: QuerySet[Department]) -> QuerySet[RoutingRule]:
    return (
        RoutingRule.objects.filter(department__in=departments)
        .select_related("region", "department")
        .order_by("region__code", "category")
    )


def public_items(*, category: str = "", region_code: str = "") -> QuerySet[Item]:
    """Replied items, newest reply first (public: read them through ``public_view``)."""
    queryset = _base().filter(status__in=PUBLIC_STATUSES)
    if category:
        queryset = queryset.filter(category=category)
    if region_code:
        queryset = queryset.filter(Q(region__code=region_code) | Q(region__parent__code=region_code))
    return queryset.order_by("-replied_at", "-pk")


def public_item(pk) -> Item | None:
    if not str(pk).isdigit() or len(str(pk)) > 12:
        return None
    return _base().filter(pk=int(pk), status__in=PUBLIC_STATUSES).first()


def item_by_number(number: str) -> Item | None:
    if not number or len(number) > 24:
        return None
    return _base().filter(number=number).first()


# --- for supervision: complaints per market entity and per area ------------------------------


def complaints_for_entity(credit_code: str, *, since: dt.datetime | None = None) -> QuerySet[Item]:
    """Complaints about the market entity with this unified social credit code."""
    queryset = Item.objects.filter(kind=Item.Kind.COMPLAINT, entity_credit_code=credit_code)
    if since is not None:
        queryset = queryset.filter(filed_at__gte=since)
    return queryset


def complaint_counts_by_entity(credit_codes: list[str] | None, *, since: dt.datetime) -> dict[str, int]:
    """How many complaints name each market entity (unified social credit code) since ``since``:
    code → count, entities without any left out; ``None`` counts for every entity named."""
    queryset = Item.objects.filter(kind=Item.Kind.COMPLAINT, filed_at__gte=since).exclude(
        entity_credit_code=""
    )
    if credit_codes is not None:
        queryset = queryset.filter(entity_credit_code__in=list(credit_codes))
    rows = queryset.values("entity_credit_code").annotate(n=Count("pk"))
    return {row["entity_credit_code"]: row["n"] for row in rows}


def complaint_counts(
    *, since: dt.date, until: dt.date, region_codes: list[str] | None = None
) -> Counter[tuple[str, str, dt.date]]:
    """How many complaints were filed per (region code, category, day) from ``since`` up to and
    including ``until`` (local days). The category is the routed one, else the suggested one."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    queryset = Item.objects.filter(kind=Item.Kind.COMPLAINT, filed_at__gte=start, filed_at__lt=end)
    if region_codes:
        queryset = queryset.filter(region__code__in=region_codes)
    rows = (
        queryset.annotate(day=TruncDate("filed_at", tzinfo=tz))
        .values("region__code", "category", "suggested_category", "day")
        .annotate(n=Count("pk"))
    )
    counts: Counter[tuple[str, str, dt.date]] = Counter()
    for row in rows:
        counts[(row["region__code"], row["category"] or row["suggested_category"], row["day"])] += row["n"]
    return counts
