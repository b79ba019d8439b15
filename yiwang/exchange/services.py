"""Writes of the exchange's catalog: resources and their rows, the information systems and data
demands inventories, access requests and grants.

Who may do what (``permissions``): the data stewards of a providing department (and of the
departments above it) manage its resources and systems, load rows, decide requests for them,
grant and revoke; officials of a consuming department request for their department, withdraw
its requests and file its data demands. Superusers pass every check.

Every write locks what it changes, checks the state, records an audit entry in the same
transaction (``exchange:<subject>:<verb>``) and returns the changed object. Refusals raise the
``yiwang.exchange.errors`` family: ``InvalidInput`` (422, per field what to fix), ``WrongState``
(409), ``NotAllowed`` (403), ``NotFound`` (404); nothing is saved when one is raised.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.exchange import permissions, rowquery, rules, tables
from yiwang.exchange import rows as rowstore
from yiwang.exchange.errors import InvalidInput, NotAllowed, WrongState
from yiwang.exchange.models import (
    AccessRequest,
    DataDemand,
    DataResource,
    DemandState,
    Grant,
    InformationSystem,
    OpenClass,
    RequestState,
    ResourceField,
    ResourceRow,
    ResourceState,
    ShareClass,
    SourceKind,
)
from yiwang.identity.models import Department

MAX_PURPOSE = 1000
MAX_REASON = 1000
MAX_GRANT_DAYS = 3 * 366  # a request or grant runs at most about three years, then is asked again
MAX_ERRORS_SHOWN = 50  # bad cells reported per upload
ROW_BATCH = 2000
DEFAULT_RATE_LIMIT = 600


# --- helpers -----------------------------------------------------------------------------------


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotAllowed(message)


def _clean_text(value, limit: int) -> str:
    return ("" if value is None else str(value)).strip()[:limit]


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after ``day`` in the platform's time zone: a grant "until 31 May" runs
    through the whole of that day."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def _check_until(day, key: str = "valid_until") -> dt.date:
    today = timezone.localdate()
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise InvalidInput(_("Give a date."), {key: _("Needed until: a date like 2027-05-31.")})
    if day < today:
        raise InvalidInput(_("The date has passed."), {key: _("Needed until: today or a later date.")})
    if day > today + dt.timedelta(days=MAX_GRANT_DAYS):
        raise InvalidInput(
            _("The date is too far away."),
            {key: _("Needed until: at most %(n)d days from today; ask again later.") % {"n": MAX_GRANT_DAYS}},
        )
    return day


def _field_specs(fields: Sequence[Mapping]) -> list[dict]:
    out = []
    for spec in fields:
        grade = spec.get("grade", 2)
        if isinstance(grade, str) and grade.strip().isdigit():
            grade = int(grade)
        out.append(
            {
                "name": _clean_text(spec.get("name"), 64),
                "label_zh": _clean_text(spec.get("label_zh"), 101),
                "label_en": _clean_text(spec.get("label_en"), 101),
                "type": _clean_text(spec.get("type") or "string", 16),
                "grade": grade,
                "personal": _clean_text(spec.get("personal"), 16),
            }
        )
    return out


def resource_fields_as_specs(resource: DataResource) -> list[dict]:
    return [
        {
            "name": f.name,
            "label_zh": f.label_zh,
            "label_en": f.label_en,
            "type": f.type,
            "grade": f.grade,
            "personal": f.personal,
        }
        for f in resource.fields.all()
    ]


def _resource_data(resource: DataResource) -> dict:
    return {key: getattr(resource, key) for key in rules.RESOURCE_KEYS}


def _validate(data: Mapping, fields: Sequence[Mapping]) -> None:
    errors = rules.resource_errors(data, fields)
    if errors:
        raise InvalidInput(_("The resource cannot be saved: fix the fields named."), errors)


def _apply(resource: DataResource, data: Mapping) -> None:
    for key in rules.RESOURCE_KEYS:
        if key not in data or key == "code":
            continue
        value = data[key]
        if key in ("themes", "tags"):
            value = [str(v).strip() for v in (value or [])]
        elif key == "on_negative_list":
            value = bool(value)
        elif key == "upstream_timeout_ms":
            value = int(value) if value not in (None, "") else 3000
        else:
            value = "" if value is None else str(value).strip()
        setattr(resource, key, value)
    if resource.open_class == "":
        resource.open_class = OpenClass.NONE
    if resource.source_kind == "":
        resource.source_kind = SourceKind.TABLE


def _write_fields(resource: DataResource, specs: Sequence[Mapping]) -> None:
    resource.fields.all().delete()
    ResourceField.objects.bulk_create(
        [
            ResourceField(
                resource=resource,
                name=s["name"],
                label_zh=s["label_zh"],
                label_en=s["label_en"],
                type=s["type"],
                grade=int(s["grade"]),
                personal=s["personal"],
                position=i,
            )
            for i, s in enumerate(specs)
        ]
    )


def _system_for(provider: Department, system) -> InformationSystem | None:
    if system in (None, ""):
        return None
    if isinstance(system, InformationSystem):
        found = system
    else:
        found = InformationSystem.objects.filter(pk=system).first() if str(system).isdigit() else None
    if found is None or found.department_id != provider.pk:
        raise InvalidInput(
            _("Unknown information system."),
            {"system": _("Information system: choose one of the provider's systems.")},
        )
    return found


# --- resources ---------------------------------------------------------------------------------


@transaction.atomic
def resource_register(
    *, actor, provider: Department, data: Mapping, fields: Sequence[Mapping], system=None
) -> DataResource:
    """Register a resource of ``provider`` in the catalog, as a draft, with its fields. ``data``
    is keyed as ``rules.RESOURCE_KEYS``; ``fields`` as ``rules.FIELD_KEYS``. Raises InvalidInput
    with what to fix; NotAllowed unless the actor is a data steward of the provider."""
    _require(
        permissions.may_manage_department(actor, provider),
        _("Only a data steward of the providing department registers its resources."),
    )
    specs = _field_specs(fields)
    clean = {k: data.get(k) for k in rules.RESOURCE_KEYS}
    clean["code"] = _clean_text(clean.get("code"), 64).upper()
    _validate(clean, specs)
    if DataResource.objects.filter(code=clean["code"]).exists():
        raise InvalidInput(
            _("The resource cannot be saved: fix the fields named."),
            {"code": _("Resource code: %(code)s is taken by another resource.") % {"code": clean["code"]}},
        )
    resource = DataResource(code=clean["code"], provider=provider, system=_system_for(provider, system))
    _apply(resource, clean)
    try:
        with transaction.atomic():
            resource.save()
    except IntegrityError:
        raise InvalidInput(
            _("The resource cannot be saved: fix the fields named."),
            {"code": _("Resource code: %(code)s is taken by another resource.") % {"code": clean["code"]}},
        ) from None
    _write_fields(resource, specs)
    audit.record(
        actor=actor,
        event="exchange:resource:register",
        target=resource,
        data={"code": resource.code, "provider": provider.code, "fields": [s["name"] for s in specs]},
    )
    return resource


def _storage_shape(specs: Sequence[Mapping], key_field: str) -> tuple:
    return (key_field, tuple((s["name"], s["type"], bool(s["personal"])) for s in specs))


@transaction.atomic
def resource_update(
    *, actor, resource: DataResource, data: Mapping, fields: Sequence[Mapping] | None = None, system=...
) -> DataResource:
    """Change a resource's description (and its fields, when given). The code never changes. A
    resource with rows keeps the names, types and personal kinds of its fields and its key field
    (labels and grades may change); a field a grant in force covers is not removed."""
    resource = DataResource.objects.select_for_update().get(pk=resource.pk)
    _require(
        permissions.may_manage_resource(actor, resource),
        _("Only a data steward of the providing department changes its resources."),
    )
    if resource.state == ResourceState.RETIRED:
        raise WrongState(_("The resource is retired: it no longer changes."))
    old_specs = resource_fields_as_specs(resource)
    specs = _field_specs(fields) if fields is not None else old_specs
    clean = _resource_data(resource) | {k: data[k] for k in rules.RESOURCE_KEYS if k in data and k != "code"}
    _validate(clean, specs)
    key_field = _clean_text(clean.get("key_field"), 64)
    if resource.row_count and _storage_shape(specs, key_field) != _storage_shape(
        old_specs, resource.key_field
    ):
        raise WrongState(
            _(
                "The resource has %(n)d rows loaded: the names, types and personal kinds of its fields "
                "and its key field stay as they are (labels and grades may change)."
            )
            % {"n": resource.row_count}
        )
    names = {s["name"] for s in specs}
    granted = set()
    for grant in resource.grants.filter(revoked_at__isnull=True, valid_until__gt=timezone.now()):
        granted.update(grant.fields)
    if granted - names:
        raise WrongState(
            _("Grants in force cover %(fields)s: revoke them before removing those fields.")
            % {"fields": ", ".join(sorted(granted - names))}
        )
    if granted and clean.get("share_class") == ShareClass.NONE:
        raise WrongState(_("Grants in force read this resource: revoke them before it stops being shared."))
    _apply(resource, clean)
    if system is not ...:
        resource.system = _system_for(resource.provider, system)
    resource.save()
    if fields is not None:
        _write_fields(resource, specs)
    audit.record(
        actor=actor,
        event="exchange:resource:update",
        target=resource,
        data={"code": resource.code, "fields_changed": fields is not None and specs != old_specs},
    )
    return resource


@transaction.atomic
def resource_publish(*, actor, resource: DataResource) -> DataResource:
    """A draft is published in the catalog: officials find it and may request it."""
    resource = DataResource.objects.select_for_update().get(pk=resource.pk)
    _require(
        permissions.may_manage_resource(actor, resource),
        _("Only a data steward of the providing department publishes its resources."),
    )
    if resource.state != ResourceState.DRAFT:
        raise WrongState(
            _("Only a draft is published; this resource is %(state)s.")
            % {"state": resource.get_state_display()}
        )
    _validate(_resource_data(resource), resource_fields_as_specs(resource))
    resource.state = ResourceState.PUBLISHED
    resource.save(update_fields=["state", "updated_at"])
    audit.record(
        actor=actor, event="exchange:resource:publish", target=resource, data={"code": resource.code}
    )
    return resource


@transaction.atomic
def resource_retire(*, actor, resource: DataResource, reason: str) -> DataResource:
    """Take a resource out of service: grants in force are revoked and waiting requests refused,
    with the reason, in the same transaction."""
    resource = DataResource.objects.select_for_update().get(pk=resource.pk)
    _require(
        permissions.may_manage_resource(actor, resource),
        _("Only a data steward of the providing department retires its resources."),
    )
    reason = _clean_text(reason, MAX_REASON)
    if not reason:
        raise InvalidInput(_("Give the reason."), {"reason": _("Reason: say why the resource is retired.")})
    if resource.state == ResourceState.RETIRED:
        raise WrongState(_("The resource is retired already."))
    now = timezone.now()
    resource.state = ResourceState.RETIRED
    resource.save(update_fields=["state", "updated_at"])
    revoked = list(resource.grants.select_for_update().filter(revoked_at__isnull=True, valid_until__gt=now))
    for grant in revoked:
        grant.revoked_at, grant.revoked_by, grant.revoke_reason = now, _user(actor), reason
        grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    refused = list(resource.requests.select_for_update().filter(state=RequestState.PENDING))
    for req in refused:
        req.state, req.decided_at, req.decided_by = RequestState.REFUSED, now, _user(actor)
        req.decision_reason = reason
        req.save(update_fields=["state", "decided_at", "decided_by", "decision_reason"])
    audit.record(
        actor=actor,
        event="exchange:resource:retire",
        target=resource,
        data={
            "code": resource.code,
            "reason": reason,
            "grants_revoked": [g.pk for g in revoked],
            "requests_refused": [r.pk for r in refused],
        },
    )
    return resource


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# --- rows --------------------------------------------------------------------------------------


def _header_map(resource: DataResource, fields: Sequence[ResourceField], headers: list[str]):
    """Column index → field, matching a header with the field's name or either label."""
    lookup = {}
    for f in fields:
        for label in (f.name, f.label_zh, f.label_en):
            if label:
                lookup.setdefault(label.strip().lower(), f)
    mapping: dict[int, ResourceField] = {}
    errors: dict[str, str] = {}
    for i, header in enumerate(headers):
        col = tables.column_letter(i)
        if not header:
            continue
        spec = lookup.get(header.lower())
        if spec is None:
            errors[f"line 1, column {col}"] = _(
                "Line 1, column %(col)s: “%(header)s” is not a field of %(code)s."
            ) % {"col": col, "header": header[:64], "code": resource.code}
        elif spec in mapping.values():
            errors[f"line 1, column {col}"] = _(
                "Line 1, column %(col)s: the field “%(name)s” appears twice."
            ) % {
                "col": col,
                "name": spec.name,
            }
        else:
            mapping[i] = spec
    missing = [f.name for f in fields if f not in mapping.values()]
    if missing:
        errors["line 1"] = _("Line 1: columns missing for the fields %(fields)s.") % {
            "fields": ", ".join(missing)
        }
    return mapping, errors


