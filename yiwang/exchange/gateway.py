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

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.core import throttle
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
        resource_code=str(resource_code or "")[:64],
        purpose=str(purpose or "").strip(),
        reference=str(reference or "")[:64],
        actor=actor,
        credential=credential,
        started=time.perf_counter(),
    )
    try:
        return _serve(call, fields=fields, filters=filters, q=q, sort=sort, limit=limit, offset=offset)
    except (ExchangeError, rowquery.QueryError) as exc:
        _record(call, outcome=outcome_of(exc), error=exc.message)
        raise


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
        resource_code=str(resource_code or "")[:64],
        purpose=str(purpose or "").strip(),
        reference="",
        actor=actor,
        credential=credential,
        started=time.perf_counter(),
    )
    return _record(call, outcome=outcome, error=error)


# --- the steps ---------------------------------------------------------------------------------


def _serve(call: _Call, *, fields, filters, q, sort, limit, offset) -> GatewayResult:
    if call.consumer is None or call.consumer.pk is None:
        raise NotAllowed(_("A call needs the consuming department."))
    if call.channel not in Channel.values:
        raise InvalidInput(_("Unknown channel."), {"channel": _("Unknown channel.")})
    if call.credential is not None and call.credential.department_id != call.consumer.pk:
        raise NotAllowed(_("This API key belongs to another department."))
    resource = _resource(call.resource_code)
    call.resource = resource
    _check_purpose(call.purpose)
    grant = _grant(call, resource)
    call.grant = grant
    _count_against_limit(grant)

    all_fields = list(resource.fields.all())
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
    page = _rows(resource, granted, wanted, query)

    unmasked = set(grant.unmasked_fields) & set(grant.fields)
    rows = masking.mask_rows(page.rows, wanted, unmasked)
    subjects = _subjects(page.rows, all_fields)
    call_log = _record(call, outcome=CallOutcome.OK, rows=len(rows), subjects=subjects)
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


def _resource(code: str) -> DataResource:
    resource = DataResource.objects.select_related("provider").filter(code=code).first() if code else None
    if resource is None or resource.state != ResourceState.PUBLISHED:
        raise NotFound(
            _("There is no published resource “%(code)s” in the catalog: check the code.") % {"code": code}
        )
    return resource


def _check_purpose(purpose: str) -> None:
    if not purpose:
        message = _("State the purpose of the call (what the data is used for).")
        raise InvalidInput(message, {"purpose": message})
    if len(purpose) > MAX_PURPOSE:
        message = _("The purpose has at most %(n)d characters.") % {"n": MAX_PURPOSE}
        raise InvalidInput(message, {"purpose": message})


def _when(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _grant(call: _Call, resource: DataResource) -> Grant:
    """The consumer's grant in force for ``resource`` (for the API: not a standing one); else
    ``NotAllowed`` saying which of the reasons it is."""
    now = timezone.now()
    grants = list(
        Grant.objects.filter(resource=resource, consumer=call.consumer).order_by("-created_at", "-pk")
    )
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
        # the widest grant in force (several can be, e.g. a renewal before the old one ends)
        return max(in_force, key=lambda g: (len(g.fields), g.created_at))
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


def _rows(resource, granted, wanted, query: rowquery.RowQuery) -> rowquery.RowPage:
    """The page of stored values (personal ones in clear: masked by the caller). Filters, text
    search and sort see only the granted fields."""
    if resource.source_kind != SourceKind.HTTP:
        return rowquery.run(resource, granted, query)
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
    ask = wanted + [
        f for f in resource.fields.all() if f.personal == PersonalKind.ID_NUMBER and f not in wanted
    ]
    return upstream.fetch(resource, ask, query, clear)


def _subjects(rows: list[dict], all_fields: list[ResourceField]) -> set[str]:
    id_fields = [f.name for f in all_fields if f.personal == PersonalKind.ID_NUMBER]
    values = {str(row[n]) for row in rows for n in id_fields if row.get(n) not in (None, "")}
    return set(vault.key_index_many(sorted(values))) if values else set()


def _record(call: _Call, *, outcome: str, error: str = "", rows: int = 0, subjects=()) -> CallLog:
    """Write the call, its data subjects and its audit entry in one transaction."""
    latency = (time.perf_counter() - call.started) * 1000
    with transaction.atomic():
        log = CallLog.objects.create(
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
            error=str(error)[:500],
        )
        if subjects:
            CallSubject.objects.bulk_create(
                [CallSubject(call=log, subject_index=s) for s in sorted(subjects)]
            )
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
