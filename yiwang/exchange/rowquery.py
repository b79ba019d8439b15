"""Querying the rows of a stored resource: filters, text search, sorting and paging.

One definition used by the gateway (``gateway``) and by the open data portal's
``datastore_search``. Filters compare a field with a value (or any of a list of values); a
personal field can be filtered only when it is the resource's key field, and then by its blind
index, because personal values are stored sealed. Bad filters raise ``QueryError`` naming what
to fix, before any query runs.
"""

import datetime
import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from yiwang.core.errors import ServiceError
from yiwang.exchange import rows as rowstore
from yiwang.exchange.models import DataResource, FieldType, ResourceField, ResourceRow

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_FILTER_VALUES = 100
MAX_OFFSET = 1_000_000


class QueryError(ServiceError):
    """A filter, sort or page the query cannot run (HTTP 400)."""

    status = 400


@dataclass(frozen=True)
class RowQuery:
    filters: Mapping[str, object]
    q: str = ""
    sort: Sequence[tuple[str, bool]] = ()  # (field, descending)
    limit: int = DEFAULT_LIMIT
    offset: int = 0


@dataclass
class RowPage:
    rows: list[dict]
    total: int
    limit: int
    offset: int
    total_was_estimated: bool = False  # see ``run``'s ``estimate_above``


def coerce(field: ResourceField, value):
    """A filter or loaded value converted to the field's type as stored in JSON (dates as ISO
    text); raises ValueError with a reason when it does not fit."""
    if value is None:
        return None
    t = field.type
    if t == FieldType.INTEGER:
        if isinstance(value, bool):
            raise ValueError(_("a whole number is expected"))
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if not text.lstrip("-").isdigit() or len(text) > 18:
            raise ValueError(_("a whole number is expected"))
        return int(text)
    if t == FieldType.DECIMAL:
        if isinstance(value, bool):
            raise ValueError(_("a number is expected"))
        try:
            number = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            raise ValueError(_("a number is expected")) from None
        if not number.is_finite() or abs(number) >= 10**15:
            raise ValueError(_("a number is expected"))
        return float(number)
    if t == FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "是", "y"):
            return True
        if text in ("false", "0", "no", "否", "n"):
            return False
        raise ValueError(_("true or false is expected"))
    if t == FieldType.DATE:
        if isinstance(value, datetime.datetime):
            return value.date().isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        try:
            return datetime.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError(_("a date like 2024-05-31 is expected")) from None
    if t == FieldType.DATETIME:
        if isinstance(value, datetime.datetime):
            return value.isoformat()
        try:
            return datetime.datetime.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError(_("a date and time like 2024-05-31T08:30:00 is expected")) from None
    text = str(value)
    if len(text) > 2000:
        raise ValueError(_("the text is longer than 2000 characters"))
    return text


def _field_map(fields: Sequence[ResourceField]) -> dict[str, ResourceField]:
    return {f.name: f for f in fields}


def rows_queryset(resource: DataResource, fields: Sequence[ResourceField], query: RowQuery) -> QuerySet:
    """The filtered and sorted (not paged) rows; raises QueryError for anything it cannot run."""
    by_name = _field_map(fields)
    qs = ResourceRow.objects.filter(resource=resource)
    if len(query.filters) > 20:
        raise QueryError(_("At most 20 filters at once."))
    for name, raw in query.filters.items():
        spec = by_name.get(name)
        if spec is None:
            raise QueryError(_("There is no field “%(name)s” to filter on.") % {"name": str(name)[:64]})
        values = list(raw) if isinstance(raw, (list, tuple)) else [raw]
        if not values or len(values) > MAX_FILTER_VALUES:
            raise QueryError(
                _("A filter takes 1 to %(n)d values (field “%(name)s”).")
                % {"n": MAX_FILTER_VALUES, "name": name}
            )
        try:
            values = [coerce(spec, v) for v in values]
        except ValueError as exc:
            raise QueryError(_("Filter on “%(name)s”: %(reason)s.") % {"name": name, "reason": exc}) from None
        if spec.is_personal:
            if name != resource.key_field:
                raise QueryError(
                    _("“%(name)s” is personal information: filter by the key field “%(key)s” instead.")
                    % {"name": name, "key": resource.key_field or "-"}
                )
            keys = [rowstore.key_for(resource, fields, v) for v in values]
            qs = qs.filter(key__in=keys) if len(keys) > 1 else qs.filter(key=keys[0])
        elif name == resource.key_field:
            keys = [str(v)[:64] for v in values]
            qs = qs.filter(key__in=keys) if len(keys) > 1 else qs.filter(key=keys[0])
        elif connection.vendor == "postgresql":
            # containment (data @> {"name": value}) is what the GIN index on the rows' data answers
            # (exchange migration 0003); for the scalars stored here it is equality
            cond = Q()
            for value in values:
                cond |= Q(data__contains={name: value})
            qs = qs.filter(cond)
        elif len(values) > 1:
            qs = qs.filter(**{f"data__{name}__in": values})
        else:
            qs = qs.filter(**{f"data__{name}": values[0]})
    text = (query.q or "").strip()
    if text:
        if len(text) > 200:
            raise QueryError(_("The search text is longer than 200 characters."))
        searchable = [f.name for f in fields if not f.is_personal and f.type == FieldType.STRING]
        if not searchable:
            raise QueryError(_("This resource has no text fields to search."))
        cond = Q()
        for name in searchable:
            cond |= Q(**{f"data__{name}__icontains": text})
        qs = qs.filter(cond)
    order = []
    for name, descending in query.sort:
        spec = by_name.get(name)
        if spec is None:
            raise QueryError(_("There is no field “%(name)s” to sort by.") % {"name": str(name)[:64]})
        if spec.is_personal:
            raise QueryError(
                _("“%(name)s” is personal information and cannot be sorted by.") % {"name": name}
            )
        order.append(f"{'-' if descending else ''}data__{name}")
    return qs.order_by(*order, "row_no")


