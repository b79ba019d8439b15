"""The exchange gateway: the one way anyone reads a shared resource's rows.

``query(...)`` serves a consuming department's call, whatever the channel: a department's
system through the API (``gateway_api``, with an API key) or the platform's own forms and rules
(``Channel.PLATFORM``, under standing grants). In order, it

1. finds the resource (unknown or unpublished: ``NotFound`` 404);
2. checks the purpose is stated (``InvalidInput`` 422);
3. finds the consumer's grant in force and says why there is none (``NotAllowed`` 403): no grant,
   only grants to other departments, revoked, expired, not yet valid, or a standing grant used
   from the API (standing grants serve the platform's forms and rules only);
4. counts the call against the grant's rate limit (``RateLimited`` 429 with the seconds to wait),
   shared by every process (``yiwang.core.throttle``);
5. checks the fields, filters and sort name only fields of the resource (``InvalidInput`` 422)
   and of the grant (``NotAllowed`` 403, naming the fields outside it);
6. reads the rows: a table resource through ``rowquery`` (bad filters or pages: ``QueryError``
   400), an http resource from its upstream within its deadline (``Unavailable`` 502 / 504);
7. masks personal fields (``masking``) unless the grant hands them over in clear;
8. records the call (``CallLog``: consumer, resource, grant, fields, purpose, rows, latency,
   outcome), the data subjects it returned (``CallSubject``: the blind index of each returned
   row's identity numbers) and an audit entry, in one transaction.

Refused calls are recorded as well (steps 1–6: their outcome and the message), then the refusal
is raised. Every refusal is an ``ExchangeError`` (or ``rowquery.QueryError``) carrying the
status the API answers with and a message in the caller's language naming what to fix.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.core import prepared, throttle
from yiwang.core.bulk import insert_with_children
from yiwang.exchange import masking, rowquery, upstream, vault
from yiwang.exchange.errors import (
    ExchangeError,
    InvalidInput,
    NotAllowed,
    NotFound,
    RateLimited,
    Unavailable,
)
from yiwang.exchange.models import (
    ApiCredential,
    CallLog,
    CallOutcome,
    CallSubject,
    Channel,
    DataResource,
    Grant,
    PersonalKind,
    ResourceField,
    ResourceState,
    SourceKind,
)
from yiwang.identity.models import Department

RATE_SCOPE = "exchange-grant"  # the throttle scope of the per-grant rate limits
RATE_WINDOW = 60  # seconds: grants give their limit per minute
MAX_PURPOSE = 500
MAX_FIELDS = 200


@dataclass(frozen=True)
class GatewayResult:
    """One answered call. ``rows``: the granted fields asked for (``fields``, in the resource's
    order), masked where the grant does not hand them over in clear (``masked_fields``);
    ``total``: every matching row; ``call_id``: the ``CallLog`` it was recorded as. ``provider``
    is the providing department (what a form shows as a fact's source)."""

    rows: list[dict]
    total: int
    fields: list[str]
    call_id: int
    limit: int = rowquery.DEFAULT_LIMIT
    offset: int = 0
    masked_fields: list[str] = field(default_factory=list)
    resource_code: str = ""
    resource_name: str = ""
    provider: Department | None = None
    grant_id: int | None = None


@dataclass
class _Call:
    """What is known of a call so far; written to the CallLog whatever the outcome."""

    consumer: Department
    channel: str
    resource_code: str
    purpose: str
    reference: str
    actor: object
    credential: ApiCredential | None
    started: float
    resource: DataResource | None = None
    grant: Grant | None = None
    fields: list[str] = field(default_factory=list)
    raw: dict = field(default_factory=dict)  # the caller's texts as given, checked in _serve


def _storable(value) -> str:
    """``value`` as text the database stores whatever it holds (NUL and lone surrogates
    replaced): what a refused call's record keeps of bad input."""
    text = str(value or "").replace("\x00", "\ufffd")
    return text.encode("utf-8", "replace").decode("utf-8") if not _readable(text) else text


_OUTCOMES = {
    NotFound: CallOutcome.NOT_FOUND,
    NotAllowed: CallOutcome.DENIED,
    RateLimited: CallOutcome.RATE_LIMITED,
}


def outcome_of(exc: Exception) -> str:
    """The CallLog outcome a refusal is recorded with."""
    if isinstance(exc, Unavailable):
        return CallOutcome.UPSTREAM_TIMEOUT if exc.status == 504 else CallOutcome.UPSTREAM_ERROR
    for kind, outcome in _OUTCOMES.items():
        if isinstance(exc, kind):
            return outcome
    return CallOutcome.INVALID


def query(
    *,
    consumer: Department,
    resource_code: str,
    fields: Sequence[str] | None,
    filters: Mapping,
    q: str = "",
    sort: Sequence = (),
    limit: int = rowquery.DEFAULT_LIMIT,
    offset: int = 0,
    purpose: str,
    channel: str,
    actor=None,
    credential: ApiCredential | None = None,
    reference: str = "",
) -> GatewayResult:
    """Serve one call of ``consumer`` to resource ``resource_code`` (see the module docstring).

    ``fields``: the field names wanted (None: every granted field); ``filters``: field name →
    value or list of values; ``q``: text searched in the granted text fields; ``sort``: field
    names (``"-name"`` descending) or ``(name, descending)`` pairs; ``purpose``: why, as the
    caller states it (recorded; the citizen sees it); ``channel``: ``Channel.API`` (with the
    ``credential`` used) or ``Channel.PLATFORM`` (``actor``: the user or system label the
    platform acts for; ``reference``: what for, e.g. ``case:<number>``).

    Side effects: one CallLog (with its CallSubjects when answered) and one audit entry, in one
    transaction, for answered and refused calls alike; the call counted against the grant's rate
    limit. Raises an ``ExchangeError`` or ``rowquery.QueryError`` when refused.
    """
    call = _Call(
        consumer=consumer,
        channel=channel,
        resource_code=_storable(resource_code)[:64],
        purpose=_storable(purpose).strip(),
        reference=_storable(reference)[:64],
        actor=actor,
        credential=credential,
        started=time.perf_counter(),
        raw={"purpose": purpose, "reference": reference, "resource_code": resource_code},
    )
    try:
        admitted = _admit(call, fields=fields, filters=filters, q=q, sort=sort)
    except (ExchangeError, rowquery.QueryError) as exc:
        _record(call, outcome=outcome_of(exc), error=exc.message)
        raise
    asked = {"fields": fields, "filters": filters, "q": q, "sort": sort, "limit": limit, "offset": offset}
    if admitted.resource.source_kind == SourceKind.HTTP:
        # the upstream is called outside any transaction: no lock is held while it answers
        try:
            _count_against_limit(admitted.grant)
            return _serve(call, admitted, **asked)
        except (ExchangeError, rowquery.QueryError) as exc:
            _record(call, outcome=outcome_of(exc), error=exc.message)
            raise
    # a stored resource: the count against the limit, the rows and the record (or the refusal's
    # record) in one transaction — one commit per call
    with transaction.atomic():
        try:
            _count_against_limit(admitted.grant)
            return _serve(call, admitted, **asked, nested=True)
        except (ExchangeError, rowquery.QueryError) as exc:
            _record(call, outcome=outcome_of(exc), error=exc.message, nested=True)
            refusal = exc
    raise refusal


def record_refusal(
    *,
    consumer: Department | None,
    resource_code: str,
    channel: str,
    outcome: str,
    error: str,
    credential: ApiCredential | None = None,
    actor=None,
    purpose: str = "",
) -> CallLog:
    """Record a call refused before it reached ``query`` (e.g. with an expired API key), with its
    audit entry, in one transaction."""
    call = _Call(
        consumer=consumer,
        channel=channel,
        resource_code=_storable(resource_code)[:64],
        purpose=_storable(purpose).strip(),
        reference="",
        actor=actor,
        credential=credential,
        started=time.perf_counter(),
    )
    return _record(call, outcome=outcome, error=error)


# --- the steps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Admitted:
    """A call past the checks that need no write: the resource, its fields, the grant chosen."""

    resource: DataResource
    fields: list[ResourceField]  # every field of the resource, in its order
    grant: Grant


def _admit(call: _Call, *, fields, filters, q, sort) -> _Admitted:
    """Steps 1–3: the resource, the purpose and the grant in force (one query), or the refusal."""
    if call.consumer is None or call.consumer.pk is None:
        raise NotAllowed(_("A call needs the consuming department."))
    if call.channel not in Channel.values:
        raise InvalidInput(_("Unknown channel."), {"channel": _("Unknown channel.")})
    if call.credential is not None and call.credential.department_id != call.consumer.pk:
        raise NotAllowed(_("This API key belongs to another department."))
    if not _readable(call.raw.get("resource_code")):
        raise _not_found(call.resource_code)
    now = timezone.now()
    resource, grants, all_fields = _resource_and_grants(call.resource_code, call.consumer, now)
    call.resource = resource
    _check_text(purpose=call.raw.get("purpose"), reference=call.raw.get("reference"))
    _check_purpose(call.purpose)
    _check_text(q=q, fields=fields, filters=filters, sort=sort)
    grant = _grant(call, resource, grants, asked=_asked_names(fields, filters, sort), now=now)
    call.grant = grant
    return _Admitted(resource=resource, fields=all_fields, grant=grant)


def _serve(
    call: _Call, admitted: _Admitted, *, fields, filters, q, sort, limit, offset, nested: bool = False
) -> GatewayResult:
    """Steps 5–8, the call counted against the limit already (``nested``: in ``query``'s
    transaction)."""
    resource, all_fields, grant = admitted.resource, admitted.fields, admitted.grant
    by_name = {f.name: f for f in all_fields}
    granted = [f for f in all_fields if f.name in set(grant.fields)]
    wanted = _wanted_fields(fields, granted, by_name)
    call.fields = [f.name for f in wanted]
    sort_pairs = _sort_pairs(sort)
    filters = _check_filters(filters)
    _check_names(
        {"filters": list(filters), "sort": [name for name, _desc in sort_pairs]}, by_name, set(grant.fields)
    )
    query = rowquery.RowQuery(filters=filters, q=str(q or ""), sort=sort_pairs, limit=limit, offset=offset)
    page = _rows(resource, all_fields, granted, wanted, query)

    unmasked = set(grant.unmasked_fields) & set(grant.fields)
    rows = masking.mask_rows(page.rows, wanted, unmasked)
    subjects = _subjects(page.rows, all_fields)
    call_log = _record(call, outcome=CallOutcome.OK, rows=len(rows), subjects=subjects, nested=nested)
    return GatewayResult(
        rows=rows,
        total=page.total,
        fields=call.fields,
        call_id=call_log.pk,
        limit=page.limit,
        offset=page.offset,
        masked_fields=[f.name for f in wanted if masking.is_masked(f, unmasked)],
        resource_code=resource.code,
        resource_name=resource.name,
        provider=resource.provider,
        grant_id=grant.pk,
    )


# The resource, its provider, the consumer's grants and the resource's fields are read in one
# statement on every call (built once from the models' metadata: the ORM's per-call query
# building cost more than the database work here). It joins the grants in force now, and the
# newest grant whatever its state (what a refusal names), to each field.


def _model_columns(model, alias: str) -> tuple[list, str]:
    fields = list(model._meta.concrete_fields)
    q = connection.ops.quote_name
    return fields, ", ".join(f"{alias}.{q(f.column)}" for f in fields)


@functools.cache
def _lookup_statement(vendor: str) -> tuple[str, list[tuple]]:
    """The lookup's SQL and, per model in the order of its columns, (model, fields, their column
    expressions, their converters from database values)."""
    q = connection.ops.quote_name
    parts = []
    selects = []
    for model, alias in ((DataResource, "r"), (Department, "p"), (Grant, "g"), (ResourceField, "f")):
        fields, columns = _model_columns(model, alias)
        cols = [f.get_col(model._meta.db_table) for f in fields]
        converters = [connection.ops.get_db_converters(c) + c.get_db_converters(connection) for c in cols]
        parts.append((model, fields, cols, converters))
        selects.append(columns)
    table = {m: q(m._meta.db_table) for m in (DataResource, Department, Grant, ResourceField)}
    g = {
        name: q(Grant._meta.get_field(name).column)
        for name in ("id", "resource", "consumer", "revoked_at", "valid_from", "valid_until", "created_at")
    }
    r_id, r_code = q(DataResource._meta.pk.column), q(DataResource._meta.get_field("code").column)
    r_provider = q(DataResource._meta.get_field("provider").column)
    p_id = q(Department._meta.pk.column)
    f_resource = q(ResourceField._meta.get_field("resource").column)
    f_position, f_id = q(ResourceField._meta.get_field("position").column), q(ResourceField._meta.pk.column)
    sql = (
        f"SELECT {', '.join(selects)} FROM {table[DataResource]} r "  # noqa: S608 — model metadata only
        f"INNER JOIN {table[Department]} p ON p.{p_id} = r.{r_provider} "
        f"LEFT JOIN {table[Grant]} g ON g.{g['resource']} = r.{r_id} AND g.{g['consumer']} = %s AND ("
        f"(g.{g['revoked_at']} IS NULL AND g.{g['valid_from']} <= %s AND g.{g['valid_until']} > %s) "
        f"OR g.{g['id']} = (SELECT n.{g['id']} FROM {table[Grant]} n WHERE n.{g['resource']} = r.{r_id} "
        f"AND n.{g['consumer']} = %s ORDER BY n.{g['created_at']} DESC, n.{g['id']} DESC LIMIT 1)) "
        f"LEFT JOIN {table[ResourceField]} f ON f.{f_resource} = r.{r_id} "
        f"WHERE r.{r_code} = %s "
        f"ORDER BY g.{g['created_at']} DESC, g.{g['id']} DESC, f.{f_position}, f.{f_id}"
    )
    return sql, parts


def _instance(part, values):
    """A model instance from its columns' raw values, converted as the ORM converts them."""
    model, fields, cols, converters = part
    converted = []
    for col, convs, value in zip(cols, converters, values, strict=True):
        for convert in convs:
            value = convert(value, col, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


def _resource_and_grants(code: str, consumer: Department, now) -> tuple[DataResource, list[Grant], list]:
    """The published resource (with its provider), the consumer's grants of it that are in force
    at ``now`` and its newest grant, newest first, and the resource's fields: one query."""
    if not code:
        raise _not_found(code)
    sql, parts = _lookup_statement(connection.vendor)
    at = connection.ops.adapt_datetimefield_value(now)
    with prepared.cursor() as cursor:
        cursor.execute(sql, [consumer.pk, at, at, consumer.pk, code])
        rows = cursor.fetchall()
    if not rows:
        raise _not_found(code)
    spans, start = [], 0
    for part in parts:
        spans.append(slice(start, start + len(part[1])))
        start += len(part[1])
    first = rows[0]
    resource = _instance(parts[0], first[spans[0]])
    if resource.state != ResourceState.PUBLISHED:
        raise _not_found(code)  # a draft or retired resource is as unknown as a wrong code
    resource.provider = _instance(parts[1], first[spans[1]])
    grants: dict[int, Grant] = {}
    fields: dict[int, ResourceField] = {}
    for row in rows:
        g_values, f_values = row[spans[2]], row[spans[3]]
        if g_values[0] is not None and g_values[0] not in grants:  # [0]: the primary key
            grant = grants[g_values[0]] = _instance(parts[2], g_values)
            grant.resource = resource
        if f_values[0] is not None and f_values[0] not in fields:
            spec = fields[f_values[0]] = _instance(parts[3], f_values)
            spec.resource = resource
    return resource, list(grants.values()), list(fields.values())


def _not_found(code: str) -> NotFound:
    return NotFound(
        _("There is no published resource “%(code)s” in the catalog: check the code.") % {"code": code}
    )


def _readable(value) -> bool:
    """Text a database can store and compare: no NUL, no lone surrogate (in nested values too)."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, (list, tuple)):
        return all(_readable(v) for v in value)
    if isinstance(value, Mapping):
        return all(_readable(k) and _readable(v) for k, v in value.items())
    return True


def _check_text(**values) -> None:
    for name, value in values.items():
        if not _readable(value):
            message = _("“%(name)s” holds characters that are not text.") % {"name": name}
            raise InvalidInput(message, {name: message})


def _check_purpose(purpose: str) -> None:
    if not purpose:
        message = _("State the purpose of the call (what the data is used for).")
        raise InvalidInput(message, {"purpose": message})
    if len(purpose) > MAX_PURPOSE:
        message = _("The purpose has at most %(n)d characters.") % {"n": MAX_PURPOSE}
        raise InvalidInput(message, {"purpose": message})


def _when(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _asked_names(fields, filters, sort) -> set[str]:
    """The field names a call names anywhere, read leniently (only to choose among grants;
    the names are checked properly later)."""
    names: set[str] = set()
    if isinstance(fields, str):
        names |= {n.strip() for n in fields.split(",")}
    elif isinstance(fields, (list, tuple)):
        names |= {n for n in fields if isinstance(n, str)}
    if isinstance(filters, Mapping):
        names |= {n for n in filters if isinstance(n, str)}
    for item in sort.split(",") if isinstance(sort, str) else sort if isinstance(sort, (list, tuple)) else ():
        name = item if isinstance(item, str) else item[0] if isinstance(item, (list, tuple)) and item else ""
        if isinstance(name, str):
            names.add(name.strip().lstrip("-"))
    return names - {""}


def _grant(
    call: _Call, resource: DataResource, grants: list[Grant], asked: set[str] = frozenset(), now=None
) -> Grant:
    """The consumer's grant in force for ``resource`` at ``now`` among ``grants`` (theirs, newest
    first: those in force and the newest; for the API: not a standing one); else ``NotAllowed``
    saying which of the reasons it is."""
    now = now or timezone.now()
    in_force = [g for g in grants if g.in_force(now)]
    names = {"code": resource.code, "dept": call.consumer.name}
    if call.channel == Channel.API:
        usable = [g for g in in_force if not g.standing]
        if in_force and not usable:
            raise NotAllowed(
                _(
                    "The grant of %(code)s to %(dept)s is a standing grant for the platform's forms "
                    "and rules; a system calling the API needs a grant of its own: request access."
                )
                % names
            )
        in_force = usable
    if in_force:
        # several can be in force (a renewal before the old one ends, grants for two purposes):
        # one that covers every field the call names, the widest of those, else the widest
        covering = [g for g in in_force if asked <= set(g.fields)] or in_force
        return max(covering, key=lambda g: (len(g.fields), g.created_at))
    if not grants:
        if Grant.objects.filter(resource=resource).exclude(consumer=call.consumer).exists():
            raise NotAllowed(
                _(
                    "%(dept)s holds no grant for %(code)s; grants to other departments do not "
                    "extend to it: request access for your department."
                )
                % names
            )
        raise NotAllowed(_("%(dept)s holds no grant for %(code)s: request access first.") % names)
    latest = grants[0]
    if latest.revoked_at is not None:
        raise NotAllowed(
            _("The grant of %(code)s to %(dept)s was revoked on %(when)s: request access again.")
            % {**names, "when": _when(latest.revoked_at)}
        )
    if latest.valid_from > now:
        raise NotAllowed(
            _("The grant of %(code)s to %(dept)s is valid from %(when)s.")
            % {**names, "when": _when(latest.valid_from)}
        )
    raise NotAllowed(
        _("The grant of %(code)s to %(dept)s expired on %(when)s: request access again.")
        % {**names, "when": _when(latest.valid_until)}
    )


def _count_against_limit(grant: Grant) -> None:
    limit = max(int(grant.rate_limit_per_minute), 0)
    attempt = throttle.attempt(
        (throttle.Rule(scope=RATE_SCOPE, limit=limit, window=RATE_WINDOW), str(grant.pk))
    )
    if not attempt.allowed:
        raise RateLimited(
            _("Over this grant's limit of %(n)d calls a minute: wait %(s)d seconds and call again.")
            % {"n": limit, "s": attempt.retry_after},
            retry_after=attempt.retry_after,
        )


def _names_list(value, what: str) -> list[str]:
    if isinstance(value, str):
        value = [v for v in (part.strip() for part in value.split(",")) if v]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        message = _("“%(what)s” is a list of field names.") % {"what": what}
        raise InvalidInput(message, {what: message})
    if len(value) > MAX_FIELDS:
        message = _("At most %(n)d field names.") % {"n": MAX_FIELDS}
        raise InvalidInput(message, {what: message})
    return list(dict.fromkeys(value))


def _shown(names) -> str:
    return "、".join(str(n)[:64] for n in sorted(names)[:20])


def _check_names(by_param: Mapping[str, list[str]], by_name: Mapping[str, ResourceField], granted: set[str]):
    """Every name must be a field of the resource (else 422) and of the grant (else 403)."""
    for param, names in by_param.items():
        unknown = [n for n in names if n not in by_name]
        if unknown:
            message = _("The resource has no field %(names)s (in “%(param)s”).") % {
                "names": _shown(unknown),
                "param": param,
            }
            raise InvalidInput(message, {param: message})
    outside = {n for names in by_param.values() for n in names if n not in granted}
    if outside:
        raise NotAllowed(
            _("Fields outside your grant: %(names)s. Request access to them first.")
            % {"names": _shown(outside)}
        )


def _wanted_fields(fields, granted: list[ResourceField], by_name) -> list[ResourceField]:
    if fields is None or fields == "" or fields == []:
        return granted
    names = _names_list(fields, "fields")
    _check_names({"fields": names}, by_name, {f.name for f in granted})
    chosen = set(names)
    return [f for f in granted if f.name in chosen]


def _check_filters(filters) -> dict:
    if filters is None:
        return {}
    if not isinstance(filters, Mapping) or not all(isinstance(k, str) for k in filters):
        message = _("“filters” maps field names to a value or a list of values.")
        raise InvalidInput(message, {"filters": message})
    return dict(filters)


def _sort_pairs(sort) -> list[tuple[str, bool]]:
    if isinstance(sort, str):
        sort = [s for s in (part.strip() for part in sort.split(",")) if s]
    if not isinstance(sort, (list, tuple)) or len(sort) > 5:
        message = _("“sort” is a list of up to 5 field names, “-name” for descending.")
        raise InvalidInput(message, {"sort": message})
    pairs = []
    for item in sort:
        if isinstance(item, str):
            pairs.append((item[1:], True) if item.startswith("-") else (item, False))
        elif isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str):
            pairs.append((item[0], bool(item[1])))
        else:
            message = _("“sort” is a list of up to 5 field names, “-name” for descending.")
            raise InvalidInput(message, {"sort": message})
    return pairs


def _rows(resource, all_fields, granted, wanted, query: rowquery.RowQuery) -> rowquery.RowPage:
    """The page of stored values (personal ones in clear: masked by the caller). Filters, text
    search and sort see only the granted fields."""
    if resource.source_kind != SourceKind.HTTP:
        return rowquery.run(resource, granted, query)  # counted only when the page does not say
    limit, offset = rowquery.check_page(query.limit, query.offset)
    query = rowquery.RowQuery(filters=query.filters, q=query.q, sort=query.sort, limit=limit, offset=offset)
    # the same filter and sort rules as stored rows (a lazy queryset: nothing runs)
    rowquery.rows_queryset(resource, granted, query)
    by_name = {f.name: f for f in granted}
    clear = {}
    for name, raw in query.filters.items():
        values = list(raw) if isinstance(raw, (list, tuple)) else [raw]
        coerced = [rowquery.coerce(by_name[name], v) for v in values]
        clear[name] = coerced if isinstance(raw, (list, tuple)) else coerced[0]
    # identity numbers are asked for too, for the record of whose data was returned
    ask = wanted + [f for f in all_fields if f.personal == PersonalKind.ID_NUMBER and f not in wanted]
    return upstream.fetch(resource, ask, query, clear)


def _subjects(rows: list[dict], all_fields: list[ResourceField]) -> set[str]:
    id_fields = [f.name for f in all_fields if f.personal == PersonalKind.ID_NUMBER]
    values = {str(row[n]) for row in rows for n in id_fields if row.get(n) not in (None, "")}
    return set(vault.key_index_many(sorted(values))) if values else set()


def _record(
    call: _Call, *, outcome: str, error: str = "", rows: int = 0, subjects=(), nested: bool = False
) -> CallLog:
    """Write the call, its data subjects and its audit entry in one transaction (``nested``: in
    ``query``'s own, which commits or rolls back the count, the rows and this record together)."""
    latency = (time.perf_counter() - call.started) * 1000
    with transaction.atomic(savepoint=not nested):
        log = CallLog(
            channel=call.channel if call.channel in Channel.values else Channel.API,
            consumer=call.consumer if call.consumer is not None and call.consumer.pk else None,
            credential=call.credential,
            actor=call.actor if isinstance(call.actor, AbstractBaseUser) else None,
            grant=call.grant,
            resource=call.resource,
            resource_code=call.resource_code,
            fields=call.fields,
            purpose=call.purpose[:MAX_PURPOSE],
            reference=call.reference,
            rows=rows,
            latency_ms=round(latency, 3),
            outcome=outcome,
            error=_storable(error)[:500],
        )
        # built once and prepared (one statement on PostgreSQL): nothing listens to these
        # models' save signals
        insert_with_children(log, CallSubject, "call", "subject_index", sorted(subjects))
        audit.record(
            actor=call.actor if call.actor is not None else (call.credential or "system:gateway"),
            event="exchange:call:answer" if outcome == CallOutcome.OK else "exchange:call:refuse",
            target=log,
            data={
                "resource": call.resource_code,
                "consumer": call.consumer.code if call.consumer is not None else "",
                "channel": log.channel,
                "grant": call.grant.pk if call.grant else None,
                "fields": call.fields,
                "rows": rows,
                "subjects": len(subjects),
                "outcome": outcome,
                "reference": call.reference,
            },
        )
    return log
