"""The base resources (基础信息资源) the platform's own forms, rules and real-name checks read
through the exchange: the population base data (人口库), the legal-entity base data (法人库) and
social insurance. One definition of their codes and fields, used by the demo, the registers
identity checks against, and the facts forms and rules are bound to.

Field spec: (name, zh label, en label, type, grade, personal kind).
"""

POPULATION = "A01001"  # 人口基础信息 — provided by the public security department (GAT)
LEGAL_ENTITY = "A02001"  # 法人单位基础信息 — provided by market regulation (SCJG)
SOCIAL_INSURANCE = "C03001"  # 社会保险参保信息 — provided by human resources and social security (RST)
# 严重失信主体名单 — written by supervision with every list change (market regulation, SCJG); other
# apps read it through ``selectors.dishonesty_listed`` for joint punishment (联合惩戒).
DISHONESTY_LIST = "A03001"

BASE_RESOURCES = {
    POPULATION: {
        "name": "人口基础信息",
        "name_en": "Population base data",
        "provider_kind": "GAT",
        "kind": "basic",
        "key_field": "id_number",
        "fields": [
            ("id_number", "公民身份号码", "Identity number", "string", 3, "id_number"),
            ("name", "姓名", "Name", "string", 3, "name"),
            ("gender", "性别", "Sex", "string", 2, ""),
            ("birth_date", "出生日期", "Date of birth", "date", 3, "other"),
            (
                "household_region",
                "户籍地行政区划代码",
                "Household registration (division code)",
                "string",
                2,
                "",
            ),
            ("household_address", "户籍地址", "Household registration address", "string", 3, "address"),
            ("residence_region", "居住地行政区划代码", "Place of residence (division code)", "string", 2, ""),
            ("residence_since", "居住起始日期", "Resident there since", "date", 2, ""),
            ("phone", "联系电话", "Phone", "string", 3, "phone"),
        ],
    },
    LEGAL_ENTITY: {
        "name": "法人单位基础信息",
        "name_en": "Legal-entity base data",
        "provider_kind": "SCJG",
        "kind": "basic",
        "key_field": "credit_code",
        "fields": [
            ("credit_code", "统一社会信用代码", "Unified social credit code", "string", 1, ""),
            ("name", "名称", "Name", "string", 1, ""),
            ("legal_representative", "法定代表人", "Legal representative", "string", 2, "name"),
            (
                "representative_id_number",
                "法定代表人身份号码",
                "Representative's identity number",
                "string",
                3,
                "id_number",
            ),
            ("region_code", "登记地行政区划代码", "Registered region (division code)", "string", 1, ""),
            ("address", "住所", "Registered address", "string", 1, ""),
            ("established_on", "成立日期", "Established on", "date", 1, ""),
            ("status", "登记状态", "Registration status", "string", 1, ""),
            # GB/T 4754 section letter (A–T) and 企业规模 (micro/small/medium/large): what supervision
            # plans select by (yiwang.supervision); a register that lacks them leaves them empty.
            ("industry", "行业门类", "Industry (GB/T 4754 section)", "string", 1, ""),
            ("scale", "企业规模", "Enterprise scale", "string", 1, ""),
        ],
    },
    SOCIAL_INSURANCE: {
        "name": "社会保险参保信息",
        "name_en": "Social insurance enrolment",
        "provider_kind": "RST",
        "kind": "department",
        "key_field": "id_number",
        "fields": [
            ("id_number", "公民身份号码", "Identity number", "string", 3, "id_number"),
            ("insured", "是否参保", "Insured", "boolean", 2, ""),
            ("insurance_kind", "参保险种", "Kind of insurance", "string", 2, ""),
            ("insured_since", "参保起始日期", "Insured since", "date", 2, ""),
            ("last_paid_month", "最近缴费月份", "Last month paid", "string", 2, ""),
        ],
    },
    DISHONESTY_LIST: {
        "name": "严重失信主体名单",
        "name_en": "Serious-dishonesty list",
        "provider_kind": "SCJG",
        "kind": "basic",
        "key_field": "credit_code",
        "fields": [
            ("credit_code", "统一社会信用代码", "Unified social credit code", "string", 1, ""),
            ("name", "名称", "Name", "string", 1, ""),
            ("listed", "是否在列", "Listed", "boolean", 1, ""),
            ("basis", "列入依据", "Legal basis", "string", 1, ""),
            ("department", "认定部门", "Deciding department", "string", 1, ""),
            ("decision_number", "认定文书号", "Decision number", "string", 1, ""),
            ("listed_on", "列入日期", "Listed on", "date", 1, ""),
            ("removed_on", "移出日期", "Removed on", "date", 1, ""),
        ],
    },
}

# How the platform shares the base resources when it registers them itself (``put_records`` on a
# database where no steward registered them yet): basic resources must be shared (rules.py).
# How each base resource is shared (class, conditions): one definition, for whoever registers it
# first (the identity demo's registers, the exchange demo).
SHARING = {
    POPULATION: ("conditional", "用于政务服务事项办理、身份核验，需说明事项与法定依据；仅提供所需字段。"),
    LEGAL_ENTITY: ("conditional", "用于政务服务办理、企业身份核验与监管，需说明事项。"),
    SOCIAL_INSURANCE: ("conditional", "用于就业、社保待遇与人才政策类事项办理。"),
    DISHONESTY_LIST: ("conditional", "用于联合惩戒：政务服务办理中对严重失信主体的提示与限制。"),
}
# Registration statuses (登记状态) of A02001 under which an enterprise is in business.
ACTIVE_STATUSES = ("存续", "在业", "开业")
PUT_EVENT = "exchange:rows:put"