def check_page(limit, offset) -> tuple[int, int]:
    try:
        limit = DEFAULT_LIMIT if limit in (None, "") else int(limit)
        offset = 0 if offset in (None, "") else int(offset)
    except (TypeError, ValueError):
        raise QueryError(_("limit and offset must be whole numbers.")) from None
    if not 0 <= limit <= MAX_LIMIT:
        raise QueryError(_("limit must be between 0 and %(n)d.") % {"n": MAX_LIMIT})
    if not 0 <= offset <= MAX_OFFSET:
        raise QueryError(_("offset must be between 0 and %(n)d.") % {"n": MAX_OFFSET})
    return limit, offset


def run(
    resource: DataResource,
    fields: Sequence[ResourceField],
    query: RowQuery,
    *,
    count: bool = True,
    estimate_above: int | None = None,
) -> RowPage:
    """One page of rows, every stored value (personal ones decrypted: the caller masks and keeps
    only what the reader may see). ``count``: also count every matching row — without a query
    when the page says it (it starts at the first match and is not full) or when nothing is
    filtered (the resource's ``row_count``, written with its rows in the same transactions).

    ``estimate_above``: count exactly only up to that many matches (CKAN's
    ``total_estimation_threshold``). Past it the total is estimated (``total_was_estimated``)
    from how far into the resource, in row order, the match after the threshold lies: matches
    spread evenly give the total; the estimate is never below the matches seen nor above the
    resource's rows. Reading up to the threshold's matches costs what a page that deep costs,
    however many match in all."""
    limit, offset = check_page(query.limit, query.offset)
    qs = rows_queryset(resource, fields, query)
    page = list(qs[offset : offset + limit]) if limit else []
    estimated = False
    if not count or (offset == 0 and len(page) < limit):
        total = len(page)
    elif not query.filters and not (query.q or "").strip():
        total = resource.row_count
    elif estimate_above is None:
        total = qs.count()
    else:
        total, estimated = _capped_count(resource, qs, max(int(estimate_above), 0))
        total = max(total, offset + len(page))
    return RowPage(
        rows=[rowstore.row_values(r) for r in page],
        total=total,
        limit=limit,
        offset=offset,
        total_was_estimated=estimated,
    )


def _capped_count(resource: DataResource, qs: QuerySet, cap: int) -> tuple[int, bool]:
    """(the number of matching rows, False) when at most ``cap`` match; else (an estimate, True):
    the first ``cap + 1`` matches in row order lie within the first ``last`` rows, so about
    ``(cap + 1) * row_count / last`` match in all. One query, reading at most ``cap + 1`` matches."""
    first = qs.order_by("row_no").values("row_no")[: cap + 1]
    with connection.cursor() as cursor:
        inner, params = first.query.get_compiler(using=qs.db).as_sql()
        row_no = connection.ops.quote_name(ResourceRow._meta.get_field("row_no").column)
        cursor.execute(f"SELECT COUNT(*), MAX({row_no}) FROM ({inner}) AS first_matches", params)  # noqa: S608
        n, last = cursor.fetchone()
    if n <= cap:
        return int(n), False
    estimate = round((cap + 1) * max(resource.row_count, 1) / max(int(last), 1))
    return min(max(estimate, cap + 1), max(resource.row_count, cap + 1)), True