def parse_rows(resource: DataResource, fields: Sequence[ResourceField], table: tables.Table) -> list[dict]:
    """The table's rows as records (field name → stored JSON value); raises InvalidInput naming
    every bad cell by line and column (the first ``MAX_ERRORS_SHOWN``)."""
    mapping, errors = _header_map(resource, fields, table.headers)
    if errors:
        raise InvalidInput(_("The file's columns do not match the resource's fields."), errors)
    records, keys, problems = [], {}, {}
    total_bad = 0

    def bad(line: int, col: str, message: str) -> None:
        nonlocal total_bad
        total_bad += 1
        if len(problems) < MAX_ERRORS_SHOWN:
            problems[f"line {line}, column {col}"] = message

    for line, cells in table.rows:
        if len(cells) > len(table.headers) and any(c not in (None, "") for c in cells[len(table.headers) :]):
            bad(
                line,
                tables.column_letter(len(table.headers)),
                _("Line %(line)d has more cells than columns.") % {"line": line},
            )
        record = {}
        for i, spec in mapping.items():
            col = tables.column_letter(i)
            raw = cells[i] if i < len(cells) else None
            if isinstance(raw, str):
                raw = raw.strip()
            if raw in (None, ""):
                record[spec.name] = None
                continue
            try:
                record[spec.name] = rowquery.coerce(spec, raw)
            except ValueError as exc:
                bad(
                    line,
                    col,
                    _("Line %(line)d, column %(col)s (%(name)s): %(reason)s.")
                    % {"line": line, "col": col, "name": spec.name, "reason": exc},
                )
        if resource.key_field:
            value = record.get(resource.key_field)
            key_col = tables.column_letter(
                next(i for i, s in mapping.items() if s.name == resource.key_field)
            )
            if value in (None, ""):
                bad(
                    line,
                    key_col,
                    _("Line %(line)d, column %(col)s (%(name)s): the key field is empty.")
                    % {
                        "line": line,
                        "col": key_col,
                        "name": resource.key_field,
                    },
                )
            else:
                norm = str(value).strip().upper()
                if norm in keys:
                    bad(
                        line,
                        key_col,
                        _("Line %(line)d, column %(col)s (%(name)s): the same key as line %(other)d.")
                        % {"line": line, "col": key_col, "name": resource.key_field, "other": keys[norm]},
                    )
                else:
                    keys[norm] = line
        records.append(record)
    if problems:
        message = _("%(n)d cells are not right; nothing was loaded. Fix them and upload the file again.") % {
            "n": total_bad
        }
        raise InvalidInput(message, problems)
    return records


