"""Bound government facts (一次录入、多渠道共用): form fields and 秒批 rule inputs taken from the
data exchange instead of the applicant's declaration.

A form property with ``"x-fact": {"resource": ..., "field": ..., "derive": ...}`` (see
``schemaforms``) is fetched through the exchange's gateway (``yiwang.exchange.gateway.query``)
under the standing grant of the item's department, one call per resource, keyed by the
applicant's identity number. Every fetch is a logged gateway call like any other, so it appears in
the provider's "who used our data" and in the citizen's data-use record.

What was used is recorded on the case (``Case.facts``): per field, the resource, its provider,
the source field, the time and the gateway call. A fact that cannot be fetched (no grant, no
record, the upstream down) never decides: the field stays empty and the case goes to a clerk with
the reason (``missing``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yiwang.applications import schemaforms


@dataclass
class FactSet:
    values: dict = field(default_factory=dict)  # property → value for the form and the rules
    records: list[dict] = field(default_factory=list)  # what Case.facts keeps
    missing: dict = field(default_factory=dict)  # property → why it could not be fetched

    @property
    def complete(self) -> bool:
        return not self.missing


def bindings(schema: dict) -> dict[str, dict]:
    return schemaforms.fact_bindings(schema)


def region_prefix(code: str) -> str:
    """The part of a six-digit division code its sub-divisions share: 610100 → 6101, 610000 → 61."""
    code = str(code or "")
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def whole_years(since: datetime.date, today: datetime.date) -> int:
    return today.year - since.year - ((today.month, today.day) < (since.month, since.day))


def derive(spec: dict, raw, *, region_code: str, today: datetime.date):
    """The value a form property gets from a stored value; ValueError when it cannot be made."""
    how = spec.get("derive", "")
    if raw in (None, ""):
        raise ValueError("empty")
    if how == "years":
        since = raw if isinstance(raw, datetime.date) else datetime.date.fromisoformat(str(raw)[:10])
        if since > today:
            raise ValueError("in the future")
        return whole_years(since, today)
    if how == "in_region":
        value = str(raw)
        if not value.isdigit() or len(value) != 6:
            raise ValueError("not a division code")
        return value.startswith(region_prefix(region_code))
    return raw


def check_bindings(*, item, schema: dict) -> list[str]:
    """Problems with the schema's bound facts for ``item``: the resource and field must exist and
    the item's department must hold a standing grant in force that covers the field."""
    from yiwang.exchange.models import DataResource
    from yiwang.exchange.selectors import standing_grants

    specs = bindings(schema)
    if not specs:
        return []
    codes = {s["resource"] for s in specs.values()}
    resources = {r.code: r for r in DataResource.objects.filter(code__in=codes).prefetch_related("fields")}
    grants: dict[str, set] = {}
    for grant in standing_grants(consumer_id=item.department_id).filter(resource__code__in=codes):
        grants.setdefault(grant.resource.code, set()).update(grant.fields)
    problems = []
    for name, spec in specs.items():
        ctx = {"name": name, "resource": spec["resource"], "field": spec["field"]}
        resource = resources.get(spec["resource"])
        if resource is None:
            problems.append(_("Field “%(name)s”: there is no data resource %(resource)s.") % ctx)
        elif spec["field"] not in {f.name for f in resource.fields.all()}:
            problems.append(_("Field “%(name)s”: resource %(resource)s has no field “%(field)s”.") % ctx)
        elif spec["field"] not in grants.get(spec["resource"], ()):
            problems.append(
                _(
                    "Field “%(name)s”: your department has no standing grant in force for field "
                    "“%(field)s” of resource %(resource)s. Request one from its provider first."
                )
                % ctx
            )
    return problems


