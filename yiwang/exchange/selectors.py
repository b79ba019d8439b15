"""Reads of the exchange's catalog for other apps and for the gateway.

Other apps (open data, applications, the tracker) read resources, fields and grants through
these functions, never through the models' internals.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from yiwang.exchange.models import DataResource, Grant, ResourceField, ResourceState


def resource_by_code(code: str) -> DataResource | None:
    """The resource with this code (any state), with its provider; None if there is none."""
    return DataResource.objects.select_related("provider").filter(code=str(code).strip().upper()).first()


def published_resources() -> QuerySet[DataResource]:
    return DataResource.objects.select_related("provider").filter(state=ResourceState.PUBLISHED)


def fields_of(resource: DataResource) -> list[ResourceField]:
    """The resource's fields in their order."""
    return list(ResourceField.objects.filter(resource=resource).order_by("position", "pk"))


def has_personal_fields(resource: DataResource) -> bool:
    return ResourceField.objects.filter(resource=resource).exclude(personal="").exists()


def grants_in_force(*, consumer_id: int, resource: DataResource, at=None) -> QuerySet[Grant]:
    """Grants of ``resource`` to the department ``consumer_id`` valid at ``at`` (default now)."""
    at = at or timezone.now()
    return Grant.objects.filter(
        consumer_id=consumer_id,
        resource=resource,
        revoked_at__isnull=True,
        valid_from__lte=at,
        valid_until__gt=at,
    ).order_by("-created_at", "-pk")


def standing_grants(*, consumer_id: int | None = None, at=None) -> QuerySet[Grant]:
    """Standing grants in force (the platform's forms and rules fetch facts under them): the
    query form of ``Grant.in_force``, which a test holds to the same answer."""
    at = at or timezone.now()
    qs = Grant.objects.select_related("resource", "consumer").filter(
        Q(standing=True), revoked_at__isnull=True, valid_from__lte=at, valid_until__gt=at
    )
    return qs.filter(consumer_id=consumer_id) if consumer_id is not None else qs


def search_resources(
    qs: QuerySet[DataResource],
    *,
    q: str = "",
    provider: str = "",
    kind: str = "",
    share_class: str = "",
    state: str = "",
) -> QuerySet[DataResource]:
    """Narrow a catalog queryset: text in the code, name, description or a field's label; the
    provider's code; kind, share class and state (unknown values match nothing)."""
    text = (q or "").strip()[:100]
    if text:
        qs = qs.filter(
            Q(code__icontains=text)
            | Q(name__icontains=text)
            | Q(description__icontains=text)
            | Q(fields__label_zh__icontains=text)
            | Q(fields__name__icontains=text)
        ).distinct()
    if provider:
        qs = qs.filter(provider__code=provider.strip())
    if kind:
        qs = qs.filter(kind=kind)
    if share_class:
        qs = qs.filter(share_class=share_class)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("code")


def base_rows_public(code: str, *, batch_size: int = 5000):
    """The values of the fields that are not personal information of every row of the published
    base resource ``code``, in row order (personal fields are never unsealed here): what other
    apps copy from a register (supervision's market entities from A02001). Empty when the resource
    is missing or not published (fail closed)."""
    from yiwang.exchange.models import ResourceRow

    resource = DataResource.objects.filter(code=code, state=ResourceState.PUBLISHED).first()
    if resource is None:
        return
    last = 0
    while True:
        batch = list(
            ResourceRow.objects.filter(resource=resource, row_no__gt=last)
            .order_by("row_no")
            .values_list("row_no", "data")[:batch_size]
        )
        if not batch:
            return
        for _row_no, data in batch:
            yield data
        last = batch[-1][0]


class ListLookupFailed(Exception):  # noqa: N818 — named for what happened
    """The serious-dishonesty list could not be read: callers fail closed (treat as "ask a person")."""


def dishonesty_listed(credit_code: str) -> dict | None:
    """The serious-dishonesty list's (A03001) entry in force for ``credit_code``: ``{"basis",
    "department", "decision_number", "listed_on"}``, or None when the entity is not listed (never
    listed, or removed). Raises ``ListLookupFailed`` when the list is not published or cannot be
    read, so that joint punishment never lets a listed entity through by a fallback."""
    from yiwang.exchange import basedata
    from yiwang.exchange.registers import base_row

    if not DataResource.objects.filter(code=basedata.DISHONESTY_LIST, state=ResourceState.PUBLISHED).exists():
        raise ListLookupFailed("the serious-dishonesty list is not published")
    try:
        values = base_row(basedata.DISHONESTY_LIST, (credit_code or "").strip().upper())
    except Exception as exc:  # a broken row or store: fail closed
        raise ListLookupFailed(str(exc)) from exc
    if not values or values.get("listed") is not True:
        return None
    return {k: values.get(k) for k in ("basis", "department", "decision_number", "listed_on")}