@transaction.atomic
def resource_load_rows(*, actor, resource: DataResource, content: bytes, filename: str) -> int:
    """Replace every row of a table resource with the rows of an uploaded CSV or XLSX file, in one
    transaction: a bad file, or one bad cell, and nothing changes. Returns the number of rows."""
    resource = DataResource.objects.select_for_update().get(pk=resource.pk)
    _require(
        permissions.may_manage_resource(actor, resource),
        _("Only a data steward of the providing department loads its rows."),
    )
    if resource.state == ResourceState.RETIRED:
        raise WrongState(_("The resource is retired: no rows are loaded into it."))
    if resource.source_kind != SourceKind.TABLE:
        raise WrongState(
            _("This resource is answered by the department's own system: there are no rows to load.")
        )
    try:
        table = tables.read_table(content, filename)
    except tables.TableError as exc:
        raise InvalidInput(str(exc), {"file": str(exc)}) from None
    fields = list(resource.fields.all())
    records = parse_rows(resource, fields, table)
    ResourceRow.objects.filter(resource=resource).delete()
    for start in range(0, len(records), ROW_BATCH):
        ResourceRow.objects.bulk_create(
            rowstore.build_rows(resource, fields, records[start : start + ROW_BATCH], start=start + 1)
        )
    resource.row_count, resource.loaded_at = len(records), timezone.now()
    resource.save(update_fields=["row_count", "loaded_at", "updated_at"])
    audit.record(
        actor=actor,
        event="exchange:resource:load_rows",
        target=resource,
        data={"code": resource.code, "rows": len(records), "file": _clean_text(filename, 200)},
    )
    return len(records)


