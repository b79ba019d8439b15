"""Reads of the gateway's records for its pages: a department's API keys, the calls it made, and
the calls others made on its data. Department sets come from ``identity.permissions.departments_for``
(``None``: every department, for superusers)."""

from __future__ import annotations

from django.db.models import QuerySet

from yiwang.exchange.models import ApiCredential, CallLog

READ_ROLES = ("data_steward", "leader", "auditor")  # who reads a department's gateway records


def _within(qs: QuerySet, field: str, department_ids: set[int] | None) -> QuerySet:
    return qs if department_ids is None else qs.filter(**{f"{field}__in": department_ids})


def credentials_of(department_ids: set[int] | None) -> QuerySet[ApiCredential]:
    """API keys of the departments, newest first, with who created them."""
    qs = ApiCredential.objects.select_related("department", "created_by", "system")
    return _within(qs, "department_id", department_ids).order_by("-created_at", "-pk")


def calls_made(department_ids: set[int] | None, *, outcome: str = "") -> QuerySet[CallLog]:
    """Calls the departments made (the consumer side), newest first."""
    qs = CallLog.objects.select_related("consumer", "resource__provider", "credential")
    qs = _within(qs, "consumer_id", department_ids)
    return (qs.filter(outcome=outcome) if outcome else qs).order_by("-at", "-pk")


def calls_on(department_ids: set[int] | None, *, outcome: str = "") -> QuerySet[CallLog]:
    """Calls made on the departments' resources (the provider side: who used our data), newest first."""
    qs = CallLog.objects.select_related("consumer", "resource", "grant", "credential")
    qs = _within(qs, "resource__provider_id", department_ids)
    return (qs.filter(outcome=outcome) if outcome else qs).order_by("-at", "-pk")