def base_resource(code: str, *, actor, provider=None):
    """The base resource ``code`` of ``BASE_RESOURCES``, registered (published, with its fields)
    when missing; an existing one is returned as it is, whoever registered it.

    ``provider`` defaults to the province-level department of the spec's kind (e.g. ``610000-GAT``);
    raises ``NotFound`` when there is none, ``InvalidInput`` for a code that is not a base resource.
    """
    from django.db import transaction
    from django.utils import timezone

    from yiwang.audit import services as audit
    from yiwang.exchange.errors import InvalidInput, NotFound
    from yiwang.exchange.models import DataResource, ResourceField, ResourceState
    from yiwang.identity.models import Department

    spec = BASE_RESOURCES.get(code)
    if spec is None:
        raise InvalidInput(f"{code} is not a base resource (one of {', '.join(BASE_RESOURCES)}).")
    found = DataResource.objects.filter(code=code).first()
    if found is not None:
        return found
    if provider is None:
        provider = (
            Department.objects.filter(code__endswith=f"-{spec['provider_kind']}", region__parent__isnull=True)
            .order_by("code")
            .first()
        )
    if provider is None:
        raise NotFound(
            f"No province-level department of kind {spec['provider_kind']} provides {code}: create it first."
        )
    share_class, conditions = SHARING[code]
    with transaction.atomic():
        resource, created = DataResource.objects.get_or_create(
            code=code,
            defaults={
                "name": spec["name"],
                "description": spec["name_en"],
                "provider": provider,
                "kind": spec["kind"],
                "share_class": share_class,
                "share_conditions": conditions,
                "update_frequency": "daily",
                "key_field": spec["key_field"],
                "state": ResourceState.PUBLISHED,
                "loaded_at": timezone.now(),
            },
        )
        if created:
            ResourceField.objects.bulk_create(
                ResourceField(
                    resource=resource,
                    name=name,
                    label_zh=zh,
                    label_en=en,
                    type=ftype,
                    grade=grade,
                    personal=personal,
                    position=i,
                )
                for i, (name, zh, en, ftype, grade, personal) in enumerate(spec["fields"])
            )
            audit.record(
                actor=actor, event="exchange:resource:register", target=resource, data={"code": code}
            )
    return resource


def put_records(code: str, records, *, actor, provider=None) -> tuple[int, int]:
    """Put ``records`` (field name → JSON value) into the base resource ``code``: a record whose key
    (the spec's key field) is already stored updates that row (its other stored values are kept),
    any other record is added. Registers the resource first when missing (``base_resource``), so the
    identity demo and the exchange demo may put their rows in either order. Idempotent; one
    transaction; one audit entry. Returns (added, updated).

    Raises ``InvalidInput`` naming the record and field for a record without its key or with a
    field the resource does not have; nothing is saved then."""
    from django.db import transaction
    from django.db.models import Max
    from django.utils import timezone

    from yiwang.audit import services as audit
    from yiwang.exchange import rows as rowstore
    from yiwang.exchange.errors import InvalidInput
    from yiwang.exchange.models import DataResource, ResourceRow

    with transaction.atomic():
        resource = base_resource(code, actor=actor, provider=provider)
        resource = DataResource.objects.select_for_update().get(pk=resource.pk)
        fields = list(resource.fields.all())
        names = {f.name for f in fields}
        key_field = resource.key_field
        merged: dict[str, dict] = {}
        for i, record in enumerate(records, start=1):
            unknown = sorted(set(record) - names)
            if unknown:
                raise InvalidInput(f"Record {i}: {code} has no field {', '.join(unknown)}.")
            key = rowstore.key_for(resource, fields, record.get(key_field))
            if not key:
                raise InvalidInput(f"Record {i}: the key field {key_field} is empty.")
            merged[key] = {**merged.get(key, {}), **record}
        stored = {row.key: row for row in ResourceRow.objects.filter(resource=resource, key__in=list(merged))}
        updated = []
        for key, row in stored.items():
            values = {**rowstore.row_values(row), **merged.pop(key)}
            (fresh,) = rowstore.build_rows(resource, fields, [values], start=row.row_no)
            row.data, row.sealed = fresh.data, fresh.sealed
            updated.append(row)
        if updated:
            ResourceRow.objects.bulk_update(updated, ["data", "sealed"])
        start = (ResourceRow.objects.filter(resource=resource).aggregate(n=Max("row_no"))["n"] or 0) + 1
        added = rowstore.build_rows(resource, fields, list(merged.values()), start=start)
        ResourceRow.objects.bulk_create(added)
        resource.row_count = ResourceRow.objects.filter(resource=resource).count()
        resource.loaded_at = timezone.now()
        resource.save(update_fields=["row_count", "loaded_at", "updated_at"])
        audit.record(
            actor=actor,
            event=PUT_EVENT,
            target=resource,
            data={"added": len(added), "updated": len(updated)},
        )
    return len(added), len(updated)