# --- access requests ---------------------------------------------------------------------------


def _check_fields(resource: DataResource, fields: Iterable[str], key: str = "fields") -> list[str]:
    wanted = [str(f).strip() for f in (fields or []) if str(f).strip()]
    if not wanted:
        raise InvalidInput(_("Choose the fields."), {key: _("Fields: choose at least one field.")})
    known = list(resource.fields.values_list("name", flat=True))
    unknown = [f for f in wanted if f not in known]
    if unknown:
        raise InvalidInput(
            _("Unknown fields."),
            {
                key: _("Fields: %(code)s has no field %(fields)s.")
                % {
                    "code": resource.code,
                    "fields": ", ".join(sorted(set(unknown)))[:300],
                }
            },
        )
    return [f for f in known if f in set(wanted)]  # the resource's order, once each


def _check_purpose(purpose) -> str:
    text = _clean_text(purpose, MAX_PURPOSE + 1)
    if len(text) < 4 or len(text) > MAX_PURPOSE:
        raise InvalidInput(
            _("State the purpose."),
            {
                "purpose": _("Purpose: say what the data is used for (4 to %(n)d characters).")
                % {"n": MAX_PURPOSE}
            },
        )
    return text


def _new_grant(
    *,
    resource,
    consumer,
    fields,
    purpose,
    until,
    actor,
    request=None,
    standing=False,
    unmasked=(),
    rate_limit=DEFAULT_RATE_LIMIT,
) -> Grant:
    return Grant.objects.create(
        resource=resource,
        consumer=consumer,
        request=request,
        fields=list(fields),
        unmasked_fields=list(unmasked),
        purpose=purpose,
        standing=standing,
        valid_until=end_of_day(until),
        rate_limit_per_minute=rate_limit,
        granted_by=_user(actor),
    )