def fetch(*, item, schema: dict, person, actor, reference: str = "") -> FactSet:
    """The bound facts of ``schema`` for ``person`` applying for ``item``, through the gateway."""
    from yiwang.exchange import gateway
    from yiwang.exchange.errors import ExchangeError
    from yiwang.exchange.models import Channel, DataResource
    from yiwang.identity.selectors import id_number_for_data_record

    specs = bindings(schema)
    out = FactSet()
    if not specs:
        return out
    by_resource: dict[str, dict[str, dict]] = {}
    for name, spec in specs.items():
        by_resource.setdefault(spec["resource"], {})[name] = spec
    id_number = id_number_for_data_record(person) if person is not None else ""
    if not id_number:
        for name in specs:
            out.missing[name] = _("Your identity is not verified, so your records cannot be looked up.")
        return out
    resources = {
        r.code: r for r in DataResource.objects.filter(code__in=by_resource).select_related("provider")
    }
    today = timezone.localdate()
    region_code = item.region.code if item.region_id else ""
    purpose = _("Application for “%(item)s” (%(code)s): bound form facts") % {
        "item": item.name,
        "code": item.code,
    }
    for code, fields in by_resource.items():
        resource = resources.get(code)
        if resource is None or not resource.key_field:
            for name in fields:
                out.missing[name] = _("Resource %(code)s is not available.") % {"code": code}
            continue
        wanted = sorted({s["field"] for s in fields.values()})
        try:
            result = gateway.query(
                consumer=item.department,
                resource_code=code,
                fields=wanted,
                filters={resource.key_field: id_number},
                purpose=purpose,
                channel=Channel.PLATFORM,
                actor=actor,
                reference=reference,
                limit=2,
                offset=0,
            )
        except ExchangeError as exc:
            for name in fields:
                out.missing[name] = exc.message
            continue
        at = timezone.now().isoformat()
        if len(result.rows) != 1:
            reason = (
                _("%(provider)s holds no record of you in “%(resource)s”.")
                if not result.rows
                else _("%(provider)s holds more than one record of you in “%(resource)s”.")
            ) % {"provider": resource.provider.name, "resource": resource.name}
            for name in fields:
                out.missing[name] = reason
            continue
        row = result.rows[0]
        for name, spec in fields.items():
            record = {
                "field": name,
                "resource": code,
                "resource_name": resource.name,
                "provider": resource.provider.code,
                "provider_name": resource.provider.name,
                "source_field": spec["field"],
                "derive": spec.get("derive", ""),
                "at": at,
                "call": result.call_id,
            }
            try:
                value = derive(spec, row.get(spec["field"]), region_code=region_code, today=today)
            except (ValueError, TypeError):
                out.missing[name] = _(
                    "“%(resource)s” of %(provider)s has no usable value for this field."
                ) % {
                    "resource": resource.name,
                    "provider": resource.provider.name,
                }
                record["missing"] = out.missing[name]
            else:
                out.values[name] = value
            out.records.append(record)
    for name, reason in out.missing.items():
        if not any(r["field"] == name for r in out.records):
            spec = specs[name]
            out.records.append(
                {
                    "field": name,
                    "resource": spec["resource"],
                    "source_field": spec["field"],
                    "missing": reason,
                }
            )
    return out


def binding_options(department) -> list[dict]:
    """What the form editor offers to bind a field to: every field of every standing grant in
    force of ``department`` (a date also as whole years until today, a division code also as
    "within the item's region"), with a label naming the resource, the field and its provider."""
    from yiwang.exchange.models import FieldType
    from yiwang.exchange.selectors import standing_grants

    grants = (
        standing_grants(consumer_id=department.pk)
        .select_related("resource__provider")
        .prefetch_related("resource__fields")
        .order_by("resource__code")
    )
    form_types = {FieldType.INTEGER: "integer", FieldType.BOOLEAN: "boolean", FieldType.DECIMAL: "number"}
    english = (translation.get_language() or "").startswith("en")
    out, seen = [], set()
    for grant in grants:
        resource = grant.resource
        for f in resource.fields.all():
            if f.name not in grant.fields or (f.is_personal and f.name not in grant.unmasked_fields):
                continue
            label = f.label_en if english and f.label_en else f.label_zh
            base = f"{resource.name} · {label} ({resource.provider.name})"
            choices = [("", base, form_types.get(f.type, "string"))]
            if f.type == FieldType.DATE:
                choices.append(("years", base + " → " + _("whole years until today"), "integer"))
            if f.name.endswith("_region"):
                choices.append(("in_region", base + " → " + _("within the item's region"), "boolean"))
            for derive_as, label, form_type in choices:
                value = f"fact:{resource.code}:{f.name}:{derive_as}"
                if value in seen:
                    continue
                seen.add(value)
                spec = {"resource": resource.code, "field": f.name}
                if derive_as:
                    spec["derive"] = derive_as
                out.append({"value": value, "label": label, "type": form_type, "fact": spec})
    return out
