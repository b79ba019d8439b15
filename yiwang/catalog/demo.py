"""Demo service catalog: ~270 basic items and their implementation lists for every city (and,
for the kinds counties have, every county) of the demo province, themes, life-event bundles and
the synonym table. Generated from templates in yiwang/catalog/data/*.json (subject × action).

``build`` is idempotent (only what is missing is created) and runs after the identity demo,
which creates the regions and the departments "<region code>-<KIND>".
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass, field

from django.db import transaction

from yiwang.audit import services as audit
from yiwang.catalog import search
from yiwang.catalog.models import LifeEvent, Material, ServiceItem, Synonym, Theme
from yiwang.catalog.services import bundle_save
from yiwang.core.bulk import insert_rows
from yiwang.identity import demo_data
from yiwang.identity.models import Department, Region

ACTOR = "system:demo"
TYPE_CODES = {
    "licensing": "01",
    "levy": "04",
    "payment": "05",
    "confirmation": "07",
    "reward": "08",
    "adjudication": "09",
    "other_power": "10",
    "public_service": "20",
}
AREA_CODES = {
    "6100": "029",
    "6101": "029",
    "6102": "0919",
    "6103": "0917",
    "6104": "029",
    "6105": "0913",
    "6106": "0911",
    "6107": "0916",
    "6108": "0912",
    "6109": "0915",
    "6110": "0914",
}
HOURS = "法定工作日 上午9:00—12:00，下午13:30—17:30（夏季下午14:00—18:00）；全程网办事项24小时可在线申请"
AUDIENCE_LABEL = {"personal": "自然人", "enterprise": "法人和其他组织", "both": "自然人、法人和其他组织"}
ACTION_CONDITIONS = {
    "变更": "已取得{s}，许可或登记事项发生变化的，应当在变化之日起30日内申请变更。",
    "延续": "{s}有效期届满需要继续从事相关活动的，应当在有效期届满30个工作日前申请延续。",
    "注销": "不再从事相关活动、许可有效期届满未延续或者依法被撤销的，应当申请注销。",
    "校验": "应当按照规定的校验期申请校验。",
    "补办": "证件遗失或者损毁的，可以申请补办。",
    "补领": "证件遗失或者损毁的，可以申请补领。",
    "补发": "证件遗失或者损毁的，可以申请补发。",
    "变更登记": "登记事项发生变更的，应当自作出变更决议、决定或者法定变更事项发生之日起30日内申请变更登记。",
    "注销登记": "解散、被依法撤销或者被宣告破产的，应当依法清算并申请注销登记。",
}
SHORT_STEPS_TYPES = {"public_service", "payment"}
MATERIAL_FIELDS = [f for f in Material._meta.concrete_fields if not f.primary_key]


@dataclass
class BasicSpec:
    code: str
    kind: str
    name: str
    subject: str
    action: str
    group: dict
    materials: list[dict] = field(default_factory=list)
    popularity: int = 50


def _load(name: str):
    return json.loads((search.DATA_DIR / name).read_text(encoding="utf-8"))


def _material(row, subject: str, catalog: dict) -> dict:
    if isinstance(row, str):
        row = catalog[row]
    name, source, form, replaceable, licence_type, required, notes = row
    return {
        "name": name.replace("{s}", subject),
        "source": source,
        "form": form,
        "licence_replaceable": bool(replaceable),
        "licence_type": licence_type.replace("{s}", subject),
        "required": bool(required),
        "notes": notes,
        "copies": 1,
    }


def basic_specs() -> list[BasicSpec]:
    """Every basic item the data files describe, with its stable code."""
    data = _load("items.json")
    kinds = list(demo_data.DEPARTMENT_KINDS)
    specs = []
    for kind, groups in data["kinds"].items():
        kind_no = kinds.index(kind) + 1
        for group_no, group in enumerate(groups, start=1):
            actions = group.get("a") or [""]
            for action_no, action in enumerate(actions, start=1):
                pattern = group.get("p", "{s}（{a}）") if action else "{s}"
                name = pattern.format(s=group["s"], a=action)
                code = f"{TYPE_CODES[group['t']]}{kind_no:03d}{group_no:03d}{action_no:02d}"
                template = data["actions"].get(action, {"extra": []})
                rows = list(group["m"]) + [r for r in template["extra"] if r not in group["m"]]
                seen, materials = set(), []
                for row in rows:
                    m = _material(row, group["s"], data["materials"])
                    if m["name"] not in seen:
                        seen.add(m["name"])
                        materials.append(m)
                # The first actions of a group are the common ones (设立 before 注销).
                popularity = int(group.get("pop", 50) * (1 - 0.12 * min(action_no - 1, 6)))
                specs.append(BasicSpec(code, kind, name, group["s"], action, group, materials, popularity))
    return specs


def _phone(region_code: str, key: str) -> str:
    digest = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
    area = AREA_CODES.get(region_code[:4], "029")
    return f"{area}-{8 if area == '029' else 2}{digest % 10_000_000:07d}"


def _elements(spec: BasicSpec, department: Department, data: dict) -> dict:
    g = spec.group
    action_template = data["actions"].get(spec.action, {"factor": 0.8})
    factor = action_template.get("factor", 0.8)
    statutory = max(1, round(g.get("d", 20) * factor))
    promised = max(1, statutory // 2) if statutory > 1 else 1
    steps_key = action_template.get("steps") or ("service" if g["t"] in SHORT_STEPS_TYPES else "standard")
    if steps_key == "standard" and g["t"] in SHORT_STEPS_TYPES:
        steps_key = "service"
    steps = [
        {"name": name, "description": text.replace("{dept}", "承办机构")}
        for name, text in data["steps"][steps_key]
    ]
    fee = next((text for subject, text in data["fees"].items() if spec.subject == subject), "")
    depth = g.get("dep", 3)
    visits = g.get("v", 0)
    channels = ["一网政务服务平台（网页）", "一网掌上办App", "政务服务中心综合窗口"]
    if depth <= 2:
        channels = ["政务服务中心综合窗口", "一网政务服务平台（预约、预审）"]
    if visits == 0:
        channels.append("结果邮寄送达")
    condition_extra = ACTION_CONDITIONS.get(spec.action, "").format(s=spec.subject)
    type_label = ServiceItem.ItemType(g["t"]).label
    law_short = g["law"].split("：")[0].split("第")[0]
    visits_text = "全程网办、零跑动" if visits == 0 else f"最多跑{visits}次"
    description = (
        f"{g.get('desc', '')}“{spec.name}”是{department.name}依据{law_short}办理的{type_label}事项，"
        f"服务对象为{AUDIENCE_LABEL[g['o']]}。法定办结时限{statutory}个工作日，承诺{promised}个工作日内办结，"
        f"{visits_text}。"
    )
    return {
        "name": spec.name,
        "item_type": g["t"],
        "legal_basis": g["law"],
        "conditions": " ".join(filter(None, [g["cond"], condition_extra])),
        "process_steps": steps,
        "statutory_limit_days": statutory,
        "promised_limit_days": promised,
        "fee_description": fee or "不收费",
        "is_free": not fee or fee == "不收费。",
        "visits_needed": visits,
        "online_depth": depth,
        "channels": channels,
        "consult_phone": department.phone or _phone(department.region.code, department.code),
        "complaint_phone": "12345",
        "service_object": g["o"],
        "address": department.address or f"{department.region.name}政务服务中心 {department.name}综合窗口",
        "hours": HOURS,
        "aliases": g.get("al", ""),
        "description": description,
    }


def _ensure_themes() -> dict[str, Theme]:
    existing = {t.code: t for t in Theme.objects.all()}
    new = [
        Theme(code=row["code"], name=row["name"], audience=row["audience"], order=n)
        for n, row in enumerate(_load("themes.json"), start=1)
        if row["code"] not in existing
    ]
    Theme.objects.bulk_create(new)
    return {t.code: t for t in Theme.objects.all()}


def _ensure_synonyms() -> int:
    existing = set(Synonym.objects.values_list("term", flat=True))
    new = [
        Synonym(term=term, expansions=",".join(expansions))
        for term, expansions in _load("synonyms.json").items()
        if term not in existing
    ]
    Synonym.objects.bulk_create(new)
    search.clear_caches()
    return len(new)


def _implementing_regions(cities: int | None) -> list[tuple[Region, str]]:
    """(region, level) for every city and county of the demo, optionally only the first cities."""
    rows = []
    chosen = demo_data.CITIES[:cities] if cities is not None else demo_data.CITIES
    codes = [c for c, _n, _counties in chosen] + [cc for _c, _n, counties in chosen for cc, _cn in counties]
    regions = Region.objects.in_bulk(codes, field_name="code")
    for city_code, _name, counties in chosen:
        if city_code in regions:
            rows.append((regions[city_code], "city"))
        rows += [(regions[cc], "county") for cc, _cn in counties if cc in regions]
    return rows


def _create_items(
    plans: list[tuple[BasicSpec, Department, str, str, ServiceItem | None, int]], themes, data, workers=None
):
    """Bulk-create items with their segmented search columns, materials and themes."""
    items, materials_of = [], []
    for spec, department, level, code, basic, popularity in plans:
        items.append(
            ServiceItem(
                code=code,
                department=department,
                region=department.region,
                level=level,
                basic_item=basic,
                status=ServiceItem.Status.PUBLISHED,
                popularity=popularity,
                **_elements(spec, department, data),
            )
        )
        materials_of.append([Material(order=n, **m) for n, m in enumerate(spec.materials, start=1)])
    search.segment_items(items, materials_of, workers=workers)
    created = ServiceItem.objects.bulk_create(items, batch_size=500)
    if not created or created[0].pk is None:  # backends that return no ids: fetch them
        by_code = ServiceItem.objects.in_bulk([i.code for i in items], field_name="code")
        for item in items:
            item.pk = by_code[item.code].pk
        created = items
    materials, links = [], []
    through = ServiceItem.themes.through
    for item, item_materials, (spec, *_rest) in zip(created, materials_of, plans, strict=True):
        for material in item_materials:
            material.item_id = item.pk
        materials += item_materials
        links += [
            through(serviceitem_id=item.pk, theme_id=themes[code].pk)
            for code in spec.group.get("th", [])
            if code in themes
        ]
    # Plain rows (no save(), no signals: none are defined), a few times faster than bulk_create.
    insert_rows(
        Material,
        [f.name for f in MATERIAL_FIELDS],
        [[getattr(m, f.attname) for f in MATERIAL_FIELDS] for m in materials],
    )
    insert_rows(through, ["serviceitem", "theme"], [[link.serviceitem_id, link.theme_id] for link in links])
    search.write_fts(created)
    return created


def build(
    *, stdout=None, cities: int | None = None, kinds: list[str] | None = None, counties: bool = True
) -> dict:
    """Create whatever of the demo catalog is missing; return counts. ``cities`` limits the
    implementation lists to the first N cities (and their counties, unless ``counties`` is
    false) and ``kinds`` the department kinds, for fast tests."""
    started = time.monotonic()
    search.ensure_jieba()
    data = _load("items.json")
    province = Region.objects.filter(code=demo_data.PROVINCE[0]).first()
    if province is None:
        raise RuntimeError(
            "Run the identity demo first: the demo province's regions and departments are missing."
        )
    rng = random.Random(20261123)
    with transaction.atomic():
        themes = _ensure_themes()
        new_synonyms = _ensure_synonyms()
        departments = {d.code: d for d in Department.objects.select_related("region")}
        existing = set(ServiceItem.objects.values_list("code", flat=True))
        specs = [s for s in basic_specs() if kinds is None or s.kind in kinds]

        basic_plans = []
        for spec in specs:
            department = departments.get(f"{province.code}-{spec.kind}")
            if department is None or spec.code in existing:
                continue
            basic_plans.append((spec, department, "province", spec.code, None, spec.popularity))
        created = _create_items(basic_plans, themes, data)

        basics = ServiceItem.objects.in_bulk([s.code for s in specs], field_name="code")
        impl_plans = []
        for region, level in _implementing_regions(cities):
            if level == "county" and not counties:
                continue
            weight = 1.0 if level == "city" else 0.4
            if region.code == "610100":
                weight = 1.5
            for spec in specs:
                if level == "county" and not (spec.group.get("c") and spec.kind in demo_data.COUNTY_KINDS):
                    continue
                department = departments.get(f"{region.code}-{spec.kind}")
                basic = basics.get(spec.code)
                code = f"{spec.code}-{region.code}"
                if department is None or basic is None or code in existing:
                    continue
                popularity = int(spec.popularity * weight * rng.uniform(0.95, 1.05))
                impl_plans.append((spec, department, level, code, basic, popularity))
        created += _create_items(impl_plans, themes, data)

        bundles_created = _ensure_bundles(themes)
        if created or bundles_created or new_synonyms:
            audit.record(
                actor=ACTOR,
                event="catalog:demo:load",
                target=None,
                data={"items": len(created), "bundles": bundles_created, "synonyms": new_synonyms},
            )
    counts = {
        "items_created": len(created),
        "bundles_created": bundles_created,
        "published": ServiceItem.objects.filter(status=ServiceItem.Status.PUBLISHED).count(),
        "seconds": round(time.monotonic() - started, 1),
    }
    if stdout is not None:
        stdout.write(
            f"Catalog: {counts['items_created']} items and {bundles_created} bundles created, "
            f"{counts['published']} published items in {counts['seconds']} s."
        )
    return counts


def _ensure_bundles(themes: dict[str, Theme]) -> int:
    existing = set(LifeEvent.objects.values_list("code", flat=True))
    by_name = {
        i.name: i
        for i in ServiceItem.objects.filter(basic_item__isnull=True).order_by("code").only("name", "code")
    }
    created = 0
    for row in _load("bundles.json"):
        if row["code"] in existing:
            continue
        items = [by_name[name] for name in row["items"] if name in by_name]
        bundle_save(
            actor=ACTOR,
            code=row["code"],
            name=row["name"],
            audience=row["audience"],
            items=items,
            summary=row["summary"],
            description=row["description"],
            keywords=row["keywords"],
            themes=[themes[c] for c in row["themes"] if c in themes],
            popularity=row["popularity"],
        )
        created += 1
    return created


QUALIFIERS = [
    "告知承诺制",
    "容缺受理",
    "跨省通办",
    "全程网办",
    "帮办代办",
    "预约办理",
    "自助终端",
    "延时服务",
    "园区专窗",
    "乡镇便民服务中心",
    "村级代办点",
    "跨区域通办",
]


def build_large(*, items: int = 50_000, stdout=None) -> int:
    """Add implementation items until the catalog holds ``items`` (benchmarks): many more
    regions' worth of items, spread over the existing city and county departments, with
    varied names. Idempotent: counts what is there first."""
    started = time.monotonic()
    search.ensure_jieba()
    data = _load("items.json")
    missing = items - ServiceItem.objects.count()
    if missing <= 0:
        return 0
    rng = random.Random(50_000)
    themes = {t.code: t for t in Theme.objects.all()}
    specs = basic_specs()
    basics = ServiceItem.objects.in_bulk([s.code for s in specs], field_name="code")
    departments = list(Department.objects.select_related("region").exclude(region__level="province"))
    by_kind: dict[str, list[Department]] = {}
    for d in departments:
        by_kind.setdefault(d.code.rsplit("-", 1)[-1], []).append(d)
    usable = [s for s in specs if by_kind.get(s.kind) and s.code in basics]
    if not usable:
        raise RuntimeError("Run build() first: build_large extends the demo catalog.")
    start = ServiceItem.objects.filter(code__contains="-L").count()
    created = 0
    with transaction.atomic():
        while created < missing:
            plans = []
            for n in range(start + created, start + created + min(5000, missing - created)):
                spec = usable[n % len(usable)]
                department = by_kind[spec.kind][(n // len(usable)) % len(by_kind[spec.kind])]
                qualifier = QUALIFIERS[(n // len(usable)) % len(QUALIFIERS)]
                variant = BasicSpec(
                    spec.code,
                    spec.kind,
                    f"{spec.name}（{qualifier}）",
                    spec.subject,
                    spec.action,
                    spec.group,
                    spec.materials,
                    spec.popularity,
                )
                level = "city" if department.region.level == "city" else "county"
                popularity = rng.randint(0, spec.popularity)
                plans.append(
                    (variant, department, level, f"{spec.code}-L{n:06d}", basics[spec.code], popularity)
                )
            created += len(_create_items(plans, themes, data, workers=2))
            if stdout is not None:
                stdout.write(f"  large catalog: {created} / {missing} items")
        audit.record(actor=ACTOR, event="catalog:demo:load_large", target=None, data={"items": created})
    if stdout is not None:
        stdout.write(f"Catalog (large): {created} items in {time.monotonic() - started:.1f} s.")
    return created