@transaction.atomic
def access_request(
    *,
    actor,
    resource: DataResource,
    consumer: Department,
    fields: Sequence[str],
    purpose: str,
    valid_until: dt.date,
    legal_basis: str = "",
    demand: DataDemand | None = None,
) -> AccessRequest:
    """A consuming department asks for fields of a published resource, for a purpose, until a date.

    - 无条件共享: granted at once (the request is approved and its grant made, one transaction);
    - 有条件共享: waits for a data steward of the provider (``request_decide``);
    - 不予共享: refused with NotAllowed, nothing saved.
    """
    _require(
        permissions.may_act_for_department(actor, consumer),
        _("Only an official of the consuming department requests data for it."),
    )
    resource = DataResource.objects.select_for_update().get(pk=resource.pk)
    if resource.state != ResourceState.PUBLISHED:
        raise WrongState(_("%(code)s is not published: it cannot be requested.") % {"code": resource.code})
    if resource.share_class == ShareClass.NONE:
        raise NotAllowed(
            _("%(code)s is not shared (不予共享): it cannot be requested. Basis: %(basis)s")
            % {"code": resource.code, "basis": resource.no_share_basis}
        )
    if resource.provider_id == consumer.pk:
        raise InvalidInput(
            _("A department does not request its own data."),
            {"consumer": _("Consumer: the provider reads its own resources without a request.")},
        )
    chosen = _check_fields(resource, fields)
    text = _check_purpose(purpose)
    until = _check_until(valid_until)
    if demand is not None and demand.department_id != consumer.pk:
        raise InvalidInput(
            _("Unknown demand."), {"demand": _("Demand: choose one of your department's demands.")}
        )
    if AccessRequest.objects.filter(
        resource=resource, consumer=consumer, state=RequestState.PENDING, fields=chosen
    ).exists():
        raise WrongState(
            _("The same request of your department for %(code)s is waiting already.")
            % {"code": resource.code}
        )
    req = AccessRequest.objects.create(
        resource=resource,
        consumer=consumer,
        demand=demand,
        fields=chosen,
        purpose=text,
        legal_basis=_clean_text(legal_basis, MAX_REASON),
        valid_until=until,
        requested_by=actor,
    )
    audit.record(
        actor=actor,
        event="exchange:request:create",
        target=req,
        data={
            "resource": resource.code,
            "consumer": consumer.code,
            "fields": chosen,
            "until": until.isoformat(),
        },
    )
    if resource.share_class == ShareClass.UNCONDITIONAL:
        req.state, req.decided_at = RequestState.APPROVED, timezone.now()
        req.decision_reason = _("Shared unconditionally (无条件共享): granted at once.")
        req.save(update_fields=["state", "decided_at", "decision_reason"])
        grant = _new_grant(
            resource=resource,
            consumer=consumer,
            fields=chosen,
            purpose=text,
            until=until,
            actor=None,
            request=req,
        )
        audit.record(
            actor="system:exchange",
            event="exchange:grant:create",
            target=grant,
            data={
                "resource": resource.code,
                "consumer": consumer.code,
                "fields": chosen,
                "request": req.pk,
                "unconditional": True,
            },
        )
    return req


@transaction.atomic
def request_decide(
    *,
    actor,
    request: AccessRequest,
    approve: bool,
    reason: str = "",
    unmasked_fields: Sequence[str] = (),
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT,
) -> AccessRequest:
    """A data steward of the provider approves (a grant is made for the request's fields and date;
    ``unmasked_fields`` are personal fields handed over in clear) or refuses (with a reason) a
    waiting request."""
    req = AccessRequest.objects.select_for_update().select_related("resource", "consumer").get(pk=request.pk)
    _require(
        permissions.may_manage_resource(actor, req.resource),
        _("Only a data steward of the providing department decides requests for its data."),
    )
    if req.state != RequestState.PENDING:
        raise WrongState(_("The request is %(state)s already.") % {"state": req.get_state_display()})
    reason = _clean_text(reason, MAX_REASON)
    if not approve and not reason:
        raise InvalidInput(_("Give the reason."), {"reason": _("Reason: say why the request is refused.")})
    req.decided_by, req.decided_at, req.decision_reason = _user(actor), timezone.now(), reason
    if not approve:
        req.state = RequestState.REFUSED
        req.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])
        audit.record(actor=actor, event="exchange:request:refuse", target=req, data={"reason": reason})
        return req
    if req.resource.state != ResourceState.PUBLISHED:
        raise WrongState(_("%(code)s is not published any more.") % {"code": req.resource.code})
    if req.resource.share_class == ShareClass.NONE:
        raise NotAllowed(
            _("%(code)s is not shared (不予共享) any more: refuse the request.") % {"code": req.resource.code}
        )
    if req.valid_until < timezone.localdate():
        raise WrongState(_("The date the data was needed until has passed: the consumer asks again."))
    unmasked = _check_unmasked(req.resource, req.fields, unmasked_fields)
    rate = _check_rate(rate_limit_per_minute)
    req.state = RequestState.APPROVED
    req.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])
    grant = _new_grant(
        resource=req.resource,
        consumer=req.consumer,
        fields=req.fields,
        purpose=req.purpose,
        until=req.valid_until,
        actor=actor,
        request=req,
        unmasked=unmasked,
        rate_limit=rate,
    )
    audit.record(actor=actor, event="exchange:request:approve", target=req, data={"grant": grant.pk})
    audit.record(
        actor=actor,
        event="exchange:grant:create",
        target=grant,
        data={
            "resource": req.resource.code,
            "consumer": req.consumer.code,
            "fields": req.fields,
            "unmasked": unmasked,
            "request": req.pk,
        },
    )
    return req


def _check_unmasked(resource: DataResource, fields: Sequence[str], unmasked: Sequence[str]) -> list[str]:
    personal = set(resource.fields.exclude(personal="").values_list("name", flat=True))
    wanted = [str(f).strip() for f in (unmasked or []) if str(f).strip()]
    wrong = [f for f in wanted if f not in fields or f not in personal]
    if wrong:
        raise InvalidInput(
            _("Unmasked fields must be personal fields of the grant."),
            {
                "unmasked_fields": _(
                    "Unmasked fields: %(fields)s are not personal fields among those granted."
                )
                % {"fields": ", ".join(sorted(set(wrong)))[:300]}
            },
        )
    return [f for f in fields if f in set(wanted)]


def _check_rate(value) -> int:
    try:
        rate = int(value)
    except (TypeError, ValueError):
        rate = 0
    if not 1 <= rate <= 100_000:
        raise InvalidInput(
            _("The rate limit is not valid."),
            {"rate_limit_per_minute": _("Calls per minute: a whole number from 1 to 100000.")},
        )
    return rate


@transaction.atomic
def request_withdraw(*, actor, request: AccessRequest) -> AccessRequest:
    """The consuming department takes back a request still waiting."""
    req = AccessRequest.objects.select_for_update().select_related("consumer").get(pk=request.pk)
    _require(
        permissions.may_act_for_department(actor, req.consumer),
        _("Only an official of the consuming department withdraws its requests."),
    )
    if req.state != RequestState.PENDING:
        raise WrongState(_("The request is %(state)s already.") % {"state": req.get_state_display()})
    req.state, req.decided_at = RequestState.WITHDRAWN, timezone.now()
    req.save(update_fields=["state", "decided_at"])
    audit.record(actor=actor, event="exchange:request:withdraw", target=req, data={})
    return req


# --- grants ------------------------------------------------------------------------------------


@transaction.atomic
def grant_create(
    *,
    actor,
    resource: DataResource,
    consumer: Department,
    fields: Sequence[str],
    purpose: str,
    valid_until: dt.date,
    standing: bool = False,
    unmasked_fields: Sequence[str] = (),
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT,
) -> Grant:
    """A data steward of the provider grants a department fields of a published, shared resource
    directly (no request), e.g. the standing grants the platform's forms and rules fetch facts
    under (``standing=True``)."""
    resource = DataResource.objects.select_for_update().get(pk=resource.pk)
    _require(
        permissions.may_manage_resource(actor, resource),
        _("Only a data steward of the providing department grants its data."),
    )
    if resource.state != ResourceState.PUBLISHED:
        raise WrongState(_("%(code)s is not published: it cannot be granted.") % {"code": resource.code})
    if resource.share_class == ShareClass.NONE:
        raise NotAllowed(
            _("%(code)s is not shared (不予共享): it cannot be granted.") % {"code": resource.code}
        )
    if resource.provider_id == consumer.pk:
        raise InvalidInput(
            _("A department does not need a grant for its own data."),
            {"consumer": _("Consumer: choose another department than the provider.")},
        )
    chosen = _check_fields(resource, fields)
    text = _check_purpose(purpose)
    until = _check_until(valid_until)
    unmasked = _check_unmasked(resource, chosen, unmasked_fields)
    rate = _check_rate(rate_limit_per_minute)
    grant = _new_grant(
        resource=resource,
        consumer=consumer,
        fields=chosen,
        purpose=text,
        until=until,
        actor=actor,
        standing=bool(standing),
        unmasked=unmasked,
        rate_limit=rate,
    )
    audit.record(
        actor=actor,
        event="exchange:grant:create",
        target=grant,
        data={
            "resource": resource.code,
            "consumer": consumer.code,
            "fields": chosen,
            "unmasked": unmasked,
            "standing": bool(standing),
            "until": until.isoformat(),
        },
    )
    return grant


@transaction.atomic
def grant_revoke(*, actor, grant: Grant, reason: str) -> Grant:
    """A data steward of the provider ends a grant now, with the reason; calls under it are
    refused from this instant."""
    grant = Grant.objects.select_for_update().select_related("resource").get(pk=grant.pk)
    _require(
        permissions.may_manage_resource(actor, grant.resource),
        _("Only a data steward of the providing department revokes grants of its data."),
    )
    reason = _clean_text(reason, MAX_REASON)
    if not reason:
        raise InvalidInput(_("Give the reason."), {"reason": _("Reason: say why the grant is revoked.")})
    if grant.revoked_at is not None:
        raise WrongState(_("The grant is revoked already."))
    grant.revoked_at, grant.revoked_by, grant.revoke_reason = timezone.now(), _user(actor), reason
    grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    audit.record(actor=actor, event="exchange:grant:revoke", target=grant, data={"reason": reason})
    return grant


# --- the data demands inventory ----------------------------------------------------------------


def _demand_values(title, description, purpose, wanted_fields) -> dict:
    values = {
        "title": _clean_text(title, 201),
        "description": _clean_text(description, MAX_PURPOSE + 1),
        "purpose": _clean_text(purpose, MAX_PURPOSE + 1),
        "wanted_fields": _clean_text(wanted_fields, MAX_PURPOSE + 1),
    }
    errors = {}
    if not values["title"] or len(values["title"]) > 200:
        errors["title"] = _("Title: at most 200 characters, not empty.")
    if not values["description"] or len(values["description"]) > MAX_PURPOSE:
        errors["description"] = _("What data is needed: describe it (at most %(n)d characters).") % {
            "n": MAX_PURPOSE
        }
    if len(values["purpose"]) < 4 or len(values["purpose"]) > MAX_PURPOSE:
        errors["purpose"] = _("Purpose: say what the data is used for (4 to %(n)d characters).") % {
            "n": MAX_PURPOSE
        }
    if len(values["wanted_fields"]) > MAX_PURPOSE:
        errors["wanted_fields"] = _("Fields wanted: at most %(n)d characters.") % {"n": MAX_PURPOSE}
    if errors:
        raise InvalidInput(_("The demand cannot be saved: fix the fields named."), errors)
    return values


@transaction.atomic
def demand_file(
    *, actor, department: Department, title: str, description: str, purpose: str, wanted_fields: str = ""
) -> DataDemand:
    """An official files a data demand of their department (数据需求清单)."""
    _require(
        permissions.may_act_for_department(actor, department),
        _("Only an official of the department files its data demands."),
    )
    demand = DataDemand.objects.create(
        department=department, created_by=actor, **_demand_values(title, description, purpose, wanted_fields)
    )
    audit.record(
        actor=actor, event="exchange:demand:file", target=demand, data={"department": department.code}
    )
    return demand


@transaction.atomic
def demand_update(
    *,
    actor,
    demand: DataDemand,
    title: str | None = None,
    description: str | None = None,
    purpose: str | None = None,
    wanted_fields: str | None = None,
    close: bool = False,
) -> DataDemand:
    """Change a demand's text, or close it (met, or no longer needed)."""
    demand = DataDemand.objects.select_for_update().get(pk=demand.pk)
    _require(
        permissions.may_act_for_department(actor, demand.department),
        _("Only an official of the department changes its data demands."),
    )
    if demand.state == DemandState.CLOSED:
        raise WrongState(_("The demand is closed."))
    values = _demand_values(
        demand.title if title is None else title,
        demand.description if description is None else description,
        demand.purpose if purpose is None else purpose,
        demand.wanted_fields if wanted_fields is None else wanted_fields,
    )
    for key, value in values.items():
        setattr(demand, key, value)
    if close:
        demand.state = DemandState.CLOSED
    demand.save()
    audit.record(actor=actor, event="exchange:demand:update", target=demand, data={"closed": bool(close)})
    return demand


@transaction.atomic
def demand_match(*, actor, demand: DataDemand, resource: DataResource) -> DataDemand:
    """Record that a published resource meets a demand: by an official of the demanding
    department (who found it) or a data steward of the resource's provider (who offers it)."""
    demand = DataDemand.objects.select_for_update().get(pk=demand.pk)
    _require(
        permissions.may_act_for_department(actor, demand.department)
        or permissions.may_manage_resource(actor, resource),
        _("Only the demanding department or the resource's data stewards match a demand."),
    )
    if demand.state == DemandState.CLOSED:
        raise WrongState(_("The demand is closed."))
    if resource.state != ResourceState.PUBLISHED:
        raise WrongState(_("%(code)s is not published.") % {"code": resource.code})
    if demand.matched_resources.filter(pk=resource.pk).exists():
        raise WrongState(_("%(code)s is matched to this demand already.") % {"code": resource.code})
    demand.matched_resources.add(resource)
    demand.state = DemandState.MATCHED
    demand.save(update_fields=["state", "updated_at"])
    audit.record(actor=actor, event="exchange:demand:match", target=demand, data={"resource": resource.code})
    return demand


# --- the information systems inventory ---------------------------------------------------------

SYSTEM_KEYS = ("name", "description", "network", "contact", "is_active")


def _system_values(data: Mapping, *, current: InformationSystem | None = None) -> dict:
    def get(key, default=""):
        if key in data:
            return data[key]
        return getattr(current, key) if current is not None else default

    values = {
        "name": _clean_text(get("name"), 129),
        "description": _clean_text(get("description"), MAX_PURPOSE + 1),
        "network": _clean_text(get("network"), 65),
        "contact": _clean_text(get("contact"), 129),
        "is_active": bool(get("is_active", True)),
    }
    errors = {}
    if not values["name"] or len(values["name"]) > 128:
        errors["name"] = _("Name: at most 128 characters, not empty.")
    if len(values["description"]) > MAX_PURPOSE:
        errors["description"] = _("Description: at most %(n)d characters.") % {"n": MAX_PURPOSE}
    if len(values["network"]) > 64:
        errors["network"] = _("Network: at most 64 characters.")
    if len(values["contact"]) > 128:
        errors["contact"] = _("Contact: at most 128 characters.")
    if errors:
        raise InvalidInput(_("The system cannot be saved: fix the fields named."), errors)
    return values


@transaction.atomic
def system_register(*, actor, department: Department, code: str, data: Mapping) -> InformationSystem:
    """A data steward adds one of the department's information systems to the inventory
    (``data``: name, description, network, contact, is_active)."""
    _require(
        permissions.may_manage_department(actor, department),
        _("Only a data steward of the department keeps its information systems inventory."),
    )
    code = _clean_text(code, 65)
    if not code or len(code) > 64 or not all(c.isascii() and (c.isalnum() or c in "-_.") for c in code):
        raise InvalidInput(
            _("The system cannot be saved: fix the fields named."),
            {
                "code": _("Code: letters, digits, - _ and . (at most 64), e.g. %(example)s.")
                % {"example": f"{department.code}-XT01"}
            },
        )
    values = _system_values(data)
    if InformationSystem.objects.filter(code=code).exists():
        raise InvalidInput(
            _("The system cannot be saved: fix the fields named."),
            {"code": _("Code: %(code)s is taken.") % {"code": code}},
        )
    system = InformationSystem.objects.create(department=department, code=code, **values)
    audit.record(actor=actor, event="exchange:system:register", target=system, data={"code": code})
    return system


@transaction.atomic
def system_update(*, actor, system: InformationSystem, data: Mapping) -> InformationSystem:
    system = InformationSystem.objects.select_for_update().get(pk=system.pk)
    _require(
        permissions.may_manage_department(actor, system.department),
        _("Only a data steward of the department keeps its information systems inventory."),
    )
    for key, value in _system_values(data, current=system).items():
        setattr(system, key, value)
    system.save()
    audit.record(actor=actor, event="exchange:system:update", target=system, data={"code": system.code})
    return system
